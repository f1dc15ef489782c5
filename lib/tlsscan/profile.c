/* profile.c - a scan held against a named TLS configuration profile
 * (`smtprobe tls --profile NAME`): every deviation is a finding
 * "profile.protocol", "profile.suite", "profile.key", "profile.dh" or
 * "profile.signature", medium ("low" where the profile itself only says
 * "phase out"), naming the profile and what it allows.
 *
 * The profiles, as data:
 *   mozilla-modern        TLS 1.3 only (Mozilla's server-side TLS, modern)
 *   mozilla-intermediate  TLS 1.2 and 1.3; TLS 1.2 only ECDHE/DHE with
 *                         AES-GCM or ChaCha20; RSA >= 2048, DH >= 2048
 *   mozilla-old           TLS 1.0 to 1.3; no NULL, anonymous, EXPORT, RC4
 *                         or DES; RSA >= 2048, DH >= 1024
 *   ncsc-nl-2025          NCSC-NL TLS guidelines 2025-05: TLS 1.2 and 1.3;
 *                         AEAD with ECDHE/DHE good, CBC and RSA key
 *                         exchange "phase out" (low), 3DES insufficient; RSA >=
 * 2048, SHA-1 signatures and custom DH groups insufficient, ffdhe2048 phase out
 * Pure: the scan in, findings out; suite names are OpenSSL's. */
#include <stdio.h>
#include <string.h>

#include "findings_int.h"
#include "smtprobe/tlsscan.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct profile {
	const char *name;
	int protocols[SMTPROBE_TP_LAST]; /* allowed */
	/* TLS <= 1.2 suites: which are allowed; low: allowed but "phase
	 * out" (a low finding, not medium) */
	int (*suite_ok)(const struct smtprobe_tls_scan_suite *x, int *low);
	int rsa_min, dh_min;
	int custom_dh_ok; /* a DH group that is not a named one */
	int sha1_ok;      /* SHA-1 certificate signatures */
};

static int aead(const struct smtprobe_tls_scan_suite *x)
{
	return x->enc && (strstr(x->enc, "GCM") || strstr(x->enc, "CHACHA20"));
}

static int ephemeral(const struct smtprobe_tls_scan_suite *x)
{
	return x->dhe || x->ecdhe;
}

static int weak(const struct smtprobe_tls_scan_suite *x)
{
	return x->strength != SMTPROBE_STRENGTH_HIGH &&
	       x->strength != SMTPROBE_STRENGTH_MEDIUM;
}

static int modern_suite(const struct smtprobe_tls_scan_suite *x, int *low)
{
	(void)x;
	*low = 0;
	return 0; /* no TLS <= 1.2 suite at all */
}

static int intermediate_suite(const struct smtprobe_tls_scan_suite *x, int *low)
{
	*low = 0;
	return ephemeral(x) && aead(x) && x->strength == SMTPROBE_STRENGTH_HIGH;
}

static int old_suite(const struct smtprobe_tls_scan_suite *x, int *low)
{
	*low = 0;
	return !weak(x);
}

static int ncsc_suite(const struct smtprobe_tls_scan_suite *x, int *low)
{
	*low = 0;
	if (x->strength != SMTPROBE_STRENGTH_HIGH)
		return 0; /* 3DES and worse: insufficient */
	/* CBC, and RSA key exchange: "phase out" */
	*low = !ephemeral(x) || !aead(x);
	return 1;
}

static const struct profile profiles[] = {
        {"mozilla-modern", {0, 0, 0, 0, 1}, modern_suite, 2048, 2048, 0, 0},
        {"mozilla-intermediate",
         {0, 0, 0, 1, 1},
         intermediate_suite,
         2048,
         2048,
         1,
         0},
        {"mozilla-old", {0, 1, 1, 1, 1}, old_suite, 2048, 1024, 1, 1},
        {"ncsc-nl-2025", {0, 0, 0, 1, 1}, ncsc_suite, 2048, 2048, 0, 0},
};

