/* run.c - (being written) */
typedef int smtprobe_stub_run;
