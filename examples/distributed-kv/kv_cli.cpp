// examples/distributed-kv/kv_cli.cpp — see kv_cli.hpp.
#include "kv_cli.hpp"

#include <cineyma/cluster/node.hpp>

#include <charconv>

namespace kv {

namespace {

bool parse_number(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

/// A duration flag in milliseconds, 1 ms .. 1 h.
bool parse_ms(std::string_view s, cineyma::Duration& out) {
  std::uint64_t v = 0;
  if (!parse_number(s, 3600 * 1000, v) || v == 0) return false;
  out = std::chrono::milliseconds(v);
  return true;
}

CliParse error(std::string text) {
  CliParse p;
  p.error = std::move(text);
  return p;
}

}  // namespace

std::uint16_t default_port(std::string_view node_id) noexcept {
  constexpr std::string_view prefix = "node-";
  if (node_id.substr(0, prefix.size()) != prefix) return 7001;
  std::uint64_t n = 0;
  if (!parse_number(node_id.substr(prefix.size()), 65535 - 7000, n)) return 7001;
  return static_cast<std::uint16_t>(7000 + n);
}

CliParse parse_cli(const std::vector<std::string_view>& args) {
  CliOptions o;
  std::vector<std::string_view> positional;
  bool port_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--help" || a == "-h") return {};
    if (a == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (a.size() < 2 || a.substr(0, 2) != "--") {
      positional.push_back(a);
      continue;
    }
    if (i + 1 >= args.size()) return error(std::string(a) + " needs a value");
    const std::string_view v = args[++i];
    if (a == "--port") {
      std::uint64_t port = 0;
      if (!parse_number(v, 65535, port)) return error("--port takes a number 0..65535");
      o.port = static_cast<std::uint16_t>(port);
      port_given = true;
    } else if (a == "--host") {
      if (v.empty()) return error("--host takes an address");
      o.host = std::string(v);
    } else if (a == "--gossip-ms") {
      if (!parse_ms(v, o.gossip_interval)) return error("--gossip-ms takes 1..3600000");
    } else if (a == "--suspect-ms") {
      if (!parse_ms(v, o.suspect_after)) return error("--suspect-ms takes 1..3600000");
    } else if (a == "--down-ms") {
      if (!parse_ms(v, o.down_after)) return error("--down-ms takes 1..3600000");
    } else if (a == "--timeout-ms") {
      if (!parse_ms(v, o.call_timeout)) return error("--timeout-ms takes 1..3600000");
    } else if (a == "--secret") {
      o.secret = std::string(v);
    } else if (a == "--script") {
      o.script = std::string(v);
    } else {
      return error("unknown option " + std::string(a));
    }
  }
  if (positional.empty()) return {};
  if (positional.size() > 2) return error("too many arguments");
  o.node_id = std::string(positional[0]);
  if (o.node_id.size() > 200) return error("the node id is too long (at most 200 bytes)");
  if (positional.size() == 2) {
    if (!cineyma::cluster::parse_endpoint(positional[1])) {
      return error("the seed address must be host:port (e.g., 127.0.0.1:7001)");
    }
    o.seed = std::string(positional[1]);
  }
  if (!port_given) o.port = default_port(o.node_id);
  if (o.suspect_after >= o.down_after) return error("--suspect-ms must be below --down-ms");
  if (o.gossip_interval >= o.suspect_after) {
    return error("--gossip-ms must be below --suspect-ms");
  }
  CliParse p;
  p.options = std::move(o);
  return p;
}

std::string usage_text() {
  return "usage: distributed-kv <node-id> [<seed-addr>] [options]\n"
         "  node-id: unique identifier (e.g., node-1, node-2)\n"
         "  seed-addr: optional address of existing cluster node (e.g., 127.0.0.1:7001)\n"
         "options:\n"
         "  --port N         listen on port N (default 7000+K for node-K, else 7001; 0: any free)\n"
         "  --host HOST      listen on and advertise HOST (default 127.0.0.1)\n"
         "  --gossip-ms MS   gossip interval (default 1000)\n"
         "  --suspect-ms MS  a member without news for MS is Suspect (default 5000)\n"
         "  --down-ms MS     ... and Down after MS (default 10000)\n"
         "  --timeout-ms MS  deadline of get/set/delete (default 5000)\n"
         "  --secret S       cluster secret (default $CINEYMA_KV_SECRET; none: loopback peers only)\n"
         "  --script FILE    read commands from FILE instead of stdin (no prompt)\n"
         "  --verbose        library log lines (info and above) on stderr\n";
}

}  // namespace kv
