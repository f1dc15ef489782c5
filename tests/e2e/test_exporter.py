"""`smtprobe exporter` end to end, through the real binary on loopback.

- /probe runs a module of the modules file: a check against `smtprobe serve`
  answers smtprobe_probe_success 1; a closed port 0 with HTTP 200 (as
  blackbox_exporter does); HOST alone takes the module's port, HOST:PORT and
  [IPv6]:PORT win over it; relay and tls modules answer their metrics; a
  check (password_file) and a relay audit against the real Postfix + Dovecot
  of the harness succeed.
- An unknown module, a missing target or module, a bad target or timeout
  header: 400 with one line; another path 404; another method 405.
- /metrics: the counters move (probes by module and result, requests by path
  and code); every *_total is a counter; `promtool check metrics` accepts
  /probe's and /metrics' output.
- X-Prometheus-Scrape-Timeout-Seconds bounds a probe of a server that
  accepts and never speaks: the answer (success 0) comes within it.
- --max-concurrent: a request beyond it waits for its deadline, then 503.
- A secret from password_env never appears in any reply or log line.
- SIGHUP reloads the modules file (a bad one keeps the old); SIGTERM stops
  it with exit 0; usage errors exit 2 with one line.
- THE key test: a real Prometheus (tests/harness/prometheus.py) scrapes the
  exporter with blackbox-style relabelling, and its query API answers
  smtprobe_probe_success 1 for the target.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

import prometheus
from runner import SMTPROBE, run_smtprobe
from serve import Serve

SECRET_VAR = "SMTPROBE_EXPORTER_TEST_PW"
SECRET = "alice-password"  # serve's submission preset (alice)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0
PROM_TYPE = "text/plain; version=0.0.4"
TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"

# loopback only: never through a proxy from the environment
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    status: int
    headers: dict
    body: str
    elapsed: float


def http(url, method="GET", headers=None, timeout=30):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    start = time.monotonic()
    try:
        with _opener.open(req, timeout=timeout) as r:
            return Reply(r.status, dict(r.headers), r.read().decode(), time.monotonic() - start)
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read().decode(), time.monotonic() - start)


def parse_metrics(text):
    """{name: [(labels, value), ...]} and {name: type} of an exposition."""
    samples, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)$", line)
        if m:
            types[m.group(1)] = m.group(2)
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        assert m, f"not a sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return samples, types


def value(text, name, **labels):
    """The value of the one sample of name with these labels (None: none)."""
    found = [v for lab, v in parse_metrics(text)[0].get(name, [])
             if all(lab.get(k) == str(x) for k, x in labels.items())]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


def check_module(port, **extra):
    m = {"kind": "check", "port": port, "tls": "starttls"}
    m.update(extra)
    return m


def modules_yaml(modules):
    """modules.yaml for {name: {key: value or {key: value}}} (JSON is YAML)."""
    return json.dumps({"modules": modules}, indent=2) + "\n"


class Exporter:
    """`smtprobe exporter` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, modules, extra=(), env=None, listen="127.0.0.1:0"):
        self.workdir = tempfile.mkdtemp(prefix="smtprobe-exporter-test-")
        self.config = os.path.join(self.workdir, "modules.yaml")
        self.write(modules)
        self.args = [SMTPROBE, "exporter", "--listen", listen, "--config",
                     self.config] + [str(a) for a in extra]
        self.env = dict(os.environ)
        self.env.pop(SECRET_VAR, None)
        self.env.update(env or {})
        self.proc = None
        self.returncode = None

    def write(self, modules):
        with open(self.config, "w") as f:
            f.write(modules if isinstance(modules, str) else modules_yaml(modules))

    def start(self):
        self.err_path = os.path.join(self.workdir, "stderr")
        self.out_path = os.path.join(self.workdir, "stdout")
        with open(self.err_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = (re.search(r"event=listening address=(\S+):(\d+)", self.stderr())
                 or re.search(r'"event":"listening","address":"([^"]+):(\d+)"', self.stderr()))
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        pytest.fail(f"smtprobe exporter did not start: exit {self.proc.returncode}: "
                    f"{self.stderr()[-2000:]}", pytrace=False)

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def url(self, path="/", **query):
        return f"http://{self.address}{path}" + ("?" + urllib.parse.urlencode(query)
                                                 if query else "")

    def get(self, path="/", headers=None, timeout=30, **query):
        return http(self.url(path, **query), headers=headers, timeout=timeout)

    def probe(self, target, module, scrape_timeout=None, timeout=30):
        headers = {TIMEOUT_HEADER: str(scrape_timeout)} if scrape_timeout else None
        return self.get("/probe", headers=headers, timeout=timeout, target=target,
                        module=module)

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return r.body

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"smtprobe exporter did not stop within {STOP_TIMEOUT}s of SIGTERM")
        self.returncode = self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        self.stop()
        if exc_type is None:
            assert self.returncode == 0, f"exit {self.returncode}: {self.stderr()[-2000:]}"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, then closed: nothing listens there
    return port


