"""pytest fixtures for the DNS lab (dns_lab.py): Knot DNS with DNSSEC and
nginx for MTA-STS, on loopback.

    dns_lab       session-scoped DnsLab, started once per test session in a
                  private 0711 directory under /tmp (knotd runs as knot,
                  nginx as www-data: they must reach it) and stopped at the
                  end; dns_lab.resolver, .anchor_file, .https_port, .ca_file,
                  .domains (dns_zones.DOMAINS: each test domain and the
                  checks it trips), .mx_hosts, .mx_cert / .mx_key, ...

    dns_mx        session-scoped MxListeners (dns_mx.py): `smtprobe serve`
                  with STARTTLS on every lab MX address (127.0.0.2-.6) on
                  one port (dns_mx.port, for --mx-port), each announcing its
                  MX host's name, with the lab's MX certificate

If the lab cannot start, the tests that use it FAIL with knotd's and
nginx's logs in the message: a missing server is an environment bug, never
a reason to skip. A missing package fails them with one line that says what
to install (peer_fixtures.py). SMTPROBE_KEEP_SERVERS=1 keeps the work
directory (configuration, zone files, keys, logs).
"""
import os
import shutil
import tempfile

import pytest

from dns_lab import DnsLab, reap_stale
from dns_mx import MxListeners

__all__ = ["dns_lab", "dns_mx"]

WORKDIR_PARENT = tempfile.gettempdir()
WORKDIR_PREFIX = "smtprobe-dnslab-"


@pytest.fixture(scope="session")
def dns_lab(peer_knot, peer_nginx, peer_openssl):
    reap_stale(WORKDIR_PARENT, WORKDIR_PREFIX)
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=WORKDIR_PARENT)
    os.chmod(workdir, 0o711)
    lab = DnsLab(workdir)
    try:
        lab.start()
    except Exception as e:  # noqa: BLE001 - report anything as a failure
        lab.stop()
        pytest.fail(f"cannot start the DNS lab (Knot DNS + nginx) in {workdir}: {e}",
                    pytrace=False)
    try:
        yield lab
    finally:
        lab.stop()
        if os.environ.get("SMTPROBE_KEEP_SERVERS") == "1":
            print(f"\nDNS lab work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def dns_mx(dns_lab):
    mx = MxListeners(dns_lab)
    try:
        mx.start()
    except Exception as e:  # noqa: BLE001 - report anything as a failure
        pytest.fail(f"cannot start the lab's MX listeners: {e}", pytrace=False)
    try:
        yield mx
    finally:
        mx.stop()
