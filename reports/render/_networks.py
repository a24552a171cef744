"""Report sections on the trained networks themselves (docs/theory.md section 4):

- ``networks``: per group of configurations (parametrization, optimizer, family, L, r), the test
  risks of the four predictors side by side (the trained network u_T, its linearization f_lin,
  the kernel predictor f_ker at the same steps, the minimum-norm interpolant) and the bounds
  rigorous for each (G2 for f_lin, G1 for the interpolant, G1-net and G2-net for the network),
  with violations, non-vacuous fractions and the kernel-regime diagnostics;
- ``training_facts``: the T-gd law fits (gap and drift against width) for the lazy and the
  contrast parametrization;

Every number is read from the store; verdicts are the records' own (decided by
``theory.bound_verdict``).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ._format import num as _f
from ._summary import parametrization

_CLAIMS = ("G1", "G2", "G1-net", "G2-net", "P")
_EVALUATED = ("holds", "vacuous", "violation")


def _median(xs):
    xs = [x for x in xs if math.isfinite(x)]
    return float(np.median(xs)) if xs else None


def _mean(xs):
    xs = [x for x in xs if math.isfinite(x)]
    return float(np.mean(xs)) if xs else None


def networks_section(records: list[dict]) -> list[dict]:
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("kind") != "bound" or r["claim"] not in _CLAIMS or r["metrics"].get("mutant"):
            continue
        c = r["config"]
        key = (parametrization(r), c.get("method", "gd"), c.get("family"), c.get("L"),
               _f(c.get("scale")))
        groups[key][r["claim"]].append(r)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        g = groups[key]
        net = [r for r in g["G2-net"] if r["verdict"] in _EVALUATED]
        row = {"parametrization": key[0], "method": key[1], "family": key[2], "L": key[3],
               "r": key[4], "networks": len(net),
               "diverged": sum(r["verdict"] == "diverged" for r in g["G2-net"]),
               "risk_network": _mean([_f(r["metrics"]["test_risk"]) for r in net]),
               "risk_f_lin": _mean([_f(r["metrics"].get("lin_test_risk")) for r in net]),
               "risk_f_ker": _mean([_f(r["metrics"].get("ker_test_risk")) for r in net]),
               "risk_interp": _mean([_f(r["metrics"].get("interp_test_risk")) for r in net]),
               "lin_gap_rel": _median([_f(r["metrics"].get("lin_gap_rel")) for r in net]),
               "ntk_drift": _median([_f(r["metrics"].get("ntk_drift")) for r in net])}
        for claim in _CLAIMS:
            ev = [r for r in g[claim] if r["verdict"] in _EVALUATED]
            row[f"{claim}_median"] = _median([_f(r["bound"]["value"]) for r in ev])
            row[f"{claim}_cases"] = len(ev)
            row[f"{claim}_violations"] = sum(r["verdict"] == "violation" for r in ev)
            row[f"{claim}_nonvacuous"] = (sum(r["verdict"] != "vacuous" for r in ev) / len(ev)
                                          if ev else None)
        rows.append(row)
    return rows


def training_facts_section(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        if r["claim"] != "T-gd" or r["kind"] not in ("rate-fit", "power"):
            continue
        m = r["metrics"]
        if "quantity" not in m:
            continue
        out.append({"parametrization": m.get("parametrization"), "quantity": m["quantity"],
                    "widths": m.get("widths"), "means": m.get("means"),
                    "fitted_slope": m.get("fitted_slope"), "max_slope": m.get("max_slope"),
                    "level_at_largest": m.get("level_at_largest"), "max_level": m.get("max_level"),
                    "seeds": m.get("seeds"), "law_verdict": m.get("verdict"),
                    "expected": "supported" if m.get("parametrization") == "lazy"
                    else "not supported (negative control)"})
    return sorted(out, key=lambda x: (str(x["parametrization"]), str(x["quantity"])))


# ---- markdown -----------------------------------------------------------------------------------

def _fmt(x, digits=3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "-" if math.isnan(x) else f"{x:.{digits}g}"
    return str(x)


def networks_markdown(rep: dict) -> list[str]:
    from tabulate import tabulate

    rows = rep.get("networks") or []
    out = ["## Trained networks under their bounds (docs/theory.md section 4)", "",
           "Test risks (mean over seeds and cases) of the four predictors, and the median of each "
           "bound rigorous for one of them: G1 for the interpolant, G2 for f_lin, G1-net and "
           "G2-net for the trained network itself (the bound of a reference predictor plus the "
           "Chernoff-KL UCB of its distance to the network on fresh unlabelled inputs), P the "
           "predicted bound for the network. `viol` counts violations (risk LCB above the bound), "
           "`nv` is the non-vacuous fraction. Contrast-parametrization rows are the kernel "
           "regime's negative control.", ""]
    if not rows:
        return out + ["No trained-network records in this store.", ""]
    def b(r, c):
        if not r[f"{c}_cases"]:
            return "-"
        return (f"{_fmt(r[f'{c}_median'])} ({r[f'{c}_violations']} viol, "
                f"nv {_fmt(r[f'{c}_nonvacuous'], 2)})")

    table = []
    for r in rows:
        table.append([r["parametrization"], r["method"], r["family"], r["L"], _fmt(r["r"]),
                      r["networks"], r["diverged"], _fmt(r["risk_network"]), _fmt(r["risk_f_lin"]),
                      _fmt(r["risk_f_ker"]), _fmt(r["risk_interp"]), b(r, "G1-net"),
                      b(r, "G2-net"), b(r, "P"), b(r, "G1"), b(r, "G2"), _fmt(r["lin_gap_rel"]),
                      _fmt(r["ntk_drift"])])
    out.append(tabulate(table, headers=[
        "param", "opt", "family", "L", "r", "nets", "div", "risk net", "risk f_lin", "risk f_ker",
        "risk interp", "G1-net", "G2-net", "P", "G1", "G2", "lin gap", "NTK drift"],
        tablefmt="github", disable_numparse=True))
    return out + [""]


def training_facts_markdown(rep: dict) -> list[str]:
    from tabulate import tabulate

    rows = rep.get("training_facts") or []
    out = ["## Training facts: is the network in the kernel regime? (claim T-gd)", "",
           "One-sided law with a level (docs/theory.md section 4): the relative linearization gap on "
           "test inputs and the relative NTK drift must shrink with m (fitted slope <= max) and be "
           "<= the level at the largest width. The lazy parametrization must satisfy it; the "
           "contrast parametrization must fail it (that is the law's power).", ""]
    if not rows:
        return out + ["No training-facts fits in this store.", ""]
    out.append(tabulate([[r["parametrization"], r["quantity"], ", ".join(map(str, r["widths"] or [])),
                          ", ".join(_fmt(x) for x in r["means"] or []), _fmt(r["fitted_slope"]),
                          _fmt(r["max_slope"]), _fmt(r["level_at_largest"]), _fmt(r["max_level"]),
                          r["law_verdict"], r["expected"]] for r in rows],
                        headers=["param", "quantity", "widths", "mean per width", "slope",
                                 "max slope", "at largest m", "max level", "law", "expected"],
                        tablefmt="github", disable_numparse=True))
    return out + [""]


def audit_markdown(rep: dict) -> list[str]:
    a = rep.get("audit") or {"audited": 0, "mismatches": []}
    out = ["## Record audit", "",
           f"{a['audited']} bound records: every stored term (grid index, main, confidence and gap "
           f"terms, value, vacuous flag, the risk's Chernoff-KL interval) and verdict (at the "
           f"record's delta_test) re-derived from the record with theory/'s functions"
           + (f"; {a['c1_net_audited']} c1-net verdict(s) re-derived from their bound records"
              if a.get("c1_net_audited") else "")
           + f": {len(a['mismatches'])} mismatch(es).", ""]
    return out + [f"- {m}" for m in a["mismatches"][:50]] + [""]
