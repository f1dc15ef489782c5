/* check_int.h - what the files of the diagnostic ladder share (check.c:
 * dns, tcp, banner, ehlo, tls and the run; check_steps.c: auth, the
 * envelope and the relay test; check_diag.c: the helpers below).
 * Internal. */
#ifndef SMTPROBE_CHECK_INT_H
#define SMTPROBE_CHECK_INT_H

#include <stddef.h>

#include "smtprobe/check.h"
#include "smtprobe/kb.h"

#define CK_EXPIRY_WARN_DAYS 30
#define CK_RELAY_FROM       "<relay-test@smtprobe.invalid>"
#define CK_RELAY_TO         "<relay-test@relay-test.invalid>"

void ck_setf(char *dst, size_t dstsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "554 5.7.1 text" or "no reply" */
void ck_reply_text(const struct smtprobe_reply *r, char *out, size_t outsz);
/* Fill the diagnosis of a step from a knowledge-base entry (NULL: none). */
void ck_diagnose(struct smtprobe_check_finding *f,
                 const struct smtprobe_kb_entry *e);
/* ... from what the knowledge base says of a reply. */
void ck_diagnose_reply(struct smtprobe_check_finding *f,
                       const struct smtprobe_reply *r);
/* The step's advice topic: its fixes are written for the software that
 * answered (ck_fixes_for_software, once that is known). */
void ck_advise(struct smtprobe_check_finding *f,
               enum smtprobe_advice_topic topic);
void ck_fixes_for_software(struct smtprobe_check_result *r);
/* A cause written for this situation, ranked first (one per step). */
void ck_first_cause(struct smtprobe_check_finding *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
const struct smtprobe_exchange *
ck_last_exchange(const struct smtprobe_result *r, enum smtprobe_stage st);
/* A stage's reply judged: pass on 2xx/3xx, fail otherwise. 1 when the
 * step ran. */
int ck_judge_stage(struct smtprobe_check_finding *f,
                   const struct smtprobe_result *s, enum smtprobe_stage st,
                   const char *what);

/* check.c: judge the steps from r->session (and r->ladder): tcp, banner,
 * ehlo, tls, auth, mail, rcpt, data - no I/O unless AUTH failed with 535
 * (then a second session asks another mechanism); then the checklist and
 * the exit code from the steps. */
void ck_judge_session(const struct smtprobe_check_params *p,
                      struct smtprobe_check_result *r);
void ck_checklist(const struct smtprobe_check_params *p,
                  struct smtprobe_check_result *r);

/* TLS from the first byte: asked for, or found (TLSMODE_AUTO). */
static inline int ck_implicit(const struct smtprobe_check_result *r)
{
	return r->ladder.tls == SMTPROBE_TLSMODE_IMPLICIT ||
	       r->session.implicit_tls;
}

/* check_steps.c */
void ck_check_auth(const struct smtprobe_check_params *p,
                   struct smtprobe_check_result *r);
void ck_check_envelope(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r);
void ck_check_relay(const struct smtprobe_check_params *p,
                    struct smtprobe_check_result *r);

#endif
