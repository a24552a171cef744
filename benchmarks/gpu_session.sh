#!/usr/bin/env bash
# One prepared GPU session (issue 24, item 4): run it from the repository root on a machine with
# an NVIDIA GPU, e.g. through the device tool:   bash benchmarks/gpu_session.sh
# (timeout_s 600). Everything it measures goes under $OUT (default out/gpu-session), one log per
# step and summary.tsv (step, exit code, seconds). Nothing here is run on a CPU-only machine.
#
# Budget: a session has 15 minutes of device time, at most 10 per command, and the machine's start
# counts. The steps run in priority order under one deadline (BUDGET_S, default 540 s from the
# script's start); each step gets min(its own limit, what is left before the deadline) and a step
# with under 20 s left is skipped (rc 'skip'). Rerun only what is missing with PARTS, e.g.
#     PARTS="ci g1" BUDGET_S=300 bash benchmarks/gpu_session.sh
# Steps (limits measured or estimated on an H100; the CPU's numbers are in benchmarks/README.md):
#   env        nvidia-smi, JAX's devices and the matmul precision                       (~10 s)
#   precision  checks/test_precision.py and test_gpu_profile.py lowered ON the GPU:
#              every float32 dot at HIGHEST there too                                   (~40 s)
#   fast       the fast tier, (fast or selftest) and not (ray or slow), dev profile
#              (116 s on main 95f3d68 with 8 failures)                                  (<= 170 s)
#   sweep      the default sweep (90 s on main 95f3d68: 133 items)                     (<= 150 s)
#   bench      GD FLOP/s against the GPU's own matmul (one network and K = 16, 64 vmapped
#              networks; target >= 0.3 at m = 256, K >= 16), the NTK auto-pick    (<= 100 s)
#   kernel64   the float64 Gram H at n = 2000, L = 16: host NumPy tiles (the default path) vs one
#              XLA program on the GPU, same run (issue 24: "the float64 kernel path on the GPU
#              where it is faster: measure both")                                       (<= 60 s)
#   ci         the rest of the ci tier (bounds and slow: every test not in the fast tier)
#              under CI=true RNN_CHECKS_PROFILE=ci; with 'fast' it covers the ci tier's tests
#   sc         issue 22: the sample-complexity design SC_GPU (reports/runs/_grid.py; the float64
#              kernel work runs on the 16-core host): the control where CPU designs censor it and
#              the classes to L = 24, five seeds; fits, verdicts and timings to sc.json  (<= 240 s)
#   g1         G1 of the kernel interpolant by the large-n path at nested n up to G1_N
#              (default 50,000: 20 GB float64 Gram, 4e13 flop Cholesky on the host): time, peak
#              RSS, peak GPU memory. n = 100,000 (80 GB Gram, 3.3e14 flop) needs ~10 min of
#              16 cores and 80 GB of host memory: PARTS=g1 G1_N=100000 BUDGET_S=590 in a session
#              of its own (the 'gpu' profile's large-n item is that design).
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-out/gpu-session}"
mkdir -p "$OUT"
PY="${PYTHON:-python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # the suite's subprocesses share the GPU
export RNN_CHECKS_JAX_CACHE="$OUT/jax-cache"
PARTS="${PARTS:-env precision fast sweep bench kernel64 sc ci g1}"
BUDGET_S="${BUDGET_S:-540}"
G1_N="${G1_N:-50000}"
T0=$(date +%s)
printf 'step\trc\tseconds\n' > "$OUT/summary.tsv"

# GPU memory in use, sampled every 0.5 s for the whole session (max per step in the summary)
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader,nounits -lms 500 \
    > "$OUT/gpu_memory.csv" 2>/dev/null &
  SMI=$!
  trap 'kill $SMI 2>/dev/null' EXIT
fi

step() {  # step NAME LIMIT_S COMMAND...
  local name=$1 limit=$2; shift 2
  case " $PARTS " in *" $name "*) ;; *) return 0 ;; esac
  local left=$(( BUDGET_S - ($(date +%s) - T0) ))
  (( limit > left )) && limit=$left
  if (( limit < 20 )); then
    printf '%s\tskip\t0\n' "$name" >> "$OUT/summary.tsv"; echo "[$name] skipped: ${left}s left"; return 0
  fi
  echo "[$name] up to ${limit}s: $*"
  local t=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t ))" >> "$OUT/summary.tsv"
  tail -n 3 "$OUT/$name.log"
}

step env 30 bash -c "nvidia-smi; $PY -c 'import jax, models._precision as p; print(jax.__version__, jax.devices(), jax.devices()[0].device_kind, p.MATMUL_PRECISION)'"
step precision 90 "$PY" -m pytest checks/test_precision.py checks/test_gpu_profile.py -q -p no:cacheprovider
step fast 170 "$PY" -m pytest checks/ -q -p no:cacheprovider -m "(fast or selftest) and not (ray or slow)" \
  --junitxml="$OUT/fast.xml"
