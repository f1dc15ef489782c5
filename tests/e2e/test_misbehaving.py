"""`smtprobe send` against misbehaving SMTP servers.

Every case runs the real binary against a misbehaving server on 127.0.0.1
and checks the contract of docs/internals/send-contract.md: the exit code
of the stage that failed, one `smtprobe: ...` line on stderr naming that
stage, no crash, no hang (a bound derived from --timeout) and bounded
memory.

Where our own server has the misbehaviour, the case runs against
`smtprobe serve` (tests/harness/serve.py) with the mx preset's essentials
and one fault from its "faults:" section (docs/smtprobe-serve-policy.md),
written as a YAML policy to the test's tmp_path: silence, a dripped banner,
an endless EHLO reply, a 4 MB line, a garbage banner, a 421 banner, a reset
during DATA, garbage after STARTTLS and a close after the banner.

The scripted BadServer (tests/harness/badserver.py) stays for what a real
server cannot or should not produce byte-exactly:
  - a NUL in the banner and a "999" banner code (serve's replies are its
    own, well-formed ones);
  - an endless EHLO reply of 1 kB lines (serve's endless reply has short
    lines only, so the line-count cap always comes before the size cap);
  - 250 instead of 354 to DATA and a RST after the final dot instead of
    its reply (protocol violations no fault produces);
  - an undecodable AUTH challenge (serve's SASL challenges are valid);
  - the STARTTLS response injection (in test_send_options.py);
  - the self-tests of BadServer itself (test_badserver_selftest_*), which
    use Python's smtplib and raw sockets and do not need the smtprobe
    binary.
"""
import os
import random
import re
import smtplib
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from runner import ASAN, run_smtprobe
from badserver import BadServer, ehlo_reply, good_script
from serve import Serve

STAGE_TIMEOUT = 2          # --timeout for every run
SESSION_TIMEOUT = 20       # --session-timeout for every run
MARGIN = 3 * (3 if ASAN else 1)
TIME_BOUND = STAGE_TIMEOUT + MARGIN        # no run may take longer
RSS_LIMIT_KB = (400 if ASAN else 64) * 1024
HANG_KILL = 30             # run_smtprobe kills (and fails) after this

TO, FROM = "a@example.test", "b@example.test"

# Stage phrases of the contract ("Errors" section).
BANNER = r"waiting for the banner"
EHLO = r"waiting for the EHLO reply"
DATA = r"waiting for the DATA reply"
DOT = r"waiting for the reply to the final dot"
TLS = r"during the TLS handshake"
AUTH = r"\bAUTH\b"   # "during AUTH" or "AUTH failed: ..." (both in the contract)


# The essentials of serve's mx preset (server/config.c): mail for TO is
# local, nobody relays, no AUTH. A case's fault is appended under "faults:".
MX_YAML = """\
hostname: mx.example.test
local_domains: [example.test]
trusted_networks: []
open_relay: false
auth:
  offer: false
"""


class ServeTarget:
    """`smtprobe serve` with one fault, seen the way the tests see a
    BadServer: .address, .host, .port, .events (the JSON log so far)."""

    def __init__(self, serve, fault):
        self.serve, self.fault = serve, fault
        self.host, self.port = serve.address(0)

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def events(self):
        return self.serve.events()

    def fired(self, timeout=3.0):
        """The fault events of the log (waiting a little for the first)."""
        deadline = time.monotonic() + timeout
        while not (evs := self.serve.events("fault")) and time.monotonic() < deadline:
            time.sleep(0.02)
        return evs

    def __repr__(self):
        return (f"<smtprobe serve {self.address} fault {self.fault}; "
                f"stderr {self.serve.stderr_text()[-1000:]!r}>")


@pytest.fixture
def serve_fault(tmp_path):
    """serve_fault(fault, mode="plain") -> a started ServeTarget whose
    policy is MX_YAML plus this one fault (a YAML flow mapping)."""
    servers = []

    def start(fault, mode="plain"):
        n = len(servers)
        pol = tmp_path / f"policy{n}.yaml"
        pol.write_text(MX_YAML + "faults:\n  - " + fault + "\n")
        workdir = tmp_path / f"serve{n}"
        workdir.mkdir()
        srv = Serve([f"127.0.0.1:0/{mode},policy={pol}"], workdir=str(workdir))
        srv.start()
        servers.append(srv)
        return ServeTarget(srv, fault)

    yield start
    for srv in servers:
        srv.stop()


