"""`smtprobe serve` with a real MTA as its client: Exim 4.96 (Debian's,
from the private root of tests/harness/mtas.py), delivering one message at
a time (tests/harness/mta_clients.py).

- CHUNKING: Exim sends BDAT whenever it is offered; the message reaches
  the store byte for byte as Exim sent it, and Exim logs it delivered.
- LMTP: Exim's LMTP transport to a /lmtp listener gets one reply per
  recipient after the message; a refused recipient fails in Exim alone.
- SMTPUTF8 and DSN: a message submitted to Exim with SMTPUTF8 and DSN
  parameters is passed on with them, and serve keeps them in the envelope.
- With and without PIPELINING (Exim pipelines MAIL, RCPT and BDAT). Exim
  half-closes the connection after QUIT (shutdown(SHUT_WR)) before it has
  read the reply to its last chunk: every reply must still go out (found
  here: serve used to drop the session at the EOF, and Exim deferred).
"""
import os
import re

import pytest

import peers
from mta_clients import EximClient
from serve import Serve
from store_reader import read_store, store_args

POLICY = """\
hostname: mx.example.test
local_domains: [example.test]
max_message_size: 1M
auth:
  offer: false
"""

MESSAGE = (b"From: a@example.net\r\nTo: b@example.test\r\nSubject: chunks\r\n\r\n"
           b"first line\r\n.a line that starts with a dot\r\n" + (b"x" * 900 + b"\r\n") * 8 + b"last\r\n")


@pytest.fixture(scope="module")
def exim_available():
    why = peers.problem("exim")
    if why:
        pytest.fail(f"Exim is needed as a client: {why}")
    if os.geteuid() != 0:
        pytest.skip("Exim as a client runs as root (exim -M with -C)")


@pytest.fixture
def serve(tmp_path, exim_available):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    spool = str(tmp_path / "spool")
    with Serve(["127.0.0.1:0", "127.0.0.1:0/lmtp"], policy=str(policy),
               extra=store_args("spool", spool), workdir=str(tmp_path)) as srv:
        srv.spool = spool
        yield srv


def client(serve, workdir, name, listener=0, **kw):
    return EximClient(os.path.join(workdir, name), serve.port(listener), **kw).start()


def outcome(marks, rcpt):
    """'delivered' ('=>', or '->' for a further recipient of the same
    delivery), 'failed' ('**') or 'deferred' ('==')."""
    mark = marks[rcpt][0]
    return {"=>": "delivered", "->": "delivered", "**": "failed", "==": "deferred"}[mark]


def stored(srv):
    return read_store("spool", srv.spool)


def sent_commands(run):
    """Exim's commands as sent ('SMTP>>', pipelined 'SMTP|>', '+>')."""
    return [m.group(2) for m in (re.match(r"(SMTP|LMTP)(?:>>|\|>|\+>) (.*)", ln)
                                 for ln in run.transcript) if m]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "no-pipelining"])
def test_exim_sends_bdat_and_the_message_is_stored_as_sent(serve, mta_workdir, pipelining):
    ex = client(serve, mta_workdir, f"bdat-{pipelining}", pipelining=pipelining)
    mid, run = ex.send(MESSAGE, "a@example.net", ["b@example.test", "c@example.test"],
                       verbose=True)
    assert run.returncode == 0, run.output
    cmds = sent_commands(run)
    assert any(c.startswith("BDAT ") and c.endswith("LAST") for c in cmds), run.transcript
    assert "DATA" not in cmds, run.transcript
    marks = ex.deliveries(mid)
    assert {r: outcome(marks, r) for r in marks} == {"b@example.test": "delivered",
                                                     "c@example.test": "delivered"}, marks
    got = stored(serve)
    [env] = got.envelopes.values()
    assert env["mail_from"] == "a@example.net"
    assert env["rcpt"] == ["b@example.test", "c@example.test"]
    body = got.messages[env["id"]]
    # Exim adds its Received: (and Message-Id/Date) headers; the rest is
    # byte for byte, the dot line not stuffed (BDAT has no dot rules)
    assert body.endswith(MESSAGE.split(b"\r\n\r\n", 1)[1]), body[:400]
    assert b".a line that starts with a dot\r\n" in body
    assert b"\r\n..a line" not in body
    assert body.startswith(b"Received: from "), body[:200]
    assert ex.queue() == []


