"""The report's opening section: do the bounds hold, for which predictor, and where do they say nothing?

One row per bound claim and predictor (docs/theory.md section 4):

| claim  | predictor the bound is for                     |
| ------ | ---------------------------------------------- |
| G1     | the minimum-norm kernel interpolant (a priori) |
| G2     | the linearized network f_lin (a posteriori)    |
| G1-net | the trained network (G1 + its gap to f_ker)    |
| G2-net | the trained network (G2 + its gap to f_lin)    |
| P      | the trained network (the predicted bound)      |

P is a fitted envelope, not a rigorous bound: its rows are split into its pre-registered
configurations inside the calibrated box (interpolation) and beyond it (extrapolation), the tests,
and those on the calibration grid (descriptive only); it is kept out of the one-line answer, which
is about the rigorous bounds. The pre-registration's hash is printed under the table.

Each row says what it is for (``role``): a bound under test (G1, G2 for their reference
predictors; G1-net, G2-net for the network), a negative control (the 'contrast'
parametrization: the kernel-regime law T-gd must fail there; the rigorous bounds hold in any
parametrization, so their holding there is expected, not evidence), the predicted law under
test (P at its pre-registered interpolation and extrapolation cases) or its in-sample envelope
(P at the configurations it was fitted on: other samples, but no test of the law). The answer
leads with the bounds under test and gives the median slack.

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

from ._c1_net import c1_answer_line
from ._summary import (
    _bound_summary,  # the claims table\x27s slack rule, not a second one
    p_preregistration_status,
    p_region,
)

PREDICTORS = {"G1": "kernel interpolant", "G2": "f_lin (linearized)",
              "G1-net": "trained network", "G2-net": "trained network",
              "P": "trained network (predicted bound)"}
NET_CLAIMS = ("G1-net", "G2-net", "P")
_EVALUATED = ("holds", "vacuous", "violation")
_WHERE = (("L", "L"), ("scale", "r"), ("family", "family"))

#: The terms the answer uses before any section defines them (report.md prints this glossary
#: above the first table; docs/theory.md sections 2-4 are the definitions).
GLOSSARY = (
    ("r", "token scale, E||X_l||^2 = r^2"),
    ("f_lin", "the network linearized at initialization, at the trained weights"),
    ("f_ker", "kernel GD/SGD with the analytic NTK H at the network's step"),
    ("P", "predicted bound: a fitted envelope (tag fitted-envelope) judged on pre-registered cases, "
          "not a rigorous bound"),
    ("UCB / LCB", "Chernoff-KL upper / lower confidence bound of a mean loss in [0, 1]"),
    ("held", "no violation: the test risk's LCB never exceeded the bound"),
    ("vacuous", "bound >= 1 (the loss is clipped to [0, 1]): says nothing"),
    ("slack", "bound / test risk of the predictor it bounds (1 = tight)"),
)

#: What each answer row is for (see the module docstring).
ROLE_TEST, ROLE_CONTROL = "bound under test", "negative control"
ROLE_P_TEST, ROLE_P_ENVELOPE = "predicted law under test", "in-sample envelope (fitted configurations)"


def _role(claim: str, param: str, part: str) -> str:
    if claim == "P":
        return ROLE_P_ENVELOPE if part == "calibration grid" else ROLE_P_TEST
    return ROLE_CONTROL if param == "contrast" else ROLE_TEST


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
            part = p_region(r)
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
            "role": _role(claim, param, part),
            "slack_median": _bound_summary(claim, ev)["slack_median"] if ev else None,
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
    out = {"rows": rows, "answer": _sentence(rows)}
    if any(r["base_claim"] == "P" for r in rows):
        out["p_preregistration"] = p_preregistration_status()
    return out


def _held(r: dict) -> str:
    held = "held in all" if not r["violations"] else f"was VIOLATED in {r['violations']} of"
    slack = f", median slack {r['slack_median']:.3g}x" if r.get("slack_median") is not None else ""
    return f"{r['claim']} {held} {r['cases']} case(s), non-vacuous in {r['non_vacuous']}{slack}"


def _sentence(rows: list[dict]) -> str:
    """The bold answer: the network bounds under test first; the negative controls after, said
    to be controls (before, '[contrast]' rows read as successes of the bounds)."""
    net = [r for r in rows if r["base_claim"] in ("G1-net", "G2-net") and r["cases"]]
    if not rows:
        return "This store has no bound cases: it cannot say whether the bounds hold."
    if not net:
        return ("This store has no G1-net/G2-net records, so the trained networks themselves were not "
                "checked against a bound: G1 was checked for the kernel interpolant and G2 for the "
                "linearized network; the networks' own risks are shown beside them.")
    test = [r for r in net if r["role"] == ROLE_TEST] or net
    ctrl = [r for r in net if r["role"] == ROLE_CONTROL and r not in test]
    yes = all(not r["violations"] for r in test)
    some = any(r["non_vacuous"] for r in test)
    lead = ("Yes, where they say something" if yes and some else "They held, but every case was vacuous "
            "(tested nothing)" if yes else "No")
    out = f"Do the bounds hold for the trained networks? {lead}: " + "; ".join(map(_held, test)) + "."
    if ctrl:
        out += (" Negative control (the contrast parametrization, outside the kernel regime; the "
                "bounds are rigorous there too, so this is expected, not evidence): "
                + "; ".join(map(_held, ctrl)) + ".")
    return out


def paper_claim_lines(claims: list[dict], records: list[dict] = ()) -> list[str]:
    """One line per paper claim C1-C4 for the answer (issue 20, item 4), in the order C1..C4.

    C2 and C4 are decided on the sample complexity n_eps(L) (``sample-scaling`` records whose
    ``decides`` is set: docs/theory.md section 5, "Sample complexity"); each line gives the verdict
    and the class and control models it rests on. C1 is judged on the trained network (the
    'judged' ``c1-net`` record: verdict, range, and where its negative control fails;
    ``reports.render._c1_net``). C3, and C1 / C2 / C4 in a store without those records, restate
    the claims table's verdicts (rows keyed 'C1 (input scale)', 'C2 fit', 'C3 (bound cases)',
    'C4-... fit'), or say that the store has none.
    """
    import theory as T

    deciding = [r for r in records if r.get("kind") == "sample-scaling"
                and r.get("metrics", {}).get("decides")]
    out = []
    for cid in ("C1", "C2", "C3", "C4"):
        title = T.get_claim(cid).title
        if cid == "C1" and (line := c1_answer_line(records, title)) is not None:
            out.append(line)
            continue
        sc = [r for r in deciding if r["claim"].startswith(cid)]
        if sc:
            parts = [f"{r['claim']}: **{r['verdict']}** (class {r['metrics'].get('class_model')}, "
                     f"control {r['metrics'].get('control_model')}; n_eps at eps = "
                     f"{r['metrics'].get('eps')})" for r in sorted(sc, key=lambda r: r["claim"])]
            out.append(f"{cid} ({title}), on the sample complexity: " + "; ".join(parts) + ".")
            continue
        mine = [c for c in claims if str(c.get("key", c["claim"])).startswith(cid)]
        if not mine:
            out.append(f"{cid} ({title}): not evaluated in this store.")
            continue
        verdicts = "; ".join(f"{c['verdict']} ({c.get('key', c['claim'])})" for c in mine)
        out.append(f"{cid} ({title}): {verdicts}.")
    return out
