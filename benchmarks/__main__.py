"""python -m benchmarks [--quick] [--only NAME[,NAME]] [--out PATH]

Runs the benchmarks, prints one table row per ratio (value, target, met) and writes the results
as JSON to benchmarks/results/<timestamp>.json (or --out PATH).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import traceback
from pathlib import Path

from . import BENCHMARKS


def _runner(name: str):
    if name == "throughput":
        from ._train_bench import throughput as fn
    elif name == "batched":
        from ._train_bench import batched as fn
    elif name == "torch":
        from ._train_bench import torch_baseline as fn
    elif name == "seeds":
        from ._train_bench import seeds as fn
    elif name == "kernel":
        from ._kernel_bench import kernel as fn
    elif name == "ntk":
        from ._ntk_bench import ntk as fn
    elif name == "compile":
        from ._compile_bench import compile_cache as fn
    elif name == "cli":
        from ._cli_bench import cli_compile as fn
    elif name == "large-n":
        from ._large_bench import large_n as fn
    else:
        raise ValueError(name)
    return fn


def _fmt(x):
    return "-" if x is None else f"{x:.3g}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a subset that runs in under 2 minutes")
    ap.add_argument("--only", action="append", default=None, metavar="NAME",
                    help="run only these benchmarks (repeatable or comma-separated): "
                    + ", ".join(BENCHMARKS))
    ap.add_argument("--out", type=Path, default=None, help="JSON output path "
                    "(default benchmarks/results/<timestamp>.json)")
    args = ap.parse_args(argv)

    names = list(BENCHMARKS)
    if args.only:
        names = [s.strip() for part in args.only for s in part.split(",") if s.strip()]
        bad = [s for s in names if s not in BENCHMARKS]
        if bad:
            ap.error(f"unknown benchmark(s) {bad}; choose from {', '.join(BENCHMARKS)}")

    from tabulate import tabulate

    from ._timing import Ratio, machine_info

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path(__file__).resolve().parent / "results" / f"{stamp}.json"
    info = machine_info()
    print(f"machine: {info['nproc']} cores, {info['cpu_model']}, jax {info['jax']} ({info['backend']}: "
          f"{info['device_kind']}, matmuls at {info['matmul_precision']}), "
          f"torch {info['torch'] or 'not installed'}", flush=True)
    rows: list[Ratio] = []
    timings = {}
    failed = []
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        print(f"[{name}] running ...", flush=True)
        try:
            res = _runner(name)(quick=args.quick)
        except Exception as exc:  # report and continue: one broken benchmark must not hide the rest
            traceback.print_exc()
            failed.append(name)
            res = [Ratio(name, "-", "-", None, note=f"ERROR: {type(exc).__name__}: {exc}")]
        timings[name] = time.perf_counter() - t0
        for r in res:
            print(f"  {r.case}: {r.name} = {_fmt(r.value)} {r.target or ''} {r.note}", flush=True)
        rows.extend(res)

    table = [[r.bench, r.case, r.name, _fmt(r.value), r.target or "-",
              {True: "yes", False: "NO", None: "-"}[r.met], r.note] for r in rows]
    print()
    print(tabulate(table, headers=["benchmark", "case", "ratio", "value", "target", "met", "note"]))
    checked = [r for r in rows if r.met is not None]
    print(f"\n{sum(r.met for r in checked)}/{len(checked)} targets met; "
          f"{sum(r.value is None for r in rows)} skipped; total {time.perf_counter() - t_all:.0f} s")

    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"timestamp": stamp, "quick": args.quick, "benchmarks": names, "machine": info,
               "seconds_per_benchmark": timings, "failed": failed,
               "results": [r.as_dict() for r in rows]}
    out.write_text(json.dumps(payload, indent=2, default=float))
    print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
