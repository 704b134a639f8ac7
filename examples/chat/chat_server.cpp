// examples/chat/chat_server.cpp — the room, session and acceptor actors (see chat_server.hpp).
//
// How data moves, and where each bound sits:
//
//   socket --read--> Session --do_send(Say/...)--> Room --try_send--> outbox channel --> Session
//                                                                         (outbox_lines)    |
//   socket <--write-- pending bytes (max_pending_bytes) <-- handle_stream ------------------+
//
// * Transport completions arrive on an environment thread; they only post a message
//   (ReadDone, WriteDone, Accepted) to the actor that started the operation, so every piece of
//   state is touched by its own actor only. One read and one write at most are in flight per
//   session, which is also what ByteStream requires.
// * Session -> Room uses `do_send`: a session whose room is busy stops reading its socket, so
//   a fast writer is slowed down by TCP itself instead of filling a queue.
// * Room -> Session never waits: the room `try_send`s into each member's outbox channel. A
//   full channel, or a session whose unwritten bytes would exceed its bound, means the client
//   cannot keep up: it gets `too_slow_line()` and is disconnected, and nobody else waits.
// * The room holds the only Sender of each outbox, so dropping it (on leave) ends that stream
//   once the session has taken what was queued before: a leaving client still sees every line
//   sent to it before its own departure, then its farewell.
#include "chat_server.hpp"

#include "chat_protocol.hpp"

#include <cineyma/assert.hpp>

#include <array>
#include <map>
#include <optional>
#include <span>
#include <utility>

namespace chat {

using cineyma::ActorId;
using cineyma::Addr;
using cineyma::ByteStream;
using cineyma::Errc;
using cineyma::Listener;
using cineyma::Result;

namespace {

/// What every actor of one server shares; immutable but for the counters.
struct Config {
  ChatOptions options;
  std::shared_ptr<ChatStats> stats;
};
using ConfigPtr = std::shared_ptr<const Config>;

/// The longest line the server itself produces, beyond a client's own text and name.
constexpr std::size_t kLineOverheadBytes = 128;

/// Session mailboxes carry only transport completions and control messages (at most one of
/// each kind at a time: ReadDone, WriteDone, Kick, DrainTimeout), never chat lines.
constexpr std::size_t kSessionMailbox = 16;

/// How long the acceptor waits after a failed accept (say, out of file descriptors) before
/// trying again: retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

/// Posts a transport completion to the actor that started the operation. Any thread.
template <typename A, typename M>
void post_completion(const Addr<A>& self, M msg) {
  Result<void> r = self.try_send(std::move(msg));
  // actor_stopped: nobody is waiting any more. mailbox_full cannot happen (see
  // kSessionMailbox), but a lost completion would leave the actor waiting forever, so it
  // would be stopped rather than hang.
  if (r.is(Errc::mailbox_full)) self.stop();
}

}  // namespace

// --- messages ----------------------------------------------------------------------------

class Session;

/// Acceptor -> Room: a new connection.
struct Join {
  std::unique_ptr<ByteStream> stream;
};
/// Session -> Room: a chat line from member `from` (cleaned, non-empty).
struct Say {
  ActorId from;
  std::string text;
};
/// Session -> Room: "/nick name".
struct ChangeName {
  ActorId from;
  std::string name;
};
/// Session -> Room: "/who".
struct Who {
  ActorId from;
};
/// Session -> Room: member `from` leaves (quit, end of input, too slow, broken connection).
struct Leave {
  ActorId from;
};
/// ChatServer -> Room: who is online.
struct ListMembers {
  using reply = std::vector<MemberInfo>;
};

/// Transport -> Session.
struct ReadDone {
  Result<std::size_t> bytes;
};
/// Transport -> Session.
struct WriteDone {
  Result<void> result;
};
/// Room -> Session: your outbox overflowed; you are no longer a member. Carries the outbox's
/// Sender so that the outbox cannot end (and the session close) before this arrives.
struct Kick {
  cineyma::Sender<std::string> outbox;
};
/// Session -> itself: the time allowed for a leaving client's last lines is over.
struct DrainTimeout {};

/// Transport -> Acceptor.
struct Accepted {
  Result<std::unique_ptr<ByteStream>> stream;
};
/// Acceptor -> itself, after a failed accept.
struct RetryAccept {};

// --- Session -------------------------------------------------------------------------------

/// One connection. Lifecycle: member (reading and writing) -> leaving (input dropped, the
/// room told, still writing what the room queued before the departure) -> closing (nothing
/// more to take; flushing what is pending, at most `drain_timeout`) -> stopped.
class Session : public cineyma::Actor<Session> {
 public:
  Session(std::unique_ptr<ByteStream> stream, cineyma::Receiver<std::string> outbox,
          Addr<Room> room, ConfigPtr config, bool admitted)
      : stream_(std::move(stream)),
        outbox_(std::move(outbox)),
        room_(std::move(room)),
        config_(std::move(config)),
        splitter_(config_->options.max_line_bytes),
        read_buffer_(std::make_shared<ReadBuffer>()),
        admitted_(admitted) {}

