"""pytest fixtures for the misbehaving SMTP server (badserver.py).

    def test_x(badserver):
        srv = badserver(script)          # started, listening on 127.0.0.1
        ... srv.address, srv.port, srv.lines, srv.errors ...

Every server a test starts is stopped at the end of the test (bounded: the
stop never hangs the suite).
"""
import pytest

from badserver import BadServer

__all__ = ["badserver"]


@pytest.fixture
def badserver():
    servers = []

    def start(script, **kwargs):
        srv = BadServer(script, **kwargs).start()
        servers.append(srv)
        return srv

    yield start
    stuck = [s for s in servers if not s.stop(timeout=5.0)]
    assert not stuck, f"badserver threads did not stop: {stuck}"
