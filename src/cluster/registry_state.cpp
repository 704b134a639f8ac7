// src/cluster/registry_state.cpp — the registry's per-name last-writer-wins join.
#include <cineyma/cluster/registry_state.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/cluster/gossip_message.hpp>

#include <tuple>

namespace cineyma::cluster {

bool loses_to(const RegistryRecord& a, const RegistryRecord& b) noexcept {
  // The actor type comes last only so that the order is total (a correct owner never writes two
  // records with the same version and epoch); a tombstone beats the record it removes.
  return std::tie(a.version, a.node, a.epoch, a.tombstone, a.actor_type) <
         std::tie(b.version, b.node, b.epoch, b.tombstone, b.actor_type);
}

bool is_live(const RegistryRecord& record, const Membership& members) noexcept {
  if (record.tombstone) return false;
  const MemberEntry* owner = members.find(record.node);
  if (owner == nullptr) return false;
  if (!is_live(owner->status)) return false;
  // A record from an earlier life names an actor of a process that is gone (the node restarted
  // or was declared Down and came back): it never resolves again.
  return record.epoch >= owner->epoch;
}

const RegistryRecord* RegistryState::find(std::string_view name) const noexcept {
  const auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

Result<RegistryRecord> RegistryState::lookup(std::string_view name,
                                             const Membership& members) const {
  const RegistryRecord* record = find(name);
  if (record == nullptr || !is_live(*record, members)) return Errc::not_found;
  return *record;
}

std::uint64_t RegistryState::next_version(std::string_view name) const noexcept {
  const RegistryRecord* record = find(name);
  return record == nullptr ? 1 : bump_counter(record->version);
}

bool RegistryState::upsert(const RegistryRecord& record) {
  CINEYMA_ASSERT(!record.name.empty());
  const auto it = records_.lower_bound(record.name);
  if (it == records_.end() || it->first != record.name) {
    records_.emplace_hint(it, record.name, record);
    return true;
  }
  if (!loses_to(it->second, record)) return false;
  it->second = record;
  return true;
}

std::size_t RegistryState::merge_sorted(std::span<const RegistryRecord> sorted,
                                        RegistryMergeOutput out) {
  std::size_t changed = 0;
  auto it = records_.begin();
  auto emit_local = [&](const RegistryRecord& record) {
    if (out.newer_here != nullptr) out.newer_here->push_back(record);
  };
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const RegistryRecord& incoming = sorted[i];
    CINEYMA_ASSERT(!incoming.name.empty());
    CINEYMA_ASSERT(i == 0 || sorted[i - 1].name < incoming.name);
    while (it != records_.end() && it->first < incoming.name) {
      emit_local(it->second);
      ++it;
    }
    if (it == records_.end() || it->first != incoming.name) {
      it = records_.emplace_hint(it, incoming.name, incoming);
      ++changed;
      if (out.changed_names != nullptr) out.changed_names->push_back(incoming.name);
      ++it;
      continue;
    }
    if (loses_to(it->second, incoming)) {
      it->second = incoming;
      if (out.changed_names != nullptr) out.changed_names->push_back(incoming.name);
      ++changed;
    } else if (!(it->second == incoming)) {
      emit_local(it->second);
    }
    ++it;
  }
  for (; it != records_.end(); ++it) emit_local(it->second);
  return changed;
}

std::size_t RegistryState::merge(const RegistryState& other) {
  const std::vector<RegistryRecord> sorted = other.records();
  return merge_sorted(sorted);
}

std::vector<RegistryRecord> RegistryState::records() const {
  std::vector<RegistryRecord> out;
  out.reserve(records_.size());
  for (const auto& [name, record] : records_) out.push_back(record);
  return out;
}

}  // namespace cineyma::cluster
