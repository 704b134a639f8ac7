#!/usr/bin/env bash
# bench/peers/run.sh — build and run the same workloads on cineyma, CAF 0.17 and Erlang/OTP 25,
# and print one table: workload | each system's median (min–max) | ours ÷ best peer.
#
#   bench/peers/run.sh [--no-build] [--reps=N] [--min-time=SECONDS] [--only=KEY,KEY...]
#                      [--systems=cineyma,caf,caf_sharing,erlang]
#
# Environment:
#   BUILD_DIR   build directory (default: the release preset's, build/release). When set, the
#               release preset is configured into it (cmake --preset release -B DIR).
#   OUT_DIR     where the raw outputs go (default: $BUILD_DIR/bench-results/peers).
#   JOBS        parallel compile jobs (default: the number of CPUs).
#
# Every system runs each workload `--reps` times (default 5), each repetition at least
# `--min-time` seconds (default 0.5; Google Benchmark's default for ours), and prints a
# `SAMPLE <system> <workload> <value>` line per repetition; this script takes the median,
# min and max of those. Memory runs one process per sample for cineyma and CAF (see
# bench/memory_bench.cpp for why). Systems: `caf` is CAF's default scheduler (work stealing),
# `caf_sharing` the same binary with `--scheduler.policy=sharing`, both with 2 workers;
# `erlang` runs with 2 schedulers (`+S 2:2`). The peers come from `scripts/setup.sh --bench`,
# which this script runs (it installs only what is missing, and needs root only then); a peer
# that is still missing is left out with a warning.
#
# Remote rows (remote_rtt_us, remote_rtt_p99_us, remote_pipelined_rps): two processes on
# loopback, a 64-byte echo, one call at a time (median, p99) and 100 calls in flight (req/s).
# Ours: cineyma_bench_remote, one program run per repetition, which also measures the raw TCP
# ping-pong floor. CAF: `caf_bench --remote` (io module: publish / remote_actor), for both
# scheduler policies. Erlang: two distributed nodes (`erlang_bench remote` on node A starts
# node B with `peer`), found through a private epmd on a free port that this script starts
# and stops. Each peer runs all repetitions in one pair of processes, under a deadline; a
# peer that fails or overruns gets ERROR lines instead of figures.
#
# Output: the table, then one `RESULT <system> <workload> <median>` line per figure and a
# `RESULT cineyma_vs_best_peer <workload> <ratio>` line per workload (>1: cineyma is better);
# below the table, the remote round trips against the raw TCP floor of the same run, with
# `RESULT raw_tcp remote_rtt_us <median>` and `RESULT cineyma_vs_tcp_floor remote_rtt_us
# <ours ÷ floor>` (also printed as `cineyma_vs_raw_tcp`, its former name).
# Needs python3 (standard library only). Takes about 6 minutes plus the build.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=1
reps=5
min_time=0.5
only=""
systems="cineyma,caf,caf_sharing,erlang"
for arg in "$@"; do
  case $arg in
    --no-build) build=0 ;;
    --reps=*) reps=${arg#*=} ;;
    --min-time=*) min_time=${arg#*=} ;;
    --only=*) only=${arg#*=} ;;
    --systems=*) systems=${arg#*=} ;;
    -h|--help) sed -n '2,38p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
has_system() { [[ ,$systems, == *,$1,* ]]; }
drop_system() {  # a system whose program is not available
  has_system "$1" && echo "== warning: $2: no $1 column" >&2
  systems=$(tr ',' '\n' <<<"$systems" | { grep -vx "$1" || true; } | paste -sd, -)
}
wants() { [[ -z $only || ,$only, == *,$1,* ]]; }
wants_remote() { wants remote_rtt_us || wants remote_rtt_p99_us || wants remote_pipelined_rps; }

