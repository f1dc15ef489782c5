"""A small scriptable, misbehaving SMTP server for the end-to-end tests.

BadServer(script) listens on 127.0.0.1 (loopback only, always) on a free
port, accepts connections in a background thread and runs SCRIPT for each
connection in a thread of its own. It records what the client sent so tests
can assert on it, and stop() always returns within a bound: every blocking
operation polls a stop flag every POLL seconds.

    srv = BadServer(good_script()).start()
    ... talk to srv.address ("127.0.0.1:PORT") ...
    srv.stop()
    srv.lines      # every line the client sent (bytes, no CRLF), all connections
    srv.messages   # message bodies received by ("read_data",)
    srv.events     # notable things ("peer gone during flood after 130 lines")
    srv.errors     # script failures (an ("expect",) mismatch, an exception)
    srv.client_hellos  # ClientHellos read by ("tls_answer",) (parsed dicts)

Step vocabulary (a script is a list of tuples, run in order):

    ("send", data)                 send bytes as they are (no CRLF added)
    ("expect", prefix=None, timeout=None)
                                   read one line (CRLF or bare LF) and record it;
                                   prefix (bytes, or tuple of bytes) is matched
                                   case-insensitively. A mismatch records an
                                   error and aborts the connection (plain close).
    ("read_data",)                 read a DATA body up to the "." line; stored
                                   (without the dot line) in srv.messages
    ("recv_bytes", n)              read at least n raw bytes (not recorded as
                                   lines; the count goes to events)
    ("sleep", seconds)             do nothing for a while (interruptible)
    ("drip", data, interval)       send data one byte at a time, sleeping
                                   interval seconds after each byte
    ("flood", line, count)         send line count times, or forever when count
                                   is None; stops quietly when the peer is gone
    ("hold", seconds=None)         send nothing; read and record lines until the
                                   peer closes (or seconds pass, or stop())
    ("serve", replies=None)        answer politely until the peer closes: QUIT
                                   -> 221 and close, RSET/NOOP -> 250, "*" (SASL
                                   cancel) -> 501, anything else -> 500.
                                   replies = {prefix: bytes or None} overrides
                                   (None = close without answering)
    ("close", drain=5)             graceful close: shutdown(SHUT_WR) (FIN), keep
                                   reading (recorded) until the peer closes or
                                   drain seconds pass, then close. No RST.
    ("close_now",)                 plain close() at once (the kernel sends RST
                                   if unread client data is pending)
    ("reset",)                     SO_LINGER {1, 0} then close = TCP RST
    ("starttls",)                  real TLS handshake as the server (a self-
                                   signed certificate made with the openssl CLI,
                                   CN/SAN badserver.test + IP 127.0.0.1); later
                                   steps run inside TLS
    ("starttls_garbage", data=None)
                                   wait for the client's first handshake bytes
                                   (ClientHello), answer with data (default:
                                   plain text, not a TLS record), then hold
    ("tls_answer", data, after="close")
                                   read the client's ClientHello - whole TLS
                                   records up to the complete handshake
                                   message, however many records it spans -
                                   record it (srv.client_hellos, parsed by
                                   parse_client_hello), answer with data (raw
                                   bytes, e.g. server_hello_flight(...)), then
                                   "close" (FIN, as ("close",)), "reset" (RST)
                                   or "hold" (read until the peer leaves).
                                   After STARTTLS's 220, or as the first step
                                   of an implicit-TLS script. Bytes that are
                                   not a TLS handshake record are answered
                                   all the same (an event says what came).
    ("send_lines", data, interval=0.02)
                                   send data one line (CRLF or LF-terminated
                                   piece) per write, TCP_NODELAY on, sleeping
                                   interval seconds between writes: each line
                                   leaves in a segment of its own (the "EHLO
                                   reply one line per write" servers)

Crafted TLS answers (the client gets bytes no Debian OpenSSL server can
send: SSLv3, 3DES, RC4, EXPORT, compression):

    server_hello_flight(suite=0x000A, version=0x0303, compression=0,
                        certificate=None, done=None, extensions=None, ...)
        -> bytes: one handshake record holding a ServerHello choosing
           `suite` (e.g. 0x000A DES-CBC3-SHA, 0x0005 RC4-SHA, 0x0003
           EXP-RC4-MD5) with `version` (0x0300 = SSLv3) and compression
           method `compression` (1 = DEFLATE), optionally followed by a
           Certificate message (certificate: DER bytes, or a list of them)
           and ServerHelloDone (done: default True when a certificate is
           given); split into records of at most 16384 bytes
    tls_alert(description=40, level=2, version=0x0303) -> an alert record
           (40 handshake_failure, 70 protocol_version, 86 inappropriate_fallback)
    tls_extension(type, data) -> one extension for extensions=[...]
    parse_client_hello(handshake bytes) -> dict: version, suites (ints),
           compression, extensions (types), versions (supported_versions),
           groups (supported_groups), key_shares, sni
    cert_der(pem_path) -> the DER of a PEM certificate (for certificate=)

Script builders for the tls tests (each a list of steps; the misbehaviour
comes after the EHLO that offers STARTTLS):

    starttls_script(then, ehlo=None)
                    banner, EHLO (reply with STARTTLS, or the `ehlo` steps),
                    STARTTLS -> 220, then the steps `then`, e.g.
                    [("tls_answer", server_hello_flight(0x000A))]
    STARTTLS answered by garbage, two ways:
      starttls_garbage_reply_script(garbage=None)
                    the STARTTLS command itself is answered by a line that is
                    not an SMTP reply, then the server holds
      starttls_script([("starttls_garbage", data)])
                    220 to STARTTLS, then garbage instead of a ServerHello
    ehlo_line_per_write(starttls=True, interval=0.02)
                    the steps of an EHLO stage whose reply is written one line
                    per write (("send_lines", ...)); use as
                    good_script(tls=True, ehlo=ehlo_line_per_write()) or
                    starttls_script(..., ehlo=ehlo_line_per_write())

When the peer goes away (EOF, ECONNRESET, EPIPE) in the middle of a script
the script ends quietly and an event is recorded; that is what misbehaving
scripts provoke, not an error. When a script runs out, the connection is
closed like ("close",).

good_script() is the happy path (banner, EHLO with PIPELINING, SIZE, 8BITMIME,
ENHANCEDSTATUSCODES, AUTH PLAIN LOGIN, MAIL/RCPT/DATA/QUIT accepted); the
misbehaving scripts are variations of it, see good_script()'s docstring.
"""
import atexit
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import peers

