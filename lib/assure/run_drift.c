/* run_drift.c - the drift report of `smtprobe run`: for every target name
 * found in two or more environments, the facts measured in all of them
 * (what answered, TLS, trust, protocol versions, AUTH, relay verdicts)
 * side by side, keeping those whose values differ. Pure. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/assure.h"
#include "banned.h"

enum fact {
	F_REACHED,
	F_SOFTWARE,
	F_TLS,
	F_VERIFIED,
	F_VERSIONS,
	F_AUTH_CLEAR,
	F_MECHS,
	F_AUTH_OK,
	F_RELAY_A,
	F_RELAY_B,
	F_RELAY_C,
	F_LAST
};

static const char *const fact_names[F_LAST] = {
        "reachable",       "software",      "tls",
        "tls.verified",    "tls.versions",  "auth.offered_in_clear",
        "auth.mechanisms", "auth.succeeds", "relay.A",
        "relay.B",         "relay.C",
};

static const char *tri(int v)
{
	return v < 0 ? "" : v ? "true" : "false";
}

/* The fact's value as text, "" when it was not measured. */
static void fact_value(const struct smtprobe_run_facts *f, enum fact k,
                       char *out, size_t outsz)
{
	const char *v = "";
	char buf[96];

	switch (k) {
	case F_REACHED:
		v = tri(f->reached);
		break;
	case F_SOFTWARE:
		v = f->software;
		break;
	case F_TLS:
		v = f->reached ? (f->tls ? f->tls_version : "none") : "";
		break;
	case F_VERIFIED:
		v = f->tls ? tri(f->tls_verified) : "";
		break;
	case F_VERSIONS:
		v = f->lowest_version >= 0 ? f->accepted_versions : "";
		break;
	case F_AUTH_CLEAR:
		v = tri(f->auth_in_clear);
		break;
	case F_MECHS:
		v = f->reached ? (f->mechanisms[0] ? f->mechanisms : "none")
		               : "";
		break;
	case F_AUTH_OK:
		v = tri(f->auth_ok);
		break;
	case F_RELAY_A:
	case F_RELAY_B:
	case F_RELAY_C: {
		int sc = (int)(k - F_RELAY_A);
		if (f->relay_ran && f->relay[sc] != SMTPROBE_V_SKIPPED) {
			snprintf(buf, sizeof(buf), "%s",
			         smtprobe_relay_verdict_name(f->relay[sc]));
			v = buf;
		}
		break;
	}
	case F_LAST:
		break;
	}
	snprintf(out, outsz, "%.95s", v);
}

void smtprobe_run_drift(struct smtprobe_run_report *r)
{
	size_t cap = 0;

	free(r->drift);
	r->drift = NULL;
	r->ndrift = 0;
	r->compared = 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		const char *name = r->targets[i].t->name;
		size_t idx[SMTPROBE_DRIFT_MAX_ENVS], n = 0;
		int seen_before = 0;
		for (size_t j = 0; j < i && !seen_before; j++)
			seen_before = strcmp(r->targets[j].t->name, name) == 0;
		if (seen_before)
			continue;
		for (size_t j = i;
		     j < r->ntargets && n < SMTPROBE_DRIFT_MAX_ENVS; j++)
			if (strcmp(r->targets[j].t->name, name) == 0)
				idx[n++] = j;
		if (n < 2)
			continue;
		r->compared++;
		for (int k = 0; k < F_LAST; k++) {
			struct smtprobe_drift d;
			int differs = 0, unknown = 0;
			memset(&d, 0, sizeof(d));
			d.target = name;
			snprintf(d.fact, sizeof(d.fact), "%s", fact_names[k]);
			d.nvalues = n;
			for (size_t m = 0; m < n; m++) {
				d.env[m] = r->targets[idx[m]].env;
				fact_value(&r->targets[idx[m]].facts,
				           (enum fact)k, d.value[m],
				           sizeof(d.value[m]));
				unknown |= d.value[m][0] == '\0';
				differs |= strcmp(d.value[m], d.value[0]) != 0;
			}
			if (!differs || unknown)
				continue;
			if (r->ndrift == cap) {
				size_t nc = cap ? cap * 2 : 8;
				struct smtprobe_drift *g =
				        realloc(r->drift, nc * sizeof(*g));
				if (g == NULL)
					return;
				r->drift = g;
				cap = nc;
			}
			r->drift[r->ndrift++] = d;
		}
	}
}
