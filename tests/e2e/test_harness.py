"""The harness's mail servers, checked with swaks (an independent client).

These prove that Postfix + Dovecot behave as the smtprobe tests expect before
smtprobe itself is involved: delivery on `open` and `mx`, relay refused on
`mx`, STARTTLS + AUTH on `submission`, implicit TLS on `smtps`, 530 without
TLS, LMTP delivery into Maildirs, and the certificate the servers present.
"""
import os
import shutil
import ssl
import socket
import subprocess
import time

import pytest

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


def swaks(ms, listener, *args, timeout=30):
    """Run swaks against a listener; returns CompletedProcess (text)."""
    if not os.access(SWAKS, os.X_OK):
        pytest.fail("swaks is not installed (apt-get install swaks)")
    cmd = [SWAKS, "--server", ms.host, "--port", str(ms.ports[listener]),
           "--timeout", "10", "--helo", "client.example.test"] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    proc.output = proc.stdout + proc.stderr
    return proc


def assert_exit(proc, code):
    assert proc.returncode == code, (
        f"swaks exited {proc.returncode}, expected {code}\n{proc.output}")


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_open_relays_anything(mailservers):
    p = swaks(mailservers, "open", "--from", "someone@elsewhere.test",
              "--to", "victim@example.com")
    assert_exit(p, 0)
    assert "<-  250 2.0.0 Ok: queued" in p.output


def test_open_no_starttls(mailservers):
    p = swaks(mailservers, "open", "--quit-after", "EHLO")
    assert_exit(p, 0)
    assert "STARTTLS" not in p.output
    p = swaks(mailservers, "open", "--to", "alice@example.test", "--tls")
    assert_exit(p, 29)


def test_mx_accepts_local_recipient(mailservers):
    p = swaks(mailservers, "mx", "--from", "someone@elsewhere.test",
              "--to", "alice@example.test")
    assert_exit(p, 0)
    assert "250-STARTTLS" in p.output


def test_mx_denies_relay(mailservers):
    p = swaks(mailservers, "mx", "--from", "someone@elsewhere.test",
              "--to", "victim@example.com")
    assert_exit(p, 24)
    assert "554 5.7.1" in p.output and "Relay access denied" in p.output


def test_mx_starttls_optional(mailservers):
    p = swaks(mailservers, "mx", "--to", "bob@example.test", "--tls")
    assert_exit(p, 0)
    assert "TLS started" in p.output


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_submission_starttls_auth(mailservers, mech):
    p = swaks(mailservers, "submission", "--tls", "--auth", mech,
              "--auth-user", "alice", "--auth-password", "alice-secret-1",
              "--from", "alice@example.test", "--to", "someone@example.com")
    assert_exit(p, 0)
    assert "235 2.7.0 Authentication successful" in p.output


def test_submission_advertises_mechanisms_after_tls(mailservers):
    p = swaks(mailservers, "submission", "--tls", "--quit-after", "EHLO")
    assert_exit(p, 0)
    after_tls = p.output.split("TLS started", 1)[1]
    auth_line = [ln for ln in after_tls.splitlines() if "250-AUTH " in ln
                 or "250 AUTH " in ln][0]
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"):
        assert mech in auth_line.split()


def test_submission_wrong_password(mailservers):
    p = swaks(mailservers, "submission", "--tls", "--auth", "PLAIN",
              "--auth-user", "alice", "--auth-password", "wrong",
              "--from", "alice@example.test", "--to", "someone@example.com")
    assert_exit(p, 28)
    assert "535 5.7.8" in p.output


def test_submission_sender_login_mismatch(mailservers):
    p = swaks(mailservers, "submission", "--tls", "--auth", "PLAIN",
              "--auth-user", "alice", "--auth-password", "alice-secret-1",
              "--from", "bob@example.test", "--to", "someone@example.com")
    assert p.returncode in (23, 24), p.output
    assert "553 5.7.1" in p.output and "not owned by user alice" in p.output


def test_submission_requires_tls(mailservers):
    p = swaks(mailservers, "submission", "--from", "alice@example.test",
              "--to", "someone@example.com")
    assert_exit(p, 23)
    assert "530 5.7.0 Must issue a STARTTLS command first" in p.output


def test_submission_no_auth_in_clear(mailservers):
    # auth_only: AUTH is not even advertised before STARTTLS
    p = swaks(mailservers, "submission", "--quit-after", "EHLO")
    assert_exit(p, 0)
    assert "AUTH" not in p.output
    assert "STARTTLS" in p.output


def test_submission_relay_without_auth_refused(mailservers):
    p = swaks(mailservers, "submission", "--tls", "--from", "someone@elsewhere.test",
              "--to", "someone@example.com")
    assert_exit(p, 24)
    assert "554 5.7.1" in p.output


