"""Run `smtprobe serve` for a test, on free loopback ports.

    with Serve(["127.0.0.1:0,policy=open", "127.0.0.1:0/starttls-required,policy=submission"],
               maildir=path) as srv:
        srv.port(0), srv.port(1)      # the ports actually bound, in --listen order
        srv.listener_info[0]          # {"address": "127.0.0.1:PORT", "mode": "plain",
                                      #  "policy": "open"}, from the ready event
        srv.ca_file                   # the generated CA, when a listener uses TLS
        srv.events("rcpt-refused")    # the JSON log lines so far, by event name
    srv.returncode, srv.summary       # after a clean SIGTERM shutdown

Port 0 lets the server pick free ports; the "ready" event says which (its
"listeners" is a list of {address, mode, policy} objects; the space-separated
"ADDR:PORT/MODE,policy=P" string of older servers is read too). The
log is JSON lines in a file of the work directory. A server that does not
report ready within START_TIMEOUT, or does not stop within STOP_TIMEOUT
after SIGTERM, fails the test (and is killed).
"""
import json
import os
import signal
import subprocess
import tempfile
import time

from runner import SMTPROBE

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class ServeError(RuntimeError):
    pass


def parse_listeners(value):
    """The ready event's listeners: [{address, mode, policy}, ...]."""
    if isinstance(value, list):
        return value
    out = []
    for spec in value.split():  # "127.0.0.1:2525/starttls,policy=mx"
        addr_mode, _, policy = spec.partition(",policy=")
        address, _, mode = addr_mode.partition("/")
        out.append({"address": address, "mode": mode, "policy": policy})
    return out


class Serve:
    def __init__(self, listeners, policy=None, maildir=None, extra=(), workdir=None, env=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="smtprobe-serve-test-")
        self.log_path = os.path.join(self.workdir, "serve.log")
        self.args = ["serve", "--json", "--log", self.log_path,
                     "--state-dir", os.path.join(self.workdir, "state")]
        for spec in listeners:
            self.args += ["--listen", spec]
        if policy:
            self.args += ["--policy", policy]
        if maildir:
            self.args += ["--maildir", maildir]
        self.args += list(extra)
        self.env = env
        self.proc = None
        self.ready = None
        self.listeners = self.listener_info = []
        self.returncode = None
        self.summary = None

    def start(self):
        self.stderr_path = os.path.join(self.workdir, "serve.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([SMTPROBE] + self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr,
                                     env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready = self.events("ready")
            if ready:
                self.ready = ready[0]
                self.listener_info = parse_listeners(self.ready["listeners"])
                self.listeners = [f"{x['address']}/{x['mode']},policy={x['policy']}"
                                  for x in self.listener_info]
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise ServeError(f"smtprobe serve did not become ready: {self.stderr_text()[-2000:]}")

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def events(self, name=None):
        try:
            with open(self.log_path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # a line being written
            if name is None or ev.get("event") == name:
                out.append(ev)
        return out

    def address(self, i):
        host, port = self.listener_info[i]["address"].rsplit(":", 1)
        return host.strip("[]"), int(port)

    def port(self, i):
        return self.address(i)[1]

    @property
    def ca_file(self):
        return self.ready.get("ca") if self.ready else None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            self.returncode = self.proc.returncode if self.proc else None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServeError("smtprobe serve did not stop within %ss of SIGTERM" % STOP_TIMEOUT)
        finally:
            self._stderr.close()
        s = self.events("summary")
        self.summary = s[-1] if s else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.returncode = self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
