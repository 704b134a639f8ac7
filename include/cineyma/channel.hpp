// cineyma/channel.hpp — bounded multi-producer channels whose receiving end is an actor stream.
//
//   auto [tx, rx] = cineyma::make_channel<Line>(64);   // capacity 64 items
//   ctx.add_stream(std::move(rx));                      // inside an actor: items -> handle_stream
//   tx.try_send(line);                                  // any thread: ok | mailbox_full | channel_closed
//   co_await tx.send(line);                             // in an async handler: waits for space
//   tx.send(line).get();                                // plain thread: blocks for space
//   tx.close();                                         // the stream ends once drained
//
// Contract:
// * Bounded: at most `capacity` items are buffered. A full channel refuses `try_send`
//   (`mailbox_full`, the item stays with the caller) and makes `send` wait; waiting senders
//   are admitted in FIFO order as the actor consumes, so the consumer's pace reaches the
//   producers (backpressure).
// * Senders are cheap to copy and usable from any thread, including non-actor threads. The
//   channel closes when `close()` is called on any sender or when the last sender is
//   destroyed; items already buffered are still delivered, then the stream's `finished` runs.
// * Dropping the receiver (or the stream it became: its actor stopped, restarted, or removed
//   it) discards buffered items and fails current and future sends with `channel_closed`.
// * Blocking `send(...).get()` from a plain thread needs the receiver attached to an actor
//   under simulation (it drives the simulation until space frees); on the real runtime it
//   simply waits.
#pragma once

