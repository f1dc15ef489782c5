"""The relay lab of real Exim, Sendmail and OpenSMTPD (mtas.py): what each
configuration is, what a relay audit should say about it, and the helpers
tests/e2e/test_real_servers.py and tests/harness/collect_refusals.py share.

    LABS                      every configuration, as Lab(server, listener, ...)
    lab.id                    "exim-open", "sendmail-mx", ...
    relay_args(srv, lab, pw)  the `smtprobe relay` arguments for it
    check_args(srv, lab)      the `smtprobe check` arguments for it
    nmap_argv(port)           nmap's smtp-open-relay against it (as bench/relay-vs-nmap)
    nmap_verdict(xml, port)   "open" | "not open" | "error: ..."
    refusals(doc)             the distinct 4xx/5xx replies of a relay --json document
    write_refusals(path, software, versions, rows)   the data file
    TABLE                     rows the e2e tests record (see summary_lines)
"""
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import peers

HOST = "127.0.0.1"
LOCAL = "example.test"
EXTERNAL = "relay-test.invalid"
OTHER_SENDER = "bob@example.test"
USER = "alice"
NMAP_SCRIPT = "smtp-open-relay"


@dataclass(frozen=True)
class Lab:
    server: str            # the fixture: "exim" | "sendmail" | "opensmtpd"
    listener: str
    kind: str              # open | mx | helo_ok | null_ok | sender_ok | submission | tls_broken
    verdicts: tuple        # the verdicts an audit should give: (A, B, C)
    holes: frozenset = field(default_factory=frozenset)  # exactly these, when not empty
    sender_ok: bool = True  # sub_nocheck: False (alice may send as bob)

    @property
    def id(self):
        return f"{self.server}-{self.listener}"

    @property
    def creds(self):
        return self.kind == "submission"

    @property
    def open(self):
        """The truth: does the listener relay for some unauthenticated client?"""
        return self.verdicts[0] == "open"

    @property
    def exit(self):
        v = self.verdicts
        if "open" in v or "violated" in v:
            return 1
        return 2 if "inconclusive" in v else 0


SENDER_HOLES = frozenset({"A.mail.local", "A.mail.postmaster", "A.mail.upper"})
BC = ("skipped", "skipped")
LABS = (
    Lab("exim", "open", "open", ("open",) + BC),
    Lab("exim", "mx", "mx", ("closed",) + BC),
    Lab("exim", "helo_ok", "helo_ok", ("open",) + BC,
        frozenset({"A.helo.localhost", "A.helo.localhost-localdomain"})),
    Lab("exim", "null_ok", "null_ok", ("open",) + BC, frozenset({"A.mail.null"})),
    Lab("exim", "sender_ok", "sender_ok", ("open",) + BC, SENDER_HOLES),
    Lab("exim", "submission", "submission", ("closed", "holds", "holds")),
    Lab("exim", "sub_nocheck", "submission", ("closed", "holds", "violated"),
        frozenset({"C.other-sender", "C.other-sender-case", "C.foreign-sender",
                   "C.null-sender"}), sender_ok=False),
    Lab("exim", "smtps", "submission", ("closed", "holds", "holds")),
    Lab("sendmail", "mx", "mx", ("closed",) + BC),
    Lab("sendmail", "open", "open", ("open",) + BC),
    # relay_mail_from with `domain` matches sub-domains too (the server's own
    # host name, a random sub-domain), and a bang path sender becomes
    # smtprobe-relay-test@example.test
    Lab("sendmail", "sender_ok", "sender_ok", ("open",) + BC,
        SENDER_HOLES | {"A.mail.host", "A.mail.subdomain", "A.mail.bang"}),
    Lab("opensmtpd", "open", "open", ("open",) + BC),
    Lab("opensmtpd", "mx", "mx", ("closed",) + BC),
    Lab("opensmtpd", "sender_ok", "sender_ok", ("open",) + BC, SENDER_HOLES),
    Lab("opensmtpd", "tls_broken", "tls_broken", ("closed",) + BC),
)
BY_ID = {lab.id: lab for lab in LABS}


def relay_args(srv, lab, password_file):
    args = ["relay", HOST, "-p", srv.ports[lab.listener], "--json", "--local-domain", LOCAL]
    if lab.creds:
        args += ["-au", USER, "--auth-password-file", password_file,
                 "--other-sender", OTHER_SENDER, "--tls-ca-path", srv.ca_file]
    return [str(a) for a in args]


def check_args(srv, lab):
    args = ["check", f"{HOST}:{srv.ports[lab.listener]}", "--json",
            "--tls-ca-path", srv.ca_file]
    if srv.tls[lab.listener] == "implicit":
        args.append("--tlsc")
    return args


def nmap_argv(port, datadir=None):
    """As bench/relay-vs-nmap: no DNS, no host discovery, the script forced
    onto the port, its domain the external one, the address literal ours.
    datadir: a directory whose nmap-services names the port (nmap looks
    there first, then in its own data directory): see nmap_services()."""
    extra = ["--datadir", datadir] if datadir else []
    return [peers.NMAP, "-n", "-Pn"] + extra + [
        "-p", str(port), "--script", f"+{NMAP_SCRIPT}",
        "--script-args", f"{NMAP_SCRIPT}.domain={EXTERNAL},{NMAP_SCRIPT}.ip={HOST}",
        "-vv", "-oX", "-", HOST]


