// libFuzzer target: the frame decoder (DESIGN §5 layer 2).
//
// Input: byte 0 picks the maximum frame size, byte 1 the read pattern, the rest is the
// stream. Checks: the decoder never crashes or over-allocates, frames come out exactly as
// they were in the stream, and once it reports frame_too_large it keeps reporting it.
#include <cineyma/remote/framing.hpp>

#include <cineyma/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  using cineyma::remote::FrameDecoder;
  const std::size_t max_frame = std::size_t{1} << (data[0] % 24);  // 1 B .. 8 MiB
  const std::size_t step = 1 + data[1] % 97;                         // bytes per "read"
  const auto* stream = reinterpret_cast<const std::byte*>(data + 2);
  const std::size_t length = size - 2;

  FrameDecoder decoder(max_frame);
  std::string rebuilt;  // what the frames say the stream was
  std::size_t fed = 0;
  bool failed = false;
  while (fed < length && !failed) {
    const std::size_t n = std::min(step, length - fed);
    decoder.feed({stream + fed, n});
    fed += n;
    for (;;) {
      auto frame = decoder.next_frame();
      if (!frame) {
        CINEYMA_ASSERT(frame.is(cineyma::Errc::frame_too_large));
        CINEYMA_ASSERT(!decoder.next_frame());  // sticky
        failed = true;
        break;
      }
      if (!*frame) break;
      CINEYMA_ASSERT((*frame)->size() <= max_frame);
      CINEYMA_ASSERT(cineyma::remote::append_frame(rebuilt, **frame, max_frame));
    }
    // Memory follows the bytes received (one read chunk of slack per compaction).
    CINEYMA_ASSERT(decoder.capacity_bytes() <= fed + 2 * FrameDecoder::kReadChunkBytes);
  }
  if (!failed) {
    // Every frame handed out plus what is still buffered is exactly the stream.
    CINEYMA_ASSERT(rebuilt.size() + decoder.buffered_bytes() == length);
    CINEYMA_ASSERT(std::memcmp(rebuilt.data(), stream, rebuilt.size()) == 0);
  }
  return 0;
}
