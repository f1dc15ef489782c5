/* convert_tls.c - (being written) */
typedef int smtprobe_stub_convert_tls;
