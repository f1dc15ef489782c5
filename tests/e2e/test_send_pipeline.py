"""PIPELINING (RFC 2920) against the real Postfix: every --quit-after stage
with --pipeline must stop cleanly, with no reply to a pipelined command
mistaken for the reply to QUIT."""
import pytest

from runner import run_smtprobe

STAGES = ["mail", "rcpt", "data", "dot"]


@pytest.mark.parametrize("stage", STAGES)
def test_pipeline_quit_after(mailservers, stage):
    res = run_smtprobe(["send", "--server", mailservers.host, "--port", mailservers.ports["mx"],
                        "--helo", "client.example.test", "--timeout", "5", "--pipeline",
                        "--from", "a@example.org", "--to", "alice@example.test,bob@example.test",
                        "--quit-after", stage, "--json"])
    assert res.returncode == 0, res.stdout + res.stderr
    doc = res.json()
    assert doc["stage"] == stage
    assert doc["error"] is None
    names = [s["name"] for s in doc["stages"]]
    assert names[-1] == "quit" or stage == "data", names
    if stage == "mail":
        assert "rcpt" not in names, names


def test_pipeline_refused_recipients(mailservers):
    """All RCPTs refused while DATA is already in flight: exit 24, and the
    pipelined DATA reply is not taken for anything else."""
    res = run_smtprobe(["send", "--server", mailservers.host, "--port", mailservers.ports["mx"],
                        "--helo", "client.example.test", "--timeout", "5", "--pipeline",
                        "--from", "a@example.org", "--to", "x@relay-test.invalid,y@relay-test.invalid",
                        "--json"])
    assert res.returncode == 24, res.stdout + res.stderr
    doc = res.json()
    assert [r["accepted"] for r in doc["recipients"]] == [False, False]
    assert doc["recipients"][0]["reply"]["code"] == 554
    assert doc["stages"][-1]["name"] == "quit"
    assert doc["stages"][-1]["reply"]["code"] == 221
