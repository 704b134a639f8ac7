// src/remote/router.cpp — dispatch by target actor and message type (contract in router.hpp).
#include <cineyma/remote/router.hpp>

#include <cineyma/assert.hpp>

#include "../core/log.hpp"

#include <utility>

namespace cineyma::remote {

void Reply::respond(std::string message_type, std::string payload) noexcept {
  if (!channel_) return;
  Envelope answer;
  answer.kind = EnvelopeKind::response;
  answer.correlation_id = correlation_id_;
  answer.message_type = std::move(message_type);
  answer.payload = std::move(payload);
  // Moving the channel out marks this reply as used before anything else can happen.
  std::shared_ptr<ReplyChannel> channel = std::move(channel_);
  channel->deliver(std::move(answer));
}

void Reply::fail(Errc code, std::string text) noexcept {
  if (!channel_) return;
  CINEYMA_ASSERT(code != Errc::ok);
  Envelope answer;
  answer.kind = EnvelopeKind::error;
  answer.correlation_id = correlation_id_;
  answer.error_code = code;
  answer.error_text = std::move(text);
  if (answer.error_text.size() > kMaxNameBytes * 4) answer.error_text.resize(kMaxNameBytes * 4);
  std::shared_ptr<ReplyChannel> channel = std::move(channel_);
  channel->deliver(std::move(answer));
}

namespace detail {

namespace {
void finish_detached(void*, std::coroutine_handle<> frame) noexcept {
  // Forwarding coroutines answer every failure through their Reply (whose destructor answers
  // if they did not): an exception here can only be an allocation failure while answering.
  auto& promise = Task<void>::promise_of(frame);
  if (promise.error) {
    try {
      std::rethrow_exception(promise.error);
    } catch (const std::exception& e) {
      cineyma::detail::logger().error("cineyma: remote dispatch failed: {}", e.what());
    } catch (...) {
      cineyma::detail::logger().error("cineyma: remote dispatch failed");
    }
  }
  frame.destroy();
}
}  // namespace

void start_detached(Executor& ex, Task<void> task) {
  // The awaits inside resume on `ex` (they read current_executor() when they suspend); the
  // first leg runs here, on the transport thread, up to the first suspension (the enqueue).
  cineyma::detail::ExecutorScope scope(&ex);
  std::move(task).start_detached(&finish_detached, nullptr);
}

namespace {
// Set by InlineDispatchScope; consumed by the first start_forward in it.
thread_local bool tl_inline_dispatch = false;
// While start_forward runs a handler inline: the first resumption posted to a relay on this
// thread is parked here instead of going to the workers.
thread_local bool tl_relay_collecting = false;
thread_local Runnable* tl_relay_deferred = nullptr;
}  // namespace

void RelayExecutor::post(Runnable& r) {
  if (tl_relay_collecting && tl_relay_deferred == nullptr) {
    tl_relay_deferred = &r;
    return;
  }
  inner_.post(r);
}

InlineDispatchScope::InlineDispatchScope(bool allow) noexcept { tl_inline_dispatch = allow; }
InlineDispatchScope::~InlineDispatchScope() { tl_inline_dispatch = false; }

void start_forward(cineyma::detail::CellBase& cell, Executor& ex, Task<void> task) {
  if (!std::exchange(tl_inline_dispatch, false)) {
    start_detached(ex, std::move(task));
    return;
  }
  {
    // The enqueue inside the task's first leg schedules the actor if it was idle; the capture
    // keeps that from reaching a worker, and finish() runs the actor's one message here
    // (or posts it after all, when the executor declines).
    cineyma::detail::CellBase::InlineCapture capture(cell);
    start_detached(ex, std::move(task));
    tl_relay_collecting = true;
    capture.finish();
    tl_relay_collecting = false;
  }
  // The handler answered during that run: its completion posted the task's resumption to
  // the relay, which kept it for us. Posting it would wake a worker just to serialise the
  // answer and write it; this thread is free now, so it does that itself.
  if (Runnable* r = std::exchange(tl_relay_deferred, nullptr)) {
    if (!ex.run_inline(*r)) ex.post(*r);
  }
}

}  // namespace detail

MessageRouter& MessageRouter::route_type(std::string message_type, RawHandler handler) {
  CINEYMA_ASSERT(static_cast<bool>(handler));
  CINEYMA_ASSERT_MSG(!message_type.empty(), "a route needs a message type");
  routes_[std::move(message_type)] = std::move(handler);
  return *this;
}

MessageRouter& MessageRouter::fallback(RawHandler handler) {
  CINEYMA_ASSERT(static_cast<bool>(handler));
  fallback_ = std::move(handler);
  return *this;
}

bool MessageRouter::routes(std::string_view message_type) const {
  return routes_.find(message_type) != routes_.end();
}

void MessageRouter::dispatch(Envelope request, Reply reply) const {
  const auto it = routes_.find(request.message_type);
  if (it != routes_.end()) {
    it->second(std::move(request), std::move(reply));
    return;
  }
  if (fallback_) {
    fallback_(std::move(request), std::move(reply));
    return;
  }
  reply.fail(Errc::unknown_message_type,
             "no handler for message type '" + request.message_type + "' at actor '" +
                 request.target_actor + "'");
}

Result<void> LocalNode::expose(std::string actor_name, MessageRouter router) {
  CINEYMA_ASSERT_MSG(!actor_name.empty() && actor_name.size() <= kMaxNameBytes,
                     "an exposed actor name must be 1..kMaxNameBytes bytes");
  std::lock_guard<std::mutex> lock(mutex_);
  const bool inserted =
      actors_.try_emplace(std::move(actor_name),
                          std::make_shared<const MessageRouter>(std::move(router)))
          .second;
  if (!inserted) return fail(Errc::already_exists);
  return ok();
}

Result<void> LocalNode::withdraw(std::string_view actor_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = actors_.find(actor_name);
  if (it == actors_.end()) return fail(Errc::not_found);
  actors_.erase(it);
  return ok();
}

void LocalNode::dispatch(Envelope request, Reply reply) const {
  std::shared_ptr<const MessageRouter> router;
  {
    // Held only for the lookup: handlers run unlocked, and a router stays alive (shared) for
    // the requests already dispatched to it even if its name is withdrawn meanwhile.
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = actors_.find(request.target_actor);
    if (it != actors_.end()) router = it->second;
  }
  if (!router) {
    reply.fail(Errc::not_found,
               "no actor named '" + request.target_actor + "' on node '" + node_id_ + "'");
    return;
  }
  router->dispatch(std::move(request), std::move(reply));
}

}  // namespace cineyma::remote
