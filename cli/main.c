/* main.c - the smtprobe command: dispatch to a subcommand. Only main
 * exits; subcommands return the exit code. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe COMMAND [OPTIONS]\n"
	        "\n"
	        "Test and diagnose SMTP relays.\n"
	        "\n"
	        "commands:\n"
	        "  check     the diagnostic ladder: what works, what fails, "
	        "why\n"
	        "  dns       the mail domain's DNS: MX, PTR, SPF, DMARC, DKIM, "
	        "MTA-STS, DANE, DNSSEC\n"
	        "  explain   what an SMTP reply or error means, and how to fix "
	        "it\n"
	        "  exporter  a Prometheus exporter: probes on request "
	        "(/probe?target=&module=)\n"
	        "  logs      what the server's own logs say: AUTH failures, "
	        "brute force, TLS, rejections, spikes\n"
	        "  relay     the relay-policy audit: open relay, authenticated "
	        "scope, spoofing\n"
	        "  run       a policy file's expectations per environment "
	        "(CI), with a drift report\n"
	        "  send      run one SMTP/LMTP transaction (swaks-compatible)\n"
	        "  serve     a policy-aware test SMTP server\n"
	        "  tls       the TLS posture: protocols, suites, groups, "
	        "certificate, findings\n"
	        "\n"
	        "smtprobe COMMAND --help shows the options of a command;\n"
	        "man smtprobe-COMMAND has the details.\n");
}

int main(int argc, char **argv)
{
	/* OpenSSL writes to sockets with write(): a peer that resets the
	 * connection must give an error, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("smtprobe %s\n", SMTPROBE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "relay") == 0)
		return cmd_relay(argc - 2, argv + 2);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "tls") == 0)
		return cmd_tls(argc - 2, argv + 2);
	if (strcmp(argv[1], "dns") == 0)
		return cmd_dns(argc - 2, argv + 2);
	if (strcmp(argv[1], "logs") == 0)
		return cmd_logs(argc - 2, argv + 2);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "exporter") == 0)
		return cmd_exporter(argc - 2, argv + 2);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 2, argv + 2);
	cli_error("unknown command '%s' (try 'smtprobe --help')", argv[1]);
	return 1;
}
