"""The sweep runner: evaluate a list of items, append their records as they finish, resume.

An item is one unit of work (a bound case, a scaling design, a kernel Monte-Carlo design). Its
``item_id`` is a stable hash of its kind and specification; every record it produces carries
that id, and all of an item's records are appended with a single write. Resuming skips items
whose id is already in the store, so an interrupted sweep never redoes, duplicates or loses a
finished item. An item that raises is recorded as an 'error' record (and retried on resume),
never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import asdict, dataclass

from ._evaluate import (
    BoundCase,
    MCDesign,
    ScalingDesign,
    TrainingFactsDesign,
    complexity_records,
    evaluate_bound_case,
    fit_scaling,
    kernel_mc_records,
    scaling_record,
    training_facts_records,
)
from ._executors import LocalExecutor
from ._large import LargeNDesign, large_n_records
from ._power import PowerDesign, power_records
from ._real import RealCase, evaluate_real_case
from ._sample_complexity import SampleComplexityDesign, evaluate_sample_complexity
from ._store import ResultsStore, make_record

_SPECS = {"bound": BoundCase, "scaling": ScalingDesign, "kernel-mc": MCDesign,
          "training-facts": TrainingFactsDesign, "real": RealCase, "large-n": LargeNDesign,
          "power": PowerDesign, "sample-complexity": SampleComplexityDesign}


@dataclass(frozen=True)
class SweepItem:
    kind: str  # 'bound' | 'scaling' | 'kernel-mc' | 'training-facts' | 'real' | 'large-n' | 'power'
    spec: object

    def __post_init__(self):
        if self.kind not in _SPECS or not isinstance(self.spec, _SPECS[self.kind]):
            raise ValueError(f"SweepItem kind {self.kind!r} needs a {_SPECS.get(self.kind)} spec")

    @property
    def item_id(self) -> str:
        blob = json.dumps({"kind": self.kind, "spec": asdict(self.spec)}, sort_keys=True,
                          default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        s = self.spec
        if self.kind == "bound":
            return f"bound L={s.L} {s.family}/{s.f} r={s.scale:g} m={s.m} n={s.n} {s.method}"
        if self.kind == "scaling":
            return f"scaling {s.claim} L={list(s.Ls)} n<={max(s.ns)}"
        if self.kind == "training-facts":
            return f"training-facts {s.parametrization} widths={list(s.widths)}"
        if self.kind == "real":
            return s.label()
        if self.kind == "large-n":
            return f"large-n G1 L={s.L} n<={max(s.ns)}"
        if self.kind == "sample-complexity":
            return f"sample-complexity {list(s.claims)} L={list(s.Ls)} n<={s.n_max}"
        if self.kind == "power":
            return f"power {len(s.mutants)} mutants, random labels L={s.case.L} n={s.case.n}"
        return f"kernel-mc widths={list(s.widths)}"


def evaluate_item(item: SweepItem) -> list[dict]:
    """Evaluate one item; exceptions become an 'error' record. Top-level, so it pickles."""
    t0 = time.perf_counter()
    try:
        if item.kind == "bound":
            recs = evaluate_bound_case(item.spec)
        elif item.kind == "scaling":
            recs = complexity_records(item.spec)
            recs.append(scaling_record(item.spec, fit_scaling(recs, item.spec)))
        elif item.kind == "training-facts":
            recs, _ = training_facts_records(item.spec)
        elif item.kind == "real":
            recs = evaluate_real_case(item.spec)
        elif item.kind == "large-n":
            recs = large_n_records(item.spec)
        elif item.kind == "power":
            recs = power_records(item.spec)
        elif item.kind == "sample-complexity":
            recs = evaluate_sample_complexity(item.spec)
        else:
            recs, _ = kernel_mc_records(item.spec)
    except Exception as e:  # recorded as an outcome; the sweep goes on
        recs = [make_record("error", item.kind, asdict(item.spec), 0, verdict="error",
                            metrics={}, note=f"{type(e).__name__}: {e}\n{traceback.format_exc()}")]
    dt = time.perf_counter() - t0
    for r in recs:
        r["item_id"] = item.item_id
        r["item_records"] = len(recs)  # lets done_items() tell a complete item from a cut-short one
        r.setdefault("timings", {})["item_s"] = dt
    return recs


def evaluate_batch(items: list[SweepItem]) -> list[list[dict]]:
    """Evaluate several items in one task (one worker, one after another): their record lists."""
    return [evaluate_item(it) for it in items]


def failure_records(item: SweepItem, reason: str) -> list[dict]:
    """The 'error' record of an item whose evaluation never returned (say, a worker process that
    crashed past its retries). It carries the item's id; ``done_items`` ignores error-only items,
    so a resumed sweep retries it."""
    rec = make_record("error", item.kind, asdict(item.spec), 0, verdict="error", metrics={},
                      note=reason)
    rec["item_id"] = item.item_id
    rec["item_records"] = 1
    return [rec]


def failure_result(batch, exc: BaseException):
    """What an executor yields for a task that failed outside ``evaluate_item``: the records of
    ``evaluate_item`` (one item) or of ``evaluate_batch`` (a list of items), all 'error'."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(batch, SweepItem):
        return failure_records(batch, reason)
    if isinstance(batch, (list, tuple)) and all(isinstance(b, SweepItem) for b in batch):
        return [failure_records(b, reason) for b in batch]
    raise exc


@dataclass
class SweepResult:
    total: int
    skipped: int
    evaluated: int
    errors: int
    records: int


def run_sweep(items: list[SweepItem], store: ResultsStore, *, executor=None, resume: bool = True,
              progress: bool = True, batch_size: int = 1, stop=None) -> SweepResult:
    """Evaluate ``items`` with ``executor`` (local by default), appending to ``store``.

    ``batch_size`` items go to each executor task (evaluated one after another in one worker;
    each item's records are still appended with their own single write as the task returns).
    ``stop``: a callable checked after every stored result; when it returns true the sweep
    raises KeyboardInterrupt (the CLI's flag for an interrupt that Python swallowed).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r} must be an integer >= 1")
    executor = executor or LocalExecutor()
    done = store.done_items() if resume else set()
    todo = [it for it in items if it.item_id not in done]
    if batch_size == 1:
        work, fn = todo, evaluate_item
    else:
        work = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
        fn = evaluate_batch
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep ({executor.name})", unit="item")
    errors = nrec = 0
    results = executor.map_unordered(fn, work)
    try:
        for _, res in results:
            for recs in ([res] if batch_size == 1 else res):
                store.append_many(recs)
                nrec += len(recs)
                errors += sum(r["verdict"] == "error" for r in recs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(recs[0].get("claim", "") if recs else "")
            if stop is not None and stop():
                raise KeyboardInterrupt
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # a generator: lets the executor cancel the tasks still in flight
            close()
        if bar is not None:
            bar.close()
    return SweepResult(len(items), len(items) - len(todo), len(todo), errors, nrec)
