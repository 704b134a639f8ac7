// bench/remote_bench.cpp — remote actors on loopback TCP, against a raw TCP ping-pong measured
// in the same run (tcp_pingpong.hpp).
//
//   cineyma_bench_remote [--rounds=N] [--pipelined=N] [--workers=N] [--skip-serialization]
//                        [--peer_lines]
//
// 1. Round trip: a client process calls an echo actor in a server process (fork, loopback,
//    handshake with a shared secret), one call at a time, from a plain thread (`.get()`), with
//    a 64-byte payload; median and p99 per call. The raw ping-pong (two processes, blocking
//    sockets, TCP_NODELAY, 64 bytes) runs first, then the reactor-shaped one (the same with
//    epoll io threads and a caller polling a flag) and the polling one (an epoll server, and a
//    caller polling its own socket, as our blocking call does), and the ratios are printed.
// 2. Pipelined throughput: 100 actors in the client each run calls back to back (`co_await`),
//    so 100 requests are in flight on the one connection at all times; requests per second.
// 3. Serialization (the original's table, SPEC §8.4, but of whole envelopes): a BenchRequest
//    with a 64 B / 1 KiB / 16 KiB / 256 KiB payload encoded into a frame (message + envelope
//    + length prefix) and decoded back (envelope + message); ns per operation and MiB/s.
//
// Every answer is checked (id and payload size); a wrong one aborts the run.
//
// --peer_lines also prints the figures as `SAMPLE <system> <workload> <value>` lines for
// bench/peers/run.sh: `raw_tcp remote_rtt_us` (the floor), `reactor_tcp remote_rtt_us`,
// `polling_tcp remote_rtt_us`, `cineyma remote_rtt_us`,
// `cineyma remote_rtt_p99_us`, `cineyma remote_pipelined_rps`.
#include "tcp_pingpong.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/remote.hpp>

#include "cineyma_bench/bench.pb.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

template <>
struct cineyma::message_reply<cineyma_bench::BenchRequest> {
  using type = cineyma_bench::BenchResponse;
};

namespace {

using namespace std::chrono_literals;
using cineyma_bench::BenchRequest;
using cineyma_bench::BenchResponse;
using Clock = std::chrono::steady_clock;
using Protocol = cineyma::remote::Protocol<cineyma::remote::Rpc<BenchRequest>>;

constexpr const char* kSecret = "bench-secret";

struct Options {
  std::size_t rounds = 20000;
  std::size_t pipelined_calls = 300000;
  std::size_t workers = 2;
  bool serialization = true;
  bool peer_lines = false;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "remote_bench: %s\n", what);
  std::exit(1);
}

class EchoActor : public cineyma::Actor<EchoActor> {
 public:
  BenchResponse handle(const BenchRequest& m, Context&) {
    BenchResponse r;
    r.set_request_id(m.request_id());
    r.set_payload(m.payload());
    return r;
  }
};

cineyma::remote::HandshakeOptions identity(const char* node) {
  cineyma::remote::HandshakeOptions h;
  h.node_id = node;
  h.cluster_name = "bench";
  h.secret = kSecret;
  return h;
}

/// The server process: serves until the parent closes `stop_fd`.
int run_server(const Options& o, int port_fd, int stop_fd) {
  cineyma::RealEnvironment env{{.worker_threads = o.workers, .seed = 0, .name = "server"}};
  cineyma::ActorSystem system(env);
  auto echo = system.spawn(EchoActor{});
  // Two servers for the same actor: the default, and one that hands every request to a
  // worker (inline_dispatch off), so the hand-off's cost stays measured beside it.
  std::uint16_t ports[2] = {0, 0};
  std::vector<std::unique_ptr<cineyma::remote::RemoteServer>> servers;
  for (int i = 0; i < 2; ++i) {
    cineyma::remote::ServerOptions so;
    so.handshake = identity("server");
    so.inline_dispatch = i == 0;
    servers.push_back(std::make_unique<cineyma::remote::RemoteServer>(env, so));
    cineyma::remote::MessageRouter router;
    router.route<BenchRequest>(echo);
    if (!servers.back()->expose("echo", std::move(router))) die("expose");
    auto at = servers.back()->start();
    if (!at) die("server start");
    ports[i] = at->port;
  }
  if (::write(port_fd, ports, sizeof ports) != sizeof ports) die("write port");
  char c;
  while (::read(stop_fd, &c, 1) > 0) {
  }
  for (auto& s : servers) s->shutdown();
  (void)system.shutdown();
  return 0;
}

/// Each Drive makes an actor run `calls` calls back to back, then count itself done.
struct Drive {
  std::size_t calls;
};

class Driver : public cineyma::Actor<Driver> {
 public:
  Driver(cineyma::remote::RemoteAddr<Protocol> remote, std::shared_ptr<std::atomic<int>> left,
         std::shared_ptr<cineyma::BlockingEvent> all_done)
      : remote_(std::move(remote)), left_(std::move(left)), all_done_(std::move(all_done)) {}
  cineyma::Task<void> handle(Drive d, Context&) {
    BenchRequest req;
    req.set_payload(std::string(64, '\x42'));
    for (std::size_t i = 0; i < d.calls; ++i) {
      req.set_request_id(i);
      auto r = co_await remote_.call(req);
      if (!r || r->request_id() != i) die("pipelined call failed or answered wrongly");
    }
    if (left_->fetch_sub(1) == 1) all_done_->set();
  }

