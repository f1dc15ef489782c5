"""`smtprobe relay` end to end: the relay-policy audit against real servers.

The contract (include/smtprobe/relay.h, docs/smtprobe-relay.1, `smtprobe
relay --help`, /work/shared/RELAY-TESTS.md):

    smtprobe relay HOST[:PORT] [-p PORT]... [--local-domain D]
        [--external-domain D] [-a [MECH] -au USER -ap PASS]
        [--allowed-to D]... [--denied-to D]... [--other-sender ADDR]
        [--scenario ABC] [--concurrency N] [--deliver] [--json] [-v] ...

Scenario A: unauthenticated relay attempts (controls, sender variants,
recipient address tricks, HELO variants, AUTH edges, STARTTLS skipped) must
be refused; with credentials, B: the user's own address to the allowed
domains must be accepted, C: other senders, denied domains and the own
address without AUTH must be refused. --json prints one document (stdout);
the "audit only servers you are responsible for" reminder goes to stderr.
Exit 0 the policy holds, 1 it is violated, 2 undecided or a usage error.

Servers (loopback only):
- the real Postfix + Dovecot of the harness (`mailservers`): open, mx,
  submission, smtps and the relay lab (defer, sub_nocheck, data_reject,
  sender_ok, helo_ok, null_ok; see tests/harness/mailservers.py);
- `smtprobe serve` presets open, mx, submission and relay-by-ip
  (docs/smtprobe-serve-policy.md), one of them with a Maildir to see what
  --deliver stores.

Two things about the shared Postfix + Dovecot shape this file:
- Postfix's in_flow_delay (default 1s): every accepted RCPT opens a queue
  file through cleanup, and an audit that QUITs before DATA never returns
  the flow-control token, so once the tokens are used up each accepted
  RCPT waits a second (an audit of `open` goes from 0.05 s to 10 s). The
  module fixture `postfix` sets in_flow_delay = 0 on the shared instance
  for this module (postconf + reload) and puts it back afterwards; it does
  nothing when the harness already sets it to 0.
- Dovecot's auth penalty: the A.auth.* tests fail AUTH on purpose, and
  Dovecot then delays the next AUTH from 127.0.0.1 (seconds, up to 15).
  Audits that do not need scenario A use --scenario BC, the credentialed
  audits get --timeout 20 (a stage waiting out the penalty must not time
  out), and each Postfix audit runs once per module (cached).
"""
import base64
import os
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from runner import run_smtprobe
from serve import Serve

ALICE, ALICE_PW = "alice", "alice-secret-1"            # Postfix + Dovecot
SERVE_ALICE_PW = "alice-password"                      # serve's submission preset
BOB_ADDR = "bob@example.test"
LOCAL = "example.test"
EXTERNAL = "relay-test.invalid"                        # the default X
LOCALPART = "smtprobe-relay-test"
REMINDER = "audit only servers you are responsible for"
RUN_TIMEOUT = 120                                      # one audit; a hang fails
CRED_TIMEOUT = "20"                                    # --timeout with Dovecot AUTH

TOP_KEYS = {"host", "local_domain", "local_domain_source", "external_domain", "own",
            "other_sender", "deliver", "listeners", "tests", "verdicts",
            "verdict_details", "exit_code", "error"}
TEST_KEYS = {"id", "scenario", "port", "title", "expect", "helo", "mail_from", "rcpt_to",
             "auth", "tls", "replies", "outcome", "refusal", "decided_at", "why",
             "delivered", "refused_at_data", "as_expected", "error", "fix", "diagnosis"}
OUTCOMES = {"accepted", "refused", "tempfail", "inconclusive", "skipped"}
A_VERDICTS = {"open", "closed", "inconclusive", "skipped"}
BC_VERDICTS = {"holds", "violated", "inconclusive", "skipped"}
CONTROLS = ("A.control.postmaster", "A.control.null-sender")

POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


# ------------------------------------------------------------------ helpers
def show(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-6000:]}"
            f"\n--- stderr ---\n{res.stderr[-2000:]}")


def relay(*args, json_out=True, timeout=RUN_TIMEOUT, env=None):
    argv = ["relay"] + [str(a) for a in args]
    if json_out:
        argv.append("--json")
    return run_smtprobe(argv, timeout=timeout, env=env)


def expected_exit(verdicts):
    if "open" in verdicts.values() or "violated" in verdicts.values():
        return 1
    if "inconclusive" in verdicts.values() or set(verdicts.values()) == {"skipped"}:
        return 2
    return 0


def as_doc(res):
    """The JSON document, checked against the contract's shape and the
    rules every audit follows (exit code from the verdicts, the reminder on
    stderr, nothing past RCPT without --deliver)."""
    try:
        doc = res.json()
    except ValueError as e:
        pytest.fail(f"relay --json output is not one JSON document ({e})\n{show(res)}")
    ctx = show(res)
    assert isinstance(doc, dict), ctx
    missing = TOP_KEYS - set(doc)
    assert not missing, f"missing top-level keys {missing}\n{ctx}"
    assert REMINDER in res.stderr, f"the reminder is not on stderr\n{ctx}"
    assert REMINDER not in res.stdout, f"the reminder is on stdout\n{ctx}"
    v = doc["verdicts"]
    assert set(v) == {"A", "B", "C"}, ctx
    assert v["A"] in A_VERDICTS and v["B"] in BC_VERDICTS and v["C"] in BC_VERDICTS, v
    assert set(doc["verdict_details"]) == {"A", "B", "C"}, ctx
    for sc in "ABC":
        d = doc["verdict_details"][sc]
        assert d["verdict"] == v[sc], (sc, d, v)
        for k in ("confidence", "why", "evidence", "warnings"):
            assert k in d, (sc, k, d)
    assert doc["exit_code"] == res.returncode, ctx
    assert res.returncode == expected_exit(v), f"exit {res.returncode} with verdicts {v}\n{ctx}"
    assert isinstance(doc["listeners"], list) and isinstance(doc["tests"], list), ctx
    seen = set()
    for t in doc["tests"]:
        missing = TEST_KEYS - set(t)
        assert not missing, f"test {t.get('id')} lacks {missing}"
        assert t["scenario"] in ("A", "B", "C") and t["id"].startswith(t["scenario"] + "."), t
        assert t["outcome"] in OUTCOMES, t
        assert (t["port"], t["id"]) not in seen, f"test {t['id']} twice on port {t['port']}"
        seen.add((t["port"], t["id"]))
        assert isinstance(t["replies"], list), t
        for r in t["replies"]:
            assert isinstance(r["stage"], str) and "command" in r, r
            if r["reply"] is not None:
                assert isinstance(r["reply"]["code"], int), r
                assert isinstance(r["reply"]["enhanced"], str), r
                assert isinstance(r["reply"]["text"], list), r
        if not doc["deliver"]:
            # stopped before DATA: nothing is ever sent past RCPT
            assert not [r for r in t["replies"] if r["stage"] in ("data", "dot")], \
                f"{t['id']} went past RCPT without --deliver: {t['replies']}"
            assert not t["delivered"] and not t["refused_at_data"], t
    return doc


