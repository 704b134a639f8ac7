// cineyma/error.hpp — the error codes of the framework.
//
// Errors are values: operations that can fail for operational reasons return
// `Result<T>` (see result.hpp) carrying a `std::error_code` in `cineyma::error_category()`.
// A code exists only where a caller can react to it differently; programmer errors are
// assertions (assert.hpp), not codes.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace cineyma {

/// Operational error codes. Values are stable (they travel on the wire in later layers).
enum class Errc : int {
  ok = 0,
  mailbox_full = 1,          ///< `try_send` found no free slot (mailbox or channel); nothing was enqueued.
  actor_stopped = 2,         ///< the target is stopped (or stopped before handling the request).
  handler_failed = 3,        ///< the handler of this request threw; the actor was supervised.
  timeout = 4,               ///< the deadline passed before the operation completed.
  disconnected = 5,          ///< the connection broke before the request was sent.
  maybe_delivered = 6,       ///< the connection broke after sending; the fate is unknown.
  unknown_message_type = 7,  ///< the receiver has no handler for this message type.
  decode_error = 8,          ///< bytes could not be decoded.
  auth_failed = 9,           ///< the peer failed authentication.
  not_found = 10,            ///< no such name / entry.
  frame_too_large = 11,      ///< a frame announced a length above the configured limit.
  type_mismatch = 12,        ///< a name exists but refers to an actor of another type.
  invalid_argument = 13,     ///< a caller-supplied value is out of range (e.g. capacity 0).
  already_exists = 14,       ///< a unique name is already taken.
  channel_closed = 15,       ///< the channel was closed, or its receiving end is gone.
};

/// The category of every `Errc`. Its name is "cineyma".
const std::error_category& error_category() noexcept;

/// Makes an error code of `cineyma::error_category()`.
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Short, stable name of a code ("mailbox_full", ...). Never null.
const char* to_string(Errc e) noexcept;

/// Thrown by `Result<T>::value()` when the result holds an error. Never thrown by the
/// framework on its own hot paths: it exists so that `.value()` can be used where the caller
/// prefers an exception (for example inside a handler, where it becomes a supervised failure).
class Error : public std::system_error {
 public:
  explicit Error(std::error_code ec) : std::system_error(ec) {}
  Error(std::error_code ec, const std::string& what) : std::system_error(ec, what) {}
};

}  // namespace cineyma

template <>
struct std::is_error_code_enum<cineyma::Errc> : std::true_type {};
