"""`smtprobe run POLICY.yaml` end to end: a relay policy's expectations per
environment, checked against real servers, with the drift between them.

The contract (docs/smtprobe-run.1, docs/smtprobe-run-policy.md):

    smtprobe run POLICY.yaml [--env NAME]... [--format text|json|junit|tap|
        prometheus|nagios] [--junit FILE] [--validate] [--concurrency N] [-v]

Per target: "reachable" always, then one assertion per expectation
(banner, relay.A/B/C, tls.required, tls.min_version, tls.verify,
tls.cert_days_left_min, auth.offered_in_clear, auth.mechanisms_include,
auth.succeeds, max_ms), each pass, fail or undecided with the expected and
the actual value. Exit 0 all hold, 1 one failed, 2 none failed but one is
undecided, or a usage / policy error (nagios: 0 OK, 2 CRITICAL, 3 UNKNOWN).
Drift: for a target name in several environments, the facts that differ.
Secrets only through auth.password_env / auth.password_file; an inline
password is refused as "FILE:LINE: ...", and no format ever prints one.

The issue's case is the heart of it: staging and production each have a
"submission" target on the harness's real Postfix + Dovecot - staging on
the "submission" listener (reject_sender_login_mismatch), production on
"sub_nocheck", the drifted one where alice may send as bob@example.test -
and an "mx" target on our own `smtprobe serve` (mx preset). Production's
relay.C must fail (expected holds, actual violated), staging must pass, and
the drift must name it.

The shared Postfix accepts TLS 1.0 and 1.1 on its submission ports (its
defaults; openssl s_client agrees), and the issue's policy asks for TLS
1.2 at least. The module fixture `postfix` sets
smtpd_tls_mandatory_protocols = >=TLSv1.2 for this module (the listeners
with smtpd_tls_security_level=encrypt: submission, smtps, sub_nocheck),
waits until openssl sees TLS 1.1 refused, and puts the setting back
afterwards (test_relay.py does the same with in_flow_delay).

Dovecot delays AUTH from 127.0.0.1 after the failed AUTH of scenario A
(A.auth.*), so the Postfix targets get `timeout: 20` and each run of the
issue's policy is made once per module (cached).
"""
import os
import re
import time
import xml.etree.ElementTree as ET

import pytest

from cli_util import closed_port, show
from runner import run_smtprobe
from serve import Serve
from test_formats import (cases_of, check_junit, check_metrics, check_tap, family,
                          nagios_alert, parse_nagios, sample, secrets_of, suites_of,
                          thresholds_agree, truth_leaf, truth_protocols)
from test_relay import _postconf, _reload

PW_VAR = "SMTPROBE_TEST_RUN_ALICE_PW"
BOB = "bob@example.test"
LOCAL = "example.test"
CERT_DAYS = 30
RUN_TIMEOUT = 180
MANDATORY = "smtpd_tls_mandatory_protocols"
SUBMISSION_ASSERTIONS = ["reachable", "relay.A", "relay.B", "relay.C", "tls.required",
                         "tls.min_version", "tls.verify", "tls.cert_days_left_min",
                         "auth.offered_in_clear", "auth.succeeds"]
MX_ASSERTIONS = ["reachable", "banner", "relay.A"]
TOP_KEYS = {"exit_code", "seconds", "targets", "drift"}
TARGET_KEYS = {"env", "name", "host", "port", "ok", "seconds", "error", "assertions", "facts"}
ASSERTION_KEYS = {"name", "status", "expected", "actual", "detail"}
DRIFT_FACTS = {"reachable", "software", "tls", "tls.verified", "tls.versions",
               "auth.offered_in_clear", "auth.mechanisms", "auth.succeeds",
               "relay.A", "relay.B", "relay.C"}


# ---------------------------------------------------------------- helpers
def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def to_yaml(obj, indent=0):
    """Block-style YAML lines of dicts, lists of dicts and scalars."""
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)):
                lines.append(f"{pad}{k}:")
                lines += to_yaml(v, indent + 2)
            else:
                lines.append(f"{pad}{k}: {yaml_scalar(v)}")
    else:
        for item in obj:
            sub = to_yaml(item, indent + 2)
            lines.append(f"{pad}- {sub[0][indent + 2:]}")
            lines += sub[1:]
    return lines


def write_policy(directory, name, envs):
    """envs: {ENV: [target dict, ...]} -> the path of the policy file."""
    path = os.path.join(str(directory), name)
    doc = {"environments": {e: {"targets": t} for e, t in envs.items()}}
    with open(path, "w") as f:
        f.write("# written by tests/e2e/test_run.py\n" + "\n".join(to_yaml(doc)) + "\n")
    return path


