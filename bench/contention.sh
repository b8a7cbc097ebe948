#!/usr/bin/env bash
# Throughput when the cores are shared: `opgraph bench` alone and beside a second busy process
# (one spinning shell loop per core given by --busy), under OpenMP wait policies given as
# environment assignments, run alternately REPEATS times in one run. Prints each run and the
# medians; exits 0 whatever the numbers, non-zero only if something failed to run.
#
#   bash bench/contention.sh [--repeats R] [--busy N] [--graph G] [--mode infer|train]
#                            [--batch-size B] [--steps S] [POLICY ...]
#
# A POLICY is "name=VAR=value[,VAR=value]" or "name=" for the environment as it is, e.g.
#   libgomp=GOMP_SPINCOUNT=300000  passive=OMP_WAIT_POLICY=passive  opgraph=
# (libgomp's own default is 300,000 spins when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is
# set; opgraph's default is what `opgraph` sets when neither is: see README, "Threads").
# Environment: OPGRAPH_BUILD_DIR [build].
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
repeats=3 busy=1 graph=graphs/mnist.yaml mode=infer batch=128 steps=200
policies=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --busy) busy="$2"; shift 2 ;;
    --graph) graph="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    -*) echo "contention.sh: unknown option $1" >&2; exit 2 ;;
    *) policies+=("$1"); shift ;;
  esac
done
((${#policies[@]})) || policies=("libgomp=GOMP_SPINCOUNT=300000" "passive=OMP_WAIT_POLICY=passive" "opgraph=")
bin="${OPGRAPH_BUILD_DIR:-$root/build}/bin/opgraph"
[[ -x "$bin" ]] || { echo "contention.sh: $bin not built (scripts/build.sh)" >&2; exit 2; }

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "$graph $mode, batch $batch, $steps steps, $(nproc) cores, $busy busy process(es) beside; CPU: $cpu"

# images/s of one bench run under policy $1 (name=assignments).
run_bench() {
  local spec="${1#*=}" env_args=()
  if [[ -n "$spec" ]]; then IFS=, read -r -a env_args <<<"$spec"; fi
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${env_args[@]}" "$bin" bench "$graph" --mode "$mode" \
    --batch-size "$batch" --steps "$steps" --warmup 5 --no-peak --json |
    sed -n 's/.*"images_per_second": *\([0-9.e+]*\).*/\1/p'
}

busy_pids=()
start_busy() { for ((b = 0; b < busy; b++)); do (while :; do :; done) & busy_pids+=($!); done; }
stop_busy() { ((${#busy_pids[@]})) && kill "${busy_pids[@]}" 2>/dev/null; wait "${busy_pids[@]}" 2>/dev/null || true; busy_pids=(); }
trap stop_busy EXIT

declare -A results
for ((i = 0; i < repeats; i++)); do
  for load in alone shared; do
    [[ $load == shared ]] && start_busy
    for policy in "${policies[@]}"; do
      r=$(run_bench "$policy")
      [[ -n "$r" ]] || { echo "contention.sh: bench failed under ${policy%%=*}" >&2; exit 1; }
      results["${policy%%=*} $load"]+="$r "
      printf 'run %d %-7s %-10s %10.1f img/s\n' "$((i + 1))" "$load" "${policy%%=*}" "$r"
    done
    [[ $load == shared ]] && stop_busy
  done
done
echo "medians (img/s):"
printf '  %-10s %12s %12s\n' policy alone shared
for policy in "${policies[@]}"; do
  name="${policy%%=*}"
  med() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
  printf '  %-10s %12.1f %12.1f\n' "$name" "$(med "${results["$name alone"]}")" "$(med "${results["$name shared"]}")"
done