  void started(Context& ctx) {
    config_->stats->sessions_live.fetch_add(1, std::memory_order_relaxed);
    outbox_id_ = ctx.add_stream(std::move(outbox_));
    if (!admitted_) {
      // Refused (server full): the outbox holds one notice and is already closed; we only
      // deliver it. Input is read and dropped (see handle(ReadDone)).
      leaving_ = true;
      arm_drain_timeout(ctx);
    }
    start_read(ctx);
  }

  void stopped(Context&) {
    // Pending operations complete with an error on their own; their buffers live in them.
    if (stream_) stream_->close();
    config_->stats->sessions_live.fetch_sub(1, std::memory_order_relaxed);
  }

  cineyma::Task<void> handle(ReadDone m, Context& ctx) {
    reading_ = false;
    if (leaving_) {
      // Input after a departure is read and dropped until the end: closing a socket with
      // unread input makes TCP send a reset, which can destroy the last lines (the farewell,
      // the too-slow notice) before the client has read them.
      if (m.bytes) start_read(ctx);
      co_return;
    }
    std::vector<InputLine> lines;
    const bool ended = !m.bytes;  // end of input, reset, or our own close: all the same here
    if (!ended) {
      splitter_.feed(std::span<const std::byte>(read_buffer_->data(), *m.bytes), lines);
    } else if (std::optional<InputLine> last = splitter_.finish()) {
      lines.push_back(std::move(*last));
    }
    for (InputLine& line : lines) {
      co_await act_on(line, ctx);
      if (leaving_) break;  // what followed /quit is dropped
    }
    if (ended) {
      if (!leaving_) co_await leave(ctx);
      co_return;
    }
    start_read(ctx);
  }

  void handle(WriteDone m, Context& ctx);

  void handle(Kick, Context& ctx) { cut_off(ctx, /*tell_room=*/false); }

  void handle(DrainTimeout, Context& ctx) { close_now(ctx); }

  /// A line from the room.
  void handle_stream(std::string line, Context& ctx) { enqueue(std::move(line), ctx); }

  /// The room dropped this member's outbox (after Leave, or when refusing the connection),
  /// and everything queued before that has been taken.
  void finished(cineyma::StreamEnd<std::string>, Context& ctx) {
    if (closing_) return;
    leaving_ = true;
    closing_ = true;
    if (!farewell_.empty()) push(std::exchange(farewell_, {}), ctx);
    arm_drain_timeout(ctx);
    finish_if_flushed(ctx);
  }

 private:
  using ReadBuffer = std::array<std::byte, 4096>;

  const ChatOptions& options() const { return config_->options; }
  ChatStats& stats() const { return *config_->stats; }

