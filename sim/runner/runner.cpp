// sim/runner/runner.cpp — `cineyma-sim`: runs a registered scenario over many seeds, each in
// its own process, J at a time.
//
// Why processes: a seed that trips an assertion, crashes or hangs takes only its own process
// down; the parent reports it (with the command that replays it) and carries on. The child
// sends its outcome through a pipe as `key value` lines; its stdout/stderr go through a
// second pipe and are shown only when the seed fails.
//
// This file is the one place in sim/ that reads the wall clock (the per-seed watchdog, the
// wall_ms figures, a fresh seed when none is given); those lines carry `tidy: allow`.
#include <cineyma/sim/scenario.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cineyma::sim {
namespace {

using WallClock = std::chrono::steady_clock;

struct Args {
  bool list = false;
  bool help = false;
  bool verbose = false;
  bool in_process = false;
  std::string scenario;
  std::optional<std::uint64_t> seed;
  std::uint64_t seeds = 1;
  unsigned jobs = 1;
  std::string trace;
  std::int64_t budget_ms = 120'000;
};

void usage(std::FILE* to) {
  std::fputs(
      "usage: cineyma-sim --list\n"
      "       cineyma-sim --scenario NAME [--seed S] [--seeds N] [--jobs J] [--trace FILE]\n"
      "                   [--budget-ms MS] [--verbose] [--in-process]\n"
      "  --seed S       first seed (default: a fresh one, printed first)\n"
      "  --seeds N      run seeds S .. S+N-1 (default 1)\n"
      "  --jobs J       processes in parallel (default 1)\n"
      "  --trace FILE   write the run as Chrome trace-event JSON (one seed only)\n"
      "  --budget-ms MS watchdog: a seed running longer (wall clock) fails (default 120000)\n"
      "  --verbose      print options, notes and probes of every seed\n"
      "  --in-process   run seeds in this process, one after another (for a debugger)\n",
      to);
}

bool parse_u64(const char* text, std::uint64_t& out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

std::optional<Args> parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    std::uint64_t n = 0;
    if (arg == "--list") {
      a.list = true;
    } else if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--verbose") {
      a.verbose = true;
    } else if (arg == "--in-process") {
      a.in_process = true;
    } else if (arg == "--scenario") {
      const char* v = value();
      if (v == nullptr) return std::nullopt;
      a.scenario = v;
    } else if (arg == "--seed") {
      if (!parse_u64(value(), n)) return std::nullopt;
      a.seed = n;
    } else if (arg == "--seeds") {
      if (!parse_u64(value(), n) || n == 0) return std::nullopt;
      a.seeds = n;
    } else if (arg == "--jobs") {
      if (!parse_u64(value(), n) || n == 0 || n > 1024) return std::nullopt;
      a.jobs = static_cast<unsigned>(n);
    } else if (arg == "--trace") {
      const char* v = value();
      if (v == nullptr) return std::nullopt;
      a.trace = v;
    } else if (arg == "--budget-ms") {
      if (!parse_u64(value(), n) || n == 0) return std::nullopt;
      a.budget_ms = static_cast<std::int64_t>(n);
    } else {
      std::fprintf(stderr, "cineyma-sim: unknown argument '%s'\n", arg.c_str());
      return std::nullopt;
    }
  }
  return a;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

/// The outcome as the child sends it: `key value` lines, `end` last.
std::string serialize(const ScenarioOutcome& o) {
  std::string out;
  out += "passed " + std::to_string(o.passed ? 1 : 0) + "\n";
  out += "hash " + std::to_string(o.trace_hash) + "\n";
  out += "sim_ms " + std::to_string(o.sim_ms) + "\n";
  out += "events " + std::to_string(o.events) + "\n";
  out += "options " + one_line(o.options) + "\n";
  for (const auto& f : o.failures) out += "failure " + one_line(f) + "\n";
  for (const auto& n : o.notes) out += "note " + one_line(n) + "\n";
  for (const auto& [name, count] : o.probes) out += "probe " + std::to_string(count) + " " + one_line(name) + "\n";
  out += "end\n";
  return out;
}

