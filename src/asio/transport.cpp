// src/asio/transport.cpp — TCP byte streams over Asio (the design is in transport.hpp).
#include "transport.hpp"

#include <cineyma/assert.hpp>

#include "asio_headers.hpp"
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <cerrno>
#include <poll.h>

#include <sys/socket.h>
#include <sys/types.h>

namespace cineyma::real {

namespace {

using asio::ip::tcp;

Result<asio::ip::address> parse_host(const std::string& host) {
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host.empty() ? "127.0.0.1" : host, ec);
  if (ec) return fail(Errc::invalid_argument);
  return address;
}

Endpoint to_endpoint(const tcp::endpoint& ep) {
  return Endpoint{ep.address().to_string(), ep.port()};
}

// How long a caller reading its answer (read_here) polls the socket before it sleeps in poll(2):
// the same budget as a thread blocked on an event (executor.cpp).
#ifndef CINEYMA_BLOCK_SPIN_US
#define CINEYMA_BLOCK_SPIN_US 50
#endif
constexpr std::chrono::nanoseconds kReadSpin{std::chrono::microseconds{CINEYMA_BLOCK_SPIN_US}};

/// Reads the io thread makes on one socket before it lets other handlers run (on_readable).
constexpr int kReadsPerTurn = 16;

/// Who reads a stream's socket at the moment (see "Reading" in transport.hpp).
enum class Reader : std::uint8_t { none, io, caller };

/// What one attempt to read the pending read's bytes came to.
enum class ReadStep : std::uint8_t {
  completed,    // the pending read completed (bytes or an error); another may be pending now
  would_block,  // no bytes yet: the read is still pending
  no_read,      // no read is pending
};

/// What a stream's pending operations share with it. `socket` is touched on the io thread
/// only; `remote` and `fd` are immutable once constructed.
struct StreamState {
  StreamState(asio::io_context& context, tcp::socket s, Endpoint peer, bool readable_by_callers)
      : io(context), socket(std::move(s)), remote(std::move(peer)),
        caller_reads(readable_by_callers), fd(socket.native_handle()) {}
  asio::io_context& io;
  tcp::socket socket;
  const Endpoint remote;
  // Reads are ours (below), so that read_here can take them over; otherwise (the streams a
  // listener accepts, which nobody blocks on) they are Asio's async_read_some.
  const bool caller_reads;
  // Set by the first close(): later calls (and the destructor's) post nothing more.
  std::atomic<bool> close_requested{false};
  // try_write and a caller's reads use the descriptor from other threads, outside Asio. The
  // io thread closes it only once it has marked it closed under this lock and no such system
  // call is still running (`fd_users`), so that the descriptor cannot be closed — and its
  // number reused by another socket — in the middle of one.
  const int fd;
  std::mutex fd_mutex;
  bool fd_closed = false;  // guarded by fd_mutex
  std::atomic<int> fd_users{0};

  // Reading: the one read the connection has asked for, and who performs it.
  std::mutex read_mutex;  // guards the members from `reader` to `done`
  // (close_requested is read under it too: close() sets it before taking this lock)
  Reader reader = Reader::none;
  bool missed = false;   // the socket signalled readable while a caller was reading
  int caller_signals = 0;    // how often, during this caller's turn
  bool wait_parked = false;  // the io thread stopped waiting for the caller's turn to end
  std::span<std::byte> into;
  std::function<void(Result<std::size_t>)> done;  // empty: no read pending
  bool wait_armed = false;  // io thread only: an async_wait for readability is outstanding

  /// Claims the descriptor for one system call from a thread other than the io thread's
  /// close; false once it is closed.
  bool enter_fd() {
    std::lock_guard<std::mutex> lock(fd_mutex);
    if (fd_closed) return false;
    fd_users.fetch_add(1, std::memory_order_acq_rel);
    return true;
  }
  void leave_fd() noexcept { fd_users.fetch_sub(1, std::memory_order_acq_rel); }
};

/// One non-blocking attempt at the pending read, by its current reader (`reader` is ours).
/// Runs the read's completion handler on this thread when the read completes.
ReadStep read_once(StreamState& s) {
  std::span<std::byte> into;
  std::function<void(Result<std::size_t>)> done;
  {
    std::lock_guard<std::mutex> lock(s.read_mutex);
    if (!s.done) return ReadStep::no_read;
    into = s.into;
    done = std::move(s.done);
    s.done = nullptr;
  }
  ssize_t n = -1;
  int err = 0;
  if (s.enter_fd()) {
    n = ::recv(s.fd, into.data(), into.size(), MSG_DONTWAIT);
    err = errno;
    s.leave_fd();
  } else {
    n = 0;  // closed by us: the same as the peer's end for the connection above
  }
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) {
    std::lock_guard<std::mutex> lock(s.read_mutex);
    s.into = into;
    s.done = std::move(done);
    return ReadStep::would_block;  // (EINTR: the next attempt retries at once)
  }
  if (n > 0) {
    done(static_cast<std::size_t>(n));
  } else if (n == 0) {
    done(fail(Errc::disconnected));
  } else {
    done(fail(map_transport_error(std::error_code(err, asio::error::get_system_category()))));
  }
  return ReadStep::completed;
}

