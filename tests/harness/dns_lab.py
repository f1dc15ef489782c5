"""The DNS lab of `smtprobe dns` (issue 14): a real authoritative DNS server
(Knot DNS) signing the test zones with DNSSEC, and a real HTTPS server
(nginx) for MTA-STS policies, privately on loopback.

    with DnsLab(workdir) as lab:
        lab.host, lab.port        127.0.0.1 and knotd's port (UDP + TCP)
        lab.resolver              "127.0.0.1:PORT", for --resolver
        lab.anchor_file           the lab's trust anchors, DS records in
                                  zone-file format (test. and
                                  127.in-addr.arpa.), for --trust-anchor
        lab.anchor_dnskey_file    the same anchors as DNSKEY records
        lab.unbound_conf          an unbound.conf for `unbound-host -C`:
                                  everything forwarded to the lab, validated
                                  from lab.anchor_file
        lab.https_port            nginx's port on 127.0.0.1 (every
                                  mta-sts.DOMAIN is 127.0.0.1), --mta-sts-port
        lab.ca_file               the lab CA, which signed nginx's and the
                                  MX certificate, for --tls-ca-path
        lab.mx_cert, .mx_key, .mx_chain
                                  the MX certificate (SANs: every MX host of
                                  the lab) for the tests' SMTP listeners; the
                                  TLSA records of "live" kind match its key
        lab.mx_next_key           the key TLSA "next" announces (rollover)
        lab.dkim_keys             {"rsa2048": PEM, "rsa1024": PEM} (private)
        lab.domains, lab.mx_hosts dns_zones.DOMAINS and .MX_HOSTS
        lab.policy_url(domain)    https://mta-sts.DOMAIN:PORT/.well-known/mta-sts.txt
        lab.zone_file(zone)       the zone file Knot loaded (before signing)
        lab.pids()                the lab's knotd and nginx master
        lab.start_seconds         how long start() took
        lab.logs()                the tails of knotd's and nginx's logs

How it is built (all at start, in workdir, in about 0.6 s):
- Keys: `keymgr` makes a KSK and a ZSK (ECDSA P-256) per signed zone in
  Knot's KASP database before knotd starts; the policy is manual, so knotd
  signs with exactly those keys. The DS of each child's KSK (keymgr ds,
  SHA-256) goes into test.'s zone file, so the delegation chain is complete
  when knotd first loads the zones: no reload.
- The anchors: test. and 127.in-addr.arpa. (both signed; the reverse zone
  is an island of trust of its own, its DS is in the anchor file too).
- Bogus, two ways: bogus.test's ZSK file in the keystore is replaced by
  another P-256 key before knotd starts, so knotd publishes the real ZSK but
  signs with the other key (the DNSKEY set, signed by the KSK, validates;
  every other RRSIG fails: unbound says "ECDSA signature verification
  failed"); bogus-ds.test's DS
  in test. is that of a KSK published only a year from now (no DNSKEY
  matches the DS: "no keys have a DS with algorithm ECDSAP256SHA256").
- unsigned.test has no keys and no DS: the NSEC of test. proves it
  insecure.
- Certificates: a lab CA and two EC leaves made with openssl (certs.py);
  DKIM keys (RSA 2048 and 1024) and the spare EC keys with `openssl
  genpkey`; the TLSA records carry the SHA-256 of the SPKIs.
- knotd runs in the foreground as the knot user (root is only needed to
  switch to it), nginx in the foreground as www-data; both listen on
  127.0.0.1 only, on free ports.

System-wide changes: none.
"""
import base64
import concurrent.futures
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import certs
import dns_zones
import peers
from dns_zones import DOMAINS, MX_HOSTS, SIGNED_ZONES

KNOTD = peers.KNOTD
KEYMGR = peers.KEYMGR
KDIG = peers.KDIG
NGINX = peers.NGINX
OPENSSL = peers.OPENSSL

START_TIMEOUT = 20.0
OWNER_FILE = "owner"
ANCHOR_ZONES = ("test", "127.in-addr.arpa")


class DnsLabError(RuntimeError):
    pass


