"""`smtprobe serve`: the protocol beyond plain SMTP - SMTPUTF8, MAIL and RCPT
parameters checked against what was advertised, DSN kept in the envelope,
BDAT/CHUNKING and LMTP.

- EHLO advertises 8BITMIME, DSN, SMTPUTF8 and CHUNKING (each can be turned
  off in the policy, and then its parameters get 555 and BDAT 502).
- Python's smtplib sends with SMTPUTF8 and UTF-8 addresses: stored, the
  envelope says smtputf8; a UTF-8 address without SMTPUTF8, or one that is
  not UTF-8, gets 553 5.6.7; unknown or not advertised parameters 555,
  malformed ones 501, a SIZE over the limit 552.
- DSN's RET, ENVID, NOTIFY and ORCPT land in the envelope as sent.
- BDAT: chunks stored byte for byte (no dot or line rules), pipelined
  chunks, BDAT 0 LAST, a chunk without MAIL read and refused 503 (the
  session goes on), DATA after BDAT refused, RSET in the middle drops the
  message, a chunk over the size limit 552.
- LMTP: `smtprobe send --protocol LMTP` gets one reply per recipient; a
  raw client sees EHLO refused, LHLO answered, and after the message a
  reply for each accepted recipient only.
"""
import json
import smtplib
import socket

import pytest

from runner import run_smtprobe
from serve import Serve
from store_reader import read_store, store_args

POLICY = """\
hostname: mx.example.test
local_domains: [example.test]
max_message_size: 1M
auth:
  offer: false
"""


