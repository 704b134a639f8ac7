// The per-system registry. Removal is driven by the actor's death (ActorSystem::on_cell_dead)
// and checks identity, so a re-registered name is never removed by the old actor's death.
#include <cineyma/registry.hpp>

#include <algorithm>

namespace cineyma {

Result<void> Registry::insert(std::string name, detail::RefPtr<detail::CellBase> cell,
                              std::type_index type, bool auto_remove) {
  if (name.empty()) return fail(Errc::invalid_argument);
  std::lock_guard<std::mutex> lock(mutex_);
  // Checked under the registry lock: a death after this point finds the name in the cell's
  // list (remove_dead takes the same lock), a death before it is refused here.
  if (!cell || !cell->is_alive()) return fail(Errc::actor_stopped);
  if (auto_remove) {
    auto& names = cell->registered_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  entries_.insert_or_assign(std::move(name), Entry{std::move(cell), type, auto_remove});
  return ok();
}

Result<detail::RefPtr<detail::CellBase>> Registry::find(std::string_view name,
                                                        std::type_index type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return fail(Errc::not_found);
  if (it->second.type != type) return fail(Errc::type_mismatch);
  return it->second.cell;
}

Result<void> Registry::erase(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return fail(Errc::not_found);
  entries_.erase(it);
  return ok();
}

void Registry::remove_dead(detail::CellBase& cell) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::string& name : cell.registered_names()) {
    auto it = entries_.find(name);
    if (it != entries_.end() && it->second.auto_remove && it->second.cell.get() == &cell) {
      entries_.erase(it);
    }
  }
  cell.registered_names().clear();
}

std::size_t Registry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

std::vector<std::string> Registry::names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

}  // namespace cineyma
