/* spf_int.h - what spf.c shares with spf_eval.c: the macro-string
 * tokenizer (one grammar for checking and for expanding) and the checks
 * of macro-strings. Internal to lib/dns. */
#ifndef SMTPROBE_SPF_INT_H
#define SMTPROBE_SPF_INT_H

#include <stddef.h>

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

#endif
