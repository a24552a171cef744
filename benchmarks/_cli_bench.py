"""(7) A cold ``python -m reports run --profile tiny``: compilations, compile share, warm cache.

Each run is a fresh subprocess (``benchmarks/_cli_workload.py``) with ``jax.monitoring`` counts:
- this tree, cold: an empty persistent cache (it fills it): compilations and compile-time share;
- this tree, warm: the same cache again: cache hits / compilations and t_cold / t_warm;
- the baseline tree (``RNN_CHECKS_BASELINE_TREE``, a checkout of the commit before issue 12, e.g.
  ``git worktree add /tmp/old 0c82709``), run side by side with its own behaviour (no persistent
  cache unless configured): compilations and wall time as same-run ratios. Skipped without it.
``--quick`` is the same (the tiny profile is the smallest end-to-end run there is);
``RNN_CHECKS_CLI_BENCH_PROFILE=default`` runs the default profile instead (~10+ minutes a side).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ._timing import Ratio

ROOT = Path(__file__).resolve().parent.parent


def run_cli(tree: Path, cache: str, out: Path, profile: str = "tiny") -> dict:
    """One run of the CLI under ``tree`` (its code), with RNN_CHECKS_JAX_CACHE=``cache``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "RNN_CHECKS_JAX_CACHE": cache}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "_cli_workload.py"), str(out),
                           profile], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=1800)
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"the run under {tree} printed no result: {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def cli_compile(quick: bool = False, profile: str | None = None) -> list[Ratio]:
    profile = profile or os.environ.get("RNN_CHECKS_CLI_BENCH_PROFILE", "tiny")
    with tempfile.TemporaryDirectory(prefix="rnn-cli-bench-") as tmp:
        t = Path(tmp)
        cold = run_cli(ROOT, str(t / "cache"), t / "cold", profile)
        warm = run_cli(ROOT, str(t / "cache"), t / "warm", profile)
        base_tree = os.environ.get("RNN_CHECKS_BASELINE_TREE")
        old = run_cli(Path(base_tree), "", t / "old", profile) if base_tree else None
    details = {"cold": cold, "warm": warm, "baseline": old, "baseline_tree": base_tree,
               "load_avg": os.getloadavg()}
    case = f"{profile} profile, cold run"
    rows = [
        Ratio("cli", case, "compilations (cold)", float(cold["compiles"]), target="<= 40",
              details=details),
        Ratio("cli", case, "compile_s / wall_s (cold)", cold["compile_s"] / cold["wall_s"],
              target="<= 0.35", details=details),
        Ratio("cli", case, "warm cache hits / compilations", warm["cache_hits"] / max(1, warm["compiles"]),
              target=">= 0.9", details=details),
        Ratio("cli", case, "t_cold / t_warm", cold["wall_s"] / warm["wall_s"], details=details,
              note="informational: the persistent cache's speedup"),
    ]
    if old is None:
        rows.append(Ratio("cli", case, "t_old / t_new (cold)", None, details=details,
                          note="set RNN_CHECKS_BASELINE_TREE to a checkout of the old commit"))
    else:
        rows += [
            Ratio("cli", case, "compilations old / new", old["compiles"] / max(1, cold["compiles"]),
                  details=details, note="informational"),
            Ratio("cli", case, "compile share old (no cache)", old["compile_s"] / old["wall_s"],
                  details=details, note="informational: the baseline's"),
            Ratio("cli", case, "t_old / t_new (cold)", old["wall_s"] / cold["wall_s"],
                  details=details, note="informational: the items differ where the grids changed"),
        ]
    return rows
