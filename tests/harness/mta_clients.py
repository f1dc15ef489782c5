"""Real MTAs as *clients* of `smtprobe serve`: Exim 4.96, run one-shot.

    ex = EximClient(workdir, port=serve_port)             # SMTP to 127.0.0.1:port
    ex = EximClient(workdir, port=lmtp_port, protocol="lmtp")
    ex = EximClient(workdir, port, pipelining=False)      # hosts_avoid_pipelining = *
    ex.start()                      # writes the private config; exim -bV checks it
    mid = ex.submit(message, "a@example.net", ["b@example.test"])
                                    # non-SMTP input: exim -odq -oi -f SENDER -- RCPT...
    mid, replies = ex.submit_smtp("a@example.net", ["b@example.test"], message,
                                  mail_params="RET=HDRS", rcpt_params={...})
                                    # SMTP on stdin: exim -bs -oMa 127.0.0.1 -odq
                                    # (DSN and SMTPUTF8 parameters come in this way)
    run = ex.deliver(mid)           # exim -M ID: one delivery attempt, foreground
    run.output, run.seconds, run.transcript (verbose=True: Exim's SMTP dialogue)
    ex.log_lines(mid)               # its mainlog lines for that message
    ex.deliveries(mid)              # {recipient: ("=>"|"**"|"==", line)}
    ex.queue()                      # ids still in its queue

Why one-shot. A client needs no daemon: the message is put in Exim's
queue (-odq), then delivered by `exim -M ID` as root, in the foreground.
Two steps because of -C: with a private configuration Exim runs the
reception unprivileged and would lose root when it re-executes itself to
deliver (spec, -C); root running -M keeps it. `queue_only = true` in the
config makes anything Exim generates itself (a bounce for a refused
recipient) stay in its queue too: nothing is ever delivered in the
background, and every process Exim starts is a child of the one we wait
for. Each run is a new session (its own process group), waited for with
a timeout and then killed as a group, so no Exim process outlives a run.

Where it sends. One manualroute router sends every address to 127.0.0.1
(an IP address: no DNS lookup) through one smtp transport on the given
port (`protocol = lmtp` for LMTP over TCP), `allow_localhost`, no TLS
(`hosts_avoid_tls = *`). Every run happens in a private mount namespace
(mtas._ns_argv) whose /etc/resolv.conf points at 127.0.0.1 and whose
/etc/hosts knows only loopback names, so nothing can leave loopback even by
mistake. Spool, logs and pid file live in `workdir`, which Debian-exim must
be able to traverse (a 0711 directory; mta_fixtures.mta_workdir is one).

What is stock. Everything that decides how Exim talks to a server is
Exim's default: CHUNKING (BDAT) whenever offered (hosts_try_chunking = *),
PIPELINING, SMTPUTF8 when the message needs it and the server offers it
(utf8_downconvert = -1), DSN parameters passed on when the message came
with them and the server offers DSN. `pipelining=False` sets
hosts_avoid_pipelining = * (see test_serve_real_clients.py for why).
Timeouts are shortened (command_timeout, data_timeout, final_timeout) so a
server that never answers fails a test in seconds, not minutes.
"""
import os
import pwd
import re
import signal
import subprocess
import time

import mtas
import peers
from mailservers import _check_traversable, _tail, _write
from mtas import HOSTS, RESOLV, MTAError, _ns_argv

EXIM = os.path.join(peers.MTAS_DIR, "exim4", "usr", "sbin", "exim4")
RUN_TIMEOUT = 60.0       # one exim run, whatever it does
SMTP_TIMEOUT = "10s"     # the transport's command, data and final timeouts


class EximRun:
    """One finished exim run: argv, exit status, output, duration."""

    def __init__(self, argv, returncode, output, seconds):
        self.argv = argv
        self.returncode = returncode
        self.output = output
        self.seconds = seconds

    @property
    def transcript(self):
        """Exim's SMTP dialogue (with verbose=True): the 'SMTP>> ...',
        'SMTP|> ...', 'SMTP+> ...' and 'SMTP<< ...' lines, in order."""
        return [ln.strip() for ln in self.output.splitlines()
                if re.match(r"\s*(SMTP|LMTP)(<<|>>|\|>|\+>)", ln)]


