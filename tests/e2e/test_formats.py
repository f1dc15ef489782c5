"""--format prometheus | junit | tap on `smtprobe check`, `relay` and `tls`,
and `smtprobe relay --format nagios`, end to end against real servers.

The contract (docs/smtprobe-check.1, smtprobe-relay.1, smtprobe-tls.1):

    smtprobe check|relay|tls TARGET ... --format prometheus|junit|tap
    smtprobe relay TARGET ... --format nagios [-w RANGE] [-c RANGE]

- prometheus: the text exposition format, judged by `promtool check
  metrics` (no lint message at all). check: smtprobe_probe_success,
  smtprobe_probe_duration_seconds, smtprobe_step_success{step},
  smtprobe_step_duration_seconds{step} (skipped steps absent),
  smtprobe_tls_version_info{version}, smtprobe_tls_cert_verified,
  smtprobe_tls_cert_not_after_timestamp_seconds; relay: probe_success,
  duration, smtprobe_relay_verdict{scenario,verdict} (a sample per possible
  verdict, 1 for the one found), smtprobe_relay_tests{scenario,outcome};
  tls: probe_success, duration, smtprobe_tls_protocol_accepted{version},
  smtprobe_tls_findings{severity}, the certificate's two. `tls` needs a
  port for it (a usage error otherwise: exit 2).
- junit: valid against tests/data/junit.xsd (`xmllint --schema`), its
  counts agreeing with its testcases, failures when and only when the exit
  code says a failure.
- tap: TAP version 14, a plan, a subtest per target; "not ok" when and only
  when the exit code says a failure.
- relay nagios: "SMTPROBE RELAY OK|WARNING|CRITICAL|UNKNOWN - HOST: A
  closed, ... | time=..s;;;0 tests=N;;;0 holes=N;;..;0 undecided=N;;;0
  warnings=N;;;0", long output "[verdict] port P X: why"; CRITICAL (2)
  when a scenario is open / violated, WARNING (1) when the policy holds
  with warnings or -w is crossed, UNKNOWN (3) when undecided, when nothing
  answered, or on a usage error (--cert-days included).

Servers (loopback only): `smtprobe serve` presets open, mx and submission
(STARTTLS required, AUTH, its generated CA), and the harness's Postfix
(`mailservers`: mx, submission). What the TLS metrics claim is compared
with `openssl s_client` (tls_truth.py): the protocols a listener accepts,
its certificate's expiry.

The helpers that read the formats (check_metrics, sample, check_junit,
check_tap, parse_nagios, nagios_alert) are shared with test_run.py.
"""
import base64
import json
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

import peers
from cli_util import closed_port, show
from runner import ROOT, run_smtprobe
from serve import Serve
from tls_truth import candidate_suites, parse_cert, proto_args, run_s_client

PROMTOOL = peers.PROMTOOL
XMLLINT = peers.XMLLINT
JUNIT_XSD = os.path.join(ROOT, "tests", "data", "junit.xsd")
SERVE_ALICE_PW = "alice-password"                  # serve's submission preset
BOB = "bob@example.test"
RUN_TIMEOUT = 120
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
A_VERDICTS = ("skipped", "closed", "open", "inconclusive")
BC_VERDICTS = ("skipped", "holds", "violated", "inconclusive")
RELAY_OUTCOMES = ("skipped", "pass", "hole", "warn", "undecided", "fact")
SEVERITIES = ("info", "low", "medium", "high", "critical")
NAGIOS_STATES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


# ------------------------------------------------------------- prometheus
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} of an exposition; every line is
    a sample, a HELP or a TYPE line."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.groups()
        pairs = []
        if labels:
            pos = 0
            while pos < len(labels):
                lm = _LABEL.match(labels, pos)
                assert lm, f"bad labels in {line!r}"
                pairs.append((lm.group(1), lm.group(2)))
                pos = lm.end()
        key = (name, tuple(sorted(pairs)))
        assert key not in out, f"sample twice: {line!r}"
        out[key] = float(value)
    return out


def check_metrics(text):
    """The samples of `text` once `promtool check metrics` passes it without
    a word (a lint message is a failure too)."""
    peers.require("promtool")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    said = (p.stdout + p.stderr).decode(errors="replace").strip()
    assert p.returncode == 0 and not said, \
        f"promtool check metrics: exit {p.returncode}: {said}\n--- metrics ---\n{text[:4000]}"
    return parse_metrics(text)


def sample(metrics, name, **labels):
    """The value of one sample (None when absent)."""
    return metrics.get((name, tuple(sorted(labels.items()))))


def family(metrics, name):
    """{labels dict as a sorted tuple: value} of one metric name."""
    return {lab: v for (n, lab), v in metrics.items() if n == name}