#include <cineyma/assert.hpp>
#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/result.hpp>

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace cineyma {

template <typename T>
class Sender;
template <typename T>
class Receiver;
template <typename T>
std::pair<Sender<T>, Receiver<T>> make_channel(std::size_t capacity);

namespace detail {

/// A sender waiting for space; `admitted` is called exactly once, under the channel lock.
template <typename T>
class ChannelWaiter {
 public:
  std::optional<T> item;
  ChannelWaiter* next = nullptr;
  virtual void admitted(Result<void> r) noexcept = 0;

 protected:
  ~ChannelWaiter() = default;
};

/// State shared by the senders, the receiver and the stream (reference-counted).
template <typename T>
class ChannelState {
 public:
  explicit ChannelState(std::size_t capacity) : capacity_(capacity) {}

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- senders (any thread) ---
  void add_sender() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++senders_;
  }
  void drop_sender() noexcept {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = --senders_ == 0;
    }
    if (last) close();
  }
  /// `item` is moved from only on success.
  template <typename U>
  Result<void> try_push(U&& item) {
    RefPtr<CellBase> wake;
    Result<void> r;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      r = admit_locked(std::forward<U>(item), wake);
    }
    if (wake) wake->notify_stream();
    return r;
  }
  /// Enqueues `w.item` now (returns the result; `admitted` is not called) or queues `w`
  /// (returns nullopt; `admitted` is called later, from another thread possibly).
  std::optional<Result<void>> push_or_wait(ChannelWaiter<T>& w) {
    RefPtr<CellBase> wake;
    Result<void> r;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      r = admit_locked(std::move(*w.item), wake);
      if (r.is(Errc::mailbox_full)) {
        w.next = nullptr;
        (waiters_tail_ ? waiters_tail_->next : waiters_head_) = &w;
        waiters_tail_ = &w;
        return std::nullopt;
      }
      if (r) w.item.reset();
    }
    if (wake) wake->notify_stream();
    return r;
  }
  /// The executor a blocked sender should drive (the consumer's), or nullptr if unattached.
  Executor* consumer_executor() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cell_ ? &cell_->env().executor() : nullptr;
  }
  /// No more items: waiting senders fail; the consumer drains what is buffered, then ends.
  void close() noexcept {
    RefPtr<CellBase> wake;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      closed_ = true;
      fail_waiters_locked();
      wake = mark_ready_locked();
    }
    if (wake) wake->notify_stream();
  }
  bool is_closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_ || receiver_gone_;
  }

  // --- receiver / stream (cell thread once attached) ---
  /// Attaches the consumer; `source.ready` is raised at once if there is something to read.
  void attach(CellBase& cell, StreamSource& source) {
    std::lock_guard<std::mutex> lock(mutex_);
    cell_ = RefPtr<CellBase>(&cell);
    source_ = &source;
    source.ready.store(!items_.empty() || closed_, std::memory_order_release);
  }
  /// The receiving end is gone: drop buffered items, fail senders from now on.
  void drop_receiver() noexcept {
    std::deque<T> doomed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      receiver_gone_ = true;
      cell_.reset();
      source_ = nullptr;
      fail_waiters_locked();
      doomed.swap(items_);
    }
    // Items are destroyed outside the lock: their destructors are user code.
  }
  enum class Take : unsigned char { item, empty, ended };
  /// Takes the next item into `out`, admitting the oldest waiting sender into the freed slot.
  /// Clears the stream's ready flag when nothing is left (under the lock, so a concurrent
  /// push raises it again).
  Take take(std::optional<T>& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (items_.empty()) {
      if (closed_) return Take::ended;
      if (source_) source_->ready.store(false, std::memory_order_release);
      return Take::empty;
    }
    out.emplace(std::move(items_.front()));
    items_.pop_front();
    if (ChannelWaiter<T>* w = waiters_head_) {
      waiters_head_ = w->next;
      if (waiters_head_ == nullptr) waiters_tail_ = nullptr;
      items_.push_back(std::move(*w->item));
      w->item.reset();
      w->admitted(ok());  // last touch of `w`
    }
    if (items_.empty() && !closed_ && source_) {
      source_->ready.store(false, std::memory_order_release);
    }
    return Take::item;
  }

 private:
  ~ChannelState() = default;

  /// Buffers `item` if the channel is open, has room and no sender waits (FIFO: nobody
  /// overtakes a waiting sender); `item` is moved from only then. Sets `wake` to the consumer
  /// to notify (after unlocking) when the stream just became ready.
  template <typename U>
  Result<void> admit_locked(U&& item, RefPtr<CellBase>& wake) {
    if (closed_ || receiver_gone_) return fail(Errc::channel_closed);
    if (items_.size() >= capacity_ || waiters_head_ != nullptr) return fail(Errc::mailbox_full);
    items_.push_back(std::forward<U>(item));
    wake = mark_ready_locked();
    return ok();
  }
  RefPtr<CellBase> mark_ready_locked() {
    if (source_ && !source_->ready.exchange(true, std::memory_order_acq_rel)) return cell_;
    return {};
  }
  void fail_waiters_locked() noexcept {
    while (ChannelWaiter<T>* w = waiters_head_) {
      waiters_head_ = w->next;
      w->admitted(fail(Errc::channel_closed));
    }
    waiters_tail_ = nullptr;
  }

  std::atomic<int> refs_{1};
  std::mutex mutex_;
  std::deque<T> items_;
  const std::size_t capacity_;
  int senders_ = 1;
  bool closed_ = false;
  bool receiver_gone_ = false;
  RefPtr<CellBase> cell_;           // the consuming actor, while attached
  StreamSource* source_ = nullptr;  // its stream, while attached
  ChannelWaiter<T>* waiters_head_ = nullptr;
  ChannelWaiter<T>* waiters_tail_ = nullptr;
};

}  // namespace detail

/// `sender.send(item)`: waits for space. `co_await` it in an async handler, or call `.get()`
/// on a plain thread. Result: ok, or `channel_closed`. Lazy: nothing happens until awaited.
template <typename T>
class [[nodiscard]] ChannelSendOp final : private detail::ChannelWaiter<T> {
 public:
  ChannelSendOp(detail::RefPtr<detail::ChannelState<T>> state, T value)
      : state_(std::move(state)) {
    this->item.emplace(std::move(value));
  }
  ChannelSendOp(ChannelSendOp&& o) noexcept : state_(std::move(o.state_)) {
    this->item = std::move(o.item);
  }
  ChannelSendOp& operator=(ChannelSendOp&&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    resume_.handle = h;
    resume_.executor = detail::current_executor();
    CINEYMA_ASSERT_MSG(resume_.executor, "co_await Sender::send() outside an actor");
    std::optional<Result<void>> now = state_->push_or_wait(*this);
    if (!now) return true;  // queued: admitted() posts the resumption
    result_ = *now;
    return false;           // done at once: resume without suspending
  }
  Result<void> await_resume() noexcept { return result_; }

