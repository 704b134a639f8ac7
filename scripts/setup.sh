#!/usr/bin/env bash
# setup.sh — install, on Debian 12, whatever the build needs and is not installed yet.
# Idempotent: when everything is present it changes nothing and needs no root.
#
#   scripts/setup.sh           what the build and the tests need
#   scripts/setup.sh --bench   also the peers of the comparison benchmark (bench/peers/run.sh):
#                              CAF 0.17 and Erlang/OTP 25. Nothing else needs them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench=0
for arg in "$@"; do
  case $arg in
    --bench) bench=1 ;;
    -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# The one list of build dependencies (Debian 12 package names).
PACKAGES=(
  g++ cmake ninja-build git ca-certificates pkg-config python3
  libasio-dev libfmt-dev libspdlog-dev        # runtime: standalone Asio, logging
  libprotobuf-dev protobuf-compiler libssl-dev # remote: wire format, HMAC handshake
  catch2 librapidcheck-dev                     # tests: Catch2 v2, RapidCheck
  libbenchmark-dev                             # bench: Google Benchmark
  clang libclang-rt-14-dev                     # fuzz: clang + libFuzzer (scripts/fuzz.sh)
)
# Optional: only the peer comparison (bench/peers/) uses these.
BENCH_PEER_PACKAGES=(
  libcaf-dev                                   # CAF 0.17 (headers + libcaf_core)
  erlang-base                                  # Erlang/OTP 25: erl, erlc
)
((bench)) && PACKAGES+=("${BENCH_PEER_PACKAGES[@]}")

missing=()
for pkg in "${PACKAGES[@]}"; do
  # dpkg -s also lists removed-but-not-purged packages; require "install ok installed".
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: error: these packages are missing and installing them needs root." >&2
  echo "setup: run as root:  bash scripts/setup.sh $*" >&2
  echo "setup: or yourself:  apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: installed: ${missing[*]}"
