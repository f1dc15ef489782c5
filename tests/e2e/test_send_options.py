"""`smtprobe send` options not covered elsewhere, end to end.

Address family and local bind (-4, -6, [v6]:port, --local-interface),
connection refused, --pipeline (on the wire), the HELO fallback and
--protocol SMTP, the message options (--header, --body, --data, --attach,
the default message, header injection) checked on what the server actually
received, the transcript options (--show-time, --silent, --suppress-data),
--tls-protocol, STARTTLS response injection, XOAUTH2 / OAUTHBEARER, usage
errors, and the stage / session timeouts.

The servers are the harness's Postfix + Dovecot (fixture `mailservers`) and
`Server` below: a BadServer (tests/harness/badserver.py, same step
vocabulary) that can also listen on ::1 or another loopback address, records
the peer address of every connection, and knows one extra step:

    ("quiet", seconds)   fail the script if the client sends anything within
                         `seconds` (it must be waiting for our reply)

Only loopback addresses are used (127.0.0.0/8 and ::1).
"""
import base64
import email
import email.policy
import email.utils
import json
import os
import re
import socket
import time
import uuid

import pytest

import badserver as bs
from badserver import BadServer, ehlo_reply, good_script
from cli_util import slow_script
from runner import run_smtprobe

TO, FROM = "a@example.test", "b@example.test"
HELO = "client.example.test"
HANG_KILL = 30
TOKEN = "ya29.SECRET-oauth-token-" + "Zq9" * 8


# --------------------------------------------------------------------------
# a BadServer on any loopback address, recording peers, with a "quiet" step

