"""The truth about a TLS listener, as `openssl s_client` sees it.

    t = measure(host, port, implicit=False, ca_file=CA, hostname="mx.example.test")
    t.starttls_offered   EHLO lists STARTTLS (None for an implicit-TLS port)
    t.handshake          a default s_client handshake completed
    t.protocols          {"SSLv3": None, "TLSv1": bool, "TLSv1.1": bool,
                          "TLSv1.2": bool, "TLSv1.3": bool}; None = cannot be
                          tested with this OpenSSL (Debian's has no SSLv3)
    t.suites             {"TLSv1.2": [OpenSSL names, sorted], ...} for every
                          accepted protocol
    t.temp_keys          {"TLSv1.2": "X25519, 253 bits", ...}: the key exchange
                          of each protocol's all-suites handshake
    t.dh_bits            the DHE prime's size ("Server Temp Key: DH, N bits")
                          when a DHE suite is accepted, else None
    t.dh_group           "modp_2048", "ffdhe2048", ... when the prime is a
                          well-known group, "custom" when not, None without DHE
    t.certs              [Cert] as sent (-showcerts), leaf first
    t.chain_len, t.chain_complete (the last certificate sent is issued by a
                          trust anchor of ca_file or is one), t.chain_missing
                          (the issuer name not sent, else None)
    t.verify_ok          the chain verifies against ca_file (any security level)
    t.verify_errors      ["20:unable to get local issuer certificate", ...]
                          (s_client -verify_hostname at security level 0)
    t.hostname_ok        no "hostname mismatch" for `hostname`
    t.default_verify_errors  the same with s_client's default security level
                          (Debian: 2), e.g. "66:EE certificate key too weak"
    t.probes, t.elapsed  how many s_client runs, how long (s)
    t.as_dict()

How: one s_client per question, each with one protocol flag (-tls1, -tls1_1,
-tls1_2, -tls1_3) and `-cipher 'LIST:@SECLEVEL=0'` (Debian 12's OpenSSL 3.0
negotiates TLS 1.0/1.1, SHA-1, small keys and DH groups only at level 0),
`-starttls smtp` unless the port is implicit TLS:
  1. protocols: each protocol with every suite OpenSSL has for it
     (`openssl ciphers -s -PROTO 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'`; TLS 1.3:
     the five RFC 8446 suites in -ciphersuites);
  2. suites, per accepted protocol: first one probe per (key exchange,
     authentication) class of those suites - a server that accepts none of
     a class when offered all of it accepts none of them alone - then every
     suite of an accepted class alone (TLS 1.3: each of the five alone);
  3. the chain, verification and host name: -showcerts -CAfile -verify_hostname,
     at level 0 and at the default level; the DH prime from -msg.
Only ca_file is trusted (-no-CApath -no-CAstore), and probes that verify
nothing load no trust store at all (-no-CAfile): loading Debian's CA bundle
costs s_client 23 ms of CPU, four times the rest of a probe.
The probes run concurrently (at most MAX_PROCS s_client processes at a time
in the whole process, each bounded by PROBE_TIMEOUT). SSLv3 is reported as
None: Debian's OpenSSL is built without it (no -ssl3); badserver.py's crafted
ServerHello covers it.
"""
import concurrent.futures
import datetime
import functools
import os
import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field, asdict

import peers

OPENSSL = peers.OPENSSL
MAX_PROCS = int(os.environ.get("SMTPROBE_TRUTH_PROCS", "8"))
PROBE_TIMEOUT = 10.0
PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
FLAG = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1", "TLSv1.2": "-tls1_2",
        "TLSv1.3": "-tls1_3"}
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                "TLS_AES_128_CCM_8_SHA256")
ALL_CIPHERS = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
HOSTNAME_MISMATCH = 62
# the well-known DH groups the DHE prime is compared with (OpenSSL's names)
KNOWN_DH_GROUPS = ("ffdhe2048", "ffdhe3072", "ffdhe4096", "modp_1536", "modp_2048",
                   "modp_3072", "modp_4096")

