/* mx_connect.c - the SMTP half of `smtprobe dns` (dnscheck.h,
 * params.connect): once the lookups are done, one session to every
 * address of every MX on the batch runner (at most 8 at once, one at a
 * time per address, within what is left of the deadline): the banner,
 * EHLO, STARTTLS when offered, EHLO again, QUIT. When the MX has TLSA
 * records DANE can use - usages 2 and 3 (RFC 7672 §3.1.3) of a
 * DNSSEC-secure answer, the MX record set and the host's addresses secure
 * too - they go to the TLS layer (SSL_dane_*), which matches the chain the
 * server sends against them. What each session saw becomes the address's
 * smtprobe_dc_smtp; the judgement is judge_mx.c's and judge_tls.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "smtprobe/batch.h"
#include "smtprobe/session.h"
#include "smtprobe/software.h"
#include "banned.h"

#define CONCURRENCY 8

struct mx_tlsa {
	struct smtprobe_tlsa rec[SMTPROBE_MAX_TLSA];
	unsigned char *data[SMTPROBE_MAX_TLSA]; /* malloc'd: a whole
	                                           certificate (3 0 0) is
	                                           kilobytes */
	size_t n;
	char base[256];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "USAGE SELECTOR TYPE HEX" with usage 2 or 3 (OpenSSL judges the rest:
 * a selector, matching type or length it does not know is not used) */
