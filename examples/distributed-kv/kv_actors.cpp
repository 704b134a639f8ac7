// examples/distributed-kv/kv_actors.cpp — see kv_actors.hpp for the protocol and its reasons.
//
// Every co_await below awaits a named object: g++ 12 destroys a temporary with a non-trivial
// destructor inside a co_await expression twice (README, "A tour of the API").
#include "kv_actors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace kv {

namespace {

using namespace distributed_kv;
using cineyma::Result;
using cineyma::Task;
using cineyma::cluster::MemberStatus;

Snapshot to_snapshot(const Data& data) {
  Snapshot s;
  for (const auto& [key, value] : data) {
    Entry* e = s.add_entries();
    e->set_key(key);
    e->set_value(value);
  }
  return s;
}

Data from_snapshot(const Snapshot& s) {
  Data data;
  for (const Entry& e : s.entries()) data[e.key()] = e.value();
  return data;
}

/// True when copy `a` is newer than copy `b`: a later term, or more writes of the same term.
bool newer(const StateResponse& a, const StateResponse& b) {
  const int c = compare(a.term(), b.term());
  return c > 0 || (c == 0 && a.seq() > b.seq());
}

std::string keys(std::size_t n) { return fmt::format("{} key{}", n, n == 1 ? "" : "s"); }

}  // namespace

QuorumView quorum_view(const std::vector<cineyma::cluster::Member>& members) {
  QuorumView v;
  for (const auto& m : members) {
    if (m.status == MemberStatus::left) continue;
    ++v.members;
    if (cineyma::cluster::is_live(m.status)) v.live.push_back(m.node);
  }
  return v;
}

// ---- Replica ------------------------------------------------------------------------------------

ReplicateResponse Replica::answer(ReplicateResponse::Outcome o) const {
  ReplicateResponse r;
  r.set_outcome(o);
  *r.mutable_term() = term_;
  r.set_seq(seq_);
  return r;
}

ReplicateResponse Replica::handle(const ReplicateRequest& m, Context&) {
  // A takeover has been promised a newer term: the sender is a deposed owner (fencing).
  if (compare(m.term(), promised_) < 0) return answer(ReplicateResponse::STALE_TERM);
  if (m.has_snapshot()) {
    // A snapshot of the current term older than what we hold arrived late (its sender timed
    // out on it and went on): keep the newer state.
    const bool late = compare(m.term(), term_) == 0 && m.seq() < seq_;
    if (!late) {
      term_ = m.term();
      promised_ = m.term();
      seq_ = m.seq();
      data_ = from_snapshot(m.snapshot());
    }
    return answer(ReplicateResponse::APPLIED);
  }
  // A single write applies only on top of exactly the state it follows.
  if (compare(m.term(), term_) != 0) return answer(ReplicateResponse::NEED_SNAPSHOT);
  if (m.seq() <= seq_) return answer(ReplicateResponse::APPLIED);  // a retry we already hold
  if (m.seq() != seq_ + 1) return answer(ReplicateResponse::NEED_SNAPSHOT);
  if (m.op_case() == ReplicateRequest::kSet) {
    data_[m.set().key()] = m.set().value();
  } else if (m.op_case() == ReplicateRequest::kErase) {
    data_.erase(m.erase());
  } else {
    return answer(ReplicateResponse::NEED_SNAPSHOT);  // no operation: nothing we can apply
  }
  seq_ = m.seq();
  return answer(ReplicateResponse::APPLIED);
}

StateResponse Replica::handle(const StateRequest& m, Context&) {
  StateResponse r;
  // Equal counts as granted: the same candidate asking again (an empty candidate against an
  // empty promise grants nothing that matters).
  if (compare(m.candidate(), promised_) >= 0) {
    promised_ = m.candidate();
    r.set_granted(true);
  }
  *r.mutable_promised() = promised_;
  *r.mutable_term() = term_;
  r.set_seq(seq_);
  *r.mutable_snapshot() = to_snapshot(data_);
  return r;
}

// ---- KvStore ------------------------------------------------------------------------------------

KvStore::KvStore(std::shared_ptr<const Shared> shared, Term term, std::uint64_t seq, Data data,
                 std::set<std::string> in_sync)
    : shared_(std::move(shared)),
      term_(std::move(term)),
      seq_(seq),
      data_(std::move(data)),
      in_sync_(std::move(in_sync)) {}

