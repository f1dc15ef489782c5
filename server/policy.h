/* policy.h - the relay policy of `smtprobe serve`: what the server is
 * (presets and a YAML file in one format) and the decisions it makes.
 *
 * Loading (config.c) fills a struct srv_policy from YAML text; presets are
 * YAML texts compiled in, so a preset and a file go through one parser.
 * Deciding (policy.c) is pure: a client, an envelope and a policy in, a
 * verdict with the reply real servers give out. */
#ifndef SMTPROBE_SERVER_POLICY_H
#define SMTPROBE_SERVER_POLICY_H

#include <stddef.h>

#define SRV_MAX_NAME         256 /* host names, domains, addresses */
#define SRV_MAX_DOMAINS      64  /* local domains; per-user allowed domains */
#define SRV_MAX_NETS         64  /* trusted networks */
#define SRV_MAX_USERS        128
#define SRV_MAX_ADDRS        8  /* sender addresses a user owns */
#define SRV_MAX_USER_DOMAINS 16 /* recipient domains a user may send to */
#define SRV_MAX_FAULTS       32
#define SRV_MAX_CONFIG       (1024 * 1024) /* bytes of YAML accepted */
/* The YAML's shape, checked before a node tree is built: the schema is at
 * most 4 collections deep and needs a few thousand nodes, so these bounds
 * only refuse documents no policy needs, and keep loading linear in the
 * input (libyaml's scanner slows down with nesting, its anchor table with
 * the number of anchors) and its memory small. */
#define SRV_MAX_DEPTH   32    /* nested mappings and lists */
#define SRV_MAX_NODES   16384 /* values, mappings, lists and aliases */
#define SRV_MAX_ANCHORS 128   /* &anchors in the document */

struct srv_net {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address (v4 in the first 4 bytes) */
	unsigned prefix;        /* prefix length */
};

struct srv_user {
	char name[SRV_MAX_NAME];
	char password[SRV_MAX_NAME];
	/* Sender addresses the user may use (sender_login_match). Empty: the
	 * user's name at every local domain, and the name itself when it is
	 * an address. */
	char owns[SRV_MAX_ADDRS][SRV_MAX_NAME];
	size_t nowns;
	/* Recipient domains the user may send to (least privilege). Empty:
	 * any domain. A leading "." matches sub-domains: ".example.com". */
	char allowed[SRV_MAX_USER_DOMAINS][SRV_MAX_NAME];
	size_t nallowed;
	unsigned msg_rate; /* messages per minute, 0 = the policy's default */
};

/* Fault injection (faults.c). when: the command verb it applies to
 * ("connect" for the banner, "MAIL", "RCPT", "DATA", "dot", "any"). */
enum srv_fault_kind {
	SRV_FAULT_REPLY,        /* replace the reply: code + text */
	SRV_FAULT_DELAY,        /* delay the reply by ms */
	SRV_FAULT_DROP,         /* close the connection instead of replying */
	SRV_FAULT_421_AFTER,    /* 421 and close after n commands */
	SRV_FAULT_SILENCE,      /* never answer (hold the connection) */
	SRV_FAULT_DRIP,         /* send the reply one byte per ms */
	SRV_FAULT_ENDLESS,      /* a multi-line reply that never ends */
	SRV_FAULT_LONG_LINE,    /* a reply line of n bytes */
	SRV_FAULT_GARBAGE,      /* random bytes instead of a reply */
	SRV_FAULT_RESET_DATA,   /* TCP reset while the message arrives */
	SRV_FAULT_BAD_STARTTLS, /* 220 to STARTTLS, then garbage */
};

struct srv_fault {
	enum srv_fault_kind kind;
	char when[16];
	unsigned code;
	char text[SRV_MAX_NAME];
	unsigned long n;    /* ms, count or bytes, by kind */
	double probability; /* 0..1, 1 = always */
};

