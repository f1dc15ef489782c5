"""Run the smtprobe binary and measure it.

run_smtprobe(args, timeout=30, input=None, env=None) -> Result with
returncode, stdout, stderr (text), elapsed (s) and maxrss_kb (smtprobe's
peak resident set, measured by GNU time: a test fails with one line when
/usr/bin/time is not GNU time). A run that outlives `timeout` is killed and
the test fails: a hang is a bug.
"""
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import peers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SMTPROBE = os.environ.get("SMTPROBE_BIN", os.path.join(ROOT, "build", "smtprobe"))
ASAN = os.environ.get("SMTPROBE_ASAN") == "1"
TIME = peers.TIME


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    maxrss_kb: int

    def json(self):
        import json
        return json.loads(self.stdout)


def run_smtprobe(args, timeout=30, input=None, env=None):
    peers.require("time")
    full_env = dict(os.environ)
    full_env.pop("SMTPROBE_PASSWORD", None)
    if env:
        full_env.update(env)
    if isinstance(input, str):
        input = input.encode()
    start = time.monotonic()
    # GNU time forks smtprobe itself, so the peak RSS it reports is
    # smtprobe's own: a child forked straight from this (large) Python
    # process would inherit Python's high-water mark through fork+exec.
    rss_file = tempfile.NamedTemporaryFile(prefix="smtprobe-rss-", delete=False)
    rss_file.close()
    argv = [TIME, "-f", "%M", "-o", rss_file.name, SMTPROBE] + [str(a) for a in args]
    proc = subprocess.Popen(argv,
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    chunks = {"out": [], "err": []}

    def pump(stream, key):
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True)]
    for t in readers:
        t.start()
    if input is not None:
        try:
            proc.stdin.write(input)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    # wait4 gives this child's own peak RSS, which subprocess does not expose.
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            proc.send_signal(signal.SIGKILL)
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            for t in readers:
                t.join(5)
            err = b"".join(chunks["err"]).decode(errors="replace")
            raise AssertionError(f"smtprobe {' '.join(map(str, args))} hung for more "
                                 f"than {timeout}s; stderr: {err[-2000:]}")
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(5)
    maxrss = usage.ru_maxrss
    try:
        with open(rss_file.name) as f:
            lines = f.read().split()
        maxrss = int(lines[-1])
        # GNU time reports a signal death as "Command terminated by signal N"
        # and exits 128+N; map it back so tests see a negative returncode.
        if lines[:3] == ["Command", "terminated", "by"]:
            proc.returncode = -int(lines[4])
    except (OSError, ValueError, IndexError):
        pass
    finally:
        os.unlink(rss_file.name)
    return Result(proc.returncode, b"".join(chunks["out"]).decode(errors="replace"),
                  b"".join(chunks["err"]).decode(errors="replace"), elapsed, maxrss)
