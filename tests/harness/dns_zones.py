"""The zones of the DNS lab (dns_lab.py): the test domains of issue 14 as
data, and the zone files and MTA-STS policies rendered from it. Pure: no
files, no processes.

    DOMAINS        {name: Domain}: every test domain, what it is for and the
                   checks of `smtprobe dns` it must trip
    MX_HOSTS       {MX host name: 127.0.0.x}: the lab's MX hosts (the SMTP
                   listeners of the tests belong on these addresses)
    DOWN_MX        (name, address) of an MX host nothing listens on
    PTRS           {127.0.0.x: PTR name}: the reverse zone (127.0.0.3, the
                   address of mx.ptr-missing.test, has none on purpose)
    SPF_IP         the sending address most domains' SPF passes
    DKIM_SELECTOR  the selector every domain publishes ("s1")
    render_zone(domain, ctx)     -> zone file text (unsigned; Knot signs)
    render_parent(ds_records)    -> the zone file of test. with delegations
    render_reverse()             -> the zone file of 127.in-addr.arpa.
    mta_sts_policy(domain)       -> the policy text nginx serves, or None

Every domain but good.test differs from the baseline (what good.test
publishes) in the one thing it is named after, so a table-driven test can
say: this domain trips these checks, everything else passes or is skipped.
The baseline: MX 10 mx.good.test (127.0.0.2, PTR and forward confirmed,
TLSA 3 1 1 in good.test), SPF `v=spf1 mx -all`, DMARC p=reject with rua at
the domain itself, a 2048-bit RSA DKIM key at s1, MTA-STS (TXT + an
enforce policy naming the MX), TLS-RPT, all DNSSEC-signed with a DS in
test.

`Domain.trips` maps a check id to the statuses that are right for it;
more than one where issue 14 leaves the severity open (the command's
author picks one of them).
"""
from dataclasses import dataclass, field

TTL = 300
NS = "ns.test."
SPF_IP = "127.0.0.2"
DKIM_SELECTOR = "s1"
MTA_STS_ID = "20261207T000000"
MTA_STS_MAX_AGE = 604800

MX_HOSTS = {
    "mx.good.test": "127.0.0.2",
    "mx.ptr-missing.test": "127.0.0.3",
    "mx.ptr-mismatch.test": "127.0.0.4",
    "mx.tlsa-bad.test": "127.0.0.5",
    "mx.unsigned.test": "127.0.0.6",
}
# relay.ptr-mismatch.test: what 127.0.0.4's PTR names; it resolves elsewhere
PTR_MISMATCH_TARGET = ("relay.ptr-mismatch.test", "127.0.0.14")
PTRS = {
    "127.0.0.1": NS,
    "127.0.0.2": "mx.good.test.",
    "127.0.0.4": PTR_MISMATCH_TARGET[0] + ".",
    "127.0.0.5": "mx.tlsa-bad.test.",
    "127.0.0.6": "mx.unsigned.test.",
    "127.0.0.7": "mx1.mx-backup.test.",
}
# mx-backup.test's first MX: nothing listens there (connection refused)
DOWN_MX = ("mx1.mx-backup.test", "127.0.0.7")
# the address of every mta-sts.DOMAIN: nginx listens there
MTA_STS_ADDRESS = "127.0.0.1"

FAIL = ("fail",)
WARN = ("warn",)


