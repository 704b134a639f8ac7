// Unit tests of the transport-independent cluster core: the membership join, the registry
// order, the gossip codec and the GossipEngine state machine (driven by hand: explicit times,
// explicit message delivery). SPEC-original §7 tests 37, 40, 41, 42 appear here in their
// engine form; the simulated-network scenarios are in tests/sim/cluster_sim_test.cpp.
#include <catch2/catch.hpp>

#include <cineyma/cluster.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace cineyma::cluster;
using cineyma::Errc;
using cineyma::Prng;
using cineyma::TimePoint;

MemberEntry entry(std::string node, std::uint64_t inc, std::uint64_t hb,
                  MemberStatus st = MemberStatus::up, std::uint64_t epoch = 0) {
  return MemberEntry{node, node + ":1", inc, epoch, hb, st};
}

GossipConfig config(std::string id, std::vector<std::string> seeds = {}) {
  GossipConfig c;
  c.node_id = id;
  c.endpoint = id + ":1";
  c.seeds = std::move(seeds);
  c.down_probe_one_in = 0;
  return c;
}

TimePoint at(std::chrono::milliseconds ms) { return TimePoint{} + ms; }

// Delivers every message of `fx` addressed to `to` (by id or endpoint); returns what `to` did.
Effects deliver(const Effects& fx, GossipEngine& to, TimePoint now) {
  Effects all;
  for (const Outgoing& out : fx.send) {
    if (out.to_node != to.self().node && out.to_endpoint != to.self().endpoint) continue;
    auto r = to.on_message(*out.message, now);
    REQUIRE(r.has_value());
    for (auto& s : r->send) all.send.push_back(s);
    for (auto& e : r->events) all.events.push_back(e);
    for (auto& l : r->lost) all.lost.push_back(l);
  }
  return all;
}

// One push–pull exchange initiated by `a` towards `b` with a hand-made push.
void exchange(GossipEngine& a, GossipEngine& b, TimePoint now) {
  GossipMessage push;
  push.kind = GossipKind::push;
  push.from = a.self().node;
  push.members = a.membership().entries();
  push.registry = a.registry().records();
  auto r = b.on_message(push, now);
  REQUIRE(r.has_value());
  for (const Outgoing& out : r->send) {
    REQUIRE(out.to_node == a.self().node);
    REQUIRE(a.on_message(*out.message, now).has_value());
  }
}

}  // namespace

TEST_CASE("cluster: join orders by life, then Down/Left, then incarnation, then field maxima",
          "[cluster]") {
  const MemberEntry up5 = entry("a", 1, 5);
  const MemberEntry suspect3 = entry("a", 1, 3, MemberStatus::suspect);
  const MemberEntry merged = join(up5, suspect3);
  CHECK(merged.status == MemberStatus::suspect);  // status precedence
  CHECK(merged.heartbeat == 5);                   // heartbeat never lost
  CHECK(join(suspect3, up5) == merged);

  // Down is final for the life: fresher heartbeats do not revive it, nor does a refutation
  // (a higher incarnation of the same life) that raced with the verdict.
  const MemberEntry down = entry("a", 1, 2, MemberStatus::down);
  CHECK(join(down, entry("a", 1, 99)).status == MemberStatus::down);
  CHECK(join(down, entry("a", 5, 99)) == down);
  CHECK(join(entry("a", 5, 99), down) == down);
  // Only a new life (higher epoch) does, and it replaces the whole entry.
  const MemberEntry reborn = entry("a", 6, 0, MemberStatus::up, 6);
  CHECK(join(down, reborn) == reborn);
  CHECK(join(reborn, down) == reborn);
  // Outside a verdict, a higher incarnation replaces the entry whatever its status.
  CHECK(join(entry("a", 1, 9, MemberStatus::suspect), entry("a", 2, 3)) == entry("a", 2, 3));
  // Left ranks above Down.
  CHECK(join(down, entry("a", 1, 0, MemberStatus::left)).status == MemberStatus::left);
}

