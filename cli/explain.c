/* explain.c - `smtprobe explain`: what a reply, an enhanced status code,
 * a server's refusal text, a local network error or a certificate error
 * means, its likely causes and the fixes, from the knowledge base.
 *
 * The query is taken flexibly: "554 5.7.1 Relay access denied" as several
 * arguments or one pasted line ("550-5.7.26 ..." too), with a leading
 * "smtprobe: " or "<** " ignored; a text without a code is also tried as
 * a local error ("connection refused") and as an OpenSSL certificate
 * reason. The arguments are joined here (at most SMTPROBE_KB_QUERY_MAX
 * bytes: longer is a usage error); parsing and matching are the
 * library's (lib/kb/kb_query.c), which replaces control and non-ASCII
 * bytes before the query is echoed or put into JSON.
 *
 * Exit: 0 something matched, 1 usage error, 2 nothing known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "opts.h"
#include "smtprobe/kb.h"
#include "banned.h"

#define MAX_MATCHES 12
#define WRAP_COL    78

enum { O_JSON = 1, O_LIST, O_HELP };

static const struct opt_def explain_defs[] = {
        {O_JSON, "json", OPT_NONE, NULL, "print one JSON document"},
        {O_LIST, "list", OPT_NONE, NULL, "list every entry's id, kind and key"},
        {O_HELP, "help|h", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct explain_cfg {
	int json, list, help;
	char raw[SMTPROBE_KB_QUERY_MAX + 1];
	size_t rawlen;
	int nargs;
};

static int on_opt(void *ctx, int id, const char *v, char *err, size_t errsz)
{
	struct explain_cfg *c = ctx;
	size_t vl;

	switch (id) {
	case 0:
		vl = strlen(v);
		if (c->rawlen + (c->rawlen > 0) + vl > SMTPROBE_KB_QUERY_MAX) {
			snprintf(err, errsz,
			         "query too long (at most %d bytes)",
			         SMTPROBE_KB_QUERY_MAX);
			return -1;
		}
		if (c->rawlen > 0)
			c->raw[c->rawlen++] = ' ';
		memcpy(c->raw + c->rawlen, v, vl);
		c->rawlen += vl;
		c->raw[c->rawlen] = '\0';
		c->nargs++;
		break;
	case O_JSON:
		c->json = 1;
		break;
	case O_LIST:
		c->list = 1;
		break;
	case O_HELP:
		c->help = 1;
		break;
	default:
		break;
	}
	return 0;
}

static void explain_help(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe explain [--json] CODE [ENHANCED] [TEXT...]\n"
	        "       smtprobe explain [--json] 'TEXT or error'\n"
	        "       smtprobe explain --list\n"
	        "\n"
	        "What an SMTP reply, enhanced status code, server refusal "
	        "text, local\n"
	        "network error or certificate error means, its likely "
	        "causes and the fixes.\n\n");
	opts_help(explain_defs, f);
	fprintf(f, "\nexit codes: 0 explained, 1 usage, 2 nothing known.\n"
	           "\nexamples:\n"
	           "  smtprobe explain 554 5.7.1 Relay access denied\n"
	           "  smtprobe explain '535 5.7.8 Error: authentication "
	           "failed'\n"
	           "  smtprobe explain 'certificate has expired'\n"
	           "  smtprobe explain ECONNREFUSED\n");
}

/* Print text word-wrapped: the first line after `col` columns already
 * used, later lines indented by `indent`. */