def by_id(doc):
    return {t["id"]: t for t in doc["tests"]}


def by_scenario(doc, sc):
    return [t for t in doc["tests"] if t["scenario"] == sc]


def relay_attempts(doc):
    """Scenario A tests that must be refused (not controls or probes)."""
    return [t for t in doc["tests"] if t["scenario"] == "A" and t["expect"] == "refused"]


def reply_at(t, stage):
    """The last reply of a test at a stage (None if the stage never ran)."""
    found = [r["reply"] for r in t["replies"] if r["stage"] == stage and r["reply"]]
    return found[-1] if found else None


def reply_text(reply):
    return " ".join(reply["text"]) if reply else ""


def listener(doc, i=0):
    return doc["listeners"][i]


def ldetails(doc, sc, i=0):
    """A listener's verdict details for one scenario."""
    return doc["listeners"][i]["details"][sc]


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, never listened: connect() is refused
    return port


# ------------------------------------------------------- Postfix fixtures
def _postconf(ms, *args):
    return subprocess.run([POSTCONF, "-c", ms.postfix_dir] + list(args),
                          capture_output=True, text=True, check=True,
                          env=dict(os.environ, MAIL_CONFIG=ms.postfix_dir)).stdout.strip()


def _reload(ms):
    subprocess.run([POSTFIX, "-c", ms.postfix_dir, "reload"], capture_output=True,
                   check=True, timeout=30, env=dict(os.environ, MAIL_CONFIG=ms.postfix_dir))


def _rcpt_seconds(ms):
    """How long an accepted RCPT takes on the open listener (where cleanup's
    flow control shows)."""
    with smtplib.SMTP(ms.host, ms.ports["open"], timeout=10) as s:
        s.ehlo("flow-check.smtprobe.invalid")
        s.mail(f"{LOCALPART}@{EXTERNAL}")
        start = time.monotonic()
        code, _ = s.rcpt(f"postmaster@{LOCAL}")
        took = time.monotonic() - start
        assert code == 250, code
    return took


@pytest.fixture(scope="module")
def postfix(mailservers):
    """The shared Postfix + Dovecot with in_flow_delay = 0 for this module
    (see the module docstring); restored afterwards."""
    ms = mailservers
    current = _postconf(ms, "-h", "in_flow_delay")
    explicit = _postconf(ms, "-n", "in_flow_delay")
    changed = current not in ("0", "0s")
    if changed:
        _postconf(ms, "-e", "in_flow_delay = 0")
        _reload(ms)
        # the reloaded cleanup processes no longer wait for tokens: a few
        # accepted RCPTs in a row answer at once
        deadline = time.monotonic() + 15
        fast = 0
        while fast < 3:
            fast = fast + 1 if _rcpt_seconds(ms) < 0.5 else 0
            assert time.monotonic() < deadline, \
                "in_flow_delay = 0 did not take effect after postfix reload"
    try:
        yield ms
    finally:
        if changed:
            if explicit:
                _postconf(ms, "-e", explicit)
            else:
                _postconf(ms, "-X", "in_flow_delay")
            _reload(ms)


@pytest.fixture(scope="module")
def pf(postfix):
    """pf(listener, *args) -> the Result of `smtprobe relay 127.0.0.1 -p PORT
    --tls-ca-path CA --json *args`, run once per module for the same
    arguments."""
    cache = {}

    def run(name, *args):
        key = (name,) + tuple(str(a) for a in args)
        if key not in cache:
            cache[key] = relay(postfix.host, "-p", postfix.ports[name],
                               "--tls-ca-path", postfix.ca_file, *args)
        return cache[key]
    return run


def creds(user=ALICE, password=ALICE_PW):
    return ["-au", user, "-ap", password, "--timeout", CRED_TIMEOUT]


# ------------------------------------------------------------ usage errors
@pytest.mark.parametrize("args", [
    ["127.0.0.1", "--scenario", "X"],
    ["127.0.0.1", "--allowed-to", "a.test"],                 # needs credentials
    ["127.0.0.1", "--denied-to", "a.test"],
    ["127.0.0.1", "-p", "0"],
    ["127.0.0.1", "-p", "70000"],
    ["127.0.0.1", "-p", "nope"],
    [],                                                      # no target
    ["127.0.0.1", "--concurrency", "0"],
    ["127.0.0.1", "--scenario", "B"],                        # needs credentials
    ["127.0.0.1", "--scenario", "BC"],
    ["127.0.0.1", "--scenario", "ABCA"],
    ["127.0.0.1", "--concurrency", "33"],
    ["127.0.0.1", "--no-such-option"],
], ids=["bad-scenario", "allowed-without-creds", "denied-without-creds", "port-0",
        "port-too-big", "port-not-a-number", "no-target", "concurrency-0",
        "b-without-creds", "bc-without-creds", "scenario-too-long",
        "concurrency-33", "unknown-option"])
def test_usage_errors_exit_2_with_one_line(args):
    res = relay(*args, json_out=False, timeout=30)
    assert res.returncode == 2, show(res)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"want one line on stderr\n{show(res)}"
    assert lines[0].startswith("smtprobe: "), show(res)
    assert res.stdout == "", show(res)


def test_help_exits_0():
    res = run_smtprobe(["relay", "--help"], timeout=30)
    assert res.returncode == 0, show(res)
    out = res.stdout + res.stderr
    assert "usage: smtprobe relay" in out, show(res)
    for opt in ("--port", "--local-domain", "--external-domain", "--auth-user",
                "--allowed-to", "--denied-to", "--other-sender", "--scenario",
                "--concurrency", "--deliver", "--tls-ca-path", "--json"):
        assert opt in out, f"{opt} missing from --help\n{show(res)}"


