/* spf.c - (being written) */
typedef int smtprobe_stub_spf;
