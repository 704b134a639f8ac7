// cineyma/registry.hpp — the per-system name → actor registry.
//
// Entries made with `register_name` disappear when their actor stops: the removal is driven
// by the actor's own termination (no polling), and only removes the entry if it still points
// to the actor that stopped (a name re-registered to a new actor survives the old one's
// death). `register_manual` entries stay until `unregister`.
//
// Threading: every member is safe from any thread (one mutex; registry operations are not on
// the messaging hot path).
#pragma once

#include <cineyma/detail/cell.hpp>
#include <cineyma/result.hpp>

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

namespace cineyma {

class Registry {
 public:
  /// Inserts or overwrites `name`. With `auto_remove`, the entry is removed when the actor
  /// stops. Fails with `actor_stopped` if the actor is already stopping, `invalid_argument`
  /// for an empty name.
  Result<void> insert(std::string name, detail::RefPtr<detail::CellBase> cell,
                      std::type_index type, bool auto_remove);
  /// The cell registered under `name` if it has type `type`: `not_found` when absent,
  /// `type_mismatch` when present with another actor type.
  Result<detail::RefPtr<detail::CellBase>> find(std::string_view name,
                                                std::type_index type) const;
  /// Removes `name`; `not_found` if absent.
  Result<void> erase(std::string_view name);
  /// Runtime use: `cell` has stopped; removes its auto entries that still point to it.
  void remove_dead(detail::CellBase& cell) noexcept;
  /// Number of entries.
  std::size_t size() const;
  /// Registered names, sorted.
  std::vector<std::string> names() const;

 private:
  struct Entry {
    detail::RefPtr<detail::CellBase> cell;
    std::type_index type;
    bool auto_remove;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace cineyma
