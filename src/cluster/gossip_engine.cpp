// src/cluster/gossip_engine.cpp — one node's gossip round, failure detector and registry upkeep.
#include <cineyma/cluster/gossip_engine.hpp>

#include <cineyma/assert.hpp>

#include <algorithm>
#include <utility>

namespace cineyma::cluster {

namespace {

bool valid_text(std::string_view s, std::size_t max_bytes) noexcept {
  return !s.empty() && s.size() <= max_bytes;
}

// Keeps a reply delta (sorted by key) in step with a local change made after it was computed.
template <typename T, typename Key>
void put_sorted(std::vector<T>& sorted, const T& item, Key key) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), item,
                                   [&](const T& a, const T& b) { return key(a) < key(b); });
  if (it != sorted.end() && key(*it) == key(item)) {
    *it = item;
  } else {
    sorted.insert(it, item);
  }
}

}  // namespace

Result<void> validate(const GossipConfig& config) {
  if (!valid_text(config.node_id, GossipLimits::max_node_id_bytes)) return Errc::invalid_argument;
  if (!valid_text(config.endpoint, GossipLimits::max_endpoint_bytes)) {
    return Errc::invalid_argument;
  }
  for (const std::string& seed : config.seeds) {
    if (!valid_text(seed, GossipLimits::max_endpoint_bytes)) return Errc::invalid_argument;
  }
  if (config.fanout == 0) return Errc::invalid_argument;
  if (config.gossip_interval <= Duration::zero()) return Errc::invalid_argument;
  if (config.suspect_after <= Duration::zero()) return Errc::invalid_argument;
  if (config.suspect_after >= config.down_after) return Errc::invalid_argument;
  return ok();
}

GossipEngine::GossipEngine(GossipConfig config, TimePoint now)
    : config_(std::move(config)), last_now_(now) {
  CINEYMA_ASSERT(validate(config_).has_value());
  self_.node = config_.node_id;
  self_.endpoint = config_.endpoint;
  self_.incarnation = config_.incarnation;
  self_.epoch = config_.incarnation;
  self_.heartbeat = 0;
  self_.status = MemberStatus::up;
  publish_self(now);
}

void GossipEngine::publish_self(TimePoint now) {
  membership_.upsert(self_, now);
  // Only this node authors its own entry: after publishing, the view must hold exactly it.
  CINEYMA_ASSERT(*membership_.find(self_.node) == self_);
}

Effects GossipEngine::tick(TimePoint now, Random& random) {
  CINEYMA_ASSERT(now >= last_now_);
  last_now_ = now;
  ++stats_.ticks;
  Effects fx;
  if (has_left()) return fx;

  // A late tick means this process did not run (paused, stalled, swapped out): peers could not
  // reach it, so that time must not count as their silence. Anything beyond one interval of
  // lateness is given back to every peer before judging.
  if (last_tick_ && now - *last_tick_ > 2 * config_.gossip_interval) {
    membership_.defer_progress(now - *last_tick_ - config_.gossip_interval, now);
  }
  last_tick_ = now;

  self_.heartbeat = bump_counter(self_.heartbeat);
  publish_self(now);
  detect(now, fx);

  std::vector<const MemberEntry*> peers = pick_live_peers(config_.fanout, random);
  std::vector<std::string> seeds;
  if (peers.empty()) {
    // Alone (just started, or every peer is Down): join through the seeds, retried every tick
    // until someone answers. Up to `fanout` of them, chosen at random, so one dead seed does not
    // block the join.
    for (const std::string& seed : config_.seeds) {
      if (seed != self_.endpoint) seeds.push_back(seed);
    }
    for (std::size_t i = 0; i < seeds.size() && i < config_.fanout; ++i) {
      std::swap(seeds[i], seeds[i + random.below(seeds.size() - i)]);
    }
    if (seeds.size() > config_.fanout) seeds.resize(config_.fanout);
  }
  const MemberEntry* probe = nullptr;
  if (config_.down_probe_one_in > 0 && random.chance(1, config_.down_probe_one_in)) {
    std::vector<const MemberEntry*> down;
    for (const auto& [node, slot] : membership_.slots()) {
      if (slot.entry.status == MemberStatus::down && node != self_.node) {
        down.push_back(&slot.entry);
      }
    }
    if (!down.empty()) probe = down[random.below(down.size())];
  }
  if (peers.empty() && seeds.empty() && probe == nullptr) return fx;

  const std::shared_ptr<const GossipMessage> push = make_push();
  if (probe != nullptr) peers.push_back(probe);
  push_to(peers, push, fx);
  for (const std::string& seed : seeds) {
    fx.send.push_back(Outgoing{std::string{}, seed, push});
    ++stats_.pushes_sent;
  }
  return fx;
}

