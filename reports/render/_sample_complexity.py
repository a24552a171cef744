"""The report's sample- and iteration-complexity section (records of
``reports/cases/_sample_complexity.py`` and ``reports/cases/_iteration_complexity.py``): the
deciding fits of C2 and C4 with their class and control models, verdicts and reasons; the T_eps
fits (same columns, reported, never deciding) and the trained networks' T_eps beside kernel GD's."""

from __future__ import annotations

import numpy as np

_HEAD = ["| claim | measure | eps | class model | control model | verdict | class slope p | "
         "class rate b | control rate b | censored (class/control) |",
         "|---|---|---|---|---|---|---|---|---|---|"]


def _shaped(values, fitted, digits: int) -> str:
    """Per-seed fitted values, '-' for a seed with < 2 observed points (the rule gives it no shape:
    theory/_growth.py; its slope would be fitted to censoring caps, not data)."""
    if values is None:
        return str(np.round(fitted, digits).tolist())
    obs = [int(np.sum(~np.isnan(np.asarray(row, float)))) for row in values]
    return "[" + ", ".join(f"{round(float(v), digits)}" if k >= 2 else "-"
                           for v, k in zip(fitted, obs)) + "]"


def _row(f: dict) -> str:
    verdict = "**" + f["verdict"] + "**" if f["decides"] else f["verdict"]
    cls, ctl = f.get("n_class"), f.get("n_control")
    return (f"| {f['claim']} | {f['measure']} | {f['eps']:g} | {f['class_model']} | "
            f"{f['control_model']} | {verdict} | {_shaped(cls, f['class_slope'], 2)} | "
            f"{_shaped(cls, f['class_rate'], 3)} | {_shaped(ctl, f['control_rate'], 3)} | "
            f"{f['class_censored']}/{f['control_censored']} |")


def _fits(records: list[dict], kind: str) -> list[dict]:
    fits = [r["metrics"] for r in records if r.get("kind") == kind]
    return sorted(fits, key=lambda f: (f["claim"], not f["decides"], f["measure"], -f["eps"]))


def _t(v) -> str:
    return "censored" if v is None else str(v)


def render_sample_complexity(records: list[dict]) -> list[str]:
    """Markdown: one table row per fit (claim x class model, control model, verdict, fitted
    exponents, censored points), n_eps / n_G1 first (the deciding one in bold), then T_eps
    (measure "T_eps", reported), the verdict lines with their reasons, and the trained networks'
    T_eps beside kernel GD's and kernel SGD's."""
    sample, iters = _fits(records, "sample-scaling"), _fits(records, "iteration-scaling")
    nets = [r for r in records if r.get("kind") == "iteration-network"]
    out = []
    if sample:
        out += ["## Sample complexity in L (C2, C4): n_eps, kernel interpolant", "", *_HEAD,
                *map(_row, sample), ""]
        out += [f"- {f['claim']}: **{f['verdict']}** (n_eps at eps = {f['eps']:g}, L = {f['Ls']}): "
                f"{f['reason']}" for f in sample if f["decides"]]
        out.append("")
    by_n = [r["metrics"] for r in records if r.get("kind") == "sample-N"]
    if by_n:
        out += ["n_eps against N at a fixed length (C4's exponential side; reported, not a verdict: "
                "the paper allows growth exponential in N). N-variable targets at N positions "
                "spread over the whole sequence (l_0 = L - 1 for every N).", "",
                "| L | eps | N | positions | n_eps per seed | model in N | 2 log LR | slope p | rate b "
                "| censored |", "|---|---|---|---|---|---|---|---|---|---|"]
        for m in sorted(by_n, key=lambda m: -m["eps"]):
            per_n = list(zip(*m["n"]))  # per N, the seeds' values
            head = [str(m["L"]), f"{m['eps']:g}"]
            tail = [m["model"], str(np.round(m["llr"], 1).tolist()), str(np.round(m["slope"], 2).tolist()),
                    str(np.round(m["rate"], 3).tolist()), str(m["censored"])]
            for i, N in enumerate(m["Ns"]):
                vals = ", ".join(f">{m['n_cap']}" if np.isnan(x) else f"{x:g}" for x in per_n[i])
                lead, rest = (head, tail) if i == 0 else ([""] * 2, [""] * 5)
                out.append("| " + " | ".join([*lead, str(N), str(m["positions"][str(N)]), vals, *rest])
                           + " |")
        out.append("")
    if iters:
        out += ["## Iteration complexity in L (C2, C4): T_eps, kernel GD at eta = 1 / lambda_max(H)",
                "", "GD steps to relative risk <= eps at a fixed n per L (reported; n_eps decides). "
                "A censored T_eps was not reached by T_max, or not at all at that n (the "
                "interpolant itself misses eps: a sample limit, flagged per record).", "", *_HEAD,
                *map(_row, iters), ""]
        out += [f"- {r['claim']} T_eps at eps = {r['metrics']['eps']:g}: {r['note']}" for r in
                records if r.get("kind") == "iteration-scaling" and r.get("note")]
        out.append("")
    if nets:
        out += ["| L | target | seed | n | m | eps | T_eps net GD | kernel GD (net eta) | agree | "
                "T_eps net SGD | kernel SGD | agree |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(nets, key=lambda r: (r["config"]["L"], r["claim"], r["seed"])):
            m, c = r["metrics"], r["config"]
            for e in m["T_eps_net_gd"]:
                sgd = (f"{_t(m['T_eps_net_sgd'][e])} | {_t(m['T_eps_kernel_sgd'][e])} | "
                       f"{'yes' if m['agree_sgd'][e] else '**no**'}" if "T_eps_net_sgd" in m
                       else "not run | | ")
                out.append(f"| {c['L']} | {r['claim']} | {r['seed']} | {c['n']} | {c['m']} | {e} | "
                           f"{_t(m['T_eps_net_gd'][e])} | {_t(m['T_eps_kernel_gd_net_eta'][e])} | "
                           f"{'yes' if m['agree_gd'][e] else '**no**'} | {sgd} |")
        out += ["", "Agreement: within one point of the t-grid; a **no** is a measured disagreement "
                "of the trained network with its kernel limit at this width.", ""]
    return out