def label_values(metrics, name, label):
    return {dict(lab)[label] for lab in family(metrics, name)}


# ------------------------------------------------------------------ junit
def check_junit(xml_text):
    """The root of a JUnit report once xmllint validates it against
    tests/data/junit.xsd and its counts agree with its testcases."""
    peers.require("xmllint")
    with tempfile.NamedTemporaryFile("w", suffix=".xml", prefix="smtprobe-junit-",
                                     delete=False) as f:
        f.write(xml_text)
    try:
        p = subprocess.run([XMLLINT, "--noout", "--schema", JUNIT_XSD, f.name],
                           capture_output=True, timeout=30)
    finally:
        os.unlink(f.name)
    said = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, f"xmllint --schema junit.xsd: exit {p.returncode}: " \
                              f"{said[-2000:]}\n--- xml ---\n{xml_text[:4000]}"
    root = ET.fromstring(xml_text.encode())
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in suites:
        cases = s.findall("testcase")
        got = {"tests": len(cases),
               "failures": sum(1 for c in cases if c.find("failure") is not None),
               "errors": sum(1 for c in cases if c.find("error") is not None),
               "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
        for k, v in got.items():
            assert int(s.get(k, "0")) == v, \
                f"testsuite {s.get('name')}: {k}={s.get(k)} but {v} testcases say so"
            totals[k] += v
    if root.tag == "testsuites":
        for k, v in totals.items():
            assert int(root.get(k, "0")) == v, f"testsuites {k}={root.get(k)}, the suites: {v}"
    return root


def suites_of(root):
    return {s.get("name"): s for s in
            ([root] if root.tag == "testsuite" else root.findall("testsuite"))}


def cases_of(suite):
    return {c.get("name"): c for c in suite.findall("testcase")}


def junit_failures(root):
    return sum(len(s.findall("testcase/failure")) for s in suites_of(root).values())


# -------------------------------------------------------------------- tap
_POINT = re.compile(r"^(not ok|ok) (\d+)(?: - ([^#]*?))?\s*(?:# (SKIP|TODO)\b.*)?$")


def check_tap(text):
    """[(ok, description, [(ok, description, directive, diagnostics)])] of
    a TAP 14 document made of subtests, after checking its structure: the
    version line, the plans, the numbering, each subtest's point agreeing
    with its points (not ok when and only when one of them is not ok), and
    the YAML diagnostics ("key: word" or "key: \"JSON-escaped string\"")."""
    lines = text.splitlines()
    assert lines and lines[0] == "TAP version 14", f"first line: {lines[:1]}\n{text[:2000]}"
    plan, top, sub, subname, subplan = None, [], [], None, None
    in_yaml = False
    for line in lines[1:]:
        if not line.strip():
            continue
        if in_yaml:
            if line == "      ...":
                in_yaml = False
                continue
            m = re.fullmatch(r"      ([a-z_]+): (.*)", line)
            assert m, f"not a YAML diagnostic line: {line!r}"
            value = m.group(2)
            if value.startswith('"'):
                try:
                    value = json.loads(value)
                except ValueError as e:
                    pytest.fail(f"badly quoted YAML value ({e}): {line!r}")
            else:
                assert re.fullmatch(r"[\w.-]+", value), f"unquoted YAML value: {line!r}"
            sub[-1][3][m.group(1)] = value
            continue
        if line == "      ---":
            assert sub and not sub[-1][0], f"diagnostics after an ok point: {sub[-1:]}"
            in_yaml = True
            continue
        if line.startswith("    "):
            inner = line[4:]
            if re.fullmatch(r"1\.\.\d+", inner):
                assert subplan is None, f"two plans in subtest {subname}"
                subplan = int(inner[3:])
                continue
            m = _POINT.match(inner)
            assert m, f"not a TAP line in a subtest: {line!r}"
            assert int(m.group(2)) == len(sub) + 1, f"numbering: {line!r}"
            sub.append((m.group(1) == "ok", (m.group(3) or "").strip(), m.group(4), {}))
            continue
        if line.startswith("# Subtest: "):
            assert subname is None and not sub, f"nested subtest header: {line!r}"
            subname = line[len("# Subtest: "):]
            continue
        if line.startswith("#"):
            continue
        if re.fullmatch(r"1\.\.\d+", line):
            assert plan is None, "two top-level plans"
            plan = int(line[3:])
            continue
        m = _POINT.match(line)
        assert m, f"not a TAP line: {line!r}"
        assert int(m.group(2)) == len(top) + 1, f"numbering: {line!r}"
        ok, desc = m.group(1) == "ok", (m.group(3) or "").strip()
        if subname is not None:
            assert desc == subname, f"subtest {subname!r} closed by {line!r}"
            assert subplan == len(sub), f"subtest {subname}: plan {subplan}, {len(sub)} points"
            assert ok == all(s[0] for s in sub), \
                f"subtest {subname}: {line!r} but its points: {sub}"
        top.append((ok, desc, sub))
        sub, subname, subplan = [], None, None
    assert not in_yaml and subname is None, f"subtest {subname} never closed"
    assert plan == len(top), f"plan 1..{plan}, {len(top)} points\n{text[:2000]}"
    return top


# ----------------------------------------------------------------- nagios
_STATUS = re.compile(r"^SMTPROBE (\w+) (OK|WARNING|CRITICAL|UNKNOWN) - (.*?)(?: \| (.*))?$")
_PERF = re.compile(r"^('[^']+'|[^ =']+)=(-?\d+(?:\.\d+)?)([a-zA-Z%]*)"
                   r"(?:;([^;]*)(?:;([^;]*)(?:;([^;]*)(?:;([^;]*))?)?)?)?$")
_RANGE = re.compile(r"^(@?)(?:(~|-?\d+(?:\.\d+)?):)?(-?\d+(?:\.\d+)?)?$")


def nagios_alert(rng, value):
    """Does a Nagios plugin range alert on value? ("10" = outside 0..10,
    "10:" = below 10, "~:10" = above 10, "10:20", "@10:20" = inside)."""
    m = _RANGE.match(rng)
    assert m and rng, f"not a Nagios range: {rng!r}"
    inside, lo, hi = m.groups()
    lo = float("-inf") if lo == "~" else float(lo) if lo is not None else 0.0
    hi = float(hi) if hi is not None else float("inf")
    outside = value < lo or value > hi
    return not outside if inside else outside


def parse_nagios(text, name):
    """(state, summary, {label: (value, uom, warn, crit, min, max)}, long
    lines) of a plugin's output, checking the status line's and the
    perfdata's form."""
    lines = text.splitlines()
    assert lines, "no output"
    m = _STATUS.match(lines[0])
    assert m, f"not a status line: {lines[0]!r}"
    assert m.group(1) == name, lines[0]
    perf = {}
    for item in (m.group(4) or "").split():
        pm = _PERF.match(item)
        assert pm, f"malformed perfdata {item!r} in {lines[0]!r}"
        label, value, uom, warn, crit, lo, hi = pm.groups()
        for r in (warn, crit):
            if r:
                nagios_alert(r, 0)            # a well-formed range
        for x in (lo, hi):
            assert not x or re.fullmatch(r"-?\d+(?:\.\d+)?", x), item
        assert label not in perf, f"perfdata label twice: {label}"
        perf[label] = (float(value), uom, warn or "", crit or "", lo or "", hi or "")
    return m.group(2), m.group(3), perf, lines[1:]


def thresholds_agree(state, perf):
    """The perfdata thresholds that contradict the state: [(label, range,
    value, what)] (a range alerting in an OK state, or a CRITICAL state
    whose own critical ranges all stay quiet)."""
    bad = []
    for label, (value, _, warn, crit, _, _) in perf.items():
        for kind, rng in (("warning", warn), ("critical", crit)):
            if rng and state == "OK" and nagios_alert(rng, value):
                bad.append((label, rng, value, f"its {kind} range alerts, the state is OK"))
    return bad


# ------------------------------------------------------------------ truth
def truth_protocols(host, port):
    """{version: accepted} as openssl s_client sees it (every suite of the
    version offered, at security level 0)."""
    peers.require("openssl_probe")
    out = {}
    for v in TLS_VERSIONS:
        p = run_s_client(host, port, proto_args(v, [s for s, _, _ in candidate_suites(v)]))
        assert not p.error, f"s_client {v}: {p.error}"
        out[v] = p.ok and p.protocol == v
    return out


def truth_leaf(host, port):
    """The certificate the server sends first, as openssl parses it."""
    peers.require("openssl_probe")
    p = run_s_client(host, port, ["-showcerts"])
    assert p.ok and p.pems, f"no certificate from {host}:{port}: {p.error or p.output[-500:]}"
    return parse_cert(p.pems[0])


def secrets_of(password, user="alice"):
    """The password and the encodings PLAIN and LOGIN put on the wire."""
    return [password,
            base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
            base64.b64encode(password.encode()).decode()]


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def serve_open():
    with Serve(["127.0.0.1:0,policy=open"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_mx():
    with Serve(["127.0.0.1:0,policy=mx"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_submission():
    with Serve(["127.0.0.1:0/starttls-required,policy=submission"]) as srv:
        yield srv


def smtprobe(*args, env=None):
    return run_smtprobe([str(a) for a in args], timeout=RUN_TIMEOUT, env=env)


def target(srv, i=0):
    return f"127.0.0.1:{srv.port(i)}"


def cmdline(kind, request):
    """The command lines of the format tests by name: (argv, env, exit)."""
    if kind == "check-mx":
        return ["check", target(request.getfixturevalue("serve_mx"))], None, 0
    if kind == "check-untrusted":
        return ["check", target(request.getfixturevalue("serve_submission"))], None, 1
    if kind == "relay-open":
        srv = request.getfixturevalue("serve_open")
        return ["relay", "127.0.0.1", "-p", srv.port(0)], None, 1
    if kind == "relay-mx":
        srv = request.getfixturevalue("serve_mx")
        return ["relay", "127.0.0.1", "-p", srv.port(0)], None, 0
    if kind == "relay-submission":
        srv = request.getfixturevalue("serve_submission")
        return (["relay", "127.0.0.1", "-p", srv.port(0), "--tls-ca-path", srv.ca_file,
                 "-au", "alice", "--other-sender", BOB],
                {"SMTPROBE_PASSWORD": SERVE_ALICE_PW}, 0)
    if kind == "tls-trusted":
        srv = request.getfixturevalue("serve_submission")
        return ["tls", target(srv), "--tls-ca-path", srv.ca_file], None, 0
    if kind == "tls-untrusted":
        return ["tls", target(request.getfixturevalue("serve_submission"))], None, 1
    raise AssertionError(kind)


KINDS = ["check-mx", "check-untrusted", "relay-open", "relay-mx", "relay-submission",
         "tls-trusted", "tls-untrusted"]


# ------------------------------------------------------- check: prometheus
def test_check_prometheus_against_serve_mx(serve_mx):
    res = smtprobe("check", target(serve_mx), "--format", "prometheus")
    assert res.returncode == 0, show(res)
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_probe_success") == 1, res.stdout
    assert sample(m, "smtprobe_probe_duration_seconds") > 0, res.stdout
    for step in ("dns", "tcp", "banner", "ehlo"):
        assert sample(m, "smtprobe_step_success", step=step) == 1, (step, res.stdout)
        assert sample(m, "smtprobe_step_duration_seconds", step=step) >= 0, (step, res.stdout)
    # the steps skipped (no AUTH without credentials, no MAIL without -f)
    # are absent, and each step present has both samples
    assert label_values(m, "smtprobe_step_success", "step") == \
        label_values(m, "smtprobe_step_duration_seconds", "step")
    assert not {"auth", "mail", "rcpt", "data"} & label_values(m, "smtprobe_step_success",
                                                                 "step"), res.stdout
    # the mx preset listener speaks no TLS: no TLS facts
    assert not family(m, "smtprobe_tls_version_info"), res.stdout
    assert sample(m, "smtprobe_tls_cert_verified") is None, res.stdout


def test_check_prometheus_agrees_with_json(serve_submission):
    """Every step the JSON ran is a sample, 1 for pass / warn, 0 for fail."""
    args = ["check", target(serve_submission), "--tls-ca-path", serve_submission.ca_file,
            "-au", "alice"]
    env = {"SMTPROBE_PASSWORD": SERVE_ALICE_PW}
    doc = smtprobe(*args, "--json", env=env).json()
    res = smtprobe(*args, "--format", "prometheus", env=env)
    assert res.returncode == doc["exit_code"] == 0, show(res)
    m = check_metrics(res.stdout)
    ran = {s["name"]: s["status"] for s in doc["steps"] if s["status"] != "skip"}
    assert label_values(m, "smtprobe_step_success", "step") == set(ran), (ran, res.stdout)
    for step, status in ran.items():
        assert sample(m, "smtprobe_step_success", step=step) == \
            (1 if status in ("pass", "warn") else 0), (step, status)
    assert sample(m, "smtprobe_step_success", step="auth") == 1
    for s in secrets_of(SERVE_ALICE_PW):
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


def test_check_prometheus_tls_facts_match_openssl(serve_submission):
    res = smtprobe("check", target(serve_submission), "--tls-ca-path",
                   serve_submission.ca_file, "--format", "prometheus")
    m = check_metrics(res.stdout)
    # serve negotiates TLS 1.3 with a client offering it (s_client's default)
    versions = family(m, "smtprobe_tls_version_info")
    assert versions == {(("version", "TLSv1.3"),): 1.0}, res.stdout
    assert sample(m, "smtprobe_tls_cert_verified") == 1, res.stdout
    leaf = truth_leaf("127.0.0.1", serve_submission.port(0))
    assert sample(m, "smtprobe_tls_cert_not_after_timestamp_seconds") == \
        leaf.not_after.timestamp(), (leaf.not_after, res.stdout)


def test_check_prometheus_untrusted_certificate(serve_submission):
    """Without the serve CA the chain does not verify: a failed step on a
    submission port, exit 1, and the metrics say so."""
    res = smtprobe("check", target(serve_submission), "--format", "prometheus")
    assert res.returncode == 1, show(res)
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_probe_success") == 0, res.stdout
    assert sample(m, "smtprobe_tls_cert_verified") == 0, res.stdout
    assert sample(m, "smtprobe_step_success", step="tls") == 0, res.stdout


def test_check_prometheus_against_postfix_submission(mailservers, smtp_users):
    """Real Postfix + Dovecot: STARTTLS, AUTH through Dovecot, the harness
    CA; the certificate's expiry is the one openssl sees."""
    ms = mailservers
    res = smtprobe("check", f"{ms.host}:{ms.ports['submission']}", "--tls-ca-path",
                   ms.ca_file, "-au", "alice", "--timeout", "20", "--format", "prometheus",
                   env={"SMTPROBE_PASSWORD": smtp_users["alice"]})
    assert res.returncode == 0, show(res)
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_probe_success") == 1
    for step in ("banner", "ehlo", "tls", "auth"):
        assert sample(m, "smtprobe_step_success", step=step) == 1, (step, res.stdout)
    assert sample(m, "smtprobe_tls_cert_verified") == 1
    leaf = truth_leaf(ms.host, ms.ports["submission"])
    assert sample(m, "smtprobe_tls_cert_not_after_timestamp_seconds") == \
        leaf.not_after.timestamp(), (leaf.not_after, res.stdout)
    assert len(family(m, "smtprobe_tls_version_info")) == 1, res.stdout
    for s in secrets_of(smtp_users["alice"]):
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


# ------------------------------------------------------- relay: prometheus
def relay_metrics_agree(m, doc):
    """The relay metrics tell what the JSON of the same audit tells."""
    for sc, verdicts in (("A", A_VERDICTS), ("B", BC_VERDICTS), ("C", BC_VERDICTS)):
        got = {dict(lab)["verdict"]: v for lab, v in family(m, "smtprobe_relay_verdict").items()
               if dict(lab)["scenario"] == sc}
        assert set(got) == set(verdicts), (sc, got)
        assert [k for k, v in got.items() if v == 1] == [doc["verdicts"][sc]], \
            (sc, got, doc["verdicts"])
        assert sum(got.values()) == 1, (sc, got)
        outcomes = {dict(lab)["outcome"]: v for lab, v in family(m, "smtprobe_relay_tests").items()
                    if dict(lab)["scenario"] == sc}
        assert set(outcomes) == set(RELAY_OUTCOMES), (sc, outcomes)
        assert all(v >= 0 and v == int(v) for v in outcomes.values()), outcomes
        assert sum(outcomes.values()) == len([t for t in doc["tests"] if t["scenario"] == sc]), \
            (sc, outcomes, len(doc["tests"]))
    assert sample(m, "smtprobe_probe_success") == (1 if doc["exit_code"] == 0 else 0)
    assert sample(m, "smtprobe_probe_duration_seconds") >= 0


def test_relay_prometheus_open_relay(serve_open):
    res = smtprobe("relay", "127.0.0.1", "-p", serve_open.port(0), "--format", "prometheus")
    assert res.returncode == 1, show(res)
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_relay_verdict", scenario="A", verdict="open") == 1
    assert sample(m, "smtprobe_relay_verdict", scenario="A", verdict="closed") == 0
    assert sample(m, "smtprobe_relay_verdict", scenario="B", verdict="skipped") == 1
    assert sample(m, "smtprobe_probe_success") == 0
    assert sample(m, "smtprobe_relay_tests", scenario="A", outcome="hole") > 0
    # the reminder stays on stderr: stdout is the exposition alone
    assert "audit only servers you are responsible for" in res.stderr, show(res)
    doc = smtprobe("relay", "127.0.0.1", "-p", serve_open.port(0), "--json").json()
    relay_metrics_agree(m, doc)


def test_relay_prometheus_mx_closed(serve_mx):
    res = smtprobe("relay", "127.0.0.1", "-p", serve_mx.port(0), "--format", "prometheus")
    assert res.returncode == 0, show(res)
    m = check_metrics(res.stdout)
    assert sample(m, "smtprobe_relay_verdict", scenario="A", verdict="closed") == 1
    assert sample(m, "smtprobe_probe_success") == 1
    assert sample(m, "smtprobe_relay_tests", scenario="A", outcome="hole") == 0
    doc = smtprobe("relay", "127.0.0.1", "-p", serve_mx.port(0), "--json").json()
    relay_metrics_agree(m, doc)


def test_relay_prometheus_with_credentials(serve_submission):
    args = ["relay", "127.0.0.1", "-p", serve_submission.port(0), "--tls-ca-path",
            serve_submission.ca_file, "-au", "alice", "--other-sender", BOB]
    env = {"SMTPROBE_PASSWORD": SERVE_ALICE_PW}
    res = smtprobe(*args, "--format", "prometheus", env=env)
    assert res.returncode == 0, show(res)
    m = check_metrics(res.stdout)
    for sc, v in (("A", "closed"), ("B", "holds"), ("C", "holds")):
        assert sample(m, "smtprobe_relay_verdict", scenario=sc, verdict=v) == 1, (sc, res.stdout)
    relay_metrics_agree(m, smtprobe(*args, "--json", env=env).json())
    for s in secrets_of(SERVE_ALICE_PW):
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


# --------------------------------------------------------- tls: prometheus
def tls_metrics_agree(m, host, port, verified):
    truth = truth_protocols(host, port)
    got = {dict(lab)["version"]: v
           for lab, v in family(m, "smtprobe_tls_protocol_accepted").items()}
    for v in TLS_VERSIONS:
        assert got.get(v) == (1 if truth[v] else 0), (v, got, truth)
    sev = {dict(lab)["severity"]: v for lab, v in family(m, "smtprobe_tls_findings").items()}
    assert set(sev) == set(SEVERITIES), sev
    assert all(v >= 0 and v == int(v) for v in sev.values()), sev
    assert sample(m, "smtprobe_tls_cert_verified") == (1 if verified else 0)
    leaf = truth_leaf(host, port)
    assert sample(m, "smtprobe_tls_cert_not_after_timestamp_seconds") == \
        leaf.not_after.timestamp()
    assert sample(m, "smtprobe_probe_duration_seconds") > 0
    return sev


def test_tls_prometheus_against_serve(serve_submission):
    port = serve_submission.port(0)
    res = smtprobe("tls", f"127.0.0.1:{port}", "--tls-ca-path", serve_submission.ca_file,
                   "--format", "prometheus")
    assert res.returncode == 0, show(res)
    m = check_metrics(res.stdout)
    sev = tls_metrics_agree(m, "127.0.0.1", port, verified=True)
    assert sample(m, "smtprobe_probe_success") == 1
    assert sev["high"] == 0 and sev["critical"] == 0, sev


def test_tls_prometheus_untrusted_is_a_high_finding(serve_submission):
    port = serve_submission.port(0)
    res = smtprobe("tls", f"127.0.0.1:{port}", "--format", "prometheus")
    assert res.returncode == 1, show(res)
    m = check_metrics(res.stdout)
    sev = tls_metrics_agree(m, "127.0.0.1", port, verified=False)
    assert sample(m, "smtprobe_probe_success") == 0
    assert sev["high"] + sev["critical"] >= 1, sev


def test_tls_prometheus_against_postfix_mx(mailservers):
    """Postfix's mx listener (STARTTLS may, the default protocols) accepts
    what openssl says it accepts, TLS 1.0 included on this harness."""
    ms = mailservers
    res = smtprobe("tls", f"{ms.host}:{ms.ports['mx']}", "--tls-ca-path", ms.ca_file,
                   "--format", "prometheus")
    m = check_metrics(res.stdout)
    sev = tls_metrics_agree(m, ms.host, ms.ports["mx"], verified=True)
    assert res.returncode == (1 if sev["high"] + sev["critical"] else 0), show(res)
    assert sample(m, "smtprobe_probe_success") == (1 if res.returncode == 0 else 0)


def test_tls_prometheus_needs_a_port_usage_error_exit_2(serve_submission):
    """Without a port the scan would discover listeners: prometheus has no
    shape for that, so it is a usage error, exit 2 (3 is nagios' UNKNOWN,
    not a code of the other formats)."""
    res = smtprobe("tls", "127.0.0.1", "--format", "prometheus")
    assert res.stdout == "", show(res)
    assert "port" in res.stderr, show(res)
    assert res.returncode == 2, show(res)


# ---------------------------------------------------------- junit and tap
@pytest.mark.parametrize("kind", KINDS)
def test_junit_validates_and_agrees_with_the_exit_code(request, kind):
    argv, env, want = cmdline(kind, request)
    res = smtprobe(*argv, "--format", "junit", env=env)
    assert res.returncode == want, show(res)
    root = check_junit(res.stdout)
    suites = suites_of(root)
    assert len(suites) == 1, list(suites)
    (name, suite), = suites.items()
    assert name.startswith(argv[0] + " ") and "127.0.0.1" in name, name
    assert suite.get("hostname") == "127.0.0.1", suite.attrib
    assert suite.findall("testcase"), name
    for c in suite.findall("testcase"):
        assert c.get("classname") == f"smtprobe.{argv[0]}", c.attrib
    assert (junit_failures(root) > 0) == (want == 1), (want, res.stdout[:3000])
    if env and "SMTPROBE_PASSWORD" in env:
        for s in secrets_of(env["SMTPROBE_PASSWORD"]):
            assert s not in res.stdout, f"{s!r} in the JUnit XML"


@pytest.mark.parametrize("kind", KINDS)
def test_tap_agrees_with_the_exit_code(request, kind):
    argv, env, want = cmdline(kind, request)
    res = smtprobe(*argv, "--format", "tap", env=env)
    assert res.returncode == want, show(res)
    top = check_tap(res.stdout)
    assert len(top) == 1, top
    ok, desc, points = top[0]
    assert desc.startswith(argv[0] + " ") and "127.0.0.1" in desc, desc
    assert points, res.stdout
    assert ok == (want == 0), (want, res.stdout[:3000])


def test_junit_and_tap_name_the_same_cases(serve_open):
    """One audit, two reports: the same cases, failing the same way."""
    args = ["relay", "127.0.0.1", "-p", serve_open.port(0)]
    junit = check_junit(smtprobe(*args, "--format", "junit").stdout)
    tap = check_tap(smtprobe(*args, "--format", "tap").stdout)
    suite, = suites_of(junit).values()
    # TAP has no "undecided": a JUnit <error> is a "not ok" too
    jcases = {n: c.find("failure") is None and c.find("error") is None
              for n, c in cases_of(suite).items()}
    tcases = {d: ok for ok, d, _, _ in tap[0][2]}
    assert jcases == tcases, (sorted(set(jcases) ^ set(tcases)),
                              [n for n in jcases if jcases[n] != tcases.get(n)])


# ----------------------------------------------------------- relay nagios
def relay_nagios(*args, env=None):
    return smtprobe("relay", *args, "--format", "nagios", env=env)


def test_relay_nagios_ok_on_a_closed_mx(serve_mx):
    res = relay_nagios("127.0.0.1", "-p", serve_mx.port(0))
    assert res.returncode == 0, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RELAY")
    assert state == "OK", res.stdout
    assert summary == "127.0.0.1: A closed", summary
    assert set(perf) == {"time", "tests", "holes", "undecided", "warnings"}, perf
    assert perf["time"][1] == "s" and perf["time"][0] >= 0, perf["time"]
    assert perf["holes"][0] == 0 and perf["undecided"][0] == 0, perf
    assert perf["tests"][0] > 0, perf
    assert lines == [l for l in lines if re.match(r"^\[\w+\] port \d+ [ABC]: ", l)], lines
    assert any(l.startswith(f"[closed] port {serve_mx.port(0)} A: ") for l in lines), lines
    # the relay reminder is not plugin output
    assert "responsible" not in res.stdout


def test_relay_nagios_critical_on_an_open_relay(serve_open):
    res = relay_nagios("127.0.0.1", "-p", serve_open.port(0))
    assert res.returncode == 2, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RELAY")
    assert state == "CRITICAL", res.stdout
    assert summary.startswith("127.0.0.1: A open"), summary
    assert perf["holes"][0] > 0, perf
    assert any(l.startswith(f"[open] port {serve_open.port(0)} A: ") for l in lines), lines
    # the counts are the ones the metrics of the same audit give
    m = check_metrics(smtprobe("relay", "127.0.0.1", "-p", serve_open.port(0),
                               "--format", "prometheus").stdout)
    by_outcome = {}
    for lab, v in family(m, "smtprobe_relay_tests").items():
        by_outcome[dict(lab)["outcome"]] = by_outcome.get(dict(lab)["outcome"], 0) + v
    assert perf["holes"][0] == by_outcome["hole"], (perf, by_outcome)
    assert perf["undecided"][0] == by_outcome["undecided"], (perf, by_outcome)
    assert perf["warnings"][0] == by_outcome["warn"], (perf, by_outcome)
    assert perf["tests"][0] == sum(v for k, v in by_outcome.items() if k != "skipped"), \
        (perf, by_outcome)


def test_relay_nagios_warning_when_the_policy_holds_with_warnings(mailservers, smtp_users):
    """Postfix's submission accepts the null sender after AUTH: B and C
    hold, with a warning (test_relay.py), so WARNING (1)."""
    ms = mailservers
    res = relay_nagios(ms.host, "-p", ms.ports["submission"], "--tls-ca-path", ms.ca_file,
                       "-au", "alice", "--other-sender", BOB, "--scenario", "BC",
                       "--timeout", "20", env={"SMTPROBE_PASSWORD": smtp_users["alice"]})
    assert res.returncode == 1, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RELAY")
    assert state == "WARNING", res.stdout
    assert summary == f"{ms.host}: B holds, C holds", summary
    assert perf["warnings"][0] >= 1 and perf["holes"][0] == 0, perf
    port = ms.ports["submission"]
    assert any(l.startswith(f"[holds] port {port} B: ") for l in lines), lines
    assert any(l.startswith(f"[holds] port {port} C: ") for l in lines), lines
    for s in secrets_of(smtp_users["alice"]):
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed\n{show(res)}"


def test_relay_nagios_time_thresholds(serve_mx):
    port = serve_mx.port(0)
    res = relay_nagios("127.0.0.1", "-p", port, "-w", "0.000001")
    assert res.returncode == 1, show(res)
    state, _, perf, _ = parse_nagios(res.stdout, "RELAY")
    assert state == "WARNING" and perf["time"][2] == "0.000001", res.stdout
    res = relay_nagios("127.0.0.1", "-p", port, "-w", "0.000001", "-c", "0.0000001")
    assert res.returncode == 2, show(res)
    state, _, perf, _ = parse_nagios(res.stdout, "RELAY")
    assert state == "CRITICAL" and perf["time"][3] == "0.0000001", res.stdout
    res = relay_nagios("127.0.0.1", "-p", port, "-w", "60", "-c", "120")
    assert res.returncode == 0, show(res)
    state, _, perf, _ = parse_nagios(res.stdout, "RELAY")
    assert state == "OK" and perf["time"][2:4] == ("60", "120"), res.stdout


@pytest.mark.parametrize("args", [
    [],                                                  # no target
    ["127.0.0.1", "-p", "0"],
    ["127.0.0.1", "--scenario", "X"],
    ["127.0.0.1", "--no-such-option"],
    ["127.0.0.1", "-w", "not-a-range"],
    ["127.0.0.1", "--cert-days", "30"],                  # a relay audit reads no certificate
], ids=["no-target", "port-0", "bad-scenario", "unknown-option", "bad-range", "cert-days"])
def test_relay_nagios_usage_errors_are_unknown(args):
    res = relay_nagios(*args)
    assert res.returncode == 3, show(res)
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("smtprobe: "), show(res)


def test_relay_nagios_critical_when_nothing_answers_says_why():
    """Nothing listens: CRITICAL (2; an unreachable server is critical to
    the monitoring-plugins), and the status line says what happened
    (nothing answered on that port), not just "no scenario ran"."""
    port = closed_port()
    res = relay_nagios("127.0.0.1", "-p", port)
    assert res.returncode == 2, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RELAY")
    assert state == "CRITICAL", res.stdout
    assert perf["tests"][0] == 0, perf
    assert str(port) in res.stdout, \
        f"the plugin output does not name the port nothing answered on\n{show(res)}"
    assert re.search(r"answer|connect|refused", res.stdout), \
        f"the plugin output does not say that nothing answered\n{show(res)}"


@pytest.mark.parametrize("preset", ["mx", "open"])
def test_relay_nagios_perfdata_thresholds_agree_with_the_state(request, preset):
    """A threshold in the perfdata is a Nagios range: "1:" alerts BELOW 1.
    A graphing or alerting tool reading `holes=0;;1:;0` in an OK result
    sees a critical value; `holes=21;;1:;0` in a CRITICAL one a fine value.
    The thresholds must not contradict the state the plugin gives."""
    srv = request.getfixturevalue(f"serve_{preset}")
    res = relay_nagios("127.0.0.1", "-p", srv.port(0))
    state, _, perf, _ = parse_nagios(res.stdout, "RELAY")
    assert not thresholds_agree(state, perf), \
        f"{thresholds_agree(state, perf)}\n{res.stdout}"
    if state == "CRITICAL" and perf["holes"][3]:
        assert nagios_alert(perf["holes"][3], perf["holes"][0]), \
            f"CRITICAL for {perf['holes'][0]:g} holes, yet its critical range " \
            f"{perf['holes'][3]!r} does not alert on that\n{res.stdout}"


def test_nagios_range_reader():
    """The range reader the threshold tests rely on (the monitoring plugins
    guidelines' own examples)."""
    assert nagios_alert("10", 11) and nagios_alert("10", -1) and not nagios_alert("10", 5)
    assert nagios_alert("10:", 9) and not nagios_alert("10:", 10)
    assert nagios_alert("~:10", 11) and not nagios_alert("~:10", -100)
    assert nagios_alert("10:20", 21) and not nagios_alert("10:20", 15)
    assert nagios_alert("@10:20", 15) and not nagios_alert("@10:20", 21)
    assert nagios_alert("1:", 0) and not nagios_alert("1:", 3)
    assert nagios_alert("0", 1) and not nagios_alert("0", 0)
