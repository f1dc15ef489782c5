"""`smtprobe tls` against real Postfix listeners with known TLS postures
(tests/harness/tls_postures.py), each scan compared with what
`openssl s_client` measured of the same listener (tls_truth.py): the
protocols, every protocol's suites, the DH group, the chain facts - and
the findings each posture is built to produce, with their severities.

The listeners answer on free loopback ports, so none is 25, 465 or 587:
trust counts where AUTH is offered or with --tls-verify; the postures
offer no AUTH, so --tls-verify is given where a test needs trust findings
to be high.
"""
import json

import pytest

from runner import run_smtprobe

pytestmark = pytest.mark.tls_postures

POSTURES = ["modern", "legacy_protocols", "weak_suites", "dhe1024", "dhe_ffdhe2048",
            "weak_cert", "expiring", "broken_chain", "implicit"]


def scan(tp, name, *extra):
    res = run_smtprobe(["tls", tp.address(name), "--tls-ca-path", tp.ca_file,
                        "--tls-verify-host", tp.hostname, "--json", *extra], timeout=90)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    return res, json.loads(res.stdout)


def findings(doc):
    return {f["id"]: f["severity"] for f in doc["findings"]}


@pytest.mark.parametrize("name", POSTURES)
def test_protocols_and_suites_agree_with_openssl(tls_postures, tls_truth, name):
    _, doc = scan(tls_postures, name)
    truth = tls_truth[name]
    assert doc["tls_mode"] == ("implicit" if tls_postures.postures[name].implicit
                               else "starttls")
    for proto, offered in truth.protocols.items():
        if offered is None:          # SSLv3: Debian's s_client cannot say
            continue
        assert doc["protocols"][proto] is offered, (proto, doc["protocols"])
    for proto, suites in truth.suites.items():
        got = sorted(c["name"] for c in doc["ciphers"].get(proto, []))
        assert got == sorted(suites), (proto, sorted(set(got) ^ set(suites)))
    if truth.dh_bits:
        assert doc["dh_bits"] == truth.dh_bits
    cert = doc["certificate"]
    assert len(cert["chain"]) == truth.chain_len
    assert cert["key_bits"] == truth.certs[0].key_bits
    assert cert["host_match"] is truth.hostname_ok


def test_modern_has_nothing_to_say(tls_postures):
    res, doc = scan(tls_postures, "modern", "--tls-verify")
    assert res.returncode == 0
    assert {s for s in findings(doc).values()} <= {"info", "low"}, doc["findings"]
    assert doc["server_preference"]["TLSv1.2"] in ("server", "client")
    assert doc["certificate"]["trusted"] is True


@pytest.mark.parametrize("name,want", [
    ("legacy_protocols", {"protocol.tls1_0": "medium", "protocol.tls1_1": "medium"}),
    ("weak_suites", {"cipher.no_pfs": "medium", "cipher.cbc": "low",
                     "protocol.no_tls1_3": "low"}),
    ("dhe1024", {"dh.weak": "high"}),
    ("dhe_ffdhe2048", {"dh.phase_out": "info"}),
    ("weak_cert", {"cert.key_weak": "medium", "cert.sig_sha1": "medium"}),
    ("expiring", {"cert.expires_soon": "medium"}),
    ("broken_chain", {"cert.chain_incomplete": "high", "cert.hostname_mismatch": "high"}),
])
def test_findings_of_each_posture(tls_postures, name, want):
    res, doc = scan(tls_postures, name, "--tls-verify")
    got = findings(doc)
    for fid, sev in want.items():
        assert got.get(fid) == sev, (fid, got)
    high = any(s in ("high", "critical") for s in got.values())
    assert res.returncode == (1 if high else 0)


def test_broken_chain_names_the_missing_intermediate(tls_postures):
    _, doc = scan(tls_postures, "broken_chain", "--tls-verify")
    [f] = [f for f in doc["findings"] if f["id"] == "cert.chain_incomplete"]
    assert tls_postures.intermediate.name in f["text"], f
    assert "Postfix:" in f["fix"] and "Exim:" not in f["fix"]


def test_trust_findings_are_info_on_an_mx(tls_postures):
    """Without --tls-verify and without AUTH the listener is an MX:
    opportunistic TLS, the broken chain is info (RFC 7435)."""
    res, doc = scan(tls_postures, "broken_chain")
    got = findings(doc)
    assert got["cert.chain_incomplete"] == "info"
    assert got["cert.hostname_mismatch"] == "info"
    assert res.returncode == 0


def test_no_starttls(tls_postures):
    res, doc = scan(tls_postures, "no_starttls")
    assert findings(doc).get("starttls.not_offered") == "high"
    assert res.returncode == 1


@pytest.mark.parametrize("name,profile,want,code", [
    ("modern", "mozilla-intermediate", {}, 0),
    ("modern", "mozilla-modern", {"profile.protocol": "medium"}, 1),   # TLS 1.2 too
    ("legacy_protocols", "mozilla-intermediate", {"profile.protocol": "medium"}, 1),
    ("legacy_protocols", "mozilla-old", {}, 0),
    ("weak_suites", "mozilla-intermediate", {"profile.suite": "medium"}, 1),
    ("weak_cert", "ncsc-nl-2025", {"profile.key": "medium", "profile.signature": "medium"}, 1),
    ("dhe1024", "mozilla-intermediate", {"profile.dh": "medium"}, 1),
])
def test_profiles(tls_postures, name, profile, want, code):
    res, doc = scan(tls_postures, name, "--profile", profile)
    got = {f["id"]: f["severity"] for f in doc["findings"] if f["id"].startswith("profile.")}
    for fid, sev in want.items():
        assert got.get(fid) == sev, (fid, got)
    if not want:
        assert not got, got
    high = any(f["severity"] in ("high", "critical") for f in doc["findings"])
    assert res.returncode == (1 if high else code), (res.returncode, doc["findings"])


def test_client_renegotiation_on_postfix(tls_postures):
    from test_tls import s_client_renegotiates
    _, doc = scan(tls_postures, "modern")
    assert doc["session"]["client_renegotiation"] is \
        s_client_renegotiates(tls_postures.ports["modern"])
