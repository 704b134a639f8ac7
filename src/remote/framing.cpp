// src/remote/framing.cpp — length-prefixed frames (the contract is in framing.hpp).
#include <cineyma/remote/framing.hpp>

#include <cineyma/assert.hpp>

#include <algorithm>
#include <cstring>

namespace cineyma::remote {

void encode_frame_header(std::uint32_t length, std::byte* out) noexcept {
  out[0] = static_cast<std::byte>(length >> 24);
  out[1] = static_cast<std::byte>(length >> 16);
  out[2] = static_cast<std::byte>(length >> 8);
  out[3] = static_cast<std::byte>(length);
}

std::uint32_t decode_frame_header(const std::byte* in) noexcept {
  return (std::to_integer<std::uint32_t>(in[0]) << 24) |
         (std::to_integer<std::uint32_t>(in[1]) << 16) |
         (std::to_integer<std::uint32_t>(in[2]) << 8) | std::to_integer<std::uint32_t>(in[3]);
}

Result<void> append_frame(std::string& out, std::span<const std::byte> body,
                          std::size_t max_frame_bytes) {
  CINEYMA_ASSERT(max_frame_bytes <= kLargestMaxFrameBytes);
  if (body.size() > max_frame_bytes) return fail(Errc::frame_too_large);
  std::byte header[kFrameHeaderBytes];
  encode_frame_header(static_cast<std::uint32_t>(body.size()), header);
  out.append(reinterpret_cast<const char*>(header), kFrameHeaderBytes);
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  return ok();
}

FrameDecoder::FrameDecoder(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
  CINEYMA_ASSERT(max_frame_bytes <= kLargestMaxFrameBytes);
}

void FrameDecoder::set_max_frame_bytes(std::size_t max_frame_bytes) noexcept {
  CINEYMA_ASSERT(max_frame_bytes <= kLargestMaxFrameBytes);
  max_frame_bytes_ = max_frame_bytes;
}

std::span<std::byte> FrameDecoder::read_buffer() {
  // Move the undelivered tail to the front first: frames already handed out are done with
  // (that is the documented invalidation), and reusing the space keeps the buffer at about
  // one frame plus one chunk however long the connection lives.
  if (begin_ > 0) {
    if (begin_ != end_) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    }
    end_ -= begin_;
    begin_ = 0;
  }
  // Room for the rest of the frame in progress, between kMinReadBytes and kReadChunkBytes:
  // never what a header announces beyond that, so memory follows the bytes received.
  std::size_t want = last_read_filled_ ? kReadChunkBytes : kMinReadBytes;
  if (end_ >= kFrameHeaderBytes && !failed_) {
    const std::size_t frame = kFrameHeaderBytes + decode_frame_header(buffer_.data());
    if (frame <= kFrameHeaderBytes + max_frame_bytes_ && frame > end_) {
      want = std::clamp(frame - end_, want, kReadChunkBytes);
    }
  }
  if (buffer_.size() - end_ < want) buffer_.resize(end_ + want);
  return std::span<std::byte>(buffer_.data() + end_, buffer_.size() - end_);
}

void FrameDecoder::commit(std::size_t n) noexcept {
  CINEYMA_ASSERT(n <= buffer_.size() - end_);
  last_read_filled_ = n == buffer_.size() - end_;
  end_ += n;
}

void FrameDecoder::feed(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    std::span<std::byte> room = read_buffer();
    const std::size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    commit(n);
    bytes = bytes.subspan(n);
  }
}

Result<std::optional<std::span<const std::byte>>> FrameDecoder::next_frame() {
  if (failed_) return fail(Errc::frame_too_large);
  const std::size_t available = end_ - begin_;
  if (available < kFrameHeaderBytes) return std::optional<std::span<const std::byte>>();
  const std::size_t length = decode_frame_header(buffer_.data() + begin_);
  if (length > max_frame_bytes_) {
    failed_ = true;
    return fail(Errc::frame_too_large);
  }
  if (available - kFrameHeaderBytes < length) return std::optional<std::span<const std::byte>>();
  const std::span<const std::byte> body(buffer_.data() + begin_ + kFrameHeaderBytes, length);
  begin_ += kFrameHeaderBytes + length;
  CINEYMA_ASSERT(begin_ <= end_);
  return std::optional<std::span<const std::byte>>(body);
}

}  // namespace cineyma::remote
