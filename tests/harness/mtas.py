"""Real Exim, Sendmail and OpenSMTPD beside Postfix, privately, on loopback.

    with Exim(workdir) as ex:          # also Sendmail(workdir), OpenSMTPD(workdir)
        ex.software             -> "Exim 4.96"
        ex.host                 -> "127.0.0.1"
        ex.ports["open"]        (every name of ex.LISTENERS)
        ex.banners["open"]      -> the 220 greeting the listener sent at start
        ex.LISTENERS["open"]    -> one line: what that listener is
        ex.tls["smtps"]         -> "implicit" | "starttls" | "none"
        ex.ca_file              the throwaway CA of the servers' certificate
        ex.users                -> {"alice": "alice-secret-1", "bob": "bob-secret-2"}
        ex.domain               -> "example.test"; ex.myhostname -> "mx.example.test"
        ex.messages()           -> evidence of any message the server took in
                                   (queue files, log lines): [] when none
        ex.log_path, ex.read_log()

Where the programs come from. Their Debian packages conflict with postfix
(all provide mail-transport-agent), so scripts/install-deps unpacks them with
`dpkg-deb -x` into private roots, MTAS_DIR (default /opt/smtprobe-mtas,
SMTPROBE_MTAS_DIR overrides it): MTAS_DIR/exim4, MTAS_DIR/opensmtpd,
MTAS_DIR/sendmail, each laid out like / (exim4/usr/sbin/exim4, ...), and
creates the users their maintainer scripts would (Debian-exim, opensmtpd,
opensmtpq, smmta, smmsp). peers.py checks all that once per session.

How they run. Each daemon runs as root in a private mount namespace
(`unshare -m --propagation private`, plus -u for its own host name
mx.example.test) made by a small sh script that bind-mounts, then execs the
daemon in the foreground:
  - /etc/resolv.conf <- "nameserver 127.0.0.1": a DNS query can only go to
    loopback (where nothing answers), never to the machine's resolver;
  - /etc/hosts <- 127.0.0.1 localhost, 127.0.0.2 mx.example.test
    example.test, 127.0.0.3 example.net: the names the servers look up
    resolve from the file (Sendmail refuses senders whose domain does not
    resolve: example.net is the "real" external domain a relay test can use
    as sender, relay-test.invalid the one that does not resolve);
  - Sendmail: its config directory over MTAS_DIR/sendmail/etc/mail (the
    packaged /etc/mail is not on the host: Postfix owns the MTA role), so
    its files sit on a root-owned path that passes Sendmail's file safety
    checks (a path under /tmp, world-writable, does not);
  - OpenSMTPD (fixed paths): MTAS_DIR/opensmtpd/usr/libexec over
    /usr/libexec and a private /var (spool/smtpd, lib/opensmtpd/empty, run,
    mail) over /var.
Everything else lives in `workdir`: configs, spools, logs, pid files,
mailboxes. The daemons drop privileges themselves (Exim to Debian-exim,
OpenSMTPD to opensmtpd/opensmtpq; Sendmail's per-connection children stay
root, as in a stock installation), so `workdir` and its parents must be
traversable by those users (the fixture makes a 0711 directory in /tmp).

Delivering nowhere. Every test stops before DATA, and nothing would leave
if one did not: Exim queues only (queue_only, no queue runner) and routes
remote domains to a closed loopback port; Sendmail queues only
(DeliveryMode=q, no queue runner) with a smart host on a closed loopback
port; OpenSMTPD relays to a closed loopback port and delivers local mail to
Maildirs under `workdir`. messages() shows whatever a server took in.

Start: a free 127.0.0.1 port per listener (mailservers.free_ports), then
wait (at most START_TIMEOUT) until each listener sends a 220 banner; a
daemon that exits or a listener that stays silent fails the start with the
daemon's log. Stop: SIGTERM to the daemon's process group (every daemon is
started in a new session, so that group holds it and its children and
nothing else), SIGKILL after STOP_TIMEOUT. reap_stale() stops what a killed
test run left behind, by the process groups it recorded.
"""
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time

import certs
import peers
from mailservers import free_ports, _tail, _write, _check_traversable

MTAS_DIR = peers.MTAS_DIR
UNSHARE = peers.UNSHARE
M4 = peers.M4
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
OWNER_FILE = "owner"
PGIDS_FILE = "pgids"
DEFAULT_USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}

# /etc/hosts inside the namespaces (see the module docstring)
HOSTS = """\
127.0.0.1 localhost
127.0.0.2 mx.example.test mx example.test
127.0.0.3 example.net
"""
RESOLV = "nameserver 127.0.0.1\n# OpenSMTPD's resolver: the file first\nlookup file bind\n"


