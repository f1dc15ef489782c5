"""`smtprobe send` end to end against the real Postfix + Dovecot SASL.

Checks the CLI contract of docs/internals/send-contract.md (options, exit
codes, the one-line error, transcript, JSON) on the harness's listeners:
open (open relay), mx (relay denied), submission (STARTTLS required + SASL),
smtps (implicit TLS). Where it matters, what smtprobe says is cross-checked
with what Postfix logged for the session (the command counts of its
"disconnect from" line).
"""
import base64
import os
import re
import time

import pytest

from runner import run_smtprobe

HELO = "client.example.test"
ALICE, ALICE_PW = "alice", "alice-secret-1"
BOB, BOB_PW = "bob", "bob-secret-2"
EXTERNAL = "someone@example.com"
MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]


# ------------------------------------------------------------------ helpers
def send(ms, listener, *args, timeout=30, env=None):
    """Run `smtprobe send` against one of the harness listeners."""
    base = ["send", "--server", ms.host, "--port", ms.ports[listener],
            "--helo", HELO, "--timeout", "10"]
    return run_smtprobe(base + list(args), timeout=timeout, env=env)


def submit_args(ms, mech="PLAIN", user=ALICE, password=ALICE_PW, verify=True):
    """STARTTLS + AUTH as alice, sending from her own address."""
    args = ["--tls", "--auth", mech, "--auth-user", user, "--auth-password", password,
            "--from", f"{user}@example.test", "--to", EXTERNAL]
    if verify:
        args += ["--tls-verify", "--tls-ca-path", ms.ca_file]
    return args


def show(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-4000:]}"
            f"\n--- stderr ---\n{res.stderr[-2000:]}")


def assert_exit(res, code):
    assert res.returncode == code, show(res)


def error_line(res):
    """The single `smtprobe: ...` error line on stderr (after the warning
    a password on the command line earns)."""
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("smtprobe: ")
             and not ln.startswith("smtprobe: warning: --auth-password")]
    assert len(lines) == 1, show(res)
    return lines[0]


def as_json(res):
    try:
        return res.json()
    except ValueError as e:
        pytest.fail(f"--json output is not JSON ({e})\n{show(res)}")


def stage_names(doc):
    return [s["name"] for s in doc["stages"]]


def reply_after_dot(transcript):
    """The first server line after the final dot (" -> ." or " ~> ." in TLS)."""
    lines = transcript.splitlines()
    dots = [i for i, ln in enumerate(lines) if ln.rstrip() in (" -> .", " ~> .")]
    assert dots, f"no final dot in the transcript:\n{transcript}"
    for ln in lines[dots[-1] + 1:]:
        if ln.startswith(("<-  ", "<~  ", "<** ")):
            return ln
    pytest.fail(f"no reply after the final dot:\n{transcript}")


def log_offset(ms):
    return os.path.getsize(ms.postfix_log)


def postfix_session(ms, listener, offset, timeout=10.0):
    """Command counts Postfix logged for the first session on `listener` since
    `offset`, e.g. {"ehlo": "2", "starttls": "1", "auth": "1", ..., "commands": "7"}."""
    tag = f"postfix/{listener}/smtpd["
    deadline = time.monotonic() + timeout
    while True:
        with open(ms.postfix_log, errors="replace") as f:
            f.seek(offset)
            new = f.read()
        for ln in new.splitlines():
            if tag in ln and "disconnect from " in ln:
                tail = ln.split("disconnect from ", 1)[1].split(" ", 1)[1]
                return dict(tok.split("=", 1) for tok in tail.split() if "=" in tok)
        if time.monotonic() > deadline:
            pytest.fail(f"Postfix logged no disconnect on {listener} since offset "
                        f"{offset}:\n{new[-3000:]}")
        time.sleep(0.1)


def secrets_of(user, password):
    """Forms a password can leak in: itself, PLAIN's blob, LOGIN's answer."""
    plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return [password, plain, base64.b64encode(password.encode()).decode()]