 private:
  cineyma::remote::RemoteAddr<Protocol> remote_;
  std::shared_ptr<std::atomic<int>> left_;
  std::shared_ptr<cineyma::BlockingEvent> all_done_;
};

/// One call at a time from this (plain) thread: the per-call latencies.
cineyma_bench::LatencyStats round_trips(cineyma::remote::RemoteAddr<Protocol>& remote,
                                   std::size_t rounds) {
  BenchRequest req;
  req.set_payload(std::string(64, '\x42'));
  std::vector<double> us;
  us.reserve(rounds);
  const std::size_t warmup = rounds / 10;
  for (std::size_t i = 0; i < warmup + rounds; ++i) {
    req.set_request_id(i);
    const auto t0 = Clock::now();
    auto r = remote.call(req).get();
    const auto t1 = Clock::now();
    if (!r || r->request_id() != i || r->payload().size() != 64) die("call failed");
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return cineyma_bench::summarize(std::move(us));
}

cineyma::remote::ClientOptions client_options(std::uint16_t port) {
  cineyma::remote::ClientOptions co;
  co.server = {"127.0.0.1", port};
  co.handshake = identity("client");
  return co;
}

void run_client(const Options& o, const std::uint16_t (&ports)[2]) {
  cineyma::RealEnvironment env{{.worker_threads = o.workers, .seed = 0, .name = "client"}};
  cineyma::ActorSystem system(env);
  cineyma::remote::RemoteClient client(env, client_options(ports[0]));
  if (!client.connect().get()) die("connect");
  auto remote = client.remote_addr<Protocol>("echo");

  // ---- 1. round trip from a plain thread -----------------------------------------------------
  const auto rtt = round_trips(remote, o.rounds);
  std::printf("cineyma remote call, 64 B, two processes, .get() from a plain thread: %zu calls, "
              "median %.1f us, p99 %.1f us, mean %.1f us\n",
              rtt.samples, rtt.median_us, rtt.p99_us, rtt.mean_us);
  if (o.peer_lines) {
    std::printf("SAMPLE cineyma remote_rtt_us %.3f\nSAMPLE cineyma remote_rtt_p99_us %.3f\n",
                rtt.median_us, rtt.p99_us);
  }
  {
    // The same against the server that hands each request to a worker.
    cineyma::remote::RemoteClient other(env, client_options(ports[1]));
    if (!other.connect().get()) die("connect");
    auto on_worker = other.remote_addr<Protocol>("echo");
    const auto w = round_trips(on_worker, o.rounds);
    std::printf("  ... the server handing each request to a worker (inline_dispatch off): "
                "median %.1f us, p99 %.1f us\n",
                w.median_us, w.p99_us);
    other.close();
  }
  std::fflush(stdout);

  // ---- 2. pipelined, 100 in flight -----------------------------------------------------------
  constexpr int kInFlight = 100;
  const std::size_t per_driver = o.pipelined_calls / kInFlight;
  auto left = std::make_shared<std::atomic<int>>(kInFlight);
  auto all_done = std::make_shared<cineyma::BlockingEvent>();
  std::vector<cineyma::Addr<Driver>> drivers;
  for (int i = 0; i < kInFlight; ++i) drivers.push_back(system.spawn(Driver{remote, left, all_done}));
  const auto t0 = Clock::now();
  for (auto& d : drivers) {
    if (!d.try_send(Drive{per_driver})) die("drive");
  }
  env.executor().block_until(*all_done, std::nullopt);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double total = static_cast<double>(per_driver * kInFlight);
  std::printf("cineyma remote pipelined, 100 in flight on one connection: %.0f calls in %.3f s "
              "= %.0f req/s\n",
              total, seconds, total / seconds);
  if (o.peer_lines) std::printf("SAMPLE cineyma remote_pipelined_rps %.0f\n", total / seconds);
  std::fflush(stdout);
  client.close();
  (void)system.shutdown();
}

/// Median over 5 batches of ns per call of `fn`, batches of about 20 ms.
template <typename F>
double ns_per_op(F&& fn) {
  std::size_t n = 1;
  for (;;) {  // calibrate
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) fn();
    if (Clock::now() - t0 > 20ms) break;
    n *= 2;
  }
  std::vector<double> batches;
  for (int b = 0; b < 5; ++b) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) fn();
    batches.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                      static_cast<double>(n));
  }
  std::sort(batches.begin(), batches.end());
  return batches[2];
}

