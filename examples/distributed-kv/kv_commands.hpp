// examples/distributed-kv/kv_commands.hpp — the command language of distributed-kv: parsing
// and the exact text of every answer (pure functions, unit-tested in
// tests/unit/kv_commands_test.cpp).
//
// The commands and answers of the original (SPEC-original §6.2):
//   get <key>              the value, or (nil)
//   set <key> <value...>   OK (the value is the remaining words joined by single spaces)
//   delete <key>           deleted | not found
//   members                cluster members:  then "  <id> @ <addr> [Up|Suspect|Down|Left]"
//   actors                 registered actors:  then "  <name> -> <node> (<type>)"
//   quit | exit            shutting down...
//   anything else          unknown command: <first word>
// plus `help`, and scripting helpers that wait for a condition, each with a deadline
// (default 30 s, or the last argument in milliseconds):
//   wait-members <n> [ms]           until this node sees <n> members Up (itself included)
//   wait-status <node> <status> [ms] until this node sees <node> in <status>
//   wait-store [ms]                 until a node this one sees Up holds the store
#pragma once

#include <cineyma/cluster.hpp>
#include <cineyma/env/clock.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kv {

/// How long a wait-* command waits when no deadline is given.
inline constexpr cineyma::Duration kDefaultWaitTimeout = std::chrono::seconds(30);

enum class CommandKind {
  empty,         ///< a blank line: nothing to do
  get,
  set,
  erase,         ///< `delete`
  members,
  actors,
  help,
  quit,          ///< `quit` or `exit`
  wait_members,
  wait_status,
  wait_store,
  usage,         ///< a known command with the wrong arguments: `text` is the usage line
  unknown,       ///< `text` is the first word
};

struct Command {
  CommandKind kind = CommandKind::empty;
  std::string key;    ///< get, set, delete
  std::string value;  ///< set
  std::string node;   ///< wait-status
  cineyma::cluster::MemberStatus status = cineyma::cluster::MemberStatus::up;  ///< wait-status
  std::size_t count = 0;                                                       ///< wait-members
  cineyma::Duration timeout = kDefaultWaitTimeout;                             ///< wait-*
  std::string text;   ///< usage: the usage line; unknown: the word
};

/// Parses one input line (words split on blanks).
Command parse_command(std::string_view line);

/// The line listing the commands (printed at start and by `help`).
std::string_view commands_line() noexcept;
/// The scripting helpers, one line (printed by `help`).
std::string_view wait_commands_line() noexcept;

/// "Up", "Suspect", "Down", "Left".
const char* status_label(cineyma::cluster::MemberStatus status) noexcept;
/// Parses a status word, any case ("up", "Down", ...); false when it is none.
bool parse_status(std::string_view word, cineyma::cluster::MemberStatus& out) noexcept;

/// `members`: "cluster members:" then one line per member, in node id order.
std::vector<std::string> format_members(const std::vector<cineyma::cluster::Member>& members);
/// `actors`: "registered actors:" then one line per live registration, in name order.
std::vector<std::string> format_actors(
    const std::map<std::string, cineyma::cluster::ActorLocation, std::less<>>& actors);

/// An error as the REPL prints it: "error: <a sentence> (<code>)".
std::string describe_error(std::error_code ec);

}  // namespace kv