class Silent:
    """A loopback listener that completes connections and never says a word."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        return self

    def accepted(self):
        """How many connections came (waiting in the backlog), taken now."""
        self.sock.setblocking(False)
        n = 0
        try:
            while True:
                conn, _ = self.sock.accept()
                conn.close()
                n += 1
        except BlockingIOError:
            pass
        return n

    def __exit__(self, *exc):
        self.sock.close()


@pytest.fixture(scope="module")
def srv():
    """serve: [0] an MX with STARTTLS, [1] the submission preset (STARTTLS + AUTH)."""
    with Serve(["127.0.0.1:0/starttls,policy=mx",
                "127.0.0.1:0/starttls,policy=submission"]) as s:
        yield s


@pytest.fixture
def exporter(srv):
    """An exporter whose modules know srv: mx (check), sub (check with AUTH
    from password_env), relay, tls."""
    with Exporter({"mx": check_module(srv.port(0), tls_ca_path=srv.ca_file),
                   "sub": check_module(srv.port(1), tls_ca_path=srv.ca_file,
                                       auth={"user": "alice", "password_env": SECRET_VAR}),
                   "relay": {"kind": "relay", "port": srv.port(0),
                             "tls_ca_path": srv.ca_file},
                   "tls": {"kind": "tls", "port": srv.port(0), "tls_ca_path": srv.ca_file}},
                  env={SECRET_VAR: SECRET}) as x:
        yield x


def assert_promtool(text, what):
    status, out = prometheus.promtool_check_metrics(text)
    assert status == 0, f"promtool check metrics on {what}: exit {status}: {out}\n{text}"


def assert_probe(r, success):
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith(PROM_TYPE), r.headers
    assert value(r.body, "smtprobe_probe_success") == success, r.body
    assert value(r.body, "smtprobe_probe_duration_seconds") is not None, r.body


# ------------------------------------------------------------------ /probe
def test_check_against_serve_succeeds(exporter, srv):
    r = exporter.probe(f"127.0.0.1:{srv.port(0)}", "mx")
    assert_probe(r, 1)
    for step in ("tcp", "banner", "ehlo", "tls"):
        assert value(r.body, "smtprobe_step_success", step=step) == 1, r.body
    assert value(r.body, "smtprobe_tls_cert_not_after_timestamp_seconds") > time.time()
    assert_promtool(r.body, "/probe (check)")
    line = [ln for ln in exporter.stderr().splitlines() if "event=probe" in ln][-1]
    assert "module=mx" in line and "result=success" in line and "seconds=" in line, line


def test_closed_port_is_200_with_success_0(exporter):
    r = exporter.probe(f"127.0.0.1:{closed_port()}", "mx")
    assert_probe(r, 0)
    assert value(r.body, "smtprobe_step_success", step="tcp") == 0, r.body
    assert_promtool(r.body, "/probe (closed port)")
    assert "result=failure" in exporter.stderr()


def test_target_forms(srv):
    """HOST takes the module's port; the target's port wins over it."""
    with Exporter({"mx": check_module(srv.port(0), tls_ca_path=srv.ca_file),
                   "elsewhere": check_module(closed_port(), tls_ca_path=srv.ca_file)}) as x:
        assert_probe(x.probe("127.0.0.1", "mx"), 1)
        assert_probe(x.probe("127.0.0.1", "elsewhere"), 0)
        assert_probe(x.probe(f"127.0.0.1:{srv.port(0)}", "elsewhere"), 1)
        # the IPv6 loopback, in brackets: nothing listens there
        assert_probe(x.probe(f"[::1]:{closed_port()}", "mx"), 0)


def test_relay_and_tls_modules(exporter, srv):
    r = exporter.probe(f"127.0.0.1:{srv.port(0)}", "relay")
    assert_probe(r, 1)
    assert value(r.body, "smtprobe_relay_verdict", scenario="A", verdict="closed") == 1, r.body
    assert_promtool(r.body, "/probe (relay)")
    r = exporter.probe(f"127.0.0.1:{srv.port(0)}", "tls", scrape_timeout=30)
    assert r.status == 200, r
    assert value(r.body, "smtprobe_tls_protocol_accepted", version="TLSv1.3") == 1, r.body
    assert parse_metrics(r.body)[0].get("smtprobe_tls_findings"), r.body
    assert_promtool(r.body, "/probe (tls)")


def test_against_postfix(mailservers, ca_file, smtp_users, tmp_path):
    """The real Postfix + Dovecot SASL of the harness: a check of its
    submission service with a password file, and the relay audit of its MX."""
    pw = tmp_path / "alice.pw"
    pw.write_text(smtp_users["alice"] + "\n")
    with Exporter({"submission": check_module(mailservers.ports["submission"],
                                              tls_ca_path=ca_file,
                                              auth={"user": "alice",
                                                    "password_file": str(pw)}),
                   "mx_relay": {"kind": "relay", "port": mailservers.ports["mx"],
                                "tls_ca_path": ca_file}}) as x:
        r = x.probe(mailservers.host, "submission")
        assert_probe(r, 1)
        assert value(r.body, "smtprobe_step_success", step="auth") == 1, r.body
        r = x.probe(mailservers.host, "mx_relay", scrape_timeout=30)
        assert_probe(r, 1)
        assert value(r.body, "smtprobe_relay_verdict", scenario="A", verdict="closed") == 1
        out = x.stderr() + x.stdout() + r.body
    assert smtp_users["alice"] not in out


# ------------------------------------------------------------ bad requests
@pytest.mark.parametrize("query,why", [
    ({"target": "127.0.0.1:25", "module": "nope"}, "unknown module 'nope'"),
    ({"module": "mx"}, "missing parameter 'target'"),
    ({"target": "127.0.0.1:25"}, "missing parameter 'module'"),
    ({"target": "", "module": "mx"}, "missing parameter 'target'"),
    ({"target": "a b:25", "module": "mx"}, "bad target"),
    ({"target": "127.0.0.1:0", "module": "mx"}, "bad target"),
    ({"target": "127.0.0.1:99999", "module": "mx"}, "bad target"),
    ({"target": "[::1:25", "module": "mx"}, "bad target"),
    ({"target": "127.0.0.1:25", "module": "x\r\nInjected: 1\n<b>"}, "unknown module"),
], ids=["unknown-module", "no-target", "no-module", "empty-target", "space", "port-0",
        "port-too-big", "unclosed-bracket", "control-bytes"])
def test_bad_probe_request_is_400_with_one_line(exporter, query, why):
    r = exporter.get("/probe", **query)
    assert r.status == 400, r
    assert r.body.count("\n") == 1 and r.body.endswith("\n"), repr(r.body)
    assert why in r.body, r.body
    assert "\r" not in r.body and "Injected" not in r.headers, r


@pytest.mark.parametrize("header", ["abc", "-1", "0", "nan", "inf", "5s"])
def test_bad_timeout_header_is_400(exporter, srv, header):
    r = exporter.get("/probe", headers={TIMEOUT_HEADER: header},
                     target=f"127.0.0.1:{srv.port(0)}", module="mx")
    assert r.status == 400 and TIMEOUT_HEADER in r.body, r


def test_other_paths_and_methods(exporter):
    assert exporter.get("/nope").status == 404
    assert exporter.get("/probe/").status == 404
    for method in ("POST", "PUT", "DELETE"):
        r = http(exporter.url("/probe", target="127.0.0.1:25", module="mx"), method=method)
        assert r.status == 405, r
        assert r.headers.get("Allow") == "GET", r.headers
    r = exporter.get("/")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html"), r
    assert 'href="/metrics"' in r.body and "/probe?target=" in r.body and "module=mx" in r.body


def test_oversized_request_is_refused(exporter):
    """The request's memory is capped: a huge URL or header never reaches a probe."""
    r = exporter.get("/probe", target="127.0.0.1:25", module="m" * 40000)
    assert r.status in (400, 413, 414, 431), r
    r = exporter.get("/metrics", headers={"X-Big": "y" * 40000})
    assert r.status in (400, 413, 431), r
    assert exporter.get("/metrics").status == 200  # and it still serves


