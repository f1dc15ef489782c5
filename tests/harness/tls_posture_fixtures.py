"""pytest fixtures for the TLS posture listeners (tls_postures.py) and their
truth (tls_truth.py).

    tls_postures  session-scoped TlsPostures: one private Postfix instance
                  with a listener per posture, started once per test session
                  in a private 0711 directory under /tmp, stopped at the end.
                  tls_postures.ports[name], .host, .address(name),
                  .postures[name] (.port, .implicit, .starttls, .text,
                  .expect), .ca_file, .ca_dir, .hostname, .certs[name]
    tls_truth     session-scoped TruthCache: tls_truth[name] -> tls_truth.Truth
                  measured with openssl s_client once per session (the
                  first access measures every posture, concurrently: about
                  2 s); tls_truth.all() -> {name: Truth}

If the listeners cannot start, the tests that use them FAIL with the Postfix
log in the message; a missing peer fails them with one line (peers.py).
SMTPROBE_KEEP_SERVERS=1 keeps the work directory (config, certificates, log).
"""
import os
import shutil
import tempfile
import threading

import pytest

import tls_truth
from tls_postures import TlsPostures, reap_stale

__all__ = ["tls_postures", "tls_truth_cache"]

WORKDIR_PARENT = tempfile.gettempdir()
WORKDIR_PREFIX = "smtprobe-tlspostures-"


@pytest.fixture(scope="session")
def tls_postures(peer_postfix, peer_openssl):
    reap_stale(WORKDIR_PARENT, WORKDIR_PREFIX)
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=WORKDIR_PARENT)
    os.chmod(workdir, 0o711)
    tp = TlsPostures(workdir)
    try:
        tp.start()
    except Exception as e:  # noqa: BLE001 - report anything as a failure
        pytest.fail(f"cannot start the TLS posture listeners (Postfix) in {workdir}: {e}",
                    pytrace=False)
    try:
        yield tp
    finally:
        tp.stop()
        if os.environ.get("SMTPROBE_KEEP_SERVERS") == "1":
            print(f"\nTLS posture work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class TruthCache:
    """The truth of every posture, measured once (all of them at the first
    access) and shared by the session's tests."""

    def __init__(self, tp):
        self.tp = tp
        self._lock = threading.Lock()
        self._truth = None

    def all(self):
        with self._lock:
            if self._truth is None:
                self._truth = tls_truth.measure_postures(self.tp)
            return dict(self._truth)

    def __getitem__(self, name):
        return self.all()[name]


@pytest.fixture(scope="session", name="tls_truth")
def tls_truth_cache(tls_postures, peer_openssl_probe):
    return TruthCache(tls_postures)
