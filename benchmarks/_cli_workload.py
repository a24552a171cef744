"""One ``python -m reports run`` in this process, with JAX's compilation events counted.

    python benchmarks/_cli_workload.py OUT_DIR PROFILE

Run it as a script with ``PYTHONPATH`` pointing at the tree under test (this one, or an old
commit's worktree: the benchmark's baseline) and ``RNN_CHECKS_JAX_CACHE`` choosing the cache.
Prints one JSON line: wall time, the run's exit code, and the compilation counts of
``benchmarks/_jaxevents.py``.
"""

from __future__ import annotations

import json
import sys
import time


def main(out: str, profile: str) -> dict:
    from _jaxevents import count_compilations  # a sibling: this runs as a script

    counts = count_compilations()
    from reports.cli import main as cli

    t0 = time.perf_counter()
    rc = cli(["run", "--profile", profile, "--out", out, "--quiet", "--no-resume", "--no-plots"])
    return {"wall_s": time.perf_counter() - t0, "rc": rc, **counts}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
