/* outcome_junit.c - (being written) */
typedef int smtprobe_stub_outcome_junit;
