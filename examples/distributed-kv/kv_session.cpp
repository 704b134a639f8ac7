// examples/distributed-kv/kv_session.cpp — see kv_session.hpp.
#include "kv_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace kv {

namespace {

using cineyma::cluster::MemberStatus;
using namespace std::chrono_literals;

/// How often a wait re-checks its condition: short next to any gossip interval, so a wait
/// ends within a few milliseconds of the change it waits for.
constexpr cineyma::Duration kPollPeriod = 20ms;

Outcome line(std::string text, bool failed = false) {
  Outcome o;
  o.lines.push_back(std::move(text));
  o.failed = failed;
  return o;
}

long long ms(cineyma::Duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::size_t members_up(const KvNode& node) {
  const auto members = node.cluster().members();
  return static_cast<std::size_t>(std::count_if(
      members.begin(), members.end(), [](const auto& m) { return m.status == MemberStatus::up; }));
}

}  // namespace

bool wait_until(cineyma::Environment& env, const std::function<bool()>& done,
                cineyma::Duration deadline) {
  const cineyma::TimePoint end = env.clock().now() + deadline;
  for (;;) {
    if (done()) return true;
    const cineyma::TimePoint now = env.clock().now();
    if (now >= end) return false;
    // An event nobody sets: block_until returns when the period has passed on the
    // environment's clock (real time, or virtual time that the simulation advances).
    cineyma::BlockingEvent never;
    env.executor().block_until(never, std::min<cineyma::Duration>(kPollPeriod, end - now));
  }
}

Outcome Session::run(const Command& c) {
  Outcome out;
  switch (c.kind) {
    case CommandKind::empty:
      break;
    case CommandKind::get: {
      const auto r = node_.get(c.key);
      out.lines.push_back(!r ? describe_error(r.error()) : (*r ? **r : std::string("(nil)")));
      break;
    }
    case CommandKind::set: {
      const auto r = node_.set(c.key, c.value);
      out.lines.push_back(r ? std::string("OK") : describe_error(r.error()));
      break;
    }
    case CommandKind::erase: {
      const auto r = node_.erase(c.key);
      out.lines.push_back(!r ? describe_error(r.error())
                             : std::string(*r ? "deleted" : "not found"));
      break;
    }
    case CommandKind::members:
      out.lines = format_members(node_.cluster().members());
      break;
    case CommandKind::actors:
      out.lines = format_actors(node_.cluster().actors());
      break;
    case CommandKind::help:
      out.lines = {std::string(commands_line()), std::string(wait_commands_line())};
      break;
    case CommandKind::quit:
      out.lines.push_back("shutting down...");
      out.quit = true;
      break;
    case CommandKind::wait_members:
      return wait_members(c);
    case CommandKind::wait_status:
      return wait_status(c);
    case CommandKind::wait_store:
      return wait_store(c);
    case CommandKind::usage:
      out.lines.push_back(c.text);
      break;
    case CommandKind::unknown:
      out.lines.push_back("unknown command: " + c.text);
      break;
  }
  return out;
}

Outcome Session::wait_members(const Command& c) {
  const bool met = wait_until(
      node_.environment(), [&] { return members_up(node_) >= c.count; }, c.timeout);
  if (met) return line(fmt::format("{} members up", members_up(node_)));
  return line(fmt::format("error: timed out after {} ms waiting for {} members to be up ({} are)",
                          ms(c.timeout), c.count, members_up(node_)),
              true);
}

Outcome Session::wait_status(const Command& c) {
  const auto seen = [&] {
    const auto s = node_.cluster().status_of(c.node);
    return s && *s == c.status;
  };
  if (wait_until(node_.environment(), seen, c.timeout)) {
    return line(c.node + " is " + status_label(c.status));
  }
  const auto now = node_.cluster().status_of(c.node);
  return line(fmt::format("error: timed out after {} ms waiting for {} to be {} (it is {})",
                          ms(c.timeout), c.node, status_label(c.status),
                          now ? status_label(*now) : "unknown here"),
              true);
}

Outcome Session::wait_store(const Command& c) {
  // Up, not merely registered: the cluster client does not even try a Suspect node.
  const auto hosted = [&] {
    const auto at = node_.cluster().lookup_actor(kStoreName);
    if (!at) return false;
    const auto status = node_.cluster().status_of(at->node);
    return status && *status == MemberStatus::up;
  };
  if (wait_until(node_.environment(), hosted, c.timeout)) {
    const auto at = node_.cluster().lookup_actor(kStoreName);
    if (at) return line("the store is on " + at->node);
  }
  return line(fmt::format("error: timed out after {} ms waiting for a live node to host the store",
                          ms(c.timeout)),
              true);
}

}  // namespace kv