/// Parses what `serialize` wrote; nullopt when the record is cut short (the child died).
std::optional<ScenarioOutcome> deserialize(const std::string& text) {
  ScenarioOutcome o;
  bool complete = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "passed") o.passed = rest == "1";
    else if (key == "hash") o.trace_hash = std::strtoull(rest.c_str(), nullptr, 10);
    else if (key == "sim_ms") o.sim_ms = std::strtoll(rest.c_str(), nullptr, 10);
    else if (key == "events") o.events = std::strtoull(rest.c_str(), nullptr, 10);
    else if (key == "options") o.options = rest;
    else if (key == "failure") o.failures.push_back(rest);
    else if (key == "note") o.notes.push_back(rest);
    else if (key == "probe") {
      const auto sp = rest.find(' ');
      if (sp != std::string::npos) {
        o.probes[rest.substr(sp + 1)] = std::strtoull(rest.substr(0, sp).c_str(), nullptr, 10);
      }
    } else if (key == "end") complete = true;
  }
  if (!complete) return std::nullopt;
  return o;
}

/// One finished seed, as printed.
struct SeedResult {
  std::uint64_t seed = 0;
  ScenarioOutcome outcome;
  std::int64_t wall_ms = 0;
  std::string output;  ///< the child's stdout+stderr
  std::string death;   ///< why the child died without an outcome, if it did
};

struct Child {
  pid_t pid = -1;
  std::uint64_t seed = 0;
  int result_fd = -1;
  int output_fd = -1;
  std::string result;
  std::string output;
  WallClock::time_point started;  // tidy: allow the runner's watchdog measures wall time
  bool killed = false;
};

std::string replay_command(const std::string& self, const std::string& scenario,
                           std::uint64_t seed) {
  return self + " --scenario " + scenario + " --seed " + std::to_string(seed);
}

void print_result(const SeedResult& r, const Args& args, const std::string& self) {
  const bool passed = r.death.empty() && r.outcome.passed;
  std::printf("seed=%" PRIu64 " result=%s trace_hash=%016" PRIx64 " sim_ms=%" PRId64
              " wall_ms=%" PRId64 "\n",
              r.seed, passed ? "pass" : "fail", r.outcome.trace_hash, r.outcome.sim_ms,
              r.wall_ms);
  if (!r.death.empty()) std::printf("  died: %s\n", r.death.c_str());
  for (const auto& f : r.outcome.failures) std::printf("  failure: %s\n", f.c_str());
  // A single seed is a replay or a close look: show which faults it ran with.
  if (!passed || args.verbose || args.seeds == 1) {
    if (!r.outcome.options.empty()) std::printf("  options: %s\n", r.outcome.options.c_str());
    for (const auto& n : r.outcome.notes) std::printf("  note: %s\n", n.c_str());
  }
  if (args.verbose) {
    for (const auto& [name, count] : r.outcome.probes) {
      std::printf("  probe: %s x%" PRIu64 "\n", name.c_str(), count);
    }
  }
  if (!passed) {
    if (!r.output.empty()) {
      // The tail of what the seed printed: the assertion message, the last log lines.
      constexpr std::size_t kTailBytes = 4000;
      const std::string tail =
          r.output.size() > kTailBytes ? r.output.substr(r.output.size() - kTailBytes) : r.output;
      std::printf("  output (last %zu bytes):\n", tail.size());
      std::istringstream lines(tail);
      std::string line;
      while (std::getline(lines, line)) std::printf("    | %s\n", line.c_str());
    }
    std::printf("  replay: %s\n", replay_command(self, args.scenario, r.seed).c_str());
  }
  std::fflush(stdout);
}

std::int64_t ms_since(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             WallClock::now() - t)  // tidy: allow the runner reports wall time per seed
      .count();
}

[[noreturn]] void child_main(const ScenarioInfo& info, std::uint64_t seed, const Args& args,
                             int result_fd, int output_fd) {
  // The child's prints go to the parent, which shows them only when the seed fails.
  ::dup2(output_fd, STDOUT_FILENO);
  ::dup2(output_fd, STDERR_FILENO);
  ::close(output_fd);
  const ScenarioOutcome outcome = run_scenario(info, seed, args.trace);
  const std::string record = serialize(outcome);
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(result_fd, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);  // no static destructors: they belong to the parent's copy of the state
}