def test_closed_port_exits_2_with_an_error():
    port = closed_port()
    res = relay("127.0.0.1", "-p", port, timeout=60)
    doc = as_doc(res)
    assert res.returncode == 2, show(res)
    assert doc["error"], doc
    assert str(port) in doc["error"], doc["error"]
    assert doc["tests"] == [], doc["tests"]
    assert len(doc["listeners"]) == 1 and not listener(doc)["open"], doc["listeners"]
    assert listener(doc)["error"], doc["listeners"]
    assert doc["verdicts"] == {"A": "skipped", "B": "skipped", "C": "skipped"}
    # text mode: the same exit and the error on stderr
    res = relay("127.0.0.1", "-p", port, json_out=False, timeout=60)
    assert res.returncode == 2, show(res)
    assert "no SMTP service answers" in res.stderr, show(res)


# -------------------------------------------------------- Postfix: open
def test_postfix_open_relay(pf):
    res = pf("open")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"] == {"A": "open", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    assert doc["deliver"] is False
    t = by_id(doc)
    ext = t["A.mail.external"]
    assert ext["outcome"] == "accepted" and ext["decided_at"] == "rcpt", ext
    assert ext["as_expected"] is False, ext
    assert reply_at(ext, "rcpt")["code"] == 250, ext
    assert ext["rcpt_to"] == f"<{LOCALPART}@{EXTERNAL}>", ext
    assert "mynetworks" in (ext["fix"] or ""), ext["fix"]
    # accepted at RCPT only: medium confidence until --deliver tells
    det = ldetails(doc, "A")
    assert det["verdict"] == "open" and det["confidence"] == "medium", det
    assert det["evidence"] and "A.mail.external" in det["evidence"], det
    assert "RCPT" in doc["verdict_details"]["A"]["why"], doc["verdict_details"]["A"]
    # every plain relay attempt is accepted; no STARTTLS on this listener
    assert listener(doc)["tls"] == "none", listener(doc)
    assert "A.tls.skipped" not in t
    for i in ("A.mail.null", "A.mail.local", "A.helo.localhost", "A.rcpt.upper"):
        assert t[i]["outcome"] == "accepted", t[i]


def test_postfix_named_from_its_wording(pf):
    """The harness's Postfix hides its name in the banner ("ESMTP
    smtprobe-test"): its reply wording still names it, with less than high
    confidence, and the fixes are Postfix's alone."""
    doc = as_doc(pf("open"))
    sw = doc["software"]
    assert sw["name"] == "Postfix" and sw["confidence"] in ("medium", "low"), sw
    assert "Postfix" not in listener(doc)["host"]
    for t in doc["tests"]:
        for other in ("Exim:", "Sendmail:", "OpenSMTPD:", "Exchange:"):
            assert other not in (t["fix"] or ""), t


def test_postfix_open_relay_overall_evidence(pf):
    doc = as_doc(pf("open"))
    assert doc["verdicts"]["A"] == "open"
    ev = doc["verdict_details"]["A"]["evidence"]
    assert ev, doc["verdict_details"]["A"]
    assert "A.mail.external" in ev, ev
    assert doc["verdict_details"]["A"]["catch_all"] is True


