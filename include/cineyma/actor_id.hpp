// cineyma/actor_id.hpp — identity of an actor within its ActorSystem.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace cineyma {

/// Opaque id of an actor, unique within one `ActorSystem` (allocated from a per-system
/// counter starting at 1, so a simulated run allocates the same ids every time). A supervised
/// restart keeps the id. 0 is never a valid id.
struct ActorId {
  std::uint64_t value = 0;

  friend auto operator<=>(const ActorId&, const ActorId&) = default;
  friend std::ostream& operator<<(std::ostream& os, ActorId id) {
    return os << "actor#" << id.value;
  }
};

}  // namespace cineyma

template <>
struct std::hash<cineyma::ActorId> {
  std::size_t operator()(cineyma::ActorId id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};
