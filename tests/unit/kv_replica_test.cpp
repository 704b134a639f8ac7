// examples/distributed-kv: the replica's rules (gap-free writes, snapshots, fencing by term)
// and the majority arithmetic, on one simulated node.
#include <catch2/catch.hpp>

#include "kv_actors.hpp"

#include <cineyma/sim/simulation.hpp>

#include <string>
#include <utility>

namespace {

using namespace distributed_kv;
using cineyma::cluster::Member;
using cineyma::cluster::MemberStatus;

Term term(std::uint64_t number, std::string node) {
  Term t;
  t.set_number(number);
  t.set_node(std::move(node));
  return t;
}

ReplicateRequest write(const Term& t, std::uint64_t seq, std::string key, std::string value) {
  ReplicateRequest r;
  *r.mutable_term() = t;
  r.set_seq(seq);
  r.mutable_set()->set_key(std::move(key));
  r.mutable_set()->set_value(std::move(value));
  return r;
}

ReplicateRequest snapshot(const Term& t, std::uint64_t seq,
                          std::vector<std::pair<std::string, std::string>> entries) {
  ReplicateRequest r;
  *r.mutable_term() = t;
  r.set_seq(seq);
  for (auto& [k, v] : entries) {
    Entry* e = r.mutable_snapshot()->add_entries();
    e->set_key(k);
    e->set_value(v);
  }
  r.mutable_snapshot();  // an empty snapshot is still a snapshot
  return r;
}

StateRequest prepare(const Term& t) {
  StateRequest r;
  *r.mutable_candidate() = t;
  return r;
}

/// One replica on one simulated node; requests are sent from outside (they drive the sim).
class ReplicaFixture {
 public:
  ReplicaFixture() : node_(sim_.add_node("n")), system_(node_.environment()) {
    replica_ = system_.spawn(kv::Replica{});
  }
  ~ReplicaFixture() { (void)system_.shutdown(); }

  ReplicateResponse::Outcome send(ReplicateRequest r) {
    auto answer = replica_.send(std::move(r)).get();
    REQUIRE(answer);
    return answer->outcome();
  }
  StateResponse state(StateRequest r = {}) {
    auto answer = replica_.send(std::move(r)).get();
    REQUIRE(answer);
    return *answer;
  }

 private:
  cineyma::sim::Simulation sim_{7};
  cineyma::sim::Node& node_;
  cineyma::ActorSystem system_;
  cineyma::Addr<kv::Replica> replica_;
};

}  // namespace

TEST_CASE("kv replica: a write applies only on top of the state it follows", "[kv][unit]") {
  ReplicaFixture r;
  const Term t1 = term(1, "node-1");
  // A fresh replica has not seen term 1 start: it needs the state first.
  CHECK(r.send(write(t1, 1, "a", "1")) == ReplicateResponse::NEED_SNAPSHOT);
  CHECK(r.send(snapshot(t1, 0, {})) == ReplicateResponse::APPLIED);
  CHECK(r.send(write(t1, 1, "a", "1")) == ReplicateResponse::APPLIED);
  CHECK(r.send(write(t1, 2, "b", "2")) == ReplicateResponse::APPLIED);
  // A retry of a write it holds changes nothing; a gap asks for the state.
  CHECK(r.send(write(t1, 2, "b", "changed")) == ReplicateResponse::APPLIED);
  CHECK(r.send(write(t1, 4, "d", "4")) == ReplicateResponse::NEED_SNAPSHOT);
  ReplicateRequest erase;
  *erase.mutable_term() = t1;
  erase.set_seq(3);
  erase.set_erase("a");
  CHECK(r.send(erase) == ReplicateResponse::APPLIED);

  const StateResponse s = r.state();
  CHECK(s.seq() == 3);
  CHECK(kv::compare(s.term(), t1) == 0);
  REQUIRE(s.snapshot().entries_size() == 1);
  CHECK(s.snapshot().entries(0).key() == "b");
  CHECK(s.snapshot().entries(0).value() == "2");

  // A snapshot of this term older than what it holds (it arrived late) is ignored.
  CHECK(r.send(snapshot(t1, 1, {{"stale", "x"}})) == ReplicateResponse::APPLIED);
  CHECK(r.state().seq() == 3);
}

TEST_CASE("kv replica: once it promised a newer term, the old owner's writes are refused",
          "[kv][unit]") {
  ReplicaFixture r;
  const Term t1 = term(1, "node-1");
  const Term t2 = term(2, "node-2");
  REQUIRE(r.send(snapshot(t1, 5, {{"k", "v"}})) == ReplicateResponse::APPLIED);

  // A read (empty candidate) promises nothing: the old owner may go on.
  CHECK_FALSE(r.state().granted());
  CHECK(r.send(write(t1, 6, "k", "w")) == ReplicateResponse::APPLIED);

  // A takeover prepares term 2: granted, with the newest state...
  const StateResponse granted = r.state(prepare(t2));
  CHECK(granted.granted());
  CHECK(granted.seq() == 6);
  CHECK(kv::compare(granted.term(), t1) == 0);
  // ... and from then on term 1 can neither write nor install its state.
  CHECK(r.send(write(t1, 7, "k", "x")) == ReplicateResponse::STALE_TERM);
  CHECK(r.send(snapshot(t1, 7, {})) == ReplicateResponse::STALE_TERM);
  // A candidate below the promise is not granted (the same one again is).
  CHECK_FALSE(r.state(prepare(term(2, "node-1"))).granted());
  CHECK_FALSE(r.state(prepare(t1)).granted());
  CHECK(r.state(prepare(t2)).granted());

  // Term 2 installs its copy and writes on top of it.
  CHECK(r.send(write(t2, 7, "k", "y")) == ReplicateResponse::NEED_SNAPSHOT);
  CHECK(r.send(snapshot(t2, 6, {{"k", "w"}})) == ReplicateResponse::APPLIED);
  CHECK(r.send(write(t2, 7, "k", "y")) == ReplicateResponse::APPLIED);
  const StateResponse s = r.state();
  CHECK(kv::compare(s.term(), t2) == 0);
  CHECK(s.seq() == 7);
  REQUIRE(s.snapshot().entries_size() == 1);
  CHECK(s.snapshot().entries(0).value() == "y");
}

TEST_CASE("kv terms order by number then node, and a majority counts Down but not Left members",
          "[kv][unit]") {
  CHECK(kv::compare(term(1, "b"), term(2, "a")) < 0);
  CHECK(kv::compare(term(2, "a"), term(2, "b")) < 0);
  CHECK(kv::compare(term(2, "b"), term(2, "b")) == 0);
  CHECK(kv::compare(Term{}, term(1, "")) < 0);

  std::vector<Member> members = {
      {"node-1", "a:1", MemberStatus::up, 1, true},
      {"node-2", "a:2", MemberStatus::suspect, 1, false},
      {"node-3", "a:3", MemberStatus::down, 1, false},
      {"node-4", "a:4", MemberStatus::left, 1, false},
  };
  kv::QuorumView v = kv::quorum_view(members);
  CHECK(v.members == 3);
  CHECK(v.live == std::vector<std::string>{"node-1", "node-2"});
  CHECK(v.majority() == 2);
  CHECK(v.has_quorum());

  members[1].status = MemberStatus::down;  // 1 of 3 alive: a minority
  v = kv::quorum_view(members);
  CHECK_FALSE(v.has_quorum());

  members.resize(1);  // alone: a majority of one
  CHECK(kv::quorum_view(members).has_quorum());
  CHECK_FALSE(kv::quorum_view({}).has_quorum());
}
