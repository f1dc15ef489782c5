"""`smtprobe serve`: the message path under stress - what DATA makes of
long lines however TCP cuts them, memory that does not grow with the
message, and a full disk.

- A 3,000-byte message line sent in one write and in two writes 0.3 s apart
  gets the same 250 and is stored byte for byte; so are a 64 KiB line and
  a bare-LF line (stored with CRLF). A line over 1 MiB gets 554 5.6.0, a
  message over the size limit 552 5.3.4 - never "message file too big" for
  a message below the limit - and the session goes on.
- 100 sessions of 10 MB messages at once (Postfix's smtp-source): serve's
  peak RSS grows by less than 64 MiB over its idle size, and every message
  is stored whole.
- A store on a full file system (a 1 MiB tmpfs in serve's own mount
  namespace): once a message no longer fits, the client gets 452 4.3.1,
  never a 250 for a message that is not stored; what got a 250 is intact
  and the store stays readable; both formats.
"""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from runner import SMTPROBE
from serve import Serve
from store_reader import read_store, store_args

SMTP_SOURCE = "/usr/sbin/smtp-source"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
QUEUED = re.compile(rb"queued as (\S+)")
BIG_POLICY = """\
hostname: mx.example.test
local_domains: [example.test]
open_relay: true
max_message_size: 20M
auth:
  offer: false
limits:
  max_connections: 300
  connections_per_ip: 0
"""


