#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-frame MD5s of a raw I420 dump, compared with a reference NAME.md5.

GStreamer writes I420 with padded strides (rows rounded up to 4 bytes,
chroma heights rounded up); the reference hashes unpadded planes. The frame
sizes come from the reference file, so streams that change size work too.

usage: raw_frames_md5.py RAW REFERENCE.md5 [gst|packed]
Prints "N/M frames match" and exits 0 only when all match.
"""
import hashlib
import re
import sys


def round_up(v, a):
    return (v + a - 1) // a * a


def frames(raw, sizes, layout):
    pos = 0
    for w, h in sizes:
        cw, ch = (w + 1) // 2, (h + 1) // 2
        if layout == "gst":
            ys, cs = round_up(w, 4), round_up(round_up(w, 2) // 2, 4)
        else:
            ys, cs = w, cw
        planes = [(ys, w, h), (cs, cw, ch), (cs, cw, ch)]
        md5 = hashlib.md5()
        for stride, width, rows in planes:
            for r in range(rows):
                md5.update(raw[pos + r * stride: pos + r * stride + width])
            pos += stride * rows
        if pos > len(raw):
            return
        yield md5.hexdigest()


def main():
    raw = open(sys.argv[1], "rb").read()
    ref, sizes = [], []
    for line in open(sys.argv[2]):
        md5, name = line.split()
        m = re.search(r"-(\d+)x(\d+)-\d+\.\w+$", name)
        ref.append(md5)
        sizes.append((int(m.group(1)), int(m.group(2))) if m else sizes[-1])
    layout = sys.argv[3] if len(sys.argv) > 3 else "gst"
    got = list(frames(raw, sizes, layout))
    match = sum(1 for a, b in zip(got, ref) if a == b)
    print(f"{match}/{len(ref)} frames match ({len(got)} decoded)")
    sys.exit(0 if match == len(ref) and len(got) == len(ref) else 1)


main()
