"""The DNS lab (tests/harness/dns_lab.py, dns_zones.py) is what it claims,
checked with independent tools: kdig (Knot's client) for the raw answers
and signatures, unbound-host (a validating resolver: libunbound) for what a
validator makes of them from the lab's trust anchor, curl and openssl for
the MTA-STS server, the DKIM keys and the TLSA records.

These are the facts the `smtprobe dns` tests (issue 14) build on: a test
there may take dns_lab.domains[name].trips as the truth because this file
holds the lab to it. The lab starts once per session (about 0.6 s; the
whole file runs in about 3 s).
"""
import base64
import hashlib
import re
import subprocess

import pytest

import dns_zones
from dns_zones import DOMAINS, MX_HOSTS, PTRS
import peers

KDIG = peers.KDIG
UNBOUND_HOST = peers.UNBOUND_HOST
CURL = peers.CURL
OPENSSL = peers.OPENSSL
SS = "ss"

SECURITY = {"(secure)": "secure", "(insecure)": "insecure",
            "(BOGUS (security failure))": "bogus"}


def kdig(lab, *args):
    p = subprocess.run([KDIG, f"@{lab.host}", "-p", str(lab.port), "+tcp", "+time=2",
                        "+retry=0"] + list(args), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr + p.stdout
    return p.stdout


def kdig_rrs(lab, name, rtype, *opts):
    """[(owner, type, rdata fields)] of the answer section."""
    out = kdig(lab, "+noall", "+answer", *opts, name, rtype)
    return [(f[0].rstrip("."), f[3], f[4:]) for f in map(str.split, out.splitlines())
            if len(f) >= 4]


def uhost(lab, name, rtype=None, conf=None):
    """unbound-host's lines for name (and its verdict: secure, insecure,
    bogus), validating from the lab's anchor."""
    argv = [UNBOUND_HOST, "-C", conf or lab.unbound_conf, "-v"]
    if rtype:
        argv += ["-t", rtype]
    p = subprocess.run(argv + [name], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    verdicts = {v for k, v in SECURITY.items() if k in out}
    assert len(verdicts) == 1, f"unbound-host {name} {rtype}: {out}"
    return out, verdicts.pop()


def txt_records(lab, name):
    out, security = uhost(lab, name, "TXT")
    recs = []
    for line in out.splitlines():
        if " has TXT record " in line:
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"', line.split(" has TXT record ", 1)[1])
            recs.append("".join(parts))
    return recs, security


def openssl(*args, data=None):
    p = subprocess.run([OPENSSL] + list(args), input=data, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def fetch_policy(lab, domain):
    """(HTTP status, Content-Type, body) of domain's MTA-STS policy URL with
    certificate verification against the lab CA and no redirects followed."""
    host = f"mta-sts.{domain}"
    p = subprocess.run([CURL, "-sS", "--max-time", "10", "--cacert", lab.ca_file,
                        "--resolve", f"{host}:{lab.https_port}:{dns_zones.MTA_STS_ADDRESS}",
                        "-w", "\n%{http_code} %{content_type}", lab.policy_url(domain)],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    # bytes: the policy's CRLF must reach the test as it was served
    body, _, tail = p.stdout.decode().rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


# ------------------------------------------------------------------ the lab
def test_dns_lab_starts_in_seconds(dns_lab):
    print(f"DNS lab started in {dns_lab.start_seconds:.2f} s")
    assert dns_lab.start_seconds < 10


def test_dns_lab_listens_on_loopback_only(dns_lab):
    pids = dns_lab.pids()
    assert len(pids) == 2, pids
    out = subprocess.run([SS, "-Hltnup"], capture_output=True, text=True).stdout
    ours = [line for line in out.splitlines()
            if any(f"pid={p}," in line for p in pids)]
    locals_ = {line.split()[4] for line in ours}
    assert locals_ == {f"127.0.0.1:{dns_lab.port}", f"127.0.0.1:{dns_lab.https_port}"}, ours


def test_dns_lab_trust_anchor_files(dns_lab):
    ds = open(dns_lab.anchor_file).read().split("\n")
    assert [x.split()[:2] for x in ds if x] == [["test.", "DS"], ["127.in-addr.arpa.", "DS"]]
    # the anchors are what the zones publish
    for zone in ("test", "127.in-addr.arpa"):
        keys = [r for r in kdig_rrs(dns_lab, zone, "DNSKEY") if r[1] == "DNSKEY"]
        assert any(" ".join(r[2]) == dns_lab.dnskeys[zone] for r in keys), keys


# ------------------------------------------------------------ raw answers
@pytest.mark.parametrize("zone", dns_zones.SIGNED_ZONES)
def test_dns_lab_signed_zones_have_rrsigs(dns_lab, zone):
    out = kdig(dns_lab, "+dnssec", "+norec", zone, "SOA")
    assert ";; Flags: qr aa;" in out, out
    assert re.search(rf"^{re.escape(zone)}\.\s+\d+\s+IN\s+RRSIG\s+SOA 13 ", out, re.M), out


def test_dns_lab_unsigned_zone_has_no_rrsig(dns_lab):
    out = kdig(dns_lab, "+dnssec", "unsigned.test", "MX")
    assert re.search(r"\sMX\s", out) and "RRSIG" not in out, out


@pytest.mark.parametrize("name", list(DOMAINS))
def test_dns_lab_delegations_and_ds(dns_lab, name):
    d = DOMAINS[name]
    ns = kdig_rrs(dns_lab, name, "NS")
    assert ns == [(name, "NS", ["ns.test."])]
    ds = [r for r in kdig_rrs(dns_lab, name, "DS", "+dnssec") if r[1] == "DS"]
    assert bool(ds) == d.signed, ds


# -------------------------------------------------- what a validator says
@pytest.mark.parametrize("name", list(DOMAINS))
def test_dns_lab_dnssec_verdicts(dns_lab, name):
    d = DOMAINS[name]
    out, security = uhost(dns_lab, name, "MX")
    assert security == d.dnssec, out
    out, security = uhost(dns_lab, f"_dmarc.{name}", "TXT")
    assert security == d.dnssec, out
    if d.dnssec == "bogus":
        assert "validation failure" in out, out


def test_dns_lab_bogus_reasons(dns_lab):
    out, _ = uhost(dns_lab, "bogus.test", "MX")
    assert "signature verification failed" in out, out
    out, _ = uhost(dns_lab, "bogus-ds.test", "MX")
    assert "no keys have a DS" in out, out


def test_dns_lab_dnskey_anchor_validates_too(dns_lab, tmp_path):
    conf = tmp_path / "unbound.conf"
    conf.write_text(open(dns_lab.unbound_conf).read().replace(
        dns_lab.anchor_file, dns_lab.anchor_dnskey_file))
    assert uhost(dns_lab, "good.test", "MX", str(conf))[1] == "secure"
    assert uhost(dns_lab, "127.0.0.2", conf=str(conf))[1] == "secure"


@pytest.mark.parametrize("name", list(DOMAINS))
def test_dns_lab_mx(dns_lab, name):
    d = DOMAINS[name]
    out, _ = uhost(dns_lab, name, "MX")
    got = re.findall(r"mail is handled by (\d+) (\S+)", out)
    assert sorted((int(p), t) for p, t in got) == \
        sorted((p, t.format(domain=name)) for p, t in d.mx), out


def test_dns_lab_mx_cname(dns_lab):
    out, security = uhost(dns_lab, "mail.mx-cname.test", "A")
    assert "is an alias for mx.good.test" in out and security == "secure", out


# ----------------------------------------------------- reverse DNS, FCrDNS
def _addresses(lab, name):
    out, _ = uhost(lab, name, "A")
    return set(re.findall(r"has address (\S+)", out))


def _ptr(lab, addr):
    out, security = uhost(lab, addr)
    return re.findall(r"domain name pointer (\S+)", out), security


@pytest.mark.parametrize("host", list(MX_HOSTS))
def test_dns_lab_mx_hosts_ptr_and_fcrdns(dns_lab, host):
    addr = MX_HOSTS[host]
    assert _addresses(dns_lab, host) == {addr}
    names, security = _ptr(dns_lab, addr)
    assert security == "secure"
    assert names == ([PTRS[addr]] if addr in PTRS else [])
    confirmed = any(addr in _addresses(dns_lab, n) for n in names)
    domain = host.split(".", 1)[1]
    trips = DOMAINS[domain].trips
    assert confirmed == ("ptr.fcrdns" not in trips), (host, names)
    assert bool(names) == ("ptr.present" not in trips)


def test_dns_lab_ptr_missing_is_nxdomain(dns_lab):
    out, security = uhost(dns_lab, "127.0.0.3")
    assert "NXDOMAIN" in out and security == "secure", out


# ---------------------------------------------------- SPF, DMARC, DKIM, TLS
@pytest.mark.parametrize("name", [n for n, d in DOMAINS.items() if d.dnssec != "bogus"])
def test_dns_lab_txt_records(dns_lab, name):
    d = DOMAINS[name]
    recs, _ = txt_records(dns_lab, name)
    assert sorted(r for r in recs if r.startswith("v=spf1")) == \
        sorted(s.format(domain=name) for s in d.spf)
    dmarc, _ = txt_records(dns_lab, f"_dmarc.{name}")
    assert dmarc == [d.dmarc.format(domain=name)]
    sts, _ = txt_records(dns_lab, f"_mta-sts.{name}")
    assert sts == ([f"v=STSv1; id={dns_zones.MTA_STS_ID}"] if d.mta_sts else [])
    rpt, _ = txt_records(dns_lab, f"_smtp._tls.{name}")
    assert rpt == ([f"v=TLSRPTv1; rua=mailto:tlsrpt@{name}"] if d.tlsrpt else [])


def test_dns_lab_spf_lookup_limits(dns_lab):
    recs, _ = txt_records(dns_lab, "spf-lookups.test")
    assert recs[0].count("include:") == 11
    for i in (1, 11):
        assert txt_records(dns_lab, f"i{i}.spf-lookups.test")[0][0].startswith("v=spf1 ip4:")
    for i in (1, 2, 3):
        out, _ = uhost(dns_lab, f"void{i}.spf-void.test", "A")
        assert "NXDOMAIN" in out, out


def test_dns_lab_dmarc_external_report_authorisation(dns_lab):
    ok, _ = txt_records(dns_lab, "dmarc-extrua-ok.test._report._dmarc.good.test")
    assert ok == ["v=DMARC1"]
    out, _ = uhost(dns_lab, "dmarc-extrua.test._report._dmarc.good.test", "TXT")
    assert "NXDOMAIN" in out, out


@pytest.mark.parametrize("name,bits", [("good.test", 2048), ("dkim-weak.test", 1024),
                                       ("dkim-revoked.test", None)])
def test_dns_lab_dkim_keys(dns_lab, name, bits):
    recs, security = txt_records(dns_lab, f"{dns_zones.DKIM_SELECTOR}._domainkey.{name}")
    assert security == "secure" and len(recs) == 1
    p = recs[0].rpartition("p=")[2]
    if bits is None:
        assert p == ""
        return
    text = openssl("pkey", "-pubin", "-inform", "DER", "-noout", "-text",
                   data=base64.b64decode(p)).decode()
    assert f"Public-Key: ({bits} bit)" in text, text
    # the private key the lab keeps is that key's
    priv = dns_lab.dkim_keys[f"rsa{bits}"]
    assert openssl("pkey", "-in", priv, "-pubout", "-outform", "DER") == base64.b64decode(p)


def _tlsa(lab, host):
    out, security = uhost(lab, f"_25._tcp.{host}", "TLSA")
    found = re.findall(r"has TLSA record 3 1 1 ([0-9A-Fa-f]+)", out)
    return sorted(x.lower() for x in found), security


def test_dns_lab_tlsa_matches_the_mx_certificate(dns_lab):
    spki = openssl("x509", "-in", dns_lab.mx_cert, "-noout", "-pubkey")
    live = hashlib.sha256(openssl("pkey", "-pubin", "-outform", "DER", data=spki)).hexdigest()
    nxt = hashlib.sha256(openssl("pkey", "-in", dns_lab.mx_next_key, "-pubout",
                                 "-outform", "DER")).hexdigest()
    assert _tlsa(dns_lab, "mx.good.test") == (sorted([live, nxt]), "secure")
    assert _tlsa(dns_lab, "mx.ptr-missing.test") == ([live], "secure")
    assert _tlsa(dns_lab, "mx.unsigned.test") == ([live], "insecure")
    stale, security = _tlsa(dns_lab, "mx.tlsa-bad.test")
    assert security == "secure" and len(stale) == 1 and stale != [live]
    # the certificate names every MX host and chains to the lab CA
    text = openssl("x509", "-in", dns_lab.mx_cert, "-noout", "-ext", "subjectAltName").decode()
    assert all(f"DNS:{h}" in text for h in list(MX_HOSTS) + ["mail.mx-cname.test"]), text
    openssl("verify", "-CAfile", dns_lab.ca_file, dns_lab.mx_cert)


# ------------------------------------------------------------------ MTA-STS
@pytest.mark.parametrize("name", [n for n, d in DOMAINS.items() if d.mta_sts])
def test_dns_lab_mta_sts_policies(dns_lab, name):
    d = DOMAINS[name]
    if d.dnssec != "bogus":
        out, _ = uhost(dns_lab, f"mta-sts.{name}", "A")
        assert f"has address {dns_zones.MTA_STS_ADDRESS}" in out, out
    code, ctype, body = fetch_policy(dns_lab, name)
    if d.mta_sts == "missing":
        assert code == 404
    elif d.mta_sts == "redirect":
        assert code == 301
    else:
        assert code == 200 and body == dns_zones.mta_sts_policy(d)
        assert ctype == ("text/html" if d.mta_sts == "wrong-type" else "text/plain")
        mx = re.findall(r"^mx: (\S+)\r$", body, re.M)
        assert (mx == list(d.mx_hosts)) == ("mta_sts.mx_match" not in d.trips), body


def test_dns_lab_mta_sts_redirect_target(dns_lab):
    p = subprocess.run([CURL, "-sS", "-o", "/dev/null", "-w", "%{redirect_url}",
                        "--cacert", dns_lab.ca_file, "--resolve",
                        f"mta-sts.mta-sts-redirect.test:{dns_lab.https_port}:127.0.0.1",
                        dns_lab.policy_url("mta-sts-redirect.test")],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout == dns_lab.policy_url("good.test"), p.stderr


def test_dns_lab_mta_sts_certificate_is_verified(dns_lab):
    # without the lab CA the fetch fails: the lab's CA is not trusted by default
    p = subprocess.run([CURL, "-sS", "--resolve",
                        f"mta-sts.good.test:{dns_lab.https_port}:127.0.0.1",
                        dns_lab.policy_url("good.test")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 60, p.stderr  # CURLE_PEER_FAILED_VERIFICATION
