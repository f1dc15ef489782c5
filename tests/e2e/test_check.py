"""`smtprobe check` end to end: the diagnostic ladder against real servers.

The contract (include/smtprobe/check.h and the CLI):

    smtprobe check HOST[:PORT] [--port P] [--tls | --tls-on-connect]
        [--tls-ca-path CA] [--tls-verify-host NAME]
        [--auth [MECH] --auth-user U --auth-password P] [--auth-plaintext]
        [--from ADDR] [--to ADDR] [--send] [--no-relay-test]
        [--timeout SECS] [--json] [-v]

--json prints one document: host, port, addresses, exit_code, the ten steps
(dns tcp banner ehlo tls auth mail rcpt data relay, in that order, each with
status pass|fail|warn|skip, detail, ms and a diagnosis for failed/warned
steps), the checklist and the main session (the `smtprobe send` JSON).
Exit 0 when no step failed (warnings allowed), 1 when one did, 2 for a
usage error.

Servers: the real Postfix + Dovecot of the harness (`mailservers`: mx
refuses relaying with 554 5.7.1 and offers STARTTLS but no AUTH; submission
requires STARTTLS and offers AUTH only after it; smtps is implicit TLS) and
`smtprobe serve` with presets, YAML policies, faults and certificates made
by certs.py (expired, wrong host, chain without its intermediate,
self-signed, expiring soon). Loopback only.

Each case asserts the step that failed or warned, the top of its diagnosis
(a keyword in causes[0] or the summary) and the exit code.
"""
import base64
import datetime
import socket

import pytest

import certs
from runner import run_smtprobe
from serve import Serve

STEPS = ["dns", "tcp", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "data", "relay"]
STATUSES = {"pass", "fail", "warn", "skip"}
CHECKLIST = ["server_reachable", "correct_port", "tls_policy", "auth_accepted",
             "mail_from_accepted", "rcpt_to_accepted", "data_accepted", "no_relay_denial"]

ALICE, ALICE_PW = "alice", "alice-secret-1"          # Postfix + Dovecot
SERVE_ALICE, SERVE_ALICE_PW = "alice", "alice-password"  # serve's submission preset
EXTERNAL = "x@example.org"
STRANGER = "someone@elsewhere.test"
TIMEOUT = "10"            # --timeout for check (per stage)
RUN_TIMEOUT = 90          # the whole check run (two sessions); a hang fails


# ------------------------------------------------------------------ helpers
def show(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-6000:]}"
            f"\n--- stderr ---\n{res.stderr[-2000:]}")


def check(target, *args, json_out=True, timeout=RUN_TIMEOUT, timeout_opt=TIMEOUT):
    argv = ["check", target]
    if json_out:
        argv.append("--json")
    if timeout_opt is not None:
        argv += ["--timeout", timeout_opt]
    argv += list(args)
    return run_smtprobe(argv, timeout=timeout)


