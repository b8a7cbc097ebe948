#!/usr/bin/env bash
# Builds the tsan preset (CMakePresets.json) into build-tsan/ -- only opgraph_tests and what it
# needs (the framework, the core and test plugins, the opgraph CLI that the resume tests kill)
# -- and runs the tests that exercise the executor under ThreadSanitizer: the oneTBB flow graph
# (flow_executor.cpp, through Program), the training step with its optimizer updates on the
# graph, the batch loader's worker thread, the trainer, and resume / signals. Any report fails
# the run. Pass ctest arguments to change what runs, e.g.  scripts/tsan.sh -R BatchLoader
#
# oneTBB: its headers (the flow graph, task_arena) are compiled into our code and instrumented;
# libtbb.so is not, so TSan cannot see how it hands tasks to workers or ends a wait.
# flow_executor.cpp tells TSan the edges the flow graph guarantees (under __SANITIZE_THREAD__
# only); tests/sanitizers/tsan.supp explains the two oneTBB constructors left suppressed. A
# race between two of our tasks that may run at once is still reported.
# OpenMP: Debian's libgomp (oneDNN's runtime) and libdnnl are not instrumented; libgomp's
# barriers and thread hand-offs are futexes, invisible to TSan. OMP_NUM_THREADS=1 sets the
# runtime's default, but opgraph sets each task's OpenMP count itself (ThreadConfig intra_op,
# default cores / inter_op), so tests that keep the default still fork OpenMP threads: the
# reports that follow (operators/dropout.cpp's mask loop, a memset inside libdnnl) are
# suppressed by module in tests/sanitizers/tsan.supp, which says what that costs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install_deps.sh
bash scripts/fetch_data.sh "$root/data"
cmake --preset tsan >/dev/null
cmake --build --preset tsan
# Reports of every process (the test binary and the opgraph CLI it starts, whose output the
# tests swallow) go to files under build-tsan/tsan-reports/; any file there fails the run.
reports="$root/build-tsan/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:history_size=4:log_path=$reports/tsan:suppressions=$root/tests/sanitizers/tsan.supp"
export OMP_NUM_THREADS=1
if [ $# -eq 0 ]; then
    executor='Program|TrainingStep|BatchLoader|Resume|KilledTraining|Training\.Scheduler'
    uses_program='Evaluator|Weights|CheckNumerics|Callback|NonFiniteLoss|Autodiff|GradientCheck|Dropout|BlockedLayouts'
    set -- -R "^($executor|$uses_program)\\."
fi
status=0
ctest --test-dir build-tsan --output-on-failure -j 2 "$@" || status=$?
if compgen -G "$reports/tsan*" >/dev/null; then
    echo "ThreadSanitizer reports (build-tsan/tsan-reports/):"
    cat "$reports"/tsan*
    status=1
fi
exit "$status"
