"""The programs the end-to-end tests drive besides smtprobe ("peers"), each
checked once per process for what the tests need of it.

    peers.problem("swaks")   -> None, or ONE line: what is missing and what
                                to install
    peers.require("swaks")   -> when something is missing: pytest.fail(that
                                line) in a pytest run, else raise PeerMissing
    peers.needed_by(func)    -> the peers a test function drives itself (see
                                PEER_OF_GLOBAL)
    peers.problems()         -> the lines of the peers found lacking so far

    swaks     TLS (Net::SSLeay), PLAIN/LOGIN and CRAM-MD5: what the tests ask
              of it (--tls, --tlsc, --auth PLAIN|LOGIN|CRAM-MD5)
    postfix   postfix, postconf, smtp-source and the users and groups the
              package creates
    dovecot   dovecot, its LMTP server and its users
    openssl   the openssl CLI (OpenSSL 3): the harness makes its certificates
    openssl_probe  the openssl CLI as tls_truth.py's prober: s_client with
              -starttls smtp, one protocol flag at a time (-tls1 .. -tls1_3),
              -ciphersuites, -verify_hostname, -showcerts, -msg, and TLS 1.0
              suites at @SECLEVEL=0 (Debian 12's OpenSSL 3.0 has them only
              there)
    time      GNU time at /usr/bin/time: run_smtprobe measures peak RSS with it
    exim      the private Exim of scripts/install-deps (MTAS_DIR/exim4), its
              Debian-exim user, unshare
    sendmail  the private Sendmail (MTAS_DIR/sendmail: the daemon, makemap,
              the m4 files of sendmail-cf), m4, its smmta/smmsp users, unshare
    opensmtpd the private OpenSMTPD (MTAS_DIR/opensmtpd), its opensmtpd and
              opensmtpq users, unshare
    nmap      nmap with its smtp-open-relay script
    testssl   testssl.sh (Debian's testssl.sh package) for bench/tls-vs-testssl:
              --jsonfile-pretty, --nodns, --starttls, -E (suites per
              protocol), and its table of suite codes and names
              (/etc/testssl/cipher-mapping.txt)
    sslscan   sslscan for bench/tls-vs-testssl: --starttls-smtp and --xml
    promtool  promtool (Debian's prometheus package): `promtool check metrics`
              judges smtprobe's --format prometheus output
    xmllint   xmllint (libxml2-utils) with --schema: the JUnit XML of
              --format junit / --junit is validated against tests/data/junit.xsd
    prometheus  the Prometheus server (Debian's prometheus package), which
              scrapes `smtprobe exporter`
    knot      Knot DNS 3 (knotd, keymgr; kdig from knot-dnsutils) and its
              knot user: the DNS lab's authoritative server (dns_lab.py)
    nginx     nginx with TLS (nginx-light) and the www-data user: the DNS
              lab's MTA-STS policy server
    unbound_host  unbound-host (unbound-host package) with -C: the validating
              client the DNS lab's own tests check it with
    curl      the curl CLI with HTTPS: fetches the lab's MTA-STS policies

A missing peer is a broken machine, not a reason to skip: the tests that
need it fail, each with the same line, and `scripts/install-deps` (as root)
installs every one. The probes are cached, so a session probes each peer at
most once, however many tests need it.
"""
import grp
import inspect
import os
import pwd
import re
import shutil
import subprocess
import sys
import threading