def _log_from(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _log_size(path):
    return os.path.getsize(path)


def _wait_log(path, offset, pattern, count, timeout=15):
    """The log from offset once pattern matches count times (or at the
    deadline), and then no new line for a moment."""
    deadline = time.monotonic() + timeout
    while True:
        text = _log_from(path, offset)
        if len(re.findall(pattern, text, re.M)) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    while True:
        time.sleep(0.3)
        again = _log_from(path, offset)
        if again == text or time.monotonic() > deadline:
            return again
        text = again


def test_postfix_open_nothing_sent_without_deliver(pf, postfix):
    """Without --deliver no test reaches DATA (as_doc checks the replies),
    and Postfix saw no message: each of its sessions logs its command counts
    at disconnect (no data=) and cleanup logs message-id= for every message
    it receives (none). The --deliver run after it is the positive control:
    its messages do show in the log, one message-id= each."""
    log = postfix.postfix_log
    disconnect = r"postfix/open/smtpd\[\d+\]: disconnect from .*$"
    start = _log_size(log)
    doc = as_doc(relay(postfix.host, "-p", postfix.ports["open"]))
    assert doc["verdicts"]["A"] == "open", doc["verdicts"]
    assert all(reply_at(t, "data") is None for t in doc["tests"])
    # every test's session has ended (and logged) before we look
    text = _wait_log(log, start, disconnect, len(doc["tests"]))
    sessions = re.findall(disconnect, text, re.M)
    assert len(sessions) >= len(doc["tests"]), (len(sessions), len(doc["tests"]))
    assert "message-id=" not in text, [ln for ln in text.splitlines() if "message-id=" in ln]
    assert not [s for s in sessions if " data=" in s], sessions
    assert [s for s in sessions if " rcpt=1 " in s], sessions  # RCPT was accepted

    mid = _log_size(log)
    ddoc = as_doc(relay(postfix.host, "-p", postfix.ports["open"], "--deliver"))
    delivered = [t for t in ddoc["tests"] if t["delivered"]]
    assert delivered, "the --deliver audit of an open relay delivered nothing"
    text = _wait_log(log, mid, r"message-id=", len(delivered))
    assert len(re.findall(r"message-id=", text)) == len(delivered), text[-3000:]


# ---------------------------------------------------------- Postfix: mx
def test_postfix_mx_closed(pf, postfix):
    res = pf("mx")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "closed", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    assert doc["verdict_details"]["A"]["confidence"] == "high", doc["verdict_details"]["A"]
    assert doc["host"] == postfix.host
    assert doc["local_domain"] == LOCAL, doc["local_domain"]
    assert "guessed" in doc["local_domain_source"], doc["local_domain_source"]
    assert postfix.myhostname in doc["local_domain_source"], doc["local_domain_source"]
    assert doc["external_domain"] == EXTERNAL
    assert listener(doc)["tls"] == "starttls" and listener(doc)["host"] == postfix.myhostname
    t = by_id(doc)
    for c in CONTROLS:
        assert t[c]["outcome"] == "accepted", t[c]
        assert t[c]["as_expected"] is True, t[c]
    attempts = relay_attempts(doc)
    assert len(attempts) >= 30, [a["id"] for a in attempts]
    for a in attempts:
        assert a["outcome"] == "refused", a
        assert a["refusal"] == "relay policy", a
        assert a["as_expected"] is True and a["fix"] is None, a
    # the normal ones are refused at RCPT with 554 5.7.1 Relay access denied
    ext = t["A.mail.external"]
    r = reply_at(ext, "rcpt")
    assert r["code"] == 554 and r["enhanced"] == "5.7.1", ext
    assert "relay access denied" in reply_text(r).lower(), r
    assert ext["decided_at"] == "rcpt", ext
    # tests run over STARTTLS where offered, except the one that skips it
    assert ext["tls"] is True and t["A.tls.skipped"]["tls"] is False
    assert t["A.tls.skipped"]["outcome"] == "refused", t["A.tls.skipped"]
    # no AUTH offered: no AUTH edge cases
    assert not [i for i in t if i.startswith("A.auth.")], sorted(t)


def test_postfix_mx_text_output(pf, postfix):
    doc = as_doc(pf("mx"))
    res = relay(postfix.host, "-p", postfix.ports["mx"], "--tls-ca-path", postfix.ca_file,
                json_out=False)
    assert res.returncode == 0, show(res)
    assert REMINDER in res.stderr, show(res)
    assert REMINDER not in res.stdout, show(res)
    lines = res.stdout.splitlines()
    for t in doc["tests"]:
        pat = re.compile(r"^\s*\S\s+" + re.escape(t["id"]) + r"\s")
        hits = [ln for ln in lines if pat.match(ln)]
        assert len(hits) == 1, f"want one line for {t['id']}\n{res.stdout}"
    assert "verdicts: A closed" in res.stdout, res.stdout
    assert re.search(r"verdicts: A closed, B skipped, C skipped", res.stdout), res.stdout


def test_postfix_host_port_form_and_given_domains(postfix):
    """HOST:PORT instead of -p; --local-domain and --external-domain are used
    as given."""
    res = relay(f"{postfix.host}:{postfix.ports['mx']}", "--tls-ca-path", postfix.ca_file,
                "--local-domain", LOCAL, "--external-domain", "example.net")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert [x["port"] for x in doc["listeners"]] == [postfix.ports["mx"]]
    assert doc["local_domain"] == LOCAL and doc["local_domain_source"] == "given", doc
    assert doc["external_domain"] == "example.net"
    t = by_id(doc)
    assert t["A.mail.external"]["rcpt_to"] == f"<{LOCALPART}@example.net>", t["A.mail.external"]
    assert t["A.mail.external"]["outcome"] == "refused"
    assert doc["verdicts"]["A"] == "closed"


# ------------------------------------------------------- Postfix: defer
def test_postfix_defer_tempfail_454(pf):
    res = pf("defer")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"]["A"] == "closed", doc["verdicts"]
    assert "temporar" in doc["verdict_details"]["A"]["why"], doc["verdict_details"]["A"]
    t = by_id(doc)
    for c in CONTROLS:
        assert t[c]["outcome"] == "accepted", t[c]
    attempts = relay_attempts(doc)
    assert attempts
    for a in attempts:
        assert a["outcome"] == "tempfail", a
        assert a["refusal"] == "relay policy", a
        r = reply_at(a, "rcpt")
        assert r["code"] == 454 and r["enhanced"] == "4.7.1", a
        assert a["as_expected"] is True, a


# ---------- Postfix: with credentials; the one full audit (A, B, C) first
def test_postfix_submission_full_audit(pf):
    res = pf("submission", *creds(), "--other-sender", BOB_ADDR)
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "closed", "B": "holds", "C": "holds"}, doc["verdicts"]
    assert doc["own"] == f"{ALICE}@{LOCAL}" and doc["other_sender"] == BOB_ADDR, doc
    vd = doc["verdict_details"]
    # the controls are refused too: a submission port takes no anonymous mail
    assert vd["A"]["confidence"] == "medium", vd["A"]
    t = by_id(doc)
    for c in CONTROLS + ("A.control.local-user",):
        assert t[c]["outcome"] == "refused", t[c]
    for a in relay_attempts(doc):
        assert a["outcome"] == "refused", a
    # STARTTLS skipped: 530 at MAIL, in clear
    skip = t["A.tls.skipped"]
    assert skip["tls"] is False and skip["decided_at"] == "mail", skip
    assert reply_at(skip, "mail")["code"] == 530, skip
    assert skip["refusal"] == "TLS required", skip
    # AUTH edge cases: a failed AUTH (535) does not open the relay
    for i in ("A.auth.failed", "A.auth.garbage", "A.auth.aborted"):
        assert t[i]["outcome"] == "refused", t[i]
        assert reply_at(t[i], "auth")["code"] in (501, 535), t[i]
    assert reply_at(t["A.auth.failed"], "auth")["code"] == 535
    # B: alice to the external domain
    b = t[f"B.own.{EXTERNAL}"]
    assert b["outcome"] == "accepted" and b["auth"] == "user", b
    assert reply_at(b, "auth")["code"] == 235, b
    # C: bob's address -> 553 not owned
    spoof = t["C.other-sender"]
    assert spoof["outcome"] == "refused", spoof
    r = reply_at(spoof, "rcpt")
    assert r["code"] == 553, spoof
    assert "not owned" in reply_text(r), r
    assert spoof["refusal"] == "sender policy", spoof
    assert t["C.other-sender-case"]["outcome"] == "refused", t["C.other-sender-case"]
    assert t["C.foreign-sender"]["outcome"] == "refused", t["C.foreign-sender"]
    # the null sender after AUTH: Postfix accepts it -> a warning, not a breach
    null = t["C.null-sender"]
    assert null["outcome"] == "accepted" and null["as_expected"] is False, null
    assert vd["C"]["warnings"] == 1, vd["C"]
    assert ldetails(doc, "C")["warnings"] == 1
    # own address without AUTH
    noauth = t["C.no-auth-own"]
    assert noauth["outcome"] == "refused" and noauth["auth"] == "none", noauth
    assert reply_at(noauth, "auth") is None, noauth
    # the password is in none of it
    assert ALICE_PW not in res.stdout and ALICE_PW not in res.stderr


def test_postfix_submission_foreign_sender_is_a_sender_refusal(pf):
    """The reply echoes our own address (smtprobe-relay-test@relay-test.invalid):
    the word "relay" in it must not make a sender refusal a relay refusal."""
    doc = as_doc(pf("submission", *creds(), "--other-sender", BOB_ADDR))
    t = by_id(doc)["C.foreign-sender"]
    assert "Sender address rejected" in reply_text(reply_at(t, "rcpt")), t
    assert t["refusal"] == "sender policy", t


