"""(6) Compilation: how many executables a small CI-like workload compiles, and cold versus warm
wall time with JAX's persistent compilation cache.

The workload (``benchmarks/_workload.py``) runs three times, each in a fresh Python subprocess:
without a persistent cache (skipped with --quick), then twice sharing one new temporary cache
directory (cold: empty cache, fills it; warm: reads it). Reported ratios:
- t_cold / t_warm (target >= 2: a warm cache should remove most compile time);
- compile-time share of the uncached run (informational: compile_s / wall_s);
- warm cache-hit rate = hits / compiles (target >= 0.9).
Counts: ``compiles`` = executables requested from the backend (including persistent-cache hits),
``traces`` = jaxpr traces, from ``jax.monitoring`` listeners inside the subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ._timing import Ratio


def _run(cache_dir: str, quick: bool) -> dict:
    cmd = [sys.executable, "-m", "benchmarks._workload", cache_dir] + (["quick"] if quick else [])
    proc = subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, check=True, timeout=600)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_cache(quick: bool = False) -> list[Ratio]:
    with tempfile.TemporaryDirectory(prefix="jax-cache-bench-") as tmp:
        cold = _run(tmp, quick)
        warm = _run(tmp, quick)
    # --quick skips the uncached run; the cold run (which also writes the cache) stands in for it
    nocache = cold if quick else _run("", quick)
    details = {"no_cache": nocache, "cold": cold, "warm": warm, "quick_workload": quick}
    case = f"ci-like workload{' (quick)' if quick else ''}: {nocache['compiles']} compiles, " \
           f"{nocache['traces']} traces"
    return [
        Ratio("compile", case, "t_cold / t_warm (persistent cache)", cold["wall_s"] / warm["wall_s"],
              target=">= 2", details=details),
        Ratio("compile", case, "compile_s / wall_s (no cache)", nocache["compile_s"] / nocache["wall_s"],
              note="informational: share of the workload spent compiling", details=details),
        Ratio("compile", case, "warm cache hits / compiles",
              warm["cache_hits"] / max(1, warm["compiles"]), target=">= 0.9", details=details),
    ]
