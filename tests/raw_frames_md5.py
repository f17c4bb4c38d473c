#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-frame MD5s of raw I420 frames, compared with a reference NAME.md5.

Each frame is one file (GStreamer's multifilesink after videoconvert), in
GStreamer's I420 layout: luma rows rounded up to 4 bytes, chroma rows to 4
(of the rounded-up half width), chroma heights rounded up; a buffer may be
longer than the frame. The frame sizes come from the reference, so streams
that change size work too. Planes are hashed without padding, as the
reference is.

usage: raw_frames_md5.py REFERENCE.md5 FRAME_FILE...
Prints "N/M frames match" and exits 0 only when all match.
"""
import hashlib
import re
import sys


def round_up(v, a):
    return (v + a - 1) // a * a


def frame_md5(data, w, h):
    cw, ch = (w + 1) // 2, (h + 1) // 2
    ys, cs = round_up(w, 4), round_up(round_up(w, 2) // 2, 4)
    if len(data) < ys * h + 2 * cs * ch:
        return "short-frame-%d-bytes" % len(data)
    md5 = hashlib.md5()
    pos = 0
    for stride, width, rows in ((ys, w, h), (cs, cw, ch), (cs, cw, ch)):
        for r in range(rows):
            md5.update(data[pos + r * stride: pos + r * stride + width])
        pos += stride * rows
    return md5.hexdigest()


def main():
    ref, sizes = [], []
    for line in open(sys.argv[1]):
        md5, name = line.split()
        m = re.search(r"-(\d+)x(\d+)-\d+\.\w+$", name)
        ref.append(md5)
        sizes.append((int(m.group(1)), int(m.group(2))) if m else sizes[-1])
    files = sys.argv[2:]
    got = [frame_md5(open(f, "rb").read(), *sizes[i]) for i, f in enumerate(files[: len(ref)])]
    match = sum(1 for a, b in zip(got, ref) if a == b)
    print(f"{match}/{len(ref)} frames match ({len(files)} decoded)")
    sys.exit(0 if match == len(ref) and len(files) == len(ref) else 1)


main()