def start_target(case, badserver, serve_fault):
    if case.fault:
        return serve_fault(case.fault, case.mode)
    return badserver(case.script)


def base_args(srv, *extra):
    return ["send", "--server", srv.address, "--to", TO, "--from", FROM,
            "--timeout", STAGE_TIMEOUT, "--session-timeout", SESSION_TIMEOUT,
            *extra]


def _inherited_rss_kb():
    """ru_maxrss of a trivial exec from this process: the part of
    run_smtprobe's maxrss_kb that is the pytest process, not smtprobe."""
    p = subprocess.Popen(["/bin/true"])
    return os.wait4(p.pid, 0)[2].ru_maxrss


def check_sane(r, srv=None):
    """No crash, no hang, bounded memory: true of every run."""
    ctx = f"rc={r.returncode} elapsed={r.elapsed:.2f}s rss={r.maxrss_kb}kB\n" \
          f"stderr: {r.stderr[-3000:]!r}\nstdout tail: {r.stdout[-1500:]!r}\n" \
          f"server: {srv!r} events={srv.events if srv else None}"
    assert r.returncode >= 0, "killed by a signal\n" + ctx
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
        assert marker not in r.stderr, f"sanitizer report ({marker})\n" + ctx
    assert r.elapsed <= TIME_BOUND, f"took longer than {TIME_BOUND}s\n" + ctx
    if r.maxrss_kb >= RSS_LIMIT_KB:
        raise AssertionError(f"peak RSS over {RSS_LIMIT_KB} kB\n" + ctx +
                             f"\nnote: /bin/true measures {_inherited_rss_kb()} kB "
                             "the same way from this process (wait4's ru_maxrss keeps "
                             "the RSS high-water mark inherited across fork+exec)")
    return ctx


# the one documented warning that may come before the error line
PASSWORD_WARNING = "smtprobe: warning: --auth-password on the command line"


def error_line(r, ctx):
    """The contract: one line on stderr, `smtprobe: <what failed and where>`."""
    stderr = "".join(l for l in r.stderr.splitlines(True)
                     if not l.startswith(PASSWORD_WARNING))
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, "stderr must be exactly one error line\n" + ctx
    assert lines[0].startswith("smtprobe: "), ctx
    assert stderr.endswith("\n") and stderr.count("\n") == 1, \
        "one line, newline-terminated, no blank lines\n" + ctx
    return lines[0]


# --------------------------------------------------------------------------
# scripts

def garbage_banner():
    rnd = random.Random(20240521)
    junk = bytes(b for b in rnd.randbytes(400) if b not in b"\r\n")
    return b"\xff\xfe" + junk[:300] + b"\r\n"


def ehlo_flood(line):
    return good_script(upto="banner") + [
        ("expect", b"EHLO"),
        ("send", b"250-badserver.test Hello\r\n"),
        ("flood", line, None),
    ]


# BadServer's versions of misbehaviours the cases now get from serve: the
# self-tests below still check that BadServer can produce them.
HOLD = [("hold",)]
HUGE_BANNER_LINE = [("send", b"220 " + b"A" * (4 << 20)), ("hold",)]
EHLO_ENDLESS_LINES = ehlo_flood(b"250-FLOOD\r\n")
CLOSE_AFTER_BANNER = good_script(upto="banner") + [("close",)]

STARTTLS_GARBAGE = good_script(upto="banner") + [
    ("expect", b"EHLO"), ("send", ehlo_reply(starttls=True)),
    ("expect", b"STARTTLS"), ("send", b"220 2.0.0 Ready to start TLS\r\n"),
    ("starttls_garbage",),
]

AUTH_BAD_CHALLENGE = good_script(upto="banner") + [
    ("expect", b"EHLO"), ("send", ehlo_reply(auth=("PLAIN", "LOGIN", "CRAM-MD5"))),
    ("expect", b"AUTH CRAM-MD5"), ("send", b"334 !!!not-base64!!!\r\n"),
    ("serve",),
]
AUTH_ARGS = ["--auth", "CRAM-MD5", "--auth-user", "u", "--auth-password", "p",
             "--auth-plaintext"]