_procs = threading.BoundedSemaphore(MAX_PROCS)


class TruthError(RuntimeError):
    pass


# ---------------------------------------------------------------- s_client

@dataclass
class Probe:
    """One s_client run, parsed."""
    args: list
    ok: bool = False             # a suite was negotiated
    protocol: str = None         # "TLSv1.2"
    cipher: str = None           # OpenSSL's name
    temp_key: str = None         # "X25519, 253 bits" / "DH, 1024 bits"
    dh_bits: int = None
    verify_code: int = None      # "Verify return code: N"
    verify_errors: list = field(default_factory=list)   # ["20:unable to ..."]
    peername: str = None
    pems: list = field(default_factory=list)            # -showcerts
    dh_prime: bytes = None       # from -msg (ServerKeyExchange)
    output: str = ""
    error: str = None            # timeout / cannot run


_NEW = re.compile(r"^New, (\S+), Cipher is (\S+)", re.M)
_PROTO = re.compile(r"^\s+Protocol\s*:\s*(\S+)", re.M)
_TEMP = re.compile(r"^Server Temp Key: (.+)$", re.M)
_VCODE = re.compile(r"Verify return code: (\d+)")
_VERR = re.compile(r"^verify error:num=(\d+):(.+)$", re.M)
_PEER = re.compile(r"^Verified peername: (\S+)", re.M)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)
_SKE = re.compile(r"^<<< TLS [\d.]+, Handshake \[length [0-9a-f]+\], ServerKeyExchange\n"
                  r"((?:\s+(?:[0-9a-f]{2}(?: |$))+\n?)+)", re.M)