TEST_CASE("cluster: merge_sorted returns the delta the sender lacks and the transitions",
          "[cluster]") {
  Membership view;
  view.upsert(entry("a", 0, 10), at(0ms));
  view.upsert(entry("b", 0, 1), at(0ms));
  view.upsert(entry("d", 0, 1), at(0ms));
  const std::vector<MemberEntry> incoming = {entry("a", 0, 3), entry("b", 1, 0),
                                             entry("c", 0, 7, MemberStatus::suspect),
                                             entry("d", 0, 1)};
  std::vector<MemberEntry> newer;
  std::vector<MemberTransition> transitions;
  CHECK(view.merge_sorted(incoming, at(1000ms), {&newer, &transitions}) == 2);
  // "a": ours is newer (heartbeat 10); "b" and "c" now equal the sender's; "d" unchanged.
  REQUIRE(newer.size() == 1);
  CHECK(newer[0] == entry("a", 0, 10));
  REQUIRE(transitions.size() == 2);
  CHECK(transitions[0].after.node == "b");
  CHECK(transitions[0].known_before);
  CHECK(transitions[0].incarnation_before == 0);
  CHECK(transitions[1].after.node == "c");
  CHECK_FALSE(transitions[1].known_before);
  // Progress time moves only for entries whose (incarnation, heartbeat) advanced.
  CHECK(view.find_slot("a")->progress_at == at(0ms));
  CHECK(view.find_slot("b")->progress_at == at(1000ms));
  CHECK(view.find_slot("d")->progress_at == at(0ms));
}

TEST_CASE("cluster: registry order, tombstones and liveness", "[cluster]") {
  Membership members;
  members.upsert(entry("n1", 3, 0, MemberStatus::up, 2), at(0ms));
  members.upsert(entry("n2", 0, 0), at(0ms));
  RegistryState reg;
  const RegistryRecord r1{"svc", "n1", 2, 1, "Svc", false};
  const RegistryRecord r2{"svc", "n2", 0, 1, "Svc", false};
  CHECK(reg.upsert(r1));
  CHECK(reg.upsert(r2));       // same version: the greater node id wins
  CHECK_FALSE(reg.upsert(r1)); // ... in any order
  CHECK(reg.find("svc")->node == "n2");
  CHECK(reg.lookup("svc", members)->node == "n2");

  const RegistryRecord tomb{"svc", "n2", 0, 2, "Svc", true};
  CHECK(reg.upsert(tomb));
  CHECK_FALSE(reg.upsert(r2));  // stale gossip loses against the tombstone
  CHECK(reg.lookup("svc", members).is(Errc::not_found));

  // Records of an earlier life (epoch below the member's) and of Down nodes never resolve.
  CHECK_FALSE(is_live(RegistryRecord{"x", "n1", 1, 1, "T", false}, members));
  CHECK(is_live(RegistryRecord{"x", "n1", 2, 1, "T", false}, members));
  members.upsert(entry("n1", 3, 0, MemberStatus::down, 2), at(0ms));
  CHECK_FALSE(is_live(RegistryRecord{"x", "n1", 2, 1, "T", false}, members));
  CHECK_FALSE(is_live(RegistryRecord{"x", "unknown", 0, 1, "T", false}, members));
}

