"""Helpers the option tests of send, check and relay share (not a test
module: pytest collects test_*.py only).

    show(res, srv=None)      a failure message: exit code, stdout, stderr, server
    only_line(res)           the one `smtprobe: ...` line on stderr
    closed_port()            a loopback port nothing listens on
    slow_script(delay)       the BadServer happy path, every reply `delay` s late
    run_in_bash(args, tail)  run smtprobe from bash, `tail` appended to the
                             command line as it is (for <(cmd) arguments)
"""
import socket
import subprocess

from badserver import good_script
from runner import SMTPROBE


def show(res, srv=None):
    out = (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-3000:]}"
           f"\n--- stderr ---\n{res.stderr[-2000:]}")
    if srv is not None:
        out += f"\n--- server ---\n{srv!r} lines={srv.lines[:20]!r} errors={srv.errors!r}"
    return out


def only_line(res):
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("smtprobe: "), show(res)
    return lines[0]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, then closed: nothing listens there
    return port


def slow_script(delay):
    """The happy path with every reply (banner included) `delay` s late."""
    out = []
    for step in good_script():
        if step[0] == "send":
            out.append(("sleep", delay))
        out.append(step)
    return out


def run_in_bash(args, tail):
    quoted = " ".join("'" + str(a).replace("'", "'\\''") + "'"
                      for a in [SMTPROBE] + list(args))
    return subprocess.run(["bash", "-c", f"{quoted} {tail}"], capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
