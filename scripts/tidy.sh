#!/usr/bin/env bash
# tidy.sh — the determinism check of DESIGN §2, run as the CTest case `tidy`.
#
#   bash scripts/tidy.sh [ROOT]      check the tree at ROOT (default: this repository)
#   bash scripts/tidy.sh --self-test check that the check itself catches what it should
#
# Rule 1 (include/ src/ sim/ proto/, except src/asio/): no real clocks, sleeps, threads, OS
#   randomness, <random>, rand()/time(), Asio, or raw sockets. Only src/asio/ may touch them.
# Rule 2 (include/ src/ sim/): no unordered containers (declarations, or range-for over one);
#   use ordered maps, or sort, or justify.
#
# A line is exempt when it carries `// tidy: allow <reason>` (the reason is required).
# Comments and string literals are ignored, so documentation and log text may name what it bans.
# Exit status: 0 clean, 1 violations (listed as file:line: rule: text), 2 usage error.
set -euo pipefail

usage() {
  echo "usage: $0 [ROOT] | --self-test" >&2
  exit 2
}

# Files that are checked: C++ sources/headers and .proto files.
list_files() {  # $1 = root, rest = directories relative to root
  local root=$1
  shift
  local dirs=()
  local d
  for d in "$@"; do
    [[ -d "$root/$d" ]] && dirs+=("$d")
  done
  ((${#dirs[@]})) || return 0
  (cd "$root" && find "${dirs[@]}" -type f \
    \( -name '*.hpp' -o -name '*.h' -o -name '*.hh' -o -name '*.ipp' -o -name '*.inl' \
       -o -name '*.tpp' -o -name '*.cpp' -o -name '*.cc' -o -name '*.cxx' -o -name '*.proto' \) \
    -print | LC_ALL=C sort)
}

# Reads file names (relative to the cwd) on stdin; prints violations of the given rule set.
# Strips // and /* */ comments and the contents of string/character literals (raw string
# literals are not understood), then matches what is left: the code.
scan() {  # $1 = determinism | unordered
  local rules=$1
  local f
  while IFS= read -r f; do
    awk -v rules="$rules" -v file="$f" '
      BEGIN {
        n = 0
        if (rules == "determinism") {
          pat[++n] = "(steady|system|high_resolution)_clock::now";   why[n] = "real clock"
          pat[++n] = "(^|[^_a-zA-Z0-9])sleep_(for|until)([^_a-zA-Z0-9]|$)"; why[n] = "real sleep"
          pat[++n] = "std::j?thread([^_a-zA-Z0-9]|$)";                why[n] = "std::thread"
          pat[++n] = "random_device";                                 why[n] = "OS randomness"
          pat[++n] = "(^|[^_a-zA-Z0-9.>])rand[ \t]*\\(";              why[n] = "rand()"
          pat[++n] = "(^|[^_a-zA-Z0-9.>])time[ \t]*\\([ \t]*(NULL|nullptr|0)[ \t]*\\)"; why[n] = "time()"
          pat[++n] = "#[ \t]*include[ \t]*<random>";                  why[n] = "<random>"
          pat[++n] = "#[ \t]*include[ \t]*[<\"]asio([./>]|$)";        why[n] = "Asio include"
          pat[++n] = "(^|[^_a-zA-Z0-9])asio::";                       why[n] = "Asio object"
          pat[++n] = "(^|[^_a-zA-Z0-9>])::(socket|connect)[ \t]*\\("; why[n] = "raw socket"
          pat[++n] = "#[ \t]*include[ \t]*<(sys/socket|netinet/[a-z_]+|arpa/inet)\\.h>"; why[n] = "raw socket header"
        } else {
          pat[++n] = "for[ \t]*\\(.*:.*unordered_";                   why[n] = "iterates an unordered container"
          pat[++n] = "unordered_(multi)?(map|set)[ \t]*<";            why[n] = "unordered container"
        }
        in_block = 0
      }
      {
        raw = $0
        allowed = (raw ~ /\/\/[ \t]*tidy:[ \t]*allow[ \t]+[^ \t]/)
        # Strip comments (and, outside preprocessor lines, the contents of string and
        # character literals), keeping the code between them.
        pp = (raw ~ /^[ \t]*#/)
        code = ""; quote = ""; len = length(raw)
        for (c = 1; c <= len; c++) {
          ch = substr(raw, c, 1); two = substr(raw, c, 2)
          if (in_block) {
            if (two == "*/") { in_block = 0; c++; code = code " " }
          } else if (quote != "") {
            if (ch == "\\") { c++ }
            else if (ch == quote) { quote = ""; code = code ch }
          } else if (two == "//") {
            break
          } else if (two == "/*") {
            in_block = 1; c++
          } else {
            code = code ch
            # A quote opens a literal, except on preprocessor lines (#include "x") and for a
            # C++14 digit separator (a quote right after a hex digit).
            if (!pp && (ch == "\"" || (ch == "'\''" && substr(raw, c - 1, 1) !~ /[0-9a-fA-F]/)))
              quote = ch
          }
        }
        if (allowed) next
        for (i = 1; i <= n; i++) {
          if (code ~ pat[i]) {
            text = raw; sub(/^[ \t]+/, "", text)
            printf "%s:%d: %s: %s\n", file, FNR, why[i], text
            break
          }
        }
      }
    ' "$f"
  done
}

check_tree() {  # $1 = root; prints violations, returns 1 if any
  local root=$1
  local out
  out=$(
    cd "$root"
    list_files . include src sim proto | { grep -v '^src/asio/' || true; } | scan determinism
    list_files . include src sim | scan unordered
  )
  if [[ -n "$out" ]]; then
    printf '%s\n' "$out"
    echo "tidy: $(printf '%s\n' "$out" | wc -l) violation(s). Move the code to src/asio/, use" \
         "the environment (clock, executor, random, transport), use an ordered container, or" \
         "justify the line with '// tidy: allow <reason>' (see DESIGN.md §2)." >&2
    return 1
  fi
  echo "tidy: clean ($root)"
  return 0
}

self_test() {
  local self failures=0
  self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
  tmp=$(mktemp -d)  # global: the EXIT trap runs after this function has returned
  trap 'rm -rf "$tmp"' EXIT

  make_clean_tree() {  # $1 = dir
    mkdir -p "$1/include/cineyma" "$1/src/core" "$1/src/asio" "$1/sim/src" "$1/proto"
    cat >"$1/include/cineyma/clean.hpp" <<'CPP'
// Doc comments may name std::thread, steady_clock::now() and std::random_device.
/* Block comments too: asio::ip::tcp::socket, sleep_for,
   std::unordered_map<int, int>, rand() */
#pragma once
#include <map>
namespace cineyma {
struct Clock { long now() const; void sleep(long d); };
class SimTransport { public: int connect(int endpoint); };
inline int operand(int x) { return x; }              // "operand(" is not rand(
inline int runtime(int x) { return x; }              // "runtime(0)" is not time(0)
inline int uptime() { return runtime(0); }
std::map<int, int> ordered_;
}  // namespace cineyma
CPP
    cat >"$1/src/core/clean.cpp" <<'CPP'
#include <cineyma/clean.hpp>
namespace cineyma {
int SimTransport::connect(int endpoint) { return endpoint; }
int r = rng.rand(), q = rng->rand();
const char* msg = "a log line may say std::thread, rand() or asio::";
char quote = '"'; int big = 1'000'000;
auto t0 = std::chrono::steady_clock::now();  // tidy: allow the seed runner times itself
}  // namespace cineyma
CPP
    cat >"$1/src/asio/real.cpp" <<'CPP'
#include <asio.hpp>
#include <random>
#include <thread>
auto now() { return std::chrono::steady_clock::now(); }
std::random_device rd;
std::thread worker;
asio::ip::tcp::socket* sock = nullptr;
CPP
    printf 'syntax = "proto3";\npackage cineyma.v1;\nmessage Envelope { uint64 time = 1; }\n' \
      >"$1/proto/envelope.proto"
  }

  expect() {  # $1 = expected exit status, $2 = tree, $3 = label
    local rc=0
    bash "$self" "$2" >"$tmp/out" 2>&1 || rc=$?
    if [[ $rc -ne $1 ]]; then
      echo "self-test FAILED: $3: expected exit $1, got $rc"
      sed 's/^/    /' "$tmp/out"
      failures=$((failures + 1))
    fi
  }

  make_clean_tree "$tmp/clean"
  expect 0 "$tmp/clean" "clean tree"

  # Each snippet alone must make an otherwise clean tree fail.
  local -a cases=(
    'src/core/x.cpp|auto t = std::chrono::steady_clock::now();'
    'src/core/x.cpp|auto t = std::chrono::system_clock::now();'
    'src/core/x.cpp|auto t = high_resolution_clock::now();'
    'src/core/x.cpp|std::this_thread::sleep_for(1ms);'
    'src/core/x.cpp|std::this_thread::sleep_until(t);'
    'src/core/x.cpp|std::thread t([] {});'
    'src/core/x.cpp|std::jthread t([] {});'
    'sim/src/x.cpp|std::random_device rd;'
    'sim/src/x.cpp|int r = rand();'
    'sim/src/x.cpp|int r = std::rand() % 6;'
    'include/cineyma/x.hpp|auto s = time(nullptr);'
    'include/cineyma/x.hpp|auto s = std::time(NULL);'
    'include/cineyma/x.hpp|#include <random>'
    'src/core/x.cpp|#include <asio.hpp>'
    'src/core/x.cpp|asio::ip::tcp::socket s{io};'
    'src/core/x.cpp|asio::steady_timer t{io};'
    'src/core/x.cpp|int fd = ::socket(AF_INET, SOCK_STREAM, 0);'
    'src/core/x.cpp|if (::connect(fd, addr, len) < 0) {}'
    'src/core/x.cpp|#include <sys/socket.h>'
    'proto/x.proto|std::thread t;'
    'src/core/x.cpp|std::unordered_map<int, int> m_;'
    'include/cineyma/x.hpp|std::unordered_set<ActorId> s_;'
    'src/asio/x.cpp|std::unordered_map<int, int> m_;'
    'sim/src/x.cpp|for (auto& [k, v] : peers_unordered_) {}'
    'src/core/x.cpp|auto t = steady_clock::now();  // tidy: allow'
    'src/core/x.cpp|auto url = "http://x"; std::thread t;'
    'src/core/x.cpp|int big = 1'"'"'000; std::thread t;'
    'src/core/x.cpp|/* a comment */ std::thread t;'
  )
  local i=0 entry path snippet
  for entry in "${cases[@]}"; do
    i=$((i + 1))
    path=${entry%%|*}
    snippet=${entry#*|}
    make_clean_tree "$tmp/bad$i"
    mkdir -p "$(dirname "$tmp/bad$i/$path")"
    printf '%s\n' "$snippet" >>"$tmp/bad$i/$path"
    expect 1 "$tmp/bad$i" "violation not caught: $path: $snippet"
    rm -rf "$tmp/bad$i"
  done

  # An allowed line with a reason passes, and src/asio/ may use what the rest may not.
  make_clean_tree "$tmp/allowed"
  printf '%s\n' 'std::unordered_map<int, int> m_;  // tidy: allow looked up only, never iterated' \
    >>"$tmp/allowed/src/core/clean.cpp"
  expect 0 "$tmp/allowed" "tidy: allow with a reason"

  if ((failures)); then
    echo "tidy self-test: $failures failure(s)"
    return 1
  fi
  echo "tidy self-test: ok ($((i + 2)) trees)"
}

main() {
  if [[ $# -gt 1 ]]; then usage; fi
  if [[ ${1-} == "--self-test" ]]; then
    self_test
    return
  fi
  if [[ ${1-} == -* ]]; then usage; fi
  local root
  root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  [[ -d $root ]] || { echo "tidy: no such directory: $root" >&2; exit 2; }
  check_tree "$root"
}

main "$@"
