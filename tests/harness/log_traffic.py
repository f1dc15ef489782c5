#!/usr/bin/python3
"""log_traffic: real mail-server logs under known traffic, for `smtprobe logs`
(issue 15): the samples in tests/data/logs/ and the truth about them.

    python3 tests/harness/log_traffic.py OUTDIR [--only NAME ...]   (as root)

starts the harness's real servers one after another, each privately on
127.0.0.1 (mailservers.py: Postfix + Dovecot SASL; mtas.py: Exim, Sendmail,
OpenSMTPD), drives the same scripted traffic at each (as far as the server
supports it), stops it and copies its logs into OUTDIR, each with a
NAME.expected.json beside it that says exactly what was sent: every session
(kind, source address, listener, user, the reply that decided it) and the
counts by kind, by source address and by user.

    runs (--only):         logs written
    postfix                postfix.log (maillog_file = /dev/stdout, the harness's
                           own setting), dovecot.log (Dovecot's log_path)
    postfix-syslog         postfix-syslog.log (Postfix and Dovecot through syslog,
                           rsyslog's Debian 12 format: RFC 3339 timestamps),
                           postfix-syslog-traditional.log (the same lines,
                           RSYSLOG_TraditionalFileFormat: "Dec  7 05:07:24")
    exim                   exim-mainlog.log, exim-rejectlog.log
    sendmail               sendmail.log (RFC 3339), sendmail-traditional.log
    opensmtpd              opensmtpd.log (smtpd -d: stderr, no timestamps)
    opensmtpd-syslog       opensmtpd-syslog.log (smtpd -F: syslog, RFC 3339)
    exchange               exchange-smtp-receive.log, exchange-msgtrk.log:
                           CONSTRUCTED from Microsoft's documented formats
                           (Exchange cannot run here; see ExchangeConstructed)

As a module (for the e2e tests of `smtprobe logs`):

    with PrivateSyslog(dir) as sl:    rsyslogd in the foreground, its own socket
        sl.ns_lines()                 shell lines giving a mount namespace a private
                                      /dev whose /dev/log is that socket
    RUNS[name](workdir)               -> Run: .logs {name: path}, .record (the JSON)
    Traffic(target).run(plan(target)) the traffic itself

The clients. Python's smtplib / ssl / socket, every session on its own TCP
connection whose source address is bound to 127.0.0.X (X >= 10: Linux routes
all of 127/8 to lo); the servers listen on 127.0.0.1 only, so a log line
from 127.0.0.1 is never ours: it is the harness's readiness probe (one
banner read per listener at start, recorded in the JSON as startup_probes).
Nothing is sent to any other address.

Nothing leaves the machine. Postfix delivers to discard: (mailservers.py),
Exim and Sendmail queue only and are given one queue run here, which
delivers local mail into files and tries "remote" mail at a closed
127.0.0.1 port (a deferral), OpenSMTPD delivers to Maildirs under the work
directory; recipients outside example.test are in relay-test.invalid,
which cannot resolve, and every relay attempt without AUTH is refused.
The servers' /etc/resolv.conf (namespaces) points at 127.0.0.1.

Syslog. Sendmail logs only through syslog(3), to /dev/log (this machine has
none, and the system's must not be touched). PrivateSyslog runs rsyslogd
-n with its own config: imuxsock on a socket in the work directory (the
system socket off), mail.* to files in the work directory. The server runs
in a private mount namespace (mtas._ns_argv) where a tmpfs covers /dev,
holding the few device nodes the daemons use (null, zero, full, random,
urandom, tty, made with mknod) and /dev/log, a symlink to the private
socket. Mount propagation is private: the host's /dev never sees it. No
LD_PRELOAD, nothing on the host changes. OpenSMTPD's -F and Postfix and
Dovecot without maillog_file / log_path use the same way for their syslog
samples.

What differs from the stock harness servers (on purpose, for the logs):
  - Exim: log_selector adds +smtp_connection (connection lines; Exim's
    default logs none), exim_path is set (Exim re-executes itself) and a
    retry rule added (a deferral stays a deferral) - the rest is mtas.Exim;
  - Sendmail: a "submission" daemon besides mx, and both offer STARTTLS
    (confSERVER_CERT...) and AUTH PLAIN/LOGIN after STARTTLS (Cyrus SASL,
    auxprop sasldb: a sasldb2 written with Perl's DB_File, no saslpasswd2),
    authenticated users may relay (TRUST_AUTH_MECH); mtas.Sendmail has
    neither TLS nor AUTH. Sendmail checks no sender ownership. The daemons
    run with -L sm-mta (Debian's tag) and 127.0.0.30 has a name in the
    namespace's /etc/hosts (the others have no PTR: a different refusal);
  - Postfix and Dovecot in postfix-syslog: logging through syslog
    (maillog_file and log_path unset; Dovecot's instance_name "dovecot",
    its syslog tag) - the listeners are mailservers.py's.
  - OpenSMTPD: -F (foreground, syslog) for opensmtpd-syslog; smtpd -d, the
    harness's way, for opensmtpd.
"""
import argparse
import base64
import collections
import email.message
import email.utils
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mailservers  # noqa: E402
import mtas  # noqa: E402
from mailservers import MailServers, _write  # noqa: E402
from mtas import Exim, OpenSMTPD, Sendmail, _ns_argv  # noqa: E402

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
# the host name rsyslog writes in every line (the servers' own is mx.example.test)
SYSLOG_HOSTNAME = "mx"
TIMEOUT = 20.0
DOMAIN = "example.test"
EXTERNAL = "relay-test.invalid"       # cannot resolve: nothing can go there
HELO_DOMAIN = "example.net"
# the Debian packages behind each run (README and JSON)
PACKAGES = {
    "postfix": ["postfix", "dovecot-core", "dovecot-lmtpd"],
    "postfix-syslog": ["postfix", "dovecot-core", "dovecot-lmtpd", "rsyslog"],
    "exim": ["exim4-daemon-light"],
    "sendmail": ["sendmail-bin", "libsasl2-modules", "rsyslog"],
    "opensmtpd": ["opensmtpd"],
    "opensmtpd-syslog": ["opensmtpd", "rsyslog"],
    "exchange": [],
}


class TrafficError(RuntimeError):
    pass


# ===================================================================== syslog
class PrivateSyslog:
    """rsyslogd -n with its own configuration: one input socket (self.socket)
    in `workdir`, mail.* to self.log (Debian 12's format, RFC 3339) and
    self.traditional_log (RSYSLOG_TraditionalFileFormat); never /dev/log."""

    def __init__(self, workdir, hostname=SYSLOG_HOSTNAME):
        self.dir = os.path.abspath(workdir)
        self.hostname = hostname
        self.socket = os.path.join(self.dir, "log.sock")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pid_file = os.path.join(self.dir, "rsyslogd.pid")
        self.log = os.path.join(self.dir, "mail.log")
        self.traditional_log = os.path.join(self.dir, "mail-traditional.log")
        self.stdout = os.path.join(self.dir, "rsyslogd.out")
        self._proc = None
        self._out = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        if not os.access(RSYSLOGD, os.X_OK):
            raise TrafficError(f"{RSYSLOGD} missing: run scripts/install-deps (package rsyslog)")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        q = json.dumps
        _write(self.conf, f"""\
# written by tests/harness/log_traffic.py: a private rsyslogd, never /dev/log
global(workDirectory={q(self.dir)} localHostName={q(self.hostname)})
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket={q(self.socket)} RateLimit.Interval="0")
mail.* action(type="omfile" file={q(self.log)})
mail.* action(type="omfile" file={q(self.traditional_log)}
              template="RSYSLOG_TraditionalFileFormat")
""")
        self._out = open(self.stdout, "ab")
        self._proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pid_file],
                                      stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise TrafficError(f"rsyslogd did not start:\n{mailservers._tail(self.stdout)}")
            time.sleep(0.05)
        # the files exist from the start (the servers may log nothing)
        for f in (self.log, self.traditional_log):
            open(f, "a").close()

    def flush(self, quiet=0.5, limit=10.0):
        """Wait until the log has not grown for `quiet` seconds."""
        deadline = time.monotonic() + limit
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            size = os.path.getsize(self.log)
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.05)

    def stop(self):
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            self._proc = None
        if self._out:
            self._out.close()
            self._out = None

    def ns_lines(self):
        """Shell lines (run inside a private mount namespace, as root) that
        cover /dev with a tmpfs holding the device nodes the daemons need and
        /dev/log -> self.socket."""
        lines = ["mount -t tmpfs -o mode=755,size=64k smtprobe-dev /dev"]
        for name, major, minor in (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7),
                                   ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)):
            lines.append(f"mknod -m 666 /dev/{name} c {major} {minor}")
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                             ("log", self.socket)):
            lines.append(f"ln -s {shlex.quote(target)} /dev/{name}")
        return lines


def ns_wrap(syslog, argv, binds=(), hostname=None, before=()):
    """argv in a private mount namespace whose /dev/log is syslog's socket."""
    return _ns_argv(list(binds), argv, hostname=hostname,
                    before=syslog.ns_lines() + list(before))


