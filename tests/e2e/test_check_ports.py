"""Port discovery of `smtprobe check`: the ports probed at once, a table of
what each offers, a recommendation, and the ladder run on the best one."""
import json
import socket
import time

from runner import run_smtprobe
from serve import Serve


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check(*args, timeout=60):
    return run_smtprobe(["check"] + list(args), timeout=timeout)


def test_discovery_table_recommendation_and_ladder(tmp_path):
    with Serve(["127.0.0.1:0,policy=mx", "127.0.0.1:0/starttls-required,policy=submission"],
               workdir=str(tmp_path)) as srv:
        plain, sub = srv.port(0), srv.port(1)
        closed = closed_port()
        res = check("127.0.0.1", "--ports", f"{closed},{plain},{sub}",
                    "--tls-ca-path", srv.ca_file, "--no-relay-test", "--json")
    doc = json.loads(res.stdout)
    probes = {p["port"]: p for p in doc["ports"]["probes"]}
    assert probes[closed]["open"] is False and "refused" in probes[closed]["error"]
    assert probes[plain]["open"] is True and probes[plain]["tls"] == "none"
    assert probes[sub]["open"] is True and probes[sub]["tls"] == "starttls"
    assert probes[sub]["cert_ok"] is True
    assert "PLAIN" in probes[sub]["auth"] and not probes[sub]["auth_in_clear"]
    # the submission port (TLS + AUTH) is the one to use, and the ladder ran there
    assert doc["ports"]["best"] == sub
    assert f"port {sub}" in doc["ports"]["recommendation"]
    assert "STARTTLS" in doc["ports"]["recommendation"]
    assert doc["port"] == sub
    steps = {s["name"]: s["status"] for s in doc["steps"]}
    assert steps["tcp"] == "pass" and steps["tls"] == "pass", steps


def test_discovery_text_table(tmp_path):
    with Serve(["127.0.0.1:0,policy=open"], workdir=str(tmp_path)) as srv:
        res = check("127.0.0.1", "--ports", f"{srv.port(0)}", "--no-relay-test")
    assert "ports" in res.stdout and "recommended:" in res.stdout, res.stdout
    assert "none (no TLS offered)" in res.stdout, res.stdout


def test_discovery_is_concurrent(tmp_path):
    """Ports that never answer cost one timeout in all, not one each."""
    policy = tmp_path / "silent.yaml"
    policy.write_text("local_domains: [example.test]\n"
                      "faults:\n  - {command: connect, action: silence}\n")
    with Serve([f"127.0.0.1:0,policy={policy}"] * 3, workdir=str(tmp_path)) as srv:
        ports = ",".join(str(srv.port(i)) for i in range(3))
        start = time.monotonic()
        res = check("127.0.0.1", "--ports", ports, "--timeout", "1.5", "--json")
        elapsed = time.monotonic() - start
    doc = json.loads(res.stdout)
    assert all(not p["open"] for p in doc["ports"]["probes"]), doc["ports"]
    assert doc["ports"]["best"] is None
    assert doc["ports"]["ms"] < 1500 * 1.8, doc["ports"]["ms"]
    assert res.returncode == 1
    assert elapsed < 10, elapsed


def test_explicit_port_skips_discovery(tmp_path):
    with Serve(["127.0.0.1:0,policy=mx"], workdir=str(tmp_path)) as srv:
        res = check(f"127.0.0.1:{srv.port(0)}", "--json", "--no-relay-test")
    doc = json.loads(res.stdout)
    assert doc["ports"] is None
    assert doc["port"] == srv.port(0)


def test_bad_ports_option():
    res = check("127.0.0.1", "--ports", "25,x")
    assert res.returncode == 2
    assert res.stderr.startswith("smtprobe: ") and "--ports" in res.stderr


def test_discovery_finds_implicit_tls_on_any_port(tmp_path):
    """An implicit-TLS listener on an unusual port is found at once (a TLS
    probe runs beside the plain one), not after a banner timeout."""
    with Serve(["127.0.0.1:0/implicit,policy=submission", "127.0.0.1:0/starttls,policy=mx"],
               workdir=str(tmp_path)) as srv:
        imp, stls = srv.port(0), srv.port(1)
        res = check("127.0.0.1", "--ports", f"{imp},{stls}", "--tls-ca-path", srv.ca_file,
                    "--no-relay-test", "--timeout", "5", "--json")
    doc = json.loads(res.stdout)
    probes = {p["port"]: p for p in doc["ports"]["probes"]}
    assert probes[imp]["open"] and probes[imp]["tls"] == "implicit", probes[imp]
    assert probes[imp]["cert_ok"] and "PLAIN" in probes[imp]["auth"], probes[imp]
    assert probes[stls]["open"] and probes[stls]["tls"] == "starttls", probes[stls]
    assert doc["ports"]["ms"] < 2000, doc["ports"]["ms"]  # far below the 5 s banner deadline


# ---- finding how a port speaks TLS, politely ------------------------------

def test_check_p_finds_implicit_tls_on_an_unusual_port(tmp_path):
    """-p on an implicit-TLS listener at an unusual port, no --tlsc: the
    server stays silent, so check tries TLS at once instead of waiting out
    --timeout for a banner."""
    with Serve(["127.0.0.1:0/implicit,policy=submission"], workdir=str(tmp_path)) as srv:
        res = check(f"127.0.0.1:{srv.port(0)}", "--tls-ca-path", srv.ca_file,
                    "--no-relay-test", "--json", "--timeout", "10")
    doc = json.loads(res.stdout)
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["tls"]["status"] == "pass", steps["tls"]
    assert steps["banner"]["status"] == "pass"
    assert doc["session"]["tls"]["implicit"] is True
    assert res.elapsed < 3, res.elapsed


def test_no_clienthello_to_a_port_that_speaks_smtp(badserver):
    """Discovery of a plain port at an unusual number: the server speaks
    first, so it never gets a TLS ClientHello (Exim counts one as a
    protocol error)."""
    from badserver import good_script
    srv = badserver(good_script(upto="ehlo") + [("serve",)])
    res = check("127.0.0.1", "--ports", str(srv.port), "--no-relay-test", "--json")
    doc = json.loads(res.stdout)
    assert doc["ports"]["probes"][0]["open"] is True
    assert not any(l.startswith(b"\x16") for l in srv.lines), srv.lines
    assert all(not l or l[0] < 0x80 for l in srv.lines)


def test_ports_that_all_stay_closed_are_the_finding(tmp_path):
    """--ports where nothing answers: reported as such, exit 1; the ladder
    does not run on some other port in their place."""
    a, b = closed_port(), closed_port()
    res = check("127.0.0.1", "--ports", f"{a},{b}", "--json")
    assert res.returncode == 1, res.stdout
    doc = json.loads(res.stdout)
    tcp = next(s for s in doc["steps"] if s["name"] == "tcp")
    assert tcp["status"] == "fail"
    assert "no SMTP service answers" in tcp["detail"]
    assert tcp["diagnosis"]["kb"] == "local-econnrefused"
    assert doc["session"] is None or doc["session"]["server"]["port"] != 25
    text = check("127.0.0.1", "--ports", f"{a},{b}")
    assert "port 25" not in text.stdout
