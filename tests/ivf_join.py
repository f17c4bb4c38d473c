#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Joins IVF files into one: the first file's header, then every frame of
each file in turn, renumbered. The frame size in the header is the first
file's; each keyframe carries its own.

usage: ivf_join.py IN.ivf... OUT.ivf
"""
import struct
import sys


def frames(path):
    data = open(path, "rb").read()
    if data[:4] != b"DKIF":
        sys.exit(f"{path}: not IVF")
    header_len = struct.unpack_from("<H", data, 6)[0]
    pos = header_len
    while pos + 12 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        yield data[pos + 12:pos + 12 + size]
        pos += 12 + size


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ins, out = sys.argv[1:-1], sys.argv[-1]
    header = bytearray(open(ins[0], "rb").read()[:32])
    body = bytearray()
    n = 0
    for path in ins:
        for frame in frames(path):
            body += struct.pack("<IQ", len(frame), n) + frame
            n += 1
    struct.pack_into("<I", header, 24, n)
    with open(out, "wb") as f:
        f.write(header + body)


if __name__ == "__main__":
    main()
