// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/capture_buffers.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern "C" {
#include <libswscale/swscale.h>
}

#include "absl/strings/str_format.h"

namespace daedalus {

CaptureBuffers::~CaptureBuffers() {
  for (auto& [index, m] : buffers_) Unmap(m);
}

void CaptureBuffers::Unmap(Mapping& m) {
  if (m.data) munmap(m.data, m.size);
  m = {};
}

absl::StatusOr<uint8_t*> CaptureBuffers::Map(const ddv_decode& req, JobIo& io) {
  if (!(req.flags & DDV_DECODE_DST_EXPORT)) {
    return absl::FailedPreconditionError("the job's CAPTURE buffer cannot be exported");
  }
  auto it = buffers_.find(req.dst_index);
  if (it != buffers_.end() && it->second.generation == req.dst_generation &&
      it->second.size >= req.dst.sizeimage) {
    return it->second.data;
  }
  // New memory behind the index (or a first sight): the old mapping, if
  // any, only keeps memory the client has freed.
  if (it != buffers_.end()) {
    Unmap(it->second);
    buffers_.erase(it);
  }
  absl::StatusOr<int> fd = io.ExportDst(req.ctx_id, req.job_id);
  if (!fd.ok()) return fd.status();
  // A DMA-BUF's size is where it ends.
  off_t size = lseek(*fd, 0, SEEK_END);
  if (size < 0 || static_cast<uint64_t>(size) < req.dst.sizeimage) {
    int err = errno;
    close(*fd);
    return absl::FailedPreconditionError(
        size < 0 ? absl::StrFormat("CAPTURE buffer %d: size: %s", req.dst_index, strerror(err))
                 : absl::StrFormat("CAPTURE buffer %d holds %d bytes, its layout %d", req.dst_index,
                                   size, req.dst.sizeimage));
  }
  void* data = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  int err = errno;
  // The mapping keeps the buffer; the descriptor is not needed any more.
  close(*fd);
  if (data == MAP_FAILED) {
    return absl::InternalError(
        absl::StrFormat("mmap of CAPTURE buffer %d: %s", req.dst_index, strerror(err)));
  }
  Mapping& m = buffers_[req.dst_index];
  m.generation = req.dst_generation;
  m.data = static_cast<uint8_t*>(data);
  m.size = static_cast<size_t>(size);
  return m.data;
}

namespace {

using decode::CaptureFormat;
using decode::SampleOrder;

void CopyRows(uint8_t* dst, size_t dst_stride, const uint8_t* src, size_t src_stride,
              size_t row_bytes, size_t rows) {
  if (!rows) return;
  // Same strides (libavcodec's frames and the layout agree): one block.
  if (dst_stride == src_stride) {
    std::memcpy(dst, src, (rows - 1) * dst_stride + row_bytes);
    return;
  }
  for (size_t y = 0; y < rows; y++)
    std::memcpy(dst + y * dst_stride, src + y * src_stride, row_bytes);
}

}  // namespace

PictureWriter::~PictureWriter() { sws_freeContext(sws_); }

absl::Status PictureWriter::Interleave(const PictureView& pic, uint32_t hsub, uint32_t vsub,
                                       uint8_t* luma, uint8_t* chroma, size_t luma_stride,
                                       size_t chroma_stride) {
  int w = static_cast<int>(pic.width), h = static_cast<int>(pic.height);
  if (hsub == vsub) {
    // 4:2:0 to NV12 (libswscale's unscaled path: luma copied, chroma
    // interleaved with the CPU's vector unit), 4:4:4 to NV24: both exact.
    AVPixelFormat in = hsub == 1 ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
    AVPixelFormat out = hsub == 1 ? AV_PIX_FMT_NV24 : AV_PIX_FMT_NV12;
    sws_ = sws_getCachedContext(sws_, w, h, in, w, h, out, SWS_POINT, nullptr, nullptr, nullptr);
    if (!sws_) return absl::InternalError("no libswscale conversion to an NV format");
    const uint8_t* const src[4] = {pic.planes[0], pic.planes[1], pic.planes[2], nullptr};
    const int src_strides[4] = {static_cast<int>(pic.strides[0]), static_cast<int>(pic.strides[1]),
                                static_cast<int>(pic.strides[2]), 0};
    uint8_t* const dst[4] = {luma, chroma, nullptr, nullptr};
    const int dst_strides[4] = {static_cast<int>(luma_stride), static_cast<int>(chroma_stride), 0,
                                0};
    if (sws_scale(sws_, src, src_strides, 0, h, dst, dst_strides) != h) {
      return absl::InternalError("libswscale interleaved a partial picture");
    }
    return absl::OkStatus();
  }
  // NV16: FFmpeg 5.1's libswscale does not write it.
  CopyRows(luma, luma_stride, pic.planes[0], pic.strides[0], pic.width, pic.height);
  size_t cw = (pic.width + hsub - 1) / hsub, ch = (pic.height + vsub - 1) / vsub;
  for (size_t y = 0; y < ch; y++) {
    const uint8_t* u = pic.planes[1] + y * pic.strides[1];
    const uint8_t* v = pic.planes[2] + y * pic.strides[2];
    uint8_t* d = chroma + y * chroma_stride;
    for (size_t x = 0; x < cw; x++) {
      d[2 * x] = u[x];
      d[2 * x + 1] = v[x];
    }
  }
  return absl::OkStatus();
}

namespace {

// A layout's geometry, as the kernel computes it (ddv_fill_dst_fmt()).
struct Geometry {
  const CaptureFormat* format;
  size_t bytes, hsub, vsub;  // of the format: a sample, chroma subsampling
  size_t width, height, bpl;
  size_t row0;           // bytes of a row of the first plane
  size_t cw, ch, cs;     // chroma samples a row, rows, stride
  size_t chroma_planes;  // after the luma plane: 2 planar, 1 semi-planar
};

absl::StatusOr<Geometry> GeometryOf(const ddv_layout& layout) {
  const CaptureFormat* f = decode::CaptureFormatOf(layout.pixelformat);
  if (!f) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CAPTURE format 0x%08x is none of the node's", layout.pixelformat));
  }
  Geometry g = {f,
                static_cast<size_t>(f->bytes),
                size_t{1} << f->shift_x,
                size_t{1} << f->shift_y,
                layout.width,
                layout.height,
                layout.bytesperline,
                0,
                0,
                0,
                0,
                0};
  g.row0 =
      f->order == SampleOrder::kPacked ? (g.width + 1) / 2 * 2 * 2 * g.bytes : g.width * g.bytes;
  g.cw = (g.width + g.hsub - 1) / g.hsub;
  g.ch = (g.height + g.vsub - 1) / g.vsub;
  g.cs = f->order == SampleOrder::kSemiPlanar ? g.bpl * 2 / g.hsub
         : f->order == SampleOrder::kPlanar   ? g.bpl / g.hsub
                                              : 0;
  g.chroma_planes = f->order == SampleOrder::kPlanar       ? 2
                    : f->order == SampleOrder::kSemiPlanar ? 1
                                                           : 0;
  if (g.bpl < g.row0 || g.bpl * g.height + g.cs * g.ch * g.chroma_planes > layout.sizeimage) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CAPTURE layout %dx%d, %d bytes a line, does not fit its %d bytes", g.width,
                        g.height, g.bpl, layout.sizeimage));
  }
  return g;
}

}  // namespace

