"""The library's batch runner (lib/smtp/batch.c) against a real `smtprobe serve`.

tests/tools/batch_drive runs N sessions (EHLO, MAIL, RCPT, QUIT) through
smtprobe_batch_run and prints its statistics. The bound is checked from
both sides: the runner's own peak, and the server's log, whose connect and
disconnect events (written in the order the single-threaded server saw
them; the server closes first, after its 221) give the most connections
it ever held at once.
"""
import json
import os
import subprocess
import time

import pytest

from runner import SMTPROBE
from serve import Serve

DRIVE = os.path.join(os.path.dirname(SMTPROBE), "batch_drive")


def drive(port, n, concurrency, per_host=0, pause_ms=0, deadline_ms=0, timeout=120):
    args = [DRIVE, "127.0.0.1", str(port), str(n), str(concurrency),
            str(per_host), str(pause_ms), str(deadline_ms)]
    start = time.monotonic()
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    doc["wall"] = time.monotonic() - start
    return doc


def server_peak(srv):
    """The most connections the server held at once, from its log."""
    open_now = peak = connects = 0
    for ev in srv.events():
        if ev.get("event") == "connect":
            open_now += 1
            connects += 1
            peak = max(peak, open_now)
        elif ev.get("event") == "disconnect":
            open_now -= 1
    return peak, connects


@pytest.fixture
def open_serve(tmp_path):
    policy = tmp_path / "policy.yaml"
    # room for far more than any bound below: the server never refuses,
    # so only the runner keeps the bound
    policy.write_text("open_relay: true\nauth:\n  offer: false\n"
                      "limits:\n  max_connections: 5000\n")
    with Serve(["127.0.0.1:0"], policy=str(policy)) as srv:
        yield srv


def test_drive_tool_is_built():
    assert os.access(DRIVE, os.X_OK), f"{DRIVE} missing: build with tests enabled"


def test_2000_sessions_never_exceed_the_bound(open_serve):
    doc = drive(open_serve.port(0), 2000, 50)
    assert doc["ok"] == 2000, doc
    assert doc["failed"] == 0 and doc["not_started"] == 0
    assert doc["concurrency"] == 50
    assert doc["peak"] == 50  # reached, never exceeded
    time.sleep(0.3)  # the last disconnect lines
    peak, connects = server_peak(open_serve)
    assert connects == 2000
    assert 1 <= peak <= 50, f"the server held {peak} connections at once"


def test_a_small_bound_is_kept_too(open_serve):
    doc = drive(open_serve.port(0), 300, 3)
    assert doc["ok"] == 300 and doc["peak"] <= 3
    time.sleep(0.3)
    peak, _ = server_peak(open_serve)
    assert peak <= 3


def test_per_host_bound_and_pause(open_serve):
    # 2 at once to the host, 40 ms between connection starts: 20 sessions
    # take at least 19 pauses
    doc = drive(open_serve.port(0), 20, 10, per_host=2, pause_ms=40)
    assert doc["ok"] == 20
    assert doc["peak_per_host"] <= 2
    assert doc["ms"] >= 19 * 40 * 0.95, doc
    time.sleep(0.3)
    peak, _ = server_peak(open_serve)
    assert peak <= 2


def test_deadline_cancels_running_and_skips_waiting(tmp_path):
    # every banner 2 s late: nothing finishes before the 300 ms deadline
    policy = tmp_path / "policy.yaml"
    policy.write_text("open_relay: true\nfaults:\n  - command: connect\n"
                      "    action: delay\n    ms: 2000\n")
    with Serve(["127.0.0.1:0"], policy=str(policy)) as srv:
        doc = drive(srv.port(0), 40, 4, deadline_ms=300)
    assert doc["truncated"] is True
    assert doc["not_started"] == 36
    assert doc["kinds"] == {"cancelled": 4}
    assert doc["wall"] < 2.0, doc


def test_unreachable_jobs_end_with_a_failure_each(open_serve):
    # a port nothing listens on: every session fails fast, none hangs
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    doc = drive(port, 200, 20)
    assert doc["failed"] == 200
    assert doc["kinds"] == {"connection_refused": 200}
