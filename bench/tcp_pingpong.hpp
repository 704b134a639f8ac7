// bench/tcp_pingpong.hpp — the baseline of the remote benchmarks: a raw blocking-socket TCP
// ping-pong between two processes, no framework at all.
//
// The child process accepts one connection and echoes fixed-size messages; the parent sends
// one, waits for the echo, and times each round trip. TCP_NODELAY on both ends (our transport
// sets it too), blocking read/write, loopback. Whatever this costs is the floor that any
// framework round trip on the same machine pays; the remote benchmark reports itself against
// it, measured in the same run.
//
// `reactor_tcp_pingpong` is the same exchange with the thread structure of a reactor-based
// runtime such as ours (see there) and no framework code: it separates what that structure
// costs from what our code adds on top of it. `polling_tcp_pingpong` has the structure of our
// blocking call as it is now — the caller polls its socket — again without framework code.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

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

struct Pair {
  int fd = -1;       // the client's end, connected, TCP_NODELAY
  pid_t child = -1;  // the echo server process
};

/// Forks an echo server that runs `serve(fd)` on the one connection it accepts, and connects
/// to it. Exits the process on a socket error (a benchmark with a broken baseline means
/// nothing).
template <typename Serve>
Pair fork_echo_server(Serve serve) {
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
  if (child == 0) {
    const int fd = ::accept(listener, nullptr, nullptr);
    no_delay(fd);
    serve(fd);
    ::_exit(0);
  }
  ::close(listener);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("pingpong: connect");
    std::exit(1);
  }
  no_delay(fd);
  return Pair{fd, child};
}

inline void set_non_blocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Reads `message_bytes`-sized messages from `fd` the way Asio's reactor does: the socket is
/// non-blocking and in an edge-triggered epoll set; after each wake-up it is read until EAGAIN
/// (the speculative read included). Calls `on_message(data)` for each complete message and
/// returns when the connection ends or `on_message` returns false.
template <typename OnMessage>
void reactor_read_loop(int fd, std::size_t message_bytes, OnMessage on_message) {
  set_non_blocking(fd);
  const int ep = ::epoll_create1(0);
  epoll_event interest{};
  interest.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  interest.data.fd = fd;
  if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &interest) != 0) {
    std::perror("pingpong: epoll");
    std::exit(1);
  }
  std::vector<char> buf(message_bytes);
  std::size_t got = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, buf.data() + got, buf.size() - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
      if (got == buf.size()) {
        got = 0;
        if (!on_message(buf.data())) break;
      }
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && errno == EAGAIN) {
      epoll_event ready;
      ::epoll_wait(ep, &ready, 1, -1);
    } else {
      break;  // end of stream or an error
    }
  }
  ::close(ep);
}

/// Times `warmup + rounds` calls of `round_trip()` (false: the connection failed).
template <typename RoundTrip>
LatencyStats time_rounds(std::size_t rounds, std::size_t warmup, RoundTrip round_trip) {
  std::vector<double> us;
  us.reserve(rounds);
  for (std::size_t i = 0; i < warmup + rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!round_trip()) {
      std::perror("pingpong: round trip");
      std::exit(1);
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return summarize(std::move(us));
}

inline void finish(Pair& p) {
  ::close(p.fd);
  int status = 0;
  ::waitpid(p.child, &status, 0);
}
}  // namespace pingpong_detail

/// Runs `warmup + rounds` round trips of `message_bytes` and returns the timed ones' stats.
/// Exits the process on a socket error (a benchmark with a broken baseline means nothing).
inline LatencyStats raw_tcp_pingpong(std::size_t rounds, std::size_t warmup,
                                     std::size_t message_bytes) {
  using namespace pingpong_detail;
  Pair p = fork_echo_server([message_bytes](int fd) {
    std::vector<char> buf(message_bytes);
    while (read_all(fd, buf.data(), buf.size()) && write_all(fd, buf.data(), buf.size())) {
    }
  });
  std::vector<char> out(message_bytes, 'x'), in(message_bytes);
  const LatencyStats s = time_rounds(rounds, warmup, [&] {
    return write_all(p.fd, out.data(), out.size()) && read_all(p.fd, in.data(), in.size());
  });
  finish(p);
  return s;
}

