/* yaml_guard.c - YAML loaded in time linear in its bytes, for every
 * parser of YAML in the tree (serve's policy, the files of `run` and
 * `exporter`).
 *
 * libyaml's scanner costs O(depth) per token and its anchor lookups
 * O(anchors) per alias, and its document API builds the whole tree: so
 * before any tree is built, one pass over the events of the whole stream
 * counts nesting, nodes (values, mappings, lists, aliases) and anchors,
 * and stops at the first event over a cap, with the line it starts on.
 * Each event costs O(1) once the nesting is bounded. A YAML error is not
 * the scan's to report: the loader meets it at the same place and leaves
 * it on the parser. A document after the first is refused unless the
 * caller finds its root empty (an empty one follows a trailing "---").
 *
 * Nothing is worded here: the caller turns g->stop, g->line and g->limit
 * (or the parser's error) into its own message. */
#include <string.h>

#include "yaml_guard.h"

#include "banned.h"

static int stop(struct yaml_guard *g, enum yaml_guard_stop why,
                unsigned long line, unsigned limit)
{
	g->stop = why;
	g->line = line;
	g->limit = limit;
	return -1;
}

/* The anchor of a node's first event, NULL for none. */
static const yaml_char_t *anchor_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	default:
		return NULL;
	}
}

/* One event against the caps: 0, or -1 with g->stop. */
static int count(struct yaml_guard *g, const yaml_event_t *ev,
                 const struct yaml_guard_caps *caps, unsigned *depth,
                 unsigned *nodes, unsigned *anchors)
{
	unsigned long line = (unsigned long)ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > caps->depth)
			return stop(g, YAML_GUARD_DEPTH, line, caps->depth);
		/* fall through */
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if (++*nodes > caps->nodes)
			return stop(g, YAML_GUARD_NODES, line, caps->nodes);
		if (anchor_of(ev) != NULL && ++*anchors > caps->anchors)
			return stop(g, YAML_GUARD_ANCHORS, line, caps->anchors);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	default:
		break;
	}
	return 0;
}

static int scan(struct yaml_guard *g, const char *text, size_t len,
                const struct yaml_guard_caps *caps)
{
	yaml_parser_t y;
	yaml_event_t ev;
	unsigned depth = 0, nodes = 0, anchors = 0;
	int rc = 0, done = 0;

	if (!yaml_parser_initialize(&y))
		return stop(g, YAML_GUARD_NOMEM, 0, 0);
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	while (!done && rc == 0 && yaml_parser_parse(&y, &ev)) {
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = count(g, &ev, caps, &depth, &nodes, &anchors);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	return rc;
}

int yaml_guard_init(struct yaml_guard *g, const char *text, size_t len,
                    const struct yaml_guard_caps *caps)
{
	memset(g, 0, sizeof(*g));
	if (scan(g, text, len, caps) < 0)
		return -1;
	if (!yaml_parser_initialize(&g->parser))
		return stop(g, YAML_GUARD_NOMEM, 0, 0);
	g->have_parser = 1;
	yaml_parser_set_input_string(&g->parser, (const unsigned char *)text,
	                             len);
	if (!yaml_parser_load(&g->parser, &g->doc))
		return stop(g, YAML_GUARD_YAML, 0, 0);
	g->have_doc = 1;
	return 0;
}

int yaml_guard_rest(struct yaml_guard *g, int (*is_empty)(const yaml_node_t *))
{
	for (;;) {
		yaml_document_t more;
		const yaml_node_t *root;
		unsigned long line = 0;
		int end, empty;

		if (!yaml_parser_load(&g->parser, &more))
			return stop(g, YAML_GUARD_YAML, 0, 0);
		/* no root: the stream has ended */
		root = yaml_document_get_root_node(&more);
		end = root == NULL;
		empty = end || is_empty(root);
		if (!empty)
			line = (unsigned long)root->start_mark.line + 1;
		yaml_document_delete(&more);
		if (!empty)
			return stop(g, YAML_GUARD_MORE, line, 0);
		if (end)
			return 0;
	}
}

void yaml_guard_release(struct yaml_guard *g)
{
	if (g->have_doc)
		yaml_document_delete(&g->doc);
	if (g->have_parser)
		yaml_parser_delete(&g->parser);
	g->have_doc = g->have_parser = 0;
}
