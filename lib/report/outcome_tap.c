/* outcome_tap.c - (being written) */
typedef int smtprobe_stub_outcome_tap;
