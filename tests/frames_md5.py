#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-frame MD5s of raw frames written by GStreamer, compared with a reference.

Each frame is one file (multifilesink), in GStreamer's default layout for
its format (what videoconvert produces when it really converts). Strides
are rounded up to 4 bytes; for 4:2:0 the chroma starts after RU2(h) luma
rows:
  I420, I420_10LE: Y, U, V planes (10-bit: 16-bit little-endian samples);
  Y42B: Y, U, V planes of 4:2:2; chroma stride RU8(w)/2;
  Y444: Y, U, V planes of 4:4:4;
  NV12: Y, then one plane of interleaved U/V.
Each frame is hashed as the reference is: planar Y, U, V without padding.
The size of each frame comes from the reference (lines name it, e.g.
NAME-352x288-0001.i420), so streams that change size work too; where the
reference names no size, the WxH given holds.

usage: frames_md5.py REFERENCE.md5 WxH FORMAT FRAME_FILE...
Prints "N/M frames match (K decoded)"; exits 0 only when all frames match
and there are no extra ones.
"""
import hashlib
import re
import sys


def ru(v, a):
    return (v + a - 1) // a * a


# FORMAT: (bytes per sample, chroma width divisor, chroma height divisor,
#          semi-planar)
FORMATS = {
    "I420": (1, 2, 2, False),
    "I420_10LE": (2, 2, 2, False),
    "Y42B": (1, 2, 1, False),
    "Y444": (1, 1, 1, False),
    "NV12": (1, 2, 2, True),
}


def planes(fmt, w, h):
    """(offset, stride, row bytes, rows) of the Y, U, V planes in a frame;
    for a semi-planar format the second entry is the interleaved plane."""
    bps, hs, vs, semi = FORMATS[fmt]
    cw, ch = (w + hs - 1) // hs, (h + vs - 1) // vs
    ys = ru(w * bps, 4)
    # 4:2:0 chroma starts after an even number of luma rows.
    uv = ys * (ru(h, 2) if vs == 2 else h)
    if semi:
        return [(0, ys, w * bps, h), (uv, ys, 2 * cw * bps, ch)]
    if fmt == "Y42B":
        cs = ru(w, 8) // 2
    elif hs == 2:
        cs = ru(ru(w, 2) // 2 * bps, 4)
    else:
        cs = ys
    return [(0, ys, w * bps, h), (uv, cs, cw * bps, ch), (uv + cs * ch, cs, cw * bps, ch)]


def frame_md5(data, fmt, w, h):
    bps = FORMATS[fmt][0]
    out = []
    for off, stride, width, rows in planes(fmt, w, h):
        out.append([data[off + y * stride: off + y * stride + width] for y in range(rows)])
    if len(out) == 2:  # split interleaved U/V into planes
        chroma = out.pop()
        u = [b"".join(r[i:i + bps] for i in range(0, len(r), 2 * bps)) for r in chroma]
        v = [b"".join(r[i + bps:i + 2 * bps] for i in range(0, len(r), 2 * bps)) for r in chroma]
        out += [u, v]
    planar = b"".join(b"".join(p) for p in out)
    want = sum(width * rows for _, _, width, rows in planes(fmt, w, h))
    if len(planar) != want:
        return "short-frame-%d-bytes" % len(data)
    return hashlib.md5(planar).hexdigest()


def main():
    if len(sys.argv) < 4 or sys.argv[3] not in FORMATS:
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
