"""The command line: ``rnn-gen-checks`` / ``python -m reports`` (run, render, compare, baseline, case).

Exit codes (``EXIT_CODES``, also in ``--help``): 0 success; 1 a claim was violated (run, case)
or regressed (compare); 2 bad arguments, a missing or unreadable store or baseline, a busy or
unwritable output folder, a store of another profile, a case too large for the machine, or an
empty run; 3 the output could not be written (disk full, quota or I/O error: finished items are
kept, nothing is half-written); 130 interrupted. Expected failures print one clear message on
stderr, never a traceback.

Building the parser imports nothing heavy (no JAX), so ``--help`` answers at once; JAX is
imported by the subcommands that compute.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import textwrap
import time
from pathlib import Path

USAGE_ERROR = 2
WRITE_FAILED = 3
INTERRUPTED = 130

EXIT_CODES = f"""exit codes:
  0    success
  1    a claim was violated (run, case) or a claim regressed (compare)
  2    bad arguments or input: a missing or unreadable store, baseline or case file, a busy or
       unwritable --out, a store of another profile, a case too large for the machine
  {WRITE_FAILED}    the output could not be written (disk full, quota, I/O error): the message names the
       folder and the space needed; finished items are kept whole, nothing is half-written;
       free space and rerun the same command to resume
  {INTERRUPTED}  interrupted (Ctrl-C): rerun the same command to resume"""

#: Set by the SIGINT handler ``entry`` installs. Python runs signal handlers between bytecodes,
#: and one that lands inside a garbage-collector callback (JAX registers one) has its
#: KeyboardInterrupt swallowed ("Exception ignored in _xla_gc_callback", seen in 1 of 7 tries):
#: the flag makes the next check honour the interrupt anyway.
_interrupted = False

#: The sweep grids' names (``_grid.PROFILES``, which imports JAX, and 'real', the real-data
#: sweep of reports/cases/_real.py; a test keeps them equal).
RUN_PROFILES = ("default", "gpu", "large", "quality", "real", "thorough", "tiny")


class CLIError(Exception):
    """An expected failure: printed as one message, exit code 2."""


def _on_sigint(signum, frame):
    global _interrupted
    _interrupted = True
    import gc

    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    f = frame
    while f is not None:  # inside a gc callback the exception would be swallowed, with a traceback
        if f.f_code in callbacks:
            return  # the flag is honoured at the next check instead
        f = f.f_back
    raise KeyboardInterrupt


def interrupted() -> bool:
    """True once a SIGINT arrived (even one whose KeyboardInterrupt was swallowed)."""
    return _interrupted


def _err(msg: str) -> None:
    print(f"rnn-gen-checks: error: {msg}", file=sys.stderr)


def _read_store(path: str):
    from .runs._store import read_records

    try:
        contents = read_records(path)
    except (FileNotFoundError, IsADirectoryError) as e:
        raise CLIError(str(e)) from None
    except OSError as e:
        raise CLIError(f"cannot read results store {path!r}: {e.strerror or e}") from None
    if contents.corrupt:
        lines = ", ".join(str(ln) for ln, _ in contents.corrupt[:20])
        more = "" if len(contents.corrupt) <= 20 else f" and {len(contents.corrupt) - 20} more"
        reasons = "; ".join(sorted({why for _, why in contents.corrupt}))
        if not contents.records:
            raise CLIError(f"results store {path!r} holds no valid records: its {len(contents.corrupt)} "
                           f"line(s) are not records of this suite ({reasons}); is it a results store?")
        print(f"warning: {len(contents.corrupt)} line(s) of {path} that are not records skipped "
              f"(line {lines}{more}: {reasons}); resuming the run that wrote it deletes only a torn "
              f"last line and moves the others to {path}.set-aside", file=sys.stderr)
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

    from .render._format import fmt

    rows = [[c.get("key", c["claim"]), c["provenance"], fmt(c["cases"]), fmt(c.get("violations")),
             fmt(c.get("non_vacuous_fraction"), 2), fmt(c.get("slack_median")), c["verdict"]]
            for c in rep["claims"]]
    return tabulate(rows, headers=["claim", "tag", "cases", "violations", "non-vacuous",
                                   "slack median", "verdict"], disable_numparse=True)


def _do_render(store: str, out: str | None, *, plots: bool = True) -> dict:
    from .render._render import render
    from .runs._store import StoreWriteError

    contents = _read_store(store)
    out_dir = Path(out) if out else Path(store).resolve().parent / "report"
    try:
        rep = _interpret(store, render, contents, out_dir, store_path=store, plots=plots)
    except StoreWriteError:
        raise
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
        from .runs._executors import make_executor
    except ImportError:
        make_executor = None
    if make_executor is None:
        if name == "local":
            from .runs._executors import LocalExecutor

            return LocalExecutor()
        raise CLIError(f"executor {name!r} is not available in this installation")
    try:
        return make_executor(name, address)
    except ImportError as e:
        raise CLIError(f"executor {name!r} needs an optional dependency: {e} "
                       "(for ray: pip install 'rnn-gen-checks[ray]')") from None
    except (ValueError, RuntimeError, ConnectionError) as e:
        raise CLIError(f"cannot start executor {name!r}: {e}") from None


def _prepare_out(out: Path) -> None:
    """Refuse an --out that cannot hold a store, before any work: a file, or not writable."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} is a file, not a folder: give a folder for "
                       "results.jsonl and report/")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise CLIError(f"--out {str(out)!r} is not writable ({e.strerror or e}): choose a folder "
                       "on a writable filesystem") from None


