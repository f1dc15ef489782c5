/* outcome_prom.c - (being written) */
typedef int smtprobe_stub_outcome_prom;
