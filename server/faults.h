/* faults.h - fault injection for `smtprobe serve` (the policy's faults:
 * list). */
#ifndef SMTPROBE_SERVER_FAULTS_H
#define SMTPROBE_SERVER_FAULTS_H

struct smtpd;

/* Apply the faults configured for `when` ("connect", a verb such as
 * "MAIL", "dot"). Returns 1 when a fault took the place of the normal
 * reply (the caller must not reply), 0 to go on (a delay may have been
 * set up: the normal reply is then held back). */
int faults_apply(struct smtpd *s, const char *when);

#include "policy.h"

/* Bytes arrived while a fault waits for them (bad-starttls answers the
 * ClientHello with garbage). Returns 1 when it consumed them. */
int faults_input(struct smtpd *s);

const char *srv_fault_name(enum srv_fault_kind k);

#endif
