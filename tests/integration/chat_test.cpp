// The chat example (examples/chat) on the real runtime, driven the way `nc` would drive it:
// through real client sockets on loopback against a server started in-process on port 0.
//
// No test sleeps for "long enough": every wait is for a line, an end of stream or a counter,
// with a generous deadline, so a loaded machine makes the tests slower, never flaky. Catch2
// assertions stay on the test thread; the clients are plain blocking-with-deadline sockets
// owned by it.
#include "chat_protocol.hpp"
#include "chat_server.hpp"
#include "support/runtime.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using chat::ChatOptions;
using chat::ChatServer;
using cineyma::test::RealRuntime;

namespace {

using Clock = std::chrono::steady_clock;

// Long enough for a loaded 2-core machine; only reached when something is broken.
constexpr auto kDeadline = 30s;

/// Strips the '\n' of a server line, to compare with what a client reads.
std::string text(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

/// A chat client on a blocking POSIX socket; every wait has a deadline.
class Client {
 public:
  /// Connects to 127.0.0.1:`port`. `receive_buffer` shrinks the socket's receive buffer
  /// (before connecting, so the window is small from the start): a client that stops reading
  /// then blocks the server's writes quickly.
  explicit Client(std::uint16_t port, std::optional<int> receive_buffer = std::nullopt) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer) {
      REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof(int)) == 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Sends all of `bytes`; false if the connection broke or the deadline passed.
  bool send(std::string_view bytes, std::chrono::nanoseconds deadline = kDeadline) {
    const auto until = Clock::now() + deadline;
    while (!bytes.empty()) {
      if (!wait_for(POLLOUT, until)) return false;
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool send_line(std::string_view line) { return send(std::string(line) + "\n"); }

  /// The next line (without '\n'), or nullopt at the end of the stream or the deadline.
  std::optional<std::string> line(std::chrono::nanoseconds deadline = kDeadline) {
    const auto until = Clock::now() + deadline;
    for (;;) {
      if (const std::size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      if (eof_ || !fill(until)) return std::nullopt;
    }
  }

  /// Reads lines until one contains `part` (returned); earlier ones are dropped.
  std::optional<std::string> line_containing(std::string_view part) {
    const auto until = Clock::now() + kDeadline;
    while (auto l = line(until - Clock::now())) {
      if (l->find(part) != std::string::npos) return l;
    }
    return std::nullopt;
  }

  /// Reads everything up to the end of the stream. nullopt if the deadline passed first.
  std::optional<std::vector<std::string>> lines_until_eof(std::chrono::nanoseconds deadline = kDeadline) {
    const auto until = Clock::now() + deadline;
    std::vector<std::string> out;
    for (;;) {
      if (auto l = line(until - Clock::now())) {
        out.push_back(std::move(*l));
        continue;
      }
      if (!eof_) return std::nullopt;
      if (!buffer_.empty()) out.push_back(std::exchange(buffer_, {}));
      return out;
    }
  }

  /// True when the server closes the connection (whatever arrives before is skipped).
  bool sees_eof() { return lines_until_eof().has_value(); }

  /// Half-close: the server sees the end of our input; we can still read.
  void shutdown_write() { REQUIRE(::shutdown(fd_, SHUT_WR) == 0); }

  /// Closes with a reset instead of an orderly FIN.
  void reset() {
    const linger abort{1, 0};
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort) == 0);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  bool wait_for(short events, Clock::time_point until) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  /// Reads what is available; false at the deadline or on an error. Sets eof_.
  bool fill(Clock::time_point until) {
    if (!wait_for(POLLIN, until)) return false;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) {
      eof_ = true;  // orderly end, or a reset: either way the server is done with us
      return true;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

/// A chat server on its own real runtime (2 workers), on a free port.
class Fixture {
 public:
  explicit Fixture(ChatOptions options = {}) {
    options.listen = cineyma::Endpoint{"127.0.0.1", 0};
    cineyma::Result<ChatServer> started = ChatServer::start(rt_.system(), std::move(options));
    REQUIRE(started);
    server_.emplace(std::move(*started));
  }
  const ChatServer& server() const { return *server_; }
  std::uint16_t port() const { return server_->local_endpoint().port; }
  bool eventually(const std::function<bool()>& done) { return rt_.wait_until(done, kDeadline); }

  /// Connects a client and reads its greeting, which must name it `name`.
  std::unique_ptr<Client> join(const std::string& name) {
    auto c = std::make_unique<Client>(port());
    const std::optional<std::string> greeting = c->line();
    REQUIRE(greeting);
    CHECK(greeting->find("you are " + name + " ") != std::string::npos);
    return c;
  }

 private:
  RealRuntime rt_;
  std::optional<ChatServer> server_;
};

}  // namespace

TEST_CASE("chat: a joining user is greeted with its name, the others see the join") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  CHECK(a->line() == text(chat::joined_line("user2")));
  auto c = f.join("user3");
  CHECK(a->line() == text(chat::joined_line("user3")));
  CHECK(b->line() == text(chat::joined_line("user3")));
  CHECK(f.eventually([&] { return f.server().stats().members.load() == 3; }));
  const auto members = f.server().members();
  REQUIRE(members);
  REQUIRE(members->size() == 3);
  CHECK((*members)[0].name == "user1");
  CHECK((*members)[2].name == "user3");
}

TEST_CASE("chat: a line goes to everyone else as [name]: text, trimmed and cleaned") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  auto c = f.join("user3");
  REQUIRE(a->line_containing("user2 joined"));
  REQUIRE(a->line_containing("user3 joined"));
  REQUIRE(b->line_containing("user3 joined"));

  REQUIRE(a->send("   hello, world  \r\n\n   \n"));  // blank lines are ignored
  CHECK(b->line() == "[user1]: hello, world");
  CHECK(c->line() == "[user1]: hello, world");
  REQUIRE(b->send_line("red \x1b[31malert"));  // no escape sequence reaches the others
  CHECK(a->line() == "[user2]: red ?[31malert");  // also shows a got no echo of its own line
  CHECK(c->line() == "[user2]: red ?[31malert");
  CHECK(f.server().stats().lines_said.load() == 2);
}

TEST_CASE("chat: /nick renames (validated, unique), everyone sees it, /who lists names") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));

  REQUIRE(a->send_line("/nick"));
  CHECK(a->line() == "* usage: /nick NAME");
  REQUIRE(a->send_line("/nick two words"));
  CHECK(a->line_containing("a name is 1 to 24 letters"));
  REQUIRE(a->send_line("/nick " + std::string(25, 'n')));
  CHECK(a->line_containing("a name is 1 to 24 letters"));
  REQUIRE(a->send_line("/nick user9"));
  CHECK(a->line_containing("given out by the server"));

  REQUIRE(a->send_line("/nick alice"));
  CHECK(a->line() == text(chat::renamed_line("user1", "alice")));
  CHECK(b->line() == text(chat::renamed_line("user1", "alice")));
  REQUIRE(b->send_line("/nick ALICE"));
  CHECK(b->line() == "* the name ALICE is taken");
  REQUIRE(a->send_line("/nick alice"));
  CHECK(a->line() == "* you are already alice");
  REQUIRE(a->send_line("/nick Alice"));  // a change of case is a rename like any other
  CHECK(b->line() == text(chat::renamed_line("alice", "Alice")));

  REQUIRE(b->send_line("hi Alice"));
  CHECK(a->line_containing("[user2]: hi Alice"));
  REQUIRE(b->send_line("/who"));
  CHECK(b->line_containing("* online") == "* online (2): Alice, user2");
}

