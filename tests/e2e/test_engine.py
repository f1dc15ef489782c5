"""The client engine's failure model and deadlines, through the real CLI,
against misbehaving servers (tests/harness/badserver.py):

  - replies no command asked for (sent right after the banner) are a
    protocol error that names the bytes: `send` exits in the EHLO stage
    without sending EHLO, `check` fails its ehlo step with the knowledge
    base's "unsolicited reply", `relay` is inconclusive (exit 2), never
    "closed";
  - a slow but steady server (each AUTH LOGIN reply 1.5 s late) is a
    success with --timeout 2, as it is for swaks: the timeout bounds one
    reply, not the whole exchange;
  - a clean close after the banner is diagnosed as closed by the server,
    not as a reset;
  - a bad reply code and an inconsistent multi-line reply are protocol
    errors, with their own diagnosis.
"""
import subprocess
import time

import pytest

from runner import ASAN, run_smtprobe
from badserver import BANNER, HOSTNAME, ehlo_reply, good_script

UNSOLICITED = b"220 badserver.test ESMTP\r\n250 unsolicited\r\n554 and another\r\n"
SLACK = 3 if ASAN else 1


def unsolicited_script():
    return [("send", UNSOLICITED), ("hold", 5)]


def step(doc, name):
    return next(s for s in doc["steps"] if s["name"] == name)


# ---- unsolicited replies ---------------------------------------------------

def test_send_unsolicited_after_banner(badserver):
    srv = badserver(unsolicited_script())
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "--timeout", "2"])
    assert r.returncode == 22, r.stderr
    assert "unsolicited reply" in r.stderr
    assert "250 unsolicited" in r.stderr
    assert "MAIL FROM refused" not in r.stderr + r.stdout
    # nothing was sent after the banner
    assert not any(l.upper().startswith(b"EHLO") for l in srv.lines)
    assert r.elapsed < 2 * SLACK


def test_send_unsolicited_json(badserver):
    srv = badserver(unsolicited_script())
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "--timeout", "2", "--json"])
    assert r.returncode == 22
    f = r.json()["failure"]
    assert f["kind"] == "protocol_error"
    assert f["protocol_error"] == "unsolicited"
    assert f["stage"] == "ehlo"
    assert "250 unsolicited" in f["detail"]


def test_check_unsolicited_after_banner(badserver):
    srv = badserver(unsolicited_script())
    r = run_smtprobe(["check", srv.address, "--json", "--timeout", "2",
                      "--no-relay-test"])
    assert r.returncode == 1, r.stdout
    doc = r.json()
    assert step(doc, "banner")["status"] == "pass"
    ehlo = step(doc, "ehlo")
    assert ehlo["status"] == "fail"
    assert ehlo["diagnosis"]["kb"] == "protocol-unsolicited"
    assert "250 unsolicited" in ehlo["detail"]


def test_relay_unsolicited_is_inconclusive(badserver):
    srv = badserver(unsolicited_script())
    r = run_smtprobe(["relay", "127.0.0.1", "-p", srv.port, "--json",
                      "--local-domain", "example.test", "--timeout", "2",
                      "--scenario", "A"], timeout=60)
    assert r.returncode == 2, r.stdout[-2000:]
    doc = r.json()
    assert doc["verdicts"]["A"] == "inconclusive", doc["verdicts"]
    outcomes = {t["outcome"] for t in doc["tests"]}
    assert outcomes <= {"inconclusive", "skipped"}, outcomes
    assert any("out of step" in t.get("why", "") for t in doc["tests"])


def test_unsolicited_421_is_the_server_closing(badserver):
    srv = badserver([("send", BANNER + b"421 4.3.2 shutting down\r\n"),
                     ("hold", 3)])
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "--timeout", "2", "--json"])
    f = r.json()["failure"]
    assert f["kind"] == "command_refused"
    assert f["reply"]["code"] == 421


# ---- one deadline per reply -----------------------------------------------

def slow_auth_login_script():
    """Banner and EHLO at once; each of the three AUTH LOGIN replies 1.5 s
    late (4.5 s in all); the rest at once."""
    return [("send", BANNER),
            ("expect", b"EHLO"), ("send", ehlo_reply(auth=("LOGIN",))),
            ("expect", b"AUTH LOGIN"), ("sleep", 1.5),
            ("send", b"334 VXNlcm5hbWU6\r\n"),
            ("expect", None), ("sleep", 1.5),
            ("send", b"334 UGFzc3dvcmQ6\r\n"),
            ("expect", None), ("sleep", 1.5),
            ("send", b"235 2.7.0 Authentication successful\r\n")] + \
        good_script()[3:]


