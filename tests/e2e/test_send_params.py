"""MAIL FROM / RCPT TO parameters, and the password prompt on a terminal."""
import base64
import os
import pty

import pytest
import select
import time

from badserver import good_script
from runner import SMTPROBE, run_smtprobe


def mx_send(ms, *args):
    return run_smtprobe(["send", "--server", ms.host, "--port", ms.ports["mx"],
                         "--helo", "client.example.test", "--timeout", "10",
                         "--from", "a@example.org", "--to", "alice@example.test"] + list(args))


def test_mail_and_rcpt_params_sent(mailservers):
    res = mx_send(mailservers, "--mail-params", "BODY=8BITMIME", "--rcpt-params", "NOTIFY=NEVER")
    assert res.returncode == 0, res.stdout + res.stderr
    assert " -> MAIL FROM:<a@example.org> BODY=8BITMIME" in res.stdout
    assert " -> RCPT TO:<alice@example.test> NOTIFY=NEVER" in res.stdout


def test_size_param_over_the_limit(mailservers):
    """Postfix checks SIZE= at MAIL time: 552 5.3.4 and exit 23."""
    res = mx_send(mailservers, "--mail-params", "SIZE=999999999", "--json")
    assert res.returncode == 23, res.stdout + res.stderr
    doc = res.json()
    mail = [s for s in doc["stages"] if s["name"] == "mail"][0]
    assert mail["reply"]["code"] == 552
    assert mail["reply"]["enhanced"] == "5.3.4"


def test_params_with_control_characters_refused():
    res = run_smtprobe(["send", "--server", "127.0.0.1:9", "--to", "a@b",
                        "--mail-params", "SIZE=1\r\nRSET"])
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("smtprobe: ")


def test_password_prompt_on_a_terminal(badserver):
    """No --auth-password and no SMTPROBE_PASSWORD: smtprobe asks on the
    terminal, without echo, and uses the answer."""
    script = good_script(upto="ehlo") + [
        ("expect", b"AUTH PLAIN"),
        ("send", b"235 2.7.0 ok\r\n"),
        ("expect", b"QUIT"), ("send", b"221 bye\r\n"), ("close",)]
    srv = badserver(script)
    env = dict(os.environ)
    env.pop("SMTPROBE_PASSWORD", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(SMTPROBE, [SMTPROBE, "send", "--server", f"127.0.0.1:{srv.port}",
                             "--auth", "PLAIN", "--auth-user", "alice", "--auth-plaintext",
                             "--quit-after", "auth", "--timeout", "5"], env)
    out = b""
    deadline = time.monotonic() + 15
    sent = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not sent and b"Password:" in out:
            os.write(fd, b"typed-secret\n")
            sent = True
    # never hang the suite: a child still waiting after the deadline fails
    for _ in range(50):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("smtprobe still waiting at the prompt: " + out.decode(errors="replace"))
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    assert sent, out
    assert b"typed-secret" not in out  # no echo, and redacted in the transcript
    auth = [line for line in srv.lines if line.startswith(b"AUTH PLAIN")][0]
    blob = base64.b64decode(auth.split()[2])
    assert blob == b"\0alice\0typed-secret"
