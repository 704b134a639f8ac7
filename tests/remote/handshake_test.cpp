// Handshake (DESIGN §5 layer 3), without I/O: two state machines pumped into each other.
// Mutual HMAC proofs, wrong secrets in each direction, the loopback rule, cluster and version
// mismatches, tampered and out-of-order messages.
#include <cineyma/remote/handshake.hpp>

#include <catch2/catch.hpp>

#include <cineyma/env/random.hpp>

#include <optional>
#include <string>

namespace {

using cineyma::Errc;
using cineyma::Prng;
using cineyma::remote::Handshake;
using cineyma::remote::HandshakeOptions;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

HandshakeOptions options(std::string node, std::optional<std::string> secret) {
  HandshakeOptions o;
  o.node_id = std::move(node);
  o.cluster_name = "test-cluster";
  o.secret = std::move(secret);
  return o;
}

struct Outcome {
  std::error_code client_error;
  std::error_code server_error;
  bool client_complete = false;
  bool server_complete = false;
  std::string server_reason;
};

/// Runs a handshake to its end. `tamper` may change the n-th message (0-based) in flight.
Outcome run(HandshakeOptions client_options, HandshakeOptions server_options,
            std::string client_host = "127.0.0.1",
            const std::function<void(int, std::string&)>& tamper = {}) {
  Prng rng_c(1), rng_s(2);
  Handshake client(Handshake::Role::client, std::move(client_options), rng_c, {"server", 1});
  Handshake server(Handshake::Role::server, std::move(server_options), rng_s,
                   {std::move(client_host), 40000});
  Outcome out;
  CHECK(server.start().send.empty());
  Handshake::Step step = client.start();
  bool to_server = true;
  for (int n = 0; !step.send.empty() && n < 10; ++n) {
    if (tamper) tamper(n, step.send);
    Handshake& receiver = to_server ? server : client;
    Handshake::Step next = receiver.on_frame(bytes_of(step.send));
    if (next.error) {
      (to_server ? out.server_error : out.client_error) = next.error;
      if (to_server) out.server_reason = next.reason;
    }
    if (step.error) break;  // the sender already gave up: this was its Reject
    step = std::move(next);
    to_server = !to_server;
  }
  out.client_complete = client.complete();
  out.server_complete = server.complete();
  if (out.client_complete) {
    CHECK(client.peer().node_id == "server-node");
  }
  if (out.server_complete) {
    CHECK(server.peer().node_id == "client-node");
    CHECK(server.peer().cluster_name == "test-cluster");
  }
  return out;
}

}  // namespace

