#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-frame MD5s of raw frames written by GStreamer, compared with a reference.

Each frame is one file (multifilesink), in GStreamer's default layout for
its format (what videoconvert produces when it really converts):
  I420: luma stride RU4(w); chroma stride RU4(RU2(w)/2); the U plane starts
        after RU2(h) luma rows, V after RU2(h)/2 chroma rows;
  NV12: luma and interleaved chroma stride RU4(w); chroma after RU2(h) rows.
Each frame is hashed as the reference is: planar Y, U, V without padding.
The size of each frame comes from the reference (lines name it, e.g.
NAME-352x288-0001.i420), so streams that change size work too; where the
reference names no size, the WxH given holds.

usage: frames_md5.py REFERENCE.md5 WxH I420|NV12 FRAME_FILE...
Prints "N/M frames match (K decoded)"; exits 0 only when all frames match
and there are no extra ones.
"""
import hashlib
import re
import sys


def ru(v, a):
    return (v + a - 1) // a * a


def frame_md5(data, fmt, w, h):
    cw, ch = (w + 1) // 2, (h + 1) // 2
    ys = ru(w, 4)
    uv = ys * ru(h, 2)
    md5 = hashlib.md5()
    rows = [data[y * ys: y * ys + w] for y in range(h)]
    if fmt == "NV12":
        chroma = [data[uv + y * ys: uv + y * ys + 2 * cw] for y in range(ch)]
        rows += [r[0::2] for r in chroma] + [r[1::2] for r in chroma]
    else:
        cs = ru(ru(w, 2) // 2, 4)
        v = uv + cs * ch
        rows += [data[uv + y * cs: uv + y * cs + cw] for y in range(ch)]
        rows += [data[v + y * cs: v + y * cs + cw] for y in range(ch)]
    planar = b"".join(rows)
    if len(planar) != w * h + 2 * cw * ch:
        return "short-frame-%d-bytes" % len(data)
    md5.update(planar)
    return md5.hexdigest()


def main():
    if len(sys.argv) < 4 or sys.argv[3] not in ("I420", "NV12"):
        sys.exit(__doc__)
    ref_md5, sizes = [], []
    size = tuple(int(v) for v in sys.argv[2].split("x"))
    for line in open(sys.argv[1]):
        md5, name = line.split()
        m = re.search(r"-(\d+)x(\d+)-\d+\.\w+$", name)
        if m:
            size = (int(m.group(1)), int(m.group(2)))
        if size[0] * size[1] == 0:
            sys.exit("frames_md5: no frame size in %s; give WxH" % sys.argv[1])
        ref_md5.append(md5)
        sizes.append(size)
    files = sys.argv[4:]
    got = [frame_md5(open(f, "rb").read(), sys.argv[3], *sizes[min(i, len(sizes) - 1)])
           for i, f in enumerate(files)]
    match = sum(1 for a, b in zip(got, ref_md5) if a == b)
    print(f"{match}/{len(ref_md5)} frames match ({len(files)} decoded)")
    sys.exit(0 if match == len(ref_md5) and len(files) == len(ref_md5) else 1)


main()
