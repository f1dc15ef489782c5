/* advice.c - what to change, written for the software that is running.
 *
 * One table: per topic a general statement and each vendor's fix, in that
 * product's own configuration language (Postfix main.cf, Exim's ACLs and
 * options, Sendmail's m4 features and access db, OpenSMTPD's smtpd.conf,
 * Exchange's receive connectors). smtprobe_advice() gives the running
 * software's line alone (none when it has none: another product's setting
 * would mislead), every vendor's when the software is unknown.
 * smtprobe_kb_fixes() does the same with a knowledge-base entry's fixes, whose
 * vendor lines start "Vendor: ". Pure: pointers into static data, no
 * allocation. */
#include <stdio.h>
#include <string.h>

#include "smtprobe/software.h"
#include "banned.h"

struct topic {
	const char *what;
	const char *fix[SMTPROBE_SW_LAST];
};

#define P SMTPROBE_SW_POSTFIX
#define E SMTPROBE_SW_EXIM
#define S SMTPROBE_SW_SENDMAIL
#define O SMTPROBE_SW_OPENSMTPD
#define X SMTPROBE_SW_EXCHANGE

static const struct topic topics[SMTPROBE_ADV_LAST] = {
        [SMTPROBE_ADV_OPEN_RELAY] =
                {"the server relays for anyone who connects",
                 {[P] = "Postfix: mynetworks must list only your own "
                        "networks (not 0.0.0.0/0), and nothing may permit "
                        "before reject_unauth_destination in "
                        "smtpd_relay_restrictions",
                  [E] = "Exim: relay_from_hosts must list only your own "
                        "networks (not *), and acl_smtp_rcpt must keep "
                        "'require message = relay not permitted domains = "
                        "+local_domains : +relay_to_domains' before any "
                        "accept for other hosts",
                  [S] = "Sendmail: drop FEATURE(`promiscuous_relay') and "
                        "every access-db 'Connect:' RELAY entry for networks "
                        "that are not yours; relay-domains lists only what "
                        "you relay for",
                  [O] = "OpenSMTPD: no 'match from any for any action "
                        "relay': accept 'from any' only 'for domain <yours>', "
                        "relay only 'from local' or 'from any auth'",
                  [X] = "Exchange: remove Ms-Exch-SMTP-Accept-Any-Recipient "
                        "from Anonymous Logon on the receive connector "
                        "(Remove-ADPermission), or narrow its RemoteIPRanges",
                  [SMTPROBE_SW_IIS] =
                          "IIS SMTP: in the virtual server's Access tab, "
                          "Relay restrictions: only the hosts that must "
                          "relay, and not 'all except the list below'",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: open_relay: false and "
                          "trusted_networks only your own networks, in the "
                          "listener's policy"}},
        [SMTPROBE_ADV_SENDER_DOMAIN] =
                {"the server trusts the envelope sender, which any client "
                 "can forge: authorise relaying by AUTH or client network "
                 "only",
                 {[P] = "Postfix: remove check_sender_access entries that "
                        "say OK (for your own domain) before "
                        "reject_unauth_destination",
                  [E] = "Exim: remove 'accept sender_domains = ...' (any "
                        "accept on the sender) from acl_smtp_rcpt",
                  [S] = "Sendmail: drop FEATURE(`relay_local_from') and "
                        "'From:' RELAY entries from the access db",
                  [O] = "OpenSMTPD: no 'match ... mail-from ... action relay' "
                        "for unauthenticated clients: relay 'from any auth' "
                        "or 'from local'"}},
        [SMTPROBE_ADV_NULL_SENDER] =
                {"the server relays for the null sender <>: bounces only "
                 "need to reach local users",
                 {[P] = "Postfix: remove the access entry '<> OK' "
                        "(smtpd_null_access_lookup_key) or any permit for <> "
                        "before reject_unauth_destination",
                  [E] = "Exim: remove 'accept senders = :' from "
                        "acl_smtp_rcpt",
                  [S] = "Sendmail: remove access-db entries that relay for "
                        "'From:<>'",
                  [O] = "OpenSMTPD: no relay rule keyed on the sender: "
                        "relay 'from any auth' or 'from local'"}},
        [SMTPROBE_ADV_HELO] =
                {"the server trusts the HELO name, which the client chooses: "
                 "trust clients by network or AUTH",
                 {[P] = "Postfix: remove check_helo_access OK entries "
                        "(localhost, your own name or address) before "
                        "reject_unauth_destination",
                  [E] = "Exim: remove ACL statements that accept on "
                        "$sender_helo_name (accept condition = ${if "
                        "eq{$sender_helo_name}...}) from acl_smtp_rcpt",
                  [S] = "Sendmail: it does not relay by HELO name itself: "
                        "look for a milter or a local ruleset that does",
                  [O] = "OpenSMTPD: no 'match ... helo ... action relay' for "
                        "unauthenticated clients"}},
        [SMTPROBE_ADV_ROUTED] =
                {"the server follows routing syntax inside a local address "
                 "(percent hack, bang path, quoted or double-@ address)",
                 {[P] = "Postfix: allow_percent_hack = no, swap_bangpath = "
                        "no, resolve_dequoted_address = no, and keep "
                        "reject_unauth_destination",
                  [E] = "Exim: keep percent_hack_domains empty and the "
                        "default ACL's 'deny local_parts = "
                        "^[.] : ^.*[@%!/|]' in acl_smtp_rcpt",
                  [S] = "Sendmail: drop FEATURE(`loose_relay_check') so "
                        "check_rcpt keeps refusing % and ! routing",
                  [O] = "OpenSMTPD: report it: 6.x and later resolve the "
                        "final domain before the relay rules"}},
        [SMTPROBE_ADV_SOURCE_ROUTE] =
                {"the server follows source routes (@hop:user@domain): "
                 "RFC 5321 4.1.1.3 says to ignore the route and judge the "
                 "final domain",
                 {[P] = "Postfix: keep reject_unauth_destination (it judges "
                        "the final domain) and swap_bangpath = no",
                  [E] = "Exim: keep the default ACL's deny of local parts "
                        "with @, %, ! and /",
                  [S] = "Sendmail: do not set confDONT_PRUNE_ROUTES"}},
        [SMTPROBE_ADV_SYNTAX] =
                {"the server relays for an address it normalises differently "
                 "from its relay check (trailing dot, case, missing angle "
                 "brackets): report the mismatch to the vendor",
                 {[P] = "Postfix: keep reject_unauth_destination and set "
                        "strict_rfc821_envelopes = yes"}},
        [SMTPROBE_ADV_AUTH_EDGE] =
                {"the server relays after a failed or cancelled AUTH, as if "
                 "the client had authenticated: only a successful AUTH may "
                 "allow relaying",
                 {[P] = "Postfix: permit_sasl_authenticated is the only "
                        "AUTH rule in smtpd_relay_restrictions; check the "
                        "SASL back end (Dovecot, Cyrus) and its version",
                  [E] = "Exim: 'accept authenticated = *' is the only AUTH "
                        "rule in acl_smtp_rcpt; check the authenticators' "
                        "server_condition",
                  [S] = "Sendmail: check TRUST_AUTH_MECH and the SASL "
                        "configuration (Cyrus SASL's pwcheck_method)",
                  [O] = "OpenSMTPD: relay only 'from any auth'; check the "
                        "auth table"}},
        [SMTPROBE_ADV_RELAY_IN_CLEAR] =
                {"the server relays for a client that skipped STARTTLS: "
                 "require TLS before MAIL on submission ports and refuse "
                 "unauthenticated relay",
                 {[P] = "Postfix: smtpd_tls_security_level = encrypt and "
                        "smtpd_tls_auth_only = yes on the submission service",
                  [E] = "Exim: 'deny !encrypted = *' in acl_smtp_mail for "
                        "the submission port",
                  [S] = "Sendmail: define(`confAUTH_OPTIONS', `p') and relay "
                        "only for authenticated clients",
                  [O] = "OpenSMTPD: 'listen on ... port submission "
                        "tls-require auth'",
                  [X] = "Exchange: RequireTLS $true on the receive "
                        "connector",
                  [SMTPROBE_SW_SMTPROBE] = "smtprobe serve: require_tls: true "
                                           "(or a /starttls-required listener) "
                                           "and require_auth: true"}},
        [SMTPROBE_ADV_IN_SCOPE_REFUSED] =
                {"an authenticated user cannot send within its scope: check "
                 "the AUTH and TLS settings of the port and who owns which "
                 "address",
                 {[P] = "Postfix: permit_sasl_authenticated first in "
                        "smtpd_relay_restrictions of this listener, and the "
                        "user's address theirs in smtpd_sender_login_maps",
                  [E] = "Exim: 'accept authenticated = *' before the denies "
                        "in acl_smtp_rcpt, and the ownership ACL's lookup "
                        "must list the user's address",
                  [S] = "Sendmail: relay for authenticated clients "
                        "(TRUST_AUTH_MECH)",
                  [O] = "OpenSMTPD: a 'match from any auth for any action "
                        "relay' rule on this listener; 'senders' must list "
                        "the user's address",
                  [X] = "Exchange: the user needs a mailbox or Send As for "
                        "the address, and the connector "
                        "Ms-Exch-SMTP-Submit"}},
        [SMTPROBE_ADV_SPOOF] =
                {"an authenticated user may send as someone else: tie each "
                 "login to the addresses it owns",
                 {[P] = "Postfix: smtpd_sender_restrictions = "
                        "reject_sender_login_mismatch with "
                        "smtpd_sender_login_maps listing who owns which "
                        "address",
                  [E] = "Exim: in acl_smtp_mail, deny authenticated = * when "
                        "$sender_address is not one $authenticated_id owns "
                        "(a lookup of the owner's addresses)",
                  [S] = "Sendmail: it does not check sender ownership "
                        "itself: add a milter or a check_mail ruleset",
                  [O] = "OpenSMTPD: 'listen on ... auth senders <users>' "
                        "with a table mapping each login to its addresses",
                  [X] = "Exchange: remove Send As rights "
                        "(Remove-ADPermission -ExtendedRights Send-As)",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: sender_login_match: true, and each "
                          "user's owns: list"}},
        [SMTPROBE_ADV_SPOOF_CASE] =
                {"the ownership check compares addresses case-sensitively, "
                 "so another user's address in other case slips through: "
                 "compare without case",
                 {[P] = "Postfix: lookup tables fold case; a regexp: or pcre: "
                        "map needs the i flag",
                  [E] = "Exim: compare with ${lc:$sender_address} or use a "
                        "case-folding lookup",
                  [O] = "OpenSMTPD: list the address in the case senders "
                        "use, or report it"}},
        [SMTPROBE_ADV_NULL_AFTER_AUTH] =
                {"an authenticated user may send with the null sender <>, "
                 "which no ownership check covers",
                 {[P] = "Postfix: exempts <> from "
                        "reject_sender_login_mismatch; add check_sender_access "
                        "with '<> REJECT' to the submission service's "
                        "smtpd_sender_restrictions",
                  [E] = "Exim: 'deny senders = : authenticated = *' in "
                        "acl_smtp_mail on submission"}},
        [SMTPROBE_ADV_DENIED_DOMAIN] =
                {"the user may reach domains the site forbids: limit the "
                 "recipients per login",
                 {[P] = "Postfix: check_sasl_access puts the login in a "
                        "restriction class (smtpd_restriction_classes) whose "
                        "check_recipient_access rejects those domains",
                  [E] = "Exim: in acl_smtp_rcpt, 'deny authenticated = "
                        "<login> domains = <forbidden>' before the accept",
                  [S] = "Sendmail: a check_rcpt ruleset or a milter",
                  [O] = "OpenSMTPD: 'match from any auth <login> for domain "
                        "<allowed> action relay' and reject the rest for "
                        "that login",
                  [X] = "Exchange: a transport rule that rejects messages "
                        "from the user to those domains",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: the user's allowed_domains list"}},
        [SMTPROBE_ADV_NOAUTH_OWN] =
                {"the server relays for an unauthenticated client using a "
                 "local user's address: require AUTH for relaying and never "
                 "permit by sender address",
                 {[P] = "Postfix: smtpd_relay_restrictions = "
                        "permit_sasl_authenticated, reject on the submission "
                        "service",
                  [E] = "Exim: 'deny !authenticated = *' in acl_smtp_rcpt "
                        "for the submission port",
                  [S] = "Sendmail: relay only for authenticated clients "
                        "(no RELAY access entries by sender)",
                  [O] = "OpenSMTPD: 'listen on ... port submission auth' "
                        "(AUTH required) and relay only 'from any auth'",
                  [SMTPROBE_SW_SMTPROBE] = "smtprobe serve: require_auth: true "
                                           "in the submission policy"}},
        [SMTPROBE_ADV_AUTH_IN_CLEAR] =
                {"AUTH is offered before TLS: passwords may travel in clear",
                 {[P] = "Postfix: smtpd_tls_auth_only = yes",
                  [E] = "Exim: server_advertise_condition = ${if "
                        "def:tls_in_cipher} on each authenticator",
                  [S] = "Sendmail: define(`confAUTH_OPTIONS', `p')",
                  [O] = "OpenSMTPD: 'listen on ... tls-require auth' (or "
                        "smtps)",
                  [X] = "Exchange: RequireTLS $true on the receive "
                        "connector, and BasicAuthRequireTLS instead of "
                        "BasicAuth",
                  [SMTPROBE_SW_SMTPROBE] = "smtprobe serve: auth: without_tls: "
                                           "false in the policy"}},
        [SMTPROBE_ADV_NO_TLS] =
                {"no TLS: anyone on the path can read the mail and any "
                 "credentials",
                 {[P] = "Postfix: smtpd_tls_cert_file, smtpd_tls_key_file "
                        "and smtpd_tls_security_level = may (encrypt on "
                        "submission)",
                  [E] = "Exim: tls_certificate, tls_privatekey and "
                        "tls_advertise_hosts = *",
                  [S] = "Sendmail: define confSERVER_CERT, confSERVER_KEY "
                        "and confCACERT, then rebuild sendmail.cf",
                  [O] = "OpenSMTPD: a 'pki' block and 'listen on ... tls pki "
                        "<name>'",
                  [X] = "Exchange: Enable-ExchangeCertificate -Services "
                        "SMTP with a certificate for the connector's FQDN",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: a /starttls, /starttls-required or "
                          "/implicit listener"}},
        [SMTPROBE_ADV_TLS_BROKEN] =
                {"STARTTLS is advertised but every handshake fails: clients "
                 "that require TLS cannot deliver, the others fall back to "
                 "clear text; read the server's log at the time of the "
                 "handshake",
                 {[P] = "Postfix: check smtpd_tls_cert_file/key_file (one "
                        "matching pair, readable) and that the tlsmgr service "
                        "is in master.cf",
                  [E] = "Exim: check tls_certificate and tls_privatekey "
                        "(readable by the Exim user, one matching pair)",
                  [S] = "Sendmail: check confSERVER_CERT and confSERVER_KEY "
                        "(Sendmail refuses a key group- or world-readable)",
                  [O] = "OpenSMTPD: Debian 12's OpenSMTPD 6.8 fails every "
                        "server handshake with OpenSSL 3 (an internal_error "
                        "alert): upgrade to OpenSMTPD 7, or drop 'tls' from "
                        "the listen line until then",
                  [X] = "Exchange: check the SMTP certificate binding "
                        "(Get-ExchangeCertificate) and its private key"}},
        [SMTPROBE_ADV_CERTIFICATE] =
                {"install a certificate from a CA the clients trust, for the "
                 "name they connect to, with its intermediate certificates",
                 {[P] = "Postfix: smtpd_tls_chain_files (or "
                        "smtpd_tls_cert_file holding the leaf and its "
                        "intermediates), then postfix reload",
                  [E] = "Exim: tls_certificate = a file with the leaf and "
                        "its intermediates",
                  [S] = "Sendmail: confSERVER_CERT (the leaf and its "
                        "intermediates) and confCACERT",
                  [O] = "OpenSMTPD: the pki block's 'cert' file must hold "
                        "the full chain",
                  [X] = "Exchange: Import-ExchangeCertificate, then "
                        "Enable-ExchangeCertificate -Services SMTP",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: --tls-cert, --tls-key and "
                          "--tls-chain with the full chain"}},
        [SMTPROBE_ADV_CERT_RENEW] =
                {"the certificate expires soon: renew it and reload the mail "
                 "server (automatic renewal is not set up or failing)",
                 {[P] = "Postfix: postfix reload after the renewal (a deploy "
                        "hook of the ACME client)",
                  [E] = "Exim: new connections read the renewed file; no "
                        "reload needed",
                  [S] = "Sendmail: restart sendmail after the renewal",
                  [O] = "OpenSMTPD: smtpctl reload does not reread "
                        "certificates: restart smtpd",
                  [X] = "Exchange: New-ExchangeCertificate (renewal) and "
                        "Enable-ExchangeCertificate -Services SMTP"}},
        [SMTPROBE_ADV_TLS_PROTOCOLS] =
                {"offer TLS 1.2 and 1.3 only (SSLv3, TLS 1.0 and 1.1 are "
                 "broken or deprecated: RFC 8996)",
                 {[P] = "Postfix: smtpd_tls_protocols = >=TLSv1.2 and "
                        "smtpd_tls_mandatory_protocols = >=TLSv1.2",
                  [E] = "Exim (OpenSSL): openssl_options = +no_sslv3 "
                        "+no_tlsv1 +no_tlsv1_1; (GnuTLS): tls_require_ciphers "
                        "= NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
                  [S] = "Sendmail: O ServerSSLOptions=+SSL_OP_NO_SSLv3 "
                        "+SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1 in sendmail.mc "
                        "(LOCAL_CONFIG)",
                  [O] = "OpenSMTPD: 'listen on ... tls ... protocols "
                        "\"tlsv1.2,tlsv1.3\"' (smtpd.conf)",
                  [X] = "Exchange: disable TLS 1.0 and 1.1 in SCHANNEL "
                        "(HKLM\\...\\SCHANNEL\\Protocols) and enable TLS "
                        "1.2 (and 1.3 on Windows Server 2022)",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: uses OpenSSL's defaults (TLS 1.2 "
                          "and 1.3)"}},
        [SMTPROBE_ADV_TLS_CIPHERS] =
                {"offer only suites with forward secrecy and AEAD ciphers "
                 "(ECDHE or DHE with AES-GCM or ChaCha20); never NULL, "
                 "anonymous, EXPORT, RC4, DES or 3DES",
                 {[P] = "Postfix: smtpd_tls_ciphers = high, "
                        "smtpd_tls_mandatory_ciphers = high, "
                        "smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, "
                        "RC4, DES, 3DES, kRSA",
                  [E] = "Exim (OpenSSL): tls_require_ciphers = "
                        "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM",
                  [S] = "Sendmail: O CipherList=ECDHE+AESGCM:ECDHE+CHACHA20:"
                        "DHE+AESGCM in sendmail.mc (LOCAL_CONFIG)",
                  [O] = "OpenSMTPD: 'listen on ... tls ... ciphers "
                        "\"ECDHE+AESGCM:ECDHE+CHACHA20\"'",
                  [X] = "Exchange: set the cipher suite order by group "
                        "policy (SSL Cipher Suite Order) to ECDHE AES-GCM "
                        "suites and disable 3DES and RC4 in SCHANNEL",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: uses OpenSSL's default suites"}},
        [SMTPROBE_ADV_TLS_DH] =
                {"DHE needs a group of at least 2048 bits, preferably a "
                 "named one (RFC 7919 ffdhe3072), or prefer ECDHE",
                 {[P] = "Postfix: smtpd_tls_dh1024_param_file = (empty: "
                        "Postfix >= 3.7 then uses ffdhe2048; or a file from "
                        "'openssl genpkey -genparam -algorithm DH -pkeyopt "
                        "dh_param:ffdhe3072')",
                  [E] = "Exim: tls_dhparam = ffdhe3072 (or 'none' to "
                        "disable DHE)",
                  [S] = "Sendmail: define confDH_PARAMETERS as a 2048-bit or "
                        "larger file (or 'none')",
                  [O] = "OpenSMTPD: 'listen on ... tls ... dhe auto' (or "
                        "'dhe none')",
                  [X] = "Exchange: disable the DHE suites in SCHANNEL's "
                        "cipher suite order, or set "
                        "ServerMinKeyBitLength for Diffie-Hellman to 2048"}},
        [SMTPROBE_ADV_TLS_CERT_KEY] =
                {"issue a new certificate with an RSA key of at least 2048 "
                 "bits (or ECDSA P-256) and a SHA-256 signature",
                 {[P] = "Postfix: point smtpd_tls_chain_files at the new key "
                        "and certificate, then postfix reload",
                  [E] = "Exim: point tls_certificate and tls_privatekey at "
                        "the new files",
                  [S] = "Sendmail: point confSERVER_CERT and confSERVER_KEY "
                        "at the new files and restart",
                  [O] = "OpenSMTPD: point the pki block at the new files and "
                        "restart smtpd",
                  [X] = "Exchange: New-ExchangeCertificate -KeySize 2048, "
                        "then Enable-ExchangeCertificate -Services SMTP",
                  [SMTPROBE_SW_SMTPROBE] =
                          "smtprobe serve: --tls-cert and --tls-key with the "
                          "new files (its generated certificate is RSA-2048, "
                          "SHA-256)"}},
        [SMTPROBE_ADV_TLS_SESSION] =
                {"turn TLS compression off (CRIME) and allow only secure "
                 "renegotiation (RFC 5746); a current TLS library does both "
                 "by default",
                 {[P] = "Postfix: tls_ssl_options = NO_COMPRESSION "
                        "NO_RENEGOTIATION, and link Postfix with a current "
                        "OpenSSL",
                  [E] = "Exim (OpenSSL): openssl_options = +no_compression "
                        "+no_renegotiation",
                  [S] = "Sendmail: O ServerSSLOptions=+SSL_OP_NO_COMPRESSION "
                        "+SSL_OP_NO_RENEGOTIATION",
                  [O] = "OpenSMTPD: upgrade the TLS library it is linked "
                        "with (LibreSSL / OpenSSL)",
                  [X] = "Exchange: apply the current Windows updates "
                        "(SCHANNEL)"}},
        [SMTPROBE_ADV_TLS_OCSP] =
                {"staple OCSP responses so clients can check revocation "
                 "without asking the CA",
                 {[P] = "Postfix: does not staple OCSP responses (nothing "
                        "to set)",
                  [E] = "Exim: tls_ocsp_file = a response file refreshed by "
                        "a cron job ('openssl ocsp ... -respout')",
                  [S] = "Sendmail: does not staple OCSP responses",
                  [O] = "OpenSMTPD: 'pki NAME ocsp FILE' is not supported "
                        "before 7.x: upgrade",
                  [X] = "Exchange: staples automatically when the CA offers "
                        "OCSP"}},
        [SMTPROBE_ADV_BANNER_NAME] =
                {"announce the name the address's PTR gives (and that "
                 "resolves back to it) in the banner and the EHLO reply",
                 {[P] = "Postfix: myhostname = NAME in main.cf (the banner "
                        "and EHLO use it; check smtpd_banner and any "
                        "per-service -o myhostname in master.cf)",
                  [E] = "Exim: primary_hostname = NAME (or "
                        "smtp_active_hostname per listener)",
                  [S] = "Sendmail: define(`confDOMAIN_NAME', `NAME') in "
                        "the .mc file, then rebuild sendmail.cf",
                  [O] = "OpenSMTPD: 'listen on ... hostname NAME' in "
                        "smtpd.conf (the default is the system's name)",
                  [X] = "Exchange: Set-ReceiveConnector -Fqdn NAME on the "
                        "Internet-facing receive connector",
                  [SMTPROBE_SW_SMTPROBE] = "smtprobe serve: 'hostname: "
                                           "NAME' in the policy, or "
                                           "--hostname NAME"}},
};

#undef P
#undef E
#undef S
#undef O
#undef X

size_t smtprobe_advice(enum smtprobe_advice_topic t, enum smtprobe_software sw,
                       const char **what, const char **out, size_t max)
{
	size_t n = 0;

	if (what)
		*what = (unsigned)t < SMTPROBE_ADV_LAST ? topics[t].what : NULL;
	if ((unsigned)t >= SMTPROBE_ADV_LAST)
		return 0;
	const struct topic *tp = &topics[t];
	if ((unsigned)sw < SMTPROBE_SW_LAST && sw != SMTPROBE_SW_UNKNOWN) {
		/* another product's setting would only mislead: the general
		 * statement alone when this one has no line */
		if (max && tp->fix[sw])
			out[n++] = tp->fix[sw];
		return n;
	}
	for (int i = 1; i < SMTPROBE_SW_LAST && n < max; i++)
		if (tp->fix[i])
			out[n++] = tp->fix[i];
	return n;
}

void smtprobe_advice_text(enum smtprobe_advice_topic t,
                          enum smtprobe_software sw, char *out, size_t outsz)
{
	const char *what = NULL, *lines[SMTPROBE_ADVICE_MAX];
	size_t n = smtprobe_advice(t, sw, &what, lines, SMTPROBE_ADVICE_MAX);
	size_t o;

	if (!outsz)
		return;
	o = (size_t)snprintf(out, outsz, "%s", what ? what : "");
	for (size_t i = 0; i < n && o < outsz; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s%s",
		                      o ? (i ? "; " : ": ") : "", lines[i]);
}

/* The product a fix line is for ("Exim: ..."), or UNKNOWN for a
 * vendor-neutral one. */
static enum smtprobe_software vendor_of(const char *fix)
{
	static const struct {
		const char *prefix;
		enum smtprobe_software sw;
	} prefixes[] = {
	        {"Postfix:", SMTPROBE_SW_POSTFIX},
	        {"Exim:", SMTPROBE_SW_EXIM},
	        {"Sendmail:", SMTPROBE_SW_SENDMAIL},
	        {"OpenSMTPD:", SMTPROBE_SW_OPENSMTPD},
	        {"Exchange:", SMTPROBE_SW_EXCHANGE},
	        {"Microsoft 365:", SMTPROBE_SW_EXCHANGE},
	        {"M365:", SMTPROBE_SW_EXCHANGE},
	        {"IIS", SMTPROBE_SW_IIS},
	        {"qmail:", SMTPROBE_SW_QMAIL},
	        {"Gmail:", SMTPROBE_SW_GMAIL},
	        {"Google:", SMTPROBE_SW_GMAIL},
	        {"Dovecot:", SMTPROBE_SW_DOVECOT},
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(fix, prefixes[i].prefix,
		            strlen(prefixes[i].prefix)) == 0)
			return prefixes[i].sw;
	return SMTPROBE_SW_UNKNOWN;
}

size_t smtprobe_kb_fixes(const struct smtprobe_kb_entry *e,
                         enum smtprobe_software sw, const char **out,
                         size_t max)
{
	size_t n = 0;
	int known = sw != SMTPROBE_SW_UNKNOWN;

	if (!e)
		return 0;
	/* the software's own lines first, then the neutral ones; another
	 * vendor's only when the software is unknown */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0;
		     i < SMTPROBE_KB_MAX_LIST && e->fixes[i] && n < max; i++) {
			enum smtprobe_software v = vendor_of(e->fixes[i]);
			int mine = known && v == sw;
			if (pass == 0 ? mine
			              : !mine && (v == SMTPROBE_SW_UNKNOWN ||
			                          !known))
				out[n++] = e->fixes[i];
		}
	return n;
}