INSTALL = "run scripts/install-deps or apt-get install"

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
SMTP_SOURCE = "/usr/sbin/smtp-source"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVECOT_LMTP = "/usr/lib/dovecot/lmtp"
OPENSSL = os.environ.get("OPENSSL", "openssl")
TIME = "/usr/bin/time"
# the private roots of Exim, Sendmail and OpenSMTPD (scripts/install-deps)
MTAS_DIR = os.environ.get("SMTPROBE_MTAS_DIR", "/opt/smtprobe-mtas").rstrip("/")
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
M4 = shutil.which("m4") or "/usr/bin/m4"
NMAP = shutil.which("nmap") or "/usr/bin/nmap"
NMAP_SCRIPT = "/usr/share/nmap/scripts/smtp-open-relay.nse"
TESTSSL = shutil.which("testssl") or "/usr/bin/testssl"
TESTSSL_CIPHER_MAPPING = "/etc/testssl/cipher-mapping.txt"
SSLSCAN = shutil.which("sslscan") or "/usr/bin/sslscan"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
XMLLINT = shutil.which("xmllint") or "/usr/bin/xmllint"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KEYMGR = shutil.which("keymgr") or "/usr/sbin/keymgr"
KDIG = shutil.which("kdig") or "/usr/bin/kdig"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UNBOUND_HOST = shutil.which("unbound-host") or "/usr/sbin/unbound-host"
CURL = shutil.which("curl") or "/usr/bin/curl"
INSTALL_MTAS = "run scripts/install-deps (as root)"

# The swaks features the tests use (names as `swaks --support` prints them).
SWAKS_FEATURES = ("TLS", "Basic AUTH", "AUTH CRAM-MD5")
# The Debian package of each Perl module swaks may ask for.
PERL_PACKAGES = {
    "Net::SSLeay": "libnet-ssleay-perl",
    "Authen::SASL": "libauthen-sasl-perl",
    "IO::Socket::INET6": "libio-socket-inet6-perl",
    "Authen::NTLM": "libauthen-ntlm-perl",
    "Net::DNS": "libnet-dns-perl",
    "Digest::MD5": "perl",
    "MIME::Base64": "perl",
}

# A test needs a peer when its code, or a function of its module that it
# calls, refers to one of these module globals (the test files name the
# programs they run this way).
PEER_OF_GLOBAL = {
    "SWAKS": "swaks",
    "SMTP_SOURCE": "postfix",
    "POSTCONF": "postfix",
    "POSTFIX": "postfix",
    "PROMTOOL": "promtool",
    "XMLLINT": "xmllint",
    "PROMETHEUS": "prometheus",
    "KDIG": "knot",
    "UNBOUND_HOST": "unbound_host",
    "CURL": "curl",
}


