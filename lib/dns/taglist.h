/* taglist.h - what the record parsers of lib/dns share besides the public
 * tag list (internal): error messages, the version tag, value lists,
 * report URIs, host names. */
#ifndef SMTPROBE_TAGLIST_H
#define SMTPROBE_TAGLIST_H

#include <stddef.h>

#include "smtprobe/dnsrec.h"

/* room for taglist_quote(): 32 input bytes escaped, quotes and "..." */
#define TAGLIST_QUOTE_SZ 136

static inline struct smtprobe_span taglist_span(size_t off, size_t len)
{
	struct smtprobe_span s = {off, len};

	return s;
}

/* Record the error in e unless one is there already (the first error
 * counts); returns e->code either way. Messages longer than the room end
 * in "...". */
int taglist_seterr(struct smtprobe_dnsrec_error *e, int code,
                   struct smtprobe_span at, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* s escaped (smtprobe_escape) and quoted, cut after 32 bytes with "...":
 * hostile bytes made fit for a message. Returns dst. */
const char *taglist_quote(char *dst, size_t dstsz, const char *s, size_t len);
/* The error about tag t: "dmarc: p='block' is not none, quarantine or
 * reject" (the record, the tag, its value quoted, why). */
int taglist_bad_tag(struct smtprobe_dnsrec_error *e, int code,
                    enum smtprobe_taglist_dialect d, const char *buf,
                    const struct smtprobe_tag *t, const char *why);
/* A number of 1 to max digits, at most limit, in *v; 0 or -1. */
int taglist_number(const char *buf, struct smtprobe_span s, size_t max,
                   unsigned long limit, unsigned long *v);
/* "dmarc", "dkim", "mta-sts", "tls-rpt": the prefix of messages */
const char *taglist_prefix(enum smtprobe_taglist_dialect d);

/* The record's first tag is the dialect's version (v=DMARC1, v=STSv1,
 * v=TLSRPTv1, v=DKIM1), else an E_VERSION error in e. */
int taglist_version(const struct smtprobe_taglist *tl, const char *buf,
                    struct smtprobe_dnsrec_error *e);
/* How many of txt start with the dialect's version tag; *first. */
size_t taglist_select(const struct smtprobe_txt *txt, size_t n,
                      enum smtprobe_taglist_dialect d, size_t *first);

/* The next item of a list separated by sep ("sha1:sha256", "a, b") in
 * buf[*pos, end), whitespace around it dropped. Returns 1 and advances
 * *pos past the separator, or 0 when the list is done. An empty item is
 * returned as such (len 0): the caller decides. */
int taglist_next_item(const char *buf, size_t *pos, size_t end, char sep,
                      struct smtprobe_span *item);
/* ASCII case-insensitive comparison of a span with a literal. */
int taglist_span_is(const char *buf, struct smtprobe_span s, const char *lit);
/* hyphenated-word of RFC 6376: ALPHA [*(ALPHA / DIGIT / "-") (ALPHA /
 * DIGIT)] */
int taglist_word(const char *buf, struct smtprobe_span s);
/* RFC 8461 / 8460 extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT /
 * "_" / "-" / ".") */
int taglist_ext_name(const char *s, size_t len);
/* RFC 8461 / 8460 extension value: 1*(%x21-3A / %x3C / %x3E-7E) */
int taglist_ext_value(const char *buf, struct smtprobe_span s);
/* A host name of LDH labels (1..63 bytes, no "-" at either end), at most
 * SMTPROBE_DNSREC_MAX_NAME bytes, no final dot. */
int taglist_hostname(const char *s, size_t len);

/* The comma-separated report URIs of tag t (DMARC rua=/ruf=, TLS-RPT
 * rua=) appended to uris[*n]. DMARC allows a "!size" suffix and any
 * scheme, TLS-RPT mailto: and https: only. 0 or an error in e. */
int taglist_uris(const char *buf, const struct smtprobe_tag *t,
                 enum smtprobe_taglist_dialect d,
                 struct smtprobe_report_uri *uris, size_t *n,
                 struct smtprobe_dnsrec_error *e);

#endif