@dataclass(frozen=True)
class Domain:
    """One test domain. Record fields hold zone-file text where `{domain}`
    stands for the domain's name."""
    name: str
    about: str
    trips: dict = field(default_factory=dict)
    # (preference, target) pairs; ((0, "."),) is a null MX
    mx: tuple = ((10, "mx.good.test."),)
    # A records inside the zone: relative owner -> address
    hosts: dict = field(default_factory=dict)
    # TLSA 3 1 1 records at _25._tcp.OWNER: (relative owner, key) pairs, key
    # "live" (the SPKI of the lab's MX certificate), "next" (the key of the
    # next rollover, published ahead), "stale" (a key the MX does not have)
    tlsa: tuple = ()
    spf: tuple = ("v=spf1 mx -all",)          # one TXT record each
    dmarc: str = "v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"
    dkim: str = "rsa2048"                      # rsa2048, rsa1024, revoked, None
    # MTA-STS: None (no TXT, no policy), or what nginx does for
    # mta-sts.DOMAIN: "enforce" (the policy), "missing" (404),
    # "wrong-type" (the policy as text/html), "redirect" (301 to good.test's)
    mta_sts: str = "enforce"
    sts_mx: tuple = None                       # policy mx: lines (default: MX targets)
    tlsrpt: bool = True
    extra: tuple = ()                          # more zone lines, verbatim
    # DNSSEC: "on" (Knot signs), "off" (no keys, no DS: insecure),
    # "broken" (signed with a ZSK whose private key is not the published
    # one: every RRSIG but the DNSKEY's fails), "ds-unpublished" (the DS in
    # test. is a KSK's that the zone does not publish)
    signing: str = "on"
    # for SPF with --ip: this address gets `spf_result`
    spf_ip: str = SPF_IP
    spf_result: str = "pass"
    # "postfix": its MX is the harness's real Postfix (127.0.0.1, the "mx"
    # listener's port): tested apart, with that server running
    mx_server: str = ""

    @property
    def dnssec(self):
        """What a validator from the lab's anchor says of the zone."""
        return {"on": "secure", "off": "insecure"}.get(self.signing, "bogus")

    @property
    def signed(self):
        return self.signing != "off"

    @property
    def mx_hosts(self):
        return tuple(t.format(domain=self.name).rstrip(".")
                     for _, t in self.mx if t != ".")


def _own_mx(name, **kw):
    """A domain whose MX host lives in its own zone (its own address, PTR,
    TLSA)."""
    host = f"mx.{name}"
    kw.setdefault("tlsa", (("mx", "live"),))
    return Domain(name, mx=((10, host + "."),), hosts={"mx": MX_HOSTS[host]},
                  spf_ip=MX_HOSTS[host], **kw)


def _spf_includes(n):
    incs = " ".join(f"include:i{i}.{{domain}}" for i in range(1, n + 1))
    return (f"v=spf1 {incs} -all",)