void GossipEngine::detect(TimePoint now, Effects& fx) {
  std::vector<MemberEntry> verdicts;
  for (const auto& [node, slot] : membership_.slots()) {
    if (node == self_.node || !is_live(slot.entry.status)) continue;
    const Duration silent = now - slot.progress_at;
    if (silent > config_.down_after) {
      verdicts.push_back(slot.entry);
      verdicts.back().status = MemberStatus::down;
      ++stats_.downs_declared;
    } else if (silent > config_.suspect_after && slot.entry.status == MemberStatus::up) {
      verdicts.push_back(slot.entry);
      verdicts.back().status = MemberStatus::suspect;
      ++stats_.suspicions_raised;
    }
  }
  // A verdict is an ordinary update of the member's current entry: it goes through the join
  // like gossip does, so only the node itself can overrule it — a suspicion by raising its
  // incarnation, a Down only by starting a new life.
  std::vector<MemberTransition> transitions;
  for (const MemberEntry& verdict : verdicts) membership_.upsert(verdict, now, &transitions);
  to_events(transitions, fx);
}

std::vector<const MemberEntry*> GossipEngine::pick_live_peers(std::size_t count,
                                                              Random& random) const {
  std::vector<const MemberEntry*> live;
  for (const auto& [node, slot] : membership_.slots()) {
    if (node != self_.node && is_live(slot.entry.status)) live.push_back(&slot.entry);
  }
  // A partial Fisher–Yates shuffle: `count` distinct peers, uniformly, from the seeded PRNG.
  const std::size_t n = std::min(count, live.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::swap(live[i], live[i + random.below(live.size() - i)]);
  }
  live.resize(n);
  return live;
}

std::shared_ptr<const GossipMessage> GossipEngine::make_push() const {
  auto push = std::make_shared<GossipMessage>();
  push->kind = GossipKind::push;
  push->from = self_.node;
  push->members = membership_.entries();
  push->registry = registry_.records();
  return push;
}

void GossipEngine::push_to(const std::vector<const MemberEntry*>& peers,
                           const std::shared_ptr<const GossipMessage>& push, Effects& fx) {
  for (const MemberEntry* peer : peers) {
    fx.send.push_back(Outgoing{peer->node, peer->endpoint, push});
    ++stats_.pushes_sent;
  }
}