LOOPBACK = "127.0.0.1"
POLL = 0.1            # how often blocking operations look at the stop flag
DEFAULT_IO_TIMEOUT = 60.0  # bound on one ("expect",)/("read_data",) wait
HOSTNAME = "badserver.test"

__all__ = ["BadServer", "good_script", "good_stages", "ehlo_reply",
           "self_signed_cert", "LOOPBACK", "HOSTNAME",
           "server_hello_flight", "tls_alert", "tls_extension", "parse_client_hello",
           "cert_der", "starttls_script", "starttls_garbage_reply_script",
           "ehlo_line_per_write"]


class _PeerGone(Exception):
    pass


class _Stopped(Exception):
    pass


class _StepTimeout(Exception):
    pass


class _Abort(Exception):
    pass


# --------------------------------------------------------------------------
# the happy path

def ehlo_reply(host=HOSTNAME, starttls=False, auth=("PLAIN", "LOGIN"),
               extra=()):
    """A multi-line 250 EHLO reply with the usual capabilities."""
    caps = ["PIPELINING", "SIZE 10240000"]
    if starttls:
        caps.append("STARTTLS")
    if auth:
        caps.append("AUTH " + " ".join(auth))
    caps += ["ENHANCEDSTATUSCODES", "8BITMIME"] + list(extra)
    lines = [f"{host} Hello"] + caps
    out = "".join(f"250-{l}\r\n" for l in lines[:-1]) + f"250 {lines[-1]}\r\n"
    return out.encode()


BANNER = f"220 {HOSTNAME} ESMTP badserver ready\r\n".encode()


