#!/usr/bin/env bash
# opgraph vs PyTorch on the MNIST CNN of graphs/mnist.yaml (bench/mnist_torch.py is its twin),
# on synthetic data, the same thread count on both sides, on this machine:
#   (a) training, batch 128   (b) inference, batch 128   (c) inference, batch 1 (latency)
# Each case runs opgraph and PyTorch alternately, REPEATS times (the side that goes first
# alternates too), and reports the median of each side, the ratios, the peak RSS of the
# training runs, and PASS/FAIL against the targets: training >= 3x, inference b128 >= 2x,
# batch-1 latency >= 5x lower, opgraph's peak training RSS <= PyTorch's. It is a report: it
# exits 0 whatever the ratios, and non-zero only if something failed to run.
#
#   bash bench/compare.sh [--repeats R] [--threads T]
#
# Environment (defaults in brackets): REPEATS [3], THREADS [2], OPGRAPH_BUILD_DIR [build],
# TRAIN_STEPS [40] TRAIN_WARMUP [5], INFER_STEPS [50] INFER_WARMUP [5], B1_STEPS [500]
# B1_WARMUP [20] B1_THREADS [1], TORCH_ARGS [] (extra bench/mnist_torch.py options, e.g.
# --glibc-malloc-defaults or --channels-last), OUT_DIR [a temporary directory, removed]
# to keep the raw JSON lines of every run.
# PyTorch is Debian's python3-torch, run with /usr/bin/python3; installed here if missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py=/usr/bin/python3
repeats="${REPEATS:-3}"
threads="${THREADS:-2}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# PyTorch: Debian's package, with the OpenBLAS that libtorch recommends (without it the
# reference BLAS serves the small convolutions PyTorch does not give to oneDNN at batch 1,
# and PyTorch's latency would look twice as bad as a normal install's).
if ! "$py" -c 'import torch' 2>/dev/null || ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "ok installed"; then
  install=(apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread)
  if [[ $(id -u) -ne 0 ]]; then
    echo "PyTorch missing; as root run: DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
    exit 1
  fi
  echo "installing python3-torch ..."
  export DEBIAN_FRONTEND=noninteractive
  "${install[@]}" || { apt-get update && "${install[@]}"; }
fi

# opgraph: build it if the binary is missing.
opgraph="${OPGRAPH_BUILD_DIR:-build}/bin/opgraph"
[[ -x "$opgraph" ]] || bash scripts/build.sh
[[ -x "$opgraph" ]] || { echo "compare.sh: no $opgraph after building" >&2; exit 1; }

