"""The option rows send, check and relay share (cli/common.h), end to end.

TLS (--tls-ca-path, --tls-sni, --tls-verify, --tls-verify-host,
--tls-protocol, --tls-cipher, --tls-cert, --tls-key), AUTH (--auth [MECH],
--auth-user, --auth-password, --auth-password-file, --auth-plaintext),
--timeout (the longest wait for one reply) and --session-timeout (the whole
session; each of relay's tests is a session), -4/-6 and --json: the same
spellings and checks on all three commands, each keeping its own defaults.
The status markers (✔ ✘ ! –) are coloured only on a terminal and never
with NO_COLOR.
"""
import os
import pty
import select
import subprocess

import pytest

from badserver import good_script
from cli_util import closed_port, only_line, show, slow_script
from runner import SMTPROBE, run_smtprobe

SHARED = ["--tls-ca-path", "--tls-sni", "--tls-verify", "--tls-verify-host",
          "--tls-protocol", "--tls-cipher", "--tls-cert", "--tls-key", "--auth",
          "--auth-user", "--auth-password", "--auth-password-file",
          "--auth-plaintext", "--timeout", "--session-timeout", "-4", "-6", "--json"]
USAGE_EXIT = {"send": 1, "check": 2, "relay": 2}


def target_args(cmd, address):
    if cmd == "send":
        return ["send", "--server", address, "--to", "a@example.test"]
    return [cmd, address]


@pytest.mark.parametrize("cmd", ["send", "check", "relay"])
def test_help_lists_the_shared_rows(cmd):
    res = run_smtprobe([cmd, "--help"])
    assert res.returncode == 0, show(res)
    spelled = res.stdout.replace(",", " ").split()
    for opt in SHARED:
        assert opt in spelled, f"{cmd} --help lacks {opt}"
    assert "--ap" in spelled and "--au" in spelled   # swaks' -ap, -au


@pytest.mark.parametrize("cmd", ["send", "check", "relay"])
@pytest.mark.parametrize("bad,said", [
    (["--timeout", "soon"], "--timeout 'soon'"),
    (["--session-timeout", "0"], "--session-timeout '0'"),
    (["--tls-protocol", "bogus"], "'bogus'"),
    (["--auth=BOGUSMECH", "--auth-user", "u"], "'BOGUSMECH'"),
    (["--tls-ca-path", "/no/such/ca.pem"], "--tls-ca-path /no/such/ca.pem: no such file")],
    ids=["timeout", "session-timeout", "tls-protocol", "mech", "ca-path"])
def test_shared_usage_errors(badserver, cmd, bad, said):
    srv = badserver(good_script())
    res = run_smtprobe(target_args(cmd, srv.address) + bad,
                       env={"SMTPROBE_PASSWORD": "x"})
    assert res.returncode == USAGE_EXIT[cmd], show(res)
    line = only_line(res)
    assert said in line, line
    assert not srv.conns


def test_check_session_timeout(badserver):
    # banner at 0.6 s, EHLO reply at 1.2 s: the 1 s session deadline
    # strikes while waiting for the EHLO reply, far below --timeout
    srv = badserver(slow_script(0.6))
    res = run_smtprobe(["check", srv.address, "--no-tls", "--no-relay-test",
                        "--timeout", "10", "--session-timeout", "1", "--json"])
    assert res.returncode == 1, show(res)
    steps = {s["name"]: s for s in res.json()["steps"]}
    assert steps["banner"]["status"] == "pass", steps["banner"]
    assert steps["ehlo"]["status"] == "fail", steps["ehlo"]
    assert "session timeout after 1 s" in steps["ehlo"]["detail"], steps["ehlo"]
    assert res.elapsed < 5, show(res)


def test_relay_session_timeout(badserver):
    srv = badserver(slow_script(0.6))
    res = run_smtprobe(["relay", "127.0.0.1", "-p", srv.port, "--scenario", "A",
                        "--concurrency", "1", "--timeout", "10",
                        "--session-timeout", "1", "--max-time", "2.5", "--json"])
    assert res.returncode == 2, show(res)
    first = res.json()["tests"][0]
    assert first["outcome"] == "inconclusive", first
    assert "session timeout after 1 s" in first["why"] + str(first), first


def test_relay_tls_verify_host_accepted(badserver):
    """--tls-verify-host is a relay option now, as on send and check."""
    port = closed_port()
    res = run_smtprobe(["relay", "127.0.0.1", "-p", port, "--tls-verify-host",
                        "mx.example.test", "--timeout", "2", "--json"])
    assert res.returncode == 2, show(res)
    assert "unknown option" not in res.stderr, show(res)


def run_on_tty(args, env=None):
    """Run smtprobe with stdout on a pseudo-terminal; what it printed."""
    master, slave = pty.openpty()
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    proc = subprocess.Popen([SMTPROBE] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.DEVNULL, env=full_env)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 20)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(20)
    os.close(master)
    return out.decode(errors="replace")


@pytest.mark.parametrize("no_color", [None, "1"], ids=["tty", "no-color"])
def test_markers_colour_only_on_a_tty(no_color):
    args = ["check", f"127.0.0.1:{closed_port()}", "--no-relay-test", "--timeout", "2"]
    out = run_on_tty(args, env={"NO_COLOR": no_color} if no_color else None)
    assert "✘" in out and "–" in out, out
    if no_color:
        assert "\033[" not in out, out
    else:
        assert "\033[31m✘\033[0m" in out and "\033[32m✔\033[0m" in out, out
    piped = run_smtprobe(args)
    assert "\033[" not in piped.stdout and "✘" in piped.stdout, show(piped)
