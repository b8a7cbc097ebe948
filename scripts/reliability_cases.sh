#!/usr/bin/env bash
# Feeds `opgraph` the hostile inputs of docs/reliability.md (broken graphs, damaged data and
# checkpoints, refused plugins, numerical failure, signals) and prints one Markdown row per
# case: what was tried, the exit code and the first line of the message. Every case must
# give its expected exit code and name the file it blames; the script exits non-zero if
# one does not, or if anything crashes.
#
#   bash scripts/reliability_cases.sh          (after a build: build/bin/opgraph, data/)
#
# Environment: OPGRAPH_BIN [build/bin/opgraph], DATA_DIR [data], TEST_PLUGIN_DIR
# [build/tests/plugins].
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${OPGRAPH_BIN:-$root/build/bin/opgraph}"
data="$(cd "${DATA_DIR:-$root/data}" && pwd)"
plugins="${TEST_PLUGIN_DIR:-$root/build/tests/plugins}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0

# case DESCRIPTION EXPECTED_CODE MUST_NAME -- COMMAND...: runs COMMAND, prints the row.
case_row() {
    local what="$1" expected="$2" names="$3"
    shift 4
    "$@" >"$work/out" 2>"$work/err"
    local code=$?
    local message
    message="$(grep -m1 -v '^\s*$' "$work/err" | cut -c1-170 | sed 's/|/\\|/g')"
    local verdict=ok
    if [[ "$code" != "$expected" ]]; then
        verdict="UNEXPECTED (wanted $expected)"
    elif [[ -n "$names" ]] && ! grep -qF -- "$names" "$work/err"; then
        verdict="UNEXPECTED (does not name $names)"
    fi
    [[ "$verdict" == ok ]] || failures=$((failures + 1))
    printf '| %s | %s | `%s` | %s |\n' "$what" "$code" "$message" "$verdict"
}

# A small trained model: weights for eval / predict, a checkpoint to damage.
"$bin" train "$root/graphs/mlp.yaml" --data-dir "$data" --train-limit 512 --epochs 1 \
    --checkpoint-dir ck --threads 1 >/dev/null 2>&1 || { echo "training the fixture failed"; exit 1; }
weights="$work/checkpoints/mlp.ckpt"
mlp="$root/graphs/mlp.yaml"

# Graph files.
printf 'model:\n  inputs: {x: [4]\n  layers: []\n' > unclosed.yaml
printf 'model:\n  inputs: {x: [4]}\n  layers:\n    - {op: dense, unitz: 3}\n' > typo.yaml
printf 'model:\n  inputs: {x: [4]}\n  layers:\n    - {op: dnese, units: 3}\n' > unknown_op.yaml
printf 'model:\n  inputs: {x: [4]}\n  layers:\n    - {op: dense, units: three}\n' > wrong_type.yaml
printf 'model:\n  inputs: {x: [4]}\n  nodes:\n    - {name: a, op: add, inputs: [x, b]}\n    - {name: b, op: add, inputs: [a, x]}\n  outputs: [b]\n' > cycle.yaml
printf 'model:\n  inputs: {x: [28, 28, 1]}\n  layers:\n    - {op: conv2d, filters: 4, kernel: 30}\n' > shape.yaml
: > empty.yaml
printf 'model:\n  inputs: {x: [4294967296, 4294967296, 4]}\n  layers:\n    - {op: flatten}\n' > huge.yaml
python3 -c "print('model: ' + '[' * 100000)" > deep.yaml
python3 -c "print('model:\n  inputs: {x: [4]}\n  layers: [' + '{op: dense, units: 4}, ' * 3 + '&a [' * 5000 + ']')" > anchors.yaml
echo "| case | exit | message (first line) | verdict |"
echo "| --- | --- | --- | --- |"
case_row "YAML syntax error (unclosed flow map)" 3 unclosed.yaml -- "$bin" check unclosed.yaml
case_row "misspelt attribute" 3 typo.yaml -- "$bin" check typo.yaml
case_row "unknown op" 3 unknown_op.yaml -- "$bin" check unknown_op.yaml
case_row "attribute of the wrong type" 3 wrong_type.yaml -- "$bin" check wrong_type.yaml
case_row "cycle between nodes" 3 cycle.yaml -- "$bin" check cycle.yaml
case_row "kernel larger than its input" 3 shape.yaml -- "$bin" check shape.yaml
case_row "empty file" 3 empty.yaml -- "$bin" check empty.yaml
case_row "dimensions whose product overflows int64" 3 huge.yaml -- "$bin" check huge.yaml
case_row "100,000 nested '[' (yaml-cpp stack overflow CVEs)" 3 deep.yaml -- "$bin" check deep.yaml
case_row "5,000 nested anchored sequences" 3 anchors.yaml -- "$bin" check anchors.yaml
case_row "a binary file as the graph" 3 /bin/true -- "$bin" check /bin/true
case_row "missing graph file" 3 nothere.yaml -- "$bin" check nothere.yaml
case_row "unknown option" 2 "" -- "$bin" train "$mlp" --bogus-option 3