def _run(argv, timeout=30):
    """(exit status, stdout + stderr) of argv; exit None when it cannot run."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except OSError as e:
        return None, f"{argv[0]}: {e.strerror}"
    except subprocess.TimeoutExpired:
        return None, f"{argv[0]}: no answer in {timeout}s"
    return p.returncode, p.stdout.decode(errors="replace")


def _missing_paths(*paths):
    return [p for p in paths if not os.access(p, os.X_OK)]


def _missing_accounts(users=(), groups=()):
    out = []
    for u in users:
        try:
            pwd.getpwnam(u)
        except KeyError:
            out.append(f"user {u}")
    for g in groups:
        try:
            grp.getgrnam(g)
        except KeyError:
            out.append(f"group {g}")
    return out


def _check_swaks():
    if _missing_paths(SWAKS):
        return f"swaks is missing ({SWAKS}): {INSTALL} swaks"
    status, out = _run([SWAKS, "--support"])
    if status != 0:
        return f"swaks --support failed ({status}): {out.strip()[-200:]}"
    # "=== TLS supported" / "*** TLS not available: requires Net::SSLeay"
    missing, modules = [], []
    for feature in SWAKS_FEATURES:
        if f"=== {feature} supported" in out:
            continue
        m = re.search(rf"\*\*\* {re.escape(feature)} not available: requires (.+)", out)
        missing.append(feature)
        if m:
            modules += [x.strip() for x in m.group(1).split(",")]
    if not missing:
        return None
    pkgs = sorted({PERL_PACKAGES.get(m, m) for m in modules}) or ["swaks"]
    why = f" ({', '.join(modules)} missing)" if modules else ""
    return (f"swaks has no {' / '.join(missing)} support{why}: "
            f"{INSTALL} {' '.join(pkgs)}")


def _check_postfix():
    missing = (_missing_paths(POSTFIX, POSTCONF, SMTP_SOURCE)
               + _missing_accounts(("postfix",), ("postfix", "postdrop")))
    if missing:
        return f"Postfix is missing ({', '.join(missing)}): {INSTALL} postfix"
    return None


def _check_dovecot():
    missing = (_missing_paths(DOVECOT, DOVECOT_LMTP)
               + _missing_accounts(("dovecot", "dovenull")))
    if missing:
        return (f"Dovecot is missing ({', '.join(missing)}): {INSTALL} "
                f"dovecot-core dovecot-lmtpd")
    return None


def _check_openssl():
    status, out = _run([OPENSSL, "version"])
    if status != 0 or not out.startswith("OpenSSL 3"):
        return (f"the openssl CLI of OpenSSL 3 is missing ({out.strip()[:80] or status}): "
                f"{INSTALL} openssl")
    return None


S_CLIENT_OPTIONS = ("-starttls", "-tls1", "-tls1_1", "-tls1_2", "-tls1_3",
                    "-ciphersuites", "-verify_hostname", "-showcerts", "-msg", "-CAfile",
                    "-no-CAfile", "-no-CApath", "-no-CAstore", "-ign_eof")


def _check_openssl_probe():
    why = _check_openssl()
    if why:
        return why
    status, out = _run([OPENSSL, "s_client", "-help"])
    have = set(re.findall(r"^ (-\S+)", out, re.M))
    missing = [o for o in S_CLIENT_OPTIONS if o not in have]
    if missing:
        return (f"openssl s_client lacks {' '.join(missing)} (tls_truth.py probes "
                f"with them): {INSTALL} openssl")
    status, out = _run([OPENSSL, "ciphers", "-s", "-tls1", "ALL:@SECLEVEL=0"])
    if status != 0 or "ECDHE-RSA-AES128-SHA" not in out:
        return (f"the openssl CLI cannot offer TLS 1.0 suites even at @SECLEVEL=0 "
                f"({out.strip()[:80]}): tls_truth.py needs them; {INSTALL} openssl")
    return None


def _check_time():
    status, out = _run([TIME, "--version"])
    if status != 0 or "gnu time" not in out.lower():
        return (f"GNU time is missing ({TIME}; run_smtprobe measures smtprobe's "
                f"peak RSS with it): {INSTALL} time")
    return None


def _check_mta(what, files, users, groups=()):
    missing = _missing_paths(UNSHARE) + [
        p for p in files if not os.path.exists(os.path.join(MTAS_DIR, p))]
    missing += _missing_accounts(users, groups)
    if missing:
        return (f"{what} is missing ({', '.join(missing)}; private root {MTAS_DIR}): "
                f"{INSTALL_MTAS}")
    return None


def _check_exim():
    why = _check_mta("Exim", ["exim4/usr/sbin/exim4"], ("Debian-exim",), ("Debian-exim",))
    if why:
        return why
    status, out = _run([os.path.join(MTAS_DIR, "exim4/usr/sbin/exim4"), "-bV",
                        "-C", "/dev/null"])
    if "Exim version" not in out:
        return f"the private Exim does not run ({status}): {out.strip()[-200:]}: {INSTALL_MTAS}"
    return None


def _check_sendmail():
    why = _check_mta("Sendmail", ["sendmail/usr/libexec/sendmail/sendmail",
                                  "sendmail/usr/libexec/sendmail/makemap",
                                  "sendmail/usr/share/sendmail/cf/m4/cf.m4",
                                  "sendmail/etc/mail"], ("smmta", "smmsp"))
    if why:
        return why
    if _missing_paths(M4):
        return f"m4 is missing ({M4}; sendmail.cf is built with it): {INSTALL_MTAS}"
    return None


def _check_opensmtpd():
    return _check_mta("OpenSMTPD", ["opensmtpd/usr/sbin/smtpd",
                                    "opensmtpd/usr/libexec/opensmtpd"],
                      ("opensmtpd", "opensmtpq"), ("opensmtpd", "opensmtpq"))


def _check_nmap():
    if _missing_paths(NMAP) or not os.path.exists(NMAP_SCRIPT):
        return f"nmap or its smtp-open-relay script is missing: {INSTALL} nmap nmap-common"
    return None


def _check_testssl():
    status, out = _run([TESTSSL, "--help"])
    if status is None:
        return f"testssl.sh is missing ({out}): {INSTALL} testssl.sh"
    missing = [o for o in ("--jsonfile-pretty", "--nodns", "--starttls", "--cipher-per-proto")
               if o not in out]
    missing += [] if os.path.exists(TESTSSL_CIPHER_MAPPING) else [TESTSSL_CIPHER_MAPPING]
    if missing:
        return (f"testssl.sh lacks {' '.join(missing)} (bench/tls-vs-testssl needs them): "
                f"{INSTALL} testssl.sh")
    return None


def _check_sslscan():
    status, out = _run([SSLSCAN, "--help"])
    if status is None:
        return f"sslscan is missing ({out}): {INSTALL} sslscan"
    missing = [o for o in ("--starttls-smtp", "--xml=") if o not in out]
    if missing:
        return (f"sslscan lacks {' '.join(missing)} (bench/tls-vs-testssl needs them): "
                f"{INSTALL} sslscan")
    return None


# The smallest exposition promtool must pass without a word.
PROMTOOL_SAMPLE = (b"# HELP smtprobe_peer_check A check\n"
                   b"# TYPE smtprobe_peer_check gauge\n"
                   b"smtprobe_peer_check 1\n")


def _check_promtool():
    status, out = _run([PROMTOOL, "--version"])
    if status != 0 or "promtool" not in out:
        return (f"promtool is missing ({PROMTOOL}: {out.strip()[:80] or status}; it "
                f"checks --format prometheus): {INSTALL} prometheus")
    try:
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=PROMTOOL_SAMPLE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"promtool check metrics does not run ({e}): {INSTALL} prometheus"
    if p.returncode != 0:
        return (f"promtool check metrics refuses a valid exposition ({p.returncode}: "
                f"{p.stdout.decode(errors='replace').strip()[:120]}): {INSTALL} prometheus")
    return None


def _check_xmllint():
    status, out = _run([XMLLINT, "--version"])
    if status is None or "libxml" not in out:
        return (f"xmllint is missing ({XMLLINT}: {out.strip()[:80]}; it validates "
                f"the JUnit XML): {INSTALL} libxml2-utils")
    status, out = _run([XMLLINT])
    if "--schema" not in out:
        return (f"xmllint has no --schema (WXS validation of the JUnit XML): "
                f"{INSTALL} libxml2-utils")
    return None


def _check_prometheus():
    status, out = _run([PROMETHEUS, "--version"])
    if status != 0 or "prometheus, version" not in out:
        return (f"the Prometheus server is missing ({PROMETHEUS}: "
                f"{out.strip()[:80] or status}; it scrapes smtprobe exporter): "
                f"{INSTALL} prometheus")
    return None


def _check_knot():
    missing = _missing_paths(KNOTD, KEYMGR, KDIG)
    if os.geteuid() == 0:
        missing += _missing_accounts(("knot",), ("knot",))
    if missing:
        return (f"Knot DNS is missing ({', '.join(missing)}; the DNS lab serves its "
                f"zones with it): {INSTALL} knot knot-dnsutils")
    status, out = _run([KNOTD, "--version"])
    if status != 0 or "version 3." not in out:
        return f"knotd is not Knot DNS 3 ({out.strip()[:80]}): {INSTALL} knot"
    return None


def _check_nginx():
    status, out = _run([NGINX, "-V"])
    if status != 0 or "http_ssl_module" not in out:
        return (f"nginx with TLS is missing ({NGINX}: {out.strip()[:80] or status}; "
                f"the DNS lab serves MTA-STS policies with it): {INSTALL} nginx-light")
    if os.geteuid() == 0 and _missing_accounts(("www-data",)):
        return f"the www-data user is missing (nginx runs as it): {INSTALL} nginx-light"
    return None


def _check_unbound_host():
    status, out = _run([UNBOUND_HOST, "-h"])
    if status is None or "-C config" not in out:
        return (f"unbound-host is missing ({UNBOUND_HOST}: {out.strip()[:80]}; it "
                f"validates the DNS lab independently): {INSTALL} unbound-host")
    return None


def _check_curl():
    status, out = _run([CURL, "--version"])
    if status != 0 or not re.search(r"^Protocols:.* https", out, re.M):
        return (f"the curl CLI with HTTPS is missing ({CURL}: {out.strip()[:80]}; it "
                f"fetches the DNS lab's MTA-STS policies): {INSTALL} curl")
    return None


def _check_log_traffic():
    """What tests/harness/log_traffic.py needs besides the servers: a
    syslog daemon of its own (Sendmail logs only through syslog), Cyrus
    SASL's PLAIN/LOGIN plugins (Sendmail's AUTH) and Perl's DB_File (its
    sasldb)."""
    import glob
    if not os.path.exists("/usr/sbin/rsyslogd"):
        return ("rsyslogd is missing (Sendmail logs only through syslog; the "
                f"log samples' harness runs its own): {INSTALL} rsyslog")
    if not glob.glob("/usr/lib/*/sasl2/libplain.so*"):
        return ("Cyrus SASL's PLAIN plugin is missing (the log samples' Sendmail "
                f"offers AUTH PLAIN/LOGIN): {INSTALL} libsasl2-modules")
    status, out = _run(["perl", "-MDB_File", "-e", "1"])
    if status != 0:
        return (f"Perl's DB_File is missing ({out.strip()[:80]}; it writes the "
                f"log samples' Sendmail sasldb): {INSTALL} perl")
    return None


CHECKS = {
    "log_traffic": _check_log_traffic,
    "exim": _check_exim,
    "sendmail": _check_sendmail,
    "opensmtpd": _check_opensmtpd,
    "nmap": _check_nmap,
    "testssl": _check_testssl,
    "sslscan": _check_sslscan,
    "swaks": _check_swaks,
    "postfix": _check_postfix,
    "dovecot": _check_dovecot,
    "openssl": _check_openssl,
    "openssl_probe": _check_openssl_probe,
    "time": _check_time,
    "promtool": _check_promtool,
    "xmllint": _check_xmllint,
    "prometheus": _check_prometheus,
    "knot": _check_knot,
    "nginx": _check_nginx,
    "unbound_host": _check_unbound_host,
    "curl": _check_curl,
}


_lock = threading.Lock()
_problems = {}


def problem(name):
    """None when peer `name` can do what the tests need, else one line."""
    with _lock:
        if name not in _problems:
            _problems[name] = CHECKS[name]()
        return _problems[name]


def problems():
    """The lines of the peers probed so far that lack something."""
    with _lock:
        return [why for why in _problems.values() if why]


class PeerMissing(RuntimeError):
    pass


def require(name):
    """Fail the calling test (or fixture) with problem(name), if any; outside
    pytest (the demo, the benches) raise PeerMissing with that line."""
    why = problem(name)
    if why:
        if "pytest" in sys.modules:
            sys.modules["pytest"].fail(why, pytrace=False)
        raise PeerMissing(why)


def needed_by(func):
    """The peers `func` drives: PEER_OF_GLOBAL names it refers to, directly,
    in nested functions, or through functions and classes of its module."""
    module = getattr(func, "__module__", None)
    names, seen, todo = set(), set(), [func]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isclass(obj):
            todo += [f for f in vars(obj).values() if inspect.isfunction(f)]
            continue
        code = getattr(obj, "__code__", None)
        if code is None:
            continue
        codes = [code]
        while codes:
            c = codes.pop()
            codes += [k for k in c.co_consts if inspect.iscode(k)]
            for n in c.co_names:
                names.add(n)
                g = obj.__globals__.get(n)
                if ((inspect.isfunction(g) or inspect.isclass(g))
                        and g.__module__ == module):
                    todo.append(g)
    return sorted({PEER_OF_GLOBAL[n] for n in names if n in PEER_OF_GLOBAL})