def submission_target(ms, listener, **auth):
    return {
        "name": "submission", "host": ms.host, "port": ms.ports[listener],
        "tls": "starttls", "tls_ca_path": ms.ca_file, "local_domain": LOCAL,
        "other_sender": BOB, "auth": {"user": "alice", **(auth or {"password_env": PW_VAR})},
        "timeout": 20,
        "expect": {
            "relay": {"A": "closed", "B": "holds", "C": "holds"},
            "tls": {"required": True, "verify": True, "min_version": "TLSv1.2",
                    "cert_days_left_min": CERT_DAYS},
            "auth": {"offered_in_clear": False, "succeeds": True},
        },
    }


def mx_target(srv, name="mx"):
    return {"name": name, "host": "127.0.0.1", "port": srv.port(0), "tls": "none",
            "local_domain": LOCAL,
            "expect": {"relay": {"A": "closed"}, "banner": r"^220 mx\.example\.test ESMTP"}}


def run(policy, *args, env=None):
    return run_smtprobe(["run", policy] + [str(a) for a in args], timeout=RUN_TIMEOUT, env=env)


def run_doc(res):
    """The JSON document, checked against the contract's shape and its own
    rules: ok and exit_code follow from the statuses."""
    try:
        doc = res.json()
    except ValueError as e:
        pytest.fail(f"run --format json is not one JSON document ({e})\n{show(res)}")
    assert set(doc) == TOP_KEYS, (sorted(doc), show(res))
    statuses = []
    for t in doc["targets"]:
        assert set(t) == TARGET_KEYS, sorted(t)
        assert t["assertions"] and t["assertions"][0]["name"] == "reachable", t["assertions"]
        for a in t["assertions"]:
            assert set(a) == ASSERTION_KEYS, a
            assert a["status"] in ("pass", "fail", "undecided"), a
        st = [a["status"] for a in t["assertions"]]
        assert t["ok"] == all(s == "pass" for s in st), t
        statuses += st
    want = 1 if "fail" in statuses else 2 if "undecided" in statuses else 0
    assert doc["exit_code"] == want == res.returncode, (doc["exit_code"], want, show(res))
    assert set(doc["drift"]) == {"compared", "differences"}, doc["drift"]
    for d in doc["drift"]["differences"]:
        assert set(d) == {"target", "fact", "values"} and d["fact"] in DRIFT_FACTS, d
    return doc


def target_of(doc, env, name):
    found = [t for t in doc["targets"] if t["env"] == env and t["name"] == name]
    assert len(found) == 1, (env, name, [(t["env"], t["name"]) for t in doc["targets"]])
    return found[0]


def assertions(t):
    return {a["name"]: a for a in t["assertions"]}


def failing(doc):
    return {(t["env"], t["name"], a["name"]): a["status"]
            for t in doc["targets"] for a in t["assertions"] if a["status"] != "pass"}


def connects(srv):
    return len(srv.events("connect"))


# --------------------------------------------------------------- fixtures
TLS12_LISTENERS = ("submission", "sub_nocheck")


def _wait_protocols(ms, ok, what):
    """Wait (15 s at most) until ok({listener: truth_protocols}) holds after
    a reload: smtpd processes of the old configuration finish first."""
    deadline = time.monotonic() + 15
    while True:
        truth = {n: truth_protocols(ms.host, ms.ports[n]) for n in TLS12_LISTENERS}
        if ok(truth):
            return truth
        assert time.monotonic() < deadline, \
            f"{what} did not take effect after postfix reload: {truth}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def postfix(mailservers):
    """The shared Postfix with TLS 1.2 at least on its encrypt-only
    listeners for this module (see the module docstring); put back, and
    seen back by openssl, afterwards."""
    ms = mailservers
    before = {n: truth_protocols(ms.host, ms.ports[n]) for n in TLS12_LISTENERS}
    explicit = _postconf(ms, "-n", MANDATORY)
    _postconf(ms, "-e", f"{MANDATORY} = >=TLSv1.2")
    _reload(ms)
    try:
        truth = _wait_protocols(
            ms, lambda t: all(not v["TLSv1"] and not v["TLSv1.1"] for v in t.values()),
            f"{MANDATORY} = >=TLSv1.2")
        assert all(v["TLSv1.2"] and v["TLSv1.3"] for v in truth.values()), truth
        yield ms
    finally:
        if explicit:
            _postconf(ms, "-e", explicit)
        else:
            _postconf(ms, "-X", MANDATORY)
        _reload(ms)
        _wait_protocols(ms, lambda t: t == before, f"restoring {MANDATORY}")


