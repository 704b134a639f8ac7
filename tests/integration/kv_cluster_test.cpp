// examples/distributed-kv as real processes on loopback, driven through pipes: the program
// reads commands from stdin (no terminal: no prompt, each command echoed as "> command") and
// the test waits for the lines it expects, each within a generous deadline — never for a
// fixed time.
//
// Ports: every node listens on --port 0 (any free port); the others join through the port
// that node-1 prints in its ready line, so parallel runs never collide.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Generous: the machine may be busy (sanitizers, parallel builds).
constexpr auto kDeadline = 60s;

class Process;
/// The processes of the running test, for the transcript printed when a check fails.
std::vector<Process*> g_processes;
std::string transcripts();

/// A check that, when it fails, prints what every process of the test printed.
#define KV_REQUIRE(cond)                                              \
  do {                                                                \
    const bool kv_ok_ = static_cast<bool>(cond);                      \
    if (!kv_ok_) FAIL("failed: " #cond "\n" << transcripts());       \
  } while (false)
#define KV_CHECK(cond)                                                \
  do {                                                                \
    const bool kv_ok_ = static_cast<bool>(cond);                      \
    if (!kv_ok_) FAIL_CHECK("failed: " #cond "\n" << transcripts()); \
  } while (false)

/// One distributed-kv process with its stdin and stdout (and stderr) on pipes.
class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    g_processes.push_back(this);
    name_ = args.empty() ? std::string("(no arguments)") : args.front();
    int in[2], out[2], err[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    REQUIRE(pipe(err) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      posix_spawn_file_actions_addclose(&fa, fd);
    }
    args.insert(args.begin(), CINEYMA_KV_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, CINEYMA_KV_BINARY, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    REQUIRE(rc == 0);
    stdin_ = in[1];
    fcntl(stdin_, F_SETFD, FD_CLOEXEC);
    readers_.emplace_back([this, fd = out[0]] { read_lines(fd, out_, out_done_); });
    readers_.emplace_back([this, fd = err[0]] { read_lines(fd, err_, err_done_); });
  }

  ~Process() {
    std::erase(g_processes, this);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close_stdin();
    for (auto& t : readers_) t.join();
  }

  /// Sends one command line.
  void send(const std::string& line) {
    const std::string data = line + "\n";
    REQUIRE(write(stdin_, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  }
  void close_stdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }

  /// Number of stdout lines so far (a mark to search from).
  std::size_t mark() {
    std::lock_guard<std::mutex> lock(mutex_);
    return out_.size();
  }

  /// Waits for a stdout line at or after `from` that satisfies `match`; returns its index.
  std::optional<std::size_t> wait_line(const std::function<bool(const std::string&)>& match,
                                       std::size_t from = 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<std::size_t> found;
    cv_.wait_until(lock, Clock::now() + kDeadline, [&] {
      for (std::size_t i = from; i < out_.size(); ++i) {
        if (match(out_[i])) {
          found = i;
          return true;
        }
      }
      return out_done_;
    });
    return found;
  }
  std::optional<std::size_t> wait_exact(const std::string& line, std::size_t from = 0) {
    return wait_line([&](const std::string& l) { return l == line; }, from);
  }

  /// Sends `command` and waits for the exact answer line after its echo.
  bool ask(const std::string& command, const std::string& answer) {
    const std::size_t from = mark();
    send(command);
    const auto echo = wait_exact("> " + command, from);
    return echo && wait_exact(answer, *echo + 1).has_value();
  }

  /// Waits for the process to close stdout and stderr (it exits; everything it printed has
  /// been read) and returns its exit status.
  std::optional<int> wait_exit() {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!cv_.wait_until(lock, Clock::now() + kDeadline,
                          [&] { return out_done_ && err_done_; })) {
        return std::nullopt;
      }
    }
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    if (!WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

  void kill9() {
    REQUIRE(kill(pid_, SIGKILL) == 0);
    REQUIRE(waitpid(pid_, nullptr, 0) == pid_);
    reaped_ = true;
  }

  /// Everything printed so far, for failure messages.
  std::string transcript() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string s = "--- " + name_ + " stdout\n";
    for (const auto& l : out_) s += l + "\n";
    s += "--- stderr\n";
    for (const auto& l : err_) s += l + "\n";
    return s;
  }

 private:
  void read_lines(int fd, std::vector<std::string>& into, bool& done) {
    std::string partial;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      if (n <= 0) {
        if (!partial.empty()) into.push_back(partial);
        done = true;
        cv_.notify_all();
        break;
      }
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n') {
          into.push_back(std::exchange(partial, {}));
        } else {
          partial.push_back(buf[i]);
        }
      }
      cv_.notify_all();
    }
    close(fd);
  }

  std::string name_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdin_ = -1;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> out_, err_;
  bool out_done_ = false, err_done_ = false;
  std::vector<std::thread> readers_;
};

std::string transcripts() {
  std::string s;
  for (Process* p : g_processes) s += p->transcript();
  return s;
}

/// The demo's timings: gossip every 200 ms, Suspect after 1 s, Down after 2 s.
std::vector<std::string> node_args(const std::string& id, const std::string& seed = {}) {
  std::vector<std::string> a{id};
  if (!seed.empty()) a.push_back(seed);
  for (const char* s : {"--port", "0", "--gossip-ms", "200", "--suspect-ms", "1000", "--down-ms",
                        "2000"}) {
    a.emplace_back(s);
  }
  return a;
}