class MTAError(RuntimeError):
    pass


def _closed_port():
    """A loopback port nothing listens on (bound, then closed): where the
    servers "relay" to."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _read_banner(host, port, implicit_tls, timeout):
    with socket.create_connection((host, port), timeout=timeout) as s:
        if implicit_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with ctx.wrap_socket(s) as t:
                return t.recv(512)
        return s.recv(512)


def _ns_argv(binds, argv, hostname=None, before=()):
    """argv run by sh in a private mount (and UTS) namespace after the bind
    mounts (source, target) and the shell lines `before`; the daemon
    replaces sh (exec), so the Popen pid is the daemon's."""
    lines = ["set -e"]
    for src, dst in binds:
        lines.append(f"mount --bind {shlex.quote(src)} {shlex.quote(dst)}")
    if hostname:
        lines.append(f"hostname {shlex.quote(hostname)}")
    lines += list(before)
    lines.append('exec "$@"')
    flags = ["-m", "--propagation", "private"] + (["-u"] if hostname else [])
    return [UNSHARE] + flags + ["sh", "-c", "\n".join(lines), "mta-ns"] + list(argv)


def reap_stale(parent, prefix):
    """Stop the daemons of earlier runs that died without stopping them: for
    each parent/prefix* work directory whose owner process is gone, SIGKILL
    the process groups it recorded (only processes whose program is under
    MTAS_DIR) and remove the directory."""
    for name in sorted(os.listdir(parent)):
        path = os.path.join(parent, name)
        if not name.startswith(prefix) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as f:
                os.kill(int(f.read().split()[0]), 0)
            continue  # owner alive: not ours to touch
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue
        for root, _dirs, files in os.walk(path):
            if PGIDS_FILE in files:
                with open(os.path.join(root, PGIDS_FILE)) as f:
                    for word in f.read().split():
                        _kill_group(int(word), signal.SIGKILL, only_ours=True)
        shutil.rmtree(path, ignore_errors=True)


