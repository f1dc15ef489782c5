"""`smtprobe tls` against `smtprobe serve` (STARTTLS, implicit TLS and a
plain listener), each answer checked against what `openssl s_client`
says of the same listener: the protocols, and the suites of TLS 1.2 and
1.3 one by one.

- The scan's protocols equal s_client's (-tls1 ... -tls1_3, security level
  0 so that the old ones can be tried at all).
- Its TLS 1.2 and 1.3 suite lists equal the set s_client can negotiate
  among every suite Debian's OpenSSL knows.
- A trusted certificate for the name asked: no finding high or critical,
  exit 0; the JSON has the documented keys.
- A listener without STARTTLS: starttls.not_offered, high, exit 1.
- --quick opens a handful of connections; usage errors exit 2.
"""
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

import peers
from runner import run_smtprobe
from serve import Serve

POLICY = """\
hostname: mx.example.test
local_domains: [example.test]
auth:
  offer: false
"""
NAME = "mx.example.test"
PROTO_FLAGS = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1", "TLSv1.2": "-tls1_2",
               "TLSv1.3": "-tls1_3"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    policy = d / "policy.yaml"
    policy.write_text(POLICY)
    with Serve(["127.0.0.1:0/starttls", "127.0.0.1:0/implicit", "127.0.0.1:0"],
               policy=str(policy), workdir=str(d)) as s:
        yield s


def scan(srv, i, *extra):
    res = run_smtprobe(["tls", f"127.0.0.1:{srv.port(i)}", "--tls-ca-path", srv.ca_file,
                        "--tls-verify-host", NAME, *extra], timeout=60)
    doc = json.loads(res.stdout) if "--json" in extra else None
    return res, doc


