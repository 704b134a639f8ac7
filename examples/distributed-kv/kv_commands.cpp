// examples/distributed-kv/kv_commands.cpp — see kv_commands.hpp.
#include "kv_commands.hpp"

#include "kv_protocol.hpp"

#include <cineyma/error.hpp>

#include <cctype>
#include <charconv>
#include <cstdint>

namespace kv {

namespace {

using cineyma::cluster::MemberStatus;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
    const std::size_t start = i;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) == 0) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

/// A positive decimal number that fits in `max`.
bool parse_count(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > max) return false;
  out = v;
  return true;
}

Command usage(std::string_view line) {
  Command c;
  c.kind = CommandKind::usage;
  c.text = std::string(line);
  return c;
}

/// The optional trailing deadline of a wait-* command, in milliseconds.
bool parse_timeout(const std::vector<std::string_view>& words, std::size_t at, Command& c) {
  if (words.size() == at) return true;
  if (words.size() != at + 1) return false;
  std::uint64_t ms = 0;
  if (!parse_count(words[at], 24ULL * 3600 * 1000, ms)) return false;
  c.timeout = std::chrono::milliseconds(ms);
  return true;
}

std::string join(const std::vector<std::string_view>& words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (i > from) out += ' ';
    out += words[i];
  }
  return out;
}

}  // namespace

Command parse_command(std::string_view line) {
  const std::vector<std::string_view> words = split_words(line);
  Command c;
  if (words.empty()) return c;
  const std::string_view w = words[0];
  if (w == "get" || w == "delete") {
    if (words.size() != 2) return usage(w == "get" ? "usage: get <key>" : "usage: delete <key>");
    c.kind = w == "get" ? CommandKind::get : CommandKind::erase;
    c.key = std::string(words[1]);
  } else if (w == "set") {
    if (words.size() < 3) return usage("usage: set <key> <value>");
    c.kind = CommandKind::set;
    c.key = std::string(words[1]);
    c.value = join(words, 2);
  } else if (w == "members" || w == "actors" || w == "help" || w == "quit" || w == "exit") {
    c.kind = w == "members"  ? CommandKind::members
             : w == "actors" ? CommandKind::actors
             : w == "help"   ? CommandKind::help
                             : CommandKind::quit;
  } else if (w == "wait-members") {
    std::uint64_t n = 0;
    if (words.size() < 2 || !parse_count(words[1], 100000, n) || !parse_timeout(words, 2, c)) {
      return usage("usage: wait-members <count> [timeout-ms]");
    }
    c.kind = CommandKind::wait_members;
    c.count = static_cast<std::size_t>(n);
  } else if (w == "wait-status") {
    if (words.size() < 3 || !parse_status(words[2], c.status) || !parse_timeout(words, 3, c)) {
      return usage("usage: wait-status <node> <up|suspect|down|left> [timeout-ms]");
    }
    c.kind = CommandKind::wait_status;
    c.node = std::string(words[1]);
  } else if (w == "wait-store") {
    if (!parse_timeout(words, 1, c)) return usage("usage: wait-store [timeout-ms]");
    c.kind = CommandKind::wait_store;
  } else {
    c.kind = CommandKind::unknown;
    c.text = std::string(w);
  }
  return c;
}

std::string_view commands_line() noexcept {
  return "commands: get <key> | set <key> <value> | delete <key> | members | actors | quit";
}

std::string_view wait_commands_line() noexcept {
  return "scripting: wait-members <n> [ms] | wait-status <node> <up|suspect|down|left> [ms] | "
         "wait-store [ms]";
}

const char* status_label(MemberStatus status) noexcept {
  switch (status) {
    case MemberStatus::up:
      return "Up";
    case MemberStatus::suspect:
      return "Suspect";
    case MemberStatus::down:
      return "Down";
    case MemberStatus::left:
      return "Left";
  }
  return "Unknown";
}

bool parse_status(std::string_view word, MemberStatus& out) noexcept {
  std::string lower;
  for (const char ch : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const MemberStatus s :
       {MemberStatus::up, MemberStatus::suspect, MemberStatus::down, MemberStatus::left}) {
    if (lower == cineyma::cluster::to_string(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

std::vector<std::string> format_members(const std::vector<cineyma::cluster::Member>& members) {
  std::vector<std::string> lines{"cluster members:"};
  for (const auto& m : members) {
    lines.push_back("  " + m.node + " @ " + m.endpoint + " [" + status_label(m.status) + "]");
  }
  return lines;
}

std::vector<std::string> format_actors(
    const std::map<std::string, cineyma::cluster::ActorLocation, std::less<>>& actors) {
  std::vector<std::string> lines{"registered actors:"};
  for (const auto& [name, at] : actors) {
    lines.push_back("  " + name + " -> " + at.node + " (" + at.actor_type + ")");
  }
  return lines;
}

std::string describe_error(std::error_code ec) {
  std::string sentence;
  std::string code;
  if (ec.category() == cineyma::error_category()) {
    const auto e = static_cast<cineyma::Errc>(ec.value());
    code = cineyma::to_string(e);
    switch (e) {
      case cineyma::Errc::not_found:
        sentence = "no live node hosts the store right now";
        break;
      case cineyma::Errc::disconnected:
        sentence = "the store's node is not reachable right now";
        break;
      case cineyma::Errc::timeout:
        sentence = "the store did not answer in time";
        break;
      case cineyma::Errc::maybe_delivered:
        sentence = "the connection to the store broke; the command may or may not have taken effect";
        break;
      case cineyma::Errc::actor_stopped:
        sentence = "the store (or this node) stopped before answering";
        break;
      case cineyma::Errc::handler_failed:
        sentence = "the store failed while handling the command";
        break;
      case cineyma::Errc::auth_failed:
        sentence = "the store's node did not accept this node's cluster name or secret";
        break;
      case cineyma::Errc::mailbox_full:
        sentence = "the store is overloaded right now";
        break;
      default:
        sentence = ec.message();
        break;
    }
  } else if (ec.category() == error_category()) {
    const auto e = static_cast<Errc>(ec.value());
    switch (e) {
      case Errc::no_quorum:
        code = "no_quorum";
        sentence = "the store cannot reach a majority of the cluster; a write may or may not have "
                   "taken effect";
        break;
      case Errc::store_moved:
        code = "store_moved";
        sentence = "the store moved to another node meanwhile; a write may or may not have "
                   "taken effect";
        break;
    }
  }
  if (sentence.empty()) {
    sentence = ec.message();
    code = ec.category().name();
  }
  return "error: " + sentence + " (" + code + ")";
}

}  // namespace kv
