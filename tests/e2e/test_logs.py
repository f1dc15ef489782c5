"""`smtprobe logs` (issue 15) through the real CLI: the samples real servers
wrote (tests/data/logs/, their traffic in NAME.expected.json), the same read
from a .gz and from stdin, --follow on a file that grows and is rotated, and
the harness's own Postfix: known traffic now (AUTH failures from several
loopback addresses, a quiet minute then a burst of relay attempts), then its
log must say exactly that, with the burst at its minute.
"""
import gzip
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from runner import SMTPROBE, run_smtprobe

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "logs")


def sample(name):
    return os.path.join(DATA, name)


def logs_json(*args, stdin=None):
    res = run_smtprobe(["logs", *args, "--json"], timeout=60, input=stdin)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


# ------------------------------------------------------------ the samples
def test_postfix_sample_counts():
    """postfix.log against postfix.expected.json: 39 sessions (one is
    Dovecot's LMTP) + 10 readiness probes; the 530 before STARTTLS has no
    reject: line (log_notes)."""
    d = logs_json(sample("postfix.log"))
    assert d["connections"] == 48
    assert d["auth_success"] == 7
    f = d["auth_failures"]
    assert f["total"] == 10 and f["source"] == "mta", f
    assert f["by_ip"] == {"127.0.0.20": 4, "127.0.0.22": 2, "127.0.0.21": 1,
                          "127.0.0.23": 1, "127.0.0.24": 1, "127.0.0.25": 1}, f
    # the 4th failure of 127.0.0.20 reads sasl_username=(unavailable)
    assert f["by_user"] == {"admin": 3, "alice": 3, "bob": 1, "carol": 1,
                            "test": 1}, f
    assert d["tls_failures"] == 3
    assert d["tls_failures_by_cause"] == {"not_tls": 1, "client_alert": 1,
                                          "closed": 1}
    assert d["tls"]["by_protocol"] == {"TLSv1.3": 20, "TLSv1": 1}
    assert d["rejections"]["total"] == 9
    assert d["rejections"]["by_kind"] == {"relay_denied": 7,
                                          "sender_login_mismatch": 2}
    assert d["deliveries"] == 5 and d["bounces"] == 0
    assert d["spikes"] == [] and d["unparsed_lines"] == 1  # "Terminated"


def test_text_report_names_the_causes():
    res = run_smtprobe(["logs", sample("postfix.log")], timeout=60)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "AUTH          7 succeeded, 10 failed" in out, out
    assert "relay_denied 7" in out, out
    # each TLS failure cause explained by the knowledge base
    assert "client_alert      1: The client sent a fatal TLS alert" in out, out
    assert "fix: look at what the server sends: smtprobe tls" in out, out


