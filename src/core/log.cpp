// The framework logger. Wall-clock timestamps are left out of the pattern on purpose: every
// line carries the environment's time instead (see log.hpp).
#include "log.hpp"

#include <cstdlib>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace cineyma::detail {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("cineyma", std::move(sink));
    l->set_pattern("%^%l%$ cineyma %v");
    // CINEYMA_LOG_LEVEL=debug|info|warn|error|off (default info).
    const char* level = std::getenv("CINEYMA_LOG_LEVEL");
    l->set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
    return l;
  }();
  return *instance;
}

}  // namespace cineyma::detail
