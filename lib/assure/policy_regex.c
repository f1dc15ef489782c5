/* policy_regex.c - the banner regexes of a policy, checked before they
 * are compiled: glibc's regcomp and regexec must stay cheap on whatever
 * a policy file says, so nested counted repetitions that would compile
 * to a very large automaton, counts over 255, stacked quantifiers and
 * back-references are refused, then regcomp (POSIX extended) must accept
 * the rest.
 *
 * Diagnostics: -1 with "PATH:LINE: key.path: why" in err (pol_fail), the
 * regex quoted up to 64 bytes. Limits: POL_MAX_REGEX_COST for the
 * estimated size, POL_MAX_DEPTH for nested groups. */
#include <regex.h>
#include <string.h>

#include "policy_int.h"

#include "banned.h"

/* Past a bracket expression (s at its '['), or NULL when it is not
 * closed (regcomp then says so). */
static const char *skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s != '\0' && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char close[3] = {s[1], ']', '\0'};
			const char *end = strstr(s + 2, close);

			if (end == NULL)
				return NULL;
			s = end + 2;
		} else {
			s++;
		}
	}
	return *s != '\0' ? s + 1 : NULL;
}

/* Decimal digits at *s (capped), *s moved past them. */
static unsigned long digits(const char **s)
{
	unsigned long v = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++) {
		if (v < 100000)
			v = v * 10 + (unsigned long)(**s - '0');
	}
	return v;
}

/* Whether glibc's regcomp and regexec stay cheap on s: its automaton
 * copies a group once per repetition, so "(a{255}){255}" has 65025 nodes
 * and one more level a few GB; stacked quantifiers ("a??????++++++": 1.3
 * s), undefined in POSIX EREs, blow up its closure computation; and
 * back-references (a GNU extension) make matching exponential. The
 * estimate is the product of the counts along nested groups, summed
 * along a sequence. 0, or -1 with why. */
static int regex_cost(const char *s, const char **why)
{
	unsigned long total[POL_MAX_DEPTH + 1], last[POL_MAX_DEPTH + 1];
	size_t d = 0;
	int quant = 0; /* the previous token was a quantifier */

	total[0] = last[0] = 0;
	while (*s != '\0') {
		unsigned long mult = 0, lo, hi;

		if (*s == '*' || *s == '+' || *s == '?') {
			mult = 2;
			s++;
		} else if (*s == '{' &&
		           ((s[1] >= '0' && s[1] <= '9') || s[1] == ',')) {
			s++;
			lo = hi = digits(&s);
			if (*s == ',') {
				s++;
				hi = *s >= '0' && *s <= '9' ? digits(&s) : lo;
			}
			if (lo > 255 || hi > 255) {
				*why = "repetition counts above 255 are not "
				       "supported";
				return -1;
			}
			mult = (hi > lo ? hi : lo) + 1;
			if (*s == '}')
				s++;
		}
		if (mult > 0) {
			if (quant) {
				*why = "stacked quantifiers (such as a+* or "
				       "a{2}?) are not supported";
				return -1;
			}
			quant = 1;
			last[d] *= mult;
		} else if (*s == '(') {
			quant = 0;
			if (++d > POL_MAX_DEPTH) {
				*why = "groups nested too deeply";
				return -1;
			}
			total[d] = last[d] = 0;
			s++;
		} else if (*s == ')' && d > 0) {
			unsigned long g = total[d] + last[d] + 1;

			quant = 0;
			d--;
			total[d] += last[d];
			last[d] = g;
			s++;
		} else {
			quant = 0;
			if (*s == '\\' && s[1] >= '1' && s[1] <= '9') {
				*why = "back-references are not supported";
				return -1;
			}
			if (*s == '[') {
				s = skip_bracket(s);
				if (s == NULL)
					return 0;
			} else {
				s += *s == '\\' && s[1] != '\0' ? 2 : 1;
			}
			total[d] += last[d];
			last[d] = 1;
		}
		if (last[d] > POL_MAX_REGEX_COST ||
		    total[d] > POL_MAX_REGEX_COST) {
			*why = "too many repetitions (it would compile to a "
			       "very large automaton)";
			return -1;
		}
	}
	return 0;
}

int pol_check_regex(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                    const char *s)
{
	const char *why = NULL;
	regex_t re;
	int rc;

	if (regex_cost(s, &why) < 0)
		return pol_fail(c, n, kp, "%s in " QFMT, why, QARG(s));
	rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		return pol_fail(c, n, kp,
		                QFMT " is not a POSIX extended regular "
		                     "expression: %s",
		                QARG(s), msg);
	}
	regfree(&re);
	return 0;
}
