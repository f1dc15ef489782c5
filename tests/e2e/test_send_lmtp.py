"""`smtprobe send --protocol LMTP` end to end against Dovecot's LMTP server.

LMTP answers the final dot once per accepted recipient; the JSON document
carries that answer as each recipient's "delivery" reply. The messages must
really land in the users' Maildirs (the harness's Dovecot delivers to
workdir/mail/USER/Maildir), and an unknown user is refused at RCPT.
"""
import time
import uuid

import pytest

from runner import run_smtprobe

HELO = "client.example.test"


def lmtp(ms, *args):
    base = ["send", "--protocol", "LMTP", "--server", ms.host,
            "--port", ms.ports["lmtp"], "--helo", HELO, "--timeout", "10",
            "--from", "someone@elsewhere.test"]
    return run_smtprobe(base + list(args))


def show(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-4000:]}"
            f"\n--- stderr ---\n{res.stderr[-2000:]}")


def as_json(res):
    try:
        return res.json()
    except ValueError as e:
        pytest.fail(f"--json output is not JSON ({e})\n{show(res)}")


def unique_subject():
    return f"smtprobe lmtp test {uuid.uuid4().hex}"


def delivered_with(ms, user, marker, timeout=10.0):
    """Maildir files of `user` that contain `marker` (waits a little)."""
    deadline = time.monotonic() + timeout
    while True:
        hits = []
        for path in ms.delivered(user):
            with open(path, errors="replace") as f:
                if marker in f.read():
                    hits.append(path)
        if hits or time.monotonic() > deadline:
            return hits
        time.sleep(0.1)


def test_lmtp_two_recipients(mailservers):
    subject = unique_subject()
    res = lmtp(mailservers, "--to", "alice@example.test,bob@example.test",
               "--header", f"Subject: {subject}", "--json")
    assert res.returncode == 0, show(res)
    doc = as_json(res)
    assert doc["exit_code"] == 0
    assert "lhlo" in [s["name"] for s in doc["stages"]]
    assert [r["address"] for r in doc["recipients"]] == \
        ["alice@example.test", "bob@example.test"]
    for rcpt in doc["recipients"]:
        assert rcpt["accepted"] is True
        assert rcpt["reply"]["code"] == 250
        assert rcpt["delivery"]["code"] == 250, rcpt
        assert rcpt["delivery"]["enhanced"].startswith("2.")
    for user in ("alice", "bob"):
        assert len(delivered_with(mailservers, user, subject)) == 1, \
            f"not exactly one message in {mailservers.maildir(user)}"


def test_lmtp_transcript(mailservers):
    subject = unique_subject()
    res = lmtp(mailservers, "--to", "alice@example.test",
               "--header", f"Subject: {subject}")
    assert res.returncode == 0, show(res)
    assert " -> LHLO " + HELO in res.stdout, show(res)
    assert "EHLO" not in res.stdout, show(res)
    assert delivered_with(mailservers, "alice", subject)


def test_lmtp_unknown_user_refused(mailservers):
    res = lmtp(mailservers, "--to", "nobody@example.test", "--json")
    assert res.returncode == 24, show(res)
    doc = as_json(res)
    [rcpt] = doc["recipients"]
    assert rcpt["accepted"] is False
    assert rcpt["reply"]["code"] == 550
    assert rcpt["reply"]["enhanced"] == "5.1.1"
    assert "delivery" not in rcpt or rcpt["delivery"] is None
    assert "data" not in [s["name"] for s in doc["stages"]]


def test_lmtp_unknown_user_among_known(mailservers):
    subject = unique_subject()
    res = lmtp(mailservers, "--to", "nobody@example.test,bob@example.test",
               "--header", f"Subject: {subject}", "--json")
    assert res.returncode == 0, show(res)
    by_addr = {r["address"]: r for r in as_json(res)["recipients"]}
    assert by_addr["nobody@example.test"]["accepted"] is False
    assert by_addr["nobody@example.test"]["reply"]["code"] == 550
    assert by_addr["bob@example.test"]["accepted"] is True
    assert by_addr["bob@example.test"]["delivery"]["code"] == 250
    assert len(delivered_with(mailservers, "bob", subject)) == 1
