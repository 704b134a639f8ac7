// bench/tcp_pingpong.hpp — the baseline of the remote benchmarks: a raw blocking-socket TCP
// ping-pong between two processes, no framework at all.
//
// The child process accepts one connection and echoes fixed-size messages; the parent sends
// one, waits for the echo, and times each round trip. TCP_NODELAY on both ends (our transport
// sets it too), blocking read/write, loopback. Whatever this costs is the floor that any
// framework round trip on the same machine pays; the remote benchmark reports itself against
// it, measured in the same run.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cineyma_bench {

struct LatencyStats {
  std::size_t samples = 0;
  double median_us = 0;
  double p99_us = 0;
  double mean_us = 0;
};

inline LatencyStats summarize(std::vector<double> us) {
  LatencyStats s;
  s.samples = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  s.median_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  double sum = 0;
  for (double v : us) sum += v;
  s.mean_us = sum / static_cast<double>(us.size());
  return s;
}

namespace pingpong_detail {
inline bool read_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}
inline bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::write(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}
inline void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
}  // namespace pingpong_detail

/// Runs `warmup + rounds` round trips of `message_bytes` and returns the timed ones' stats.
/// Exits the process on a socket error (a benchmark with a broken baseline means nothing).
inline LatencyStats raw_tcp_pingpong(std::size_t rounds, std::size_t warmup,
                                     std::size_t message_bytes) {
  using namespace pingpong_detail;
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("pingpong: listen");
    std::exit(1);
  }
  const pid_t child = ::fork();
  if (child == 0) {  // echo server
    const int fd = ::accept(listener, nullptr, nullptr);
    no_delay(fd);
    std::vector<char> buf(message_bytes);
    while (read_all(fd, buf.data(), buf.size()) && write_all(fd, buf.data(), buf.size())) {
    }
    ::_exit(0);
  }
  ::close(listener);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("pingpong: connect");
    std::exit(1);
  }
  no_delay(fd);
  std::vector<char> out(message_bytes, 'x'), in(message_bytes);
  std::vector<double> us;
  us.reserve(rounds);
  for (std::size_t i = 0; i < warmup + rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!write_all(fd, out.data(), out.size()) || !read_all(fd, in.data(), in.size())) {
      std::perror("pingpong: round trip");
      std::exit(1);
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  ::close(fd);
  int status = 0;
  ::waitpid(child, &status, 0);
  return summarize(std::move(us));
}

}  // namespace cineyma_bench