void KvStore::started(Context& ctx) { ctx.run_interval(shared_->interval, Sync{}); }

std::optional<Status> KvStore::refusal(Context& ctx) {
  if (stepped_down_) return down_status_;
  const QuorumView view = quorum_view(shared_->node->members());
  if (view.has_quorum()) {
    no_quorum_since_.reset();
    return std::nullopt;
  }
  // Cut off from a majority: the other side may elect an owner of its own, so this one must
  // not answer (even reads: its data may already be stale). It steps down (freeing the name)
  // only when that lasts: right after a partition heals, stale Down verdicts make a majority
  // look absent for a moment.
  if (!no_quorum_since_) no_quorum_since_ = ctx.now();
  if (ctx.now() - *no_quorum_since_ >= shared_->grace) {
    step_down(ctx, fmt::format("it sees only {} of {} members alive", view.live.size(),
                               view.members));
    down_status_ = STATUS_NO_QUORUM;
  }
  return STATUS_NO_QUORUM;
}

void KvStore::step_down(Context& ctx, const std::string& why) {
  if (stepped_down_) return;
  stepped_down_ = true;
  down_status_ = STATUS_STORE_MOVED;
  shared_->narrate("this node no longer hosts the store: " + why);
  // Stopping withdraws the name cluster-wide (a tombstone), so another node may take over.
  ctx.stop();
}

GetResponse KvStore::handle(const GetRequest& m, Context& ctx) {
  GetResponse r;
  if (const auto refused = refusal(ctx)) {
    r.set_status(*refused);
    return r;
  }
  auto it = data_.find(m.key());
  r.set_found(it != data_.end());
  if (it != data_.end()) r.set_value(it->second);
  return r;
}

Task<SetResponse> KvStore::handle(SetRequest m, Context& ctx) {
  SetResponse out;
  if (const auto refused = refusal(ctx)) {
    out.set_status(*refused);
    co_return out;
  }
  QuorumView view = quorum_view(shared_->node->members());
  data_[m.key()] = m.value();
  ReplicateRequest write;
  *write.mutable_term() = term_;
  write.set_seq(++seq_);
  write.mutable_set()->set_key(m.key());
  write.mutable_set()->set_value(m.value());
  auto replicated = replicate(std::move(write), std::move(view), ctx);
  out.set_status(co_await std::move(replicated));
  co_return out;
}

Task<DeleteResponse> KvStore::handle(DeleteRequest m, Context& ctx) {
  DeleteResponse out;
  if (const auto refused = refusal(ctx)) {
    out.set_status(*refused);
    co_return out;
  }
  QuorumView view = quorum_view(shared_->node->members());
  const bool existed = data_.erase(m.key()) > 0;
  out.set_deleted(existed);
  if (!existed) co_return out;  // nothing changed: nothing to replicate
  ReplicateRequest write;
  *write.mutable_term() = term_;
  write.set_seq(++seq_);
  write.set_erase(m.key());
  auto replicated = replicate(std::move(write), std::move(view), ctx);
  out.set_status(co_await std::move(replicated));
  co_return out;
}

Task<void> KvStore::handle(Sync, Context& ctx) {
  if (refusal(ctx)) co_return;
  const QuorumView view = quorum_view(shared_->node->members());
  // Forget members that are no longer live: when they come back their replica may have lost
  // everything (a restart), so they get the state again.
  std::erase_if(in_sync_, [&](const std::string& node) {
    return std::find(view.live.begin(), view.live.end(), node) == view.live.end();
  });
  std::vector<std::string> behind;
  for (const std::string& node : view.live) {
    if (in_sync_.count(node) == 0) behind.push_back(node);
  }
  if (behind.empty()) co_return;
  auto pushed_task = push(snapshot(), std::move(behind));
  const Pushed pushed = co_await std::move(pushed_task);
  if (pushed.stale) step_down(ctx, "the replica on " + pushed.stale_at + " follows a newer term");
}

ReplicateRequest KvStore::snapshot() const {
  ReplicateRequest r;
  *r.mutable_term() = term_;
  r.set_seq(seq_);
  *r.mutable_snapshot() = to_snapshot(data_);
  return r;
}

