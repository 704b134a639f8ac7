// src/asio/transport.cpp — TCP byte streams over Asio (the design is in transport.hpp).
#include "transport.hpp"

#include <cineyma/assert.hpp>

#include "asio_headers.hpp"
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>

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

/// What a stream's pending operations share with it. `socket` is touched on the io thread
/// only; `remote` and `fd` are immutable once constructed.
struct StreamState {
  StreamState(asio::io_context& context, tcp::socket s, Endpoint peer)
      : io(context), socket(std::move(s)), remote(std::move(peer)), fd(socket.native_handle()) {}
  asio::io_context& io;
  tcp::socket socket;
  const Endpoint remote;
  // Set by the first close(): later calls (and the destructor's) post nothing more.
  std::atomic<bool> close_requested{false};
  // The fast write path (try_write) uses the descriptor from the caller's thread, outside
  // Asio. The io thread takes this lock to close the socket, so that the descriptor cannot be
  // closed — and its number reused by another socket — in the middle of such a write.
  const int fd;
  std::mutex fd_mutex;
  bool fd_closed = false;  // guarded by fd_mutex
};

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
    try {
      asio::post(state_->io, [s = state_] {
        // shutdown first so that the peer sees an orderly FIN after the bytes already
        // queued; close() then cancels our pending operations (operation_aborted, which
        // callers see as `disconnected`). Errors are moot: the socket is going away.
        std::lock_guard<std::mutex> lock(s->fd_mutex);  // no try_write in the middle
        s->fd_closed = true;
        std::error_code ignored;
        s->socket.shutdown(tcp::socket::shutdown_both, ignored);
        s->socket.close(ignored);
      });
    } catch (const std::exception& e) {  // only an allocation failure can get here
      spdlog::error("cineyma: could not schedule the close of a stream: {}", e.what());
    }
  }

  Endpoint remote_endpoint() const override { return state_->remote; }

 private:
  std::shared_ptr<StreamState> state_;
};

/// Wraps a connected socket. Io thread.
std::unique_ptr<ByteStream> make_stream(asio::io_context& io, tcp::socket socket) {
  std::error_code ec;
  // Frames are small and latency-bound (requests, replies, heartbeats): Nagle's algorithm
  // would hold them back waiting for an ACK. Batching is the framing layer's job.
  socket.set_option(tcp::no_delay(true), ec);
  // Cached now because remote_endpoint() may be called from any thread, and read even after
  // the peer is gone. It can only fail if the peer already left; reads will then tell.
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  auto state = std::make_shared<StreamState>(io, std::move(socket),
                                             ec ? Endpoint{} : to_endpoint(peer));
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
        done(make_stream(s->io, std::move(socket)));
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
          done(make_stream(io, std::move(*socket)));
        });
  });
}

}  // namespace cineyma::real
