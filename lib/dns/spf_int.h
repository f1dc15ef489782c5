/* spf_int.h - what the SPF files share, internal to lib/dns:
 * - spf.c gives the others the macro-string tokenizer (one grammar for
 *   checking and for expanding) and the checks of macro-strings;
 * - the evaluator of spf_eval.c (records, outcome, the API) is split
 *   over spf_match.c (the mechanisms that ask DNS, and their answers)
 *   and spf_macro.c (names, addresses, macro expansion); they share its
 *   state, struct smtprobe_spf_eval, defined here. */
#ifndef SMTPROBE_SPF_INT_H
#define SMTPROBE_SPF_INT_H

#include <stddef.h>

#include "smtprobe/spf.h"

/* One token of a macro-string (RFC 7208 section 7.1). */
enum spf_tok_kind {
	SPF_TOK_LITERAL, /* s[off..off+len): visible chars except '%' */
	SPF_TOK_ESCAPE,  /* %% %_ %-: letter is '%', '_' or '-' */
	SPF_TOK_MACRO,   /* %{...} */
};

struct spf_tok {
	enum spf_tok_kind kind;
	size_t off, len; /* the token's bytes */
	char letter;     /* macro letter, lower case; escape character */
	int upper;       /* the letter was upper case: URL-escape */
	unsigned digits; /* right-hand parts to keep; 0: all */
	int reverse;
	char delims[8]; /* NUL-terminated; "" means "." */
};

/* Read the token at s[*pos] (when *pos < len) and advance *pos. Returns 0
 * or -1 when the bytes there are not a valid token (a '%' not followed
 * by '{', '%', '_' or '-', an unknown letter, a digit transformer of 0,
 * an unterminated brace, a byte outside the macro grammar). Spaces are
 * literal tokens only when allow_space. */
int spf_tok_next(const char *s, size_t len, size_t *pos, int allow_space,
                 struct spf_tok *t);

enum spf_ms_mode {
	SPF_MS_DOMAIN,  /* domain-spec: needs a domain-end, no c r t */
	SPF_MS_VALUE,   /* an unknown modifier's macro-string */
	SPF_MS_EXPLAIN, /* explain-string: spaces too, c r t allowed */
};

/* Check a macro-string. Returns 0 or a negative enum smtprobe_spf_err
 * (E_MACRO, E_MACRO_EXP, E_DOMAIN, E_CHAR); *flags (may be NULL) gets
 * enum smtprobe_spf_term_flag bits. */
int spf_check_macro_string(const char *s, size_t len, enum spf_ms_mode mode,
                           unsigned *flags);

/* Quote len bytes of s for a message: escaped (smtprobe_escape), cut
 * with "..." when it does not fit. Returns the length of the full escape. */
size_t spf_show(char *dst, size_t dstsz, const char *s, size_t len);

/* ---- the evaluator's state ---- */

#define SPF_NAMESZ (SMTPROBE_SPF_MAX_NAME + 1)
#define SPF_IDSZ   (SMTPROBE_SPF_MAX_IDENTITY + 1)
#define SPF_VALSZ  (SPF_IDSZ + SPF_NAMESZ) /* the longest macro value, %{s} */

enum spf_wait {
	SPF_W_NONE,
	SPF_W_RECORD,  /* TXT of a record to evaluate (purpose says which) */
	SPF_W_ADDR,    /* a: A/AAAA of the target */
	SPF_W_MX,      /* mx: MX of the target */
	SPF_W_MX_ADDR, /* mx: addresses of names[iname] */
	SPF_W_PTR,     /* ptr: PTR of the client */
	SPF_W_PTR_ADDR,
	SPF_W_EXISTS,
	SPF_W_P_PTR, /* %{p}: PTR of the client, then addresses */
	SPF_W_P_ADDR,
	SPF_W_EXP,     /* TXT of the exp= domain */
	SPF_W_PROBE_A, /* static walk, void probes */
	SPF_W_PROBE_AAAA,
	SPF_W_PROBE_MX,
};

enum spf_purpose { SPF_FETCH_TOP, SPF_FETCH_INCLUDE, SPF_FETCH_REDIRECT };
enum spf_phase { SPF_PH_TERMS, SPF_PH_EXP_DOMAIN, SPF_PH_EXP_TEXT };
enum spf_pstate { SPF_P_NONE, SPF_P_RUNNING, SPF_P_DONE };

struct spf_frame {
	char domain[SPF_NAMESZ];
	char *text; /* the record, NUL-terminated */
	size_t next;
	int cur; /* the term being evaluated, -1: none */
	struct smtprobe_spf_record rec;
};