/* About 1 MB: allocate it on the heap. */
struct srv_policy {
	char name[SRV_MAX_NAME];     /* preset name or file path */
	char hostname[SRV_MAX_NAME]; /* banner / EHLO name */
	char local_domains[SRV_MAX_DOMAINS][SRV_MAX_NAME];
	size_t nlocal;
	struct srv_net trusted[SRV_MAX_NETS]; /* relay for these clients */
	size_t ntrusted;
	int open_relay;         /* relay for anyone: the misconfiguration */
	int known_recipients;   /* local recipients must be users (else any) */
	int offer_auth;         /* advertise AUTH */
	int auth_without_tls;   /* advertise and accept AUTH before STARTTLS */
	int require_tls;        /* 530 5.7.0 to MAIL before STARTTLS */
	int require_auth;       /* 530 5.7.0 to MAIL without AUTH */
	int sender_login_match; /* an authenticated sender must own MAIL FROM */
	unsigned mechs;         /* enum smtprobe_mech bits offered */
	unsigned max_recipients; /* 0 = no limit */
	unsigned long max_size;  /* bytes, 0 = no limit; advertised as SIZE */
	/* extensions advertised (and their parameters accepted): each on by
	 * default, off to test a client against a server without it */
	int smtputf8; /* SMTPUTF8 (RFC 6531) */
	int dsn;      /* DSN (RFC 3461) */
	int chunking; /* CHUNKING: BDAT (RFC 3030) */
	struct srv_user users[SRV_MAX_USERS];
	size_t nusers;
	/* protection */
	unsigned max_connections; /* concurrent, whole server (0 = 100) */
	/* concurrent per client IP, 0 = no limit; unset: max_connections / 2
	 * (at least 1), as Postfix's smtpd_client_connection_count_limit is
	 * half its default process limit */
	unsigned conn_per_ip;
	unsigned conn_rate; /* new connections per minute per IP, 0 = off */
	unsigned auth_fail_limit;    /* failures before 421, 0 = off */
	unsigned auth_fail_delay_ms; /* delay of each reply after a failure */
	unsigned greylist_secs; /* first attempt of a triple: 451, 0 = off */
	unsigned msg_rate;      /* messages per minute per user, 0 = off */
	struct srv_fault faults[SRV_MAX_FAULTS];
	size_t nfaults;
};

/* ---- loading (config.c) ------------------------------------------- */

/* Names of the presets: "open", "mx", "submission", "relay-by-ip". */
extern const char *const srv_preset_names[];

/* Parse YAML text into p (p is reset first). Pure: no file access; a
 * users_file key is rejected here (see srv_policy_load). Returns 0 or -1
 * with "line N: what is wrong" in err. */
int srv_policy_parse(struct srv_policy *p, const char *yaml, size_t len,
                     char *err, size_t errsz);
/* A preset by name. */
int srv_policy_preset(struct srv_policy *p, const char *name, char *err,
                      size_t errsz);
/* A preset name or a YAML file; follows users_file (lines "user:password"
 * or "user:password:owned,addresses", # comments) relative to the file. */
int srv_policy_load(struct srv_policy *p, const char *preset_or_path, char *err,
                    size_t errsz);

/* ---- deciding (policy.c) ------------------------------------------ */

struct srv_client {
	int family;
	unsigned char addr[16];
	int tls;               /* the session is inside TLS */
	const char *auth_user; /* NULL when not authenticated */
};

/* A refusal: the reply to send and a short reason for the log. */
struct srv_verdict {
	int code; /* 0 = accepted */
	char enhanced[16];
	char text[512];     /* without the code and enhanced code */
	const char *reason; /* "relay denied", "sender not owned", ... */
};

const struct srv_user *srv_policy_user(const struct srv_policy *p,
                                       const char *name);
int srv_net_contains(const struct srv_net *n, int family,
                     const unsigned char *addr);
int srv_is_local_domain(const struct srv_policy *p, const char *domain);

/* May this client use AUTH now? (not before TLS unless auth_without_tls) */
int srv_check_auth(const struct srv_policy *p, const struct srv_client *c,
                   struct srv_verdict *v);
/* MAIL FROM (sender without angle brackets, "" = null sender). */
int srv_check_mail(const struct srv_policy *p, const struct srv_client *c,
                   const char *sender, struct srv_verdict *v);
/* RCPT TO; nrcpt = recipients already accepted in this transaction. */
int srv_check_rcpt(const struct srv_policy *p, const struct srv_client *c,
                   const char *sender, const char *rcpt, size_t nrcpt,
                   struct srv_verdict *v);
/* Each returns 0 when accepted (v->code == 0) or the reply code. */

#endif