TEST_CASE("chat: /help and unknown commands are answered to the sender only") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));
  REQUIRE(a->send_line("/help"));
  CHECK(a->line() == text(chat::help_line()));
  REQUIRE(a->send_line("/dance wildly"));
  CHECK(a->line() == text(chat::unknown_command_line("/dance")));
  REQUIRE(a->send_line("done"));
  CHECK(b->line() == "[user1]: done");  // b saw none of the above
}

TEST_CASE("chat: /quit says bye, closes, and the others see the user leave") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));
  REQUIRE(b->send_line("before you go"));
  CHECK(a->line() == "[user2]: before you go");
  REQUIRE(a->send("/quit\nnobody hears this\n"));  // what follows /quit is dropped
  const auto rest = a->lines_until_eof();
  REQUIRE(rest);
  CHECK(*rest == std::vector<std::string>{"* bye"});
  CHECK(b->line() == text(chat::left_line("user1")));
  REQUIRE(b->send_line("/who"));
  CHECK(b->line() == "* online (1): user2");
  CHECK(f.eventually([&] {
    return f.server().stats().members.load() == 1 && f.server().stats().sessions_live.load() == 1;
  }));
}

TEST_CASE("chat: end of input delivers the last unterminated line, then the user leaves") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));
  REQUIRE(a->send("last words"));
  a->shutdown_write();
  CHECK(b->line() == "[user1]: last words");
  CHECK(b->line() == text(chat::left_line("user1")));
  CHECK(a->sees_eof());  // the server closes its side once it is done with us
  CHECK(f.eventually([&] { return f.server().stats().sessions_live.load() == 1; }));
}

TEST_CASE("chat: a connection reset is a departure like any other") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));
  a->reset();
  CHECK(b->line() == text(chat::left_line("user1")));
  CHECK(f.eventually([&] {
    return f.server().stats().members.load() == 1 && f.server().stats().sessions_live.load() == 1;
  }));
  auto c = f.join("user3");  // numbers are never reused
  CHECK(b->line() == text(chat::joined_line("user3")));
}

