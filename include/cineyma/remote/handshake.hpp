// cineyma/remote/handshake.hpp — who is on the other end (DESIGN §5, layer 3).
//
// Before any envelope flows, the two ends of a connection agree on the protocol version and
// the cluster, learn each other's node id, and — when a shared secret is configured — prove
// to each other that they know it, by HMAC-SHA256 over a nonce chosen by the other side
// (messages and formulas in proto/cineyma/v1/wire.proto). Proofs are compared in constant
// time. Without a secret, a server accepts loopback peers only, unless told otherwise.
//
// `Handshake` is the state machine alone, without I/O: it takes frame bodies and returns the
// frame bodies to send, so the same code runs over Asio, over the simulated network, and under
// the fuzzer. Nonces come from the environment's PRNG (deterministic under simulation).
//
// Threading: a Handshake is owned by one connection; not thread-safe.
#pragma once

#include <cineyma/env/random.hpp>
#include <cineyma/env/transport.hpp>
#include <cineyma/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace cineyma::v1 {  // generated from proto/cineyma/v1/wire.proto
class Hello;
class Welcome;
class Proof;
}  // namespace cineyma::v1

namespace cineyma::remote {

/// Version spoken by this build (Hello.protocol_version).
inline constexpr std::uint32_t kProtocolVersion = 1;
/// Length of a handshake nonce and of an HMAC-SHA256 proof.
inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::size_t kProofBytes = 32;
/// Largest frame accepted before the handshake completes: handshake messages are a few
/// hundred bytes, and an unauthenticated peer must not make us buffer a 16 MiB frame.
inline constexpr std::size_t kMaxHandshakeFrameBytes = 16 << 10;

/// How a node presents itself and whom it accepts.
struct HandshakeOptions {
  /// This node's id, sent to the peer (at most kMaxNameBytes bytes).
  std::string node_id = "node";
  /// Both ends must name the same cluster.
  std::string cluster_name = "cineyma";
  /// Shared secret. When set, both ends must prove they know it (a client also refuses a
  /// server that does not prove it). When empty, no proof is sent: a server then accepts
  /// loopback peers only (see below), and a server that has a secret refuses this end.
  std::optional<std::string> secret;
  /// Server without a secret: also accept peers that are not on loopback. Off by default:
  /// an unauthenticated port open to the network is how the original got hurt (SPEC §9.2).
  bool accept_unauthenticated_remote_peers = false;
};

/// What the handshake established about the peer.
struct PeerInfo {
  std::string node_id;
  std::string cluster_name;
  Endpoint endpoint;
  bool authenticated = false;  ///< true when the peer proved the shared secret
};

/// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool is_loopback_host(const std::string& host) noexcept;

/// HMAC-SHA256(key, data).
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Constant-time equality of two byte strings (false when the lengths differ).
bool equal_in_constant_time(std::string_view a, std::string_view b) noexcept;

/// The handshake state machine of one end of one connection.
class Handshake {
 public:
  enum class Role : unsigned char { client, server };

  /// What to do after a step.
  struct Step {
    /// Frame body to send now (empty: nothing). On failure this may be a Reject for the peer.
    std::string send;
    /// Set when the handshake failed: send `send` (if any), then close the connection.
    std::error_code error;
    /// Human-readable reason for logs when `error` is set.
    std::string reason;
    /// True once this end considers the handshake complete (envelopes may flow).
    bool complete = false;
  };

  /// `peer` is the remote endpoint of the connection (the server uses it for the loopback
  /// rule). `random` must outlive the handshake.
  Handshake(Role role, HandshakeOptions options, Random& random, Endpoint peer);

  /// The first step: a client sends Hello; a server sends nothing and waits.
  Step start();
  /// Feeds one received frame body. After a failure or completion, any frame is an error.
  Step on_frame(std::span<const std::byte> body);

  bool complete() const noexcept { return state_ == State::complete; }
  bool failed() const noexcept { return state_ == State::failed; }
  /// The peer, once complete.
  const PeerInfo& peer() const noexcept { return peer_; }

 private:
  enum class State : unsigned char {
    initial, client_sent_hello, server_sent_welcome, client_sent_proof, complete, failed
  };
  Step on_hello(const v1::Hello& hello);
  Step on_welcome(const v1::Welcome& welcome);
  Step on_proof(const v1::Proof& proof);
  Step fail_step(std::error_code ec, std::string reason, bool tell_peer);
  std::string proof(std::string_view label) const;

  Role role_;
  HandshakeOptions options_;
  Random& random_;
  State state_ = State::initial;
  PeerInfo peer_;
  std::string my_nonce_;
  std::string peer_nonce_;
};

}  // namespace cineyma::remote