BIG_BODY = ("x" * 998 + "\r\n") * (8 * 1024)   # 8 MB, streamed through stdin


@dataclass
class Case:
    id: str
    script: list
    exit: int
    stage: str                       # regex: the contract's stage phrase
    error: list = field(default_factory=list)  # regexes the error must match
    args: list = field(default_factory=list)
    input: str = None
    json_stage: str = None           # "stage" expected in --json output
    fault: str = None                # a serve fault: run against serve, not script
    mode: str = "plain"              # serve's listener mode (with fault)


def serve_case(id, fault, *args, mode="plain", **kw):
    """A case run against `smtprobe serve` with this fault (YAML flow mapping)."""
    return Case(id, None, *args, fault=fault, mode=mode, **kw)


CASES = [
    # no banner at all: the banner stage times out
    serve_case("silence", "{command: connect, action: silence}", 21, BANNER,
               [r"timeout"], json_stage="banner"),
    # 1 byte every 0.3 s: the 36-byte banner ("220 mx.example.test ESMTP
    # smtprobe") takes 10.8 s, far beyond the 2 s stage deadline
    serve_case("banner_drip", "{command: connect, action: drip, ms: 300}", 21, BANNER,
               [r"timeout"]),
    # a reply that never ends: short "250-" lines forever (line cap: 128)
    serve_case("ehlo_endless_lines", "{command: EHLO, action: endless}", 22, EHLO,
               [r"too many lines|too (big|large|long)"], json_stage="ehlo"),
    # the same with 1 kB lines: the 64 kB size cap comes first (BadServer:
    # serve's endless lines are short)
    Case("ehlo_endless_big_lines", ehlo_flood(b"250-" + b"F" * 1000 + b"\r\n"), 22, EHLO,
         [r"too many lines|too (big|large|long)"]),
    # a 4 MB banner line (the client's line cap comes long before its CRLF)
    serve_case("banner_huge_line", "{command: connect, action: long-line, bytes: 4M}",
               21, BANNER, [r"line too long"]),
    # one line of random bytes (no CR or LF in it) instead of the banner
    serve_case("banner_garbage", "{command: connect, action: garbage}", 21, BANNER,
               [r"invalid reply"], json_stage="banner"),
    Case("banner_code_999", [("send", b"999 what\r\n"), ("serve",)], 21, BANNER),
    # a 421 banner: the 421 must be reported (21), not what follows it
    serve_case("banner_421",
               '{command: connect, action: reply, code: 421, '
               'text: "4.3.2 mx.example.test Service not available"}',
               21, r"banner", [r"421"]),
    Case("data_250_instead_of_354",
         good_script(upto="rcpt") + [("expect", b"DATA"),
                                     ("send", b"250 2.0.0 Ok\r\n"), ("serve",)],
         25, r"DATA", json_stage="data"),
    # RST while the client is still streaming an 8 MB body (SIGPIPE
    # territory): serve resets at the first line of the message
    serve_case("reset_during_body", "{command: DATA, action: reset-data}",
               6, r"DATA|final dot|message", [r"closed|reset"],
               args=["--body", "-", "--suppress-data"], input=BIG_BODY),
    # RST after the final dot, instead of its reply
    Case("reset_after_dot",
         good_script(upto="data") + [("read_data",), ("reset",)],
         6, DOT, [r"closed|reset"]),
    # 220 to STARTTLS, then garbage in answer to the ClientHello
    serve_case("starttls_garbage", "{command: STARTTLS, action: bad-starttls}",
               29, TLS, mode="starttls", args=["--tls"], json_stage="tls"),
    Case("auth_undecodable_challenge", AUTH_BAD_CHALLENGE, 28, AUTH,
         [r"challenge"], args=AUTH_ARGS, json_stage="auth"),
    # FIN right after the banner (serve: once the EHLO has arrived, unanswered)
    serve_case("close_after_banner", "{command: EHLO, action: drop}",
               6, EHLO, [r"closed"]),
]