class Client:
    """A raw SMTP client: exact bytes out, whole replies in."""

    def __init__(self, port, timeout=20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        assert self.reply().startswith(b"220")

    def reply(self):
        while True:
            m = re.search(rb"^(\d{3}) [^\r\n]*\r\n", self.buf, re.M)
            if m:
                end = m.end()
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed; had {self.buf[-200:]!r}")
            self.buf += data

    def cmd(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def envelope(self, sender=b"a@example.org", rcpt=b"b@example.test"):
        assert self.cmd(b"MAIL FROM:<" + sender + b">").startswith(b"250")
        assert self.cmd(b"RCPT TO:<" + rcpt + b">").startswith(b"250")
        assert self.cmd(b"DATA").startswith(b"354")

    def close(self):
        self.sock.close()


def message(body_lines):
    return b"Subject: long lines\r\n\r\n" + b"".join(l + b"\r\n" for l in body_lines)


@pytest.fixture
def spool_serve(tmp_path):
    policy = tmp_path / "big.yaml"
    policy.write_text(BIG_POLICY)
    path = str(tmp_path / "spool")
    with Serve(["127.0.0.1:0"], policy=str(policy), extra=store_args("spool", path),
               workdir=str(tmp_path)) as srv:
        c = Client(srv.port(0))
        assert c.cmd(b"EHLO client.example").startswith(b"250")
        yield srv, c, path
        c.close()


def stored(path, mid):
    return read_store("spool", path).messages[mid.decode()]


@pytest.mark.parametrize("split", [False, True], ids=["one-write", "two-writes"])
def test_long_line_same_however_it_arrives(spool_serve, split):
    srv, c, path = spool_serve
    msg = message([b"L" * 3000, b"short", b"M" * 600])
    wire = msg + b".\r\n"
    c.envelope()
    if split:
        cut = 1500  # in the middle of the long line
        c.sock.sendall(wire[:cut])
        time.sleep(0.3)
        c.sock.sendall(wire[cut:])
    else:
        c.sock.sendall(wire)
    r = c.reply()
    assert r.startswith(b"250 2.0.0"), r
    assert stored(path, QUEUED.search(r).group(1)) == msg


def test_very_long_lines_and_bare_lf(spool_serve):
    srv, c, path = spool_serve
    c.envelope()
    body = b"Subject: x\r\n\r\n" + b"W" * 65536 + b"\r\nbare\nend\r\n"
    c.sock.sendall(body + b".\r\n")
    r = c.reply()
    assert r.startswith(b"250 2.0.0"), r
    assert stored(path, QUEUED.search(r).group(1)) == body.replace(b"bare\n", b"bare\r\n")


def test_line_over_the_cap_and_message_over_the_limit(spool_serve):
    srv, c, path = spool_serve
    # a 2 MiB line in a message far below the size limit: the line's fault
    c.envelope()
    c.sock.sendall(message([b"X" * (2 * 1024 * 1024)]) + b".\r\n")
    r = c.reply()
    assert r.startswith(b"554 5.6.0"), r
    assert b"too big" not in r
    # the session goes on; a message over the size limit (20M) in short lines
    c.envelope()
    line = b"Y" * 998 + b"\r\n"
    chunk = line * 1000
    for _ in range(21):
        c.sock.sendall(chunk)
    c.sock.sendall(b".\r\n")
    r = c.reply()
    assert r.startswith(b"552 5.3.4"), r
    # and on again: a normal message is stored
    c.envelope()
    c.sock.sendall(message([b"fine"]) + b".\r\n")
    r = c.reply()
    assert r.startswith(b"250"), r
    assert len(read_store("spool", path).messages) == 1


# ------------------------------------------------------------------ memory
def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_peak_rss_bounded_with_100_sessions_of_10_MB(tmp_path):
    if not os.access(SMTP_SOURCE, os.X_OK):
        pytest.fail(f"{SMTP_SOURCE} is not installed (apt-get install postfix)")
    policy = tmp_path / "big.yaml"
    policy.write_text(BIG_POLICY)
    path = str(tmp_path / "spool")
    count, size = 100, 10_000_000
    with Serve(["127.0.0.1:0"], policy=str(policy),
               extra=store_args("spool", path) + ["--no-fsync"],
               workdir=str(tmp_path)) as srv:
        idle = vm_kib(srv.proc.pid, "VmRSS")
        t0 = time.monotonic()
        p = subprocess.run([SMTP_SOURCE, "-s", str(count), "-m", str(count),
                            "-l", str(size), "-f", "a@example.org",
                            "-t", "b@example.test", f"127.0.0.1:{srv.port(0)}"],
                           capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - t0
        assert p.returncode == 0, p.stderr[-2000:]
        peak = vm_kib(srv.proc.pid, "VmHWM")
    grown = (peak - idle) / 1024
    print(f"{count} x {size} bytes in {elapsed:.1f} s: RSS idle {idle / 1024:.1f} MiB, "
          f"peak {peak / 1024:.1f} MiB (+{grown:.1f} MiB)")
    assert grown < 64, f"peak RSS grew by {grown:.1f} MiB"
    got = read_store("spool", path)
    assert len(got.messages) == count and got.leftovers == []
    assert all(len(m) > size for m in got.messages.values())


# --------------------------------------------------------------- disk full
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("fmt", ["spool", "maildir"])
def test_full_disk_is_452_never_250(tmp_path, fmt):
    """serve runs in its own mount namespace, its store on a 1 MiB tmpfs."""
    store = tmp_path / "store"
    store.mkdir()
    log = tmp_path / "serve.log"
    port = free_port()
    script = ('mount -t tmpfs -o size=1m,mode=0700 smtprobe-test "$1" && shift && '
              'exec "$@"')
    argv = [UNSHARE, "-m", "--propagation", "private", "sh", "-c", script, "sh",
            str(store), SMTPROBE, "serve", "--listen", f"127.0.0.1:{port},policy=open",
            "--json", "--log", str(log), "--state-dir", str(tmp_path / "state"),
            *store_args(fmt, str(store / "s"))]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while b'"ready"' not in (log.read_bytes() if log.exists() else b""):
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        acked, refused = {}, []
        c = Client(port)
        assert c.cmd(b"EHLO client.example").startswith(b"250")
        for i in range(40):  # 40 x 60 KB: far more than 1 MiB
            body = message([b"%05d" % i + b"Z" * 1000] * 60)
            c.envelope()
            c.sock.sendall(body + b".\r\n")
            r = c.reply()
            if r.startswith(b"250"):
                acked[QUEUED.search(r).group(1).decode()] = body
            else:
                refused.append(r)
        assert acked, "nothing fitted"
        assert refused, "a 1 MiB file system took 2.4 MB"
        for r in refused:
            assert r.startswith(b"452 4.3.1"), r
        # what got a 250 is there and whole; the store reads back cleanly
        # (read inside serve's namespace, where the tmpfs is; -r: with its
        # root directory too, which differs when the tests run chrooted)
        c.close()
        dump = subprocess.run(
            ["nsenter", "-t", str(proc.pid), "-m", "-r", "tar", "-C", str(store), "-cf", "-", "s"],
            capture_output=True, timeout=30)
        assert dump.returncode == 0, dump.stderr
        out = tmp_path / "copy"
        out.mkdir()
        subprocess.run(["tar", "-C", str(out), "-xf", "-"], input=dump.stdout, check=True)
        got = read_store(fmt, str(out / "s"))
        for mid, body in acked.items():
            assert got.messages[mid] == body, f"{mid} is not what got the 250"
        assert set(got.messages) == set(acked)
        events = [l for l in log.read_text().splitlines() if "store-failed" in l]
        assert events and "No space left on device" in events[0], events[:1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