/// The same ping-pong with the thread structure of a reactor-based runtime, and nothing else:
/// no framing, no codec, no locks, no allocation. What a framework built like ours pays on top
/// of the raw floor just for that structure.
///
/// * Server: one thread waits in `epoll_wait` (edge-triggered), reads until EAGAIN — Asio's
///   speculative read, one `recv` more than the raw server per message — and answers.
/// * Client: the caller sends and polls a flag (`pause` x 32, then `sched_yield`, for up to
///   50 us, then a futex wait: cineyma's `block_until`); an io thread waits in `epoll_wait`,
///   reads until EAGAIN, and sets the flag.
inline LatencyStats reactor_tcp_pingpong(std::size_t rounds, std::size_t warmup,
                                         std::size_t message_bytes) {
  using namespace pingpong_detail;
  Pair p = fork_echo_server([message_bytes](int fd) {
    reactor_read_loop(fd, message_bytes, [fd, message_bytes](const char* data) {
      return write_all(fd, data, message_bytes);  // 64 B: never partial here
    });
  });
  set_non_blocking(p.fd);  // the io thread's loop sets it too; here before the first write
  std::atomic<std::uint32_t> answered{0};
  std::thread io([&] {
    reactor_read_loop(p.fd, message_bytes, [&answered](const char*) {
      answered.store(1, std::memory_order_release);
      answered.notify_one();
      return true;
    });
    answered.store(2, std::memory_order_release);  // the end: release the caller
    answered.notify_one();
  });
  std::vector<char> out(message_bytes, 'x');
  const LatencyStats s = time_rounds(rounds, warmup, [&] {
    if (answered.exchange(0, std::memory_order_acq_rel) == 2) return false;  // the peer left
    if (!write_all(p.fd, out.data(), out.size())) return false;
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (answered.load(std::memory_order_acquire) == 0 &&
           std::chrono::steady_clock::now() < spin_until) {
      for (int i = 0; i < 32 && answered.load(std::memory_order_acquire) == 0; ++i) {
#if defined(__x86_64__)
        __builtin_ia32_pause();  // the only target we measure on; elsewhere a bare poll
#endif
      }
      if (answered.load(std::memory_order_acquire) == 0) ::sched_yield();
    }
    answered.wait(0, std::memory_order_acquire);
    return answered.load(std::memory_order_acquire) == 1;
  });
  ::shutdown(p.fd, SHUT_RDWR);  // the io thread sees the end and leaves
  io.join();
  finish(p);
  return s;
}

/// The ping-pong with the client shaped like cineyma's blocking remote call, whose caller
/// reads its own answer (src/asio/transport.hpp, `read_here`), and nothing else:
///
/// * Server: the reactor-shaped server above (an edge-triggered epoll thread).
/// * Client: the caller sends, then polls its non-blocking socket — recv(2), and
///   `sched_yield` between attempts — for up to 50 us, then sleeps in poll(2) until readable.
///
/// The raw floor's client sleeps in a blocking recv(2) at once; on a VM whose idle CPUs wake
/// slowly, a client that keeps its CPU busy for the few tens of microseconds an answer takes
/// can be faster than that floor. This figure says how much of our result comes from the
/// polling alone.
inline LatencyStats polling_tcp_pingpong(std::size_t rounds, std::size_t warmup,
                                         std::size_t message_bytes) {
  using namespace pingpong_detail;
  Pair p = fork_echo_server([message_bytes](int fd) {
    reactor_read_loop(fd, message_bytes, [fd, message_bytes](const char* data) {
      return write_all(fd, data, message_bytes);
    });
  });
  set_non_blocking(p.fd);
  std::vector<char> out(message_bytes, 'x'), in(message_bytes);
  const LatencyStats s = time_rounds(rounds, warmup, [&] {
    if (!write_all(p.fd, out.data(), out.size())) return false;
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    std::size_t got = 0;
    while (got < message_bytes) {
      const ssize_t r = ::recv(p.fd, in.data() + got, message_bytes - got, 0);
      if (r > 0) {
        got += static_cast<std::size_t>(r);
      } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (std::chrono::steady_clock::now() < spin_until) {
          ::sched_yield();
        } else {
          pollfd ready{p.fd, POLLIN, 0};
          ::poll(&ready, 1, -1);
        }
      } else {
        return false;
      }
    }
    return true;
  });
  finish(p);
  return s;
}

}  // namespace cineyma_bench