class _Conn(bs._Conn):
    def step_quiet(self, seconds=0.3):
        if self.buf:
            raise bs._Abort(f"quiet: the client already sent {bytes(self.buf)[:120]!r}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server._stop.is_set():
                raise bs._Stopped()
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                raise bs._PeerGone(f"recv: {e!r}")
            if not data:
                raise bs._PeerGone("eof")
            self.buf += data
            raise bs._Abort(f"quiet: the client sent {data[:120]!r} before our reply")


class Server(BadServer):
    def __init__(self, script, host=bs.LOOPBACK, **kwargs):
        super().__init__(script, **kwargs)
        self.peers = []
        if host != bs.LOOPBACK:
            self._listener.close()
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            lst = socket.socket(family, socket.SOCK_STREAM)
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind((host, 0))
            lst.listen(16)
            lst.settimeout(bs.POLL)
            self._listener = lst
            self.host, self.port = lst.getsockname()[:2]

    @property
    def address(self):
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"

    def _accept_loop(self):
        import threading
        while not self._stop.is_set():
            try:
                sock, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.peers.append(peer)
            conn = _Conn(self, sock, len(self.conns))
            self.conns.append(conn)
            t = threading.Thread(target=conn.run, args=(self.script,), daemon=True,
                                 name=f"options-server-{self.port}-{conn.index}")
            self._threads.append(t)
            t.start()


@pytest.fixture
def server():
    started = []

    def start(script, host=bs.LOOPBACK, **kwargs):
        srv = Server(script, host=host, **kwargs).start()
        started.append(srv)
        return srv

    yield start
    stuck = [s for s in started if not s.stop(timeout=5.0)]
    assert not stuck, f"server threads did not stop: {stuck}"


# --------------------------------------------------------------------------
# helpers

def show(res, srv=None):
    out = (f"exit {res.returncode} elapsed {res.elapsed:.2f}s\n--- stdout ---\n"
           f"{res.stdout[-4000:]}\n--- stderr ---\n{res.stderr[-2000:]}")
    if srv is not None:
        out += f"\n--- server ---\n{srv!r}\nlines={srv.lines[:40]!r}\nevents={srv.events!r}"
    return out


def args_for(srv, *extra, to=TO):
    a = ["send", "--server", srv.address, "--from", FROM, "--helo", HELO,
         "--timeout", "5", "--session-timeout", "20"]
    if to is not None:
        a += ["--to", to]
    return a + [str(x) for x in extra]


def run(args, **kw):
    kw.setdefault("timeout", HANG_KILL)
    return run_smtprobe(args, **kw)


PASSWORD_WARNING = "smtprobe: warning: --auth-password on the command line"


def error_line(res):
    """The one error line on stderr (after the warning a password on the
    command line earns, which test_auth_password_* pin down)."""
    lines = [ln for ln in res.stderr.splitlines()
             if ln.strip() and not ln.startswith(PASSWORD_WARNING)]
    assert len(lines) == 1, "stderr must be one error line\n" + show(res)
    assert lines[0].startswith("smtprobe: "), show(res)
    return lines[0]


def commands(srv):
    return [ln.split(b" ")[0].split(b":")[0].upper() for ln in srv.lines]


def finished_ok(srv, res):
    assert srv.wait_idle(5), show(res, srv)
    assert not srv.errors, show(res, srv)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse(raw):
    if isinstance(raw, str):
        raw = raw.encode()
    return email.message_from_bytes(raw, policy=email.policy.default)


def lmtp_args(ms, *extra, to="alice@example.test"):
    return ["send", "--protocol", "LMTP", "--server", ms.host, "--port",
            ms.ports["lmtp"], "--helo", HELO, "--timeout", "10",
            "--from", "someone@elsewhere.test", "--to", to] + [str(x) for x in extra]


def delivered_with(ms, user, marker, timeout=10.0):
    """Raw bytes of the messages in user's Maildir that contain marker."""
    deadline = time.monotonic() + timeout
    marker = marker.encode() if isinstance(marker, str) else marker
    while True:
        hits = []
        for path in ms.delivered(user):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if marker in data:
                hits.append(data)
        if hits or time.monotonic() > deadline:
            return hits
        time.sleep(0.1)


def one_delivered(ms, user, marker):
    hits = delivered_with(ms, user, marker)
    assert len(hits) == 1, f"{len(hits)} messages with {marker!r} in {ms.maildir(user)}"
    return hits[0]


def body_lines(msg):
    """The (single-part) body as a list of lines, line ends stripped."""
    body = msg.get_payload(decode=True)
    return body.decode("utf-8", "replace").splitlines()


def marker():
    return "smtprobe-opt-" + uuid.uuid4().hex


# ==========================================================================
# address family, local interface, connect errors

def test_ipv4_flag(server):
    srv = server(good_script())
    res = run(args_for(srv, "-4", "--json"))
    assert res.returncode == 0, show(res, srv)
    doc = res.json()
    assert doc["server"]["address"] == "127.0.0.1", doc["server"]
    finished_ok(srv, res)


@pytest.mark.parametrize("form", ["host-port", "brackets"])
def test_ipv6_flag_loopback(server, form):
    srv = server(good_script(), host="::1")
    if form == "host-port":
        where = ["--server", "::1", "--port", str(srv.port)]
    else:
        where = ["--server", f"[::1]:{srv.port}"]
    a = ["send", *where, "-6", "--from", FROM, "--to", TO, "--helo", HELO,
         "--timeout", "5", "--json"]
    res = run(a)
    assert res.returncode == 0, show(res, srv)
    doc = res.json()
    assert doc["server"]["address"] == "::1", doc["server"]
    assert doc["server"]["port"] == srv.port
    finished_ok(srv, res)
    assert srv.peers and srv.peers[0][0] == "::1", srv.peers
    assert commands(srv) == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT"]


def test_ipv6_brackets_without_flag(server):
    srv = server(good_script(), host="::1")
    res = run(["send", "--server", f"[::1]:{srv.port}", "--from", FROM, "--to", TO,
               "--timeout", "5"])
    assert res.returncode == 0, show(res, srv)
    assert f"[::1]:{srv.port}" in res.stdout, show(res, srv)
    finished_ok(srv, res)


def test_ipv6_flag_with_ipv4_server(server):
    srv = server(good_script())
    res = run(args_for(srv, "-6"))
    assert res.returncode == 2, show(res, srv)
    line = error_line(res)
    assert re.search(r"resolve|no usable address|address family", line, re.I), line
    assert res.elapsed < 5, show(res)
    time.sleep(0.3)
    assert not srv.conns, "a connection was made despite -6"


def test_local_interface_127_0_0_2(server):
    srv = server(good_script())
    res = run(args_for(srv, "--local-interface", "127.0.0.2"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert [p[0] for p in srv.peers] == ["127.0.0.2"], srv.peers


def test_local_interface_with_port(server):
    srv = server(good_script())
    port = free_port()
    res = run(args_for(srv, "--li", f"127.0.0.2:{port}"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert srv.peers == [("127.0.0.2", port)], srv.peers


def test_local_interface_wrong_family(server):
    srv = server(good_script())
    res = run(args_for(srv, "--local-interface", "::1"))
    assert res.returncode == 2, show(res, srv)
    line = error_line(res)
    assert "::1" in line and re.search(r"family|local", line, re.I), line
    time.sleep(0.3)
    assert not srv.conns


def test_connection_refused():
    port = free_port()  # bound, then closed: nothing listens there
    res = run(["send", "--server", f"127.0.0.1:{port}", "--to", TO, "--timeout", "5"])
    assert res.returncode == 2, show(res)
    line = error_line(res)
    assert "refused" in line.lower(), line
    assert f"127.0.0.1:{port}" in line, line
    assert res.elapsed < 2, show(res)


def test_connection_refused_json():
    port = free_port()
    res = run(["send", "--server", f"127.0.0.1:{port}", "--to", TO, "--json"])
    assert res.returncode == 2, show(res)
    doc = res.json()
    assert doc["exit_code"] == 2 and doc["stage"] == "connect", doc
    assert "refused" in doc["error"].lower(), doc["error"]


# ==========================================================================
# pipelining

def test_pipeline_postfix_mx(mailservers):
    res = run(["send", "--server", mailservers.host, "--port", mailservers.ports["mx"],
               "--helo", HELO, "--from", "someone@elsewhere.test",
               "--to", "alice@example.test,bob@example.test", "--pipeline",
               "--timeout", "10", "--json"])
    assert res.returncode == 0, show(res)
    doc = res.json()
    assert "PIPELINING" in doc["ehlo"]["capabilities"]
    assert [r["accepted"] for r in doc["recipients"]] == [True, True], doc["recipients"]
    assert doc["message"]["reply"]["code"] == 250


def test_pipeline_postfix_mx_transcript(mailservers):
    res = run(["send", "--server", mailservers.host, "--port", mailservers.ports["mx"],
               "--helo", HELO, "--from", "someone@elsewhere.test",
               "--to", "alice@example.test,bob@example.test", "--pipeline",
               "--timeout", "10"])
    assert res.returncode == 0, show(res)
    lines = res.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith(" -> MAIL FROM:"))
    assert [ln[:8] for ln in lines[i:i + 4]] == [" -> MAIL", " -> RCPT", " -> RCPT",
                                                 " -> DATA"], show(res)


def pipelined_script(advertise=True):
    caps = ehlo_reply() if advertise else \
        b"250-badserver.test Hello\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
    return good_script(upto="banner") + [
        ("expect", b"EHLO"), ("send", caps),
        # all four before any reply: the client must not wait
        ("expect", b"MAIL FROM:", 3), ("expect", b"RCPT TO:", 3),
        ("expect", b"RCPT TO:", 3), ("expect", b"DATA", 3),
        ("send", b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
                 b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        ("read_data",), ("send", b"250 2.0.0 Ok: queued\r\n"),
        ("expect", b"QUIT"), ("send", b"221 2.0.0 Bye\r\n"), ("close",),
    ]


def lockstep_script(advertise=True):
    caps = ehlo_reply() if advertise else \
        b"250-badserver.test Hello\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
    return good_script(upto="banner") + [
        ("expect", b"EHLO"), ("send", caps),
        ("expect", b"MAIL FROM:"), ("quiet", 0.4), ("send", b"250 2.1.0 Ok\r\n"),
        ("expect", b"RCPT TO:"), ("quiet", 0.4), ("send", b"250 2.1.5 Ok\r\n"),
        ("expect", b"RCPT TO:"), ("quiet", 0.4), ("send", b"250 2.1.5 Ok\r\n"),
        ("expect", b"DATA"), ("quiet", 0.4), ("send", b"354 go ahead\r\n"),
        ("read_data",), ("send", b"250 2.0.0 Ok: queued\r\n"),
        ("expect", b"QUIT"), ("send", b"221 2.0.0 Bye\r\n"), ("close",),
    ]


def test_pipeline_on_the_wire(server):
    srv = server(pipelined_script())
    res = run(args_for(srv, "--pipeline", to=f"{TO},c@example.test"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert commands(srv) == [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"DATA", b"QUIT"]
    assert len(srv.messages) == 1


def test_no_pipeline_without_option(server):
    srv = server(lockstep_script())
    res = run(args_for(srv, to=f"{TO},c@example.test"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert commands(srv) == [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"DATA", b"QUIT"]


def test_pipeline_option_but_not_advertised(server):
    srv = server(lockstep_script(advertise=False))
    res = run(args_for(srv, "--pipeline", to=f"{TO},c@example.test"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)


# ==========================================================================
# HELO fallback, --protocol SMTP

def test_helo_fallback(server):
    srv = server(good_script(ehlo=[
        ("expect", b"EHLO"), ("send", b"502 5.5.1 EHLO not implemented\r\n"),
        ("expect", b"HELO " + HELO.encode()), ("send", b"250 badserver.test\r\n")]))
    res = run(args_for(srv))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert commands(srv) == [b"EHLO", b"HELO", b"MAIL", b"RCPT", b"DATA", b"QUIT"]
    assert re.search(r"fall(ing)? ?back|HELO fallback", res.stdout, re.I), show(res)
    assert f" -> HELO {HELO}" in res.stdout, show(res)


def test_helo_fallback_json(server):
    srv = server(good_script(ehlo=[
        ("expect", b"EHLO"), ("send", b"502 5.5.1 EHLO not implemented\r\n"),
        ("expect", b"HELO"), ("send", b"250 badserver.test\r\n")]))
    res = run(args_for(srv, "--json"))
    assert res.returncode == 0, show(res, srv)
    doc = res.json()
    names = [s["name"] for s in doc["stages"]]
    assert "helo" in names, names
    finished_ok(srv, res)


def test_protocol_smtp_sends_helo(server):
    srv = server(good_script(ehlo=[
        ("expect", b"HELO " + HELO.encode()), ("send", b"250 badserver.test\r\n")]))
    res = run(args_for(srv, "--protocol", "SMTP"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert commands(srv) == [b"HELO", b"MAIL", b"RCPT", b"DATA", b"QUIT"]
    assert "EHLO" not in res.stdout, show(res)


# ==========================================================================
# message options, checked on what the server received

def test_default_message_headers(server):
    srv = server(good_script())
    res = run(args_for(srv))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    [raw] = srv.messages
    msg = parse(raw)
    assert not msg.defects, msg.defects
    for name in ("Date", "Message-Id", "From", "To", "Subject", "X-Mailer"):
        assert msg[name] is not None, f"no {name} header in\n{raw.decode(errors='replace')}"
    assert FROM in str(msg["From"]) and TO in str(msg["To"])
    assert email.utils.parsedate_to_datetime(str(msg["Date"])) is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-Id"]).strip()), \
        msg["Message-Id"]
    assert "smtprobe" in str(msg["X-Mailer"]).lower()
    assert raw.endswith(b"\r\n")


def test_header_add_and_replace_subject(server):
    srv = server(good_script())
    res = run(args_for(srv, "--header", "X-Test: 1", "--header", "Subject: custom"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    msg = parse(srv.messages[0])
    assert msg.get_all("X-Test") == ["1"]
    assert msg.get_all("Subject") == ["custom"], msg.get_all("Subject")
    # the other default headers are still there
    for name in ("Date", "Message-Id", "From", "To"):
        assert msg[name] is not None


def test_header_via_lmtp_maildir(mailservers):
    m = marker()
    res = run(lmtp_args(mailservers, "--header", f"X-Test: {m}",
                        "--header", f"Subject: custom {m}"))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert msg.get_all("X-Test") == [m]
    assert msg.get_all("Subject") == [f"custom {m}"]


def test_body_text(mailservers):
    m = marker()
    res = run(lmtp_args(mailservers, "--header", f"Subject: {m}",
                        "--body", f"hello body {m}"))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert body_lines(msg) == [f"hello body {m}"]


def test_body_file(mailservers, tmp_path):
    m = marker()
    path = tmp_path / "body.txt"
    path.write_text(f"line one {m}\nline two\n\nline four\n")
    res = run(lmtp_args(mailservers, "--header", f"Subject: {m}", "--body", path))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert body_lines(msg) == [f"line one {m}", "line two", "", "line four"]


def test_body_stdin(mailservers):
    m = marker()
    res = run(lmtp_args(mailservers, "--header", f"Subject: {m}", "--body", "-"),
              input=f"from stdin {m}\nsecond line\n")
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert body_lines(msg) == [f"from stdin {m}", "second line"]


DOTTY_BODY = ["first line", ".", ".leading dot line", "..two dots", "...", "",
              "last line"]


def dotty_message(m):
    head = f"From: someone@elsewhere.test\nTo: alice@example.test\nSubject: dots {m}\n\n"
    return head + "\n".join(DOTTY_BODY[:-1] + [f"last line {m}"]) + "\n"


def test_data_file_dot_stuffing_lmtp(mailservers, tmp_path):
    m = marker()
    path = tmp_path / "msg.eml"
    path.write_text(dotty_message(m))
    res = run(lmtp_args(mailservers, "--data", path))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert str(msg["Subject"]) == f"dots {m}"
    assert body_lines(msg) == DOTTY_BODY[:-1] + [f"last line {m}"]


def test_data_file_dot_stuffing_on_the_wire(server, tmp_path):
    m = marker()
    path = tmp_path / "msg.eml"
    path.write_text(dotty_message(m))
    srv = server(good_script())
    res = run(args_for(srv, "--data", path))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    [raw] = srv.messages          # as received: still dot-stuffed
    lines = raw.split(b"\r\n")
    i = lines.index(b"first line")
    assert lines[i:i + 7] == [b"first line", b"..", b"..leading dot line",
                              b"...two dots", b"....", b"",
                              f"last line {m}".encode()], lines


def test_data_stdin(mailservers):
    m = marker()
    res = run(lmtp_args(mailservers, "--data", "-"), input=dotty_message(m))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert body_lines(msg) == DOTTY_BODY[:-1] + [f"last line {m}"]


def test_attach_file(mailservers, tmp_path):
    m = marker()
    content = os.urandom(3000) + b"\x00\r\n.\r\n" + bytes(range(256))
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    res = run(lmtp_args(mailservers, "--header", f"Subject: {m}",
                        "--body", f"see attachment {m}", "--attach", path,
                        "--suppress-data"))
    assert res.returncode == 0, show(res)
    msg = parse(one_delivered(mailservers, "alice", m))
    assert msg.is_multipart(), msg.get_content_type()
    parts = [p for p in msg.walk() if not p.is_multipart()]
    attached = [p for p in parts if p.get_filename() == "blob.bin"
                or p.get_content_disposition() == "attachment"]
    assert len(attached) == 1, [(p.get_content_type(), p.get_filename()) for p in parts]
    att = attached[0]
    assert att["Content-Transfer-Encoding"].lower() == "base64"
    assert att.get_payload(decode=True) == content
    texts = [p for p in parts if p.get_content_type() == "text/plain" and p is not att]
    assert any(f"see attachment {m}" in p.get_content() for p in texts)


def test_attach_two_files_on_the_wire(server, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.dat"
    a.write_bytes(b"alpha\n.\nomega\n")
    b.write_bytes(os.urandom(1000))
    srv = server(good_script())
    res = run(args_for(srv, "--attach", a, "--attach", b, "--suppress-data"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    raw = srv.messages[0]
    # undo the dot-stuffing the wire carries
    unstuffed = b"\r\n".join(ln[1:] if ln.startswith(b".") else ln
                             for ln in raw.split(b"\r\n"))
    msg = parse(unstuffed)
    got = {p.get_filename(): p.get_payload(decode=True)
           for p in msg.walk() if p.get_filename()}
    assert got == {"a.txt": a.read_bytes(), "b.dat": b.read_bytes()}, list(got)


INJECTIONS = [
    ("header-crlf", ["--header", "X: a\r\nBcc: evil@example.test"], b"BCC: EVIL"),
    ("header-lf", ["--header", "X: a\nBcc: evil@example.test"], b"BCC: EVIL"),
    ("to-crlf", ["--to", "a@b\r\nRCPT TO:<c@d>"], b"RCPT TO:<C@D>"),
    ("from-crlf", ["--from", "x@y\r\nRCPT TO:<c@d>"], b"RCPT TO:<C@D>"),
    ("helo-crlf", ["--helo", "x\r\nMAIL FROM:<evil@d>"], b"MAIL FROM:<EVIL"),
]


@pytest.mark.parametrize("extra,forbidden", [(a, f) for _, a, f in INJECTIONS],
                         ids=[i for i, _, _ in INJECTIONS])
def test_injection_is_usage_error(server, extra, forbidden):
    srv = server(good_script())
    a = ["send", "--server", srv.address, "--timeout", "5", "--from", FROM, "--to", TO,
         "--helo", HELO] + extra   # the later option wins over the default above
    res = run(a)
    assert res.returncode == 1, show(res, srv)
    time.sleep(0.3)
    assert not srv.conns, "smtprobe connected despite the usage error\n" + show(res, srv)
    assert not any(forbidden in ln.upper() for ln in srv.lines)
    # the contract's one error line: the offending value must not be echoed
    # raw (its CR/LF would split the line, or forge log lines)
    error_line(res)


# ==========================================================================
# transcript options

def test_show_time(server):
    srv = server(good_script())
    res = run(args_for(srv, "--show-time"))
    assert res.returncode == 0, show(res, srv)
    replies = [ln for ln in res.stdout.splitlines() if ln.startswith("<-  ")]
    assert replies, show(res)
    timed = [ln for ln in replies if re.search(r"  \[\d+\.\d{3} ms\]$", ln)]
    # at least the last line of every reply: banner, EHLO, MAIL, RCPT, DATA, dot, QUIT
    final = [ln for ln in replies if re.match(r"<-  \d{3} ", ln)]
    assert len(final) >= 7, show(res)
    assert set(final) <= set(timed), show(res)
    # and not on the lines smtprobe sent
    assert not [ln for ln in res.stdout.splitlines()
                if ln.startswith(" -> ") and " ms]" in ln], show(res)


def test_no_show_time_by_default(server):
    srv = server(good_script())
    res = run(args_for(srv))
    assert res.returncode == 0, show(res, srv)
    assert not re.search(r"\[\d+\.\d{3} ms\]", res.stdout), show(res)


def test_silent_success(server):
    srv = server(good_script())
    res = run(args_for(srv, "--silent"))
    assert res.returncode == 0, show(res, srv)
    assert res.stdout == "" and res.stderr == "", show(res)
    finished_ok(srv, res)
    assert len(srv.messages) == 1


def test_silent_failure_still_reports(server):
    srv = server(good_script(rcpt=b"550 5.1.1 no such user\r\n"))
    res = run(args_for(srv, "-S"))
    assert res.returncode == 24, show(res, srv)
    assert res.stdout == "", show(res)
    line = error_line(res)
    assert "550" in line, line


def test_suppress_data(server):
    m = marker()
    srv = server(good_script())
    res = run(args_for(srv, "--suppress-data", "--header", f"X-Marker: {m}",
                       "--body", f"body {m}"))
    assert res.returncode == 0, show(res, srv)
    assert m not in res.stdout, show(res)
    assert " -> DATA" in res.stdout and "<-  354" in res.stdout, show(res)
    assert re.search(r"^<-  250 .*queued", res.stdout, re.M), show(res)
    finished_ok(srv, res)
    assert m.encode() in srv.messages[0]   # sent all the same


def test_data_shown_without_suppress(server):
    m = marker()
    srv = server(good_script())
    res = run(args_for(srv, "--body", f"body {m}"))
    assert res.returncode == 0, show(res, srv)
    assert f" -> body {m}" in res.stdout, show(res)


# ==========================================================================
# TLS

def test_tls_protocol_tlsv1_2(mailservers):
    res = run(["send", "--server", mailservers.host, "--port",
               mailservers.ports["submission"], "--helo", HELO, "--tls",
               "--tls-protocol", "tlsv1_2", "--quit-after", "tls", "--to", TO,
               "--json", "--timeout", "10"])
    assert res.returncode == 0, show(res)
    assert res.json()["tls"]["protocol"] == "TLSv1.2", res.json()["tls"]


def test_tls_protocol_tlsv1_3(mailservers):
    res = run(["send", "--server", mailservers.host, "--port",
               mailservers.ports["submission"], "--helo", HELO, "--tls",
               "--tls-protocol", "TLSv1.3", "--quit-after", "tls", "--to", TO,
               "--json", "--timeout", "10"])
    assert res.returncode == 0, show(res)
    assert res.json()["tls"]["protocol"] == "TLSv1.3", res.json()["tls"]


def test_tls_protocol_bogus(server):
    srv = server(good_script())
    res = run(args_for(srv, "--tls", "--tls-protocol", "bogus"))
    assert res.returncode == 1, show(res)
    assert "bogus" in error_line(res)
    time.sleep(0.3)
    assert not srv.conns


def injection_script():
    return good_script(upto="banner") + [
        ("expect", b"EHLO"), ("send", ehlo_reply(starttls=True)),
        ("expect", b"STARTTLS"),
        ("send", b"220 go ahead\r\n250 injected\r\n"),   # one send
        ("starttls",),
        ("expect", b"EHLO"), ("sleep", 0.3),   # "250 injected" must not do as reply
        ("send", ehlo_reply()),
    ] + [step for name, steps in bs.good_stages().items()
         if name in ("mail", "rcpt", "data", "dot", "quit") for step in steps]


def test_starttls_injection(server):
    srv = server(injection_script())
    res = run(args_for(srv, "--tls"))
    assert res.returncode == 0, show(res, srv)
    assert "injection" in res.stdout.lower(), show(res)
    finished_ok(srv, res)
    assert any("TLS established" in e for e in srv.events), srv.events
    # the injected line is not presented as the answer to the EHLO in TLS
    assert "<~  250 injected" not in res.stdout, show(res)
    lines = res.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith(" ~> EHLO"))
    nxt = next(ln for ln in lines[i + 1:] if ln.startswith(("<~  ", "<~* ")))
    assert nxt.startswith("<~  250-badserver.test"), show(res)


def test_starttls_injection_json(server):
    srv = server(injection_script())
    res = run(args_for(srv, "--tls", "--json"))
    assert res.returncode == 0, show(res, srv)
    doc = res.json()
    assert doc["tls"]["starttls_injection"] is True, doc["tls"]
    ehlos = [s for s in doc["stages"] if s["name"] == "ehlo"]
    assert len(ehlos) == 2, doc["stages"]
    assert ehlos[1]["reply"]["text"][0] == "badserver.test Hello", ehlos[1]
    assert "injected" not in json.dumps(ehlos[1])


def test_starttls_no_injection_flag(server):
    srv = server(good_script(tls=True))
    res = run(args_for(srv, "--tls", "--json"))
    assert res.returncode == 0, show(res, srv)
    assert res.json()["tls"]["starttls_injection"] is False


# ==========================================================================
# XOAUTH2 / OAUTHBEARER

def oauth_script(mech, tls=False, fail=False):
    st = bs.good_stages(tls=tls, auth=("XOAUTH2", "OAUTHBEARER"))
    auth = [("expect", b"AUTH " + mech.encode() + b" ")]
    if fail:
        err = base64.b64encode(json.dumps({
            "status": "invalid_token", "schemes": "bearer",
            "scope": "https://mail.example.test/"}).encode())
        auth += [("send", b"334 " + err + b"\r\n"), ("expect", None),
                 ("send", b"535 5.7.8 Username and Password not accepted\r\n"),
                 ("serve",)]
    else:
        auth += [("send", b"235 2.7.0 Accepted\r\n")]
    script = []
    for name, steps in st.items():
        if name == "mail":
            script += auth
            if fail:
                break
        script += steps
    return script


def oauth_args(srv, mech, *extra):
    return args_for(srv, "--auth", mech, "--auth-user", "alice",
                    "--auth-password", TOKEN, *extra)


def auth_initial(srv, mech):
    [line] = [ln for ln in srv.lines if ln.upper().startswith(b"AUTH ")]
    parts = line.split(b" ")
    assert len(parts) == 3 and parts[1] == mech.encode(), line
    return base64.b64decode(parts[2], validate=True)


def assert_token_hidden(res, srv=None):
    blobs = [TOKEN]
    if srv is not None:
        blobs += [ln.split(b" ")[2].decode() for ln in srv.lines
                  if ln.upper().startswith(b"AUTH ") and ln.count(b" ") == 2]
    for b in blobs:
        assert b not in res.stdout, f"{b!r} on stdout\n" + show(res)
        assert b not in res.stderr, f"{b!r} on stderr\n" + show(res)


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "starttls"])
def test_xoauth2(server, tls):
    srv = server(oauth_script("XOAUTH2", tls=tls))
    extra = ["--tls"] if tls else ["--auth-plaintext"]
    res = run(oauth_args(srv, "XOAUTH2", *extra, "--json"))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    assert auth_initial(srv, "XOAUTH2") == \
        f"user=alice\x01auth=Bearer {TOKEN}\x01\x01".encode()
    doc = res.json()
    assert doc["auth"]["mechanism"] == "XOAUTH2" and doc["auth"]["ok"] is True
    assert_token_hidden(res, srv)


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "starttls"])
def test_oauthbearer(server, tls):
    srv = server(oauth_script("OAUTHBEARER", tls=tls))
    extra = ["--tls"] if tls else ["--auth-plaintext"]
    res = run(oauth_args(srv, "OAUTHBEARER", *extra))
    assert res.returncode == 0, show(res, srv)
    finished_ok(srv, res)
    got = auth_initial(srv, "OAUTHBEARER")
    assert got == (f"n,a=alice,\x01host=127.0.0.1\x01port={srv.port}"
                   f"\x01auth=Bearer {TOKEN}\x01\x01").encode(), got
    assert_token_hidden(res, srv)


def test_oauthbearer_escapes_saslname(server):
    srv = server(oauth_script("OAUTHBEARER"))
    res = run(args_for(srv, "--auth", "OAUTHBEARER", "--auth-user", "a,b=c",
                       "--auth-password", TOKEN, "--auth-plaintext"))
    assert res.returncode == 0, show(res, srv)
    assert auth_initial(srv, "OAUTHBEARER").startswith(b"n,a=a=2Cb=3Dc,\x01host=")


@pytest.mark.parametrize("mech,answer", [("XOAUTH2", b""), ("OAUTHBEARER", b"AQ==")])
def test_oauth_error_challenge(server, mech, answer):
    srv = server(oauth_script(mech, fail=True))
    res = run(oauth_args(srv, mech, "--auth-plaintext"))
    assert res.returncode == 28, show(res, srv)
    assert srv.wait_idle(5), show(res, srv)
    assert not srv.errors, show(res, srv)
    i = next(i for i, ln in enumerate(srv.lines) if ln.upper().startswith(b"AUTH "))
    assert srv.lines[i + 1] == answer, srv.lines
    assert not any(ln.upper().startswith(b"MAIL") for ln in srv.lines)
    line = error_line(res)
    assert "535" in line, line
    assert_token_hidden(res, srv)


def test_oauth_show_secrets(server):
    srv = server(oauth_script("XOAUTH2"))
    res = run(oauth_args(srv, "XOAUTH2", "--auth-plaintext", "--show-secrets"))
    assert res.returncode == 0, show(res, srv)
    blob = srv.lines[[ln.upper().startswith(b"AUTH ") for ln in srv.lines].index(True)]
    assert blob.split(b" ")[2].decode() in res.stdout, show(res)


def test_token_from_env_hidden(server):
    srv = server(oauth_script("XOAUTH2"))
    res = run(args_for(srv, "--auth", "XOAUTH2", "--auth-user", "alice",
                       "--auth-plaintext"), env={"SMTPROBE_PASSWORD": TOKEN})
    assert res.returncode == 0, show(res, srv)
    assert TOKEN.encode() in auth_initial(srv, "XOAUTH2")
    assert_token_hidden(res, srv)


# ==========================================================================
# usage errors

USAGE = [
    ("unknown-option", ["--bogus-option"]),
    ("port-0", ["--port", "0"]),
    ("port-70000", ["--port", "70000"]),
    ("port-not-a-number", ["--port", "twenty-five"]),
    ("timeout-abc", ["--timeout", "abc"]),
    ("session-timeout-abc", ["--session-timeout", "abc"]),
    ("auth-bogus-mech-equals", ["--auth=BOGUSMECH", "--auth-user", "u",
                                "--auth-password", "p", "--auth-plaintext"]),
    ("auth-bogus-mech-space", ["--auth", "BOGUSMECH", "--auth-user", "u",
                               "--auth-password", "p", "--auth-plaintext"]),
    ("auth-without-user", ["--auth", "PLAIN", "--auth-password", "p",
                           "--auth-plaintext"]),
    ("tls-verify-without-tls", ["--tls-verify"]),
    ("quit-after-nonsense", ["--quit-after", "nonsense"]),
    ("protocol-foo", ["--protocol", "FOO"]),
    ("header-without-colon", ["--header", "NoColonHere"]),
    ("missing-option-value", ["--from"]),
]


@pytest.mark.parametrize("extra", [a for _, a in USAGE], ids=[i for i, _ in USAGE])
def test_usage_error(server, extra):
    srv = server(good_script())
    res = run(["send", "--server", srv.address, "--to", TO] + extra)
    assert res.returncode == 1, show(res)
    error_line(res)
    assert res.stdout == "", show(res)
    assert res.elapsed < 5
    time.sleep(0.3)
    assert not srv.conns, "usage error but a connection was made"


def test_missing_to_is_usage_error(server):
    srv = server(good_script())
    res = run(["send", "--server", srv.address])
    assert res.returncode == 1, show(res)
    assert "--to" in error_line(res)
    time.sleep(0.3)
    assert not srv.conns


def test_missing_to_fine_with_quit_after(server):
    srv = server(good_script(upto="ehlo"))
    res = run(["send", "--server", srv.address, "--quit-after", "ehlo",
               "--timeout", "5"])
    assert res.returncode == 0, show(res, srv)


def test_send_help():
    res = run(["send", "--help"])
    assert res.returncode == 0, show(res)
    for opt in ("--to", "--from", "--server", "--port", "--tls", "--tls-protocol",
                "--auth", "--quit-after", "--timeout", "--session-timeout", "-4",
                "-6", "--local-interface", "--protocol", "--pipeline", "--header",
                "--body", "--data", "--attach", "--suppress-data", "--silent",
                "--show-time", "--show-secrets", "--json"):
        assert re.search(r"(^|[\s,])" + re.escape(opt) + r"\b", res.stdout), opt
    assert res.stderr == ""


def test_version():
    res = run(["--version"])
    assert res.returncode == 0, show(res)
    assert re.fullmatch(r"smtprobe \d+\.\d+\.\d+\S*\n", res.stdout), res.stdout


# ==========================================================================
# timeouts

def test_fractional_timeout_accepted(server):
    srv = server(good_script())
    res = run(args_for(srv) + ["--timeout", "1.5"])
    assert res.returncode == 0, show(res, srv)


def test_fractional_timeout_applies(server):
    srv = server([("hold",)])
    res = run(["send", "--server", srv.address, "--to", TO, "--timeout", "1.5"])
    assert res.returncode == 21, show(res, srv)
    line = error_line(res)
    assert "timeout" in line and "banner" in line and "1.5" in line, line
    assert 1.3 <= res.elapsed <= 4, show(res)


def test_session_timeout(server):
    # banner at 0.6 s, the EHLO reply would come at 1.2 s: the 1 s session
    # deadline strikes while waiting for the EHLO reply
    srv = server(slow_script(0.6))
    res = run(["send", "--server", srv.address, "--to", TO, "--from", FROM,
               "--timeout", "10", "--session-timeout", "1"])
    assert res.returncode == 22, show(res, srv)
    line = error_line(res)
    assert "session timeout" in line, line
    assert "waiting for the EHLO reply" in line, line
    assert 0.9 <= res.elapsed <= 3, show(res)


def test_session_timeout_later_stage(server):
    # 0.4 s per reply: banner 0.4, EHLO 0.8, MAIL 1.2, RCPT 1.6 -> the 1.4 s
    # deadline falls while waiting for the RCPT reply
    srv = server(slow_script(0.4))
    res = run(["send", "--server", srv.address, "--to", TO, "--from", FROM,
               "--timeout", "10", "--session-timeout", "1.4", "--json"])
    doc = res.json()
    assert "session timeout" in doc["error"], doc["error"]
    phrases = {"waiting for the MAIL FROM reply": (23, "mail"),
               "waiting for the RCPT TO reply": (24, "rcpt")}
    hit = [v for k, v in phrases.items() if k in doc["error"]]
    assert hit, doc["error"]
    assert res.returncode == hit[0][0] == doc["exit_code"], show(res)
    assert doc["stage"] == hit[0][1], doc["stage"]
