// Framing (DESIGN §5 layer 2): round trips, split reads, the size limit checked before any
// allocation, and bounded buffer growth.
#include <cineyma/remote/framing.hpp>

#include <catch2/catch.hpp>

#include <cineyma/env/random.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using cineyma::Errc;
using cineyma::remote::FrameDecoder;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string text_of(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// Every frame the decoder yields, in order; stops at the first error (returned).
std::vector<std::string> drain(FrameDecoder& d, std::error_code* error = nullptr) {
  std::vector<std::string> frames;
  for (;;) {
    auto r = d.next_frame();
    if (!r) {
      if (error) *error = r.error();
      return frames;
    }
    if (!*r) return frames;
    frames.push_back(text_of(**r));
  }
}

std::string frame(const std::string& body) {
  std::string out;
  REQUIRE(cineyma::remote::append_frame(out, bytes_of(body)));
  return out;
}

}  // namespace

TEST_CASE("framing: the header is 4 bytes big-endian", "[remote][framing]") {
  std::byte h[4];
  cineyma::remote::encode_frame_header(0x01020304U, h);
  CHECK(h[0] == std::byte{1});
  CHECK(h[1] == std::byte{2});
  CHECK(h[2] == std::byte{3});
  CHECK(h[3] == std::byte{4});
  CHECK(cineyma::remote::decode_frame_header(h) == 0x01020304U);
  CHECK(frame("abc") == std::string("\0\0\0\3abc", 7));
}

TEST_CASE("framing: frames survive being split at every byte", "[remote][framing]") {
  const std::vector<std::string> bodies = {"", "x", std::string(300, 'y'), "hello", ""};
  std::string stream;
  for (const auto& b : bodies) stream += frame(b);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    std::vector<std::string> got;
    d.feed(bytes_of(stream.substr(0, cut)));
    for (auto& f : drain(d)) got.push_back(f);
    d.feed(bytes_of(stream.substr(cut)));
    for (auto& f : drain(d)) got.push_back(f);
    REQUIRE(got == bodies);
    REQUIRE(d.buffered_bytes() == 0);
  }
}

TEST_CASE("framing: one byte at a time, random bodies", "[remote][framing]") {
  cineyma::Prng rng(7);
  std::vector<std::string> bodies;
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    std::string b(rng.below(2000), '\0');
    for (char& c : b) c = static_cast<char>(rng.below(256));
    stream += frame(b);
    bodies.push_back(std::move(b));
  }
  FrameDecoder d;
  std::vector<std::string> got;
  for (char c : stream) {
    d.feed(bytes_of(std::string(1, c)));
    for (auto& f : drain(d)) got.push_back(f);
  }
  CHECK(got == bodies);
}

TEST_CASE("framing: a length above the maximum fails before allocating, and stays failed",
          "[remote][framing]") {
  FrameDecoder d(1000);
  d.feed(bytes_of(frame(std::string(1000, 'a'))));  // exactly the maximum is fine
  std::error_code ec;
  CHECK(drain(d, &ec).size() == 1);
  CHECK(!ec);

  const std::size_t capacity_before = d.capacity_bytes();
  d.feed(bytes_of(std::string("\xff\xff\xff\xff", 4)));  // announces 4 GiB - 1
  CHECK(drain(d, &ec).empty());
  CHECK(ec == cineyma::make_error_code(Errc::frame_too_large));
  CHECK(d.capacity_bytes() == capacity_before);  // nothing was reserved for the body
  d.feed(bytes_of(frame("fine")));
  CHECK(drain(d, &ec).empty());  // sticky: the stream is out of sync for good
  CHECK(ec == cineyma::make_error_code(Errc::frame_too_large));

  FrameDecoder e(1000);
  e.feed(bytes_of(std::string("\0\0\x03\xe9", 4)));  // 1001
  CHECK(drain(e, &ec).empty());
  CHECK(ec == cineyma::make_error_code(Errc::frame_too_large));
}

TEST_CASE("framing: memory follows received bytes, not announced lengths", "[remote][framing]") {
  // A 16 MiB frame announced, 10 bytes sent: the buffer stays at one read chunk.
  FrameDecoder d;
  d.feed(bytes_of(std::string("\x01\x00\x00\x00", 4) + std::string(10, 'z')));
  std::error_code ec;
  CHECK(drain(d, &ec).empty());
  CHECK(!ec);
  CHECK(d.capacity_bytes() <= FrameDecoder::kReadChunkBytes * 2);

  // A long-lived connection with many small frames does not accumulate.
  FrameDecoder e;
  for (int i = 0; i < 10000; ++i) {
    e.feed(bytes_of(frame(std::string(100, 'q'))));
    REQUIRE(drain(e).size() == 1);
  }
  CHECK(e.capacity_bytes() <= FrameDecoder::kReadChunkBytes * 2);
}

TEST_CASE("framing: append_frame refuses what the peer would refuse", "[remote][framing]") {
  std::string out = "keep";
  const std::string body(101, 'b');
  auto r = cineyma::remote::append_frame(out, bytes_of(body), 100);
  CHECK(r.is(Errc::frame_too_large));
  CHECK(out == "keep");
}
