// examples/chat/chat_sim.cpp — see chat_sim.hpp.
#include "chat_sim.hpp"

#include "chat_server.hpp"

#include <cineyma/sim/simulation.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <span>
#include <utility>

namespace chat {

namespace {

using namespace std::chrono_literals;
using cineyma::ByteStream;
using cineyma::Result;

/// Virtual time allowed for each scripted expectation; a run that needs more is broken.
constexpr cineyma::Duration kStepDeadline = 30s;

/// The transcript, shared by the clients of one run.
struct Transcript {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> print;
  void add(std::string line) {
    if (print) print(line);
    lines.push_back(std::move(line));
  }
};

/// A line-oriented client on the simulated network, the way `nc` would use a socket. Its
/// completions run as tasks of the clients' node, and the script looks at it only between
/// simulation events, on the same thread: no locking.
class SimClient {
 public:
  SimClient(std::string label, cineyma::Environment& env, cineyma::Endpoint server,
            Transcript& transcript)
      : state_(std::make_shared<State>()) {
    state_->label = std::move(label);
    state_->label.resize(std::max<std::size_t>(state_->label.size(), 5), ' ');
    state_->transcript = &transcript;
    env.transport().async_connect(server, [s = state_](Result<std::unique_ptr<ByteStream>> r) {
      if (!r) {
        s->ended = true;
        return;
      }
      s->stream = std::move(*r);
      s->connected = true;
      read_more(s);
      write_more(s);
    });
  }
  SimClient(const SimClient&) = delete;
  SimClient& operator=(const SimClient&) = delete;
  ~SimClient() { close(); }

  /// Sends `text` followed by '\n' (or, with `newline` false, as it is).
  void send(std::string text, bool newline = true) {
    std::string shown = text.size() > 60 ? text.substr(0, 20) + "... (" +
                                               std::to_string(text.size()) + " bytes)"
                                         : text;
    state_->transcript->add(state_->label + " > " + shown);
    if (newline) text.push_back('\n');
    state_->outgoing.push_back(std::move(text));
    if (state_->connected) write_more(state_);
  }

  /// Closes the connection (the server sees the end of input).
  void close() {
    if (!state_->stream) return;
    if (!state_->ended) state_->transcript->add(state_->label + " closes the connection");
    state_->stream->close();
    state_->stream.reset();  // nothing built on the node may outlive the simulation
  }

  /// A received line contains `part`.
  bool saw(std::string_view part) const {
    return std::any_of(state_->lines.begin(), state_->lines.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }
  /// The server closed the connection.
  bool ended() const { return state_->ended; }

 private:
  struct State {
    std::string label;
    Transcript* transcript = nullptr;
    std::unique_ptr<ByteStream> stream;
    bool connected = false;
    bool ended = false;
    bool writing = false;
    std::deque<std::string> outgoing;
    std::string in_flight;
    std::array<std::byte, 1024> buffer{};
    std::string partial;
    std::vector<std::string> lines;
  };

  static void read_more(const std::shared_ptr<State>& s) {
    if (!s->stream) return;
    s->stream->async_read_some(s->buffer, [s](Result<std::size_t> r) {
      if (!r) {
        // With no stream left, it was our own close() that ended the read.
        if (s->stream) s->transcript->add(s->label + " < (the server closed the connection)");
        s->ended = true;
        return;
      }
      for (std::size_t i = 0; i < *r; ++i) {
        const char c = static_cast<char>(s->buffer[i]);
        if (c != '\n') {
          s->partial.push_back(c);
          continue;
        }
        s->transcript->add(s->label + " < " + s->partial);
        s->lines.push_back(std::exchange(s->partial, {}));
      }
      read_more(s);
    });
  }

  static void write_more(const std::shared_ptr<State>& s) {
    if (s->writing || s->outgoing.empty() || !s->stream) return;
    s->in_flight = std::move(s->outgoing.front());
    s->outgoing.pop_front();
    s->writing = true;
    s->stream->async_write(
        std::as_bytes(std::span<const char>(s->in_flight.data(), s->in_flight.size())),
        [s](Result<void> r) {
          s->writing = false;
          if (r) write_more(s);
        });
  }

  std::shared_ptr<State> state_;
};

/// Drives the script: each step waits (in virtual time) for what it expects.
class Script {
 public:
  Script(cineyma::sim::Simulation& sim, SimReport& report) : sim_(sim), report_(report) {}