def nmap_services(datadir, port):
    """An nmap-services naming `port` smtps, so that nmap's smtp library
    speaks TLS from the first byte there, as it does on port 465 (without
    it the script waits for a clear-text banner that never comes; -sV would
    find out, in 12 s)."""
    os.makedirs(datadir, exist_ok=True)
    with open(os.path.join(datadir, "nmap-services"), "w") as f:
        f.write(f"smtps\t{port}/tcp\t0.5\n")
    return datadir


def nmap_verdict(xml_text, port):
    """'open' (it lists accepted pairs), 'not open' (all tests failed),
    'not open (authentication needed)' (it met a 530 and stopped), or
    'error: <the script's first line>' (it could not finish)."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as e:
        return f"error: no XML ({e})"
    el = root.find(f"./host/ports/port[@portid='{port}']")
    script = el.find(f"script[@id='{NMAP_SCRIPT}']") if el is not None else None
    if script is None:
        return "error: the script did not run"
    first = script.get("output", "").strip().split("\n")[0].strip()
    if first.startswith("Server is an open relay"):
        return "open"
    if first.startswith("Server doesn't seem to be an open relay"):
        return "not open"
    if first.startswith("Server isn't an open relay"):
        # "..., authentication needed": it stopped at a 530
        return "not open (" + first.split(", ", 1)[-1] + ")"
    return f"error: {first}"


# the random parts of smtprobe's test addresses, so the data files do not
# change from run to run
_RANDOM = ((re.compile(r"smtprobe-relay-test-\d+"), "smtprobe-relay-test-NNN"),
           (re.compile(r"\br\d+\.example\.test", re.I), "rNNN.example.test"))


def _normalise(text):
    for pat, repl in _RANDOM:
        text = pat.sub(repl, text)
    return text


def refusals(doc):
    """{(code, enhanced or '-', text)} of every reply of class 4 or 5 in a
    relay --json document (text: the reply's lines joined by ' ')."""
    out = set()
    for t in doc["tests"]:
        for r in t["replies"]:
            rep = r.get("reply")
            if rep and rep["code"] >= 400:
                text = _normalise(" ".join(rep["text"]))
                out.add((rep["code"], rep["enhanced"] or "-", text))
    return out


def format_refusals(rows):
    return "".join(f"{code} {enh} {text}\n" for code, enh, text in sorted(rows))


def read_refusals(path):
    rows = set()
    with open(path) as f:
        for ln in f:
            if ln.startswith("#") or not ln.strip():
                continue
            code, enh, text = ln.rstrip("\n").split(" ", 2)
            rows.add((int(code), enh, text))
    return rows


def package_versions():
    """{package: version} from the stamp of scripts/install-deps."""
    out = {}
    try:
        with open(os.path.join(peers.MTAS_DIR, "stamp")) as f:
            for ln in f:
                if "=" in ln and not ln.startswith("#"):
                    k, v = ln.strip().split("=", 1)
                    out[k] = v
    except OSError:
        pass
    return out


PACKAGES = {"exim": ("exim4-daemon-light",), "sendmail": ("sendmail-bin",),
            "opensmtpd": ("opensmtpd",)}


def write_refusals(path, server, software, rows):
    versions = package_versions()
    pkgs = ", ".join(f"{p} {versions.get(p, '?')}" for p in PACKAGES[server])
    listeners = ", ".join(lab.listener for lab in LABS if lab.server == server)
    header = (
        f"# The refusal replies of {software} ({pkgs}, Debian 12), as smtprobe relay met them.\n"
        f"# Produced by tests/harness/collect_refusals.py: the test harness starts the server\n"
        f"# (tests/harness/mtas.py, configurations {listeners}), runs\n"
        f"# `smtprobe relay 127.0.0.1 -p PORT --json --local-domain {LOCAL}` on each (with\n"
        f"# alice's credentials and --other-sender {OTHER_SENDER} on submission listeners) and\n"
        f"# keeps every distinct reply of class 4 or 5 in tests[].replies, sorted. The random\n"
        f"# parts of smtprobe's test addresses are written NNN. Regenerate after changing the\n"
        f"# catalogue or the configurations: python3 tests/harness/collect_refusals.py\n"
        f"# One reply a line: CODE ENHANCED-CODE TEXT ('-' when there is no enhanced code).\n")
    with open(path, "w") as f:
        f.write(header + format_refusals(rows))


# What the e2e tests found, one dict per lab id (relay, check, nmap), for
# the summary at the end of the session (conftest.py) and a JSON file.
TABLE = {}


def record(lab, **facts):
    TABLE.setdefault(lab.id, {}).update(facts)


def summary_lines():
    if not TABLE:
        return []
    lines = ["real servers (tests/e2e/test_real_servers.py): expected -> smtprobe relay, "
             "check's relay step, nmap smtp-open-relay",
             f"  {'configuration':22} {'expected':30} {'smtprobe relay':30} "
             f"{'check relay':14} nmap"]
    for lab in LABS:
        row = TABLE.get(lab.id)
        if not row:
            continue
        want = "A " + lab.verdicts[0] + (f", C {lab.verdicts[2]}" if lab.creds else "")
        want += f" (exit {lab.exit})"
        got = row.get("relay", "-")
        nmap = row.get("nmap", "-")
        lines.append(f"  {lab.id:22} {want:30} {got:30} {row.get('check', '-'):14} "
                     f"{nmap} (truth: {'open' if lab.open else 'not open'})")
    return lines
