"""Postfix smtpd listeners with known TLS postures, for `smtprobe tls` (issue 12).

    with TlsPostures(workdir) as tp:
        tp.host                      -> "127.0.0.1"
        tp.ports["modern"]           (every name of NAMES; also tp.modern, ...)
        tp.address("weak_suites")    -> "127.0.0.1:PORT"
        tp.postures["dhe1024"]       -> Posture: .name, .text, .port, .implicit,
                                        .starttls, .expect (Expect: the facts the
                                        listener is built to show)
        tp.ca_file                   the private root CA (PEM): the trust anchor
        tp.ca_dir                    the same as an OpenSSL hashed directory
        tp.hostname                  "mx.example.test" (the name to verify)
        tp.certs[name]               the certs.Leaf each listener serves
        tp.root, tp.intermediate     the certs.CA objects
        tp.postfix_log, tp.read_postfix_log()
    posture.expect.mismatches(truth) -> [] when tls_truth.measure() agrees

Postures (each is `modern` plus one deviation, as far as OpenSSL allows):

  modern           TLSv1.2 + TLSv1.3; TLS 1.2 suites ECDHE-RSA with AES-GCM or
                   ChaCha20-Poly1305 only; TLS 1.3 OpenSSL's default three; an
                   RSA-2048 SHA-256 leaf for mx.example.test (SAN and CN) from
                   the private root via an intermediate, sent complete (leaf +
                   intermediate), valid for a year
  legacy_protocols TLSv1 and TLSv1.1 as well; as TLS < 1.2 has no AEAD suite,
                   ECDHE-RSA-AES{128,256}-SHA (CBC) are added - in every
                   protocol, OpenSSL's cipher list is not per protocol
  weak_suites      TLSv1.2 only (TLS 1.3 would bring AEAD suites), CBC suites
                   only, RSA key exchange without forward secrecy (AES128-SHA,
                   AES256-SHA, AES128-SHA256, AES256-SHA256) beside ECDHE-RSA
                   CBC. No 3DES, RC4 or EXPORT: Debian's OpenSSL 3.0 has none
                   (`openssl ciphers 3DES` -> "no cipher match"), neither for
                   Postfix nor for s_client; badserver.py's crafted ServerHello
                   stands in for them
  dhe1024          TLS 1.2 suites DHE-RSA AEAD only, with a 1024-bit DH group
                   generated at start (`openssl dhparam 1024`, a custom group)
                   in smtpd_tls_dh1024_param_file; TLS 1.3 as modern
  dhe_ffdhe2048    the same with RFC 7919 ffdhe2048 in that file
  dhe_default      the same with smtpd_tls_dh1024_param_file empty: Postfix
                   3.7 then asks OpenSSL 3.0 for automatic DH parameters, which
                   are RFC 3526's 2048-bit MODP group ("modp_2048"), *not*
                   ffdhe2048 (measured: the prime in the ServerKeyExchange)
  weak_cert        an RSA-1024 leaf signed with SHA-1 (sha1WithRSAEncryption)
  expiring         a leaf valid since 355 days, expiring 10 days after start
  broken_chain     the leaf alone (intermediate not sent), named only
                   other.example (CN and SAN): "unable to get local issuer
                   certificate" and "hostname mismatch"
  implicit         modern over implicit TLS (smtpd_tls_wrappermode = yes)
  no_starttls      plain SMTP, STARTTLS not offered (security level none)

Postfix and OpenSSL settings, and their pitfalls (Postfix 3.7.11, OpenSSL
3.0 of Debian 12):
- Postfix sets OpenSSL security level 0 on smtpd's SSL_CTX itself
  (libpostfix-tls calls SSL_CTX_set_security_level; only its *client* raises it
  to 1, and only when it must verify a peer). So with no setting at all
  smtpd negotiates TLS 1.0/1.1, loads an RSA-1024 SHA-1 leaf and uses a
  1024-bit DH group, although Debian's default level is 2: neither
  `@SECLEVEL=0` in a cipher list nor tls_config_file/tls_config_name with an
  OpenSSL `system_default` section is needed on this server (both were tried;
  neither changes anything measured here). It is the *client* that needs
  level 0: s_client at Debian's default level 2 refuses TLS 1.0/1.1 (their
  MD5+SHA-1 handshake signature) and reports "EE certificate key too weak" /
  "CA signature digest algorithm too weak" for weak_cert.
- Opportunistic listeners ("may") read smtpd_tls_protocols and
  smtpd_tls_ciphers; "encrypt" *and wrappermode* read
  smtpd_tls_mandatory_protocols and smtpd_tls_mandatory_ciphers instead. An
  smtps listener configured with the first pair only silently keeps the
  mandatory defaults (measured: TLS 1.0 to 1.3 and 56 TLS 1.2 suites
  including ADH/AECDH). Every listener here sets both pairs.
- Postfix's stock cipher lists begin "aNULL:-aNULL:..." and smtpd *offers*
  anonymous suites (ADH-*, AECDH-*) with them: every list here says !aNULL.
- The suite list of a listener: smtpd_tls_ciphers = high plus
  `-o tls_high_cipherlist=...` (every tls_* parameter can be overridden per
  master.cf service). TLS 1.3 suites are not set by Postfix 3.7 (OpenSSL's
  three defaults).
- smtpd_tls_dh1024_param_file takes any size (1024 here, despite the name);
  PEM "DH PARAMETERS" from `openssl dhparam` or `openssl genpkey -genparam
  -pkeyopt group:ffdhe2048` both load. Empty = OpenSSL's auto DH (modp_2048
  for an RSA-2048 key).
- smtpd_tls_cert_file may hold the leaf followed by its intermediates; the
  file holds the leaf alone for broken_chain.
- Validity windows come from `openssl ca -startdate/-enddate` (certs.py,
  asn1_time): no faketime.

Why a Postfix instance of its own rather than more listeners in
mailservers.py's: the postures need per-listener certificates, cipher lists
and DH files that must never leak into the listeners the rest of the suite
relies on, and no Dovecot; a separate instance keeps both simple, and a
session that runs only the TLS tests does not start the mail servers. It
reuses mailservers.py's machinery: free ports, the traversable work
directory, the log tail in errors, banner reading, the stale-instance reaper
and the leftover killer (same layout: WORKDIR/postfix is the config
directory, so reap_stale() finds its processes by their MAIL_CONFIG).
"""
import concurrent.futures
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import certs
import mailservers
import peers
from mailservers import MailServerError, free_ports, _tail, _write, \
    _check_traversable

