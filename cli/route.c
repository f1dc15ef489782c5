/* route.c - MX routing in the CLI (route.h): which domain an address
 * routes by, and the route as JSON next to a session's or a check's own
 * document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "banned.h"

int cli_route_domain(const char *addr, char *out, size_t outsz)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	size_t n;

	if (at == NULL || at[1] == '\0')
		return -1;
	n = strcspn(at + 1, ">");
	if (n == 0 || n >= outsz)
		return -1;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return 0;
}

json_t *cli_route_json(const struct smtprobe_route *r)
{
	static const char *const kinds[] = {"mx", "implicit", "literal"};
	json_t *hosts = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_route_host *h = &r->host[i];
		json_t *a = json_array();
		for (size_t k = 0; k < h->naddr; k++)
			json_array_append_new(a, json_string(h->addr[k]));
		json_t *o =
		        json_pack("{s:s, s:i, s:o}", "host", h->host,
		                  "preference", (int)h->pref, "addresses", a);
		if (o && h->why[0])
			json_object_set_new(o, "error", json_string(h->why));
		if (o)
			json_array_append_new(hosts, o);
	}
	return json_pack("{s:s, s:s, s:o}", "domain", r->domain, "kind",
	                 kinds[r->kind], "hosts", hosts);
}

char *cli_json_add(char *doc, const char *key, json_t *val)
{
	json_t *o = doc ? json_loads(doc, 0, NULL) : NULL;
	char *out;

	if (!json_is_object(o) || val == NULL) {
		json_decref(o);
		json_decref(val);
		return doc;
	}
	json_object_set_new(o, key, val);
	out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (out == NULL)
		return doc;
	free(doc);
	return out;
}
