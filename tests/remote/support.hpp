// tests/remote/support.hpp — actors, protocols and helpers shared by the remote tests.
#pragma once

#include <cineyma/remote.hpp>

#include "cineyma_test/remote_test.pb.h"
#include "support/runtime.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// The typed replies of the test messages (generated classes cannot carry `using reply`).
template <>
struct cineyma::message_reply<remote_test::Add> {
  using type = remote_test::AddResult;
};
template <>
struct cineyma::message_reply<remote_test::Echo> {
  using type = remote_test::EchoReply;
};
template <>
struct cineyma::message_reply<remote_test::Boom> {
  using type = remote_test::AddResult;
};

namespace remote_support {

using namespace std::chrono_literals;
using cineyma::Duration;
using cineyma::Endpoint;
using cineyma::Environment;
using cineyma::Task;

/// Adds its base to every sum.
class Calculator : public cineyma::Actor<Calculator> {
 public:
  explicit Calculator(int base) : base_(base) {}
  remote_test::AddResult handle(const remote_test::Add& m, Context&) {
    remote_test::AddResult r;
    r.set_value(base_ + m.a() + m.b());
    return r;
  }
  remote_test::AddResult handle(const remote_test::Boom&, Context&) {
    throw std::runtime_error("boom");
  }

 private:
  int base_;
};

/// Answers an Echo after `delay_ms` of environment time (an async handler).
class Echoer : public cineyma::Actor<Echoer> {
 public:
  Task<remote_test::EchoReply> handle(remote_test::Echo m, Context& ctx) {
    if (m.delay_ms() > 0) co_await ctx.sleep(std::chrono::milliseconds(m.delay_ms()));
    remote_test::EchoReply r;
    r.set_id(m.id());
    r.set_data(m.data());
    co_return r;
  }
};

/// Counts one-way notes.
class NoteTaker : public cineyma::Actor<NoteTaker> {
 public:
  explicit NoteTaker(std::shared_ptr<std::atomic<int>> count) : count_(std::move(count)) {}
  void handle(const remote_test::Note&, Context&) { count_->fetch_add(1); }

 private:
  std::shared_ptr<std::atomic<int>> count_;
};

using CalcProtocol = cineyma::remote::Protocol<cineyma::remote::Rpc<remote_test::Add>,
                                               cineyma::remote::Rpc<remote_test::Boom>,
                                               cineyma::remote::OneWay<remote_test::Note>>;
using EchoProtocol = cineyma::remote::Protocol<cineyma::remote::Rpc<remote_test::Echo>>;
/// Declares Ping -> Pong although no server routes Ping (for unknown_message_type).
using PingProtocol =
    cineyma::remote::Protocol<cineyma::remote::Rpc<remote_test::Ping, remote_test::Pong>>;

inline remote_test::Add add(int a, int b) {
  remote_test::Add m;
  m.set_a(a);
  m.set_b(b);
  return m;
}

/// Where a server listens on each runtime: the simulated node's own name, or loopback.
template <typename RT>
Endpoint listen_endpoint() {
  if constexpr (RT::is_sim) {
    return Endpoint{"", 0};
  } else {
    return Endpoint{"127.0.0.1", 0};
  }
}

inline cineyma::remote::HandshakeOptions identity(std::string node, std::string secret = "s3cret") {
  cineyma::remote::HandshakeOptions h;
  h.node_id = std::move(node);
  h.cluster_name = "test";
  h.secret = std::move(secret);
  return h;
}

template <typename RT>
cineyma::remote::ServerOptions server_options(std::string node) {
  cineyma::remote::ServerOptions o;
  o.listen_at = listen_endpoint<RT>();
  o.handshake = identity(std::move(node));
  return o;
}

inline cineyma::remote::ClientOptions client_options(Endpoint server, std::string node) {
  cineyma::remote::ClientOptions o;
  o.server = std::move(server);
  o.handshake = identity(std::move(node));
  return o;
}

/// Shuts a server down and waits until its connections are gone (under simulation, in virtual
/// time), so that nothing of it outlives the runtime.
template <typename RT>
void stop_server(RT& rt, cineyma::remote::RemoteServer& server) {
  server.shutdown();
  REQUIRE(rt.wait_until([&] { return server.stats().open_connections == 0; }, 10s));
  if constexpr (RT::is_sim) rt.advance(100ms);  // let the closes reach the other ends
}

/// Spawns `n` Echoers and exposes them on `server` as "echo-0" ... "echo-<n-1>".
template <typename RT>
std::vector<cineyma::Addr<Echoer>> expose_echoers(RT& rt, cineyma::remote::RemoteServer& server,
                                                  int n) {
  std::vector<cineyma::Addr<Echoer>> echoers;
  for (int i = 0; i < n; ++i) {
    echoers.push_back(rt.system().spawn(Echoer{}));
    REQUIRE(server.expose("echo-" + std::to_string(i),
                          std::move(cineyma::remote::MessageRouter().route<remote_test::Echo>(
                              echoers.back()))));
  }
  return echoers;
}

/// Runs `task` detached on the environment's executor (the first leg runs here).
inline void spawn(Environment& env, Task<void> task) {
  cineyma::remote::detail::start_detached(env.executor(), std::move(task));
}

}  // namespace remote_support