POSTFIX = peers.POSTFIX
HOSTNAME = "mx.example.test"
WRONG_NAME = "other.example"
START_TIMEOUT = 30.0
INTERMEDIATE_NAME = "smtprobe TLS Postures Intermediate"
ROOT_NAME = "smtprobe TLS Postures Root CA"

ALL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
TLS13_DEFAULT = sorted(["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                        "TLS_AES_128_GCM_SHA256"])

# The TLS <= 1.2 suite lists of the postures (OpenSSL cipher strings).
MODERN_CIPHERS = "ECDHE+aRSA+AESGCM:ECDHE+aRSA+CHACHA20:!aNULL"
LEGACY_CIPHERS = "ECDHE+aRSA+AESGCM:ECDHE+aRSA+CHACHA20:ECDHE+aRSA+AES+SHA1:!aNULL"
WEAK_CIPHERS = "kRSA+AES:ECDHE+aRSA+AES:!AESGCM:!AESCCM:!aNULL:!eNULL"
DHE_CIPHERS = "kDHE+aRSA+AESGCM:kDHE+aRSA+CHACHA20:!aNULL"

# What those lists give (OpenSSL's names, sorted)
MODERN_TLS12 = sorted(["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                       "ECDHE-RSA-CHACHA20-POLY1305"])
ECDHE_CBC_SHA1 = ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA"]
LEGACY_TLS12 = sorted(MODERN_TLS12 + ECDHE_CBC_SHA1)
DHE_TLS12 = sorted(["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384",
                    "DHE-RSA-CHACHA20-POLY1305"])
WEAK_TLS12 = sorted(["AES128-SHA", "AES256-SHA", "AES128-SHA256", "AES256-SHA256",
                     "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA",
                     "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384"])
X25519 = "X25519, 253 bits"


@dataclass
class Expect:
    """What a posture is built to show, in tls_truth.Truth's terms."""
    starttls: bool = True          # STARTTLS offered (False: plain only)
    implicit: bool = False         # TLS from the first byte (smtps)
    # "SSLv3" .. "TLSv1.3" -> offered; SSLv3 is never offered (and cannot be
    # tested with Debian's OpenSSL: the truth says None)
    protocols: dict = field(default_factory=dict)
    suites: dict = field(default_factory=dict)      # protocol -> sorted names
    temp_keys: dict = field(default_factory=dict)   # protocol -> temp key
    dh_bits: int = None            # DHE prime size; None: no DHE suite
    dh_group: str = None           # "custom", "ffdhe2048", "modp_2048"
    key_bits: int = 2048           # leaf RSA key size
    sig_alg: str = "sha256WithRSAEncryption"  # leaf signature algorithm
    chain_len: int = 2             # certificates sent
    chain_complete: bool = True    # ends at a certificate the root issued
    chain_missing_cn: str = None   # CN of the issuer not sent
    subject_cn: str = HOSTNAME
    sans: tuple = (f"DNS:{HOSTNAME}",)
    verify_ok: bool = True         # chain verifies against ca_file
    verify_errors: tuple = ()      # s_client's, at security level 0
    default_verify_errors: tuple = ()  # at Debian's default level (2)
    hostname_ok: bool = True       # -verify_hostname mx.example.test
    days_left: tuple = (364, 366)  # leaf's notAfter - now, in days (min, max)

    def mismatches(self, t):
        """[] when Truth t shows these facts; else one line per difference."""
        got = {
            "starttls": t.starttls_offered if not self.implicit else self.starttls,
            "handshake": t.handshake,
            "protocols": {p: v for p, v in t.protocols.items() if p != "SSLv3"},
            "SSLv3 (untestable)": t.protocols.get("SSLv3"),
            "suites": t.suites, "temp_keys": t.temp_keys,
            "dh_bits": t.dh_bits, "dh_group": t.dh_group,
            "chain_len": t.chain_len,
        }
        want = {
            "starttls": self.starttls,
            "handshake": self.starttls or self.implicit,
            "protocols": {p: v for p, v in self.protocols.items() if p != "SSLv3"},
            "SSLv3 (untestable)": None,
            "suites": self.suites, "temp_keys": self.temp_keys,
            "dh_bits": self.dh_bits, "dh_group": self.dh_group,
            "chain_len": self.chain_len,
        }
        if self.chain_len:
            leaf = t.leaf
            got.update(
                chain_complete=t.chain_complete,
                chain_missing_cn=(t.chain_missing.split("CN=")[-1].split(",")[0]
                                  if t.chain_missing else None),
                subject_cn=leaf and leaf.subject_cn, sans=leaf and tuple(leaf.sans),
                key_bits=leaf and leaf.key_bits, sig_alg=leaf and leaf.sig_alg,
                verify_ok=t.verify_ok, verify_errors=tuple(t.verify_errors),
                default_verify_errors=tuple(t.default_verify_errors),
                hostname_ok=t.hostname_ok,
                days_left_in_range=bool(leaf) and
                self.days_left[0] <= leaf.days_left() <= self.days_left[1])
            want.update(
                chain_complete=self.chain_complete, chain_missing_cn=self.chain_missing_cn,
                subject_cn=self.subject_cn, sans=tuple(self.sans),
                key_bits=self.key_bits, sig_alg=self.sig_alg,
                verify_ok=self.verify_ok, verify_errors=tuple(self.verify_errors),
                default_verify_errors=tuple(self.default_verify_errors),
                hostname_ok=self.hostname_ok, days_left_in_range=True)
        out = [f"{k}: want {want[k]!r}, measured {got[k]!r}"
               for k in want if want[k] != got[k]]
        if t.failures:
            out.append(f"probes that could not run: {t.failures}")
        return out


@dataclass
class Posture:
    name: str
    text: str
    expect: Expect
    port: int = None

    @property
    def implicit(self):
        return self.expect.implicit

    @property
    def starttls(self):
        return self.expect.starttls


def _protocols(*on):
    return {p: p in on for p in ALL_PROTOCOLS}


def _modern(**kw):
    e = dict(protocols=_protocols("TLSv1.2", "TLSv1.3"),
             suites={"TLSv1.2": MODERN_TLS12, "TLSv1.3": TLS13_DEFAULT},
             temp_keys={"TLSv1.2": X25519, "TLSv1.3": X25519})
    e.update(kw)
    return Expect(**e)


def _dhe(bits, group):
    return _modern(suites={"TLSv1.2": DHE_TLS12, "TLSv1.3": TLS13_DEFAULT},
                   temp_keys={"TLSv1.2": f"DH, {bits} bits", "TLSv1.3": X25519},
                   dh_bits=bits, dh_group=group)


# name -> (text, expected facts); the order is the order of the listeners
POSTURES = {
    "modern": ("TLS 1.2 + 1.3, ECDHE + AEAD only, good chain", _modern()),
    "legacy_protocols": (
        "TLS 1.0 and 1.1 enabled as well",
        _modern(protocols=_protocols("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
                suites={"TLSv1": ECDHE_CBC_SHA1, "TLSv1.1": ECDHE_CBC_SHA1,
                        "TLSv1.2": LEGACY_TLS12, "TLSv1.3": TLS13_DEFAULT},
                temp_keys={p: X25519 for p in ("TLSv1", "TLSv1.1", "TLSv1.2",
                                               "TLSv1.3")})),
    "weak_suites": (
        "TLS 1.2 only, CBC-only suites, RSA key exchange offered",
        _modern(protocols=_protocols("TLSv1.2"), suites={"TLSv1.2": WEAK_TLS12},
                temp_keys={"TLSv1.2": X25519})),
    "dhe1024": ("DHE-RSA suites with a custom 1024-bit DH group", _dhe(1024, "custom")),
    "dhe_ffdhe2048": ("DHE-RSA suites with RFC 7919 ffdhe2048", _dhe(2048, "ffdhe2048")),
    "dhe_default": ("DHE-RSA suites with Postfix's default DH parameters",
                    _dhe(2048, "modp_2048")),
    "weak_cert": (
        "RSA-1024 leaf signed with SHA-1",
        _modern(key_bits=1024, sig_alg="sha1WithRSAEncryption",
                default_verify_errors=("66:EE certificate key too weak",
                                       "68:CA signature digest algorithm too weak"))),
    "expiring": ("leaf expiring in 10 days", _modern(days_left=(9, 10))),
    "broken_chain": (
        "intermediate not sent, leaf named other.example only",
        _modern(chain_len=1, chain_complete=False, chain_missing_cn=INTERMEDIATE_NAME,
                subject_cn=WRONG_NAME, sans=(f"DNS:{WRONG_NAME}",), verify_ok=False,
                verify_errors=("20:unable to get local issuer certificate",
                               "62:hostname mismatch",
                               "21:unable to verify the first certificate"),
                default_verify_errors=("20:unable to get local issuer certificate",
                                       "62:hostname mismatch",
                                       "21:unable to verify the first certificate"),
                hostname_ok=False)),
    "implicit": ("implicit TLS (smtps) with the modern posture", _modern(implicit=True)),
    "no_starttls": (
        "plain SMTP, STARTTLS not offered",
        Expect(starttls=False, protocols=_protocols(), chain_len=0)),
}
NAMES = tuple(POSTURES)


def reap_stale(parent, prefix):
    """Same as mailservers.reap_stale (the layout is the same)."""
    mailservers.reap_stale(parent, prefix)


class TlsPostures:
    host = "127.0.0.1"
    hostname = HOSTNAME

    def __init__(self, workdir):
        self.workdir = os.path.abspath(workdir)
        self.postfix_dir = os.path.join(self.workdir, "postfix")
        self.queue_dir = os.path.join(self.workdir, "spool")
        self.data_dir = os.path.join(self.workdir, "postfix-data")
        self.cert_dir = os.path.join(self.workdir, "certs")
        self.postfix_log = os.path.join(self.workdir, "postfix.log")
        self.dh1024_file = os.path.join(self.cert_dir, "dh1024.pem")
        self.ffdhe2048_file = os.path.join(self.cert_dir, "ffdhe2048.pem")
        self.ports = {}
        self.postures = {}
        self.certs = {}
        self.ca_file = self.ca_dir = self.intermediate = self.root = None
        self._postfix = None
        self._logs = []
        self.instance_name = f"smtprobe-tls-{os.getpid()}-{id(self) & 0xffffff:x}"

    # ------------------------------------------------------------- attributes
    def __getattr__(self, name):
        if name in NAMES and name in self.__dict__.get("ports", {}):
            return self.ports[name]
        raise AttributeError(name)

    def address(self, name):
        return f"{self.host}:{self.ports[name]}"

    def posture(self, name):
        return self.postures[name]

    def read_postfix_log(self):
        with open(self.postfix_log, errors="replace") as f:
            return f.read()

    # ------------------------------------------------------------- lifecycle
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        for peer in ("postfix", "openssl"):
            why = peers.problem(peer)
            if why:
                raise MailServerError(f"cannot run the TLS posture listeners: {why}")
        if os.geteuid() != 0:
            raise MailServerError("the TLS posture listeners must be started as root")
        os.makedirs(self.workdir, exist_ok=True)
        _check_traversable(self.workdir)
        # Postfix's master needs 2 s to start (postfix-script's checks) and
        # reads no certificate: the certificates are made meanwhile, in a
        # thread, and put where master.cf says before any smtpd starts.
        made = concurrent.futures.ThreadPoolExecutor(1)
        certs_done = made.submit(self._make_certs)
        try:
            for attempt in range(3):
                _write(os.path.join(self.workdir, mailservers.OWNER_FILE),
                       f"{os.getpid()} {self.instance_name}\n")
                self.ports = dict(zip(NAMES, free_ports(len(NAMES))))
                self.postures = {n: Posture(n, POSTURES[n][0], POSTURES[n][1],
                                            self.ports[n]) for n in NAMES}
                self._write_config()
                try:
                    self._start_postfix()
                    certs_done.result()
                    self._wait_ready()
                    return self
                except MailServerError as e:
                    self.stop()
                    if attempt == 2 or "Address already in use" not in str(e):
                        raise
                except BaseException:
                    self.stop()
                    raise
        finally:
            made.shutdown(wait=True)
        return self

    def stop(self):
        if self._postfix is not None:
            subprocess.run([POSTFIX, "-c", self.postfix_dir, "stop"],
                           capture_output=True, timeout=30)
            try:
                self._postfix.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._postfix.kill()   # the start-fg wrapper; leftovers below
                self._postfix.wait(timeout=5)
            self._postfix = None
        self._kill_leftovers()
        for f in self._logs:
            f.close()
        self._logs = []
        try:
            os.unlink(os.path.join(self.workdir, mailservers.OWNER_FILE))
        except OSError:
            pass

    def _kill_leftovers(self):
        # MailServers' reaper kills by this instance's MAIL_CONFIG only
        ms = mailservers.MailServers(self.workdir)
        ms.instance_name = self.instance_name
        ms._kill_leftovers()

    # ------------------------------------------------------------- internals
    def _make_certs(self):
        d = self.cert_dir
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        # the 1024-bit DH group takes 0.2-3 s of safe-prime search: meanwhile
        # the keys and certificates are made
        dh = subprocess.Popen([peers.OPENSSL, "dhparam", "-out", self.dh1024_file,
                               "1024"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        try:
            certs._run(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                        "group:ffdhe2048", "-out", self.ffdhe2048_file])
            root = certs.make_ca(d, ROOT_NAME)
            inter = certs.make_ca(d, INTERMEDIATE_NAME, issuer=root)
            self.root, self.intermediate = root, inter
            self.ca_file = root.cert
            # a hashed directory too (-CApath / --tls-ca-path)
            self.ca_dir = os.path.join(d, "ca-dir")
            os.makedirs(self.ca_dir, exist_ok=True)
            with open(root.cert) as f:
                _write(os.path.join(self.ca_dir, "root.pem"), f.read())
            subprocess.run([peers.OPENSSL, "rehash", self.ca_dir], check=True,
                           capture_output=True)
            good = dict(sans=[f"DNS:{HOSTNAME}"], not_before=certs.asn1_time(days=-1),
                        not_after=certs.asn1_time(days=365))
            modern = certs.make_leaf(d, inter, HOSTNAME, **good)
            weak = certs.make_leaf(d, inter, HOSTNAME, key_bits=1024, md="sha1", **good)
            expiring = certs.make_leaf(d, inter, HOSTNAME, sans=[f"DNS:{HOSTNAME}"],
                                       not_before=certs.asn1_time(days=-355),
                                       not_after=certs.asn1_time(days=10))
            wrong = certs.make_leaf(d, inter, WRONG_NAME, sans=[f"DNS:{WRONG_NAME}"],
                                    not_before=certs.asn1_time(days=-1),
                                    not_after=certs.asn1_time(days=365))
        finally:
            _, err = dh.communicate(timeout=120)
        if dh.returncode != 0:
            raise MailServerError(f"openssl dhparam 1024 failed: {err.decode()[-300:]}")
        # what each listener serves: (certificate file sent, key file)
        # smtpd_tls_cert_file may hold the chain after the leaf
        self.certs = {n: modern for n in NAMES}
        self.certs.update(weak_cert=weak, expiring=expiring, broken_chain=wrong)
        for name, leaf in self.certs.items():
            cert, key = self._served(name)
            # broken_chain: the leaf alone
            shutil.copyfile(leaf.cert if name == "broken_chain" else leaf.chain, cert)
            shutil.copyfile(leaf.key, key)
        for path in os.listdir(d):
            if path.endswith(".key"):
                os.chmod(os.path.join(d, path), 0o600)

    def _served(self, name):
        """(certificate file, key file) of a listener, named before they exist."""
        return (os.path.join(self.cert_dir, f"served-{name}.pem"),
                os.path.join(self.cert_dir, f"served-{name}.key"))

    def _listener_options(self, name):
        """The master.cf -o overrides of a listener."""
        cert, key = self._served(name)
        protocols, ciphers = ">=TLSv1.2", MODERN_CIPHERS
        o = {"syslog_name": f"postfix/{name}",
             "smtpd_tls_security_level": "may",
             "smtpd_tls_cert_file": cert,
             "smtpd_tls_key_file": key}
        if name == "legacy_protocols":
            protocols, ciphers = ">=TLSv1", LEGACY_CIPHERS
        elif name == "weak_suites":
            protocols, ciphers = "TLSv1.2", WEAK_CIPHERS
        elif name == "dhe1024":
            ciphers = DHE_CIPHERS
            o["smtpd_tls_dh1024_param_file"] = self.dh1024_file
        elif name == "dhe_ffdhe2048":
            ciphers = DHE_CIPHERS
            o["smtpd_tls_dh1024_param_file"] = self.ffdhe2048_file
        elif name == "dhe_default":
            ciphers = DHE_CIPHERS
        elif name == "implicit":
            o["smtpd_tls_wrappermode"] = "yes"
        elif name == "no_starttls":
            return {"syslog_name": f"postfix/{name}", "smtpd_tls_security_level": "none"}
        # "may" reads the first pair, "encrypt" and wrappermode the mandatory one
        o.update(smtpd_tls_protocols=protocols, smtpd_tls_mandatory_protocols=protocols,
                 smtpd_tls_ciphers="high", smtpd_tls_mandatory_ciphers="high",
                 tls_high_cipherlist=ciphers)
        return o

    def _write_config(self):
        os.makedirs(self.postfix_dir, exist_ok=True)
        for d in (self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data_dir, pf.pw_uid, pf.pw_gid)
        os.chmod(self.data_dir, 0o700)
        os.chmod(self.queue_dir, 0o755)
        main = f"""\
# written by tests/harness/tls_postures.py
compatibility_level = 3.6
config_directory = {self.postfix_dir}
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = {HOSTNAME}
mydomain = example.test
{mailservers.postfix_common_cf()}smtpd_client_connection_count_limit = 0
smtpd_banner = $myhostname ESMTP smtprobe-tls-postures
smtpd_tls_loglevel = 1
tls_random_source = dev:/dev/urandom
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
"""
        _write(os.path.join(self.postfix_dir, "main.cf"), main)
        services = []
        for name in NAMES:
            lines = [f"127.0.0.1:{self.ports[name]} inet n - n - - smtpd"]
            for k, v in self._listener_options(name).items():
                lines.append(f"  -o {k}={v}")
            services.append("\n".join(lines) + "\n")
        master = "# written by tests/harness/tls_postures.py\n" + "".join(services) + """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
        _write(os.path.join(self.postfix_dir, "master.cf"), master)

    def _start_postfix(self):
        log = open(self.postfix_log, "ab")
        self._logs.append(log)
        env = dict(os.environ, MAIL_CONFIG=self.postfix_dir)
        self._postfix = subprocess.Popen(
            [POSTFIX, "-c", self.postfix_dir, "start-fg"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def _failure(self, why):
        return MailServerError(
            f"TLS posture listeners did not start: {why}\n"
            f"--- {self.postfix_log} (tail) ---\n{_tail(self.postfix_log)}")

    def _wait_ready(self):
        """Every listener answers 220 (implicit: after a TLS handshake) and
        every STARTTLS listener answers 220 to STARTTLS (an smtpd that cannot
        load its certificate or DH file still greets, but then offers no
        STARTTLS or answers 454). The listeners are asked concurrently."""
        deadline = time.monotonic() + START_TIMEOUT

        def ready(name):
            port, last = self.ports[name], None
            while True:
                if self._postfix.poll() is not None:
                    return f"postfix exited with status {self._postfix.returncode}"
                try:
                    banner = mailservers._read_banner(self.host, port,
                                                      name == "implicit", 2.0)
                    if banner.startswith(b"220"):
                        break
                    last = repr(banner)
                except OSError as e:
                    last = repr(e)
                if time.monotonic() > deadline:
                    return (f"{name} (port {port}): no 220 banner after "
                            f"{START_TIMEOUT:.0f}s: {last}")
                time.sleep(0.05)
            if name in ("implicit", "no_starttls"):
                return None
            try:
                answer = _starttls_answer(self.host, port)
            except OSError as e:
                answer = repr(e)
            if not answer.startswith("220"):
                return f"{name} (port {port}) answers STARTTLS with {answer!r}"
            return None

        with concurrent.futures.ThreadPoolExecutor(len(self.ports)) as pool:
            problems = [p for p in pool.map(ready, list(self.ports)) if p]
        if problems:
            raise self._failure("; ".join(problems))
        log = self.read_postfix_log()
        for bad in ("cannot load", "TLS library problem", "fatal:", "panic:"):
            if bad in log:
                raise self._failure(f"{bad!r} in the Postfix log")


def _starttls_answer(host, port, timeout=5.0):
    """The reply to STARTTLS after EHLO (the connection is then closed)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline().decode(errors="replace")
                if len(line) < 4 or line[3] != "-":
                    return line.strip()
        reply()
        s.sendall(b"EHLO ready.example.test\r\n")
        reply()
        s.sendall(b"STARTTLS\r\n")
        return reply()