def as_doc(res):
    """The JSON document, checked against the contract's shape."""
    try:
        doc = res.json()
    except ValueError as e:
        pytest.fail(f"check --json output is not one JSON document ({e})\n{show(res)}")
    ctx = show(res)
    assert isinstance(doc, dict), ctx
    for key, typ in (("host", str), ("port", int), ("addresses", str),
                     ("exit_code", int), ("steps", list), ("checklist", dict),
                     ("session", dict)):
        assert key in doc, f"missing {key!r}\n{ctx}"
        assert isinstance(doc[key], typ), f"{key!r} is not {typ.__name__}\n{ctx}"
    assert [s.get("name") for s in doc["steps"]] == STEPS, ctx
    for s in doc["steps"]:
        assert s["status"] in STATUSES, f"{s}\n{ctx}"
        assert isinstance(s["detail"], str), f"{s}\n{ctx}"
        assert isinstance(s["ms"], (int, float)) and s["ms"] >= 0, f"{s}\n{ctx}"
        assert "diagnosis" in s, f"{s}\n{ctx}"
        d = s["diagnosis"]
        if d is not None:
            assert isinstance(d["summary"], str), f"{s}\n{ctx}"
            assert isinstance(d["causes"], list), f"{s}\n{ctx}"
            assert all(isinstance(c, str) for c in d["causes"]), f"{s}\n{ctx}"
            assert len(set(d["causes"])) == len(d["causes"]), \
                f"a cause listed twice: {d['causes']}\n{ctx}"
            assert isinstance(d["fixes"], list), f"{s}\n{ctx}"
            assert all(isinstance(c, str) for c in d["fixes"]), f"{s}\n{ctx}"
            assert d["kb"] is None or isinstance(d["kb"], str), f"{s}\n{ctx}"
            assert d["reference"] is None or isinstance(d["reference"], str), f"{s}\n{ctx}"
        if s["status"] == "fail":
            assert d is not None, f"a failed step without a diagnosis: {s}\n{ctx}"
    assert sorted(doc["checklist"]) == sorted(CHECKLIST), ctx
    for k, v in doc["checklist"].items():
        assert v in ("pass", "fail", "warn", "skip", "info"), f"checklist {k}={v}\n{ctx}"
    # one severity model: a fail anywhere (a step or the checklist) is
    # exit 1, and exit 1 always has a fail behind it (or a warning with
    # --strict)
    failed = [s["name"] for s in doc["steps"] if s["status"] == "fail"]
    failed += [k for k, v in doc["checklist"].items() if v == "fail"]
    if doc.get("strict"):
        failed += [s["name"] for s in doc["steps"] if s["status"] == "warn"]
        failed += [k for k, v in doc["checklist"].items() if v == "warn"]
    want = 1 if failed else 0
    assert doc["exit_code"] == want, f"exit_code {doc['exit_code']} with failed {failed}\n{ctx}"
    assert res.returncode == want, f"exit {res.returncode} with failed {failed}\n{ctx}"
    # the ladder goes on: a step that passed is followed by the next one
    # (with implicit TLS the handshake comes between TCP and the banner: a
    # failed handshake leaves the banner unread)
    st = {s["name"]: s["status"] for s in doc["steps"]}
    for before, after in (("tcp", "banner"), ("banner", "ehlo")):
        if st[before] == "pass" and not (after == "banner" and st["tls"] == "fail"):
            assert st[after] != "skip", \
                f"{before} passed but {after} was skipped: {st}\n{ctx}"
    # a failed checklist item has a failed step behind it, a warned one a
    # warned (or failed) step
    for level, behind in (("fail", ("fail",)), ("warn", ("fail", "warn"))):
        bad = [k for k, v in doc["checklist"].items() if v == level]
        if bad:
            assert any(v in behind for v in st.values()), \
                f"checklist {bad} {level} but no step behind it: {st}\n{ctx}"
    return doc


def step(doc, name):
    return next(s for s in doc["steps"] if s["name"] == name)


def statuses(doc):
    return {s["name"]: s["status"] for s in doc["steps"]}


def diag(s):
    """The step's diagnosis, which must exist."""
    assert s["diagnosis"] is not None, f"no diagnosis for {s['name']}: {s}"
    return s["diagnosis"]


def top(s):
    """causes[0] and the summary, lower-case: where the top cause must show."""
    d = diag(s)
    first = d["causes"][0] if d["causes"] else ""
    return (first + " | " + d["summary"]).lower()


def everything(s):
    """Detail, summary, causes and fixes, lower-case."""
    parts = [s["detail"]]
    if s["diagnosis"]:
        d = s["diagnosis"]
        parts += [d["summary"]] + d["causes"] + d["fixes"]
    return " | ".join(parts).lower()


def has_any(text, *words):
    return any(w in text for w in words)


def assert_status(doc, name, *allowed):
    s = step(doc, name)
    assert s["status"] in allowed, f"step {name}: {s}\nall: {statuses(doc)}"
    return s


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, never listened: connect() is refused
    return port


