#!/usr/bin/env bash
# opgraph vs PyTorch at each precision, f32, bf16 and int8 (on Intel AMX both sides reach the
# AMX kernels of oneDNN), on synthetic data, the same thread count on both sides:
#   resnet18_infer_b32   graphs/resnet18.yaml vs bench/resnet18_torch.py, f32 bf16 int8
#   resnet18_infer_b1    the same at batch 1 (latency), f32 bf16 int8
#   resnet18_train_b32   training, f32 bf16
#   mnist_train_b128     graphs/mnist.yaml vs bench/mnist_torch.py, f32 bf16
#   mnist_infer_b128     inference, f32 bf16 int8
# opgraph runs `opgraph bench GRAPH --precision P ...`; PyTorch runs bf16 under
# torch.autocast with channels-last, int8 as FX post-training static quantization for the
# onednn engine. Each case runs the two alternately, REPEATS times (the side that goes first
# alternates too), and the final table gives the medians: images/s of each side, their ratio
# (opgraph / PyTorch) and, at batch 1, the latency ratio (PyTorch / opgraph median ms/step).
# It is a report: it exits 0 whatever the ratios, non-zero only if something failed to run.
#
#   bash bench/compare_precision.sh [--repeats R] [--threads T]
#
# Environment (defaults in brackets): REPEATS [3], THREADS [2], OPGRAPH_BUILD_DIR [build],
# PRECISIONS ["f32 bf16 int8"], CASES [all five above], steps and warm-up steps per case:
# R18_INFER_STEPS [20] R18_INFER_WARMUP [2], R18_B1_STEPS [100] R18_B1_WARMUP [5],
# R18_TRAIN_STEPS [8] R18_TRAIN_WARMUP [2], MNIST_TRAIN_STEPS [40] MNIST_TRAIN_WARMUP [5],
# MNIST_INFER_STEPS [50] MNIST_INFER_WARMUP [5]; OUT_DIR [a temporary directory, removed]
# keeps the raw JSON; OPGRAPH_PRECISION_FLAG [1]: 0 for an opgraph without --precision, which
# then runs the f32 cases only, without the flag. A precision opgraph refuses (exit 2) runs
# PyTorch alone, opgraph's message in the table. About 6-7 minutes on 2 cores. PyTorch is
# Debian's python3-torch + python3-torchvision, run with /usr/bin/python3; installed if missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py=/usr/bin/python3
repeats="${REPEATS:-3}"
threads="${THREADS:-2}"
precisions="${PRECISIONS:-f32 bf16 int8}"
selected="${CASES:-resnet18_infer_b32 resnet18_infer_b1 resnet18_train_b32 mnist_train_b128 \
  mnist_infer_b128}"
flag="${OPGRAPH_PRECISION_FLAG:-1}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "compare_precision.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# PyTorch: Debian's packages, with OpenBLAS (see bench/compare.sh).
if ! "$py" -c 'import torch, torchvision' 2>/dev/null ||
   ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "ok installed"; then
  install=(apt-get install -y --no-install-recommends python3-torch python3-torchvision
           libopenblas0-pthread)
  if [[ $(id -u) -ne 0 ]]; then
    echo "PyTorch missing; as root run: DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
    exit 1
  fi
  echo "installing python3-torch python3-torchvision ..."
  export DEBIAN_FRONTEND=noninteractive
  "${install[@]}" || { apt-get update && "${install[@]}"; }
fi

opgraph="${OPGRAPH_BUILD_DIR:-build}/bin/opgraph"
[[ -x "$opgraph" ]] || { echo "compare_precision.sh: no $opgraph (scripts/build.sh)" >&2; exit 1; }