def test_smtps_implicit_tls(mailservers):
    p = swaks(mailservers, "smtps", "--tlsc", "--auth", "LOGIN",
              "--auth-user", "bob", "--auth-password", "bob-secret-2",
              "--from", "bob@example.test", "--to", "someone@example.com")
    assert_exit(p, 0)
    assert "235 2.7.0" in p.output


def test_certificate_is_from_test_ca(mailservers):
    ctx = ssl.create_default_context(cafile=mailservers.ca_file)
    with socket.create_connection((mailservers.host, mailservers.ports["smtps"]),
                                  timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            cert = t.getpeercert()
            assert t.version().startswith("TLSv1.")
    sans = {v for _, v in cert["subjectAltName"]}
    assert {"localhost", "mx.example.test", "127.0.0.1"} <= sans


def test_lmtp_delivers_to_maildirs(mailservers):
    before = {u: len(mailservers.delivered(u)) for u in ("alice", "bob")}
    p = swaks(mailservers, "lmtp", "--protocol", "LMTP",
              "--from", "someone@elsewhere.test",
              "--to", "alice@example.test,bob@example.test",
              "--header", "Subject: harness lmtp check")
    assert_exit(p, 0)
    for user in ("alice", "bob"):
        assert wait_for(lambda u=user: len(mailservers.delivered(u)) > before[u]), \
            f"nothing delivered to {mailservers.maildir(user)}\n{p.output}"
        newest = mailservers.delivered(user)[-1]
        with open(newest, errors="replace") as f:
            assert "harness lmtp check" in f.read()


def test_lmtp_unknown_user_refused(mailservers):
    p = swaks(mailservers, "lmtp", "--protocol", "LMTP",
              "--to", "nobody@example.test")
    assert_exit(p, 24)
    assert "550 5.1.1" in p.output


def test_postfix_log_readable(mailservers):
    swaks(mailservers, "open", "--to", "alice@example.test", "--quit-after", "RCPT")
    assert "postfix/open/smtpd" in mailservers.read_postfix_log()


def scram_auth(conn, mech, user, password):
    """A minimal RFC 5802 SCRAM client over smtplib (swaks has no SCRAM)."""
    import base64
    import hashlib
    import hmac
    import secrets
    hname = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mech]
    nonce = secrets.token_hex(12)
    first_bare = f"n={user},r={nonce}"
    code, resp = conn.docmd("AUTH", f"{mech} " + base64.b64encode(
        ("n,," + first_bare).encode()).decode())
    assert code == 334, (code, resp)
    server_first = base64.b64decode(resp).decode()
    fields = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert fields["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    final_bare = f"c=biws,r={fields['r']}"
    auth_msg = f"{first_bare},{server_first},{final_bare}".encode()
    sig = hmac.new(stored_key, auth_msg, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    code, resp = conn.docmd(base64.b64encode(
        f"{final_bare},p={base64.b64encode(proof).decode()}".encode()).decode())
    if code == 334:  # server-final (v=...) sent as a challenge; acknowledge it
        code, resp = conn.docmd("")
    return code, resp


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_submission_scram(mailservers, mech):
    import smtplib
    ctx = ssl.create_default_context(cafile=mailservers.ca_file)
    with smtplib.SMTP(mailservers.host, mailservers.ports["submission"],
                      local_hostname="client.example.test", timeout=10) as conn:
        conn.starttls(context=ctx)
        conn.ehlo("client.example.test")
        assert mech in conn.esmtp_features["auth"].split()
        code, resp = scram_auth(conn, mech, "alice", "alice-secret-1")
        assert code == 235, resp


# ---------------------------------------------------------------- relay lab
# One check per relay-lab listener (see mailservers.py). smtplib gives the
# reply to each command; every dialogue stops before DATA (RSET + QUIT),
# except data_reject's, whose point is the DATA refusal.

EXTERNAL = "relay-test@relay-test.invalid"


def relay_session(ms, listener, helo="client.example.test", tls=False, auth=None):
    """An smtplib.SMTP after EHLO (and STARTTLS + EHLO, AUTH if asked)."""
    import smtplib
    conn = smtplib.SMTP(ms.host, ms.ports[listener], local_hostname=helo, timeout=10)
    code, resp = conn.ehlo(helo)
    assert code == 250, (code, resp)
    if tls:
        conn.starttls(context=ssl.create_default_context(cafile=ms.ca_file))
        code, resp = conn.ehlo(helo)
        assert code == 250, (code, resp)
    if auth:
        code, resp = conn.login(*auth)
        assert code == 235, (code, resp)
    return conn


def relay_try(ms, listener, sender, rcpts, **kw):
    """MAIL FROM:<sender>, RCPT TO each of rcpts, then RSET and QUIT.
    Returns [(code, text)] for MAIL and each RCPT."""
    conn = relay_session(ms, listener, **kw)
    try:
        replies = [conn.docmd("MAIL", f"FROM:<{sender}>")]
        for rcpt in rcpts:
            replies.append(conn.docmd("RCPT", f"TO:<{rcpt}>"))
        conn.docmd("RSET")
    finally:
        conn.quit()
    return [(code, text.decode(errors="replace")) for code, text in replies]


def test_defer_relay_denied_temporarily(mailservers):
    mail, ext, local = relay_try(mailservers, "defer", "someone@elsewhere.test",
                                 [EXTERNAL, "postmaster@example.test"])
    assert mail[0] == 250, mail
    assert ext[0] == 454 and "4.7.1" in ext[1] and "Relay access denied" in ext[1], ext
    assert local[0] == 250, local
    conn = relay_session(mailservers, "defer")
    try:
        assert conn.has_extn("starttls")
    finally:
        conn.quit()


def test_sub_nocheck_lets_alice_send_as_bob(mailservers):
    mail, rcpt = relay_try(mailservers, "sub_nocheck", "bob@example.test", [EXTERNAL],
                           tls=True, auth=("alice", "alice-secret-1"))
    assert mail[0] == 250 and rcpt[0] == 250, (mail, rcpt)
    # the same on `submission`: the sender/login check refuses it (at RCPT,
    # smtpd_delay_reject)
    mail, rcpt = relay_try(mailservers, "submission", "bob@example.test", [EXTERNAL],
                           tls=True, auth=("alice", "alice-secret-1"))
    assert mail[0] == 250, mail
    assert rcpt[0] == 553 and "not owned by user alice" in rcpt[1], rcpt


def test_sub_nocheck_still_requires_tls_and_auth(mailservers):
    mail, rcpt = relay_try(mailservers, "sub_nocheck", "bob@example.test", [EXTERNAL])
    assert mail[0] == 530, mail
    mail, rcpt = relay_try(mailservers, "sub_nocheck", "bob@example.test", [EXTERNAL],
                           tls=True)
    assert rcpt[0] == 554, rcpt


def test_data_reject_accepts_rcpt_refuses_data(mailservers):
    conn = relay_session(mailservers, "data_reject")
    try:
        assert not conn.has_extn("starttls")
        assert conn.docmd("MAIL", "FROM:<someone@elsewhere.test>")[0] == 250
        code, text = conn.docmd("RCPT", f"TO:<{EXTERNAL}>")
        assert code == 250, (code, text)
        code, text = conn.docmd("DATA")
        assert 500 <= code < 600, (code, text)
        assert b"Data command rejected" in text, text
    finally:
        conn.quit()


def test_sender_ok_relays_for_our_sender_domain(mailservers):
    mail, rcpt = relay_try(mailservers, "sender_ok", "x@example.test", [EXTERNAL])
    assert mail[0] == 250 and rcpt[0] == 250, (mail, rcpt)
    mail, rcpt, local = relay_try(mailservers, "sender_ok", "x@relay-test.invalid",
                                  [EXTERNAL, "postmaster@example.test"])
    assert rcpt[0] == 554 and "Relay access denied" in rcpt[1], rcpt
    assert local[0] == 250, local


def test_helo_ok_relays_for_helo_localhost(mailservers):
    for helo in ("localhost", "localhost.localdomain"):
        mail, rcpt = relay_try(mailservers, "helo_ok", "x@relay-test.invalid",
                               [EXTERNAL], helo=helo)
        assert mail[0] == 250 and rcpt[0] == 250, (helo, mail, rcpt)
    mail, rcpt = relay_try(mailservers, "helo_ok", "x@relay-test.invalid",
                           [EXTERNAL], helo="other.invalid")
    assert rcpt[0] == 554 and "Relay access denied" in rcpt[1], rcpt


def test_null_ok_relays_for_null_sender(mailservers):
    mail, rcpt = relay_try(mailservers, "null_ok", "", [EXTERNAL])
    assert mail[0] == 250 and rcpt[0] == 250, (mail, rcpt)
    mail, rcpt = relay_try(mailservers, "null_ok", "x@relay-test.invalid", [EXTERNAL])
    assert rcpt[0] == 554 and "Relay access denied" in rcpt[1], rcpt
    # the hole is the table: `mx` refuses the null sender's relaying
    mail, rcpt = relay_try(mailservers, "mx", "", [EXTERNAL])
    assert rcpt[0] == 554, rcpt


def test_relay_lab_config_clean(mailservers):
    """Postfix took every relay-lab restriction: no fatal error anywhere, and
    no warning from the lab listeners' smtpd (e.g. "unknown ... restriction")
    or from the master (e.g. an smtpd that exited). Other tests cause SASL
    warnings on purpose, on other listeners."""
    lab = ("defer", "sub_nocheck", "data_reject", "sender_ok", "helo_ok", "null_ok")
    for listener in lab:
        relay_try(mailservers, listener, "x@example.test", [])
    sources = tuple(f"postfix/{name}/" for name in lab) + ("postfix/master[",)
    bad = [ln for ln in mailservers.read_postfix_log().splitlines()
           if "fatal:" in ln or ("warning:" in ln and any(s in ln for s in sources))]
    assert not bad, "\n".join(bad)
