"""`smtprobe dns DOMAIN` against the DNS lab (tests/harness/dns_lab.py):
Knot DNS with DNSSEC from the lab's trust anchor, nginx serving the MTA-STS
policies, every query through --resolver.

Table-driven from dns_zones.DOMAINS: each domain trips the checks its
`trips` names, with one of the statuses listed there, and every other check
passes, is a fact, or is skipped (the baseline is good.test's). The JSON
contract of issue 14 is checked on every report: every check id in every
report, dkim.key once per selector with a `selector` field, spf.result's
text starting with the result word.
"""
import json

import pytest

from dns_zones import DOMAINS, DKIM_SELECTOR, MX_HOSTS, SPF_IP
from runner import run_smtprobe

IDS = ["mx.present", "mx.null", "mx.cname", "mx.resolves", "ptr.present",
       "ptr.fcrdns", "spf.present", "spf.multiple", "spf.syntax", "spf.lookups",
       "spf.void_lookups", "spf.all", "spf.result", "dmarc.present",
       "dmarc.multiple", "dmarc.syntax", "dmarc.policy",
       "dmarc.rua_external_auth", "dkim.key", "mta_sts.record", "mta_sts.policy",
       "mta_sts.mx_match", "tlsrpt.present", "dane.tlsa", "dnssec.status"]
QUIET = {"pass", "info", "skip"}
# What is not built yet (issue 14 goes on): TLSA matched against the chain
# the MX sends over STARTTLS
NOT_YET = {"tlsa-bad.test": "the live DANE match needs the SMTP connections"}


def sender_ip(d):
    """The address the domain's SPF (`mx -all`) lets send: its MX's."""
    for _, target in d.mx:
        host = target.rstrip(".")
        if host in MX_HOSTS:
            return MX_HOSTS[host]
    return SPF_IP


def dns(lab, domain, *extra, ip=SPF_IP):
    args = ["dns", domain, "--resolver", lab.resolver, "--trust-anchor",
            lab.anchor_file, "--mta-sts-port", str(lab.https_port),
            "--tls-ca-path", lab.ca_file, "--dkim-selector", DKIM_SELECTOR,
            "--json", *extra]
    if ip:
        args += ["--ip", ip]
    res = run_smtprobe(args, timeout=60)
    assert res.returncode in (0, 1), f"exit {res.returncode}\n{res.stderr}"
    return res, json.loads(res.stdout)


def by_id(doc):
    out = {}
    for c in doc["checks"]:
        out.setdefault(c["id"], []).append(c)
    return out


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=NOT_YET[n], strict=True))
    if n in NOT_YET else n for n in sorted(DOMAINS)])
def test_domain_trips_its_checks(dns_lab, name):
    d = DOMAINS[name]
    res, doc = dns(dns_lab, name, ip=sender_ip(d))
    # a broken SPF record makes check_host() a permerror too
    spf_broken = any(c.startswith("spf.") for c in d.trips)
    checks = by_id(doc)
    assert doc["domain"] == name
    for cid in IDS:  # every id in every report
        assert cid in checks, f"{cid} missing from the report of {name}"
    for cid, allowed in d.trips.items():
        got = [c["status"] for c in checks.get(cid, [])]
        assert got and all(s in allowed for s in got if s not in QUIET) \
            and any(s in allowed for s in got), \
            f"{name}: {cid} is {got}, want one of {allowed}\n" + \
            "\n".join(c["text"] for c in checks.get(cid, []))
    for cid, cs in checks.items():
        if cid in d.trips or (cid == "spf.result" and spf_broken):
            continue
        for c in cs:
            assert c["status"] in QUIET, \
                f"{name}: {cid} is {c['status']} but the domain should not trip it: {c['text']}"
    fails = any(c["status"] == "fail" for c in doc["checks"])
    assert res.returncode == (1 if fails else 0), res.stdout


