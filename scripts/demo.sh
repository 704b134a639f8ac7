#!/usr/bin/env bash
# demo.sh — install what is missing, build the demo (examples/crud) and run it.
# Extra arguments are passed to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cmake --preset default
cmake --build --preset default --target crud
exec ./build/default/examples/crud/crud "$@"
