// src/remote/connection.hpp — one framed, authenticated connection (DESIGN §5, layers 2–4
// joined over layer 1). Shared by RemoteServer and RemoteClient.
//
// A Connection owns a ByteStream and drives it: the handshake first (with a deadline), then
// envelopes in both directions. Reading is one chain of reads — each completion decodes every
// complete frame, hands envelopes to the handler, then reads again — so the decoder and the
// handshake are only ever touched by that chain and need no lock; the envelopes of one read
// reach the handler together. Writing coalesces: frames sent while a write is in flight are
// appended to one buffer that goes out as the next single write, which is what makes
// pipelined requests cheap (one syscall for many frames). A lone request or answer (the
// caller says so: `direct`) is written by the sending thread itself when no write is in
// flight (`ByteStream::try_write`), instead of being handed to the transport's thread: it
// then costs no thread wake-up. Frames sent from executor tasks with others in flight are
// written by that worker too, once, after the tasks queued on it have added theirs
// (`Executor::post_after_queued`). What a direct write cannot place at once, and frames
// sent from other threads, go out through `async_write` on the transport's thread.
//
// Closing is idempotent and reports once (`on_closed`) with the reason. Whatever the peer
// does — garbage, a 4 GiB length, silence, a wrong secret — ends in a close with a log line
// that says why, and memory stays bounded: the read buffer by the frame limit, the write
// buffer by `max_outbound_bytes`.
//
// Threading: `send`, `queue`, `flush`, `close`, `bytes_handed` are safe from any thread.
// Handler callbacks run on transport threads — or on a thread in `read_here`, which reads
// for the connection meanwhile; `on_envelopes` calls for one connection never overlap.
#pragma once

#include <cineyma/env/environment.hpp>
#include <cineyma/remote/envelope.hpp>
#include <cineyma/remote/framing.hpp>
#include <cineyma/remote/handshake.hpp>
#include <cineyma/remote/router.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <cstdint>
#include <memory>
#include <cineyma/detail/spin_mutex.hpp>

#include <mutex>
#include <string>
#include <span>
#include <system_error>
#include <vector>

namespace cineyma::remote::internal {

class Connection;

/// What a connection reports to its owner.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  /// The handshake completed; envelopes may flow.
  virtual void on_established(Connection& c) = 0;
  /// Envelopes arrived (after the handshake), in the order sent: every one decoded from one
  /// read, so that a handler pays its own locking once per read rather than once per frame
  /// (pipelined traffic brings dozens per read). The handler may move from them.
  virtual void on_envelopes(Connection& c, std::span<Envelope> batch) = 0;
  /// The connection closed (once), for `why`: a transport error, `timeout` (handshake
  /// deadline), `auth_failed`, `frame_too_large`, `decode_error`, or `disconnected`.
  virtual void on_closed(Connection& c, std::error_code why, bool was_established) = 0;
};