  // Coroutine parameters and co_await operands here are named lvalues, never temporaries
  // with destructors: g++ 12 can destroy such temporaries twice across a suspension point.
  cineyma::Task<void> act_on(InputLine& line, Context& ctx) {
    if (line.kind == InputLine::Kind::overlong) {
      stats().overlong_lines.fetch_add(1, std::memory_order_relaxed);
      enqueue(line_too_long_line(options().max_line_bytes), ctx);
      co_return;
    }
    std::optional<Input> input = parse_input(clean_line(line.text));
    if (!input) co_return;
    switch (input->kind) {
      case Input::Kind::say: {
        Say say{ctx.id(), std::move(input->arg)};
        co_await tell_room(say, ctx);
        break;
      }
      case Input::Kind::nick: {
        ChangeName change{ctx.id(), std::move(input->arg)};
        co_await tell_room(change, ctx);
        break;
      }
      case Input::Kind::who: {
        Who who{ctx.id()};
        co_await tell_room(who, ctx);
        break;
      }
      case Input::Kind::quit:
        farewell_ = bye_line();
        co_await leave(ctx);
        break;
      case Input::Kind::help:
        enqueue(help_line(), ctx);
        break;
      case Input::Kind::unknown:
        enqueue(unknown_command_line(input->arg), ctx);
        break;
    }
  }

  /// Waits for room in the room's mailbox: while it is full this session reads no more, and
  /// TCP pushes back on its client.
  template <typename M>
  cineyma::Task<void> tell_room(M& msg, Context& ctx) {
    Result<void> r = co_await room_.do_send(std::move(msg));
    if (!r) close_now(ctx);  // the room is gone: the server is stopping
  }

  /// An orderly departure: drop further input, tell the room, and keep writing until the room
  /// has dropped our outbox (see `finished`); then `farewell_` (if any) goes last.
  cineyma::Task<void> leave(Context& ctx);

  /// The client cannot keep up: drop what the room still has for it, queue the notice, and
  /// close once it is written (or the drain time is over).
  void cut_off(Context& ctx, bool tell_room);

  /// Queues a line for the client, within the bound. The bound keeps room for the too-slow
  /// notice, so that one always fits and the total never exceeds max_pending_bytes.
  void enqueue(std::string line, Context& ctx) {
    if (closing_) return;
    const std::size_t limit = options().max_pending_bytes - too_slow_line().size();
    if (pending_bytes() + line.size() > limit) {
      cut_off(ctx, /*tell_room=*/true);
      return;
    }
    push(std::move(line), ctx);
  }

  void push(std::string line, Context& ctx) {
    queued_.append(line);
    const std::size_t pending = pending_bytes();
    CINEYMA_ASSERT(pending <= options().max_pending_bytes);
    stats().note_pending(pending);
    start_write(ctx);
  }

  std::size_t pending_bytes() const { return queued_.size() + in_flight_bytes_; }

  void start_read(Context& ctx) {
    if (reading_ || done_) return;
    reading_ = true;
    stream_->async_read_some(std::span<std::byte>(*read_buffer_),
                             [self = ctx.address(), keep = read_buffer_](Result<std::size_t> r) {
                               post_completion(self, ReadDone{std::move(r)});
                             });
  }

  /// Writes everything queued as one batch (one write in flight at most).
  void start_write(Context& ctx) {
    if (writing_ || queued_.empty() || done_) return;
    auto batch = std::make_shared<std::string>(std::move(queued_));
    queued_.clear();
    in_flight_bytes_ = batch->size();
    writing_ = true;
    stream_->async_write(std::as_bytes(std::span<const char>(batch->data(), batch->size())),
                         [self = ctx.address(), batch](Result<void> r) {
                           post_completion(self, WriteDone{r});
                         });
  }

  void finish_if_flushed(Context& ctx) {
    if (closing_ && !writing_ && queued_.empty()) close_now(ctx);
  }

  void arm_drain_timeout(Context& ctx) {
    if (drain_armed_) return;
    drain_armed_ = true;
    ctx.run_later(options().drain_timeout, DrainTimeout{});
  }

  void close_now(Context& ctx) {
    if (done_) return;
    done_ = true;
    leaving_ = true;
    closing_ = true;
    stream_->close();
    ctx.stop();
  }

