// examples/distributed-kv: the command language (parsing, the exact answer texts) and the
// command line (ports, flags) — pure functions, no cluster.
#include <catch2/catch.hpp>

#include "kv_cli.hpp"
#include "kv_commands.hpp"
#include "kv_protocol.hpp"

#include <cineyma/error.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::cluster::ActorLocation;
using cineyma::cluster::Member;
using cineyma::cluster::MemberStatus;
using kv::CommandKind;

kv::CliParse cli(std::vector<std::string_view> args) { return kv::parse_cli(args); }

}  // namespace

TEST_CASE("kv commands: get, set, delete parse like the original's, values keep their words",
          "[kv][unit]") {
  auto c = kv::parse_command("get greeting");
  CHECK(c.kind == CommandKind::get);
  CHECK(c.key == "greeting");

  c = kv::parse_command("  set   greeting  hello    big   world ");
  CHECK(c.kind == CommandKind::set);
  CHECK(c.key == "greeting");
  CHECK(c.value == "hello big world");  // the remaining words, joined by single spaces

  c = kv::parse_command("delete greeting");
  CHECK(c.kind == CommandKind::erase);
  CHECK(c.key == "greeting");

  for (const char* line : {"members", "actors", "help", "quit", "exit"}) {
    INFO(line);
    CHECK(kv::parse_command(line).kind != CommandKind::unknown);
  }
  CHECK(kv::parse_command("quit").kind == CommandKind::quit);
  CHECK(kv::parse_command("exit").kind == CommandKind::quit);
  CHECK(kv::parse_command("").kind == CommandKind::empty);
  CHECK(kv::parse_command(" \t ").kind == CommandKind::empty);
}

TEST_CASE("kv commands: wrong arguments give the usage line, unknown words are named",
          "[kv][unit]") {
  const std::map<std::string, std::string> usage = {
      {"get", "usage: get <key>"},
      {"get a b", "usage: get <key>"},
      {"set", "usage: set <key> <value>"},
      {"set k", "usage: set <key> <value>"},
      {"delete", "usage: delete <key>"},
      {"wait-members", "usage: wait-members <count> [timeout-ms]"},
      {"wait-members 0", "usage: wait-members <count> [timeout-ms]"},
      {"wait-members three", "usage: wait-members <count> [timeout-ms]"},
      {"wait-members 3 5s", "usage: wait-members <count> [timeout-ms]"},
      {"wait-status node-1", "usage: wait-status <node> <up|suspect|down|left> [timeout-ms]"},
      {"wait-status node-1 gone", "usage: wait-status <node> <up|suspect|down|left> [timeout-ms]"},
      {"wait-store 1 2", "usage: wait-store [timeout-ms]"},
  };
  for (const auto& [line, text] : usage) {
    INFO(line);
    const auto c = kv::parse_command(line);
    CHECK(c.kind == CommandKind::usage);
    CHECK(c.text == text);
  }
  const auto c = kv::parse_command("frobnicate the store");
  CHECK(c.kind == CommandKind::unknown);
  CHECK(c.text == "frobnicate");
  CHECK(kv::parse_command("GET k").kind == CommandKind::unknown);  // commands are lower case
}

TEST_CASE("kv commands: the wait helpers take a count or a status and an optional deadline",
          "[kv][unit]") {
  auto c = kv::parse_command("wait-members 3");
  CHECK(c.kind == CommandKind::wait_members);
  CHECK(c.count == 3);
  CHECK(c.timeout == kv::kDefaultWaitTimeout);

  c = kv::parse_command("wait-members 2 1500");
  CHECK(c.count == 2);
  CHECK(c.timeout == 1500ms);

  c = kv::parse_command("wait-status node-1 Down 250");
  CHECK(c.kind == CommandKind::wait_status);
  CHECK(c.node == "node-1");
  CHECK(c.status == MemberStatus::down);
  CHECK(c.timeout == 250ms);

  for (const auto& [word, status] : std::map<std::string, MemberStatus>{
           {"up", MemberStatus::up},
           {"SUSPECT", MemberStatus::suspect},
           {"down", MemberStatus::down},
           {"Left", MemberStatus::left}}) {
    MemberStatus parsed = MemberStatus::up;
    CHECK(kv::parse_status(word, parsed));
    CHECK(parsed == status);
  }

  c = kv::parse_command("wait-store");
  CHECK(c.kind == CommandKind::wait_store);
  CHECK(c.timeout == kv::kDefaultWaitTimeout);
}

TEST_CASE("kv commands: members and actors print the original's lines, in id and name order",
          "[kv][unit]") {
  std::vector<Member> members = {
      {"node-1", "127.0.0.1:7001", MemberStatus::up, 1, true},
      {"node-2", "127.0.0.1:7002", MemberStatus::suspect, 1, false},
      {"node-3", "127.0.0.1:7003", MemberStatus::down, 1, false},
      {"node-4", "127.0.0.1:7004", MemberStatus::left, 1, false},
  };
  CHECK(kv::format_members(members) ==
        std::vector<std::string>{"cluster members:", "  node-1 @ 127.0.0.1:7001 [Up]",
                                 "  node-2 @ 127.0.0.1:7002 [Suspect]",
                                 "  node-3 @ 127.0.0.1:7003 [Down]",
                                 "  node-4 @ 127.0.0.1:7004 [Left]"});

  std::map<std::string, ActorLocation, std::less<>> actors;
  actors["kv-store"] = ActorLocation{"node-2", "127.0.0.1:7002", "KvStore", 1, 3};
  actors["kv-replica/node-1"] = ActorLocation{"node-1", "127.0.0.1:7001", "KvReplica", 1, 1};
  CHECK(kv::format_actors(actors) ==
        std::vector<std::string>{"registered actors:", "  kv-replica/node-1 -> node-1 (KvReplica)",
                                 "  kv-store -> node-2 (KvStore)"});
  CHECK(kv::format_actors({}) == std::vector<std::string>{"registered actors:"});
}

