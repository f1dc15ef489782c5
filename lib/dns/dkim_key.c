/* dkim_key.c - (being written) */
typedef int smtprobe_stub_dkim_key;