def good_stages(tls=False, auth=("PLAIN", "LOGIN")):
    """The happy-path script as an ordered dict: stage name -> steps."""
    st = {}
    st["banner"] = [("send", BANNER)]
    st["ehlo"] = [("expect", b"EHLO"),
                  ("send", ehlo_reply(starttls=tls, auth=auth))]
    if tls:
        st["starttls"] = [("expect", b"STARTTLS"),
                          ("send", b"220 2.0.0 Ready to start TLS\r\n")]
        st["tls"] = [("starttls",)]
        st["ehlo2"] = [("expect", b"EHLO"), ("send", ehlo_reply(auth=auth))]
    st["mail"] = [("expect", b"MAIL FROM:"), ("send", b"250 2.1.0 Ok\r\n")]
    st["rcpt"] = [("expect", b"RCPT TO:"), ("send", b"250 2.1.5 Ok\r\n")]
    st["data"] = [("expect", b"DATA"),
                  ("send", b"354 End data with <CR><LF>.<CR><LF>\r\n")]
    st["dot"] = [("read_data",), ("send", b"250 2.0.0 Ok: queued as BAD1\r\n")]
    st["quit"] = [("expect", b"QUIT"), ("send", b"221 2.0.0 Bye\r\n"), ("close",)]
    return st


def good_script(upto=None, tls=False, auth=("PLAIN", "LOGIN"), **replace):
    """The happy-path script, or a variation of it.

    upto="rcpt" keeps the stages up to and including rcpt (append your own
    misbehaviour after it). replace: stage=bytes replaces that stage's reply
    (the ("send",) step), stage=[steps] replaces the whole stage. Stages:
    banner, ehlo, [starttls, tls, ehlo2 when tls=True], mail, rcpt, data,
    dot, quit.
    """
    st = good_stages(tls=tls, auth=auth)
    for name in list(replace) + ([upto] if upto else []):
        if name not in st:
            raise KeyError(f"no stage {name!r} (have {list(st)})")
    script = []
    for name, steps in st.items():
        if name in replace:
            new = replace[name]
            if isinstance(new, (bytes, bytearray)):
                steps = [("send", bytes(new)) if s[0] == "send" else s for s in steps]
            else:
                steps = list(new)
        script += steps
        if name == upto:
            break
    return script


# --------------------------------------------------------------------------
# scripts for the tls tests

STARTTLS_220 = b"220 2.0.0 Ready to start TLS\r\n"


def ehlo_line_per_write(starttls=True, interval=0.02, auth=("PLAIN", "LOGIN")):
    """An EHLO stage whose multi-line reply leaves one line per write."""
    return [("expect", b"EHLO"),
            ("send_lines", ehlo_reply(starttls=starttls, auth=auth), interval)]


def starttls_script(then, ehlo=None):
    """banner, EHLO offering STARTTLS (or the `ehlo` steps), STARTTLS -> 220,
    then the steps `then` (e.g. [("tls_answer", server_hello_flight())])."""
    ehlo = list(ehlo) if ehlo is not None else \
        [("expect", b"EHLO"), ("send", ehlo_reply(starttls=True))]
    return [("send", BANNER)] + ehlo + [("expect", b"STARTTLS"),
                                        ("send", STARTTLS_220)] + list(then)


def starttls_garbage_reply_script(garbage=None, ehlo=None):
    """STARTTLS answered by a line that is not an SMTP reply; then hold."""
    if garbage is None:
        garbage = b"\x16\x03\x01 this is no reply \xff\xfe to STARTTLS\r\n"
    ehlo = list(ehlo) if ehlo is not None else \
        [("expect", b"EHLO"), ("send", ehlo_reply(starttls=True))]
    return [("send", BANNER)] + ehlo + [("expect", b"STARTTLS"), ("send", garbage),
                                        ("hold",)]


# --------------------------------------------------------------------------
# crafted TLS records (what Debian's OpenSSL cannot produce as a server)

TLS_HANDSHAKE, TLS_ALERT = 22, 21
MAX_RECORD = 16384


def _u8(n):
    return n.to_bytes(1, "big")


def _u16(n):
    return n.to_bytes(2, "big")


def _u24(n):
    return n.to_bytes(3, "big")


