// src/remote/connection.cpp — one framed, authenticated connection (design in connection.hpp).
#include "connection.hpp"

#include <cineyma/assert.hpp>

#include "../core/log.hpp"

#include <algorithm>
#include <utility>

namespace cineyma::remote::internal {

namespace {
std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}
}  // namespace

Connection::Connection(Environment& env, std::unique_ptr<ByteStream> stream,
                       ConnectionOptions options, std::shared_ptr<ConnectionHandler> handler,
                       std::uint64_t id)
    : env_(env),
      options_(std::move(options)),
      id_(id),
      remote_(stream->remote_endpoint()),
      handler_(std::move(handler)),
      // Until the peer has authenticated, frames are handshake-sized (kMaxHandshakeFrameBytes).
      decoder_(std::min(options_.max_frame_bytes, kMaxHandshakeFrameBytes)),
      handshake_(options_.role, options_.handshake, env.random(), remote_),
      stream_(std::move(stream)) {
  CINEYMA_ASSERT(handler_ != nullptr);
}

Connection::~Connection() {
  // Every path that drops the last reference has closed the stream already (pending
  // operations hold a reference); this only covers a connection that never started.
  if (stream_) stream_->close();
}

const char* Connection::role_name() const noexcept {
  return options_.role == Handshake::Role::server ? "server" : "client";
}

void Connection::start() {
  {
    std::lock_guard lock(mutex_);
    std::weak_ptr<Connection> weak = weak_from_this();
    handshake_timer_ = env_.clock().schedule_after(options_.handshake_timeout, [weak] {
      if (auto self = weak.lock()) {
        if (!self->established()) {
          cineyma::detail::log(self->env_, spdlog::level::warn,
                      "remote {}: closing connection {} from {}:{}: handshake not finished "
                      "within the deadline",
                      self->role_name(), self->id_, self->remote_.host, self->remote_.port);
          self->close(make_error_code(Errc::timeout));
        }
      }
    });
  }
  Handshake::Step step = handshake_.start();
  CINEYMA_ASSERT(!step.error);
  if (!step.send.empty()) {
    std::lock_guard lock(mutex_);
    queue_raw_locked(step.send);
    flush_locked();
  }
  read_more();
}

void Connection::read_more() {
  std::lock_guard lock(mutex_);
  if (closed_.load(std::memory_order_acquire)) return;
  std::span<std::byte> room = decoder_.read_buffer();
  stream_->async_read_some(room, [self = shared_from_this()](Result<std::size_t> r) {
    self->on_read(r);
  });
}

void Connection::on_read(Result<std::size_t> r) {
  if (!r) {
    if (!closed_.load(std::memory_order_acquire)) {
      cineyma::detail::log(env_, spdlog::level::debug,
                           "remote {}: connection {} to {}:{} ended: {}",
                           role_name(), id_, remote_.host, remote_.port, r.error().message());
    }
    close(r.error());
    return;
  }
  decoder_.commit(*r);
  bytes_received_.fetch_add(*r, std::memory_order_acq_rel);
  if (process_frames()) read_more();
}

bool Connection::process_frames() {
  for (;;) {
    if (closed_.load(std::memory_order_acquire)) {
      deliver_batch();  // as before the close: the handler ignores what no longer waits
      return false;
    }
    auto frame = decoder_.next_frame();
    if (!frame) {
      cineyma::detail::log(env_, spdlog::level::warn,
                  "remote {}: closing connection {} from {}:{}: frame larger than the "
                  "maximum of {} bytes{}",
                  role_name(), id_, remote_.host, remote_.port, decoder_.max_frame_bytes(),
                  established() ? "" : " (before the handshake completed)");
      deliver_batch();  // what arrived intact before the bad frame still counts
      close(frame.error());
      return false;
    }
    if (!*frame) {
      deliver_batch();
      return !closed_.load(std::memory_order_acquire);
    }
    if (!established()) {
      if (!on_handshake_frame(**frame)) return false;
      continue;
    }
    Result<Envelope> e = decode_envelope(**frame);
    if (!e) {
      // Without a decodable envelope there is no correlation id to answer: the stream
      // cannot be trusted any more.
      cineyma::detail::log(env_, spdlog::level::warn,
                  "remote {}: closing connection {} from {}:{} (node '{}'): undecodable "
                  "envelope of {} bytes",
                  role_name(), id_, remote_.host, remote_.port, peer().node_id,
                  (*frame)->size());
      deliver_batch();
      close(e.error());
      return false;
    }
    batch_.push_back(std::move(*e));
  }
}