step sweep 150 "$PY" -m reports run --out "$OUT/sweep" --quiet
step bench 100 "$PY" -m benchmarks --quick --only batched,throughput,ntk --out "$OUT/bench.json"
step kernel64 60 "$PY" - "$OUT/kernel64.json" <<'EOF'
import json, sys, jax, numpy as np
import theory as T
from theory._kernel import _gram_block_jit
from benchmarks._timing import interleaved
# the float64 Gram H on the host (NumPy tiles, the default path) vs one XLA program on the device
X = np.random.default_rng(0).normal(size=(2000, 16, 5)) / np.sqrt(5)
with jax.enable_x64(True):
    Xd = jax.device_put(X)
    dev = lambda: np.asarray(_gram_block_jit(Xd, Xd))
    host = lambda: T.ntk_gram(X)
    err = float(np.max(np.abs(dev() - host())) / np.max(np.abs(host())))
    best = interleaved({"host": host, "device": dev}, rounds=3, budget_s=40)
out = {"n": 2000, "L": 16, "t_host_s": best["host"], "t_device_s": best["device"],
       "host_over_device": best["host"] / best["device"], "max_rel_diff": err,
       "device": jax.devices()[0].device_kind}
json.dump(out, open(sys.argv[1], "w"), indent=2)
print(json.dumps(out))
EOF
step sc 240 "$PY" - "$OUT/sc.json" <<'EOF'
import json, sys, time
import numpy as np
from reports.runs._grid import SC_GPU
from reports.cases._sample_complexity import sample_complexity_records, sample_scaling_records
t = time.perf_counter()
recs = sample_complexity_records(SC_GPU)
fits = sample_scaling_records(SC_GPU, recs)
out = {"seconds": time.perf_counter() - t,
       "fits": [f["metrics"] for f in fits if f["kind"] == "sample-scaling"],
       "by_N": [f["metrics"] for f in fits if f["kind"] == "sample-N"],
       "kernel_s": {r["config"]["L"]: r["timings"]["kernel_s"] for r in recs}}
json.dump(out, open(sys.argv[1], "w"), indent=1, default=str)
for m in out["fits"]:
    print(m["claim"], m["measure"], m["eps"], m["verdict"], "| class", m["class_model"],
          np.round(m["class_llr"], 1).tolist(), "| control", m["control_model"],
          np.round(m["control_llr"], 1).tolist())
for m in out["by_N"]:
    print("n_eps against N at L =", m["L"], "eps", m["eps"], m["model"], np.round(m["llr"], 1).tolist())
print(f"{out['seconds']:.0f} s")
EOF
step ci 300 env CI=true RNN_CHECKS_PROFILE=ci "$PY" -m pytest checks/ -q -p no:cacheprovider \
  -m "not ((fast or selftest) and not (ray or slow)) and not ray" --junitxml="$OUT/ci.xml"
step g1 590 "$PY" - "$G1_N" "$OUT/g1.json" <<'EOF'
import json, sys, time
import jax
from reports.cases._large import LargeNDesign, large_n_memory, large_n_records
n = int(sys.argv[1])
ns = tuple(k for k in (1000, 5000, 10000, 20000, 50000, 100000) if k < n) + (n,)
design = LargeNDesign(ns=ns, target_seeds=(0, 1))
t = time.perf_counter()
recs = large_n_records(design)
run = next(r for r in recs if r["kind"] == "large-n")
stats = jax.devices()[0].memory_stats() or {}
out = {"n_max": n, "ns": ns, "seconds": time.perf_counter() - t, "timings": run["timings"],
       "peak_rss_gib": run["metrics"]["peak_rss_gib"], "estimate_gib": large_n_memory(design) / 2**30,
       "gpu_peak_bytes": stats.get("peak_bytes_in_use"), "device": jax.devices()[0].device_kind,
       "g1_nonvacuous_at_n_max": sum(r["bound"]["value"] < 1 for r in recs
                                     if r["kind"] == "bound" and r["config"]["n"] == n)}
json.dump(out, open(sys.argv[2], "w"), indent=2)
print(json.dumps(out))
EOF

# the sweep's items per second (against the CPU's in benchmarks/README.md) and the peak GPU memory
"$PY" - "$OUT" <<'EOF' | tee "$OUT/derived.txt"
import csv, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
rows = {r["step"]: r for r in csv.DictReader(open(out / "summary.tsv"), delimiter="\t")}
store = out / "sweep" / "results.jsonl"
if store.exists() and rows.get("sweep", {}).get("rc") == "0":
    items = len({json.loads(l).get("item_id") for l in open(store) if l.strip()})
    print(f"sweep: {items} items in {rows['sweep']['seconds']} s = {items / max(1, int(rows['sweep']['seconds'])):.2f} items/s")
mem = out / "gpu_memory.csv"
if mem.exists():
    used = [float(r[1]) for r in csv.reader(open(mem)) if len(r) > 1 and r[1].strip().replace(".", "").isdigit()]
    print(f"peak GPU memory in use over the session: {max(used, default=0) / 1024:.1f} GiB")
EOF
cat "$OUT/summary.tsv"
