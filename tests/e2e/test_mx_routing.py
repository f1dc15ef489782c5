"""MX routing (issue 14): `send` without --server goes to the first
recipient domain's MX in preference order, the next address when one
cannot be reached; `check DOMAIN` checks each MX. Against the DNS lab
(Knot DNS, every lookup through --resolver) and its MX hosts as SMTP
servers (tests/harness/dns_mx.py: `smtprobe serve` on 127.0.0.2-.6, one
port, --port).

The lab's domains: good.test (MX 10 mx.good.test, 127.0.0.2),
mx-backup.test (MX 10 mx1.mx-backup.test at 127.0.0.7 where nothing
listens, MX 20 mx.good.test), nullmx.test (the null MX), nomx.test (no MX
and no address).
"""
import json

import pytest

from dns_zones import DOWN_MX, MX_HOSTS
from runner import run_smtprobe


def send(lab, mx, to, *extra, json_out=False):
    args = ["send", "--to", to, "--from", "probe@good.test", "--resolver",
            lab.resolver, "--port", str(mx.port), *extra]
    if json_out:
        args.append("--json")
    return run_smtprobe(args, timeout=60)


def accepted_for(mx, rcpt):
    """The MX took a message for rcpt: its RCPT, and a message after it
    from the same client."""
    rc = [e for e in mx.serve.events("rcpt") if rcpt in json.dumps(e)]
    return rc and [e for e in mx.serve.events("accepted")
                   if e.get("client") == rc[-1].get("client")]


def test_send_routes_to_the_mx(dns_lab, dns_mx):
    rcpt = "route-one@good.test"
    res = send(dns_lab, dns_mx, rcpt, "--tls", "--tls-verify", "--tls-ca-path",
               dns_lab.ca_file)
    assert res.returncode == 0, res.stdout + res.stderr
    # which host, and why, before the session
    assert "=== Routing: MX 10 mx.good.test for good.test, 1 of 1 by " \
           "preference, address 127.0.0.2" in res.stdout, res.stdout
    # the certificate was verified against the MX's name, not the address
    assert "matches the host name" in res.stdout, res.stdout
    assert accepted_for(dns_mx, rcpt), dns_mx.serve.events()[-5:]


def test_send_falls_back_to_the_next_mx(dns_lab, dns_mx):
    rcpt = "route-backup@mx-backup.test"
    res = send(dns_lab, dns_mx, rcpt)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    first = out.index(f"MX 10 {DOWN_MX[0]} for mx-backup.test, 1 of 2")
    nxt = out.index(f"{DOWN_MX[1]} did not serve: trying the next address")
    second = out.index("MX 20 mx.good.test for mx-backup.test, 2 of 2")
    assert first < nxt < second, out
    assert accepted_for(dns_mx, rcpt)


def test_send_json_has_the_route(dns_lab, dns_mx):
    res = send(dns_lab, dns_mx, "route-json@mx-backup.test", "--quit-after",
               "ehlo", json_out=True)
    assert res.returncode == 0, res.stderr
    route = json.loads(res.stdout)["route"]
    assert route["domain"] == "mx-backup.test" and route["kind"] == "mx"
    assert [(h["host"], h["preference"], h["addresses"]) for h in route["hosts"]] == \
        [(DOWN_MX[0], 10, [DOWN_MX[1]]), ("mx.good.test", 20, [MX_HOSTS["mx.good.test"]])]
    a = route["attempts"]
    assert len(a) == 2 and "connection refused" in a[0]["error"], a
    assert a[1]["address"] == MX_HOSTS["mx.good.test"] and "error" not in a[1], a


def test_copy_routing(dns_lab, dns_mx):
    """--copy-routing: the route of another domain (swaks' option)."""
    res = send(dns_lab, dns_mx, "someone@elsewhere.invalid", "--copy-routing",
               "good.test", "--quit-after", "ehlo")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "MX 10 mx.good.test for good.test" in res.stdout, res.stdout