  std::unique_ptr<ByteStream> stream_;
  cineyma::Receiver<std::string> outbox_;  // moved into the stream in started()
  cineyma::StreamId outbox_id_;
  Addr<Room> room_;
  ConfigPtr config_;
  LineSplitter splitter_;
  // Shared with the read in flight: it must outlive this instance if the read does.
  std::shared_ptr<ReadBuffer> read_buffer_;
  std::string queued_;              // taken from the outbox, not yet handed to a write
  std::size_t in_flight_bytes_ = 0; // handed to the write in flight
  std::string farewell_;            // the last line of an orderly departure
  bool admitted_;
  bool reading_ = false;
  bool writing_ = false;
  bool leaving_ = false;
  bool closing_ = false;
  bool drain_armed_ = false;
  bool done_ = false;
};

// --- Acceptor ------------------------------------------------------------------------------

/// Accepts connections one at a time and hands each to the room. Waiting for space in the
/// room's mailbox before accepting the next one is what bounds the rate of joins.
class Acceptor : public cineyma::Actor<Acceptor> {
 public:
  Acceptor(std::shared_ptr<Listener> listener, Addr<Room> room)
      : listener_(std::move(listener)), room_(std::move(room)) {}

  void started(Context& ctx) { accept_next(ctx); }
  void stopped(Context&) { listener_->close(); }

  cineyma::Task<void> handle(Accepted m, Context& ctx);
  void handle(RetryAccept, Context& ctx) { accept_next(ctx); }

 private:
  void accept_next(Context& ctx) {
    listener_->async_accept([self = ctx.address()](Result<std::unique_ptr<ByteStream>> r) {
      post_completion(self, Accepted{std::move(r)});
    });
  }

  std::shared_ptr<Listener> listener_;
  Addr<Room> room_;
};

// --- Room ----------------------------------------------------------------------------------

/// The members and their names. All decisions (names, who hears what) are made here, one
/// message at a time; the room never waits for a session.
class Room : public cineyma::Actor<Room> {
 public:
  Room(std::shared_ptr<Listener> listener, ConfigPtr config)
      : listener_(std::move(listener)), config_(std::move(config)) {}

  void started(Context& ctx) {
    acceptor_ = ctx.spawn_child(Acceptor(listener_, ctx.address()));
    log("listening on " + listener_->local_endpoint().host + ":" +
        std::to_string(listener_->local_endpoint().port));
  }

  void stopped(Context&) {
    listener_->close();
    config_->stats->members.store(0, std::memory_order_relaxed);
  }

  void handle(Join j, Context& ctx) {
    stats().connections.fetch_add(1, std::memory_order_relaxed);
    const std::string peer = j.stream->remote_endpoint().host + ":" +
                             std::to_string(j.stream->remote_endpoint().port);
    auto [outbox, inbox] = cineyma::make_channel<std::string>(options().outbox_lines);
    if (members_.size() >= options().max_clients) {
      // The session delivers this one line and closes: `outbox` is dropped here, so the
      // stream ends right after it.
      stats().refused_full.fetch_add(1, std::memory_order_relaxed);
      (void)outbox.try_send(server_full_line());
      (void)ctx.spawn_child_with_capacity(
          Session(std::move(j.stream), std::move(inbox), ctx.address(), config_, false),
          kSessionMailbox);
      log("refused " + peer + ": server full");
      return;
    }
    const std::string name = default_name(next_number_++);
    (void)outbox.try_send(greeting_line(name, members_.size() + 1));
    Result<Addr<Session>> session = ctx.spawn_child_with_capacity(
        Session(std::move(j.stream), std::move(inbox), ctx.address(), config_, true),
        kSessionMailbox);
    if (!session) return;  // the system is shutting down; the connection closes with it
    const ActorId id = session->id();
    log("new connection from " + peer + " as " + name);
    send_to_all(joined_line(name), std::nullopt);  // the newcomer is not a member yet
    members_.emplace(id.value, Member{name, std::move(outbox), *session});
    names_.emplace(name_key(name), id.value);
    stats().members.store(members_.size(), std::memory_order_relaxed);
    settle();
  }

  void handle(Say s, Context&) {
    auto it = members_.find(s.from.value);
    if (it == members_.end()) return;  // it left meanwhile
    stats().lines_said.fetch_add(1, std::memory_order_relaxed);
    send_to_all(said_line(it->second.name, s.text), s.from.value);
    settle();
  }

