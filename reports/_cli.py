"""The command line: ``rnn-gen-checks`` / ``python -m reports`` (run, render, compare, baseline, case).

Exit codes: 0 success; 1 a claim was violated (run, case) or regressed (compare); 2 bad
arguments, a missing or unreadable store or baseline, or an empty run. Expected failures print
one clear message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from pathlib import Path

USAGE_ERROR = 2


class CLIError(Exception):
    """An expected failure: printed as one message, exit code 2."""


def _err(msg: str) -> None:
    print(f"rnn-gen-checks: error: {msg}", file=sys.stderr)


def _read_store(path: str):
    from ._store import read_records

    try:
        contents = read_records(path)
    except FileNotFoundError as e:
        raise CLIError(str(e)) from None
    except OSError as e:
        raise CLIError(f"cannot read results store {path!r}: {e.strerror or e}") from None
    if contents.corrupt:
        lines = ", ".join(str(ln) for ln, _ in contents.corrupt[:20])
        more = "" if len(contents.corrupt) <= 20 else f" and {len(contents.corrupt) - 20} more"
        print(f"warning: {len(contents.corrupt)} corrupt line(s) in {path} skipped (line {lines}{more})",
              file=sys.stderr)
    if not contents.records:
        raise CLIError(f"results store {path!r} holds no valid records")
    for r in contents.records:  # optional parts of a record (schema 1) default to empty
        for k in ("config", "metrics", "bound"):
            if not isinstance(r.get(k), dict):
                r[k] = {}
    return contents


def _interpret(path: str, fn, *args, **kw):
    """Run a report step; a record the report cannot interpret is an input error, not a crash.
    RNN_CHECKS_DEBUG=1 re-raises (with the traceback) for debugging."""
    try:
        return fn(*args, **kw)
    except (KeyError, ValueError, TypeError, IndexError) as e:
        if os.environ.get("RNN_CHECKS_DEBUG"):
            raise
        raise CLIError(f"results store {path!r} has a record the report cannot interpret "
                       f"({type(e).__name__}: {e}); set RNN_CHECKS_DEBUG=1 for the traceback") from None


def _summary_table(rep: dict) -> str:
    from tabulate import tabulate

    from ._render import fmt

    rows = [[c.get("key", c["claim"]), c["provenance"], fmt(c["cases"]), fmt(c.get("violations")),
             fmt(c.get("non_vacuous_fraction"), 2), fmt(c.get("slack_median")), c["verdict"]]
            for c in rep["claims"]]
    return tabulate(rows, headers=["claim", "tag", "cases", "violations", "non-vacuous",
                                   "slack median", "verdict"], disable_numparse=True)


def _do_render(store: str, out: str | None, *, plots: bool = True) -> dict:
    from ._render import render

    contents = _read_store(store)
    out_dir = Path(out) if out else Path(store).resolve().parent / "report"
    try:
        rep = _interpret(store, render, contents, out_dir, store_path=store, plots=plots)
    except OSError as e:
        raise CLIError(f"cannot write the report into {str(out_dir)!r}: {e.strerror or e}") from None
    print(_summary_table(rep))
    print(f"\nreport: {out_dir / 'report.md'} (+ report.json, {len(rep['plots'])} plot(s))")
    if rep["plots_note"]:
        print(rep["plots_note"])
    return rep


# ---- subcommands ----------------------------------------------------------------------------

def cmd_render(a) -> int:
    _do_render(a.store, a.out, plots=not a.no_plots)
    return 0


def _executor(name: str, address: str | None):
    try:
        from ._executors import make_executor
    except ImportError:
        make_executor = None
    if make_executor is None:
        if name == "local":
            from ._executors import LocalExecutor

            return LocalExecutor()
        raise CLIError(f"executor {name!r} is not available in this installation")
    try:
        return make_executor(name, address)
    except ImportError as e:
        raise CLIError(f"executor {name!r} needs an optional dependency: {e} "
                       "(for ray: pip install 'rnn-gen-checks[ray]')") from None
    except (ValueError, RuntimeError, ConnectionError) as e:
        raise CLIError(f"cannot start executor {name!r}: {e}") from None


def cmd_run(a) -> int:
    from ._grid import default_items
    from ._store import ResultsStore
    from ._sweep import run_sweep

    _jax_cache()
    out = Path(a.out)
    store_path = out / "results.jsonl"
    if store_path.exists() and not a.resume:
        stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        moved = store_path.with_name(f"results.{stamp}.jsonl.bak")
        store_path.rename(moved)
        print(f"--no-resume: moved the old store aside to {moved}", file=sys.stderr)
    items = default_items(a.profile)
    store = ResultsStore(store_path)
    if store_path.exists():
        try:
            store.read()
        except OSError as e:
            raise CLIError(f"cannot read results store {str(store_path)!r}: {e}") from None
    executor = _executor(a.executor, a.address)
    print(f"profile {a.profile!r}: {len(items)} items -> {store_path}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        res = run_sweep(items, store, executor=executor, resume=a.resume, progress=not a.quiet)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished items are in {store_path}; rerun the same command to resume",
              file=sys.stderr)
        return 130
    finally:
        executor.close()
    dt = time.perf_counter() - t0
    print(f"sweep: {res.evaluated} evaluated, {res.skipped} already in the store (resumed), "
          f"{res.errors} error(s), {res.records} new records in {dt:.0f} s", file=sys.stderr)
    if not store_path.exists():
        raise CLIError("the run produced no records (empty grid?)")
    rep = _do_render(str(store_path), str(out / "report"), plots=not a.no_plots)
    bad = [c for c in rep["claims"] if c["verdict"] == "VIOLATED"]
    if bad or rep["errors"]:
        print(f"\n{len(bad)} violated claim(s), {len(rep['errors'])} error record(s): see the report",
              file=sys.stderr)
        return 1
    return 0


def cmd_compare(a) -> int:
    from ._compare import compare, default_baseline_path, load_baseline, summarize_for_baseline

    contents = _read_store(a.store)
    path = Path(a.baseline) if a.baseline else default_baseline_path()
    try:
        baseline = load_baseline(path)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    current = _interpret(a.store, summarize_for_baseline, contents.records)
    res = compare(current, baseline, slack_rel=a.tolerance, nonvacuous_abs=a.nonvacuous_tolerance)
    print(f"comparing {a.store} with the baseline {path} (profile {baseline.get('profile')!r})")
    print(res.text(a.store))
    return 0 if res.ok else 1


def cmd_baseline(a) -> int:
    import json

    from ._compare import make_baseline

    contents = _read_store(a.store)
    data = _interpret(a.store, make_baseline, contents.records, profile=a.profile,
                      source=Path(a.store).name)
    out = Path(a.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise CLIError(f"cannot write the baseline {str(out)!r}: {e.strerror or e}") from None
    print(f"baseline with {len(data['claims'])} claim check(s) written to {out}")
    return 0


def cmd_case(a) -> int:
    from tabulate import tabulate

    from ._evaluate import BoundCase, evaluate_bound_case
    from ._render import fmt

    try:
        case = BoundCase.from_json(a.json)
    except (ValueError, TypeError) as e:
        raise CLIError(f"bad --json case: {e}") from None
    _jax_cache()
    records = evaluate_bound_case(case)
    rows = []
    for r in records:
        b, m = r["bound"], r["metrics"]
        rows.append([r["claim"], r["config"].get("seed_index", "-"), r["verdict"],
                     fmt(b.get("value"), 4), fmt(b.get("train_loss"), 4), fmt(b.get("main_term"), 4),
                     fmt(b.get("confidence_term"), 4), fmt(b.get("B")), fmt(m.get("test_risk"), 4),
                     f"[{fmt(m.get('test_lcb'), 4)}, {fmt(m.get('test_ucb'), 4)}]", fmt(m.get("gap_max"))])
    print(f"case: {case.to_json()}")
    print(tabulate(rows, headers=["claim", "seed", "verdict", "bound", "train", "main", "confidence", "B",
                                  "test risk", "Hoeffding CI", "gap max"], disable_numparse=True))
    notes = {r["note"] for r in records if r.get("note")}
    for n in sorted(notes):
        print(f"note: {n}")
    return 1 if any(r["verdict"] == "violation" for r in records) else 0


def _jax_cache() -> None:
    """The persistent compilation cache (reports._jaxcache): on by default, location printed once."""
    from ._jaxcache import enable_compilation_cache

    enable_compilation_cache(announce=True)


# ---- parser -----------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code is 2 as well; keep its usage line
        self.print_usage(sys.stderr)
        _err(message)
        raise SystemExit(USAGE_ERROR)


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"{text} is out of range: allowed 0 <= tolerance <= 1")
    return v


def build_parser() -> argparse.ArgumentParser:
    from ._grid import profile_names

    p = _Parser(prog="rnn-gen-checks", description=(
        "Theorem checks for the learning theory of RNNs (Wang et al. 2021): run the default sweep, "
        "render a results store, compare it with the committed baseline."))
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    r = sub.add_parser("run", help="evaluate the embedded grid, then render the report")
    r.add_argument("--profile", choices=profile_names(), default="default",
                   help="grid size: tiny (< 1 min), default (~10 min on 2 CPU cores), thorough; "
                        "large: G1 for n up to 20,000 at L = 16 (tens of minutes, ~4 GiB)")
    r.add_argument("--out", default="out/run", help="output folder: DIR/results.jsonl and DIR/report/")
    r.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="skip items already in the store (default); --no-resume moves the old store "
                        "aside and starts fresh")
    r.add_argument("--executor", choices=("local", "ray"), default="local")
    r.add_argument("--address", default=None, help="ray cluster address (with --executor ray)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.set_defaults(fn=cmd_run)

    s = sub.add_parser("render", help="write report.md, report.json and plots from a results store")
    s.add_argument("store", help="results store (JSONL)")
    s.add_argument("--out", default=None, help="output folder (default: report/ next to the store)")
    s.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    s.set_defaults(fn=cmd_render)

    c = sub.add_parser("compare", help="compare a results store with the baseline; exit 1 on regression")
    c.add_argument("store", help="results store (JSONL)")
    c.add_argument("--baseline", default=None, help="baseline JSON (default: reports/baseline.json)")
    c.add_argument("--tolerance", type=_fraction, default=None,
                   help="allowed relative decrease of a claim's median slack (default: the "
                        "baseline's, else 0.25)")
    c.add_argument("--nonvacuous-tolerance", type=_fraction, default=None,
                   help="allowed absolute drop of the non-vacuous fraction (default: the baseline's, "
                        "else 0.2)")
    c.set_defaults(fn=cmd_compare)

    b = sub.add_parser("baseline", help="write the baseline JSON from a results store")
    b.add_argument("store", help="results store (JSONL)")
    b.add_argument("-o", "--output", required=True, help="where to write (e.g. reports/baseline.json)")
    b.add_argument("--profile", default="ci", help="the profile the store was made with (recorded)")
    b.set_defaults(fn=cmd_baseline)

    k = sub.add_parser("case", help="evaluate one bound case (the reproduction command of a violation)")
    k.add_argument("--json", required=True, help="BoundCase fields as a JSON object")
    k.set_defaults(fn=cmd_case)

    cal = sub.add_parser("calibrate", help="measure the predicted bound P's calibration grid and "
                                           "write its points (theory/calibration.json)")
    cal.add_argument("--out", default=None, help="where to write (default: theory/calibration.json)")
    cal.set_defaults(fn=cmd_calibrate)
    return p


def cmd_calibrate(args) -> int:
    import theory as T

    from ._calibrate import calibrate

    out = Path(args.out) if args.out else T.CALIBRATION_PATH
    if out.exists() and out.is_dir():
        raise CLIError(f"--out {str(out)!r} is a directory: give a file path")
    t0 = time.perf_counter()
    raw = calibrate(out)
    q = raw["fitted"]["fit_quality"]
    print(f"wrote {out} ({len(raw['points']['complexity'])} complexity points, "
          f"{len(raw['points']['gap'])} gap points, {time.perf_counter() - t0:.0f} s); "
          f"fit quality: {q}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except CLIError as e:
        _err(str(e))
        return USAGE_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
