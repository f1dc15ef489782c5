/* render_json.h - pieces of the JSON renderer shared by the documents of
 * send, check and relay. Internal. */
#ifndef SMTPROBE_RENDER_JSON_H
#define SMTPROBE_RENDER_JSON_H

#include <jansson.h>

#include "smtprobe/reply.h"

/* {"code", "enhanced", "text": [...], "ms"}, or null. */
json_t *render_json_reply(const struct smtprobe_reply *r);

#endif