  void handle(ChangeName c, Context&) {
    auto it = members_.find(c.from.value);
    if (it == members_.end()) return;
    Member& m = it->second;
    if (std::optional<std::string> problem = name_problem(c.name, options().max_name_bytes)) {
      send_to(c.from.value, notice_line(*problem));
    } else if (c.name == m.name) {
      send_to(c.from.value, notice_line("you are already " + m.name));
    } else if (auto taken = names_.find(name_key(c.name));
               taken != names_.end() && taken->second != c.from.value) {
      send_to(c.from.value, notice_line("the name " + c.name + " is taken"));
    } else {
      const std::string old = std::exchange(m.name, c.name);
      names_.erase(name_key(old));
      names_.emplace(name_key(m.name), c.from.value);
      log(old + " is now " + m.name);
      send_to_all(renamed_line(old, m.name), std::nullopt);
    }
    settle();
  }

  void handle(Who w, Context&) {
    std::vector<std::string> names;
    names.reserve(members_.size());
    for (const auto& [id, m] : members_) names.push_back(m.name);  // join order
    send_to(w.from.value, who_line(names, options().max_line_bytes));
    settle();
  }

  void handle(Leave l, Context&) {
    drops_.push_back({l.from.value, Drop::left});
    settle();
  }

  std::vector<MemberInfo> handle(const ListMembers&, Context&) {
    std::vector<MemberInfo> out;
    out.reserve(members_.size());
    for (const auto& [id, m] : members_) out.push_back(MemberInfo{m.name, ActorId{id}});
    return out;
  }

  /// A child stopped: a session (normally after Leave; otherwise it failed or its connection
  /// broke first) or the acceptor.
  void handle(const cineyma::Terminated& t, Context&) {
    if (t.id == acceptor_.id()) {
      log(std::string("the acceptor stopped (") + cineyma::to_string(t.reason) +
          "): no new connections");
      return;
    }
    drops_.push_back({t.id.value, Drop::left});
    settle();
  }

 private:
  struct Member {
    std::string name;
    cineyma::Sender<std::string> outbox;  // the only sender: dropping it ends the stream
    Addr<Session> session;
  };
  enum class Drop : unsigned char { left, slow };

  const ChatOptions& options() const { return config_->options; }
  ChatStats& stats() const { return *config_->stats; }

  void log(const std::string& line) const {
    if (options().log) options().log(line);
  }

  /// Queues `line` for one member; one whose outbox is full or gone is dropped (in settle).
  void send_to(std::uint64_t id, const std::string& line) {
    auto it = members_.find(id);
    if (it == members_.end()) return;
    Result<void> r = it->second.outbox.try_send(line);
    if (r) return;
    // mailbox_full: the session fell `outbox_lines` behind. channel_closed: it gave up its
    // outbox (too slow on its own socket, or stopping).
    drops_.push_back({id, r.is(Errc::mailbox_full) ? Drop::slow : Drop::left});
  }

  void send_to_all(const std::string& line, std::optional<std::uint64_t> except) {
    for (const auto& [id, m] : members_) {
      if (id != except) send_to(id, line);
    }
  }

  /// Removes the dropped members. Telling the others may drop more, hence the loop.
  void settle() {
    while (!drops_.empty()) {
      const auto [id, why] = drops_.back();
      drops_.pop_back();
      auto it = members_.find(id);
      if (it == members_.end()) continue;  // already gone (Leave, then Terminated)
      Member m = std::move(it->second);
      members_.erase(it);
      names_.erase(name_key(m.name));
      stats().members.store(members_.size(), std::memory_order_relaxed);
      if (why == Drop::slow) {
        log(m.name + " is too slow: disconnected");
        if (!m.session.try_send(Kick{std::move(m.outbox)})) {
          // Its mailbox is gone (stopping) or full: stopping it is all that is left.
          stats().slow_disconnects.fetch_add(1, std::memory_order_relaxed);
          m.session.stop();
        }
      }
      log(m.name + " left");
      send_to_all(left_line(m.name), std::nullopt);
    }
  }

