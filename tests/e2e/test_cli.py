"""The top-level command: every subcommand is listed and has --help."""
import pytest

from runner import run_smtprobe

COMMANDS = ["check", "dns", "explain", "exporter", "logs", "relay", "run", "send", "serve",
            "tls"]


def test_help_lists_every_command():
    res = run_smtprobe(["--help"])
    assert res.returncode == 0
    for cmd in COMMANDS:
        assert f"  {cmd} " in res.stdout, res.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_command_has_help(cmd):
    res = run_smtprobe([cmd, "--help"])
    assert res.returncode == 0, res.stderr
    assert f"smtprobe {cmd}" in res.stdout


def test_unknown_command():
    res = run_smtprobe(["frobnicate"])
    assert res.returncode == 1
    assert res.stderr.startswith("smtprobe: unknown command")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_command_has_a_man_page(cmd):
    import os
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    page = os.path.join(root, "docs", f"smtprobe-{cmd}.1")
    assert os.path.exists(page), page
    with open(os.path.join(root, "meson.build")) as f:
        assert f"docs/smtprobe-{cmd}.1" in f.read()
