#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets with clang (ASan + UBSan) and run each for a bounded
# time. The checked-in corpus (fuzz/corpus/<target>/) seeds each run; new inputs go to a work
# corpus in the build directory, so the repository is not touched unless --merge is given.
#
#   bash scripts/fuzz.sh [SECONDS] [--merge] [TARGET...]
#     SECONDS   per target (default 60; CI uses at least 60, the release bar is 600)
#     --merge   afterwards, minimise the work corpus into fuzz/corpus/<target>/ (to commit)
#     TARGET    framing | handshake | envelope | gossip (default: all four)
#
# Environment: FUZZ_BUILD_DIR (default build/fuzz), FUZZ_JOBS (parallel build jobs, default 2),
# FUZZ_PARALLEL (targets fuzzed at once, default nproc; logs in $FUZZ_BUILD_DIR/logs/).
# A crash leaves its input as crash-* in the work directory and fails the script; replay it
# with the plain replay binary of the normal build: cineyma_replay_<target> <crash file>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=60
merge=0
targets=()
for arg in "$@"; do
  case $arg in
    --merge) merge=1 ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds=$arg ;;
  esac
done
((${#targets[@]})) || targets=(framing handshake envelope gossip)

build=${FUZZ_BUILD_DIR:-build/fuzz}
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCINEYMA_BUILD_FUZZERS=ON -DCINEYMA_BUILD_TESTS=OFF \
  -DCINEYMA_BUILD_EXAMPLES=OFF -DCINEYMA_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --parallel "${FUZZ_JOBS:-2}" \
  --target "${targets[@]/#/cineyma_fuzz_}"

# One target per CPU at a time (FUZZ_PARALLEL, default nproc): each libFuzzer process is
# single-threaded, so on 2 cores two targets run side by side and CI spends half the wall
# time for the same fuzzing per target. Each target's output goes to its own log, printed
# whole once it finishes.
parallel=${FUZZ_PARALLEL:-$(nproc 2>/dev/null || echo 1)}
((parallel >= 1)) || parallel=1
logs="$build/logs"
mkdir -p "$logs"

fuzz_one() {  # $1 = target; exit status: the fuzzer's (then the merge's)
  local t=$1 work="$build/corpus-work/$1" artifacts="$build/artifacts/$1/"
  mkdir -p "$work" "$artifacts"
  echo "==== fuzz $t for ${seconds}s (work corpus $work) ===="
  if ! "$build/fuzz/cineyma_fuzz_$t" "$work" "fuzz/corpus/$t" \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts" \
        -rss_limit_mb=2048 -timeout=10; then
    echo "fuzz: $t FAILED; inputs in $artifacts" >&2
    return 1
  fi
  if ((merge)); then
    "$build/fuzz/cineyma_fuzz_$t" -merge=1 "fuzz/corpus/$t" "$work"
  fi
}

declare -A pid_of
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  fuzz_one "$t" >"$logs/$t.log" 2>&1 &
  pid_of[$t]=$!
done

status=0
for t in "${targets[@]}"; do
  rc=0
  wait "${pid_of[$t]}" || rc=$?
  cat "$logs/$t.log"
  if ((rc != 0)); then
    echo "fuzz: $t exited $rc (log: $logs/$t.log)" >&2
    status=1
  fi
done
exit $status