void on_readable(const std::shared_ptr<StreamState>& s);
void arm_wait(const std::shared_ptr<StreamState>& s);

/// Gives reading up. False when the caller must read once more first: the socket signalled
/// readable while it read (`missed`), and those bytes may be in it still, with no further
/// signal to come.
bool release_reader(const std::shared_ptr<StreamState>& state, Reader me) {
  StreamState& s = *state;
  std::function<void(Result<std::size_t>)> orphan;
  bool resume_io = false;
  {
    std::lock_guard<std::mutex> lock(s.read_mutex);
    if (me == Reader::caller && s.missed) {
      s.missed = false;
      return false;
    }
    s.reader = Reader::none;
    resume_io = std::exchange(s.wait_parked, false);
    // Closed while we read: the close left the pending read to us, and after us nobody
    // would complete it (its handler holds the connection: it would never be freed).
    if (s.close_requested.load(std::memory_order_acquire) && s.done) {
      orphan = std::move(s.done);
      s.done = nullptr;
    }
  }
  if (orphan) orphan(fail(Errc::disconnected));
  // The io thread's wait, parked during our turn (on_readable), resumes: reading and waiting
  // are its job again. (It also reads whatever came after our last attempt.)
  if (resume_io) asio::post(s.io, [state] { on_readable(state); });
  return true;
}

/// The socket may be readable (its wait completed, or a read was asked for while nobody was
/// reading). Io thread.
void on_readable(const std::shared_ptr<StreamState>& s) {
  bool mine = false;
  {
    std::lock_guard<std::mutex> lock(s->read_mutex);
    if (s->reader == Reader::caller) {
      s->missed = true;  // the caller reads these bytes; it must know they came
      // Asio re-arms a wait with epoll_ctl(MOD), which signals again at once while the bytes
      // are still unread: waiting on would spin until the caller has read them. The first
      // signal of a turn re-arms (the caller has usually read them by then); a second one
      // parks the wait, and the caller's release resumes it.
      if (++s->caller_signals > 1) {
        s->wait_parked = true;
        return;
      }
    } else if (s->reader == Reader::none && s->done) {
      s->reader = Reader::io;
      mine = true;
    }
  }
  if (mine) {
    // Until EAGAIN, as Asio's reactor reads (each completion asks for the next read at once),
    // but a bounded number of reads per turn: a peer that sends without pause must not keep
    // the io thread — its timers and every other socket — to itself.
    ReadStep step = ReadStep::completed;
    for (int reads = 0; reads < kReadsPerTurn && step == ReadStep::completed; ++reads) {
      step = read_once(*s);
    }
    static_cast<void>(release_reader(s, Reader::io));
    if (step == ReadStep::completed) {
      // Not drained: no new edge will signal what is left, so come back after the others.
      asio::post(s->io, [s] { on_readable(s); });
    }
  }
  arm_wait(s);
}

/// Keeps one wait for readability outstanding while the socket is open. The socket sits in
/// Asio's edge-triggered epoll set: bytes that come while nobody waits are picked up by the
/// read that follows, which tries recv(2) before it waits (on_readable). Io thread.
void arm_wait(const std::shared_ptr<StreamState>& s) {
  if (s->wait_armed || !s->socket.is_open()) return;
  s->wait_armed = true;
  s->socket.async_wait(tcp::socket::wait_read, [s](const std::error_code& ec) {
    s->wait_armed = false;
    if (ec == asio::error::operation_aborted) return;  // closed: close() completes the read
    on_readable(s);  // (any other error: the recv reports it to the read)
  });
}

