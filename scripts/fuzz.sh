#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 60); TARGET one of
#                                             model_file idx checkpoint (default: all three)
#   scripts/fuzz.sh 600                       ten minutes each, one target after the other
#   scripts/fuzz.sh 900 model_file
#
# The framework and the core plugin are compiled with clang and
# -fsanitize=fuzzer-no-link,address,undefined, the targets with -fsanitize=fuzzer,address,
# undefined. Every UBSan report is fatal. Each target runs with
#   -max_total_time=SECONDS -timeout=$FUZZ_TIMEOUT (30 s per input: on a loaded machine a niced
#   fuzzer can be descheduled long enough for a shorter limit to report a false hang; replay
#   a reported timeout input alone to confirm it)
#   -malloc_limit_mb=$FUZZ_MALLOC_MB (1024) -rss_limit_mb=$FUZZ_RSS_MB (2048)
#   -max_len=$FUZZ_MAX_LEN (65536) and the dictionary fuzz/<target>.dict when there is one,
# on a working corpus build-fuzz/corpus/<target>/ seeded from fuzz/corpus/<target>/ (the
# repository's seed corpus is only read, never written). Crash, leak, timeout and OOM inputs
# land in build-fuzz/findings/<target>/, logs in build-fuzz/logs/<target>.log.
# Set FUZZ_JOBS for the build parallelism (default 2), FUZZ_NICE (default 19), and
# FUZZ_NO_BUILD=1 to run the targets already built without configuring or building.
#
# Prints per target: executions, run time, exec/s, corpus size and findings; exits 1 if any
# target found a crash, leak, timeout or OOM. To replay one input:
#   build-fuzz/bin/<target>_fuzzer build-fuzz/findings/<target>/crash-...
# and to turn it into a regression test, copy it to tests/fuzz_regressions/<target>/
# (tests/fuzz_regression_test.cpp runs every file there in the normal test suite).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model_file idx checkpoint)
for t in "${targets[@]}"; do
    case "$t" in
        model_file | idx | checkpoint) ;;
        *) echo "fuzz.sh: unknown target '$t' (model_file, idx, checkpoint)" >&2; exit 2 ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
nice_cmd=(nice -n "${FUZZ_NICE:-19}")
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    "${nice_cmd[@]}" cmake -S "$root" -B "$build" -DOPGRAPH_FUZZ=ON -DBUILD_TESTING=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" \
        "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" \
        "-DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
    build_targets=()
    for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
    "${nice_cmd[@]}" cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target "${build_targets[@]}"
fi

# libFuzzer checks for leaks only across the inputs it runs (not the plugin loading before).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
summary=()
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t"
    findings="$build/findings/$t"
    log="$build/logs/$t.log"
    mkdir -p "$corpus" "$findings" "$(dirname "$log")"
    cp -n "$root/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    dict=()
    [ -f "$root/fuzz/$t.dict" ] && dict=("-dict=$root/fuzz/$t.dict")
    before=$(find "$findings" -type f | wc -l)
    echo "== fuzzing $t for ${seconds}s (log: $log)"
    start=$(date +%s)
    set +e
    "${nice_cmd[@]}" "$build/bin/${t}_fuzzer" "$corpus" "${dict[@]}" \
        -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-30}" \
        -malloc_limit_mb="${FUZZ_MALLOC_MB:-1024}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
        -max_len="${FUZZ_MAX_LEN:-65536}" -print_final_stats=1 \
        -artifact_prefix="$findings/" >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    found=$(($(find "$findings" -type f | wc -l) - before))
    line="$t: ${execs:-?} execs in ${elapsed}s (${rate:-?} exec/s), corpus $size files, findings $found"
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        failed=1
        line+=" (exit $rc; see $log and $findings)"
        grep -E "^==[0-9]+==ERROR|runtime error|FINDING|ALARM|out-of-memory|Test unit written" "$log" | head -5 || true
    fi
    echo "$line"
    summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