/// The endpoint in "node <id> ready on <host:port>".
std::string ready_endpoint(Process& p) {
  std::string endpoint;
  const std::regex ready("^node .* ready on (.*)$");
  const auto at = p.wait_line([&](const std::string& l) {
    std::smatch m;
    if (!std::regex_match(l, m, ready)) return false;
    endpoint = m[1];
    return true;
  });
  return at ? endpoint : std::string();
}

}  // namespace

TEST_CASE("distributed-kv processes: set and get across nodes, the store's node killed, Suspect "
          "then Down seen, the data served by the new owner, EOF leaves and exits 0",
          "[kv][integration]") {
  Process n1(node_args("node-1"));
  const std::string seed = ready_endpoint(n1);
  KV_REQUIRE(!(seed.empty()));
  Process n2(node_args("node-2", seed));
  Process n3(node_args("node-3", seed));

  for (Process* p : {&n1, &n2, &n3}) KV_REQUIRE(p->ask("wait-members 3", "3 members up"));
  KV_REQUIRE(n2.ask("wait-store", "the store is on node-1"));
  KV_REQUIRE(n2.ask("set greeting hello big world", "OK"));
  KV_REQUIRE(n3.ask("get greeting", "hello big world"));
  KV_REQUIRE(n1.ask("get greeting", "hello big world"));
  KV_REQUIRE(n3.ask("get nobody", "(nil)"));
  KV_REQUIRE(n1.ask("set doomed soon", "OK"));
  KV_REQUIRE(n3.ask("delete doomed", "deleted"));
  KV_REQUIRE(n3.ask("delete doomed", "not found"));

  {
    const std::size_t from = n3.mark();
    n3.send("members");
    for (const char* node : {"node-1", "node-2", "node-3"}) {
      KV_CHECK(n3.wait_line([&](const std::string& l) {
        return l.rfind(std::string("  ") + node + " @ 127.0.0.1:", 0) == 0 &&
               l.find("[Up]") != std::string::npos;
      }, from));
    }
    n3.send("actors");
    KV_CHECK(n3.wait_exact("  kv-store -> node-1 (KvStore)", from));
    KV_CHECK(n3.wait_exact("  kv-replica/node-2 -> node-2 (KvReplica)", from));
  }

  // SIGKILL the store's node: no leave, the others must find out by themselves.
  const std::size_t before2 = n2.mark();
  const std::size_t before3 = n3.mark();
  n1.kill9();
  for (auto [p, from] : {std::pair{&n2, before2}, std::pair{&n3, before3}}) {
    const auto suspect = p->wait_exact("* node-1 is now Suspect", from);
    KV_REQUIRE(suspect);
    KV_REQUIRE(p->wait_exact("* node-1 is now Down", *suspect + 1));
  }
  KV_REQUIRE(n3.ask("wait-store", "the store is on node-2"));
  KV_REQUIRE(n2.wait_line([](const std::string& l) {
    return l.rfind("* this node now hosts the store", 0) == 0;
  }, before2));
  // Everything acknowledged before the crash is still there; writes go on (2 of 3 replicas).
  KV_REQUIRE(n3.ask("get greeting", "hello big world"));
  KV_REQUIRE(n3.ask("get doomed", "(nil)"));
  KV_REQUIRE(n3.ask("set after failover", "OK"));
  KV_REQUIRE(n2.ask("get after", "failover"));
  KV_REQUIRE(n3.ask("frobnicate", "unknown command: frobnicate"));

  // End of input: a graceful leave (seen as Left, not Down), then exit status 0.
  const std::size_t mark2 = n2.mark();
  n3.close_stdin();
  KV_CHECK(n3.wait_exact("shutting down..."));
  KV_CHECK(n3.wait_exit() == 0);
  KV_CHECK(n2.wait_exact("* node-3 is now Left", mark2));
  n2.send("quit");
  KV_CHECK(n2.wait_exact("shutting down..."));
  KV_CHECK(n2.wait_exit() == 0);
}

TEST_CASE("distributed-kv process: one node alone serves its own store, answers every command "
          "in the original's words, and exits 0 at EOF",
          "[kv][integration]") {
  Process n(node_args("solo"));
  KV_REQUIRE(!(ready_endpoint(n).empty()));
  KV_REQUIRE(n.ask("wait-store", "the store is on solo"));
  KV_REQUIRE(n.ask("get k", "(nil)"));
  KV_REQUIRE(n.ask("set k two words", "OK"));
  KV_REQUIRE(n.ask("get k", "two words"));
  KV_REQUIRE(n.ask("get", "usage: get <key>"));
  KV_REQUIRE(n.ask("set k", "usage: set <key> <value>"));
  KV_REQUIRE(n.ask("delete", "usage: delete <key>"));
  KV_REQUIRE(n.ask("delete k", "deleted"));
  KV_REQUIRE(n.ask("wait-status nobody up 300",
                "error: timed out after 300 ms waiting for nobody to be Up (it is unknown here)"));
  n.close_stdin();
  // A wait-* command that timed out makes a script fail.
  KV_CHECK(n.wait_exit() == 1);

  Process usage({});
  KV_CHECK(usage.wait_exit() == 1);
  KV_CHECK(usage.transcript().find("usage: distributed-kv <node-id> [<seed-addr>]") !=
        std::string::npos);
}
