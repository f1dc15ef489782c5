/* discover.h - port discovery: which of a host's SMTP ports answer, how
 * each speaks TLS (implicit, STARTTLS or none), whether its certificate
 * verifies and what AUTH it offers before and after TLS, and the settings
 * an application should use. Used by `check` (the ladder runs on the best
 * port) and `relay` (every open listener is audited). */
#ifndef SMTPROBE_DISCOVER_H
#define SMTPROBE_DISCOVER_H

#include <stddef.h>

#include "session.h"

#define SMTPROBE_MAX_PORTS 8

/* How a listener speaks TLS, for machines ("implicit", "starttls", "none")
 * and for people ("implicit TLS", "STARTTLS", "no TLS"); REQUIRED and
 * OPTIONAL both mean STARTTLS here. */
const char *smtprobe_tls_mode_name(enum smtprobe_tls_mode m);
const char *smtprobe_tls_mode_label(enum smtprobe_tls_mode m);

struct smtprobe_port_probe {
	unsigned port;
	int open; /* a banner came */
	enum smtprobe_tls_mode
	        tls;    /* IMPLICIT, REQUIRED (STARTTLS offered) or OFF */
	int tls_ok;     /* a handshake completed */
	int cert_ok;    /* and the certificate verified for the host */
	int tls_broken; /* STARTTLS offered, but the handshake fails */
	char tls_problem[256];
	char cert_problem[128];
	char auth[256];    /* AUTH mechanisms offered (after TLS if any) */
	int auth_in_clear; /* AUTH offered before TLS */
	char error[256];   /* why it is not open */
	struct smtprobe_failure failure; /* the same as values (no reply) */
	char host[256];                  /* the host name the banner gives */
	char ehlo_host[256]; /* the name the EHLO reply greets with */
	char address[64];    /* the address connected to */
	double ms;
};

struct smtprobe_port_scan {
	struct smtprobe_port_probe port[SMTPROBE_MAX_PORTS];
	size_t nports;
	int best; /* index of the recommended port, -1 = none */
	char recommendation[512];
	double ms; /* the whole scan */
};

/* Probe the ports of base->host concurrently (up to EHLO after TLS; no
 * AUTH, no MAIL): default 587, 465, 25, 2525 when ports is NULL. */
int smtprobe_discover(const struct smtprobe_params *base, const unsigned *ports,
                      size_t nports, struct smtprobe_port_scan *scan);

/* Guess the local domain from a host name: "mx.example.test" ->
 * "example.test"; a two-label name is kept; an address, a literal or a
 * name without a dot gives "" (no guess). Pure. */
void smtprobe_guess_domain(const char *host, char *out, size_t outsz);

#endif
