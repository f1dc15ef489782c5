/* convert_relay.c - (being written) */
typedef int smtprobe_stub_convert_relay;