def test_exim_refused_recipient_over_bdat(serve, mta_workdir):
    ex = client(serve, mta_workdir, "bdat-refused")
    # other.example is not local and Exim's 127.0.0.1 is not allowed to relay
    mid, run = ex.send(MESSAGE, "a@example.net", ["b@example.test", "x@other.example"],
                       verbose=True)
    marks = ex.deliveries(mid)
    assert outcome(marks, "b@example.test") == "delivered", marks
    assert outcome(marks, "x@other.example") == "failed", marks
    assert "554 5.7.1" in marks["x@other.example"][1], marks
    [env] = stored(serve).envelopes.values()
    assert env["rcpt"] == ["b@example.test"]


def test_exim_lmtp_gets_a_reply_per_recipient(serve, mta_workdir):
    ex = client(serve, mta_workdir, "lmtp", listener=1, protocol="lmtp")
    mid, run = ex.send(MESSAGE, "a@example.net",
                       ["b@example.test", "c@example.test", "x@other.example"], verbose=True)
    cmds = sent_commands(run)
    assert cmds[0].startswith("LHLO "), run.transcript
    marks = ex.deliveries(mid)
    assert outcome(marks, "b@example.test") == "delivered", marks
    assert outcome(marks, "c@example.test") == "delivered", marks
    assert outcome(marks, "x@other.example") == "failed", marks
    # after the dot: one 250 per accepted recipient, as Exim read them
    replies_after = [ln for ln in run.transcript if re.match(r"(SMTP|LMTP)<< 250 2\.0\.0", ln)]
    assert len(replies_after) == 2, run.transcript
    got = stored(serve)
    [env] = got.envelopes.values()
    assert env["rcpt"] == ["b@example.test", "c@example.test"]
    assert got.messages[env["id"]].endswith(MESSAGE.split(b"\r\n\r\n", 1)[1])


def test_exim_passes_smtputf8_and_dsn_on(serve, mta_workdir):
    ex = client(serve, mta_workdir, "utf8-dsn")
    sender, rcpt = "jörg@bücher.example", "ünïcode@example.test"
    message = "From: jörg@bücher.example\r\nSubject: grüße\r\n\r\nhallo\r\n".encode()
    mid, replies = ex.submit_smtp(sender, [rcpt], message,
                                  mail_params="SMTPUTF8 RET=HDRS ENVID=env-42",
                                  rcpt_params={rcpt: "NOTIFY=SUCCESS,FAILURE "
                                                     "ORCPT=rfc822;b@example.test"})
    run = ex.deliver(mid, verbose=True)
    assert run.returncode == 0, run.output
    cmds = sent_commands(run)
    mail = next(c for c in cmds if c.startswith("MAIL FROM:"))
    assert "SMTPUTF8" in mail and "RET=HDRS" in mail and "ENVID=env-42" in mail, cmds
    assert outcome(ex.deliveries(mid), rcpt) == "delivered", ex.log_lines(mid)
    [env] = stored(serve).envelopes.values()
    assert env["smtputf8"] is True
    assert env["mail_from"] == sender and env["rcpt"] == [rcpt]
    assert env["dsn"]["ret"] == "HDRS" and env["dsn"]["envid"] == "env-42"
    assert env["dsn"]["notify"] == ["SUCCESS,FAILURE"], env["dsn"]
    assert env["dsn"]["orcpt"] == ["rfc822;b@example.test"], env["dsn"]