  std::shared_ptr<Listener> listener_;
  ConfigPtr config_;
  Addr<Acceptor> acceptor_;
  std::map<std::uint64_t, Member> members_;      // by session id: ids grow, so join order
  std::map<std::string, std::uint64_t> names_;   // name_key -> session id
  std::vector<std::pair<std::uint64_t, Drop>> drops_;
  std::uint64_t next_number_ = 1;
};

// --- Session and Acceptor members that talk to the Room (complete only from here) -----------

void Session::handle(WriteDone m, Context& ctx) {
  writing_ = false;
  in_flight_bytes_ = 0;
  if (!m.result) {
    // The client is gone: nothing queued can reach it.
    queued_.clear();
    if (!leaving_) (void)room_.try_send(Leave{ctx.id()});  // else the room knows already
    close_now(ctx);
    return;
  }
  start_write(ctx);
  finish_if_flushed(ctx);
}

cineyma::Task<void> Session::leave(Context& ctx) {
  leaving_ = true;
  arm_drain_timeout(ctx);
  Leave msg{ctx.id()};
  Result<void> r = co_await room_.do_send(msg);
  if (!r) close_now(ctx);
}

void Session::cut_off(Context& ctx, bool tell_room) {
  if (closing_ || done_) return;
  stats().slow_disconnects.fetch_add(1, std::memory_order_relaxed);
  leaving_ = true;
  closing_ = true;
  ctx.remove_stream(outbox_id_);  // the room's next try_send sees channel_closed
  // Best effort, never waiting: should the room's mailbox be full, the room learns it from
  // the closed outbox on its next line for us, or from Terminated when we stop.
  if (tell_room) (void)room_.try_send(Leave{ctx.id()});
  push(too_slow_line(), ctx);
  arm_drain_timeout(ctx);
  finish_if_flushed(ctx);
}

cineyma::Task<void> Acceptor::handle(Accepted m, Context& ctx) {
  if (!m.stream) {
    ctx.run_later(kAcceptRetryDelay, RetryAccept{});
    co_return;
  }
  Join join{std::move(*m.stream)};  // named: see Session::act_on
  Result<void> r = co_await room_.do_send(std::move(join));
  if (!r) {
    ctx.stop();  // the room is gone
    co_return;
  }
  accept_next(ctx);
}

// --- ChatServer ----------------------------------------------------------------------------

ChatServer::ChatServer(Addr<Room> room, cineyma::Endpoint endpoint,
                       std::shared_ptr<ChatStats> stats) noexcept
    : room_(std::move(room)), endpoint_(std::move(endpoint)), stats_(std::move(stats)) {}

Result<ChatServer> ChatServer::start(cineyma::ActorSystem& system, ChatOptions options) {
  const bool sane = options.max_line_bytes > 0 && options.max_name_bytes > 0 &&
                    options.outbox_lines > 0 && options.max_clients > 0 &&
                    options.drain_timeout > cineyma::Duration::zero() &&
                    options.max_pending_bytes >= options.max_line_bytes +
                                                     options.max_name_bytes + kLineOverheadBytes +
                                                     too_slow_line().size();
  if (!sane) return cineyma::fail(Errc::invalid_argument);
  Result<std::unique_ptr<Listener>> listening =
      system.environment().transport().listen(options.listen);
  if (!listening) return cineyma::fail(listening.error());
  std::shared_ptr<Listener> listener = std::move(*listening);
  cineyma::Endpoint endpoint = listener->local_endpoint();
  auto stats = std::make_shared<ChatStats>();
  auto config = std::make_shared<const Config>(Config{std::move(options), stats});
  Result<Addr<Room>> room = system.try_spawn(Room(listener, std::move(config)));
  if (!room) {
    listener->close();
    return cineyma::fail(room.error());
  }
  return ChatServer(std::move(*room), std::move(endpoint), std::move(stats));
}

Result<std::vector<MemberInfo>> ChatServer::members() const {
  return room_.send(ListMembers{}).get();
}

void ChatServer::stop() const noexcept { room_.stop(); }

bool ChatServer::is_running() const noexcept { return room_.is_alive(); }

}  // namespace chat
