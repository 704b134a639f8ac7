#!/usr/bin/env bash
# test.sh — install what is missing, then build and run the whole CTest suite twice:
# the default build (RelWithDebInfo), then Debug under AddressSanitizer + UBSan; then run
# every libFuzzer target (scripts/fuzz.sh, clang) for CINEYMA_FUZZ_SECONDS each (default 60,
# the CI minimum; 0 skips fuzzing for a quicker local run).
# Stops at the first failing phase and exits non-zero; always prints the phase timings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phases=()
summary() {
  local rc=$?
  echo
  echo "==== test.sh summary ===="
  local p
  for p in "${phases[@]}"; do echo "  $p"; done
  if [[ $rc -eq 0 ]]; then echo "  result: PASS"; else echo "  result: FAIL (exit $rc)"; fi
}
trap summary EXIT

phase() {  # $1 = name, rest = command
  local name=$1
  shift
  echo
  echo "==== $name: $* ===="
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [[ $rc -eq 0 ]]; then
    phases+=("$(printf '%-16s %5ds  ok' "$name" "$took")")
  else
    phases+=("$(printf '%-16s %5ds  FAILED (exit %d)' "$name" "$took" "$rc")")
    exit "$rc"
  fi
}

phase setup bash scripts/setup.sh
for preset in default asan; do
  phase "$preset:configure" cmake --preset "$preset"
  phase "$preset:build" cmake --build --preset "$preset" --parallel 2
  phase "$preset:ctest" ctest --preset "$preset" -j2
done
fuzz_seconds=${CINEYMA_FUZZ_SECONDS:-60}
if ((fuzz_seconds > 0)); then
  phase fuzz bash scripts/fuzz.sh "$fuzz_seconds"
fi