# The Google Benchmark runs behind each workload key (the same pairs as `kPeerFigures` in
# bench/local_bench.cpp, which prints the lines).
declare -A GB_RUN=(
  [spawn_1k_ns_per_actor]='spawn/n:1000/'
  [spawn_100k_ns_per_actor]='spawn/n:100000/'
  [spawn_stop_1k_ns_per_actor]='spawn_stop/n:1000/'
  [send_1to1_msgs_per_s]='send_1to1_1M/cap:10000/'
  [send_100x10k_msgs_per_s]='send_100x10k_round_robin/'
  [send_1000x1k_msgs_per_s]='send_1000x1k_round_robin/'
  [rr_actor_p50_ns]='rr_actor_to_actor_latency/'
  [rr_actor_p99_ns]='rr_actor_to_actor_latency/'
  [call_from_thread_ns]='rr_cross_thread/'
  [rr_100_in_flight_req_per_s]='rr_100_in_flight/'
  [ring_1000_hops_per_s]='ring_1000x1M_hops/'
)

cd "$repo"
if [[ -n ${BUILD_DIR:-} ]]; then
  build_dir=$BUILD_DIR
  configure=(cmake --preset release -B "$build_dir")
  compile=(cmake --build "$build_dir" --parallel "${JOBS:-$(nproc)}")
else
  build_dir=$repo/build/release
  configure=(cmake --preset release)
  compile=(cmake --build --preset release --parallel "${JOBS:-$(nproc)}")
fi
out_dir=${OUT_DIR:-$build_dir/bench-results/peers}
erl_dir=$build_dir/bench/peers/erlang
started=$SECONDS

# ---- peers installed? -------------------------------------------------------------------------
if { has_system caf || has_system caf_sharing || has_system erlang; } &&
   ! { [[ -e /usr/include/caf/all.hpp ]] && command -v erlc >/dev/null; }; then
  scripts/setup.sh --bench || echo "== warning: could not install the peers; running without them" >&2
fi
command -v erl >/dev/null && command -v erlc >/dev/null ||
  drop_system erlang "Erlang (erlang-base) is not installed"

# ---- build ------------------------------------------------------------------------------------
if ((build)); then
  echo "== building (release) in $build_dir"
  "${configure[@]}" >/dev/null
  targets=()
  has_system cineyma && "${compile[@]}" --target cineyma_bench cineyma_bench_memory cineyma_bench_sim \
    cineyma_bench_remote
  if has_system caf || has_system caf_sharing; then
    # The target exists only when CMake found CAF 0.17 (bench/peers/CMakeLists.txt).
    "${compile[@]}" --target caf_bench || echo "== warning: caf_bench not built" >&2
  fi
  if has_system erlang; then
    mkdir -p "$erl_dir"
    erlc -o "$erl_dir" bench/peers/erlang_bench.erl
  fi
fi
if [[ ! -x $build_dir/bench/peers/caf_bench ]]; then
  drop_system caf "no caf_bench (CAF 0.17, libcaf-dev, missing?)"
  drop_system caf_sharing "no caf_bench (CAF 0.17, libcaf-dev, missing?)"
fi
[[ -e $erl_dir/erlang_bench.beam ]] || drop_system erlang "erlang_bench.beam not compiled"

