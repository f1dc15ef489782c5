"""A real Prometheus server (Debian's prometheus package), privately on loopback.

    job = probe_job("smtprobe", exporter="127.0.0.1:9325", module="submission",
                    targets=["127.0.0.1:2525"])
    with Prometheus([job]) as prom:
        prom.url                  -> "http://127.0.0.1:PORT"
        prom.query('smtprobe_probe_success{job="smtprobe"}')
                                  -> [{"metric": {...}, "value": [ts, "1"]}, ...]
        prom.wait_value('smtprobe_probe_success{instance="127.0.0.1:2525"}', 1)
                                  -> the samples once one has that value (or fail)
        prom.targets()            -> /api/v1/targets' active targets
        prom.log()                -> what Prometheus wrote on stderr

probe_job() writes a scrape job the way blackbox_exporter's documentation
does: each target becomes __param_target (and the instance label), the
module __param_module, and __address__ is replaced by the exporter, so that
Prometheus asks GET http://EXPORTER/probe?target=T&module=M.
metrics_job() scrapes an exporter's own /metrics.

Prometheus runs in a temporary directory (its prometheus.yml, the TSDB
under data/, its log), with --web.listen-address on a free 127.0.0.1 port,
never the system's service or its files; start() waits for /-/ready. A port
taken between the choice and the bind is retried with another. stop()
sends SIGTERM (SIGKILL after STOP_TIMEOUT) and removes the directory
(SMTPROBE_KEEP_PROMETHEUS=1 keeps it).

Both programs come with Debian's prometheus package and are peers
(peers.py): when one is missing, start() and promtool_check_metrics() fail
the test with the one line peers.require gives.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import peers
from mailservers import free_ports

PROMETHEUS = peers.PROMETHEUS
PROMTOOL = peers.PROMTOOL
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 5.0

# loopback only: never through a proxy the environment names
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def promtool_check_metrics(text):
    """(exit status, output) of `promtool check metrics` on an exposition."""
    peers.require("promtool")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace")


def _q(s):
    return json.dumps(str(s))  # a double-quoted YAML scalar


def probe_job(name, exporter, module, targets, interval="2s", timeout="2s"):
    """A blackbox-style job: Prometheus asks the exporter to probe each target."""
    tl = ", ".join(_q(t) for t in targets)
    return f"""\
  - job_name: {_q(name)}
    metrics_path: /probe
    scrape_interval: {interval}
    scrape_timeout: {timeout}
    params:
      module: [{_q(module)}]
    static_configs:
      - targets: [{tl}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {_q(exporter)}
"""


def metrics_job(name, exporter, interval="2s", timeout="2s"):
    """A plain job: the exporter's own /metrics."""
    return f"""\
  - job_name: {_q(name)}
    scrape_interval: {interval}
    scrape_timeout: {timeout}
    static_configs:
      - targets: [{_q(exporter)}]
"""


class PrometheusError(RuntimeError):
    pass


class Prometheus:
    def __init__(self, jobs, workdir=None):
        self.jobs = list(jobs)
        self.workdir = workdir or tempfile.mkdtemp(prefix="smtprobe-prometheus-")
        self.config = os.path.join(self.workdir, "prometheus.yml")
        self.log_path = os.path.join(self.workdir, "prometheus.log")
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self):
        with open(self.config, "w") as f:
            f.write("global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n"
                    "  evaluation_interval: 10s\nscrape_configs:\n")
            f.write("".join(self.jobs))

    def start(self):
        peers.require("prometheus")
        self._write_config()
        for _ in range(3):
            self.port = free_ports(1)[0]
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={self.config}",
                 f"--storage.tsdb.path={os.path.join(self.workdir, 'data')}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--storage.tsdb.retention.time=1h", "--log.level=info"],
                cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=self._log)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._ready():
                    return self
                time.sleep(0.1)
            self.kill()
            if "address already in use" not in self.log():
                break
        raise PrometheusError(f"prometheus did not become ready on 127.0.0.1:{self.port} "
                              f"(config {self.config}): {self.log()[-2000:]}")

    def _ready(self):
        try:
            with _opener.open(self.url + "/-/ready", timeout=1) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def api(self, path, **params):
        """The "data" of an /api/v1 answer (fails the test on an error status)."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with _opener.open(url, timeout=HTTP_TIMEOUT) as r:
                doc = json.load(r)
        except urllib.error.HTTPError as e:
            raise PrometheusError(f"GET {url}: {e.code} {e.read()[:300]!r}") from e
        if doc.get("status") != "success":
            raise PrometheusError(f"GET {url}: {doc}")
        return doc["data"]

    def query(self, expr):
        """The instant vector of expr: [{"metric": {...}, "value": [t, "v"]}]."""
        data = self.api("query", query=expr)
        if data.get("resultType") != "vector":
            raise PrometheusError(f"{expr}: a {data.get('resultType')}, not a vector")
        return data["result"]

    def targets(self):
        return self.api("targets")["activeTargets"]

    def wait_value(self, expr, value, timeout=15.0):
        """Poll expr until a sample equals value; its samples, or fail with
        what Prometheus last said of its targets."""
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            got = self.query(expr)
            if any(float(s["value"][1]) == value for s in got):
                return got
            time.sleep(0.25)
        seen = [{k: t.get(k) for k in ("scrapeUrl", "health", "lastError")}
                for t in self.targets()]
        raise PrometheusError(f"{expr} never reached {value} in {timeout}s: last {got}; "
                              f"targets {seen}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()
        if os.environ.get("SMTPROBE_KEEP_PROMETHEUS") == "1":
            print(f"\nprometheus work directory kept: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