def tls_records(content_type, payload, version=0x0303):
    """payload as records of content_type, at most MAX_RECORD bytes each."""
    out = b""
    for i in range(0, max(len(payload), 1), MAX_RECORD):
        frag = payload[i:i + MAX_RECORD]
        out += _u8(content_type) + _u16(version) + _u16(len(frag)) + frag
    return out


def tls_extension(ext_type, data=b""):
    return _u16(ext_type) + _u16(len(data)) + data


def _handshake(msg_type, body):
    return _u8(msg_type) + _u24(len(body)) + body


def server_hello_flight(suite=0x000A, version=0x0303, compression=0,
                        certificate=None, done=None, extensions=None,
                        session_id=None, random=None, record_version=None):
    """The bytes of a server's first flight (see the module docstring).

    extensions: None = no extensions block at all (as an SSLv3 server
    sends), or a list of tls_extension(...) bytes (possibly empty).
    record_version: the record layer's version (default: version, but at
    most 0x0303; TLS 1.3 servers say 0x0303 and put 0x0304 in a
    supported_versions extension)."""
    if random is None:
        random = os.urandom(32)
    if session_id is None:
        session_id = os.urandom(32)
    body = (_u16(version) + random + _u8(len(session_id)) + session_id + _u16(suite)
            + _u8(compression))
    if extensions is not None:
        exts = b"".join(extensions)
        body += _u16(len(exts)) + exts
    msgs = _handshake(2, body)
    if certificate is not None:
        ders = [certificate] if isinstance(certificate, (bytes, bytearray)) else \
            list(certificate)
        chain = b"".join(_u24(len(d)) + bytes(d) for d in ders)
        msgs += _handshake(11, _u24(len(chain)) + chain)
        if done is None:
            done = True
    if done:
        msgs += _handshake(14, b"")
    if record_version is None:
        record_version = min(version, 0x0303)
    return tls_records(TLS_HANDSHAKE, msgs, record_version)


def tls_alert(description=40, level=2, version=0x0303):
    """A TLS alert record (fatal handshake_failure by default)."""
    return tls_records(TLS_ALERT, _u8(level) + _u8(description), version)


def cert_der(pem_path):
    """The DER bytes of the (first) certificate in a PEM file."""
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def parse_client_hello(hs):
    """A dict of what a ClientHello handshake message (type 1, with its
    4-byte header) offers; {"error": ...} when it is not one."""
    try:
        if not hs or hs[0] != 1:
            return {"error": f"not a ClientHello (handshake type {hs[:1].hex()})"}
        n = int.from_bytes(hs[1:4], "big")
        b = hs[4:4 + n]
        out = {"version": int.from_bytes(b[0:2], "big")}
        i = 34
        sid_len = b[i]
        i += 1 + sid_len
        slen = int.from_bytes(b[i:i + 2], "big")
        i += 2
        out["suites"] = [int.from_bytes(b[j:j + 2], "big") for j in range(i, i + slen, 2)]
        i += slen
        clen = b[i]
        out["compression"] = list(b[i + 1:i + 1 + clen])
        i += 1 + clen
        out.update(extensions=[], versions=[], groups=[], key_shares=[], sni=None)
        if i + 2 <= len(b):
            elen = int.from_bytes(b[i:i + 2], "big")
            i += 2
            end = i + elen
            while i + 4 <= end:
                et = int.from_bytes(b[i:i + 2], "big")
                el = int.from_bytes(b[i + 2:i + 4], "big")
                ed = b[i + 4:i + 4 + el]
                i += 4 + el
                out["extensions"].append(et)
                if et == 0x002b and ed:            # supported_versions
                    out["versions"] = [int.from_bytes(ed[j:j + 2], "big")
                                       for j in range(1, 1 + ed[0], 2)]
                elif et == 0x000a and len(ed) >= 2:  # supported_groups
                    gl = int.from_bytes(ed[0:2], "big")
                    out["groups"] = [int.from_bytes(ed[j:j + 2], "big")
                                     for j in range(2, 2 + gl, 2)]
                elif et == 0x0033 and len(ed) >= 2:  # key_share
                    j, kend = 2, 2 + int.from_bytes(ed[0:2], "big")
                    while j + 4 <= kend:
                        out["key_shares"].append(int.from_bytes(ed[j:j + 2], "big"))
                        j += 4 + int.from_bytes(ed[j + 2:j + 4], "big")
                elif et == 0x0000 and len(ed) > 5:   # server_name
                    out["sni"] = ed[5:5 + int.from_bytes(ed[3:5], "big")].decode(
                        errors="replace")
        return out
    except (IndexError, ValueError) as e:
        return {"error": f"truncated ClientHello: {e!r}"}