std::optional<Child> spawn(const ScenarioInfo& info, std::uint64_t seed, const Args& args) {
  int result_pipe[2];
  int output_pipe[2];
  if (::pipe(result_pipe) != 0) return std::nullopt;
  if (::pipe(output_pipe) != 0) {
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    return std::nullopt;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {result_pipe[0], result_pipe[1], output_pipe[0], output_pipe[1]}) ::close(fd);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(result_pipe[0]);
    ::close(output_pipe[0]);
    child_main(info, seed, args, result_pipe[1], output_pipe[1]);
  }
  ::close(result_pipe[1]);
  ::close(output_pipe[1]);
  Child c;
  c.pid = pid;
  c.seed = seed;
  c.result_fd = result_pipe[0];
  c.output_fd = output_pipe[0];
  c.started = WallClock::now();  // tidy: allow the runner's watchdog measures wall time
  return c;
}

/// Reads what is available on `fd` into `into`; false at end of file (fd then closed, -1).
bool drain(int& fd, std::string& into) {
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  ::close(fd);
  fd = -1;
  return false;
}

SeedResult reap(Child& c, const Args& args) {
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  SeedResult r;
  r.seed = c.seed;
  r.wall_ms = ms_since(c.started);
  r.output = std::move(c.output);
  const std::optional<ScenarioOutcome> outcome = deserialize(c.result);
  if (outcome) r.outcome = *outcome;
  if (c.killed) {
    r.death = "watchdog: still running after " + std::to_string(args.budget_ms) +
              " ms of wall time; killed";
  } else if (WIFSIGNALED(status)) {
    r.death = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
              strsignal(WTERMSIG(status)) + ")";
  } else if (!outcome) {
    r.death = "exited with status " + std::to_string(WEXITSTATUS(status)) +
              " without reporting an outcome";
  }
  return r;
}

std::vector<SeedResult> run_forked(const ScenarioInfo& info, const Args& args,
                                   std::uint64_t first, const std::string& self) {
  std::vector<SeedResult> done;
  std::map<std::uint64_t, SeedResult> finished;  // waiting to be printed in seed order
  std::vector<Child> running;
  std::uint64_t next = 0;
  std::uint64_t next_to_print = 0;
  while (next < args.seeds || !running.empty()) {
    while (running.size() < args.jobs && next < args.seeds) {
      std::optional<Child> c = spawn(info, first + next, args);
      if (!c) {
        std::perror("cineyma-sim: fork");
        std::exit(2);
      }
      running.push_back(std::move(*c));
      ++next;
    }
    std::vector<pollfd> fds;
    for (const Child& c : running) {
      if (c.result_fd >= 0) fds.push_back(pollfd{c.result_fd, POLLIN, 0});
      if (c.output_fd >= 0) fds.push_back(pollfd{c.output_fd, POLLIN, 0});
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    for (std::size_t i = 0; i < running.size();) {
      Child& c = running[i];
      for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        if (p.fd == c.result_fd) drain(c.result_fd, c.result);
        else if (p.fd == c.output_fd) drain(c.output_fd, c.output);
      }
      if (!c.killed && ms_since(c.started) > args.budget_ms) {
        ::kill(c.pid, SIGKILL);
        c.killed = true;
      }
      if (c.result_fd < 0 && c.output_fd < 0) {
        SeedResult r = reap(c, args);
        finished.emplace(r.seed - first, std::move(r));
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      ++i;
    }
    for (auto it = finished.find(next_to_print); it != finished.end();
         it = finished.find(next_to_print)) {
      print_result(it->second, args, self);
      done.push_back(std::move(it->second));
      finished.erase(it);
      ++next_to_print;
    }
  }
  return done;
}

std::vector<SeedResult> run_in_process(const ScenarioInfo& info, const Args& args,
                                       std::uint64_t first, const std::string& self) {
  std::vector<SeedResult> done;
  for (std::uint64_t i = 0; i < args.seeds; ++i) {
    const auto started = WallClock::now();  // tidy: allow the runner reports wall time
    SeedResult r;
    r.seed = first + i;
    r.outcome = run_scenario(info, r.seed, args.trace);
    r.wall_ms = ms_since(started);
    print_result(r, args, self);
    done.push_back(std::move(r));
  }
  return done;
}

void print_summary(const std::vector<SeedResult>& results, const Args& args,
                   std::int64_t wall_ms) {
  std::uint64_t failed = 0;
  std::uint64_t events = 0;
  std::int64_t seed_wall_ms = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> probes;  // seeds, hits
  for (const SeedResult& r : results) {
    if (!r.death.empty() || !r.outcome.passed) ++failed;
    events += r.outcome.events;
    seed_wall_ms += r.wall_ms;
    for (const auto& [name, count] : r.outcome.probes) {
      probes[name].first += 1;
      probes[name].second += count;
    }
  }
  const double minutes = static_cast<double>(std::max<std::int64_t>(wall_ms, 1)) / 60'000.0;
  const double seconds_busy =
      static_cast<double>(std::max<std::int64_t>(seed_wall_ms, 1)) / 1'000.0;
  std::printf("summary: scenario=%s seeds=%zu passed=%" PRIu64 " failed=%" PRIu64
              " jobs=%u wall_ms=%" PRId64 " seeds_per_min=%.1f events=%" PRIu64
              " events_per_s_per_seed_process=%.0f\n",
              args.scenario.c_str(), results.size(), results.size() - failed, failed, args.jobs,
              wall_ms, static_cast<double>(results.size()) / minutes, events,
              static_cast<double>(events) / seconds_busy);
  for (const auto& [name, counts] : probes) {
    std::printf("probe: \"%s\" reached in %" PRIu64 "/%zu seeds (%" PRIu64 " times)\n",
                name.c_str(), counts.first, results.size(), counts.second);
  }
  std::fflush(stdout);
}

}  // namespace

