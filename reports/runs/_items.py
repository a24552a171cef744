"""Sweep items: one unit of work each, how it is evaluated, and what a failed one yields.

An item is one unit of work (a bound case, a scaling design, a kernel Monte-Carlo design). Its
``item_id`` is a stable hash of its kind and specification; every record it produces carries
that id, and all of an item's records are appended with a single write. An item that raises is
recorded as an 'error' record (and retried on resume), never silently dropped; a task that an
executor lost (``failure_result``) gives 'error' records too. The executors (``_executors``,
``_ray``) run ``evaluate_item``; ``_sweep.run_sweep`` feeds them and stores what they return.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import asdict, dataclass

from ..cases._c1_net import C1NetDesign, c1_net_records
from ..cases._evaluate import BoundCase, evaluate_bound_case
from ..cases._iteration_complexity import IterationComplexityDesign, evaluate_iteration_complexity
from ..cases._kernel_mc import MCDesign, kernel_mc_records
from ..cases._large import LargeNDesign, large_n_records
from ..cases._power import PowerDesign, power_records
from ..cases._real import RealCase, evaluate_real_case
from ..cases._sample_complexity import SampleComplexityDesign, evaluate_sample_complexity
from ..cases._scaling import ScalingDesign, complexity_records, fit_scaling, scaling_record
from ..cases._training_facts import TrainingFactsDesign, training_facts_records
from ._store import make_record

_SPECS = {"bound": BoundCase, "scaling": ScalingDesign, "kernel-mc": MCDesign,
          "training-facts": TrainingFactsDesign, "real": RealCase, "large-n": LargeNDesign,
          "power": PowerDesign, "sample-complexity": SampleComplexityDesign, "c1-net": C1NetDesign,
          "iteration-complexity": IterationComplexityDesign}


@dataclass(frozen=True)
class SweepItem:
    kind: str  # a key of _SPECS: 'bound' | 'scaling' | 'kernel-mc' | ... | 'c1-net' | 'iteration-complexity'
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
        if self.kind in ("real", "c1-net"):
            return s.label()
        if self.kind == "large-n":
            return f"large-n G1 L={s.L} n<={max(s.ns)}"
        if self.kind == "sample-complexity":
            return f"sample-complexity {list(s.claims)} L={list(s.Ls)} n<={s.n_max}"
        if self.kind == "iteration-complexity":
            return (f"iteration-complexity {list(s.claims)} L={list(s.Ls)} n<={max(s.n_per_L)} "
                    f"T<={s.T_max} nets={len(s.net_points)}")
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
        elif item.kind == "c1-net":
            recs = c1_net_records(item.spec)
        elif item.kind == "iteration-complexity":
            recs = evaluate_iteration_complexity(item.spec)
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
