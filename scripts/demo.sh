#!/usr/bin/env bash
# demo.sh — install what is missing, build the examples, and run the demo in one go:
#   1. examples/crud            an in-memory store owned by one actor (real runtime)
#   2. examples/distributed-kv  a 3-node cluster of real processes on loopback: a scripted
#                               session (set on one node, get from another, members, actors),
#                               then SIGKILL of the node that hosts the store: the others see
#                               it Suspect, then Down, and the store answers again, from its
#                               new home, with the data written before the crash
#   3. examples/sim-walkthrough the same cluster code in the deterministic simulator
# Extra arguments go to sim-walkthrough (default: --seed 42; e.g. `demo.sh --seed 7`).
#
# The nodes listen on ports the OS picks (--port 0; node-2 and node-3 join through the port
# node-1 prints), so nothing collides with other runs. Every wait below waits for a line of
# output, with a deadline; the nodes are killed and the scratch directory removed on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cmake --preset default
cmake --build --preset default --target crud distributed-kv sim-walkthrough

root=$PWD
bin=$root/build/default/examples
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/cineyma-demo.XXXXXX")
declare -A PID FD SHOWN
NODES=(node-1 node-2 node-3)

cleanup() {
  local n
  for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Short timings so that the demo is quick: gossip every 200 ms, Suspect 1 s, Down 2 s.
TIMINGS=(--port 0 --gossip-ms 200 --suspect-ms 1000 --down-ms 2000)
DEADLINE_S=30

fail() {
  echo "demo: $*" >&2
  local n
  for n in "${NODES[@]}"; do
    [[ -f $work/$n.out ]] || continue
    echo "--- $n (stdout, last lines)" >&2; tail -n 20 "$work/$n.out" >&2
    echo "--- $n (stderr, last lines)" >&2; tail -n 10 "$work/$n.err" >&2
  done
  exit 1
}

start_node() {  # $1 = node id, $2 = seed address (optional)
  local n=$1 fifo=$work/$1.in
  mkfifo "$fifo"
  "$bin/distributed-kv/distributed-kv" "$n" ${2:+"$2"} "${TIMINGS[@]}" \
    <"$fifo" >"$work/$n.out" 2>"$work/$n.err" &
  PID[$n]=$!
  local fd
  exec {fd}>"$fifo"  # the writer end: the node's stdin stays open until we close it
  FD[$n]=$fd
  SHOWN[$n]=0
}

show() {  # prints what node $1 printed since the last show
  local n=$1 total
  total=$(wc -l <"$work/$n.out")
  if ((total > SHOWN[$n])); then
    sed -n "$((SHOWN[$n] + 1)),${total}p" "$work/$n.out" | sed "s/^/  $n | /"
    SHOWN[$n]=$total
  fi
}

wait_for() {  # $1 = node, $2 = extended regex a line after line $3 (default 0) must match
  local n=$1 pattern=$2 from=${3:-0} end=$((SECONDS + DEADLINE_S))
  until tail -n "+$((from + 1))" "$work/$n.out" | grep -qE -- "$pattern"; do
    ((SECONDS < end)) || fail "timed out after ${DEADLINE_S}s waiting for /$pattern/ on $n"
    sleep 0.05
  done
}

ask() {  # $1 = node, $2 = command, $3 = regex of the answer to wait for
  local n=$1 from
  from=$(wc -l <"$work/$n.out")
  printf '%s\n' "$2" >&"${FD[$n]}"
  wait_for "$n" "$3" "$from"
  show "$n"
}

echo
echo "==== 1. examples/crud: a store owned by one actor"
"$bin/crud/crud"

echo
echo "==== 2. examples/distributed-kv: three processes on loopback"
start_node node-1
wait_for node-1 '^node node-1 ready on '
seed=$(sed -n 's/^node node-1 ready on //p' "$work/node-1.out")
start_node node-2 "$seed"
start_node node-3 "$seed"
for n in "${NODES[@]}"; do ask "$n" "wait-members 3" '^3 members up$'; done
ask node-2 "wait-store" '^the store is on '
ask node-2 "set greeting hello from node-2" '^OK$'
ask node-3 "get greeting" '^hello from node-2$'
ask node-1 "set color blue" '^OK$'
ask node-3 "get color" '^blue$'
ask node-3 "members" '^  node-3 @ '
ask node-3 "actors" '^  kv-store -> '

owner=$(sed -n 's/^  kv-store -> \([^ ]*\) .*/\1/p' "$work/node-3.out" | tail -n 1)
[[ -n $owner ]] || fail "no node hosts the store"
survivors=()
for n in "${NODES[@]}"; do [[ $n == "$owner" ]] || survivors+=("$n"); done
echo
echo "---- kill -9 $owner (it hosts the store): no goodbye, the others must notice"
declare -A MARK
for n in "${survivors[@]}"; do MARK[$n]=$(wc -l <"$work/$n.out"); done
kill -9 "${PID[$owner]}"
wait "${PID[$owner]}" 2>/dev/null || true
unset "PID[$owner]"
for n in "${survivors[@]}"; do
  wait_for "$n" "^\* $owner is now Suspect$" "${MARK[$n]}"
  wait_for "$n" "^\* $owner is now Down$" "${MARK[$n]}"
done
reader=${survivors[1]}
ask "$reader" "wait-store" '^the store is on '
for n in "${survivors[@]}"; do show "$n"; done
ask "$reader" "get greeting" '^hello from node-2$'
ask "$reader" "get color" '^blue$'
ask "$reader" "set after the crash" '^OK$'
ask "${survivors[0]}" "get after" '^the crash$'
ask "${survivors[0]}" "members" "^  ${survivors[1]} @ "

echo
echo "---- end of input on ${survivors[*]}: they leave the cluster gracefully and exit 0"
for n in "${survivors[@]}"; do eval "exec ${FD[$n]}>&-"; done
for n in "${survivors[@]}"; do
  rc=0
  wait "${PID[$n]}" || rc=$?
  unset "PID[$n]"
  show "$n"
  ((rc == 0)) || fail "$n exited with status $rc"
done

echo
echo "==== 3. examples/sim-walkthrough: the same cluster code in the simulator"
(($# > 0)) || set -- --seed 42
"$bin/sim-walkthrough/sim-walkthrough" --trace "$root/build/default/sim-walkthrough.json" "$@"

echo
echo "demo: done in $((SECONDS - started)) s after the build"
