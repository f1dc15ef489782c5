#!/usr/bin/python3
"""collect_refusals: regenerate tests/data/refusals/<server>.txt, the refusal
replies real Exim, Sendmail and OpenSMTPD give smtprobe relay.

Starts the servers of the test harness (mtas.py) in a private directory,
runs `smtprobe relay 127.0.0.1 -p PORT --json --local-domain example.test`
on every configuration of mta_lab.LABS (with alice's credentials on the
submission listeners), keeps every distinct 4xx/5xx reply of tests[].replies
and writes one file per server (format: mta_lab.write_refusals). The e2e
tests (test_real_servers.py) make the same collection in each session and
leave it under pytest's temporary directory.

    python3 tests/harness/collect_refusals.py [--out DIR]     (as root)
Needs build/smtprobe (SMTPROBE_BIN) and scripts/install-deps' servers.
Everything runs on 127.0.0.1; nothing is delivered.
"""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mta_lab  # noqa: E402
from mtas import Exim, Sendmail, OpenSMTPD  # noqa: E402
from runner import run_smtprobe  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "..", "data", "refusals")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory of the data files")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="smtprobe-mtas-collect-", dir=tempfile.gettempdir())
    os.chmod(workdir, 0o711)
    pw_file = os.path.join(workdir, "alice.password")
    with open(pw_file, "w") as f:
        f.write("alice-secret-1\n")
    os.chmod(pw_file, 0o600)
    servers = {}
    try:
        for cls in (Exim, Sendmail, OpenSMTPD):
            srv = cls(os.path.join(workdir, cls.peer))
            srv.start()
            servers[cls.peer] = srv
        rows = {name: set() for name in servers}
        for lab in mta_lab.LABS:
            srv = servers[lab.server]
            res = run_smtprobe(mta_lab.relay_args(srv, lab, pw_file), timeout=120)
            doc = res.json()
            rows[lab.server] |= mta_lab.refusals(doc)
            print(f"{lab.id:24} verdicts {doc['verdicts']} exit {res.returncode}", file=sys.stderr)
        os.makedirs(args.out, exist_ok=True)
        for name, srv in servers.items():
            path = os.path.join(args.out, f"{name}.txt")
            mta_lab.write_refusals(path, name, srv.software, rows[name])
            print(f"{path}: {len(rows[name])} replies", file=sys.stderr)
            left = srv.messages()
            if left:
                sys.exit(f"{srv.software} took in messages: {left[:5]}")
    finally:
        for srv in servers.values():
            srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
