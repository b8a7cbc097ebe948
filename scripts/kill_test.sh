#!/usr/bin/env bash
# Kill test: trains a small real graph with a checkpoint after every step and SIGKILLs the
# process at random moments, KILLS times (default 50). After each kill every checkpoint file on
# disk (the latest and .prev) must read and verify completely (CRCs, metadata), and --resume
# must continue from it. At the end the resumed run's final checkpoint must equal, bit for bit,
# the one of an uninterrupted run. Exits 0 when all holds, 1 otherwise.
#
#   scripts/kill_test.sh [KILLS [SEED]]
#
# Environment: OPGRAPH_BIN (default build/bin/opgraph, built already: this script builds
# nothing), OPGRAPH_VERIFY (default verify_checkpoint beside OPGRAPH_BIN, from
# tests/helpers/), OPGRAPH_DATA_DIR (default data/), KILL_TEST_DIR (default a new temporary
# directory, removed on success).
#
# Most kills land a random 0-40 ms after the run wrote a checkpoint (so some land inside the
# next write); one in five lands a random 0-1.5 s after the process started (so some land
# while it starts up or loads the checkpoint). A kill inside a write leaves the write's
# temporary file (.checkpoint.safetensors.tmpXXXXXX, tensor_file.cpp) or the link that becomes
# .prev (.checkpoint.prev.link, checkpoint.cpp) behind: that is how such kills are counted.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kills="${1:-50}"
seed="${2:-$(date +%s)}"
bin="${OPGRAPH_BIN:-$root/build/bin/opgraph}"
verify="${OPGRAPH_VERIFY:-$(dirname "$bin")/verify_checkpoint}"
data="${OPGRAPH_DATA_DIR:-$root/data}"
[[ "$kills" =~ ^[0-9]+$ && "$seed" =~ ^[0-9]+$ ]] || { echo "usage: $0 [KILLS [SEED]]" >&2; exit 2; }
for tool in "$bin" "$verify"; do
    [ -x "$tool" ] || { echo "$tool: not built (cmake --build <dir> --target opgraph verify_checkpoint)" >&2; exit 2; }
done
work="${KILL_TEST_DIR:-$(mktemp -d /tmp/opgraph_kill_test.XXXXXX)}"
mkdir -p "$work"
run="$work/run"
straight="$work/straight"
logs="$work/logs"
mkdir -p "$logs"
RANDOM=$seed
started=$SECONDS

# Every run moves at least one step before its kill, most a few, those killed at a random
# moment after their start up to some tens: enough epochs (63 steps of 32 samples each) that
# the kills do not reach the end.
train_limit=2000
epochs=$(( kills * 20 / 63 + 3 ))
cat >"$work/small.yaml" <<'EOF'
# The small CNN of tests/resume_test.cpp: batch-norm statistics, dropout masks, Adam's slots,
# an epoch schedule and a plateau callback all carry state across steps.
model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {op: conv2d, filters: 4, kernel: 3}
    - {op: batch_norm}
    - {op: relu}
    - {op: dropout, rate: 0.3}
    - {op: max_pool2d, pool: 2}
    - {op: flatten}
    - {op: dense, units: 10}
    - {op: softmax}
training:
  dataset: mnist
  batch_size: 32
  seed: 11
  optimizer: {type: adam, learning_rate: 0.003}
  loss: categorical_crossentropy
  validation: none
  callbacks:
    - {type: lr_scheduler, per: epoch, schedule: {type: inverse_time, initial_learning_rate: 0.003, decay_rate: 0.319}}
    - {type: reduce_lr_on_plateau, monitor: loss, patience: 1, factor: 0.5}
EOF
train=("$bin" train "$work/small.yaml" --data-dir "$data" --train-limit "$train_limit"
       --epochs "$epochs" --seed 11 --threads 1)

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
failures=0

# The inode of the latest checkpoint (each save renames a new file over it), or "none".
latest_inode() { stat -c %i "$run/checkpoint.safetensors" 2>/dev/null || echo none; }
# The names a write in progress leaves in the checkpoint directory.
leftovers() { find "$run" -maxdepth 1 \( -name '.checkpoint.safetensors.tmp*' -o -name '.checkpoint.prev.link' \) -printf '%f\n' 2>/dev/null | sort; }

echo "kill test: $kills kills, seed $seed, $epochs epochs of $train_limit samples, a checkpoint every step"
echo "binary: $bin; work directory: $work"

