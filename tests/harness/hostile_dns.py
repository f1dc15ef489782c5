"""A small authoritative DNS server on loopback (UDP and TCP) that answers
what a hostile or merely large zone can: large answers smtprobe must read
whole, more records than it keeps, a NUL inside a TXT string. No DNSSEC (the
tests give a trust anchor for another zone, so these names are insecure).

    with HostileDns() as dns:      dns.resolver -> "127.0.0.1:PORT"
        ...

Zones (ZONES): many.test (40 TXT records, the SPF record among them),
big.test (one SPF record of about 1400 bytes), huge.test (300 TXT records,
over smtprobe's 256), nul.test (an SPF record with a NUL and more terms
after it), spfa.test (SPF a:pool.spfa.test, the pool 300 A records).
Everything else: NXDOMAIN.
"""
import socket
import struct
import threading

A, TXT = 1, 16


def _name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _txt(s):
    b = s.encode("latin-1") if isinstance(s, str) else s
    out = b""
    while True:
        chunk, b = b[:255], b[255:]
        out += bytes([len(chunk)]) + chunk
        if not b:
            return out


BIG = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(1, 80)) + \
      " ip4:192.0.2.1 -all"
ZONES = {
    ("many.test", TXT): [_txt(f"site-verification={i:02d}") for i in range(39)] +
                        [_txt("v=spf1 ip4:192.0.2.1 -all")],
    ("big.test", TXT): [_txt(BIG)],
    ("huge.test", TXT): [_txt(f"v{i:03d}") for i in range(299)] +
                        [_txt("v=spf1 ip4:192.0.2.1 -all")],
    ("nul.test", TXT): [_txt(b"v=spf1 -all\0 include:evil.example +all")],
    ("spfa.test", TXT): [_txt("v=spf1 a:pool.spfa.test -all")],
    ("pool.spfa.test", A): [bytes([192, 0, 2, i]) for i in range(1, 255)] +
                           [bytes([198, 51, 100, i]) for i in range(1, 47)],
}
NAMES = {name for name, _ in ZONES}


def _answer(query):
    qid, flags = struct.unpack("!HH", query[:4])
    i, labels = 12, []
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode("latin-1"))
        i += 1 + query[i]
    qname = ".".join(labels).lower()
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    question = query[12:i + 5]
    records = ZONES.get((qname, qtype), [])
    rcode = 0 if qname in NAMES else 3
    head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1,
                       len(records), 0, 0)
    body = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rd)) + rd
                    for rd in records)
    return head + question + body


class HostileDns:
    def __enter__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        port = self.udp.getsockname()[1]
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", port))
        self.tcp.listen(16)
        self.resolver = f"127.0.0.1:{port}"
        self.stop = False
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()
        return self

    def _serve_udp(self):
        while not self.stop:
            try:
                q, peer = self.udp.recvfrom(4096)
                a = _answer(q)
                if len(a) > 512:  # too big for UDP: truncated, ask over TCP
                    a = a[:2] + bytes([a[2] | 0x02]) + a[3:6] + b"\0\0\0\0\0\0" + \
                        q[12:]
                self.udp.sendto(a, peer)
            except OSError:
                return

    def _serve_tcp(self):
        while not self.stop:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            with c:
                try:
                    n = struct.unpack("!H", c.recv(2))[0]
                    q = b""
                    while len(q) < n:
                        q += c.recv(n - len(q))
                    a = _answer(q)
                    c.sendall(struct.pack("!H", len(a)) + a)
                except (OSError, struct.error):
                    pass

    def __exit__(self, *exc):
        self.stop = True
        self.udp.close()
        self.tcp.close()
