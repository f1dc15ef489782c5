"""The top-level command: every subcommand is listed and has --help."""
import pytest

from runner import run_smtprobe

COMMANDS = ["check", "explain", "send", "serve"]


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