def test_postfix_submission_refusal_kind_ignores_the_echoed_address(pf):
    """The same refusal text gets the same kind, whatever address it echoes."""
    doc = as_doc(pf("submission", *creds(), "--other-sender", BOB_ADDR))
    t = by_id(doc)
    pm, rnd = t["A.control.postmaster"], t["A.control.random-local"]
    for x in (pm, rnd):
        assert "Recipient address rejected: Access denied" in reply_text(reply_at(x, "rcpt")), x
    assert rnd["refusal"] == pm["refusal"], (pm["refusal"], rnd["refusal"])


def test_postfix_smtps_implicit_tls(pf):
    """Implicit TLS (wrappermode): B and C over TLS from the first byte. Only
    B and C: scenario A on implicit TLS is test_serve_implicit_tls_listener."""
    res = pf("smtps", *creds(), "--other-sender", BOB_ADDR, "--scenario", "BC")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert listener(doc)["tls"] == "implicit", listener(doc)
    assert doc["verdicts"] == {"A": "skipped", "B": "holds", "C": "holds"}, doc["verdicts"]
    t = by_id(doc)
    assert all(x["tls"] for x in doc["tests"]), [x["id"] for x in doc["tests"] if not x["tls"]]
    assert not [r for x in doc["tests"] for r in x["replies"] if r["stage"] == "starttls"]
    assert t[f"B.own.{EXTERNAL}"]["outcome"] == "accepted"
    assert reply_at(t[f"B.own.{EXTERNAL}"], "auth")["code"] == 235
    assert t["C.other-sender"]["outcome"] == "refused"
    assert reply_at(t["C.other-sender"], "rcpt")["code"] == 553
    assert t["C.no-auth-own"]["outcome"] == "refused"
    assert t["C.null-sender"]["outcome"] == "accepted"
    assert doc["verdict_details"]["C"]["warnings"] == 1


# ------------- Postfix: with credentials, B and C only (no failed AUTH)
SECRETS = [ALICE_PW,
           base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode(),
           base64.b64encode(ALICE_PW.encode()).decode(),
           base64.b64encode(ALICE_PW.encode()).decode().rstrip("=")[:16]]


@pytest.mark.parametrize("mech,extra,json_out", [
    ("PLAIN", [], True),
    ("PLAIN", [], False),
    ("PLAIN", ["-v"], False),
    ("LOGIN", ["-v"], True),
    (None, ["-v"], False),
], ids=["plain-json", "plain-text", "plain-verbose", "login-verbose-json", "default-verbose"])
def test_password_never_printed(postfix, mech, extra, json_out):
    """PLAIN and LOGIN put the password on the wire (base64): neither it nor
    its encodings may reach stdout or stderr."""
    args = ["-p", postfix.ports["submission"], "--tls-ca-path", postfix.ca_file,
            "--scenario", "BC", *creds(), *extra]
    if mech:
        args += ["-a", mech]
    res = relay(postfix.host, *args, json_out=json_out)
    assert res.returncode == 0, show(res)
    if json_out:
        doc = as_doc(res)
        assert doc["verdicts"]["B"] == "holds", doc["verdicts"]
        b = by_id(doc)[f"B.own.{EXTERNAL}"]
        assert reply_at(b, "auth")["code"] == 235, b
    for s in SECRETS:
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


def test_password_from_environment_never_printed(postfix):
    res = relay(postfix.host, "-p", postfix.ports["submission"], "--tls-ca-path",
                postfix.ca_file, "--scenario", "BC", "-au", ALICE, "-a", "PLAIN",
                "--timeout", CRED_TIMEOUT, "-v", env={"SMTPROBE_PASSWORD": ALICE_PW})
    doc = as_doc(res)
    assert doc["verdicts"]["B"] == "holds" and doc["verdicts"]["C"] == "holds", doc["verdicts"]
    for s in SECRETS:
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


def test_postfix_sub_nocheck_spoofing_violates_c(pf):
    res = pf("sub_nocheck", *creds(), "--other-sender", BOB_ADDR, "--scenario", "BC")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"] == {"A": "skipped", "B": "holds", "C": "violated"}, doc["verdicts"]
    t = by_id(doc)
    spoof = t["C.other-sender"]
    assert spoof["mail_from"] == f"<{BOB_ADDR}>", spoof
    assert spoof["outcome"] == "accepted" and spoof["as_expected"] is False, spoof
    assert reply_at(spoof, "auth")["code"] == 235, spoof
    assert reply_at(spoof, "rcpt")["code"] == 250, spoof
    assert "reject_sender_login_mismatch" in (spoof["fix"] or ""), spoof["fix"]
    assert "C.other-sender" in ldetails(doc, "C")["evidence"], ldetails(doc, "C")
    assert ldetails(doc, "C")["confidence"] == "high"
    # no AUTH, no relaying: still refused
    assert t["C.no-auth-own"]["outcome"] == "refused", t["C.no-auth-own"]
    assert not by_scenario(doc, "A"), "--scenario BC ran scenario A tests"


def test_postfix_denied_domain_not_enforced(pf):
    """Postfix has no per-user recipient scope here: the forbidden domain is
    reachable, so C is violated."""
    res = pf("submission", *creds(), "--denied-to", "forbidden.test", "--scenario", "BC")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"]["C"] == "violated", doc["verdicts"]
    assert doc["verdicts"]["B"] == "holds", doc["verdicts"]
    t = by_id(doc)
    d = t["C.denied.forbidden.test"]
    assert d["rcpt_to"] == f"<{LOCALPART}@forbidden.test>", d
    assert d["mail_from"] == f"<{ALICE}@{LOCAL}>", d
    assert d["outcome"] == "accepted" and d["as_expected"] is False, d
    assert d["fix"], d
    # the spoofing tests are still refused
    assert t["C.other-sender"]["outcome"] == "refused", t["C.other-sender"]


def test_postfix_allowed_domains_each_tested(pf):
    res = pf("submission", *creds(), "--allowed-to", "a.test", "--allowed-to", "b.test",
             "--scenario", "BC")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "skipped", "B": "holds", "C": "holds"}, doc["verdicts"]
    t = by_id(doc)
    for dom in ("a.test", "b.test"):
        b = t[f"B.own.{dom}"]
        assert b["outcome"] == "accepted" and b["as_expected"] is True, b
        assert b["rcpt_to"] == f"<{LOCALPART}@{dom}>", b
        assert b["mail_from"] == f"<{ALICE}@{LOCAL}>", b
    assert f"B.own.{EXTERNAL}" not in t, sorted(t)
    # the C tests aim at the first allowed domain
    assert t["C.other-sender"]["rcpt_to"] == f"<{LOCALPART}@a.test>", t["C.other-sender"]