def test_slow_steady_auth_login_gets_through(badserver):
    srv = badserver(slow_auth_login_script())
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "-f", "b@example.test", "--auth", "LOGIN",
                      "--auth-user", "u", "--auth-password", "p",
                      "--auth-plaintext", "--timeout", "2"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.elapsed > 4.4  # the AUTH exchange took longer than --timeout
    assert not srv.errors


def test_slow_steady_auth_login_swaks_agrees(badserver):
    srv = badserver(slow_auth_login_script())
    out = subprocess.run(
        ["swaks", "--server", srv.address, "--to", "a@example.test",
         "--from", "b@example.test", "--auth", "LOGIN", "--auth-user", "u",
         "--auth-password", "p", "--timeout", "2"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout[-1500:]


def test_silent_reply_still_times_out_per_reply(badserver):
    # the same exchange with one reply that never comes: bounded by
    # --timeout after the last reply, not by the session
    srv = badserver([("send", BANNER),
                     ("expect", b"EHLO"), ("send", ehlo_reply(auth=("LOGIN",))),
                     ("expect", b"AUTH LOGIN"), ("sleep", 1.5),
                     ("send", b"334 VXNlcm5hbWU6\r\n"),
                     ("expect", None), ("hold", 10)])
    start = time.monotonic()
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "--auth", "LOGIN", "--auth-user", "u",
                      "--auth-password", "p", "--auth-plaintext",
                      "--timeout", "2", "--json"], timeout=60)
    took = time.monotonic() - start
    assert r.returncode == 28
    f = r.json()["failure"]
    assert f["kind"] == "reply_timeout" and f["stage"] == "auth"
    assert 3.3 < took < 3.5 + 2 * SLACK


# ---- closes and protocol errors, as check diagnoses them -------------------

def test_check_clean_close_after_banner_is_closed_not_reset(badserver):
    srv = badserver([("send", BANNER), ("close",)])
    r = run_smtprobe(["check", srv.address, "--json", "--timeout", "2"])
    assert r.returncode == 1
    doc = r.json()
    ehlo = step(doc, "ehlo")
    assert ehlo["status"] == "fail"
    assert ehlo["diagnosis"]["kb"] == "local-closed"
    assert doc["session"]["failure"]["kind"] == "closed"
    assert ehlo["diagnosis"]["kb"] != "local-econnreset"


def test_check_bad_reply_code_is_a_protocol_error(badserver):
    srv = badserver([("send", b"hello there, not smtp\r\n"), ("hold", 3)])
    r = run_smtprobe(["check", srv.address, "--json", "--timeout", "2"])
    assert r.returncode == 1
    doc = r.json()
    banner = step(doc, "banner")
    assert banner["status"] == "fail"
    assert banner["diagnosis"]["kb"] == "protocol-bad-code"
    assert doc["session"]["failure"]["protocol_error"] == "bad_code"


def test_check_inconsistent_multiline_is_a_protocol_error(badserver):
    srv = badserver([("send", BANNER), ("expect", b"EHLO"),
                     ("send", b"250-badserver.test\r\n251 PIPELINING\r\n"),
                     ("hold", 3)])
    r = run_smtprobe(["check", srv.address, "--json", "--timeout", "2"])
    assert r.returncode == 1
    doc = r.json()
    ehlo = step(doc, "ehlo")
    assert ehlo["status"] == "fail"
    assert ehlo["diagnosis"]["kb"] == "protocol-inconsistent"


def test_send_connect_and_tls_timings_are_real(badserver):
    srv = badserver(good_script(tls=True))
    r = run_smtprobe(["send", "-s", srv.address, "-t", "a@example.test",
                      "--tls", "--json"])
    assert r.returncode == 0, r.stderr
    doc = r.json()
    assert doc["connect_ms"] > 0
    by = {s["name"]: s for s in doc["stages"]}
    assert by["connect"]["ms"] > 0
    assert by["tls"]["ms"] > 0
    assert doc["tls"]["handshake_ms"] == pytest.approx(by["tls"]["ms"])
    names = [t["stage"] for t in doc["transitions"]]
    assert names == ["resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo",
                     "mail", "rcpt", "data", "dot", "quit"]


def test_check_tcp_time_is_the_connect_time(badserver):
    srv = badserver(good_script())
    r = run_smtprobe(["check", srv.address, "--json", "--timeout", "2",
                      "--no-relay-test"])
    doc = r.json()
    tcp = step(doc, "tcp")
    assert tcp["status"] == "pass"
    assert tcp["ms"] > 0
    assert tcp["ms"] == pytest.approx(doc["session"]["connect_ms"])