class AsioByteStream final : public ByteStream {
 public:
  explicit AsioByteStream(std::shared_ptr<StreamState> state) noexcept : state_(std::move(state)) {}
  ~AsioByteStream() override { close(); }
  AsioByteStream(const AsioByteStream&) = delete;
  AsioByteStream& operator=(const AsioByteStream&) = delete;

  void async_read_some(std::span<std::byte> into,
                       std::function<void(Result<std::size_t>)> done) override {
    CINEYMA_ASSERT_MSG(!into.empty(), "a read must have room for at least one byte");
    CINEYMA_ASSERT(done);
    if (!state_->caller_reads) {
      asio_read_some(into, std::move(done));
      return;
    }
    bool nobody_reads = false;
    {
      std::lock_guard<std::mutex> lock(state_->read_mutex);
      CINEYMA_ASSERT_MSG(!state_->done, "one read at a time");
      if (state_->close_requested.load(std::memory_order_acquire)) {
        // Not kept in the state (see close()): completed by the io thread, or destroyed with
        // its queue.
        asio::post(state_->io, [done = std::move(done)] { done(fail(Errc::disconnected)); });
        return;
      }
      state_->into = into;
      state_->done = std::move(done);
      nobody_reads = state_->reader == Reader::none;
    }
    // Asked from a read completion (the common case), the reader that ran it goes on with
    // this read when the completion returns. Otherwise (the first read) the io thread
    // starts it: posted, so that the completion is never inline in this call.
    if (nobody_reads) asio::post(state_->io, [s = state_] { on_readable(s); });
  }

  bool read_here(const std::function<bool()>& keep_going,
                 std::chrono::nanoseconds max_wait) override;

  /// Reading through Asio's reactor, for streams that no caller reads.
  void asio_read_some(std::span<std::byte> into, std::function<void(Result<std::size_t>)> done) {
    // dispatch, not post: from the io thread (a read completion asking for the next read, the
    // common case) the operation starts at once instead of after a trip through the queue.
    // Only the initiation can run inline; the completion never does (Asio guarantees it).
    asio::dispatch(state_->io, [s = state_, into, done = std::move(done)]() mutable {
      // The completion handler holds `s`: the socket outlives the operation even if the
      // stream object is destroyed meanwhile.
      s->socket.async_read_some(
          asio::buffer(into.data(), into.size()),
          [s, done = std::move(done)](const std::error_code& ec, std::size_t n) {
            if (ec) {
              done(fail(map_transport_error(ec)));
              return;
            }
            done(n);
          });
    });
  }

  void async_write(std::span<const std::byte> bytes,
                   std::function<void(Result<void>)> done) override {
    CINEYMA_ASSERT(done);
    asio::dispatch(state_->io, [s = state_, bytes, done = std::move(done)]() mutable {
      // asio::async_write loops over partial writes until everything is sent or it fails.
      asio::async_write(s->socket, asio::buffer(bytes.data(), bytes.size()),
                        [s, done = std::move(done)](const std::error_code& ec, std::size_t) {
                          if (ec) {
                            done(fail(map_transport_error(ec)));
                            return;
                          }
                          done(ok());
                        });
    });
  }