def raw(x, data, timeout=5):
    """What the exporter answers to these bytes ("" when it just closes)."""
    with socket.create_connection(("127.0.0.1", x.port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return out.decode(errors="replace")


@pytest.mark.parametrize("data", [
    b"\x00\xff\x16\x03\x01garbage\r\n\r\n",
    b"GET /probe?target=%00&module=%ff%0d%0a HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /probe?target=127.0.0.1:1&module=mx HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000 + b"\r\n\r\n",
    b"GET /\r\n\r\n",
    b"POST /probe HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nxxxx",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /probe?target=127.0.0.1:1&module=mx&module=mx&target=x HTTP/1.1\r\nHost: x\r\n"
    b"X-Prometheus-Scrape-Timeout-Seconds: 1e308\r\n\r\n",
], ids=["binary", "nul-and-crlf", "header-without-colon", "huge-header", "http-0.9",
        "huge-body", "bad-chunk", "repeated-params"])
def test_hostile_bytes(exporter, data):
    """Whatever arrives, the answer (if any) is a status line and the
    exporter still serves."""
    out = raw(exporter, data)
    assert out == "" or re.match(r"HTTP/1\.[01] [2-5]\d\d ", out), out[:300]
    assert "\x00" not in out
    assert exporter.get("/metrics").status == 200


def test_connection_flood(exporter):
    """More connections than the cap: the extra ones are closed, and once they
    go the exporter serves again."""
    socks = []
    try:
        for _ in range(100):
            try:
                socks.append(socket.create_connection(("127.0.0.1", exporter.port), timeout=2))
            except OSError:
                break
        time.sleep(0.3)
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if exporter.get("/metrics", timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("the exporter did not serve again after the flood")


# ---------------------------------------------------------------- /metrics
def test_metrics_counters_move(exporter, srv):
    before = exporter.metrics()
    assert value(before, "smtprobe_exporter_build_info", version=re.search(
        r'version="([^"]+)"', before).group(1)) == 1
    assert value(before, "smtprobe_exporter_probes_in_flight") == 0

    def count(text, **labels):
        return value(text, "smtprobe_exporter_probes_total", **labels) or 0

    def requests(text, **labels):
        return value(text, "smtprobe_exporter_requests_total", **labels) or 0

    assert_probe(exporter.probe(f"127.0.0.1:{srv.port(0)}", "mx"), 1)
    assert_probe(exporter.probe(f"127.0.0.1:{closed_port()}", "mx"), 0)
    assert exporter.probe("127.0.0.1:25", "nope").status == 400
    assert exporter.get("/nope").status == 404
    after = exporter.metrics()
    assert count(after, module="mx", result="success") == count(before, module="mx",
                                                                 result="success") + 1
    assert count(after, module="mx", result="failure") == count(before, module="mx",
                                                                 result="failure") + 1
    assert count(after, module="sub", result="success") == count(before, module="sub",
                                                                  result="success")
    assert requests(after, path="/probe", code=200) == requests(before, path="/probe",
                                                                code=200) + 2
    assert requests(after, path="/probe", code=400) == requests(before, path="/probe",
                                                                code=400) + 1
    assert requests(after, path="other", code=404) == requests(before, path="other",
                                                               code=404) + 1
    assert requests(after, path="/metrics", code=200) >= 1
    _, types = parse_metrics(after)
    for name, t in types.items():
        assert name.endswith("_total") == (t == "counter"), (name, t)
    assert_promtool(after, "/metrics")


# ------------------------------------------------------- deadline and slots
def test_scrape_timeout_bounds_a_silent_server():
    with Silent() as silent, Exporter({"silent": check_module(silent.port)},
                                      extra=["--default-timeout", "1.5"]) as x:
        r = x.probe(f"127.0.0.1:{silent.port}", "silent", scrape_timeout=2)
        assert_probe(r, 0)
        assert r.elapsed < 2.0, f"the answer came after {r.elapsed:.2f}s, not within 2s"
        # without the header: --default-timeout
        r = x.probe(f"127.0.0.1:{silent.port}", "silent")
        assert_probe(r, 0)
        assert r.elapsed < 1.5, f"the answer came after {r.elapsed:.2f}s, not within 1.5s"


def test_scrape_timeout_bounds_a_slow_tls_scan(tmp_path):
    """A TLS scan is ~100 short connections: against a server that answers,
    but slowly (a 300 ms banner on every connection), the scrape timeout
    must end the scan, not each handshake's own timeout. The answer comes
    within the scrape's budget, with smtprobe_probe_success 0."""
    slow = tmp_path / "slow.yaml"
    slow.write_text("faults:\n  - {command: connect, action: delay, ms: 300}\n")
    with Serve([f"127.0.0.1:0/starttls,policy={slow}"]) as s, \
            Exporter({"tls": {"kind": "tls", "port": s.port(0), "tls_ca_path": s.ca_file}}) as x:
        r = x.probe(f"127.0.0.1:{s.port(0)}", "tls", scrape_timeout=2.5)
        assert_probe(r, 0)
        assert r.elapsed < 2.5, f"the answer came after {r.elapsed:.2f}s, not within 2.5s"
        assert value(r.body, "smtprobe_probe_duration_seconds") < 2.5, r.body
        assert_promtool(r.body, "/probe (tls, cut short)")


def test_module_timeout_caps_the_deadline():
    with Silent() as silent, Exporter({"silent": check_module(silent.port, timeout=1)}) as x:
        r = x.probe(f"127.0.0.1:{silent.port}", "silent", scrape_timeout=20)
        assert_probe(r, 0)
        assert r.elapsed < 1.5, f"the answer came after {r.elapsed:.2f}s"


def wait_in_flight(x, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value(x.metrics(), "smtprobe_exporter_probes_in_flight") == n:
            return
        time.sleep(0.02)
    pytest.fail(f"smtprobe_exporter_probes_in_flight never reached {n}")


def test_max_concurrent_is_respected(srv):
    with Silent() as silent, Exporter({"silent": check_module(silent.port),
                                       "mx": check_module(srv.port(0),
                                                          tls_ca_path=srv.ca_file)},
                                      extra=["--max-concurrent", "2"]) as x:
        assert value(x.metrics(), "smtprobe_exporter_max_concurrent") == 2
        slow = []
        threads = [threading.Thread(target=lambda: slow.append(
            x.probe(f"127.0.0.1:{silent.port}", "silent", scrape_timeout=6)))
            for _ in range(2)]
        for t in threads:
            t.start()
        wait_in_flight(x, 2)
        # a third waits for a slot until its deadline (1 s - 0.5 s), then 503
        r = x.probe(f"127.0.0.1:{srv.port(0)}", "mx", scrape_timeout=1)
        assert r.status == 503, r
        assert 0.4 < r.elapsed < 1.0, r.elapsed
        assert "--max-concurrent" in r.body and r.body.count("\n") == 1, r.body
        assert value(x.metrics(), "smtprobe_exporter_probes_in_flight") == 2
        for t in threads:
            t.join(10)
        assert [s.status for s in slow] == [200, 200], slow
        # the slots are free again
        assert_probe(x.probe(f"127.0.0.1:{srv.port(0)}", "mx"), 1)
        assert value(x.metrics(), "smtprobe_exporter_requests_total",
                     path="/probe", code=503) == 1
        assert "event=busy" in x.stderr()


# ----------------------------------------------------------------- secrets
def test_secret_never_in_output(exporter, srv):
    r = exporter.probe(f"127.0.0.1:{srv.port(1)}", "sub")
    assert_probe(r, 1)
    assert value(r.body, "smtprobe_step_success", step="auth") == 1, r.body
    seen = [r.body, exporter.metrics(), exporter.get("/").body]
    seen += [exporter.probe(f"127.0.0.1:{srv.port(1)}", "sub").body]
    exporter.stop()
    seen += [exporter.stderr(), exporter.stdout()]
    for text in seen:
        assert SECRET not in text, text


def test_missing_secret_is_an_error_probe(srv):
    """password_env unset: success 0, counted as an error, the variable named
    in the log, no value anywhere."""
    with Exporter({"sub": check_module(srv.port(1), tls_ca_path=srv.ca_file,
                                       auth={"user": "alice", "password_env": SECRET_VAR})}) as x:
        r = x.probe(f"127.0.0.1:{srv.port(1)}", "sub")
        assert_probe(r, 0)
        assert value(x.metrics(), "smtprobe_exporter_probes_total", module="sub",
                     result="error") == 1
        line = [ln for ln in x.stderr().splitlines() if "event=probe" in ln][-1]
        assert "result=error" in line and SECRET_VAR in line, line


# ------------------------------------------------------------------ signals
def test_sighup_reloads_the_modules_file(srv):
    mx = check_module(srv.port(0), tls_ca_path=srv.ca_file)
    with Silent() as silent, Exporter({"mx": mx, "silent": check_module(silent.port)}) as x:
        target = f"127.0.0.1:{srv.port(0)}"
        assert x.probe(target, "mx2").status == 400
        # a probe running across the reload keeps the module it started with
        slow = []
        running = threading.Thread(target=lambda: slow.append(
            x.probe(f"127.0.0.1:{silent.port}", "silent", scrape_timeout=3)))
        running.start()
        wait_in_flight(x, 1)
        x.write({"mx": mx, "mx2": mx})
        x.signal(signal.SIGHUP)
        running.join(10)
        assert_probe(slow[0], 0)
        deadline = time.monotonic() + 5
        while x.probe(target, "mx2").status == 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert_probe(x.probe(target, "mx2"), 1)
        assert value(x.metrics(), "smtprobe_exporter_config_last_reload_successful") == 1
        x.write("modules:\n  broken:\n    kind: nope\n")
        x.signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while (value(x.metrics(), "smtprobe_exporter_config_last_reload_successful") != 0
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert value(x.metrics(), "smtprobe_exporter_config_last_reload_successful") == 0
        assert_probe(x.probe(target, "mx2"), 1)  # the old modules still serve
        assert re.search(r"event=reload error=\".*modules\.yaml:\d+: .*nope", x.stderr()), \
            x.stderr()


def test_sigterm_lets_the_running_probe_answer():
    """SIGTERM: no new connection, the probe running answers 200, a request
    waiting for a slot 503, exit 0."""
    with Silent() as silent:
        x = Exporter({"silent": check_module(silent.port)}, extra=["--max-concurrent", "1"])
        x.start()
        try:
            got = {}

            def ask(key, scrape_timeout):
                got[key] = x.probe(f"127.0.0.1:{silent.port}", "silent",
                                   scrape_timeout=scrape_timeout)

            running = threading.Thread(target=ask, args=("running", 4))
            running.start()
            wait_in_flight(x, 1)
            waiting = threading.Thread(target=ask, args=("waiting", 10))
            waiting.start()
            time.sleep(0.3)
            x.signal(signal.SIGTERM)
            waiting.join(5)
            assert got["waiting"].status == 503 and got["waiting"].body == "stopping\n", got
            time.sleep(0.2)
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", x.port), timeout=2).close()
            running.join(10)
            assert_probe(got["running"], 0)
            assert x.proc.wait(10) == 0
        finally:
            x.stop()
    assert "event=stopping signal=SIGTERM" in x.stderr()


def test_listens_on_ipv6_loopback(srv):
    with Exporter({"mx": check_module(srv.port(0), tls_ca_path=srv.ca_file)},
                  listen="[::1]:0") as x:
        assert x.host == "[::1]", x.stderr()
        assert_probe(x.probe(f"127.0.0.1:{srv.port(0)}", "mx"), 1)


def test_json_log(srv):
    with Exporter({"mx": check_module(srv.port(0), tls_ca_path=srv.ca_file)},
                  extra=["--log-format", "json"]) as x:
        assert_probe(x.probe(f"127.0.0.1:{srv.port(0)}", "mx"), 1)
    events = [json.loads(ln) for ln in x.stderr().splitlines()]
    probe = [e for e in events if e["event"] == "probe"]
    assert probe and probe[0]["module"] == "mx" and probe[0]["result"] == "success", events
    assert isinstance(probe[0]["seconds"], (int, float)), probe
    assert events[-1]["event"] == "stopping", events


# ------------------------------------------------------------ --allow-target
def test_allow_target_limits_where_credentials_go(srv):
    """With --allow-target a module (with credentials) only probes the
    targets that match: another host or port gets 403 with one line, is
    logged, and no connection is made (the password stays home)."""
    with Silent() as silent, Exporter(
            {"sub": check_module(srv.port(1), tls_ca_path=srv.ca_file,
                                 auth={"user": "alice", "password_env": SECRET_VAR})},
            extra=["--allow-target", f"127.0.0.1:{srv.port(1)}",
                   "--allow-target", "*.example.test"],
            env={SECRET_VAR: SECRET}) as x:
        assert_probe(x.probe(f"127.0.0.1:{srv.port(1)}", "sub"), 1)
        r = x.probe(f"127.0.0.1:{silent.port}", "sub")
        assert r.status == 403, r
        assert "not allowed" in r.body and r.body.count("\n") <= 1, r.body
        assert silent.accepted() == 0, "a refused target was connected to"
        # a name under the allowed domain passes the filter (and then does
        # not resolve: a failed probe, not a 403)
        r = x.probe("mx.example.test:25", "sub", scrape_timeout=3)
        assert r.status == 200, r
        m = x.metrics()
        assert 'code="403"' in m, m


def test_credentials_without_allow_target_warn(srv):
    with Exporter({"sub": check_module(srv.port(1), tls_ca_path=srv.ca_file,
                                       auth={"user": "alice", "password_env": SECRET_VAR})},
                  env={SECRET_VAR: SECRET}) as x:
        x.probe(f"127.0.0.1:{srv.port(1)}", "sub")
        log = x.stderr()
    assert "credentials_any_target" in log, log


# ------------------------------------------------------------ usage errors
@pytest.mark.parametrize("args,why", [
    ([], "missing --config"),
    (["--config", "/nonexistent/modules.yaml"], "/nonexistent/modules.yaml"),
    (["--config", "MODULES", "--listen", "localhost:9325"], "bad --listen"),
    (["--config", "MODULES", "--listen", "127.0.0.1"], "bad --listen"),
    (["--config", "MODULES", "--listen", "127.0.0.1:70000"], "bad --listen"),
    (["--config", "MODULES", "--max-concurrent", "0"], "bad --max-concurrent"),
    (["--config", "MODULES", "--timeout-offset", "x"], "bad --timeout-offset"),
    (["--config", "MODULES", "--default-timeout", "0"], "bad --default-timeout"),
    (["--config", "MODULES", "--log-format", "xml"], "bad --log-format"),
    (["--config", "MODULES", "extra"], "unexpected argument"),
    (["--config", "MODULES", "--allow-target", "a b:x"], "bad --allow-target"),
    (["--config", "BAD"], "BAD.yaml:3: kind"),
], ids=["no-config", "no-file", "listen-name", "listen-no-port", "listen-port", "max-0",
        "offset", "default-timeout", "log-format", "extra-arg", "allow-target",
        "bad-modules"])
def test_usage_errors_exit_2(tmp_path, args, why):
    good = tmp_path / "MODULES.yaml"
    good.write_text(modules_yaml({"mx": {"kind": "check", "port": 25}}))
    bad = tmp_path / "BAD.yaml"
    bad.write_text("modules:\n  mx:\n    kind: nope\n")
    args = [str(good) if a == "MODULES" else str(bad) if a == "BAD" else a for a in args]
    res = run_smtprobe(["exporter"] + args, timeout=10)
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("smtprobe: ") and why in lines[0], res.stderr


def test_address_in_use_exits_2(tmp_path):
    good = tmp_path / "modules.yaml"
    good.write_text(modules_yaml({"mx": {"kind": "check", "port": 25}}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = run_smtprobe(["exporter", "--config", str(good), "--listen",
                            f"127.0.0.1:{port}"], timeout=10)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stderr == (f"smtprobe: cannot listen on 127.0.0.1:{port}: "
                          "address already in use\n"), res.stderr


def test_help():
    res = run_smtprobe(["exporter", "--help"])
    assert res.returncode == 0
    for word in ("/probe", "--listen", "--config", "--max-concurrent", "--timeout-offset",
                 "--default-timeout", "--log-format"):
        assert word in res.stdout, word


# --------------------------------------------------- a real Prometheus
def test_prometheus_scrapes_the_exporter(srv):
    """Prometheus 2 scrapes the exporter as it would blackbox_exporter (probe
    job with relabelling, and the exporter's own /metrics); its query API
    answers smtprobe_probe_success 1 for the serve target, 0 for a closed
    port (whose scrape still succeeds: up 1)."""
    good, down = f"127.0.0.1:{srv.port(0)}", f"127.0.0.1:{closed_port()}"
    with Exporter({"mx": check_module(srv.port(0), tls_ca_path=srv.ca_file)}) as x, \
            prometheus.Prometheus([prometheus.probe_job("smtprobe", x.address, "mx",
                                                        [good, down]),
                                   prometheus.metrics_job("exporter", x.address)]) as prom:
        got = prom.wait_value(f'smtprobe_probe_success{{job="smtprobe",instance="{good}"}}',
                              1, timeout=20)
        assert got[0]["metric"]["instance"] == good, got
        prom.wait_value(f'smtprobe_probe_success{{job="smtprobe",instance="{down}"}}', 0,
                        timeout=10)
        prom.wait_value(f'up{{job="smtprobe",instance="{down}"}}', 1, timeout=10)
        prom.wait_value('smtprobe_exporter_build_info{job="exporter"}', 1, timeout=20)
        # the exporter's counters as Prometheus saw them
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen = prom.query('smtprobe_exporter_probes_total{job="exporter",module="mx",'
                              'result="success"}')
            if seen and float(seen[0]["value"][1]) >= 1:
                break
            time.sleep(0.25)
        else:
            pytest.fail(f"smtprobe_exporter_probes_total never counted a success: {seen}")
        for t in prom.targets():
            assert t["health"] == "up", t
    # Prometheus sent its scrape timeout (2 s): the probe got 1.5 s
    assert "event=probe module=mx target=" + good in x.stderr()
