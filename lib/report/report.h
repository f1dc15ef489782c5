/* report.h - the renderers' building blocks that the audits' own documents
 * share (lib/check, lib/relay and the coming ones put these pieces into
 * their JSON, so a reply or a session reads the same everywhere). Shared
 * internal header of lib/report: the audit folders have it on their
 * include path, cli/ and server/ do not. */
#ifndef SMTPROBE_REPORT_H
#define SMTPROBE_REPORT_H

#include <jansson.h>

#include "smtprobe/reply.h"
#include "smtprobe/session.h"

/* {"code", "enhanced", "text": [...], "ms"}, or null. */
json_t *report_json_reply(const struct smtprobe_reply *r);
/* {"kind", "stage", "errno", "detail", and per kind "protocol_error",
 * "resolve_error", "tls": {...}, "x509", "reply"}, or null. */
json_t *report_json_failure(const struct smtprobe_failure *f);
/* {"name", "key", "confidence", "version", "evidence"}: the software that
 * answered (name "unknown" and confidence "" when nothing told). */
struct smtprobe_software_guess;
json_t *report_json_software(const struct smtprobe_software_guess *g);
/* The whole session document of `smtprobe send --json`. */
json_t *report_json_session(const struct smtprobe_result *r);
/* A document as text (indented, order kept; malloc'd), and its reference
 * dropped; NULL when doc is NULL or out of memory. */
char *report_dump(json_t *doc);

#endif
