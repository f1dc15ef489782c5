"""The AUTH password of send, check and relay, end to end.

Four ways to give it (smtprobe-send(1), PASSWORD): --auth-password-file
FILE (its first line, CR/LF stripped), --auth-password PASS on the command
line, env SMTPROBE_PASSWORD, a no-echo prompt on a terminal. A password on
the command line earns one warning line on stderr (not with send --silent)
and is overwritten in argv once read, so /proc/PID/cmdline no longer shows
it. The file's content never appears in any output, errors included.

Servers: the scriptable BadServer (AUTH PLAIN checked on the wire) and
`smtprobe serve`'s submission preset (STARTTLS + AUTH, user alice).
"""
import base64
import subprocess
import time

import pytest

import badserver as bs
from cli_util import closed_port, only_line, run_in_bash, show
from runner import SMTPROBE, run_smtprobe
from serve import Serve

TO, FROM, HELO = "a@example.test", "alice@example.test", "client.example.test"
SECRET = "s3cret-Pw-" + "Kq7" * 4
WARNING = ("smtprobe: warning: --auth-password on the command line can be read "
           "by other local users")
ALICE, ALICE_PW = "alice", "alice-password"     # serve's submission preset


def plain_script(hold=0.0):
    """The happy path with AUTH PLAIN accepted before MAIL; the banner
    comes after `hold` seconds."""
    script = [("sleep", hold)] if hold else []
    for name, steps in bs.good_stages(auth=("PLAIN",)).items():
        if name == "mail":
            script += [("expect", b"AUTH PLAIN"),
                       ("send", b"235 2.7.0 Authentication successful\r\n")]
        script += steps
    return script


def send_args(srv, *extra):
    return ["send", "--server", srv.address, "--from", FROM, "--to", TO,
            "--helo", HELO, "--timeout", "5", "--auth", "PLAIN",
            "--auth-user", "alice", "--auth-plaintext"] + [str(x) for x in extra]


def plain_password(srv):
    """The password in the AUTH PLAIN the server received."""
    [line] = [ln for ln in srv.lines if ln.upper().startswith(b"AUTH PLAIN")]
    parts = line.split(b" ")
    blob = parts[2] if len(parts) == 3 else srv.lines[srv.lines.index(line) + 1]
    authz, user, pw = base64.b64decode(blob, validate=True).split(b"\0")
    assert user == b"alice", user
    return pw.decode()


def assert_hidden(res, *secrets):
    for s in secrets:
        assert s not in res.stdout and s not in res.stderr, f"{s!r} shown\n" + show(res)


# ==========================================================================
# on the command line: the warning, and argv wiped

@pytest.mark.parametrize("form", ["-ap", "--auth-password", "--auth-password="])
def test_command_line_password_warns(badserver, form):
    srv = badserver(plain_script())
    pw = ["--auth-password=" + SECRET] if form.endswith("=") else [form, SECRET]
    res = run_smtprobe(send_args(srv, *pw))
    assert res.returncode == 0, show(res, srv)
    assert plain_password(srv) == SECRET
    assert res.stderr.startswith(WARNING), show(res)
    assert res.stderr.count("\n") == 1, "the warning is one line\n" + show(res)
    assert "--auth-password-file" in res.stderr, show(res)
    assert_hidden(res, SECRET)


def test_command_line_password_silent_no_warning(badserver):
    srv = badserver(plain_script())
    res = run_smtprobe(send_args(srv, "-ap", SECRET, "--silent"))
    assert res.returncode == 0, show(res, srv)
    assert res.stdout == "" and res.stderr == "", show(res)
    assert plain_password(srv) == SECRET


@pytest.mark.parametrize("source", ["env", "file"])
def test_other_sources_do_not_warn(badserver, tmp_path, source):
    srv = badserver(plain_script())
    if source == "env":
        res = run_smtprobe(send_args(srv), env={"SMTPROBE_PASSWORD": SECRET})
    else:
        f = tmp_path / "pw"
        f.write_text(SECRET + "\n")
        res = run_smtprobe(send_args(srv, "--auth-password-file", f))
    assert res.returncode == 0, show(res, srv)
    assert res.stderr == "", show(res)
    assert plain_password(srv) == SECRET


@pytest.mark.parametrize("cmd", ["check", "relay"])
def test_check_and_relay_warn(cmd):
    port = closed_port()
    args = [cmd, f"127.0.0.1:{port}", "-au", "alice", "-ap", SECRET, "--timeout", "2"]
    if cmd == "check":
        args.append("--no-relay-test")
    res = run_smtprobe(args)
    assert res.returncode in (1, 2), show(res)
    assert WARNING in res.stderr, show(res)
    assert_hidden(res, SECRET)


@pytest.mark.parametrize("form", ["-ap", "--auth-password="])
def test_cmdline_does_not_show_password(badserver, form):
    """/proc/PID/cmdline of a running send: the password is overwritten
    (and the copy smtprobe kept still authenticates)."""
    srv = badserver(plain_script(hold=1.5))
    pw = ["--auth-password=" + SECRET] if form.endswith("=") else [form, SECRET]
    argv = [SMTPROBE] + send_args(srv, *pw)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not srv.conns and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.conns, "smtprobe did not connect"
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            cmdline = f.read()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode(errors="replace")
    assert SECRET.encode() not in cmdline, cmdline
    assert b"x" * len(SECRET) in cmdline, cmdline      # overwritten in place
    assert b"--auth-user\0alice\0" in cmdline, cmdline   # nothing else touched
    assert plain_password(srv) == SECRET


