"""Reading what `smtprobe serve` stored, in either format (server/store.h):

    got = read_store("maildir", path)      # --maildir DIR
    got = read_store("spool", path)        # --spool DIR
    got.messages[id]      # the message as received (bytes)
    got.prepended[id]     # Maildir: the Return-Path and Received lines added
    got.envelopes[id]     # the envelope (dict): mail_from, rcpt, size, ...
    got.leftovers         # what a clean shutdown must not leave: Maildir
                          # tmp/ files, spool bytes after the last record
    got.torn              # a partial line or record at the end (a kill -9
                          # in the middle of a write; the next start drops it)

Maildir: DIR/new/ID holds the prepended lines then the message;
DIR/envelopes.jsonl one JSON envelope per line. Spool: DIR/messages.spool
holds records: an envelope as one JSON line (with the message's "size" and
"crc32"), then the message.

Every envelope line but a torn last one must be complete JSON with a unique
id; every message must have its envelope and (spool) its CRC. Assertions
fail the test.
"""
import json
import os
import zlib


class StoreContents:
    def __init__(self):
        self.messages = {}
        self.prepended = {}
        self.envelopes = {}
        self.leftovers = []
        self.torn = False


def _read_index(path, allow_torn):
    out, torn = {}, False
    if not os.path.exists(path):
        return out, torn
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    if lines[-1] != b"":
        assert allow_torn, f"{path} ends with a partial line: {lines[-1][-200:]!r}"
        torn = True
    for n, line in enumerate(lines[:-1], 1):
        try:
            env = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"{path}:{n} is not complete JSON ({e}): {line[-200:]!r}")
        assert isinstance(env, dict) and isinstance(env.get("id"), str), (path, n, env)
        assert env["id"] not in out, f"{path}:{n}: id {env['id']} twice"
        out[env["id"]] = env
    return out, torn


def _split_maildir_file(data, name):
    lines = data.split(b"\r\n", 2)
    assert len(lines) == 3, f"new/{name}: stored file too short: {data[:200]!r}"
    assert lines[0].startswith(b"Return-Path: <"), lines[0]
    assert lines[1].startswith(b"Received: from "), lines[1]
    prepended = lines[0] + b"\r\n" + lines[1] + b"\r\n"
    assert f" id {name}".encode() in prepended, (
        f"new/{name}: Received: names another id: {prepended!r}")
    return prepended, lines[2]


def read_store(fmt, path, allow_torn=False):
    got = StoreContents()
    if fmt == "maildir":
        got.envelopes, got.torn = _read_index(os.path.join(path, "envelopes.jsonl"),
                                              allow_torn)
        new = os.path.join(path, "new")
        for name in os.listdir(new):
            with open(os.path.join(new, name), "rb") as f:
                got.prepended[name], got.messages[name] = _split_maildir_file(f.read(), name)
        got.leftovers = sorted(os.listdir(os.path.join(path, "tmp")))
        for mid, message in got.messages.items():
            assert mid in got.envelopes, f"new/{mid} has no envelope"
            assert got.envelopes[mid]["size"] == len(message), (mid, got.envelopes[mid])
        return got
    assert fmt == "spool", fmt
    with open(os.path.join(path, "messages.spool"), "rb") as f:
        spool = f.read()
    off = 0
    while off < len(spool):
        nl = spool.find(b"\n", off)
        try:
            env = json.loads(spool[off:nl]) if nl >= 0 else None
            body = spool[nl + 1:nl + 1 + env["size"]]
            intact = len(body) == env["size"] and zlib.crc32(body) == env["crc32"]
        except (ValueError, TypeError, KeyError):
            intact = False
        if not intact:
            # only a crash leaves this, and only after the last record
            assert allow_torn, f"messages.spool: no intact record at {off}: {spool[off:off + 200]!r}"
            got.torn = True
            got.leftovers = [f"{len(spool) - off} bytes after the last record"]
            break
        assert env["id"] not in got.envelopes, f"messages.spool: id {env['id']} twice"
        got.envelopes[env["id"]] = env
        got.messages[env["id"]] = body
        off = nl + 1 + env["size"]
    return got


def store_args(fmt, path):
    """The serve options for a store of this format at path."""
    return ["--maildir" if fmt == "maildir" else "--spool", path]
