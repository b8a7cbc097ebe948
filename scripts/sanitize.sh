#!/usr/bin/env bash
# Builds the asan-ubsan preset (CMakePresets.json) into build-asan/ and runs the test suite
# under AddressSanitizer + UndefinedBehaviorSanitizer. Any report fails the run.
# The full-data training test is left out (under ASan it takes most of an hour), and so is the
# install-tree test; pass ctest arguments to change what runs, e.g.  scripts/sanitize.sh -R Resume
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install_deps.sh
bash scripts/fetch_data.sh "$root/data"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan
# oneDNN's JIT and OpenMP allocate for the life of the process: leaks are not errors here.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1"
# Every UBSan report fails the run, but for those tests/sanitizers/ubsan.supp explains.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tests/sanitizers/ubsan.supp"
if [ $# -eq 0 ]; then
    # The install-tree test links an uninstrumented consumer against the instrumented library,
    # which ASan refuses (its runtime must come first); it runs in the normal suite.
    set -- -E "Training.TwoEpochsOfMnist|install_tree_consumer"
fi
ctest --test-dir build-asan --output-on-failure -j 2 "$@"
