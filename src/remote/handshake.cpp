// src/remote/handshake.cpp — the handshake state machine (protocol in wire.proto, contract in
// handshake.hpp).
#include <cineyma/remote/handshake.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/remote/envelope.hpp>

#include "cineyma/v1/wire.pb.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>
#include <utility>

namespace cineyma::remote {

namespace {

namespace pb = ::cineyma::v1;

std::string random_nonce(Random& random) {
  std::string nonce(kNonceBytes, '\0');
  for (std::size_t i = 0; i < kNonceBytes; i += 8) {
    std::uint64_t word = random.next_u64();
    for (std::size_t j = 0; j < 8; ++j) {
      nonce[i + j] = static_cast<char>(word & 0xff);
      word >>= 8;
    }
  }
  return nonce;
}

// Each field is length-prefixed so that no two different field lists hash the same bytes
// ("ab"+"c" vs "a"+"bc").
void append_field(std::string& out, std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(field);
}

std::string serialize(const pb::HandshakeMessage& m) { return m.SerializeAsString(); }

bool valid_name(const std::string& s) { return !s.empty() && s.size() <= kMaxNameBytes; }

}  // namespace

bool is_loopback_host(const std::string& host) noexcept {
  if (host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  // Dotted IPv4 in 127.0.0.0/8, possibly IPv4-mapped. The address comes from the transport
  // (a numeric form), so a prefix check is exact.
  std::string_view h(host);
  constexpr std::string_view kMapped = "::ffff:";
  if (h.substr(0, kMapped.size()) == kMapped) h.remove_prefix(kMapped.size());
  return h.substr(0, 4) == "127.";
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CINEYMA_ASSERT(key.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()));
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  CINEYMA_ASSERT_MSG(result != nullptr, "HMAC-SHA256 failed");
  CINEYMA_ASSERT(length == kProofBytes);
  return std::string(reinterpret_cast<const char*>(out), length);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) noexcept {
  // The length of a proof is public (always 32 bytes); only the contents must not leak.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Handshake::Handshake(Role role, HandshakeOptions options, Random& random, Endpoint peer)
    : role_(role), options_(std::move(options)), random_(random) {
  CINEYMA_ASSERT_MSG(valid_name(options_.node_id), "node id must be 1..kMaxNameBytes bytes");
  CINEYMA_ASSERT_MSG(options_.cluster_name.size() <= kMaxNameBytes, "cluster name too long");
  peer_.endpoint = std::move(peer);
}

std::string Handshake::proof(std::string_view label) const {
  CINEYMA_ASSERT(options_.secret.has_value());
  // The label binds the proof to the prover's role, so a server's proof cannot be reflected
  // back as a client's. Both nonces, in the prover's order, bind it to this connection.
  const bool client = label == "cineyma/v1 client";
  const std::string& client_nonce = role_ == Role::client ? my_nonce_ : peer_nonce_;
  const std::string& server_nonce = role_ == Role::server ? my_nonce_ : peer_nonce_;
  const std::string& client_id = role_ == Role::client ? options_.node_id : peer_.node_id;
  const std::string& server_id = role_ == Role::server ? options_.node_id : peer_.node_id;
  std::string data;
  append_field(data, label);
  append_field(data, client ? server_nonce : client_nonce);
  append_field(data, client ? client_nonce : server_nonce);
  append_field(data, client_id);
  append_field(data, server_id);
  append_field(data, options_.cluster_name);
  return hmac_sha256(*options_.secret, data);
}

Handshake::Step Handshake::fail_step(std::error_code ec, std::string reason, bool tell_peer) {
  state_ = State::failed;
  Step step;
  step.error = ec;
  step.reason = std::move(reason);
  if (tell_peer) {
    pb::HandshakeMessage m;
    m.mutable_reject()->set_error_code(static_cast<std::uint32_t>(ec.value()));
    m.mutable_reject()->set_reason(step.reason);
    step.send = serialize(m);
  }
  return step;
}

Handshake::Step Handshake::start() {
  CINEYMA_ASSERT(state_ == State::initial);
  Step step;
  if (role_ == Role::server) return step;
  my_nonce_ = random_nonce(random_);
  pb::HandshakeMessage m;
  pb::Hello* hello = m.mutable_hello();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_node_id(options_.node_id);
  hello->set_cluster_name(options_.cluster_name);
  hello->set_nonce(my_nonce_);
  step.send = serialize(m);
  state_ = State::client_sent_hello;
  return step;
}

Handshake::Step Handshake::on_frame(std::span<const std::byte> body) {
  const auto fail_protocol = [this](const char* why) {
    return fail_step(make_error_code(Errc::decode_error), why, true);
  };
  if (state_ == State::complete || state_ == State::failed) {
    state_ = State::failed;
    return fail_step(make_error_code(Errc::decode_error), "frame after the handshake ended",
                     false);
  }
  pb::HandshakeMessage m;
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return fail_protocol("undecodable handshake message");
  }
  if (m.has_reject()) {
    // The peer gave up; tell our caller its reason, answer nothing.
    const Errc errc = errc_from_wire(m.reject().error_code());
    std::string reason = m.reject().reason().substr(0, kMaxNameBytes);
    return fail_step(make_error_code(errc), "peer refused: " + reason, false);
  }
  switch (state_) {
    case State::initial:
      if (role_ == Role::server && m.has_hello()) return on_hello(m.hello());
      break;
    case State::client_sent_hello:
      if (m.has_welcome()) return on_welcome(m.welcome());
      break;
    case State::server_sent_welcome:
      if (m.has_proof()) return on_proof(m.proof());
      break;
    case State::client_sent_proof:
      if (m.has_accept()) {
        state_ = State::complete;
        Step step;
        step.complete = true;
        return step;
      }
      break;
    case State::complete:
    case State::failed:
      break;
  }
  return fail_protocol("unexpected handshake message");
}

Handshake::Step Handshake::on_hello(const pb::Hello& hello) {
  if (hello.protocol_version() != kProtocolVersion) {
    return fail_step(make_error_code(Errc::invalid_argument),
                     "protocol version " + std::to_string(hello.protocol_version()) +
                         " not supported (this node speaks " +
                         std::to_string(kProtocolVersion) + ")",
                     true);
  }
  if (!valid_name(hello.node_id()) || hello.nonce().size() != kNonceBytes) {
    return fail_step(make_error_code(Errc::decode_error), "malformed hello", true);
  }
  if (hello.cluster_name() != options_.cluster_name) {
    return fail_step(make_error_code(Errc::auth_failed), "cluster name mismatch", true);
  }
  if (!options_.secret && !options_.accept_unauthenticated_remote_peers &&
      !is_loopback_host(peer_.endpoint.host)) {
    return fail_step(make_error_code(Errc::auth_failed),
                     "no shared secret configured: only loopback peers are accepted", true);
  }
  peer_.node_id = hello.node_id();
  peer_.cluster_name = hello.cluster_name();
  peer_nonce_ = hello.nonce();
  my_nonce_ = random_nonce(random_);
  pb::HandshakeMessage m;
  pb::Welcome* welcome = m.mutable_welcome();
  welcome->set_protocol_version(kProtocolVersion);
  welcome->set_node_id(options_.node_id);
  welcome->set_cluster_name(options_.cluster_name);
  welcome->set_nonce(my_nonce_);
  if (options_.secret) welcome->set_proof(proof("cineyma/v1 server"));
  state_ = State::server_sent_welcome;
  Step step;
  step.send = serialize(m);
  return step;
}

Handshake::Step Handshake::on_welcome(const pb::Welcome& welcome) {
  if (welcome.protocol_version() != kProtocolVersion) {
    return fail_step(make_error_code(Errc::invalid_argument), "protocol version mismatch", true);
  }
  if (!valid_name(welcome.node_id()) || welcome.nonce().size() != kNonceBytes) {
    return fail_step(make_error_code(Errc::decode_error), "malformed welcome", true);
  }
  if (welcome.cluster_name() != options_.cluster_name) {
    return fail_step(make_error_code(Errc::auth_failed), "cluster name mismatch", true);
  }
  peer_.node_id = welcome.node_id();
  peer_.cluster_name = welcome.cluster_name();
  peer_nonce_ = welcome.nonce();
  pb::HandshakeMessage m;
  if (options_.secret) {
    // Check the server before proving ourselves: an impostor learns nothing from us.
    if (!equal_in_constant_time(welcome.proof(), proof("cineyma/v1 server"))) {
      return fail_step(make_error_code(Errc::auth_failed),
                       "the server did not prove the shared secret", true);
    }
    peer_.authenticated = true;
    m.mutable_proof()->set_proof(proof("cineyma/v1 client"));
  } else {
    m.mutable_proof();  // empty proof: we have no secret
  }
  state_ = State::client_sent_proof;
  Step step;
  step.send = serialize(m);
  return step;
}

Handshake::Step Handshake::on_proof(const pb::Proof& message) {
  if (options_.secret) {
    if (!equal_in_constant_time(message.proof(), proof("cineyma/v1 client"))) {
      return fail_step(make_error_code(Errc::auth_failed),
                       "the client did not prove the shared secret", true);
    }
    peer_.authenticated = true;
  }
  pb::HandshakeMessage m;
  m.mutable_accept();
  state_ = State::complete;
  Step step;
  step.send = serialize(m);
  step.complete = true;
  return step;
}

}  // namespace cineyma::remote
