// src/core/log.hpp — logging through spdlog with the environment's clock.
//
// Lines carry the environment's time (virtual under simulation) and name instead of the wall
// clock, so a simulated run's log is reproducible line for line. The spdlog logger itself is
// created once with a pattern that prints no wall-clock timestamp.
#pragma once

#include <cineyma/env/environment.hpp>

#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

namespace cineyma::detail {

/// The framework's logger ("cineyma"; level from SPDLOG_LEVEL, default info).
spdlog::logger& logger();

/// Logs `fmt` with the environment's time and name as prefix.
template <typename... Args>
void log(Environment& env, spdlog::level::level_enum level,
         spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::logger& l = logger();
  if (!l.should_log(level)) return;
  const auto t = env.clock().now().time_since_epoch().count();
  l.log(level, "[{}.{:09d}s {}] {}", t / 1000000000, t % 1000000000, env.name(),
        fmt::format(fmt, std::forward<Args>(args)...));
}

}  // namespace cineyma::detail
