"""`smtprobe serve`'s policies end to end: loading, reloading, the options of
the deadlines and the machine-readable log.

- A policy nested 100,000 levels deep (44.8 s to load before the nesting
  cap) is refused at start and on reload, fast (well under the generous
  2 s asserted here), with the line and the cap in the message.
- SIGHUP reloads on libuv's thread pool. The reload is held for a second
  by a policy read from a FIFO the test writes late: meanwhile a client in
  the middle of a session gets its replies at once, a new client its
  banner; afterwards the session keeps the policy it started with and new
  sessions get the new one. SIGHUPs during a reload coalesce into one more.
- A reload where one listener's policy fails changes no listener.
- connections_per_ip defaults to half of max_connections.
- --json: the summary's counters are numbers, "ready" lists the listeners
  as objects; the text log shows them as key=value.
- The deadline options: their usage errors, and good values accepted.

Every test starts its own server (tests/harness/serve.py) on a free
loopback port; policies and FIFOs are written to the test's tmp_path.
"""
import errno
import os
import signal
import socket
import subprocess
import textwrap
import threading
import time

import pytest

from runner import SMTPROBE, run_smtprobe
from serve import Serve

HELO = "client.example.test"
EXTERNAL = "someone@example.org"
DEEP = 100_000
FAST = 2.0  # seconds: generous; the refusal takes milliseconds

CLOSED = "hostname: mx.example.test\nlocal_domains: [example.test]\n" \
         "auth: {offer: false}\nopen_relay: false\n"
OPEN = CLOSED.replace("open_relay: false", "open_relay: true")