@pytest.fixture(scope="module")
def serve_mx():
    with Serve(["127.0.0.1:0,policy=mx"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_grey(tmp_path_factory):
    """serve greylisting every first attempt: the relay audit cannot decide."""
    d = tmp_path_factory.mktemp("grey")
    pol = d / "policy.yaml"
    pol.write_text("local_domains: [example.test]\nlimits:\n  greylist: 5m\n")
    with Serve(["127.0.0.1:0"], policy=str(pol)) as srv:
        yield srv


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("run-policies")


@pytest.fixture(scope="module")
def alice_pw(smtp_users):
    return smtp_users["alice"]


@pytest.fixture(scope="module")
def key_policy(postfix, serve_mx, policy_dir):
    """The issue's policy: staging and production, submission + mx each."""
    return write_policy(policy_dir, "relay-policy.yaml", {
        "staging": [submission_target(postfix, "submission"), mx_target(serve_mx)],
        "production": [submission_target(postfix, "sub_nocheck"), mx_target(serve_mx)],
    })


@pytest.fixture(scope="module")
def key_run(key_policy, alice_pw):
    """key_run(*args) -> the Result of `smtprobe run KEY_POLICY *args` with
    the password in PW_VAR, made once per module for the same arguments."""
    cache = {}

    def go(*args):
        if args not in cache:
            cache[args] = run(key_policy, *args, env={PW_VAR: alice_pw})
        return cache[args]
    return go


@pytest.fixture(scope="module")
def key_json(key_run, policy_dir):
    """The issue's run: --junit FILE --format json -> (Result, doc, JUnit text)."""
    junit = os.path.join(str(policy_dir), "report.xml")
    res = key_run("--junit", junit, "--format", "json")
    doc = run_doc(res)
    with open(junit) as f:
        return res, doc, f.read()


@pytest.fixture(scope="module")
def mx_policy(serve_mx, policy_dir):
    """One quick target on serve (no Postfix, no secrets)."""
    return write_policy(policy_dir, "mx-only.yaml", {"lab": [mx_target(serve_mx)]})


# ------------------------------------------------ (a) the issue's policy
def test_issue_policy_production_relay_c_fails(key_json):
    res, doc, _ = key_json
    assert res.returncode == 1, show(res)
    assert [(t["env"], t["name"]) for t in doc["targets"]] == [
        ("staging", "submission"), ("staging", "mx"),
        ("production", "submission"), ("production", "mx")], doc["targets"]
    # the one failure: production's submission lets alice send as bob
    assert failing(doc) == {("production", "submission", "relay.C"): "fail"}, failing(doc)
    c = assertions(target_of(doc, "production", "submission"))["relay.C"]
    assert c["expected"] == "holds" and c["actual"] == "violated", c
    assert c["detail"] and str(doc["targets"][2]["port"]) in c["detail"], c
    # the evidence carries the fix, for the software that answered
    assert "reject_sender_login_mismatch" in c["detail"], c
    prod = target_of(doc, "production", "submission")
    assert prod["ok"] is False and prod["error"] is None, prod
    assert prod["port"] == doc["targets"][2]["port"]
    assert prod["facts"]["relay"] == {"A": "closed", "B": "holds", "C": "violated"}, prod["facts"]


def test_issue_policy_staging_passes_everything(key_json, postfix):
    _, doc, _ = key_json
    sub = target_of(doc, "staging", "submission")
    mx = target_of(doc, "staging", "mx")
    assert sub["ok"] and mx["ok"], (sub, mx)
    assert [a["name"] for a in sub["assertions"]] == SUBMISSION_ASSERTIONS, sub["assertions"]
    assert [a["name"] for a in mx["assertions"]] == MX_ASSERTIONS, mx["assertions"]
    assert sub["port"] == postfix.ports["submission"] and sub["host"] == postfix.host
    a = assertions(sub)
    for name, expected in (("relay.A", "closed"), ("relay.B", "holds"), ("relay.C", "holds"),
                           ("tls.required", "true"), ("tls.verify", "true"),
                           ("auth.offered_in_clear", "false"), ("auth.succeeds", "true")):
        assert a[name]["expected"] == expected == a[name]["actual"], a[name]
    assert a["reachable"]["actual"].startswith("220 "), a["reachable"]
    assert "235" in (a["auth.succeeds"]["detail"] or ""), a["auth.succeeds"]
    assert assertions(mx)["banner"]["actual"].startswith("220 mx.example.test ESMTP"), mx
    assert sub["facts"]["software"] == "Postfix", sub["facts"]
    assert mx["facts"]["software"] == "smtprobe serve", mx["facts"]


def test_issue_policy_tls_facts_are_the_truth(key_json, postfix):
    """What run measured is what openssl s_client sees: TLS 1.2 and 1.3
    only (the fixture's setting), the certificate's days left."""
    _, doc, _ = key_json
    for env, listener in (("staging", "submission"), ("production", "sub_nocheck")):
        t = target_of(doc, env, "submission")
        a = assertions(t)
        truth = truth_protocols(postfix.host, postfix.ports[listener])
        lowest = min((v for v, ok in truth.items() if ok),
                     key=["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"].index)
        assert a["tls.min_version"]["actual"] == f"lowest {lowest}", a["tls.min_version"]
        accepted = " ".join(v for v, ok in truth.items() if ok)
        assert t["facts"]["tls_versions"] == accepted, (t["facts"], truth)
        leaf = truth_leaf(postfix.host, postfix.ports[listener])
        m = re.fullmatch(r"(\d+) days", a["tls.cert_days_left_min"]["actual"])
        assert m, a["tls.cert_days_left_min"]
        assert abs(int(m.group(1)) - leaf.days_left()) <= 1, (m.group(1), leaf.days_left())
        assert a["tls.cert_days_left_min"]["expected"] == f">= {CERT_DAYS} days"
        assert t["facts"]["tls"] == "TLSv1.3" and t["facts"]["tls_verified"] is True, t["facts"]


def test_issue_policy_junit_report(key_json):
    _, doc, xml_text = key_json
    root = check_junit(xml_text)
    suites = suites_of(root)
    assert sorted(suites) == sorted(f"{t['env']}/{t['name']}" for t in doc["targets"]), list(suites)
    for t in doc["targets"]:
        s = suites[f"{t['env']}/{t['name']}"]
        cases = cases_of(s)
        assert list(cases) == [a["name"] for a in t["assertions"]], list(cases)
        for c in cases.values():
            assert c.get("classname") == f"smtprobe.run.{t['env']}.{t['name']}", c.attrib
    # the one failure, with expected, actual and the evidence
    assert root.get("failures") == "1" and root.get("errors") == "0", root.attrib
    failure = cases_of(suites["production/submission"])["relay.C"].find("failure")
    assert failure is not None, xml_text[:3000]
    text = (failure.get("message") or "") + "\n" + (failure.text or "")
    assert "holds" in text and "violated" in text, text
    for name in ("staging/submission", "staging/mx", "production/mx"):
        assert suites[name].get("failures") == "0" and suites[name].get("errors") == "0", \
            suites[name].attrib


def test_issue_policy_drift_names_relay_c(key_json):
    _, doc, _ = key_json
    assert doc["drift"]["compared"] == 2, doc["drift"]
    assert doc["drift"]["differences"] == [
        {"target": "submission", "fact": "relay.C",
         "values": {"staging": "holds", "production": "violated"}}], doc["drift"]


def test_issue_policy_password_never_printed(key_json, key_run, alice_pw):
    res, _, xml_text = key_json
    text = key_run()
    for s in secrets_of(alice_pw):
        for where, out in (("stdout", res.stdout), ("stderr", res.stderr),
                           ("JUnit", xml_text), ("text stdout", text.stdout),
                           ("text stderr", text.stderr)):
            assert s not in out, f"{s!r} in the {where}"


def test_issue_policy_text_report(key_run, key_json):
    res = key_run()
    _, doc, _ = key_json
    assert res.returncode == 1, show(res)
    out = res.stdout
    for t in doc["targets"]:
        assert re.search(rf"^{t['env']}/{t['name']}\s+127\.0\.0\.1:{t['port']}\b", out, re.M), \
            (t["env"], t["name"], out)
    assert re.search(r"^\s+✘ relay\.C\s+expected holds, got violated\n(\s{6}\S.*\n)*"
                     r"\s{6}fix: .*reject_sender_login_mismatch", out, re.M), out
    assert re.search(r"^drift: 2 targets in several environments, 1 difference$", out, re.M), out
    assert re.search(r"^\s+submission\s+relay\.C\s+staging: holds\s+production: violated\s*$",
                     out, re.M), out
    total = sum(len(t["assertions"]) for t in doc["targets"])
    assert re.search(rf"^result: {total} assertions, 1 failed, 0 undecided, "
                     rf"in [\d.]+ s \(exit 1\)$", out, re.M), out


def test_min_version_fails_where_openssl_sees_old_protocols(postfix, policy_dir):
    """Postfix's mx listener (STARTTLS may: smtpd_tls_protocols, left at
    its default) accepts TLS 1.0: TLSv1.2 at least fails, with the lowest
    version openssl finds and Postfix's fix."""
    truth = truth_protocols(postfix.host, postfix.ports["mx"])
    assert truth["TLSv1"], f"the harness's Postfix mx no longer takes TLS 1.0: {truth}"
    pol = write_policy(policy_dir, "old-protocols.yaml", {"lab": [{
        "name": "postfix-mx", "host": postfix.host, "port": postfix.ports["mx"],
        "tls": "starttls", "tls_ca_path": postfix.ca_file,
        "expect": {"tls": {"min_version": "TLSv1.2", "verify": True}}}]})
    res = run(pol, "--format", "json")
    doc = run_doc(res)
    assert res.returncode == 1, show(res)
    assert failing(doc) == {("lab", "postfix-mx", "tls.min_version"): "fail"}, failing(doc)
    a = assertions(doc["targets"][0])["tls.min_version"]
    assert a["expected"] == "lowest >= TLSv1.2" and a["actual"] == "lowest TLSv1", a
    accepted = " ".join(v for v, ok in truth.items() if ok)
    assert a["detail"].startswith(f"accepted: {accepted}"), (a, truth)
    assert "smtpd_tls_protocols" in a["detail"], a


# ----------------------------------------------------- (b) one environment
def test_staging_alone_exit_0(key_run):
    res = key_run("--env", "staging", "--format", "json")
    doc = run_doc(res)
    assert res.returncode == 0, show(res)
    assert {t["env"] for t in doc["targets"]} == {"staging"}, doc["targets"]
    assert len(doc["targets"]) == 2 and all(t["ok"] for t in doc["targets"]), doc["targets"]
    assert doc["drift"] == {"compared": 0, "differences": []}, doc["drift"]


def test_password_file_relative_to_the_policy(postfix, policy_dir, alice_pw):
    """password_file: its first line; a relative path is read next to the
    policy file, whatever the working directory."""
    with open(os.path.join(str(policy_dir), "alice.pw"), "w") as f:
        f.write(alice_pw + "\n")
    pol = write_policy(policy_dir, "password-file.yaml", {
        "staging": [submission_target(postfix, "submission", password_file="alice.pw")]})
    res = run_smtprobe(["run", pol, "--format", "json", "-v"], timeout=RUN_TIMEOUT)
    doc = run_doc(res)
    assert res.returncode == 0, show(res)
    assert assertions(doc["targets"][0])["auth.succeeds"]["status"] == "pass", doc["targets"][0]
    for s in secrets_of(alice_pw):
        assert s not in res.stdout and s not in res.stderr, f"{s!r} printed"


def test_password_variable_unset_is_undecided(key_policy, serve_mx):
    """No password in the environment: the target cannot run (undecided,
    exit 2) and the message names the variable; serve's target still runs."""
    res = run(key_policy, "--env", "staging", "--format", "json")
    doc = run_doc(res)
    assert res.returncode == 2, show(res)
    reach = assertions(target_of(doc, "staging", "submission"))["reachable"]
    assert reach["status"] == "undecided" and PW_VAR in reach["actual"], reach
    assert target_of(doc, "staging", "mx")["ok"], doc["targets"]


# ------------------------------------------------------ (c) policy errors
SECRET = "hunter2-inline-Secret"


@pytest.mark.parametrize("text,line,where", [
    ("      - name: submission\n        host: 127.0.0.1\n        auth:\n"
     "          user: alice\n          password: {s}\n", 9, "auth.password"),
    ("      - name: submission\n        host: 127.0.0.1\n        auth: {{user: alice, "
     "secret: {s}}}\n", 7, "auth.secret"),
    ("      - name: submission\n        host: 127.0.0.1\n        passwd: {s}\n", 7, "passwd"),
], ids=["auth-password", "auth-secret-flow", "target-passwd"])
def test_inline_password_refused(policy_dir, serve_mx, text, line, where):
    path = os.path.join(str(policy_dir), f"inline-{line}-{where}.yaml")
    with open(path, "w") as f:
        f.write("# an inline secret\nenvironments:\n  staging:\n    targets:\n"
                + text.format(s=SECRET))
    before = connects(serve_mx)
    for args in ([], ["--validate"], ["--format", "json"]):
        res = run(path, *args)
        assert res.returncode == 2, show(res)
        assert res.stdout == "", show(res)
        assert f"{path}:{line}: {where}:" in res.stderr, show(res)
        assert "password_env" in res.stderr and "password_file" in res.stderr, show(res)
        assert SECRET not in res.stderr, show(res)
    assert connects(serve_mx) == before


@pytest.mark.parametrize("target,line,msg", [
    ("        colour: blue\n", 7, "colour: unknown key"),
    ("        expect:\n          relay: {A: shut}\n", 8, "expect.relay.A: 'shut' is not one of"),
    ("        expect:\n          tls: {min_version: TLSv1.4}\n", 8,
     "expect.tls.min_version: 'TLSv1.4' is not one of"),
    ("        expect:\n          relay: {B: holds}\n", 8, "expect.relay.B:"),
    ("        port: 70000\n", 7, "port: '70000' is out of range"),
    ("        expect:\n          banner: '(a'\n", 8, "expect.banner:"),
], ids=["unknown-key", "bad-verdict", "bad-version", "b-without-auth", "bad-port", "bad-regex"])
def test_policy_errors_name_file_line_and_key(policy_dir, target, line, msg):
    path = os.path.join(str(policy_dir), f"bad-{line}-{abs(hash(target))}.yaml")
    with open(path, "w") as f:
        f.write("# a mistake\nenvironments:\n  staging:\n    targets:\n"
                "      - name: mx\n        host: 127.0.0.1\n" + target)
    res = run(path, "--validate")
    assert res.returncode == 2, show(res)
    assert res.stdout == "", show(res)
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"smtprobe: {path}:{line}: {msg}"), show(res)


def test_unknown_env_refused(mx_policy, serve_mx):
    before = connects(serve_mx)
    res = run(mx_policy, "--env", "lab", "--env", "nosuch")
    assert res.returncode == 2, show(res)
    assert res.stdout == "", show(res)
    assert "nosuch" in res.stderr and mx_policy in res.stderr, show(res)
    assert connects(serve_mx) == before, "a target was probed despite the error"


def test_validate_lists_environments_and_probes_nothing(key_policy, serve_mx, postfix):
    before = connects(serve_mx)
    res = run(key_policy, "--validate")          # no password needed to validate
    assert res.returncode == 0, show(res)
    out = res.stdout
    assert re.search(r"valid; 2 environments", out), out
    envs = re.findall(r"^  (\S+)$", out, re.M)
    assert envs == ["staging", "production"], out
    for port in (postfix.ports["submission"], postfix.ports["sub_nocheck"], serve_mx.port(0)):
        assert f"127.0.0.1:{port}" in out, (port, out)
    assert len(re.findall(r"^    submission\s", out, re.M)) == 2, out
    assert len(re.findall(r"^    mx\s", out, re.M)) == 2, out
    assert connects(serve_mx) == before, "--validate probed a target"


def test_validate_with_an_unknown_env_is_an_error(key_policy):
    """`--env` names an environment the file lacks: an error (docs: "An
    environment the file lacks is an error") - with --validate too, or a CI
    job validating `--env prod` passes and its real run fails."""
    res = run(key_policy, "--validate", "--env", "nosuch")
    assert res.returncode == 2, show(res)
    assert "nosuch" in res.stderr, show(res)


def test_help_does_not_offer_cert_days(key_policy):
    """run refuses --cert-days (the bound belongs in the policy, see the
    man page); --help must not advertise it as a working nagios option."""
    res = run(key_policy, "--cert-days", "30", "--format", "nagios")
    assert res.returncode == 3, show(res)
    assert "cert_days_left_min" in res.stderr, show(res)
    helptext = run_smtprobe(["run", "--help"]).stdout
    line = [x for x in helptext.splitlines() if "--cert-days" in x]
    assert not line or "cert_days_left_min" in line[0], \
        f"run --help offers an option run refuses: {line}"


# ------------------------------------------------ (d) unreachable target
@pytest.fixture(scope="module")
def gone_target():
    port = closed_port()
    return {"name": "gone", "host": "127.0.0.1", "port": port, "tls": "none",
            "local_domain": LOCAL,
            "expect": {"relay": {"A": "closed"}, "banner": "ESMTP",
                       "tls": {"required": True, "verify": True, "min_version": "TLSv1.2",
                               "cert_days_left_min": 5},
                       "auth": {"offered_in_clear": False}, "max_ms": 1000}}


@pytest.fixture(scope="module")
def gone_run(gone_target, policy_dir):
    pol = write_policy(policy_dir, "gone.yaml", {"lab": [gone_target]})
    res = run(pol, "--format", "json")
    return res, run_doc(res)


def test_unreachable_target_fails_reachable_rest_undecided(gone_run, gone_target):
    res, doc = gone_run
    assert res.returncode == 1, show(res)
    t = doc["targets"][0]
    a = t["assertions"]
    assert a[0]["name"] == "reachable" and a[0]["status"] == "fail", a[0]
    assert str(gone_target["port"]) in a[0]["actual"], a[0]
    assert "refused" in a[0]["actual"] or "connect" in a[0]["actual"], a[0]
    names = [x["name"] for x in a[1:]]
    assert sorted(names) == sorted(["banner", "relay.A", "tls.required", "tls.min_version",
                                    "tls.verify", "tls.cert_days_left_min",
                                    "auth.offered_in_clear", "max_ms"]), names
    for x in a[1:]:
        assert x["status"] == "undecided", x
        assert "not reached" in x["actual"], x
    assert t["facts"]["reachable"] is False, t["facts"]


def test_unreached_assertions_claim_no_measurement(gone_run):
    """An assertion that measured nothing still says what was expected, and
    carries no evidence of a measurement ("TLS none" of a server never
    reached, "accepted: " with nothing after it)."""
    _, doc = gone_run
    bad = [(x["name"], x["expected"], x["detail"]) for x in doc["targets"][0]["assertions"][1:]
           if not x["expected"] or (x["detail"] and "reach" not in x["detail"])]
    assert not bad, f"unreached target's assertions: {bad}"


# --------------------------------------------------- (e) only undecided
@pytest.fixture(scope="module")
def grey_policy(serve_grey, policy_dir):
    return write_policy(policy_dir, "grey.yaml", {"lab": [mx_target(serve_grey, "grey")]})


def test_only_undecided_exits_2(grey_policy, policy_dir):
    """Greylisting (serve's limits.greylist) makes the relay audit
    inconclusive: relay.A is undecided, nothing failed, exit 2; the JUnit
    report has it as an <error>, not a <failure>."""
    junit = os.path.join(str(policy_dir), "grey.xml")
    res = run(grey_policy, "--format", "json", "--junit", junit)
    doc = run_doc(res)
    assert res.returncode == 2, show(res)
    assert failing(doc) == {("lab", "grey", "relay.A"): "undecided"}, failing(doc)
    a = assertions(doc["targets"][0])["relay.A"]
    assert a["actual"] == "inconclusive" and "greylisting" in (a["detail"] or ""), a
    with open(junit) as f:
        root = check_junit(f.read())
    case = cases_of(suites_of(root)["lab/grey"])["relay.A"]
    assert case.find("error") is not None and case.find("failure") is None, ET.tostring(case)
    res = run(grey_policy, "--format", "nagios")
    assert res.returncode == 3, show(res)
    state, summary, _, _ = parse_nagios(res.stdout, "RUN")
    assert state == "UNKNOWN" and "lab/grey relay.A" in summary, res.stdout


# ------------------------------------------------------- (f) the formats
def test_tap(key_run, key_json):
    res = key_run("--format", "tap")
    assert res.returncode == 1, show(res)
    top = check_tap(res.stdout)
    _, doc, _ = key_json
    assert [d for _, d, _ in top] == [f"{t['env']}/{t['name']}" for t in doc["targets"]], top
    for ok, desc, points in top:
        assert ok == (desc != "production/submission"), (desc, ok)
        bad = [d for p_ok, d, _, _ in points if not p_ok]
        assert bad == (["relay.C"] if desc == "production/submission" else []), (desc, bad)
    c = [p for p in top[2][2] if p[1] == "relay.C"][0]
    assert c[3]["message"] == "expected holds, got violated", c
    assert c[3]["severity"] == "fail" and "reject_sender_login_mismatch" in c[3]["data"], c


def test_prometheus(key_run, key_json):
    res = key_run("--format", "prometheus")
    assert res.returncode == 1, show(res)
    m = check_metrics(res.stdout)
    _, doc, _ = key_json
    want = {(t["env"], t["name"], a["name"]): 1.0 if a["status"] == "pass" else 0.0
            for t in doc["targets"] for a in t["assertions"]}
    got = {(dict(lab)["env"], dict(lab)["target"], dict(lab)["assertion"]): v
           for lab, v in family(m, "smtprobe_assertion_success").items()}
    assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want)
                         if got.get(k) != want.get(k)}
    assert sample(m, "smtprobe_assertion_success", env="production", target="submission",
                  assertion="relay.C") == 0
    for t in doc["targets"]:
        assert sample(m, "smtprobe_run_target_success", env=t["env"], target=t["name"]) == \
            (1 if t["ok"] else 0), t["name"]
    assert sample(m, "smtprobe_run_drift_differences") == 1, res.stdout