def s_client(port, args, starttls=True):
    """Whether `openssl s_client` completes a handshake with these args,
    and the protocol and suite it got."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief"] + args
    if starttls:
        argv += ["-starttls", "smtp"]
    p = subprocess.run(argv, input=b"", capture_output=True, timeout=20)
    text = (p.stdout + p.stderr).decode(errors="replace")
    proto = re.search(r"Protocol version: (\S+)", text)
    cipher = re.search(r"Ciphersuite: (\S+)", text)
    return (proto.group(1) if proto else None, cipher.group(1) if cipher else None)


def openssl_suites(flag):
    out = subprocess.run(["openssl", "ciphers", flag, "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out.split(":")


def truth(port, starttls=True):
    """What s_client can negotiate: protocols, and the suites of 1.2 and 1.3."""
    protos = {}
    for name, flag in PROTO_FLAGS.items():
        got, _ = s_client(port, [flag, "-cipher", "ALL:@SECLEVEL=0"], starttls)
        protos[name] = got == name
    suites = {"TLSv1.2": set(), "TLSv1.3": set()}

    def try12(s):
        return s, s_client(port, ["-tls1_2", "-cipher", f"{s}:@SECLEVEL=0"], starttls)

    def try13(s):
        return s, s_client(port, ["-tls1_3", "-ciphersuites", s], starttls)

    with ThreadPoolExecutor(8) as ex:
        tls13 = [s for s in openssl_suites("-s") if s.startswith("TLS_")]
        for s, (p, c) in ex.map(try13, tls13):
            if p == "TLSv1.3" and c == s:
                suites["TLSv1.3"].add(s)
        tls12 = [s for s in openssl_suites("-tls1_2") if not s.startswith("TLS_")]
        for s, (p, c) in ex.map(try12, tls12):
            if p == "TLSv1.2" and c == s:
                suites["TLSv1.2"].add(s)
    return protos, suites


@pytest.fixture(scope="module")
def openssl():
    why = peers.problem("openssl")
    if why:
        pytest.fail(f"openssl s_client is the reference here: {why}")


@pytest.mark.parametrize("i,mode", [(0, "starttls"), (1, "implicit")])
def test_scan_agrees_with_openssl(srv, openssl, i, mode):
    res, doc = scan(srv, i, "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    protos, suites = truth(srv.port(i), starttls=(mode == "starttls"))
    assert doc["tls_mode"] == mode
    assert doc["protocols"]["SSLv3"] is False
    for name, offered in protos.items():
        assert doc["protocols"][name] is offered, (name, doc["protocols"])
    for proto, want in suites.items():
        got = {c["name"] for c in doc["ciphers"].get(proto, [])}
        assert got == want, (proto, sorted(got ^ want))
    for c in doc["ciphers"]["TLSv1.2"]:
        assert set(c) == {"name", "kx", "au", "enc", "bits", "strength"}, c
    assert doc["server_preference"]["TLSv1.2"] in ("server", "client")
    assert "x25519" in doc["groups"]
    cert = doc["certificate"]
    assert cert["trusted"] and cert["host_match"]
    assert cert["key_bits"] >= (256 if cert["key_type"] == "EC" else 2048), cert
    assert not [f for f in doc["findings"] if f["severity"] in ("high", "critical")]
    assert 5 < doc["connections"] < 150
    assert doc["software"] == "smtprobe serve"


def test_text_output(srv):
    res, _ = scan(srv, 0)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert f"127.0.0.1:{srv.port(0)} (STARTTLS), smtprobe serve" in out
    assert "TLSv1.2 yes" in out and "TLSv1.3 yes" in out and "SSLv3 no" in out
    assert "certificate" in out and "trusted" in out


def test_no_starttls_is_high(srv):
    res, doc = scan(srv, 2, "--json")
    assert res.returncode == 1, res.stdout + res.stderr
    [f] = [f for f in doc["findings"] if f["id"] == "starttls.not_offered"]
    assert f["severity"] == "high" and "smtprobe serve" in f["fix"]


def test_quick_is_a_few_handshakes(srv):
    res, doc = scan(srv, 0, "--json", "--quick")
    assert res.returncode == 0, res.stderr
    assert doc["connections"] <= 8
    assert doc["protocols"]["TLSv1.3"] is True


@pytest.mark.parametrize("args", [["tls"], ["tls", "127.0.0.1:1", "--bogus"],
                                  ["tls", "127.0.0.1", "--starttls", "--tlsc", "-p", "25"]])
def test_usage_errors(args):
    res = run_smtprobe(args)
    assert res.returncode == 2, res.stdout + res.stderr


def test_nothing_listening_is_2():
    res = run_smtprobe(["tls", "127.0.0.1:1", "--timeout", "2"])
    assert res.returncode == 2
    assert "127.0.0.1:1" in res.stderr


# ------------------------------------------- what Debian's OpenSSL lacks
# The misbehaving server answers every ClientHello with a crafted
# ServerHello (badserver.server_hello_flight): the scan's raw hellos read
# suites, versions and compression this OpenSSL cannot negotiate; the
# OpenSSL handshake fails and is said so, not taken for "no TLS".
from badserver import BadServer, server_hello_flight, starttls_script  # noqa: E402


@pytest.mark.parametrize("flight,proto,suite,fid,sev", [
    (server_hello_flight(0x000A), "TLSv1.2", "DES-CBC3-SHA", "cipher.3des", "medium"),
    (server_hello_flight(0x0005), "TLSv1.2", "RC4-SHA", "cipher.rc4", "high"),
    (server_hello_flight(0x0003), "TLSv1.2", "EXP-RC4-MD5", "cipher.export", "critical"),
    (server_hello_flight(0x002F, version=0x0300), "SSLv3", "AES128-SHA", "protocol.sslv3",
     "high"),
    (server_hello_flight(0xC02F, compression=1), "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256",
     "compression.enabled", "medium"),
], ids=["3des", "rc4", "export", "sslv3", "deflate"])
def test_crafted_server_hellos(flight, proto, suite, fid, sev):
    with BadServer(starttls_script([("tls_answer", flight)])) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--json", "--timeout", "5"],
                           timeout=60)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["protocols"][proto] is True, doc["protocols"]
    assert [c["name"] for c in doc["ciphers"][proto]] == [suite]
    assert {f["id"]: f["severity"] for f in doc["findings"]}.get(fid) == sev, doc["findings"]
    assert doc["handshake_error"], doc
    assert doc["certificate"] is None
    # this OpenSSL refused the server's choice: not the server's failure
    assert "tls.handshake_failed" not in {f["id"] for f in doc["findings"]}


def test_check_points_to_tls(srv):
    """check's ladder makes one handshake; its TLS line says where the
    whole posture is."""
    res = run_smtprobe(["check", f"127.0.0.1:{srv.port(0)}", "--tls", "--tls-ca-path",
                        srv.ca_file, "--no-relay-test"], timeout=60)
    assert f"smtprobe tls 127.0.0.1:{srv.port(0)}" in res.stdout, res.stdout


def test_rate_spaces_the_connections(srv):
    res, doc = scan(srv, 0, "--json", "--quick", "--rate", "20")
    assert res.returncode == 0, res.stderr
    # --quick: the first handshake and 5 hellos, 50 ms apart at least
    assert doc["ms"] >= 4 * 50, doc["ms"]


def test_a_rate_limited_server_is_not_taken_for_no_tls(tmp_path):
    """serve refuses the 11th connection of a minute with 421: what could
    not be asked is reported as not tested (null), the refusals counted as
    retries - never as a protocol or suite the server does not offer."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY + "limits:\n  connection_rate: 4\n")
    with Serve(["127.0.0.1:0/starttls"], policy=str(policy), workdir=str(tmp_path)) as s:
        res = run_smtprobe(["tls", f"127.0.0.1:{s.port(0)}", "--tls-ca-path", s.ca_file,
                            "--json", "--timeout", "3"], timeout=120)
    doc = json.loads(res.stdout)
    assert doc["retries"] > 0, doc
    assert doc["protocols"]["TLSv1.3"] in (True, None)
    assert doc["protocols"]["TLSv1.2"] in (True, None)
    untested = [p for p, v in doc["protocols"].items() if v is None]
    incomplete = [p for p, v in doc["ciphers_complete"].items() if not v]
    assert untested or incomplete, doc    # some could not be asked
    assert not [f for f in doc["findings"] if f["id"].startswith("protocol.no_")], \
        doc["findings"]


