"""pytest fixtures for the real Exim, Sendmail and OpenSMTPD (mtas.py).

    mta_workdir   session-scoped: a private 0711 directory under /tmp holding
                  the three servers' work directories
    exim, sendmail, opensmtpd
                  session-scoped, started once (on first use) and stopped at
                  the end of the session; see mtas.py for ports, banners,
                  ca_file, messages()

A server that cannot start fails the tests that use it (with its log in the
message); a missing private root fails them with one line (peers.py:
"run scripts/install-deps"). SMTPROBE_KEEP_SERVERS=1 keeps the work
directory, as for the Postfix harness.
"""
import os
import shutil
import tempfile

import pytest

from mtas import Exim, Sendmail, OpenSMTPD, reap_stale

__all__ = ["mta_workdir", "exim", "sendmail", "opensmtpd"]

WORKDIR_PARENT = tempfile.gettempdir()
WORKDIR_PREFIX = "smtprobe-mtas-"


@pytest.fixture(scope="session")
def mta_workdir():
    reap_stale(WORKDIR_PARENT, WORKDIR_PREFIX)
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=WORKDIR_PARENT)
    os.chmod(workdir, 0o711)
    # reap_stale() recognises a live session by this file
    with open(os.path.join(workdir, "owner"), "w") as f:
        f.write(f"{os.getpid()}\n")
    try:
        yield workdir
    finally:
        if os.environ.get("SMTPROBE_KEEP_SERVERS") == "1":
            print(f"\nreal server work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _server_fixture(cls):
    @pytest.fixture(scope="session", name=cls.peer)
    def server(request, mta_workdir):
        request.getfixturevalue("peer_" + cls.peer)
        srv = cls(os.path.join(mta_workdir, cls.peer))
        try:
            srv.start()
        except Exception as e:  # noqa: BLE001 - report anything as a failure
            pytest.fail(f"cannot start {cls.software} in {srv.workdir}: {e}", pytrace=False)
        try:
            yield srv
        finally:
            srv.stop()
    return server


exim = _server_fixture(Exim)
sendmail = _server_fixture(Sendmail)
opensmtpd = _server_fixture(OpenSMTPD)
