"""What `smtprobe send --data / --body / --attach` take, end to end.

The rules (smtprobe-send(1), MESSAGE ARGUMENTS), after swaks' documented
ones: `@FILE` reads a file or a pipe, `-` reads stdin, `@@TEXT` is the text
"@TEXT", any other text is sent with the two characters \\n as line breaks;
a bare argument without a line break that names an existing path is read
as a file (swaks' older rule); a bare argument that can only mean a file
(it looks like a path, or it is one word given to --data) and names none
is an error. --attach always names a file. An argument that names no
readable file is a usage error (exit 1, one line naming the option, the
path and why) and nothing is sent: the server sees no connection.

The server is the scriptable BadServer (tests/harness/badserver.py); what
it received is compared byte for byte.
"""
import email
import email.policy
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from badserver import good_script
from cli_util import only_line, run_in_bash, show
from runner import SMTPROBE, run_smtprobe

TO, FROM, HELO = "a@example.test", "b@example.test", "client.example.test"


def send_args(srv, *extra):
    return ["send", "--server", srv.address, "--from", FROM, "--to", TO,
            "--helo", HELO, "--timeout", "5", "--session-timeout", "20"] + \
        [str(x) for x in extra]


def sent(badserver, *extra, input=None):
    """Run send against a happy server; the one message it received."""
    srv = badserver(good_script())
    res = run_smtprobe(send_args(srv, *extra), input=input)
    assert res.returncode == 0, show(res, srv)
    assert srv.wait_idle(5) and not srv.errors, show(res, srv)
    assert len(srv.messages) == 1, show(res, srv)
    return srv.messages[0]


def refused(badserver, *extra, run=None):
    """A usage error: exit 1, one line on stderr, no connection made."""
    srv = badserver(good_script())
    res = (run or run_smtprobe)(send_args(srv, *extra))
    assert res.returncode == 1, show(res, srv)
    line = only_line(res)
    assert res.stdout == "", show(res)
    time.sleep(0.3)
    assert not srv.conns, "a usage error, yet a connection was made\n" + show(res, srv)
    return line


def body_of(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, msg.get_payload(decode=True)


MESSAGE = "Subject: from a file\nX-Test: 1\n\nline one\nline two\n"
WIRE = b"Subject: from a file\r\nX-Test: 1\r\n\r\nline one\r\nline two\r\n"


# ==========================================================================
# --data

def test_data_at_file(badserver, tmp_path):
    path = tmp_path / "msg.eml"
    path.write_text(MESSAGE)
    assert sent(badserver, "--data", f"@{path}") == WIRE


def test_data_bare_existing_file_still_read(badserver, tmp_path):
    path = tmp_path / "msg.eml"
    path.write_text(MESSAGE)
    assert sent(badserver, "--data", path) == WIRE


def test_data_stdin(badserver):
    assert sent(badserver, "--data", "-", input=MESSAGE) == WIRE


def test_data_literal_with_backslash_n(badserver):
    got = sent(badserver, "--data", r"Subject: literal\n\nline one\nline two")
    assert got == b"Subject: literal\r\n\r\nline one\r\nline two\r\n", got


def test_data_literal_with_real_newlines(badserver):
    got = sent(badserver, "--data", "Subject: real\n\nbody")
    assert got == b"Subject: real\r\n\r\nbody\r\n", got


def test_data_double_at_is_text(badserver):
    got = sent(badserver, "--data", r"@@Subject: at\n\nbody")
    assert got == b"@Subject: at\r\n\r\nbody\r\n", got


def test_data_fifo(badserver, tmp_path):
    fifo = tmp_path / "msg.fifo"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "w") as f:   # blocks until smtprobe opens it
            f.write(MESSAGE)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    assert sent(badserver, "--data", f"@{fifo}") == WIRE
    t.join(5)
    assert not t.is_alive()


def test_data_process_substitution(badserver):
    """--data @<(cmd): the shell hands over /dev/fd/N, a pipe."""
    srv = badserver(good_script())
    proc = run_in_bash(send_args(srv), r"--data @<(printf 'Subject: ps\n\nvia a pipe\n')")
    assert proc.returncode == 0, proc.stderr
    assert srv.wait_idle(5) and not srv.errors, srv.errors
    assert srv.messages == [b"Subject: ps\r\n\r\nvia a pipe\r\n"], srv.messages


MISSING = {
    "data-at": ("--data", "@{dir}/msg.eml"),
    "data-bare-absolute": ("--data", "{dir}/msg.eml"),
    "data-bare-dot-slash": ("--data", "./no-such-message.eml"),
    "data-bare-word": ("--data", "no-such-message.eml"),
    "body-at": ("--body", "@{dir}/body.txt"),
    "body-bare-absolute": ("--body", "{dir}/body.txt"),
    "body-bare-dot-dot": ("--body", "../no-such-body.txt"),
    "attach-bare": ("--attach", "{dir}/report.pdf"),
    "attach-at": ("--attach", "@{dir}/report.pdf"),
    "attach-bare-word": ("--attach", "report.pdf"),
}