Task<KvStore::Pushed> KvStore::push(ReplicateRequest request, std::vector<std::string> nodes) {
  Pushed out;
  // One replica after the other: the mailbox is blocked meanwhile anyway (one write at a
  // time keeps every replica's sequence gap-free), and dead members fail at once (a Suspect
  // or Down node is not even tried by the cluster client).
  for (const std::string& node : nodes) {
    auto replica = shared_->client.remote_addr<ReplicaProtocol>(replica_name(node));
    auto call = replica.call(request, shared_->replica_timeout);
    Result<ReplicateResponse> r = co_await call;
    if (r && r->outcome() == ReplicateResponse::NEED_SNAPSHOT) {
      const ReplicateRequest state = snapshot();
      auto again = replica.call(state, shared_->replica_timeout);
      r = co_await again;
    }
    if (!r || r->outcome() == ReplicateResponse::NEED_SNAPSHOT) {
      in_sync_.erase(node);
      continue;
    }
    if (r->outcome() == ReplicateResponse::STALE_TERM) {
      out.stale = true;
      out.stale_at = node;
      co_return out;
    }
    ++out.applied;
    in_sync_.insert(node);
  }
  co_return out;
}

Task<Status> KvStore::replicate(ReplicateRequest request, QuorumView view, Context& ctx) {
  auto pushed_task = push(std::move(request), view.live);
  const Pushed pushed = co_await std::move(pushed_task);
  if (pushed.stale) {
    step_down(ctx, "the replica on " + pushed.stale_at + " follows a newer term");
    co_return STATUS_STORE_MOVED;
  }
  // Acknowledged only once a majority of the cluster holds it: then any later takeover,
  // which hears from a majority too, sees it.
  co_return pushed.applied >= view.majority() ? STATUS_OK : STATUS_NO_QUORUM;
}

// ---- Coordinator --------------------------------------------------------------------------------

Coordinator::Coordinator(std::shared_ptr<const Shared> shared, bool joined)
    : shared_(std::move(shared)), joined_(joined) {}

void Coordinator::started(Context& ctx) {
  ctx.run_interval(shared_->interval, Tick{});
  // The founding node should not wait an interval to host the store.
  static_cast<void>(ctx.address().try_send(Tick{}));
}

Task<void> Coordinator::handle(Tick, Context& ctx) {
  // After a graceful leave this node is out of the cluster: nothing to host, nothing to say.
  const auto self = shared_->node->status_of(shared_->self);
  if (self && *self == MemberStatus::left) co_return;
  tell_location();
  if (store_.is_alive()) co_return;
  const std::vector<cineyma::cluster::Member> members = shared_->node->members();
  QuorumView view = quorum_view(members);
  if (!joined_) {
    // A node joining through seeds knows nothing of the cluster (or of its store) until it
    // has heard from a member: it must not found a second store meanwhile.
    joined_ = std::any_of(members.begin(), members.end(), [](const auto& m) {
      return !m.self && m.status == MemberStatus::up;
    });
    if (!joined_) co_return;
  }
  if (shared_->node->lookup_actor(kStoreName)) {  // someone holds it
    missing_since_.reset();
    co_return;
  }
  // Take over only a store that stays missing for a grace period: after a partition heals,
  // stale Down verdicts kill registrations for a moment, and the owner then claims its name
  // again in its new life (unless the cluster is just this node: nothing to wait for).
  if (!missing_since_) missing_since_ = ctx.now();
  if (view.members > 1 && ctx.now() - *missing_since_ < shared_->grace) co_return;
  // Deterministic choice: the smallest live node id (Suspect counts as live: a node that is
  // only suspected might still be the right host, so nobody overtakes it yet).
  if (view.live.empty() || view.live.front() != shared_->self) co_return;
  if (!view.has_quorum()) {
    tell_failure(fmt::format("this node cannot host the store: it sees only {} of {} members alive",
                             view.live.size(), view.members));
    co_return;
  }
  auto taking_over = take_over(std::move(view), ctx);
  co_await std::move(taking_over);
  tell_location();
}

