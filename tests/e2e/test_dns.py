"""`smtprobe dns DOMAIN` against the DNS lab (tests/harness/dns_lab.py):
Knot DNS with DNSSEC from the lab's trust anchor, nginx serving the MTA-STS
policies, every query through --resolver; and the lab's MX hosts as SMTP
servers (tests/harness/dns_mx.py: `smtprobe serve` with STARTTLS on every
MX address, one port, --mx-port) for the banner, STARTTLS and DANE checks.

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
       "ptr.fcrdns", "mx.smtp", "mx.starttls", "ptr.banner", "spf.present", "spf.multiple", "spf.syntax", "spf.lookups",
       "spf.void_lookups", "spf.all", "spf.result", "dmarc.present",
       "dmarc.multiple", "dmarc.syntax", "dmarc.policy",
       "dmarc.rua_external_auth", "dkim.key", "mta_sts.record", "mta_sts.policy",
       "mta_sts.mx_match", "tlsrpt.present", "dane.tlsa", "dnssec.status"]
QUIET = {"pass", "info", "skip"}
CONNECTED = ("mx.smtp", "mx.starttls", "ptr.banner")


def sender_ip(d):
    """The address the domain's SPF (`mx -all`) lets send: its MX's."""
    for _, target in d.mx:
        host = target.rstrip(".")
        if host in MX_HOSTS:
            return MX_HOSTS[host]
    return SPF_IP


def dns(lab, domain, *extra, ip=SPF_IP, mx=None):
    """--json against the lab; with the MX listeners when mx is given, else
    --no-connect."""
    args = lab_args(lab, domain, mx) + ["--json", *extra]
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


def trips_its_checks(d, res, doc):
    """Every id in the report; d's trips with a status they allow; every
    other check quiet; the exit code."""
    name = d.name
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


@pytest.mark.parametrize("name", sorted(n for n, d in DOMAINS.items() if not d.mx_server))
def test_domain_trips_its_checks(dns_lab, dns_mx, name):
    d = DOMAINS[name]
    res, doc = dns(dns_lab, name, ip=sender_ip(d), mx=dns_mx)
    trips_its_checks(d, res, doc)


class _Port:
    def __init__(self, port):
        self.port = port


def test_a_real_postfix_as_the_mx(dns_lab, mailservers):
    """postfix-mx.test's MX is the harness's Postfix: the banner is its
    myhostname, not the PTR of 127.0.0.1, and the fix is Postfix's."""
    d = DOMAINS["postfix-mx.test"]
    res, doc = dns(dns_lab, d.name, ip=sender_ip(d), mx=_Port(mailservers.ports["mx"]))
    trips_its_checks(d, res, doc)
    c = by_id(doc)["ptr.banner"][0]
    assert f"banner '{mailservers.myhostname}' is not the PTR ns.test" in c["text"], c
    assert "Postfix: myhostname = NAME" in c["fix"] and "Exim" not in c["fix"], c
    smtp = doc["mx"][0]["addresses"][0]["smtp"]
    assert smtp["banner"].startswith(f"220 {mailservers.myhostname} ESMTP"), smtp
    assert smtp["starttls"] and smtp["tls"], smtp


