"""`smtprobe serve` end to end: the presets checked by an independent client
(swaks), every listener mode with `smtprobe send`, Maildir storage, the event
log and its summary, limits and faults from YAML policies, hostile input, and
a policy reload on SIGHUP.

Every test starts its own server (tests/harness/serve.py) on free loopback
ports; YAML policies are written to the test's tmp_path.
"""
import base64
import glob
import json
import os
import signal
import socket
import ssl
import subprocess
import textwrap
import time

import pytest

from runner import run_smtprobe
from serve import Serve
from store_reader import read_store

SWAKS = "/usr/bin/swaks"
HELO = "client.example.test"
EXTERNAL = "someone@example.org"
LOCAL = "postbox@example.test"
ALICE, ALICE_PW = "alice", "alice-password"
BOB, BOB_PW = "bob", "bob-password"

# The submission preset, as YAML we can extend (server/config.c).
SUBMISSION_YAML = """\
hostname: mx.example.test
local_domains: [example.test]
require_tls: true
require_auth: true
sender_login_match: true
auth:
  offer: true
  without_tls: false
  mechanisms: [PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256]
users:
  - name: alice
    password: alice-password
    owns: [alice@example.test]
  - name: bob
    password: bob-password
    owns: [bob@example.test]
    allowed_domains: [example.test, example.net]
"""

# A plain-text submission service: AUTH without TLS, so a raw socket can
# drive it.
PLAIN_AUTH_YAML = """\
hostname: mx.example.test
local_domains: [example.test]
require_auth: true
auth:
  offer: true
  without_tls: true
  mechanisms: [PLAIN, LOGIN]
users:
  - name: alice
    password: alice-password
"""


# ------------------------------------------------------------------ helpers
def show(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-4000:]}"
            f"\n--- stderr ---\n{res.stderr[-2000:]}")


def assert_exit(res, code):
    assert res.returncode == code, show(res)


def send(port, *args, timeout="5", run_timeout=30, server="127.0.0.1"):
    """`smtprobe send` against a serve listener."""
    base = ["send", "--server", f"{server}:{port}", "--helo", HELO,
            "--timeout", timeout]
    return run_smtprobe(base + list(args), timeout=run_timeout)


def as_json(res):
    try:
        return res.json()
    except ValueError as e:
        pytest.fail(f"--json output is not JSON ({e})\n{show(res)}")


def swaks(port, *args, timeout=30):
    """swaks against a serve listener: (returncode, combined output)."""
    argv = [SWAKS, "--server", "127.0.0.1", "--port", str(port),
            "--helo", HELO, "--timeout", "10"] + [str(a) for a in args]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


def submit(mech="PLAIN", user=ALICE, password=ALICE_PW, sender=None, to=EXTERNAL):
    """swaks arguments for STARTTLS + AUTH."""
    return ["--tls", "--auth", mech, "--auth-user", user, "--auth-password",
            password, "--from", sender or f"{user}@example.test", "--to", to]


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


def maildir_files(md, sub):
    return sorted(glob.glob(os.path.join(md, sub, "*")))


def maildir_envelopes(md):
    """The envelopes of a Maildir (its envelopes.jsonl), in order."""
    return list(read_store("maildir", md).envelopes.values())