static void wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;
	int first = 1;

	while (*p != '\0') {
		const char *w = p;
		int wl;

		while (*p != '\0' && *p != ' ')
			p++;
		wl = (int)(p - w);
		if (!first && col + 1 + wl > WRAP_COL) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(w, 1, (size_t)wl, f);
		col += wl;
		first = 0;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void print_entry(FILE *f, const struct smtprobe_kb_entry *e, int colour)
{
	const char *b = colour ? "\033[1m" : "", *h = colour ? "\033[36m" : "";
	const char *r = colour ? "\033[0m" : "";
	size_t i;

	fprintf(f, "%s%s%s  (%s %s)\n", b, e->title, r,
	        smtprobe_kb_kind_name(e->kind), e->id);
	fprintf(f, "  %sMeaning:%s ", h, r);
	wrap(f, e->meaning, 11, 4);
	fprintf(f, "  %sLikely causes:%s\n", h, r);
	for (i = 0; i < SMTPROBE_KB_MAX_LIST && e->causes[i] != NULL; i++) {
		fprintf(f, "    %zu. ", i + 1);
		wrap(f, e->causes[i], 7, 7);
	}
	fprintf(f, "  %sFixes:%s\n", h, r);
	for (i = 0; i < SMTPROBE_KB_MAX_LIST && e->fixes[i] != NULL; i++) {
		fprintf(f, "    - ");
		wrap(f, e->fixes[i], 6, 6);
	}
	fprintf(f, "  %sReference:%s ", h, r);
	wrap(f, e->reference, 13, 4);
}

static json_t *json_list(const char *const *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < SMTPROBE_KB_MAX_LIST && l[i] != NULL; i++)
		json_array_append_new(a, json_string(l[i]));
	return a;
}

static int print_json(const struct smtprobe_kb_query *q,
                      const struct smtprobe_kb_entry **m, size_t n)
{
	json_t *root, *arr;
	char *s;
	size_t i;

	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(
		        arr,
		        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}",
		                  "id", m[i]->id, "kind",
		                  smtprobe_kb_kind_name(m[i]->kind), "key",
		                  m[i]->key, "title", m[i]->title, "meaning",
		                  m[i]->meaning, "causes",
		                  json_list(m[i]->causes), "fixes",
		                  json_list(m[i]->fixes), "reference",
		                  m[i]->reference));
	root = json_pack(
	        "{s:{s:o, s:o, s:s}, s:o}", "query", "code",
	        q->code ? json_integer(q->code) : json_null(), "enhanced",
	        q->enhanced[0] ? json_string(q->enhanced) : json_null(), "text",
	        q->text, "matches", arr);
	if (root == NULL)
		return -1;
	s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (s == NULL)
		return -1;
	puts(s);
	free(s);
	return 0;
}

static void list_entries(void)
{
	const struct smtprobe_kb_entry *all;
	size_t n, i;

	all = smtprobe_kb_entries(&n);
	for (i = 0; i < n; i++)
		printf("%-40s %-8s %s\n", all[i].id,
		       smtprobe_kb_kind_name(all[i].kind), all[i].key);
}

int cmd_explain(int argc, char **argv)
{
	static struct explain_cfg cfg;
	const struct smtprobe_kb_entry *m[MAX_MATCHES];
	struct smtprobe_kb_query q;
	char err[256];
	size_t n, i;
	int colour;

	memset(&cfg, 0, sizeof(cfg));
	if (opts_parse(explain_defs, argc, argv, on_opt, NULL, &cfg, err,
	               sizeof(err)) != 0) {
		cli_error("explain: %s (try 'smtprobe explain --help')", err);
		return 1;
	}
	if (cfg.help) {
		explain_help(stdout);
		return 0;
	}
	if (cfg.list) {
		list_entries();
		return 0;
	}
	/* the joined query fits by construction (on_opt's cap) */
	(void)smtprobe_kb_query_parse(cfg.raw, cfg.rawlen, &q);
	if (q.code == 0 && q.enhanced[0] == '\0' && q.text[0] == '\0') {
		explain_help(stderr);
		return 1;
	}
	n = smtprobe_kb_query_match(&q, m, MAX_MATCHES);
	if (n == 0) {
		char shown[200];
		cli_error("explain: no entry for '%s' (try a reply code, an "
		          "enhanced code like 5.7.1, or 'smtprobe explain "
		          "--list')",
		          cli_printable(cfg.raw, shown, sizeof(shown)));
		return 2;
	}
	if (cfg.json) {
		if (print_json(&q, m, n) != 0) {
			cli_error("explain: cannot build JSON");
			return 1;
		}
		return 0;
	}
	colour = cli_colour(stdout);
	printf("%zu match%s for:", n, n == 1 ? "" : "es");
	if (q.code != 0)
		printf(" code %d", q.code);
	if (q.enhanced[0] != '\0')
		printf(" enhanced %s", q.enhanced);
	if (q.text[0] != '\0')
		printf(" text \"%s\"", q.text);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("\n%zu. ", i + 1);
		print_entry(stdout, m[i], colour);
	}
	return 0;
}
