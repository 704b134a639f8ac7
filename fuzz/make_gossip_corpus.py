#!/usr/bin/env python3
"""Writes the seed corpus of the gossip fuzz target (fuzz/corpus/gossip/).

Format: include/cineyma/cluster/codec.hpp. Each seed is a valid message or a near miss, so the
fuzzer starts close to every branch of the decoder and of the engine's merge.
    python3 fuzz/make_gossip_corpus.py   # rewrites fuzz/corpus/gossip/seed-*
"""
import os

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)

def string(s):
    b = s.encode()
    return varint(len(b)) + b

def member(node, endpoint, inc, epoch, hb, status):
    return string(node) + string(endpoint) + varint(inc) + varint(epoch) + varint(hb) + bytes([status])

def record(name, node, epoch, version, actor_type, tombstone):
    return string(name) + string(node) + varint(epoch) + varint(version) + string(actor_type) + bytes([1 if tombstone else 0])

def message(kind, sender, members, records, version=1):
    return (b"CG" + bytes([version, kind]) + string(sender) + varint(len(members)) + b"".join(members)
            + varint(len(records)) + b"".join(records))

seeds = {
    "push-join": message(1, "b", [member("b", "b:1", 0, 0, 1, 0)], []),
    "push-three": message(1, "b", [member("a", "a:1", 0, 0, 0, 0), member("b", "b:1", 2, 0, 9, 0),
                                   member("c", "c:1", 1, 1, 4, 1)],
                          [record("kv", "b", 0, 3, "KvStore", False), record("x", "a", 0, 1, "X", False)]),
    "push-self-suspect": message(1, "b", [member("a", "a:1", 0, 0, 1, 1), member("b", "b:1", 0, 0, 1, 0)], []),
    "push-self-down": message(1, "b", [member("a", "a:1", 0, 0, 1, 2), member("b", "b:1", 0, 0, 1, 0)],
                              [record("x", "a", 0, 1, "X", False)]),
    "push-earlier-life": message(1, "b", [member("a", "a:1", 7, 3, 500, 0), member("b", "b:1", 0, 0, 1, 0)],
                                 [record("old", "a", 3, 4, "Old", False)]),
    "reply-tombstone": message(2, "c", [member("c", "c:1", 0, 0, 3, 3)], [record("x", "c", 0, 9, "X", True)]),
    "reply-empty": message(2, "c", [], []),
    "from-self": message(1, "a", [member("a", "a:1", 9, 9, 9, 2)], []),
    "bad-version": message(1, "b", [], [], version=2),
    "unsorted": message(1, "b", [member("c", "c:1", 0, 0, 0, 0), member("b", "b:1", 0, 0, 0, 0)], []),
    "bad-epoch": message(1, "b", [member("b", "b:1", 0, 1, 0, 0)], []),
    "huge-count": b"CG\x01\x01" + string("b") + varint(1 << 40),
    "max-counters": message(1, "b", [member("a", "a:1", 1 << 62, 1 << 62, 1 << 62, 2),
                                     member("b", "b:1", 1 << 62, 0, 1 << 62, 0)],
                            [record("x", "b", 0, 1 << 62, "X", False)]),
    "big-varints": message(1, "b", [member("b", "b:1", (1 << 64) - 1, (1 << 64) - 1, (1 << 64) - 1, 0)], []),
}

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "gossip")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {out}")