def test_reports_quote_what_the_policy_says(serve_mx, policy_dir):
    """A banner regex with quotes, <, &, ' and a backslash: every format
    carries it back intact (JSON, JUnit escaping, TAP's YAML quoting)."""
    regex = "^220 \"<&>' \\\\d ESMTP"
    target = mx_target(serve_mx)
    target["expect"]["banner"] = regex
    pol = write_policy(policy_dir, "quoting.yaml", {"lab": [target]})
    doc = run_doc(run(pol, "--format", "json"))
    a = assertions(doc["targets"][0])["banner"]
    assert a["status"] == "fail" and a["expected"] == f"matches /{regex}/", a
    res = run(pol, "--format", "junit")
    failure = cases_of(suites_of(check_junit(res.stdout))["lab/mx"])["banner"].find("failure")
    assert f"matches /{regex}/" in failure.get("message"), failure.attrib
    assert f"expected: matches /{regex}/" in failure.text, failure.text
    res = run(pol, "--format", "tap")
    top = check_tap(res.stdout)
    diag = [p for p in top[0][2] if p[1] == "banner"][0][3]
    assert diag["message"] == f"expected matches /{regex}/, got {a['actual']}", diag


def test_junit_on_stdout(mx_policy):
    res = run(mx_policy, "--format", "junit")
    assert res.returncode == 0, show(res)
    root = check_junit(res.stdout)
    assert list(suites_of(root)) == ["lab/mx"], res.stdout
    assert root.get("failures") == "0", root.attrib