class Raw:
    """A raw SMTP client on a socket: exact bytes out, replies in."""

    def __init__(self, port, timeout=5.0, banner=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.banner = self.reply() if banner else None

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(f"connection closed; pending {self.buf[:200]!r}")
            self.buf += data
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode(errors="replace")

    def reply(self):
        """(code, [text lines]) of one (multi-line) reply."""
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]), [x[4:] for x in lines]

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def starttls(self, ca_file):
        code, text = self.cmd("STARTTLS")
        assert code == 220, text
        ctx = ssl.create_default_context(cafile=ca_file)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""

    def closed(self, timeout=3.0):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except ConnectionResetError:
            return True
        except (socket.timeout, TimeoutError):
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def plain_auth(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def one_listener(policy, mode="plain", maildir=None, **kw):
    return Serve([f"127.0.0.1:0/{mode},policy={policy}"], maildir=maildir, **kw)


# ------------------------------------------------- presets, checked by swaks
def test_swaks_open_relays_and_stores(tmp_path):
    md = str(tmp_path / "mail")
    with one_listener("open", maildir=md) as srv:
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", EXTERNAL)
        assert rc == 0, out
        assert "<-  250 2.1.5" in out, out
        assert "250 2.0.0 Ok: queued as" in out, out
    assert len(maildir_files(md, "new")) == 1


def test_swaks_mx_refuses_relaying():
    with one_listener("mx") as srv:
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", EXTERNAL)
        assert rc == 24, out
        assert f"554 5.7.1 <{EXTERNAL}>: Relay access denied" in out, out


def test_swaks_mx_accepts_local_domain(tmp_path):
    md = str(tmp_path / "mail")
    with one_listener("mx", maildir=md) as srv:
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", LOCAL)
        assert rc == 0, out
    assert len(maildir_files(md, "new")) == 1


def test_swaks_relay_by_ip_relays_for_loopback():
    with one_listener("relay-by-ip") as srv:
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", EXTERNAL)
        assert rc == 0, out


def test_swaks_untrusted_network_refuses_relaying(tmp_path):
    pol = policy_file(tmp_path, """\
        hostname: mx.example.test
        local_domains: [example.test]
        trusted_networks: ["10.0.0.0/8", "192.168.0.0/16"]
        auth:
          offer: false
        """)
    with one_listener(pol) as srv:
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", EXTERNAL)
        assert rc == 24, out
        assert "554 5.7.1" in out and "Relay access denied" in out, out
        rc, out = swaks(srv.port(0), "--from", "someone@elsewhere.test",
                        "--to", LOCAL)
        assert rc == 0, out


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_submission_auth(tmp_path, mech):
    md = str(tmp_path / "mail")
    with one_listener("submission", "starttls", maildir=md) as srv:
        rc, out = swaks(srv.port(0), *submit(mech))
        assert rc == 0, out
        assert "235 2.7.0 Authentication successful" in out, out
        assert srv.events("auth")[0]["mechanism"] == mech
    [env] = maildir_envelopes(md)
    assert env["auth_user"] == ALICE


@pytest.mark.parametrize("mode", ["starttls", "starttls-required"])
def test_swaks_mail_before_starttls_refused(mode):
    with one_listener("submission", mode) as srv:
        rc, out = swaks(srv.port(0), "--from", "alice@example.test",
                        "--to", EXTERNAL)
        assert rc == 23, out
        assert "530 5.7.0" in out, out


def test_auth_not_advertised_before_tls():
    with one_listener("submission", "starttls") as srv:
        with Raw(srv.port(0)) as c:
            code, ehlo = c.cmd(f"EHLO {HELO}")
            assert code == 250
            assert "STARTTLS" in ehlo
            assert not any(x.startswith("AUTH") for x in ehlo), ehlo
            c.starttls(srv.ca_file)
            code, ehlo = c.cmd(f"EHLO {HELO}")
            assert code == 250
            assert "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256" in ehlo, ehlo
        rc, out = swaks(srv.port(0), "--auth", "PLAIN", "--auth-user", ALICE,
                        "--auth-password", ALICE_PW, "--from", "alice@example.test",
                        "--to", EXTERNAL)
        assert rc == 28, out
        assert srv.events("auth") == []


def test_auth_before_tls_refused_on_the_wire():
    with one_listener("submission", "starttls") as srv:
        with Raw(srv.port(0)) as c:
            c.cmd(f"EHLO {HELO}")
            code, text = c.cmd(f"AUTH PLAIN {plain_auth(ALICE, ALICE_PW)}")
            assert code == 538, text
            assert text[0].startswith("5.7.11"), text


def test_swaks_sender_spoofing_refused():
    with one_listener("submission", "starttls") as srv:
        rc, out = swaks(srv.port(0), *submit(sender="bob@example.test"))
        assert rc == 23, out
        assert "553 5.7.1 <bob@example.test>: Sender address rejected: not owned " \
               "by user alice" in out, out


def test_swaks_scoped_user_recipient_domains():
    with one_listener("submission", "starttls") as srv:
        rc, out = swaks(srv.port(0), *submit(user=BOB, password=BOB_PW,
                                             to="x@example.org"))
        assert rc == 24, out
        assert "550 5.7.1" in out and "may not send to example.org" in out, out
        rc, out = swaks(srv.port(0), *submit(user=BOB, password=BOB_PW,
                                             to="x@example.net"))
        assert rc == 0, out
        [ref] = srv.events("rcpt-refused")
        assert ref["reason"] == "recipient domain not allowed"
        assert ref["user"] == BOB


def test_swaks_wrong_password():
    with one_listener("submission", "starttls") as srv:
        rc, out = swaks(srv.port(0), *submit(password="not-the-password"))
        assert rc == 28, out
        assert "535 5.7.8" in out, out
        [ev] = srv.events("auth-failed")
        assert ev["user"] == ALICE


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_send_scram(tmp_path, mech):
    """SCRAM-SHA-256 from the preset; SCRAM-SHA-1 needs a policy that offers
    it (the submission preset lists PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256)."""
    pol = policy_file(tmp_path, SUBMISSION_YAML)
    with one_listener(pol, "starttls") as srv:
        res = send(srv.port(0), "--tls", "--auth", mech, "--auth-user", ALICE,
                   "--auth-password", ALICE_PW, "--from", "alice@example.test",
                   "--to", EXTERNAL, "--json")
        assert_exit(res, 0)
        doc = as_json(res)
        assert doc["auth"]["mechanism"] == mech
        assert doc["auth"]["ok"] is True
        assert doc["auth"]["server_verified"] is True
        assert srv.events("auth")[0]["mechanism"] == mech


def test_send_scram_sha256_submission_preset():
    with one_listener("submission", "starttls-required") as srv:
        res = send(srv.port(0), "--tls", "--auth", "SCRAM-SHA-256", "--auth-user",
                   BOB, "--auth-password", BOB_PW, "--from", "bob@example.test",
                   "--to", "x@example.net", "--json")
        assert_exit(res, 0)
        assert as_json(res)["auth"]["server_verified"] is True


# ------------------------------------------------ smtprobe send, every mode
def test_send_plain():
    with one_listener("open") as srv:
        res = send(srv.port(0), "--from", "a@elsewhere.test", "--to", EXTERNAL,
                   "--json")
        assert_exit(res, 0)
        doc = as_json(res)
        assert doc["message"]["reply"]["code"] == 250
        assert not doc.get("tls")


@pytest.mark.parametrize("mode", ["starttls", "starttls-required"])
def test_send_starttls(mode):
    with one_listener("open", mode) as srv:
        res = send(srv.port(0), "--tls", "--from", "a@elsewhere.test",
                   "--to", EXTERNAL, "--json")
        assert_exit(res, 0)
        assert as_json(res)["tls"]["protocol"].startswith("TLS")


def test_send_starttls_required_without_tls():
    with one_listener("open", "starttls-required") as srv:
        res = send(srv.port(0), "--from", "a@elsewhere.test", "--to", EXTERNAL)
        assert_exit(res, 23)
        assert "530" in res.stderr and "STARTTLS" in res.stderr, show(res)


def test_send_implicit():
    with one_listener("open", "implicit") as srv:
        res = send(srv.port(0), "--tlsc", "--from", "a@elsewhere.test",
                   "--to", EXTERNAL, "--json")
        assert_exit(res, 0)
        assert as_json(res)["tls"]["protocol"].startswith("TLS")


@pytest.mark.parametrize("server", ["localhost", "127.0.0.1"])
@pytest.mark.parametrize("mode,flag", [("starttls", "--tls"), ("implicit", "--tlsc")])
def test_send_verifies_generated_certificate(server, mode, flag):
    with one_listener("open", mode) as srv:
        res = send(srv.port(0), flag, "--tls-verify", "--tls-ca-path", srv.ca_file,
                   "--from", "a@elsewhere.test", "--to", EXTERNAL, "--json",
                   server=server)
        assert_exit(res, 0)
        tls = as_json(res)["tls"]
        assert tls["verify"]["ok"] is True, tls
        assert tls["host_match"] is True, tls


def test_starttls_plain_listener_not_offered():
    with one_listener("open", "plain") as srv:
        res = send(srv.port(0), "--tls", "--from", "a@elsewhere.test",
                   "--to", EXTERNAL)
        assert_exit(res, 29)


# ------------------------------------------------------------------ Maildir
def test_maildir_message_and_envelope(tmp_path):
    md = str(tmp_path / "mail")
    with one_listener("submission", "starttls", maildir=md) as srv:
        res = send(srv.port(0), "--tls", "--auth", "PLAIN", "--auth-user", ALICE,
                   "--auth-password", ALICE_PW, "--from", "alice@example.test",
                   "--to", EXTERNAL, "--to", LOCAL,
                   "--header", "Subject: serve maildir check 4711")
        assert_exit(res, 0)
        [stored] = srv.events("stored")
    [msg] = maildir_files(md, "new")
    [env] = maildir_envelopes(md)
    assert os.path.basename(msg) == stored["id"]
    text = open(msg, "rb").read().decode()
    head = text.split("\r\n\r\n", 1)[0]
    assert "Subject: serve maildir check 4711" in head
    assert "\r\nReceived: from " + HELO in head, head
    assert head.startswith("Return-Path: <alice@example.test>"), head
    assert env["mail_from"] == "alice@example.test"
    assert env["rcpt"] == [EXTERNAL, LOCAL]
    assert env["auth_user"] == ALICE
    assert env["helo"] == HELO
    assert env["tls"]["protocol"].startswith("TLSv1."), env
    assert env["id"] == stored["id"]
    assert maildir_files(md, "tmp") == []


def test_maildir_envelope_without_tls_or_auth(tmp_path):
    md = str(tmp_path / "mail")
    with one_listener("open", maildir=md) as srv:
        assert_exit(send(srv.port(0), "--from", "a@elsewhere.test", "--to", EXTERNAL), 0)
    [env] = maildir_envelopes(md)
    assert env["auth_user"] is None and env["tls"] is None
    assert env["mail_from"] == "a@elsewhere.test"


# --------------------------------------------------------------- event log
def test_log_events_and_summary(tmp_path):
    md = str(tmp_path / "mail")
    srv = Serve(["127.0.0.1:0/starttls,policy=submission", "127.0.0.1:0,policy=mx"],
                maildir=md)
    with srv:
        res = send(srv.port(0), "--tls", "--auth", "LOGIN", "--auth-user", ALICE,
                   "--auth-password", ALICE_PW, "--from", "alice@example.test",
                   "--to", EXTERNAL)
        assert_exit(res, 0)
        res = send(srv.port(1), "--from", "a@elsewhere.test", "--to", EXTERNAL)
        assert_exit(res, 24)
        wait_for(lambda: len(srv.events("disconnect")) == 2, what="2 disconnects")
        names = [e["event"] for e in srv.events()]
        for name in ("ready", "connect", "tls", "auth", "rcpt", "rcpt-refused",
                     "stored", "disconnect"):
            assert name in names, names
        [auth] = srv.events("auth")
        assert auth["user"] == ALICE and auth["mechanism"] == "LOGIN"
        [rcpt] = srv.events("rcpt")
        assert rcpt["to"] == EXTERNAL and rcpt["user"] == ALICE
        [ref] = srv.events("rcpt-refused")
        assert ref["reason"] == "relay denied" and ref["to"] == EXTERNAL
        [tls] = srv.events("tls")
        assert tls["protocol"].startswith("TLSv1.")
        quit_ = [e for e in srv.events("disconnect") if "starttls=1" in e["commands"]]
        assert quit_ and quit_[0]["reason"] == "quit", srv.events("disconnect")
    assert srv.returncode == 0, srv.stderr_text()
    s = srv.summary
    assert s is not None
    assert s["connections"] == 2
    assert s["refused_connections"] == 0
    assert s["messages"] == 1
    assert s["rcpt_accepted"] == 1
    assert s["rcpt_refused"] == 1
    assert s["auth_ok"] == 1
    assert s["auth_failed"] == 0
    assert s["tls"] == 1
    assert type(s["bytes"]) is int and s["bytes"] > 0


def test_sigterm_closes_open_sessions_politely():
    srv = one_listener("open").start()
    try:
        with Raw(srv.port(0)) as c:
            c.cmd(f"EHLO {HELO}")
            srv.signal(signal.SIGTERM)
            code, text = c.reply()
            assert code == 421 and "shutting down" in text[0], text
            assert c.closed()
        srv.proc.wait(10)
    finally:
        srv.stop()  # only signals a server still running
    assert srv.returncode == 0, srv.stderr_text()
    assert srv.events("shutdown")[0]["signal"] == "TERM"
    [summary] = srv.events("summary")
    assert summary["connections"] == 1


# ------------------------------------------------------------------- limits
def test_auth_failure_limit(tmp_path):
    pol = policy_file(tmp_path, PLAIN_AUTH_YAML + "limits:\n  auth_failures: 2\n")
    with one_listener(pol) as srv:
        with Raw(srv.port(0)) as c:
            code, ehlo = c.cmd(f"EHLO {HELO}")
            assert "AUTH PLAIN LOGIN" in ehlo
            bad = f"AUTH PLAIN {plain_auth(ALICE, 'wrong')}"
            assert c.cmd(bad)[0] == 535
            assert c.cmd(bad)[0] == 535
            code, text = c.cmd(bad)
            assert code == 421, text
            assert "too many failed authentication attempts" in text[0]
            assert c.closed()
        # the server is still there, and a good login works
        with Raw(srv.port(0)) as c:
            c.cmd(f"EHLO {HELO}")
            assert c.cmd(f"AUTH PLAIN {plain_auth(ALICE, ALICE_PW)}")[0] == 235


def test_greylisting(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        limits: {greylist: 60}
        """)
    with one_listener(pol) as srv:
        for _ in range(2):
            res = send(srv.port(0), "--from", "a@elsewhere.test", "--to", EXTERNAL)
            assert_exit(res, 24)
            assert "451 4.7.1" in res.stderr and "Greylisted" in res.stderr, show(res)
        refused = srv.events("rcpt-refused")
        assert [e["reason"] for e in refused] == ["greylisted", "greylisted"]


def test_greylisting_lets_the_retry_through(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        limits: {greylist: 1s}
        """)
    with one_listener(pol) as srv:
        assert_exit(send(srv.port(0), *MSG), 24)
        time.sleep(1.1)
        assert_exit(send(srv.port(0), *MSG), 0)
        # another triple is greylisted on its own
        assert_exit(send(srv.port(0), "--from", "b@elsewhere.test", "--to", EXTERNAL), 24)


def test_auth_failure_delay(tmp_path):
    pol = policy_file(tmp_path, PLAIN_AUTH_YAML + "limits:\n  auth_failure_delay: 300ms\n")
    with one_listener(pol) as srv:
        with Raw(srv.port(0)) as c:
            c.cmd(f"EHLO {HELO}")
            t = time.monotonic()
            assert c.cmd(f"AUTH PLAIN {plain_auth(ALICE, 'wrong')}")[0] == 535
            assert time.monotonic() - t >= 0.28
            t = time.monotonic()
            assert c.cmd(f"AUTH PLAIN {plain_auth(ALICE, ALICE_PW)}")[0] == 235
            assert time.monotonic() - t < 0.25


def test_connection_rate(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        limits: {connection_rate: 2}
        """)
    with one_listener(pol) as srv:
        for _ in range(2):
            with Raw(srv.port(0)) as c:
                assert c.banner[0] == 220
        with Raw(srv.port(0), banner=False) as c:
            code, text = c.reply()
            assert code == 421 and "too many connections per minute" in text[0], text
            assert c.closed()


def test_connections_per_ip(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        limits: {connections_per_ip: 1}
        """)
    with one_listener(pol) as srv:
        first = Raw(srv.port(0))
        assert first.banner[0] == 220
        with Raw(srv.port(0), banner=False) as second:
            code, text = second.reply()
            assert code == 421, text
            assert text[0].startswith("4.7.0") and "127.0.0.1" in text[0], text
            assert second.closed()
        # the first connection is still served
        assert first.cmd("NOOP")[0] == 250
        assert first.cmd("QUIT")[0] == 221
        first.close()
        wait_for(lambda: len(srv.events("disconnect")) == 2, what="disconnects")
        # its slot is free again
        with Raw(srv.port(0)) as third:
            assert third.banner[0] == 220
        assert len(srv.events("refused")) == 1


def test_max_connections(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        limits: {max_connections: 2, connections_per_ip: 0}
        """)
    with one_listener(pol) as srv:
        a, b = Raw(srv.port(0)), Raw(srv.port(0))
        with Raw(srv.port(0), banner=False) as c:
            code, text = c.reply()
            assert code == 421 and text[0].startswith("4.7.0"), text
            assert "too many connections" in text[0]
            assert c.closed()
        assert a.cmd("NOOP")[0] == 250 and b.cmd("NOOP")[0] == 250
        a.cmd("QUIT")
        a.close()
        wait_for(lambda: len(srv.events("disconnect")) == 2, what="disconnects")
        with Raw(srv.port(0)) as d:
            assert d.banner[0] == 220
        b.close()
    assert srv.summary["refused_connections"] == 1


@pytest.mark.parametrize("where", ["policy", "user"])
def test_message_rate(tmp_path, where):
    if where == "policy":
        text = PLAIN_AUTH_YAML + "limits:\n  message_rate: 1\n"
    else:
        text = PLAIN_AUTH_YAML + "    message_rate: 1\n"
    pol = policy_file(tmp_path, text)
    with one_listener(pol) as srv:
        args = ["--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                "--auth-plaintext", "--from", "alice@example.test", "--to", EXTERNAL]
        assert_exit(send(srv.port(0), *args), 0)
        res = send(srv.port(0), *args)
        assert_exit(res, 23)
        assert "450 4.7.1" in res.stderr and "too much mail from alice" in res.stderr, \
            show(res)


def test_max_message_size(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        max_message_size: 1K
        """)
    with one_listener(pol) as srv:
        with Raw(srv.port(0)) as c:
            assert "SIZE 1024" in c.cmd(f"EHLO {HELO}")[1]
        res = send(srv.port(0), *MSG, "--body", "x" * 5000)
        assert_exit(res, 26)
        assert "552 5.3.4" in res.stderr, show(res)
        res = send(srv.port(0), *MSG, "--mail-params", "SIZE=5000")
        assert_exit(res, 23)
        assert "552 5.3.4" in res.stderr, show(res)
        assert_exit(send(srv.port(0), *MSG, "--body", "small"), 0)


def test_max_recipients(tmp_path):
    pol = policy_file(tmp_path, """\
        open_relay: true
        auth: {offer: false}
        max_recipients: 2
        """)
    with one_listener(pol) as srv:
        res = send(srv.port(0), "--from", "a@elsewhere.test", "--to",
                   "a@example.test,b@example.test,c@example.test", "--json")
        assert_exit(res, 0)
        codes = [(r["reply"]["code"], r["reply"]["enhanced"])
                 for r in as_json(res)["recipients"]]
        assert codes == [(250, "2.1.5"), (250, "2.1.5"), (452, "4.5.3")], codes


# ------------------------------------------------------------------- faults
def fault_server(tmp_path, faults, mode="plain", extra=""):
    """A server with an open-relay policy and these faults (YAML list items)."""
    pol = policy_file(tmp_path, "open_relay: true\nauth: {offer: false}\n" + extra +
                      "faults:\n" + textwrap.indent(textwrap.dedent(faults), "  "))
    return one_listener(pol, mode)


MSG = ["--from", "a@elsewhere.test", "--to", EXTERNAL]


def test_fault_reply(tmp_path):
    with fault_server(tmp_path, """\
            - command: RCPT
              action: reply
              code: 451
              text: "4.3.0 temporary trouble, come back later"
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 24)
        assert "451 4.3.0 temporary trouble, come back later" in res.stderr, show(res)
        assert srv.events("fault")[0]["action"] == "reply"


def test_fault_delay_on_connect(tmp_path):
    with fault_server(tmp_path, """\
            - command: connect
              action: delay
              ms: 1500
            """) as srv:
        res = send(srv.port(0), *MSG, timeout="1")
        assert_exit(res, 21)
        assert "timeout" in res.stderr, show(res)
        res = send(srv.port(0), *MSG, timeout="5")
        assert_exit(res, 0)
        assert res.elapsed >= 1.4, res.elapsed


def test_fault_drop_on_mail(tmp_path):
    with fault_server(tmp_path, """\
            - command: MAIL
              action: drop
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 6)


def test_fault_421_after(tmp_path):
    with fault_server(tmp_path, """\
            - command: any
              action: 421-after
              count: 2
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 24)  # EHLO and MAIL answered, RCPT gets the 421
        assert "421 4.3.2 mx.example.test Service not available" in res.stderr, show(res)
        [ev] = srv.events("disconnect")
        assert ev["reason"] == "fault: 421"


def test_fault_421_after_answers_n_commands_first(tmp_path):
    """"421 and close after n commands" (policy.h): with count 2 the first
    two commands are answered, the third gets the 421."""
    with fault_server(tmp_path, """\
            - command: any
              action: 421-after
              count: 2
            """) as srv:
        with Raw(srv.port(0)) as c:
            assert c.cmd(f"EHLO {HELO}")[0] == 250
            code, text = c.cmd("MAIL FROM:<a@elsewhere.test>")
            assert code == 250, (code, text)
            code, text = c.cmd(f"RCPT TO:<{EXTERNAL}>")
            assert code == 421 and text[0].startswith("4.3.2"), text
            assert c.closed()


def test_fault_silence_on_ehlo(tmp_path):
    with fault_server(tmp_path, """\
            - command: EHLO
              action: silence
            """) as srv:
        res = send(srv.port(0), *MSG, timeout="1")
        assert_exit(res, 22)
        assert "timeout" in res.stderr, show(res)


def test_fault_endless_on_ehlo(tmp_path):
    with fault_server(tmp_path, """\
            - command: EHLO
              action: endless
            """) as srv:
        res = send(srv.port(0), *MSG, run_timeout=10)
        assert_exit(res, 22)
        assert "too many lines" in res.stderr or "too big" in res.stderr, show(res)
        assert res.elapsed < 5, res.elapsed
        # the server is unharmed
        assert_exit(send(srv.port(0), "--quit-after", "banner"), 0)


def test_fault_long_line_on_connect(tmp_path):
    with fault_server(tmp_path, """\
            - command: connect
              action: long-line
              bytes: 200000
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 21)
        assert "line too long" in res.stderr, show(res)


def test_fault_garbage_on_connect(tmp_path):
    with fault_server(tmp_path, """\
            - command: connect
              action: garbage
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 21)


def test_fault_reset_data(tmp_path):
    with fault_server(tmp_path, """\
            - command: DATA
              action: reset-data
            """) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 6)
        assert srv.events("stored") == [] and srv.events("accepted") == []


def test_fault_bad_starttls(tmp_path):
    with fault_server(tmp_path, """\
            - command: STARTTLS
              action: bad-starttls
            """, mode="starttls") as srv:
        res = send(srv.port(0), "--tls", *MSG, timeout="2")
        assert_exit(res, 29)


def test_fault_bad_starttls_garbage_reaches_the_handshake(tmp_path):
    """The garbage should be what the client's TLS handshake reads, so the
    handshake fails at once. A client that (as RFC 3207 says) discards bytes
    that arrived with the 220 must not just be left waiting."""
    with fault_server(tmp_path, """\
            - command: STARTTLS
              action: bad-starttls
            """, mode="starttls") as srv:
        res = send(srv.port(0), "--tls", *MSG, timeout="3")
        assert_exit(res, 29)
        assert "injection" not in res.stdout, show(res)
        assert "timeout" not in res.stderr and res.elapsed < 2.5, show(res)


def test_fault_drip_on_connect(tmp_path):
    """A dripped banner (one byte per 5 ms) arrives whole; the session then
    goes on normally."""
    with fault_server(tmp_path, """\
            - command: connect
              action: drip
              ms: 5
            """) as srv:
        res = send(srv.port(0), *MSG, "--json", timeout="2")
        assert_exit(res, 0)
        doc = as_json(res)
        banner = doc["stages"][1]
        assert banner["name"] == "banner" and banner["reply"]["code"] == 220
        assert banner["ms"] >= 50


def test_fault_drip_sends_the_real_reply(tmp_path):
    """"send the reply one byte per ms" (docs/smtprobe-serve-policy.md): a
    dripped final-dot reply is still the 250 that queues the message."""
    with fault_server(tmp_path, """\
            - command: dot
              action: drip
              ms: 1
            """) as srv:
        res = send(srv.port(0), *MSG, "--json", timeout="3")
        assert_exit(res, 0)
        reply = as_json(res)["message"]["reply"]
        assert reply["code"] == 250, reply
        assert reply["text"][0].startswith("Ok: queued as"), reply


def test_fault_probability_zero_never_fires(tmp_path):
    with fault_server(tmp_path, """\
            - command: MAIL
              action: drop
              probability: 0
            - command: connect
              action: garbage
              probability: 0.0
            """) as srv:
        for _ in range(5):
            assert_exit(send(srv.port(0), *MSG), 0)
        assert srv.events("fault") == []


# ------------------------------------------------ hostile input to serve
def test_overlong_command_line():
    with one_listener("open") as srv:
        with Raw(srv.port(0)) as c:
            code, text = c.cmd("NOOP " + "x" * 5000)
            assert (code, text) == (500, ["5.5.2 Error: line too long"])
            assert c.closed()
        with Raw(srv.port(0)) as c:
            assert c.cmd(f"EHLO {HELO}")[0] == 250


def test_overlong_command_line_without_newline():
    with one_listener("open") as srv:
        with Raw(srv.port(0)) as c:
            c.send(b"NOOP " + b"x" * 70000)
            code, text = c.reply()
            assert (code, text) == (500, ["5.5.2 Error: line too long"])
            assert c.closed()


def test_nul_byte_in_command():
    with one_listener("open") as srv:
        with Raw(srv.port(0)) as c:
            code, text = c.cmd(b"EHLO client\0.example.test")
            assert code == 500, text
            assert c.cmd("NOOP")[0] == 250


def test_too_many_errors():
    with one_listener("open") as srv:
        with Raw(srv.port(0)) as c:
            replies = []
            try:
                for i in range(25):
                    replies.append(c.cmd(f"BOGUS{i}"))
            except (EOFError, ConnectionResetError, BrokenPipeError):
                pass
            codes = [r[0] for r in replies]
            assert 421 in codes, replies
            assert set(codes[:codes.index(421)]) == {502}, replies
            assert "too many errors" in replies[codes.index(421)][1][0]
            assert c.closed()
        with Raw(srv.port(0)) as c:
            assert c.cmd(f"EHLO {HELO}")[0] == 250
        assert_exit(send(srv.port(0), *MSG), 0)
    assert srv.returncode == 0
    assert srv.summary["errors"] == 20


def test_starttls_discards_pipelined_cleartext():
    """RFC 3207: commands pipelined after STARTTLS in clear are not used."""
    with one_listener("open", "starttls") as srv:
        with Raw(srv.port(0)) as c:
            c.cmd(f"EHLO {HELO}")
            c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
            assert c.reply()[0] == 220
            ctx = ssl.create_default_context(cafile=srv.ca_file)
            c.sock = ctx.wrap_socket(c.sock, server_hostname="localhost")
            assert c.buf == b""
            assert c.cmd(f"EHLO {HELO}")[0] == 250
            code, text = c.cmd(f"RCPT TO:<{EXTERNAL}>")
            assert code == 503, text  # no MAIL transaction in progress


# -------------------------------------------------------------- SIGHUP reload
def test_sighup_reload(tmp_path):
    yaml = "hostname: mx.example.test\nlocal_domains: [example.test]\n" \
           "auth: {offer: false}\nopen_relay: %s\n"
    pol = policy_file(tmp_path, yaml % "false")
    with one_listener(pol) as srv:
        res = send(srv.port(0), *MSG)
        assert_exit(res, 24)
        assert "554 5.7.1" in res.stderr
        with open(pol, "w") as f:
            f.write(yaml % "true")
        srv.signal(signal.SIGHUP)
        [ev] = wait_for(lambda: srv.events("reloaded"), what="reloaded event")
        assert ev["policy"] == pol
        assert_exit(send(srv.port(0), *MSG), 0)


def test_sighup_bad_policy_keeps_old(tmp_path):
    yaml = "hostname: mx.example.test\nauth: {offer: false}\nopen_relay: true\n"
    pol = policy_file(tmp_path, yaml)
    with one_listener(pol) as srv:
        with open(pol, "w") as f:
            f.write("open_relay: maybe\n")
        srv.signal(signal.SIGHUP)
        [ev] = wait_for(lambda: srv.events("reload-failed"), what="reload-failed")
        assert "open_relay" in ev["error"]
        assert_exit(send(srv.port(0), *MSG), 0)
    assert srv.returncode == 0