TEST_CASE("cluster: codec round-trips and rejects malformed input", "[cluster][codec]") {
  GossipMessage m;
  m.kind = GossipKind::reply;
  m.from = "node-1";
  m.members = {entry("a", 300, 1ULL << 40, MemberStatus::suspect, 7), entry("b", 0, 0)};
  m.registry = {RegistryRecord{"kv", "a", 300, 9, "KvStore", false},
                RegistryRecord{"zz", "b", 0, 2, "T", true}};
  const std::vector<std::uint8_t> bytes = encode_gossip(m);
  auto decoded = decode_gossip(bytes);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == m);

  // Every strict prefix is rejected, and so is any trailing byte.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK(decode_gossip({bytes.data(), n}).is(Errc::decode_error));
  }
  auto longer = bytes;
  longer.push_back(0);
  CHECK(decode_gossip(longer).is(Errc::decode_error));

  auto corrupt = [&](std::size_t index, std::uint8_t value) {
    auto b = bytes;
    b.at(index) = value;
    return decode_gossip(b);
  };
  CHECK(corrupt(0, 'X').is(Errc::decode_error));  // magic
  CHECK(corrupt(2, 2).is(Errc::decode_error));    // version
  CHECK(corrupt(3, 9).is(Errc::decode_error));    // kind

  // A count far beyond what the input can hold is rejected before anything is allocated.
  std::vector<std::uint8_t> huge = {'C', 'G', 1, 1, 1, 'x', 0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  CHECK(decode_gossip(huge).is(Errc::decode_error));
  // An over-long varint (11 bytes) is rejected.
  std::vector<std::uint8_t> overlong = {'C', 'G', 1, 1, 1, 'x', 1, 1, 'a', 1, 'e'};
  for (int i = 0; i < 10; ++i) overlong.push_back(0x80);
  overlong.push_back(0);
  CHECK(decode_gossip(overlong).is(Errc::decode_error));
  // A non-minimal varint (a trailing zero byte) is rejected: one encoding per message.
  std::vector<std::uint8_t> padded = {'C', 'G', 1, 1, 0x81, 0x00, 'x', 0, 0};
  CHECK(decode_gossip(padded).is(Errc::decode_error));
  padded = {'C', 'G', 1, 1, 0x01, 'x', 0, 0};
  CHECK(decode_gossip(padded).has_value());

  // Semantically invalid messages fail validation, on decode and in the engine.
  GossipMessage unsorted = m;
  std::swap(unsorted.members[0], unsorted.members[1]);
  CHECK(validate(unsorted).is(Errc::decode_error));
  GossipMessage bad_epoch = m;
  bad_epoch.members[1].epoch = 1;  // epoch above incarnation 0
  CHECK(validate(bad_epoch).is(Errc::decode_error));
  GossipMessage huge_counter = m;
  huge_counter.members[0].heartbeat = GossipLimits::max_counter + 1;
  CHECK(validate(huge_counter).is(Errc::decode_error));
  GossipMessage huge_version = m;
  huge_version.registry[0].version = GossipLimits::max_counter + 1;
  CHECK(validate(huge_version).is(Errc::decode_error));
  GossipMessage dup = m;
  dup.registry[1].name = "kv";
  CHECK(validate(dup).is(Errc::decode_error));
}

TEST_CASE("cluster: config validation", "[cluster]") {
  CHECK(validate(config("a")).has_value());
  GossipConfig c = config("a");
  c.fanout = 0;
  CHECK(validate(c).is(Errc::invalid_argument));
  c = config("a");
  c.suspect_after = c.down_after;
  CHECK(validate(c).is(Errc::invalid_argument));
  c = config("");
  CHECK(validate(c).is(Errc::invalid_argument));
  c = config("a");
  c.gossip_interval = 0s;
  CHECK(validate(c).is(Errc::invalid_argument));
}

TEST_CASE("cluster: a node joins through its seed and both learn each other (spec 37)",
          "[cluster]") {
  Prng rng(1);
  GossipEngine seed(config("seed"), at(0ms));
  GossipEngine joiner(config("joiner", {"seed:1"}), at(0ms));

  // Alone, the joiner pushes to the seed, whose id it does not know yet.
  Effects fx = joiner.tick(at(0ms), rng);
  REQUIRE(fx.send.size() == 1);
  CHECK(fx.send[0].to_node.empty());
  CHECK(fx.send[0].to_endpoint == "seed:1");

  Effects at_seed = deliver(fx, seed, at(1ms));
  REQUIRE(at_seed.events.size() == 1);
  CHECK(at_seed.events[0] == MemberEvent{MemberStatus::up, "joiner", "joiner:1", 0});
  REQUIRE(at_seed.send.size() == 1);  // the reply: the seed's own entry
  Effects at_joiner = deliver(at_seed, joiner, at(2ms));
  REQUIRE(at_joiner.events.size() == 1);
  CHECK(at_joiner.events[0].node == "seed");
  CHECK(at_joiner.send.empty());  // replies are not answered
  CHECK(seed.membership().size() == 2);
  CHECK(joiner.membership().size() == 2);

  // Now that it has a live peer, the joiner gossips to it by id, not to the seed list.
  Effects next = joiner.tick(at(1000ms), rng);
  REQUIRE(next.send.size() == 1);
  CHECK(next.send[0].to_node == "seed");

  // A third node known to one side spreads through push–pull (spec 37).
  GossipEngine third(config("third"), at(0ms));
  exchange(third, seed, at(1500ms));
  exchange(joiner, seed, at(1600ms));
  CHECK(joiner.membership().size() == 3);
  CHECK(third.membership().size() == 3);
}

