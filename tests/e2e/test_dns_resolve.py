"""lib/dns/resolve.c against the DNS lab (Knot DNS with DNSSEC on loopback),
through tests/tools/dnsq: what the coming `smtprobe dns` will see.

Every query goes to the lab (--resolver), test. and 127.in-addr.arpa.
included although libunbound answers those itself by default; DNSSEC is
validated from the lab's trust anchor: secure for the signed zones,
insecure for the unsigned one, bogus (with the validator's reason) for the
two broken ones. Queries run at once on one loop; a silent resolver gives
TIMEOUT within the deadline.
"""
import json
import os
import socket
import subprocess
import time

import pytest

from runner import SMTPROBE

DNSQ = os.path.join(os.path.dirname(SMTPROBE), "dnsq")


def dnsq(resolver, anchor, *pairs, timeout_ms=3000):
    res = subprocess.run([DNSQ, resolver, anchor, str(timeout_ms), *pairs],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, f"dnsq exit {res.returncode}: {res.stderr}"
    answers = [json.loads(line) for line in res.stdout.splitlines()]
    return {(a["name"], a["type"]): a for a in answers}


def ask(lab, *pairs, anchor=None):
    return dnsq(lab.resolver, anchor or lab.anchor_file, *pairs)


def test_secure_mx_and_addresses(dns_lab):
    a = ask(dns_lab, "good.test", "MX", "mx.good.test", "A", "good.test", "TXT")
    mx = a[("good.test", "MX")]
    assert mx["status"] == "ok" and mx["dnssec"] == "secure", mx
    assert any(r.endswith(" mx.good.test") for r in mx["records"]), mx
    addr = a[("mx.good.test", "A")]
    assert addr["dnssec"] == "secure" and addr["records"], addr
    txt = a[("good.test", "TXT")]
    assert any(r.startswith("v=spf1") for r in txt["records"]), txt


@pytest.mark.parametrize("name,verdict", [
    ("good.test", "secure"), ("unsigned.test", "insecure"),
    ("bogus.test", "bogus"), ("bogus-ds.test", "bogus")])
def test_dnssec_verdicts(dns_lab, name, verdict):
    a = ask(dns_lab, name, "MX")[(name, "MX")]
    assert a["dnssec"] == verdict, a
    if verdict == "bogus":
        assert a["why"], a  # the validator's reason


def test_reverse_zone_reaches_the_resolver(dns_lab):
    """127.in-addr.arpa. is one of libunbound's default local zones: with a
    resolver given it must be asked there (the lab signs it, too)."""
    addr = dns_lab.mx_hosts["mx.good.test"]
    rev = ".".join(reversed(addr.split("."))) + ".in-addr.arpa"
    a = ask(dns_lab, rev, "PTR")[(rev, "PTR")]
    assert a["status"] == "ok" and a["records"], a
    assert a["dnssec"] == "secure", a


def test_missing_names_and_types(dns_lab):
    a = ask(dns_lab, "no-such-name.good.test", "A", "good.test", "TLSA")
    assert a[("no-such-name.good.test", "A")]["status"] == "nxdomain"
    assert a[("no-such-name.good.test", "A")]["dnssec"] == "secure"  # proven
    assert a[("good.test", "TLSA")]["status"] == "nodata"


def test_many_queries_at_once(dns_lab):
    names = [f"n{i}.good.test" for i in range(40)] + ["good.test"]
    pairs = [x for n in names for x in (n, "A")]
    t0 = time.monotonic()
    a = ask(dns_lab, *pairs)
    assert len(a) == len(names)
    assert time.monotonic() - t0 < 5, "40 lookups should not take seconds"


def test_silent_resolver_times_out(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        t0 = time.monotonic()
        a = dnsq(f"127.0.0.1:{port}", "-", "good.test", "MX", "x.test", "A",
                 timeout_ms=800)
        took = time.monotonic() - t0
    assert all(v["status"] == "timeout" for v in a.values()), a
    assert took < 3, f"two timeouts of 0.8 s took {took:.1f} s"


@pytest.mark.parametrize("bad", ["localhost:53", "127.0.0.1:0", "[::1", "1.2.3.4:x"])
def test_bad_resolver_is_a_usage_error(bad):
    res = subprocess.run([DNSQ, bad, "-", "1000", "good.test", "MX"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 2 and "bad resolver" in res.stderr, res
