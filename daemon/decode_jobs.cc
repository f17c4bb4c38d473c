// SPDX-License-Identifier: BSD-2-Clause

#include "daemon/decode_jobs.h"

#include <cerrno>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "daemon/log.h"

namespace daedalus {

absl::StatusOr<PictureView> ViewOf(const decode::Picture& pic, uint32_t fourcc,
                                   decode::PictureLayout& layout) {
  absl::StatusOr<decode::PlaneSet> planes = layout.For(pic, fourcc);
  if (!planes.ok()) return planes.status();
  PictureView view;
  view.width = static_cast<uint32_t>(pic.frame->width);
  view.height = static_cast<uint32_t>(pic.frame->height);
  view.num_planes = static_cast<uint32_t>(planes->num_planes);
  for (int p = 0; p < planes->num_planes; p++) {
    view.planes[p] = planes->planes[p];
    view.strides[p] = static_cast<uint32_t>(planes->strides[p]);
  }
  return view;
}

uint32_t FieldOf(const decode::Picture& pic) {
  switch (pic.fields) {
    case decode::Fields::kInterlacedTopFirst:
      return V4L2_FIELD_INTERLACED_TB;
    case decode::Fields::kInterlacedBottomFirst:
      return V4L2_FIELD_INTERLACED_BT;
    case decode::Fields::kProgressive:
      break;
  }
  return V4L2_FIELD_NONE;
}

ddv_stream_format ToStreamFormat(const decode::PictureFormat& f) {
  ddv_stream_format out = {};
  out.width = static_cast<uint32_t>(f.width);
  out.height = static_cast<uint32_t>(f.height);
  out.bit_depth = static_cast<uint32_t>(f.bit_depth);
  out.chroma = static_cast<uint32_t>(f.ChromaCode());
  // The floor the kernel keeps anyway (see the UAPI header). Clients add
  // what their display needs on top; each 1080p buffer is 3 MiB the kernel
  // allocates and zeroes, so asking for more costs memory for nothing.
  out.min_buffers = DDV_MIN_CAPTURE_BUFS;
  return out;
}

absl::StatusOr<DecodeJobs::Context*> DecodeJobs::GetContext(uint32_t id, uint32_t fourcc) {
  auto it = contexts_.find(id);
  if (it != contexts_.end() && it->second.decoder->codec().fourcc == fourcc) return &it->second;
  const decode::CodecInfo* codec = decode::CodecByFourcc(fourcc);
  if (!codec) {
    return absl::InvalidArgumentError("jobs name codec " + decode::FourccName(fourcc) +
                                      ", which the daemon never announced");
  }
  absl::StatusOr<std::unique_ptr<decode::StreamDecoder>> dec =
      decode::StreamDecoder::Create(*codec, {options_.ThreadsFor(*codec)});
  if (!dec.ok()) return dec.status();
  if (it != contexts_.end()) contexts_.erase(it);
  Context& c = contexts_[id];
  c.decoder = *std::move(dec);
  stats_.ContextOpened(id, codec->name);
  Log(Severity::kInfo, absl::StrFormat("context %d: %s decoder, %d frame threads", id, codec->name,
                                       options_.ThreadsFor(*codec)));
  return &c;
}

std::optional<ddv_decode_done> DecodeJobs::Run(const ddv_decode& req, JobIo& io) {
  stats_.JobStarted(req.ctx_id, req.src_queued, req.dst_queued);
  std::optional<ddv_decode_done> done = RunJob(req, io);
  auto ctx = contexts_.find(req.ctx_id);
  size_t pending = ctx == contexts_.end() ? 0 : ctx->second.pending.size();
  if (ctx != contexts_.end()) stats_.PicturesWaiting(req.ctx_id, pending);
  if (!done) {
    stats_.JobDropped(req.ctx_id);
    return done;
  }
  Log(Severity::kDebug,
      absl::StrFormat("context %d job %d: flags 0x%x ts %d -> done 0x%x ts %d, %d pending",
                      req.ctx_id, req.job_id, req.flags, req.src_timestamp, done->flags,
                      done->timestamp, pending));
  return done;
}

std::optional<ddv_decode_done> DecodeJobs::RunJob(const ddv_decode& req, JobIo& io) {
  ddv_decode_done done = {};
  done.ctx_id = req.ctx_id;
  done.job_id = req.job_id;

  // A context a dead daemon served: this daemon starts it afresh, mid-stream.
  if (req.flags & DDV_DECODE_RESUME) Close(req.ctx_id);
  absl::StatusOr<Context*> ctx = GetContext(req.ctx_id, req.codec);
  if (!ctx.ok()) {
    Log(Severity::kError, absl::StrFormat("context %d: %s", req.ctx_id, ctx.status().message()));
    stats_.Error(req.ctx_id, DecodeError::kDecoderSetup);
    done.flags = DDV_DONE_FATAL;
    done.status = -ENOMEM;
    return done;
  }
  Context& c = **ctx;
  if (req.flags & DDV_DECODE_RESUME) {
    c.resuming = true;
    Log(Severity::kInfo,
        absl::StrFormat("context %d: resuming a stream the last daemon left, from its next key "
                        "frame",
                        req.ctx_id));
  }

  size_t skipped = 0;
  if (req.flags & DDV_DECODE_SRC) {
    Step step = DecodeBitstream(req, io, c, done);
    skipped += DropUntilKeyFrame(req.ctx_id, c);
    if (step == Step::kGone) return std::nullopt;
    if (step == Step::kAnswer) return done;
  }
  // Frame threads hold back up to `threads` pictures, which a drain
  // releases at once: those never count against the bound.
  size_t limit = kMaxPendingPictures + static_cast<size_t>(options_.threads);
  if (c.pending.size() > limit) {
    Log(Severity::kError,
        absl::StrFormat("context %d: %d decoded pictures wait for CAPTURE buffers (at most %d): "
                        "the client's buffers never take them; failing the context",
                        req.ctx_id, c.pending.size(), limit));
    stats_.Error(req.ctx_id, DecodeError::kBufferIo);
    c.pending.clear();
    done.flags = DDV_DONE_FATAL;
    done.status = -ENOSPC;
    return done;
  }
  if ((req.flags & DDV_DECODE_DRAIN) && !c.drained) {
    (void)c.decoder->Drain(&c.pending);  // errors were counted per frame
    c.drained = true;
    skipped += DropUntilKeyFrame(req.ctx_id, c);
  }
  if (c.pending.empty() && !c.announced && !(done.flags & DDV_DONE_FATAL)) {
    // No picture yet, but the headers say what the pictures will be.
    std::optional<decode::PictureFormat> header = c.decoder->HeaderFormat();
    if (header) {
      Announce(req.ctx_id, c, *header, done);
      return done;
    }
  }
  if (!c.pending.empty()) {
    Step step = DeliverPicture(req, io, c, done);
    if (step == Step::kGone) return std::nullopt;
    if (step == Step::kAnswer) return done;
  }
  // Drained and nothing left: an empty CAPTURE buffer is LAST (some
  // clients, GStreamer among them, drop the picture of a LAST buffer, so
  // the last picture never shares it); without a buffer, the stream
  // showed no picture at all.
  if ((req.flags & DDV_DECODE_DRAIN) && c.drained && c.pending.empty() &&
      !(done.flags & DDV_DONE_PICTURE)) {
    done.flags |= DDV_DONE_LAST;
    c.drained = false;  // the decoder takes new input again
  }
  // A picture dropped while resuming: its CAPTURE buffer comes back
  // empty, flagged ERROR, so the client sees where pictures are missing.
  if (skipped && (req.flags & DDV_DECODE_DST) &&
      !(done.flags & (DDV_DONE_PICTURE | DDV_DONE_LAST | DDV_DONE_FORMAT | DDV_DONE_FATAL)))
    done.flags |= DDV_DONE_SKIPPED;
  return done;
}

size_t DecodeJobs::DropUntilKeyFrame(uint32_t id, Context& c) {
  size_t dropped = 0;
  while (c.resuming && !c.pending.empty()) {
    if (c.pending.front().frame->key_frame) {
      c.resuming = false;
      Log(Severity::kInfo,
          absl::StrFormat("context %d: resumed at a key frame, %d pictures dropped before it", id,
                          dropped));
      break;
    }
    c.pending.pop_front();
    dropped++;
  }
  if (dropped) stats_.PicturesSkipped(id, dropped);
  return dropped;
}

DecodeJobs::Step DecodeJobs::DecodeBitstream(const ddv_decode& req, JobIo& io, Context& c,
                                             ddv_decode_done& done) {
  // The kernel never sends more than its largest OUTPUT buffer; more is a
  // broken peer, not a reason to allocate gigabytes.
  if (req.src_bytes > DDV_MAX_SRC_BYTES) {
    Log(Severity::kError,
        absl::StrFormat("context %d job %d: %d bytes of bitstream, at most %d", req.ctx_id,
                        req.job_id, req.src_bytes, DDV_MAX_SRC_BYTES));
    stats_.Error(req.ctx_id, DecodeError::kBufferIo);
    done.flags = DDV_DONE_FATAL;
    done.status = -EINVAL;
    return Step::kAnswer;
  }
  bitstream_.resize(req.src_bytes);
  absl::StatusOr<size_t> n = io.ReadSrc(req.ctx_id, req.job_id, bitstream_);
  if (!n.ok()) {
    if (absl::IsNotFound(n.status())) return Step::kGone;
    Log(Severity::kError, std::string(n.status().message()));
    stats_.Error(req.ctx_id, DecodeError::kBufferIo);
    done.flags = DDV_DONE_FATAL;
    done.status = -EIO;
    return Step::kAnswer;
  }
  done.flags |= DDV_DONE_SRC_CONSUMED;
  if (*n == 0) return Step::kGoOn;
  absl::Time start = absl::Now();
  absl::Status st = c.decoder->Decode(std::string_view(bitstream_.data(), *n),
                                      static_cast<int64_t>(req.src_timestamp), &c.pending);
  stats_.BitstreamDecoded(req.ctx_id, *n, absl::Now() - start);
  if (!st.ok()) {
    stats_.Error(req.ctx_id, DecodeError::kCorruptBitstream);
    Log(Severity::kDebug,
        absl::StrFormat("context %d job %d: %s", req.ctx_id, req.job_id, st.message()));
    done.flags |= DDV_DONE_ERROR;
    done.status = -EBADMSG;
  }
  return Step::kGoOn;
}

DecodeJobs::Step DecodeJobs::DeliverPicture(const ddv_decode& req, JobIo& io, Context& c,
                                            ddv_decode_done& done) {
  const decode::Picture& pic = c.pending.front();
  bool has_dst = req.flags & DDV_DECODE_DST;
  bool layout_fits = has_dst && req.dst.width == static_cast<uint32_t>(pic.format.width) &&
                     req.dst.height == static_cast<uint32_t>(pic.format.height);
  if (!c.announced || *c.announced != pic.format || (has_dst && !layout_fits)) {
    // A new format (or the stream's first): announce it, write nothing.
    Announce(req.ctx_id, c, pic.format, done);
    return Step::kAnswer;
  }
  if (!has_dst) return Step::kGoOn;
  absl::Time start = absl::Now();
  absl::StatusOr<uint8_t*> dst = MapCapture(req, io, c);
  if (!dst.ok()) return Step::kGone;  // MapCapture says why
  bool mapped = *dst != nullptr;
  absl::Status st;
  if (mapped) {
    st = WriteMapped(req, pic, c, *dst);
  } else {
    absl::StatusOr<PictureView> view = ViewOf(pic, req.dst.pixelformat, c.layout);
    st = view.ok() ? io.WritePicture(req.ctx_id, req.job_id, *view) : view.status();
  }
  absl::Duration write_time = absl::Now() - start;
  if (!st.ok()) {
    if (absl::IsNotFound(st)) return Step::kGone;
    Log(Severity::kError, absl::StrFormat("context %d: %s", req.ctx_id, st.message()));
    stats_.Error(req.ctx_id, DecodeError::kBufferIo);
    done.flags = DDV_DONE_FATAL;
    done.status = -EINVAL;
    return Step::kAnswer;
  }
  done.flags |= DDV_DONE_PICTURE | (mapped ? DDV_DONE_MAPPED : 0);
  done.timestamp = static_cast<uint64_t>(pic.timestamp);
  done.field = FieldOf(pic);
  stats_.PictureWritten(req.ctx_id, req.dst.sizeimage, write_time, !mapped);
  c.pending.pop_front();
  return Step::kGoOn;
}

absl::StatusOr<uint8_t*> DecodeJobs::MapCapture(const ddv_decode& req, JobIo& io, Context& c) {
  if (!options_.map_capture || c.kernel_writes || !(req.flags & DDV_DECODE_DST_EXPORT)) {
    return nullptr;
  }
  absl::StatusOr<uint8_t*> dst = c.capture.Map(req, io);
  if (dst.ok() || absl::IsNotFound(dst.status())) return dst;
  // The kernel still copies for this context: a stream stays correct.
  Log(Severity::kWarning, absl::StrFormat("context %d: %s; the kernel copies its pictures instead",
                                          req.ctx_id, dst.status().message()));
  c.kernel_writes = true;
  return nullptr;
}

absl::Status DecodeJobs::WriteMapped(const ddv_decode& req, const decode::Picture& pic, Context& c,
                                     uint8_t* dst) {
  // A format libswscale makes (P010, RGB) is converted straight into the
  // buffer: no pass through the daemon's memory.
  absl::StatusOr<decode::PlaneTarget> target = PictureWriter::Target(req.dst, dst);
  if (!target.ok()) return target.status();
  absl::StatusOr<bool> converted = c.layout.ConvertInto(pic, req.dst.pixelformat, *target);
  if (!converted.ok()) return converted.status();
  if (*converted) return absl::OkStatus();
  absl::StatusOr<PictureView> view = ViewOf(pic, req.dst.pixelformat, c.layout);
  if (!view.ok()) return view.status();
  return c.writer.Write(*view, req.dst, dst);
}

void DecodeJobs::Announce(uint32_t ctx, Context& c, const decode::PictureFormat& format,
                          ddv_decode_done& done) {
  c.announced = format;
  stats_.FormatAnnounced(ctx, format);
  Log(Severity::kInfo, absl::StrFormat("context %d: stream format %s", ctx, format.ToString()));
  done.flags |= DDV_DONE_FORMAT;
  done.format = ToStreamFormat(format);
}

void DecodeJobs::Flush(uint32_t id) {
  auto it = contexts_.find(id);
  if (it == contexts_.end()) return;
  stats_.Flushed(id, it->second.pending.size());
  Log(Severity::kDebug,
      absl::StrFormat("context %d: flush, %d pictures dropped", id, it->second.pending.size()));
  it->second.decoder->Reset();
  it->second.pending.clear();
  it->second.drained = false;
}

void DecodeJobs::Close(uint32_t id) {
  contexts_.erase(id);
  // Its statistics too, even when it never got a decoder: a job's
  // figures are kept from its start, before the decoder is made.
  stats_.ContextClosed(id);
}

void DecodeJobs::Clear() {
  contexts_.clear();
  stats_.AllContextsClosed();
}

}  // namespace daedalus