  /// Blocking form, for non-actor threads.
  Result<void> get() && {
    CINEYMA_ASSERT_MSG(detail::current_executor() == nullptr,
                       "blocking Sender::send().get() inside an actor: co_await instead");
    BlockingEvent ev;
    event_ = &ev;
    if (std::optional<Result<void>> now = state_->push_or_wait(*this)) return *now;
    if (Executor* ex = state_->consumer_executor()) {
      if (!ev.is_set_settled()) detail::block_on(*ex, ev);
    } else {
      ev.wait();
    }
    return result_;
  }

 private:
  void admitted(Result<void> r) noexcept override {
    result_ = r;
    if (event_) {
      event_->set();
    } else {
      resume_.executor->post(resume_);
    }
  }

  detail::RefPtr<detail::ChannelState<T>> state_;
  Result<void> result_;
  detail::ResumeRunnable resume_;
  BlockingEvent* event_ = nullptr;
};

/// The sending end of a channel. Copyable; thread-safe; see the file comment.
template <typename T>
class Sender {
 public:
  Sender(const Sender& o) : state_(o.state_) {
    if (state_) state_->add_sender();
  }
  Sender(Sender&& o) noexcept = default;
  Sender& operator=(Sender o) noexcept {
    std::swap(state_, o.state_);
    return *this;
  }
  ~Sender() {
    if (state_) state_->drop_sender();
  }

  /// Enqueues without waiting: ok, `mailbox_full` (the channel is full, or senders are
  /// waiting), or `channel_closed`. On failure `item` is left untouched.
  Result<void> try_send(T&& item) { return state_->try_push(std::move(item)); }
  Result<void> try_send(const T& item) { return state_->try_push(item); }
  /// Enqueues, waiting for space (see ChannelSendOp).
  ChannelSendOp<T> send(T item) { return ChannelSendOp<T>(state_, std::move(item)); }
  /// Closes the channel for every sender: buffered items are still delivered, then the
  /// stream ends. Waiting senders fail with `channel_closed`. Idempotent.
  void close() noexcept { state_->close(); }
  /// True once closed, or once the receiving end is gone.
  bool is_closed() const { return state_->is_closed(); }

 private:
  template <typename U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(std::size_t capacity);
  explicit Sender(detail::RefPtr<detail::ChannelState<T>> s) noexcept : state_(std::move(s)) {}
  detail::RefPtr<detail::ChannelState<T>> state_;
};

/// The receiving end of a channel: hand it to `ctx.add_stream`. Move-only. Dropping it
/// closes the channel for the senders (see the file comment).
template <typename T>
class Receiver {
 public:
  Receiver(Receiver&& o) noexcept = default;
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      reset();
      state_ = std::move(o.state_);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() { reset(); }

  /// Runtime use (add_stream): takes the shared state out of this receiver.
  detail::RefPtr<detail::ChannelState<T>> release_state() noexcept { return std::move(state_); }

 private:
  template <typename U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(std::size_t capacity);
  explicit Receiver(detail::RefPtr<detail::ChannelState<T>> s) noexcept : state_(std::move(s)) {}
  void reset() noexcept {
    if (state_) state_->drop_receiver();
    state_.reset();
  }
  detail::RefPtr<detail::ChannelState<T>> state_;
};

/// Creates a channel buffering at most `capacity` items (capacity > 0, assertion).
template <typename T>
std::pair<Sender<T>, Receiver<T>> make_channel(std::size_t capacity) {
  CINEYMA_ASSERT_MSG(capacity > 0, "a channel needs a capacity of at least 1");
  auto state = detail::RefPtr<detail::ChannelState<T>>::adopt(new detail::ChannelState<T>(capacity));
  return {Sender<T>(state), Receiver<T>(state)};
}

}  // namespace cineyma
