"""C1 on the trained network: is the certified risk independent of the input scale r?

docs/theory.md sections 1 and 5 (C1, tag paper-claim; revised 2026-11-27). The kernel interpolant's
G1 is scale-invariant *exactly* (homogeneity H(cx, cx') = c^2 H(x, x')): comparing it across r
cannot fail, so it stays an ``exact`` identity check. What can depend on r is the trained network:
the lazy network's distance from its linearization (the gap terms of G1-net / G2-net) and its own
risk. The rule, in this one place:

For every input scale r of a design (the same target function of the normalized tokens at every r)
take cert(r) = the median over cases and seeds of min(G1-net, G2-net), the best certified risk of
the trained network itself, and its violations. A network whose training diverged at r has no
certificate (cert = inf for it) and counts against r. The claim is

- ``supported`` when no -net bound is violated and no network diverged at any r and, at every r,
  cert(r) <= ``tol`` * cert(r_ref) (the certificate does not degrade with the scale), when
  cert(r_ref) < 1 also cert(r) < 1 (what is non-vacuous at r_ref stays non-vacuous), and the
  network's median test risk risk(r) <= ``tol`` * risk(r_ref) (what is learned does not degrade:
  with vacuous certificates, at small n, this is the part that can still fail);
- ``not supported at these sizes`` otherwise, naming the scales that degrade.

``tol`` = 1.5 is declared (not fitted): G1's grid rounding alone can move a bound by gamma = 1.1
and its confidence term by a few percent across r (section 4), so 1.5 leaves room for those and
for seed-to-seed spread of the gap UCB (n_gap = n_test) while a doubling is a degradation.
The network's risk and the relative linearization gap per r are reported beside the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScaleTest:
    """The C1-net rule (module docstring): ``tol`` > 1, reference scale ``r_ref`` > 0."""

    tol: float = 1.5
    r_ref: float = 1.0

    def __post_init__(self):
        if not (isinstance(self.tol, (int, float)) and math.isfinite(self.tol) and self.tol > 1):
            raise ValueError(f"tol = {self.tol!r}: must be a finite number > 1")
        if not (isinstance(self.r_ref, (int, float)) and math.isfinite(self.r_ref) and self.r_ref > 0):
            raise ValueError(f"r_ref = {self.r_ref!r}: must be a finite number > 0")

    def verdict(self, rows: list[dict]) -> dict:
        """``rows``: one per trained network and -net bound, with keys ``r``, ``claim``
        ('G1-net' / 'G2-net'), ``seed`` (any hashable identifying the network), ``value``,
        ``violation`` (bool), and optionally ``net_risk``, ``lin_gap`` and ``diverged`` (bool: no
        bound; ``value`` is then ignored). Returns the per-r table (with each bound's non-vacuous
        fraction under ``non_vacuous_by_bound``), the scales that degrade (``degrades``) and the
        verdict with its reason."""
        if not rows:
            raise ValueError("rows: need -net bound rows for at least two input scales")
        per: dict[float, dict] = {}
        for row in rows:
            r = float(row["r"])
            g = per.setdefault(r, {"nets": {}, "violations": 0, "diverged": set(), "risk": [],
                                   "gap": [], "by_bound": {}})
            key = row["seed"]
            if row.get("diverged"):  # no certificate: the network failed at this scale
                g["diverged"].add(key)
                g["nets"][key] = math.inf
                continue
            value = float(row["value"])
            g["nets"][key] = min(g["nets"].get(key, math.inf), value)
            g["by_bound"].setdefault(str(row["claim"]), []).append(value < 1)
            g["violations"] += bool(row["violation"])
            if row.get("net_risk") is not None:
                g["risk"].append(float(row["net_risk"]))
            if row.get("lin_gap") is not None:
                g["gap"].append(float(row["lin_gap"]))
        if self.r_ref not in per or len(per) < 2:
            raise ValueError(f"rows: need r_ref = {self.r_ref:g} and at least one other scale, "
                             f"have r = {sorted(per)}")
        table = []
        for r in sorted(per):
            g = per[r]
            table.append({"r": r, "networks": len(g["nets"]),
                          "cert": float(np.median(list(g["nets"].values()))),
                          "non_vacuous": float(np.mean([v < 1 for v in g["nets"].values()])),
                          "non_vacuous_by_bound": {c: float(np.mean(v))
                                                   for c, v in sorted(g["by_bound"].items())},
                          "violations": g["violations"], "diverged": len(g["diverged"]),
                          "net_risk": float(np.median(g["risk"])) if g["risk"] else None,
                          "lin_gap": float(np.median(g["gap"])) if g["gap"] else None})
        ref = next(t for t in table if t["r"] == self.r_ref)
        def worse(t):
            risk_up = (t["net_risk"] is not None and ref["net_risk"] is not None
                       and t["net_risk"] > self.tol * ref["net_risk"])
            return (t["violations"] > 0 or t["diverged"] > 0 or t["cert"] > self.tol * ref["cert"]
                    or ref["cert"] < 1 <= t["cert"] or risk_up)

        bad = [t for t in table if worse(t)]
        def r3(v):
            return None if v is None else round(v, 3)

        reason = "; ".join(
            f"r = {t['r']:g}: cert {t['cert']:.3f}, non-vacuous {t['non_vacuous']:.2f}, violations "
            f"{t['violations']}, diverged {t['diverged']}, net risk {r3(t['net_risk'])}, "
            f"lin gap {r3(t['lin_gap'])}"
            for t in table)
        if bad:
            verdict = "not supported at these sizes"
            reason = (f"degrades at r = {[t['r'] for t in bad]} (cert or network risk > {self.tol:g} x "
                      f"its value at r = {self.r_ref:g}, or vacuous, violated or diverged): {reason}")
        else:
            verdict = "supported"
        return {"verdict": verdict, "reason": reason, "per_r": table, "tol": self.tol,
                "r_ref": self.r_ref, "degrades": [t["r"] for t in bad]}