def test_good_domain_text_report(dns_lab, dns_mx):
    res = run_smtprobe(lab_args(dns_lab, "good.test", dns_mx), timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "mx.good.test" in res.stdout
    # the session to the MX, on one line under it
    assert "127.0.0.2: 220 mx.good.test ESMTP" in res.stdout, res.stdout
    assert "DANE match" in res.stdout, res.stdout
    assert "result: 0 checks failed" in res.stdout, res.stdout


def test_dane_mismatch_gives_the_live_key(dns_lab, dns_mx):
    """tlsa-bad.test's TLSA names a key the MX does not have: the fail's
    fix is the record of the key it sends (the lab's "live" SPKI)."""
    _, doc = dns(dns_lab, "tlsa-bad.test", mx=dns_mx)
    c = by_id(doc)["dane.tlsa"][0]
    assert c["status"] == "fail", c
    assert f"TLSA 3 1 1 {dns_lab.tlsa['live']}" in c["fix"], c
    smtp = doc["mx"][0]["addresses"][0]["smtp"]
    assert smtp["dane"]["match"] is False and smtp["dane"]["records"] == 1, smtp
    assert smtp["spki_sha256"] == dns_lab.tlsa["live"], smtp


def test_dane_match_facts(dns_lab, dns_mx):
    _, doc = dns(dns_lab, "good.test", mx=dns_mx)
    smtp = doc["mx"][0]["addresses"][0]["smtp"]
    assert smtp["banner"].startswith("220 mx.good.test"), smtp
    assert smtp["ehlo_name"] == "mx.good.test" and smtp["starttls"], smtp
    assert smtp["dane"] == {"records": 2, "match": True, "depth": 0, "usage": 3,
                            "selector": 1, "mtype": 1}, smtp
    # the MX saw the handshake from us
    assert any(e.get("event") == "tls" and e.get("client", "").startswith("127.")
               for e in dns_mx.serve.events("tls")), dns_mx.serve.events()[-5:]


def test_dane_whole_certificate_record(dns_lab, dns_mx):
    """ptr-mismatch.test publishes the MX's whole certificate (TLSA 3 0 0,
    over a kilobyte of data): it is handed to OpenSSL whole, and matches."""
    _, doc = dns(dns_lab, "ptr-mismatch.test", mx=dns_mx)
    smtp = doc["mx"][0]["addresses"][0]["smtp"]
    assert smtp["dane"]["records"] == 1 and smtp["dane"]["match"] is True, smtp
    assert (smtp["dane"]["usage"], smtp["dane"]["selector"], smtp["dane"]["mtype"]) == \
        (3, 0, 0), smtp
    assert by_id(doc)["dane.tlsa"][0]["status"] == "pass"


def test_insecure_tlsa_is_not_used(dns_lab, dns_mx):
    """unsigned.test's TLSA matches, but the zone is insecure: no DANE on
    the connection (RFC 7672 §2.2), the certificate is judged by PKIX."""
    _, doc = dns(dns_lab, "unsigned.test", mx=dns_mx)
    smtp = doc["mx"][0]["addresses"][0]["smtp"]
    assert "dane" not in smtp and smtp["verify_ok"] is True, smtp


def test_no_connect_skips_the_smtp_checks(dns_lab):
    _, doc = dns(dns_lab, "good.test")
    for cid in CONNECTED:
        c = by_id(doc)[cid][0]
        assert c["status"] == "skip" and "--no-connect" in c["text"], c
    assert doc["mx"][0]["addresses"][0]["smtp"] is None
    dane = by_id(doc)["dane.tlsa"][0]
    assert "not compared with the live certificate" in dane["text"], dane


def test_mx_refusing_connections_fails(dns_lab):
    """Nothing listens on the port: mx.smtp fails, the rest is skipped."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    port = s.getsockname()[1]
    s.close()  # a port just freed: connections are refused
    res = run_smtprobe(lab_args(dns_lab, "good.test") [:-1] +
                       ["--mx-port", str(port), "--json"], timeout=60)
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    c = by_id(doc)["mx.smtp"][0]
    assert c["status"] == "fail" and "connection refused" in c["text"], c
    assert by_id(doc)["mx.starttls"][0]["status"] == "skip"


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
def lab_args(lab, domain, mx=None):
    """The lab's options; --mx-port with the MX listeners, else
    --no-connect (always last)."""
    return ["dns", domain, "--resolver", lab.resolver, "--trust-anchor",
            lab.anchor_file, "--mta-sts-port", str(lab.https_port),
            "--tls-ca-path", lab.ca_file, "--dkim-selector", DKIM_SELECTOR] + \
        (["--mx-port", str(mx.port)] if mx else ["--no-connect"])


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
