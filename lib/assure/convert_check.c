/* convert_check.c - (being written) */
typedef int smtprobe_stub_convert_check;