def test_good_domain_text_report(dns_lab):
    res = run_smtprobe(["dns", "good.test", "--resolver", dns_lab.resolver,
                        "--trust-anchor", dns_lab.anchor_file, "--mta-sts-port",
                        str(dns_lab.https_port), "--tls-ca-path", dns_lab.ca_file,
                        "--dkim-selector", DKIM_SELECTOR], timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "mx.good.test" in res.stdout
    assert "result: 0 checks failed" in res.stdout, res.stdout


def test_json_contract(dns_lab):
    _, doc = dns(dns_lab, "good.test", "--dkim-selector", "nosuch")
    keys = by_id(doc)["dkim.key"]
    assert sorted(k["selector"] for k in keys) == sorted([DKIM_SELECTOR, "nosuch"]), keys
    spf = by_id(doc)["spf.result"][0]
    assert spf["text"].split()[0] in {"pass", "fail", "softfail", "neutral", "none",
                                      "permerror", "temperror"}, spf
    assert doc["mx"] and doc["mx"][0]["host"] == "mx.good.test", doc["mx"]


def test_spf_result_for_a_stranger(dns_lab):
    _, doc = dns(dns_lab, "good.test", ip="192.0.2.99")
    spf = by_id(doc)["spf.result"][0]
    assert spf["text"].startswith("fail"), spf


@pytest.mark.parametrize("args,why", [
    (["dns"], "usage"),
    (["dns", "bad..domain"], "not a domain"),
    (["dns", "good.test", "--ip", "300.1.1.1"], "bad --ip"),
    (["dns", "good.test", "--resolver", "localhost:53"], "bad resolver"),
])
def test_usage_errors(args, why):
    res = run_smtprobe(args, timeout=20)
    assert res.returncode == 2, res
    assert why in res.stderr, res.stderr


# ---------------------------------------------------------------- --format
def lab_args(lab, domain):
    return ["dns", domain, "--resolver", lab.resolver, "--trust-anchor",
            lab.anchor_file, "--mta-sts-port", str(lab.https_port),
            "--tls-ca-path", lab.ca_file, "--dkim-selector", DKIM_SELECTOR]


def test_format_prometheus(dns_lab):
    from test_formats import check_metrics, sample
    res = run_smtprobe(lab_args(dns_lab, "dmarc-extrua.test") +
                       ["--format", "prometheus"], timeout=60)
    assert res.returncode == 1, res.stderr
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_probe_success") == 0
    assert sample(m, "smtprobe_dns_check_status", check="dmarc.rua_external_auth",
                  status="fail") == 1
    assert sample(m, "smtprobe_dns_check_status", check="dkim.key:s1",
                  status="pass") == 1
    assert sample(m, "smtprobe_dnssec_secure") == 1


def test_format_junit(dns_lab):
    from test_formats import check_junit
    res = run_smtprobe(lab_args(dns_lab, "spf-plusall.test") +
                       ["--format", "junit"], timeout=60)
    assert res.returncode == 1, res.stderr
    root = check_junit(res.stdout)
    failed = [c.get("name") for c in root.iter("testcase")
              if c.find("failure") is not None]
    assert failed == ["spf.all"], failed


@pytest.mark.parametrize("domain,state,code", [
    ("good.test", "OK", 0), ("dmarc-none.test", "WARNING", 1),
    ("spf-plusall.test", "CRITICAL", 2)])
def test_format_nagios(dns_lab, domain, state, code):
    from test_formats import parse_nagios
    res = run_smtprobe(lab_args(dns_lab, domain) + ["--format", "nagios"],
                       timeout=60)
    assert res.returncode == code, res.stdout + res.stderr
    got, summary, perf, lines = parse_nagios(res.stdout, "DNS")
    assert got == state and domain in summary, res.stdout
    assert perf["checks"][0] >= len(IDS), perf


def test_format_nagios_usage_is_unknown():
    res = run_smtprobe(["dns", "--format", "nagios"], timeout=20)
    assert res.returncode == 3, res