# ==========================================================================
# --auth-password-file

@pytest.mark.parametrize("content", [SECRET + "\n", SECRET, SECRET + "\r\n",
                                     SECRET + "\nsecond line ignored\n"],
                         ids=["lf", "no-newline", "crlf", "two-lines"])
def test_password_file_first_line(badserver, tmp_path, content):
    f = tmp_path / "pw"
    f.write_bytes(content.encode())
    srv = badserver(plain_script())
    res = run_smtprobe(send_args(srv, "--auth-password-file", f))
    assert res.returncode == 0, show(res, srv)
    assert plain_password(srv) == SECRET
    assert_hidden(res, SECRET, "second line")


def test_password_file_pipe(badserver):
    """--auth-password-file <(pass show ...): a pipe works too."""
    srv = badserver(plain_script())
    proc = run_in_bash(send_args(srv), f"--auth-password-file <(printf '%s\\n' '{SECRET}')")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert plain_password(srv) == SECRET


def test_password_file_serve_submission(tmp_path):
    f = tmp_path / "pw"
    f.write_text(ALICE_PW + "\n")
    with Serve(["127.0.0.1:0/starttls-required,policy=submission"]) as srv:
        res = run_smtprobe(["send", "--server", f"127.0.0.1:{srv.port(0)}", "--tls",
                            "--tls-ca-path", srv.ca_file, "--auth", "--auth-user", ALICE,
                            "--auth-password-file", f, "--from", FROM,
                            "--to", "someone@example.org", "--json"])
        assert res.returncode == 0, show(res)
        assert res.json()["auth"]["ok"] is True
        assert res.stderr == "", show(res)
        assert_hidden(res, ALICE_PW)
        [ev] = srv.events("auth")
        assert ev["user"] == ALICE, ev


def test_password_file_check_and_relay(tmp_path):
    f = tmp_path / "pw"
    f.write_text(ALICE_PW + "\n")
    with Serve(["127.0.0.1:0/starttls-required,policy=submission"]) as srv:
        res = run_smtprobe(["check", f"127.0.0.1:{srv.port(0)}", "--tls-ca-path",
                            srv.ca_file, "-au", ALICE, "--auth-password-file", f,
                            "--no-relay-test", "--json", "--timeout", "5"])
        steps = {s["name"]: s["status"] for s in res.json()["steps"]}
        assert steps["auth"] == "pass", show(res)
        assert_hidden(res, ALICE_PW)
        res = run_smtprobe(["relay", "127.0.0.1", "-p", srv.port(0), "--tls-ca-path",
                            srv.ca_file, "-au", ALICE, "--auth-password-file", f,
                            "--scenario", "B", "--json", "--timeout", "5"])
        assert res.json()["verdicts"]["B"] == "holds", show(res)
        assert WARNING not in res.stderr, show(res)
        assert_hidden(res, ALICE_PW)


def bad_file(tmp_path, kind):
    if kind == "missing":
        return tmp_path / "no-such-file", "no such file"
    if kind == "directory":
        return tmp_path, "is a directory"
    f = tmp_path / "pw"
    if kind == "empty":
        f.write_text("")
    elif kind == "blank-first-line":
        f.write_text("\n" + SECRET + "\n")
    return f, "empty"


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "blank-first-line"])
@pytest.mark.parametrize("cmd", ["send", "check", "relay"])
def test_password_file_errors(badserver, tmp_path, cmd, kind):
    path, why = bad_file(tmp_path, kind)
    srv = badserver(plain_script())
    if cmd == "send":
        args, code = send_args(srv, "--auth-password-file", path), 1
    else:
        args, code = [cmd, srv.address, "-au", "alice", "--auth-password-file", path], 2
    res = run_smtprobe(args, env={"SMTPROBE_PASSWORD": "not-used"})
    assert res.returncode == code, show(res)
    line = only_line(res)
    assert f"--auth-password-file {path}: " in line and why in line, line
    assert_hidden(res, SECRET)
    time.sleep(0.3)
    assert not srv.conns, "a usage error, yet a connection was made"


def test_password_file_and_option_exclude(badserver, tmp_path):
    f = tmp_path / "pw"
    f.write_text(SECRET + "\n")
    srv = badserver(plain_script())
    res = run_smtprobe(send_args(srv, "--auth-password-file", f, "-ap", "other"))
    assert res.returncode == 1, show(res)
    line = only_line(res)
    assert "--auth-password" in line and "--auth-password-file" in line, line
    assert_hidden(res, SECRET)


def test_no_password_at_all(badserver):
    srv = badserver(plain_script())
    res = run_smtprobe(send_args(srv))
    assert res.returncode == 1, show(res)
    line = only_line(res)
    assert "--auth-password-file" in line and "SMTPROBE_PASSWORD" in line, line
