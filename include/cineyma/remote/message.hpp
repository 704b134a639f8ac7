// cineyma/remote/message.hpp — what can cross the wire, and how it is named there.
//
// A remote message is a protobuf-generated class. Its name on the wire is its protobuf full
// name (e.g. "kv.GetRequest"): language-neutral and stable across builds, unlike the
// compiler type names the original used (SPEC-original §4.3). A request's response type is
// declared with `cineyma::message_reply` (message.hpp) so that actors can handle generated
// classes with a typed reply.
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <cineyma/error.hpp>
#include <cineyma/result.hpp>

#include <google/protobuf/message_lite.h>

#include <concepts>
#include <string>
#include <system_error>

namespace cineyma::remote {

/// A protobuf-generated message class.
template <typename M>
concept ProtobufMessage = std::derived_from<M, google::protobuf::MessageLite>;

/// The wire name of `M`: its protobuf full name. Computed once.
template <ProtobufMessage M>
const std::string& message_type_name() {
  static const std::string name = M::default_instance().GetTypeName();
  return name;
}

/// Parses `M` from `payload`; `decode_error` when the bytes are not an `M`.
template <ProtobufMessage M>
Result<M> decode_payload(const std::string& payload) {
  M m;
  if (!m.ParseFromString(payload)) return fail(Errc::decode_error);
  return m;
}

/// The `Errc` behind an error code from the framework; `handler_failed` for any other code
/// (what a remote peer can be told about an error that is not ours).
inline Errc to_errc(std::error_code ec) noexcept {
  if (ec.category() == error_category() && ec.value() != 0) return static_cast<Errc>(ec.value());
  return Errc::handler_failed;
}

}  // namespace cineyma::remote