def _infer_profiles(records: list[dict]) -> set[str]:
    """Run profiles a store's records can belong to: their stamps, else (stores written before
    stamps) every grid that holds all their item ids (the default grid's items are also the
    quality grid's, so an unstamped default store fits both), else the grids sharing any id."""
    from .runs._store import store_profiles

    stamped = store_profiles(records)
    if stamped:
        return stamped
    from .runs._grid import default_items

    ids = {r.get("item_id") for r in records if r.get("item_id")}
    grids = {f"run:{p}": {it.item_id for it in default_items(p)}
             for p in RUN_PROFILES if p not in ("real", "large")}
    return ({p for p, g in grids.items() if ids <= g}
            or {p for p, g in grids.items() if ids & g}) if ids else set()


def cmd_run(a) -> int:
    from .runs._store import StoreBusyError, StoreLock

    out = Path(a.out)
    _prepare_out(out)
    try:
        with StoreLock(out):
            return _run_locked(a, out)
    except StoreBusyError as e:
        raise CLIError(str(e)) from None


def _run_locked(a, out: Path) -> int:
    from .cases._case_validation import ResourceError, check_resources
    from .runs._grid import default_items
    from .runs._store import ResultsStore, store_profiles
    from .runs._sweep import run_sweep

    profile = f"run:{a.profile}"
    store_path = out / "results.jsonl"
    if store_path.exists() and not a.resume:
        stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        moved = store_path.with_name(f"results.{stamp}.jsonl.bak")
        store_path.rename(moved)
        print(f"--no-resume: moved the old store aside to {moved}", file=sys.stderr)
    if a.profile == "real":
        import models as M

        ok, why = M.data_available()
        if not ok:
            raise CLIError(why)
        items = _real_items(a)
    else:
        _no_real_flags(a)
        items = default_items(a.profile)
    store = ResultsStore(store_path, stamp={"profile": profile})
    if store_path.exists():
        try:
            old = store.read()
        except OSError as e:
            raise CLIError(f"cannot read results store {str(store_path)!r}: {e}") from None
        have = _infer_profiles(old.records)
        other = have - {profile}
        # a stamped store must carry this profile only; an unstamped one must fit this grid
        if other and (store_profiles(old.records) or profile not in have):
            raise CLIError(
                f"{str(store_path)!r} holds records of profile {', '.join(sorted(other))}, this run is "
                f"{profile}: refusing to mix profiles in one store; use another --out (e.g. "
                f"{str(out)}-{a.profile}) or --no-resume to move the old store aside")
        if old.corrupt and not old.records:
            raise CLIError(
                f"{str(store_path)!r} holds no record of this suite (its {len(old.corrupt)} line(s) are "
                f"not records: {'; '.join(sorted({w for _, w in old.corrupt}))}): not resuming into it; "
                "use another --out, or --no-resume to move it aside")
        # a torn last line is deleted; anything else unreadable, and the records of an item
        # written in part, go to a sidecar (nothing that parses is deleted)
        note = store.repair().text(store_path)
        if note:
            print(note, file=sys.stderr)
    bound_cases = [it.spec for it in items if it.kind == "bound"]
    try:
        est = (check_resources(bound_cases, force=a.force, what=f"profile {a.profile!r}'s largest case")
               if bound_cases else None)
    except ResourceError as e:
        raise CLIError(str(e)) from None
    _jax_cache()
    executor = _executor(a.executor, a.address)
    print(f"profile {a.profile!r}: {len(items)} items -> {store_path}"
          + (f" (largest bound case: {est.text()})" if est else ""), file=sys.stderr)
    t0 = time.perf_counter()
    try:
        if interrupted():
            raise KeyboardInterrupt
        res = run_sweep(items, store, executor=executor, resume=a.resume, progress=not a.quiet,
                        stop=interrupted)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished items are in {store_path}; rerun the same command to resume",
              file=sys.stderr)
        return INTERRUPTED
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


