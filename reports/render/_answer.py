"""The report's opening section: do the bounds hold, for which predictor, and where do they say nothing?

One row per bound claim and predictor (docs/theory.md section 4):

| claim  | predictor the bound is for                     |
| ------ | ---------------------------------------------- |
| G1     | the minimum-norm kernel interpolant (a priori) |
| G2     | the linearized network f_lin (a posteriori)    |
| G1-net | the trained network (G1 + its gap to f_ker)    |
| G2-net | the trained network (G2 + its gap to f_lin)    |
| P      | the trained network (the predicted bound)      |

P is a fitted law, not a rigorous bound: its rows are split into configurations off its
calibration grid (the test) and on it (descriptive only), and it is kept out of the one-line
answer, which is about the rigorous bounds.

Each row: evaluated cases, how many held, violations (the verdicts stored by the evaluation, which
apply ``theory``'s violation rule; nothing is re-judged here), the non-vacuous count, where the
vacuous cases are (by L, r and family), the trained network's own test risk and the
linearization gap beside the bound. Rows appear only for claims the store has; a store without
G1-net/G2-net says that the network itself was not checked against a bound.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

PREDICTORS = {"G1": "kernel interpolant", "G2": "f_lin (linearized)",
              "G1-net": "trained network", "G2-net": "trained network",
              "P": "trained network (predicted bound)"}
NET_CLAIMS = ("G1-net", "G2-net", "P")
_EVALUATED = ("holds", "vacuous", "violation")
_WHERE = (("L", "L"), ("scale", "r"), ("family", "family"))


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _median(xs) -> float | None:
    xs = [x for x in (_num(v) for v in xs) if math.isfinite(x)]
    return float(np.median(xs)) if xs else None


def _network_risk(r: dict) -> float:
    m = r.get("metrics", {})
    if r["claim"] in NET_CLAIMS:
        return _num(m.get("test_risk"))
    return _num(m.get("net_test_risk", m.get("net_test_risk_mean")))


def _gap(r: dict) -> float:
    """Mean clipped gap between the network and the claim's reference predictor (where stored)."""
    if r["claim"] in NET_CLAIMS:
        return _num(r.get("bound", {}).get("gap_mean"))
    return _num(r.get("metrics", {}).get("gap_mean"))


def _where_vacuous(recs: list[dict]) -> str:
    """'L=8 (6/6); r=10 (12/18); family=parity (18/18)': each value with vacuous cases, as
    vacuous / evaluated among the cases with that value."""
    parts = []
    for key, label in _WHERE:
        tot: dict = defaultdict(int)
        vac: dict = defaultdict(int)
        for r in recs:
            v = r.get("config", {}).get(key)
            tot[v] += 1
            vac[v] += r["verdict"] == "vacuous"
        vals = sorted((v for v in tot if vac[v]), key=lambda v: (str(type(v)), v))
        parts += [f"{label}={v:g} ({vac[v]}/{tot[v]})" if isinstance(v, (int, float)) else
                  f"{label}={v} ({vac[v]}/{tot[v]})" for v in vals]
    return "; ".join(parts) if parts else "none vacuous"


def answer_first(records: list[dict]) -> dict:
    """Rows of the opening section (see the module docstring) and its one-sentence answer."""
    real = [r for r in records if r.get("kind") == "bound" and r.get("claim") in PREDICTORS
            and not r.get("metrics", {}).get("mutant")]
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in real:
        part = ""
        if r["claim"] == "P":
            inside = r.get("metrics", {}).get("in_calibration")
            part = "on the calibration grid" if inside else "out of sample"
        groups[(r["claim"], str(r.get("config", {}).get("parametrization", "")), part)].append(r)
    rows = []
    order = list(PREDICTORS)
    for (claim, param, part), recs in sorted(groups.items(),
                                             key=lambda kv: (order.index(kv[0][0]),
                                                             kv[0][1] not in ("", "lazy"),  # default first
                                                             kv[0][1], kv[0][2])):
        ev = [r for r in recs if r["verdict"] in _EVALUATED]
        viol = sum(r["verdict"] == "violation" for r in ev)
        vac = sum(r["verdict"] == "vacuous" for r in ev)
        rows.append({
            "claim": claim + (f" ({part})" if part else ""), "base_claim": claim,
            "parametrization": param or None, "predictor": PREDICTORS[claim],
            "cases": len(ev), "held": len(ev) - viol, "violations": viol, "non_vacuous": len(ev) - vac,
            "diverged": sum(r["verdict"] == "diverged" for r in recs),
            "not_applicable": sum(r["verdict"] == "not-applicable" for r in recs),
            "where_vacuous": ("all" if vac == len(ev) else _where_vacuous(ev)) if vac else "none vacuous",
            "bound_median": _median(r.get("bound", {}).get("value") for r in ev),
            "predictor_risk_median": _median(r.get("metrics", {}).get("test_risk") for r in ev),
            "network_risk_median": _median(_network_risk(r) for r in ev),
            "gap_median": _median(_gap(r) for r in ev),
            "gap_ucb_median": (_median(r.get("bound", {}).get("gap_ucb") for r in ev)
                               if claim in ("G1-net", "G2-net") else None),
        })
    return {"rows": rows, "answer": _sentence(rows)}


def _sentence(rows: list[dict]) -> str:
    net = [r for r in rows if r["base_claim"] in ("G1-net", "G2-net") and r["cases"]]
    if not rows:
        return "This store has no bound cases: it cannot say whether the bounds hold."
    if not net:
        return ("This store has no G1-net/G2-net records, so the trained networks themselves were not "
                "checked against a bound: G1 was checked for the kernel interpolant and G2 for the "
                "linearized network; the networks' own risks are shown beside them.")
    parts = []
    # the default (lazy) parametrization first; the contrast control after it
    for r in sorted(net, key=lambda r: (r["parametrization"] not in (None, "lazy"), r["claim"])):
        tag = f" [{r['parametrization']}]" if r["parametrization"] not in (None, "lazy") else ""
        held = ("held in all" if not r["violations"] else f"was VIOLATED in {r['violations']} of")
        parts.append(f"{r['claim']}{tag} {held} {r['cases']} case(s), non-vacuous in {r['non_vacuous']}")
    yes = all(not r["violations"] for r in net)
    some = any(r["non_vacuous"] for r in net)
    lead = ("Yes, where they say something" if yes and some else "They held, but every case was vacuous "
            "(tested nothing)" if yes else "No")
    return f"Do the bounds hold for the trained networks? {lead}: " + "; ".join(parts) + "."