TEST_CASE("chat: an overlong line is refused with a message and never buffered") {
  ChatOptions options;
  options.max_line_bytes = 1024;
  Fixture f(options);
  auto a = f.join("user1");
  auto b = f.join("user2");
  REQUIRE(a->line_containing("user2 joined"));

  REQUIRE(a->send(std::string(5000, 'x') + "\n"));
  CHECK(a->line() == text(chat::line_too_long_line(1024)));
  // A line that never ends: refused once, the rest skipped, however much there is.
  REQUIRE(a->send(std::string(200'000, 'y')));
  CHECK(a->line() == text(chat::line_too_long_line(1024)));
  REQUIRE(a->send("\n" + std::string(1024, 'z') + "\nok\n"));  // exactly the limit is fine
  CHECK(b->line() == "[user1]: " + std::string(1024, 'z'));
  CHECK(b->line() == "[user1]: ok");
  CHECK(f.server().stats().overlong_lines.load() == 2);
}

TEST_CASE("chat: a client that does not read is cut off with a message, memory stays bounded") {
  ChatOptions options;
  options.max_pending_bytes = 16 * 1024;
  options.drain_timeout = 120s;  // time for this test to read the notice, however loaded
  Fixture f(options);
  auto slow = std::make_unique<Client>(f.port(), 4096);
  REQUIRE(slow->line_containing("you are user1"));
  auto flooder = f.join("user2");
  REQUIRE(slow->line_containing("user2 joined"));  // from here on, slow reads nothing

  // The flooder talks as fast as it can; the slow client reads nothing. Its socket buffers
  // fill, then the session's pending bytes reach the bound and it is disconnected.
  const std::string chunk = [] {
    std::string s;
    for (int i = 0; i < 16; ++i) s += std::string(1000, 'w') + "\n";
    return s;
  }();
  const auto give_up = Clock::now() + 120s;
  std::size_t sent = 0;
  while (f.server().stats().slow_disconnects.load() == 0 && Clock::now() < give_up &&
         sent < 1024 * 1024 * 1024) {
    REQUIRE(flooder->send(chunk));
    sent += chunk.size();
  }
  INFO("flooded " << sent << " bytes");
  REQUIRE(f.server().stats().slow_disconnects.load() == 1);

  // The bound held: the session never held more than max_pending_bytes for its client.
  CHECK(f.server().stats().max_pending_bytes_seen.load() <= options.max_pending_bytes);
  CHECK(f.server().stats().max_pending_bytes_seen.load() > 0);
  CHECK(f.eventually([&] { return f.server().stats().members.load() == 1; }));

  // Reading now, the slow client finds the backlog, then the notice, then the end.
  const auto backlog = slow->lines_until_eof(120s);
  REQUIRE(backlog);
  REQUIRE_FALSE(backlog->empty());
  CHECK(backlog->back() == text(chat::too_slow_line()));
  const std::string flood_line = "[user2]: " + std::string(1000, 'w');
  CHECK(std::count(backlog->begin(), backlog->end() - 1, flood_line) ==
        static_cast<std::ptrdiff_t>(backlog->size() - 1));

  // Everyone else carries on. The flooder's answer to /who comes after every line it sent
  // before, so the room is past the flood when the next client joins.
  CHECK(flooder->line_containing("user1 left the chat"));
  REQUIRE(flooder->send_line("/who"));
  CHECK(flooder->line_containing("* online") == "* online (1): user2");
  auto late = std::make_unique<Client>(f.port());
  REQUIRE(late->line_containing("you are user3"));
  REQUIRE(flooder->send_line("still here"));
  CHECK(late->line_containing("[user2]: still here"));
  CHECK(f.server().stats().slow_disconnects.load() == 1);
}

TEST_CASE("chat: beyond max_clients a connection is told the server is full") {
  ChatOptions options;
  options.max_clients = 2;
  Fixture f(options);
  auto a = f.join("user1");
  auto b = f.join("user2");
  Client c(f.port());
  const auto refused = c.lines_until_eof();
  REQUIRE(refused);
  CHECK(*refused == std::vector<std::string>{text(chat::server_full_line())});
  CHECK(f.server().stats().refused_full.load() == 1);
  REQUIRE(b->send_line("only us"));
  CHECK(a->line_containing("user2 joined"));
  CHECK(a->line() == "[user2]: only us");  // no join line for the refused connection
  a.reset();  // closes the socket
  CHECK(b->line() == text(chat::left_line("user1")));
  auto d = f.join("user3");  // room again
}

TEST_CASE("chat: stopping the server disconnects everyone") {
  Fixture f;
  auto a = f.join("user1");
  auto b = f.join("user2");
  f.server().stop();
  CHECK(a->sees_eof());
  CHECK(b->sees_eof());
  CHECK(f.eventually([&] {
    return !f.server().is_running() && f.server().stats().sessions_live.load() == 0;
  }));
}

TEST_CASE("chat: inconsistent options and a taken port are errors, not crashes") {
  RealRuntime rt;
  ChatOptions tiny;
  tiny.listen = cineyma::Endpoint{"127.0.0.1", 0};
  tiny.max_pending_bytes = 100;  // less than one line
  CHECK(ChatServer::start(rt.system(), tiny).is(cineyma::Errc::invalid_argument));

  ChatOptions first;
  first.listen = cineyma::Endpoint{"127.0.0.1", 0};
  auto one = ChatServer::start(rt.system(), first);
  REQUIRE(one);
  ChatOptions second;
  second.listen = one->local_endpoint();
  auto two = ChatServer::start(rt.system(), second);
  CHECK_FALSE(two);
  CHECK(two.error() == std::errc::address_in_use);
}