#: The ``run`` flags that only the 'real' profile reads (attribute, flag).
_REAL_FLAGS = (("dataset", "--dataset"), ("max_len", "--max-len"), ("window", "--window"),
               ("reduce", "--reduce"), ("train", "--train"), ("positive", "--positive"),
               ("perms", "--perms"))


def _no_real_flags(a) -> None:
    given = [flag for attr, flag in _REAL_FLAGS if getattr(a, attr, None) is not None]
    if given:
        raise CLIError(f"{', '.join(given)} apply only to --profile real (this run is --profile "
                       f"{a.profile})")


def _csv(text: str, name: str, conv, allowed: str) -> list:
    out = []
    for part in text.split(","):
        try:
            out.append(conv(part.strip()))
        except (ValueError, TypeError):
            raise CLIError(f"{name} {part.strip()!r} is not allowed: {allowed}") from None
    return out


def _real_items(a):
    """The real profile's items, or those of ``--dataset`` / tokenisation flags (reports/cases/_real.py).
    Every dataset is resolved and both its files parsed first, so an unknown name or a malformed
    file is one line before anything runs."""
    import itertools
    import os

    import models as M

    from .cases._real import real_cases
    from .runs._sweep import SweepItem

    positive = None if a.positive is None else tuple(p.strip() for p in a.positive.split(","))
    if positive is not None and a.dataset is None:
        raise CLIError("--positive names classes of particular datasets: give --dataset too")
    datasets = None
    if a.dataset is not None:
        datasets = []
        for spec in (s.strip() for s in a.dataset.split(",") if s.strip()):
            try:
                src = M.resolve_dataset(spec)
                labels = {str(v) for split in ("train", "test") for v in M.load_raw(spec, split)[1]}
            except ValueError as e:
                raise CLIError(f"--dataset: {e}") from None
            if positive is not None and not (set(positive) < labels):
                raise CLIError(f"--positive {a.positive} is not allowed for {spec}: give some but "
                               f"not all of its classes {sorted(labels)}")
            # a path is kept absolute, so each record's reproduction command works from anywhere
            datasets.append(os.path.abspath(os.path.expanduser(spec)) if src.origin == "file" else spec)
        if not datasets:
            raise CLIError("--dataset names no dataset: give NAME|PATH[,...]")
    toks = None
    if any(v is not None for v in (a.max_len, a.window, a.reduce)):
        caps = _csv(a.max_len or "64", "--max-len", lambda t: None if t == "full" else int(t),
                    "give integers >= 2 or 'full'")
        wins = _csv(a.window or "1", "--window", int, "give integers >= 1")
        reds = _csv(a.reduce or "paa", "--reduce", lambda t: M.check_choice("reduce", t, M.REDUCTIONS),
                    f"choose from {list(M.REDUCTIONS)}")
        toks = [(w, c, r) for w, c, r in itertools.product(wins, caps, reds)]
    train = True if a.train is None and toks is None else bool(a.train)
    try:
        cases = real_cases(train=train, datasets=datasets, tokenisations=toks, n_perm=a.perms,
                           positive=positive)
    except ValueError as e:
        raise CLIError(str(e)) from None
    return [SweepItem("real", c) for c in cases]