void serialization_table() {
  std::printf("\nenvelope serialization (BenchRequest in an envelope in a frame; median of 5):\n");
  std::printf("%10s %14s %14s %14s %12s %12s\n", "payload", "encode", "decode", "round trip",
              "encode MiB/s", "decode MiB/s");
  for (std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{16384},
                           std::size_t{262144}}) {
    BenchRequest msg;
    msg.set_request_id(12345);
    msg.set_payload(std::string(size, '\x42'));
    auto encode = [&msg](std::string& out) {
      cineyma::remote::Envelope e;
      e.message_type = cineyma::remote::message_type_name<BenchRequest>();
      e.payload = msg.SerializeAsString();
      e.correlation_id = 7;
      e.sender_node = "client";
      e.target_actor = "echo";
      out.clear();
      if (!cineyma::remote::append_envelope_frame(out, e, cineyma::remote::kDefaultMaxFrameBytes)) {
        die("encode");
      }
    };
    auto decode = [](const std::string& frame) {
      auto body = std::as_bytes(std::span<const char>(frame.data(), frame.size()))
                      .subspan(cineyma::remote::kFrameHeaderBytes);
      auto e = cineyma::remote::decode_envelope(body);
      if (!e) die("decode envelope");
      BenchRequest m;
      if (!m.ParseFromString(e->payload) || m.request_id() != 12345) die("decode message");
    };
    std::string frame;
    encode(frame);
    std::string scratch;
    const double enc = ns_per_op([&] { encode(scratch); });
    const double dec = ns_per_op([&] { decode(frame); });
    const double both = ns_per_op([&] {
      encode(scratch);
      decode(scratch);
    });
    const double mib = static_cast<double>(size) / (1024.0 * 1024.0);
    std::printf("%10zu %11.0f ns %11.0f ns %11.0f ns %12.0f %12.0f\n", size, enc, dec, both,
                mib / (enc * 1e-9), mib / (dec * 1e-9));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* prefix) -> const char* {
      return a.rfind(prefix, 0) == 0 ? a.c_str() + std::strlen(prefix) : nullptr;
    };
    if (const char* v = value("--rounds=")) {
      o.rounds = std::strtoull(v, nullptr, 10);
    } else if (const char* v2 = value("--pipelined=")) {
      o.pipelined_calls = std::strtoull(v2, nullptr, 10);
    } else if (const char* v3 = value("--workers=")) {
      o.workers = std::strtoull(v3, nullptr, 10);
    } else if (a == "--skip-serialization") {
      o.serialization = false;
    } else if (a == "--peer_lines") {
      o.peer_lines = true;
    } else {
      std::fprintf(stderr, "usage: %s [--rounds=N] [--pipelined=N] [--workers=N] "
                   "[--skip-serialization] [--peer_lines]\n", argv[0]);
      return 2;
    }
  }

  // The baseline first, before any thread exists in this process (fork).
  const auto raw = cineyma_bench::raw_tcp_pingpong(o.rounds, o.rounds / 10, 64);
  std::printf("raw TCP ping-pong, 64 B, two processes, TCP_NODELAY: %zu round trips, "
              "median %.1f us, p99 %.1f us, mean %.1f us\n",
              raw.samples, raw.median_us, raw.p99_us, raw.mean_us);
  if (o.peer_lines) std::printf("SAMPLE raw_tcp remote_rtt_us %.3f\n", raw.median_us);
  // The same with a reactor's thread structure and nothing else (tcp_pingpong.hpp): what the
  // structure costs before any of our code runs.
  const auto reactor = cineyma_bench::reactor_tcp_pingpong(o.rounds, o.rounds / 10, 64);
  std::printf("reactor-shaped TCP ping-pong (epoll io threads, the caller polling a flag, no "
              "framework): %zu round trips, median %.1f us (%.2fx the raw), p99 %.1f us\n",
              reactor.samples, reactor.median_us, reactor.median_us / raw.median_us,
              reactor.p99_us);
  if (o.peer_lines) std::printf("SAMPLE reactor_tcp remote_rtt_us %.3f\n", reactor.median_us);
  // And with the structure our blocking call has: the caller polls its own socket.
  const auto polling = cineyma_bench::polling_tcp_pingpong(o.rounds, o.rounds / 10, 64);
  std::printf("polling TCP ping-pong (the caller polling its socket 50 us, then poll(2); an "
              "epoll server; no framework): %zu round trips, median %.1f us (%.2fx the raw), "
              "p99 %.1f us\n",
              polling.samples, polling.median_us, polling.median_us / raw.median_us,
              polling.p99_us);
  if (o.peer_lines) std::printf("SAMPLE polling_tcp remote_rtt_us %.3f\n", polling.median_us);
  std::fflush(stdout);

  int port_pipe[2], stop_pipe[2];
  if (::pipe(port_pipe) != 0 || ::pipe(stop_pipe) != 0) die("pipe");
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(port_pipe[0]);
    ::close(stop_pipe[1]);
    return run_server(o, port_pipe[1], stop_pipe[0]);
  }
  ::close(port_pipe[1]);
  ::close(stop_pipe[0]);
  std::uint16_t ports[2] = {0, 0};
  if (::read(port_pipe[0], ports, sizeof ports) != sizeof ports) die("read port");
  run_client(o, ports);
  ::close(stop_pipe[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (o.serialization) serialization_table();
  return 0;
}