void Connection::deliver_batch() {
  if (batch_.empty()) return;
  handler_->on_envelopes(*this, batch_);
  batch_.clear();  // keeps its capacity: the next read reuses it
}

bool Connection::on_handshake_frame(std::span<const std::byte> body) {
  Handshake::Step step = handshake_.on_frame(body);
  if (step.error) {
    cineyma::detail::log(env_, spdlog::level::warn,
                "remote {}: closing connection {} with {}:{}: handshake failed ({}): {}",
                role_name(), id_, remote_.host, remote_.port,
                step.error.message(), step.reason);
    if (!step.send.empty()) {
      std::lock_guard lock(mutex_);
      queue_raw_locked(step.send);
    }
    close_after_flush(step.error);
    return false;
  }
  if (!step.send.empty()) {
    std::lock_guard lock(mutex_);
    queue_raw_locked(step.send);
    flush_locked();
  }
  if (step.complete) {
    {
      std::lock_guard lock(mutex_);
      if (handshake_timer_ != 0) env_.clock().cancel(handshake_timer_);
      handshake_timer_ = 0;
    }
    decoder_.set_max_frame_bytes(options_.max_frame_bytes);
    established_.store(true, std::memory_order_release);
    cineyma::detail::log(env_, spdlog::level::debug,
                "remote {}: connection {} with {}:{} established (peer node '{}'{})",
                role_name(), id_, remote_.host, remote_.port, peer().node_id,
                peer().authenticated ? ", authenticated" : "");
    handler_->on_established(*this);
  }
  return true;
}

Result<std::uint64_t> Connection::send(const Envelope& e, bool direct) {
  Result<std::uint64_t> r = queue(e);
  if (r) flush(direct);
  return r;
}

Result<std::uint64_t> Connection::queue(const Envelope& e) {
  std::lock_guard lock(mutex_);
  if (closed_.load(std::memory_order_acquire) || close_when_flushed_ || !established()) {
    return fail(Errc::disconnected);
  }
  if (outbound_.size() >= options_.max_outbound_bytes) return fail(Errc::mailbox_full);
  const std::size_t before = outbound_.size();
  Result<void> r = append_envelope_frame(outbound_, e, options_.max_frame_bytes);
  if (!r) return fail(r.error());
  bytes_queued_ += outbound_.size() - before;
  return bytes_queued_;
}

void Connection::flush(bool direct) {
  std::unique_lock lock(mutex_);
  if (direct) {
    flush_direct(lock);
    return;
  }
  if (!env_.executor().in_executor_thread()) {
    flush_locked();
    return;
  }
  // From a task: tasks queued behind this one on the same worker are often about to add
  // frames too (callers resumed by one read, an actor answering a batch of requests). One
  // write after them takes every frame in one system call, from this worker — without the
  // wake-up of the transport's thread that flush_locked() would cost.
  if (!can_start_write_locked()) {
    return;  // the write in progress takes these frames along when it completes
  }
  if (flush_posted_) {
    // The posted flush waits for this worker's current task, like anything it posts. A task
    // that keeps sending (one handler streaming many messages) must not pile its frames up
    // until it returns: past a bound, they go through the transport's thread now, which then
    // drains the buffer alongside the task, as it did before writes were batched.
    if (outbound_.size() >= kDeferredFlushBytes) flush_locked();
    return;
  }
  flush_posted_ = true;
  lock.unlock();
  env_.executor().post_after_queued([self = shared_from_this()] {
    std::unique_lock relock(self->mutex_);
    self->flush_posted_ = false;
    self->flush_direct(relock);
  });
}

