// bench/memory_bench.cpp — memory per idle actor, in a process of its own.
//
// Why a separate process: RSS only grows cleanly once. After the first measurement the freed
// cells sit in malloc's free lists and a second measurement in the same process would reuse
// them and report (almost) nothing. `bench/run.sh` therefore runs this program several times
// and takes the median.
//
// What it does: start the runtime (2 workers) and warm it up (a few actors spawned, used and
// stopped, so worker stacks, thread caches and the runtime's own structures are resident);
// read RSS (/proc/self/statm) and malloc's in-use bytes (mallinfo2, all arenas); spawn N idle
// `NoOp` actors (default mailbox 256) into one system; send every one a `Flush` request and
// wait for the reply (so every actor has run `started()` and is idle, waiting on its
// mailbox); read both again. The differences divided by N are the bytes per idle actor. The
// `Addr` vector is reserved before the baseline, so the caller's handles are not counted.
// Then everything is stopped (`shutdown()`), and the count of live actors is checked.
//
//   cineyma_bench_memory [--actors=N] [--json | --peer_line]
//
// `--peer_line` prints the figure as the line bench/peers/run.sh reads:
// `SAMPLE cineyma memory_idle_actor_bytes <RSS bytes per actor>` (one process, one sample).
#include "common.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cineyma_bench;

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size_pages = 0;
  std::size_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t heap_in_use_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

bool flush_all(const std::vector<cineyma::Addr<NoOp>>& addrs) {
  for (const auto& a : addrs) {
    if (!a.send(Flush{}).get()) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t actors = 100'000;
  bool json = false;
  bool peer_line = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--actors=")) {
      actors = std::strtoull(argv[i] + 9, nullptr, 10);
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--peer_line") {
      peer_line = true;
    } else {
      std::fprintf(stderr, "usage: %s [--actors=N] [--json | --peer_line]\n", argv[0]);
      return 2;
    }
  }
  if (actors == 0) {
    std::fprintf(stderr, "--actors must be positive\n");
    return 2;
  }

  cineyma::Environment& env = bench_env();
  {  // warm-up
    cineyma::ActorSystem warm{env};
    std::vector<cineyma::Addr<NoOp>> addrs;
    for (int i = 0; i < 64; ++i) addrs.push_back(warm.spawn(NoOp{}));
    if (!flush_all(addrs) || !warm.shutdown()) {
      std::fprintf(stderr, "warm-up failed\n");
      return 1;
    }
  }

  cineyma::ActorSystem system{env};
  std::vector<cineyma::Addr<NoOp>> addrs;
  addrs.reserve(actors);
  const std::size_t rss0 = rss_bytes();
  const std::size_t heap0 = heap_in_use_bytes();
  for (std::size_t i = 0; i < actors; ++i) addrs.push_back(system.spawn(NoOp{}));
  const bool all_running = flush_all(addrs);
  const std::size_t rss1 = rss_bytes();
  const std::size_t heap1 = heap_in_use_bytes();
  const std::size_t live = system.live_actors();

  addrs.clear();
  const bool stopped = static_cast<bool>(system.shutdown()) && system.live_actors() == 0;
  const std::size_t rss2 = rss_bytes();

  const double n = static_cast<double>(actors);
  const double rss_per_actor = (static_cast<double>(rss1) - static_cast<double>(rss0)) / n;
  const double heap_per_actor = (static_cast<double>(heap1) - static_cast<double>(heap0)) / n;
  const std::size_t cell_bytes = sizeof(cineyma::detail::Cell<NoOp>);
  if (peer_line) {
    std::printf("SAMPLE cineyma memory_idle_actor_bytes %.1f\n", rss_per_actor);
  } else if (json) {
    std::printf(
        "{\"actors\": %zu, \"rss_before\": %zu, \"rss_after\": %zu, \"rss_after_stop\": %zu, "
        "\"rss_bytes_per_actor\": %.1f, \"heap_bytes_per_actor\": %.1f, \"sizeof_cell\": %zu, "
        "\"ok\": %s}\n",
        actors, rss0, rss1, rss2, rss_per_actor, heap_per_actor, cell_bytes,
        all_running && stopped && live == actors ? "true" : "false");
  } else {
    std::printf("idle actors:          %zu (live %zu)\n", actors, live);
    std::printf("RSS growth / actor:   %.1f bytes\n", rss_per_actor);
    std::printf("heap in use / actor:  %.1f bytes (malloc accounting, all arenas)\n",
                heap_per_actor);
    std::printf("sizeof(Cell<NoOp>):   %zu bytes\n", cell_bytes);
    std::printf("RSS before/after/after stop: %zu / %zu / %zu KiB\n", rss0 / 1024, rss1 / 1024,
                rss2 / 1024);
  }
  if (!all_running || !stopped || live != actors) {
    std::fprintf(stderr, "FAILED: all_running=%d stopped=%d live=%zu\n", all_running, stopped,
                 live);
    return 1;
  }
  return 0;
}
