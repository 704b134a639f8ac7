// Tests of Simulation::write_trace: the file is well-formed JSON in the Chrome trace-event
// format (what Perfetto and chrome://tracing load), with nodes as processes, actors as
// threads, and flow arrows whose two ends both exist and bind to slices.
#include "support/sim_net.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A strict little JSON parser (RFC 8259 subset: no surrogate checks), enough to prove the
// file parses and to read its fields. Throws std::runtime_error on malformed input.
struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;
struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> v;
  const JsonObject& obj() const { return std::get<JsonObject>(v); }
  const JsonArray& arr() const { return std::get<JsonArray>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  double num() const { return std::get<double>(v); }
  bool has(const std::string& k) const { return obj().count(k) != 0; }
  const Json& at(const std::string& k) const { return obj().at(k); }
};

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}
  Json parse_document() {
    Json j = value();
    ws();
    if (i_ != s_.size()) throw std::runtime_error("trailing characters");
    return j;
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) throw std::runtime_error("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("expected ") + c + " at " + std::to_string(i_));
    ++i_;
  }
  Json value() {
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (s_.compare(i_, 4, "true") == 0) { i_ += 4; return Json{true}; }
    if (s_.compare(i_, 5, "false") == 0) { i_ += 5; return Json{false}; }
    if (s_.compare(i_, 4, "null") == 0) { i_ += 4; return Json{nullptr}; }
    return Json{number()};
  }
  Json object() {
    expect('{');
    JsonObject o;
    if (peek() == '}') { ++i_; return Json{o}; }
    for (;;) {
      std::string k = (peek(), string());
      expect(':');
      if (!o.emplace(k, value()).second) throw std::runtime_error("duplicate key " + k);
      if (peek() == ',') { ++i_; continue; }
      expect('}');
      return Json{o};
    }
  }
  Json array() {
    expect('[');
    JsonArray a;
    if (peek() == ']') { ++i_; return Json{a}; }
    for (;;) {
      a.push_back(value());
      if (peek() == ',') { ++i_; continue; }
      expect(']');
      return Json{a};
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20) throw std::runtime_error("control char in string");
      if (c != '\\') { out += c; continue; }
      const char e = s_.at(i_++);
      if (e == 'u') { i_ += 4; out += '?'; continue; }
      if (std::string("\"\\/bfnrt").find(e) == std::string::npos) throw std::runtime_error("bad escape");
      out += e;
    }
    expect('"');
    return out;
  }
  double number() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) throw std::runtime_error("bad number");
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      ++i_;
    }
    return std::stod(s_.substr(start, i_ - start));
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

struct Ping {};
class Echo : public cineyma::Actor<Echo> {
 public:
  void handle(const Ping&, Context&) { ++count; }
  int count = 0;
};

/// Sends three pings from its started(): each must appear as one message arrow.
class Pinger : public cineyma::Actor<Pinger> {
 public:
  explicit Pinger(cineyma::Addr<Echo> to) : to_(std::move(to)) {}
  void started(Context&) {
    for (int i = 0; i < 3; ++i) (void)to_.try_send(Ping{});
  }

 private:
  cineyma::Addr<Echo> to_;
};

}  // namespace

TEST_CASE("sim trace: write_trace produces Chrome trace-event JSON with processes, actor "
          "threads and matched flows",
          "[sim][trace]") {
  cineyma::sim::SimulationOptions options;
  options.record_events = true;
  cineyma::sim::Simulation sim(5, options);
  auto& a = sim.add_node("alpha \"quoted\"");
  auto& b = sim.add_node("beta", [](cineyma::sim::Node& n) {
    auto& system = n.make<cineyma::ActorSystem>(n.environment());
    auto echo = system.spawn(Echo{});
    for (int i = 0; i < 5; ++i) REQUIRE(echo.try_send(Ping{}));
    system.spawn(Pinger(echo));
  });
  cineyma::test::Connected c = cineyma::test::connect_pair(sim, a, b, 9);
  REQUIRE(c.ok);
  c.client.write("over the network");
  sim.run_for(1s);
  REQUIRE(c.server.log->received == "over the network");

  const std::string path = "sim_trace_test.json";
  REQUIRE(sim.write_trace(path));
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const Json doc = Parser(buffer.str()).parse_document();

  const JsonArray& events = doc.at("traceEvents").arr();
  std::map<double, std::string> process_names;
  std::set<std::pair<double, double>> named_threads;
  std::set<std::pair<double, double>> slice_tracks;
  std::map<double, std::vector<const Json*>> flow_starts;
  std::map<double, std::vector<const Json*>> flow_ends;
  std::map<std::pair<double, double>, double> last_ts_on_track;
  std::size_t slices = 0;
  bool actor_thread = false;
  for (const Json& e : events) {
    for (const char* field : {"name", "ph", "pid", "tid"}) REQUIRE(e.has(field));
    const std::string ph = e.at("ph").str();
    const auto track = std::make_pair(e.at("pid").num(), e.at("tid").num());
    if (ph == "M") {
      if (e.at("name").str() == "process_name") process_names[track.first] = e.at("args").at("name").str();
      if (e.at("name").str() == "thread_name") {
        named_threads.insert(track);
        if (e.at("args").at("name").str().rfind("actor ", 0) == 0) actor_thread = true;
      }
    } else if (ph == "X") {
      ++slices;
      REQUIRE(e.has("ts"));
      REQUIRE(e.has("dur"));
      // Slices on one track never overlap: each starts after the previous one ended.
      const auto last = last_ts_on_track.find(track);
      if (last != last_ts_on_track.end()) CHECK(e.at("ts").num() > last->second);
      last_ts_on_track[track] = e.at("ts").num();
      slice_tracks.insert(track);
    } else if (ph == "s") {
      flow_starts[e.at("id").num()].push_back(&e);
    } else if (ph == "f") {
      CHECK(e.at("bp").str() == "e");
      flow_ends[e.at("id").num()].push_back(&e);
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  CHECK(slices == sim.events());
  CHECK(process_names.size() == 2);
  CHECK(process_names[1] == "alpha \"quoted\"");
  CHECK(process_names[2] == "beta");
  CHECK(actor_thread);
  for (const auto& t : slice_tracks) CHECK(named_threads.count(t) == 1);
  REQUIRE_FALSE(flow_starts.empty());
  CHECK(flow_starts.size() == flow_ends.size());
  bool cross_node = false;
  int ping_arrows = 0;
  for (const auto& [id, starts] : flow_starts) {
    REQUIRE(starts.size() == 1);
    REQUIRE(flow_ends.count(id) == 1);
    const Json& s = *starts.front();
    const Json& f = *flow_ends.at(id).front();
    CHECK(s.at("ts").num() <= f.at("ts").num());
    CHECK(s.at("name").str() == f.at("name").str());
    if (s.at("pid").num() != f.at("pid").num()) {
      cross_node = true;
      CHECK(s.at("name").str() == "network");
    }
    if (s.at("name").str().find("Ping") != std::string::npos) {
      // A message arrow: from the pinger's run to a run of the echo actor, another thread.
      ++ping_arrows;
      CHECK(s.at("tid").num() != f.at("tid").num());
      CHECK(s.at("pid").num() == f.at("pid").num());
    }
  }
  CHECK(ping_arrows == 3);  // one per message sent from inside the simulation
  CHECK(cross_node);  // the bytes from alpha to beta are drawn as arrows between processes
  std::remove(path.c_str());
}