class Raw:
    """A raw client: exact bytes out, whole replies in (multi-line too)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.banner = self.reply()

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError(f"closed after {lines!r}")
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if line[3:4] != b"-":
                return b"\n".join(lines)

    def cmd(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def send(self, data):
        self.sock.sendall(data)


@pytest.fixture
def serve(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    spool = str(tmp_path / "spool")
    with Serve(["127.0.0.1:0", "127.0.0.1:0/lmtp"], policy=str(policy),
               extra=store_args("spool", spool), workdir=str(tmp_path)) as srv:
        srv.spool = spool
        yield srv


def stored(srv):
    return read_store("spool", srv.spool)


def test_ehlo_advertises_the_extensions(serve):
    c = Raw(serve.port(0))
    assert c.banner.startswith(b"220 mx.example.test ESMTP")
    ehlo = c.cmd(b"EHLO client.example").split(b"\n")
    keywords = [l[4:] for l in ehlo[1:]]
    for k in (b"PIPELINING", b"SIZE 1048576", b"ENHANCEDSTATUSCODES", b"8BITMIME",
              b"DSN", b"SMTPUTF8", b"CHUNKING"):
        assert k in keywords, ehlo
    assert ehlo[-1].startswith(b"250 ")


def test_extensions_can_be_turned_off(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY + "smtputf8: false\ndsn: false\nchunking: false\n")
    with Serve(["127.0.0.1:0"], policy=str(policy), workdir=str(tmp_path)) as srv:
        c = Raw(srv.port(0))
        ehlo = c.cmd(b"EHLO client.example")
        for k in (b"DSN", b"SMTPUTF8", b"CHUNKING"):
            assert k not in ehlo, ehlo
        assert c.cmd(b"MAIL FROM:<a@example.org> SMTPUTF8").startswith(b"555 5.5.4")
        assert c.cmd(b"MAIL FROM:<a@example.org> RET=HDRS").startswith(b"555 5.5.4")
        assert c.cmd(b"MAIL FROM:<a@example.org>").startswith(b"250")
        assert c.cmd(b"RCPT TO:<b@example.test> NOTIFY=NEVER").startswith(b"555 5.5.4")
        assert c.cmd(b"BDAT 0 LAST").startswith(b"502")


def test_helo_offers_no_extensions(serve):
    c = Raw(serve.port(0))
    assert c.cmd(b"HELO client.example").startswith(b"250")
    assert c.cmd(b"MAIL FROM:<a@example.org> BODY=8BITMIME") == \
        b"555 5.5.4 Unsupported option: BODY"


def test_smtputf8_with_python_smtplib(serve):
    sender, rcpt = "jörg@bücher.example", "ünïcode@example.test"
    msg = "Subject: grüße\r\n\r\nhallo\r\n".encode()
    with smtplib.SMTP("127.0.0.1", serve.port(0)) as s:
        assert s.has_extn("smtputf8") or s.ehlo()[0] == 250
        assert s.has_extn("smtputf8")
        assert s.sendmail(sender, [rcpt], msg, mail_options=["SMTPUTF8"]) == {}
        # without SMTPUTF8 a UTF-8 address is refused
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            s.sendmail(sender, [rcpt], msg)
        assert e.value.smtp_code == 553 and b"5.6.7" in e.value.smtp_error
    [env] = stored(serve).envelopes.values()
    assert env["smtputf8"] is True
    assert env["mail_from"] == sender and env["rcpt"] == [rcpt]
    assert stored(serve).messages[env["id"]] == msg


def test_addresses_that_are_not_utf8(serve):
    c = Raw(serve.port(0))
    c.cmd(b"EHLO client.example")
    assert c.cmd(b"MAIL FROM:<j\xf6rg@example.org> SMTPUTF8").startswith(b"553 5.6.7")
    assert c.cmd(b"MAIL FROM:<a@example.org>").startswith(b"250")
    assert c.cmd("RCPT TO:<ü@example.test>".encode()).startswith(b"553 5.6.7")
    assert c.cmd(b"RSET").startswith(b"250")
    assert c.cmd(b"MAIL FROM:<a@example.org> SMTPUTF8").startswith(b"250")
    assert c.cmd(b"RCPT TO:<\xed\xa0\x80@example.test>").startswith(b"553 5.6.7")
    assert c.cmd("RCPT TO:<ü@example.test>".encode()).startswith(b"250")


@pytest.mark.parametrize("params,reply", [
    (b"FOO=BAR", b"555 5.5.4 Unsupported option: FOO"),
    (b"SIZE=abc", b"501 5.5.4 Bad SIZE parameter syntax"),
    (b"SIZE=-1", b"501 5.5.4 Bad SIZE parameter syntax"),
    (b"SIZE=2000000", b"552 5.3.4 Message size exceeds fixed limit"),
    (b"BODY=BINARYMIME", b"501 5.5.4 Bad BODY parameter syntax"),
    (b"SIZE=1 SIZE=2", b"501 5.5.4 Duplicate SIZE parameter"),
    (b"SIZE=1000 BODY=8BITMIME", b"250 2.1.0 Ok"),
])
def test_mail_parameters(serve, params, reply):
    c = Raw(serve.port(0))
    c.cmd(b"EHLO client.example")
    assert c.cmd(b"MAIL FROM:<a@example.org> " + params) == reply


def test_dsn_parameters_in_the_envelope(serve):
    c = Raw(serve.port(0))
    c.cmd(b"EHLO client.example")
    assert c.cmd(b"MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ314159+2B").startswith(b"250")
    assert c.cmd(b"RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE "
                 b"ORCPT=rfc822;b+40example.test").startswith(b"250")
    assert c.cmd(b"RCPT TO:<c@example.test>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<d@example.test> NOTIFY=LATER") == \
        b"501 5.5.4 Bad NOTIFY parameter syntax"
    assert c.cmd(b"DATA").startswith(b"354")
    assert c.cmd(b"Subject: dsn\r\n\r\nx\r\n.").startswith(b"250")
    [env] = stored(serve).envelopes.values()
    assert env["rcpt"] == ["b@example.test", "c@example.test"]
    assert env["dsn"] == {"ret": "HDRS", "envid": "QQ314159+2B",
                          "notify": ["SUCCESS,FAILURE", None],
                          "orcpt": ["rfc822;b+40example.test", None]}, env


# ------------------------------------------------------------------- BDAT
def bdat_transaction(c):
    c.cmd(b"EHLO client.example")
    assert c.cmd(b"MAIL FROM:<a@example.org>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<b@example.test>").startswith(b"250")


def test_bdat_chunks_stored_byte_for_byte(serve):
    c = Raw(serve.port(0))
    bdat_transaction(c)
    chunks = [b"Subject: chunks\r\n\r\n", b".a dot line stays\r\nbare\nLF\r\n.\r\n",
              b"\x00\x01binary\xff", b""]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        r = c.reply()
        if last:
            assert r.startswith(b"250 2.0.0 Ok: queued as"), r
        else:
            assert r == b"250 2.0.0 Ok: %d bytes" % len(chunk), r
    got = stored(serve)
    [message] = got.messages.values()
    assert message == b"".join(chunks)


def test_bdat_pipelined_in_one_write(serve):
    c = Raw(serve.port(0))
    c.cmd(b"EHLO client.example")
    body = b"Subject: pipelined\r\n\r\n" + b"x" * 100000 + b"\r\n"
    half = len(body) // 2
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\n"
           b"BDAT %d\r\n" % half + body[:half] +
           b"BDAT %d LAST\r\n" % (len(body) - half) + body[half:] + b"QUIT\r\n")
    replies = [c.reply() for _ in range(5)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"250", b"221"], replies
    [message] = stored(serve).messages.values()
    assert message == body


def test_bdat_refusals_read_the_chunk(serve):
    c = Raw(serve.port(0))
    c.cmd(b"EHLO client.example")
    # no MAIL: the chunk is read (else it would be taken for commands)
    c.send(b"BDAT 10\r\nNOOP\r\nNOOP")
    assert c.reply() == b"503 5.5.1 Error: need MAIL command"
    assert c.cmd(b"NOOP").startswith(b"250")
    # DATA after BDAT in the same transaction
    bdat_transaction(c)
    c.send(b"BDAT 3\r\nabc")
    assert c.reply().startswith(b"250 2.0.0 Ok: 3 bytes")
    assert c.cmd(b"DATA").startswith(b"503 5.5.1")
    # RSET drops the message begun
    assert c.cmd(b"RSET").startswith(b"250")
    c.send(b"BDAT 0 LAST\r\n")
    assert c.reply() == b"503 5.5.1 Error: need MAIL command"
    # over the size limit (1M): 552, and the transaction is over
    bdat_transaction(c)
    big = b"y" * (1024 * 1024 + 1)
    c.send(b"BDAT %d\r\n" % len(big) + big)
    assert c.reply().startswith(b"552 5.3.4")
    c.send(b"BDAT 1 LAST\r\nz")
    assert c.reply().startswith(b"503")
    # a bad BDAT line: no size to skip, the session ends
    assert c.cmd(b"BDAT ten").startswith(b"501 5.5.4")
    assert stored(serve).messages == {}


# ------------------------------------------------------------------- LMTP
def test_lmtp_with_smtprobe_send(serve):
    res = run_smtprobe(["send", "--server", f"127.0.0.1:{serve.port(1)}",
                        "--protocol", "LMTP", "--from", "a@example.org",
                        "--to", "b@example.test", "--to", "c@example.test",
                        "--json"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    doc = res.json()
    dot = [s for s in doc["stages"] if s["name"] == "dot"]
    text = json.dumps(doc)
    assert "<b@example.test>" in text and "<c@example.test>" in text, dot
    [env] = stored(serve).envelopes.values()
    assert env["rcpt"] == ["b@example.test", "c@example.test"]


def test_lmtp_raw_a_reply_per_accepted_recipient(serve):
    c = Raw(serve.port(1))
    assert c.banner.startswith(b"220 mx.example.test LMTP")
    assert c.cmd(b"EHLO client.example").startswith(b"500 5.5.1")
    assert c.cmd(b"HELO client.example").startswith(b"500 5.5.1")
    lhlo = c.cmd(b"LHLO client.example")
    assert lhlo.startswith(b"250-mx.example.test") and b"CHUNKING" in lhlo
    assert c.cmd(b"MAIL FROM:<a@example.org>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<b@example.test>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<x@elsewhere.example>").startswith(b"554")  # no relay
    assert c.cmd(b"RCPT TO:<c@example.test>").startswith(b"250")
    c.send(b"DATA\r\n")
    assert c.reply().startswith(b"354")
    c.send(b"Subject: lmtp\r\n\r\nhi\r\n.\r\n")
    replies = [c.reply(), c.reply()]
    assert replies[0].startswith(b"250 2.0.0 <b@example.test> Ok: queued as"), replies
    assert replies[1].startswith(b"250 2.0.0 <c@example.test> Ok: queued as"), replies
    # BDAT LAST in LMTP: a reply per recipient too
    assert c.cmd(b"MAIL FROM:<a@example.org>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<b@example.test>").startswith(b"250")
    assert c.cmd(b"RCPT TO:<c@example.test>").startswith(b"250")
    c.send(b"BDAT 5 LAST\r\nx\r\n\r\n")
    assert c.reply().startswith(b"250 2.0.0 <b@example.test>")
    assert c.reply().startswith(b"250 2.0.0 <c@example.test>")
    assert c.cmd(b"QUIT").startswith(b"221")
    assert len(stored(serve).messages) == 2


# ------------------------------------------------------------- half-close
def test_a_half_closed_client_still_gets_every_reply(serve):
    """A client that pipelines the whole transaction and QUIT, then shuts
    down its side (as Exim does), still gets every reply, and the message
    is stored."""
    c = Raw(serve.port(0))
    c.send(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
           b"RCPT TO:<b@example.test>\r\nBDAT 11 LAST\r\nhello world"
           b"QUIT\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    replies = [c.reply() for _ in range(5)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"250", b"221"], replies
    assert c.sock.recv(100) == b""
    [env] = stored(serve).envelopes.values()
    assert stored(serve).messages[env["id"]] == b"hello world"


def test_a_half_close_inside_the_message_ends_the_session(serve):
    """A message that can never end (the client shut down inside DATA) is
    not stored, and the session ends at once, not at a deadline."""
    c = Raw(serve.port(0))
    c.send(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
           b"RCPT TO:<b@example.test>\r\nDATA\r\nSubject: cut\r\n\r\nno end")
    c.sock.shutdown(socket.SHUT_WR)
    c.sock.settimeout(5)
    replies = [c.reply() for _ in range(4)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354"], replies
    assert c.sock.recv(100) == b""
    assert stored(serve).envelopes == {}