def _free_port():
    """A port free on 127.0.0.1 for both TCP and UDP (knotd binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise DnsLabError("no port free for both TCP and UDP on 127.0.0.1")


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _run(argv, what, **kw):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60, **kw)
    if p.returncode != 0:
        raise DnsLabError(f"{what} failed ({p.returncode}): {' '.join(argv)}\n"
                          f"{p.stderr}{p.stdout}")
    return p.stdout


def _spki_der(key):
    """The DER SubjectPublicKeyInfo of the private key in PEM file `key`."""
    p = subprocess.run([OPENSSL, "pkey", "-in", key, "-pubout", "-outform", "DER"],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise DnsLabError(f"openssl pkey {key}: {p.stderr.decode(errors='replace')}")
    return p.stdout


def _cert_der(cert):
    """The DER of the PEM certificate in file `cert`."""
    p = subprocess.run([OPENSSL, "x509", "-in", cert, "-outform", "DER"],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise DnsLabError(f"openssl x509 {cert}: {p.stderr.decode(errors='replace')}")
    return p.stdout


def _genkey(path, spec):
    """A private key: spec "ec" (P-256) or "rsaBITS"."""
    if spec == "ec":
        opts = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        opts = ["-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{spec[3:]}"]
    _run([OPENSSL, "genpkey"] + opts + ["-out", path], "openssl genpkey")
    return path


def _user_kw(name):
    """subprocess arguments that run a program as `name` when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": name, "group": pwd.getpwnam(name).pw_gid, "extra_groups": []}


def _chown(path, name):
    """Give path (and what is below it) to user `name`, when we are root."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(name)
    paths = [path]
    for root, dirs, files in os.walk(path):
        paths += [os.path.join(root, x) for x in dirs + files]
    for p in paths:
        os.chown(p, pw.pw_uid, pw.pw_gid)


def _ours(workdir):
    """Pids of knotd / nginx processes started for `workdir`."""
    mark = workdir.encode()
    exes = {os.path.realpath(KNOTD), os.path.realpath(NGINX)}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if exe in exes and mark in cmd:
            found.append(int(entry))
    return found


def _kill_group(pid):
    """SIGKILL pid and, when it leads a process group (ours do: nginx's
    workers), the whole group."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap_stale(parent, prefix):
    """Stop the labs of earlier runs whose owner process is gone (their
    knotd / nginx, found by the work directory in their command line) and
    remove their work directories."""
    for name in sorted(os.listdir(parent)):
        path = os.path.join(parent, name)
        if not name.startswith(prefix) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as f:
                os.kill(int(f.read().split()[0]), 0)
            continue  # owner alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue  # no owner file: not ours to judge
        for pid in _ours(path):
            _kill_group(pid)
        shutil.rmtree(path, ignore_errors=True)


