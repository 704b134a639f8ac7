// Error category, names of codes and stop reasons, and the assertion handler.
#include <cineyma/assert.hpp>
#include <cineyma/env/faults.hpp>
#include <cineyma/error.hpp>
#include <cineyma/message.hpp>

#include <cstdio>
#include <cstdlib>

namespace cineyma {

namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cineyma"; }
  std::string message(int code) const override {
    switch (static_cast<Errc>(code)) {
      case Errc::ok: return "success";
      case Errc::mailbox_full: return "the actor's mailbox is full";
      case Errc::actor_stopped: return "the actor is stopped";
      case Errc::handler_failed: return "the handler failed (threw) while handling the request";
      case Errc::timeout: return "the deadline passed before completion";
      case Errc::disconnected: return "the connection broke before the request was sent";
      case Errc::maybe_delivered: return "the connection broke after sending; outcome unknown";
      case Errc::unknown_message_type: return "the receiver has no handler for this message type";
      case Errc::decode_error: return "the bytes could not be decoded";
      case Errc::auth_failed: return "authentication failed";
      case Errc::not_found: return "not found";
      case Errc::frame_too_large: return "the frame exceeds the configured maximum";
      case Errc::type_mismatch: return "the name refers to an actor of another type";
      case Errc::invalid_argument: return "invalid argument";
      case Errc::already_exists: return "already exists";
      case Errc::channel_closed: return "channel closed";
    }
    return "unknown cineyma error " + std::to_string(code);
  }
};
}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

const char* to_string(Errc e) noexcept {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::mailbox_full: return "mailbox_full";
    case Errc::actor_stopped: return "actor_stopped";
    case Errc::handler_failed: return "handler_failed";
    case Errc::timeout: return "timeout";
    case Errc::disconnected: return "disconnected";
    case Errc::maybe_delivered: return "maybe_delivered";
    case Errc::unknown_message_type: return "unknown_message_type";
    case Errc::decode_error: return "decode_error";
    case Errc::auth_failed: return "auth_failed";
    case Errc::not_found: return "not_found";
    case Errc::frame_too_large: return "frame_too_large";
    case Errc::type_mismatch: return "type_mismatch";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::already_exists: return "already_exists";
    case Errc::channel_closed: return "channel_closed";
  }
  return "unknown";
}

const char* to_string(StopReason r) noexcept {
  switch (r) {
    case StopReason::normal: return "normal";
    case StopReason::failed: return "failed";
    case StopReason::restart_limit: return "restart_limit";
    case StopReason::escalated: return "escalated";
    case StopReason::shutdown: return "shutdown";
  }
  return "unknown";
}

const char* to_string(FaultSite s) noexcept {
  switch (s) {
    case FaultSite::handler: return "handler";
    case FaultSite::started: return "started";
    case FaultSite::stream_handler: return "stream_handler";
  }
  return "unknown";
}

namespace detail {
void assertion_failed(const char* expr, const char* file, int line, const char* msg) noexcept {
  // stderr directly: the logger may be what is broken.
  std::fprintf(stderr, "cineyma: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               msg ? ": " : "", msg ? msg : "");
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

}  // namespace cineyma
