"""The report's sample-complexity section (records of ``reports/cases/_sample_complexity.py``):
the deciding fits of C2 and C4 with their class and control models, verdicts and reasons."""

from __future__ import annotations

import numpy as np


def render_sample_complexity(records: list[dict]) -> list[str]:
    """Markdown: one table row per deciding fit (claim x class model, control model, verdict,
    fitted exponents, censored points) and the verdict line with its reason."""
    fits = [r["metrics"] for r in records if r.get("kind") == "sample-scaling"]
    if not fits:
        return []
    out = ["## Sample complexity in L (C2, C4): n_eps, kernel interpolant", "",
           "| claim | measure | eps | class model | control model | verdict | class slope p | "
           "class rate b | control rate b | censored (class/control) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for f in sorted(fits, key=lambda f: (f["claim"], not f["decides"], f["measure"], -f["eps"])):
        out.append(f"| {f['claim']} | {f['measure']} | {f['eps']:g} | {f['class_model']} | "
                   f"{f['control_model']} | {'**' + f['verdict'] + '**' if f['decides'] else f['verdict']}"
                   f" | {np.round(f['class_slope'], 2).tolist()} | {np.round(f['class_rate'], 3).tolist()}"
                   f" | {np.round(f['control_rate'], 3).tolist()} | {f['class_censored']}/"
                   f"{f['control_censored']} |")
    out.append("")
    for f in fits:
        if f["decides"]:
            out.append(f"- {f['claim']}: **{f['verdict']}** (n_eps at eps = {f['eps']:g}, "
                       f"L = {f['Ls']}): {f['reason']}")
    return out + [""]
