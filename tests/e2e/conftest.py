"""Shared pytest setup for the end-to-end tests.

The tests drive the real `smtprobe` binary (SMTPROBE_BIN, default
build/smtprobe) against real servers the harness starts on loopback.
Fixtures live in tests/harness/ and are imported here so every test file
sees them.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from runner import SMTPROBE, ASAN, run_smtprobe  # noqa: E402,F401
from postfix_fixtures import *  # noqa: E402,F401,F403
from badserver_fixtures import *  # noqa: E402,F401,F403