absl::StatusOr<decode::PlaneTarget> PictureWriter::Target(const ddv_layout& layout, uint8_t* dst) {
  absl::StatusOr<Geometry> g = GeometryOf(layout);
  if (!g.ok()) return g.status();
  decode::PlaneTarget t;
  t.planes = {dst, g->chroma_planes ? dst + g->bpl * g->height : nullptr};
  t.strides = {static_cast<int>(g->bpl), static_cast<int>(g->cs)};
  return t;
}

absl::Status PictureWriter::Write(const PictureView& pic, const ddv_layout& layout, uint8_t* dst) {
  absl::StatusOr<Geometry> geometry = GeometryOf(layout);
  if (!geometry.ok()) return geometry.status();
  const Geometry& g = *geometry;
  const SampleOrder order = g.format->order;
  // The same checks as the kernel's for DDV_IOC_WRITE_PICTURE.
  bool fits = pic.width == g.width && pic.height == g.height && pic.strides[0] >= g.row0;
  switch (pic.num_planes) {
    case 1:
      fits = fits && (order == SampleOrder::kPacked || order == SampleOrder::kRgb);
      break;
    case 2:
      fits = fits && order == SampleOrder::kSemiPlanar && pic.strides[1] >= 2 * g.cw * g.bytes;
      break;
    case 3:
      fits =
          fits &&
          (order == SampleOrder::kPlanar || (order == SampleOrder::kSemiPlanar && g.bytes == 1)) &&
          pic.strides[1] >= g.cw * g.bytes && pic.strides[2] >= g.cw * g.bytes;
      break;
    default:
      fits = false;
  }
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a %dx%d picture of %d planes does not fit CAPTURE layout %dx%d, %d bytes a line",
        pic.width, pic.height, pic.num_planes, g.width, g.height, g.bpl));
  }
  uint8_t* chroma = dst + g.bpl * g.height;
  if (order == SampleOrder::kSemiPlanar && pic.num_planes == 3) {
    return Interleave(pic, g.hsub, g.vsub, dst, chroma, g.bpl, g.cs);
  }
  CopyRows(dst, g.bpl, pic.planes[0], pic.strides[0], g.row0, g.height);
  if (order == SampleOrder::kSemiPlanar) {
    CopyRows(chroma, g.cs, pic.planes[1], pic.strides[1], 2 * g.cw * g.bytes, g.ch);
  } else if (order == SampleOrder::kPlanar) {
    CopyRows(chroma, g.cs, pic.planes[1], pic.strides[1], g.cw * g.bytes, g.ch);
    CopyRows(chroma + g.cs * g.ch, g.cs, pic.planes[2], pic.strides[2], g.cw * g.bytes, g.ch);
  }
  return absl::OkStatus();
}

}  // namespace daedalus