TEST_CASE("handshake: HMAC-SHA256 matches RFC 4231 test case 2", "[remote][handshake]") {
  const std::string mac = cineyma::remote::hmac_sha256("Jefe", "what do ya want for nothing?");
  std::string hex;
  for (unsigned char c : mac) {
    static const char* digits = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  CHECK(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(cineyma::remote::equal_in_constant_time("abc", "abc"));
  CHECK_FALSE(cineyma::remote::equal_in_constant_time("abc", "abd"));
  CHECK_FALSE(cineyma::remote::equal_in_constant_time("abc", "abcd"));
}

TEST_CASE("handshake: both sides with the same secret authenticate each other",
          "[remote][handshake]") {
  Outcome o = run(options("client-node", "s3cret"), options("server-node", "s3cret"),
                  "10.1.2.3");  // a secret makes non-loopback peers acceptable
  CHECK(o.client_complete);
  CHECK(o.server_complete);
  CHECK(!o.client_error);
  CHECK(!o.server_error);
}

TEST_CASE("handshake: a client with the wrong secret is refused by the server",
          "[remote][handshake]") {
  Outcome o = run(options("client-node", "wrong"), options("server-node", "s3cret"));
  // The client detects first that the server's proof does not match its (wrong) secret.
  CHECK(o.client_error == cineyma::make_error_code(Errc::auth_failed));
  CHECK_FALSE(o.client_complete);
  CHECK_FALSE(o.server_complete);
}

TEST_CASE("handshake: a client without a secret cannot pass a server that has one",
          "[remote][handshake]") {
  Outcome o = run(options("client-node", std::nullopt), options("server-node", "s3cret"));
  CHECK(o.server_error == cineyma::make_error_code(Errc::auth_failed));
  CHECK(o.client_error == cineyma::make_error_code(Errc::auth_failed));  // told by Reject
  CHECK_FALSE(o.client_complete);
  CHECK_FALSE(o.server_complete);
}

TEST_CASE("handshake: a client with a secret refuses a server without one",
          "[remote][handshake]") {
  Outcome o = run(options("client-node", "s3cret"), options("server-node", std::nullopt));
  CHECK(o.client_error == cineyma::make_error_code(Errc::auth_failed));
  CHECK_FALSE(o.client_complete);
  CHECK_FALSE(o.server_complete);
}

TEST_CASE("handshake: without a secret only loopback peers are accepted", "[remote][handshake]") {
  for (const char* host : {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"}) {
    Outcome o = run(options("client-node", std::nullopt), options("server-node", std::nullopt),
                    host);
    CHECK(o.server_complete);
    CHECK(o.client_complete);
  }
  for (const char* host : {"10.0.0.1", "192.168.1.1", "node-2", "::2", "128.0.0.1"}) {
    Outcome o = run(options("client-node", std::nullopt), options("server-node", std::nullopt),
                    host);
    CHECK(o.server_error == cineyma::make_error_code(Errc::auth_failed));
    CHECK(o.client_error == cineyma::make_error_code(Errc::auth_failed));
    CHECK(o.server_reason.find("loopback") != std::string::npos);
  }
  HandshakeOptions open = options("server-node", std::nullopt);
  open.accept_unauthenticated_remote_peers = true;
  CHECK(run(options("client-node", std::nullopt), open, "10.0.0.1").server_complete);
}

TEST_CASE("handshake: cluster and version mismatches are refused", "[remote][handshake]") {
  HandshakeOptions other = options("server-node", "s");
  other.cluster_name = "other";
  Outcome o = run(options("client-node", "s"), other);
  CHECK(o.server_error == cineyma::make_error_code(Errc::auth_failed));
  CHECK(o.server_reason.find("cluster") != std::string::npos);
  CHECK_FALSE(o.client_complete);

  // Hello with protocol_version 2: field 1 of Hello (tag 0x08) inside field 1 of the oneof.
  Outcome v = run(options("client-node", "s"), options("server-node", "s"), "127.0.0.1",
                  [](int n, std::string& m) {
                    if (n == 0) {
                      REQUIRE(m.substr(2, 2) == std::string("\x08\x01", 2));
                      m[3] = '\x02';
                    }
                  });
  CHECK(v.server_error == cineyma::make_error_code(Errc::invalid_argument));
  CHECK(v.server_reason.find("version") != std::string::npos);
  CHECK_FALSE(v.server_complete);
}

TEST_CASE("handshake: any tampered byte of a proof fails authentication", "[remote][handshake]") {
  // Message 1 is the Welcome (server proof), message 2 the client's Proof. Flipping the last
  // byte hits the proof (the last field of each).
  for (int target : {1, 2}) {
    Outcome o = run(options("client-node", "s"), options("server-node", "s"), "127.0.0.1",
                    [target](int n, std::string& m) {
                      if (n == target) m.back() = static_cast<char>(m.back() ^ 1);
                    });
    CHECK_FALSE(o.server_complete);
    CHECK_FALSE(o.client_complete);
    CHECK((o.server_error == cineyma::make_error_code(Errc::auth_failed) ||
           o.client_error == cineyma::make_error_code(Errc::auth_failed)));
  }
}

TEST_CASE("handshake: garbage and out-of-order messages end the handshake",
          "[remote][handshake]") {
  Prng rng(3);
  Handshake server(Handshake::Role::server, options("server-node", "s"), rng, {"127.0.0.1", 1});
  (void)server.start();
  auto step = server.on_frame(bytes_of(std::string("\xff\xff\xff\xff", 4)));
  CHECK(step.error == cineyma::make_error_code(Errc::decode_error));
  CHECK(server.failed());
  // Once failed, always failed.
  CHECK(server.on_frame({}).error);

  // A server receiving a Proof before any Hello (oneof field 3, empty).
  Handshake server2(Handshake::Role::server, options("server-node", "s"), rng, {"127.0.0.1", 1});
  (void)server2.start();
  CHECK(server2.on_frame(bytes_of(std::string("\x1a\x00", 2))).error ==
        cineyma::make_error_code(Errc::decode_error));

  // An empty frame is an empty HandshakeMessage: no body, unexpected.
  Handshake client(Handshake::Role::client, options("client-node", "s"), rng, {"server", 1});
  CHECK_FALSE(client.start().send.empty());
  CHECK(client.on_frame({}).error == cineyma::make_error_code(Errc::decode_error));
}

TEST_CASE("handshake: nonces come from the environment's PRNG", "[remote][handshake]") {
  Prng a(99), b(99), c(100);
  Handshake h1(Handshake::Role::client, options("client-node", "s"), a, {"server", 1});
  Handshake h2(Handshake::Role::client, options("client-node", "s"), b, {"server", 1});
  Handshake h3(Handshake::Role::client, options("client-node", "s"), c, {"server", 1});
  const std::string m1 = h1.start().send, m2 = h2.start().send, m3 = h3.start().send;
  CHECK(m1 == m2);  // same seed, same Hello: replayable under simulation
  CHECK(m1 != m3);
}