# ================================================================= servers
class SyslogMailServers(MailServers):
    """mailservers.MailServers (the same listeners), Postfix and Dovecot
    logging through syslog(3) to a PrivateSyslog, each in a private mount
    namespace (ns_wrap)."""

    def __init__(self, workdir, syslog, users=None):
        super().__init__(workdir, users)
        self.syslog = syslog
        # Dovecot's syslog ident is its instance_name: "dovecot", as on a
        # Debian host (mailservers.py makes it unique for the process titles;
        # base_dir and state_dir are private anyway)
        self.instance_name = "dovecot"

    def _write_postfix_config(self):
        super()._write_postfix_config()
        main = os.path.join(self.postfix_dir, "main.cf")
        with open(main) as f:
            conf = f.read()
        conf, n = re.subn(r"(?m)^maillog_file = /dev/stdout$",
                          "# maillog_file unset (tests/harness/log_traffic.py): syslog",
                          conf)
        if n != 1:
            raise TrafficError("mailservers.py's main.cf has no 'maillog_file = /dev/stdout'")
        _write(main, conf)

    def _write_dovecot_config(self):
        super()._write_dovecot_config()
        with open(self.dovecot_conf) as f:
            conf = f.read()
        conf = re.sub(r"(?m)^(log_path|info_log_path) = .*$", r"\1 = syslog", conf)
        _write(self.dovecot_conf, conf)

    def _start_postfix(self):
        log = open(self.postfix_log, "ab")
        self._logs.append(log)
        env = dict(os.environ, MAIL_CONFIG=self.postfix_dir)
        self._postfix = subprocess.Popen(
            ns_wrap(self.syslog, [mailservers.POSTFIX, "-c", self.postfix_dir, "start-fg"]),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def _start_dovecot(self):
        out = open(self.dovecot_stdout, "ab")
        self._logs.append(out)
        self._dovecot = subprocess.Popen(
            ns_wrap(self.syslog, [mailservers.DOVECOT, "-c", self.dovecot_conf, "-F"]),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)


class LogExim(Exim):
    """mtas.Exim with connection logging (+smtp_connection) added, its own
    path (exim_path: Exim re-executes itself, for bounces and at exit; the
    default /usr/sbin/exim4 is not there) and a retry rule (without one a
    deferral is a bounce at once: "retry timeout exceeded")."""

    def _configure(self):
        super()._configure()
        with open(self.conf) as f:
            conf = f.read()
        conf, n = re.subn(r"(?m)^(log_selector = .*)$",
                          f"\\1 +smtp_connection\nexim_path = {self.exim}", conf)
        if n != 1:
            raise TrafficError("mtas.Exim's configuration has no log_selector line")
        conf += "\nbegin retry\n\n*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h\n"
        _write(self.conf, conf)
        check = subprocess.run([self.exim, "-C", self.conf, "-bV"], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise TrafficError(f"exim -bV refused {self.conf}:\n{check.stdout}{check.stderr}")

    def queue_run(self):
        """One queue run (exim -qf) in the daemon's namespace: local mail into
        the mailbox file, the rest tried at a closed 127.0.0.1 port."""
        binds = [(self.hosts_file, "/etc/hosts"), (self.resolv_file, "/etc/resolv.conf")]
        p = subprocess.run(_ns_argv(binds, [self.exim, "-C", self.conf, "-qf"]),
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise TrafficError(f"exim -qf failed: {p.stdout}{p.stderr}")


def _sasldb(path, users, realm):
    """A Cyrus sasldb2 (Berkeley DB hash, as libsasldb reads it): keys
    'user\\0realm\\0userPassword'. Written with Perl's DB_File (perl-base's
    libdb5.3), so no saslpasswd2 (sasl2-bin) is needed."""
    script = ('use DB_File; use Fcntl; my $f = shift; my %h; '
              'tie(%h, "DB_File", $f, O_RDWR|O_CREAT, 0600, $DB_HASH) or die "$f: $!"; '
              'while (<STDIN>) { chomp; my ($u, $r, $p) = split /\\t/; '
              '$h{"$u\\0$r\\0userPassword"} = $p; } untie %h;')
    if os.path.exists(path):
        os.unlink(path)
    text = "".join(f"{u}\t{realm}\t{pw}\n" for u, pw in users.items())
    subprocess.run(["perl", "-e", script, path], input=text, text=True, check=True, timeout=30)
    os.chmod(path, 0o600)


class LogSendmail(Sendmail):
    """mtas.Sendmail, syslog through a PrivateSyslog, with STARTTLS on both
    daemons and a submission daemon: AUTH PLAIN/LOGIN after STARTTLS only
    (AuthOptions p), Cyrus SASL auxprop sasldb (Sendmail.conf in a private
    copy of the SASL plugin directory bind-mounted over the system's, in the
    namespace only), authenticated clients may relay."""
    LISTENERS = {
        "mx": mtas.Sendmail.LISTENERS["mx"] + "; STARTTLS offered",
        "submission": "mx plus AUTH PLAIN/LOGIN after STARTTLS (sasldb); an "
                      "authenticated client relays (TRUST_AUTH_MECH)",
    }
    TLS = {"mx": "starttls", "submission": "starttls"}
    FEATURES = {"mx": [], "submission": []}
    ACCESS = {"mx": "", "submission": ""}
    SASL_PLUGINS = os.path.join("/usr/lib", sysconfig.get_config_var("MULTIARCH") or
                                "x86_64-linux-gnu", "sasl2")

    def __init__(self, workdir, syslog, users=None):
        super().__init__(workdir, users)
        self.syslog = syslog
        self.sasl_dir = os.path.join(self.workdir, "sasl2")

    def _mc(self, listener):
        e = self.etc_mail
        mc = super()._mc(listener)
        tls = [f"define(`confCACERT_PATH', `{e}')dnl",
               f"define(`confCACERT', `{e}/ca.pem')dnl",
               f"define(`confSERVER_CERT', `{e}/cert.pem')dnl",
               f"define(`confSERVER_KEY', `{e}/key.pem')dnl"]
        if listener == "submission":
            tls += ["define(`confAUTH_OPTIONS', `A p')dnl",
                    "TRUST_AUTH_MECH(`PLAIN LOGIN')dnl"]
            mc = mc.replace("define(`confAUTH_MECHANISMS', `')dnl",
                            "define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl")
        return mc.replace("FEATURE(`no_default_msa')dnl",
                          "FEATURE(`no_default_msa')dnl\n" + "\n".join(tls))

    def _configure(self):
        super()._configure()
        # 127.0.0.30 has a name (both ways, /etc/hosts in the namespace):
        # relaying from it is refused for good (550 5.7.1 Relaying denied);
        # the other clients have none, and their PTR lookup fails for the
        # time being (the namespace's resolver is 127.0.0.1, where nothing
        # answers): 450 4.4.0 Relaying temporarily denied
        with open(self.hosts_file, "a") as f:
            f.write("127.0.0.30 relay30.example.net\n")
        for n in self.LISTENERS:
            d = self.conf_dir(n)
            shutil.copyfile(self.ca_file, os.path.join(d, "ca.pem"))
            shutil.copyfile(self.chain_file, os.path.join(d, "cert.pem"))
            shutil.copyfile(self.key_file, os.path.join(d, "key.pem"))
            os.chmod(os.path.join(d, "key.pem"), 0o600)
            _sasldb(os.path.join(d, "sasldb2"), self.users, self.myhostname)
        # the SASL plugin directory, with Sendmail.conf (its config path is
        # /etc/sasl2:/etc/sasl:<plugin dir>:/usr/lib/sasl2)
        if os.path.isdir(self.sasl_dir):
            shutil.rmtree(self.sasl_dir)
        shutil.copytree(self.SASL_PLUGINS, self.sasl_dir, symlinks=True)
        os.chmod(self.sasl_dir, 0o755)
        _write(os.path.join(self.sasl_dir, "Sendmail.conf"), f"""\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {self.etc_mail}/sasldb2
mech_list: PLAIN LOGIN
""")

    def _spawn_all(self):
        cf = f"{self.etc_mail}/sendmail.cf"
        for n in self.LISTENERS:
            # -L sm-mta: the syslog tag of Debian's daemon (its init script's)
            argv = ns_wrap(self.syslog, [self.sendmail, "-L", "sm-mta", "-C", cf, "-bD"],
                           **self._ns(n))
            self._spawn(f"sendmail {n}", argv, os.path.join(self.dir, f"{n}.log"))

    def _ns(self, listener):
        e = self.etc_mail
        cf = f"{e}/sendmail.cf"
        q = shlex.quote
        binds = [(self.conf_dir(listener), e), (self.hosts_file, "/etc/hosts"),
                 (self.resolv_file, "/etc/resolv.conf"), (self.sasl_dir, self.SASL_PLUGINS)]
        before = [f"{q(self.makemap)} -C {q(cf)} hash {q(e + '/access')} < {q(e + '/access')}",
                  f"{q(self.sendmail)} -C {q(cf)} -bi >/dev/null"]
        return dict(binds=binds, hostname=self.myhostname, before=before)

    def queue_run(self):
        """One queue run per daemon (sendmail -q, in the foreground): local
        mail to its alias (/dev/null), the rest to the smart host, a closed
        127.0.0.1 port."""
        cf = f"{self.etc_mail}/sendmail.cf"
        for n in self.LISTENERS:
            ns = self._ns(n)
            ns["before"] = []
            p = subprocess.run(ns_wrap(self.syslog, [self.sendmail, "-L", "sm-mta", "-C", cf,
                                                     "-q"], **ns),
                               capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                raise TrafficError(f"sendmail -q ({n}) failed: {p.stdout}{p.stderr}")


class SyslogOpenSMTPD(OpenSMTPD):
    """mtas.OpenSMTPD run with -F (foreground, logging through syslog) in a
    namespace whose /dev/log is a PrivateSyslog's."""

    def __init__(self, workdir, syslog, users=None):
        super().__init__(workdir, users)
        self.syslog = syslog

    def _spawn_all(self):
        binds = [(self.var, "/var"),
                 (os.path.join(self.root, "usr", "libexec"), "/usr/libexec"),
                 (self.hosts_file, "/etc/hosts"), (self.resolv_file, "/etc/resolv.conf")]
        self._spawn("smtpd", ns_wrap(self.syslog, [self.smtpd, "-F", "-f", self.conf],
                                     binds=binds, hostname=self.myhostname), self.log_path)


# ================================================================= traffic
class Target:
    """What the traffic needs to know of one server: its address and ports,
    which listener plays which role, and what it supports.

        mx           unauthenticated mail: relay attempts, local delivery,
                     unknown recipients, the TLS sessions (unless tls_listener)
        submission   AUTH (after STARTTLS, or implicit TLS: submission_tls);
                     None: no AUTH sessions
        defer        a second relay-denied listener (Postfix's 454), or None
        lmtp_port    Dovecot's LMTP port, or None
        tls_listener where the TLS sessions go (default mx); None: no TLS
        tls_works    False: every handshake fails (OpenSMTPD's tls_broken)
        sender_check the submission service refuses a sender the user does not own
        tls_required the submission service refuses MAIL before STARTTLS (530)
        unknown_rcpt_refused  an unknown local user is refused at RCPT
    """

    def __init__(self, name, srv, mx, submission=None, submission_tls="starttls",
                 defer=None, lmtp_port=None, tls_listener="mx", tls_works=True,
                 sender_check=False, tls_required=False, unknown_rcpt_refused=True):
        self.name = name
        self.host = srv.host
        self.ports = dict(srv.ports)
        self.ca_file = srv.ca_file
        self.users = dict(srv.users)
        self.mx, self.submission, self.submission_tls = mx, submission, submission_tls
        self.defer, self.lmtp_port = defer, lmtp_port
        self.tls_listener, self.tls_works = tls_listener, tls_works
        self.sender_check, self.tls_required = sender_check, tls_required
        self.unknown_rcpt_refused = unknown_rcpt_refused


def S(kind, src, listener="mx", **kw):
    """One session of a plan."""
    return dict(kind=kind, src=src, listener=listener, **kw)


def plan(t):
    """The sessions for target t, in order (see README.md in tests/data/logs
    for the table). Every source address is 127.0.0.X with X >= 10; each
    kind has its own addresses, so the counts by address follow."""
    p = []
    pw = t.users
    # clients that only connect
    p += [S("connect_quit", "127.0.0.60"), S("connect_quit", "127.0.0.60"),
          S("connect_quit", "127.0.0.61"), S("ehlo_drop", "127.0.0.61")]
    if t.submission:
        sub = t.submission
        p += [S("auth_ok", "127.0.0.10", sub, user="alice", mech="PLAIN",
                sender="alice@example.test", rcpt="bob@example.test"),
              S("auth_ok", "127.0.0.10", sub, user="alice", mech="PLAIN"),
              S("auth_ok", "127.0.0.11", sub, user="bob", mech="LOGIN",
                sender="bob@example.test", rcpt=f"friend@{EXTERNAL}"),
              S("auth_ok", "127.0.0.11", sub, user="bob", mech="PLAIN"),
              S("auth_ok", "127.0.0.12", sub, user="alice", mech="LOGIN")]
        if t.sender_check:
            p += [S("sender_mismatch", "127.0.0.10", sub, user="alice", mech="PLAIN",
                    sender="bob@example.test", rcpt="carol@example.test"),
                  S("sender_mismatch", "127.0.0.11", sub, user="bob", mech="LOGIN",
                    sender="alice@example.test", rcpt="carol@example.test")]
        # a brute force on alice from one address: a different wrong password each time
        p += [S("auth_fail_password", "127.0.0.20", sub, user="alice", mech="PLAIN",
                password=f"guess-{i}") for i in range(1, 5)]
        p += [S("auth_fail_password", "127.0.0.21", sub, user="bob", mech="LOGIN",
                password="bob-secret-1")]
        # "admin" tried from three addresses; two more unknown users
        p += [S("auth_fail_unknown", "127.0.0.22", sub, user="admin", mech="PLAIN",
                password="admin"),
              S("auth_fail_unknown", "127.0.0.23", sub, user="admin", mech="PLAIN",
                password="123456"),
              S("auth_fail_unknown", "127.0.0.24", sub, user="admin", mech="LOGIN",
                password="password"),
              S("auth_fail_unknown", "127.0.0.22", sub, user="test", mech="PLAIN",
                password="test"),
              S("auth_fail_unknown", "127.0.0.25", sub, user="carol", mech="PLAIN",
                password="carol")]
        for u in p:
            if u["kind"] in ("auth_ok", "sender_mismatch"):
                u["password"] = pw[u["user"]]
        if t.tls_required and t.submission_tls == "starttls":
            p += [S("mail_before_starttls", "127.0.0.26", sub, sender="alice@example.test",
                    rcpt="bob@example.test")]
    # relay attempts without AUTH
    p += [S("relay_denied", "127.0.0.30", sender="promo@example.net",
            rcpt=f"victim{i}@{EXTERNAL}") for i in range(1, 4)]
    p += [S("relay_denied", "127.0.0.31", sender="info@example.net",
            rcpt=f"victim{i}@{EXTERNAL}") for i in range(4, 6)]
    if t.defer:
        p += [S("relay_denied", "127.0.0.32", t.defer, sender="info@example.net",
                rcpt=f"victim{i}@{EXTERNAL}") for i in range(6, 8)]
    # mail for local users, without AUTH
    p += [S("local_delivery", "127.0.0.40", sender="friend@example.net",
            rcpt="alice@example.test"),
          S("local_delivery", "127.0.0.40", sender="friend@example.net",
            rcpt="bob@example.test"),
          S("local_delivery", "127.0.0.41", sender="news@example.net",
            rcpt="alice@example.test")]
    if t.unknown_rcpt_refused:
        p += [S("unknown_recipient", "127.0.0.42", sender="friend@example.net",
                rcpt="nosuchuser@example.test")]
    if t.lmtp_port:
        p += [S("lmtp_delivery", "127.0.0.43", "lmtp", sender="friend@example.net",
                rcpt="alice@example.test")]
    # TLS: four ways to fail a handshake, two that succeed
    if t.tls_listener:
        tl = t.tls_listener
        p += [S("tls_garbage", "127.0.0.50", tl), S("tls_eof", "127.0.0.51", tl),
              S("tls_unknown_ca", "127.0.0.52", tl), S("tls_tls10_client", "127.0.0.53", tl),
              S("tls_good_client", "127.0.0.54", tl), S("tls_good_client", "127.0.0.55", tl)]
    for i, s in enumerate(p, 1):
        s["n"] = i
    return p


def _reply(f):
    """(code, text) of one SMTP reply read from the binary file f."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise TrafficError("connection closed while waiting for a reply"
                               + (f" (so far {lines!r})" if lines else ""))
        line = line.decode(errors="replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), " ".join(ln[4:] for ln in lines)


class Raw:
    """A plain socket session, for the TLS sessions that go wrong."""

    def __init__(self, host, port, src, helo):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT,
                                             source_address=(src, 0))
        self.f = self.sock.makefile("rb")
        self.banner = _reply(self.f)
        self.helo = helo

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return _reply(self.f)

    def starttls(self):
        code, text = self.cmd(f"EHLO {self.helo}")
        if code != 250 or "STARTTLS" not in text.upper():
            raise TrafficError(f"no STARTTLS offered: {code} {text}")
        return self.cmd("STARTTLS")

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def _text(msg):
    return msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)


def _b64(s):
    return base64.b64encode(s.encode()).decode()


class Traffic:
    """Runs a plan against a Target; each session's record says what
    happened (`result`: the reply that decided it, `tls`: the client's view
    of the handshake) and whether it went as intended (a session that does
    not raises TrafficError: the counts must be the plan's)."""

    def __init__(self, target, pause=0.05):
        self.t = target
        self.pause = pause
        self.records = []

    def run(self, sessions):
        for s in sessions:
            rec = dict(s)
            rec["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            helo = f"host{s['src'].rsplit('.', 1)[1]}.{HELO_DOMAIN}"
            rec["helo"] = helo
            getattr(self, "_" + s["kind"])(s, rec, helo)
            rec.pop("password", None)        # the JSON keeps no password
            self.records.append(rec)
            # Exim logs a failed handshake about a second later: let it, so
            # that the log keeps the order of the sessions
            time.sleep(1.5 if not rec.get("tls", {"ok": True})["ok"] else self.pause)
        return self.records

    # ------------------------------------------------------------- helpers
    def _port(self, listener):
        return self.t.lmtp_port if listener == "lmtp" else self.t.ports[listener]

    def _ctx(self):
        ctx = ssl.create_default_context(cafile=self.t.ca_file)
        ctx.check_hostname = False
        return ctx

    def _smtp(self, s, helo, tls=False, rec=None):
        port = self._port(s["listener"])
        if s["listener"] == self.t.submission and self.t.submission_tls == "implicit":
            c = smtplib.SMTP_SSL(self.t.host, port, local_hostname=helo, timeout=TIMEOUT,
                                 source_address=(s["src"], 0), context=self._ctx())
            tls = False
            if rec is not None:
                rec["tls"] = self._tls_facts(c.sock)
        else:
            c = smtplib.SMTP(self.t.host, port, local_hostname=helo, timeout=TIMEOUT,
                             source_address=(s["src"], 0))
        c.ehlo(helo)
        if tls:
            code, msg = c.starttls(context=self._ctx())
            if code != 220:
                raise TrafficError(f"STARTTLS refused: {code} {_text(msg)}")
            if rec is not None:
                rec["tls"] = self._tls_facts(c.sock)
            c.ehlo(helo)
        return c

    @staticmethod
    def _tls_facts(sock):
        return {"ok": True, "version": sock.version(), "cipher": sock.cipher()[0]}

    @staticmethod
    def _quit(c):
        try:
            c.quit()
        except (smtplib.SMTPException, OSError):
            c.close()

    def _auth(self, c, user, password, mech):
        if mech == "PLAIN":
            return c.docmd("AUTH", "PLAIN " + _b64(f"\0{user}\0{password}"))
        code, msg = c.docmd("AUTH", "LOGIN")
        if code != 334:
            return code, msg
        code, msg = c.docmd(_b64(user))
        if code != 334:
            return code, msg
        return c.docmd(_b64(password))

    def _message(self, s, sender, rcpt):
        m = email.message.EmailMessage()
        m["From"] = sender
        m["To"] = rcpt
        m["Subject"] = f"smtprobe log sample, session {s['n']}"
        m["Message-ID"] = f"<{self.t.name}-{s['n']}@client.example.net>"
        m["Date"] = email.utils.formatdate()
        m.set_content(f"Session {s['n']} ({s['kind']}) of tests/harness/log_traffic.py.\n")
        return m.as_bytes().replace(b"\n", b"\r\n"), m["Message-ID"]

    def _send(self, c, s, rec, sender, rcpt):
        """MAIL, RCPT, DATA; rec['result'] is the reply that ended it."""
        code, msg = c.mail(sender)
        if code != 250:
            rec["result"] = ("MAIL", code, _text(msg))
            return False
        code, msg = c.rcpt(rcpt)
        if code not in (250, 251):
            rec["result"] = ("RCPT", code, _text(msg))
            return False
        body, mid = self._message(s, sender, rcpt)
        code, msg = c.data(body)
        rec["result"] = ("DATA", code, _text(msg))
        rec["message_id"] = mid
        return code == 250

    @staticmethod
    def _expect(rec, ok, what):
        if not ok:
            raise TrafficError(f"session {rec['n']} ({rec['kind']} from {rec['src']}): "
                               f"expected {what}, got {rec.get('result') or rec.get('tls')}")

    # ------------------------------------------------------------- kinds
    def _connect_quit(self, s, rec, helo):
        c = smtplib.SMTP(self.t.host, self._port(s["listener"]), local_hostname=helo,
                         timeout=TIMEOUT, source_address=(s["src"], 0))
        code, msg = c.quit()
        rec["result"] = ("QUIT", code, _text(msg))
        self._expect(rec, code == 221, "221 to QUIT")

    def _ehlo_drop(self, s, rec, helo):
        c = smtplib.SMTP(self.t.host, self._port(s["listener"]), local_hostname=helo,
                         timeout=TIMEOUT, source_address=(s["src"], 0))
        code, msg = c.ehlo(helo)
        rec["result"] = ("EHLO", code, _text(msg).split("\n")[0])
        c.close()                      # no QUIT: the server sees the connection drop
        self._expect(rec, code == 250, "250 to EHLO")

    def _auth_session(self, s, rec, helo):
        c = self._smtp(s, helo, tls=self.t.submission_tls == "starttls", rec=rec)
        try:
            code, msg = self._auth(c, s["user"], s["password"], s["mech"])
            rec["result"] = ("AUTH", code, _text(msg))
            if code == 235 and s.get("sender"):
                self._send(c, s, rec, s["sender"], s["rcpt"])
            return code
        finally:
            self._quit(c)

    def _auth_ok(self, s, rec, helo):
        code = self._auth_session(s, rec, helo)
        self._expect(rec, code == 235 and (not s.get("sender") or rec["result"][1] == 250),
                     "235 to AUTH (and 250 to DATA)")

    def _auth_fail(self, s, rec, helo):
        code = self._auth_session(s, rec, helo)
        # 535, or 454 when the SASL server did not answer in time
        self._expect(rec, rec["result"][0] == "AUTH" and code in (535, 454),
                     "535 (or 454) to AUTH")

    _auth_fail_password = _auth_fail
    _auth_fail_unknown = _auth_fail

    def _sender_mismatch(self, s, rec, helo):
        self._auth_session(s, rec, helo)
        stage, code, _ = rec["result"]
        self._expect(rec, stage in ("MAIL", "RCPT") and code >= 500,
                     "a 5xx to MAIL or RCPT")

    def _mail_before_starttls(self, s, rec, helo):
        c = smtplib.SMTP(self.t.host, self._port(s["listener"]), local_hostname=helo,
                         timeout=TIMEOUT, source_address=(s["src"], 0))
        try:
            c.ehlo(helo)
            self._send(c, s, rec, s["sender"], s["rcpt"])
        finally:
            self._quit(c)
        self._expect(rec, rec["result"][1] == 530, "530 (STARTTLS first)")

    def _relay_denied(self, s, rec, helo):
        c = self._smtp(s, helo)
        try:
            self._send(c, s, rec, s["sender"], s["rcpt"])
        finally:
            self._quit(c)
        stage, code, _ = rec["result"]
        self._expect(rec, stage == "RCPT" and code >= 400, "a 4xx/5xx to RCPT")

    def _local_delivery(self, s, rec, helo):
        c = self._smtp(s, helo)
        try:
            ok = self._send(c, s, rec, s["sender"], s["rcpt"])
        finally:
            self._quit(c)
        self._expect(rec, ok, "250 to DATA")

    def _unknown_recipient(self, s, rec, helo):
        c = self._smtp(s, helo)
        try:
            self._send(c, s, rec, s["sender"], s["rcpt"])
        finally:
            self._quit(c)
        stage, code, _ = rec["result"]
        self._expect(rec, stage == "RCPT" and code >= 500, "a 5xx to RCPT")

    def _lmtp_delivery(self, s, rec, helo):
        c = smtplib.LMTP(self.t.host, self._port("lmtp"), local_hostname=helo,
                         source_address=(s["src"], 0))
        c.sock.settimeout(TIMEOUT)
        try:
            c.ehlo_or_helo_if_needed()
            ok = self._send(c, s, rec, s["sender"], s["rcpt"])
        finally:
            self._quit(c)
        self._expect(rec, ok, "250 to DATA")

    def _raw_starttls(self, s, helo):
        r = Raw(self.t.host, self._port(s["listener"]), s["src"], helo)
        code, text = r.starttls()
        if code != 220:
            r.close()
            raise TrafficError(f"STARTTLS refused: {code} {text}")
        return r

    def _tls_garbage(self, s, rec, helo):
        """STARTTLS, then plain text where the ClientHello should be."""
        r = self._raw_starttls(s, helo)
        try:
            r.sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            r.sock.settimeout(5)
            try:
                r.sock.recv(4096)
            except OSError:
                pass
        finally:
            r.close()
        rec["tls"] = {"ok": False, "client": "sent 'GET / HTTP/1.0' instead of a ClientHello"}

    def _tls_eof(self, s, rec, helo):
        """STARTTLS, a ClientHello, the server's first flight, then close."""
        r = self._raw_starttls(s, helo)
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = ctx.wrap_bio(inc, out)
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            r.sock.sendall(out.read())
            r.sock.settimeout(5)
            try:
                got = r.sock.recv(16384)
            except OSError:
                got = b""
        finally:
            r.close()
        rec["tls"] = {"ok": False, "client": f"closed after the ClientHello and {len(got)} "
                                             f"bytes of the server's answer"}

    def _tls_handshake(self, s, rec, helo, ctx, what):
        r = self._raw_starttls(s, helo)
        try:
            try:
                t = ctx.wrap_socket(r.sock)
            except (ssl.SSLError, OSError) as e:
                rec["tls"] = {"ok": False, "client": f"{what}: {e}"}
                return False
            rec["tls"] = self._tls_facts(t)
            t.sendall(f"EHLO {helo}\r\n".encode())
            f = t.makefile("rb")
            rec["result"] = ("EHLO", _reply(f)[0], "")
            t.sendall(b"QUIT\r\n")
            rec["result"] = ("QUIT",) + _reply(f)
            f.close()
            t.close()
            return True
        finally:
            r.close()

    def _tls_unknown_ca(self, s, rec, helo):
        """A client that verifies the certificate with the system's CAs (not
        the test CA): it aborts with an unknown_ca alert."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ok = self._tls_handshake(s, rec, helo, ctx, "client refused the certificate")
        self._expect(rec, not ok, "a failed handshake")

    def _tls_tls10_client(self, s, rec, helo):
        """A client that offers TLS 1.0 only."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # that is the point
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        self._tls_handshake(s, rec, helo, ctx, "TLS 1.0 only")

    def _tls_good_client(self, s, rec, helo):
        ok = self._tls_handshake(s, rec, helo, self._ctx(), "handshake")
        self._expect(rec, ok == self.t.tls_works,
                     "a handshake" if self.t.tls_works else "a failed handshake")


# ================================================================== counts
AUTH_OK = ("auth_ok", "sender_mismatch")          # both authenticate first
AUTH_FAIL = ("auth_fail_password", "auth_fail_unknown")
REJECTIONS = {"relay_denied": "relay_denied", "unknown_recipient": "unknown_recipient",
              "sender_mismatch": "sender_login_mismatch",
              "mail_before_starttls": "starttls_required"}


def _count(items):
    return dict(sorted(collections.Counter(items).items()))


def counts(records):
    """The truth about a run's traffic, by kind, address and user."""
    by_src = collections.defaultdict(collections.Counter)
    for r in records:
        by_src[r["src"]][r["kind"]] += 1
    ok = [r for r in records if r["kind"] in AUTH_OK]
    fail = [r for r in records if r["kind"] in AUTH_FAIL]
    tls = [r for r in records if "tls" in r]
    tls_ok = [r for r in tls if r["tls"]["ok"]]
    tls_bad = [r for r in tls if not r["tls"]["ok"]]
    rej = [r for r in records if r["kind"] in REJECTIONS and r.get("result")
           and r["result"][1] >= 400]
    msgs = [r for r in records if r.get("result") and r["result"][0] == "DATA"
            and r["result"][1] == 250]
    return {
        "sessions": len(records),
        "connections": {"total": len(records), "by_ip": _count(r["src"] for r in records)},
        "by_kind": _count(r["kind"] for r in records),
        "by_src": {ip: dict(sorted(c.items())) for ip, c in sorted(by_src.items())},
        "auth_success": {"total": len(ok), "by_ip": _count(r["src"] for r in ok),
                         "by_user": _count(r["user"] for r in ok),
                         "by_mech": _count(r["mech"] for r in ok)},
        "auth_failures": {"total": len(fail), "by_ip": _count(r["src"] for r in fail),
                          "by_user": _count(r["user"] for r in fail),
                          "by_reason": _count(r["kind"][len("auth_fail_"):] for r in fail),
                          "by_reply": _count(str(r["result"][1]) for r in fail)},
        "tls": {"handshakes": len(tls_ok),
                "by_protocol": _count(r["tls"]["version"] for r in tls_ok),
                "by_cipher": _count(r["tls"]["cipher"] for r in tls_ok),
                "failures": len(tls_bad),
                "failures_by_kind": _count(r["kind"] for r in tls_bad),
                "failures_by_ip": _count(r["src"] for r in tls_bad)},
        "rejections": {"total": len(rej),
                       "by_kind": _count(REJECTIONS[r["kind"]] for r in rej),
                       "by_reply": _count(str(r["result"][1]) for r in rej),
                       "by_ip": _count(r["src"] for r in rej)},
        "messages_accepted": {"total": len(msgs), "by_rcpt": _count(r["rcpt"] for r in msgs),
                              "by_sender": _count(r["sender"] for r in msgs)},
    }


# ==================================================================== runs
def _versions(pkgs):
    out = {}
    stamp = os.path.join(mtas.MTAS_DIR, "stamp")
    private = {}
    if os.path.exists(stamp):
        for line in open(stamp):
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                private[k] = v
    for p in pkgs:
        if p in private:
            out[p] = private[p] + f" (unpacked in {mtas.MTAS_DIR}, scripts/install-deps)"
            continue
        q = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p], capture_output=True,
                           text=True)
        out[p] = q.stdout.strip() if q.returncode == 0 else "(not installed)"
    return out


def _queue_empty(queue_dir):
    for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
        d = os.path.join(queue_dir, sub)
        for _root, _dirs, files in os.walk(d):
            if files:
                return False
    return True


def _wait(cond, what, limit=60.0):
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise TrafficError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Run:
    """One server run: the log files it produced ({out name: path}) and the
    record (the JSON beside each)."""

    def __init__(self, name, software, notes):
        self.name = name
        self.logs = {}
        self.record = {"run": name, "software": software,
                       "packages": _versions(PACKAGES[name]),
                       "produced_by": "tests/harness/log_traffic.py",
                       "constructed": False, "host": "127.0.0.1", "notes": notes}

    def traffic(self, target, srv, probes):
        self.record["listeners"] = dict(target.ports)
        if target.lmtp_port:
            self.record["listeners"]["lmtp"] = target.lmtp_port
        self.record["startup_probes"] = {
            "src": "127.0.0.1", "count": len(probes), "listeners": list(probes),
            "what": "the harness's readiness check: one connection per listener "
                    "(lmtp: Dovecot's), banner read, closed (implicit TLS on smtps); not "
                    "part of the counts"}
        self.record["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        recs = Traffic(target).run(plan(target))
        self.record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.record["counts"] = counts(recs)
        self.record["sessions"] = recs
        return recs


POSTFIX_NOTES = [
    "listeners of tests/harness/mailservers.py: mx (relay refused 554, STARTTLS may), "
    "defer (relay refused 454), submission (STARTTLS required, Dovecot SASL, "
    "reject_sender_login_mismatch), lmtp (Dovecot LMTP); the other listeners get only "
    "the startup probe",
    "delivery is discard: (mailservers.py): a delivered message is 'status=sent (test)'",
    "local_recipient_maps is empty: Postfix refuses no local recipient, so there is "
    "no unknown_recipient session",
    "Dovecot's auth penalty (2^n s per failing address, up to 15 s) delays the "
    "brute-force addresses' answers; mailservers.py sets auth_failure_delay = 0",
]


def _postfix_target(name, ms):
    return Target(name, ms, mx="mx", submission="submission", defer="defer",
                  lmtp_port=ms.ports["lmtp"], sender_check=True, tls_required=True,
                  unknown_rcpt_refused=False)


def _postfix_traffic(run, ms):
    t = _postfix_target(run.name, ms)
    t.ports.pop("lmtp")
    run.traffic(t, ms, list(ms.ports))
    _wait(lambda: _queue_empty(ms.queue_dir), "Postfix's queue to empty")
    time.sleep(1.0)


def run_postfix(workdir):
    """Postfix + Dovecot as mailservers.py runs them: maillog_file =
    /dev/stdout (postlogd), Dovecot's log_path."""
    run = Run("postfix", "Postfix 3.7 + Dovecot 2.3 (mailservers.py)",
              POSTFIX_NOTES + ["Postfix logs through postlogd to maillog_file = /dev/stdout "
                               "(postfix start-fg), Dovecot to its log_path file"])
    ms = MailServers(workdir)
    ms.start()
    try:
        _postfix_traffic(run, ms)
    finally:
        ms.stop()
    run.logs = {"postfix.log": ms.postfix_log, "dovecot.log": ms.dovecot_log}
    return run


def run_postfix_syslog(workdir):
    """The same, Postfix and Dovecot both logging through syslog (rsyslog)."""
    run = Run("postfix-syslog", "Postfix 3.7 + Dovecot 2.3 (mailservers.py), via rsyslog",
              POSTFIX_NOTES + ["Postfix and Dovecot log through syslog(3) to a private "
                               "rsyslogd (maillog_file and log_path unset): one file for "
                               "both, as /var/log/mail.log on Debian"])
    with PrivateSyslog(os.path.join(workdir, "syslog")) as sl:
        ms = SyslogMailServers(os.path.join(workdir, "servers"), sl)
        ms.start()
        try:
            _postfix_traffic(run, ms)
        finally:
            ms.stop()
            sl.flush()
    run.logs = {"postfix-syslog.log": sl.log,
                "postfix-syslog-traditional.log": sl.traditional_log}
    return run


def run_exim(workdir):
    run = Run("exim", "Exim 4.96 (mtas.py, +smtp_connection)", [
        "listeners of tests/harness/mtas.py's Exim: mx (relay refused 550, STARTTLS), "
        "submission (STARTTLS, AUTH PLAIN/LOGIN only under TLS, sender must be the "
        "user's own address), the others get only the startup probe",
        "log_selector adds +smtp_connection to mtas.py's (connection lines)",
        "queue_only: after the traffic one queue run (exim -qf) delivers local mail to a "
        "mailbox file and tries friend@relay-test.invalid at a closed 127.0.0.1 port "
        "(deferred, 'Connection refused')",
        "Exim is built with GnuTLS in Debian: its TLS errors are GnuTLS's",
    ])
    ex = LogExim(workdir)
    ex.start()
    try:
        t = Target("exim", ex, mx="mx", submission="submission", sender_check=True,
                   tls_required=True)
        run.traffic(t, ex, list(ex.ports))
        ex.queue_run()
        time.sleep(0.5)
    finally:
        ex.stop()
    run.logs = {"exim-mainlog.log": ex.mainlog,
                "exim-rejectlog.log": os.path.join(ex.logdir, "rejectlog")}
    panic = os.path.join(ex.logdir, "paniclog")
    if os.path.exists(panic) and os.path.getsize(panic):
        raise TrafficError(f"Exim wrote a paniclog:\n{mailservers._tail(panic)}")
    return run


def run_sendmail(workdir):
    run = Run("sendmail", "Sendmail 8.17 (mtas.py + STARTTLS, AUTH), via rsyslog", [
        "two daemons (Sendmail runs one per listener): mx (mtas.py's mx: relay refused "
        "550 5.7.1, the loopback trust removed) and submission (mx plus AUTH PLAIN/LOGIN "
        "after STARTTLS, Cyrus SASL sasldb; authenticated clients relay); both offer "
        "STARTTLS (mtas.py's Sendmail offers neither TLS nor AUTH)",
        "Sendmail checks no sender ownership: no sender_mismatch session",
        "queue only (DeliveryMode=q): after the traffic one queue run per daemon "
        "(sendmail -q) delivers local mail to its alias, /dev/null, and tries "
        "friend@relay-test.invalid at the smart host, a closed 127.0.0.1 port (deferred)",
        "logs through syslog(3) only: a private rsyslogd, /dev/log in the daemons' mount "
        "namespaces",
    ])
    with PrivateSyslog(os.path.join(workdir, "syslog")) as sl:
        sm = LogSendmail(os.path.join(workdir, "servers"), sl)
        sm.start()
        try:
            t = Target("sendmail", sm, mx="mx", submission="submission")
            run.traffic(t, sm, list(sm.ports))
            sm.queue_run()
            time.sleep(0.5)
        finally:
            sm.stop()
            sl.flush()
    run.logs = {"sendmail.log": sl.log, "sendmail-traditional.log": sl.traditional_log}
    return run


OPENSMTPD_NOTES = [
    "listeners of tests/harness/mtas.py's OpenSMTPD: mx (local users only, relay "
    "refused 550 Invalid recipient), tls_broken (STARTTLS advertised, every handshake "
    "fails: Debian 12's OpenSMTPD 6.8 with OpenSSL 3); no AUTH (offered only after TLS)",
    "local mail is delivered to Maildirs in the work directory at once",
]


def _opensmtpd_traffic(run, srv):
    t = Target(run.name, srv, mx="mx", tls_listener="tls_broken", tls_works=False)
    recs = run.traffic(t, srv, list(srv.ports))
    want = sum(1 for r in recs if r.get("message_id"))
    _wait(lambda: len([m for m in srv.messages() if "/Maildir/new/" in m]) >= want,
          "OpenSMTPD's deliveries")
    time.sleep(0.5)


def run_opensmtpd(workdir):
    run = Run("opensmtpd", "OpenSMTPD 6.8 (mtas.py, smtpd -d)",
              OPENSMTPD_NOTES + ["smtpd -d (mtas.py's way): the log is its stderr, "
                                 "lines without timestamps"])
    srv = OpenSMTPD(workdir)
    srv.start()
    try:
        _opensmtpd_traffic(run, srv)
    finally:
        srv.stop()
    run.logs = {"opensmtpd.log": srv.log_path}
    return run


def run_opensmtpd_syslog(workdir):
    run = Run("opensmtpd-syslog", "OpenSMTPD 6.8 (mtas.py, smtpd -F), via rsyslog",
              OPENSMTPD_NOTES + ["smtpd -F: foreground, logging through syslog(3) to a "
                                 "private rsyslogd"])
    with PrivateSyslog(os.path.join(workdir, "syslog")) as sl:
        srv = SyslogOpenSMTPD(os.path.join(workdir, "servers"), sl)
        srv.start()
        try:
            _opensmtpd_traffic(run, srv)
        finally:
            srv.stop()
            sl.flush()
    run.logs = {"opensmtpd-syslog.log": sl.log}
    return run


# =============================================================== Exchange
# Exchange cannot run here: its two logs are constructed from Microsoft's
# documented formats (Exchange Server 2016/2019, learn.microsoft.com:
# "Message tracking" - the #Fields list and its order, event ids, sources;
# "Protocol logging" - the #Fields list, the event characters + - > < *),
# the documented protocol-log lines of KB 4495258 ("Sending certificate",
# "Certificate subject", ..., "TLS negotiation failed with error
# NoCredentials") and Exchange's documented reply texts (5.7.54 relay,
# 5.7.57 anonymous MAIL on a client connector, 5.7.60 send-as, 5.7.3 AUTH,
# 5.1.10 RecipientNotFound, 5.4.310 DNS domain does not exist). The same
# plan() as the real servers' drives it, with a fixed clock: the output is
# the same on every run. Texts not in those documents (the EHLO reply, the
# session-permission lines, "Inbound AUTH LOGIN failed because of
# LogonDenied", the TLS error words other than SocketError, CALG_* names)
# are best-effort reconstructions; the header says so.
EXCHANGE_VERSION = "15.02.1544.004"
EXCHANGE_HOST = "EX01"
EXCHANGE_FQDN = "ex01.example.test"
EXCHANGE_START = 1768467600          # 2026-01-15T09:00:00Z
EXCHANGE_SOURCES = [
    "learn.microsoft.com/exchange/mail-flow/transport-logs/message-tracking "
    "(Exchange Server 2016/2019: #Fields, event-id and source values)",
    "learn.microsoft.com/exchange/mail-flow/connectors/protocol-logging "
    "(#Fields, event characters)",
    "KB 4495258 'TLS negotiation failed with error NoCredentials' (protocol-log "
    "certificate and TLS failure lines)",
]
MSGTRK_FIELDS = ("date-time,client-ip,client-hostname,server-ip,server-hostname,"
                 "source-context,connector-id,source,event-id,internal-message-id,"
                 "message-id,network-message-id,recipient-address,recipient-status,"
                 "total-bytes,recipient-count,related-recipient-address,reference,"
                 "message-subject,sender-address,return-path,message-info,directionality,"
                 "tenant-id,original-client-ip,original-server-ip,custom-data,"
                 "transport-traffic-type,log-id,schema-version").split(",")
RECV_FIELDS = ("date-time,connector-id,session-id,sequence-number,local-endpoint,"
               "remote-endpoint,event,data,context").split(",")
EX_TLS_ERROR = {"tls_garbage": "IllegalMessage", "tls_eof": "SocketError",
                "tls_unknown_ca": "SocketError", "tls_tls10_client": "AlgorithmMismatch"}
EX_EHLO = ("250  {fqdn} Hello [{ip}] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES "
           "STARTTLS X-ANONYMOUSTLS AUTH NTLM X-EXPS GSSAPI NTLM 8BITMIME BINARYMIME "
           "CHUNKING SMTPUTF8 XRDST")
EX_EHLO_TLS = ("250  {fqdn} Hello [{ip}] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES "
               "AUTH GSSAPI NTLM LOGIN X-EXPS GSSAPI NTLM 8BITMIME BINARYMIME CHUNKING "
               "SMTPUTF8 XRDST")


def _csv(values):
    out = []
    for v in values:
        v = "" if v is None else str(v)
        if any(c in v for c in ',"\r\n'):
            v = '"' + v.replace('"', '""') + '"'
        out.append(v)
    return ",".join(out)


class ExchangeConstructed:
    """Writes exchange-smtp-receive.log (RECV) and exchange-msgtrk.log
    (MSGTRK) for plan(target), as an Exchange 2019 server with protocol
    logging (Verbose) on its "Default Frontend" (port 25) and "Client
    Frontend" (587: STARTTLS, then AUTH LOGIN) connectors would, and the
    session records counts() reads."""

    def __init__(self):
        self.clock = float(EXCHANGE_START)
        self.recv = []
        self.trk = []
        self.internal_id = 73014444033
        self.sid = 0x08DE3B1A2C4D0000
        self.records = []

    def _ts(self, step=0.0):
        self.clock += step
        ms = int(round((self.clock % 1) * 1000))
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(self.clock))) + f".{ms:03d}Z"

    def target(self):
        class Srv:
            host = "127.0.0.1"
            ports = {"mx": 25, "submission": 587}
            ca_file = None
            users = dict(mailservers.DEFAULT_USERS)
        return Target("exchange", Srv(), mx="mx", submission="submission", sender_check=True,
                      tls_required=True)

    def header(self, log_type):
        return [f"#Software: Microsoft Exchange Server",
                f"#Version: {EXCHANGE_VERSION}",
                f"#Log-type: {log_type}",
                f"#Date: {self._date0}",
                "#Note: constructed by tests/harness/log_traffic.py from Microsoft's documented "
                "field lists and examples, not produced by a real Exchange server",
                "#Note: traffic: the same plan() as the real servers' samples (see "
                "tests/data/logs/README.md); reply and error texts outside Microsoft's "
                "documents are best-effort reconstructions"]

    def run(self):
        target = self.target()
        self._date0 = self._ts()
        for s in plan(target):
            self.clock = EXCHANGE_START + 2.0 * s["n"]
            rec = dict(s, time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(self.clock))),
                       helo=f"host{s['src'].rsplit('.', 1)[1]}.{HELO_DOMAIN}")
            if rec.get("mech"):
                rec["mech"] = "LOGIN"       # Exchange offers no PLAIN
            self._session(rec)
            rec.pop("password", None)
            self.records.append(rec)
        return self.records

    # ----------------------------------------------------------- sessions
    def _session(self, r):
        sub = r["listener"] == "submission"
        connector = f"{EXCHANGE_HOST}\\{'Client' if sub else 'Default'} Frontend {EXCHANGE_HOST}"
        local = f"127.0.0.1:{587 if sub else 25}"
        port = 40000 + r["n"]
        remote = f"{r['src']}:{port}"
        self.sid += 1
        sid = f"{self.sid:016X}"
        seq = [0]

        def ev(event, data="", context="", step=0.001):
            self.recv.append(_csv([self._ts(step), connector, sid, seq[0], local, remote,
                                   event, data, context]))
            seq[0] += 1

        kind = r["kind"]
        ev("+", step=0)
        ev(">", f"220 {EXCHANGE_FQDN} Microsoft ESMTP MAIL Service ready at "
                + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(int(self.clock))))
        if kind == "connect_quit":
            ev("<", "QUIT")
            ev(">", "221 2.0.0 Service closing transmission channel")
            ev("-", "", "Local")
            r["result"] = ("QUIT", 221, "2.0.0 Service closing transmission channel")
            return
        ev("<", f"EHLO {r['helo']}")
        ev(">", EX_EHLO.format(fqdn=EXCHANGE_FQDN, ip=r["src"]))
        if kind == "ehlo_drop":
            ev("-", "", "Remote")
            r["result"] = ("EHLO", 250, "")
            return
        if kind == "mail_before_starttls":
            ev("<", f"MAIL FROM:<{r['sender']}>")
            text = "5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM"
            ev(">", "530 " + text)
            return self._quit(ev, r, ("MAIL", 530, text))
        tls = sub or kind.startswith("tls_")
        if tls:
            ev("<", "STARTTLS")
            ev(">", "220 2.0.0 SMTP server ready")
            ev("*", "", "Sending certificate")
            # (KB 4495258 shows also the issuer name, serial number and
            # alternate names lines; left out to keep the sample short)
            ev("*", f"CN={EXCHANGE_FQDN}", "Certificate subject")
            ev("*", "3C8E2F6A1B9D0E4F7A5C8B2D6E1F9A3C4B7D0E2F", "Certificate thumbprint")
            if kind in EX_TLS_ERROR:
                ev("*", "", f"TLS negotiation failed with error {EX_TLS_ERROR[kind]}", step=0.05)
                ev("-", "", "Local")
                r["tls"] = {"ok": False, "server": f"TLS negotiation failed with error "
                                                   f"{EX_TLS_ERROR[kind]}"}
                return
            ev("*", "", "TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk "
                        "encryption algorithm CALG_AES_256 with strength 256 bits, MAC hash "
                        "algorithm CALG_SHA_384 with strength 0 bits and key exchange algorithm "
                        "CALG_ECDH_EPHEM with strength 384 bits", step=0.02)
            r["tls"] = {"ok": True, "version": "TLSv1.2",
                        "cipher": "CALG_AES_256/CALG_SHA_384/CALG_ECDH_EPHEM"}
            ev("<", f"EHLO {r['helo']}")
            ev(">", EX_EHLO_TLS.format(fqdn=EXCHANGE_FQDN, ip=r["src"]))
        if kind == "tls_good_client":
            return self._quit(ev, r, None)
        if r.get("user"):
            ev("<", "AUTH LOGIN")
            for _ in range(2):
                ev(">", "334 <authentication response>")
                ev("<", "<authentication response>")
            if kind in AUTH_FAIL:
                ev("*", "", "Inbound AUTH LOGIN failed because of LogonDenied", step=0.2)
                ev(">", "535 5.7.3 Authentication unsuccessful")
                return self._quit(ev, r, ("AUTH", 535, "5.7.3 Authentication unsuccessful"))
            ev("*", "SMTPSubmit SMTPAcceptAnyRecipient SMTPAcceptAnySender "
                    "SMTPAcceptAuthenticationFlag AcceptRoutingHeaders", "Set Session Permissions")
            ev("*", f"EXAMPLE\\{r['user']}", "authenticated")
            ev(">", "235 2.7.0 Authentication successful")
            r["result"] = ("AUTH", 235, "2.7.0 Authentication successful")
            if not r.get("sender"):
                return self._quit(ev, r, r["result"])
        ev("<", f"MAIL FROM:<{r['sender']}>")
        ev(">", "250 2.1.0 Sender OK")
        ev("<", f"RCPT TO:<{r['rcpt']}>")
        refusal = {"relay_denied": "550 5.7.54 SMTP; Unable to relay recipient in "
                                   "non-accepted domain",
                   "unknown_recipient": "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
                                        "not found by SMTP address lookup"}.get(kind)
        if refusal:
            ev(">", refusal)
            return self._quit(ev, r, ("RCPT", 550, refusal[4:]))
        ev(">", "250 2.1.5 Recipient OK")
        ev("<", "DATA")
        ev(">", "354 Start mail input; end with <CRLF>.<CRLF>")
        if kind == "sender_mismatch":
            text = "5.7.60 SMTP; Client does not have permissions to send as this sender"
            ev(">", "550 " + text, step=0.1)
            return self._quit(ev, r, ("DATA", 550, text))
        mid = f"<exchange-{r['n']}@client.example.net>"
        size = 2048 + 17 * r["n"]
        self.internal_id += 1
        text = (f"2.6.0 {mid} [InternalId={self.internal_id}, Hostname={EXCHANGE_FQDN}] "
                f"{size} bytes in 0.102, 19.608 KB/sec Queued mail for delivery")
        ev(">", "250 " + text, step=0.1)
        r["message_id"] = mid
        self._track(r, connector, sid, mid, size)
        return self._quit(ev, r, ("DATA", 250, text))

    def _quit(self, ev, r, result):
        ev("<", "QUIT")
        ev(">", "221 2.0.0 Service closing transmission channel")
        ev("-", "", "Local")
        if result:
            r["result"] = result
        elif "tls" in r:
            r["result"] = ("QUIT", 221, "2.0.0 Service closing transmission channel")

    # ----------------------------------------------------- message tracking
    def _track(self, r, connector, sid, mid, size):
        nmid = f"{self.internal_id:x}{r['n']:04d}4f3c8e2d7a9b1c".rjust(32, "0")[:32]
        sub = r["listener"] == "submission"
        local = r["rcpt"].endswith("@example.test")
        subject = f"smtprobe log sample, session {r['n']}"
        origin = self._ts(0)

        def row(event, source, **f):
            vals = dict.fromkeys(MSGTRK_FIELDS, "")
            vals.update({"date-time": self._ts(f.pop("step", 0.05)), "source": source,
                         "event-id": event, "internal-message-id": self.internal_id,
                         "message-id": mid, "network-message-id": nmid,
                         "recipient-address": r["rcpt"], "total-bytes": size,
                         "recipient-count": 1, "message-subject": subject,
                         "sender-address": r["sender"], "return-path": r["sender"],
                         "directionality": "Originating" if sub else "Incoming",
                         "transport-traffic-type": "Email",
                         "schema-version": EXCHANGE_VERSION,
                         "server-hostname": EXCHANGE_HOST})
            vals.update(f)
            digest = hashlib.sha1(f"{event} {mid}".encode()).hexdigest()
            vals["log-id"] = (f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-"
                              f"{self.internal_id:012x}")
            self.trk.append(_csv(vals[k] for k in MSGTRK_FIELDS))

        row("RECEIVE", "SMTP", **{"client-ip": r["src"], "client-hostname": r["helo"],
                                  "server-ip": "127.0.0.1", "source-context":
                                  f"{sid};250 2.6.0 {mid} Queued mail for delivery",
                                  "connector-id": connector, "recipient-status": "To",
                                  "original-client-ip": r["src"],
                                  "custom-data": "S:ProxiedClientIPAddress=" + r["src"]})
        if local:
            row("DELIVER", "STOREDRIVER", step=0.3, **{
                "server-ip": "127.0.0.1", "client-hostname": EXCHANGE_FQDN,
                "source-context": "MDB:6c3fa1e0-9b2d-4f51-8e7a-0d1c2b3a4f5e, Mailbox:"
                                  f"{r['rcpt'].split('@')[0]}, Event:{1000 + r['n']}, "
                                  "MessageClass:IPM.Note, CreationTime:" + origin,
                "recipient-status": "250 2.1.5 Recipient OK",
                "message-info": origin})
        else:
            dom = r["rcpt"].split("@", 1)[1]
            row("FAIL", "DNS", step=0.4, **{
                "recipient-status": f"550 5.4.310 DNS domain {dom} does not exist "
                                    f"[Message=InfoDomainNonexistent] "
                                    f"[LastAttemptedServerName={dom}]",
                "message-info": origin})
            self.internal_id += 1
            row("DSN", "DSN", step=0.1, **{
                "recipient-address": r["sender"], "sender-address": f"postmaster@{DOMAIN}",
                "return-path": "<>", "reference": mid,
                "message-subject": "Undeliverable: " + subject,
                "message-id": f"<dsn-{r['n']}@{EXCHANGE_FQDN}>"})
        r.setdefault("tracking", []).append("RECEIVE, " + ("DELIVER" if local else "FAIL, DSN"))