if [[ -n "${OUT_DIR:-}" ]]; then
  out="$OUT_DIR"; mkdir -p "$out"; rm -f "$out"/*.jsonl "$out"/*.refused "$out/order"
else
  out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
fi

# run FILE SIDE CMD...: one run, its single JSON line appended to FILE.SIDE.jsonl. An opgraph
# that refuses a precision other than f32 (usage error, exit 2) leaves FILE.refused instead.
run() {
  local file="$1" side="$2"; shift 2
  local line rc=0
  line="$("$@" 2>"$out/stderr")" || rc=$?
  if ((rc == 2)) && [[ "$side" == opgraph && "$file" != *.f32 ]]; then
    head -n 1 "$out/stderr" > "$file.refused"; echo "  opgraph  refused: $(< "$file.refused")"
    return 0
  elif ((rc != 0)); then
    echo "compare_precision.sh: failed: $*" >&2; cat "$out/stderr" >&2; exit 1
  fi
  line="$(tail -n 1 <<< "$line")"
  "$py" -c 'import json, sys; d = json.loads(sys.argv[1])
print("  %-8s %10.1f images/s %9.3f ms/step (median)"
      % (sys.argv[2], d["images_per_second"], d["median_ms_per_step"]))' "$line" "$side" ||
    { echo "compare_precision.sh: no JSON report from: $*" >&2; echo "$line" >&2; exit 1; }
  echo "$line" >> "$file.$side.jsonl"
}

# bench NAME PRECISION GRAPH SCRIPT MODE BATCH STEPS WARMUP: REPEATS alternating pairs.
bench() {
  local name="$1" p="$2" graph="$3" script="$4" mode="$5" batch="$6" steps="$7" warmup="$8" r
  local common=(--mode "$mode" --batch-size "$batch" --steps "$steps" --warmup "$warmup"
                --threads "$threads")
  local og=("$opgraph" bench "$graph" "${common[@]}" --no-peak --json)
  [[ "$flag" == 0 ]] || og+=(--precision "$p")
  local pt=("$py" "$script" "${common[@]}" --precision "$p" --json)
  local file="$out/$name.$p"
  echo "$name $p" >> "$out/order"
  for ((r = 1; r <= repeats; r++)); do
    echo "$name $p, repeat $r/$repeats:"
    if [[ ("$flag" == 0 && "$p" != f32) || -e "$file.refused" ]]; then
      run "$file" pytorch "${pt[@]}"
    elif ((r % 2)); then run "$file" opgraph "${og[@]}"; run "$file" pytorch "${pt[@]}"
    else run "$file" pytorch "${pt[@]}"; run "$file" opgraph "${og[@]}"; fi
  done
}

cases=(  # name graph PyTorch-twin mode batch steps warm-up precisions
  "resnet18_infer_b32 graphs/resnet18.yaml bench/resnet18_torch.py infer 32
   ${R18_INFER_STEPS:-20} ${R18_INFER_WARMUP:-2} f32,bf16,int8"
  "resnet18_infer_b1 graphs/resnet18.yaml bench/resnet18_torch.py infer 1
   ${R18_B1_STEPS:-100} ${R18_B1_WARMUP:-5} f32,bf16,int8"
  "resnet18_train_b32 graphs/resnet18.yaml bench/resnet18_torch.py train 32
   ${R18_TRAIN_STEPS:-8} ${R18_TRAIN_WARMUP:-2} f32,bf16"
  "mnist_train_b128 graphs/mnist.yaml bench/mnist_torch.py train 128
   ${MNIST_TRAIN_STEPS:-40} ${MNIST_TRAIN_WARMUP:-5} f32,bf16"
  "mnist_infer_b128 graphs/mnist.yaml bench/mnist_torch.py infer 128
   ${MNIST_INFER_STEPS:-50} ${MNIST_INFER_WARMUP:-5} f32,bf16,int8"
)
echo "opgraph $opgraph vs PyTorch ($py), $threads threads, $repeats repeats"
for p in $precisions; do
  for c in "${cases[@]}"; do
    read -r -d '' name graph script mode batch steps warmup allowed <<< "$c" || true
    [[ " $selected " == *" $name "* && ",$allowed," == *",$p,"* ]] || continue
    bench "$name" "$p" "$graph" "$script" "$mode" "$batch" "$steps" "$warmup"
  done
done
[[ -s "$out/order" ]] || { echo "compare_precision.sh: no case selected" >&2; exit 2; }

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
"$py" - "$out" "$cpu" <<'EOF'
import json, os, statistics, sys

out, cpu = sys.argv[1:3]
load = lambda f: [json.loads(l) for l in open(f)] if os.path.exists(f) else []
med = lambda runs, k: statistics.median(d[k] for d in runs)
print(f"\nmedians of each side's runs; ratio = opgraph / PyTorch images/s; "
      "b1 latency = median ms/step, PyTorch / opgraph")
print(f"{'case':20} {'precision':9} {'opgraph img/s':>13} {'PyTorch img/s':>13} {'ratio':>7}"
      f"  {'b1 latency: opgraph, PyTorch, ratio'}")
og_any = pt_any = None
for line in open(f"{out}/order"):
    name, p = line.split()
    og, pt = load(f"{out}/{name}.{p}.opgraph.jsonl"), load(f"{out}/{name}.{p}.pytorch.jsonl")
    og_any, pt_any = og_any or (og and og[0]), pt_any or pt[0]
    pi = med(pt, "images_per_second")
    oi = med(og, "images_per_second") if og else None
    row = f"{name:20} {p:9} {f'{oi:.1f}' if og else '-':>13} {pi:13.1f} " \
          f"{f'{oi / pi:.2f}x' if og else '-':>7}"
    if pt[0]["batch_size"] == 1:
        pl = med(pt, "median_ms_per_step")
        ol = med(og, "median_ms_per_step") if og else None
        row += f"  {f'{ol:.3f}' if og else '-':>8} ms {pl:8.3f} ms " \
               f"{f'{pl / ol:.2f}x lower' if og else '-'}"
    reported = {d.get("precision", "f32") for d in og} - {p}
    if reported:
        row += f"  (opgraph reported {', '.join(sorted(reported))})"
    if os.path.exists(f"{out}/{name}.{p}.refused"):
        row += f"  ({open(f'{out}/{name}.{p}.refused').read().strip()})"
    print(row)

print(f"\nPyTorch: torch {pt_any['torch_version']}, {pt_any['threads']} threads, "
      f"malloc tuned {pt_any.get('malloc_tuned')}")
if og_any:
    th = og_any.get("threads", {})
    print(f"opgraph: oneDNN {og_any.get('onednn_version')} ({og_any.get('onednn_isa')}), "
          f"threads intra-op {th.get('intra_op')} inter-op {th.get('inter_op')}")
print(f"CPU: {cpu}")
EOF