if [[ -n "${OUT_DIR:-}" ]]; then
  out="$OUT_DIR"; mkdir -p "$out"; rm -f "$out"/*.jsonl
else
  out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
fi
read -r -a torch_args <<< "${TORCH_ARGS:-}"

# run NAME SIDE CMD...: one run, its single JSON line appended to $out/NAME.SIDE.jsonl.
run() {
  local name="$1" side="$2"; shift 2
  local line
  if ! line="$("$@" 2>"$out/stderr")"; then
    echo "compare.sh: failed: $*" >&2; cat "$out/stderr" >&2; exit 1
  fi
  line="$(tail -n 1 <<< "$line")"
  "$py" -c 'import json, sys; d = json.loads(sys.argv[1])
print("  %-8s %10.1f images/s %9.3f ms/step (median)"
      % (sys.argv[2], d["images_per_second"], d["median_ms_per_step"]))' "$line" "$side" ||
    { echo "compare.sh: no JSON report from: $*" >&2; echo "$line" >&2; exit 1; }
  echo "$line" >> "$out/$name.$side.jsonl"
}

# bench NAME MODE BATCH STEPS WARMUP THREADS: REPEATS alternating pairs.
bench() {
  local name="$1" mode="$2" batch="$3" steps="$4" warmup="$5" threads="$6" r
  local og=("$opgraph" bench graphs/mnist.yaml --mode "$mode" --batch-size "$batch"
            --steps "$steps" --warmup "$warmup" --threads "$threads" --no-peak --json)
  local pt=("$py" bench/mnist_torch.py --mode "$mode" --batch-size "$batch"
            --steps "$steps" --warmup "$warmup" --threads "$threads" --json
            ${torch_args[@]+"${torch_args[@]}"})
  for ((r = 1; r <= repeats; r++)); do
    echo "$name, repeat $r/$repeats:"
    if ((r % 2)); then run "$name" opgraph "${og[@]}"; run "$name" pytorch "${pt[@]}"
    else run "$name" pytorch "${pt[@]}"; run "$name" opgraph "${og[@]}"; fi
  done
}

echo "opgraph $opgraph vs PyTorch ($py), $threads threads, $repeats repeats"
bench train_b128 train 128 "${TRAIN_STEPS:-40}" "${TRAIN_WARMUP:-5}" "$threads"
bench infer_b128 infer 128 "${INFER_STEPS:-50}" "${INFER_WARMUP:-5}" "$threads"
# Batch 1 on one thread for both: each is faster so than on two (fork/join costs more than the
# work it splits; PyTorch 0.36 vs 0.54 ms, opgraph 0.064 vs 0.175 ms), and opgraph's default.
bench infer_b1 infer 1 "${B1_STEPS:-500}" "${B1_WARMUP:-20}" "${B1_THREADS:-1}"

"$py" - "$out" <<'EOF'
import json, statistics, sys

out = sys.argv[1]
runs = {(n, s): [json.loads(l) for l in open(f"{out}/{n}.{s}.jsonl")]
        for n in ("train_b128", "infer_b128", "infer_b1") for s in ("opgraph", "pytorch")}
med = lambda n, s, k: statistics.median(d[k] for d in runs[n, s])
mib = lambda b: f"{b / 2**20:.1f} MiB"

print(f"\nmedian of {len(runs['train_b128', 'opgraph'])} runs per side")
print(f"{'case':24} {'opgraph img/s':>14} {'PyTorch img/s':>14} {'ratio':>7}")
ratio = {}
for n, label in (("train_b128", "train, batch 128"), ("infer_b128", "infer, batch 128"),
                 ("infer_b1", "infer, batch 1")):
    o, p = med(n, "opgraph", "images_per_second"), med(n, "pytorch", "images_per_second")
    ratio[n] = o / p
    print(f"{label:24} {o:14.1f} {p:14.1f} {ratio[n]:6.2f}x")
lo, lp = med("infer_b1", "opgraph", "median_ms_per_step"), \
    med("infer_b1", "pytorch", "median_ms_per_step")
print(f"{'latency, batch 1':24} {lo:11.3f} ms {lp:11.3f} ms {lp / lo:6.2f}x lower"
      "  (median ms/step)")
ro, rp = med("train_b128", "opgraph", "max_rss_bytes"), med("train_b128", "pytorch", "max_rss_bytes")
print(f"{'peak RSS, training':24} {mib(ro):>14} {mib(rp):>14} {ro / rp:6.2f}x"
      "  (whole process)")

og, pt = runs["train_b128", "opgraph"][0], runs["train_b128", "pytorch"][0]
th = og.get("threads", {})
pb1 = runs["infer_b1", "pytorch"][0]
print(f"\nopgraph: oneDNN {og.get('onednn_version')} ({og.get('onednn_isa')}), "
      f"threads intra-op {th.get('intra_op')} inter-op {th.get('inter_op')} "
      f"of {th.get('cores')} cores")
print(f"PyTorch: {pt['torch_version']}, mkldnn {pt['mkldnn_enabled']}, "
      f"{pt['threads']} threads, params {pt['params']:,}, "
      f"malloc tuned {pt.get('malloc_tuned')}, channels-last {pt.get('channels_last')}")
print(f"PyTorch conv kernels: train {', '.join(pt.get('conv_kernels', []))}; "
      f"batch 1 {', '.join(pb1.get('conv_kernels', []))}")
print(f"PyTorch BLAS (for the convolutions mkldnn does not take): "
      f"{', '.join(pb1.get('blas', [])) or 'unknown'}")
print(f"CPU: {og.get('cpu')}")

print("\ntargets:")
for ok, text in ((ratio["train_b128"] >= 3, f"training >= 3x ({ratio['train_b128']:.2f}x)"),
                 (ratio["infer_b128"] >= 2, f"inference b128 >= 2x ({ratio['infer_b128']:.2f}x)"),
                 (lp / lo >= 5, f"latency b1 >= 5x lower ({lp / lo:.2f}x)"),
                 (ro <= rp, f"peak training RSS <= PyTorch's ({mib(ro)} vs {mib(rp)})")):
    print(f"  {'PASS' if ok else 'FAIL'}  {text}")
EOF