@pytest.mark.parametrize("opt,arg", MISSING.values(), ids=MISSING.keys())
def test_missing_file(badserver, tmp_path, opt, arg):
    """Where a file is meant, a missing one is an error: for --data and
    --body a path (@, or a bare one that looks like a path), for --data
    also a single word, for --attach anything."""
    value = arg.format(dir=tmp_path / "nope")
    line = refused(badserver, opt, value)
    assert f"{opt} {value.lstrip('@')}: no such file or directory" in line, line


@pytest.mark.parametrize("opt", ["--data", "--body", "--attach"])
@pytest.mark.parametrize("at", ["@", ""], ids=["at", "bare"])
def test_directory(badserver, tmp_path, opt, at):
    line = refused(badserver, opt, f"{at}{tmp_path}")
    assert f"{opt} {tmp_path}: is a directory" in line, line


def run_as_nobody(args):
    """Run smtprobe as an unprivileged user: root reads any file."""
    cmd = [SMTPROBE] + [str(a) for a in args]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)

    class R:
        returncode, stdout, stderr = p.returncode, p.stdout, p.stderr
    return R


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"),
                    reason="root reads any file and setpriv is missing")
@pytest.mark.parametrize("opt", ["--data", "--body", "--attach"])
def test_unreadable_file(badserver, opt):
    d = tempfile.mkdtemp(prefix="smtprobe-unreadable-")
    try:
        os.chmod(d, 0o755)
        path = os.path.join(d, "secret.eml")
        with open(path, "w") as f:
            f.write(MESSAGE)
        os.chmod(path, 0)
        line = refused(badserver, opt, f"@{path}", run=run_as_nobody)
        assert f"{opt} {path}: permission denied" in line, line
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_data_socket_is_refused(badserver, tmp_path):
    path = str(tmp_path / "a.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    try:
        line = refused(badserver, "--data", f"@{path}")
        assert f"--data {path}: " in line, line
    finally:
        s.close()


def test_data_excludes_body_and_attach(badserver, tmp_path):
    path = tmp_path / "msg.eml"
    path.write_text(MESSAGE)
    line = refused(badserver, "--data", f"@{path}", "--body", "text")
    assert "--data" in line and "--body" in line, line


# ==========================================================================
# --body

def test_body_at_file(badserver, tmp_path):
    path = tmp_path / "body.txt"
    path.write_text("first\nsecond\n")
    _, body = body_of(sent(badserver, "--body", f"@{path}"))
    assert body == b"first\r\nsecond\r\n", body


def test_body_stdin(badserver):
    _, body = body_of(sent(badserver, "--body", "-", input="from stdin\n"))
    assert body == b"from stdin\r\n", body


def test_body_literal_with_backslash_n(badserver):
    _, body = body_of(sent(badserver, "--body", r"one\ntwo\n\nfour"))
    assert body == b"one\r\ntwo\r\n\r\nfour\r\n", body


def test_body_plain_text_stays_text(badserver):
    _, body = body_of(sent(badserver, "--body", "hello world"))
    assert body == b"hello world\r\n", body


def test_body_double_at(badserver):
    _, body = body_of(sent(badserver, "--body", "@@handle"))
    assert body == b"@handle\r\n", body


def test_body_with_nul_byte_refused(badserver, tmp_path):
    path = tmp_path / "bin.dat"
    path.write_bytes(b"text\x00more")
    line = refused(badserver, "--body", f"@{path}")
    assert "NUL" in line and "--attach" in line, line


# ==========================================================================
# --attach

def attachments(raw):
    unstuffed = b"\r\n".join(ln[1:] if ln.startswith(b".") else ln
                             for ln in raw.split(b"\r\n"))
    msg = email.message_from_bytes(unstuffed, policy=email.policy.default)
    return {p.get_filename(): p.get_payload(decode=True)
            for p in msg.walk() if p.get_filename()}


@pytest.mark.parametrize("at", ["@", ""], ids=["at", "bare"])
def test_attach_file(badserver, tmp_path, at):
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(500))
    got = attachments(sent(badserver, "--attach", f"{at}{path}"))
    assert got == {"blob.bin": path.read_bytes()}, list(got)


def test_attach_stdin_shared_with_body(badserver):
    """stdin is read once, whichever options name it."""
    got = sent(badserver, "--body", "-", "--attach", "-", input="same bytes\n")
    assert attachments(got) == {"stdin": b"same bytes\n"}
    assert b"same bytes" in got.split(b"Content-Disposition")[0]


def test_attach_second_missing_sends_nothing(badserver, tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("fine\n")
    line = refused(badserver, "--attach", ok, "--attach", tmp_path / "gone.txt")
    assert "gone.txt" in line, line