Result<Effects> GossipEngine::on_message(const GossipMessage& message, TimePoint now) {
  CINEYMA_ASSERT(now >= last_now_);
  last_now_ = now;
  if (!validate(message)) {
    ++stats_.messages_rejected;
    return Errc::decode_error;
  }
  if (message.from == self_.node) {
    ++stats_.messages_rejected;
    return Errc::invalid_argument;
  }
  // An entry of this node at the counter limit could never be outbid by a refutation or a new
  // life; only a broken or hostile peer sends one. Refusing it keeps this node's entry its own.
  const auto mine = std::lower_bound(
      message.members.begin(), message.members.end(), self_.node,
      [](const MemberEntry& e, const std::string& node) { return e.node < node; });
  if (mine != message.members.end() && mine->node == self_.node &&
      mine->incarnation >= GossipLimits::max_counter - 1) {
    ++stats_.messages_rejected;
    return Errc::invalid_argument;
  }
  ++stats_.messages_received;
  Effects fx;
  const bool answer = message.kind == GossipKind::push;

  std::vector<MemberEntry> newer_members;
  std::vector<MemberTransition> transitions;
  membership_.merge_sorted(message.members, now,
                           MembershipMergeOutput{answer ? &newer_members : nullptr, &transitions});
  const std::uint64_t incarnation_before = self_.incarnation;
  const bool new_life = check_self(now);
  if (answer && self_.incarnation != incarnation_before) {
    // The self entry was raised after the delta was computed: the sender must hear it.
    put_sorted(newer_members, self_, [](const MemberEntry& e) -> const std::string& {
      return e.node;
    });
  }
  to_events(transitions, fx);

  std::vector<RegistryRecord> newer_records;
  std::vector<std::string> changed_names;
  registry_.merge_sorted(message.registry,
                         RegistryMergeOutput{answer ? &newer_records : nullptr, &changed_names});
  std::vector<std::string> touched = std::move(changed_names);
  if (new_life) {
    for (const auto& [name, reg] : local_) touched.push_back(name);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (const std::string& name : touched) {
    const RegistryRecord* before = registry_.find(name);
    const RegistryRecord snapshot = before != nullptr ? *before : RegistryRecord{};
    reconcile_name(name, fx);
    const RegistryRecord* after = registry_.find(name);
    if (answer && after != nullptr && !(*after == snapshot)) {
      put_sorted(newer_records, *after, [](const RegistryRecord& r) -> const std::string& {
        return r.name;
      });
    }
  }

  if (answer && (!newer_members.empty() || !newer_records.empty())) {
    auto reply = std::make_shared<GossipMessage>();
    reply->kind = GossipKind::reply;
    reply->from = self_.node;
    reply->members = std::move(newer_members);
    reply->registry = std::move(newer_records);
    const MemberEntry* sender = membership_.find(message.from);
    fx.send.push_back(Outgoing{message.from, sender != nullptr ? sender->endpoint : std::string{},
                               std::move(reply)});
    ++stats_.replies_sent;
  }
  return fx;
}

bool GossipEngine::check_self(TimePoint now) {
  const MemberEntry& seen = *membership_.find(self_.node);
  if (seen == self_) return false;
  // After a leave this node no longer defends its entry: Left is final and it is going away.
  if (has_left()) return false;
  const bool only_suspected = seen.status == MemberStatus::suspect &&
                              seen.incarnation == self_.incarnation &&
                              seen.epoch == self_.epoch && seen.heartbeat == self_.heartbeat &&
                              seen.endpoint == self_.endpoint;
  if (only_suspected) {
    // Refutation: a higher incarnation overrules the suspicion everywhere it spreads; the life
    // (epoch) continues, so this node's registrations stay valid.
    self_.incarnation = bump_counter(self_.incarnation);
    ++stats_.refutations;
    publish_self(now);
    return false;
  }
  // Declared Down or Left in this life, or gossip about an earlier life of this node (a higher
  // incarnation or heartbeat than we ever wrote): start a new life above everything seen.
  // Names registered in the old life are dead everywhere (registry_state.hpp); the ones this
  // process still holds are claimed again in the new life (see on_message).
  self_.incarnation = bump_counter(std::max(seen.incarnation, self_.incarnation));
  self_.epoch = self_.incarnation;
  self_.heartbeat = bump_counter(std::max(seen.heartbeat, self_.heartbeat));
  self_.status = MemberStatus::up;
  ++stats_.new_lives;
  publish_self(now);
  return true;
}

void GossipEngine::reconcile_name(const std::string& name, Effects& fx) {
  const RegistryRecord* winner = registry_.find(name);
  CINEYMA_ASSERT(winner != nullptr);
  const auto local = local_.find(name);
  if (local == local_.end()) {
    // A live record that claims this node but that this process never wrote: it comes from an
    // earlier life of the node whose gossip got here late. Only the owner can remove it.
    if (winner->node == self_.node && is_live(*winner, membership_)) {
      static_cast<void>(write_record(name, winner->actor_type, /*tombstone=*/true));
    }
    return;
  }
  const bool ours = winner->node == self_.node && !winner->tombstone &&
                    winner->version == local->second.version &&
                    winner->epoch == local->second.epoch;
  if (ours && is_live(*winner, membership_)) return;
  if (!ours && winner->node != self_.node && is_live(*winner, membership_)) {
    // Another node's live registration won the name (the deterministic order of
    // registry_state.hpp): tell the caller so it can tell its actor.
    fx.lost.push_back(RegistrationLost{name, local->second.actor_type, *winner});
    ++stats_.registrations_lost;
    local_.erase(local);
    return;
  }
  // The winner is dead (a tombstone, a Down node, an earlier life — maybe our own old record):
  // the name is free, and this process still holds it, so claim it again above the winner.
  const std::string actor_type = local->second.actor_type;
  if (!write_record(name, actor_type, /*tombstone=*/false)) {
    fx.lost.push_back(RegistrationLost{name, actor_type, *registry_.find(name)});
    ++stats_.registrations_lost;
  }
}

bool GossipEngine::write_record(const std::string& name, const std::string& actor_type,
                                bool tombstone) {
  RegistryRecord record;
  record.name = name;
  record.node = self_.node;
  record.epoch = self_.epoch;
  record.version = registry_.next_version(name);
  record.actor_type = actor_type;
  record.tombstone = tombstone;
  // Only a peer that pushed a version at `max_counter` can make a new record lose here.
  const bool won = registry_.upsert(record);
  if (tombstone || !won) {
    local_.erase(name);
  } else {
    local_[name] = LocalRegistration{actor_type, record.version, record.epoch};
  }
  return won;
}

void GossipEngine::to_events(const std::vector<MemberTransition>& transitions,
                             Effects& fx) const {
  for (const MemberTransition& t : transitions) {
    if (t.after.node == self_.node) continue;
    // A member first learned already Down or Left was never part of this node's cluster: no
    // event. Otherwise one event per status change (a refutation Suspect → Up included).
    if (!t.known_before && !is_live(t.after.status)) continue;
    if (t.known_before && t.status_before == t.after.status) continue;
    fx.events.push_back(MemberEvent{t.after.status, t.after.node, t.after.endpoint,
                                    t.after.incarnation});
  }
}

Effects GossipEngine::leave(TimePoint now, Random& random) {
  CINEYMA_ASSERT(now >= last_now_);
  last_now_ = now;
  Effects fx;
  if (has_left()) return fx;
  self_.status = MemberStatus::left;
  publish_self(now);
  // Left makes every record of this node dead everywhere (registry_state.hpp): nothing to
  // tombstone one by one.
  local_.clear();
  const std::vector<const MemberEntry*> peers = pick_live_peers(config_.fanout, random);
  if (!peers.empty()) push_to(peers, make_push(), fx);
  return fx;
}

Result<void> GossipEngine::register_actor(std::string_view name, std::string_view actor_type) {
  if (!valid_text(name, GossipLimits::max_name_bytes)) return Errc::invalid_argument;
  if (!valid_text(actor_type, GossipLimits::max_actor_type_bytes)) return Errc::invalid_argument;
  if (has_left()) return Errc::actor_stopped;
  const RegistryRecord* winner = registry_.find(name);
  if (winner != nullptr && winner->node != self_.node && is_live(*winner, membership_)) {
    return Errc::already_exists;
  }
  if (!write_record(std::string(name), std::string(actor_type), /*tombstone=*/false)) {
    return Errc::already_exists;
  }
  return ok();
}

Result<void> GossipEngine::unregister_actor(std::string_view name) {
  const auto local = local_.find(name);
  if (local == local_.end()) return Errc::not_found;
  const std::string actor_type = local->second.actor_type;
  static_cast<void>(write_record(std::string(name), actor_type, /*tombstone=*/true));
  return ok();
}

Result<ActorLocation> GossipEngine::lookup_actor(std::string_view name) const {
  Result<RegistryRecord> record = registry_.lookup(name, membership_);
  if (!record) return fail(record.error());
  const MemberEntry* owner = membership_.find(record->node);
  CINEYMA_ASSERT(owner != nullptr);  // is_live() found it
  return ActorLocation{record->node, owner->endpoint, record->actor_type, record->epoch,
                       record->version};
}

std::map<std::string, std::string, std::less<>> GossipEngine::local_registrations() const {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [name, reg] : local_) out.emplace(name, reg.actor_type);
  return out;
}

}  // namespace cineyma::cluster
