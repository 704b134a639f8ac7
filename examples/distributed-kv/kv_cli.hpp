// examples/distributed-kv/kv_cli.hpp — the command line of `distributed-kv` (pure; unit-tested).
//
//   distributed-kv <node-id> [<seed-addr>] [options]      (see `usage_text()`)
#pragma once

#include <cineyma/env/clock.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

struct CliOptions {
  std::string node_id;
  std::optional<std::string> seed;  ///< "host:port" of a member to join through
  std::string host = "127.0.0.1";   ///< bind and advertised host
  std::uint16_t port = 7001;        ///< 0: any free port (the ready line says which)
  cineyma::Duration gossip_interval = std::chrono::seconds(1);
  cineyma::Duration suspect_after = std::chrono::seconds(5);
  cineyma::Duration down_after = std::chrono::seconds(10);
  cineyma::Duration call_timeout = std::chrono::seconds(5);
  std::string secret;               ///< --secret, else $CINEYMA_KV_SECRET (the caller's job)
  std::optional<std::string> script;  ///< --script FILE: commands from FILE, not stdin
  bool verbose = false;
};

/// What parsing the arguments produced: options, or the reason they are not usable.
struct CliParse {
  std::optional<CliOptions> options;
  std::string error;  ///< empty when `options` is set, or when only the usage is wanted
};

/// The port a node listens on when `--port` is not given: 7000 + N for an id "node-N"
/// (N = 0..58535), 7001 for any other id.
std::uint16_t default_port(std::string_view node_id) noexcept;

/// Parses the arguments after the program name. No arguments (or `--help`): no options and
/// no error, the caller prints the usage.
CliParse parse_cli(const std::vector<std::string_view>& args);

/// The usage text (several lines, each ending with '\n').
std::string usage_text();

}  // namespace kv
