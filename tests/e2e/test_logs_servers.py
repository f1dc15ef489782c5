"""`smtprobe logs` on what real Exim, Sendmail and OpenSMTPD write now: the
harness runs each under known traffic (tests/harness/log_traffic.py, the
same plan as the committed samples: AUTH successes and failures from
several loopback addresses, relay attempts, sender-login mismatches,
aborted TLS handshakes, local deliveries), writes what it sent to
NAME.expected.json, and `smtprobe logs` on the server's log must count
exactly that - less what the server does not log, each such rule named
below with the expected.json's log_notes that say so. (Postfix + Dovecot
under traffic made live: test_logs.py.)
"""
import json
import os
import subprocess
import sys

import pytest

from runner import run_smtprobe

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TRAFFIC = os.path.join(ROOT, "tests", "harness", "log_traffic.py")


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory, peer_exim, peer_sendmail, peer_opensmtpd,
             peer_log_traffic):
    out = tmp_path_factory.mktemp("server-logs")
    args = [sys.executable, TRAFFIC, str(out)]
    for run in ("exim", "sendmail", "opensmtpd"):
        args += ["--only", run]
    res = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    return out


def read(logs_dir, name):
    with open(os.path.join(logs_dir, f"{name}.expected.json")) as f:
        want = json.load(f)
    return want, want["counts"]


def logs(*paths):
    res = run_smtprobe(["logs", *map(str, paths), "--json"], timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def probes(want):
    return want.get("startup_probes", {}).get("count", 0)


def test_exim(logs_dir):
    want, c = read(logs_dir, "exim-mainlog")
    d = logs(logs_dir / "exim-mainlog.log", logs_dir / "exim-rejectlog.log")
    # +smtp_connection: every session, and the harness's readiness probes
    assert d["connections"] == c["sessions"] + probes(want)
    assert d["auth_failures"]["total"] == c["auth_failures"]["total"]
    assert d["auth_failures"]["by_ip"] == c["auth_failures"]["by_ip"]
    assert d["tls_failures"] == c["tls"]["failures"]
    rk = c["rejections"]["by_kind"]
    assert d["rejections"]["total"] == sum(rk.values())
    assert d["rejections"]["by_kind"]["relay_denied"] == rk["relay_denied"]
    assert d["rejections"]["by_kind"]["sender_login_mismatch"] == \
        rk["sender_login_mismatch"]
    # a successful AUTH shows only on the line of a received message, and a
    # TLS handshake only as X= (log_notes): no counts of their own
    assert d["tls"]["handshakes"] == 0
    # the queue run at the end delivers or defers every accepted message
    assert d["deliveries"] + d["deferrals"] == c["messages_accepted"]["total"]


def test_sendmail(logs_dir):
    want, c = read(logs_dir, "sendmail")
    d = logs(logs_dir / "sendmail.log")
    assert d["connections"] == c["sessions"] + probes(want)
    assert d["auth_success"] == c["auth_success"]["total"]
    assert d["auth_failures"]["total"] == c["auth_failures"]["total"]
    assert d["auth_failures"]["by_ip"] == c["auth_failures"]["by_ip"]
    assert d["tls"]["handshakes"] == c["tls"]["handshakes"]
    assert d["tls_failures"] == c["tls"]["failures"]
    rk = c["rejections"]["by_kind"]
    assert d["rejections"]["by_kind"] == {"relay_denied": rk["relay_denied"],
                                          "recipient": rk["unknown_recipient"]}
    assert d["deliveries"] + d["deferrals"] == c["messages_accepted"]["total"]
    assert d["unparsed_lines"] == 0


def test_opensmtpd(logs_dir):
    want, c = read(logs_dir, "opensmtpd")
    d = logs(logs_dir / "opensmtpd.log")
    assert d["connections"] == c["sessions"] + probes(want)
    assert d["tls_failures"] == c["tls"]["failures"]
    # OpenSMTPD says "550 Invalid recipient" to a relay attempt and to an
    # unknown user alike (log_notes): both read as relay denials
    rk = c["rejections"]["by_kind"]
    assert d["rejections"]["by_kind"] == {
        "relay_denied": rk["relay_denied"] + rk.get("unknown_recipient", 0)}
    assert d["deliveries"] == c["messages_accepted"]["total"]
    # no timestamps in the foreground: counts, no minutes
    assert d["first"] is None and d["spikes"] == []
