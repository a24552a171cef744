"""(8) The large-n theory path: Gram, Cholesky and G1 time and peak memory against n, L = 16.

Each n runs in a fresh subprocess (so its peak RSS is its own): the tiled float64 Gram
``theory.ntk_gram`` of n sequences (L = 16, d = 5), the in-place ``theory.nested_cholesky``, and
``theory.g1_nested`` for 20 label columns at 8 nested sample sizes. Reported: the fitted exponent
of each stage's time in n over the largest sizes (the Gram is O(n^2 L), the factorization
O(n^3 / 3); at these sizes both are below their asymptote), and peak RSS against the n^2 float64
Gram it must hold (ratio ~1: one n x n array, factored in place).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ._timing import Ratio

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
import numpy as np
import theory as T
n = int(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, 16, 5)) / np.sqrt(5)
Y = rng.standard_normal((n, 20))
t0 = time.perf_counter(); H = T.ntk_gram(X); t1 = time.perf_counter()
f = T.nested_cholesky(H, overwrite=True); del H; t2 = time.perf_counter()
ns = sorted({max(2, int(n * q)) for q in (1/64, 1/32, 1/16, 1/8, 1/4, 1/2, 3/4, 1)})
g = T.g1_nested(f, Y, ns); t3 = time.perf_counter()
print(json.dumps({"n": n, "gram_s": t1 - t0, "factor_s": t2 - t1, "g1_s": t3 - t2,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "cond_est": f.cond_est}))
"""


def _one(n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(n)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load_avg_after"] = os.getloadavg()
    return out


def _slope(ns, ts) -> float:
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def large_n(quick: bool = False) -> list[Ratio]:
    ns = (500, 1000, 2000) if quick else (2500, 5000, 10000, 20000)
    runs = [_one(n) for n in ns]
    details = {"runs": runs, "L": 16, "d": 5, "threads": len(os.sched_getaffinity(0))}
    top = runs[-3:]
    case = f"n = {ns[0]}..{ns[-1]}, L = 16"
    out = []
    for stage in ("gram_s", "factor_s", "g1_s"):
        out.append(Ratio("large-n", case, f"fitted exponent of {stage[:-2]} time in n",
                         _slope([r["n"] for r in top], [r[stage] for r in top]), details=details,
                         note=f"informational; at n = {ns[-1]}: {runs[-1][stage]:.0f} s"))
    last = runs[-1]
    gram_gib = last["n"] ** 2 * 8 / 2**30
    out.append(Ratio("large-n", case, "peak RSS / n^2 float64", last["peak_rss_gib"] / gram_gib,
                     target="<= 1.5", details=details,
                     note=f"peak {last['peak_rss_gib']:.2f} GiB at n = {last['n']}"))
    return out