_DOMAINS = [
    Domain("good.test", "every check passes (with connections to its MX: "
           "PTR = banner, DANE 3 1 1 matches, MTA-STS policy names the MX); "
           "it also authorises dmarc-extrua-ok.test's reports",
           hosts={"mx": MX_HOSTS["mx.good.test"]},
           tlsa=(("mx", "live"), ("mx", "next")),
           extra=("dmarc-extrua-ok.test._report._dmarc TXT \"v=DMARC1\"",)),
    Domain("nomx.test", "no MX records at all (and no address); no MTA-STS "
           "(a policy needs mx: lines)",
           trips={"mx.present": FAIL}, mx=(),
           spf=(f"v=spf1 ip4:{SPF_IP} -all",), mta_sts=None),
    Domain("nullmx.test", "a null MX (RFC 7505): the domain takes no mail; "
           "SPF -all, no MTA-STS, no TLS-RPT, as such a domain should be",
           trips={"mx.null": ("info", "pass")}, mx=((0, "."),), spf=("v=spf1 -all",),
           mta_sts=None, tlsrpt=False, spf_result="fail"),
    Domain("mx-backup.test", "two MX: the first (mx1.mx-backup.test, "
           "127.0.0.7) refuses connections, the second is mx.good.test; mail "
           "gets through, late",
           trips={"mx.smtp": WARN},
           mx=((10, "mx1.{domain}."), (20, "mx.good.test.")),
           hosts={"mx1": DOWN_MX[1]}, tlsa=(("mx1", "live"),)),
    Domain("postfix-mx.test", "its MX is a real Postfix (mx.postfix-mx.test "
           "is 127.0.0.1, whose PTR is ns.test): the banner names Postfix's "
           "myhostname, not the PTR; no MTA-STS, no TLSA",
           trips={"ptr.banner": WARN},
           mx=((10, "mx.{domain}."),), hosts={"mx": "127.0.0.1"},
           spf=(f"v=spf1 ip4:{SPF_IP} mx -all",), mta_sts=None,
           mx_server="postfix"),
    Domain("mx-cname.test", "the MX target mail.mx-cname.test is a CNAME "
           "(to mx.good.test)",
           trips={"mx.cname": FAIL}, mx=((10, "mail.{domain}."),),
           extra=("mail CNAME mx.good.test.",)),
    _own_mx("ptr-missing.test", about="the MX's address 127.0.0.3 has no PTR",
            trips={"ptr.present": FAIL, "ptr.fcrdns": FAIL}),
    _own_mx("ptr-mismatch.test", about="the MX's PTR (127.0.0.4 -> "
            "relay.ptr-mismatch.test) does not resolve back (that name is "
            "127.0.0.14); its TLSA is the whole certificate (3 0 0, about a "
            "kilobyte), which matches",
            tlsa=(("mx", "cert"),),
            trips={"ptr.fcrdns": FAIL, "ptr.banner": WARN},
            extra=(f"relay A {PTR_MISMATCH_TARGET[1]}",)),
    Domain("spf-lookups.test", "SPF with 11 includes: over the 10-lookup "
           "limit (RFC 7208 4.6.4)",
           trips={"spf.lookups": FAIL}, spf=_spf_includes(11),
           extra=tuple(f"i{i} TXT \"v=spf1 ip4:192.0.2.{i} -all\"" for i in range(1, 12)),
           spf_result="permerror"),
    Domain("spf-void.test", "SPF with 3 void lookups (names that do not "
           "exist) before its mx: over the limit of 2",
           trips={"spf.void_lookups": FAIL},
           spf=("v=spf1 a:void1.{domain} a:void2.{domain} a:void3.{domain} mx -all",),
           spf_result="permerror"),
    Domain("spf-plusall.test", "SPF ends with +all: anyone may send",
           trips={"spf.all": FAIL}, spf=("v=spf1 mx +all",)),
    Domain("spf-two.test", "two SPF records (permerror)",
           trips={"spf.multiple": FAIL},
           spf=("v=spf1 mx -all", f"v=spf1 ip4:{SPF_IP} -all"), spf_result="permerror"),
    Domain("dmarc-none.test", "DMARC p=none (monitoring only)",
           trips={"dmarc.policy": WARN},
           dmarc="v=DMARC1; p=none; rua=mailto:dmarc@{domain}"),
    Domain("dmarc-extrua.test", "DMARC rua at good.test, which does not "
           "authorise it (no dmarc-extrua.test._report._dmarc.good.test)",
           trips={"dmarc.rua_external_auth": ("warn", "fail")},
           dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@good.test"),
    Domain("dmarc-extrua-ok.test", "DMARC rua at good.test, authorised "
           "there: every check passes",
           dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@good.test"),
    Domain("dmarc-syntax.test", "a DMARC record with a syntax error "
           "(p=rejected)",
           trips={"dmarc.syntax": FAIL},
           dmarc="v=DMARC1; p=rejected; rua=mailto:dmarc@{domain}"),
    Domain("dkim-weak.test", "the DKIM key at s1 is RSA 1024 bits",
           trips={"dkim.key": WARN}, dkim="rsa1024"),
    Domain("dkim-revoked.test", "the DKIM key at s1 is revoked (empty p=)",
           trips={"dkim.key": ("warn", "fail")}, dkim="revoked"),
    Domain("mta-sts-mismatch.test", "the MTA-STS policy names "
           "mx.elsewhere.test, not the MX",
           trips={"mta_sts.mx_match": FAIL}, sts_mx=("mx.elsewhere.test",)),
    Domain("mta-sts-404.test", "the MTA-STS TXT record is there, the policy "
           "is not (HTTP 404)",
           trips={"mta_sts.policy": FAIL}, mta_sts="missing"),
    Domain("mta-sts-type.test", "the MTA-STS policy is served as text/html",
           trips={"mta_sts.policy": FAIL}, mta_sts="wrong-type"),
    Domain("mta-sts-redirect.test", "the MTA-STS policy URL redirects (301) "
           "to good.test's policy; RFC 8461 3.3 forbids following it",
           trips={"mta_sts.policy": FAIL}, mta_sts="redirect"),
    _own_mx("tlsa-bad.test", about="the TLSA record of the MX (3 1 1) is the "
            "SPKI of another key, not of the certificate the MX serves",
            trips={"dane.tlsa": FAIL}, tlsa=(("mx", "stale"),)),
    Domain("bogus.test", "DNSSEC bogus: every RRSIG but the DNSKEY set's "
           "fails to verify (signed with a key that is not the published ZSK)",
           trips={"dnssec.status": FAIL}, signing="broken"),
    Domain("bogus-ds.test", "DNSSEC bogus: the DS in test. is a KSK's that "
           "the zone does not publish",
           trips={"dnssec.status": FAIL}, signing="ds-unpublished"),
    _own_mx("unsigned.test", about="not signed, no DS: DNSSEC insecure, so "
            "its (matching) TLSA record must not be used",
            trips={"dnssec.status": ("warn", "info"), "dane.tlsa": ("skip", "info", "warn")},
            signing="off"),
]
DOMAINS = {d.name: d for d in _DOMAINS}
SIGNED_ZONES = ["test", "127.in-addr.arpa"] + [d.name for d in _DOMAINS if d.signed]


def _txt(text):
    """A TXT rdata: the text in quoted strings of at most 255 bytes."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return " ".join(f'"{text[i:i + 255]}"' for i in range(0, max(len(text), 1), 255))


def _head(origin, soa_mail="hostmaster.test."):
    return (f"; written by tests/harness/dns_lab.py (dns_zones.py)\n"
            f"$ORIGIN {origin}.\n$TTL {TTL}\n"
            f"@ SOA {NS} {soa_mail} 1 3600 600 86400 {TTL}\n"
            f"@ NS {NS}")


def render_zone(d, ctx):
    """The zone file of domain d. ctx: "dkim" {kind: p= base64},
    "tlsa" {"live"|"next"|"stale": hex SHA-256 of an SPKI, "cert": the hex
    of the MX certificate's DER, published as 3 0 0}."""
    lines = [_head(d.name, f"hostmaster.{d.name}.")]
    for pref, target in d.mx:
        lines.append(f"@ MX {pref} {target.format(domain=d.name)}")
    for owner, addr in d.hosts.items():
        lines.append(f"{owner} A {addr}")
    for owner, which in d.tlsa:
        params = "3 0 0" if which == "cert" else "3 1 1"
        lines.append(f"_25._tcp.{owner} TLSA {params} {ctx['tlsa'][which]}")
    for rec in d.spf:
        lines.append(f"@ TXT {_txt(rec.format(domain=d.name))}")
    if d.dmarc:
        lines.append(f"_dmarc TXT {_txt(d.dmarc.format(domain=d.name))}")
    if d.dkim:
        key = ctx["dkim"].get(d.dkim, "")
        lines.append(f"{DKIM_SELECTOR}._domainkey TXT {_txt('v=DKIM1; k=rsa; p=' + key)}")
    if d.mta_sts:
        lines.append(f"_mta-sts TXT {_txt(f'v=STSv1; id={MTA_STS_ID}')}")
        lines.append(f"mta-sts A {MTA_STS_ADDRESS}")
    if d.tlsrpt:
        lines.append(f"_smtp._tls TXT {_txt(f'v=TLSRPTv1; rua=mailto:tlsrpt@{d.name}')}")
    lines += [x.format(domain=d.name) for x in d.extra]
    return "\n".join(lines) + "\n"


def render_parent(ds_records):
    """test.: the lab's top, its name server and a delegation per domain.
    ds_records: {child: ["DS rdata", ...]} (none for an unsigned child)."""
    lines = [_head("test"), f"ns A {MTA_STS_ADDRESS}"]
    for name in DOMAINS:
        label = name[:-len(".test")]
        lines.append(f"{label} NS {NS}")
        lines += [f"{label} DS {ds}" for ds in ds_records.get(name, ())]
    return "\n".join(lines) + "\n"


def render_reverse():
    lines = [_head("127.in-addr.arpa")]
    for addr, name in sorted(PTRS.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
        rel = ".".join(reversed(addr.split(".")[1:]))
        lines.append(f"{rel} PTR {name}")
    return "\n".join(lines) + "\n"


def mta_sts_policy(d):
    """The policy of d (CRLF lines, RFC 8461 3.2), or None when it has none."""
    if d.mta_sts is None:
        return None
    mx = d.sts_mx if d.sts_mx is not None else d.mx_hosts
    lines = ["version: STSv1", "mode: enforce"] + [f"mx: {m}" for m in mx]
    lines.append(f"max_age: {MTA_STS_MAX_AGE}")
    return "\r\n".join(lines) + "\r\n"