Task<void> Coordinator::take_over(QuorumView view, Context& ctx) {
  const auto ask = [this](const std::string& node) {
    return shared_->client.remote_addr<ReplicaProtocol>(replica_name(node));
  };

  // 1. Read: the newest term any live replica knows, so that ours is above it.
  std::uint64_t number = next_term_;
  const StateRequest read;  // an empty candidate: promises nothing
  for (const std::string& node : view.live) {
    auto replica = ask(node);
    auto call = replica.call(read, shared_->replica_timeout);
    const Result<StateResponse> r = co_await call;
    if (!r) continue;
    number = std::max({number, r->promised().number() + 1, r->term().number() + 1});
  }
  next_term_ = number + 1;

  // 2. Prepare: a majority must promise the new term; the newest copy among them wins.
  Term candidate;
  candidate.set_number(number);
  candidate.set_node(shared_->self);
  StateRequest prepare;
  *prepare.mutable_candidate() = candidate;
  std::size_t granted = 0;
  StateResponse best;
  std::string best_from;
  for (const std::string& node : view.live) {
    auto replica = ask(node);
    auto call = replica.call(prepare, shared_->replica_timeout);
    const Result<StateResponse> r = co_await call;
    if (!r) continue;
    if (!r->granted()) {
      next_term_ = std::max(next_term_, r->promised().number() + 1);
      continue;
    }
    if (granted++ == 0 || newer(*r, best)) {
      best = *r;
      best_from = node;
    }
  }
  if (granted < view.majority()) {
    tell_failure(fmt::format("could not take over the store: {} of {} replicas granted term {}",
                             granted, view.members, number));
    co_return;
  }

  // 3. Accept: the live replicas adopt the newest copy under the new term.
  ReplicateRequest state;
  *state.mutable_term() = candidate;
  state.set_seq(best.seq());
  *state.mutable_snapshot() = best.snapshot();
  std::set<std::string> applied;
  for (const std::string& node : view.live) {
    auto replica = ask(node);
    auto call = replica.call(state, shared_->replica_timeout);
    const Result<ReplicateResponse> r = co_await call;
    if (r && r->outcome() == ReplicateResponse::APPLIED) applied.insert(node);
  }
  if (applied.size() < view.majority()) {
    tell_failure(fmt::format("could not take over the store: {} of {} replicas took its state",
                             applied.size(), view.members));
    co_return;
  }
  if (shared_->node->lookup_actor(kStoreName)) co_return;  // another node was faster
  host(ctx, candidate, best, best_from, std::move(applied));
}

void Coordinator::host(Context& ctx, const Term& term, const StateResponse& copy,
                       const std::string& copy_from, std::set<std::string> in_sync) {
  store_ = ctx.spawn_child(
      KvStore(shared_, term, copy.seq(), from_snapshot(copy.snapshot()), std::move(in_sync)));
  if (!store_) return;
  ctx.watch(store_);
  cineyma::remote::MessageRouter router;
  router.route<GetRequest>(store_).route<SetRequest>(store_).route<DeleteRequest>(store_);
  const Result<void> registered = shared_->node->register_actor(
      std::string(kStoreName), store_, std::move(router), std::string(kStoreType));
  if (!registered) {
    store_.stop();
    store_ = {};
    tell_failure("could not register the store: " + registered.error().message());
    return;
  }
  told_failure_.clear();
  shared_->narrate(fmt::format("this node now hosts the store (term {}, {}, newest copy from {})",
                               term.number(),
                               keys(static_cast<std::size_t>(copy.snapshot().entries_size())),
                               copy_from));
}

void Coordinator::handle(const Lost& m, Context&) {
  if (m.name != kStoreName || !store_.is_alive()) return;
  shared_->narrate("this node no longer hosts the store: " + m.winner +
                   "'s registration of the name won");
  store_.stop();
  store_ = {};
}

void Coordinator::handle(const cineyma::Terminated& m, Context&) {
  if (m.id == store_.id()) store_ = {};
}

void Coordinator::tell_location() {
  const Result<cineyma::cluster::ActorLocation> at = shared_->node->lookup_actor(kStoreName);
  std::string text = at ? "the store is on " + at->node : std::string(kNoStore);
  if (text == told_location_) return;
  told_location_ = std::move(text);
  shared_->narrate(told_location_);
}

void Coordinator::tell_failure(const std::string& why) {
  // Said once per distinct reason: the check repeats every interval.
  if (why == told_failure_) return;
  told_failure_ = why;
  shared_->narrate(why);
}

}  // namespace kv
