#!/usr/bin/env python3
"""capture.py - regenerate the server flights of tests/data/tls/.

For each scenario below: start `openssl s_server` on 127.0.0.1 (a fresh
throwaway key, certificate and 1024-bit DH group in a temporary directory),
send it a ClientHello built by our own builder (build/tls_hello build ...),
read what the server answers until it has been quiet for a moment, and
write NAME.hello (what we sent) and NAME.bin (what came back). Nothing is
sent anywhere but 127.0.0.1.

    tests/data/tls/capture.py [BUILD_DIR]   (default: build)

The unit test (tests/unit/test_tls_hello.c) rebuilds every NAME.hello with
the same options and checks the bytes, then parses NAME.bin and checks the
facts; after a recapture the facts that depend on the fresh keys (leaf
length, the custom DH prime) are what change.
"""
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

ALL13 = "suites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384," \
        "TLS_CHACHA20_POLY1305_SHA256"
FULL12 = ["reneg-info", "ems", "ticket", "etm"]

# name, s_server arguments (CERT/KEY/DIR are replaced), tls_hello arguments
SCENARIOS = [
    ("tls12_ecdhe_rsa",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
     ["tls1_2", "groups=x25519,P-256,P-384", "sni=mx.example.test"] + FULL12),
    ("tls12_ecdhe_p384",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"],
     ["tls1_2", "groups=P-384", "reneg-info", "etm"]),
    ("tls12_ecdhe_ecdsa",
     ["-tls1_2", "EC"],
     ["tls1_2", "groups=P-256", "reneg-info", "ems"]),
    ("tls12_dhe_ffdhe2048",
     ["-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384",
      "-dhparam", "DIR/ffdhe2048.pem"],
     ["tls1_2"] + FULL12),
    ("tls12_dhe_custom1024",
     ["-tls1_2", "-cipher", "DHE-RSA-AES128-SHA:@SECLEVEL=0",
      "-dhparam", "DIR/dh1024.pem"],
     ["tls1_2", "reneg-info", "deflate"]),
    ("tls12_rsa_certreq",
     ["-tls1_2", "-cipher", "AES128-SHA", "-verify", "1"],
     ["tls1_2", "suites=AES128-SHA,AES256-SHA", "reneg-scsv"]),
    ("tls12_ocsp",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
      "-status_file", "DIR/ocsp.der"],
     ["tls1_2", "groups=x25519", "status", "reneg-info"]),
    ("tls12_long_chain",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
      "-cert_chain", "DIR/chain.pem"],
     ["tls1_2", "groups=x25519"]),
    ("tls10_downgrade",
     ["-min_protocol", "TLSv1", "-cipher", "ALL:@SECLEVEL=0"],
     ["tls1", "groups=x25519,P-256", "reneg-info"]),
    ("tls12_downgrade",
     [],
     ["tls1_2", "groups=x25519", "reneg-info", "ems"]),
    ("tls13_x25519",
     ["-tls1_3"],
     ["tls1_3", ALL13, "groups=x25519,P-256", "shares=x25519",
      "session-id", "sni=mx.example.test"]),
    ("tls13_p256",
     ["-tls1_3"],
     ["tls1_3", ALL13, "groups=P-256", "tls12-too"]),
    ("tls13_p384",
     ["-tls1_3"],
     ["tls1_3", ALL13, "groups=P-384"]),
    ("tls13_p521",
     ["-tls1_3"],
     ["tls1_3", ALL13, "groups=P-521"]),
    ("tls13_x448",
     ["-tls1_3"],
     ["tls1_3", ALL13, "groups=x448"]),
    ("tls13_ffdhe2048",
     ["-tls1_3", "-groups", "ffdhe2048:ffdhe3072"],
     ["tls1_3", ALL13, "groups=ffdhe2048"]),
    ("tls13_ffdhe8192",
     ["-tls1_3", "-groups", "ffdhe8192"],
     ["tls1_3", ALL13, "groups=ffdhe8192"]),
    ("tls13_hrr",
     ["-tls1_3", "-groups", "P-256"],
     ["tls1_3", ALL13, "groups=x25519,P-256", "shares=x25519",
      "session-id"]),
    ("alert_handshake_failure",
     ["-tls1_2", "-cipher", "AES128-GCM-SHA256"],
     ["tls1_2", "suites=CAMELLIA128-SHA,SEED-SHA"]),
    ("alert_protocol_version",
     ["-tls1_3"],
     ["tls1"]),
    ("alert_ssl3",
     [],
     ["ssl3"]),
    ("alert_fallback",
     [],
     ["tls1_2", "groups=x25519", "fallback"]),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_pki(d):
    o = "openssl"
    run([o, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         f"{d}/rsa.key", "-out", f"{d}/rsa.pem", "-days", "3650",
         "-subj", "/CN=mx.example.test",
         "-addext", "subjectAltName=DNS:mx.example.test"])
    run([o, "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{d}/ec.key",
         "-out", f"{d}/ec.pem", "-days", "3650",
         "-subj", "/CN=ec.example.test"])
    run([o, "dhparam", "-out", f"{d}/dh1024.pem", "1024"])
    run([o, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
         "group:ffdhe2048", "-out", f"{d}/ffdhe2048.pem"])
    # an OCSP response about the (self-signed) leaf, signed by itself
    with open(f"{d}/index.txt", "w") as f:
        f.write("")
    run([o, "ocsp", "-index", f"{d}/index.txt", "-rsigner", f"{d}/rsa.pem",
         "-rkey", f"{d}/rsa.key", "-CA", f"{d}/rsa.pem",
         "-issuer", f"{d}/rsa.pem", "-cert", f"{d}/rsa.pem",
         "-respout", f"{d}/ocsp.der", "-ndays", "3650"])
    # twelve extra certificates: a Certificate message over 16 KiB (two
    # records) and more certificates than TLSH_MAX_CERTS
    chain = ""
    for i in range(12):
        run([o, "req", "-x509", "-newkey", "rsa:4096", "-nodes",
             "-keyout", f"{d}/c{i}.key", "-out", f"{d}/c{i}.pem",
             "-days", "3650", "-subj", f"/CN=chain{i}.example.test"])
        with open(f"{d}/c{i}.pem") as f:
            chain += f.read()
    with open(f"{d}/chain.pem", "w") as f:
        f.write(chain)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def capture(d, build, name, sargs, hargs):
    hello = run([f"{build}/tls_hello", "build"] + hargs).stdout
    cert, key = f"{d}/rsa.pem", f"{d}/rsa.key"
    if "EC" in sargs:
        sargs = [a for a in sargs if a != "EC"]
        cert, key = f"{d}/ec.pem", f"{d}/ec.key"
    port = free_port()
    cmd = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
           "-cert", cert, "-key", key, "-naccept", "1"]
    cmd += [a.replace("DIR", d) for a in sargs]
    srv = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    try:
        line = srv.stdout.readline()
        while line and b"ACCEPT" not in line:
            line = srv.stdout.readline()
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(hello)
        got = b""
        while True:
            r, _, _ = select.select([c], [], [], 0.7)
            if not r:
                break
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        c.close()
    finally:
        srv.kill()
        srv.wait()
    with open(os.path.join(HERE, name + ".hello"), "wb") as f:
        f.write(hello)
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(got)
    print(f"{name}: sent {len(hello)}, got {len(got)}")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                            else os.path.join(TOP, "build"))
    with tempfile.TemporaryDirectory() as d:
        make_pki(d)
        for name, sargs, hargs in SCENARIOS:
            capture(d, build, name, sargs, hargs)
            time.sleep(0.1)
    with open(os.path.join(HERE, "220_text.bin"), "wb") as f:
        f.write(b"220 mx.example.test ESMTP ready\r\n")


if __name__ == "__main__":
    main()
