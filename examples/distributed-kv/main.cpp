// examples/distributed-kv — a replicated key-value store on a cineyma cluster.
//
//   distributed-kv node-1                                  founds a cluster (port 7001)
//   distributed-kv node-2 127.0.0.1:7001                   joins it (port 7002)
//   distributed-kv node-3 127.0.0.1:7001 --port 0 < cmds   any free port; commands from a pipe
//
// Every node keeps a replica of the data; one node hosts the store (the first one, until it
// goes Down); writes reach a majority of replicas before "OK"; when the store's node goes
// Down, the smallest live node id takes it over with the newest copy (kv_actors.hpp).
//
// Input: an interactive terminal gets a "> " prompt; a pipe or --script gets none, and each
// command is echoed as "> command" so that the output reads as a transcript. End of input
// (EOF, Ctrl-D), `quit`, `exit`, SIGINT and SIGTERM all leave the cluster gracefully and exit
// 0 (1 when a wait-* command of a script timed out). Membership changes and moves of the store
// are printed as they happen, as lines starting with "* ".
//
// This file reads stdin on the main thread and blocks there on cluster calls (the main thread
// is not an actor thread, so it may); it needs no thread of its own.
#include "kv_cli.hpp"
#include "kv_session.hpp"

#include <cineyma/real_environment.hpp>

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

/// stdout shared by the REPL and the narration (which arrives on environment threads): whole
/// lines under one lock, so that lines never interleave.
class Console {
 public:
  explicit Console(bool interactive) : interactive_(interactive) {}

  void print(const std::vector<std::string>& lines) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& l : lines) std::cout << l << '\n';
    std::cout << std::flush;
  }
  void print(const std::string& line) { print(std::vector<std::string>{line}); }

  /// A line that arrives on its own (narration): on a terminal, around the prompt.
  void event(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (interactive_ && at_prompt_) {
      std::cout << '\n' << line << "\n> " << std::flush;
    } else {
      std::cout << line << '\n' << std::flush;
    }
  }

  void prompt() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::cout << "> " << std::flush;
    at_prompt_ = true;
  }
  void got_line() {
    std::lock_guard<std::mutex> lock(mutex_);
    at_prompt_ = false;
  }

 private:
  std::mutex mutex_;
  bool interactive_;
  bool at_prompt_ = false;
};

/// SIGINT/SIGTERM interrupt the main thread's read of stdin (no SA_RESTART), which then ends
/// like EOF. The environment's threads are created with both blocked, so the signal always
/// lands on the main thread.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

kv::KvOptions node_options(const kv::CliOptions& cli, Console& console) {
  kv::KvOptions o;
  o.node_id = cli.node_id;
  o.bind = {cli.host, cli.port};
  if (cli.seed) o.seeds = {*cli.seed};
  o.gossip_interval = cli.gossip_interval;
  o.suspect_after = cli.suspect_after;
  o.down_after = cli.down_after;
  o.call_timeout = cli.call_timeout;
  o.secret = cli.secret;
  if (o.secret.empty()) {
    if (const char* s = std::getenv("CINEYMA_KV_SECRET")) o.secret = s;
  }
  o.narrate = [&console](const std::string& line) { console.event("* " + line); };
  return o;
}

int run(const kv::CliOptions& cli) {
  std::ifstream script_file;
  if (cli.script) {
    script_file.open(*cli.script);
    if (!script_file) {
      std::cerr << "distributed-kv: cannot read " << *cli.script << "\n";
      return 1;
    }
  }
  std::istream& input = cli.script ? static_cast<std::istream&>(script_file) : std::cin;
  const bool interactive = !cli.script && isatty(STDIN_FILENO) == 1;
  Console console(interactive);

  const sigset_t blocked = stop_signals();
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);  // inherited by the environment's threads
  cineyma::RealEnvironment env;
  kv::KvNode node(env, node_options(cli, console));

  console.print("starting node: " + cli.node_id);
  if (cli.seed) console.print("joining cluster via seed: " + *cli.seed);
  const auto bound = node.start();
  if (!bound) {
    std::cerr << "distributed-kv: cannot start on " << cli.host << ":" << cli.port << ": "
              << bound.error().message() << "\n";
    return 1;
  }
  if (!cli.seed) {
    // The founding node hosts the store: be ready for a first command typed at once. (Its
    // coordinator takes over within a few local round trips; the deadline only bounds it.)
    kv::wait_until(
        env, [&] { return node.cluster().lookup_actor(kv::kStoreName).has_value(); },
        std::chrono::seconds(5));
  }
  if (interactive) console.print(std::string());
  console.print("node " + cli.node_id + " ready on " + node.endpoint());
  console.print(std::string(kv::commands_line()));
  if (interactive) console.print(std::string());
  install_stop_handlers();

  kv::Session session(node);
  bool failed = false;
  bool said_bye = false;
  std::string line;
  for (;;) {
    if (interactive) console.prompt();
    if (!std::getline(input, line)) break;  // end of input, or a stop signal interrupted it
    console.got_line();
    if (!interactive && line.find_first_not_of(" \t\r") != std::string::npos) {
      console.print("> " + line);
    }
    const kv::Outcome out = session.run_line(line);
    console.print(out.lines);
    failed = failed || out.failed;
    if (out.quit) {
      said_bye = true;
      break;
    }
    if (g_stop_signal != 0) break;
  }
  if (!said_bye) console.print(interactive ? "\nshutting down..." : "shutting down...");
  node.leave();
  // Linger one interval so that the Left entry reaches the peers before the port closes
  // (the leave pushes it to them at once; this covers the replies).
  kv::wait_until(env, [] { return false; }, cli.gossip_interval);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a reader that went away must not kill us mid-leave
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const kv::CliParse parsed = kv::parse_cli(args);
  if (!parsed.options) {
    if (!parsed.error.empty()) std::cerr << "distributed-kv: " << parsed.error << "\n";
    std::cerr << kv::usage_text();
    return 1;
  }
  // The library logs warnings and errors to stderr; --verbose (or CINEYMA_LOG_LEVEL) for more.
  setenv("CINEYMA_LOG_LEVEL", parsed.options->verbose ? "info" : "warn", 0);
  return run(*parsed.options);
}
