#!/usr/bin/env python3
"""Regenerate vectors.json: golden manifests computed WITHOUT DartSync's code.

Piece hashes and file IDs come from the reference `b3sum` (Debian package
b3sum); weak sums from the literal definition in manifest/weak.go. File
content is generated: byte i of a file is (7*i + 3) mod 251, i from 0.

Run from this directory: python3 gen_vectors.py > vectors.json
"""
import json
import subprocess
import struct

VECTORS = [  # name, size, piece size
    ("empty", 0, 4096),
    ("one-byte", 1, 4096),
    ("one-piece", 4096, 4096),
    ("one-piece-plus-one", 4097, 4096),
    ("several-pieces", 3 * 4096 + 100, 4096),
    ("exact-pieces-64k", 4 * 65536, 65536),
    ("default-piece-size", 2 * 1048576 + 524288 + 7, 1048576),
]


def content(size):
    return bytes((7 * i + 3) % 251 for i in range(size))


def b3sum(data):
    out = subprocess.run(["b3sum", "--no-names", "--num-threads", "1", "-"],
                         input=data, capture_output=True, check=True).stdout
    return out.decode().strip()


def weak(p):
    a = b = 0
    n = len(p)
    for i, x in enumerate(p):
        a += x
        b += (n - i) * x
    return (a & 0xFFFF) | (b & 0xFFFF) << 16


def main():
    out = {
        "generator": "byte i of each file is (7*i + 3) mod 251, i counted from 0",
        "hashes": "piece hashes and file IDs computed with the reference b3sum, weak sums with the definition in manifest/weak.go (gen_vectors.py)",
        "file_id": "BLAKE3-256 of size (uint64 LE) || piece size (uint64 LE) || piece hashes",
        "vectors": [],
    }
    for name, size, ps in VECTORS:
        data = content(size)
        pieces = []
        raw = b""
        for off in range(0, size, ps):
            p = data[off:off + ps]
            h = b3sum(p)
            raw += bytes.fromhex(h)
            pieces.append({"offset": off, "length": len(p), "hash": h, "weak": "%08x" % weak(p)})
        fid = b3sum(struct.pack("<QQ", size, ps) + raw)
        out["vectors"].append({"name": name, "size": size, "piece_size": ps,
                               "file_id": fid, "pieces": pieces})
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