def assert_no_secrets(res, user, password):
    for secret in secrets_of(user, password):
        assert secret not in res.stdout, f"{secret!r} leaked on stdout\n{show(res)}"
        assert secret not in res.stderr, f"{secret!r} leaked on stderr\n{show(res)}"


# ------------------------------------------------------- plain delivery
def test_open_relay_delivers(mailservers):
    res = send(mailservers, "open", "--from", "someone@elsewhere.test",
               "--to", EXTERNAL)
    assert_exit(res, 0)
    assert reply_after_dot(res.stdout).startswith("<-  250"), show(res)


def test_mx_delivers_local_recipient(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", "alice@example.test")
    assert_exit(res, 0)
    assert reply_after_dot(res.stdout).startswith("<-  250"), show(res)


def test_mx_relay_denied(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", EXTERNAL)
    assert_exit(res, 24)
    err = error_line(res)
    assert "554" in err, err
    assert "relay access denied" in err.lower(), err


def test_mx_relay_denied_json(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", EXTERNAL, "--json")
    assert_exit(res, 24)
    doc = as_json(res)
    assert doc["exit_code"] == 24
    assert doc["stage"] == "rcpt"
    assert doc["error"] and "554" in doc["error"]
    [rcpt] = doc["recipients"]
    assert rcpt["address"] == EXTERNAL and rcpt["accepted"] is False
    assert rcpt["reply"]["code"] == 554 and rcpt["reply"]["enhanced"] == "5.7.1"
    assert "data" not in stage_names(doc)


def test_mx_one_recipient_refused_of_two(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", f"alice@example.test,{EXTERNAL}", "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    by_addr = {r["address"]: r for r in doc["recipients"]}
    assert set(by_addr) == {"alice@example.test", EXTERNAL}
    assert by_addr["alice@example.test"]["accepted"] is True
    assert by_addr["alice@example.test"]["reply"]["code"] == 250
    assert by_addr[EXTERNAL]["accepted"] is False
    assert by_addr[EXTERNAL]["reply"]["code"] == 554
    assert doc["message"]["reply"]["code"] == 250


def test_repeated_to_options(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", "alice@example.test", "-t", "bob@example.test", "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    assert [r["address"] for r in doc["recipients"]] == \
        ["alice@example.test", "bob@example.test"]
    assert all(r["accepted"] for r in doc["recipients"])


# ------------------------------------------------------- STARTTLS + AUTH
@pytest.mark.parametrize("mech", MECHANISMS)
def test_submission_auth_mechanism(mailservers, mech):
    res = send(mailservers, "submission", *submit_args(mailservers, mech), "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    assert doc["auth"]["mechanism"] == mech
    assert doc["auth"]["ok"] is True
    assert doc["auth"]["reply"]["code"] == 235
    if mech.startswith("SCRAM-"):
        # SCRAM proves the server knows the password too (server-final v=)
        assert doc["auth"]["server_verified"] is True
    assert doc["tls"]["verify"]["ok"] is True
    assert doc["message"]["reply"]["code"] == 250
    assert_no_secrets(res, ALICE, ALICE_PW)


@pytest.mark.parametrize("mech", MECHANISMS)
def test_submission_auth_mechanism_transcript(mailservers, mech):
    res = send(mailservers, "submission", *submit_args(mailservers, mech))
    assert_exit(res, 0)
    assert "<~  235" in res.stdout, show(res)
    assert reply_after_dot(res.stdout).startswith("<~  250"), show(res)
    assert_no_secrets(res, ALICE, ALICE_PW)


def test_auth_without_mechanism_picks_scram_sha_256(mailservers):
    args = ["--tls", "--tls-verify", "--tls-ca-path", mailservers.ca_file,
            "--auth", "--auth-user", ALICE, "--auth-password", ALICE_PW,
            "--from", "alice@example.test", "--to", EXTERNAL, "--json"]
    res = send(mailservers, "submission", *args)
    assert_exit(res, 0)
    doc = as_json(res)
    assert doc["auth"]["mechanism"] == "SCRAM-SHA-256"
    assert doc["auth"]["ok"] is True


def test_smtps_implicit_tls(mailservers):
    res = send(mailservers, "smtps", "--tlsc", "--tls-verify",
               "--tls-ca-path", mailservers.ca_file, "--auth", "PLAIN",
               "--auth-user", BOB, "--auth-password", BOB_PW,
               "--from", "bob@example.test", "--to", EXTERNAL, "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    assert doc["tls"]["protocol"].startswith("TLSv1.")
    assert doc["tls"]["verify"]["ok"] is True
    assert "starttls" not in stage_names(doc)
    assert doc["auth"]["ok"] is True
    assert_no_secrets(res, BOB, BOB_PW)


def test_smtps_implicit_tls_alias(mailservers):
    res = send(mailservers, "smtps", "--tls-on-connect", "--quit-after", "ehlo")
    assert_exit(res, 0)
    assert f" ~> EHLO {HELO}" in res.stdout, show(res)
    assert " -> " not in res.stdout, show(res)  # nothing in clear


def test_smtprobe_password_env(mailservers):
    args = ["--tls", "--tls-verify", "--tls-ca-path", mailservers.ca_file,
            "--auth", "LOGIN", "--auth-user", ALICE,
            "--from", "alice@example.test", "--to", EXTERNAL, "--json"]
    res = send(mailservers, "submission", *args, env={"SMTPROBE_PASSWORD": ALICE_PW})
    assert_exit(res, 0)
    doc = as_json(res)
    assert doc["auth"]["ok"] is True and doc["auth"]["mechanism"] == "LOGIN"
    assert_no_secrets(res, ALICE, ALICE_PW)


def test_seed_swaks_command_line(mailservers):
    """The issue's swaks line, `swaks` replaced by `smtprobe send`; only the
    server, port, user, password and sender changed (Postfix checks that the
    sender belongs to the login)."""
    res = run_smtprobe(["send", "--to", "user@example.com",
                        "--from", "alice@example.test",
                        "--server", mailservers.host,
                        "--port", str(mailservers.ports["submission"]),
                        "--auth", "LOGIN", "--auth-user", ALICE,
                        "--auth-password", ALICE_PW, "--tls"])
    assert_exit(res, 0)
    assert reply_after_dot(res.stdout).startswith("<~  250"), show(res)


# ------------------------------------------------------- failures
def test_wrong_password(mailservers):
    res = send(mailservers, "submission",
               *submit_args(mailservers, "PLAIN", password="not-the-password"))
    assert_exit(res, 28)
    assert "535" in error_line(res)


def test_wrong_password_json(mailservers):
    res = send(mailservers, "submission",
               *submit_args(mailservers, "SCRAM-SHA-256", password="not-the-password"),
               "--json")
    assert_exit(res, 28)
    doc = as_json(res)
    assert doc["exit_code"] == 28 and doc["stage"] == "auth"
    assert doc["auth"]["ok"] is False
    assert doc["auth"]["reply"]["code"] == 535
    assert "mail" not in stage_names(doc)


def test_tls_required_but_not_used(mailservers):
    off = log_offset(mailservers)
    res = send(mailservers, "submission", "--from", "alice@example.test",
               "--to", EXTERNAL)
    assert_exit(res, 23)
    assert "530" in error_line(res)
    counts = postfix_session(mailservers, "submission", off)
    assert counts.get("mail") == "0/1", counts


def test_auth_in_clear_refused_by_smtprobe(mailservers):
    res = send(mailservers, "submission", "--auth", "PLAIN", "--auth-user", ALICE,
               "--auth-password", ALICE_PW, "--from", "alice@example.test",
               "--to", EXTERNAL)
    assert_exit(res, 28)
    err = error_line(res)
    assert "--tls" in err and "--auth-plaintext" in err, err
    assert_no_secrets(res, ALICE, ALICE_PW)
    assert " -> AUTH" not in res.stdout, show(res)


def test_auth_plaintext_server_refuses(mailservers):
    # smtpd_tls_auth_only: Postfix does not advertise AUTH before STARTTLS
    res = send(mailservers, "submission", "--auth", "PLAIN", "--auth-user", ALICE,
               "--auth-password", ALICE_PW, "--auth-plaintext",
               "--from", "alice@example.test", "--to", EXTERNAL, "--json")
    assert_exit(res, 28)
    doc = as_json(res)
    assert doc["exit_code"] == 28
    ehlo = doc["ehlo"] or {}
    assert not [c for c in ehlo.get("capabilities", []) if c.upper().startswith("AUTH")]
    assert not ehlo.get("auth_mechanisms")
    assert_no_secrets(res, ALICE, ALICE_PW)


def test_tls_required_not_offered(mailservers):
    res = send(mailservers, "open", "--tls", "--to", "alice@example.test")
    assert_exit(res, 29)
    assert "starttls" in error_line(res).lower()


def test_tls_verify_untrusted(mailservers):
    res = send(mailservers, "submission", "--tls", "--tls-verify",
               "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
               "--from", "alice@example.test", "--to", EXTERNAL)
    assert_exit(res, 29)
    err = error_line(res)
    assert "certificate" in err, err
    assert "self-signed" in err or "unable to get local issuer" in err, err
    assert_no_secrets(res, ALICE, ALICE_PW)


def test_tls_without_verify_reports_untrusted(mailservers):
    res = send(mailservers, "submission", *submit_args(mailservers, verify=False),
               "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    verify = doc["tls"]["verify"]
    assert verify["ok"] is False
    assert verify["code"] != 0
    assert "certificate" in verify["reason"] or "issuer" in verify["reason"]
    assert doc["auth"]["ok"] is True


# ------------------------------------------------------- JSON document
def test_json_document(mailservers):
    res = send(mailservers, "submission", *submit_args(mailservers, "PLAIN"), "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    for key in ("exit_code", "stage", "error", "server", "stages", "ehlo", "tls",
                "auth", "recipients", "message", "total_ms"):
        assert key in doc, f"missing {key}: {sorted(doc)}"
    assert doc["exit_code"] == 0
    assert doc["error"] is None
    assert doc["stage"] == "quit"
    assert doc["server"]["port"] == mailservers.ports["submission"]
    assert doc["server"]["address"] == "127.0.0.1"
    names = stage_names(doc)
    for name in ("banner", "ehlo", "starttls", "tls", "auth", "mail", "rcpt",
                 "data", "dot", "quit"):
        assert name in names, names
    assert names.count("ehlo") == 2, names
    assert names.index("starttls") < names.index("tls") < names.index("auth") \
        < names.index("mail") < names.index("rcpt") < names.index("data") \
        < names.index("dot") < names.index("quit")
    assert all(s["ok"] for s in doc["stages"]), doc["stages"]
    banner = doc["stages"][names.index("banner")]
    assert banner["reply"]["code"] == 220
    assert "PLAIN" in doc["ehlo"]["auth_mechanisms"]

    tls = doc["tls"]
    assert tls["protocol"].startswith("TLSv1.")
    assert tls["cipher"]
    assert tls["verify"]["ok"] is True
    assert tls["host_match"] is True
    leaf = tls["chain"][0]
    assert "localhost" in leaf["subject"]
    assert "smtprobe Test CA" in leaf["issuer"]
    assert "mx.example.test" in " ".join(leaf["sans"])
    assert leaf["days_left"] > 0
    assert leaf["self_signed"] is False

    assert doc["auth"]["mechanism"] == "PLAIN" and doc["auth"]["ok"] is True
    [rcpt] = doc["recipients"]
    assert rcpt["address"] == EXTERNAL and rcpt["accepted"] is True
    assert rcpt["reply"]["code"] == 250 and rcpt["reply"]["enhanced"] == "2.1.5"
    assert doc["message"]["reply"]["code"] == 250
    assert doc["message"]["size"] > 0


# ------------------------------------------------------- secrets
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_secrets_redacted(mailservers, mech):
    res = send(mailservers, "submission", *submit_args(mailservers, mech))
    assert_exit(res, 0)
    assert_no_secrets(res, ALICE, ALICE_PW)
    assert "<redacted>" in res.stdout, show(res)


def test_secrets_redacted_json(mailservers):
    res = send(mailservers, "submission", *submit_args(mailservers, "PLAIN"), "--json")
    assert_exit(res, 0)
    assert_no_secrets(res, ALICE, ALICE_PW)


def test_secrets_redacted_on_failure(mailservers):
    res = send(mailservers, "submission",
               *submit_args(mailservers, "PLAIN", password="wrong-" + ALICE_PW))
    assert_exit(res, 28)
    assert_no_secrets(res, ALICE, "wrong-" + ALICE_PW)


def test_show_secrets(mailservers):
    res = send(mailservers, "submission", *submit_args(mailservers, "PLAIN"),
               "--show-secrets")
    assert_exit(res, 0)
    plain_blob = secrets_of(ALICE, ALICE_PW)[1]
    assert plain_blob in res.stdout, show(res)


def test_show_secrets_login(mailservers):
    res = send(mailservers, "submission", *submit_args(mailservers, "LOGIN"),
               "--show-secrets")
    assert_exit(res, 0)
    assert base64.b64encode(ALICE_PW.encode()).decode() in res.stdout, show(res)


# ------------------------------------------------------- --quit-after
# Per stage: the commands Postfix must not have seen (its disconnect-line
# counters; also forbidden as JSON stage names), and those it must have seen.
# "ehlo" leaves open whether it means the first EHLO or the one after TLS.
QUIT_AFTER = {
    "connect": ({"ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data"}, set()),
    "banner": ({"ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data"}, set()),
    "ehlo": ({"auth", "mail", "rcpt", "data"}, {"ehlo"}),
    "tls": ({"auth", "mail", "rcpt", "data"}, {"starttls"}),
    "auth": ({"mail", "rcpt", "data"}, {"auth"}),
    "mail": ({"rcpt", "data"}, {"mail"}),
    "rcpt": ({"data"}, {"rcpt"}),
    "data": (set(), {"data"}),
    "dot": (set(), {"data"}),
}


@pytest.mark.parametrize("stage", list(QUIT_AFTER))
def test_quit_after(mailservers, stage):
    off = log_offset(mailservers)
    res = send(mailservers, "submission", *submit_args(mailservers, "PLAIN"),
               "--quit-after", stage, "--json")
    assert_exit(res, 0)
    doc = as_json(res)
    assert doc["exit_code"] == 0
    assert doc["stage"] == stage, (doc["stage"], stage_names(doc))
    forbidden, required = QUIT_AFTER[stage]
    names = [n for n in stage_names(doc) if n != "quit"]
    assert names and names[-1] == stage, names
    assert not (forbidden | ({"dot"} if stage != "dot" else set())) & set(names), names
    counts = postfix_session(mailservers, "submission", off)
    assert not forbidden & set(counts), (stage, counts)
    assert required <= set(counts), (stage, counts)
    if stage == "dot":
        assert counts["data"] == "1", counts
        assert doc["message"]["reply"]["code"] == 250


def test_quit_after_aliases(mailservers):
    for alias, stage in (("from", "mail"), ("to", "rcpt")):
        res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
                   "--to", "alice@example.test", "--quit-after", alias, "--json")
        assert_exit(res, 0)
        assert as_json(res)["stage"] == stage


def test_quit_after_transcript_mx(mailservers):
    res = send(mailservers, "mx", "--from", "someone@elsewhere.test",
               "--to", "alice@example.test", "--quit-after", "rcpt")
    assert_exit(res, 0)
    assert " -> RCPT TO:<alice@example.test>" in res.stdout, show(res)
    assert " -> DATA" not in res.stdout, show(res)
    assert re.search(r"^ -> QUIT", res.stdout, re.M), show(res)