void Connection::flush_direct(std::unique_lock<cineyma::detail::SpinMutex>& lock) {
  // A few rounds: frames that other threads queued while we were in send(2) go out with the
  // next round from this thread too, instead of waking the transport's thread for them.
  for (int round = 0; round < kDirectRounds; ++round) {
    if (!can_start_write_locked()) return;
    // Claim the write, as flush_locked does, but write from this thread with the lock
    // released: frames queued meanwhile by other threads wait in outbound_.
    claim_write_locked();
    lock.unlock();
    const std::size_t written = stream_->try_write(bytes_of(in_flight_));
    lock.lock();
    CINEYMA_ASSERT(written <= in_flight_.size());
    if (written < in_flight_.size()) {
      // The socket is full (or failing, or this transport has no direct path): the rest goes
      // through the transport's thread, and outbound_ keeps coalescing behind it. (Closed
      // meanwhile: async_write then fails at once and on_written closes, as for any write.)
      in_flight_.erase(0, written);
      stream_->async_write(bytes_of(in_flight_),
                           [self = shared_from_this()](Result<void> r) { self->on_written(r); });
      return;
    }
    end_write_locked();
    if (close_when_flushed_ && outbound_.empty()) break;
  }
  const bool close_now = write_done_locked();
  const std::error_code why = close_reason_;
  lock.unlock();
  if (close_now) close(why);
}

bool Connection::can_start_write_locked() const noexcept {
  return !writing_ && !outbound_.empty() && !closed_.load(std::memory_order_acquire);
}

void Connection::claim_write_locked() {
  writing_ = true;
  in_flight_.swap(outbound_);
  outbound_.clear();
  bytes_handed_ += in_flight_.size();
}

void Connection::end_write_locked() {
  writing_ = false;
  in_flight_.clear();
  if (in_flight_.capacity() > (std::size_t{1} << 20)) {
    std::string().swap(in_flight_);  // one big burst must not pin its buffer forever
  }
}

bool Connection::write_done_locked() {
  end_write_locked();
  flush_locked();
  return !writing_ && close_when_flushed_;
}

std::uint64_t Connection::bytes_handed() const {
  std::lock_guard lock(mutex_);
  return bytes_handed_;
}

void Connection::queue_raw_locked(const std::string& body) {
  const std::size_t before = outbound_.size();
  // Handshake messages are a few hundred bytes; the limit only guards against bugs.
  Result<void> r = append_frame(outbound_, bytes_of(body), options_.max_frame_bytes);
  CINEYMA_ASSERT(r.has_value());
  bytes_queued_ += outbound_.size() - before;
}

void Connection::flush_locked() {
  if (!can_start_write_locked()) return;
  claim_write_locked();
  stream_->async_write(bytes_of(in_flight_),
                       [self = shared_from_this()](Result<void> r) { self->on_written(r); });
}

void Connection::on_written(Result<void> r) {
  if (!r) {
    close(r.error());
    return;
  }
  bool close_now = false;
  std::error_code why;
  {
    std::lock_guard lock(mutex_);
    close_now = write_done_locked();
    why = close_reason_;
  }
  if (close_now) close(why);
}

void Connection::close_after_flush(std::error_code why) {
  bool close_now = false;
  {
    std::lock_guard lock(mutex_);
    close_when_flushed_ = true;
    close_reason_ = why;
    flush_locked();
    close_now = !writing_;
  }
  // Otherwise on_written closes once the last bytes (the Reject) are out; the handshake
  // timer still bounds the wait if the peer never reads them.
  if (close_now) close(why);
}

bool Connection::read_here(const std::function<bool()>& keep_going,
                           std::chrono::nanoseconds max_wait) {
  if (!established() || closed_.load(std::memory_order_acquire)) return false;
  // Without mutex_: the stream is never replaced, and its read_here is safe from any thread
  // (the completions it runs take mutex_ themselves, in read_more).
  return stream_->read_here(keep_going, max_wait);
}

void Connection::close(std::error_code why) noexcept {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  {
    std::lock_guard lock(mutex_);
    if (handshake_timer_ != 0) env_.clock().cancel(handshake_timer_);
    handshake_timer_ = 0;
    stream_->close();  // pending read/write complete with an error and drop their references
  }
  // No lock held: the handler may call back into send() (which then fails) or close().
  handler_->on_closed(*this, why, established());
}

}  // namespace cineyma::remote::internal