# ---- run --------------------------------------------------------------------------------------
mkdir -p "$out_dir"
rm -f "$out_dir"/*.log
peer_args=(--reps="$reps" --min-time="$min_time")
[[ -n $only ]] && peer_args+=(--only="$only")
echo "== load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (2 vCPUs: above ~0.5 the numbers are noisy)"

if has_system cineyma; then
  filter='calib_cache_line_round_trip/'
  for key in "${!GB_RUN[@]}"; do
    wants "$key" && filter+="|${GB_RUN[$key]}"
  done
  echo "== cineyma ($(date +%T))"
  "$build_dir/bench/cineyma_bench" --peer_lines --benchmark_filter="^($filter)" \
    --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    >"$out_dir/cineyma.log" 2>&1 || echo "== warning: cineyma_bench failed (see $out_dir/cineyma.log)" >&2
  if wants memory_idle_actor_bytes; then
    for ((i = 0; i < reps; i++)); do
      "$build_dir/bench/cineyma_bench_memory" --peer_line >>"$out_dir/cineyma.log" 2>&1 || true
    done
  fi
fi
# Remote actors on loopback (bench/remote_bench.cpp): each repetition is one run of the program,
# which measures the raw TCP ping-pong floor first and then our round trip and pipelined
# throughput, in the same run; the round-trip row is reported against that floor.
if has_system cineyma && [[ -x $build_dir/bench/cineyma_bench_remote ]] && wants_remote; then
  echo "== remote ($(date +%T))"
  for ((i = 0; i < reps; i++)); do
    "$build_dir/bench/cineyma_bench_remote" --peer_lines --skip-serialization \
      --rounds=10000 --pipelined=200000 >>"$out_dir/cineyma_remote.log" 2>&1 ||
      echo "== warning: cineyma_bench_remote failed (see $out_dir/cineyma_remote.log)" >&2
  done
fi
# The simulator's own speed (issue: a performance figure too): events per second of the core
# loop on one core, and seeds per minute of the 5-node scenario (gossip_max, run in process).
if has_system cineyma && [[ -x $build_dir/bench/cineyma_bench_sim ]] &&
   { wants sim_events_per_s || wants sim_5node_seeds_per_min; }; then
  echo "== simulator ($(date +%T))"
  "$build_dir/bench/cineyma_bench_sim" \
    --benchmark_filter='^(sim_core_loop_posts|sim_scenario_gossip_max)$' \
    --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_format=json >"$out_dir/sim.json" 2>"$out_dir/sim.err" ||
    echo "== warning: cineyma_bench_sim failed (see $out_dir/sim.err)" >&2
  python3 - "$out_dir/sim.json" >"$out_dir/cineyma_sim.log" <<'PY' || true
import json, sys
keys = {"sim_core_loop_posts": ("sim_events_per_s", 1), "sim_scenario_gossip_max": ("sim_5node_seeds_per_min", 60)}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration" and b["name"].split("/")[0] in keys:
        key, scale = keys[b["name"].split("/")[0]]
        print(f"SAMPLE cineyma {key} {b['items_per_second'] * scale:.6g}")
PY
fi
if has_system caf; then
  echo "== CAF, default scheduler ($(date +%T))"
  "$build_dir/bench/peers/caf_bench" "${peer_args[@]}" >"$out_dir/caf.log" 2>&1 ||
    echo "== warning: caf_bench failed (see $out_dir/caf.log)" >&2
  if wants memory_idle_actor_bytes; then
    for ((i = 0; i < reps; i++)); do
      "$build_dir/bench/peers/caf_bench" --memory >>"$out_dir/caf.log" 2>&1 || true
    done
  fi
fi
if has_system caf_sharing; then
  echo "== CAF, work-sharing scheduler ($(date +%T))"
  "$build_dir/bench/peers/caf_bench" --scheduler.policy=sharing "${peer_args[@]}" \
    >"$out_dir/caf_sharing.log" 2>&1 ||
    echo "== warning: caf_bench (sharing) failed (see $out_dir/caf_sharing.log)" >&2
fi
if has_system erlang; then
  echo "== Erlang/OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().') ($(date +%T))"
  erl -noshell +S 2:2 -pa "$erl_dir" -run erlang_bench main -extra "${peer_args[@]}" \
    >"$out_dir/erlang.log" 2>&1 || echo "== warning: the Erlang bench failed (see $out_dir/erlang.log)" >&2
fi

# ---- remote, peers ----------------------------------------------------------------------------
# The same remote workloads as cineyma_bench_remote above (two processes, loopback, 64-byte
# echo; 10 000 timed round trips after 1 000 warm-up ones; 100 calls in flight). The peers'
# pipelined part makes 50 000 calls instead of our 200 000: their rates are several times
# lower, so that takes about as long as ours and keeps these runs near a minute in all. Each
# peer runs its repetitions in one pair of processes, under an internal deadline and a
# `timeout` around it; a peer that dies without saying why gets ERROR lines here, so that its
# cells read ERROR rather than a figure.
remote_peer_args=(--reps="$reps" --rounds=10000 --pipelined=50000)
[[ -n $only ]] && remote_peer_args+=(--only="$only")
remote_failed() {  # <system> <log> <exit status>: make sure the table shows the failure
  grep -q "^ERROR $1 remote_" "$2" 2>/dev/null && return 0
  local why="exited with status $3 (see $2)"
  (($3 == 124 || $3 == 137)) && why="killed by timeout after ${remote_timeout}s (see $2)"
  for key in remote_rtt_us remote_rtt_p99_us remote_pipelined_rps; do
    wants "$key" && echo "ERROR $1 $key $why" >>"$2"
  done
  echo "== warning: $1 remote failed: $why" >&2
}
# A repetition takes a few seconds; the deadlines are there for a hang, not to cut a slow run.
remote_deadline=$((30 + 20 * reps))
remote_timeout=$((remote_deadline + 30))
for policy in caf caf_sharing; do
  has_system "$policy" && wants_remote || continue
  echo "== remote, CAF $( [[ $policy == caf ]] && echo "default" || echo "work-sharing") scheduler ($(date +%T))"
  policy_args=()
  [[ $policy == caf_sharing ]] && policy_args=(--scheduler.policy=sharing)
  status=0
  timeout -k 5 "$remote_timeout" "$build_dir/bench/peers/caf_bench" --remote --deadline="$remote_deadline" \
    "${policy_args[@]}" "${remote_peer_args[@]}" >"$out_dir/${policy}_remote.log" 2>&1 || status=$?
  ((status == 0)) || remote_failed "$policy" "$out_dir/${policy}_remote.log" "$status"
done
# Erlang distribution needs an epmd. A private one, on a free loopback port that both nodes
# are pointed at (ERL_EPMD_PORT, and -start_epmd false so that no node starts a system-wide
# one), started in the foreground so that its pid is known and it can be stopped afterwards:
# nothing is left behind, and no epmd of anyone else's is used or stopped.
epmd_pid=""
stop_epmd() {
  if [[ -n $epmd_pid ]]; then
    kill "$epmd_pid" 2>/dev/null || true
    wait "$epmd_pid" 2>/dev/null || true
    epmd_pid=""
  fi
}
trap stop_epmd EXIT
if has_system erlang && wants_remote; then
  echo "== remote, Erlang distribution ($(date +%T))"
  log=$out_dir/erlang_remote.log
  : >"$log"
  epmd_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  epmd -port "$epmd_port" -address 127.0.0.1 >>"$log" 2>&1 &
  epmd_pid=$!
  for ((i = 0; i < 50; i++)); do  # up within 5 s, or the run below reports the failure
    epmd -port "$epmd_port" -names >/dev/null 2>&1 && break
    sleep 0.1
  done
  cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  status=0
  ERL_EPMD_PORT=$epmd_port timeout -k 5 "$remote_timeout" erl -noshell +S 2:2 \
    -name "cineyma_bench_a_$$@127.0.0.1" -setcookie "$cookie" -start_epmd false \
    -pa "$erl_dir" -run erlang_bench remote -extra "${remote_peer_args[@]}" >>"$log" 2>&1 || status=$?
  ((status == 0)) || remote_failed erlang "$log" "$status"
  stop_epmd
fi
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg); runs took $((SECONDS - started)) s"

# ---- table ------------------------------------------------------------------------------------
python3 - "$out_dir" <<'PY'
import glob
import os
import re
import statistics
import sys

NS, RATE, BYTES, US, PER_MIN = "ns", "rate", "bytes", "us", "per_min"
K_RATE = "k_rate"  # a rate shown in thousands per second (the remote rates: M/s hides them)
LOWER_IS_BETTER = {NS: True, US: True, BYTES: True, RATE: False, K_RATE: False, PER_MIN: False}

# (workload key, label, unit). The remote rows come from cineyma_bench_remote, caf_bench
# --remote and erlang_bench remote; the round trips are also set against the raw TCP ping-pong
# of the same run (below the table), since every one of them pays it.
ROWS = [
    ("spawn_1k_ns_per_actor", "spawn, per actor (N=1000)", NS),
    ("spawn_100k_ns_per_actor", "spawn, per actor (N=100 000)", NS),
    ("spawn_stop_1k_ns_per_actor", "spawn + stop, per actor (N=1000)", NS),
    ("send_1to1_msgs_per_s", "1 sender → 1 actor", RATE),
    ("send_100x10k_msgs_per_s", "100 actors × 10k, round-robin", RATE),
    ("send_1000x1k_msgs_per_s", "1000 actors × 1k, round-robin", RATE),
    ("rr_actor_p50_ns", "request-response actor→actor, p50", NS),
    ("rr_actor_p99_ns", "request-response actor→actor, p99", NS),
    ("call_from_thread_ns", "blocking call from a plain thread", NS),
    ("rr_100_in_flight_req_per_s", "100 requests in flight", RATE),
    ("ring_1000_hops_per_s", "ring of 1000, 1M hops", RATE),
    ("memory_idle_actor_bytes", "memory per idle actor (100 000)", BYTES),
    ("remote_rtt_us", "remote round trip (median)", US),
    ("remote_rtt_p99_us", "remote round trip (p99)", US),
    ("remote_pipelined_rps", "remote, pipelined", K_RATE),
    ("sim_events_per_s", "simulator: core-loop events/s (1 core)", RATE),
    ("sim_5node_seeds_per_min", "simulator: 5-node scenario seeds/min", PER_MIN),
]
SYSTEMS = [("cineyma", "cineyma"), ("caf", "CAF 0.17"), ("caf_sharing", "CAF sharing"),
           ("erlang", "Erlang/OTP 25")]
PEERS = [s for s, _ in SYSTEMS if s != "cineyma"]
LINE = re.compile(r"(SAMPLE|ERROR) (\S+) (\S+) ?(.*)$")

samples, errors = {}, {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.log"))):
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.search(raw)  # search: a console colour code may precede the line
            if not m:
                continue
            kind, system, key, rest = m.groups()
            if kind == "ERROR":
                errors[(system, key)] = rest.strip()
            else:
                samples.setdefault((system, key), []).append(float(rest.split()[0]))


def fmt(value, unit):
    if unit in (NS, US):
        ns = value * (1e3 if unit == US else 1)
        if ns >= 1e6:
            return f"{ns / 1e6:.2f} ms"
        if ns >= 1e3:
            return f"{ns / 1e3:.2f} µs"
        return f"{ns:.0f} ns"
    if unit == RATE:
        return f"{value / 1e6:.2f} M/s"
    if unit == K_RATE:
        return f"{value / 1e3:.1f} k/s"
    if unit == PER_MIN:
        return f"{value:,.0f}/min"
    return f"{value:.0f} B"


def fmt_range(lo, hi, unit):
    a, b = fmt(lo, unit), fmt(hi, unit)
    if " " not in a or " " not in b:
        return f"{a}–{b}"
    ua, ub = a.split(" ")[1], b.split(" ")[1]
    return f"{a.split(' ')[0]}–{b}" if ua == ub else f"{a}–{b}"


present = [(s, name) for s, name in SYSTEMS if any(k[0] == s for k in samples)]
table, results = [], []
remote_rtt_medians = {}
for key, label, unit in ROWS:
    if not key.startswith(("remote_", "sim_")) and not any(k[1] == key for k in samples.keys() | errors.keys()):
        continue  # not run (--only)
    row = [label]
    medians = {}
    for system, _ in present:
        vals = samples.get((system, key))
        if vals:
            med = statistics.median(vals)
            medians[system] = med
            results.append(f"RESULT {system} {key} {med:.6g}")
            cell = fmt(med, unit)
            if len(vals) > 1:
                cell += f" ({fmt_range(min(vals), max(vals), unit)})"
            row.append(cell)
        elif (system, key) in errors:
            row.append("ERROR")
        else:
            row.append("—")
    peers = {s: v for s, v in medians.items() if s in PEERS}
    ratio = ""
    if "cineyma" in medians and peers:
        lower = LOWER_IS_BETTER[unit]
        best = (min if lower else max)(peers, key=peers.get)
        r = peers[best] / medians["cineyma"] if lower else medians["cineyma"] / peers[best]
        ratio = f"{r:.2f}× vs {dict(SYSTEMS)[best]}"
        results.append(f"RESULT cineyma_vs_best_peer {key} {r:.4g}")
    elif key.startswith("remote_"):
        ratio = "no peer figure" if "cineyma" in medians else "not measured"
    elif key.startswith("sim_"):
        ratio = "(no peer has one)"
    row.append(ratio)
    table.append(row)
    if key == "remote_rtt_us":
        remote_rtt_medians = medians

# The raw blocking-socket ping-pong between two processes, measured by cineyma_bench_remote
# in each of its runs: the floor that every remote round trip above pays on this machine.
floor_lines = []
floor_samples = samples.get(("raw_tcp", "remote_rtt_us"))
if floor_samples and remote_rtt_medians:
    floor = statistics.median(floor_samples)
    results.append(f"RESULT raw_tcp remote_rtt_us {floor:.6g}")
    parts = [f"{dict(SYSTEMS)[s]} {remote_rtt_medians[s] / floor:.2f}×"
             for s, _ in SYSTEMS if s in remote_rtt_medians]
    floor_lines.append(f"Remote round trip (median) ÷ the raw TCP ping-pong floor of the same run "
                       f"({fmt(floor, US)}, lower is better): " + ", ".join(parts) + ".")
    if "cineyma" in remote_rtt_medians:
        r = remote_rtt_medians["cineyma"] / floor
        results.append(f"RESULT cineyma_vs_tcp_floor remote_rtt_us {r:.4g}")
        results.append(f"RESULT cineyma_vs_raw_tcp remote_rtt_us {r:.4g}")  # the former name
    # The two variants of the floor (tcp_pingpong.hpp), with no framework code: the reactor-
    # shaped ping-pong has our runtime's thread structure (epoll io threads, a caller polling a
    # flag); the polling one our blocking call's (the caller polls its own socket, then sleeps
    # in poll(2)) — what the polling alone is worth on this machine.
    for system, label in (("reactor_tcp", "shaped like a reactor runtime"),
                          ("polling_tcp", "with a caller that polls its socket as ours does")):
        variant_samples = samples.get((system, "remote_rtt_us"))
        if not variant_samples:
            continue
        variant = statistics.median(variant_samples)
        results.append(f"RESULT {system} remote_rtt_us {variant:.6g}")
        line = (f"The same ping-pong {label}, no framework code "
                f"({fmt(variant, US)}): {variant / floor:.2f}× the floor")
        if "cineyma" in remote_rtt_medians:
            line += f"; cineyma ÷ it: {remote_rtt_medians['cineyma'] / variant:.2f}×"
        floor_lines.append(line + ".")

calib = samples.get(("cineyma", "calib_cache_line_round_trip_ns"))
if calib:
    ns = statistics.median(calib)
    print()
    print(f"machine state: a cache-line round trip between two threads takes {ns:.0f} ns")
    print("(~100-150 ns on two free vCPUs of this VM; every cross-thread figure scales with it).")
    if ns > 1000:
        print("WARNING: above 1 µs the threads shared one vCPU (something else was running):")
        print("cross-thread figures are then not comparable with an idle machine's.")
headers = ["workload"] + [name for _, name in present] + ["cineyma ÷ best peer"]
widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
print()
print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in table:
    print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
print()
print("Each cell: the median of the repetitions (min–max). Ratio: how many times")
print("better cineyma is than the best peer (>1: cineyma better; time and bytes: peer ÷ ours,")
print("rates: ours ÷ peer).")
for line in floor_lines:
    print(line)
for (system, key), why in sorted(errors.items()):
    print(f"ERROR in {system} {key}: {why}")
print()
for line in results:
    print(line)
PY
