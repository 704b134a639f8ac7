// cineyma/remote/framing.hpp — length-prefixed frames over a byte stream (DESIGN §5, layer 2).
//
// A frame is a 4-byte big-endian length followed by that many bytes of body. The decoder is
// incremental and does no I/O: the connection reads straight into `read_buffer()`, commits
// what arrived, and takes complete frames out with `next_frame()`. It checks every announced
// length against the configured maximum *before* making room for the body, and grows its
// buffer only as bytes actually arrive, so a peer that announces 4 GiB and sends nothing costs
// a read chunk, not 4 GiB. A length above the maximum is sticky: the stream is out of sync and
// the connection must be closed (`Errc::frame_too_large`).
//
// Length 0 is a valid frame (an empty body).
//
// Threading: a FrameDecoder is a plain value owned by one connection; it is not thread-safe.
#pragma once

#include <cineyma/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cineyma::remote {

/// Size of the length prefix.
inline constexpr std::size_t kFrameHeaderBytes = 4;
/// Default maximum body size of one frame: 16 MiB.
inline constexpr std::size_t kDefaultMaxFrameBytes = std::size_t{16} << 20;
/// Largest maximum one can configure: the prefix is 32 bits.
inline constexpr std::size_t kLargestMaxFrameBytes = 0xffffffffU;

/// Writes `length` as 4 big-endian bytes at `out`.
void encode_frame_header(std::uint32_t length, std::byte* out) noexcept;
/// Reads 4 big-endian bytes at `in`.
std::uint32_t decode_frame_header(const std::byte* in) noexcept;

/// Appends one frame (header + `body`) to `out`. Fails with `frame_too_large` (and appends
/// nothing) when `body` is longer than `max_frame_bytes`: a sender never emits a frame its
/// peer would have to refuse.
Result<void> append_frame(std::string& out, std::span<const std::byte> body,
                          std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

/// Splits a byte stream into frames (see the file comment).
class FrameDecoder {
 public:
  /// Most bytes offered to one read: the buffer grows by at most this much ahead of the data.
  static constexpr std::size_t kReadChunkBytes = std::size_t{64} << 10;
  /// Bytes offered to a read when no frame in progress needs more: an idle connection costs
  /// this much, so thousands of them stay cheap.
  static constexpr std::size_t kMinReadBytes = std::size_t{4} << 10;

  /// `max_frame_bytes` in [0, kLargestMaxFrameBytes] (assertion).
  explicit FrameDecoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

  /// Free space at the end of the buffer to read into (never empty). Invalidates every span
  /// returned earlier by `next_frame()`.
  std::span<std::byte> read_buffer();
  /// Records that the first `n` bytes of the last `read_buffer()` were filled.
  void commit(std::size_t n) noexcept;
  /// Copies `bytes` in (for tests and fuzzers; the connection reads in place instead).
  void feed(std::span<const std::byte> bytes);

  /// The next complete frame's body, `std::nullopt` when more bytes are needed, or
  /// `frame_too_large` (sticky) when the next frame announces more than the maximum. The span
  /// stays valid until the next `read_buffer()` / `feed()`.
  Result<std::optional<std::span<const std::byte>>> next_frame();

  /// Bytes received but not yet returned as frames.
  std::size_t buffered_bytes() const noexcept { return end_ - begin_; }
  /// Bytes currently allocated for the buffer (for memory-bound tests).
  std::size_t capacity_bytes() const noexcept { return buffer_.size(); }
  std::size_t max_frame_bytes() const noexcept { return max_frame_bytes_; }
  /// Changes the limit for the frames not yet returned (a connection raises it once the peer
  /// has authenticated). Same range as the constructor's.
  void set_max_frame_bytes(std::size_t max_frame_bytes) noexcept;

 private:
  std::size_t max_frame_bytes_;
  std::vector<std::byte> buffer_;  // [begin_, end_) holds undelivered bytes
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool failed_ = false;
  bool last_read_filled_ = false;  // the peer is sending faster than we read: read bigger
};

}  // namespace cineyma::remote
