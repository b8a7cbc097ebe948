#!/usr/bin/env bash
# Builds the asan-ubsan preset (CMakePresets.json) into build-asan/ and runs the test suite
# under AddressSanitizer + UndefinedBehaviorSanitizer. Any report fails the run.
# The full-data training test is left out (under ASan it takes most of an hour); pass
# ctest arguments to change what runs, e.g.  scripts/sanitize.sh -R Resume
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install_deps.sh
bash scripts/fetch_data.sh "$root/data"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan
# oneDNN's JIT and OpenMP allocate for the life of the process: leaks are not errors here.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ $# -eq 0 ]; then
    set -- -E "Training.TwoEpochsOfMnist"
fi
ctest --test-dir build-asan --output-on-failure -j 2 "$@"