int runner_main(int argc, char** argv) {
  const std::optional<Args> parsed = parse(argc, argv);
  if (!parsed) {
    usage(stderr);
    return 2;
  }
  Args args = *parsed;
  if (args.help) {
    usage(stdout);
    return 0;
  }
  if (args.list) {
    for (const ScenarioInfo& s : scenarios()) {
      std::printf("%-24s %s\n", s.name.c_str(), s.description.c_str());
    }
    return 0;
  }
  const std::optional<ScenarioInfo> info = find_scenario(args.scenario);
  if (!info) {
    std::fprintf(stderr, "cineyma-sim: no scenario '%s' (see --list)\n", args.scenario.c_str());
    return 2;
  }
  if (!args.trace.empty() && args.seeds != 1) {
    std::fprintf(stderr, "cineyma-sim: --trace writes one run: use it with a single seed\n");
    return 2;
  }
  const std::uint64_t first =
      args.seed ? *args.seed
                : static_cast<std::uint64_t>(
                      WallClock::now()  // tidy: allow a fresh seed when none is given
                          .time_since_epoch()
                          .count()) %
                      1'000'000'000ULL;
  const std::string self = argc > 0 ? argv[0] : "cineyma-sim";
  // The seed comes first, before anything runs: a run that hangs or dies still names it.
  std::printf("cineyma-sim: scenario=%s seed=%" PRIu64 " seeds=%" PRIu64 " jobs=%u%s\n",
              args.scenario.c_str(), first, args.seeds, args.jobs,
              args.in_process ? " in-process" : "");
  std::fflush(stdout);
  const auto started = WallClock::now();  // tidy: allow the runner reports wall time
  const std::vector<SeedResult> results = args.in_process
                                              ? run_in_process(*info, args, first, self)
                                              : run_forked(*info, args, first, self);
  print_summary(results, args, ms_since(started));
  const bool any_failed = std::any_of(results.begin(), results.end(), [](const SeedResult& r) {
    return !r.death.empty() || !r.outcome.passed;
  });
  return any_failed ? 1 : 0;
}

}  // namespace cineyma::sim
