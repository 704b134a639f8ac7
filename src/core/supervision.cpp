// The restart window. Kept apart from the cell so that it can be property-tested alone.
#include <cineyma/supervision.hpp>

#include <algorithm>

namespace cineyma {

bool RestartWindow::allow(TimePoint now, std::uint32_t max_restarts, Duration within) {
  // Forget restarts strictly older than `within` (the original keeps one exactly that old).
  const auto first_kept = std::find_if(times_.begin(), times_.end(),
                                       [&](TimePoint t) { return now - t <= within; });
  times_.erase(times_.begin(), first_kept);
  if (times_.size() >= max_restarts) return false;
  times_.push_back(now);
  return true;
}

}  // namespace cineyma
