"""C1 judged on the trained network, as a sweep item ("c1-net"; docs/theory.md sections 5 and 6).

C1 says the bound needs no smallness of the input scale r. The kernel interpolant's G1 cannot
show it (kernel homogeneity makes it scale-invariant exactly: an identity, kept as the ``exact``
check in checks/test_claims.py); what can depend on r is the trained network. This item trains
the same lazy networks on the same function of the normalized tokens (``input_scale = r``) at
every r of its design and judges them with the one rule, ``theory.ScaleTest`` (theory/_scale.py):
the median min(G1-net, G2-net) certificate, the network's risk, violations and divergences per r
against r_ref = 1.

Two verdicts, each a "c1-net" record:

- ``judged``: the scales inside the claim's range (0.1 .. 10 by default): C1's verdict;
- ``beyond``: every scale of the design, the ``control`` scales outside the range included
  (r = 0.01 by default), where the lazy network is far from its linearization and the verdict is
  expected to fail. It is the negative control: a ``kind = "power"`` record (as
  ``reports.cases._power`` records its deliberately wrong bounds) says whether every control
  scale was found to degrade. A control that passes means the rule could not fail here.

The per-scale bound records (G1, G2, G1-net, G2-net of each r) are stored as ordinary bound
records: they must hold like any other case.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import models as M
import theory as T

from ._evaluate import BoundCase, evaluate_bound_case
from ._power import power_record
from ._records import make_record

NET_BOUNDS = ("G1-net", "G2-net")


def _scales(name: str, value) -> tuple[float, ...]:
    if not isinstance(value, (tuple, list)) or any(
            isinstance(r, bool) or not isinstance(r, (int, float)) for r in value):
        raise ValueError(f"{name} = {value!r}: must be a sequence of numbers")
    for r in value:  # the input scales the suite accepts (docs/theory.md section 7)
        M.check_float(name, r, low=1e-3, high=1e3)
    if list(value) != sorted(set(value)):
        raise ValueError(f"{name} = {list(value)}: must be distinct and increasing")
    return tuple(float(r) for r in value)


@dataclass(frozen=True)
class C1NetDesign:
    """Input scales ``scales`` (each a BoundCase of the other fields, additive target of f on the
    normalized tokens), the claim's range ``judged`` = (low, high), the ``control`` scales outside
    it where the verdict is expected to fail, and ScaleTest's ``tol`` and ``r_ref``."""

    scales: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    judged: tuple[float, float] = (0.1, 10.0)
    control: tuple[float, ...] = (0.01,)
    # the default profile's bound sizes at its shortest length (reports/runs/_grid.py): the
    # item reuses the grid's compiled programs, and G1-net / G2-net are non-vacuous there, so
    # the rule's "non-vacuous at r_ref stays non-vacuous" clause is exercised
    L: int = 2
    d: int = 5
    m: int = 256
    n: int = 400
    n_test: int = 1000
    steps: int = 150
    seeds: int = 2
    f: str = "sin"
    data_seed: int = 0
    target_seed: int = 0
    tol: float = 1.5
    r_ref: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scales", _scales("scales", self.scales))
        object.__setattr__(self, "control", _scales("control", self.control))
        if not isinstance(self.judged, (tuple, list)) or len(self.judged) != 2:
            raise ValueError(f"judged = {self.judged!r}: a range (low, high) with low < high")
        object.__setattr__(self, "judged", _scales("judged", self.judged))  # low < high here
        self.test()  # tol > 1 and r_ref > 0, checked by the rule itself
        inside = self.judged_scales()
        if self.r_ref not in inside or len(inside) < 2:
            raise ValueError(f"scales = {list(self.scales)}: need r_ref = {self.r_ref:g} and another "
                             f"scale inside judged = {list(self.judged)}")
        if not self.control or any(r not in self.scales or self.judged[0] <= r <= self.judged[1]
                                   for r in self.control):
            raise ValueError(f"control = {list(self.control)}: need >= 1 scale, each among scales = "
                             f"{list(self.scales)} and outside judged = {list(self.judged)} "
                             "(the negative control)")
        self.case(self.r_ref)  # every BoundCase field checked once, here

    def judged_scales(self) -> tuple[float, ...]:
        return tuple(r for r in self.scales if self.judged[0] <= r <= self.judged[1])

    def test(self) -> T.ScaleTest:
        return T.ScaleTest(tol=self.tol, r_ref=self.r_ref)

    def case(self, r: float) -> BoundCase:
        """The bound case at scale r: the same target function of the normalized tokens."""
        return BoundCase(L=self.L, d=self.d, m=self.m, n=self.n, n_test=self.n_test,
                         steps=self.steps, seeds=self.seeds, scale=r, input_scale=r,
                         family="additive", f=self.f, data_seed=self.data_seed,
                         target_seed=self.target_seed)

    def label(self) -> str:
        return (f"c1-net r={list(self.scales)} L={self.L} d={self.d} m={self.m} n={self.n} "
                f"seeds={self.seeds}")