def test_address_literal_needs_no_dns(dns_mx):
    addr = MX_HOSTS["mx.good.test"]
    res = run_smtprobe(["send", "--to", f"x@[{addr}]", "--port", str(dns_mx.port),
                        "--quit-after", "ehlo"], timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"the address literal [{addr}]" in res.stdout, res.stdout


@pytest.mark.parametrize("domain,said", [
    ("nullmx.test", "takes no mail: its MX record is the null MX '0 .' (RFC 7505)"),
    ("nosuch.test", "nosuch.test does not exist (NXDOMAIN)"),
    ("nomx.test", "nomx.test has no MX record and no address of its own"),
])
def test_send_without_a_route(dns_lab, dns_mx, domain, said):
    res = send(dns_lab, dns_mx, f"x@{domain}")
    assert res.returncode == 2, res.stdout + res.stderr  # swaks: connect error
    assert said in res.stderr and res.stdout == "", res.stderr


@pytest.mark.parametrize("opt", [["--resolver", "127.0.0.1:53"],
                                 ["--copy-routing", "good.test"]])
def test_routing_options_need_no_server(opt):
    res = run_smtprobe(["send", "--server", "127.0.0.1:9", "--to", "a@b.test", *opt],
                       timeout=20)
    assert res.returncode == 1, res
    assert "is for MX routing: leave --server out" in res.stderr, res.stderr


def test_usage_errors_come_before_any_lookup(dns_lab):
    """A bad option is found before the MX lookup: nothing is asked."""
    res = run_smtprobe(["send", "--to", "x@good.test", "--resolver",
                        "127.0.0.1:9", "--quit-after", "bogus"], timeout=20)
    assert res.returncode == 1 and "unknown --quit-after" in res.stderr, res


# ------------------------------------------------------------- check DOMAIN
def check(lab, mx, domain, *extra):
    return run_smtprobe(["check", domain, "--resolver", lab.resolver, "--port",
                         str(mx.port), "--tls-ca-path", lab.ca_file, *extra],
                        timeout=90)


def test_check_domain_checks_each_mx(dns_lab, dns_mx):
    res = check(dns_lab, dns_mx, "mx-backup.test", "--json")
    assert res.returncode == 1, res.stderr  # the first MX is down
    doc = json.loads(res.stdout)
    assert doc["domain"] == "mx-backup.test" and doc["exit_code"] == 1
    assert [m["host"] for m in doc["mx"]] == [DOWN_MX[0], "mx.good.test"]
    down, up = (m["check"] for m in doc["mx"])
    steps = lambda c: {s["name"]: s["status"] for s in c["steps"]}  # noqa: E731
    assert steps(down)["tcp"] == "fail", down["steps"]
    assert steps(up)["banner"] == "pass" and steps(up)["tls"] == "pass", up["steps"]
    assert doc["mx"][1]["why"].startswith("MX 20 mx.good.test"), doc["mx"][1]


def test_check_domain_text(dns_lab, dns_mx):
    res = check(dns_lab, dns_mx, "good.test")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("== MX 10 mx.good.test for good.test, 1 of 1 "
                                 "by preference, address 127.0.0.2"), res.stdout


def test_check_domain_refuses_single_server_formats(dns_lab, dns_mx):
    res = check(dns_lab, dns_mx, "good.test", "--format", "nagios")
    assert res.returncode == 2, res
    assert "is a mail domain (MX records): --format nagios checks one server" \
        in res.stderr, res.stderr


def test_check_a_name_without_mx_is_a_server(dns_lab, dns_mx):
    """mx.good.test has no MX: it is checked itself (its address through the
    system's resolver cannot be had here, so give it as HOST:PORT)."""
    res = check(dns_lab, dns_mx, f"{MX_HOSTS['mx.good.test']}:{dns_mx.port}",
                "--tls-verify-host", "mx.good.test", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "route" not in json.loads(res.stdout)
