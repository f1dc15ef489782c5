/* route.h - MX routing in the CLI (`send` without --server, `check
 * DOMAIN`): the domain of an address, the route as JSON, and JSON
 * documents with the route added. The lookup is lib/dns's (mxroute.h). */
#ifndef SMTPROBE_CLI_ROUTE_H
#define SMTPROBE_CLI_ROUTE_H

#include <jansson.h>
#include <stddef.h>

#include "smtprobe/mxroute.h"

/* The domain of an address ("<user@example.org>", "user@[192.0.2.1]");
 * 0, or -1 when it has none. */
int cli_route_domain(const char *addr, char *out, size_t outsz);
/* {"domain", "kind": "mx"|"implicit"|"literal", "hosts": [{"host",
 * "preference", "addresses", "error"}]} */
json_t *cli_route_json(const struct smtprobe_route *r);
/* doc (a JSON object as text, malloc'd) with key: val added (val's
 * reference taken); a new malloc'd text (doc freed), or doc itself when
 * it is not an object. */
char *cli_json_add(char *doc, const char *key, json_t *val);

#endif
