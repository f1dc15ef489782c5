"""Shared pytest setup for the end-to-end tests.

The tests drive the real `smtprobe` binary (SMTPROBE_BIN, default
build/smtprobe) against real servers the harness starts on loopback.
Fixtures live in tests/harness/ and are imported here so every test file
sees them. After the run, the summary shows what the real-server tests found
(expected verdict, smtprobe's, nmap's: mta_lab.summary_lines). The other programs the tests drive (swaks, Postfix, Dovecot, the
openssl CLI, GNU time) are checked once per session (peers.py): when one is
missing or lacks a feature, the tests that need it fail with one line that
says what to install.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from runner import SMTPROBE, ASAN, run_smtprobe  # noqa: E402,F401
from peer_fixtures import *  # noqa: E402,F401,F403
from postfix_fixtures import *  # noqa: E402,F401,F403
from badserver_fixtures import *  # noqa: E402,F401,F403
from mta_fixtures import *  # noqa: E402,F401,F403
from tls_posture_fixtures import *  # noqa: E402,F401,F403
from dns_fixtures import *  # noqa: E402,F401,F403


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "tls_postures: the TLS posture listeners and their s_client "
        "truth (tests/harness/tls_postures.py, tls_truth.py); select with "
        "-m tls_postures or -k tls_postures")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    # pytest's short summary leaves out the reason of a setup error: after
    # it, say once what this machine lacks
    yield
    import peers
    for why in peers.problems():
        terminalreporter.write_line(f"missing peer: {why}", red=True, bold=True)
    # what the real-server tests found (test_real_servers.py), when they ran
    import mta_lab
    for line in mta_lab.summary_lines():
        terminalreporter.write_line(line)
