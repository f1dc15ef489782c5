"""A real Postfix (with Dovecot SASL) and a Dovecot LMTP server, privately.

    with MailServers(workdir) as ms:
        ms.host                 -> "127.0.0.1"
        ms.ports["open"]        (also ms.open, ms.mx, ms.submission, ms.smtps, ms.lmtp,
                                 ms.defer, ms.sub_nocheck, ms.data_reject,
                                 ms.sender_ok, ms.helo_ok, ms.null_ok)
        ms.ca_file, ms.cert_file, ms.key_file, ms.chain_file
        ms.users                -> {"alice": "alice-secret-1", "bob": "bob-secret-2"}
        ms.domain               -> "example.test"; ms.myhostname -> "mx.example.test"
        ms.maildir("alice")     -> the Maildir LMTP delivers to
        ms.postfix_log / ms.dovecot_log   (paths); ms.read_postfix_log()

Listeners, all on free 127.0.0.1 ports:
  open        plain SMTP, mynetworks = 0.0.0.0/0 (the classic open relay); no
              STARTTLS offered
  mx          plain SMTP, loopback not in mynetworks, reject_unauth_destination:
              relaying -> 554 5.7.1 Relay access denied, *@example.test
              accepted; STARTTLS offered (may)
  submission  STARTTLS required (encrypt + auth_only: 530 5.7.0 in clear), SASL
              via Dovecot, permit_sasl_authenticated then reject, and
              reject_sender_login_mismatch (alice owns alice@example.test,
              bob bob@example.test)
  smtps       the same as submission, implicit TLS (wrappermode)
  lmtp        Dovecot LMTP; delivers to Maildirs under workdir/mail/USER for
              the users of the passwd-file; unknown users refused at RCPT
  (the "relay lab" follows: real-world relay configurations for relay audits;
  plain SMTP, loopback not in mynetworks, unless said)
  defer       like mx but defer_unauth_destination: relaying -> 454 4.7.1
              Relay access denied, *@example.test accepted; STARTTLS offered
              (may)
  sub_nocheck like submission (STARTTLS required, SASL, permit_sasl_authenticated
              then reject) but without reject_sender_login_mismatch: an
              authenticated user may send as anyone (alice as bob@example.test)
  data_reject mynetworks = 0.0.0.0/0 (open at RCPT), no STARTTLS, but
              smtpd_data_restrictions = reject: RCPT to anywhere accepted,
              DATA -> 554 5.7.1 <DATA>: Data command rejected
  sender_ok   the "sender domain is ours" hole: check_sender_access
              (texthash, "example.test OK") before reject_unauth_destination:
              MAIL FROM *@example.test relays anywhere, others -> 554 5.7.1
  helo_ok     the "HELO localhost" hole: check_helo_access (texthash,
              localhost and localhost.localdomain OK) before
              reject_unauth_destination: EHLO localhost relays, others -> 554
  null_ok     the "null sender" hole: check_sender_access (texthash, "<> OK")
              before reject_unauth_destination: MAIL FROM:<> relays, others
              -> 554 5.7.1

Postfix delivery is a no-op (everything goes to discard:). Everything lives in
`workdir`: config, queue, data, Dovecot base_dir/state_dir, logs, mail.
Nothing of the system's /etc/postfix or /var/spool/postfix is used, so
instances run one after another (or side by side) never clash.

System-wide changes: none. Assumptions (checked at start, with a clear
error, see peers.py): the Debian packages have created the `postfix` user and
group, the `postdrop` group and the `dovecot` and `dovenull` users, and we
run as root.
`postfix -c DIR` run by root needs no `alternate_config_directories` entry in
/etc/postfix/main.cf (which does not even exist with "No configuration"):
that check guards the set-gid postdrop/postqueue programs, which the harness
never uses (nothing is submitted through sendmail).

The processes run as root at start (Postfix's master, Dovecot's master) and
drop to postfix/dovecot for their daemons, so `workdir` and its parents must
be traversable by those users (the fixture makes a 0711 directory in /tmp).
"""
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time

import certs
import peers

POSTFIX = peers.POSTFIX
DOVECOT = peers.DOVECOT

LISTENERS = ("open", "mx", "submission", "smtps", "lmtp",
             # the relay lab (see the module docstring)
             "defer", "sub_nocheck", "data_reject", "sender_ok", "helo_ok",
             "null_ok")
