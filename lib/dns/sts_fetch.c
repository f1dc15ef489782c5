/* sts_fetch.c - the MTA-STS policy of `smtprobe dns` (RFC 8461 §3.3):
 * when _mta-sts.DOMAIN has a TXT record, the address of mta-sts.DOMAIN is
 * looked up through the run's resolver and the policy fetched from
 * https://mta-sts.DOMAIN[:PORT]/.well-known/mta-sts.txt with libcurl in a
 * worker thread (uv_queue_work; the loop goes on): that address only
 * (CURLOPT_RESOLVE), certificate and name verified, no redirects (§3.3),
 * at most 64 KiB, within what is left of the deadline. The status, the
 * Content-Type and the body become facts; judging them is judge.c's. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "smtprobe/dnsrec.h"
#include "banned.h"

struct dc_sts {
	struct dc_run *run;
	uv_work_t work;
	int started;
	/* in */
	char url[600];
	char resolve[700]; /* "mta-sts.DOMAIN:PORT:ADDR" */
	long timeout_ms;
	/* out */
	long status;
	char type[128];
	char error[256];
	char *body;
	size_t len;
	int too_big;
	struct smtprobe_dc_answer addr; /* A of mta-sts.DOMAIN */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct dc_sts *s = arg;
	size_t add = size * n;

	if (s->len + add > SMTPROBE_MTASTS_MAX_POLICY) {
		s->too_big = 1;
		return 0; /* libcurl stops: a write error */
	}
	char *b = realloc(s->body, s->len + add + 1);
	if (b == NULL)
		return 0;
	memcpy(b + s->len, p, add);
	s->body = b;
	s->len += add;
	s->body[s->len] = '\0';
	return add;
}

static void fetch(uv_work_t *req)
{
	struct dc_sts *s = req->data;
	const struct smtprobe_dc_params *p = s->run->p;
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *res = curl_slist_append(NULL, s->resolve);
	CURL *c = curl_easy_init();

	if (c == NULL || res == NULL) {
		snprintf(s->error, sizeof(s->error), "libcurl: out of memory");
		curl_slist_free_all(res);
		if (c)
			curl_easy_cleanup(c);
		return;
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	/* that address only: no proxy from the environment */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
	if (p->ca_path)
		curl_easy_setopt(c, CURLOPT_CAPATH, p->ca_path);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE,
	                 (long)SMTPROBE_MTASTS_MAX_POLICY);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "smtprobe");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
	const char *type = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK &&
	    type)
		snprintf(s->type, sizeof(s->type), "%s", type);
	if (s->too_big)
		snprintf(s->error, sizeof(s->error),
		         "the policy is larger than %d bytes",
		         SMTPROBE_MTASTS_MAX_POLICY);
	else if (rc != CURLE_OK)
		snprintf(s->error, sizeof(s->error), "%s",
		         cerr[0] ? cerr : curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	curl_slist_free_all(res);
}

static void fetched(uv_work_t *req, int status)
{
	struct dc_sts *s = req->data;
	struct smtprobe_dc_facts *f = s->run->f;
	(void)status;

	f->sts_fetched = 1;
	f->http_status = s->status;
	snprintf(f->content_type, sizeof(f->content_type), "%s", s->type);
	snprintf(f->sts_error, sizeof(f->sts_error), "%s", s->error);
	if (!s->error[0] && s->body) {
		f->sts_policy = s->body;
		f->sts_policy_len = s->len;
		s->body = NULL;
	}
	dc_done(s->run);
}

/* mta-sts.DOMAIN's address came: fetch from it */
static void on_sts_addr(struct dc_run *run, size_t i, size_t j)
{
	struct dc_sts *s = run->sts;
	struct smtprobe_dc_facts *f = run->f;
	unsigned port = run->p->mta_sts_port ? run->p->mta_sts_port : 443;
	(void)i;
	(void)j;

	if (s->addr.status != SMTPROBE_DNS_OK || s->addr.n == 0 ||
	    s->addr.dnssec == SMTPROBE_DNSSEC_BOGUS) {
		f->sts_fetched = 1;
		snprintf(f->sts_error, sizeof(f->sts_error),
		         "mta-sts.%.100s has no address (%s%s%.100s)",
		         f->domain, smtprobe_dns_status_name(s->addr.status),
		         s->addr.why[0] ? ": " : "", s->addr.why);
		return;
	}
	snprintf(s->url, sizeof(s->url),
	         port == 443 ? "https://mta-sts.%s/.well-known/mta-sts.txt"
	                     : "https://mta-sts.%s:%u/.well-known/mta-sts.txt",
	         f->domain, port);
	snprintf(s->resolve, sizeof(s->resolve), "mta-sts.%s:%u:%.64s",
	         f->domain, port, s->addr.rec[0]);
	s->timeout_ms = (long)dc_left_ms(run);
	s->work.data = s;
	if (uv_queue_work(&run->loop, &s->work, fetch, fetched) == 0) {
		s->started = 1;
		dc_hold(run);
	}
}

void dc_sts_start(struct dc_run *run, size_t i, size_t j)
{
	struct smtprobe_dc_facts *f = run->f;
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	size_t first = 0;
	char name[300];
	(void)i;
	(void)j;

	for (size_t k = 0; k < f->sts.n; k++)
		txt[k] = (struct smtprobe_txt){f->sts.rec[k],
		                               strlen(f->sts.rec[k])};
	if (f->sts.status != SMTPROBE_DNS_OK ||
	    smtprobe_mtasts_select(txt, f->sts.n, &first) == 0 ||
	    run->sts != NULL)
		return;
	run->sts = calloc(1, sizeof(*run->sts));
	if (run->sts == NULL)
		return;
	run->sts->run = run;
	snprintf(name, sizeof(name), "mta-sts.%s", f->domain);
	dc_ask(run, name, SMTPROBE_RR_A, &run->sts->addr, on_sts_addr, 0, 0);
}

void dc_sts_join(struct dc_run *run)
{
	struct dc_sts *s = run->sts;
	if (s == NULL)
		return;
	/* a fetch still running ends by its own timeout; the loop's last run
	 * waits for it (fetched) before the memory goes */
	if (s->started)
		uv_run(&run->loop, UV_RUN_DEFAULT);
	free(s->body);
	smtprobe_dc_answer_clear(&s->addr);
	free(s);
	run->sts = NULL;
}