  /// Runs the simulation until `done()`; records the first failure. False once failed.
  bool expect(const std::string& what, const std::function<bool()>& done) {
    if (!report_.failure.empty()) return false;
    if (sim_.run_until(done, kStepDeadline)) return true;
    report_.failure = "expected: " + what;
    return false;
  }

 private:
  cineyma::sim::Simulation& sim_;
  SimReport& report_;
};

void run_script(cineyma::sim::Simulation& sim, cineyma::sim::Node& server_node,
                cineyma::Environment& clients_env, const ChatServer& server,
                Transcript& transcript, SimReport& report) {
  Script script(sim, report);
  const cineyma::Endpoint at = server.local_endpoint();

  SimClient alice("alice", clients_env, at, transcript);
  if (!script.expect("alice is greeted as user1", [&] { return alice.saw("you are user1"); })) return;
  SimClient bob("bob", clients_env, at, transcript);
  if (!script.expect("bob is greeted as user2, alice sees him join", [&] {
        return bob.saw("you are user2") && alice.saw("* user2 joined the chat");
      })) return;

  alice.send("hello, bob");
  if (!script.expect("bob hears alice", [&] { return bob.saw("[user1]: hello, bob"); })) return;

  alice.send("/nick alice");
  if (!script.expect("both see the rename", [&] {
        return alice.saw("* user1 is now known as alice") && bob.saw("* user1 is now known as alice");
      })) return;
  bob.send("/nick Alice");
  if (!script.expect("names are unique, whatever their case",
                     [&] { return bob.saw("* the name Alice is taken"); })) return;
  bob.send("/who");
  if (!script.expect("bob lists who is online", [&] { return bob.saw("* online (2): alice, user2"); })) return;
  bob.send(std::string(3000, 'x'));
  if (!script.expect("an overlong line is refused", [&] { return bob.saw("line too long"); })) return;

  // A session that fails is supervised: it stops, its member leaves, the room carries on.
  SimClient carol("carol", clients_env, at, transcript);
  if (!script.expect("carol is greeted as user3", [&] { return carol.saw("you are user3"); })) return;
  Result<std::vector<MemberInfo>> members = server.members();
  if (!members || members->size() != 3 || (*members)[2].name != "user3") {
    report.failure = "the room lists alice, user2 and user3";
    return;
  }
  transcript.add("(the simulator makes carol's session throw on its next callback)");
  server_node.inject_exception((*members)[2].session);
  carol.send("this line crashes my session");
  if (!script.expect("carol's session fails; the others see her leave", [&] {
        return carol.ended() && alice.saw("* user3 left the chat") && bob.saw("* user3 left the chat");
      })) return;
  alice.send("still here?");
  if (!script.expect("the room survived", [&] { return bob.saw("[alice]: still here?"); })) return;

  alice.send("/quit");
  if (!script.expect("alice quits: bye, then the server closes; bob sees her leave", [&] {
        return alice.saw("* bye") && alice.ended() && bob.saw("* alice left the chat");
      })) return;

  bob.send("my last words, unterminated", false);
  bob.close();  // end of input: the final unterminated line still counts
  if (!script.expect("bob's end of input empties the room",
                     [&] { return server.stats().members.load() == 0 && server.stats().sessions_live.load() == 0; })) return;
  report.ok = true;
}

}  // namespace

SimReport run_simulated_chat(std::uint64_t seed, const std::function<void(std::string_view)>& print) {
  SimReport report;
  Transcript transcript;
  transcript.print = print;
  cineyma::sim::Simulation sim(seed);
  cineyma::sim::Node& server_node = sim.add_node("server");
  cineyma::sim::Node& clients_node = sim.add_node("clients");
  {
    cineyma::ActorSystem system(server_node.environment());
    ChatOptions options;
    options.listen = cineyma::Endpoint{"server", 8080};
    options.log = [&transcript](std::string_view line) {
      transcript.add("[server] " + std::string(line));
    };
    Result<ChatServer> server = ChatServer::start(system, std::move(options));
    if (!server) {
      report.failure = "the server could not start: " + server.error().message();
    } else {
      run_script(sim, server_node, clients_node.environment(), *server, transcript, report);
      server->stop();
    }
    // Everything on the nodes stops in virtual time before the simulation goes away.
    (void)system.shutdown(60s);
  }
  report.transcript = std::move(transcript.lines);
  report.events = sim.events();
  report.trace_hash = sim.trace_hash();
  return report;
}

}  // namespace chat