struct smtprobe_spf_eval {
	int is_static, probe_void, v6;
	unsigned char ip[16];
	char local[SPF_IDSZ], sdomain[SPF_IDSZ], helo[SPF_IDSZ],
	        receiver[SPF_IDSZ];
	long long now;
	struct spf_frame *fr[SMTPROBE_SPF_MAX_DEPTH];
	size_t depth;
	enum spf_wait wait;
	enum spf_purpose purpose;
	enum spf_phase phase;
	int done, probe_kind, perm, temp, void_flagged;
	int noted;               /* the last trouble() was recorded in out */
	char domain[SPF_NAMESZ]; /* check_host()'s, before any redirect */
	struct smtprobe_spf_query q;
	char target[SPF_NAMESZ];
	char names[SMTPROBE_SPF_MAX_PTR][SPF_NAMESZ]; /* MX or PTR names */
	size_t nnames, iname;
	enum spf_pstate p;
	char pnames[SMTPROBE_SPF_MAX_PTR][SPF_NAMESZ];
	unsigned char pvalid[SMTPROBE_SPF_MAX_PTR];
	size_t np, ip_i;
	char *exp_text;
	struct smtprobe_spf_outcome out;
	size_t xlen; /* the last expansion, in xbuf */
	char xbuf[SMTPROBE_SPF_MAX_EXPAND + 1];
};

/* ---- spf_eval.c: frames, outcome, queries ---- */

/* The innermost record; there is one once the top-level record is had. */
struct spf_frame *spf_top(const struct smtprobe_spf_eval *ev);
/* The term f evaluates; NULL when f is NULL or between terms. */
const struct smtprobe_spf_term *spf_cur_term(const struct spf_frame *f);
/* t as written in f, quoted (SMTPROBE_SPF_MAX_SHOW bytes); "" without. */
void spf_show_term(char *dst, const struct spf_frame *f,
                   const struct smtprobe_spf_term *t);
/* An error: the end of check_host(), but only a noted problem for the
 * static walk, which goes on. Returns 1 when the caller must stop. */
__attribute__((format(printf, 4, 5))) int
spf_trouble(struct smtprobe_spf_eval *ev, int result, int code, const char *fmt,
            ...);
/* Ask the caller for a query; the answer goes to the handler of w. */
void spf_ask(struct smtprobe_spf_eval *ev, enum spf_wait w,
             enum smtprobe_spf_qtype type, const char *name);
/* The current term of the innermost record matched, or did not. */
void spf_term_match(struct smtprobe_spf_eval *ev);
void spf_term_nomatch(struct smtprobe_spf_eval *ev);
/* Ask the TXT of the record to evaluate next (p says for what). */
void spf_start_fetch(struct smtprobe_spf_eval *ev, enum spf_purpose p,
                     const char *name);
/* Count a DNS-querying term (4.6.4). Returns 0 when the evaluation ends. */
int spf_count_lookup(struct smtprobe_spf_eval *ev);

/* ---- spf_match.c: the mechanisms and their answers ---- */

/* Evaluate the current term of the top frame: a result, or a query. */
void spf_eval_term(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                   const struct smtprobe_spf_term *t);
/* The answer to a query of a mechanism (w: a mx ptr exists, probes). */
void spf_on_term_answer(struct smtprobe_spf_eval *ev, enum spf_wait w,
                        const struct smtprobe_spf_answer *a);
/* %{p}: ask the client's PTR names, then their addresses, then go back
 * to what needed it; the answers go to spf_on_p_answer(). */
void spf_start_p(struct smtprobe_spf_eval *ev);
void spf_on_p_answer(struct smtprobe_spf_eval *ev, enum spf_wait w,
                     const struct smtprobe_spf_answer *a);

/* ---- spf_macro.c: names, addresses, macro expansion ---- */

/* An expanded domain-spec as a name to query (7.3): the final dot
 * dropped, then labels dropped on the left while over 253 bytes. Returns
 * 0, or -1 when it is not a name (empty, empty label, label > 63). */
int spf_to_name(const char *s, size_t len, char out[SPF_NAMESZ]);
/* a equals b or is a subdomain of b, ignoring case and final dots */
int spf_under(const char *a, const char *b);
/* the first bits of a and b are the same */
int spf_prefix_match(const unsigned char *a, const unsigned char *b, int bits);
/* Does any address of the client's family in the answer match? *found
 * (may be NULL) gets how many of that family there are. */
int spf_addr_match(const struct smtprobe_spf_eval *ev,
                   const struct smtprobe_spf_answer *a, int bits,
                   size_t *found);
/* The addresses of family fam (4 or 6) in an A/AAAA answer. */
size_t spf_count_family(const struct smtprobe_spf_answer *a, unsigned char fam);
/* The client's in-addr.arpa or ip6.arpa name, for PTR. */
void spf_reverse_name(const struct smtprobe_spf_eval *ev, char *b, size_t sz);
/* Expand s into xbuf/xlen. Returns 0, 1 when the static walk cannot (a
 * macro needs the IP), SMTPROBE_SPF_E_EXPAND over the cap or
 * SMTPROBE_SPF_E_MACRO (only if the caller skipped the syntax check). */
int spf_expand(struct smtprobe_spf_eval *ev, const char *s, size_t len,
               int explain, const char *domain);
/* The target name of term t of f (or of redirect=, exp=) into target.
 * Returns 0, 1 (static walk: cannot be known) or an error code. */
int spf_target_of(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                  const struct smtprobe_spf_term *t);

#endif