def run_exchange(workdir):
    """The constructed Exchange samples (no server runs)."""
    run = Run("exchange", "Microsoft Exchange Server 2019 (CONSTRUCTED, not a real server)",
              ["constructed by tests/harness/log_traffic.py from Microsoft's documented "
               "formats, not produced by a real Exchange server; sources: "
               + "; ".join(EXCHANGE_SOURCES),
               "the same plan() as the real servers, on two connectors: Default Frontend EX01 "
               "(127.0.0.1:25; relay refused 550 5.7.54, unknown users 550 5.1.10) and Client "
               "Frontend EX01 (127.0.0.1:587; STARTTLS, AUTH LOGIN - Exchange offers no PLAIN "
               "- and send-as checked at the end of DATA: 550 5.7.60)",
               "the protocol log never shows the user name of a failed AUTH (the exchange is "
               "logged as '<authentication response>'): per-user failure counts cannot come "
               "from it; both failure kinds read 'Inbound AUTH LOGIN failed because of "
               "LogonDenied'",
               "message tracking has only accepted messages: RECEIVE, then DELIVER (local) or "
               "FAIL (source DNS, 5.4.310) and a DSN for friend@relay-test.invalid",
               "a fixed clock from 2026-01-15T09:00:00Z, one session every 2 s: the files are "
               "the same on every run"])
    ex = ExchangeConstructed()
    target = ex.target()
    run.record["listeners"] = dict(target.ports)
    run.record["startup_probes"] = {"src": None, "count": 0, "listeners": [],
                                    "what": "none: constructed"}
    run.record["constructed"] = True
    recs = ex.run()
    run.record["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EXCHANGE_START))
    run.record["finished"] = recs[-1]["time"]
    run.record["counts"] = counts(recs)
    run.record["sessions"] = recs
    recv = os.path.join(workdir, "exchange-smtp-receive.log")
    trk = os.path.join(workdir, "exchange-msgtrk.log")
    with open(recv, "w", newline="") as f:
        f.write("\r\n".join(ex.header("SMTP Receive Protocol Log")
                            + ["#Fields: " + ",".join(RECV_FIELDS)] + ex.recv) + "\r\n")
    with open(trk, "w", newline="") as f:
        f.write("\r\n".join(ex.header("Message Tracking Log")
                            + ["#Fields: " + ",".join(MSGTRK_FIELDS)] + ex.trk) + "\r\n")
    run.logs = {"exchange-smtp-receive.log": recv, "exchange-msgtrk.log": trk}
    return run


RUNS = {"postfix": run_postfix, "postfix-syslog": run_postfix_syslog, "exim": run_exim,
        "sendmail": run_sendmail, "opensmtpd": run_opensmtpd,
        "opensmtpd-syslog": run_opensmtpd_syslog, "exchange": run_exchange}


# What each log shows of the traffic, where it differs from what was sent
# (found on these servers; README.md in tests/data/logs has the line shapes).
LOG_NOTES = {
    "postfix.log": [
        "maillog_file lines: 'Mmm DD HH:MM:SS' (day zero-padded: 'Dec 07'), host 'mx'; "
        "the last line, 'Terminated', is the start-fg shell's, not a log line",
        "a successful AUTH has no line of its own: auth=1 on the 'disconnect from' line, "
        "and sasl_method=/sasl_username= on the 'client=' line of a session that queued a "
        "message",
        "the 4th failure from 127.0.0.20 took longer than smtpd's wait for Dovecot (auth "
        "penalty): '454 4.7.0' to the client, 'SASL PLAIN authentication failed: Connection "
        "lost to authentication server, sasl_username=(unavailable)' in the log: by user the "
        "log shows alice 3 + (unavailable) 1",
        "the 530 to MAIL before STARTTLS is not a reject: line; it shows only as mail=0/1 on "
        "the disconnect line of 127.0.0.26",
        "the TLS 1.0-only client got a TLSv1 handshake (Postfix allows it): not a failure",
        "the LMTP delivery (127.0.0.43) is Dovecot's: it is in dovecot.log, not here",
    ],
    "dovecot.log": [
        "Dovecot's log_path lines: 'Mmm DD HH:MM:SS service: Level: text', no host",
        "auth_verbose logs failures only: passwd-file(USER,IP): Password mismatch | unknown "
        "user; no line for a successful AUTH",
        "the 4th failure from 127.0.0.20 never reached the passdb: 'auth: Error: auth client "
        "0 disconnected with 1 pending requests: EOF' (no user, no address): alice from "
        "127.0.0.20 shows 3 times",
        "the only session traffic here besides AUTH is the LMTP delivery from 127.0.0.43",
    ],
    "postfix-syslog.log": [
        "Debian 12 rsyslog format: RFC 3339 timestamps with microseconds and zone; Postfix "
        "and Dovecot (tag 'dovecot:', no 'Info:' level) in one file",
        "otherwise as postfix.log and dovecot.log (see their notes), 'postfix/master[PID]: "
        "terminating on signal 15' instead of 'Terminated'",
    ],
    "postfix-syslog-traditional.log": [
        "the same lines as postfix-syslog.log in RSYSLOG_TraditionalFileFormat: 'Mmm dD "
        "HH:MM:SS' (day space-padded: 'Dec  7')",
    ],
    "exim-mainlog.log": [
        "+smtp_connection: a line at connect and at close of every session",
        "a successful AUTH shows only as A=authenticator:user on the '<=' line of a "
        "received message: 2 of the 7 successful AUTHs (the 2 sender_mismatch sessions "
        "show none, the others sent nothing)",
        "a successful TLS handshake shows only as X= on '<=' and rejection lines; the "
        "TLS 1.0-only client got a handshake (GnuTLS allows it): not a failure",
        "TLS errors are GnuTLS's texts and come about a second after the connection",
        "the smtps startup probe (127.0.0.1) closed without a TLS close: 'TLS error on "
        "connection from [127.0.0.1]:PORT (recv): The TLS connection was non-properly "
        "terminated.'",
        "queue run at the end: 4 local deliveries (=>) and 1 deferral (==) of "
        "friend@relay-test.invalid",
    ],
    "exim-rejectlog.log": [
        "only rejections and AUTH failures ('authenticator failed'), the same lines as in "
        "the mainlog; no connection, TLS or delivery lines",
    ],
    "sendmail.log": [
        "LogLevel 9 (the default): no line at connect; a session that never sent MAIL "
        "ends with 'did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA', one "
        "that did with a 'from=' line",
        "127.0.0.30 has a name (relay30.example.net in the namespace's /etc/hosts): its "
        "relay refusals are '550 5.7.1 ... Relaying denied'; 127.0.0.31 has none: '450 "
        "4.4.0 ... Relaying temporarily denied. Cannot resolve PTR record for 127.0.0.31'",
        "AUTH success lines carry no queue id; failure lines do",
        "the TLS 1.0-only client failed: 'reason=no suitable signature algorithm'",
        "queue run at the end: 4 local deliveries (to=/dev/null, mailer=*file*) and 1 "
        "deferral of friend@relay-test.invalid",
        "startup lines: 'gethostbyaddr(...) failed' (the machine's own interface address), "
        "the alias rebuilds (tag 'sendmail': `sendmail -bi`), 'starting daemon'",
    ],
    "sendmail-traditional.log": [
        "the same lines as sendmail.log in RSYSLOG_TraditionalFileFormat",
    ],
    "opensmtpd.log": [
        "smtpd -d: no timestamp, no host, no tag: '<session id> smtp <event> key=value...'",
        "no AUTH (offered only after TLS, which is broken): no AUTH lines",
        "every STARTTLS fails: the TLS failures show only as the 'disconnected reason="
        "\"io-error: ...\"' of the session",
        "'warn: purge_task: opendir: No such file or directory' may show at start (a race "
        "with the harness's private /var, which has no purge directory yet)",
    ],
    "opensmtpd-syslog.log": [
        "smtpd -F: the same events as opensmtpd.log through syslog (RFC 3339, tag "
        "smtpd[PID])",
    ],
    "exchange-smtp-receive.log": [
        "CONSTRUCTED, not from a real server (see the header and 'notes')",
        "failed AUTH: no user name in the log; 'Inbound AUTH LOGIN failed because of "
        "LogonDenied' for wrong passwords and unknown users alike",
    ],
    "exchange-msgtrk.log": [
        "CONSTRUCTED, not from a real server (see the header and 'notes')",
        "accepted messages only (RECEIVE, DELIVER, FAIL, DSN): no connections, AUTH, TLS "
        "or SMTP-time rejections",
    ],
}
# the log of each run where every session must show (check_log)
MAIN_LOGS = {"postfix.log", "postfix-syslog.log", "exim-mainlog.log", "sendmail.log",
             "opensmtpd.log", "opensmtpd-syslog.log", "exchange-smtp-receive.log"}


def check_log(path, records):
    """Every source address shows in the log at least as often as it made
    sessions (a cheap check that no line went missing, e.g. in syslog)."""
    with open(path, errors="replace") as f:
        text = f.read()
    short = []
    # (LMTP sessions are Dovecot's: not in Postfix's own log)
    for ip, n in collections.Counter(r["src"] for r in records
                                     if r["listener"] != "lmtp").items():
        seen = len(re.findall(re.escape(ip) + r"(?![\d])", text))
        if seen < n:
            short.append(f"{ip}: {n} sessions, {seen} mentions")
    if short:
        raise TrafficError(f"{path} lacks sessions: {', '.join(short)}")


def dump_record(rec):
    """The JSON of a record: indented, one session a line."""
    head = json.dumps({k: v for k, v in rec.items() if k != "sessions"}, indent=1)
    sessions = ",\n".join("  " + json.dumps(s) for s in rec.get("sessions", []))
    return head[:-2] + ',\n "sessions": [\n' + sessions + "\n ]\n}\n"


def write_outputs(run, outdir):
    """Copy each log into outdir, with NAME.expected.json beside it."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    for out_name, path in run.logs.items():
        if out_name in MAIN_LOGS:
            check_log(path, run.record["sessions"])
        dst = os.path.join(outdir, out_name)
        shutil.copyfile(path, dst)
        os.chmod(dst, 0o644)
        rec = {"log": out_name, "log_lines": sum(1 for _ in open(dst, "rb")),
               "log_notes": LOG_NOTES.get(out_name, [])}
        rec.update(run.record)
        stem = out_name[:-len(".log")] if out_name.endswith(".log") else out_name
        with open(os.path.join(outdir, stem + ".expected.json"), "w") as f:
            f.write(dump_record(rec))
        written.append((out_name, rec["log_lines"]))
    return written


WORKDIR_PREFIX = "smtprobe-logtraffic-"


def reap_stale_runs(parent=None):
    """Stop what a killed run left behind: in each parent/smtprobe-logtraffic-*
    whose owner process is gone, the Postfix/Dovecot instances
    (mailservers.reap_stale), the MTA daemons (mtas.reap_stale) and the
    rsyslogd (by its pid file, only if that process is an rsyslogd), then
    remove the directory."""
    parent = parent or tempfile.gettempdir()
    for name in sorted(os.listdir(parent)):
        top = os.path.join(parent, name)
        if not name.startswith(WORKDIR_PREFIX) or not os.path.isdir(top):
            continue
        try:
            with open(os.path.join(top, "owner")) as f:
                os.kill(int(f.read().split()[0]), 0)
            continue                      # its run is alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError, IndexError):
            continue                      # not ours to judge
        for root, _dirs, files in os.walk(top):
            if root == top:
                continue
            if "owner" in files:
                words = open(os.path.join(root, "owner")).read().split()
                reap = mailservers.reap_stale if len(words) == 2 else mtas.reap_stale
                reap(os.path.dirname(root), os.path.basename(root))
            if "rsyslogd.pid" in files:
                try:
                    pid = int(open(os.path.join(root, "rsyslogd.pid")).read().split()[0])
                    if os.readlink(f"/proc/{pid}/exe") == os.path.realpath(RSYSLOGD):
                        os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError, IndexError):
                    pass
        shutil.rmtree(top, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", help="where the logs and their .expected.json go "
                                   "(tests/data/logs)")
    ap.add_argument("--only", action="append", choices=list(RUNS),
                    help="this run only (repeatable); default: all")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("log_traffic.py: run as root (the servers, namespaces)")
    reap_stale_runs()
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=tempfile.gettempdir())
    os.chmod(workdir, 0o711)
    _write(os.path.join(workdir, "owner"), f"{os.getpid()}\n")
    # a SIGTERM stops the servers too (the runs' finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("log_traffic.py: terminated"))
    try:
        for name in args.only or list(RUNS):
            d = os.path.join(workdir, name)
            os.makedirs(d)
            os.chmod(d, 0o711)
            t0 = time.monotonic()
            run = RUNS[name](d)
            for out_name, n in write_outputs(run, args.outdir):
                print(f"{os.path.join(args.outdir, out_name)}: {n} lines "
                      f"({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
