"""The TLS posture listeners (tests/harness/tls_postures.py) are what they
claim, by their truth from `openssl s_client` (tests/harness/tls_truth.py).

This is the reference the `smtprobe tls` e2e tests (issue 12) compare
against, so it is checked here on its own: every posture's measured truth
equals the facts it was built to show (Expect.mismatches), the headline
fact of each posture is asserted by name, the truth's shortcut (a suite
class refused as a whole is not probed suite by suite) is checked against
probing every suite alone, and Python's ssl module - a second client -
agrees with s_client's parse on what it negotiates.

Select with `-k tls_postures` or `-m tls_postures`. The listeners start
once per session (~2 s) and every posture's truth is measured once, all
postures concurrently (~2 s, about 360 s_client runs).
"""
import concurrent.futures
import datetime
import json
import smtplib
import ssl

import pytest

import tls_postures as tp_mod
import tls_truth as tt   # the fixture is called tls_truth

pytestmark = pytest.mark.tls_postures


def show(truth):
    return json.dumps(truth.as_dict(), indent=1, default=str)


@pytest.mark.parametrize("name", tp_mod.NAMES)
def test_tls_postures_truth_is_the_design(tls_postures, tls_truth, name):
    t = tls_truth[name]
    bad = tls_postures.postures[name].expect.mismatches(t)
    assert not bad, f"{name}: " + "\n".join(bad) + "\n" + show(t)


def test_tls_postures_protocols(tls_truth):
    legacy, modern = tls_truth["legacy_protocols"], tls_truth["modern"]
    assert legacy.protocols["TLSv1"] and legacy.protocols["TLSv1.1"], show(legacy)
    assert not modern.protocols["TLSv1"] and not modern.protocols["TLSv1.1"], show(modern)
    assert modern.protocols["TLSv1.2"] and modern.protocols["TLSv1.3"], show(modern)
    # Debian's OpenSSL cannot speak SSLv3: untestable, never "not offered"
    assert all(t.protocols["SSLv3"] is None for t in tls_truth.all().values())


def test_tls_postures_modern_is_ecdhe_aead_only(tls_truth):
    t = tls_truth["modern"]
    assert all(s.startswith("ECDHE-RSA-") and ("GCM" in s or "CHACHA20" in s)
               for s in t.suites["TLSv1.2"]), show(t)
    assert t.dh_bits is None and t.temp_keys["TLSv1.2"].startswith("X25519")


def test_tls_postures_weak_suites(tls_truth):
    t = tls_truth["weak_suites"]
    tls12 = t.suites["TLSv1.2"]
    # RSA key exchange (no forward secrecy) and CBC only
    assert "AES128-SHA" in tls12 and "AES256-SHA256" in tls12, show(t)
    assert not [s for s in tls12 if "GCM" in s or "CHACHA" in s or "CCM" in s], show(t)
    assert list(t.suites) == ["TLSv1.2"] and not t.protocols["TLSv1.3"]
    # what Debian's OpenSSL does not have is not there, on either side
    assert not [s for s in tls12 if "DES" in s or "RC4" in s or "EXP" in s]


def test_tls_postures_dh_groups(tls_truth):
    t = tls_truth["dhe1024"]
    assert t.temp_keys["TLSv1.2"] == "DH, 1024 bits" and t.dh_bits == 1024, show(t)
    assert t.dh_group == "custom"
    assert all(s.startswith("DHE-RSA-") for s in t.suites["TLSv1.2"])
    assert tls_truth["dhe_ffdhe2048"].dh_group == "ffdhe2048"
    # Postfix 3.7's default (no DH file): OpenSSL's auto DH, RFC 3526 group 14
    assert tls_truth["dhe_default"].dh_group == "modp_2048"
    assert tls_truth["dhe_default"].dh_bits == 2048


def test_tls_postures_weak_cert(tls_truth):
    t = tls_truth["weak_cert"]
    assert t.leaf.key_type == "RSA" and t.leaf.key_bits == 1024, show(t)
    assert t.leaf.sig_alg == "sha1WithRSAEncryption"
    # trusted at level 0; a client at Debian's default level 2 objects to both
    assert t.verify_ok and t.verify_errors == []
    assert "66:EE certificate key too weak" in t.default_verify_errors
    assert "68:CA signature digest algorithm too weak" in t.default_verify_errors