def _kill_group(pgid, sig, only_ours=False):
    if only_ours:
        # a recorded group id may have been reused: kill only our programs
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) != pgid:
                    continue
                exe = os.readlink(f"/proc/{entry}/exe")
            except OSError:
                continue
            if exe.startswith(MTAS_DIR + "/"):
                try:
                    os.kill(int(entry), sig)
                except ProcessLookupError:
                    pass
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class _Daemons:
    """What the three servers share: work directory, certificates, ports,
    starting daemons in namespaces, waiting for banners, stopping."""
    host = "127.0.0.1"
    domain = "example.test"
    myhostname = "mx.example.test"
    software = None
    peer = None          # the peers.py check of this server
    LISTENERS = {}       # name -> one line: what it is
    TLS = {}             # name -> "implicit" | "starttls" (default "none")

    def __init__(self, workdir, users=None):
        self.workdir = os.path.abspath(workdir)
        self.users = dict(users or DEFAULT_USERS)
        self.root = os.path.join(MTAS_DIR, self.ROOT_NAME)
        self.ports = {}
        self.banners = {}
        self.tls = {n: self.TLS.get(n, "none") for n in self.LISTENERS}
        self.closed_port = None
        self.ca_file = self.cert_file = self.key_file = self.chain_file = None
        self._procs = []      # (name, Popen, log path)
        self._logs = []
        self.log_path = os.path.join(self.workdir, "daemon.log")
        self.hosts_file = os.path.join(self.workdir, "hosts")
        self.resolv_file = os.path.join(self.workdir, "resolv.conf")

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def address(self, listener):
        return f"{self.host}:{self.ports[listener]}"

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def start(self):
        why = peers.problem(self.peer)
        if why:
            raise MTAError(f"cannot run {self.software}: {why}")
        if os.geteuid() != 0:
            raise MTAError(f"{self.software} must be started as root (namespaces, "
                           f"privilege separation)")
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        _check_traversable(self.workdir)
        _write(os.path.join(self.workdir, OWNER_FILE), f"{os.getpid()}\n")
        _write(self.hosts_file, HOSTS)
        _write(self.resolv_file, RESOLV)
        self._make_certs()
        # free_ports() releases the ports before the daemon binds them:
        # another process may take one meanwhile; try again with new ones
        for attempt in range(3):
            names = list(self.LISTENERS)
            self.ports = dict(zip(names, free_ports(len(names))))
            self.closed_port = _closed_port()
            try:
                self._configure()
                self._spawn_all()
                self._wait_ready()
                return self
            except MTAError as e:
                self.stop()
                if attempt == 2 or "in use" not in str(e):
                    raise
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self):
        for _name, proc, _log in self._procs:
            _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for _name, proc, _log in self._procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # children (per-connection processes) too, whatever they do
            _kill_group(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs = []
        for f in self._logs:
            f.close()
        self._logs = []
        try:
            os.unlink(os.path.join(self.workdir, OWNER_FILE))
        except OSError:
            pass

    # ------------------------------------------------------------ internals
    def _make_certs(self):
        cert_dir = os.path.join(self.workdir, "certs")
        s = certs.make_server_set(cert_dir)
        self.ca_file, self.cert_file, self.key_file, self.chain_file = \
            s.ca_file, s.cert, s.key, s.chain
        os.chmod(cert_dir, 0o755)

    def _spawn(self, name, argv, log_path):
        log = open(log_path, "ab")
        self._logs.append(log)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self._procs.append((name, proc, log_path))
        with open(os.path.join(self.workdir, PGIDS_FILE), "a") as f:
            f.write(f"{proc.pid}\n")
        return proc

    def _failure(self, why):
        logs = "".join(f"--- {p} (tail) ---\n{_tail(p)}"
                       for p in sorted({p for _n, _pr, p in self._procs} | {self.log_path})
                       if os.path.exists(p))
        if "cannot change root filesystem propagation" in logs:
            why += (" (/ is not a mount point, as in a plain chroot: the private"
                    " namespaces need one; bind-mount the root onto itself first,"
                    " as scripts/test-fresh does)")
        return MTAError(f"{self.software} did not start: {why}\n{logs}")

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        pending = dict(self.ports)
        last = {}
        while pending:
            for name, proc, _log in self._procs:
                if proc.poll() is not None:
                    raise self._failure(f"{name} exited with status {proc.returncode}"
                                        + self._in_use_hint())
            for name, port in list(pending.items()):
                try:
                    banner = _read_banner(self.host, port, self.tls[name] == "implicit", 2.0)
                except (OSError, ssl.SSLError) as e:
                    last[name] = repr(e)
                    continue
                if banner.startswith(b"220"):
                    self.banners[name] = banner.decode(errors="replace").strip()
                    del pending[name]
                else:
                    last[name] = repr(banner)
            if not pending:
                return
            # a daemon that could not bind may retry for ever (Sendmail
            # does): a port taken meanwhile ends the wait at once
            hint = self._in_use_hint()
            if hint:
                raise self._failure("a listener could not bind" + hint)
            if time.monotonic() > deadline:
                detail = ", ".join(f"{n} (port {self.ports[n]}): {last.get(n)}" for n in pending)
                raise self._failure(f"no 220 banner after {START_TIMEOUT:.0f}s from {detail}"
                                    + self._in_use_hint())
            time.sleep(0.05)

    def _in_use_hint(self):
        """' (port in use)' when a log says a listener could not bind."""
        for _n, _p, path in self._procs:
            if "address already in use" in _tail(path, 80).lower():
                return " (port in use)"
        return ""


# ====================================================================== Exim
class Exim(_Daemons):
    """Exim 4.96 (exim4-daemon-light): one daemon, every listener a port of
    it; the ACLs pick the listener's policy by $received_port."""
    software = "Exim 4.96"
    peer = "exim"
    ROOT_NAME = "exim4"
    LISTENERS = {
        "open": "accept hosts = * in the RCPT ACL: an open relay",
        "mx": "Exim's default RCPT ACL: mail for example.test only (known "
              "users, postmaster), else 550 relay not permitted",
        "helo_ok": "the mx ACL after 'accept condition = HELO is localhost or "
                   "localhost.localdomain': EHLO localhost relays",
        "null_ok": "the mx ACL after 'accept senders = :': MAIL FROM:<> relays",
        "sender_ok": "the mx ACL after 'accept sender_domains = +local_domains': "
                     "MAIL FROM *@example.test relays",
        "submission": "STARTTLS, then AUTH PLAIN/LOGIN (plaintext authenticator, "
                      "offered only under TLS); MAIL needs TLS and AUTH (530), "
                      "the sender must be the user's own address (553)",
        "sub_nocheck": "submission without the sender check: alice may send as "
                       "bob@example.test",
        "smtps": "submission on implicit TLS (tls_on_connect_ports)",
    }
    TLS = {"submission": "starttls", "sub_nocheck": "starttls", "smtps": "implicit",
           "open": "starttls", "mx": "starttls", "helo_ok": "starttls",
           "null_ok": "starttls", "sender_ok": "starttls"}
    # listener -> the ACLs it uses (acl_smtp_mail = mail_X, acl_smtp_rcpt = rcpt_X)
    ACLS = {"open": "open", "mx": "mx", "helo_ok": "helo_ok", "null_ok": "null_ok",
            "sender_ok": "sender_ok", "submission": "submission",
            "sub_nocheck": "sub_nocheck", "smtps": "submission"}

    def __init__(self, workdir, users=None):
        super().__init__(workdir, users)
        self.dir = os.path.join(self.workdir, "exim")
        self.conf = os.path.join(self.dir, "exim.conf")
        self.spool = os.path.join(self.dir, "spool")
        self.logdir = os.path.join(self.dir, "log")
        self.mainlog = os.path.join(self.logdir, "mainlog")
        self.mailbox = os.path.join(self.dir, "mail", "mailbox")
        self.log_path = os.path.join(self.dir, "exim.stdout")
        self.exim = os.path.join(self.root, "usr", "sbin", "exim4")

    def read_log(self):
        return _read(self.mainlog) + _read(os.path.join(self.logdir, "rejectlog")) + \
            _read(os.path.join(self.logdir, "paniclog"))

    def messages(self):
        """Messages Exim received or delivered ('<=' / '=>' log lines, spool
        files, the mailbox): [] when none."""
        found = [ln for ln in _read(self.mainlog).splitlines()
                 if re.search(r" (<=|=>|->|\*\*) ", ln)]
        input_dir = os.path.join(self.spool, "input")
        if os.path.isdir(input_dir):
            for root, _d, files in os.walk(input_dir):
                found += [os.path.join(root, f) for f in files]
        if os.path.exists(self.mailbox):
            found.append(self.mailbox)
        return found

    def _configure(self):
        ex = pwd.getpwnam("Debian-exim")
        for d in (self.dir, os.path.join(self.dir, "tls"), os.path.join(self.dir, "mail")):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        for d in (self.spool, self.logdir, os.path.join(self.dir, "mail")):
            os.makedirs(d, exist_ok=True)
            os.chown(d, ex.pw_uid, ex.pw_gid)
            os.chmod(d, 0o750)
        # Exim reads the certificate when a client asks for TLS, as Debian-exim
        tls_cert = os.path.join(self.dir, "tls", "cert.pem")
        tls_key = os.path.join(self.dir, "tls", "key.pem")
        shutil.copyfile(self.chain_file, tls_cert)
        shutil.copyfile(self.key_file, tls_key)
        for f in (tls_cert, tls_key):
            os.chown(f, ex.pw_uid, ex.pw_gid)
            os.chmod(f, 0o600)
        passwd = _write(os.path.join(self.dir, "passwd"),
                        "".join(f"{u}: {pw}\n" for u, pw in self.users.items()), 0o640)
        os.chown(passwd, 0, ex.pw_gid)
        listeners = _write(os.path.join(self.dir, "listeners"),
                           "".join(f"{self.ports[n]}: {self.ACLS[n]}\n" for n in self.LISTENERS))
        p = self.ports
        all_ports = " : ".join(str(p[n]) for n in self.LISTENERS)
        sub_ports = ":".join(str(p[n]) for n in ("submission", "sub_nocheck", "smtps"))
        local_users = " : ".join(list(self.users) + ["postmaster"])
        acl_of = f"${{lookup{{$received_port}}lsearch{{{listeners}}}{{$value}}{{mx}}}}"
        advertise = (f"${{if and{{{{def:tls_in_cipher}}{{inlist{{$received_port}}"
                     f"{{{sub_ports}}}}}}}}}")
        # the password of the user $auth2 (PLAIN) or $auth1 (LOGIN), not empty
        plain_ok = ("${if and{{!eq{$auth3}{}}{eq{$auth3}{${lookup{$auth2}lsearch{"
                    + passwd + "}}}}}}")
        login_ok = ("${if and{{!eq{$auth2}{}}{eq{$auth2}{${lookup{$auth1}lsearch{"
                    + passwd + "}}}}}}")
        conf = f"""\
# written by tests/harness/mtas.py: one Exim daemon, a port per listener
primary_hostname = {self.myhostname}
domainlist local_domains = {self.domain}
domainlist relay_to_domains =
hostlist relay_from_hosts =
daemon_smtp_ports = {all_ports}
tls_on_connect_ports = {p["smtps"]}
local_interfaces = 127.0.0.1
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
log_selector = +smtp_protocol_error +smtp_syntax_error +tls_cipher +incoming_port
pid_file_path = {self.dir}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
# nothing looked up, nothing delivered (no queue runner is started)
host_lookup =
rfc1413_hosts =
helo_lookup_domains =
queue_only = true
smtp_banner = $smtp_active_hostname ESMTP Exim $version_number smtprobe-test
tls_certificate = {tls_cert}
tls_privatekey = {tls_key}
tls_advertise_hosts = *
acl_smtp_mail = mail_{acl_of}
acl_smtp_rcpt = rcpt_{acl_of}

begin acl

# the submission services: TLS, then AUTH, then the own address only
mail_submission:
  deny    message = 530 5.7.0 Must issue a STARTTLS command first
          !encrypted = *
  deny    message = 530 5.7.0 Authentication required
          !authenticated = *
  deny    message = 553 5.7.1 <$sender_address>: sender address not owned by user $authenticated_id
          !condition = ${{if eqi{{$sender_address}}{{$authenticated_id@{self.domain}}}}}
  accept

mail_sub_nocheck:
  deny    message = 530 5.7.0 Must issue a STARTTLS command first
          !encrypted = *
  deny    message = 530 5.7.0 Authentication required
          !authenticated = *
  accept

rcpt_submission:
  accept  authenticated = *
  deny    message = relay not permitted

rcpt_sub_nocheck:
  accept  authenticated = *
  deny    message = relay not permitted

# MAIL is not checked on the others
mail_open:
  accept
mail_mx:
  accept
mail_helo_ok:
  accept
mail_null_ok:
  accept
mail_sender_ok:
  accept

# the classic open relay
rcpt_open:
  accept  hosts = *

# Exim's default RCPT ACL (the parts that apply), and the holes before its
# relay check
rcpt_mx:
  deny    message = Restricted characters in address
          domains = +local_domains
          local_parts = ^[.] : ^.*[@%!/|]
  deny    message = Restricted characters in address
          domains = !+local_domains
          local_parts = ^[./|] : ^.*[@%!] : ^.*/\\\\.\\\\./
  accept  local_parts = postmaster
          domains = +local_domains
  require message = relay not permitted
          domains = +local_domains : +relay_to_domains
  require verify = recipient
  accept

rcpt_helo_ok:
  accept  condition = ${{if match_domain{{$sender_helo_name}}{{localhost : localhost.localdomain}}}}
  accept  acl = rcpt_mx

rcpt_null_ok:
  accept  senders = :
  accept  acl = rcpt_mx

rcpt_sender_ok:
  accept  sender_domains = +local_domains
  accept  acl = rcpt_mx

begin routers

local_users:
  driver = accept
  domains = +local_domains
  local_parts = {local_users}
  transport = local_file

# "remote" mail goes to a closed loopback port (and is never even tried:
# queue_only and no queue runner)
remote_closed:
  driver = manualroute
  domains = ! +local_domains
  route_list = * 127.0.0.1
  self = send
  transport = remote_closed

begin transports

local_file:
  driver = appendfile
  file = {self.mailbox}
  user = Debian-exim

remote_closed:
  driver = smtp
  port = {self.closed_port}
  allow_localhost

begin authenticators

plain_server:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = {plain_ok}
  server_set_id = $auth2
  server_advertise_condition = {advertise}

login_server:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = {login_ok}
  server_set_id = $auth1
  server_advertise_condition = {advertise}
"""
        _write(self.conf, conf, 0o644)
        check = subprocess.run([self.exim, "-C", self.conf, "-bV"], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise MTAError(f"exim -bV refused {self.conf}:\n{check.stdout[-2000:]}"
                           f"{check.stderr[-2000:]}")

    def _spawn_all(self):
        binds = [(self.hosts_file, "/etc/hosts"), (self.resolv_file, "/etc/resolv.conf")]
        # -bdf: daemon in the foreground; -C drops root to Debian-exim
        self._spawn("exim", _ns_argv(binds, [self.exim, "-C", self.conf, "-bdf"]),
                    self.log_path)

    def _failure(self, why):
        err = super()._failure(why)
        return MTAError(f"{err}\n--- {self.mainlog} (tail) ---\n{_tail(self.mainlog)}"
                        f"--- paniclog ---\n{_tail(os.path.join(self.logdir, 'paniclog'))}")

    def _in_use_hint(self):
        text = _tail(os.path.join(self.logdir, "paniclog")) + _tail(self.mainlog)
        return " (port in use)" if "Address already in use" in text else ""


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ================================================================== Sendmail
# The rules of the generated sendmail.cf that trust a client on the same
# machine ("originated locally"): removed, so that a loopback client is
# judged like a remote one. Each must match exactly once (or not at all with
# FEATURE(promiscuous_relay), which leaves some out).
SENDMAIL_LOCAL_TRUST = (
    r"^R127\.0\.0\.1\s+\$@ RELAY\s+originated locally$",
    r"^RIPv6:0:0:0:0:0:0:0:1\s+\$@ RELAY\s+originated locally$",
    r"^RIPv6:::1\s+\$@ RELAY\s+originated locally$",
    # the client's address literal ([127.0.0.1]) is one of ours (class w)
    r"^R\$=w\s+\$@ RELAY\s+\.\.\. and see if it is local$",
    # the client's name (localhost) is one of ours
    r"^R<\?> \$=w\s+\$@ RELAY$",
    # a sender @localhost is fine from a local client
    r"^R<\? \$=w> \$\*\s+\$: \$2\s+local client: ok$",
)


class Sendmail(_Daemons):
    """Sendmail 8.17 (sendmail-bin): one daemon per listener, each with its
    own sendmail.cf built by m4 from sendmail-cf, in its own mount + UTS
    namespace (see the module docstring)."""
    software = "Sendmail 8.17"
    peer = "sendmail"
    ROOT_NAME = "sendmail"
    LISTENERS = {
        "mx": "stock rules, the loopback trust removed: mail for example.test "
              "only, else 550 5.7.1 Relaying denied; refuses sender domains "
              "that do not resolve (553 5.1.8)",
        "open": "mx plus FEATURE(promiscuous_relay): relays anything (senders "
                "must still resolve)",
        "sender_ok": "mx plus FEATURE(relay_mail_from, domain) and 'From:example.test "
                     "RELAY' in the access db: MAIL FROM *@example.test relays",
    }
    FEATURES = {"mx": [], "open": ["FEATURE(`promiscuous_relay')dnl"],
                "sender_ok": ["FEATURE(`relay_mail_from', `domain')dnl"]}
    ACCESS = {"mx": "", "open": "", "sender_ok": "From:example.test\tRELAY\n"}

    def __init__(self, workdir, users=None):
        super().__init__(workdir, users)
        self.dir = os.path.join(self.workdir, "sendmail")
        self.etc_mail = os.path.join(self.root, "etc", "mail")   # inside the namespace
        self.sendmail = os.path.join(self.root, "usr", "libexec", "sendmail", "sendmail")
        self.makemap = os.path.join(self.root, "usr", "libexec", "sendmail", "makemap")
        self.cf_dir = os.path.join(self.root, "usr", "share", "sendmail", "cf")

    def conf_dir(self, listener):
        """The directory seen as MTAS_DIR/sendmail/etc/mail by that daemon."""
        return os.path.join(self.dir, listener)

    def read_log(self):
        # no syslog here: Sendmail's own output (errors at start) only
        return "".join(_read(os.path.join(self.dir, f"{n}.log")) for n in self.LISTENERS)

    def messages(self):
        """Queue files (qf/df/xf...) in any instance's queue: [] when none."""
        found = []
        for n in self.LISTENERS:
            q = os.path.join(self.conf_dir(n), "mqueue")
            if os.path.isdir(q):
                found += [os.path.join(q, f) for f in os.listdir(q)]
        return found

    def _mc(self, listener):
        e = self.etc_mail
        lines = [
            "divert(-1)",
            "# written by tests/harness/mtas.py",
            "divert(0)dnl",
            f"VERSIONID(`smtprobe tests: {listener}')dnl",
            "OSTYPE(`linux')dnl",
            f"define(`confDOMAIN_NAME', `{self.myhostname}')dnl",
            f"define(`QUEUE_DIR', `{e}/mqueue')dnl",
            f"define(`confPID_FILE', `{e}/sendmail.pid')dnl",
            f"define(`STATUS_FILE', `{e}/statistics')dnl",
            f"define(`HELP_FILE', `{e}/helpfile')dnl",
            f"define(`ALIAS_FILE', `{e}/aliases')dnl",
            f"define(`confCR_FILE', `-o {e}/relay-domains')dnl",
            f"define(`confSERVICE_SWITCH_FILE', `{e}/service.switch')dnl",
            # queue only, and no queue runner: nothing is ever delivered
            "define(`confDELIVERY_MODE', `queueonly')dnl",
            "define(`confTO_IDENT', `0s')dnl",
            "define(`confCONNECTION_RATE_THROTTLE', `0')dnl",
            "define(`confQUEUE_LA', `100')dnl",
            "define(`confREFUSE_LA', `100')dnl",
            "define(`confDELAY_LA', `0')dnl",
            # no SASL set up: offer no AUTH (the packaged sendmail.mc offers
            # none either until sasl.m4 is included)
            "define(`confAUTH_MECHANISMS', `')dnl",
            "define(`SMART_HOST', `relay:[127.0.0.1]')dnl",
            f"define(`RELAY_MAILER_ARGS', `TCP $h {self.closed_port}')dnl",
            # the one listener; no MSA on port 587 (of every address)
            f"DAEMON_OPTIONS(`Port={self.ports[listener]}, Addr=127.0.0.1, Name=MTA')dnl",
            "FEATURE(`no_default_msa')dnl",
            f"LOCAL_DOMAIN(`{self.domain}')dnl",
            f"FEATURE(`access_db', `hash -T<TMPF> {e}/access')dnl",
        ] + self.FEATURES[listener] + ["MAILER(`local')dnl", "MAILER(`smtp')dnl", ""]
        return "\n".join(lines)

    def _cf(self, listener):
        m4 = subprocess.run([M4, f"-D_CF_DIR_={self.cf_dir}/",
                             os.path.join(self.cf_dir, "m4", "cf.m4"), "-"],
                            input=self._mc(listener), capture_output=True, text=True,
                            timeout=30)
        if m4.returncode != 0 or not m4.stdout:
            raise MTAError(f"m4 could not build sendmail.cf for {listener}: {m4.stderr[-2000:]}")
        lines = m4.stdout.splitlines()
        # promiscuous_relay leaves some of these rules out
        promiscuous = any("promiscuous_relay" in f for f in self.FEATURES[listener])
        for pat in SENDMAIL_LOCAL_TRUST:
            hits = [i for i, ln in enumerate(lines) if re.match(pat, ln)]
            if promiscuous and not hits:
                continue
            if len(hits) != 1:
                raise MTAError(f"sendmail.cf for {listener}: want one line matching {pat!r}, "
                               f"found {len(hits)} (did sendmail-cf change?)")
            lines[hits[0]] = "# removed by tests/harness/mtas.py: " + lines[hits[0]]
        return "\n".join(lines) + "\n"

    def _configure(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        aliases = "".join(f"{a}: /dev/null\n" for a in
                          list(self.users) + ["postmaster", "root", "MAILER-DAEMON", "abuse"])
        helpfile = os.path.join(self.root, "etc", "mail", "helpfile")
        for n in self.LISTENERS:
            d = self.conf_dir(n)
            if os.path.isdir(d):
                shutil.rmtree(d)
            os.makedirs(os.path.join(d, "mqueue"))
            os.chmod(d, 0o755)
            os.chmod(os.path.join(d, "mqueue"), 0o700)
            _write(os.path.join(d, "sendmail.mc"), self._mc(n))
            _write(os.path.join(d, "sendmail.cf"), self._cf(n))
            _write(os.path.join(d, "access"), self.ACCESS[n])
            _write(os.path.join(d, "aliases"), aliases)
            _write(os.path.join(d, "local-host-names"), self.domain + "\n")
            _write(os.path.join(d, "service.switch"), "hosts files\naliases files\n")
            _write(os.path.join(d, "statistics"), "", 0o600)
            shutil.copyfile(helpfile, os.path.join(d, "helpfile"))

    def _spawn_all(self):
        e = self.etc_mail
        cf = f"{e}/sendmail.cf"
        for n in self.LISTENERS:
            binds = [(self.conf_dir(n), e), (self.hosts_file, "/etc/hosts"),
                     (self.resolv_file, "/etc/resolv.conf")]
            q = shlex.quote
            # the access and aliases databases, built as the daemon sees them
            before = [f"{q(self.makemap)} -C {q(cf)} hash {q(e + '/access')} "
                      f"< {q(e + '/access')}",
                      f"{q(self.sendmail)} -C {q(cf)} -bi >/dev/null"]
            argv = _ns_argv(binds, [self.sendmail, "-C", cf, "-bD"],
                            hostname=self.myhostname, before=before)
            self._spawn(f"sendmail {n}", argv, os.path.join(self.dir, f"{n}.log"))


# ================================================================= OpenSMTPD
class OpenSMTPD(_Daemons):
    """OpenSMTPD 6.8.0p2: one daemon, a tagged listener per configuration
    (match tag ... rules), in a private mount + UTS namespace for its fixed
    paths (see the module docstring)."""
    software = "OpenSMTPD 6.8"
    peer = "opensmtpd"
    ROOT_NAME = "opensmtpd"
    LISTENERS = {
        "open": "match from any for any action relay: an open relay",
        "mx": "match from any for domain example.test action local only: "
              "relaying -> 550 Invalid recipient",
        "sender_ok": "mx plus match from any mail-from \"@example.test\" for any "
                     "action relay: MAIL FROM *@example.test relays",
        "tls_broken": "mx with 'listen ... tls pki': advertises STARTTLS, but "
                      "Debian 12's OpenSMTPD cannot finish a server handshake "
                      "with OpenSSL 3 (internal-error alert): STARTTLS is broken",
    }
    TLS = {"tls_broken": "starttls"}

    def __init__(self, workdir, users=None):
        super().__init__(workdir, users)
        self.dir = os.path.join(self.workdir, "opensmtpd")
        self.conf = os.path.join(self.dir, "smtpd.conf")
        self.var = os.path.join(self.dir, "var")
        self.mail_root = os.path.join(self.dir, "mail")
        self.log_path = os.path.join(self.dir, "smtpd.log")
        self.smtpd = os.path.join(self.root, "usr", "sbin", "smtpd")

    def messages(self):
        """Queued envelopes and deliveries (the queue, the Maildirs, 'smtp
        message' / 'delivery' log lines): [] when none."""
        found = [ln for ln in _read(self.log_path).splitlines()
                 if " smtp message " in ln or " delivery " in ln]
        for sub in ("queue", "incoming", "temporary"):
            d = os.path.join(self.var, "spool", "smtpd", sub)
            if os.path.isdir(d):
                for root, _dirs, files in os.walk(d):
                    found += [os.path.join(root, f) for f in files]
        if os.path.isdir(self.mail_root):
            for root, _dirs, files in os.walk(self.mail_root):
                found += [os.path.join(root, f) for f in files]
        return found

    def _configure(self):
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        for d, mode in ((self.dir, 0o755), (self.var, 0o755),
                        (os.path.join(self.var, "spool"), 0o755),
                        (os.path.join(self.var, "lib"), 0o755),
                        (os.path.join(self.var, "lib", "opensmtpd"), 0o755),
                        (os.path.join(self.var, "lib", "opensmtpd", "empty"), 0o711),
                        (os.path.join(self.var, "run"), 0o755),
                        (os.path.join(self.var, "mail"), 0o1777),
                        (os.path.join(self.dir, "tls"), 0o700),
                        (self.mail_root, 0o755)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        u = pwd.getpwnam("opensmtpd")
        g = grp.getgrnam("opensmtpd")
        users = []
        for name in self.users:
            home = os.path.join(self.mail_root, name)
            os.makedirs(home, exist_ok=True)
            os.chown(home, u.pw_uid, g.gr_gid)
            users.append(f"{name} {u.pw_uid}:{g.gr_gid}:{home}\n")
        users_file = _write(os.path.join(self.dir, "users"), "".join(users))
        first = next(iter(self.users))
        aliases = _write(os.path.join(self.dir, "aliases"),
                         f"postmaster: {first}\nabuse: {first}\n")
        cert = os.path.join(self.dir, "tls", "cert.pem")
        key = os.path.join(self.dir, "tls", "key.pem")
        shutil.copyfile(self.chain_file, cert)
        shutil.copyfile(self.key_file, key)
        os.chmod(key, 0o600)
        p = self.ports
        h = self.myhostname
        conf = f"""\
# written by tests/harness/mtas.py: one smtpd, a tagged listener per configuration
pki {h} cert "{cert}"
pki {h} key "{key}"
table aliases file:{aliases}
table users file:{users_file}

listen on 127.0.0.1 port {p["open"]} tag "open" hostname {h}
listen on 127.0.0.1 port {p["mx"]} tag "mx" hostname {h}
listen on 127.0.0.1 port {p["sender_ok"]} tag "sender_ok" hostname {h}
listen on 127.0.0.1 port {p["tls_broken"]} tls pki {h} tag "tls_broken" hostname {h}

action "local" maildir "{self.mail_root}/%{{user.username}}/Maildir" \\
    alias <aliases> userbase <users>
# "relaying" goes to a closed loopback port, never to an MX
action "relay" relay host smtp://127.0.0.1:{self.closed_port}

match from any for domain "{self.domain}" action "local"
match tag "open" from any for any action "relay"
match tag "sender_ok" from any mail-from "@{self.domain}" for any action "relay"
"""
        _write(self.conf, conf)
        check = subprocess.run([self.smtpd, "-n", "-f", self.conf], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise MTAError(f"smtpd -n refused {self.conf}:\n{check.stdout[-2000:]}"
                           f"{check.stderr[-2000:]}")

    def _spawn_all(self):
        binds = [(self.var, "/var"),
                 (os.path.join(self.root, "usr", "libexec"), "/usr/libexec"),
                 (self.hosts_file, "/etc/hosts"), (self.resolv_file, "/etc/resolv.conf")]
        # -d: foreground, logs to stderr
        self._spawn("smtpd", _ns_argv(binds, [self.smtpd, "-d", "-f", self.conf],
                                      hostname=self.myhostname), self.log_path)


ALL = (Exim, Sendmail, OpenSMTPD)
