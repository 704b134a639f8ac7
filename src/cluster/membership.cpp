// src/cluster/membership.cpp — the membership join and the one-pass sorted merge.
#include <cineyma/cluster/membership.hpp>

#include <cineyma/assert.hpp>

#include <algorithm>
#include <tuple>

namespace cineyma::cluster {

const char* to_string(MemberStatus status) noexcept {
  switch (status) {
    case MemberStatus::up: return "up";
    case MemberStatus::suspect: return "suspect";
    case MemberStatus::down: return "down";
    case MemberStatus::left: return "left";
  }
  return "unknown";
}

MemberEntry join(const MemberEntry& a, const MemberEntry& b) {
  MemberEntry out = a;
  join_into(out, b);
  return out;
}

bool join_into(MemberEntry& into, const MemberEntry& from) {
  CINEYMA_ASSERT(into.node == from.node);
  // Steps 1–3 of the order (membership.hpp): a newer life, then a terminal verdict within the
  // life, then a refutation replace the whole entry — including a status that ranked higher at
  // what they supersede.
  const auto rank = [](const MemberEntry& e) {
    return std::make_tuple(e.epoch, is_terminal(e.status), e.incarnation);
  };
  const auto from_rank = rank(from);
  const auto into_rank = rank(into);
  if (from_rank < into_rank) return false;
  if (into_rank < from_rank) {
    into = from;
    return true;
  }
  // Step 4: a componentwise maximum. Status stays within its class (both terminal or both
  // not), so each component is a total order and their product a lattice.
  bool changed = false;
  if (from.status > into.status) {
    into.status = from.status;
    changed = true;
  }
  if (from.heartbeat > into.heartbeat) {
    into.heartbeat = from.heartbeat;
    changed = true;
  }
  if (from.endpoint > into.endpoint) {
    into.endpoint = from.endpoint;
    changed = true;
  }
  return changed;
}

namespace {

// Joins `incoming` into an existing slot, keeping the local progress time and transition in step.
bool join_slot(Membership::Slot& slot, const MemberEntry& incoming, TimePoint now,
               std::vector<MemberTransition>* transitions) {
  const MemberStatus status_before = slot.entry.status;
  const std::uint64_t incarnation_before = slot.entry.incarnation;
  const std::uint64_t heartbeat_before = slot.entry.heartbeat;
  if (!join_into(slot.entry, incoming)) return false;
  if (std::tie(slot.entry.incarnation, slot.entry.heartbeat) >
      std::tie(incarnation_before, heartbeat_before)) {
    slot.progress_at = std::max(slot.progress_at, now);
  }
  if (transitions != nullptr &&
      (slot.entry.status != status_before || slot.entry.incarnation != incarnation_before)) {
    transitions->push_back(
        MemberTransition{true, status_before, incarnation_before, slot.entry});
  }
  return true;
}

}  // namespace

const MemberEntry* Membership::find(std::string_view node) const noexcept {
  const Slot* slot = find_slot(node);
  return slot == nullptr ? nullptr : &slot->entry;
}

const Membership::Slot* Membership::find_slot(std::string_view node) const noexcept {
  const auto it = slots_.find(node);
  return it == slots_.end() ? nullptr : &it->second;
}

std::vector<MemberEntry> Membership::entries() const {
  std::vector<MemberEntry> out;
  out.reserve(slots_.size());
  for (const auto& [node, slot] : slots_) out.push_back(slot.entry);
  return out;
}

bool Membership::upsert(const MemberEntry& entry, TimePoint now,
                        std::vector<MemberTransition>* transitions) {
  CINEYMA_ASSERT(!entry.node.empty());
  const auto it = slots_.lower_bound(entry.node);
  if (it == slots_.end() || it->first != entry.node) {
    slots_.emplace_hint(it, entry.node, Slot{entry, now});
    if (transitions != nullptr) {
      transitions->push_back(MemberTransition{false, MemberStatus::up, 0, entry});
    }
    return true;
  }
  return join_slot(it->second, entry, now, transitions);
}

std::size_t Membership::merge_sorted(std::span<const MemberEntry> sorted, TimePoint now,
                                     MembershipMergeOutput out) {
  // One ordered pass over both sides (a merge join): a push carries the whole view, so a
  // lookup per entry would cost O(m log n) string comparisons on every message.
  std::size_t changed = 0;
  auto it = slots_.begin();
  auto emit_local = [&](const Slot& slot) {
    if (out.newer_here != nullptr) out.newer_here->push_back(slot.entry);
  };
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const MemberEntry& incoming = sorted[i];
    CINEYMA_ASSERT(!incoming.node.empty());
    CINEYMA_ASSERT(i == 0 || sorted[i - 1].node < incoming.node);
    while (it != slots_.end() && it->first < incoming.node) {
      emit_local(it->second);  // the sender does not know this member at all
      ++it;
    }
    if (it == slots_.end() || it->first != incoming.node) {
      it = slots_.emplace_hint(it, incoming.node, Slot{incoming, now});
      ++changed;
      if (out.transitions != nullptr) {
        out.transitions->push_back(MemberTransition{false, MemberStatus::up, 0, incoming});
      }
      ++it;
      continue;
    }
    if (join_slot(it->second, incoming, now, out.transitions)) ++changed;
    if (!(it->second.entry == incoming)) emit_local(it->second);
    ++it;
  }
  for (; it != slots_.end(); ++it) emit_local(it->second);
  return changed;
}

std::size_t Membership::merge(const Membership& other, TimePoint now) {
  const std::vector<MemberEntry> sorted = other.entries();
  return merge_sorted(sorted, now);
}

void Membership::defer_progress(Duration delta, TimePoint limit) noexcept {
  CINEYMA_ASSERT(delta >= Duration::zero());
  for (auto& [node, slot] : slots_) {
    slot.progress_at = std::min(slot.progress_at + delta, std::max(slot.progress_at, limit));
  }
}

bool Membership::same_state(const Membership& other) const noexcept {
  if (slots_.size() != other.slots_.size()) return false;
  auto a = slots_.begin();
  auto b = other.slots_.begin();
  for (; a != slots_.end(); ++a, ++b) {
    if (!(a->second.entry == b->second.entry)) return false;
  }
  return true;
}

}  // namespace cineyma::cluster