class DnsLab:
    host = "127.0.0.1"
    domains = DOMAINS
    mx_hosts = MX_HOSTS

    def __init__(self, workdir):
        self.workdir = os.path.abspath(workdir)
        self.knot_dir = os.path.join(self.workdir, "knot")
        self.zone_dir = os.path.join(self.knot_dir, "zones")
        self.keys_dir = os.path.join(self.knot_dir, "keys")
        self.knot_conf = os.path.join(self.knot_dir, "knot.conf")
        self.knotd_log = os.path.join(self.workdir, "knotd.log")
        self.nginx_dir = os.path.join(self.workdir, "nginx")
        self.nginx_conf = os.path.join(self.nginx_dir, "nginx.conf")
        self.nginx_log = os.path.join(self.nginx_dir, "error.log")
        self.nginx_stderr = os.path.join(self.workdir, "nginx.stderr")
        self.cert_dir = os.path.join(self.workdir, "certs")
        self.anchor_file = os.path.join(self.workdir, "trust-anchor.ds")
        self.anchor_dnskey_file = os.path.join(self.workdir, "trust-anchor.dnskey")
        self.unbound_conf = os.path.join(self.workdir, "unbound.conf")
        self.port = self.https_port = None
        self.ca_file = self.mx_cert = self.mx_key = self.mx_chain = None
        self.mx_next_key = self.sts_cert = self.sts_key = None
        self.dkim_keys = {}
        self.ds = {}          # zone -> [DS rdata]
        self.dnskeys = {}     # anchor zone -> DNSKEY rdata of its KSK
        self.start_seconds = None
        self._knotd = self._nginx = None
        self._logs = []

    @property
    def resolver(self):
        return f"{self.host}:{self.port}"

    def policy_url(self, domain):
        return f"https://mta-sts.{domain}:{self.https_port}/.well-known/mta-sts.txt"

    def pids(self):
        """The lab's running knotd and nginx master (the workers' command
        lines do not name the work directory)."""
        return _ours(self.workdir)

    def zone_file(self, zone):
        return os.path.join(self.zone_dir, f"{zone}.zone")

    def logs(self):
        return (f"--- {self.knotd_log}\n{_tail(self.knotd_log)}"
                f"--- {self.nginx_stderr}\n{_tail(self.nginx_stderr)}"
                f"--- {self.nginx_log}\n{_tail(self.nginx_log)}")

    # ------------------------------------------------------------- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        t0 = time.monotonic()
        for peer in ("knot", "nginx", "openssl"):
            why = peers.problem(peer)
            if why:
                raise DnsLabError(f"cannot run the DNS lab: {why}")
        for d in (self.zone_dir, self.keys_dir, os.path.join(self.knot_dir, "db"),
                  os.path.join(self.knot_dir, "run"), self.cert_dir,
                  os.path.join(self.nginx_dir, "tmp"), os.path.join(self.nginx_dir, "www")):
            os.makedirs(d, exist_ok=True)
        _write(os.path.join(self.workdir, OWNER_FILE), f"{os.getpid()}\n")
        self.port, self.https_port = _free_port(), _free_port()
        self._write_knot_conf()
        _chown(self.knot_dir, "knot")
        # the keys of every zone and the certificates, concurrently
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            jobs = [pool.submit(self._make_zone_keys, z) for z in SIGNED_ZONES]
            jobs.append(pool.submit(self._make_certs))
            jobs.append(pool.submit(self._make_dkim_keys))
            for j in jobs:
                j.result()
        self._write_zones()
        self._write_anchors()
        self._write_nginx()
        for attempt in range(3):
            # who runs this lab: reap_stale() leaves it alone while we live
            _write(os.path.join(self.workdir, OWNER_FILE), f"{os.getpid()}\n")
            try:
                self._start_knotd()
                self._start_nginx()
                self._wait_ready()
                break
            except DnsLabError as e:
                self.stop()
                if attempt == 2 or "in use" not in str(e):
                    raise
                self.port, self.https_port = _free_port(), _free_port()
                self._write_knot_conf()
                self._write_nginx()
        self._write_unbound_conf()
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self):
        for proc in (self._knotd, self._nginx):
            if proc is None:
                continue
            try:
                proc.terminate()
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._knotd = self._nginx = None
        for pid in _ours(self.workdir):
            _kill_group(pid)
        for f in self._logs:
            f.close()
        self._logs = []
        try:
            os.unlink(os.path.join(self.workdir, OWNER_FILE))
        except OSError:
            pass

    # ------------------------------------------------------------- keys
    def _keymgr(self, zone, *args):
        return _run([KEYMGR, "-c", self.knot_conf, zone] + list(args), "keymgr",
                    **_user_kw("knot")).strip()

    def _make_zone_keys(self, zone):
        d = DOMAINS.get(zone)
        ksk = self._keymgr(zone, "generate", "ksk=yes")
        zsk = self._keymgr(zone, "generate", "ksk=no")
        if d is not None and d.signing == "broken":
            # knotd signs with whatever private key the keystore holds under
            # the ZSK's id: another key, so its RRSIGs verify against nothing
            path = os.path.join(self.keys_dir, zsk + ".pem")
            _genkey(path + ".new", "ec")
            _chown(path + ".new", "knot")
            os.replace(path + ".new", path)
        if d is not None and d.signing == "ds-unpublished":
            # a KSK the zone will publish only in a year: its DS matches nothing
            ksk = self._keymgr(zone, "generate", "ksk=yes", "publish=+1y", "active=+1y")
        self.ds[zone] = [" ".join(line.split()[2:]) for line in
                         self._keymgr(zone, "ds", ksk).splitlines()
                         if line.split()[4:5] == ["2"]]
        if zone in ANCHOR_ZONES:
            self.dnskeys[zone] = " ".join(self._keymgr(zone, "dnskey", ksk).split()[2:])

    def _make_certs(self):
        ca = certs.make_ca(self.cert_dir, "smtprobe DNS lab CA", key_type="ec")
        self.ca_file = ca.cert
        names = sorted(set(MX_HOSTS) | {h for d in DOMAINS.values() for h in d.mx_hosts})
        mx = certs.make_leaf(self.cert_dir, ca, "mx.good.test",
                             sans=[f"DNS:{n}" for n in names], key_type="ec")
        self.mx_cert, self.mx_key, self.mx_chain = mx.cert, mx.key, mx.chain
        sts = certs.make_leaf(self.cert_dir, ca, "mta-sts.good.test",
                              sans=[f"DNS:mta-sts.{d.name}" for d in DOMAINS.values()
                                    if d.mta_sts], key_type="ec")
        self.sts_cert, self.sts_key = sts.chain, sts.key
        # nginx (www-data) reads its chain here; the key is given to it
        os.chmod(self.cert_dir, 0o755)
        os.chmod(self.sts_cert, 0o644)
        self.mx_next_key = _genkey(os.path.join(self.cert_dir, "mx-next.key"), "ec")
        stale = _genkey(os.path.join(self.cert_dir, "mx-stale.key"), "ec")
        self.tlsa = {kind: hashlib.sha256(_spki_der(key)).hexdigest()
                     for kind, key in (("live", self.mx_key), ("next", self.mx_next_key),
                                       ("stale", stale))}
        self.tlsa["cert"] = _cert_der(self.mx_cert).hex()

    def _make_dkim_keys(self):
        for kind in ("rsa2048", "rsa1024"):
            self.dkim_keys[kind] = _genkey(os.path.join(self.cert_dir, f"dkim-{kind}.key"),
                                           kind)

    # ------------------------------------------------------------- files
    def _write_knot_conf(self):
        k = self.knot_dir
        zones = "".join(f"  - domain: {z}\n" for z in SIGNED_ZONES)
        zones += "".join(f"  - domain: {d.name}\n    template: unsigned\n"
                         for d in DOMAINS.values() if not d.signed)
        _write(self.knot_conf, f"""\
# written by tests/harness/dns_lab.py
server:
    rundir: "{k}/run"
    listen: {self.host}@{self.port}
log:
  - target: stderr
    any: info
database:
    storage: "{k}/db"
keystore:
  - id: lab
    backend: pem
    config: "{self.keys_dir}"
policy:
  - id: lab
    keystore: lab
    algorithm: ecdsap256sha256
    manual: on
acl:
  - id: loopback_transfer
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "{self.zone_dir}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
    acl: loopback_transfer
    dnssec-signing: on
    dnssec-policy: lab
  - id: unsigned
    storage: "{self.zone_dir}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
    acl: loopback_transfer
zone:
{zones}""")

    def _write_zones(self):
        pub = lambda key: base64.b64encode(_spki_der(key)).decode()  # noqa: E731
        ctx = {"dkim": {k: pub(p) for k, p in self.dkim_keys.items()}, "tlsa": self.tlsa}
        for d in DOMAINS.values():
            _write(self.zone_file(d.name), dns_zones.render_zone(d, ctx))
        _write(self.zone_file("test"), dns_zones.render_parent(self.ds))
        _write(self.zone_file("127.in-addr.arpa"), dns_zones.render_reverse())
        _chown(self.zone_dir, "knot")

    def _write_anchors(self):
        _write(self.anchor_file, "".join(f"{z}. DS {ds}\n" for z in ANCHOR_ZONES
                                         for ds in self.ds[z]))
        _write(self.anchor_dnskey_file, "".join(f"{z}. DNSKEY {self.dnskeys[z]}\n"
                                                for z in ANCHOR_ZONES))

    def _write_nginx(self):
        www = os.path.join(self.nginx_dir, "www")
        servers = []
        for d in DOMAINS.values():
            if not d.mta_sts:
                continue
            policy = dns_zones.mta_sts_policy(d)
            path = _write(os.path.join(www, f"{d.name}.txt"), policy)
            body = {"enforce": f"alias {path};",
                    "wrong-type": f"alias {path}; default_type text/html;",
                    "missing": "return 404;",
                    "redirect": f"return 301 {self.policy_url('good.test')};"}[d.mta_sts]
            servers.append(f"""\
    server {{
        listen {self.host}:{self.https_port} ssl;
        server_name mta-sts.{d.name};
        location = /.well-known/mta-sts.txt {{ {body} }}
        location / {{ return 404; }}
    }}
""")
        n = self.nginx_dir
        _write(self.nginx_conf, f"""\
# written by tests/harness/dns_lab.py: the MTA-STS policies of the DNS lab
daemon off;
worker_processes 1;
pid {n}/nginx.pid;
error_log {self.nginx_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {n}/access.log;
    client_body_temp_path {n}/tmp/body;
    proxy_temp_path {n}/tmp/proxy;
    fastcgi_temp_path {n}/tmp/fastcgi;
    uwsgi_temp_path {n}/tmp/uwsgi;
    scgi_temp_path {n}/tmp/scgi;
    types {{ }}
    default_type text/plain;
    ssl_certificate {self.sts_cert};
    ssl_certificate_key {self.sts_key};
    server {{
        listen {self.host}:{self.https_port} ssl default_server;
        server_name _;
        return 404;
    }}
{"".join(servers)}}}
""")
        _chown(self.nginx_dir, "www-data")
        _chown(self.sts_key, "www-data")

    def _write_unbound_conf(self):
        # everything goes to the lab; test. and 127.in-addr.arpa. are local
        # zones of unbound by default, which would answer them itself
        # (NXDOMAIN, "insecure"). In this file `nodefault` works as well as
        # `transparent`; through libunbound's ub_ctx_set_option("local-zone:")
        # only `transparent` does (1.17). do-not-query-localhost: no turned
        # out not to be needed with the forwarder at 127.0.0.1; it stays, as
        # the documented way to allow loopback servers.
        _write(self.unbound_conf, f"""\
# written by tests/harness/dns_lab.py: unbound-host -C {self.unbound_conf}
server:
    username: ""
    chroot: ""
    directory: "{self.workdir}"
    use-syslog: no
    do-not-query-localhost: no
    trust-anchor-file: "{self.anchor_file}"
    local-zone: "test." transparent
    local-zone: "127.in-addr.arpa." transparent
forward-zone:
    name: "."
    forward-addr: {self.host}@{self.port}
""")

    # ------------------------------------------------------------- processes
    def _spawn(self, argv, log, user):
        out = open(log, "wb")  # a new start, a new log: "in use" is of this one
        self._logs.append(out)
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=self.workdir, **_user_kw(user))

    def _start_knotd(self):
        self._knotd = self._spawn([KNOTD, "-c", self.knot_conf], self.knotd_log, "knot")

    def _start_nginx(self):
        self._nginx = self._spawn([NGINX, "-p", self.nginx_dir + "/", "-c", self.nginx_conf,
                                   "-e", self.nginx_log], self.nginx_stderr, "www-data")

    def _zones_answering(self):
        """The zones whose SOA knotd serves (with an RRSIG when signed)."""
        argv = [KDIG, f"@{self.host}", "-p", str(self.port), "+dnssec", "+noall",
                "+answer", "+tcp", "+time=1", "+retry=0"]
        for z in SIGNED_ZONES + [d.name for d in DOMAINS.values() if not d.signed]:
            argv += [z, "SOA"]
        try:
            # whatever answers but is not knotd (a port taken meanwhile) must
            # not hold the loop for a second per zone
            p = subprocess.run(argv, capture_output=True, text=True, timeout=2)
        except subprocess.TimeoutExpired:
            return set()
        seen = set()
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) >= 4 and f[3] == "SOA":
                seen.add((f[0].rstrip("."), "SOA"))
            elif len(f) >= 5 and f[3] == "RRSIG" and f[4] == "SOA":
                seen.add((f[0].rstrip("."), "RRSIG"))
        return seen

    def _wait_ready(self):
        want = {(z, "SOA") for z in DOMAINS} | {(z, "SOA") for z in ANCHOR_ZONES}
        want |= {(z, "RRSIG") for z in SIGNED_ZONES}
        ctx = ssl.create_default_context(cafile=self.ca_file)
        deadline = time.monotonic() + START_TIMEOUT
        dns_ok = https_ok = False
        while True:
            for name, proc in (("knotd", self._knotd), ("nginx", self._nginx)):
                if proc.poll() is not None:
                    raise DnsLabError(f"{name} exited ({proc.returncode}) at start:\n"
                                      f"{self.logs()}")
            logs = self.logs()
            if re.search(r"in use", logs, re.I):
                raise DnsLabError(f"a port is in use:\n{logs}")
            # a zone Knot refused (its log says why) would only time out
            knot_log = _tail(self.knotd_log, 1000)
            if re.search(r"^\S+ (error|critical): ", knot_log, re.M):
                raise DnsLabError(f"knotd reports an error:\n{logs}")
            # knotd says so once its sockets are bound
            if not dns_ok and "server started" in knot_log:
                dns_ok = want <= self._zones_answering()
            if not https_ok:
                try:
                    with socket.create_connection((self.host, self.https_port), 1) as s:
                        with ctx.wrap_socket(s, server_hostname="mta-sts.good.test"):
                            https_ok = True
                except (OSError, ssl.SSLError):
                    pass
            if dns_ok and https_ok:
                return
            if time.monotonic() > deadline:
                missing = "DNS zones" if not dns_ok else "nginx"
                raise DnsLabError(f"the lab is not ready after {START_TIMEOUT:.0f} s "
                                  f"({missing}):\n{logs}")
            time.sleep(0.05)
