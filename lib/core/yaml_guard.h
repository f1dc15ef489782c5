/* yaml_guard.h - one YAML document loaded with libyaml's document API,
 * but only after a pass over the events of the whole stream has kept it
 * within caps; a second document with content is refused (internal).
 * The guard says what stopped it and where; the caller words it. */
#ifndef SMTPROBE_YAML_GUARD_H
#define SMTPROBE_YAML_GUARD_H

#include <stddef.h>
#include <yaml.h>

struct yaml_guard_caps {
	unsigned depth;   /* nested mappings and lists */
	unsigned nodes;   /* values, mappings, lists and aliases */
	unsigned anchors; /* &anchors */
};

/* Why a call returned -1. */
enum yaml_guard_stop {
	YAML_GUARD_OK,
	YAML_GUARD_NOMEM,   /* a parser could not be set up */
	YAML_GUARD_YAML,    /* a YAML error: the detail is on g->parser */
	YAML_GUARD_DEPTH,   /* nested deeper than limit, at line */
	YAML_GUARD_NODES,   /* more nodes than limit, at line */
	YAML_GUARD_ANCHORS, /* more anchors than limit, at line */
	YAML_GUARD_MORE     /* a second document, its root at line */
};

struct yaml_guard {
	yaml_parser_t parser;
	yaml_document_t doc; /* the first document, after init */
	enum yaml_guard_stop stop;
	unsigned long line; /* 1-based, for DEPTH, NODES, ANCHORS, MORE */
	unsigned limit;     /* the cap exceeded, for DEPTH, NODES, ANCHORS */
	int have_parser, have_doc;
};

/* Scans text[0..len) against caps, then loads its first document into
 * g->doc: 0, or -1 with g->stop. A YAML error is not the scan's: the
 * loader reports it, stopping where libyaml stops. Always followed by
 * yaml_guard_release. */
int yaml_guard_init(struct yaml_guard *g, const char *text, size_t len,
                    const struct yaml_guard_caps *caps);
/* After a successful init, the documents after the first: 0 when there
 * are none or is_empty says yes to each root, else -1 with g->stop
 * (YAML_GUARD_MORE or YAML_GUARD_YAML). */
int yaml_guard_rest(struct yaml_guard *g, int (*is_empty)(const yaml_node_t *));
void yaml_guard_release(struct yaml_guard *g);

#endif