def c1_rows(records: list[dict], r: float) -> list[dict]:
    """ScaleTest's rows from one scale's bound records: one per trained network and -net bound
    (a diverged network gives ``diverged`` rows, which count against r)."""
    rows = []
    for x in records:
        name = x.get("metrics", {}).get("bound_name") or x["claim"]  # relabelled records keep it
        if x.get("kind") != "bound" or name not in NET_BOUNDS or x["metrics"].get("mutant"):
            continue
        row = {"r": r, "claim": name, "seed": (r, x["config"]["seed_index"])}
        if x["verdict"] == "diverged":
            rows.append({**row, "value": math.inf, "violation": False, "diverged": True})
            continue
        rows.append({**row, "value": x["bound"]["value"], "violation": x["verdict"] == "violation",
                     "net_risk": x["metrics"]["test_risk"], "lin_gap": x["metrics"].get("lin_gap_rel")})
    return rows


def c1_verdicts(design: C1NetDesign, rows: dict[float, list[dict]]) -> dict[str, dict]:
    """The rule's output per role: 'judged' (the scales inside the claim's range) and 'beyond'
    (every scale of ``rows``, the control scales included)."""
    test = design.test()
    inside = [r for r in design.judged_scales() if r in rows]
    return {"judged": test.verdict([row for r in inside for row in rows[r]]),
            "beyond": test.verdict([row for r in sorted(rows) for row in rows[r]])}


def control_rejected(control, beyond: dict) -> bool:
    """The negative control: the 'beyond' verdict (ScaleTest's output, or a c1-net record's
    metrics with its verdict) fails, degrading at every control scale in ``control``."""
    return (beyond["verdict"] == "not supported at these sizes"
            and all(r in beyond.get("degrades", []) for r in control))


def verdict_records(design: C1NetDesign, rows: dict[float, list[dict]]) -> list[dict]:
    """One "c1-net" record per verdict (metrics: ScaleTest's output, the role, the judged range
    and the control scales) and the control's power record, from ScaleTest's ``rows`` per r."""
    verdicts = c1_verdicts(design, rows)
    cfg, out = asdict(design), []
    for role, v in verdicts.items():
        scales = list(design.judged_scales()) if role == "judged" else list(design.scales)
        expected = "supported" if role == "judged" else "not supported at these sizes"
        out.append(make_record("c1-net", "C1", {**cfg, "role": role}, 0, verdict=v["verdict"],
                               metrics={**v, "role": role, "scales": scales, "expected": expected,
                                        "judged_range": list(design.judged),
                                        "control_scales": list(design.control)}))
    out.append(power_record(
        "C1", f"trained network at r = {list(design.control)} (outside {design.judged[0]:g}.."
              f"{design.judged[1]:g}; lazy, L = {design.L}, m = {design.m}, n = {design.n})",
        control_rejected(design.control, verdicts["beyond"]), detail=verdicts["beyond"]["reason"]))
    return out


def c1_net_records(design: C1NetDesign) -> list[dict]:
    """The item: every scale's bound records, then ``verdict_records`` of their -net rows."""
    out, rows = [], {}
    for r in design.scales:
        recs = evaluate_bound_case(design.case(r), predicted=False)
        out += recs
        rows[r] = c1_rows(recs, r)
    return out + verdict_records(design, rows)


def audit_c1_net_record(rec: dict, records: list[dict]) -> list[str]:
    """Re-derive a stored "c1-net" record's verdict and degrading scales with the rule
    (``c1_verdicts``) from the bound records of ``records`` that its design evaluated; the
    mismatches, as messages (empty: it follows from them)."""
    role = rec["config"]["role"]
    cfg = {k: v for k, v in rec["config"].items() if k != "role"}
    design = C1NetDesign(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
    rows, missing = {}, []
    for r in design.judged_scales() if role == "judged" else design.scales:
        want = design.case(r).config()  # a bound record's config is this plus seed_index
        mine = [x for x in records if x.get("kind") == "bound" and not x["metrics"].get("mutant")
                and all(x["config"].get(k) == v for k, v in want.items())]
        rows[r] = c1_rows(mine, r)
        if not rows[r]:
            missing.append(r)
    if missing:
        return [f"c1-net ({role}): cannot re-derive, no -net bound records at r = {missing}"]
    again = c1_verdicts(design, rows)[role]
    out = []
    if again["verdict"] != rec["verdict"]:
        out.append(f"c1-net ({role}): verdict {rec['verdict']!r}, the rule gives {again['verdict']!r}")
    if again["degrades"] != rec["metrics"].get("degrades"):
        out.append(f"c1-net ({role}): degrades {rec['metrics'].get('degrades')}, the rule gives "
                   f"{again['degrades']}")
    return out