def check_misbehaved(srv, case, ctx):
    """The misbehaviour did happen, and only it: BadServer's script was
    followed up to it; serve's fault fired, once, where the case put it."""
    if case.fault:
        evs = srv.fired()
        action = re.search(r"action: ([\w-]+)", case.fault).group(1)
        assert [e["action"] for e in evs] == [action], \
            f"serve's fault did not fire once: {evs}\n" + ctx
        return
    srv.wait_idle()
    assert not srv.errors, "the client strayed from the script before the " \
                           "misbehaviour\n" + ctx


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_misbehaving_server(badserver, serve_fault, case):
    srv = start_target(case, badserver, serve_fault)
    r = run_smtprobe(base_args(srv, *case.args), timeout=HANG_KILL, input=case.input)
    ctx = check_sane(r, srv)
    line = error_line(r, ctx)
    assert r.returncode == case.exit, f"exit {r.returncode}, want {case.exit}\n" + ctx
    assert re.search(case.stage, line), f"error does not name the stage /{case.stage}/\n" + ctx
    for pat in case.error:
        assert re.search(pat, line, re.I), f"error does not match /{pat}/\n" + ctx
    check_misbehaved(srv, case, ctx)


def test_silence_error_names_server_and_deadline(serve_fault):
    # contract example: "timeout waiting for the banner from 127.0.0.1:2525 after 2 s"
    srv = serve_fault("{command: connect, action: silence}")
    r = run_smtprobe(base_args(srv), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    line = error_line(r, ctx)
    assert r.returncode == 21, ctx
    assert "timeout" in line and "banner" in line, ctx
    assert srv.address in line, ctx
    # the deadline is 2 s, not sooner: the client did wait for the banner
    assert r.elapsed >= STAGE_TIMEOUT - 0.2, ctx


JSON_CASES = [c for c in CASES if c.json_stage]


@pytest.mark.parametrize("case", JSON_CASES, ids=[c.id for c in JSON_CASES])
def test_misbehaving_server_json(badserver, serve_fault, case):
    srv = start_target(case, badserver, serve_fault)
    r = run_smtprobe(base_args(srv, "--json", *case.args), timeout=HANG_KILL,
                     input=case.input)
    ctx = check_sane(r, srv)
    line = error_line(r, ctx)
    assert r.returncode == case.exit, ctx
    doc = r.json()
    assert doc["exit_code"] == case.exit, ctx
    assert doc["stage"] == case.json_stage, ctx
    assert isinstance(doc["error"], str) and doc["error"], ctx
    # "error": the stderr message (with or without the "smtprobe: " prefix)
    assert doc["error"] in line, ctx


def test_nul_in_banner_is_escaped(badserver):
    srv = badserver(good_script(banner=b"220 host\x00evil ESMTP\r\n"))
    r = run_smtprobe(base_args(srv), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    assert r.stderr == "", ctx
    assert "\x00" not in r.stdout, "raw NUL in the transcript\n" + ctx
    assert "host\\x00evil" in r.stdout, "NUL not shown as \\x00\n" + ctx
    srv.wait_idle()
    assert not srv.errors, ctx


def test_nul_in_banner_json(badserver):
    srv = badserver(good_script(banner=b"220 host\x00evil ESMTP\r\n"))
    r = run_smtprobe(base_args(srv, "--json"), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    assert "\\u0000" not in r.stdout and "\x00" not in r.stdout, ctx
    banner = next(s for s in r.json()["stages"] if s["name"] == "banner")
    assert banner["reply"]["code"] == 220, ctx
    assert banner["reply"]["text"] == ["host\\x00evil ESMTP"], ctx


# --------------------------------------------------------------------------
# the happy path: proves the server and the harness work with smtprobe

@pytest.mark.parametrize("extra", [[], ["--pipeline"]], ids=["plain", "pipeline"])
def test_good_server(badserver, extra):
    srv = badserver(good_script())
    r = run_smtprobe(base_args(srv, *extra), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    assert r.stderr == "", ctx
    srv.wait_idle()
    assert not srv.errors, ctx
    assert srv.conns[0].completed, ctx
    cmds = [l.split(b":")[0].split(b" ")[0].upper() for l in srv.lines]
    assert cmds == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT"], ctx
    assert srv.lines[1].upper().startswith(b"MAIL FROM:<B@EXAMPLE.TEST>"), ctx
    assert srv.lines[2].upper().startswith(b"RCPT TO:<A@EXAMPLE.TEST>"), ctx
    assert len(srv.messages) == 1 and srv.messages[0], ctx


def test_good_server_tls(badserver):
    srv = badserver(good_script(tls=True))
    r = run_smtprobe(base_args(srv, "--tls"), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    assert r.stderr == "", ctx
    srv.wait_idle()
    assert not srv.errors, ctx
    assert any("TLS established" in e for e in srv.events), ctx
    assert " ~> " in r.stdout and "<~  " in r.stdout, ctx


def test_good_server_json(badserver):
    srv = badserver(good_script())
    r = run_smtprobe(base_args(srv, "--json"), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    doc = r.json()
    assert doc["exit_code"] == 0 and doc["error"] is None, ctx
    assert doc["stage"] == "quit", ctx
    assert "PIPELINING" in doc["ehlo"]["capabilities"], ctx
    assert doc["ehlo"]["auth_mechanisms"] == ["PLAIN", "LOGIN"], ctx
    assert doc["server"]["port"] == srv.port, ctx
    assert [x["accepted"] for x in doc["recipients"]] == [True], ctx


# --------------------------------------------------------------------------
# self-tests of the server (no smtprobe needed)

def _connect(srv, timeout=5):
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    return s


def _recv_until(s, pred, limit=1 << 20):
    buf = b""
    while not pred(buf) and len(buf) < limit:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


def test_badserver_selftest_good_smtplib():
    with BadServer(good_script()) as srv:
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as c:
            code, _ = c.ehlo("client.test")
            assert code == 250
            assert c.has_extn("pipelining") and c.has_extn("auth")
            assert c.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
            c.sendmail(FROM, [TO], "Subject: hi\r\n\r\nbody\r\n")
        assert srv.wait_idle()
        assert srv.errors == []
        assert srv.conns[0].completed
        assert srv.lines[0].lower() == b"ehlo client.test"
        assert srv.lines[-1].upper() == b"QUIT"
        assert srv.messages == [b"Subject: hi\r\n\r\nbody\r\n"]


def test_badserver_selftest_tls_smtplib():
    with BadServer(good_script(tls=True)) as srv:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as c:
            c.ehlo("client.test")
            assert c.has_extn("starttls")
            c.starttls(context=ctx)
            c.ehlo("client.test")
            assert not c.has_extn("starttls")
            c.sendmail(FROM, [TO], "body\r\n")
        assert srv.wait_idle()
        assert srv.errors == [], srv.events
        assert any("TLS established" in e for e in srv.events)
        assert srv.messages == [b"body\r\n"]


def test_badserver_selftest_expect_mismatch_is_reported():
    with BadServer(good_script()) as srv:
        s = _connect(srv)
        _recv_until(s, lambda b: b.endswith(b"\r\n"))
        s.sendall(b"HELO x\r\n")
        assert _recv_until(s, lambda b: False) == b""   # server hung up
        s.close()
        assert srv.wait_idle()
        assert len(srv.errors) == 1 and "expected" in srv.errors[0]


def test_badserver_selftest_misbehaviours():
    by_id = {c.id: c for c in CASES}
    # silence: nothing comes; the server notices the client leaving
    with BadServer(HOLD) as srv:
        s = _connect(srv, timeout=0.5)
        with pytest.raises(socket.timeout):
            s.recv(10)
        s.close()
        assert srv.wait_idle(2)
    # drip: one byte per interval
    with BadServer([("drip", b"220 slow\r\n", 0.1)]) as srv:
        s = _connect(srv)
        t0 = time.monotonic()
        got = _recv_until(s, lambda b: len(b) >= 4)
        assert got.startswith(b"22") and time.monotonic() - t0 >= 0.25
        s.close()
    # flood: endless continuation lines; stops when the peer goes
    with BadServer(EHLO_ENDLESS_LINES) as srv:
        s = _connect(srv)
        _recv_until(s, lambda b: b.endswith(b"\r\n"))
        s.sendall(b"EHLO x\r\n")
        got = _recv_until(s, lambda b: len(b) > 200000)
        assert got.count(b"250-FLOOD\r\n") > 1000
        s.close()
        assert srv.wait_idle(3)
        assert any("flood: sent" in e for e in srv.events)
        assert srv.errors == []
    # a 4 MB line without CRLF
    with BadServer(HUGE_BANNER_LINE) as srv:
        s = _connect(srv)
        got = _recv_until(s, lambda b: len(b) > 100000)
        assert b"\n" not in got and len(got) > 100000
        s.close()
        assert srv.wait_idle(3)
    # garbage banner: one CRLF-terminated line, not a reply
    g = garbage_banner()
    assert g.endswith(b"\r\n") and g.count(b"\n") == 1 and not g[:3].isdigit()
    # RST after the final dot
    with BadServer(by_id["reset_after_dot"].script) as srv:
        s = _connect(srv)
        _recv_until(s, lambda b: b.endswith(b"\r\n"))
        s.sendall(b"EHLO x\r\n")
        _recv_until(s, lambda b: b"250 " in b)
        for cmd, want in ((b"MAIL FROM:<b@x>", b"250"), (b"RCPT TO:<a@x>", b"250"),
                          (b"DATA", b"354")):
            s.sendall(cmd + b"\r\n")
            assert _recv_until(s, lambda b: b.endswith(b"\r\n")).startswith(want)
        s.sendall(b"hello\r\n.\r\n")
        with pytest.raises(ConnectionResetError):
            _recv_until(s, lambda b: False)
        s.close()
    # graceful close after the banner: EOF, not RST
    with BadServer(CLOSE_AFTER_BANNER) as srv:
        s = _connect(srv)
        got = _recv_until(s, lambda b: False)
        assert got.startswith(b"220 ") and got.endswith(b"\r\n")
        s.close()
    # STARTTLS answered, then no TLS
    with BadServer(STARTTLS_GARBAGE) as srv:
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as c:
            c.ehlo("x")
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with pytest.raises((ssl.SSLError, ConnectionError)):
                c.starttls(context=ctx)
            c.close()
        assert srv.wait_idle(3)
        assert any("starttls_garbage: got" in e and "0x16" in e for e in srv.events)
    # undecodable AUTH challenge, then polite answers (cancel, QUIT)
    with BadServer(AUTH_BAD_CHALLENGE) as srv:
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as c:
            c.ehlo("x")
            assert "CRAM-MD5" in c.esmtp_features["auth"]
            assert c.docmd("AUTH CRAM-MD5") == (334, b"!!!not-base64!!!")
            assert c.docmd("*")[0] == 501
        assert srv.wait_idle(3)
        assert srv.errors == []
        assert srv.lines[-1].upper() == b"QUIT"


def test_badserver_selftest_stop_is_bounded():
    # a client that holds the connection open must not block stop()
    srv = BadServer([("hold",)]).start()
    s = _connect(srv)
    srv2 = BadServer([("flood", b"250-x\r\n", None)]).start()
    s2 = _connect(srv2)   # never reads: the flood blocks on a full buffer
    time.sleep(0.3)
    t0 = time.monotonic()
    assert srv.stop(timeout=3) and srv2.stop(timeout=3)
    assert time.monotonic() - t0 < 2
    s.close()
    s2.close()
    with pytest.raises(OSError):
        socket.create_connection((srv.host, srv.port), timeout=1)


# --------------------------------------------------------------------------
# what BadServer offers the `smtprobe tls` tests (issue 12): crafted
# ServerHello flights, an EHLO reply one line per write, STARTTLS answered
# by garbage

from badserver import (server_hello_flight, tls_alert, tls_extension,  # noqa: E402
                       starttls_script, starttls_garbage_reply_script,
                       ehlo_line_per_write, cert_der, self_signed_cert,
                       parse_client_hello)

S_CLIENT_QUIET = ["-no-CAfile", "-no-CApath", "-no-CAstore", "-cipher", "ALL:@SECLEVEL=0"]


def _s_client(srv, starttls=True):
    argv = [peers_openssl(), "s_client", "-connect", srv.address, *S_CLIENT_QUIET]
    if starttls:
        argv += ["-starttls", "smtp"]
    p = subprocess.run(argv, input=b"", capture_output=True, timeout=15)
    return (p.stdout + p.stderr).decode(errors="replace")


def peers_openssl():
    import peers
    return peers.OPENSSL


def _client_hello_bytes(suites=(0xC02F, 0x000A), split=None):
    """A minimal TLS 1.2 ClientHello record (or two, split at `split`)."""
    body = (b"\x03\x03" + bytes(32) + b"\x00"
            + (2 * len(suites)).to_bytes(2, "big")
            + b"".join(s.to_bytes(2, "big") for s in suites) + b"\x01\x00")
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    parts = [hs] if split is None else [hs[:split], hs[split:]]
    return b"".join(b"\x16\x03\x01" + len(p).to_bytes(2, "big") + p for p in parts)


def test_badserver_selftest_server_hello_bytes():
    f = server_hello_flight(0x000A, session_id=b"", random=bytes(32))
    # record: handshake, TLS 1.2, one ServerHello, no extensions block
    assert f[:3] == b"\x16\x03\x03" and int.from_bytes(f[3:5], "big") == len(f) - 5
    assert f[5] == 2 and f[9:11] == b"\x03\x03"
    assert f[43] == 0 and f[44:46] == b"\x00\x0a" and f[46] == 0 and len(f) == 47
    # SSLv3 with DEFLATE: record and hello say 0x0300
    f = server_hello_flight(0x0005, version=0x0300, compression=1, session_id=b"")
    assert f[1:3] == b"\x03\x00" and f[9:11] == b"\x03\x00" and f[44:47] == b"\x00\x05\x01"
    # extensions, then Certificate and ServerHelloDone in the same record
    der = cert_der(self_signed_cert()[0])
    f = server_hello_flight(0xC02F, extensions=[tls_extension(0xff01, b"\x00")],
                            certificate=der, session_id=b"")
    body = f[5:]
    assert body[0] == 2
    hello_len = int.from_bytes(body[1:4], "big")
    assert body[4 + 38:4 + 38 + 2] == b"\x00\x05"      # extensions block: 5 bytes
    cert_msg = body[4 + hello_len:]
    assert cert_msg[0] == 11 and der in cert_msg and cert_msg.endswith(b"\x0e\x00\x00\x00")
    # a flight beyond one record is split into records of at most 16384
    f = server_hello_flight(0x002F, certificate=[bytes(20000)])
    assert f[0] == 22 and int.from_bytes(f[3:5], "big") == 16384
    assert f[5 + 16384] == 22
    assert tls_alert(70) == b"\x15\x03\x03\x00\x02\x02\x46"


@pytest.mark.parametrize("flight,error", [
    (server_hello_flight(0x000A), "unknown cipher returned"),          # DES-CBC3-SHA
    (server_hello_flight(0x0005), "unknown cipher returned"),          # RC4-SHA
    (server_hello_flight(0x0003), "unknown cipher returned"),          # EXP-RC4-MD5
    (server_hello_flight(0xC02F, compression=1), "compression disabled"),
    (server_hello_flight(0x002F, version=0x0300), "unsupported protocol"),
    (tls_alert(40), "alert handshake failure"),
], ids=["3des", "rc4", "export", "deflate", "sslv3", "alert"])
def test_badserver_selftest_tls_answer_starttls(peer_openssl_probe, flight, error):
    """OpenSSL reads the crafted flight and refuses it for the crafted reason."""
    with BadServer(starttls_script([("tls_answer", flight)])) as srv:
        out = _s_client(srv)
        assert srv.wait_idle(5)
        assert srv.errors == [], srv.events
        assert error in out, out
        hello = srv.client_hellos[0]
        assert "error" not in hello, hello
        # what s_client offered: TLS 1.3 down to 1.0, ECDHE-RSA-AES128-GCM-SHA256
        assert 0x0304 in hello["versions"] and 0xC02F in hello["suites"]
        assert hello["compression"] == [0] and hello["record_version"] in (0x0301, 0x0303)


def test_badserver_selftest_tls_answer_implicit_and_records():
    flight = server_hello_flight(0x000A)
    script = [("tls_answer", flight)]
    # a ClientHello split over two records is read whole before the answer
    with BadServer(script) as srv:
        s = _connect(srv)
        s.sendall(_client_hello_bytes(split=20))
        got = _recv_until(s, lambda b: False)     # the flight, then FIN
        s.close()
        assert got == flight
        assert srv.wait_idle(3) and srv.errors == []
        h = srv.client_hellos[0]
        assert h["suites"] == [0xC02F, 0x000A] and h["version"] == 0x0303
    # not TLS at all: answered all the same, and said so
    with BadServer(script) as srv:
        s = _connect(srv)
        s.sendall(b"EHLO x\r\n")
        assert _recv_until(s, lambda b: False) == flight
        s.close()
        assert srv.wait_idle(3)
        assert "not a TLS handshake record" in srv.client_hellos[0]["error"]
    # after="reset": RST instead of FIN
    with BadServer([("tls_answer", flight, "reset")]) as srv:
        s = _connect(srv)
        s.sendall(_client_hello_bytes())
        with pytest.raises(ConnectionResetError):
            _recv_until(s, lambda b: False)
        s.close()
    assert parse_client_hello(b"\x02\x00\x00\x00")["error"].startswith("not a ClientHello")


def test_badserver_selftest_tls_answer_implicit_s_client(peer_openssl_probe):
    with BadServer([("tls_answer", server_hello_flight(0x0005))]) as srv:
        out = _s_client(srv, starttls=False)
        assert "unknown cipher returned" in out, out
        assert srv.wait_idle(3) and srv.errors == []


def test_badserver_selftest_ehlo_line_per_write():
    reply = ehlo_reply(starttls=True)
    with BadServer(good_script(upto="ehlo", ehlo=ehlo_line_per_write(interval=0.05))) as srv:
        s = _connect(srv)
        _recv_until(s, lambda b: b.endswith(b"\r\n"))
        s.sendall(b"EHLO x\r\n")
        chunks = []
        while sum(map(len, chunks)) < len(reply):
            chunks.append(s.recv(65536))
        s.close()
        assert b"".join(chunks) == reply
        # one line per read: every line came in a segment of its own
        assert chunks == reply.splitlines(keepends=True)
    # a real client copes (smtplib), STARTTLS included
    with BadServer(good_script(tls=True, ehlo=ehlo_line_per_write())) as srv:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(srv.host, srv.port, timeout=5) as c:
            c.ehlo("x")
            assert c.has_extn("starttls") and c.has_extn("8bitmime")
            c.starttls(context=ctx)
            c.ehlo("x")
            c.sendmail(FROM, [TO], "body\r\n")
        assert srv.wait_idle(3) and srv.errors == [], srv.events


def test_good_server_tls_ehlo_line_per_write(badserver):
    """smtprobe send: the EHLO reply that arrives a line per segment, before
    and after STARTTLS, is read whole."""
    stages = {"ehlo": ehlo_line_per_write(),
              "ehlo2": ehlo_line_per_write(starttls=False)}
    srv = badserver(good_script(tls=True, **stages))
    r = run_smtprobe(base_args(srv, "--tls"), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    assert r.returncode == 0, ctx
    srv.wait_idle()
    assert not srv.errors, ctx
    assert any("TLS established" in e for e in srv.events), ctx


def test_badserver_selftest_starttls_answered_by_garbage():
    garbage = b"\x16\x03\x01 this is no reply \xff\xfe to STARTTLS\r\n"
    with BadServer(starttls_garbage_reply_script()) as srv:
        s = _connect(srv)
        _recv_until(s, lambda b: b.endswith(b"\r\n"))
        s.sendall(b"EHLO x\r\n")
        assert b"STARTTLS" in _recv_until(s, lambda b: b"250 " in b)
        s.sendall(b"STARTTLS\r\n")
        assert _recv_until(s, lambda b: b.endswith(b"\r\n")) == garbage
        s.close()
        assert srv.wait_idle(3) and srv.errors == []


def test_starttls_answered_by_garbage_is_an_error(badserver):
    """smtprobe send --tls: garbage instead of STARTTLS's reply is an error
    (no crash, no hang, one error line), never a TLS session."""
    srv = badserver(starttls_garbage_reply_script())
    r = run_smtprobe(base_args(srv, "--tls"), timeout=HANG_KILL)
    ctx = check_sane(r, srv)
    error_line(r, ctx)
    assert r.returncode != 0, ctx