def test_junit_file_that_cannot_be_written(mx_policy, policy_dir):
    """All assertions hold but the CI report is missing: not a success."""
    path = os.path.join(str(policy_dir), "no-such-dir", "report.xml")
    res = run(mx_policy, "--junit", path)
    assert res.returncode == 2, show(res)
    assert path in res.stderr, show(res)


def test_nagios_critical(key_run):
    res = key_run("--format", "nagios")
    assert res.returncode == 2, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RUN")
    assert state == "CRITICAL", res.stdout
    assert summary.startswith(
        "production/submission relay.C: expected holds, got violated"), summary
    assert lines == ["[fail] production/submission relay.C: expected holds, got violated"], lines
    assert set(perf) == {"time", "assertions", "failed", "undecided", "drift"}, perf
    assert perf["time"][1] == "s", perf
    assert (perf["assertions"][0], perf["failed"][0], perf["undecided"][0], perf["drift"][0]) == \
        (26, 1, 0, 1), perf


def test_nagios_perfdata_thresholds_agree_with_the_state(key_run):
    """`failed=1;;1:;0`: "1:" is a Nagios range alerting BELOW 1, so the
    perfdata calls the one failure fine and a clean run critical."""
    for args, want in ((("--format", "nagios"), "CRITICAL"),
                       (("--env", "staging", "--format", "nagios"), "OK")):
        res = key_run(*args)
        state, _, perf, _ = parse_nagios(res.stdout, "RUN")
        assert state == want, res.stdout
        assert not thresholds_agree(state, perf), f"{thresholds_agree(state, perf)}\n{res.stdout}"
        if state == "CRITICAL" and perf["failed"][3]:
            assert nagios_alert(perf["failed"][3], perf["failed"][0]), \
                f"CRITICAL with failed={perf['failed'][0]:g}, yet its critical range " \
                f"{perf['failed'][3]!r} does not alert on that\n{res.stdout}"