def run_s_client(host, port, args, implicit=False, stdin=b"QUIT\r\n",
                 timeout=PROBE_TIMEOUT):
    """Run `openssl s_client` against host:port with args; a Probe.

    stdin is sent once the handshake is done and s_client waits for the
    server to close (-ign_eof): with an early EOF on its stdin, s_client
    may close before a TLS 1.3 handshake has completed and print "Cipher is
    (NONE)" - a false "not accepted"."""
    argv = [OPENSSL, "s_client", "-connect", f"{host}:{port}", "-ign_eof",
            "-no-CApath", "-no-CAstore"]
    if "-CAfile" not in args:
        argv.append("-no-CAfile")
    if not implicit:
        argv += ["-starttls", "smtp"]
    argv += list(args)
    p = Probe(args=list(args))
    with _procs:
        try:
            proc = subprocess.run(argv, input=stdin, capture_output=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            p.error = f"no answer in {timeout:g}s"
            return p
        except OSError as e:
            p.error = str(e)
            return p
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    p.output = out
    m = _NEW.search(out)
    if m and m.group(2) != "(NONE)":
        p.ok = True
        p.cipher = m.group(2)
        pm = _PROTO.search(out)
        p.protocol = pm.group(1) if pm else None
    m = _TEMP.search(out)
    if m:
        p.temp_key = m.group(1).strip()
        dm = re.match(r"DH, (\d+) bits", p.temp_key)
        if dm:
            p.dh_bits = int(dm.group(1))
    m = _VCODE.search(out)
    if m:
        p.verify_code = int(m.group(1))
    seen = []
    for num, text in _VERR.findall(out):
        e = f"{num}:{text.strip()}"
        if e not in seen:
            seen.append(e)
    p.verify_errors = seen
    m = _PEER.search(out)
    if m:
        p.peername = m.group(1)
    p.pems = _PEM.findall(out)
    m = _SKE.search(out)
    if m:
        p.dh_prime = _ske_dh_prime(bytes.fromhex("".join(m.group(1).split())))
    return p


def _ske_dh_prime(msg):
    """The prime of a DHE ServerKeyExchange (handshake header included)."""
    if len(msg) < 6 or msg[0] != 0x0c:
        return None
    n = int.from_bytes(msg[4:6], "big")
    return msg[6:6 + n] if len(msg) >= 6 + n else None


# ---------------------------------------------------------------- OpenSSL facts

@functools.lru_cache(maxsize=None)
def candidate_suites(protocol):
    """[(name, kx, au)] of every suite this OpenSSL can offer in `protocol`
    at security level 0 (TLS 1.3: the five of RFC 8446)."""
    if protocol == "TLSv1.3":
        return tuple((s, "any", "any") for s in TLS13_SUITES)
    out = subprocess.run([OPENSSL, "ciphers", "-s", "-v", FLAG[protocol], ALL_CIPHERS],
                         capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 4 or f[1] == "TLSv1.3":
            continue
        kx = f[2].split("=", 1)[1]
        au = f[3].split("=", 1)[1]
        found.append((f[0], kx, au))
    return tuple(found)


@functools.lru_cache(maxsize=None)
def known_dh_primes():
    """{prime bytes: group name} for KNOWN_DH_GROUPS (OpenSSL's named groups)."""
    primes = {}
    for g in KNOWN_DH_GROUPS:
        pem = subprocess.run([OPENSSL, "genpkey", "-genparam", "-algorithm", "DH",
                              "-pkeyopt", f"group:{g}"], capture_output=True)
        if pem.returncode != 0:
            continue
        # DHParameter ::= SEQUENCE { p INTEGER, g INTEGER ... }: the first INTEGER
        # (-outform DER writes something else for a named group)
        asn = subprocess.run([OPENSSL, "asn1parse"], input=pem.stdout,
                             capture_output=True)
        m = re.search(rb"prim:\s+INTEGER\s+:([0-9A-F]+)", asn.stdout)
        if m:
            hexp = m.group(1).decode()
            primes[bytes.fromhex(hexp.zfill(len(hexp) + len(hexp) % 2)).lstrip(b"\0")] = g
    return primes


@dataclass
class Cert:
    subject: str
    issuer: str
    subject_cn: str
    sans: list            # ["DNS:mx.example.test", ...]
    not_before: datetime.datetime
    not_after: datetime.datetime
    key_type: str         # "RSA", "EC", ...
    key_bits: int
    sig_alg: str          # "sha256WithRSAEncryption"
    pem: str

    @property
    def self_issued(self):
        return self.subject == self.issuer

    def days_left(self, now=None):
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return (self.not_after - now).total_seconds() / 86400.0


def _asn1_date(text):
    return datetime.datetime.strptime(text.strip().replace("  ", " "),
                                      "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc)


def parse_cert(pem):
    """A Cert from PEM, with `openssl x509 -text`."""
    out = subprocess.run([OPENSSL, "x509", "-noout", "-text", "-nameopt", "RFC2253"],
                         input=pem, capture_output=True, text=True, check=True).stdout
    subject = re.search(r"^\s+Subject: ?(.*)$", out, re.M).group(1).strip()
    issuer = re.search(r"^\s+Issuer: ?(.*)$", out, re.M).group(1).strip()
    cn = re.search(r"(?:^|,)CN=([^,]+)", subject)
    san = re.search(r"X509v3 Subject Alternative Name:.*\n\s+(.+)", out)
    sans = [s.strip().replace("IP Address:", "IP:") for s in san.group(1).split(",")] \
        if san else []
    key = re.search(r"Public Key Algorithm: (\S+)\n\s+(?:RSA |EC )?Public-Key: \((\d+) bit\)",
                    out)
    key_alg = key.group(1) if key else None
    key_type = {"rsaEncryption": "RSA", "id-ecPublicKey": "EC"}.get(key_alg, key_alg)
    return Cert(
        subject=subject, issuer=issuer, subject_cn=cn.group(1) if cn else None,
        sans=sans,
        not_before=_asn1_date(re.search(r"Not Before\s*: (.+)$", out, re.M).group(1)),
        not_after=_asn1_date(re.search(r"Not After\s*: (.+)$", out, re.M).group(1)),
        key_type=key_type, key_bits=int(key.group(2)) if key else None,
        sig_alg=re.search(r"^\s+Signature Algorithm: (\S+)", out, re.M).group(1),
        pem=pem)


@functools.lru_cache(maxsize=None)
def _anchor_subjects(ca_file):
    """The subjects (RFC 2253) of the certificates in ca_file."""
    with open(ca_file) as f:
        return frozenset(parse_cert(p).subject for p in _PEM.findall(f.read()))


# ---------------------------------------------------------------- the truth

@dataclass
class Truth:
    host: str
    port: int
    implicit: bool
    starttls_offered: bool = None
    handshake: bool = False
    protocols: dict = field(default_factory=dict)
    suites: dict = field(default_factory=dict)
    temp_keys: dict = field(default_factory=dict)
    dh_bits: int = None
    dh_group: str = None
    certs: list = field(default_factory=list)
    chain_len: int = 0
    chain_complete: bool = None
    chain_missing: str = None
    verify_ok: bool = None
    verify_errors: list = field(default_factory=list)
    hostname_ok: bool = None
    default_verify_errors: list = field(default_factory=list)
    probes: int = 0
    elapsed: float = 0.0
    failures: list = field(default_factory=list)   # probes that could not run

    @property
    def leaf(self):
        return self.certs[0] if self.certs else None

    def as_dict(self):
        d = asdict(self)
        for c in d["certs"]:
            c.pop("pem", None)
            c["not_before"] = c["not_before"].isoformat()
            c["not_after"] = c["not_after"].isoformat()
        return d


def ehlo_offers_starttls(host, port, timeout=5.0):
    """Does the EHLO reply list STARTTLS? (plain SMTP dialogue)"""
    with socket.create_connection((host, port), timeout=timeout) as s:
        f = s.makefile("rb")

        def reply():
            lines = []
            while True:
                line = f.readline()
                if not line:
                    raise TruthError(f"{host}:{port}: connection closed in the dialogue")
                lines.append(line.decode(errors="replace").rstrip("\r\n"))
                if len(line) < 4 or line[3:4] != b"-":
                    return lines
        banner = reply()
        if not banner[0].startswith("220"):
            raise TruthError(f"{host}:{port}: banner {banner!r}")
        s.sendall(b"EHLO truth.example.test\r\n")
        caps = reply()
        s.sendall(b"QUIT\r\n")
        return any(c[4:].strip().upper() == "STARTTLS" for c in caps)


def measure(host, port, implicit=False, ca_file=None, hostname=None, pool=None):
    """The Truth about host:port (see the module docstring)."""
    peers.require("openssl_probe")
    t0 = time.monotonic()
    t = Truth(host=host, port=port, implicit=implicit)
    own_pool = pool is None
    if own_pool:
        pool = concurrent.futures.ThreadPoolExecutor(MAX_PROCS)
    count = [0]
    lock = threading.Lock()

    def probe(args):
        with lock:
            count[0] += 1
        p = run_s_client(host, port, args, implicit)
        if p.error:
            with lock:
                t.failures.append(f"s_client {' '.join(args)}: {p.error}")
        return p

    def many(arg_lists):
        return list(pool.map(probe, arg_lists))

    try:
        if not implicit:
            t.starttls_offered = ehlo_offers_starttls(host, port)
        verify_args = ["-showcerts"] + (["-CAfile", ca_file] if ca_file else []) + \
            (["-verify_hostname", hostname] if hostname else [])
        # round 1: protocols, the chain at both security levels
        testable = [p for p in PROTOCOLS if p in FLAG]
        jobs = [proto_args(p, [s for s, _, _ in candidate_suites(p)]) for p in testable]
        jobs.append(verify_args + ["-cipher", ALL_CIPHERS])
        jobs.append(verify_args)
        res = many(jobs)
        chain_probe, default_probe = res[-2], res[-1]
        t.handshake = default_probe.ok
        t.protocols = {p: None for p in PROTOCOLS}
        accepted = []
        for p, r in zip(testable, res):
            t.protocols[p] = r.ok and r.protocol == p
            if t.protocols[p]:
                accepted.append(p)
                t.temp_keys[p] = r.temp_key
        # round 2: one probe per (kx, au) class of each accepted protocol
        classes = []
        for p in accepted:
            by_class = {}
            for name, kx, au in candidate_suites(p):
                by_class.setdefault((kx, au), []).append(name)
            if p == "TLSv1.3":
                classes += [(p, [n]) for n in by_class[("any", "any")]]
            else:
                classes += [(p, names) for names in by_class.values()]
        res = many([proto_args(p, names) for p, names in classes])
        # round 3: every suite of an accepted class alone (a class of one
        # suite has been answered already)
        done, todo = {}, []
        for (p, names), r in zip(classes, res):
            if not (r.ok and r.protocol == p):
                continue
            if len(names) == 1:
                done[(p, names[0])] = r
            else:
                todo += [(p, n) for n in names]
        for (p, n), r in zip(todo, many([proto_args(p, [n]) for p, n in todo])):
            done[(p, n)] = r
        t.suites = {p: [] for p in accepted}
        dhe = None
        for (p, n), r in done.items():
            if r.ok and r.protocol == p and r.cipher == n:
                t.suites[p].append(n)
                if r.dh_bits and dhe is None:
                    dhe = (p, n)
        for p in t.suites:
            t.suites[p].sort()
        # the DH group: the prime of a DHE suite's ServerKeyExchange
        if dhe:
            r = probe(proto_args(dhe[0], [dhe[1]]) + ["-msg"])
            t.dh_bits = r.dh_bits
            if r.dh_prime:
                t.dh_group = known_dh_primes().get(r.dh_prime.lstrip(b"\0"), "custom")
        # the chain as sent, verification, host name
        if chain_probe.ok:
            t.certs = list(pool.map(parse_cert, chain_probe.pems))
            t.chain_len = len(t.certs)
            t.verify_errors = chain_probe.verify_errors
            t.verify_ok = not [e for e in t.verify_errors
                               if not e.startswith(f"{HOSTNAME_MISMATCH}:")]
            t.hostname_ok = (None if not hostname else
                             not any(e.startswith(f"{HOSTNAME_MISMATCH}:")
                                     for e in t.verify_errors))
            t.default_verify_errors = default_probe.verify_errors
            if ca_file and t.certs:
                anchors = _anchor_subjects(ca_file)
                last = t.certs[-1]
                linked = all(a.issuer == b.subject for a, b in zip(t.certs, t.certs[1:]))
                t.chain_complete = linked and (last.issuer in anchors
                                               or last.subject in anchors)
                if not t.chain_complete:
                    t.chain_missing = last.issuer
    finally:
        if own_pool:
            pool.shutdown(wait=True)
    t.probes = count[0]
    t.elapsed = time.monotonic() - t0
    return t


def proto_args(protocol, suites):
    """s_client arguments offering `suites` in `protocol` only."""
    if protocol == "TLSv1.3":
        # the security level matters in TLS 1.3 too (the server's key size)
        return [FLAG[protocol], "-ciphersuites", ":".join(suites),
                "-cipher", ALL_CIPHERS]
    return [FLAG[protocol], "-cipher", ":".join(suites) + ":@SECLEVEL=0"]


def measure_postures(tp, names=None):
    """{posture name: Truth} for a TlsPostures instance, measured concurrently
    (the s_client processes stay bounded by MAX_PROCS)."""
    names = list(names or tp.postures)
    with concurrent.futures.ThreadPoolExecutor(len(names)) as outer:
        futs = {n: outer.submit(measure, tp.host, tp.ports[n], tp.postures[n].implicit,
                                tp.ca_file, tp.hostname) for n in names}
        return {n: f.result() for n, f in futs.items()}