class EximClient:
    software = "Exim 4.96"

    def __init__(self, workdir, port, protocol="smtp", pipelining=True,
                 transport_options=(), main_options=()):
        assert protocol in ("smtp", "lmtp"), protocol
        self.workdir = os.path.abspath(workdir)
        self.port = int(port)
        self.protocol = protocol
        self.pipelining = pipelining
        self.transport_options = list(transport_options)
        self.main_options = list(main_options)
        self.conf = os.path.join(self.workdir, "exim.conf")
        self.spool = os.path.join(self.workdir, "spool")
        self.logdir = os.path.join(self.workdir, "log")
        self.mainlog = os.path.join(self.logdir, "mainlog")
        self.hosts_file = os.path.join(self.workdir, "hosts")
        self.resolv_file = os.path.join(self.workdir, "resolv.conf")

    # ------------------------------------------------------------ setup
    def start(self):
        why = peers.problem("exim")
        if why:
            raise MTAError(f"cannot run {self.software} as a client: {why}")
        if os.geteuid() != 0:
            raise MTAError(f"{self.software} must be run as root (exim -M with -C)")
        ex = pwd.getpwnam("Debian-exim")
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        _check_traversable(self.workdir)
        for d in (self.spool, self.logdir):
            os.makedirs(d, exist_ok=True)
            os.chown(d, ex.pw_uid, ex.pw_gid)
            os.chmod(d, 0o750)
        _write(self.hosts_file, HOSTS)
        _write(self.resolv_file, RESOLV)
        _write(self.conf, self._config(), 0o644)
        run = self._run([EXIM, "-C", self.conf, "-bV"], namespace=False)
        if run.returncode != 0:
            raise MTAError(f"exim -bV refused {self.conf}:\n{run.output[-2000:]}")
        return self

    def _config(self):
        transport = [f"port = {self.port}", "allow_localhost", "hosts_avoid_tls = *",
                     f"command_timeout = {SMTP_TIMEOUT}", f"data_timeout = {SMTP_TIMEOUT}",
                     f"final_timeout = {SMTP_TIMEOUT}", "connect_timeout = 5s"]
        if self.protocol == "lmtp":
            transport.append("protocol = lmtp")
        if not self.pipelining:
            transport.append("hosts_avoid_pipelining = *")
        transport += self.transport_options
        main = "\n".join(self.main_options)
        body = "\n".join("  " + t for t in transport)
        return f"""\
# written by tests/harness/mta_clients.py: Exim as a one-shot client of smtprobe serve
primary_hostname = client.example.net
# Exim re-executes itself (a bounce is submitted by a child exim -t): the
# private root's binary, not the compiled-in /usr/sbin/exim4
exim_path = {EXIM}
qualify_domain = example.net
spool_directory = {self.spool}
log_file_path = {self.logdir}/%slog
pid_file_path = {self.workdir}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
host_lookup =
rfc1413_hosts =
# nothing is delivered unless a test asks (exim -M); what Exim makes
# itself (bounces) stays queued
queue_only = true
# the -bs submissions: DSN accepted from "127.0.0.1" (-oMa); SMTPUTF8 is
# advertised to every host by default
dsn_advertise_hosts = *
acl_smtp_rcpt = accept_all
log_selector = +smtp_protocol_error +smtp_syntax_error +received_recipients \\
  +outgoing_port +deliver_time +delivery_size +millisec
{main}

begin acl

accept_all:
  accept

begin routers

to_serve:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = to_serve

begin transports

to_serve:
  driver = smtp
{body}

begin retry

*  *  F,1m,1m
"""

    # ------------------------------------------------------------ runs
    def _run(self, argv, stdin=b"", timeout=RUN_TIMEOUT, namespace=True):
        if namespace:
            binds = [(self.hosts_file, "/etc/hosts"), (self.resolv_file, "/etc/resolv.conf")]
            argv = _ns_argv(binds, argv)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out, _ = proc.communicate()
            raise MTAError(f"exim did not finish within {timeout}s: {argv}\n"
                           f"{out.decode(errors='replace')[-2000:]}\n"
                           f"--- mainlog ---\n{_tail(self.mainlog)}")
        finally:
            # whatever Exim forked and left behind goes with its group
            _kill_group(proc.pid)
        return EximRun(argv, proc.returncode, out.decode("utf-8", errors="replace"),
                       time.monotonic() - t0)

    def _queued_ids(self):
        d = os.path.join(self.spool, "input")
        if not os.path.isdir(d):
            return set()
        ids = set()
        for root, _dirs, files in os.walk(d):
            ids |= {f[:-2] for f in files if f.endswith("-H")}
        return ids

    def queue(self):
        return sorted(self._queued_ids())

    def submit(self, message, sender, rcpts):
        """Queue `message` (bytes; LF or CRLF line ends) as non-SMTP input:
        exim -odq -oi -f SENDER -- RCPT... (-oi: a line of one dot is
        text, not the end). Returns Exim's message id."""
        before = self._queued_ids()
        run = self._run([EXIM, "-C", self.conf, "-odq", "-oi", "-f", sender, "--"]
                        + list(rcpts), stdin=message)
        new = self._queued_ids() - before
        if run.returncode != 0 or len(new) != 1:
            raise MTAError(f"exim did not queue the message (status {run.returncode}, "
                           f"new ids {sorted(new)}):\n{run.output[-2000:]}")
        return new.pop()

    def submit_smtp(self, sender, rcpts, message, mail_params="", rcpt_params=None,
                    helo="submitter.example.net"):
        """Queue `message` through SMTP on Exim's stdin (exim -bs, the
        caller's address set to 127.0.0.1 with -oMa so that host lists
        such as dsn_advertise_hosts match). MAIL gets mail_params, RCPT
        TO:<r> rcpt_params.get(r). The message is dot-stuffed here.
        Returns (message id, the replies in order)."""
        rcpt_params = rcpt_params or {}

        def line(text):
            return (text + "\r\n").encode()

        script = [line(f"EHLO {helo}"),
                  line(f"MAIL FROM:<{sender}>" + (f" {mail_params}" if mail_params else ""))]
        for r in rcpts:
            p = rcpt_params.get(r)
            script.append(line(f"RCPT TO:<{r}>" + (f" {p}" if p else "")))
        body = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        stuffed = re.sub(rb"(?m)^\.", b"..", body)
        script += [line("DATA"), stuffed + b".\r\n", line("QUIT")]
        run = self._run([EXIM, "-C", self.conf, "-bs", "-oMa", "127.0.0.1", "-odq"],
                        stdin=b"".join(script))
        replies = _split_replies(run.output)
        m = re.search(r"^250 OK id=(\S+)", run.output, re.M)
        if run.returncode != 0 or not m:
            raise MTAError(f"exim -bs did not queue the message (status "
                           f"{run.returncode}):\n{run.output[-3000:]}")
        return m.group(1), replies

    def deliver(self, mid, verbose=False):
        """One delivery attempt of message `mid`, in the foreground (exim
        -M; -v adds the SMTP dialogue to the output, and changes Exim's
        timing)."""
        return self._run([EXIM, "-C", self.conf] + (["-v"] if verbose else [])
                         + ["-M", mid])

    def send(self, message, sender, rcpts, verbose=False):
        """submit() then deliver(): (message id, EximRun)."""
        mid = self.submit(message, sender, rcpts)
        return mid, self.deliver(mid, verbose=verbose)

    # ------------------------------------------------------------ evidence
    def read_log(self):
        try:
            with open(self.mainlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self, mid):
        return [ln for ln in self.read_log().splitlines() if f" {mid} " in ln]

    def deliveries(self, mid):
        """{recipient: (mark, line)} from the mainlog: '=>' delivered, '**'
        failed for good, '==' deferred (the last line per recipient)."""
        out = {}
        for ln in self.log_lines(mid):
            m = re.search(rf" {re.escape(mid)} (=>|\*\*|==|->) (\S+) ", ln)
            if m:
                out[m.group(2)] = (m.group(1), ln)
        return out


def _split_replies(text):
    """SMTP replies ('250-...' lines up to the '250 ...' one) in text."""
    replies, cur = [], []
    for ln in text.splitlines():
        if re.match(r"^\d{3}[ -]", ln):
            cur.append(ln)
            if ln[3] == " ":
                replies.append("\n".join(cur))
                cur = []
    return replies


def _kill_group(pgid):
    # only processes whose program is under MTAS_DIR: the group id of a
    # run that is over may have been reused
    mtas._kill_group(pgid, signal.SIGKILL, only_ours=True)
