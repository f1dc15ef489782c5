/* spf_eval.c - (being written) */
typedef int smtprobe_stub_spf_eval;