# ------------------------------------------------- Postfix: data_reject
def test_postfix_data_reject_without_deliver_looks_open(pf):
    res = pf("data_reject")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"]["A"] == "open", doc["verdicts"]
    vd = doc["verdict_details"]["A"]
    assert vd["confidence"] == "medium", vd
    assert "RCPT" in vd["why"], vd
    assert "--deliver" in vd["why"], vd
    assert by_id(doc)["A.mail.external"]["decided_at"] == "rcpt"


def test_postfix_data_reject_with_deliver_is_closed(pf):
    res = pf("data_reject", "--deliver")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["deliver"] is True
    assert doc["verdicts"]["A"] == "closed", doc["verdicts"]
    assert "DATA" in doc["verdict_details"]["A"]["why"], doc["verdict_details"]["A"]
    attempts = relay_attempts(doc)
    assert attempts
    for a in attempts:
        assert a["outcome"] == "refused", a
        assert a["refused_at_data"] is True and a["decided_at"] == "data", a
        assert a["delivered"] is False, a
        assert reply_at(a, "rcpt")["code"] == 250, a
        assert reply_at(a, "data")["code"] == 554, a
    # controls never deliver: they stop at RCPT
    t = by_id(doc)
    for c in CONTROLS:
        assert t[c]["outcome"] == "accepted" and t[c]["decided_at"] == "rcpt", t[c]
        assert reply_at(t[c], "data") is None, t[c]


# ------------------------------------------- Postfix: the relay-lab holes
def test_postfix_sender_ok_hole(pf):
    res = pf("sender_ok")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"]["A"] == "open", doc["verdicts"]
    t = by_id(doc)
    assert t["A.mail.local"]["outcome"] == "accepted", t["A.mail.local"]
    assert t["A.mail.local"]["mail_from"] == f"<{LOCALPART}@{LOCAL}>"
    assert "check_sender_access" in (t["A.mail.local"]["fix"] or ""), t["A.mail.local"]
    assert t["A.mail.postmaster"]["outcome"] == "accepted", t["A.mail.postmaster"]
    for i in ("A.mail.external", "A.mail.null", "A.helo.localhost", "A.rcpt.percent-local"):
        assert t[i]["outcome"] == "refused", t[i]
        assert reply_at(t[i], "rcpt")["code"] == 554, t[i]
    assert "A.mail.local" in ldetails(doc, "A")["evidence"], ldetails(doc, "A")
    assert "A.mail.external" not in ldetails(doc, "A")["evidence"]


def test_postfix_helo_ok_hole(pf):
    res = pf("helo_ok")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"]["A"] == "open", doc["verdicts"]
    t = by_id(doc)
    h = t["A.helo.localhost"]
    assert h["helo"] == "localhost" and h["outcome"] == "accepted", h
    assert "check_helo_access" in (h["fix"] or ""), h
    assert t["A.helo.localhost-localdomain"]["outcome"] == "accepted"
    for i in ("A.mail.external", "A.helo.host", "A.helo.local", "A.mail.local"):
        assert t[i]["outcome"] == "refused", t[i]


def test_postfix_null_ok_hole(pf):
    res = pf("null_ok")
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"]["A"] == "open", doc["verdicts"]
    t = by_id(doc)
    n = t["A.mail.null"]
    assert n["mail_from"] == "<>" and n["outcome"] == "accepted", n
    assert "<> OK" in (n["fix"] or ""), n
    for i in ("A.mail.external", "A.mail.local", "A.helo.localhost"):
        assert t[i]["outcome"] == "refused", t[i]
    assert ldetails(doc, "A")["evidence"] == ["A.mail.null"], ldetails(doc, "A")