def test_gzip_and_stdin_read_the_same(tmp_path):
    plain = logs_json(sample("postfix.log"))
    gz = tmp_path / "mail.log.1.gz"
    with open(sample("postfix.log"), "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert logs_json(str(gz)) == plain
    with open(sample("postfix.log"), "rb") as f:
        res = run_smtprobe(["logs", "--json"], timeout=60, input=f.read())
    assert json.loads(res.stdout) == plain


def test_prometheus_format():
    from test_formats import check_metrics, sample as metric
    res = run_smtprobe(["logs", sample("postfix.log"), "--format",
                        "prometheus"], timeout=60)
    assert res.returncode == 0, res.stderr
    m = check_metrics(res.stdout)
    assert metric(m, "smtprobe_logs_rejections_total", kind="relay_denied") == 7
    assert metric(m, "smtprobe_logs_auth_failures_total") == 10
    assert metric(m, "smtprobe_logs_tls_failures_total", cause="not_tls") == 1


@pytest.mark.parametrize("args,said", [
    (["/no/such/file"], "/no/such/file: No such file or directory"),
    (["--since", "yesterday"], "bad --since 'yesterday'"),
    (["--format", "junit"], "logs has text, json and prometheus"),
    (["--metrics-file", "/tmp/x.prom"], "--metrics-file goes with -f"),
    (["--since", "2026-12-07", "--until", "2026-12-06"], "--until is not after --since"),
])
def test_usage_errors(args, said):
    res = run_smtprobe(["logs", *args], timeout=20, input=b"")
    assert res.returncode == 2, res
    assert said in res.stderr, res.stderr


def test_since_until():
    d = logs_json(sample("postfix.log"), "--since", "2000-01-01", "--until",
                  "2000-01-02")
    assert d["connections"] == 0 and d["lines_outside_period"] > 100, d


def test_hostile_input(tmp_path):
    """A 10 MB line, NUL bytes, binary noise: counted, nothing else."""
    p = tmp_path / "noise.log"
    with open(p, "wb") as f:
        f.write(b"x" * (10 << 20) + b"\n")
        f.write(bytes(b for b in range(256) if b != 10) * 100 + b"\n")
        f.write(b"Dec  7 05:00:00 mx postfix/smtpd[1]: connect from a[1.2.3.4]\n")
    d = logs_json(str(p))
    assert d["lines"] == 3 and d["unparsed_lines"] == 2 and d["connections"] == 1, d


# ------------------------------------------------------------ follow mode
class Follower:
    def __init__(self, *args):
        self.proc = subprocess.Popen([SMTPROBE, "logs", "-f", "--interval", "0.05",
                                      *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(x) for x in self.lines):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(10)
        return rc, self.proc.stderr.read()


def auth_failure_line(ip, user, when=None):
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime(when or time.time()))
    return (f"{stamp} mx postfix/submission/smtpd[77]: warning: unknown[{ip}]: "
            f"SASL PLAIN authentication failed: (reason unavailable), "
            f"sasl_username={user}\n")


def test_follow_alerts_and_survives_rotation(tmp_path):
    log = tmp_path / "mail.log"
    old = auth_failure_line("127.0.0.99", "old")
    log.write_text(old * 20)  # before the start: not read
    f = Follower(str(log), "--json", "--bf-threshold", "5")
    try:
        time.sleep(0.3)
        with open(log, "a") as w:
            for i in range(6):
                w.write(auth_failure_line("127.0.0.77", f"user{i}"))
        assert f.wait_for(lambda x: "127.0.0.77" in x), f.lines
        alert = json.loads([x for x in f.lines if "127.0.0.77" in x][0])
        assert alert["alert"] == "brute_force_address" and alert["count"] >= 5, alert
        assert not any("127.0.0.99" in x for x in f.lines), f.lines
        # rotation: the file moves away, a new one starts
        os.rename(log, tmp_path / "mail.log.1")
        time.sleep(0.3)
        with open(log, "w") as w:
            for i in range(6):
                w.write(auth_failure_line("127.0.0.78", "victim"))
        assert f.wait_for(lambda x: "127.0.0.78" in x), f.lines
    finally:
        rc, err = f.stop()
    assert rc == 0, err
    # one alert per address, however many lines came after
    assert sum("127.0.0.77" in x for x in f.lines) == 1, f.lines


def test_follow_metrics_file(tmp_path):
    log = tmp_path / "mail.log"
    log.write_text("")
    prom = tmp_path / "smtprobe.prom"
    f = Follower(str(log), "--format", "prometheus", "--metrics-file", str(prom))
    try:
        deadline = time.monotonic() + 10
        while not prom.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the first look has been: the file is open
        assert "smtprobe_logs_auth_failures_total 0" in prom.read_text()
        with open(log, "a") as w:
            w.write(auth_failure_line("127.0.0.80", "a"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if prom.exists() and "smtprobe_logs_auth_failures_total 1" in prom.read_text():
                break
            time.sleep(0.05)
        assert "smtprobe_logs_auth_failures_total 1" in prom.read_text()
        assert not any(p.name.startswith("smtprobe.prom.tmp") for p in tmp_path.iterdir())
    finally:
        rc, err = f.stop()
    assert rc == 0, err


# ------------------------------------------------- the harness's Postfix, now
def relay_attempt(ms, src):
    res = run_smtprobe(["send", "--server", f"127.0.0.1:{ms.ports['mx']}",
                        "--local-interface", src, "--from", "spam@example.net",
                        "--to", "victim@relay-test.invalid", "--quit-after", "rcpt",
                        "--silent"], timeout=30)
    assert res.returncode == 24, res  # no RCPT accepted


def auth_fail(ms, src, user):
    res = run_smtprobe(["send", "--server", f"127.0.0.1:{ms.ports['submission']}",
                        "--local-interface", src, "--tls", "--tls-ca-path", ms.ca_file,
                        "--auth", "PLAIN", "--auth-user", user, "--auth-password",
                        "wrong", "--quit-after", "auth", "--silent"], timeout=60)
    assert res.returncode == 28, res


def auth_send(ms, src, user, as_sender):
    """AUTH succeeds; MAIL as as_sender (refused when not the user's)."""
    res = run_smtprobe(["send", "--server", f"127.0.0.1:{ms.ports['submission']}",
                        "--local-interface", src, "--tls", "--tls-ca-path", ms.ca_file,
                        "--auth", "PLAIN", "--auth-user", user, "--from", as_sender,
                        "--to", "carol@example.test", "--quit-after", "rcpt", "--silent"],
                       timeout=60, env={"SMTPROBE_PASSWORD": ms.users[user]})
    return res.returncode


def tls_garbage(ms, src):
    """STARTTLS, then an HTTP request instead of a ClientHello."""
    import socket
    s = socket.create_connection(("127.0.0.1", ms.ports["mx"]), timeout=10,
                                 source_address=(src, 0))
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if len(line) < 4 or line[3:4] != b"-":
                return line
    reply()
    s.sendall(b"EHLO probe.example\r\n")
    reply()
    s.sendall(b"STARTTLS\r\n")
    assert reply().startswith(b"220")
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()


def wait_for_next_minute(margin=1.0):
    now = time.time()
    time.sleep(60 - now % 60 + margin)


def test_real_postfix_traffic_and_a_burst(mailservers):
    """A relay attempt in one minute, 25 in the next: the burst is a spike
    at that minute (--spike-window 4: one minute of baseline is enough);
    AUTH failures from three addresses are counted per address and user,
    and the 10 from one address are brute force; two AUTH successes (one
    then sends as another user: a sender-login mismatch); an aborted TLS
    handshake (HTTP after STARTTLS). Everything else in the shared log is
    before --since."""
    ms = mailservers
    wait_for_next_minute(0.5)
    start = int(time.time())
    relay_attempt(ms, "127.0.0.101")
    for i in range(10):
        auth_fail(ms, "127.0.0.102", "root")
    auth_fail(ms, "127.0.0.103", "alice")
    auth_fail(ms, "127.0.0.104", "alice")
    assert auth_send(ms, "127.0.0.105", "alice", "alice@example.test") == 0
    assert auth_send(ms, "127.0.0.106", "alice", "bob@example.test") == 24
    tls_garbage(ms, "127.0.0.107")
    wait_for_next_minute(0.5)
    burst_minute = int(time.time()) // 60 * 60
    threads = [threading.Thread(target=relay_attempt, args=(ms, f"127.0.1.{i + 1}"))
               for i in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start))
    d = logs_json(ms.postfix_log, "--since", since, "--spike-window", "4",
                  "--bf-threshold", "10", "--top", "50")
    assert d["rejections"]["by_kind"].get("relay_denied") == 26, d["rejections"]
    assert d["auth_failures"]["total"] == 12, d["auth_failures"]
    assert d["auth_failures"]["by_ip"] == {"127.0.0.102": 10, "127.0.0.103": 1,
                                           "127.0.0.104": 1}
    assert d["auth_failures"]["by_user"] == {"root": 10, "alice": 2}
    assert d["auth_success"] == 2, d["auth_success"]  # .105 and .106
    assert d["rejections"]["by_kind"].get("sender_login_mismatch") == 1
    assert d["tls_failures_by_cause"] == {"not_tls": 1}, d["tls_failures_by_cause"]
    bf = d["brute_force"]["addresses"]
    assert [b["address"] for b in bf] == ["127.0.0.102"], bf
    spikes = [s for s in d["spikes"] if s["kind"] == "relay_denied"]
    want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(burst_minute))
    assert len(spikes) == 1 and spikes[0]["start"] == want, (spikes, want)
    assert spikes[0]["count"] == 25


# ---------------------------------------------------------- Exim's two logs
def test_exim_rejectlog_counted_once(tmp_path):
    """Exim writes every rejection to its mainlog and its rejectlog: with
    both, each counts once; a rejectlog alone counts its own."""
    both = logs_json(sample("exim-mainlog.log"), sample("exim-rejectlog.log"))
    main = logs_json(sample("exim-mainlog.log"))
    alone = logs_json(sample("exim-rejectlog.log"))
    assert both["rejections"] == main["rejections"]
    assert main["rejections"]["total"] == 9, main["rejections"]
    assert alone["rejections"]["by_kind"] == main["rejections"]["by_kind"]
    assert alone["auth_failures"]["total"] == main["auth_failures"]["total"] == 10


def test_follow_an_old_file_keeps_this_year(tmp_path):
    """A file last written days ago: the lines appended now are this year's
    (syslog dates carry no year), not last year's."""
    log = tmp_path / "old.log"
    log.write_text("x\n")
    old = time.time() - 3 * 86400
    os.utime(log, (old, old))
    f = Follower(str(log), "--json", "--bf-threshold", "3")
    try:
        time.sleep(0.3)
        with open(log, "a") as w:
            for _ in range(4):
                w.write(auth_failure_line("127.0.0.81", "u"))
        assert f.wait_for(lambda x: "127.0.0.81" in x), f.lines
    finally:
        f.stop()
    alert = json.loads([x for x in f.lines if "127.0.0.81" in x][0])
    assert alert["start"].startswith(time.strftime("%Y-", time.gmtime())), alert


def test_follow_refuses_gzip(tmp_path):
    gz = tmp_path / "mail.log.1.gz"
    with gzip.open(gz, "wb") as w:
        w.write(b"Dec  7 05:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n")
    res = run_smtprobe(["logs", "-f", str(gz)], timeout=20)
    assert res.returncode == 2 and "gzip-compressed: it does not grow" in res.stderr, res


def test_many_attempts_in_one_line_are_cheap(tmp_path):
    """Dovecot's "(auth failed, N attempts ...)" with a huge N: counted,
    in no time (the brute-force window holds at most the threshold)."""
    p = tmp_path / "dovecot.log"
    p.write_text("Dec  7 06:00:01 imap-login: Info: Disconnected (auth failed, 9999999 "
                 "attempts in 12 secs): user=<alice>, method=PLAIN, rip=192.0.2.11, "
                 "lip=192.0.2.1\n" * 3)
    t0 = time.monotonic()
    d = logs_json(str(p), "--bf-threshold", "1000")
    assert time.monotonic() - t0 < 5
    assert d["auth_failures"]["total"] == 3 * 9999999
    assert d["brute_force"]["addresses"][0]["max_in_window"] == 1000
