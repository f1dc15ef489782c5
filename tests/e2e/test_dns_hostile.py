"""`smtprobe dns` against large and strange answers
(tests/harness/hostile_dns.py): 40 TXT records and a 1400-byte SPF record
are read whole; more TXT records than it keeps (256), a NUL inside a TXT
string, an A record set larger than it keeps behind an SPF a: term must
never give a guess: "could not tell" (or the record's real fault), never a
pass or a fail read from a part of the answer.
"""
import json

import pytest

from hostile_dns import HostileDns
from runner import run_smtprobe


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    # a trust anchor for an unrelated zone: these names are then plainly
    # insecure (with the root's anchor, unsigned test. names are bogus)
    anchor = tmp_path_factory.mktemp("anchor") / "unrelated.ds"
    anchor.write_text("unrelated.example. 3600 IN DS 12345 13 2 " + "ab" * 32 + "\n")
    with HostileDns() as h:
        h.anchor = str(anchor)
        yield h


def report(h, domain, ip="192.0.2.1"):
    res = run_smtprobe(["dns", domain, "--resolver", h.resolver, "--trust-anchor",
                        h.anchor, "--ip", ip, "--timeout", "5", "--no-connect",
                        "--json"],
                       timeout=30)
    assert res.returncode in (0, 1), res.stderr
    doc = json.loads(res.stdout)
    return {c["id"]: c for c in doc["checks"]}


@pytest.mark.parametrize("domain", ["many.test", "big.test"])
def test_large_answers_are_read_whole(hostile, domain):
    """40 TXT records, or an SPF record of 1400 bytes: all of it is read."""
    c = report(hostile, domain)
    assert c["spf.present"]["status"] == "pass", c["spf.present"]
    assert c["spf.result"]["text"].startswith("pass"), c["spf.result"]


def test_answers_too_large_are_not_guessed(hostile):
    c = report(hostile, "huge.test")
    assert c["spf.present"]["status"] == "warn", c["spf.present"]
    assert "could not tell" in c["spf.present"]["text"], c["spf.present"]
    assert c["spf.result"]["status"] == "skip", c["spf.result"]
    assert "192.0.2.1" in c["spf.result"]["text"], c["spf.result"]


def test_nul_does_not_hide_the_rest(hostile):
    c = report(hostile, "nul.test")
    assert c["spf.syntax"]["status"] == "fail", c["spf.syntax"]
    assert "evil.example" in c["spf.present"]["text"], c["spf.present"]


@pytest.mark.parametrize("ip", ["192.0.2.1", "192.0.2.20", "192.0.2.40"])
def test_address_set_too_large_is_temperror(hostile, ip):
    c = report(hostile, "spfa.test", ip=ip)
    assert c["spf.result"]["text"].startswith("temperror"), c["spf.result"]