  std::size_t try_write(std::span<const std::byte> bytes) noexcept override {
    if (bytes.empty()) return 0;
    std::lock_guard<std::mutex> lock(state_->fd_mutex);
    if (state_->fd_closed) return 0;
    // A plain non-blocking send(2) next to Asio's reactor: the socket is in non-blocking mode
    // for Asio anyway, and a write does not disturb a pending read's registration. Whatever
    // does not fit now (EAGAIN) or fails goes through async_write, which reports the error.
    // MSG_NOSIGNAL: a peer that left must give EPIPE, not SIGPIPE.
    const ssize_t n = ::send(state_->fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  void close() noexcept override {
    if (state_->close_requested.exchange(true, std::memory_order_acq_rel)) return;
    // A pending read that nobody is performing goes with the close: completed when it runs,
    // or destroyed with it if the io thread stops first. Left in the state, its handler
    // (which holds the connection, which holds this stream) would keep all three alive.
    std::function<void(Result<std::size_t>)> pending;
    {
      std::lock_guard<std::mutex> lock(state_->read_mutex);
      if (state_->reader == Reader::none) {
        pending = std::move(state_->done);
        state_->done = nullptr;
      }
    }
    try {
      asio::post(state_->io, [s = state_, pending = std::move(pending)] {
        // shutdown first so that the peer sees an orderly FIN after the bytes already
        // queued; close() then cancels our pending operations (operation_aborted, which
        // callers see as `disconnected`), and the pending read completes with
        // `disconnected` too. Errors are moot: the socket is going away.
        {
          std::lock_guard<std::mutex> lock(s->fd_mutex);  // no try_write starts after this
          s->fd_closed = true;
          std::error_code ignored;
          s->socket.shutdown(tcp::socket::shutdown_both, ignored);
        }
        // A caller reading the socket returns from its recv/poll at once after the shutdown;
        // only then may the descriptor go.
        while (s->fd_users.load(std::memory_order_acquire) != 0) std::this_thread::yield();
        std::error_code ignored;
        s->socket.close(ignored);  // the outstanding wait completes with operation_aborted
        // The pending read completes now; one a reader held at close() is completed by that
        // reader (or by its release_reader, which sees close_requested).
        if (pending) pending(fail(Errc::disconnected));
      });
    } catch (const std::exception& e) {  // only an allocation failure can get here
      spdlog::error("cineyma: could not schedule the close of a stream: {}", e.what());
    }
  }

  Endpoint remote_endpoint() const override { return state_->remote; }

 private:
  std::shared_ptr<StreamState> state_;
};

bool AsioByteStream::read_here(const std::function<bool()>& keep_going,
                               std::chrono::nanoseconds max_wait) {
  StreamState& s = *state_;
  if (!s.caller_reads) return false;
  // The io thread's turns are short (a read or a few, then it waits): while it has one, poll
  // for its end within the spin budget, as the caller would poll for the answer anyway.
  const auto io_turn_until = std::chrono::steady_clock::now() + kReadSpin;
  for (;;) {
    if (!keep_going()) return false;
    {
      std::lock_guard<std::mutex> lock(s.read_mutex);
      if (s.reader == Reader::none && s.done &&
          !s.close_requested.load(std::memory_order_acquire)) {
        s.reader = Reader::caller;
        s.missed = false;
        s.caller_signals = 0;
        break;
      }
      if (s.reader != Reader::io) return false;  // a caller reads, or nothing to read
    }
    if (std::chrono::steady_clock::now() >= io_turn_until) return false;
    std::this_thread::yield();
  }
  // Spin first, then sleep in poll(2), as block_until does for an event: an answer usually
  // comes within a few tens of microseconds, and a thread that keeps its CPU busy sees it
  // without the wake-up of an idle CPU, which on a VM costs more than the whole exchange.
  // sched_yield between attempts leaves the CPU to any thread the kernel put beside us.
  const auto start = std::chrono::steady_clock::now();
  const auto spin_until = start + kReadSpin;
  // (Clamped: a caller may mean "no deadline" with a huge one, and the sum must not wrap.)
  const auto give_up = start + std::min(max_wait, std::chrono::nanoseconds(std::chrono::hours(24)));
  while (keep_going()) {
    const ReadStep step = read_once(s);
    if (step == ReadStep::completed) continue;
    if (step == ReadStep::no_read) break;  // the stream ended (or its owner stopped reading)
    const auto now = std::chrono::steady_clock::now();
    if (now >= give_up) break;
    if (now < spin_until) {
      std::this_thread::yield();
      continue;
    }
    if (!s.enter_fd()) continue;  // closed: the next attempt completes the read
    // Woken by bytes, by the peer's end, or by our own close's shutdown. Bounded, so that a
    // missed wake-up could only ever cost a slice, never the call.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up - now);
    pollfd p{s.fd, POLLIN | POLLRDHUP, 0};
    static_cast<void>(::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 100))));
    s.leave_fd();
  }
  while (!release_reader(state_, Reader::caller)) {
    while (read_once(s) == ReadStep::completed) {
    }
  }
  return true;
}

/// Wraps a connected socket. Io thread.
std::unique_ptr<ByteStream> make_stream(asio::io_context& io, tcp::socket socket,
                                        bool caller_reads) {
  std::error_code ec;
  // Frames are small and latency-bound (requests, replies, heartbeats): Nagle's algorithm
  // would hold them back waiting for an ACK. Batching is the framing layer's job.
  socket.set_option(tcp::no_delay(true), ec);
  // Cached now because remote_endpoint() may be called from any thread, and read even after
  // the peer is gone. It can only fail if the peer already left; reads will then tell.
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  auto state = std::make_shared<StreamState>(io, std::move(socket),
                                             ec ? Endpoint{} : to_endpoint(peer), caller_reads);
  return std::make_unique<AsioByteStream>(std::move(state));
}

