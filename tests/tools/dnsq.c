/* dnsq.c - a test tool (not installed): ask lib/dns's resolver (dnsq.h)
 * for NAME/TYPE pairs, all at once on one loop, and print one JSON object
 * per answer, for the e2e tests against the harness's DNS lab.
 *
 *   dnsq RESOLVER TRUST_ANCHOR TIMEOUT_MS NAME TYPE [NAME TYPE]...
 *
 * RESOLVER "-" for the system's, TRUST_ANCHOR "-" for the default. TYPE is
 * A, AAAA, MX, TXT, PTR, TLSA, DS, DNSKEY or CNAME. Each line: {"name",
 * "type", "status", "rcode", "dnssec", "why", "canonname", "records":
 * [text]} (TXT joined, MX "PREF NAME", A/AAAA and names as text, others
 * hex). Exit 0 when every query was answered (whatever the answer), 2 on a
 * usage error or a resolver that cannot be set up. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "smtprobe/dnsq.h"
#include "banned.h"

static const struct {
	const char *name;
	int type;
} types[] = {{"A", SMTPROBE_RR_A},        {"AAAA", SMTPROBE_RR_AAAA},
             {"MX", SMTPROBE_RR_MX},      {"TXT", SMTPROBE_RR_TXT},
             {"PTR", SMTPROBE_RR_PTR},    {"TLSA", SMTPROBE_RR_TLSA},
             {"DS", SMTPROBE_RR_DS},      {"DNSKEY", SMTPROBE_RR_DNSKEY},
             {"CNAME", SMTPROBE_RR_CNAME}};

static int type_of(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, s) == 0)
			return types[i].type;
	return -1;
}

static const char *type_name(int t)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return types[i].name;
	return "?";
}

static json_t *record(int type, const unsigned char *rd, int len)
{
	char out[1100];
	unsigned pref;

	switch (type) {
	case SMTPROBE_RR_A:
	case SMTPROBE_RR_AAAA:
		if (smtprobe_dns_addr(type, rd, len, out, sizeof(out)) == 0)
			return json_string(out);
		break;
	case SMTPROBE_RR_TXT:
		if (smtprobe_dns_txt(rd, len, out, sizeof(out)) >= 0)
			return json_string(out);
		break;
	case SMTPROBE_RR_MX:
		if (smtprobe_dns_mx(rd, len, &pref, out, sizeof(out)) == 0) {
			char mx[1200];
			snprintf(mx, sizeof(mx), "%u %s", pref, out);
			return json_string(mx);
		}
		break;
	case SMTPROBE_RR_PTR:
	case SMTPROBE_RR_CNAME:
		if (smtprobe_dns_name(rd, len, 0, out, sizeof(out)) == len)
			return json_string(out);
		break;
	default:
		break;
	}
	size_t o = 0;
	for (int i = 0; i < len && o + 3 < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%02x", rd[i]);
	out[o] = '\0';
	return json_string(out);
}

static void on_answer(const struct smtprobe_dns_answer *a, void *arg)
{
	size_t *left = arg;
	json_t *recs = json_array();

	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(
		        recs, record(a->type, a->rdata[i], a->rdlen[i]));
	json_t *o = json_pack(
	        "{s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o}", "name", a->name,
	        "type", type_name(a->type), "status",
	        smtprobe_dns_status_name(a->status), "rcode", a->rcode,
	        "dnssec", smtprobe_dnssec_name(a->dnssec), "why",
	        a->why ? json_string(a->why) : json_null(), "canonname",
	        a->canonname ? json_string(a->canonname) : json_null(),
	        "records", recs);
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line)
		printf("%s\n", line);
	free(line);
	json_decref(o);
	(*left)--;
}

int main(int argc, char **argv)
{
	char err[512] = "";

	if (argc < 6 || (argc - 4) % 2 != 0) {
		fprintf(stderr, "usage: dnsq RESOLVER TRUST_ANCHOR TIMEOUT_MS "
		                "NAME TYPE [NAME TYPE]...\n");
		return 2;
	}
	struct smtprobe_dns_opts o = {
	        .resolver = strcmp(argv[1], "-") ? argv[1] : NULL,
	        .trust_anchor = strcmp(argv[2], "-") ? argv[2] : NULL,
	        .timeout_ms = (unsigned)strtoul(argv[3], NULL, 10),
	};
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct smtprobe_dns *d = smtprobe_dns_new(&loop, &o, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "dnsq: %s\n", err);
		uv_loop_close(&loop);
		return 2;
	}
	size_t left = 0;
	for (int i = 4; i + 1 < argc; i += 2) {
		int t = type_of(argv[i + 1]);
		if (t < 0) {
			fprintf(stderr, "dnsq: unknown type %s\n", argv[i + 1]);
			smtprobe_dns_close(d);
			uv_run(&loop, UV_RUN_DEFAULT);
			uv_loop_close(&loop);
			return 2;
		}
		if (smtprobe_dns_query(d, argv[i], t, on_answer, &left) == 0)
			left++;
	}
	while (left > 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	smtprobe_dns_close(d);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	fflush(stdout);
	return left == 0 ? 0 : 1;
}
