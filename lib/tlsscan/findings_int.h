/* findings_int.h - building lists of findings (findings.c), shared by the
 * posture's judges and the profiles (profile.c) (internal). */
#ifndef SMTPROBE_FINDINGS_INT_H
#define SMTPROBE_FINDINGS_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "smtprobe/software.h"
#include "smtprobe/tlsposture.h"

struct tlss_list {
	struct smtprobe_tls_finding *f;
	size_t n, max;
	enum smtprobe_software sw; /* whose fix lines */
};

/* One more finding (NULL when the list is full): its text from fmt, its
 * fix from the advice topic for l->sw (SMTPROBE_ADV_LAST: none). */
struct smtprobe_tls_finding *
tlss_add(struct tlss_list *l, const char *id, enum smtprobe_tls_severity sev,
         enum smtprobe_advice_topic topic, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* Worst first, equal severities in their order (stable). */
void tlss_sort(struct smtprobe_tls_finding *f, size_t n);
/* "A, B, C, D (and 2 more)" into buf. */
void tlss_name_list(char *buf, size_t bufsz, const char *const *names,
                    size_t n);

#endif