DEFAULT_USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
START_TIMEOUT = 30.0
OWNER_FILE = "owner"



def postfix_common_cf():
    """The main.cf settings every private Postfix of the harness shares
    (mailservers.py, tls_postures.py): loopback only, delivery a no-op, no
    DNS, no throttling."""
    return """\
mydestination = $mydomain, $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = /dev/stdout
smtputf8_enable = no
biff = no
# delivery is a no-op: the tests look at the SMTP dialogue only
default_transport = discard:test
relay_transport = discard:test
local_transport = discard:test
virtual_transport = discard:test
local_recipient_maps =
alias_maps =
alias_database =
# no DNS from the test servers
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no
# no throttling: tests make many errors on purpose
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
smtpd_client_connection_rate_limit = 0
# no flow control: audits that stop before DATA would otherwise make every
# accepted RCPT wait a second once the budget is spent
in_flow_delay = 0
"""


class MailServerError(RuntimeError):
    pass


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(path, lines=40):
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


def _check_system():
    """Fail early, with a clear message, when the packages are missing."""
    for peer in ("postfix", "dovecot", "openssl"):
        why = peers.problem(peer)
        if why:
            raise MailServerError(f"cannot run the test mail servers: {why}")
    if os.geteuid() != 0:
        raise MailServerError("the test mail servers must be started as root "
                              "(Postfix's master and Dovecot need it)")


def _check_traversable(path):
    """The postfix and dovecot users must reach `path` through its parents."""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if not st.st_mode & 0o001:
            raise MailServerError(f"{p} is not traversable by other users (mode "
                                  f"{oct(st.st_mode & 0o777)}); the postfix and "
                                  f"dovecot users need o+x on every parent of the "
                                  f"mail server work directory")
        parent = os.path.dirname(p)
        if parent == p:
            return
        p = parent


def _read_banner(host, port, use_tls, timeout):
    with socket.create_connection((host, port), timeout=timeout) as s:
        if use_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with ctx.wrap_socket(s) as t:
                return t.recv(512)
        return s.recv(512)


def reap_stale(parent, prefix):
    """Stop the servers of earlier runs that died without stopping them: for
    each parent/prefix* work directory whose owner process is gone, kill that
    instance's processes (by its marks only) and remove the directory."""
    for name in sorted(os.listdir(parent)):
        path = os.path.join(parent, name)
        if not name.startswith(prefix) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as f:
                pid_text, instance = f.read().split()
            os.kill(int(pid_text), 0)
            continue  # owner alive: not ours to touch
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # no or unreadable owner file: leave it alone
        stale = MailServers(path)
        stale.instance_name = instance
        stale._kill_leftovers()
        shutil.rmtree(path, ignore_errors=True)