def test_nagios_ok_for_staging(key_run):
    res = key_run("--env", "staging", "--format", "nagios")
    assert res.returncode == 0, show(res)
    state, summary, perf, lines = parse_nagios(res.stdout, "RUN")
    assert state == "OK", res.stdout
    assert summary == "13 assertions hold on 2 targets", summary
    assert perf["failed"][0] == 0 and perf["assertions"][0] == 13, perf
    assert lines == [], lines


def test_nagios_time_threshold(mx_policy):
    res = run(mx_policy, "--format", "nagios", "-w", "0.000001")
    assert res.returncode == 1, show(res)
    state, _, perf, _ = parse_nagios(res.stdout, "RUN")
    assert state == "WARNING" and perf["time"][2] == "0.000001", res.stdout


@pytest.mark.parametrize("args", [
    [],                                            # no policy file
    ["{policy}", "--concurrency", "0"],
    ["{policy}", "--env", "nosuch"],
    ["{policy}", "--cert-days", "30"],
    ["{policy}", "--no-such-option"],
    ["{missing}"],
], ids=["no-policy", "concurrency-0", "unknown-env", "cert-days", "unknown-option",
        "missing-file"])
def test_nagios_usage_errors_are_unknown(mx_policy, policy_dir, args):
    args = [a.format(policy=mx_policy, missing=os.path.join(str(policy_dir), "missing.yaml"))
            for a in args]
    res = run_smtprobe(["run"] + args + ["--format", "nagios"], timeout=RUN_TIMEOUT)
    assert res.returncode == 3, show(res)
    assert res.stderr.strip(), show(res)


def test_nagios_status_line_names_a_failed_assertion(serve_grey, gone_target, policy_dir):
    """CRITICAL comes from the failed assertion: the status line must name
    it, not an undecided one listed before it."""
    pol = write_policy(policy_dir, "grey-and-gone.yaml",
                       {"lab": [mx_target(serve_grey, "grey"), gone_target]})
    res = run(pol, "--format", "nagios")
    assert res.returncode == 2, show(res)
    state, summary, _, lines = parse_nagios(res.stdout, "RUN")
    assert state == "CRITICAL", res.stdout
    assert "[fail] lab/gone reachable: " in "\n".join(lines), lines
    assert summary.startswith("lab/gone reachable:"), \
        f"CRITICAL, but the status line names {summary!r}\n{res.stdout}"