def test_tls_postures_expiring(tls_truth):
    t = tls_truth["expiring"]
    left = t.leaf.not_after - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=9) < left <= datetime.timedelta(days=10), show(t)
    assert t.leaf.not_before < datetime.datetime.now(datetime.timezone.utc)
    assert t.verify_ok and t.hostname_ok
    # the others have a year
    assert tls_truth["modern"].leaf.days_left() > 300


def test_tls_postures_broken_chain(tls_postures, tls_truth):
    t = tls_truth["broken_chain"]
    assert t.chain_len == 1 and not t.chain_complete, show(t)
    assert t.chain_missing and tp_mod.INTERMEDIATE_NAME in t.chain_missing
    assert not t.verify_ok and "20:unable to get local issuer certificate" in t.verify_errors
    assert t.hostname_ok is False and t.leaf.sans == ["DNS:other.example"]
    # the complete chain, for comparison: leaf then intermediate
    m = tls_truth["modern"]
    assert m.chain_len == 2 and m.chain_complete and m.verify_ok and m.hostname_ok
    assert m.certs[0].issuer == m.certs[1].subject


def test_tls_postures_implicit(tls_postures):
    port = tls_postures.ports["implicit"]
    direct = tt.run_s_client(tls_postures.host, port, ["-tls1_3"], implicit=True)
    assert direct.ok and direct.protocol == "TLSv1.3", direct.output
    # smtps waits for a ClientHello, s_client -starttls for a banner: nothing
    starttls = tt.run_s_client(tls_postures.host, port, ["-tls1_3"], timeout=1.5)
    assert not starttls.ok and starttls.error == "no answer in 1.5s", starttls


def test_tls_postures_no_starttls(tls_postures, tls_truth):
    t = tls_truth["no_starttls"]
    assert t.starttls_offered is False and not t.handshake, show(t)
    p = tt.run_s_client(tls_postures.host, tls_postures.ports["no_starttls"], [])
    assert not p.ok
    assert "Didn't find STARTTLS" in p.output, p.output
    # the others offer it
    assert tls_truth["modern"].starttls_offered is True


@pytest.mark.parametrize("name", ["weak_suites", "legacy_protocols"])
def test_tls_postures_truth_shortcut_hides_nothing(tls_postures, tls_truth, name):
    """Probing every TLS 1.2 suite OpenSSL has, alone, finds what the truth
    found with its class pre-probes (about 90 s_client runs)."""
    host, port = tls_postures.host, tls_postures.ports[name]
    names = [s for s, _, _ in tt.candidate_suites("TLSv1.2")]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        probes = list(pool.map(
            lambda s: tt.run_s_client(host, port, tt.proto_args("TLSv1.2", [s])), names))
    assert not [p.error for p in probes if p.error]
    accepted = sorted(s for s, p in zip(names, probes) if p.ok and p.cipher == s)
    assert accepted == tls_truth[name].suites["TLSv1.2"]


def _python_handshake(host, port, implicit, **ctx_opts):
    """(version, cipher) Python's ssl negotiates (a second client)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ctx_opts.get("minimum", ssl.TLSVersion.MINIMUM_SUPPORTED)
    ctx.maximum_version = ctx_opts.get("maximum", ssl.TLSVersion.MAXIMUM_SUPPORTED)
    if implicit:
        with smtplib.SMTP_SSL(host, port, context=ctx, timeout=10) as c:
            return c.sock.version(), c.sock.cipher()[0]
    with smtplib.SMTP(host, port, timeout=10) as c:
        c.ehlo("python.example.test")
        c.starttls(context=ctx)
        return c.sock.version(), c.sock.cipher()[0]


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("name", [n for n in tp_mod.NAMES if n != "no_starttls"])
def test_tls_postures_python_ssl_agrees(tls_postures, tls_truth, name):
    t = tls_truth[name]
    implicit = tls_postures.postures[name].implicit
    version, cipher = _python_handshake(tls_postures.host, tls_postures.ports[name],
                                        implicit)
    assert t.protocols[version], f"{name}: Python negotiated {version}\n{show(t)}"
    assert cipher in t.suites[version], f"{name}: Python negotiated {cipher}\n{show(t)}"
    lowest = min((p for p in ("TLSv1", "TLSv1.1", "TLSv1.2") if t.protocols[p]),
                 key=("TLSv1", "TLSv1.1", "TLSv1.2").index)
    v = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
         "TLSv1.2": ssl.TLSVersion.TLSv1_2}[lowest]
    version, cipher = _python_handshake(tls_postures.host, tls_postures.ports[name],
                                        implicit, minimum=v, maximum=v)
    assert version == lowest and cipher in t.suites[lowest]