TEST_CASE("kv commands: errors read as sentences that end with the code, never a debug dump",
          "[kv][unit]") {
  using cineyma::Errc;
  const std::map<std::error_code, std::string> expected = {
      {make_error_code(Errc::not_found),
       "error: no live node hosts the store right now (not_found)"},
      {make_error_code(Errc::disconnected),
       "error: the store's node is not reachable right now (disconnected)"},
      {make_error_code(Errc::timeout), "error: the store did not answer in time (timeout)"},
      {make_error_code(Errc::maybe_delivered),
       "error: the connection to the store broke; the command may or may not have taken effect "
       "(maybe_delivered)"},
      {kv::make_error_code(kv::Errc::no_quorum),
       "error: the store cannot reach a majority of the cluster; a write may or may not have "
       "taken effect (no_quorum)"},
      {kv::make_error_code(kv::Errc::store_moved),
       "error: the store moved to another node meanwhile; a write may or may not have taken "
       "effect (store_moved)"},
  };
  for (const auto& [ec, text] : expected) {
    INFO(ec.message());
    CHECK(kv::describe_error(ec) == text);
  }
  // Every framework code reads as "error: <sentence> (<code name>)".
  for (int code = 1; code <= static_cast<int>(Errc::channel_closed); ++code) {
    const auto e = static_cast<Errc>(code);
    const std::string text = kv::describe_error(make_error_code(e));
    INFO(text);
    CHECK(text.rfind("error: ", 0) == 0);
    CHECK(text.size() > std::string(cineyma::to_string(e)).size() + 12);
    CHECK(text.substr(text.size() - std::string(cineyma::to_string(e)).size() - 3) ==
          " (" + std::string(cineyma::to_string(e)) + ")");
  }
  // A code from elsewhere still reads as a sentence.
  const std::string other = kv::describe_error(std::make_error_code(std::errc::connection_refused));
  CHECK(other.rfind("error: ", 0) == 0);
  CHECK(other.find("(generic)") != std::string::npos);
}

TEST_CASE("kv command line: ports default to 7000+N for node-N and 7001 otherwise, flags parse",
          "[kv][unit]") {
  CHECK(kv::default_port("node-1") == 7001);
  CHECK(kv::default_port("node-3") == 7003);
  CHECK(kv::default_port("node-0") == 7000);
  CHECK(kv::default_port("node-58535") == 65535);
  CHECK(kv::default_port("node-58536") == 7001);  // would pass 65535
  CHECK(kv::default_port("node-") == 7001);
  CHECK(kv::default_port("node-x") == 7001);
  CHECK(kv::default_port("alice") == 7001);

  auto p = cli({"node-2", "127.0.0.1:7001"});
  REQUIRE(p.options);
  CHECK(p.options->node_id == "node-2");
  CHECK(p.options->seed == "127.0.0.1:7001");
  CHECK(p.options->port == 7002);
  CHECK(p.options->host == "127.0.0.1");
  CHECK(p.options->gossip_interval == 1s);
  CHECK(p.options->suspect_after == 5s);
  CHECK(p.options->down_after == 10s);

  p = cli({"--port", "0", "alice", "--host", "10.0.0.5", "--gossip-ms", "200", "--suspect-ms",
           "1000", "--down-ms", "2000", "--timeout-ms", "750", "--script", "cmds.txt",
           "--secret", "s", "--verbose"});
  REQUIRE(p.options);
  CHECK(p.options->node_id == "alice");
  CHECK_FALSE(p.options->seed);
  CHECK(p.options->port == 0);
  CHECK(p.options->host == "10.0.0.5");
  CHECK(p.options->gossip_interval == 200ms);
  CHECK(p.options->suspect_after == 1s);
  CHECK(p.options->down_after == 2s);
  CHECK(p.options->call_timeout == 750ms);
  CHECK(p.options->script == "cmds.txt");
  CHECK(p.options->secret == "s");
  CHECK(p.options->verbose);
}

TEST_CASE("kv command line: no arguments asks for the usage, bad ones say why", "[kv][unit]") {
  auto p = cli({});
  CHECK_FALSE(p.options);
  CHECK(p.error.empty());
  CHECK(kv::usage_text().rfind("usage: distributed-kv <node-id> [<seed-addr>]", 0) == 0);

  for (const std::vector<std::string_view>& bad : std::vector<std::vector<std::string_view>>{
           {"node-1", "--port"},
           {"node-1", "--port", "65536"},
           {"node-1", "--gossip-ms", "0"},
           {"node-1", "--frobnicate", "1"},
           {"node-1", "seed-without-port"},
           {"node-1", "127.0.0.1:7001", "extra"},
           {"node-1", "--suspect-ms", "3000", "--down-ms", "2000"},
           {"node-1", "--gossip-ms", "5000"},
       }) {
    p = cli(bad);
    INFO(bad.back());
    CHECK_FALSE(p.options);
    CHECK_FALSE(p.error.empty());
  }
}
