// RapidCheck properties of the supervision restart window (the original's sliding window).
#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include <cineyma/supervision.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace {
using cineyma::Duration;
using cineyma::RestartWindow;
using cineyma::TimePoint;
}  // namespace

TEST_CASE("property: the restart window matches its model", "[property][supervision]") {
  rc::prop("allow() agrees with a recount over all recorded restarts", [] {
    const auto max_restarts = *rc::gen::inRange<std::uint32_t>(0, 6);
    const auto within = Duration(*rc::gen::inRange<std::int64_t>(1, 1000));
    const auto gaps = *rc::gen::container<std::vector<std::int64_t>>(
        rc::gen::inRange<std::int64_t>(0, 400));
    RestartWindow window;
    std::vector<TimePoint> recorded;  // the model: every restart ever allowed
    TimePoint now{};
    for (std::int64_t gap : gaps) {
      now += Duration(gap);
      std::uint32_t recent = 0;
      for (TimePoint t : recorded) {
        if (now - t <= within) ++recent;  // one exactly `within` old still counts
      }
      const bool expected = recent < max_restarts;
      RC_ASSERT(window.allow(now, max_restarts, within) == expected);
      if (expected) recorded.push_back(now);
    }
  });

  rc::prop("no window of length `within` ever holds more than max_restarts restarts", [] {
    const auto max_restarts = *rc::gen::inRange<std::uint32_t>(1, 5);
    const auto within = Duration(*rc::gen::inRange<std::int64_t>(1, 500));
    const auto gaps = *rc::gen::container<std::vector<std::int64_t>>(
        rc::gen::inRange<std::int64_t>(0, 200));
    RestartWindow window;
    std::vector<TimePoint> allowed;
    TimePoint now{};
    for (std::int64_t gap : gaps) {
      now += Duration(gap);
      if (window.allow(now, max_restarts, within)) allowed.push_back(now);
    }
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      std::uint32_t in_window = 0;
      for (std::size_t j = i; j < allowed.size() && allowed[j] - allowed[i] <= within; ++j) {
        ++in_window;
      }
      RC_ASSERT(in_window <= max_restarts);
    }
  });
}

TEST_CASE("property: restart(2, 10s) allows exactly two restarts, then one per expiry",
          "[property][supervision]") {
  using namespace std::chrono_literals;
  RestartWindow w;
  const TimePoint t0{};
  CHECK(w.allow(t0, 2, 10s));
  CHECK(w.allow(t0 + 1s, 2, 10s));
  CHECK_FALSE(w.allow(t0 + 2s, 2, 10s));   // third failure within 10 s: stop
  CHECK_FALSE(w.allow(t0 + 10s, 2, 10s));  // the first restart is exactly 10 s old: kept
  CHECK(w.allow(t0 + 10s + 1ns, 2, 10s));  // now it has expired
}