struct ListenerState {
  explicit ListenerState(asio::io_context& context) : io(context), acceptor(context) {}
  asio::io_context& io;
  tcp::acceptor acceptor;  // io thread only, once the listener is handed out
  Endpoint local;          // immutable once the listener is handed out
  std::atomic<bool> close_requested{false};
};

using AcceptHandler = std::function<void(Result<std::unique_ptr<ByteStream>>)>;

/// Io thread.
void start_accept(const std::shared_ptr<ListenerState>& s, AcceptHandler done) {
  s->acceptor.async_accept(
      [s, done = std::move(done)](const std::error_code& ec, tcp::socket socket) mutable {
        if (ec == asio::error::connection_aborted) {
          // A client that connected and reset before we accepted it. That is no failure of
          // the listener, and reporting `disconnected` here would read as "listener closed";
          // wait for the next one instead.
          start_accept(s, std::move(done));
          return;
        }
        if (ec) {
          done(fail(map_transport_error(ec)));
          return;
        }
        done(make_stream(s->io, std::move(socket), false));
      });
}

class AsioListener final : public Listener {
 public:
  explicit AsioListener(std::shared_ptr<ListenerState> state) noexcept : state_(std::move(state)) {}
  ~AsioListener() override { close(); }
  AsioListener(const AsioListener&) = delete;
  AsioListener& operator=(const AsioListener&) = delete;

  void async_accept(AcceptHandler done) override {
    CINEYMA_ASSERT(done);
    asio::post(state_->io, [s = state_, done = std::move(done)]() mutable {
      start_accept(s, std::move(done));
    });
  }

  Endpoint local_endpoint() const override { return state_->local; }

  void close() noexcept override {
    if (state_->close_requested.exchange(true, std::memory_order_acq_rel)) return;
    try {
      asio::post(state_->io, [s = state_] {
        std::error_code ignored;
        s->acceptor.close(ignored);  // a pending accept completes with operation_aborted
      });
    } catch (const std::exception& e) {  // only an allocation failure can get here
      spdlog::error("cineyma: could not schedule the close of a listener: {}", e.what());
    }
  }

 private:
  std::shared_ptr<ListenerState> state_;
};

}  // namespace

std::error_code map_transport_error(const std::error_code& ec) noexcept {
  CINEYMA_ASSERT(ec);
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
      ec == asio::error::shut_down || ec == asio::error::not_connected ||
      ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    return make_error_code(Errc::disconnected);
  }
  // Standalone Asio reports OS errors in its own "asio.system" category, which does not map
  // them to std::errc conditions; the standard system category does, so that callers can
  // write `ec == std::errc::connection_refused`.
  if (ec.category() == asio::error::get_system_category()) {
    return std::error_code(ec.value(), std::system_category());
  }
  return ec;
}

Result<std::unique_ptr<Listener>> RealTransport::listen(const Endpoint& at) {
  Result<asio::ip::address> address = parse_host(at.host);
  if (!address) return fail(address.error());
  const tcp::endpoint endpoint(*address, at.port);

  // The acceptor is set up synchronously on the calling thread: until it is handed out in a
  // Listener, no other thread can reach it, so this does not break the io-thread-only rule.
  auto state = std::make_shared<ListenerState>(io_);
  tcp::acceptor& acceptor = state->acceptor;
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint bound;
  if (!ec) bound = acceptor.local_endpoint(ec);  // the real port when 0 was asked for
  if (ec) return fail(map_transport_error(ec));
  state->local = to_endpoint(bound);
  return std::unique_ptr<Listener>(std::make_unique<AsioListener>(std::move(state)));
}

void RealTransport::async_connect(const Endpoint& to, AcceptHandler done) {
  CINEYMA_ASSERT(done);
  Result<asio::ip::address> address = parse_host(to.host);
  if (!address) {
    // Even an immediate failure completes on the io thread: never inline.
    asio::post(io_, [done = std::move(done), ec = address.error()] { done(fail(ec)); });
    return;
  }
  const tcp::endpoint endpoint(*address, to.port);
  asio::post(io_, [&io = io_, endpoint, done = std::move(done)]() mutable {
    auto socket = std::make_shared<tcp::socket>(io);
    socket->async_connect(
        endpoint, [&io, socket, done = std::move(done)](const std::error_code& ec) mutable {
          if (ec) {
            done(fail(map_transport_error(ec)));
            return;
          }
          done(make_stream(io, std::move(*socket), true));
        });
  });
}

}  // namespace cineyma::real