# --------------------------------------------------------------------------
# TLS certificate (made once per process with the openssl CLI)

_cert_lock = threading.Lock()
_cert = None


def self_signed_cert():
    """(certfile, keyfile) of a throw-away self-signed certificate."""
    global _cert
    with _cert_lock:
        if _cert is None:
            peers.require("openssl")
            d = tempfile.mkdtemp(prefix="badserver-tls-")
            atexit.register(shutil.rmtree, d, True)
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(
                [peers.OPENSSL, "req", "-x509", "-newkey", "ec",
                 "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "2",
                 "-subj", f"/CN={HOSTNAME}",
                 "-addext", f"subjectAltName=DNS:{HOSTNAME},IP:127.0.0.1"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=30)
            _cert = (cert, key)
        return _cert


# --------------------------------------------------------------------------
# one connection

class _Conn:
    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index
        self.buf = bytearray()
        self.lines = []
        self.messages = []
        self.events = []
        self.errors = []
        self.client_hellos = []
        self.closed = False
        self.completed = False  # every step ran (the peer did not leave early)
        self.done = threading.Event()

    # -- low-level I/O, every wait bounded and interruptible
    def _check(self, deadline):
        if self.server._stop.is_set():
            raise _Stopped()
        if deadline is not None and time.monotonic() > deadline:
            raise _StepTimeout()

    def _recv(self, deadline=None):
        while True:
            self._check(deadline)
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except (ConnectionError, ssl.SSLError, OSError) as e:
                raise _PeerGone(f"recv: {e!r}")
            if not data:
                raise _PeerGone("eof")
            return data

    def _send(self, data, deadline=None):
        view = memoryview(bytes(data))
        while view:
            self._check(deadline)
            try:
                n = self.sock.send(view[:65536])
            except (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except (ConnectionError, ssl.SSLError, OSError) as e:
                raise _PeerGone(f"send: {e!r}")
            view = view[n:]

    def _sleep(self, seconds):
        if self.server._stop.wait(seconds):
            raise _Stopped()

    def readline(self, deadline=None, maxlen=1 << 20):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buf) > maxlen:
                line = bytes(self.buf)
                self.buf.clear()
                return line
            self.buf += self._recv(deadline)

    def _record(self, line):
        self.lines.append(line)
        with self.server._lock:
            self.server._all_lines.append(line)

    def _event(self, text):
        self.events.append(text)
        with self.server._lock:
            self.server._all_events.append(f"conn {self.index}: {text}")

    def _error(self, text):
        self.errors.append(text)
        with self.server._lock:
            self.server._all_errors.append(f"conn {self.index}: {text}")

    def _io_deadline(self, timeout=None):
        t = self.server.io_timeout if timeout is None else timeout
        return time.monotonic() + t

    def _read_until_gone(self, seconds=None):
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while True:
                self._record(self.readline(deadline))
        except _StepTimeout:
            pass

    def _close(self, linger0=False):
        if self.closed:
            return
        self.closed = True
        try:
            if linger0:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    # -- steps
    def step_send(self, data):
        self._send(data)

    def step_expect(self, prefix=None, timeout=None):
        try:
            line = self.readline(self._io_deadline(timeout))
        except _StepTimeout:
            raise _Abort(f"expect {prefix!r}: nothing within the timeout")
        self._record(line)
        if prefix is None:
            return
        prefixes = prefix if isinstance(prefix, tuple) else (prefix,)
        if not any(line.upper().startswith(p.upper()) for p in prefixes):
            raise _Abort(f"expected {prefix!r}, got {line[:200]!r}")

    def step_read_data(self, timeout=None):
        deadline = self._io_deadline(timeout)
        body = []
        try:
            while True:
                line = self.readline(deadline)
                if line == b".":
                    break
                body.append(line)
        except _StepTimeout:
            raise _Abort("read_data: no final dot within the timeout")
        msg = b"\r\n".join(body) + (b"\r\n" if body else b"")
        self.messages.append(msg)
        with self.server._lock:
            self.server._all_messages.append(msg)

    def step_recv_bytes(self, n, timeout=None):
        deadline = self._io_deadline(timeout)
        got = len(self.buf)
        self.buf.clear()
        try:
            while got < n:
                got += len(self._recv(deadline))
        except _StepTimeout:
            raise _Abort(f"recv_bytes: only {got} of {n} bytes")
        self._event(f"received {got} raw bytes")

    def step_sleep(self, seconds):
        self._sleep(seconds)

    def step_drip(self, data, interval):
        for i in range(len(data)):
            self._send(data[i:i + 1])
            self._sleep(interval)

    def step_flood(self, line, count=None):
        sent = 0
        try:
            while count is None or sent < count:
                self._send(line)
                sent += 1
        finally:
            self._event(f"flood: sent {sent} lines")

    def step_hold(self, seconds=None):
        self._read_until_gone(seconds)

    def step_serve(self, replies=None):
        table = dict(replies or {})
        defaults = [(b"QUIT", b"221 2.0.0 Bye\r\n"), (b"RSET", b"250 2.0.0 Ok\r\n"),
                    (b"NOOP", b"250 2.0.0 Ok\r\n"),
                    (b"*", b"501 5.7.0 Authentication aborted\r\n")]
        while True:
            line = self.readline()
            self._record(line)
            up = line.upper()
            for prefix, reply in list(table.items()) + defaults:
                if up.startswith(prefix.upper()):
                    break
            else:
                prefix, reply = None, b"500 5.5.2 badserver: not in the script\r\n"
            if reply is None:
                return self.step_close_now()
            self._send(reply)
            if up.startswith(b"QUIT"):
                return self.step_close()

    def step_close(self, drain=5):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            self._read_until_gone(drain)
        except _PeerGone:
            pass
        self._close()

    def step_close_now(self):
        self._close()

    def step_reset(self):
        self._close(linger0=True)

    def step_starttls(self):
        if self.buf:
            self._event(f"starttls: discarding {len(self.buf)} pipelined bytes")
            self.buf.clear()
        cert, key = self_signed_cert()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        tls = ctx.wrap_socket(self.sock, server_side=True,
                              do_handshake_on_connect=False)
        self.sock = tls
        deadline = self._io_deadline()
        while True:
            self._check(deadline)
            try:
                tls.do_handshake()
                break
            except (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except (ssl.SSLError, ConnectionError, OSError) as e:
                raise _PeerGone(f"TLS handshake failed: {e!r}")
        self._event(f"TLS established: {tls.version()}")

    def step_starttls_garbage(self, data=None):
        if data is None:
            data = b"HTTP/1.0 200 OK this is not a TLS ServerHello\r\n" * 4
        try:
            first = self._recv(self._io_deadline())
        except _StepTimeout:
            raise _Abort("starttls_garbage: no ClientHello")
        self._event(f"starttls_garbage: got {len(first)} handshake bytes "
                    f"(first byte 0x{first[0]:02x})")
        self._send(data)
        while True:  # hold, but the client's bytes are TLS, not lines
            self._recv()

    def _read_tls_hello(self, deadline):
        """(first record's header, the handshake message or what came)."""
        data = bytearray(self.buf)
        self.buf.clear()
        hs = bytearray()
        first = None
        while True:
            # consume whole records from data
            while len(data) >= 5 and data[0] == TLS_HANDSHAKE:
                n = int.from_bytes(data[3:5], "big")
                if len(data) < 5 + n:
                    break
                if first is None:
                    first = bytes(data[:5])
                hs += data[5:5 + n]
                del data[:5 + n]
            if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
                return first, bytes(hs)
            if data and data[0] != TLS_HANDSHAKE:
                return None, bytes(data)      # not TLS: answered all the same
            if len(data) + len(hs) > 1 << 18:
                return first, bytes(hs or data)
            data += self._recv(deadline)

    def step_tls_answer(self, data, after="close"):
        try:
            header, hello = self._read_tls_hello(self._io_deadline())
        except _StepTimeout:
            raise _Abort("tls_answer: no complete ClientHello within the timeout")
        if header is None:
            parsed = {"error": f"not a TLS handshake record: {hello[:16]!r}"}
        else:
            parsed = parse_client_hello(hello)
            parsed["record_version"] = int.from_bytes(header[1:3], "big")
        self.client_hellos.append(parsed)
        with self.server._lock:
            self.server._all_hellos.append(parsed)
        if "error" in parsed:
            self._event(f"tls_answer: {parsed['error']}")
        else:
            self._event(f"tls_answer: ClientHello 0x{parsed['version']:04x} with "
                        f"{len(parsed['suites'])} suites")
        self._send(data)
        if after == "reset":
            self.step_reset()
        elif after == "hold":
            while True:   # the client's bytes are TLS, not lines
                self._recv()
        else:
            self.step_close()

    def step_send_lines(self, data, interval=0.02):
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        lines = bytes(data).splitlines(keepends=True)
        for i, line in enumerate(lines):
            self._send(line)
            if interval and i + 1 < len(lines):
                self._sleep(interval)

    # -- driver
    def run(self, script):
        try:
            self.sock.settimeout(POLL)
            for i, step in enumerate(script):
                fn = getattr(self, "step_" + step[0], None)
                if fn is None:
                    raise _Abort(f"unknown step {step!r}")
                try:
                    fn(*step[1:])
                except _PeerGone as e:
                    self._event(f"peer gone at step {i} {step[0]}: {e}")
                    return
                if self.closed:
                    break
            self.completed = True
            if not self.closed:
                self.step_close()
        except _Stopped:
            pass
        except _Abort as e:
            self._error(str(e))
        except Exception as e:  # a bug in a script or in this file
            self._error(f"exception: {e!r}")
        finally:
            self._close()
            self.done.set()


# --------------------------------------------------------------------------

class BadServer:
    def __init__(self, script, io_timeout=DEFAULT_IO_TIMEOUT, max_connections=None):
        self.script = list(script)
        self.io_timeout = io_timeout
        self.max_connections = max_connections
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = []
        self.conns = []
        self._all_lines = []
        self._all_events = []
        self._all_errors = []
        self._all_messages = []
        self._all_hellos = []
        if any(s[0] == "starttls" for s in self.script):
            self_signed_cert()  # fail early, in the test, not in a thread
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(16)
        self._listener.settimeout(POLL)
        self.host, self.port = self._listener.getsockname()[:2]
        self._acceptor = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def lines(self):
        with self._lock:
            return list(self._all_lines)

    @property
    def events(self):
        with self._lock:
            return list(self._all_events)

    @property
    def errors(self):
        with self._lock:
            return list(self._all_errors)

    @property
    def messages(self):
        with self._lock:
            return list(self._all_messages)

    @property
    def client_hellos(self):
        with self._lock:
            return list(self._all_hellos)

    def start(self):
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          name=f"badserver-{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            if self.max_connections is not None and len(self.conns) >= self.max_connections:
                sock.close()
                continue
            conn = _Conn(self, sock, len(self.conns))
            self.conns.append(conn)
            t = threading.Thread(target=conn.run, args=(self.script,),
                                 name=f"badserver-{self.port}-{conn.index}", daemon=True)
            self._threads.append(t)
            t.start()

    def wait_idle(self, timeout=5.0):
        """Wait until every connection so far has finished its script."""
        deadline = time.monotonic() + timeout
        for c in list(self.conns):
            if not c.done.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def stop(self, timeout=5.0):
        """Stop accepting, interrupt every script, join threads (bounded).
        Returns True when every thread ended in time."""
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        ok = True
        for t in ([self._acceptor] if self._acceptor else []) + list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
            ok = ok and not t.is_alive()
        for c in list(self.conns):
            c._close()
        return ok

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"<BadServer {self.address} conns={len(self.conns)} errors={self.errors}>"
