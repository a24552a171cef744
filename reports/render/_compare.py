"""CI regression: compare a results store's per-claim summaries with the committed baseline.

The baseline (reports/baseline.json) is small, human-readable JSON: for each claim summary row
(keyed by ``_summary``'s ``key``: 'G1', 'C2 fit', 'C4-l0 fit (l0=1, anchor=start)', ...) its
verdict, violation count, non-vacuous fraction and slack median (bound / test risk, docs/theory.md
section 4), or its fitted exponent (section 5). ``compare`` fails when

- a claim that held / was supported in the baseline is now violated, not supported, untested
  (all vacuous, no power) or missing;
- the median slack decreased by more than ``slack_rel`` (relative): bounds moved toward the
  test risk, i.e. toward violation;
- the non-vacuous fraction dropped by more than ``nonvacuous_abs`` (absolute).

Why these tolerances: the CI profile derandomizes Hypothesis and fixes every seed, so the
cases are the same on every run and the remaining drift is numerical (BLAS, XLA versions,
CPU vs GPU float paths). A 25% relative move of a median ratio, or a fifth of the cases
crossing the vacuity line at 1, is far beyond such drift and is a real change.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

import theory as T

from ._render import derived_claim_rows, normalised
from ._summary import claim_summaries

BASELINE_SCHEMA = 1
DEFAULT_TOLERANCE = {
    "slack_rel": 0.25,
    "nonvacuous_abs": 0.2,
    "why": ("seeds are fixed under the ci profile, so the remaining drift is numerical/platform "
            "(BLAS, XLA, CPU vs GPU); a 25% relative drop of the median slack or 0.2 of the cases "
            "becoming vacuous is far beyond that drift"),
}
REFRESH = "python -m reports baseline {store} -o reports/baseline.json"


def default_baseline_path() -> Path:
    """reports/baseline.json from the installed package (package data) or the source tree."""
    try:
        p = resources.files("reports") / "baseline.json"
        if p.is_file():
            return Path(str(p))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - exotic loaders
        pass
    return Path(__file__).parent.parent / "baseline.json"


def _rank(verdict: str | None) -> int:
    """2: held / supported; 1: ran but tested nothing (all vacuous, no power, a scaling fit whose
    class growth was undecided); 0: failed/missing."""
    if verdict is None:
        return 0
    if verdict in ("holds", "supported"):
        return 2
    if verdict.startswith("holds (all vacuous") or verdict in (
            "no power at these sizes", "inconclusive at these sizes", "no evaluable case"):
        return 1
    return 0


def _f(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def summarize_for_baseline(records: list[dict]) -> dict[str, dict]:
    """The baseline's rows of a store's records (normalised here, as for the report)."""
    out = {}
    records = normalised(records)
    for row in claim_summaries(records) + derived_claim_rows(records):
        entry = {"claim": row["claim"], "kind": row.get("kind"), "provenance": row["provenance"],
                 "verdict": row["verdict"], "cases": row["cases"], "violations": row.get("violations")}
        for k in ("non_vacuous_fraction", "slack_median", "fitted", "declared"):
            v = _f(row.get(k))
            if v is not None:
                entry[k] = round(v, 4)
        out[row.get("key", row["claim"])] = entry
    out.update(_decision_rows(records))
    return out


#: verdicts of a scaling decision made with power (docs/theory.md section 5)
DECIDED = ("supported", "not supported at these sizes")


def _decision_rows(records: list[dict]) -> dict[str, dict]:
    """Baseline rows for the paper's claims decided on records of their own: each deciding
    sample-scaling fit (C2, C4-N, C4-l0 on n_eps; the verdict is ``theory.compare_growth``'s,
    stored by the item) and each c1-net verdict (``theory.ScaleTest``'s). ``decided``: the
    baseline's verdict was a decision with power, so that losing the power (a verdict of 'no
    power' or 'inconclusive' later) fails the comparison even where the decision was 'not
    supported'; ``expected`` (c1-net's negative control): the verdict the control must keep."""
    out = {}
    for r in records:
        m = r.get("metrics", {})
        if r.get("kind") == "sample-scaling" and m.get("decides"):
            out[f"{r['claim']} n_eps (sample complexity)"] = {
                "claim": r["claim"], "kind": "sample-scaling", "provenance": m.get("provenance"),
                "verdict": r["verdict"], "cases": len(m.get("seeds", [])), "violations": None,
                "decided": r["verdict"] in DECIDED and m.get("control_model") == "exponential",
                "fitted": round(float(np.median(m["class_slope"])), 4)}
        elif r.get("kind") == "c1-net":
            entry = {"claim": "C1", "kind": "c1-net", "provenance": T.get_claim("C1").provenance,
                     "verdict": r["verdict"], "cases": len(m.get("scales", [])), "violations": None}
            if r["config"].get("role") != "judged" and m.get("expected"):
                entry["expected"] = m["expected"]  # the negative control's outcome
            out[f"C1 (trained network, {r['config']['role']})"] = entry
    return out


def make_baseline(records: list[dict], *, profile: str = "ci", source: str = "") -> dict:
    return {"schema": BASELINE_SCHEMA, "profile": profile, "source": source,
            "refresh": REFRESH.format(store="<store>"),
            "claims": summarize_for_baseline(records), "tolerance": dict(DEFAULT_TOLERANCE)}


def load_baseline(path: str | Path) -> dict:
    """The baseline JSON, validated; ValueError with a readable message when it is malformed."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"baseline {str(path)!r} is a folder, not a baseline JSON file")
    if not path.is_file():
        raise FileNotFoundError(f"baseline {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"baseline {str(path)!r} is not a text JSON file (byte 0x{e.object[e.start]:02x} "
                         f"at offset {e.start} is not UTF-8)") from None
    except OSError as e:
        raise ValueError(f"cannot read the baseline {str(path)!r}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"baseline {str(path)!r} is not valid JSON: {e.msg} (line {e.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), dict):
        raise ValueError(f"baseline {str(path)!r} lacks a 'claims' object")
    if data.get("schema") != BASELINE_SCHEMA:
        raise ValueError(f"baseline {str(path)!r} has schema {str(data.get('schema'))[:40]!r}, "
                         f"expected {BASELINE_SCHEMA}")
    return data


@dataclass
class Comparison:
    failures: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    tolerance: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self, store: str = "<store>") -> str:
        lines = []
        if self.failures:
            lines += [f"REGRESSION: {len(self.failures)} claim check(s) worse than the baseline:"]
            lines += [f"  - {x}" for x in self.failures]
        if self.new:
            lines += ["New claims (in the store, not in the baseline; not a failure):"]
            lines += [f"  + {x}" for x in self.new]
        if self.improvements:
            lines += ["Improvements (not failures):"]
            lines += [f"  * {x}" for x in self.improvements]
        if self.improvements or self.new:
            lines += [f"To record them in the baseline: {REFRESH.format(store=store)}"]
        lines.append(f"{len(self.unchanged)} claim check(s) unchanged within tolerance "
                     f"(slack median -{self.tolerance['slack_rel']:.0%} relative, non-vacuous "
                     f"fraction -{self.tolerance['nonvacuous_abs']:g} absolute).")
        if self.ok:
            lines.append("OK: no claim regressed against the baseline.")
        return "\n".join(lines)


def compare(current: dict[str, dict], baseline: dict, *, slack_rel: float | None = None,
            nonvacuous_abs: float | None = None) -> Comparison:
    """Compare summaries (``summarize_for_baseline``) with a loaded baseline."""
    tol = {**DEFAULT_TOLERANCE, **{k: v for k, v in baseline.get("tolerance", {}).items()
                                   if k in ("slack_rel", "nonvacuous_abs")}}
    if slack_rel is not None:
        tol["slack_rel"] = slack_rel
    if nonvacuous_abs is not None:
        tol["nonvacuous_abs"] = nonvacuous_abs
    res = Comparison(tolerance=tol)
    base = baseline["claims"]
    for key in sorted(base):
        b, c = base[key], current.get(key)
        bv = b.get("verdict")
        if c is None:
            if _rank(bv) > 0:
                res.failures.append(f"{key}: was {bv!r} in the baseline, now missing from the store")
            else:
                res.unchanged.append(key)
            continue
        cv = c.get("verdict")
        before = len(res.failures)
        if b.get("expected"):  # a negative control: only keeping its expected verdict counts
            if cv != b["expected"]:
                res.failures.append(f"{key}: the negative control's verdict {bv!r} -> {cv!r} "
                                    f"(it must stay {b['expected']!r}: the check lost its power)")
        elif b.get("decided") and cv not in DECIDED:
            res.failures.append(f"{key}: decided with power in the baseline ({bv!r}), now {cv!r}")
        elif _rank(cv) < _rank(bv):
            res.failures.append(f"{key}: verdict {bv!r} -> {cv!r}")
        elif _rank(cv) > _rank(bv):
            res.improvements.append(f"{key}: verdict {bv!r} -> {cv!r}")
        bs, cs = _f(b.get("slack_median")), _f(c.get("slack_median"))
        if bs is not None and cs is not None and bs > 0:
            rel = (cs - bs) / bs
            if rel < -tol["slack_rel"]:
                res.failures.append(f"{key}: slack median {bs:.4g} -> {cs:.4g} ({rel:+.0%}, "
                                    f"tolerance -{tol['slack_rel']:.0%}): bounds moved toward violation")
            elif rel > tol["slack_rel"]:
                res.improvements.append(f"{key}: slack median {bs:.4g} -> {cs:.4g} ({rel:+.0%}; "
                                        "looser bounds or smaller risks)")
        bn, cn = _f(b.get("non_vacuous_fraction")), _f(c.get("non_vacuous_fraction"))
        if bn is not None and cn is not None:
            if bn - cn > tol["nonvacuous_abs"]:
                res.failures.append(f"{key}: non-vacuous fraction {bn:.2f} -> {cn:.2f} "
                                    f"(tolerance -{tol['nonvacuous_abs']:g})")
            elif cn - bn > tol["nonvacuous_abs"]:
                res.improvements.append(f"{key}: non-vacuous fraction {bn:.2f} -> {cn:.2f}")
        if len(res.failures) == before and not any(x.startswith(f"{key}:") for x in res.improvements):
            res.unchanged.append(key)
    res.new = [f"{k}: {current[k].get('verdict')!r}" for k in sorted(set(current) - set(base))]
    return res