int smtprobe_tls_profile_known(const char *name)
{
	for (size_t i = 0; i < NELEM(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return 1;
	return 0;
}

const char *smtprobe_tls_profile_names(void)
{
	return "mozilla-modern, mozilla-intermediate, mozilla-old, "
	       "ncsc-nl-2025";
}

static void check_suites(const struct profile *pf,
                         const struct smtprobe_tls_scan *s, struct tlss_list *o)
{
	const char *bad[SMTPROBE_SCAN_MAX_SUITES] = {NULL};
	const char *old[SMTPROBE_SCAN_MAX_SUITES] = {NULL};
	size_t nbad = 0, nold = 0;
	char list[256];

	for (int v = 0; v < SMTPROBE_TP_TLS13; v++) {
		if (!pf->protocols[v])
			continue; /* the protocol finding covers them */
		for (size_t i = 0; i < s->nsuites[v]; i++) {
			const struct smtprobe_tls_scan_suite *x =
			        &s->suites[v][i];
			int low = 0, seen = 0;
			int ok = pf->suite_ok(x, &low);
			const char **to = !ok ? bad : low ? old : NULL;
			size_t *nto = !ok ? &nbad : low ? &nold : NULL;
			if (!to)
				continue;
			for (size_t k = 0; k < *nto; k++)
				seen |= strcmp(to[k], x->name) == 0;
			if (!seen && *nto < SMTPROBE_SCAN_MAX_SUITES)
				to[(*nto)++] = x->name;
		}
	}
	if (nbad) {
		tlss_name_list(list, sizeof(list), bad, nbad);
		tlss_add(o, "profile.suite", SMTPROBE_SEV_MEDIUM,
		         SMTPROBE_ADV_LAST,
		         "%s: suites the profile does not allow: %s", pf->name,
		         list);
	}
	if (nold) {
		tlss_name_list(list, sizeof(list), old, nold);
		tlss_add(o, "profile.suite", SMTPROBE_SEV_LOW,
		         SMTPROBE_ADV_LAST, "%s: suites to phase out: %s",
		         pf->name, list);
	}
}

size_t smtprobe_tls_profile_check(const char *name,
                                  const struct smtprobe_tls_scan *s,
                                  struct smtprobe_tls_finding *out, size_t max)
{
	const struct smtprobe_tls_posture *p = &s->posture;
	const struct profile *pf = NULL;
	struct tlss_list o = {out, 0, max, s->posture.software};

	for (size_t i = 0; i < NELEM(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			pf = &profiles[i];
	if (!pf)
		return 0;
	for (int v = 0; v < SMTPROBE_TP_LAST; v++) {
		if (!p->tested[v] || p->offered[v] == pf->protocols[v])
			continue;
		if (p->offered[v])
			tlss_add(&o, "profile.protocol", SMTPROBE_SEV_MEDIUM,
			         SMTPROBE_ADV_LAST,
			         "%s: %s is offered; the profile does not "
			         "allow it",
			         pf->name, smtprobe_tls_proto_name(v));
		else if (v == SMTPROBE_TP_TLS13 || v == SMTPROBE_TP_TLS12)
			tlss_add(&o, "profile.protocol", SMTPROBE_SEV_MEDIUM,
			         SMTPROBE_ADV_LAST,
			         "%s: %s is not offered; the profile wants it",
			         pf->name, smtprobe_tls_proto_name(v));
	}
	check_suites(pf, s, &o);
	if (p->have_cert && strcmp(p->key_type, "RSA") == 0 &&
	    p->key_bits < pf->rsa_min)
		tlss_add(
		        &o, "profile.key", SMTPROBE_SEV_MEDIUM,
		        SMTPROBE_ADV_LAST,
		        "%s: an RSA-%d key; the profile wants at least %d bits",
		        pf->name, p->key_bits, pf->rsa_min);
	if (p->have_cert && !pf->sha1_ok &&
	    (strstr(p->sig_alg, "sha1") || strstr(p->sig_alg, "SHA1")))
		tlss_add(&o, "profile.signature", SMTPROBE_SEV_MEDIUM,
		         SMTPROBE_ADV_LAST,
		         "%s: a %s signature; the profile does not allow SHA-1",
		         pf->name, p->sig_alg);
	if (p->dh_bits > 0 && p->dh_bits < pf->dh_min)
		tlss_add(&o, "profile.dh", SMTPROBE_SEV_MEDIUM,
		         SMTPROBE_ADV_LAST,
		         "%s: DHE with %d bits; the profile wants at least %d",
		         pf->name, p->dh_bits, pf->dh_min);
	else if (p->dh_bits > 0 && !p->dh_group && !pf->custom_dh_ok)
		tlss_add(&o, "profile.dh", SMTPROBE_SEV_MEDIUM,
		         SMTPROBE_ADV_LAST,
		         "%s: DHE with a group of its own; the profile wants a "
		         "named one (ffdhe3072)",
		         pf->name);
	else if (p->dh_group && strcmp(p->dh_group, "ffdhe2048") == 0 &&
	         strcmp(pf->name, "ncsc-nl-2025") == 0)
		tlss_add(&o, "profile.dh", SMTPROBE_SEV_LOW, SMTPROBE_ADV_LAST,
		         "%s: ffdhe2048 is to be phased out", pf->name);
	return o.n;
}