def test_starttls_injection_is_found():
    """A server that answers a command pipelined after STARTTLS once TLS is
    up (CVE-2011-0411): here the misbehaving server answers right after
    the handshake, where the EHLO reply is due."""
    from badserver import BANNER, STARTTLS_220, ehlo_reply
    script = [("send", BANNER), ("expect", b"EHLO"), ("send", ehlo_reply(starttls=True)),
              ("expect", b"STARTTLS"), ("send", STARTTLS_220), ("starttls",),
              ("send", b"500 5.5.2 Error: command not recognized\r\n"),
              ("expect", b"EHLO"), ("send", ehlo_reply()), ("expect", b"QUIT"),
              ("send", b"221 2.0.0 Bye\r\n")]
    with BadServer(script) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--json", "--timeout", "5"],
                           timeout=120)
    doc = json.loads(res.stdout)
    assert doc["session"]["starttls_injection"] is True, doc["session"]
    [f] = [f for f in doc["findings"] if f["id"] == "starttls.injection"]
    assert f["severity"] == "high"
    assert res.returncode == 1


def test_no_starttls_injection_on_serve(srv):
    _, doc = scan(srv, 0, "--json")
    assert doc["session"]["starttls_injection"] is False


def test_certificate_from_a_raw_flight():
    """A server this OpenSSL cannot handshake with (3DES only) still shows
    its leaf: the raw TLS 1.2 flight carries it; nothing is verified."""
    from badserver import cert_der, self_signed_cert
    der = cert_der(self_signed_cert()[0])
    flight = server_hello_flight(0x000A, certificate=der, done=True)
    with BadServer(starttls_script([("tls_answer", flight)])) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--json", "--timeout", "5"],
                           timeout=60)
    doc = json.loads(res.stdout)
    cert = doc["certificate"]
    assert cert and cert["verified"] is False and cert["trusted"] is None, cert
    assert cert["key_bits"] > 0 and cert["self_signed"] is True
    ids = {f["id"] for f in doc["findings"]}
    assert "cert.untrusted" not in ids and "cert.chain_incomplete" not in ids, ids


