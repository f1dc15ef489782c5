"""`smtprobe tls` against the real Exim 4.96 (GnuTLS: a TLS stack other
than the OpenSSL smtprobe is built on) and OpenSMTPD 6.8 (whose TLS is
broken with Debian's OpenSSL 3) of tests/harness/mtas.py.

- Exim's STARTTLS and implicit-TLS listeners: protocols and every suite
  equal what `openssl s_client` measures (tls_truth.measure), the software
  is named, the fixes are Exim's.
- OpenSMTPD's tls_broken listener advertises STARTTLS and ends every
  handshake with an alert: the scan says the handshake failed, finds no
  protocol offered, and exits 1 - it does not pass a broken listener.
"""
import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import tls_truth
from runner import run_smtprobe


def scan(srv, listener, *extra):
    res = run_smtprobe(["tls", f"{srv.host}:{srv.ports[listener]}", "--tls-ca-path",
                        srv.ca_file, "--tls-verify-host", srv.myhostname, "--json", *extra],
                       timeout=90)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    return res, json.loads(res.stdout)


def s_client_protocol(host, port, flag, implicit):
    """The protocol `openssl s_client FLAG` negotiates (None: no handshake),
    with its default suites at security level 0, one run at a time."""
    argv = ["openssl", "s_client", "-connect", f"{host}:{port}", flag, "-cipher",
            "ALL:@SECLEVEL=0", "-brief", "-ign_eof"] + ([] if implicit else ["-starttls", "smtp"])
    for attempt in range(4):
        p = subprocess.run(argv, input=b"QUIT\r\n", capture_output=True, timeout=20)
        out = (p.stdout + p.stderr).decode(errors="replace")
        m = re.search(r"Protocol version: (\S+)", out)
        if m:
            return m.group(1)
        if "alert" in out and "421" not in out:
            return None          # a real refusal of that protocol
        time.sleep(0.5 * (attempt + 1))   # Exim at its limit: again
    return None


@pytest.mark.parametrize("listener", ["mx", "smtps"])
def test_exim_agrees_with_openssl(exim, listener):
    implicit = exim.tls[listener] == "implicit"
    _, doc = scan(exim, listener, "--max-connections", "4")
    assert doc["software"] == "Exim"
    assert doc["tls_mode"] == ("implicit" if implicit else "starttls")
    # protocols: s_client with one protocol flag at a time (tls_truth's
    # all-suites probes do not get GnuTLS to answer TLS 1.0 and 1.3)
    for proto, flag in (("TLSv1", "-tls1"), ("TLSv1.1", "-tls1_1"), ("TLSv1.2", "-tls1_2"),
                        ("TLSv1.3", "-tls1_3")):
        got = s_client_protocol(exim.host, exim.ports[listener], flag, implicit)
        assert doc["protocols"][proto] is (got == proto), (proto, got, doc["protocols"])
    # the TLS 1.2 suites: every one s_client gets alone (one at a time:
    # Exim answers 421 beyond a few connections, its children linger)
    with ThreadPoolExecutor(1) as pool:
        truth = tls_truth.measure(exim.host, exim.ports[listener], implicit=implicit,
                                  ca_file=exim.ca_file, hostname=exim.myhostname,
                                  pool=pool)
    got = sorted(c["name"] for c in doc["ciphers"].get("TLSv1.2", []))
    assert got == sorted(truth.suites.get("TLSv1.2", [])), \
        sorted(set(got) ^ set(truth.suites.get("TLSv1.2", [])))
    fixes = " ".join(f["fix"] for f in doc["findings"])
    assert "Postfix:" not in fixes and "Sendmail:" not in fixes


def test_opensmtpd_broken_tls_is_not_passed(opensmtpd):
    res, doc = scan(opensmtpd, "tls_broken")
    assert doc["software"] == "OpenSMTPD"
    assert doc["handshake_error"], doc
    ids = {f["id"]: f["severity"] for f in doc["findings"]}
    assert ids.get("tls.handshake_failed") == "high", ids
    [f] = [f for f in doc["findings"] if f["id"] == "tls.handshake_failed"]
    assert "OpenSMTPD" in f["fix"] and "Postfix" not in f["fix"], f
    assert res.returncode == 1