# Data: a copy of MNIST with one file damaged at a time, read by `train`.
idx_case() {  # DESCRIPTION FILE PYTHON-TRANSFORM(bytes b -> bytes) [EXPECTED_CODE]
    rm -rf d && mkdir -p d/mnist && cp "$data"/mnist/* d/mnist/
    python3 - "d/mnist/$2" "$3" <<'EOF'
import sys, gzip, struct
path, transform = sys.argv[1], sys.argv[2]
b = open(path, 'rb').read()
b = eval(transform)
open(path, 'wb').write(b)
EOF
    local expected="${4:-4}"
    case_row "$1" "$expected" "$([[ $expected == 0 ]] || echo "d/mnist/$2")" -- \
        "$bin" train "$mlp" --data-dir d --epochs 1 --train-limit 256 --checkpoint-dir ck_idx --threads 1
}
idx_case "IDX images truncated mid-image" train-images-idx3-ubyte "b[:len(b)//2 + 7]"
idx_case "IDX images truncated inside the header" train-images-idx3-ubyte "b[:9]"
idx_case "IDX wrong magic" train-labels-idx1-ubyte "b'\\x12\\x34' + b[2:]"
idx_case "IDX gzipped under the raw name (read transparently)" train-images-idx3-ubyte "gzip.compress(b)" 0
idx_case "IDX gzip stream cut short" train-images-idx3-ubyte "gzip.compress(b)[:100000]"
idx_case "IDX gzip bomb (256 MiB of zeros after the 60000 images' header)" train-images-idx3-ubyte "gzip.compress(b[:16] + bytes(1 << 28))"
idx_case "IDX header claims 3.3 TB (forged count)" train-images-idx3-ubyte "b[:4] + struct.pack('>I', 0xffffffff) + struct.pack('>I', 28000) + struct.pack('>I', 28000) + b[16:]"
idx_case "labels count differs from images" train-labels-idx1-ubyte "b[:4] + struct.pack('>I', 59999) + b[8:-1]"
idx_case "label out of range (42)" train-labels-idx1-ubyte "b[:8] + bytes([42]) + b[9:]"
idx_case "empty IDX file" t10k-images-idx3-ubyte "b''"
case_row "missing data directory" 4 /nonexistent -- "$bin" eval "$mlp" --weights "$weights" --data-dir /nonexistent

# Checkpoints and weights.
cp -r ck ck_crc && python3 -c "
import sys; p='ck_crc/checkpoint.safetensors'; b=bytearray(open(p,'rb').read()); b[-100]^=0xff; open(p,'wb').write(b)"
rm -f ck_crc/checkpoint.prev.safetensors
case_row "checkpoint with a flipped byte (CRC-32)" 5 ck_crc/checkpoint.safetensors -- "$bin" train "$mlp" --data-dir "$data" --train-limit 512 --epochs 2 --checkpoint-dir ck_crc --resume --threads 1
cp -r ck ck_trunc && truncate -s 500 ck_trunc/checkpoint.safetensors && rm -f ck_trunc/checkpoint.prev.safetensors
case_row "checkpoint truncated to 500 bytes" 5 ck_trunc/checkpoint.safetensors -- "$bin" train "$mlp" --data-dir "$data" --train-limit 512 --epochs 2 --checkpoint-dir ck_trunc --resume --threads 1
case_row "checkpoint of another graph (stale)" 5 ck/checkpoint.safetensors -- "$bin" train "$root/graphs/mnist.yaml" --data-dir "$data" --train-limit 512 --epochs 2 --checkpoint-dir ck --resume --threads 1
case_row "--resume with no checkpoint" 5 empty_ck -- "$bin" train "$mlp" --data-dir "$data" --train-limit 512 --checkpoint-dir empty_ck --resume
: > a_file
case_row "checkpoint directory is a file" 5 a_file -- "$bin" train "$mlp" --data-dir "$data" --train-limit 512 --epochs 1 --checkpoint-dir a_file --threads 1
case_row "weights of another graph" 5 "$weights" -- "$bin" eval "$root/graphs/mnist.yaml" --weights "$weights" --data-dir "$data"
case_row "weights file that is not safetensors" 5 /bin/true -- "$bin" eval "$mlp" --weights /bin/true --data-dir "$data"

# Plugins (the test plugins of tests/plugins).
printf 'not an ELF file\n' > text_plugin.so
case_row "plugin that is not ELF" 6 text_plugin.so -- "$bin" ops --plugin-path text_plugin.so
for p in not_a_plugin:"plugin without the entry point" null_entry:"plugin whose entry returns null" \
         wrong_abi:"plugin of another ABI version" old_build:"plugin built against another opgraph" \
         duplicate_op:"plugin registering a core op again" failing_register:"plugin throwing during registration"; do
    case_row "${p#*:}" 6 "test_${p%%:*}.so" -- "$bin" ops --plugin-path "$plugins/test_${p%%:*}.so"
done
printf 'model:\n  inputs: {x: [4]}\n  nodes: [{name: f, op: test_flaky, inputs: x}]\n  outputs: [f]\n' > flaky.yaml
case_row "plugin kernel throwing during execution" 1 flaky.yaml -- "$bin" bench flaky.yaml --mode infer --plugin-path "$plugins/test_good_plugin.so" --steps 2 --warmup 0

# Numerics and signals.
case_row "training that diverges to NaN" 7 diverging.yaml -- "$bin" train "$root/tests/graphs/diverging.yaml" --data-dir "$data" --train-limit 512 --checkpoint-dir ck_nan --threads 1
signal_case() {  # SIGNAL CODE
    rm -rf ck_sig
    "$bin" train "$root/graphs/mnist.yaml" --data-dir "$data" --checkpoint-dir ck_sig --threads 1 \
        >"$work/out" 2>"$work/err" &
    local pid=$!
    sleep 4
    kill -"$1" "$pid"
    wait "$pid"
    local code=$?
    local message
    message="$(grep -m1 -i 'interrupt\|saved\|checkpoint' "$work/err" "$work/out" | sed 's/^[^:]*://' | cut -c1-170)"
    local verdict=ok
    [[ "$code" == "$2" && -f ck_sig/checkpoint.safetensors ]] || { verdict="UNEXPECTED"; failures=$((failures + 1)); }
    printf '| %s | %s | `%s` | %s |\n' "SIG$1 during training" "$code" "$message" "$verdict"
}
signal_case INT 130
signal_case TERM 143

echo
echo "cases that did not behave: $failures"
[[ $failures -eq 0 ]]