def _s_client_resumes(port, tmp_path, args):
    """Two s_client runs, the second offering the first's session: whether
    the server resumed it ("Reused")."""
    sess = tmp_path / "sess.pem"
    base = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-starttls", "smtp",
            "-ign_eof"] + args
    subprocess.run(base + ["-sess_out", str(sess)], input=b"QUIT\r\n",
                   capture_output=True, timeout=20)
    p = subprocess.run(base + ["-sess_in", str(sess)], input=b"QUIT\r\n",
                       capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace")
    return "Reused, " in out


def test_resumption_agrees_with_openssl(srv, tmp_path):
    _, doc = scan(srv, 0, "--json")
    ses = doc["session"]
    assert ses["resume_ticket"] is _s_client_resumes(srv.port(0), tmp_path, [])
    assert ses["resume_id"] is _s_client_resumes(srv.port(0), tmp_path,
                                                 ["-tls1_2", "-no_ticket"])
    assert ses["early_data"] is False


def s_client_renegotiates(port, starttls=True):
    """s_client -tls1_2, then its interactive R: whether the renegotiation
    went through (no "no renegotiation" error, the session goes on)."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2"]
    if starttls:
        argv += ["-starttls", "smtp"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    import time as _t
    _t.sleep(0.7)
    p.stdin.write(b"R\n")
    p.stdin.flush()
    _t.sleep(0.7)
    try:
        p.stdin.write(b"NOOP\r\n")
        p.stdin.flush()
        _t.sleep(0.5)
        p.stdin.close()
    except BrokenPipeError:
        pass
    out = p.communicate(timeout=20)[0].decode(errors="replace")
    assert "RENEGOTIATING" in out, out
    return "no renegotiation" not in out and "250 2.0.0" in out.split("RENEGOTIATING", 1)[1]


def test_client_renegotiation_agrees_with_openssl(srv):
    _, doc = scan(srv, 0, "--json")
    assert doc["session"]["client_renegotiation"] is s_client_renegotiates(srv.port(0))


def test_ehlo_reply_one_line_per_write_and_starttls_garbage():
    """A server that writes its EHLO reply a line at a time (sslscan fails
    there) is scanned all the same; one that answers STARTTLS with garbage
    makes the scan fail with exit 2 and a reason, not a verdict."""
    from badserver import BANNER, ehlo_line_per_write, starttls_garbage_reply_script
    script = starttls_script([("tls_answer", server_hello_flight(0xC02F))],
                             ehlo=ehlo_line_per_write())
    with BadServer(script) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--json", "--timeout", "5"],
                           timeout=60)
    doc = json.loads(res.stdout)
    assert doc["protocols"]["TLSv1.2"] is True, doc
    assert [c["name"] for c in doc["ciphers"]["TLSv1.2"]] == ["ECDHE-RSA-AES128-GCM-SHA256"]
    with BadServer(starttls_garbage_reply_script()) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--timeout", "2"], timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "STARTTLS" in res.stderr, res.stderr


def test_must_staple_and_chain_order(tmp_path):
    """serve with a must-staple leaf (no OCSP response to staple) sent
    behind its intermediates in the wrong order: both are findings."""
    import certs
    root = certs.make_ca(str(tmp_path), "Order Root")
    inter1 = certs.make_ca(str(tmp_path), "Order Inter One", issuer=root)
    inter2 = certs.make_ca(str(tmp_path), "Order Inter Two", issuer=inter1)
    leaf = certs.make_leaf(str(tmp_path), inter2, NAME, extra_ext=["tlsfeature=status_request"])
    chain = tmp_path / "misordered.pem"        # inter1 before inter2: out of order
    chain.write_text(open(inter1.cert).read() + open(inter2.cert).read())
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with Serve(["127.0.0.1:0/starttls"], policy=str(policy), workdir=str(tmp_path),
               extra=["--tls-cert", leaf.cert, "--tls-key", leaf.key,
                      "--tls-chain", str(chain)]) as s:
        res = run_smtprobe(["tls", f"127.0.0.1:{s.port(0)}", "--tls-ca-path", root.cert,
                            "--tls-verify-host", NAME, "--tls-verify", "--json"], timeout=60)
    doc = json.loads(res.stdout)
    cert = doc["certificate"]
    assert cert["must_staple"] is True and cert["chain_order_ok"] is False, cert
    got = {f["id"]: f["severity"] for f in doc["findings"]}
    assert got.get("cert.must_staple_unstapled") == "high", got
    assert got.get("cert.chain_order") == "low", got
    assert res.returncode == 1


def test_sni_in_every_hello():
    """--tls-sni goes into the raw hellos too; an address gets none."""
    with BadServer(starttls_script([("tls_answer", server_hello_flight(0xC02F))])) as srv:
        run_smtprobe(["tls", srv.address, "--starttls", "--quick", "--tls-sni",
                      "mx.example.test", "--timeout", "5"], timeout=60)
        # (an SSLv3 hello has no extensions, so no SNI)
        hellos = [h for h in srv.client_hellos if "error" not in h and h["version"] > 0x0300]
    assert hellos and all(h["sni"] == "mx.example.test" for h in hellos), \
        [h.get("sni") for h in hellos]
    with BadServer(starttls_script([("tls_answer", server_hello_flight(0xC02F))])) as srv:
        run_smtprobe(["tls", srv.address, "--starttls", "--quick", "--timeout", "5"],
                     timeout=60)
        hellos = [h for h in srv.client_hellos if "error" not in h]
    assert hellos and all(h["sni"] is None for h in hellos)


# ------------------------------------------------------------ --format nagios
def nagios(args):
    res = run_smtprobe(["tls", *args, "--format", "nagios"], timeout=60)
    first = res.stdout.splitlines()[0] if res.stdout else ""
    return res, first


def test_nagios_ok_warning_critical_unknown(srv):
    target = [f"127.0.0.1:{srv.port(0)}", "--tls-ca-path", srv.ca_file,
              "--tls-verify-host", NAME]
    res, line = nagios(target)
    assert res.returncode == 0 and line.startswith("SMTPROBE TLS OK - "), res.stdout
    status, perf = line.split(" | ")
    assert re.search(r"\btime=\d+\.\d{3}s;;;0\b", perf), perf
    assert re.search(r"\bcert_days=\d+;;;", perf), perf
    # a certificate with less than 400 days left: WARNING, thresholds in perfdata
    res, line = nagios(target + ["--cert-days", "400,30"])
    assert res.returncode == 1 and line.startswith("SMTPROBE TLS WARNING - "), res.stdout
    assert re.search(r"cert_days=\d+;400:;30:;", line), line
    # a time range that alerts inside: CRITICAL
    res, line = nagios(target + ["-c", "@0:100"])
    assert res.returncode == 2 and " CRITICAL - " in line, res.stdout
    # down: CRITICAL; a usage error: UNKNOWN
    res, line = nagios(["127.0.0.1:1", "--timeout", "2"])
    assert res.returncode == 2 and line.startswith("SMTPROBE TLS CRITICAL - 127.0.0.1:1"), \
        res.stdout
    res, _ = nagios(["127.0.0.1:1", "--bogus"])
    assert res.returncode == 3
    res, _ = nagios(["127.0.0.1:1", "-w", "abc"])
    assert res.returncode == 3 and "--warning" in res.stderr


def test_nagios_high_finding_is_critical(srv):
    res, line = nagios([f"127.0.0.1:{srv.port(2)}"])     # no STARTTLS
    assert res.returncode == 2, res.stdout
    assert "starttls.not_offered" in line
    assert "[high] starttls.not_offered" in res.stdout


def test_a_silent_server_after_starttls_is_not_a_verdict():
    """STARTTLS accepted, then nothing: the scan ends at the deadline with
    exit 2 and the reason, not with 'no protocol offered'."""
    with BadServer(starttls_script([("hold",)])) as srv:
        res = run_smtprobe(["tls", srv.address, "--starttls", "--timeout", "1"], timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "TLS" in res.stderr or "timeout" in res.stderr.lower(), res.stderr
    assert "not offered" not in res.stdout
