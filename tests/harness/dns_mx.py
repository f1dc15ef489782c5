"""The DNS lab's MX hosts as SMTP servers: one `smtprobe serve` listening
with STARTTLS on every address of dns_zones.MX_HOSTS (127.0.0.2 to .6) on
one common port, for `smtprobe dns --mx-port` and MX routing in `send` and
`check`.

    with MxListeners(lab) as mx:
        mx.port               the port every MX address listens on
        mx.hostname(addr)     the name that address announces
        mx.serve              the Serve (its JSON event log)

Each address announces its MX host's name in the banner and the EHLO reply
(a policy file per listener, `hostname:`), so a PTR that names the host
matches and ptr-mismatch.test's (relay.ptr-mismatch.test) does not; every
listener serves the lab's MX certificate (lab.mx_cert, key lab.mx_key),
whose key the lab's "live" TLSA records name. The policy accepts mail for
the lab's domains (local_domains) and relays for nobody.
"""
import os
import socket

from dns_zones import DOMAINS, MX_HOSTS
from serve import Serve, ServeError

ATTEMPTS = 5


def _common_free_port(addresses):
    """A TCP port free on every address (checked by binding each)."""
    for _ in range(50):
        first = socket.socket()
        first.bind((addresses[0], 0))
        port = first.getsockname()[1]
        held = [first]
        try:
            for a in addresses[1:]:
                s = socket.socket()
                held.append(s)
                s.bind((a, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise ServeError("no port free on every MX address")


class MxListeners:
    def __init__(self, lab, workdir=None):
        self.lab = lab
        self.workdir = workdir or os.path.join(lab.workdir, "mx")
        self.port = None
        self.serve = None
        self.names = {addr: host for host, addr in MX_HOSTS.items()}

    def hostname(self, addr):
        return self.names[addr]

    def _policy(self, host):
        path = os.path.join(self.workdir, f"{host}.yaml")
        domains = ", ".join(sorted(DOMAINS))
        with open(path, "w") as f:
            f.write(f"hostname: {host}\nlocal_domains: [{domains}]\n")
        return path

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        addrs = sorted(self.names)
        err = None
        for _ in range(ATTEMPTS):
            self.port = _common_free_port(addrs)
            specs = [f"{a}:{self.port}/starttls,policy={self._policy(self.names[a])}"
                     for a in addrs]
            self.serve = Serve(specs, workdir=self.workdir,
                               extra=["--tls-cert", self.lab.mx_cert,
                                      "--tls-key", self.lab.mx_key])
            try:
                self.serve.start()
                return self
            except ServeError as e:  # a port taken in between: again
                err = e
        raise ServeError(f"cannot start the MX listeners: {err}")

    def stop(self):
        if self.serve:
            self.serve.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
