// examples/chat — a TCP chat server: one actor per connection, one room actor.
//
//   chat [--port N] [--host ADDR]   serve on ADDR:N (default 127.0.0.1:8080) until Ctrl-C;
//                                   talk to it with `nc localhost 8080`
//   chat --sim SEED                 run a scripted session inside the deterministic simulator
//                                   and print its transcript (same seed, same run)
//
// The server itself lives in chat_server.hpp/.cpp (the integration tests start it in-process
// on port 0); this file only parses arguments and waits for a signal.
#include "chat_server.hpp"
#include "chat_sim.hpp"

#include <pthread.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

int usage() {
  std::cerr << "usage: chat [--port N] [--host ADDR]\n"
               "       chat --sim SEED\n";
  return 2;
}

std::optional<std::uint64_t> parse_number(std::string_view s, std::uint64_t max) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (max - digit) / 10) return std::nullopt;  // v * 10 + digit would pass max
    v = v * 10 + digit;
  }
  return v;
}

int run_simulated(std::uint64_t seed) {
  std::cout << "cineyma chat — deterministic simulator, seed " << seed << "\n";
  const chat::SimReport report =
      chat::run_simulated_chat(seed, [](std::string_view line) { std::cout << "  " << line << "\n"; });
  std::cout << "simulation: " << report.events << " events, trace hash " << report.trace_hash
            << "\n";
  if (!report.ok) {
    std::cout << "FAILED: " << report.failure << "\n";
    return 1;
  }
  return 0;
}

int run_server(chat::ChatOptions options) {
  // Block the stop signals before any thread exists: every thread inherits the mask, and
  // this one collects them with sigwait instead of running a handler at a random point.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  options.log = [](std::string_view line) { std::cout << "[server] " << line << std::endl; };
  cineyma::ActorSystem system;
  cineyma::Result<chat::ChatServer> server = chat::ChatServer::start(system, std::move(options));
  if (!server) {
    std::cerr << "chat: cannot start: " << server.error().message() << "\n";
    return 1;
  }
  const cineyma::Endpoint& at = server->local_endpoint();
  std::cout << "Chat server started on " << at.host << ":" << at.port << "\n"
            << "Connect with: nc " << at.host << " " << at.port << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cout << "\nchat: stopping (signal " << signal << ")" << std::endl;
  server->stop();
  return system.shutdown() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  chat::ChatOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--sim" && has_value && argc == 3) {
      const auto seed = parse_number(argv[i + 1], UINT64_MAX);
      return seed ? run_simulated(*seed) : usage();
    }
    if (arg == "--port" && has_value) {
      const auto port = parse_number(argv[++i], 65535);
      if (!port) return usage();
      options.listen.port = static_cast<std::uint16_t>(*port);
    } else if (arg == "--host" && has_value) {
      options.listen.host = argv[++i];
    } else {
      return usage();
    }
  }
  return run_server(std::move(options));
}