def policy_file(tmp_path, text, name="policy.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def serve_target(srv, i=0):
    host, port = srv.address(i)
    return f"{host}:{port}"


def pf_target(ms, listener):
    return f"{ms.host}:{ms.ports[listener]}"


# -------------------------------------------------------------- certificates
@pytest.fixture(scope="module")
def bad_certs(tmp_path_factory):
    """A root CA and the broken server certificates of the TLS cases."""
    d = str(tmp_path_factory.mktemp("check-certs"))
    root = certs.make_ca(d, "check Root CA")
    sans = ["DNS:mx.example.test", "DNS:localhost", "IP:127.0.0.1"]
    good = certs.make_leaf(d, root, "mx.example.test", sans=sans)
    expired = certs.make_leaf(d, root, "mx.example.test", sans=sans,
                              not_before="20200101000000Z", not_after="20200201000000Z")
    soon = (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(days=10)).strftime("%Y%m%d%H%M%SZ")
    expiring = certs.make_leaf(d, root, "mx.example.test", sans=sans, not_after=soon)
    wrong = certs.make_leaf(d, root, "wrong.example.net", sans=["DNS:wrong.example.net"])
    inter = certs.make_ca(d, "check Intermediate CA", issuer=root)
    deep = certs.make_leaf(d, inter, "mx.example.test", sans=sans)
    self_signed = certs.make_self_signed(d, "mx.example.test", sans=sans)
    return {"ca": root.cert, "good": good, "expired": expired, "expiring": expiring,
            "wrong": wrong, "deep": deep, "self": self_signed}


def cert_serve(leaf, chain=None, policy="mx"):
    """serve on a STARTTLS listener with this certificate (no chain: the leaf
    alone, so an intermediate-signed leaf arrives without its intermediate)."""
    extra = ["--tls-cert", leaf.cert, "--tls-key", leaf.key]
    if chain:
        extra += ["--tls-chain", chain]
    return Serve([f"127.0.0.1:0/starttls,policy={policy}"], extra=extra)


def tls_check(srv, ca, *args):
    return check(serve_target(srv), "--tls-ca-path", ca,
                 "--tls-verify-host", "mx.example.test", *args)


# ------------------------------------------------------------- usage errors
@pytest.mark.parametrize("args", [
    [],                                                # no host
    ["127.0.0.1", "--tls", "--tls-on-connect"],        # exclusive TLS modes
    ["127.0.0.1", "--tls-on-connect", "--no-tls"],
    ["127.0.0.1", "--no-such-option"],
    ["127.0.0.1", "--port", "0"],
    ["127.0.0.1", "--port", "70000"],
    ["127.0.0.1", "--timeout", "nope"],
], ids=["no-host", "tls-and-tlsc", "tlsc-and-no-tls", "unknown-option", "port-0", "port-too-big",
        "bad-timeout"])
def test_usage_errors_exit_2(args):
    res = run_smtprobe(["check"] + args, timeout=30)
    assert res.returncode == 2, show(res)
    assert res.stderr.strip(), show(res)


def test_help_exits_0():
    res = run_smtprobe(["check", "--help"], timeout=30)
    assert res.returncode == 0, show(res)
    out = res.stdout + res.stderr
    for opt in ("--tls", "--tls-on-connect", "--tls-ca-path", "--auth-user",
                "--from", "--to", "--send", "--no-relay-test", "--json"):
        assert opt in out, f"{opt} missing from --help\n{show(res)}"


# ------------------------------------------------------- Postfix + Dovecot
def test_postfix_mx_relay_denied_without_auth(mailservers):
    """mx: 554 5.7.1 Relay access denied at RCPT, AUTH not offered: the client
    is not trusted (not in mynetworks) comes first."""
    res = check(pf_target(mailservers, "mx"), "--tls-ca-path", mailservers.ca_file,
                "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    assert doc["host"] == mailservers.host and doc["port"] == mailservers.ports["mx"]
    assert "127.0.0.1" in doc["addresses"], doc["addresses"]
    st = statuses(doc)
    for name in ("dns", "tcp", "banner", "ehlo", "tls", "mail"):
        assert st[name] == "pass", st
    assert st["auth"] == "skip", st
    assert st["data"] == "skip", st
    assert st["relay"] == "pass", st       # the anonymous relay test is refused
    rcpt = step(doc, "rcpt")
    assert rcpt["status"] == "fail", rcpt
    assert "554" in rcpt["detail"], rcpt
    assert "relay access denied" in everything(rcpt), rcpt
    t = top(rcpt)
    assert has_any(t, "trusted", "mynetworks", "ip address", "not allowed to relay",
                   "permitted"), rcpt
    # AUTH is not offered: not authenticating cannot be the top cause
    first = diag(rcpt)["causes"][0].lower()
    assert not (first.startswith("the client did not authenticate")), rcpt


def test_postfix_mx_relay_denied_checklist(mailservers):
    res = check(pf_target(mailservers, "mx"), "--tls-ca-path", mailservers.ca_file,
                "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    cl = doc["checklist"]
    assert cl["server_reachable"] == "pass", cl
    assert cl["correct_port"] == "pass", cl
    assert cl["tls_policy"] == "pass", cl
    assert cl["auth_accepted"] == "skip", cl
    assert cl["mail_from_accepted"] == "pass", cl
    assert cl["rcpt_to_accepted"] == "fail", cl
    assert cl["data_accepted"] == "skip", cl
    assert cl["no_relay_denial"] == "fail", cl


def test_postfix_submission_wrong_password(mailservers):
    res = check(pf_target(mailservers, "submission"), "--tls-ca-path", mailservers.ca_file,
                "--auth", "--auth-user", ALICE, "--auth-password", "wrong-password",
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    st = statuses(doc)
    assert st["tls"] == "pass", st
    auth = step(doc, "auth")
    assert auth["status"] == "fail", auth
    assert "535" in auth["detail"], auth
    causes = " | ".join(diag(auth)["causes"]).lower()
    assert has_any(causes, "password", "credential", "user name"), auth
    assert has_any(top(auth), "password", "credential", "user name"), auth
    assert doc["checklist"]["auth_accepted"] == "fail", doc["checklist"]


def test_postfix_submission_without_auth(mailservers):
    """Postfix submission says 530 5.7.0 to MAIL in clear, but the ladder
    uses STARTTLS when offered, so TLS passes; without AUTH the envelope is
    refused (reject_sender_login_mismatch: "not logged in", or
    permit_sasl_authenticated, reject) and the top cause is the missing
    authentication. The 530-in-clear case is test_serve_tls_required_not_offered."""
    res = check(pf_target(mailservers, "submission"), "--tls-ca-path", mailservers.ca_file,
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    st = statuses(doc)
    assert st["tls"] == "pass", st     # STARTTLS was used since offered
    assert st["auth"] == "skip", st
    failed = [n for n in ("mail", "rcpt") if st[n] == "fail"]
    assert failed, st
    s = step(doc, failed[0])
    # AUTH is offered after TLS and the client did not authenticate
    assert has_any(top(s), "auth", "log in", "logged in"), s


def test_postfix_submission_no_tls_530(mailservers):
    """--no-tls: Postfix submission says 530 5.7.0 Must issue a STARTTLS
    command first to MAIL in clear; the fix is to enable TLS / use 587."""
    res = check(pf_target(mailservers, "submission"), "--no-tls",
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    assert_status(doc, "tls", "skip", "warn")
    mail = assert_status(doc, "mail", "fail")
    assert "530" in mail["detail"], mail
    assert has_any(top(mail), "tls", "587"), mail
    assert has_any(" | ".join(diag(mail)["fixes"]).lower(), "tls", "587"), mail
    assert diag(mail)["kb"], mail


def test_postfix_submission_healthy(mailservers):
    res = check(pf_target(mailservers, "submission"), "--tls-ca-path", mailservers.ca_file,
                "--auth", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL, "--send")
    doc = as_doc(res)
    assert res.returncode == 0
    st = statuses(doc)
    assert all(v == "pass" for v in st.values()), st
    assert all(s["diagnosis"] is None for s in doc["steps"]), doc["steps"]
    assert doc["exit_code"] == 0
    assert all(v == "pass" for v in doc["checklist"].values()), doc["checklist"]
    # the main session's JSON is smtprobe send's
    assert doc["session"], doc
    assert "250" in step(doc, "data")["detail"] or "queued" in step(doc, "data")["detail"].lower(), \
        step(doc, "data")


def test_postfix_submission_healthy_without_send(mailservers):
    res = check(pf_target(mailservers, "submission"), "--tls", "--tls-ca-path",
                mailservers.ca_file, "--auth", "PLAIN", "--auth-user", ALICE,
                "--auth-password", ALICE_PW,
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 0
    st = statuses(doc)
    assert st["data"] == "skip", st
    assert all(v == "pass" for k, v in st.items() if k != "data"), st
    assert doc["checklist"]["data_accepted"] == "skip", doc["checklist"]


def test_postfix_smtps_implicit_tls(mailservers):
    res = check(mailservers.host, "--port", str(mailservers.ports["smtps"]),
                "--tls-on-connect", "--tls-ca-path", mailservers.ca_file,
                "--auth", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                "--from", f"{ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 0
    assert doc["port"] == mailservers.ports["smtps"], doc["port"]
    st = statuses(doc)
    for name in ("tcp", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "relay"):
        assert st[name] == "pass", st


def test_postfix_open_relay(mailservers):
    res = check(pf_target(mailservers, "open"), "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    relay = assert_status(doc, "relay", "fail")
    assert "open relay" in everything(relay), relay
    # no STARTTLS on the open listener: a warning, not a failure
    assert_status(doc, "tls", "warn")


# ------------------------------------------------------------ serve cases
def test_serve_relay_denied_with_auth_offered(tmp_path):
    """AUTH offered (after STARTTLS), no credentials: the relay refusal's top
    cause is the missing authentication."""
    pol = policy_file(tmp_path, """\
hostname: mx.example.test
local_domains: [example.test]
auth:
  offer: true
  without_tls: false
  mechanisms: [PLAIN, LOGIN]
users:
  - {name: alice, password: alice-password}
""")
    with Serve(["127.0.0.1:0/starttls"], policy=pol) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                    "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    st = statuses(doc)
    assert st["tls"] == "pass" and st["mail"] == "pass" and st["auth"] == "skip", st
    rcpt = assert_status(doc, "rcpt", "fail")
    assert "554" in rcpt["detail"], rcpt
    first = diag(rcpt)["causes"][0].lower()
    assert "auth" in first, rcpt


def test_serve_connection_refused():
    port = closed_port()
    res = check("127.0.0.1", "--port", str(port), "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 1
    assert doc["port"] == port
    st = statuses(doc)
    assert st["dns"] == "pass", st
    tcp = assert_status(doc, "tcp", "fail")
    assert has_any(everything(tcp), "refused"), tcp
    assert has_any(top(tcp), "not running", "listen", "firewall", "wrong port", "port"), tcp
    for name in STEPS[2:]:
        assert st[name] == "skip", st
    assert doc["checklist"]["server_reachable"] == "fail", doc["checklist"]


def test_connect_timeout_port_that_never_accepts():
    """A port whose SYNs go unanswered, as behind a firewall that drops: a
    listener with a full accept queue (backlog 0, one connection already
    queued) makes the kernel drop every further SYN, so connect() times out
    on loopback without any packet filter."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        res = check("127.0.0.1", "--port", str(port), "--from", STRANGER,
                    "--to", EXTERNAL, timeout_opt="2", timeout=60)
    finally:
        filler.close()
        lsock.close()
    doc = as_doc(res)
    assert res.returncode == 1
    st = statuses(doc)
    assert st["dns"] == "pass", st
    tcp = assert_status(doc, "tcp", "fail")
    assert has_any(tcp["detail"].lower() + " | " + top(tcp), "timed out", "timeout"), tcp
    assert "refused" not in tcp["detail"].lower(), tcp
    assert has_any(top(tcp), "firewall", "filter", "blocked", "drop"), tcp
    for name in STEPS[2:]:
        assert st[name] == "skip", st
    assert doc["checklist"]["server_reachable"] == "fail", doc["checklist"]
    assert res.elapsed < 20, res.elapsed


def test_serve_banner_timeout(tmp_path):
    pol = policy_file(tmp_path, """\
faults:
  - {command: connect, action: silence}
""")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = check(serve_target(srv), "--from", STRANGER, "--to", EXTERNAL,
                    timeout_opt="2", timeout=60)
    doc = as_doc(res)
    assert res.returncode == 1
    assert statuses(doc)["tcp"] == "pass", statuses(doc)
    banner = assert_status(doc, "banner", "fail")
    text = top(banner) + " | " + banner["detail"].lower()
    assert has_any(text, "timed out", "timeout", "time out"), banner
    assert has_any(everything(banner), "firewall", "proxy", "delay", "implicit tls",
                   "overloaded"), banner
    for name in ("ehlo", "tls", "auth", "mail", "rcpt", "data"):
        assert statuses(doc)[name] == "skip", statuses(doc)
    # two sessions at most, each bounded by --timeout 2
    assert res.elapsed < 20, res.elapsed


def test_serve_tls_required_not_offered(tmp_path):
    """A plain listener (no STARTTLS) whose policy requires TLS: MAIL gets
    530 5.7.0 Must issue a STARTTLS command first."""
    pol = policy_file(tmp_path, """\
require_tls: true
auth: {offer: false}
""")
    with Serve(["127.0.0.1:0/plain"], policy=pol) as srv:
        res = check(serve_target(srv), "--from", STRANGER, "--to", "v@example.test")
    doc = as_doc(res)
    assert res.returncode == 1
    assert_status(doc, "tls", "warn")            # STARTTLS not offered
    mail = assert_status(doc, "mail", "fail")
    assert "530" in mail["detail"], mail
    assert has_any(top(mail), "tls", "587"), mail
    assert has_any(" | ".join(diag(mail)["fixes"]).lower(), "tls", "587"), mail
    assert statuses(doc)["rcpt"] == "skip", statuses(doc)


def test_serve_no_starttls_warns_without_tls_fails_with_tls():
    with Serve(["127.0.0.1:0/plain,policy=mx"]) as srv:
        plain = check(serve_target(srv))
        forced = check(serve_target(srv), "--tls")
    doc = as_doc(plain)
    assert plain.returncode == 0
    tls = assert_status(doc, "tls", "warn")
    assert has_any(everything(tls), "starttls"), tls
    doc = as_doc(forced)
    assert forced.returncode == 1
    tls = assert_status(doc, "tls", "fail")
    assert has_any(everything(tls), "starttls"), tls
    assert doc["checklist"]["tls_policy"] == "fail", doc["checklist"]
    # advice must be check's own options (--tls-optional is send's, check
    # rejects it as unknown)
    assert "--tls-optional" not in tls["detail"], tls


def test_serve_auth_offered_in_clear(tmp_path):
    pol = policy_file(tmp_path, """\
auth:
  offer: true
  without_tls: true
users:
  - {name: alice, password: alice-password}
""")
    with Serve(["127.0.0.1:0/starttls"], policy=pol) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file)
    doc = as_doc(res)
    # credentials offered in clear fail the TLS policy: exit 1, one ✘
    # in the auth step and the same in the checklist (issue 10: one
    # severity model)
    assert res.returncode == 1
    auth = assert_status(doc, "auth", "fail")
    assert doc["checklist"]["tls_policy"] == "fail"
    text = everything(auth)
    assert has_any(text, "clear", "before tls", "before starttls", "unencrypted",
                   "plaintext", "plain text"), auth


def test_serve_auth_skipped_when_only_after_tls():
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file)
    doc = as_doc(res)
    assert res.returncode == 0
    assert_status(doc, "auth", "skip")
    assert_status(doc, "tls", "pass")
    for name in ("mail", "rcpt", "data"):
        assert_status(doc, name, "skip")


def test_serve_4xx_deferral_at_rcpt(tmp_path):
    pol = policy_file(tmp_path, """\
faults:
  - {command: RCPT, action: reply, code: 454, text: "4.7.1 <x@example.org>: Relay access denied"}
""")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = check(serve_target(srv), "--from", STRANGER, "--to", EXTERNAL)
    doc = as_doc(res)
    rcpt = assert_status(doc, "rcpt", "fail", "warn")
    assert "454" in rcpt["detail"], rcpt
    text = everything(rcpt)
    assert has_any(text, "temporar", "defer", "retry", "relay"), rcpt
    if rcpt["status"] == "fail":
        assert res.returncode == 1, show(res)


def test_serve_421_at_mail(tmp_path):
    pol = policy_file(tmp_path, """\
faults:
  - {command: MAIL, action: reply, code: 421, text: "4.3.2 Service not available, closing transmission channel"}
""")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = check(serve_target(srv), "--from", STRANGER, "--to", "v@example.test")
    doc = as_doc(res)
    assert res.returncode == 1
    mail = assert_status(doc, "mail", "fail")
    assert "421" in mail["detail"], mail
    assert has_any(everything(mail), "overload", "shutting down", "closing",
                   "not available", "not accepting"), mail
    assert statuses(doc)["rcpt"] == "skip", statuses(doc)


def test_serve_relay_test_greylisted_is_inconclusive(tmp_path):
    """A greylisted relay attempt never met the relay rule: the relay step
    warns instead of passing (judged as `smtprobe relay` judges it)."""
    pol = policy_file(tmp_path, """\
faults:
  - {command: RCPT, action: reply, code: 450, text: "4.2.0 Greylisted, come back later"}
""")
    with Serve(["127.0.0.1:0"], policy=pol) as srv:
        res = check(serve_target(srv))
    doc = as_doc(res)
    relay = assert_status(doc, "relay", "warn")
    assert "inconclusive" in relay["detail"], relay
    assert "smtprobe relay" in relay["detail"], relay


def test_serve_submission_healthy():
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                    "--auth", "--auth-user", SERVE_ALICE, "--auth-password", SERVE_ALICE_PW,
                    "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL, "--send")
    doc = as_doc(res)
    assert res.returncode == 0
    st = statuses(doc)
    assert all(v == "pass" for v in st.values()), st
    assert all(v == "pass" for v in doc["checklist"].values()), doc["checklist"]


def test_serve_submission_healthy_checklist():
    """Without --send: DATA is not tried, everything else passes."""
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                    "--auth", "--auth-user", SERVE_ALICE, "--auth-password", SERVE_ALICE_PW,
                    "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL)
    doc = as_doc(res)
    assert res.returncode == 0
    want = {k: "pass" for k in CHECKLIST}
    want["data_accepted"] = "skip"
    assert doc["checklist"] == want, doc["checklist"]
    st = statuses(doc)
    assert st["data"] == "skip", st
    assert all(v == "pass" for k, v in st.items() if k != "data"), st


def test_serve_open_relay():
    with Serve(["127.0.0.1:0/plain,policy=open"]) as srv:
        res = check(serve_target(srv), "--from", STRANGER, "--to", EXTERNAL)
        seen = srv.events()
    doc = as_doc(res)
    assert res.returncode == 1
    relay = assert_status(doc, "relay", "fail")
    assert "open relay" in diag(relay)["summary"].lower(), relay
    assert diag(relay)["fixes"], relay
    assert statuses(doc)["rcpt"] == "pass", statuses(doc)
    assert seen  # the server saw the sessions


def test_serve_no_relay_test():
    with Serve(["127.0.0.1:0/plain,policy=open"]) as srv:
        res = check(serve_target(srv), "--no-relay-test")
    doc = as_doc(res)
    assert_status(doc, "relay", "skip")
    assert doc["checklist"]["no_relay_denial"] in ("pass", "skip"), doc["checklist"]


def test_serve_relay_test_uses_the_invalid_addresses():
    with Serve(["127.0.0.1:0/plain,policy=mx"]) as srv:
        res = check(serve_target(srv))
        refused = srv.events("rcpt-refused")
    doc = as_doc(res)
    assert res.returncode == 0
    assert_status(doc, "relay", "pass")
    probes = [e for e in refused if e.get("to") == "relay-test@relay-test.invalid"]
    assert probes, refused
    assert probes[0].get("from") == "relay-test@smtprobe.invalid", probes
    assert probes[0].get("reason") == "relay denied", probes


# ------------------------------------------------------ TLS certificates
def test_tls_good_certificate_passes(bad_certs):
    g = bad_certs["good"]
    with cert_serve(g) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    assert res.returncode == 0
    assert_status(doc, "tls", "pass")


def test_tls_expired_certificate(bad_certs):
    with cert_serve(bad_certs["expired"]) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    tls = assert_status(doc, "tls", "warn")
    assert "expired" in everything(tls), tls
    assert res.returncode == 0   # check keeps going: a warning


def test_tls_certificate_expiring_soon(bad_certs):
    with cert_serve(bad_certs["expiring"]) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    tls = assert_status(doc, "tls", "warn")
    assert "expire" in everything(tls), tls
    assert res.returncode == 0


def test_tls_hostname_mismatch(bad_certs):
    with cert_serve(bad_certs["wrong"]) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    tls = assert_status(doc, "tls", "warn")
    assert "mismatch" in everything(tls) or "does not match" in everything(tls), tls
    assert res.returncode == 0


def test_tls_chain_missing_intermediate(bad_certs):
    with cert_serve(bad_certs["deep"]) as srv:   # leaf only, no --tls-chain
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    tls = assert_status(doc, "tls", "warn")
    assert has_any(everything(tls), "intermediate", "local issuer", "issuer"), tls
    assert res.returncode == 0


def test_tls_chain_with_intermediate_passes(bad_certs):
    deep = bad_certs["deep"]
    with cert_serve(deep, chain=deep.chain) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    assert_status(doc, "tls", "pass")


def test_tls_verify_makes_a_bad_certificate_fail(bad_certs):
    with cert_serve(bad_certs["expired"]) as srv:
        res = tls_check(srv, bad_certs["ca"], "--tls-verify")
    doc = as_doc(res)
    assert res.returncode == 1
    tls = assert_status(doc, "tls", "fail")
    assert "expired" in everything(tls), tls
    assert doc["checklist"]["tls_policy"] == "fail", doc["checklist"]


def test_tls_self_signed(bad_certs):
    with cert_serve(bad_certs["self"]) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    tls = assert_status(doc, "tls", "warn")
    assert has_any(everything(tls), "self-signed", "self signed"), tls
    assert res.returncode == 0


# ------------------------------------------------------------ text output
def test_text_output_checklist_and_diagnosis(mailservers):
    res = check(pf_target(mailservers, "mx"), "--tls-ca-path", mailservers.ca_file,
                "--from", STRANGER, "--to", EXTERNAL, json_out=False)
    assert res.returncode == 1, show(res)
    out = res.stdout
    assert "✔" in out and "✘" in out and "–" in out, show(res)
    assert "Diagnosis" in out, show(res)
    assert "Relay access denied" in out, show(res)
    # the checklist lines carry the markers
    marked = [ln for ln in out.splitlines() if any(m in ln for m in ("✔", "✘", "–"))]
    assert len(marked) >= 8, show(res)


def test_text_output_healthy_has_no_diagnosis():
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                    "--auth", "--auth-user", SERVE_ALICE, "--auth-password", SERVE_ALICE_PW,
                    "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL, "--send",
                    json_out=False)
    assert res.returncode == 0, show(res)
    assert "✔" in res.stdout and "✘" not in res.stdout, show(res)
    assert "Diagnosis" not in res.stdout, show(res)
    assert SERVE_ALICE_PW not in res.stdout + res.stderr, show(res)


def test_verbose_shows_the_transcript_without_secrets():
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file, "-v",
                    "--auth", "PLAIN", "--auth-user", SERVE_ALICE,
                    "--auth-password", SERVE_ALICE_PW,
                    "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL,
                    json_out=False)
        plain = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                      "--auth", "PLAIN", "--auth-user", SERVE_ALICE,
                      "--auth-password", SERVE_ALICE_PW,
                      "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL,
                      json_out=False)
    assert res.returncode == 0, show(res)
    # the transcript (send's markers: -> in clear, ~> under TLS), then the report
    for line in (" -> EHLO", " -> STARTTLS", " ~> MAIL FROM:<alice@example.test>",
                 " ~> RCPT TO:<x@example.org>"):
        assert line in res.stdout, show(res)
        assert line not in plain.stdout, show(plain)
    assert "Checklist" in res.stdout and "Checklist" in plain.stdout, show(res)
    # AUTH PLAIN carries the password in base64: neither form may show
    b64 = base64.b64encode(f"\0{SERVE_ALICE}\0{SERVE_ALICE_PW}".encode()).decode()
    for r in (res, plain):
        assert SERVE_ALICE_PW not in r.stdout + r.stderr, show(r)
        assert b64 not in r.stdout + r.stderr, show(r)


def test_json_has_no_secrets():
    with Serve(["127.0.0.1:0/starttls,policy=submission"]) as srv:
        res = check(serve_target(srv), "--tls-ca-path", srv.ca_file,
                    "--auth", "PLAIN", "--auth-user", SERVE_ALICE,
                    "--auth-password", SERVE_ALICE_PW,
                    "--from", f"{SERVE_ALICE}@example.test", "--to", EXTERNAL)
    as_doc(res)
    assert SERVE_ALICE_PW not in res.stdout + res.stderr, show(res)


def test_implicit_tls_against_a_starttls_port():
    """--tls-on-connect to a plain/STARTTLS listener: the handshake fails
    (wrong version number); the diagnosis says implicit TLS on a STARTTLS
    port. Every failed step carries a diagnosis (as_doc)."""
    with Serve(["127.0.0.1:0/starttls,policy=mx"]) as srv:
        res = check(serve_target(srv), "--tls-on-connect", timeout_opt="3")
    doc = as_doc(res)
    assert res.returncode == 1
    tls = assert_status(doc, "tls", "fail")
    assert has_any(top(tls), "implicit tls", "starttls", "plain smtp"), tls
    for name in ("banner", "ehlo", "auth", "mail", "rcpt", "data"):
        assert_status(doc, name, "skip")


# ---- one severity model (issue 10): where clients authenticate, a bad
# certificate fails; on a port-25-style MX without AUTH it warns ----------

@pytest.mark.parametrize("cert", ["expired", "wrong", "self"])
def test_tls_bad_certificate_fails_where_clients_authenticate(bad_certs, cert):
    with cert_serve(bad_certs[cert], policy="submission") as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    assert doc["submission"] is True
    assert_status(doc, "tls", "fail")
    assert doc["checklist"]["tls_policy"] == "fail"
    assert res.returncode == 1


def test_tls_bad_certificate_on_an_mx_warns_and_says_why(bad_certs):
    with cert_serve(bad_certs["expired"]) as srv:
        res = tls_check(srv, bad_certs["ca"])
    doc = as_doc(res)
    assert doc["submission"] is False
    tls = assert_status(doc, "tls", "warn")
    assert "RFC 7435" in tls["diagnosis"]["causes"][0], tls
    assert doc["checklist"]["tls_policy"] == "warn"
    assert res.returncode == 0
    assert doc["warnings"] >= 1


def test_strict_makes_warnings_fail(bad_certs):
    with cert_serve(bad_certs["expired"]) as srv:
        res = tls_check(srv, bad_certs["ca"], "--strict")
    doc = as_doc(res)
    assert doc["strict"] is True
    assert_status(doc, "tls", "warn")
    assert res.returncode == 1


def test_no_tls_on_a_submission_port_fails(tmp_path):
    pol = policy_file(tmp_path, """\
auth:
  offer: true
  without_tls: true
users:
  - {name: alice, password: alice-password}
""")
    with Serve(["127.0.0.1:0/plain"], policy=pol) as srv:
        res = check(serve_target(srv))
    doc = as_doc(res)
    assert doc["submission"] is True
    assert_status(doc, "tls", "fail")
    assert_status(doc, "auth", "fail")  # AUTH in clear
    assert res.returncode == 1


# ------------------------------------------------------------ --format nagios
def test_check_format_nagios(tmp_path):
    """The monitoring-plugins conventions: OK, WARNING (certificate days),
    CRITICAL (down), UNKNOWN (usage), perfdata per step."""
    pol = policy_file(tmp_path, "hostname: mx.example.test\nlocal_domains: [example.test]\n"
                                "auth:\n  offer: false\n")
    with Serve(["127.0.0.1:0/starttls"], policy=pol) as srv:
        base = ["check", serve_target(srv), "--tls", "--tls-ca-path", srv.ca_file,
                "--no-relay-test", "--format", "nagios"]
        res = run_smtprobe(base)
        first = res.stdout.splitlines()[0]
        assert res.returncode == 0 and first.startswith("SMTPROBE CHECK OK - "), res.stdout
        perf = first.split(" | ")[1]
        for item in ("time=", "tcp=", "banner=", "ehlo=", "tls=", "cert_days="):
            assert item in perf, perf
        res = run_smtprobe(base + ["--cert-days", "400,7"])
        assert res.returncode == 1 and " WARNING - " in res.stdout.splitlines()[0]
    res = run_smtprobe(["check", "127.0.0.1:1", "--format", "nagios", "--timeout", "2"])
    assert res.returncode == 2 and res.stdout.startswith("SMTPROBE CHECK CRITICAL - ")
    res = run_smtprobe(["check", "127.0.0.1:1", "--format", "nagios", "-c", "x"])
    assert res.returncode == 3
