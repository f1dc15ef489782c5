"""Throwaway certificates for the tests, made with the `openssl` CLI.

Nothing here is trusted by anyone: each test session makes its own CA in a
temporary directory. Every function returns file paths (PEM).

    ca = make_ca(dir)                              # -> CA(cert, key, name)
    leaf = make_leaf(dir, ca, "localhost",
                     sans=["DNS:localhost", "IP:127.0.0.1"])
    leaf.cert, leaf.key, leaf.chain (leaf + issuers below the root)
    old = make_leaf(dir, ca, "old.example.test",
                    not_before="20200101000000Z", not_after="20200201000000Z")
    inter = make_ca(dir, "Test Intermediate", issuer=ca)   # intermediate CA
    make_leaf(dir, inter, "deep.example.test")     # chain: leaf, intermediate
    make_server_set(dir) -> ServerCerts(ca_file, cert, key, ...)  # what the
        mail servers use: CA + "localhost" with DNS:localhost,
        DNS:mx.example.test, IP:127.0.0.1
    weak = make_leaf(dir, inter, "mx.example.test", key_bits=1024, md="sha1")
                                                   # RSA-1024, sha1WithRSAEncryption
    make_leaf(dir, ca, "x", not_after=asn1_time(days=10))  # expires in 10 days
    asn1_time(days=0, seconds=0) -> "YYYYMMDDHHMMSSZ", now (UTC) + the offset

Weak certificates: `openssl genpkey` makes RSA-1024 keys and `openssl ca -md
sha1` signs with SHA-1 without complaint (OpenSSL 3's security levels apply
to TLS connections, not to the CLI's signing); a *server* needs security
level 0 to load such a leaf (tls_postures.py says how Postfix gets it).

`openssl ca` is used for leaves (not `x509 -req`) because it accepts any
start/end date, which is how expired and not-yet-valid certificates are made.
"""
import datetime
import os
import re
import subprocess
from dataclasses import dataclass, field

import peers

OPENSSL = peers.OPENSSL


@dataclass
class CA:
    name: str
    cert: str
    key: str
    dir: str
    # certificates between this CA and the root (this CA's own cert first);
    # empty for a root
    chain: list = field(default_factory=list)


@dataclass
class Leaf:
    name: str
    cert: str
    key: str
    # leaf followed by its intermediates (not the root): what a server sends
    chain: str


@dataclass
class ServerCerts:
    ca_file: str
    cert: str
    key: str
    chain: str
    ca: CA


def _run(args, cwd=None):
    peers.require("openssl")
    proc = subprocess.run([OPENSSL] + args, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stderr}{proc.stdout}")
    return proc.stdout


