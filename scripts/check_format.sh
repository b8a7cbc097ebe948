#!/usr/bin/env bash
# Checks that every C++ file of the tree follows the committed .clang-format: prints each file
# clang-format would change (and the first lines it would change) and exits 1, else prints
# "N files formatted" and exits 0. ctest runs it as the test `clang_format`. To fix a file:
#   clang-format -i FILE
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
format="$(command -v clang-format-14 || command -v clang-format || true)"
[[ -n "$format" ]] || { echo "check_format.sh: clang-format not installed (apt-get install clang-format)" >&2; exit 2; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' '*.h' | sort)
else
  mapfile -t files < <(find framework operators runner tests examples fuzz bench \
                         \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)
fi
bad=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  if ! "$format" --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "$f: not formatted ($format -i $f); first differences:"
    "$format" "$f" | diff "$f" - | head -n 8 || true
    bad=$((bad + 1))
  fi
done
if ((bad > 0)); then
  echo "$bad of ${#files[@]} files differ from .clang-format"
  exit 1
fi
echo "${#files[@]} files formatted"