class MailServers:
    host = "127.0.0.1"
    domain = "example.test"
    myhostname = "mx.example.test"

    def __init__(self, workdir, users=None):
        self.workdir = os.path.abspath(workdir)
        self.users = dict(users or DEFAULT_USERS)
        self.ports = {}
        self.postfix_dir = os.path.join(self.workdir, "postfix")
        self.queue_dir = os.path.join(self.workdir, "spool")
        self.data_dir = os.path.join(self.workdir, "postfix-data")
        self.dovecot_dir = os.path.join(self.workdir, "dovecot")
        self.dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        self.passwd_file = os.path.join(self.dovecot_dir, "users")
        self.mail_root = os.path.join(self.workdir, "mail")
        self.postfix_log = os.path.join(self.workdir, "postfix.log")
        self.dovecot_log = os.path.join(self.workdir, "dovecot.log")
        self.dovecot_stdout = os.path.join(self.workdir, "dovecot.stdout")
        self.cert_dir = os.path.join(self.workdir, "certs")
        self.ca_file = self.cert_file = self.key_file = self.chain_file = None
        self.certs = None
        self._postfix = None
        self._dovecot = None
        self._logs = []
        # unique among running instances: Dovecot names its processes after it
        self.instance_name = f"smtprobe-{os.getpid()}-{id(self) & 0xffffff:x}"

    # ------------------------------------------------------------- attributes
    def __getattr__(self, name):
        # ms.open, ms.mx, ... -> port numbers
        if name in LISTENERS and name in self.__dict__.get("ports", {}):
            return self.ports[name]
        raise AttributeError(name)

    def address(self, listener):
        return f"{self.host}:{self.ports[listener]}"

    def maildir(self, user):
        return os.path.join(self.mail_root, user, "Maildir")

    def delivered(self, user):
        """Paths of the messages delivered to user's Maildir (new/ and cur/)."""
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(user), sub)
            if os.path.isdir(d):
                found += sorted(os.path.join(d, n) for n in os.listdir(d))
        return found

    def read_postfix_log(self):
        with open(self.postfix_log, errors="replace") as f:
            return f.read()

    def read_dovecot_log(self):
        with open(self.dovecot_log, errors="replace") as f:
            return f.read()

    # ------------------------------------------------------------- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        _check_system()
        os.makedirs(self.workdir, exist_ok=True)
        _check_traversable(self.workdir)
        self._make_certs()
        # free_ports() releases the ports before the servers bind them, so
        # another process may take one meanwhile: try again with new ports.
        for attempt in range(3):
            # who runs this instance: lets reap_stale() clean up after a test
            # run that was killed before it could stop its servers
            _write(os.path.join(self.workdir, OWNER_FILE),
                   f"{os.getpid()} {self.instance_name}\n")
            ports = free_ports(len(LISTENERS))
            self.ports = dict(zip(LISTENERS, ports))
            self._write_postfix_config()
            self._write_dovecot_config()
            try:
                self._start_postfix()
                self._start_dovecot()
                self._wait_ready()
                return self
            except MailServerError as e:
                self.stop()
                if attempt == 2 or "Address already in use" not in str(e):
                    raise
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self):
        if self._postfix is not None:
            # `postfix stop` signals the master (pid file in the queue dir);
            # the start-fg wrapper then exits too.
            subprocess.run([POSTFIX, "-c", self.postfix_dir, "stop"],
                           capture_output=True, timeout=30)
            self._reap(self._postfix)
            self._postfix = None
        if self._dovecot is not None:
            subprocess.run([DOVECOT, "-c", self.dovecot_conf, "stop"],
                           capture_output=True, timeout=30)
            self._reap(self._dovecot)
            self._dovecot = None
        self._kill_leftovers()
        for f in self._logs:
            f.close()
        self._logs = []
        try:
            os.unlink(os.path.join(self.workdir, OWNER_FILE))
        except OSError:
            pass

    # ------------------------------------------------------------- internals
    def _reap(self, proc):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)

    def _kill_leftovers(self):
        """SIGKILL whatever of this instance is still running: Postfix programs
        whose MAIL_CONFIG is our config dir, Dovecot programs of our
        instance_name (their process titles read "dovecot-NAME/service") or
        started with our config file. Nothing else is touched: the program
        must be a Postfix/Dovecot binary and carry this instance's mark."""
        victims = set()
        pf_mark = b"MAIL_CONFIG=" + self.postfix_dir.encode()
        dv_mark = ("dovecot-" + self.instance_name + "/").encode()
        dv_conf = self.dovecot_conf.encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                exe = os.readlink(f"/proc/{entry}/exe")
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{entry}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if exe.startswith(("/usr/lib/postfix/", "/usr/sbin/postfix",
                               "/usr/sbin/postdrop", "/usr/sbin/postqueue")):
                if pf_mark in env:
                    victims.add(int(entry))
            elif exe.startswith(("/usr/lib/dovecot/", "/usr/sbin/dovecot")):
                if cmd.startswith(dv_mark) or dv_conf in cmd.split(b"\0"):
                    victims.add(int(entry))
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _make_certs(self):
        s = certs.make_server_set(self.cert_dir)
        self.certs = s
        self.ca_file, self.cert_file, self.key_file, self.chain_file = \
            s.ca_file, s.cert, s.key, s.chain
        # smtpd loads the key while still root; only the directory must be
        # reachable.
        os.chmod(self.cert_dir, 0o755)

    def _write_postfix_config(self):
        os.makedirs(self.postfix_dir, exist_ok=True)
        for d in (self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
        # data_directory must belong to postfix; the queue root to root.
        pf = pwd.getpwnam("postfix")
        os.chown(self.data_dir, pf.pw_uid, pf.pw_gid)
        os.chmod(self.data_dir, 0o700)
        os.chmod(self.queue_dir, 0o755)
        # Dovecot creates the auth socket in private/, which Postfix would
        # only create at start: make it now with Postfix's own ownership.
        private = os.path.join(self.queue_dir, "private")
        os.makedirs(private, exist_ok=True)
        os.chown(private, pf.pw_uid, -1)
        os.chmod(private, 0o700)

        logins = os.path.join(self.postfix_dir, "sender_logins")
        _write(logins, "".join(f"/^{u}@example\\.test$/ {u}\n" for u in self.users))
        # access(5) tables of the relay lab; texthash: needs no postmap
        sender_ok = _write(os.path.join(self.postfix_dir, "sender_ok"),
                           f"{self.domain} OK\n")
        helo_ok = _write(os.path.join(self.postfix_dir, "helo_ok"),
                         "localhost OK\nlocalhost.localdomain OK\n")
        null_ok = _write(os.path.join(self.postfix_dir, "null_ok"), "<> OK\n")

        main = f"""\
# written by tests/harness/mailservers.py
compatibility_level = 3.6
config_directory = {self.postfix_dir}
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = {self.myhostname}
mydomain = {self.domain}
myorigin = $mydomain
{postfix_common_cf()}anvil_rate_time_unit = 60s
smtpd_banner = $myhostname ESMTP smtprobe-test
# TLS: certificate from the throwaway CA; offered on port-level "may"
smtpd_tls_cert_file = {self.chain_file}
smtpd_tls_key_file = {self.key_file}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
tls_random_source = dev:/dev/urandom
# SASL via Dovecot (enabled per listener)
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sender_login_maps = regexp:{logins}
"""
        _write(os.path.join(self.postfix_dir, "main.cf"), main)

        p = self.ports
        sub_opts = """\
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o mynetworks=192.0.2.0/24
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
"""
        # submission without the sender/login check: empty sender restrictions
        sub_nocheck_opts = sub_opts.replace(
            "smtpd_sender_restrictions=reject_sender_login_mismatch",
            "smtpd_sender_restrictions=")
        assert sub_nocheck_opts != sub_opts
        master = f"""\
# written by tests/harness/mailservers.py
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:{p["open"]} inet n - n - - smtpd
  -o syslog_name=postfix/open
  -o mynetworks=0.0.0.0/0
  -o smtpd_tls_security_level=none
127.0.0.1:{p["mx"]} inet n - n - - smtpd
  -o syslog_name=postfix/mx
  -o mynetworks=192.0.2.0/24
  -o smtpd_tls_security_level=may
  -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination
127.0.0.1:{p["submission"]} inet n - n - - smtpd
  -o syslog_name=postfix/submission
{sub_opts}127.0.0.1:{p["smtps"]} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
{sub_opts}127.0.0.1:{p["defer"]} inet n - n - - smtpd
  -o syslog_name=postfix/defer
  -o mynetworks=192.0.2.0/24
  -o smtpd_tls_security_level=may
  -o smtpd_relay_restrictions=permit_mynetworks,defer_unauth_destination
127.0.0.1:{p["sub_nocheck"]} inet n - n - - smtpd
  -o syslog_name=postfix/sub_nocheck
{sub_nocheck_opts}127.0.0.1:{p["data_reject"]} inet n - n - - smtpd
  -o syslog_name=postfix/data_reject
  -o mynetworks=0.0.0.0/0
  -o smtpd_tls_security_level=none
  -o smtpd_data_restrictions=reject
127.0.0.1:{p["sender_ok"]} inet n - n - - smtpd
  -o syslog_name=postfix/sender_ok
  -o mynetworks=192.0.2.0/24
  -o smtpd_tls_security_level=none
  -o smtpd_relay_restrictions=permit_mynetworks,check_sender_access,texthash:{sender_ok},reject_unauth_destination
127.0.0.1:{p["helo_ok"]} inet n - n - - smtpd
  -o syslog_name=postfix/helo_ok
  -o mynetworks=192.0.2.0/24
  -o smtpd_tls_security_level=none
  -o smtpd_relay_restrictions=permit_mynetworks,check_helo_access,texthash:{helo_ok},reject_unauth_destination
127.0.0.1:{p["null_ok"]} inet n - n - - smtpd
  -o syslog_name=postfix/null_ok
  -o mynetworks=192.0.2.0/24
  -o smtpd_tls_security_level=none
  -o smtpd_relay_restrictions=permit_mynetworks,check_sender_access,texthash:{null_ok},reject_unauth_destination
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
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
        _write(os.path.join(self.postfix_dir, "master.cf"), master)

    def _write_dovecot_config(self):
        # Every mechanism smtprobe can test against Dovecot 2.3 from Debian;
        # NTLM is not built into Debian's Dovecot ("Unknown authentication
        # mechanism 'NTLM'"), so NTLM is covered by the unit tests only.
        run = os.path.join(self.dovecot_dir, "run")
        state = os.path.join(self.dovecot_dir, "state")
        for d in (self.dovecot_dir, run, state, self.mail_root):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.dovecot_dir, 0o755)
        dv = pwd.getpwnam("dovecot")
        # LMTP delivers as the unprivileged `dovecot` user (Dovecot refuses
        # uid 0 for mail access), so the mail root belongs to it.
        os.chown(self.mail_root, dv.pw_uid, dv.pw_gid)
        os.chmod(self.mail_root, 0o755)
        # passwd-file: user:{PLAIN}password:uid:gid::home
        _write(self.passwd_file, "".join(
            f"{u}:{{PLAIN}}{pw}::::{self.mail_root}/{u}::\n"
            for u, pw in self.users.items()), 0o640)
        os.chown(self.passwd_file, 0, dv.pw_gid)
        auth_socket = os.path.join(self.queue_dir, "private", "auth")
        conf = f"""\
# written by tests/harness/mailservers.py
base_dir = {run}
state_dir = {state}
instance_name = {self.instance_name}
protocols = lmtp
listen = 127.0.0.1
log_path = {self.dovecot_log}
info_log_path = {self.dovecot_log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
auth_username_format = %Ln
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = {dv.pw_uid}
last_valid_uid = 0
first_valid_gid = 1
lmtp_save_to_detail_mailbox = no
recipient_delimiter = +
postmaster_address = postmaster@{self.domain}
hostname = {self.myhostname}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Ln {self.passwd_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%Ln {self.passwd_file}
  default_fields = uid={dv.pw_uid} gid={dv.pw_gid}
}}

service auth {{
  unix_listener {auth_socket} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.ports["lmtp"]}
  }}
}}
service anvil {{
  chroot =
}}
"""
        _write(self.dovecot_conf, conf)

    def _start_postfix(self):
        log = open(self.postfix_log, "ab")
        self._logs.append(log)
        env = dict(os.environ, MAIL_CONFIG=self.postfix_dir)
        self._postfix = subprocess.Popen(
            [POSTFIX, "-c", self.postfix_dir, "start-fg"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def _start_dovecot(self):
        out = open(self.dovecot_stdout, "ab")
        self._logs.append(out)
        self._dovecot = subprocess.Popen(
            [DOVECOT, "-c", self.dovecot_conf, "-F"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def _failure(self, why):
        return MailServerError(
            f"test mail servers did not start: {why}\n"
            f"--- {self.postfix_log} (tail) ---\n{_tail(self.postfix_log)}"
            f"--- {self.dovecot_log} (tail) ---\n{_tail(self.dovecot_log)}"
            f"--- {self.dovecot_stdout} (tail) ---\n{_tail(self.dovecot_stdout)}")

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        pending = dict(self.ports)
        last = {}
        while pending:
            for name, proc in (("postfix", self._postfix), ("dovecot", self._dovecot)):
                if proc.poll() is not None:
                    raise self._failure(f"{name} exited with status {proc.returncode}")
            for name, port in list(pending.items()):
                try:
                    banner = _read_banner(self.host, port, name == "smtps", 2.0)
                except (OSError, ssl.SSLError) as e:
                    last[name] = repr(e)
                    continue
                if banner.startswith(b"220"):
                    del pending[name]
                else:
                    last[name] = repr(banner)
            if not pending:
                break
            if time.monotonic() > deadline:
                detail = ", ".join(f"{n} (port {self.ports[n]}): {last.get(n)}"
                                   for n in pending)
                raise self._failure(f"no 220 banner after {START_TIMEOUT:.0f}s from "
                                    f"{detail}")
            time.sleep(0.1)
        # the SASL socket is created by Dovecot's master; smtpd needs it for AUTH
        sock = os.path.join(self.queue_dir, "private", "auth")
        while not os.path.exists(sock):
            if time.monotonic() > deadline:
                raise self._failure(f"dovecot did not create {sock}")
            time.sleep(0.1)
