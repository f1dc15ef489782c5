"""pytest fixtures for the real Postfix + Dovecot servers (see mailservers.py).

    mailservers   session-scoped MailServers, started once per test session in
                  a private 0711 directory under /tmp and stopped at the end;
                  ports: mailservers.ports["open"|"mx"|"submission"|"smtps"|
                  "lmtp"], host: mailservers.host ("127.0.0.1")
    ca_file       the throwaway CA that signed the servers' certificate
    smtp_users    {"alice": "alice-secret-1", "bob": "bob-secret-2"}

If the servers cannot start the tests that use them FAIL (with the logs in
the message): a missing server is an environment bug, never a reason to skip.
The packages are checked first (peer_fixtures.py): a missing one fails them
with one line that says what to install.
Set SMTPROBE_KEEP_SERVERS=1 to keep the work directory (config, logs, mail)
after the session; its path is printed at the end.
"""
import os
import shutil
import tempfile

import pytest

from mailservers import MailServers, MailServerError, reap_stale  # noqa: F401

__all__ = ["mailservers", "ca_file", "smtp_users"]

WORKDIR_PARENT = tempfile.gettempdir()
WORKDIR_PREFIX = "smtprobe-mailservers-"


@pytest.fixture(scope="session")
def mailservers(peer_postfix, peer_dovecot, peer_openssl):
    # Not pytest's tmp_path: its base directory is 0700 root, and the postfix
    # and dovecot users must be able to reach their queue and Maildirs.
    reap_stale(WORKDIR_PARENT, WORKDIR_PREFIX)
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=WORKDIR_PARENT)
    os.chmod(workdir, 0o711)
    ms = MailServers(workdir)
    try:
        ms.start()
    except Exception as e:  # noqa: BLE001 - report anything as a failure
        pytest.fail(f"cannot start the test mail servers (Postfix + Dovecot) in "
                    f"{workdir}: {e}", pytrace=False)
    try:
        yield ms
    finally:
        ms.stop()
        if os.environ.get("SMTPROBE_KEEP_SERVERS") == "1":
            print(f"\nmail server work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def ca_file(mailservers):
    return mailservers.ca_file


@pytest.fixture(scope="session")
def smtp_users(mailservers):
    return dict(mailservers.users)
