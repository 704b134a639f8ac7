#!/usr/bin/env bash
# Compiles every ```cpp block of README.md as its own translation unit (syntax and types
# only: -fsyntax-only), so the README's code cannot drift from the API.
#
#   scripts/readme_blocks.sh <source-dir> <out-dir> <c++ compiler> [extra flags...]
#
# Run by the CTest case "readme: code blocks compile". Exits non-zero, naming the block and
# its line in README.md, when any block fails to compile.
set -euo pipefail

src=$1 out=$2 cxx=$3
shift 3
mkdir -p "$out"
rm -f "$out"/block-*.cpp

# Split the blocks into files named after the README line where each starts.
awk -v out="$out" '
  /^```cpp[[:space:]]*$/ { inblock = 1; start = NR + 1; file = sprintf("%s/block-%04d.cpp", out, start); next }
  /^```[[:space:]]*$/ && inblock { inblock = 0; close(file); next }
  inblock { print > file }
' "$src/README.md"

shopt -s nullglob
blocks=("$out"/block-*.cpp)
if [ ${#blocks[@]} -eq 0 ]; then
  echo "readme_blocks: no cpp blocks found in $src/README.md" >&2
  exit 1
fi

failed=0
for f in "${blocks[@]}"; do
  line=$(basename "$f" .cpp)
  line=$((10#${line#block-}))
  if "$cxx" -std=c++20 -fsyntax-only "$@" -I"$src/include" -I"$src/sim/include" "$f" \
       > "$f.log" 2>&1; then
    echo "ok    README.md:$line"
  else
    echo "FAIL  README.md:$line" >&2
    cat "$f.log" >&2
    failed=1
  fi
done
echo "readme_blocks: ${#blocks[@]} blocks checked"
exit $failed
