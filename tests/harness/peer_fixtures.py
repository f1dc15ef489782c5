"""pytest fixtures that check the peers (peers.py) once per session.

    peer_swaks, peer_postfix, peer_dovecot, peer_openssl, peer_openssl_probe,
    peer_exim, peer_sendmail, peer_opensmtpd, peer_nmap, peer_promtool,
    peer_xmllint, peer_prometheus, peer_knot, peer_nginx, peer_unbound_host,
    peer_curl, peer_log_traffic
                  session-scoped; a fixture or test that needs a peer depends
                  on its fixture. When the peer is missing the fixture fails
                  once with one line saying what to install, and pytest
                  reports that line for every test that depends on it.
    peers_of_test autouse: a test whose code drives a peer itself (swaks from
                  a helper of its module, see peers.needed_by) gets that
                  peer's fixture too.
"""
import pytest

import peers

__all__ = ["peer_swaks", "peer_postfix", "peer_dovecot", "peer_openssl",
           "peer_openssl_probe",
           "peer_exim", "peer_sendmail", "peer_opensmtpd", "peer_nmap",
           "peer_promtool", "peer_xmllint", "peer_prometheus", "peer_knot",
           "peer_nginx", "peer_unbound_host", "peer_curl", "peer_log_traffic",
           "peers_of_test"]


def _peer_fixture(name):
    @pytest.fixture(scope="session", name="peer_" + name)
    def check():
        peers.require(name)
        return name
    return check


peer_swaks = _peer_fixture("swaks")
peer_postfix = _peer_fixture("postfix")
peer_dovecot = _peer_fixture("dovecot")
peer_openssl = _peer_fixture("openssl")
peer_openssl_probe = _peer_fixture("openssl_probe")
peer_exim = _peer_fixture("exim")
peer_sendmail = _peer_fixture("sendmail")
peer_opensmtpd = _peer_fixture("opensmtpd")
peer_nmap = _peer_fixture("nmap")
peer_promtool = _peer_fixture("promtool")
peer_xmllint = _peer_fixture("xmllint")
peer_prometheus = _peer_fixture("prometheus")
peer_knot = _peer_fixture("knot")
peer_nginx = _peer_fixture("nginx")
peer_unbound_host = _peer_fixture("unbound_host")
peer_curl = _peer_fixture("curl")
peer_log_traffic = _peer_fixture("log_traffic")


@pytest.fixture(autouse=True)
def peers_of_test(request):
    for name in peers.needed_by(request.function):
        request.getfixturevalue("peer_" + name)
