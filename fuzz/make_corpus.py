#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/seed-*).

The seeds are hand-encoded protobuf (wire.proto, package cineyma.v1), so this needs no
protobuf package: each is a small valid or almost-valid input that gets the fuzzer past the
first checks. libFuzzer adds what it finds to the same directories when run by
scripts/fuzz.sh; commit the interesting ones. Re-running this script rewrites only seed-*.
"""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint((num << 3) | 2) + varint(len(data)) + data


def frame(body):
    return struct.pack(">I", len(body)) + body


def envelope(message_type="", payload=b"", corr=0, sender="", target="", kind=0, code=0, text=""):
    out = b""
    if message_type:
        out += field_bytes(1, message_type)
    if payload:
        out += field_bytes(2, payload)
    if corr:
        out += field_varint(3, corr)
    if sender:
        out += field_bytes(4, sender)
    if target:
        out += field_bytes(5, target)
    if kind:
        out += field_varint(6, kind)
    if code:
        out += field_varint(7, code)
    if text:
        out += field_bytes(8, text)
    return out


def hello(version=1, node="peer", cluster="fuzz", nonce=b"\x01" * 32):
    return field_bytes(1, field_varint(1, version) + field_bytes(2, node) +
                       field_bytes(3, cluster) + field_bytes(4, nonce))


def welcome(version=1, node="peer", cluster="fuzz", nonce=b"\x02" * 32, proof=b""):
    body = field_varint(1, version) + field_bytes(2, node) + field_bytes(3, cluster) + \
        field_bytes(4, nonce)
    if proof:
        body += field_bytes(5, proof)
    return field_bytes(2, body)


def proof(p=b""):
    return field_bytes(3, field_bytes(1, p) if p else b"")


ACCEPT = field_bytes(4, b"")
REJECT = field_bytes(5, field_varint(1, 9) + field_bytes(2, "no"))

ping_payload = field_varint(1, 7)

SEEDS = {
    "envelope": {
        "request": envelope("remote_test.Ping", ping_payload, 42, "node", "actor", 1),
        "response": envelope("remote_test.Pong", ping_payload, 42, "node", "", 2),
        "one-way": envelope("remote_test.Note", field_bytes(1, "hi"), 0, "node", "log", 3),
        "error": envelope("", b"", 9, "server", "", 4, 7, "no handler for x.Y"),
        "empty": b"",
        "bad-kind": envelope("a", b"", 1, "", "", 9),
        "ping": envelope("", b"", 5, "client", "", 5),
        "pong": envelope("", b"", 5, "server", "", 6),
        "big-payload": envelope("x.Big", b"\x42" * 4096, 1, "n", "a", 1),
    },
    "framing": {
        # byte 0: log2 of the maximum frame size; byte 1: read step; then the stream.
        "two-frames": bytes([10, 3]) + frame(b"hello") + frame(b""),
        "too-large": bytes([4, 1]) + frame(b"x" * 40),
        "4gib-prefix": bytes([23, 7]) + b"\xff\xff\xff\xff" + b"tail",
        "truncated": bytes([12, 5]) + frame(b"abcdef")[:7],
        "many-small": bytes([8, 50]) + b"".join(frame(bytes([i]) * i) for i in range(40)),
    },
    "handshake": {
        # byte 0: bit 0 = server role, bit 1 = with secret, bit 2 = loopback peer.
        "server-hello-open": bytes([1 | 4]) + frame(hello()) + frame(proof()),
        "server-hello-secret": bytes([1 | 2 | 4]) + frame(hello()) + frame(proof(b"\x00" * 32)),
        "server-hello-remote": bytes([1]) + frame(hello()),
        "server-bad-version": bytes([1 | 4]) + frame(hello(version=2)),
        "server-wrong-cluster": bytes([1 | 4]) + frame(hello(cluster="other")),
        "client-welcome-open": bytes([4]) + frame(welcome()) + frame(ACCEPT),
        "client-welcome-secret": bytes([2 | 4]) + frame(welcome(proof=b"\x03" * 32)),
        "client-reject": bytes([4]) + frame(REJECT),
        "out-of-order": bytes([1 | 4]) + frame(ACCEPT) + frame(hello()),
        "garbage": bytes([5]) + frame(b"\xff\xff\xff"),
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
    print("wrote", sum(len(s) for s in SEEDS.values()), "seeds under", ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