static int parse_tlsa(const char *text, struct smtprobe_tlsa *r,
                      unsigned char **data)
{
	unsigned u, s, m;
	int off = 0;
	size_t n = 0;

	*data = NULL;
	if (sscanf(text, "%u %u %u %n", &u, &s, &m, &off) != 3 || off == 0 ||
	    (u != 2 && u != 3) || s > 255 || m > 255)
		return -1;
	unsigned char *buf = malloc(strlen(text + off) / 2 + 1);
	if (buf == NULL)
		return -1;
	for (const char *h = text + off; h[0] != '\0'; h += 2) {
		int hi = hexval(h[0]), lo = hexval(h[1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			return -1;
		}
		buf[n++] = (unsigned char)(hi << 4 | lo);
	}
	if (n == 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	*r = (struct smtprobe_tlsa){(unsigned char)u, (unsigned char)s,
	                            (unsigned char)m, buf, n};
	return 0;
}

/* The MX's TLSA records DANE may use, or none (RFC 7672 §2.2: only a
 * secure TLSA answer for a host reached through secure records counts) */
static void usable_tlsa(const struct smtprobe_dc_facts *f,
                        const struct smtprobe_dc_mx *mx, struct mx_tlsa *t)
{
	const struct smtprobe_dc_answer *a = &mx->tlsa;

	t->n = 0;
	if (!a->asked || a->status != SMTPROBE_DNS_OK ||
	    a->dnssec != SMTPROBE_DNSSEC_SECURE ||
	    f->mx.dnssec != SMTPROBE_DNSSEC_SECURE ||
	    (mx->a.dnssec != SMTPROBE_DNSSEC_SECURE &&
	     mx->aaaa.dnssec != SMTPROBE_DNSSEC_SECURE))
		return;
	snprintf(t->base, sizeof(t->base), "%s",
	         mx->a.canonname[0] ? mx->a.canonname : mx->host);
	for (size_t k = 0; k < a->n && k < SMTPROBE_DC_MAX_RECORDS &&
	                   t->n < SMTPROBE_MAX_TLSA;
	     k++)
		if (parse_tlsa(a->rec[k], &t->rec[t->n], &t->data[t->n]) == 0)
			t->n++;
}

static void first_word(char *dst, size_t dstsz, const char *s)
{
	size_t n = strcspn(s, " \t");

	snprintf(dst, dstsz, "%.*s", (int)(n < dstsz ? n : dstsz - 1), s);
}

static void keep(struct smtprobe_dc_smtp *o, const struct smtprobe_result *r)
{
	struct smtprobe_software_guess g;

	smtprobe_software_init(&g);
	smtprobe_software_learn(&g, r);
	o->software = (int)g.id;
	o->ms = r->total_ms;
	for (size_t k = 0; k < r->nex; k++) {
		const struct smtprobe_reply *rp = r->ex[k].reply;
		if (r->ex[k].stage != SMTPROBE_ST_BANNER || rp == NULL)
			continue;
		o->banner_code = rp->code;
		const char *line = rp->nlines ? rp->text[0] : "";
		snprintf(o->banner, sizeof(o->banner), "%d %s", rp->code, line);
		first_word(o->banner_name, sizeof(o->banner_name), line);
		break;
	}
	const struct smtprobe_ehlo *e = r->have_ehlo_first ? &r->ehlo_first
	                                : r->have_ehlo     ? &r->ehlo
	                                                   : NULL;
	if (e) {
		snprintf(o->ehlo_name, sizeof(o->ehlo_name), "%s", e->host);
		o->starttls = (e->caps & SMTPROBE_CAP_STARTTLS) != 0;
	}
	if (r->have_tls) {
		const struct smtprobe_tls_facts *t = &r->tls;
		o->tls = 1;
		snprintf(o->protocol, sizeof(o->protocol), "%s", t->protocol);
		o->verify_ok = t->verify_ok;
		snprintf(o->verify_reason, sizeof(o->verify_reason), "%s",
		         t->verify_reason);
		o->host_match = t->host_match;
		if (t->nchain > 0)
			snprintf(o->spki_sha256, sizeof(o->spki_sha256), "%s",
			         t->chain[0].spki_sha256);
		o->dane_checked = t->dane_checked;
		o->dane_match = t->dane_match;
		o->dane_depth = t->dane_depth;
		o->dane_usage = t->dane_usage;
		o->dane_selector = t->dane_selector;
		o->dane_mtype = t->dane_mtype;
	} else if (o->starttls && r->failure.kind != SMTPROBE_FAIL_NONE) {
		snprintf(o->tls_error, sizeof(o->tls_error), "%s", r->error);
	}
	if (r->failure.kind != SMTPROBE_FAIL_NONE)
		snprintf(o->why, sizeof(o->why), "%s", r->error);
}

struct mx_job {
	struct smtprobe_params params;
	struct smtprobe_result res;
	struct smtprobe_dc_smtp *out;
};

void dc_connect_all(const struct smtprobe_dc_params *p,
                    struct smtprobe_dc_facts *f, unsigned left_ms)
{
	struct mx_tlsa *tlsa = calloc(SMTPROBE_DC_MAX_MX, sizeof(*tlsa));
	struct mx_job *jobs = calloc(SMTPROBE_DC_MAX_MX * SMTPROBE_DC_MAX_ADDRS,
	                             sizeof(*jobs));
	struct smtprobe_batch_job *bj =
	        calloc(SMTPROBE_DC_MAX_MX * SMTPROBE_DC_MAX_ADDRS, sizeof(*bj));
	size_t n = 0;

	f->connect = 1;
	f->mx_port = p->mx_port ? p->mx_port : 25;
	for (size_t i = 0; i < f->nmx; i++)
		for (size_t j = 0; j < f->mxs[i].naddr; j++)
			snprintf(f->mxs[i].addr[j].smtp.why,
			         sizeof(f->mxs[i].addr[j].smtp.why), "%s",
			         tlsa && jobs && bj ? "no time left"
			                            : "out of memory");
	if (tlsa == NULL || jobs == NULL || bj == NULL || left_ms < 50)
		goto out;
	for (size_t i = 0; i < f->nmx; i++) {
		struct smtprobe_dc_mx *mx = &f->mxs[i];
		usable_tlsa(f, mx, &tlsa[i]);
		for (size_t j = 0; j < mx->naddr; j++) {
			struct mx_job *m = &jobs[n];
			struct smtprobe_params *q = &m->params;
			m->out = &mx->addr[j].smtp;
			q->host = mx->addr[j].addr;
			q->port = f->mx_port;
			q->helo = p->helo ? p->helo : "localhost";
			q->tls = SMTPROBE_TLSMODE_OPTIONAL;
			q->quit_after = SMTPROBE_ST_EHLO2;
			q->session_timeout_ms = left_ms;
			q->tls_opts.sni = mx->host;
			q->tls_opts.verify_host = mx->host;
			q->tls_opts.ca_file = p->ca_file;
			q->tls_opts.ca_path = p->ca_path;
			q->tls_opts.tlsa = tlsa[i].rec;
			q->tls_opts.ntlsa = tlsa[i].n;
			q->tls_opts.dane_base = tlsa[i].base;
			m->out->tlsa_given = tlsa[i].n;
			bj[n] = (struct smtprobe_batch_job){q, &m->res, -1, 0};
			n++;
		}
	}
	struct smtprobe_batch_params bp = {.concurrency = CONCURRENCY,
	                                   .per_host = 1,
	                                   .deadline_ms = left_ms};
	/* a session that could not start says why in its result */
	if (n > 0)
		(void)smtprobe_batch_run(bj, n, &bp, NULL);
	for (size_t k = 0; k < n; k++) {
		jobs[k].out->why[0] = '\0';
		jobs[k].out->tried = bj[k].started;
		keep(jobs[k].out, &jobs[k].res);
		smtprobe_result_release(&jobs[k].res);
	}
out:
	free(bj);
	free(jobs);
	for (size_t i = 0; tlsa && i < SMTPROBE_DC_MAX_MX; i++)
		for (size_t k = 0; k < tlsa[i].n; k++)
			free(tlsa[i].data[k]);
	free(tlsa);
}