def _slug(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def _ca_config(cadir):
    """Minimal `openssl ca` database and config for one CA."""
    os.makedirs(os.path.join(cadir, "newcerts"), exist_ok=True)
    index = os.path.join(cadir, "index.txt")
    if not os.path.exists(index):
        _write(index, "")
        _write(os.path.join(cadir, "index.txt.attr"), "unique_subject = no\n")
        _write(os.path.join(cadir, "serial"), "1000\n")
    return _write(os.path.join(cadir, "ca.cnf"), f"""\
[ ca ]
default_ca = local
[ local ]
dir = {cadir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
email_in_dn = no
[ anything ]
commonName = supplied
organizationName = optional
[ leaf_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
""")


def asn1_time(days=0, seconds=0):
    """now (UTC) + the offset, in `openssl ca -startdate/-enddate` form."""
    t = (datetime.datetime.now(datetime.timezone.utc)
         + datetime.timedelta(days=days, seconds=seconds))
    return t.strftime("%Y%m%d%H%M%SZ")


def _genkey(path, key_type, bits=2048):
    if key_type == "rsa":
        _run(["genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}",
              "-out", path])
    elif key_type == "ec":
        _run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", path])
    else:
        raise ValueError(f"unknown key type {key_type}")
    os.chmod(path, 0o600)
    return path


def _sign(ca, csr, out, ext, days, not_before, not_after, md=None):
    args = ["ca", "-batch", "-config", _ca_config(ca.dir), "-extensions", ext,
            "-in", csr, "-out", out, "-notext"]
    if md:
        args += ["-md", md]
    if not_before:
        args += ["-startdate", not_before]
    if not_after:
        args += ["-enddate", not_after]
    else:
        args += ["-days", str(days)]
    _run(args)
    return out


def make_ca(workdir, name="smtprobe Test CA", issuer=None, days=3650,
            not_before=None, not_after=None, key_type="rsa"):
    """A root CA (issuer=None) or an intermediate signed by `issuer`."""
    cadir = os.path.join(workdir, "ca-" + _slug(name))
    os.makedirs(cadir, exist_ok=True)
    key = _genkey(os.path.join(cadir, "ca.key"), key_type)
    cert = os.path.join(cadir, "ca.pem")
    subj = f"/CN={name}/O=smtprobe tests"
    if issuer is None:
        _run(["req", "-x509", "-new", "-key", key, "-out", cert, "-days", str(days),
              "-subj", subj, "-sha256",
              "-addext", "basicConstraints=critical,CA:true",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        ca = CA(name, cert, key, cadir, [])
    else:
        csr = os.path.join(cadir, "ca.csr")
        _run(["req", "-new", "-key", key, "-out", csr, "-subj", subj])
        _sign(issuer, csr, cert, "ca_ext", days, not_before, not_after)
        ca = CA(name, cert, key, cadir, [cert] + issuer.chain)
    _ca_config(cadir)
    return ca


def make_leaf(workdir, ca, name, sans=None, days=825, not_before=None,
              not_after=None, key_type="rsa", key_bits=2048, md=None, extra_ext=()):
    """A leaf for `name` signed by `ca`. sans: e.g. ["DNS:x", "IP:127.0.0.1"]
    (default DNS:name). Dates are openssl ca format YYYYMMDDHHMMSSZ (see
    asn1_time). key_bits: RSA key size; md: the signature's digest (default
    the CA config's sha256; "sha1" for a SHA-1 signed leaf). extra_ext: more
    "-addext" values for the request, e.g. "tlsfeature=status_request"
    (must-staple), copied into the certificate like the SANs."""
    if sans is None:
        sans = [f"DNS:{name}"]
    base = os.path.join(workdir, "leaf-" + _slug(name))
    n = 0
    while os.path.exists(base + (f"-{n}" if n else "") + ".pem"):
        n += 1
    base += f"-{n}" if n else ""
    key = _genkey(base + ".key", key_type, key_bits)
    csr = base + ".csr"
    args = ["req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={name}"]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(sans)]
    for ext in extra_ext:
        args += ["-addext", ext]
    _run(args)
    cert = _sign(ca, csr, base + ".pem", "leaf_ext", days, not_before, not_after, md)
    chain = base + ".chain.pem"
    with open(chain, "w") as out:
        for path in [cert] + ca.chain:
            with open(path) as f:
                out.write(f.read())
    return Leaf(name, cert, key, chain)


def make_self_signed(workdir, name, sans=None, days=825):
    """A self-signed leaf (no CA at all)."""
    if sans is None:
        sans = [f"DNS:{name}"]
    base = os.path.join(workdir, "self-" + _slug(name))
    key = _genkey(base + ".key", "rsa")
    cert = base + ".pem"
    args = ["req", "-x509", "-new", "-key", key, "-out", cert, "-days", str(days),
            "-subj", f"/CN={name}", "-sha256"]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(sans)]
    _run(args)
    return Leaf(name, cert, key, cert)


def make_server_set(workdir):
    """The CA and the "localhost" certificate the test mail servers use."""
    os.makedirs(workdir, exist_ok=True)
    ca = make_ca(workdir)
    leaf = make_leaf(workdir, ca, "localhost",
                     sans=["DNS:localhost", "DNS:mx.example.test", "IP:127.0.0.1"])
    return ServerCerts(ca.cert, leaf.cert, leaf.key, leaf.chain, ca)