def cmd_compare(a) -> int:
    from .render._compare import compare, default_baseline_path, load_baseline, summarize_for_baseline

    contents = _read_store(a.store)
    path = Path(a.baseline) if a.baseline else default_baseline_path()
    try:
        baseline = load_baseline(path)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    from .runs._store import store_profiles

    want = baseline.get("profile")
    have = store_profiles(contents.records)
    if want and have and have != {want}:
        raise CLIError(
            f"{a.store!r} holds records of profile {', '.join(sorted(have))}, the baseline {str(path)!r} "
            f"was made from profile {want!r}: their claim rows differ by grid, not by regression, so "
            f"they are not compared; compare a store of profile {want!r}, or make a baseline of this "
            f"store's profile (python -m reports baseline STORE -o FILE)")
    current = _interpret(a.store, summarize_for_baseline, contents.records)
    if not have:
        print(f"note: {a.store} has no profile stamp (written before stamps): assuming it matches the "
              f"baseline's profile {want!r}")
    res = compare(current, baseline, slack_rel=a.tolerance, nonvacuous_abs=a.nonvacuous_tolerance)
    print(f"comparing {a.store} with the baseline {path} (profile {baseline.get('profile')!r})")
    print(res.text(a.store))
    return 0 if res.ok else 1


def cmd_baseline(a) -> int:
    import json

    from .render._compare import make_baseline
    from .runs._store import store_profiles

    contents = _read_store(a.store)
    stamped = store_profiles(contents.records)
    if len(stamped) > 1:
        raise CLIError(f"{a.store!r} mixes profiles {sorted(stamped)}: a baseline needs one")
    profile = a.profile or (stamped.pop() if stamped else "ci")
    data = _interpret(a.store, make_baseline, contents.records, profile=profile,
                      source=Path(a.store).name)
    out = Path(a.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise CLIError(f"cannot write the baseline {str(out)!r}: {e.strerror or e}") from None
    print(f"baseline with {len(data['claims'])} claim check(s) written to {out}")
    return 0


def _case_text(arg: str) -> str:
    """``--json``'s text: the JSON itself, ``@FILE`` (a file holding it) or ``-`` (stdin)."""
    if arg == "-":
        return sys.stdin.read()
    if not arg.startswith("@"):
        return arg
    path = Path(arg[1:])
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise CLIError(f"--json {arg[:80]!r}: {str(path)[:80]!r} is a folder, not a JSON file") from None
    except UnicodeDecodeError as e:
        raise CLIError(f"--json {arg[:80]!r}: {str(path)[:80]!r} is not a text file (byte "
                       f"0x{e.object[e.start]:02x} at offset {e.start} is not UTF-8)") from None
    except OSError as e:
        raise CLIError(f"--json {arg[:80]!r}: cannot read {str(path)[:80]!r} ({e.strerror or e})") from None


def cmd_case(a) -> int:
    from .cases._case_validation import precheck_case_json

    text = _case_text(a.json)
    try:  # before JAX is imported: a typo is reported at once
        precheck_case_json(text)
    except ValueError as e:
        raise CLIError(f"bad --json case: {e}") from None

    from tabulate import tabulate

    from .cases._case_validation import ResourceError, check_resources
    from .cases._evaluate import BoundCase, evaluate_bound_case
    from .render._format import fmt

    try:
        case = BoundCase.from_json(text)
    except (ValueError, TypeError) as e:
        raise CLIError(f"bad --json case: {str(e)[:300]}") from None
    try:
        est = check_resources([case], force=a.force)
    except ResourceError as e:
        raise CLIError(str(e)) from None
    print(f"case: estimated {est.text()}", file=sys.stderr)
    _jax_cache()
    with _elapsed_bar(est.seconds, "case"):
        records = evaluate_bound_case(case)
    rows = []
    for r in records:
        b, m = r["bound"], r["metrics"]
        rows.append([r["claim"], r["config"].get("seed_index", "-"), r["verdict"],
                     fmt(b.get("value"), 4), fmt(b.get("train_loss"), 4), fmt(b.get("main_term"), 4),
                     fmt(b.get("confidence_term"), 4), fmt(b.get("B")), fmt(m.get("test_risk"), 4),
                     _interval(m.get("test_lcb"), m.get("test_ucb")), fmt(m.get("gap_max"))])
    print(f"case: {case.to_json()}")
    print(tabulate(rows, headers=["claim", "seed", "verdict", "bound", "train", "main", "confidence", "B",
                                  "test risk", "KL CI", "gap max"], disable_numparse=True))
    notes = {r["note"] for r in records if r.get("note")}
    for n in sorted(notes):
        print(f"note: {n}")
    if any(_negative(r["metrics"].get("test_lcb")) for r in records):
        print("note: 0* = a lower end below 0 (Hoeffding's mean - margin: a store written before the "
              "Chernoff-KL rule), shown as 0 since a risk is >= 0; "
              "the record and the verdict keep the unclipped value")
    return 1 if any(r["verdict"] == "violation" for r in records) else 0


def _negative(x) -> bool:
    try:
        return float(x) < 0
    except (TypeError, ValueError):
        return False


def _interval(lcb, ucb) -> str:
    """A confidence interval for display: a risk is >= 0, so a negative lower end shows as 0."""
    from .render._format import fmt_interval

    return fmt_interval(lcb, ucb)


class _elapsed_bar:
    """A progress bar of elapsed time against the case's estimated duration (on a terminal only;
    ``evaluate_bound_case`` is one jitted pipeline with no step hooks, so time is what we have)."""

    def __init__(self, total_s: float, desc: str):
        self.total, self.desc = max(1.0, float(total_s)), desc

    def __enter__(self):
        import threading

        from tqdm.auto import tqdm

        self._stop = threading.Event()
        self._bar = tqdm(total=round(self.total), desc=f"{self.desc} (elapsed / estimated s)",
                         unit="s", disable=None, leave=False)
        t0 = time.monotonic()

        def tick():
            while not self._stop.wait(0.5):
                self._bar.n = min(round(time.monotonic() - t0), max(self._bar.total - 1, 0))
                self._bar.refresh()

        self._thread = threading.Thread(target=tick, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._bar.close()


def _jax_cache() -> None:
    """The persistent compilation cache (reports.runs._jaxcache): on by default, location printed once."""
    from .runs._jaxcache import enable_compilation_cache

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
    from .cases._case_validation import case_fields_help

    p = _Parser(prog="rnn-gen-checks", description=(
        "Theorem checks for the learning theory of RNNs (Wang et al. 2021): run the default sweep, "
        "render a results store, compare it with the committed baseline."), epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    r = sub.add_parser("run", help="evaluate the embedded grid, then render the report",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--profile", choices=RUN_PROFILES, default="default",
                   help=("grid size: tiny (14 items; about 50 s of item time at load 5, plus JAX "
                         "start-up and the report); default (142 items, measured on 2 CPU cores: "
                         "27 min 52 s with the install at load 3-5, 65 min at load 12-17 for "
                         "the earlier 140-item grid; the time scales with the load, and so "
                         "does the progress bar's ETA); thorough; quality: default plus n and m "
                         "sweeps; large: G1 for n up to 20,000 at L = 16 (tens of minutes, "
                         "~4 GiB); real: UCR/UEA datasets (needs the 'data' extra); gpu: sized "
                         "for one H100-class GPU (16 seeds per program, widths to 16,384, G1 to "
                         "n = 100,000: ~80 GB host memory)"))
    r.add_argument("--out", default="out/run", help="output folder: DIR/results.jsonl and DIR/report/")
    r.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="skip items already in the store (default); --no-resume moves the old store "
                        "aside and starts fresh")
    r.add_argument("--executor", choices=("local", "ray"), default="local")
    r.add_argument("--address", default=None, help="ray cluster address (with --executor ray)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.add_argument("--force", action="store_true",
                   help="run even when a case's memory estimate exceeds the machine's (also "
                        "RNN_CHECKS_FORCE=1)")
    g = r.add_argument_group("real data (--profile real; the 'data' extra)")
    g.add_argument("--dataset", default=None, metavar="NAME|PATH[,...]",
                   help="datasets aeon ships by name (ACSF1, ArrowHead, GunPoint, ...) or a local "
                        "train/test .ts pair (PATH/NAME_TRAIN.ts, PATH/NAME or a folder holding one "
                        "pair); default: the profile's list")
    g.add_argument("--max-len", default=None, metavar="L[,...]",
                   help="tokens per series at most (integers or 'full'); default: the profile's")
    g.add_argument("--window", default=None, metavar="W[,...]", help="time steps per token")
    g.add_argument("--reduce", default=None, metavar="paa|interp[,...]",
                   help="how series longer than max-len tokens are shortened: paa (window means, "
                        "the default) or interp (linear interpolation: subsampling)")
    g.add_argument("--train", action=argparse.BooleanOptionalAction, default=None,
                   help="train networks (one-vs-rest, and their multi-class argmax); default: at the "
                        "profile's network tokenisation only, off when tokenisation flags are given")
    g.add_argument("--positive", default=None, metavar="CLASS[,...]",
                   help="one binary split (these classes +1) instead of every one-vs-rest split")
    g.add_argument("--perms", type=int, default=None, metavar="N",
                   help="label permutations of the permutation test (>= 100; default 199)")
    r.set_defaults(fn=cmd_run)

    s = sub.add_parser("render", help="write report.md, report.json and plots from a results store",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("store", help="results store (JSONL)")
    s.add_argument("--out", default=None, help="output folder (default: report/ next to the store)")
    s.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    s.set_defaults(fn=cmd_render)

    c = sub.add_parser("compare", help="compare a results store with the baseline; exit 1 on regression",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    b.add_argument("--profile", default=None,
                   help="the profile the store was made with (recorded; default: the store's stamp, "
                        "else 'ci')")
    b.set_defaults(fn=cmd_baseline)

    k = sub.add_parser(
        "case", help="evaluate one bound case (the reproduction command of a violation)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(textwrap.fill(
            "Evaluate one bound case (G1, G2, G1-net, G2-net) and print its bounds. The case is a "
            "JSON object of the fields below; every field is optional (a missing one takes its "
            "default), e.g. --json '{\"L\": 8, \"scale\": 3.0}'. The JSON is checked before JAX "
            "is imported.", 96) + "\n\nfields:\n" + case_fields_help()),
        epilog=EXIT_CODES)
    k.add_argument("--json", required=True, metavar="JSON|@FILE|-",
                   help="the case: a JSON object, @FILE (a file holding it) or - (read from stdin)")
    k.add_argument("--force", action="store_true",
                   help="run even when the memory estimate exceeds the machine's (also RNN_CHECKS_FORCE=1)")
    k.set_defaults(fn=cmd_case)

    cal = sub.add_parser("calibrate", help="measure the predicted bound P's calibration grid and "
                                           "write its points (theory/calibration.json)")
    cal.add_argument("--out", default=None, help="where to write (default: theory/calibration.json)")
    cal.set_defaults(fn=cmd_calibrate)
    return p


def cmd_calibrate(args) -> int:
    import theory as T

    from .cases._calibrate import calibrate

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
    from .runs._store import StoreWriteError

    args = build_parser().parse_args(argv)
    try:
        rc = args.fn(args)
        if interrupted() and rc != INTERRUPTED:  # an interrupt swallowed on the way
            raise KeyboardInterrupt
        return rc
    except CLIError as e:
        _err(str(e))
        return USAGE_ERROR
    except StoreWriteError as e:  # disk full / I/O error: its own exit code, not "violated"
        _err(str(e))
        return WRITE_FAILED
    except KeyboardInterrupt:
        _err("interrupted")
        return INTERRUPTED
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        return 0


def entry(argv: list[str] | None = None) -> None:
    """The process entry point (console script and ``python -m reports``): ``main``, then exit.

    After an interrupt the process leaves with ``os._exit``: XLA's thread pools may still be
    running (an interrupted compilation or dispatch), and the interpreter's teardown under them
    segfaulted in 3 of 7 tries (rc 139). Every finished record is already fsync'ed by the store
    and the lock is the kernel's to release, so skipping the teardown loses nothing.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when SIGINT is ignored
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        rc = main(argv)
    except KeyboardInterrupt:  # a second Ctrl-C inside the handling of the first
        rc = INTERRUPTED
    if rc == INTERRUPTED:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a third one must not interrupt the exit
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(INTERRUPTED)
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    entry()