# ------------------------------------------------------------------ helpers
def policy_file(tmp_path, text, name="policy.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def wait_for(fn, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Raw:
    """A raw SMTP client: one command, its (code, lines) reply."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.banner = self.reply()

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError(f"closed; pending {self.buf[:200]!r}")
                self.buf += data
            ln, self.buf = self.buf.split(b"\n", 1)
            ln = ln.rstrip(b"\r").decode(errors="replace")
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]), [x[4:] for x in lines]

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def timed(self, line):
        t = time.monotonic()
        code, text = self.cmd(line)
        return code, time.monotonic() - t

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def relays(port):
    """Does a new session on port get a 250 for an external recipient?"""
    with Raw(port) as c:
        assert c.cmd(f"EHLO {HELO}")[0] == 250
        assert c.cmd("MAIL FROM:<a@elsewhere.test>")[0] == 250
        code, text = c.cmd(f"RCPT TO:<{EXTERNAL}>")
        assert code in (250, 554), text
        c.cmd("QUIT")
        return code == 250


class FifoWriter:
    """Writes text into a FIFO once the server opens it for reading (a
    policy "file" whose read ends when the test says so)."""

    def __init__(self, path, text):
        self.path, self.text, self.error = path, text, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with open(self.path, "w") as f:  # blocks until a reader opens
                f.write(self.text)
        except OSError as e:
            self.error = e

    def join(self, timeout=10.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"nobody read {self.path}"
        assert self.error is None, self.error


def fifo_writer(path):
    """A write end of the FIFO when a reader is there (a reload blocked
    opening it), else None. Write the policy into it, then close it."""
    try:
        return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        assert e.errno == errno.ENXIO, e
        return None


def feed(fd, text):
    os.write(fd, text.encode())
    os.close(fd)


def deep(kind, n=DEEP):
    if kind == "lists":
        return "[" * n + "]" * n + "\n"
    if kind == "maps":
        return "{a: " * n + "b" + "}" * n + "\n"
    return "- " * n + "x\n"  # block lists on one line


# ------------------------------------------------------- deep nesting, fast
@pytest.mark.parametrize("kind", ["lists", "maps", "block"])
def test_deep_policy_refused_fast_at_start(tmp_path, kind):
    path = policy_file(tmp_path, deep(kind))
    assert os.path.getsize(path) >= 2 * DEEP
    res = run_smtprobe(["serve", "--policy", path, "--listen", "127.0.0.1:0"])
    assert res.returncode == 1, res.stderr
    assert res.elapsed < FAST, f"refused after {res.elapsed:.2f} s"
    assert f"{path}: line 1: nesting deeper than 32 levels" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_deep_policy_refused_fast_on_reload(tmp_path):
    pol = policy_file(tmp_path, CLOSED)
    with Serve([f"127.0.0.1:0,policy={pol}"]) as srv:
        with open(pol, "w") as f:
            f.write("hostname: x\nlocal_domains: " + deep("lists"))
        t = time.monotonic()
        srv.signal(signal.SIGHUP)
        [ev] = wait_for(lambda: srv.events("reload-failed"), timeout=FAST,
                        what="reload-failed")
        assert time.monotonic() - t < FAST
        assert ev["error"] == f"{pol}: line 2: nesting deeper than 32 levels", ev
        assert not relays(srv.port(0))  # the old policy, still there


# ------------------------------------------------- reload off the event loop
def test_reload_does_not_hold_sessions(tmp_path):
    fifo = str(tmp_path / "policy.fifo")
    os.mkfifo(fifo)
    FifoWriter(fifo, CLOSED)  # read at start
    with Serve([f"127.0.0.1:0,policy={fifo}"]) as srv:
        port = srv.port(0)
        with Raw(port) as c:
            assert c.cmd(f"EHLO {HELO}")[0] == 250
            assert c.cmd("MAIL FROM:<a@elsewhere.test>")[0] == 250
            srv.signal(signal.SIGHUP)
            # the reload is reading the FIFO: it waits for our write
            fd = wait_for(lambda: fifo_writer(fifo), what="the reload to open the FIFO")
            try:
                worst = 0.0
                end = time.monotonic() + 1.0
                while time.monotonic() < end:
                    code, took = c.timed("NOOP")
                    assert code == 250
                    worst = max(worst, took)
                    time.sleep(0.05)
                t = time.monotonic()
                with Raw(port) as other:  # a new client: banner, old policy
                    assert other.banner[0] == 220
                    assert other.cmd("NOOP")[0] == 250
                worst = max(worst, time.monotonic() - t)
                assert worst < 0.5, f"a reply took {worst:.3f} s during the reload"
                assert not srv.events("reloaded")
                assert not relays(port)
            finally:
                feed(fd, OPEN)
            [ev] = wait_for(lambda: srv.events("reloaded"), what="reloaded")
            assert ev["policy"] == fifo
            # the session keeps the policy it started with
            code, text = c.cmd(f"RCPT TO:<{EXTERNAL}>")
            assert code == 554 and "Relay access denied" in text[0], text
            c.cmd("QUIT")
        assert relays(port)  # new sessions: the new policy


def test_sighups_during_a_reload_coalesce(tmp_path):
    fifo = str(tmp_path / "policy.fifo")
    os.mkfifo(fifo)
    FifoWriter(fifo, CLOSED)
    with Serve([f"127.0.0.1:0,policy={fifo}"]) as srv:
        srv.signal(signal.SIGHUP)
        fd = wait_for(lambda: fifo_writer(fifo), what="the first reload")
        for _ in range(3):
            srv.signal(signal.SIGHUP)
            time.sleep(0.1)
        feed(fd, CLOSED)
        wait_for(lambda: srv.events("reloaded"), what="first reload")
        # one more reload, for the three signals that came meanwhile
        fd = wait_for(lambda: fifo_writer(fifo), what="the second reload")
        feed(fd, OPEN)
        wait_for(lambda: len(srv.events("reloaded")) == 2, what="second reload")
        time.sleep(0.5)
        assert fifo_writer(fifo) is None, "a third reload started"
        assert len(srv.events("reloaded")) == 2
        assert relays(srv.port(0))


def test_reload_with_one_bad_policy_changes_nothing(tmp_path):
    a = policy_file(tmp_path, CLOSED, "a.yaml")
    b = policy_file(tmp_path, CLOSED, "b.yaml")
    with Serve([f"127.0.0.1:0,policy={a}", f"127.0.0.1:0,policy={b}"]) as srv:
        with open(a, "w") as f:
            f.write(OPEN)
        with open(b, "w") as f:
            f.write(OPEN + "open_relay: maybe\n")
        srv.signal(signal.SIGHUP)
        [ev] = wait_for(lambda: srv.events("reload-failed"), what="reload-failed")
        assert ev["listener"] == f"127.0.0.1:0,policy={b}", ev
        assert ev["error"] == f"{b}: line 5: duplicate key 'open_relay'", ev
        time.sleep(0.2)
        assert not srv.events("reloaded")
        assert not relays(srv.port(0)) and not relays(srv.port(1))
        # fixed: both change, together
        with open(b, "w") as f:
            f.write(OPEN)
        srv.signal(signal.SIGHUP)
        evs = wait_for(lambda: len(srv.events("reloaded")) == 2 and srv.events("reloaded"),
                       what="2 reloaded events")
        assert [e["policy"] for e in evs] == [a, b]
        assert relays(srv.port(0)) and relays(srv.port(1))
    assert srv.returncode == 0


def test_unchanged_reload(tmp_path):
    pol = policy_file(tmp_path, OPEN)
    with Serve([f"127.0.0.1:0,policy={pol}"]) as srv:
        for i in range(1, 4):
            srv.signal(signal.SIGHUP)
            wait_for(lambda: len(srv.events("reloaded")) == i, what=f"reload {i}")
        assert relays(srv.port(0))


# ------------------------------------------------------- connections_per_ip
def test_connections_per_ip_defaults_to_half_of_max(tmp_path):
    pol = policy_file(tmp_path, OPEN + "limits: {max_connections: 4}\n")
    with Serve([f"127.0.0.1:0,policy={pol}"]) as srv:
        a, b = Raw(srv.port(0)), Raw(srv.port(0))
        c = socket.create_connection(("127.0.0.1", srv.port(0)), timeout=5)
        data = c.recv(4096).decode()
        assert data.startswith("421 4.7.0") and "too many connections from 127.0.0.1" \
            in data, data
        c.close()
        assert a.cmd("NOOP")[0] == 250 and b.cmd("NOOP")[0] == 250
        a.close()
        b.close()
    assert srv.summary["refused_connections"] == 1


def test_connections_per_ip_default_of_the_presets():
    # max_connections 100: 50 from one address, the 51st refused
    with Serve(["127.0.0.1:0,policy=mx"]) as srv:
        socks = [Raw(srv.port(0)) for _ in range(50)]
        c = socket.create_connection(("127.0.0.1", srv.port(0)), timeout=5)
        assert c.recv(4096).startswith(b"421 4.7.0"), "the 51st was served"
        c.close()
        for s in socks:
            s.close()


# ------------------------------------------------------------------- logs
def test_json_numbers_and_listener_objects(tmp_path):
    pol = policy_file(tmp_path, OPEN)
    with Serve(["127.0.0.1:0,policy=mx", f"127.0.0.1:0/starttls,policy={pol}"]) as srv:
        ls = srv.ready["listeners"]
        assert isinstance(ls, list) and len(ls) == 2, srv.ready
        assert ls[0] == {"address": f"127.0.0.1:{srv.port(0)}", "mode": "plain",
                         "policy": "mx"}
        assert ls[1] == {"address": f"127.0.0.1:{srv.port(1)}", "mode": "starttls",
                         "policy": pol}
        assert srv.ready["ca"].endswith("ca.pem")
        assert relays(srv.port(1))
    s = srv.summary
    keys = ["connections", "refused_connections", "messages", "bytes", "rcpt_accepted",
            "rcpt_refused", "auth_ok", "auth_failed", "tls", "errors", "refused_per_ip",
            "refused_rate", "refused_max", "refused_shutdown", "reclaimed", "timeout_tls",
            "timeout_command", "timeout_data", "timeout_session", "accept_errors"]
    assert [k for k in s if k not in ("ts", "event")] == keys, s
    for k in keys:
        assert type(s[k]) is int, (k, s)
    assert s["connections"] == 1 and s["rcpt_accepted"] == 1


def test_text_log_readable(tmp_path):
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([SMTPROBE, "serve", "--listen", "127.0.0.1:0,policy=open",
                             "--listen", "127.0.0.1:0,policy=mx", "--log", str(log)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: log.exists() and "event=ready" in log.read_text(), what="ready")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    text = log.read_text()
    ready = [ln for ln in text.splitlines() if " event=ready " in ln][0]
    assert ' listeners="address=127.0.0.1:' in ready and ",mode=plain,policy=open " in ready \
        and ready.count("address=") == 2, ready
    summary = [ln for ln in text.splitlines() if " event=summary " in ln][0]
    assert " connections=0 refused_connections=0 messages=0 " in summary, summary


# --------------------------------------------------------- deadline options
@pytest.mark.parametrize("option,value,message", [
    ("--tls-timeout", "x", "bad timeout 'x' for --tls-timeout"),
    ("--tls-timeout", "0", "bad timeout '0' for --tls-timeout"),
    ("--tls-timeout", "nan", "bad timeout 'nan' for --tls-timeout"),
    ("--tls-timeout", "0x10", "bad timeout '0x10' for --tls-timeout"),
    ("--session-timeout", "-5", "bad timeout '-5' for --session-timeout"),
    ("--session-timeout", "25h", "bad timeout '25h' for --session-timeout"),
    ("--data-max-time", "", "bad timeout '' for --data-max-time"),
    ("--data-max-time", "10 s", "bad timeout '10 s' for --data-max-time"),
    ("--data-min-rate", "-1", "bad rate '-1' for --data-min-rate"),
    ("--data-min-rate", "1.5", "bad rate '1.5' for --data-min-rate"),
    ("--data-min-rate", "fast", "bad rate 'fast' for --data-min-rate"),
    ("--data-min-rate", "99999999999", "bad rate '99999999999' for --data-min-rate"),
    ("--timeout", "soon", "bad timeout 'soon' for --timeout"),
    ("--data-timeout", "0", "bad timeout '0' for --data-timeout"),
])
def test_deadline_option_usage_errors(option, value, message):
    res = run_smtprobe(["serve", "--listen", "127.0.0.1:0", option, value])
    assert res.returncode == 1, res.stderr
    [line] = res.stderr.strip().splitlines()
    assert message in line and "try 'smtprobe serve --help'" in line, line


def test_deadline_options_accepted_and_documented():
    with Serve(["127.0.0.1:0,policy=open"],
               extra=["--tls-timeout", "2.5", "--session-timeout", "1h",
                      "--data-max-time", "30s", "--data-min-rate", "0",
                      "--timeout", "2m", "--data-timeout", "60"]) as srv:
        assert relays(srv.port(0))
    assert srv.returncode == 0
    res = run_smtprobe(["serve", "--help"])
    assert res.returncode == 0
    for opt, default in [("--tls-timeout", "default 10"), ("--session-timeout", "default 3600"),
                         ("--data-max-time", "default 600"), ("--data-min-rate", "default 100"),
                         ("--timeout", "default 300"), ("--data-timeout", "default 300")]:
        [line] = [ln for ln in res.stdout.splitlines() if ln.strip().startswith(opt + " ")]
        assert default in line, line