# --------------------------------------------------- smtprobe serve cases
@pytest.fixture(scope="module")
def serve_open():
    with Serve(["127.0.0.1:0,policy=open"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_mx():
    with Serve(["127.0.0.1:0,policy=mx"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_submission():
    with Serve(["127.0.0.1:0/starttls-required,policy=submission"]) as srv:
        yield srv


def serve_creds(srv):
    return ["--tls-ca-path", srv.ca_file, "-au", ALICE, "-ap", SERVE_ALICE_PW,
            "--other-sender", BOB_ADDR]


def test_serve_open_preset(serve_open):
    res = relay("127.0.0.1", "-p", serve_open.port(0))
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"] == {"A": "open", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    t = by_id(doc)
    assert t["A.mail.external"]["outcome"] == "accepted"
    # a catch-all: routed forms at its own names do not count as proof
    assert ldetails(doc, "A")["catch_all"] is True, ldetails(doc, "A")


def test_serve_mx_preset(serve_mx):
    res = relay("127.0.0.1", "-p", serve_mx.port(0))
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "closed", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    assert doc["verdict_details"]["A"]["confidence"] == "high", doc["verdict_details"]["A"]
    t = by_id(doc)
    for c in CONTROLS:
        assert t[c]["outcome"] == "accepted", t[c]
    for a in relay_attempts(doc):
        assert a["outcome"] == "refused" and a["refusal"] == "relay policy", a
        assert reply_at(a, "rcpt")["code"] == 554, a


def test_serve_implicit_tls_listener():
    """An implicit-TLS listener: every test runs over TLS and there is no
    STARTTLS to skip (A.tls.skipped is left out)."""
    with Serve(["127.0.0.1:0/implicit,policy=mx"]) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0), "--tls-ca-path", srv.ca_file)
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert listener(doc)["tls"] == "implicit", listener(doc)
    assert doc["verdicts"]["A"] == "closed", doc["verdicts"]
    t = by_id(doc)
    assert "A.tls.skipped" not in t, sorted(t)
    assert all(x["tls"] for x in doc["tests"]), [x["id"] for x in doc["tests"] if not x["tls"]]
    assert t["A.mail.external"]["outcome"] == "refused"


def test_serve_submission_preset(serve_submission):
    res = relay("127.0.0.1", "-p", serve_submission.port(0), *serve_creds(serve_submission))
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "closed", "B": "holds", "C": "holds"}, doc["verdicts"]
    t = by_id(doc)
    assert t[f"B.own.{EXTERNAL}"]["outcome"] == "accepted"
    spoof = t["C.other-sender"]
    assert spoof["outcome"] == "refused" and spoof["decided_at"] == "mail", spoof
    r = reply_at(spoof, "mail")
    assert r["code"] == 553 and "not owned" in reply_text(r), spoof
    # serve refuses <> after AUTH on purpose: no warning
    assert t["C.null-sender"]["outcome"] == "refused", t["C.null-sender"]
    assert doc["verdict_details"]["C"]["warnings"] == 0, doc["verdict_details"]["C"]
    # without AUTH the controls are refused: 530 Authentication required
    assert t["A.control.postmaster"]["refusal"] == "authentication required"
    assert doc["verdict_details"]["A"]["confidence"] == "medium"


def test_serve_relay_by_ip_preset_from_loopback():
    """relay-by-ip trusts 127.0.0.0/8 and ::1 (docs/smtprobe-serve-policy.md):
    from loopback every relay attempt is accepted, so the audit, run from a
    trusted address, finds an open relay."""
    with Serve(["127.0.0.1:0,policy=relay-by-ip"]) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0))
    doc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert doc["verdicts"] == {"A": "open", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    t = by_id(doc)
    for i in ("A.mail.external", "A.mail.null", "A.helo.localhost"):
        assert t[i]["outcome"] == "accepted", t[i]
    assert "A.mail.external" in ldetails(doc, "A")["evidence"]


def test_serve_scenario_a_with_credentials_skips_b_and_c(serve_submission):
    res = relay("127.0.0.1", "-p", serve_submission.port(0), *serve_creds(serve_submission),
                "--scenario", "A")
    doc = as_doc(res)
    assert res.returncode == 0, show(res)
    assert doc["verdicts"] == {"A": "closed", "B": "skipped", "C": "skipped"}, doc["verdicts"]
    assert {t["scenario"] for t in doc["tests"]} == {"A"}
    # the AUTH edge cases are scenario A and do run
    assert "A.auth.failed" in by_id(doc)


@pytest.mark.parametrize("target", ["postfix-mx", "serve-submission"])
def test_concurrency_1_same_verdicts(request, target):
    if target == "postfix-mx":
        postfix = request.getfixturevalue("postfix")
        args = ["127.0.0.1", "-p", postfix.ports["mx"], "--tls-ca-path", postfix.ca_file]
    else:
        srv = request.getfixturevalue("serve_submission")
        args = ["127.0.0.1", "-p", srv.port(0), *serve_creds(srv)]
    one = as_doc(relay(*args, "--concurrency", "1"))
    default = as_doc(relay(*args))
    assert one["verdicts"] == default["verdicts"], (one["verdicts"], default["verdicts"])
    assert one["exit_code"] == default["exit_code"]
    assert ({t["id"]: t["outcome"] for t in one["tests"]}
            == {t["id"]: t["outcome"] for t in default["tests"]})


def test_serve_maildir_deliver(tmp_path):
    """Without --deliver the Maildir stays empty; with it every delivered
    test is stored, marked as a relay test."""
    maildir = str(tmp_path / "mail")
    with Serve(["127.0.0.1:0,policy=open"], maildir=maildir, workdir=str(tmp_path)) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0))
        doc = as_doc(res)
        assert doc["verdicts"]["A"] == "open", doc["verdicts"]
        for sub in ("new", "tmp", "cur"):
            d = os.path.join(maildir, sub)
            assert not os.path.isdir(d) or os.listdir(d) == [], f"{sub}/ not empty"

        res = relay("127.0.0.1", "-p", srv.port(0), "--deliver")
        ddoc = as_doc(res)
    assert res.returncode == 1, show(res)
    assert ddoc["verdicts"]["A"] == "open"
    assert ddoc["verdict_details"]["A"]["confidence"] == "high", ddoc["verdict_details"]["A"]
    delivered = {t["id"] for t in ddoc["tests"] if t["delivered"]}
    assert delivered, "nothing delivered to an open relay with --deliver"
    for t in ddoc["tests"]:
        if t["delivered"]:
            assert reply_at(t, "dot")["code"] == 250, t
    # controls never deliver
    assert not delivered & set(CONTROLS), delivered
    new = os.path.join(maildir, "new")
    names = os.listdir(new)
    assert len(names) == len(delivered), (len(names), sorted(delivered))
    stored_ids = set()
    for name in names:
        with open(os.path.join(new, name), "rb") as f:
            msg = f.read().decode(errors="replace")
        head = msg.split("\r\n\r\n", 1)[0]
        marks = re.findall(r"^X-Smtprobe-Relay-Test: *(\S+?);", head, re.M | re.I)
        assert len(marks) == 1, f"{name}: no X-Smtprobe-Relay-Test header\n{head}"
        stored_ids.add(marks[0])
        subj = re.findall(r"^Subject: *(.*)$", head, re.M | re.I)
        assert len(subj) == 1 and "relay test" in subj[0].lower(), f"{name}: {subj}"
    assert stored_ids == delivered, (sorted(stored_ids), sorted(delivered))


# ------------------------------------------- what must not pass as CLOSED
def _policy(tmp_path, text, name="policy.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_serve_greylisting_is_inconclusive(tmp_path):
    """A greylisted attempt has not met the relay rule yet: no verdict."""
    pol = _policy(tmp_path, "local_domains: [example.test]\n"
                            "limits:\n  greylist: 5m\n")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0))
    doc = as_doc(res)
    assert res.returncode == 2, show(res)
    assert doc["verdicts"]["A"] == "inconclusive", doc["verdict_details"]
    # serve judges relaying before greylisting; the controls get greylisted
    grey = [t for t in doc["tests"] if t["refusal"] == "greylisting"]
    assert grey, [(t["id"], t["outcome"], t["refusal"]) for t in doc["tests"]]
    for t in grey:
        assert t["outcome"] == "inconclusive", t
        assert "greylisting" in t["why"], t
    assert by_id(doc)["A.control.postmaster"]["outcome"] == "inconclusive"


def test_serve_banner_naming_an_address_needs_local_domain(tmp_path):
    pol = _policy(tmp_path, "hostname: 127.0.0.1\nlocal_domains: [example.test]\n")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0))
        doc = as_doc(res)
        assert res.returncode == 2, show(res)
        assert "--local-domain" in (doc["error"] or ""), doc["error"]
        res = relay("127.0.0.1", "-p", srv.port(0), "--local-domain", "example.test")
    doc = as_doc(res)
    assert doc["local_domain_source"] == "given"
    assert doc["verdicts"]["A"] == "closed", doc["verdict_details"]


