// examples/distributed-kv/kv_protocol.hpp — the messages, protocols, names and error codes of
// the replicated key-value store (shared by `distributed-kv` and `sim-walkthrough`).
//
// Two remote protocols run over the cluster (proto/distributed_kv/kv.proto):
//   StoreProtocol    clients -> the actor registered as "kv-store" (get / set / delete);
//   ReplicaProtocol  the store's owner (or a takeover candidate) -> "kv-replica/<node>".
#pragma once

#include "distributed_kv/kv.pb.h"

#include <cineyma/message.hpp>
#include <cineyma/remote/client.hpp>

#include <string>
#include <string_view>
#include <system_error>

template <>
struct cineyma::message_reply<distributed_kv::GetRequest> {
  using type = distributed_kv::GetResponse;
};
template <>
struct cineyma::message_reply<distributed_kv::SetRequest> {
  using type = distributed_kv::SetResponse;
};
template <>
struct cineyma::message_reply<distributed_kv::DeleteRequest> {
  using type = distributed_kv::DeleteResponse;
};
template <>
struct cineyma::message_reply<distributed_kv::ReplicateRequest> {
  using type = distributed_kv::ReplicateResponse;
};
template <>
struct cineyma::message_reply<distributed_kv::StateRequest> {
  using type = distributed_kv::StateResponse;
};

namespace kv {

using StoreProtocol = cineyma::remote::Protocol<cineyma::remote::Rpc<distributed_kv::GetRequest>,
                                                cineyma::remote::Rpc<distributed_kv::SetRequest>,
                                                cineyma::remote::Rpc<distributed_kv::DeleteRequest>>;
using ReplicaProtocol =
    cineyma::remote::Protocol<cineyma::remote::Rpc<distributed_kv::ReplicateRequest>,
                              cineyma::remote::Rpc<distributed_kv::StateRequest>>;

/// The cluster-wide name of the store (one node at a time holds it).
inline constexpr std::string_view kStoreName = "kv-store";
inline constexpr std::string_view kStoreType = "KvStore";
inline constexpr std::string_view kReplicaType = "KvReplica";

/// The cluster-wide name of `node`'s replica: "kv-replica/<node>".
inline std::string replica_name(std::string_view node) {
  std::string name = "kv-replica/";
  name += node;
  return name;
}

/// Terms order by (number, node): -1, 0, 1.
inline int compare(const distributed_kv::Term& a, const distributed_kv::Term& b) noexcept {
  if (a.number() != b.number()) return a.number() < b.number() ? -1 : 1;
  const int c = a.node().compare(b.node());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/// The store's own reasons for not carrying out a command (the transport's are `cineyma::Errc`).
enum class Errc : int {
  no_quorum = 1,    ///< the owner cannot see, or did not reach, a majority of the cluster
  store_moved = 2,  ///< the owner found a newer owner while handling the command
};

/// The category of `kv::Errc` ("distributed-kv").
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace kv

template <>
struct std::is_error_code_enum<kv::Errc> : std::true_type {};