struct ConnectionOptions {
  Handshake::Role role = Handshake::Role::client;
  HandshakeOptions handshake;
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  /// The whole handshake must finish within this.
  Duration handshake_timeout = std::chrono::seconds(5);
  /// Bytes queued for writing beyond which `send` refuses (`mailbox_full`): a peer that does
  /// not read cannot make us buffer without bound.
  std::size_t max_outbound_bytes = std::size_t{64} << 20;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Environment& env, std::unique_ptr<ByteStream> stream, ConnectionOptions options,
             std::shared_ptr<ConnectionHandler> handler, std::uint64_t id);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts the handshake and the read chain. Once.
  void start();

  /// Queues `e` as one frame and writes it (`flush(direct)`). Returns the connection's byte
  /// count at the end of that frame (compare with `bytes_handed()` to know whether it may have
  /// left), or `disconnected` (not established, or closed), `frame_too_large`, `mailbox_full`
  /// (outbound limit).
  Result<std::uint64_t> send(const Envelope& e, bool direct = false);

  /// `send` without the write: queues `e` as one frame and returns the same as `send`. The
  /// caller must call `flush()` afterwards — typically once it has released a lock of its own,
  /// so that no lock of the caller's is held across the write system call.
  Result<std::uint64_t> queue(const Envelope& e);

  /// Writes what is queued, unless a write is already in progress (which takes it along).
  /// `direct`: from the calling thread, as far as the stream takes the bytes at once — the
  /// fast path for a lone request or answer, which then costs no wake-up of the transport's
  /// thread. Otherwise the write is batched: called from an executor task, it is made by
  /// that worker once the tasks queued on it have run (`Executor::post_after_queued`), so the
  /// frames they add go out in the same system call and no other thread is woken for it.
  /// (Past `kDeferredFlushBytes` waiting, the transport's thread takes over: a task that
  /// sends a stream of frames has them drained meanwhile.) From any other thread, the write
  /// goes through the transport's thread, where frames queued meanwhile coalesce the same
  /// way. Whatever a direct write cannot place at once goes there too. Any thread.
  void flush(bool direct);

  /// Bytes handed to the transport so far (a frame ending at or below this may have been
  /// delivered; above it, certainly not).
  std::uint64_t bytes_handed() const;
  /// Bytes received so far (any thread): unchanged across an interval means the peer sent
  /// nothing during it.
  std::uint64_t bytes_received() const noexcept {
    return bytes_received_.load(std::memory_order_acquire);
  }

  /// Lets the calling thread, about to block on an answer, read this connection itself
  /// while `keep_going()` is true, for at most `max_wait` (`ByteStream::read_here`): the
  /// read chain — decoding, the handler's `on_envelopes`, `on_closed` — then runs on this
  /// thread meanwhile. False when it could not (not established, closed, another thread
  /// reading, or a transport without that path); the caller then waits as usual.
  /// A thread that may block, never the transport's.
  bool read_here(const std::function<bool()>& keep_going, std::chrono::nanoseconds max_wait);

  /// Closes (idempotent); `on_closed(why)` is reported once.
  void close(std::error_code why) noexcept;

  std::uint64_t id() const noexcept { return id_; }
  bool established() const noexcept { return established_.load(std::memory_order_acquire); }
  /// The peer; complete once established.
  const PeerInfo& peer() const noexcept { return handshake_.peer(); }
  Endpoint remote_endpoint() const { return remote_; }

  /// Requests dispatched and not yet answered (the server's per-connection limit).
  std::atomic<std::size_t> in_flight{0};
  /// Where answers to this connection's requests go (server side): set once before
  /// `start()`, shared by every Reply of the connection (one allocation per connection, not
  /// per request). It refers back to us weakly: no cycle.
  std::shared_ptr<ReplyChannel> reply_channel;

 private:
  void read_more();
  void on_read(Result<std::size_t> r);
  /// Processes every complete frame; false when the connection was closed meanwhile.
  bool process_frames();
  /// Hands the envelopes decoded so far to the handler (read chain).
  void deliver_batch();
  bool on_handshake_frame(std::span<const std::byte> body);
  void queue_raw_locked(const std::string& body);
  void flush_locked();
  /// The direct write of `flush(true)`. `lock` holds mutex_ on entry; it may be released.
  void flush_direct(std::unique_lock<cineyma::detail::SpinMutex>& lock);
  void on_written(Result<void> r);
  /// After a write finished (async or direct): hands on what was queued meanwhile; true when
  /// the connection must now close (close_after_flush and nothing left to write).
  bool write_done_locked();
  /// Something is queued, no write is in progress, and the connection is open.
  bool can_start_write_locked() const noexcept;
  /// Starts a write of everything queued: moves outbound_ to in_flight_ and counts it handed.
  void claim_write_locked();
  /// The write in progress is complete: releases the claim and the buffer.
  void end_write_locked();
  /// Rounds of `flush(direct)` on one call before the rest is left to the transport thread.
  static constexpr int kDirectRounds = 4;
  /// Bytes a batched flush (see `flush`) may leave waiting for the worker before the write
  /// is handed to the transport's thread instead.
  static constexpr std::size_t kDeferredFlushBytes = std::size_t{64} << 10;
  void close_after_flush(std::error_code why);
  const char* role_name() const noexcept;

  Environment& env_;
  const ConnectionOptions options_;
  const std::uint64_t id_;
  const Endpoint remote_;
  // Never reset: the owner drops its reference to us in on_closed, which breaks the cycle.
  const std::shared_ptr<ConnectionHandler> handler_;

  // Read chain only (no lock): one read at a time.
  FrameDecoder decoder_;
  Handshake handshake_;
  std::vector<Envelope> batch_;  // decoded from the current read, not yet handed over

  mutable cineyma::detail::SpinMutex mutex_;  // guards everything below and every call on stream_
  std::unique_ptr<ByteStream> stream_;
  std::string outbound_;   // frames waiting for the next write
  std::string in_flight_;  // the bytes of the write in progress
  // A write is in progress: an async_write, or a direct one by a thread in flush() (which
  // then uses in_flight_ and stream_ without the lock; nobody else touches in_flight_).
  bool writing_ = false;
  bool flush_posted_ = false;  // a batched flush waits in the executor (see flush())
  bool close_when_flushed_ = false;
  std::error_code close_reason_;
  std::uint64_t bytes_queued_ = 0;  // total bytes ever appended to outbound_
  std::uint64_t bytes_handed_ = 0;  // total bytes ever passed to async_write
  TimerId handshake_timer_ = 0;

  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<bool> established_{false};
  std::atomic<bool> closed_{false};
};

}  // namespace cineyma::remote::internal
