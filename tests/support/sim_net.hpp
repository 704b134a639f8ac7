// tests/support/sim_net.hpp — helpers for tests of the simulated transport: a stream end that
// records what it reads and when, and a connect-and-accept helper.
#pragma once

#include <cineyma/sim/simulation.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace cineyma::test {

/// One end of a connection plus a reader that keeps reading until an error, remembering the
/// bytes, the error and when each arrived (on the owning node's clock).
struct StreamEnd {
  struct Log {
    std::string received;
    std::vector<TimePoint> arrivals;  ///< one entry per completed read
    std::optional<std::error_code> error;
    std::optional<TimePoint> error_at;
    bool reading = false;
  };

  std::unique_ptr<ByteStream> stream;
  sim::Node* node = nullptr;
  std::shared_ptr<Log> log = std::make_shared<Log>();
  std::shared_ptr<std::vector<std::byte>> buffer = std::make_shared<std::vector<std::byte>>(64);

  /// Starts the read loop (once). The loop stops at the first error.
  void start_reading() {
    if (log->reading) return;
    log->reading = true;
    read_next(stream.get(), node, log, buffer);
  }
  /// Writes `text`; the completion result is stored in `*result` when given.
  void write(const std::string& text, std::shared_ptr<std::optional<Result<void>>> result = {}) {
    auto bytes = std::make_shared<std::vector<std::byte>>();
    for (const char c : text) bytes->push_back(static_cast<std::byte>(c));
    stream->async_write(*bytes, [bytes, result](Result<void> r) {
      if (result) *result = r;
    });
  }

 private:
  static void read_next(ByteStream* s, sim::Node* n, std::shared_ptr<Log> log,
                        std::shared_ptr<std::vector<std::byte>> buffer) {
    s->async_read_some(*buffer, [s, n, log, buffer](Result<std::size_t> r) {
      const TimePoint now = n->environment().clock().now();
      if (!r) {
        log->error = r.error();
        log->error_at = now;
        return;
      }
      for (std::size_t i = 0; i < *r; ++i) log->received.push_back(static_cast<char>((*buffer)[i]));
      log->arrivals.push_back(now);
      read_next(s, n, log, buffer);
    });
  }
};

/// A connection from `client` to a fresh listener on `server` (port `port`), both ends
/// reading. The listener is closed once the connection is accepted. Requires that the
/// connection can be made within `deadline` of virtual time.
struct Connected {
  StreamEnd client;
  StreamEnd server;
  bool ok = false;
};

inline Connected connect_pair(sim::Simulation& sim, sim::Node& client, sim::Node& server,
                              std::uint16_t port, Duration deadline = std::chrono::seconds(5)) {
  Connected c;
  c.client.node = &client;
  c.server.node = &server;
  auto listener = server.environment().transport().listen({server.name(), port});
  if (!listener) return c;
  auto accepted = std::make_shared<std::unique_ptr<ByteStream>>();
  auto connected = std::make_shared<std::unique_ptr<ByteStream>>();
  auto failed = std::make_shared<bool>(false);
  (*listener)->async_accept([accepted, failed](Result<std::unique_ptr<ByteStream>> r) {
    if (r) *accepted = std::move(*r); else *failed = true;
  });
  client.environment().transport().async_connect(
      {server.name(), port}, [connected, failed](Result<std::unique_ptr<ByteStream>> r) {
        if (r) *connected = std::move(*r); else *failed = true;
      });
  sim.run_until([&] { return (*accepted && *connected) || *failed; }, deadline);
  (*listener).reset();
  if (!*accepted || !*connected) {
    // Let the listener's aborted accept run while its captures are alive.
    sim.run_for(std::chrono::milliseconds(1));
    return c;
  }
  c.client.stream = std::move(*connected);
  c.server.stream = std::move(*accepted);
  c.client.start_reading();
  c.server.start_reading();
  c.ok = true;
  return c;
}

}  // namespace cineyma::test
