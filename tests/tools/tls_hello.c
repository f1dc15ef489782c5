/* tls_hello.c - a test tool (not installed) over lib/tlsscan/hello.c, used
 * to capture the server flights in tests/data/tls/ (capture.py there).
 *
 *   tls_hello build VERSION [OPTION...]   a ClientHello record on stdout
 *   tls_hello parse FILE                  what the parser says of FILE
 *
 * VERSION: ssl3 tls1 tls1_1 tls1_2 tls1_3. Options: suites=LIST (OpenSSL
 * names or 0xNNNN codes, comma-separated, or "all": every suite of the
 * version), groups=LIST and shares=LIST (group names, "none" for an empty
 * key_share), sni=NAME, and the flags deflate fallback reneg-scsv
 * reneg-info ems ticket status heartbeat etm tls12-too pad session-id
 * no-sigalgs (tests/unit/tls_hello_reader.h reads them). The random,
 * session id and X25519/X448 key bytes are fixed (0x00.., 0x20.., 0x40..,
 * 0x60..) so a hello is reproducible. Exit 0, 1
 * when the hello cannot be built or FILE not read, 2 on a usage error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "suites.h"
#include "tls_hello_reader.h"

#include "banned.h"

static int build(int argc, char **argv)
{
	uint8_t out[TLSH_MAX_HELLO];
	long n = tlst_build_args(argc, argv, out, sizeof(out));

	if (n == -2)
		return 2;
	if (n < 0) {
		fprintf(stderr, "tls_hello: cannot build that hello\n");
		return 1;
	}
	return fwrite(out, 1, (size_t)n, stdout) == (size_t)n ? 0 : 1;
}

static int parse(const char *path)
{
	static uint8_t buf[256 * 1024];
	struct tlsh_server_flight f;
	enum tlsh_result r;
	size_t len, used = 0, i;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return 1;
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	r = tlsh_parse_server_flight(buf, len, &f, &used);
	printf("result %s used %zu of %zu\n", tlsh_result_name(r), used, len);
	if (f.reason)
		printf("reason %s\n", f.reason);
	if (r == TLSH_ALERT)
		printf("alert %u %u\n", f.alert_level, f.alert_desc);
	if (!f.hello_seen)
		return 0;
	printf("record 0x%04x legacy 0x%04x version 0x%04x suite 0x%04x "
	       "compression %u sid %u downgrade %d\n",
	       f.record_version, f.legacy_version, f.version, f.suite,
	       f.compression, f.session_id_len, (int)f.downgrade);
	printf("exts 0x%x types", f.exts);
	for (i = 0; i < f.next_types; i++)
		printf(" %u", f.ext_types[i]);
	printf("\nreneg %d key_share %u/%u ecpf 0x%x hb %u alpn '%s'\n",
	       f.reneg_len, f.key_share_group, f.key_share_len,
	       f.ec_point_formats, f.heartbeat_mode, f.alpn);
	printf("certs %zu", f.ncerts);
	for (i = 0; i < f.ncerts && i < TLSH_MAX_CERTS; i++)
		printf(" [%zu@%zu in_buf %d]", f.certs[i].len, f.certs[i].off,
		       f.certs[i].in_buf);
	printf("\nocsp %d/%zu ske %d curve %u/%u point %zu dh %u bits p %zu g "
	       "%zu ys %zu group %s sigalg 0x%x cr %d ccs %d done %d hs %zu\n",
	       f.ocsp_stapled, f.ocsp_len, (int)f.ske, f.ec_curve_type,
	       f.ec_curve, f.ec_point_len, f.dh_bits, f.dh_plen, f.dh_glen,
	       f.dh_ys_len,
	       f.dh_plen ? (tlsh_dh_group_name(f.dh_p, f.dh_plen)
	                            ? tlsh_dh_group_name(f.dh_p, f.dh_plen)
	                            : "custom")
	                 : "-",
	       (unsigned)f.ske_sigalg, f.cert_request, f.ccs, f.done,
	       f.hs_bytes);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return build(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return parse(argv[2]);
	fprintf(stderr, "usage: tls_hello build VERSION [OPTION...] | "
	                "tls_hello parse FILE\n");
	return 2;
}