TEST_CASE("cluster: a silent peer becomes Suspect after 5 s and Down after 10 s (spec 40)",
          "[cluster]") {
  Prng rng(2);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  exchange(b, a, at(0ms));  // a learns b at t = 0; b then falls silent
  std::vector<std::pair<std::int64_t, MemberStatus>> seen;
  for (std::int64_t ms = 0; ms <= 12'000; ms += 500) {
    for (const MemberEvent& e : a.tick(at(std::chrono::milliseconds(ms)), rng).events) {
      seen.emplace_back(ms, e.status);
    }
  }
  // Strictly more than the timeout, quantised to the tick.
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::pair<std::int64_t, MemberStatus>{5500, MemberStatus::suspect});
  CHECK(seen[1] == std::pair<std::int64_t, MemberStatus>{10'500, MemberStatus::down});
  CHECK(a.stats().suspicions_raised == 1);
  CHECK(a.stats().downs_declared == 1);
}

TEST_CASE("cluster: heartbeat progress learned through a third node keeps a peer alive",
          "[cluster]") {
  Prng rng(3);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  GossipEngine c(config("c"), at(0ms));
  exchange(c, b, at(0ms));
  exchange(b, a, at(0ms));
  // c never talks to a directly; its heartbeat reaches a only through b.
  for (std::int64_t s = 1; s <= 30; ++s) {
    const TimePoint now = at(std::chrono::milliseconds(s * 1000));
    static_cast<void>(c.tick(now, rng));
    exchange(c, b, now);
    exchange(b, a, now);
    for (const MemberEvent& e : a.tick(now, rng).events) {
      FAIL("unexpected event about " << e.node << ": " << to_string(e.status));
    }
  }
  CHECK(a.membership().find("c")->status == MemberStatus::up);
  CHECK(a.membership().find("c")->heartbeat == 30);
}

TEST_CASE("cluster: a suspected node refutes by raising its incarnation", "[cluster]") {
  Prng rng(4);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  exchange(b, a, at(0ms));
  for (std::int64_t s = 1; s <= 6; ++s) {
    static_cast<void>(a.tick(at(std::chrono::milliseconds(s * 1000)), rng));
  }
  REQUIRE(a.membership().find("b")->status == MemberStatus::suspect);
  // b hears it is suspected; its reply carries the refutation.
  exchange(a, b, at(6100ms));
  CHECK(b.self().incarnation == 1);
  CHECK(b.self().epoch == 0);  // same life
  CHECK(b.stats().refutations == 1);
  CHECK(a.membership().find("b")->status == MemberStatus::up);
  CHECK(a.membership().find("b")->incarnation == 1);
}

TEST_CASE("cluster: a node seen Down starts a new life and re-registers its names",
          "[cluster]") {
  Prng rng(5);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  REQUIRE(b.register_actor("kv", "KvStore").has_value());
  exchange(b, a, at(0ms));
  REQUIRE(a.lookup_actor("kv")->node == "b");
  for (std::int64_t s = 1; s <= 11; ++s) {
    static_cast<void>(a.tick(at(std::chrono::milliseconds(s * 1000)), rng));
  }
  REQUIRE(a.membership().find("b")->status == MemberStatus::down);
  CHECK(a.lookup_actor("kv").is(Errc::not_found));  // spec 42: gone with its node

  exchange(a, b, at(11'500ms));  // b learns it was declared Down: a new life
  CHECK(b.stats().new_lives == 1);
  CHECK(b.self().incarnation == 1);
  CHECK(b.self().epoch == 1);
  CHECK(a.membership().find("b")->status == MemberStatus::up);
  // The name is claimed again in the new life, above the dead record.
  const auto loc = a.lookup_actor("kv");
  REQUIRE(loc.has_value());
  CHECK(loc->epoch == 1);
  CHECK(loc->version == 2);
}

TEST_CASE("cluster: registry spreads, tombstones stay, and concurrent names resolve (spec 41)",
          "[cluster]") {
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  REQUIRE(a.register_actor("my-actor", "MyActorType").has_value());
  exchange(a, b, at(0ms));
  auto loc = b.lookup_actor("my-actor");
  REQUIRE(loc.has_value());
  CHECK(loc->node == "a");
  CHECK(loc->actor_type == "MyActorType");
  CHECK(loc->endpoint == "a:1");
  CHECK(b.register_actor("my-actor", "Other").is(Errc::already_exists));

  // The actor stops: a tombstone spreads, and a stale push carrying the old record loses.
  GossipMessage stale;
  stale.from = "a";
  stale.members = a.membership().entries();
  stale.registry = a.registry().records();
  REQUIRE(a.unregister_actor("my-actor").has_value());
  CHECK(a.unregister_actor("my-actor").is(Errc::not_found));
  exchange(a, b, at(1ms));
  CHECK(b.lookup_actor("my-actor").is(Errc::not_found));
  REQUIRE(b.on_message(stale, at(2ms)).has_value());
  CHECK(b.lookup_actor("my-actor").is(Errc::not_found));

  // Two nodes register one name before hearing of each other: both resolve to the same
  // winner (same version: greater node id), and the loser is told.
  REQUIRE(a.register_actor("dup", "A").has_value());
  REQUIRE(b.register_actor("dup", "B").has_value());
  GossipMessage push;
  push.from = "a";
  push.members = a.membership().entries();
  push.registry = a.registry().records();
  auto at_b = b.on_message(push, at(3ms));
  REQUIRE(at_b.has_value());
  CHECK(at_b->lost.empty());  // b is the winner
  REQUIRE(at_b->send.size() == 1);
  auto at_a = a.on_message(*at_b->send[0].message, at(4ms));
  REQUIRE(at_a.has_value());
  REQUIRE(at_a->lost.size() == 1);
  CHECK(at_a->lost[0].name == "dup");
  CHECK(at_a->lost[0].actor_type == "A");
  CHECK(at_a->lost[0].winner.node == "b");
  CHECK(a.lookup_actor("dup")->node == "b");
  CHECK(b.lookup_actor("dup")->node == "b");
  CHECK(a.local_registrations().count("dup") == 0);
  CHECK(a.stats().registrations_lost == 1);
}

TEST_CASE("cluster: graceful leave spreads Left and silences the node", "[cluster]") {
  Prng rng(6);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  REQUIRE(a.register_actor("svc", "Svc").has_value());
  exchange(a, b, at(0ms));
  Effects fx = a.leave(at(1000ms), rng);
  REQUIRE(fx.send.size() == 1);
  CHECK(a.has_left());
  CHECK(a.register_actor("x", "X").is(Errc::actor_stopped));
  Effects at_b = deliver(fx, b, at(1001ms));
  REQUIRE(at_b.events.size() == 1);
  CHECK(at_b.events[0].status == MemberStatus::left);
  CHECK(b.lookup_actor("svc").is(Errc::not_found));
  CHECK(a.tick(at(2000ms), rng).send.empty());
  // b never turns a Left member Down.
  for (std::int64_t s = 2; s <= 20; ++s) {
    CHECK(b.tick(at(std::chrono::milliseconds(s * 1000)), rng).events.empty());
  }
}

TEST_CASE("cluster: a late tick (paused process) does not count against peers", "[cluster]") {
  Prng rng(7);
  GossipEngine a(config("a"), at(0ms));
  GossipEngine b(config("b"), at(0ms));
  exchange(b, a, at(0ms));
  static_cast<void>(a.tick(at(1000ms), rng));
  // a is paused for 8 s: its next tick comes at 9 s. b's last news is 9 s old, but a only
  // listened for 1 s of it: no suspicion.
  CHECK(a.tick(at(9000ms), rng).events.empty());
  CHECK(a.membership().find("b")->status == MemberStatus::up);
  // b really is silent: judged on the time a listened (0–1 s, one interval of the gap counted as
  // normal tick jitter, then from 9 s on), it is silent for more than 5 s at the 13 s tick.
  std::vector<std::int64_t> suspect_at;
  for (std::int64_t s = 10; s <= 16; ++s) {
    for (const MemberEvent& e : a.tick(at(std::chrono::milliseconds(s * 1000)), rng).events) {
      if (e.status == MemberStatus::suspect) suspect_at.push_back(s);
    }
  }
  CHECK(suspect_at == std::vector<std::int64_t>{13});
}

TEST_CASE("cluster: the engine rejects invalid messages and leaves its state unchanged",
          "[cluster]") {
  GossipEngine a(config("a"), at(0ms));
  GossipMessage bad;
  bad.from = "x";
  bad.members = {entry("z", 0, 0), entry("y", 0, 0)};  // not sorted
  CHECK(a.on_message(bad, at(1ms)).is(Errc::decode_error));
  GossipMessage self;
  self.from = "a";
  self.members = {entry("a", 5, 5, MemberStatus::down)};
  CHECK(a.on_message(self, at(2ms)).is(Errc::invalid_argument));
  CHECK(a.membership().size() == 1);
  CHECK(a.self().incarnation == 0);
  CHECK(a.stats().messages_rejected == 2);
}

TEST_CASE("cluster: a restarted node recognises its earlier life and its stale names die",
          "[cluster]") {
  GossipEngine a(config("a"), at(0ms));
  auto b1 = std::make_unique<GossipEngine>(config("b"), at(0ms));
  REQUIRE(b1->register_actor("old", "Old").has_value());
  Prng rng(8);
  for (int s = 1; s <= 3; ++s) static_cast<void>(b1->tick(at(std::chrono::milliseconds(s)), rng));
  exchange(*b1, a, at(10ms));
  REQUIRE(a.lookup_actor("old").has_value());
  // b crashes and restarts at once, same id, fresh state, incarnation 0 again.
  b1.reset();
  GossipEngine b2(config("b"), at(20ms));
  exchange(b2, a, at(30ms));  // a's reply carries b's old entry and old record
  CHECK(b2.stats().new_lives == 1);
  CHECK(b2.self().epoch >= 1);
  exchange(b2, a, at(40ms));
  CHECK(a.lookup_actor("old").is(Errc::not_found));
  CHECK(b2.lookup_actor("old").is(Errc::not_found));
}

TEST_CASE("cluster: counters pushed to their limit by a peer saturate instead of overflowing",
          "[cluster]") {
  GossipEngine a(config("a"), at(0ms));
  REQUIRE(a.register_actor("x", "X").has_value());
  GossipMessage push;
  push.from = "b";
  push.members = {entry("a", GossipLimits::max_counter, GossipLimits::max_counter,
                        MemberStatus::down, GossipLimits::max_counter),
                  entry("b", 0, 0)};
  // An entry of ours at the limit could not be outbid: refused, nothing changes.
  CHECK(a.on_message(push, at(1ms)).is(Errc::invalid_argument));
  CHECK(a.self().incarnation == 0);
  CHECK(a.membership().size() == 1);
  // A record at the version limit wins; a's re-claim cannot rise above it, so a is told.
  push.members = {entry("a", 5, 5, MemberStatus::down), entry("b", 0, 0)};
  push.registry = {RegistryRecord{"x", "b", 0, GossipLimits::max_counter, "Y", false}};
  auto fx = a.on_message(push, at(2ms));
  REQUIRE(fx.has_value());
  CHECK(a.self().incarnation == 6);
  CHECK(a.self().epoch == 6);
  REQUIRE(fx->lost.size() == 1);
  CHECK(fx->lost[0].winner.node == "b");
  for (const Outgoing& out : fx->send) CHECK(validate(*out.message).has_value());
  CHECK(a.register_actor("x", "X").is(Errc::already_exists));
}
