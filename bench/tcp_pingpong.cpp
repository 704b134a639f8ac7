// bench/tcp_pingpong.cpp — the raw TCP ping-pong baseline on its own, and its reactor-shaped
// and polling variants (see tcp_pingpong.hpp).
//
//   cineyma_bench_tcp_pingpong [rounds=20000] [message_bytes=64]
#include "tcp_pingpong.hpp"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const std::size_t rounds = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const std::size_t bytes = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  const auto s = cineyma_bench::raw_tcp_pingpong(rounds, rounds / 10, bytes);
  std::printf("raw TCP ping-pong, %zu B, two processes, TCP_NODELAY: %zu round trips, "
              "median %.1f us, p99 %.1f us, mean %.1f us\n",
              bytes, s.samples, s.median_us, s.p99_us, s.mean_us);
  const auto r = cineyma_bench::reactor_tcp_pingpong(rounds, rounds / 10, bytes);
  std::printf("reactor-shaped TCP ping-pong (epoll io threads, the caller polling a flag), %zu B: "
              "%zu round trips, median %.1f us (%.2fx the raw), p99 %.1f us, mean %.1f us\n",
              bytes, r.samples, r.median_us, r.median_us / s.median_us, r.p99_us, r.mean_us);
  const auto q = cineyma_bench::polling_tcp_pingpong(rounds, rounds / 10, bytes);
  std::printf("polling TCP ping-pong (the caller polling its socket, then poll(2)), %zu B: "
              "%zu round trips, median %.1f us (%.2fx the raw), p99 %.1f us, mean %.1f us\n",
              bytes, q.samples, q.median_us, q.median_us / s.median_us, q.p99_us, q.mean_us);
  return 0;
}