def test_serve_long_denied_domain_is_still_tested(serve_submission):
    long_domain = "this-is-a-rather-long-forbidden-domain-name." + "x" * 60 + ".test"
    res = relay("127.0.0.1", "-p", serve_submission.port(0), "--scenario", "BC",
                "--denied-to", long_domain, *serve_creds(serve_submission),
                timeout=RUN_TIMEOUT)
    doc = as_doc(res)
    t = by_id(doc)
    assert f"C.denied.{long_domain}" in t, sorted(t)
    assert t[f"C.denied.{long_domain}"]["rcpt_to"].endswith(f"@{long_domain}>")


def test_max_time_bounds_a_silent_server(tmp_path):
    pol = _policy(tmp_path, "local_domains: [example.test]\n"
                            "faults:\n  - {command: rcpt, action: silence}\n")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        start = time.monotonic()
        res = relay("127.0.0.1", "-p", srv.port(0), "--timeout", "1", "--max-time", "3")
        took = time.monotonic() - start
    doc = as_doc(res)
    assert res.returncode == 2, show(res)
    assert doc["truncated"] is True
    assert doc["verdicts"]["A"] == "inconclusive"
    assert took < 10, took
    outcomes = {t["outcome"] for t in doc["tests"]}
    assert outcomes <= {"inconclusive", "skipped"}, outcomes


@pytest.mark.parametrize("args", [
    ["--external-domain", "foo>bar"],
    ["--local-domain", "-bad.test"],
    ["--local-domain", "a" * 64 + ".test"],
    ["--other-sender", "a<b@example.test"],
    ["--other-sender", "a b@example.test"],
    ["--from", "<a@example.test> NOTIFY=NEVER"],
    ["--max-time", "0"],
], ids=["angle-in-domain", "leading-dash", "label-too-long", "angle-in-address",
        "space-in-address", "injected-params", "max-time-0"])
def test_hostile_option_values_are_refused(args):
    res = relay("127.0.0.1", "-p", "25", *args, json_out=False, timeout=30)
    assert res.returncode == 2, show(res)
    assert res.stderr.startswith("smtprobe: bad"), res.stderr
    assert "\n" not in res.stderr.strip(), res.stderr


# -------------------------------------------------- hostile server replies
RSS_LIMIT_KB = (400 if os.environ.get("SMTPROBE_ASAN") else 64) * 1024


@pytest.mark.parametrize("fault", [
    "{command: RCPT, action: endless}",
    "{command: RCPT, action: long-line, bytes: 2000000}",
    "{command: RCPT, action: garbage}",
    "{command: RCPT, action: drop}",
    "{command: RCPT, action: silence}",
], ids=["endless", "long-line", "garbage", "reset", "silence"])
def test_hostile_rcpt_replies_stay_bounded(tmp_path, fault):
    """Every byte from the network is hostile: a reply that never ends, an
    over-long line, garbage, a dropped connection, silence or a NUL byte at
    RCPT gives a verdict (never open on no evidence), in bounded time and
    memory, and one JSON document."""
    pol = _policy(tmp_path, f"local_domains: [example.test]\nfaults:\n  - {fault}\n")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0), "--scenario", "A", "--timeout", "2",
                    "--max-time", "20", timeout=60)
    doc = as_doc(res)
    assert res.returncode == 2, show(res)
    assert res.elapsed < 30, res.elapsed
    assert res.maxrss_kb < RSS_LIMIT_KB, res.maxrss_kb
    assert doc["verdicts"]["A"] == "inconclusive", doc["verdict_details"]


def test_nul_byte_in_a_reply_is_escaped():
    """A NUL byte inside an RCPT reply: the reply is judged by its code and
    the byte never reaches the output raw."""
    from badserver import BadServer, BANNER, ehlo_reply
    script = [("send", BANNER), ("expect", b"EHLO"), ("send", ehlo_reply(auth=())),
              ("expect", b"MAIL"), ("send", b"250 2.1.0 Ok\r\n"),
              ("expect", b"RCPT"), ("send", b"250 2.1.5 O\x00k\r\n"),
              ("expect", b"QUIT"), ("send", b"221 Bye\r\n"), ("close",)]
    with BadServer(script) as srv:
        port = srv.address.rsplit(":", 1)[1]
        res = relay("127.0.0.1", "-p", port, "--scenario", "A",
                    "--local-domain", "example.test", "--timeout", "3")
    doc = as_doc(res)
    assert "\x00" not in res.stdout and "\\u0000" not in res.stdout
    assert by_id(doc)["A.mail.external"]["outcome"] == "accepted"
    assert doc["verdicts"]["A"] == "open"
    assert res.returncode == 1, show(res)


def test_bogus_credentials_accepted_is_a_hole(tmp_path):
    """A server that answers 235 to the audit's made-up credentials lets
    anyone authenticate: the AUTH edge-case tests report it as accepted."""
    pol = _policy(tmp_path, "hostname: mx.example.test\n"
                            "local_domains: [example.test]\n"
                            "require_auth: true\n"
                            "auth:\n  offer: true\n  mechanisms: [PLAIN, LOGIN]\n"
                            "users:\n  - name: alice\n    password: alice-password\n"
                            "faults:\n"
                            "  - {command: AUTH, action: reply, code: 235, "
                            "text: \"2.7.0 Authentication successful\"}\n")
    with Serve(["127.0.0.1:0/starttls"], policy=pol) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0), "--scenario", "A",
                    "--tls-ca-path", srv.ca_file)
    doc = as_doc(res)
    t = by_id(doc)
    failed = t["A.auth.failed"]
    assert failed["outcome"] == "accepted", failed
    assert failed["decided_at"] == "auth", failed
    assert "bogus credentials" in failed["why"], failed
    assert doc["verdicts"]["A"] == "open", doc["verdict_details"]
    assert res.returncode == 1, show(res)


def test_refused_helo_is_a_refusal(tmp_path):
    """A HELO rule that refuses the greeting refuses that test."""
    pol = _policy(tmp_path, "local_domains: [example.test]\nfaults:\n"
                            "  - {command: EHLO, action: reply, code: 550, "
                            "text: \"5.7.1 Helo command rejected: go away\"}\n"
                            "  - {command: HELO, action: reply, code: 550, "
                            "text: \"5.7.1 Helo command rejected: go away\"}\n")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = relay("127.0.0.1", "-p", srv.port(0), "--scenario", "A",
                    "--local-domain", "example.test")
    doc = as_doc(res)
    ext = by_id(doc)["A.mail.external"]
    assert ext["outcome"] == "refused", ext
    assert ext["decided_at"] == "ehlo", ext
    assert ext["refusal"] == "client or HELO rejected", ext
