// sim/src/trace.cpp — the recorded events as Chrome trace-event JSON (Perfetto, chrome://tracing).
//
// Layout: one process per node (pid = node index + 1, named after the node), one thread per
// actor (tid = the actor id a cell reports as its trace tag) and thread 0 for every other
// task and timer of the node. Each event is a complete event ("X").
//
// Virtual time does not advance while tasks run, so many events share an instant. Slices on
// one track must not overlap, and flow arrows bind to the slice enclosing their timestamp, so
// each event is drawn 1 ns long on a display clock that is virtual time pushed forward by
// 1 ns whenever events crowd (the true virtual time is in args.t_ns).
//
// A task that posted, scheduled or sent the bytes of another gives a flow arrow ("s" at the
// cause, "f" bound to the enclosing slice at the effect): across nodes these are the network's
// deliveries, within a node the wake-up of an actor (a message to an idle actor), a timer or
// a continuation.
#include <cineyma/sim/simulation.hpp>

#include "environment.hpp"
#include "world.hpp"

#include <cineyma/assert.hpp>

#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace cineyma::sim {
namespace {

using internal::TaskKind;
using internal::World;

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

/// A readable C++ type name for a `typeid(...).name()`.
std::string demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = (status == 0 && readable != nullptr) ? readable : mangled;
  std::free(readable);
  return out;
}

/// Microseconds with three decimals, from integer nanoseconds (no floating point).
std::string micros(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ns / 1000),
                static_cast<long long>(ns % 1000));
  return buf;
}

std::uint64_t tid_of(const World::EventRecord& e) {
  // Actor cells are posted by reference and tag themselves with their actor id; timers tag
  // themselves with the timer id, which is not a thread.
  return e.kind == TaskKind::runnable ? e.tag : 0;
}

const char* slice_name(const World::EventRecord& e) {
  switch (e.kind) {
    case TaskKind::runnable: return e.tag != 0 ? "actor run" : "runnable";
    case TaskKind::function: return "task";
    case TaskKind::timer: return "timer";
  }
  return "event";
}

}  // namespace

Result<void> Simulation::write_trace(const std::string& path) const {
  const World& world = impl_->world;
  CINEYMA_ASSERT_MSG(world.options().record_events,
                     "write_trace needs SimulationOptions::record_events");
  const std::vector<World::EventRecord>& events = world.event_records();

  // The display clock: virtual time, pushed 1 ns forward past the previous event.
  std::vector<std::int64_t> shown(events.size());
  std::int64_t last = -1;
  for (std::size_t i = 0; i < events.size(); ++i) {
    last = std::max(events[i].at.time_since_epoch().count(), last + 1);
    shown[i] = last;
  }

  std::string out;
  out.reserve(256 + events.size() * 240);
  out += "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"seed\":\"";
  out += std::to_string(world.seed());
  out += "\"},\"traceEvents\":[\n";
  bool first = true;
  auto begin_event = [&out, &first] {
    if (!first) out += ",\n";
    first = false;
  };

  std::set<std::pair<std::uint32_t, std::uint64_t>> threads;
  for (const auto& e : events) threads.emplace(e.node, tid_of(e));
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    begin_event();
    out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + std::to_string(n + 1) +
           ",\"tid\":0,\"args\":{\"name\":";
    append_json_string(out, world.node_at(n).name());
    out += "}}";
  }
  for (const auto& [node, tid] : threads) {
    begin_event();
    out += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(node + 1) +
           ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":\"" +
           (tid == 0 ? std::string("tasks and timers") : "actor " + std::to_string(tid)) +
           "\"}}";
  }

  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string pid = std::to_string(e.node + 1);
    const std::string tid = std::to_string(tid_of(e));
    begin_event();
    out += "{\"name\":\"";
    out += slice_name(e);
    out += "\",\"cat\":\"sim\",\"ph\":\"X\",\"ts\":" + micros(shown[i]) +
           ",\"dur\":0.001,\"pid\":" + pid + ",\"tid\":" + tid + ",\"args\":{\"event\":" +
           std::to_string(i) + ",\"t_ns\":" + std::to_string(e.at.time_since_epoch().count()) +
           ",\"tag\":" + std::to_string(e.tag) + "}}";
    if (e.cause == 0) continue;
    const std::size_t c = static_cast<std::size_t>(e.cause - 1);
    CINEYMA_ASSERT(c < i);
    const auto& cause = events[c];
    const char* flow = cause.node != e.node       ? "network"
                       : e.kind == TaskKind::timer ? "timer"
                                                   : "wake";
    const std::string id = std::to_string(i);
    begin_event();
    out += std::string("{\"name\":\"") + flow + "\",\"cat\":\"sim\",\"ph\":\"s\",\"id\":" + id +
           ",\"ts\":" + micros(shown[c]) + ",\"pid\":" + std::to_string(cause.node + 1) +
           ",\"tid\":" + std::to_string(tid_of(cause)) + "}";
    begin_event();
    out += std::string("{\"name\":\"") + flow +
           "\",\"cat\":\"sim\",\"ph\":\"f\",\"bp\":\"e\",\"id\":" + id + ",\"ts\":" +
           micros(shown[i]) + ",\"pid\":" + pid + ",\"tid\":" + tid + "}";
  }
  // One arrow per handled message, from the event that sent it to the event (the actor's
  // run) that handled it. Ids follow the scheduling arrows' (which use event indices).
  std::map<const char*, std::string> names;  // demangled once per message type
  std::uint64_t flow_id = events.size();
  for (const auto& f : world.message_flows()) {
    const std::size_t from = static_cast<std::size_t>(f.from - 1);
    const std::size_t to = static_cast<std::size_t>(f.to - 1);
    if (from >= events.size() || to >= events.size()) continue;
    auto [it, added] = names.try_emplace(f.type_name);
    if (added) it->second = demangle(f.type_name);
    const std::string id = std::to_string(flow_id++);
    std::string name;
    append_json_string(name, it->second);
    begin_event();
    out += "{\"name\":" + name + ",\"cat\":\"message\",\"ph\":\"s\",\"id\":" + id +
           ",\"ts\":" + micros(shown[from]) + ",\"pid\":" +
           std::to_string(events[from].node + 1) + ",\"tid\":" +
           std::to_string(tid_of(events[from])) + "}";
    begin_event();
    out += "{\"name\":" + name + ",\"cat\":\"message\",\"ph\":\"f\",\"bp\":\"e\",\"id\":" +
           id + ",\"ts\":" + micros(shown[to]) + ",\"pid\":" + std::to_string(events[to].node + 1) +
           ",\"tid\":" + std::to_string(tid_of(events[to])) + "}";
  }
  out += "\n]}\n";

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return fail(std::error_code(errno != 0 ? errno : EIO, std::generic_category()));
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file) return fail(std::error_code(EIO, std::generic_category()));
  return ok();
}

}  // namespace cineyma::sim
