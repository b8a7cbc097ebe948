#!/usr/bin/env bash
# Peak RSS and throughput of ResNet-18 training (and inference) at batch 32: opgraph on
# graphs/resnet18.yaml against PyTorch on torchvision's resnet18 (bench/resnet18_torch.py),
# the same thread count, synthetic data, run alternately REPEATS times in one run (the side
# that goes first alternates). Prints each run and the medians; exits 0 whatever the numbers,
# non-zero only if something failed to run.
#
#   bash bench/resnet18_memory.sh [--repeats R] [--threads T] [--mode train|infer]
#
# Environment: OPGRAPH_BUILD_DIR [build], STEPS [5], WARMUP [2], BATCH [32].
# PyTorch is Debian's python3-torch + python3-torchvision, run with /usr/bin/python3;
# installed here if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py=/usr/bin/python3
repeats=3 threads=2 mode=train
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "resnet18_memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
steps="${STEPS:-5}" warmup="${WARMUP:-2}" batch="${BATCH:-32}"
bin="${OPGRAPH_BUILD_DIR:-$root/build}/bin/opgraph"
[[ -x "$bin" ]] || { echo "resnet18_memory.sh: $bin not built (scripts/build.sh)" >&2; exit 2; }
if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
  install=(apt-get install -y --no-install-recommends python3-torch python3-torchvision
           libopenblas0-pthread)
  if [[ $(id -u) -ne 0 ]]; then echo "run: sudo ${install[*]}" >&2; exit 2; fi
  DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null
fi

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "ResNet-18 $mode, batch $batch, $threads threads, $steps steps after $warmup warm-up; CPU: $cpu"
run_opgraph() {
  "$bin" bench graphs/resnet18.yaml --mode "$mode" --batch-size "$batch" --steps "$steps" \
    --warmup "$warmup" --threads "$threads" --no-peak --json |
    "$py" -c 'import json,sys; r=json.load(sys.stdin); print(r["images_per_second"], r["max_rss_bytes"])'
}
run_torch() {
  "$py" bench/resnet18_torch.py --mode "$mode" --batch-size "$batch" --steps "$steps" \
    --warmup "$warmup" --threads "$threads" --json |
    "$py" -c 'import json,sys; r=json.load(sys.stdin); print(r["images_per_second"], r["max_rss_bytes"])'
}
ours=() theirs=()
for ((i = 0; i < repeats; i++)); do
  if ((i % 2 == 0)); then a=$(run_opgraph); b=$(run_torch); else b=$(run_torch); a=$(run_opgraph); fi
  ours+=("$a") theirs+=("$b")
  printf 'run %d: opgraph %8.1f img/s %7.0f MiB | pytorch %8.1f img/s %7.0f MiB\n' "$((i + 1))" \
    "${a% *}" "$(("${a#* }" >> 20))" "${b% *}" "$(("${b#* }" >> 20))"
done
"$py" - "${ours[@]}" -- "${theirs[@]}" <<'PY'
import statistics, sys
args = sys.argv[1:]
cut = args.index("--")
def parse(xs): return [tuple(map(float, x.split())) for x in xs]
ours, theirs = parse(args[:cut]), parse(args[cut + 1:])
med = lambda rows, k: statistics.median(r[k] for r in rows)
o_ips, o_rss, t_ips, t_rss = med(ours, 0), med(ours, 1), med(theirs, 0), med(theirs, 1)
print(f"median: opgraph {o_ips:.1f} img/s, peak RSS {o_rss / 2**30:.2f} GiB | "
      f"pytorch {t_ips:.1f} img/s, peak RSS {t_rss / 2**30:.2f} GiB")
print(f"throughput ratio {o_ips / t_ips:.2f}x; peak RSS ratio {o_rss / t_rss:.2f} "
      f"({'not above' if o_rss <= t_rss else 'ABOVE'} PyTorch's)")
PY