kill_count=0 during_write=0 during_link=0 resumes=0 corrupt=0 fallbacks=0 finished_early=0
checked=0 last_step=0
for (( k = 1; k <= kills; ++k )); do
    args=()
    if [ -e "$run/checkpoint.safetensors" ] || [ -e "$run/checkpoint.prev.safetensors" ]; then
        args=(--resume)
        resumes=$((resumes + 1))
    fi
    before_inode=$(latest_inode)
    before_leftovers=$(leftovers)
    "${train[@]}" --checkpoint-dir "$run" --checkpoint-every 1 "${args[@]}" >"$logs/run$k.log" 2>&1 &
    pid=$!
    if (( RANDOM % 5 == 0 )); then
        sleep "$(printf '0.%03d' $(( RANDOM % 1000 )))"
        (( RANDOM % 2 )) && sleep 0.5
    else
        # Wait for this run's first checkpoint, then a random 0-40 ms more.
        for (( waited = 0; waited < 6000; ++waited )); do
            [ "$(latest_inode)" != "$before_inode" ] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.01
        done
        sleep "$(printf '0.%03d' $(( RANDOM % 41 )))"
    fi
    kill -KILL "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    status=$?
    if [ "$status" -eq 0 ]; then
        echo "run $k finished before its kill (training complete)"
        finished_early=1
        break
    elif [ "$status" -ne 137 ]; then
        fail "run $k exited $status before its kill:"; tail -5 "$logs/run$k.log" >&2
        break
    fi
    kill_count=$((kill_count + 1))
    grep -q '^warning: resuming from' "$logs/run$k.log" && fallbacks=$((fallbacks + 1))

    # A write in progress at the kill left its temporary file (or the .prev link) behind.
    new_leftovers=$(comm -13 <(echo "$before_leftovers") <(leftovers))
    grep -q 'tmp' <<<"$new_leftovers" && during_write=$((during_write + 1))
    grep -q 'prev.link' <<<"$new_leftovers" && during_link=$((during_link + 1))

    # Every checkpoint on disk reads and verifies completely.
    for name in checkpoint.safetensors checkpoint.prev.safetensors; do
        [ -e "$run/$name" ] || continue
        checked=$((checked + 1))
        if ! out=$("$verify" "$run/$name"); then
            corrupt=$((corrupt + 1))
            cp "$run/$name" "$work/corrupt_after_kill$k.$name"
            fail "after kill $k: $out"
        fi
    done
    if [ -e "$run/checkpoint.safetensors" ]; then
        step=$("$verify" "$run/checkpoint.safetensors" | sed -n 's/.* step \([0-9]*\)$/\1/p')
        if [ -n "$step" ]; then
            (( step < last_step )) && fail "after kill $k the latest checkpoint went back from step $last_step to $step"
            last_step=$step
        fi
    fi
done

# The last resume runs to the end; then the same training without interruption.
resumes=$((resumes + 1))
"${train[@]}" --checkpoint-dir "$run" --checkpoint-every 1 --resume >"$logs/final.log" 2>&1 ||
    { fail "the final --resume exited $?:"; tail -5 "$logs/final.log" >&2; }
grep -q '^warning: resuming from' "$logs/final.log" && fallbacks=$((fallbacks + 1))
"${train[@]}" --checkpoint-dir "$straight" --checkpoint-every 1 >"$logs/straight.log" 2>&1 ||
    { fail "the uninterrupted run exited $?:"; tail -5 "$logs/straight.log" >&2; }
for name in checkpoint.safetensors checkpoint.prev.safetensors; do
    checked=$((checked + 1))
    out=$("$verify" "$run/$name") || { corrupt=$((corrupt + 1)); fail "at the end: $out"; }
done
if equality=$("$verify" --same "$straight/checkpoint.safetensors" "$run/checkpoint.safetensors"); then
    cmp -s "$straight/checkpoint.safetensors" "$run/checkpoint.safetensors" &&
        equality="$equality; the files are byte-identical"
else
    fail "final state: $equality"
fi
(( fallbacks > 0 )) && fail "$fallbacks resumes fell back to the previous checkpoint (the latest was unreadable)"

echo
echo "kills:                          $kill_count of $kills$( ((finished_early)) && echo " (training finished first)")"
echo "kills during a write:           $during_write (temporary file left), $during_link more while linking .prev (link left)"
echo "resumes:                        $resumes ($fallbacks fell back to .prev)"
echo "checkpoint files verified:      $checked"
echo "corrupt checkpoints found:      $corrupt"
echo "final equality with a straight run: $equality"
echo "time:                           $((SECONDS - started)) s"
if (( failures > 0 )); then
    echo "kill test FAILED ($failures failures); logs and files kept in $work"
    exit 1
fi
echo "kill test passed"
[ -z "${KILL_TEST_DIR:-}" ] && rm -rf "$work"
exit 0
