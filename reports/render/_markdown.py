"""report.md from the report dict of ``_render.build_report`` (tables via tabulate).

Sections follow docs/theory.md: per-claim verdicts (sections 1, 3-5, with provenance tags of
section 0), violations with their reproduction commands and divergences/errors (section 4),
scaling fits (section 5), kernel convergence and the position effect (section 3), C1's input
scale, the contrast with prior results, and the power checks.
"""

from __future__ import annotations

import json

from ._format import fmt, fmt_interval
from ._format import table as _table
from ._networks import audit_markdown, networks_markdown, training_facts_markdown
from ._quality import quality_markdown
from ._real_report import real_markdown


def _distinguish(rows: list[list[str]], headers: list[str], configs: list[dict], nkey: int):
    """Add as columns the configuration fields that tell apart rows whose key cells (the first
    ``nkey``) are identical (a parametrization, a target seed): without them two rows of a table
    look like one configuration twice. Returns (rows, headers)."""
    from collections import defaultdict

    same: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        same[tuple(row[:nkey])].append(i)
    extra: list[str] = []
    for idx in same.values():
        for k in sorted({k for i in idx for k in configs[i]}):
            if k not in extra and len({json.dumps(configs[i].get(k), sort_keys=True) for i in idx}) > 1:
                extra.append(k)
    if not extra:
        return rows, headers

    def cell(v):
        return "-" if v is None else fmt(v) if isinstance(v, (int, float)) else str(v)

    return ([row[:nkey] + [cell(configs[i].get(k)) for k in extra] + row[nkey:]
             for i, row in enumerate(rows)], headers[:nkey] + extra + headers[nkey:])


def _yn(ok: bool) -> str:
    return "yes" if ok else "no"


def _answer(rep) -> list[str]:
    """The first screen: the answer (bounds under test first, controls said to be controls), the
    paper's claims one line each, a glossary before the first table, a compact table with each
    row's role, then the detail (where vacuous, the network beside the bound) and why the counts
    of other sections differ."""
    from ._answer import GLOSSARY

    a = rep.get("answer") or {"rows": [], "answer": ""}
    out = ["## Answer first: do the bounds hold?", "", f"**{a['answer']}**", ""]
    if a.get("paper_claims"):
        out += ["The paper's claims (evidence: the Claims and Scaling fits sections):", "",
                *[f"- {line}" for line in a["paper_claims"]], ""]
    if not a["rows"]:
        return out
    out += ["Terms used below:", "", *[f"- **{t}**: {d}" for t, d in GLOSSARY], ""]
    rows, detail = [], []
    for r in a["rows"]:
        claim = _answer_claim(r)
        rows.append([r.get("role", ""), claim, r["predictor"], f"{r['held']}/{r['cases']}",
                     f"{r['non_vacuous']}/{r['cases']}", fmt(r["bound_median"]),
                     fmt(r["predictor_risk_median"]), fmt(r.get("slack_median"))])
        gap = fmt(r["gap_median"])
        if r.get("gap_ucb_median") is not None:
            gap += f" (UCB {fmt(r['gap_ucb_median'])})"
        detail.append([claim, fmt(r["network_risk_median"]), gap, r["where_vacuous"]])
    out.append(_table(rows, ["role", "claim", "bound for", "held", "non-vacuous", "bound (median)",
                             "its risk (median)", "slack (median)"]))
    out += ["", "'Its risk' is the test risk of the predictor the bound is for. Diverged runs have no "
            "bound and are listed under Divergences. Below: where the vacuous cases are, and the "
            "trained network's own risk and its mean clipped gap to the reference predictor (f_lin "
            "for G2, f_ker for G1-net) beside each bound.", "",
            _table(detail, ["claim", "network risk (median)", "gap network vs reference (median)",
                            "vacuous where (vacuous/cases)"])]
    pre = a.get("p_preregistration")
    if pre:
        out += ["", f"P's held-out design is pre-registered in `{pre['file']}` (sha256 "
                f"`{pre['sha256'][:16]}...`); the calibration P was fitted with recorded "
                + (f"`{pre['calibration_recorded'][:16]}...`: " if pre["calibration_recorded"] else "none: ")
                + ("the same file." if pre["match"] else "**a different file: P's held-out rows are not "
                   "a pre-registered test.**")]
    return out + _counts_note(rep) + _power_line(rep)


def _answer_claim(r: dict) -> str:
    return r["claim"] + (f" [{r['parametrization']}]" if r["parametrization"] not in (None, "lazy") else "")


def _counts_note(rep) -> list[str]:
    """Why a claim's case count differs between sections. The answer's rows and the Claims
    table's count the same records (one per trained network and case; the contrast
    parametrization and P's two parts apart in both): checked here, and a mismatch is said.
    The Bound quality section counts configurations (seeds averaged, parametrizations pooled)."""
    table = {c.get("key", c["claim"]): c["cases"] for c in rep["claims"]}
    off = [f"{_answer_claim(r)}: {r['cases']} here, {table[_answer_claim(r)]} there"
           for r in rep["answer"]["rows"] if table.get(_answer_claim(r), r["cases"]) != r["cases"]]
    out = ["Counts: this table and the Claims table count records (one per trained network and case), "
           + ("with the same counts per row." if not off else
              "but their counts differ (" + "; ".join(off) + "): a mismatch, please report it.")]
    q = rep.get("quality") or {}
    if q.get("rows"):
        out.append(f"The Bound quality section counts configurations instead: {q['configs']} from "
                   f"{q['records']} G2-net records (seeds averaged, both parametrizations pooled), "
                   "so its case counts and tightness for G1-net and G2-net differ from these.")
    return ["", " ".join(out)]


def _power_line(rep) -> list[str]:
    """Can these checks fail? One line on the power checks, right under the answer: a table of
    bounds that held is only evidence if a too-small bound would not have."""
    p = rep.get("mutants", {}).get("power", [])
    if not p:
        return ["", "Can the checks fail? This store has no power checks (deliberately wrong bounds); "
                "see the Power checks section."]
    asserted = [m for m in p if m["asserted"]]
    missed = [m["mutant"] for m in asserted if not m["rejected"]]
    info = [m for m in p if not m["asserted"]]
    line = (f"Can the checks fail? {len(asserted) - len(missed)} of {len(asserted)} deliberately wrong "
            "bound(s) that must be rejected were rejected")
    line += f" (NOT rejected: {', '.join(missed)})" if missed else ""
    if info:
        line += (f"; {sum(m['rejected'] for m in info)} of {len(info)} informational mutant(s) "
                 "were rejected too")
    return ["", line + " (Power checks section)."]


def _claims(rep) -> list[str]:
    out = ["## Claims", "",
           "Provenance tags (docs/theory.md section 0): exact = identity; rigorous = inequality holding "
           "with probability >= 1 - delta; paper-claim = the paper\x27s abstract encoded as a declared "
           "law (verdict supported / not supported at these sizes); prior = earlier work, for contrast; "
           "declared = a law of ours with thresholds declared before its measurement; fitted-envelope "
           "= a law fitted to our measurements, judged only on pre-registered held-out cases.",
           "",
           "Bound claims: a violation is declared only when the Chernoff-KL lower confidence bound of "
           "the test risk exceeds the bound; the observed violation rate over independent, "
           "non-vacuous draws (one per data seed) is compared with the allowed "
           "delta + delta_test (+ delta_gap for the -net bounds; binomial p-value; none for the "
           "fitted envelope P, judged case by case). A bound >= 1 is vacuous for a [0, 1] "
           "loss. Slack is bound / test risk.", ""]
    rows = []
    for c in rep["claims"]:
        rate = (f"{fmt(c.get('violation_rate'))} vs {fmt(c.get('allowed_rate'))} "
                f"(p={fmt(c.get('rate_p_value'))}, {fmt(c.get('independent_draws'))} draws)"
                if c.get("violation_rate") is not None else "-")
        slack = (f"{fmt(c.get('slack_min'))} / {fmt(c.get('slack_median'))} / {fmt(c.get('slack_p90'))}"
                 if c.get("slack_median") is not None else "-")
        if c.get("fitted") is None:
            fit = "-"
        elif c.get("inconsistent") is not None:  # C1: a spread of G1 over r, not an exponent
            fit = f"spread {fmt(c.get('fitted'))} (allowed {fmt(c.get('declared'))})"
        else:
            fit = f"{fmt(c.get('fitted'))} (declared {fmt(c.get('declared'))})"
        rows.append([c.get("key", c["claim"]), c["provenance"], c["title"], fmt(c["cases"]),
                     fmt(c.get("violations")), rate, fmt(c.get("non_vacuous_fraction"), 2),
                     slack, fit, fmt(c.get("diverged")), c["verdict"]])
    out.append(_table(rows, ["claim", "tag", "title", "cases", "violations",
                             "rate vs allowed", "non-vacuous", "slack min/med/p90", "fit (declared)",
                             "diverged", "verdict"]))
    notes = [f"- **{c.get('key', c['claim'])}**: {c['note']}" for c in rep["claims"] if c.get("note")]
    if notes:
        out += ["", *notes]
    out += ["", "### Statements and hypotheses", ""]
    seen = set()
    for c in rep["claims"]:
        if c["claim"] in seen:
            continue
        seen.add(c["claim"])
        hyp = "; ".join(c["hypotheses"]) or "none"
        out.append(f"- **{c['claim']}** ({c['provenance']}, {c['source']}): {c['statement']} "
                   f"*Hypotheses:* {hyp}.")
    if rep["not_exercised"]:
        out += ["", "Claims of the registry with no records in this store: "
                + ", ".join(f"{c['claim']} ({c['provenance']})" for c in rep["not_exercised"]) + "."]
    return out


def _violations(rep) -> list[str]:
    out = ["## Violations", ""]
    if not rep["violations"]:
        return out + ["None: no test risk's lower confidence bound exceeded its bound."]
    for i, v in enumerate(rep["violations"], 1):
        b = v["bound"]
        out += [f"### {i}. {v['claim']} violated (seed {v['seed']})", "",
                f"- test risk {fmt(v['test_risk'], 4)} with Chernoff-KL interval "
                f"{fmt_interval(v['test_lcb'], v['test_ucb'])} (n_test = {fmt(v['n_test'])})",
                f"- bound {fmt(b['value'], 4)} = train {fmt(b['train_loss'], 4)} + main "
                f"{fmt(b['main_term'], 4)} + confidence {fmt(b['confidence_term'], 4)} "
                f"(B = {fmt(b['B'])}, grid j = {fmt(b['grid_index'])}, tr = {fmt(b['trace'])}, "
                f"n = {fmt(b['n'])}, delta = {fmt(b['delta'])})",
                f"- configuration: `{json.dumps(v['config'], sort_keys=True)}`",
                f"- reproduce: `{v['repro']}`", ""]
    return out


def _failures(rep) -> list[str]:
    runs = sum(d["runs"] for d in rep["divergences"])
    out = ["## Divergences and errors", "",
           f"{runs} diverged training run(s) in {len(rep['divergences'])} case(s), "
           f"{len(rep['errors'])} error record(s). A divergence is an outcome, not a pass: its G2 "
           "record has no bound."]
    if rep["divergences"]:
        out += ["", _table([[d["claim"], fmt(d["config"].get("L")), d["config"].get("family"),
                             fmt(d["config"].get("scale")), d["config"].get("method"), fmt(d["runs"]),
                             ",".join(fmt(s) for s in d["diverged_steps"]), fmt(d["lr"]),
                             f"`{d['repro']}`"] for d in rep["divergences"]],
                           ["claim", "L", "family", "r", "method", "runs", "at step", "lr", "reproduce"])]
    for e in rep["errors"]:
        out += ["", f"- error in a `{e['item']}` item: {e['error']}",
                f"  configuration: `{json.dumps(e['config'], sort_keys=True)}`"]
    if rep["corrupt"]:
        out += ["", f"{len(rep['corrupt'])} line(s) of the store that are not records were skipped: "
                + ", ".join(f"line {c['line']} ({c['reason']})" for c in rep["corrupt"]) + "."]
    return out


def _scaling(rep) -> list[str]:
    out = ["## Scaling fits (paper-claim laws, docs/theory.md section 5)", ""]
    if not rep["scaling"]:
        return out + ["No scaling designs in this store."]
    tau = next((s["growth_threshold"] for s in rep["scaling"] if s.get("growth_threshold")), None)
    out += ["C(L) is the complexity C_n = y^T H^{-1} y tr(H)/n at the largest n. For each seed, "
            "polynomial growth (log C = a + p log L) and exponential growth (log C = a + b L) are "
            "fitted and compared by D = 2 log LR = N_L log(RSS_exp / RSS_poly) (equal parameter "
            f"counts, so also the AIC/BIC difference): a curve is *polynomial* when every seed has "
            f"D >= {fmt(tau)}, *exponential* when every seed has D <= -{fmt(tau)}, else *undecided* "
            "(`theory/_growth.py`). The claim is supported when the class is polynomial and the "
            "negative control (parity over all positions) is not; when the control is polynomial too, "
            "the rule has no power at these sizes. The declared exponent (with kappa as the smallest "
            "upper envelope) and the fitted slopes are reported, not part of the verdict. n-growth "
            "is the slope of log C_n in log n (near 0: converged in n; near 1: C_n ~ n, memorization).",
            ""]
    rows = [[s["key"], s["provenance"], ",".join(map(str, s["Ls"] or [])), fmt(s["n_max"]),
             f"{s['class_model']} [{fmt(s['class_llr_min'])}, {fmt(s['class_llr_max'])}]",
             f"{s['control_model']} [{fmt(s['control_llr_min'])}, {fmt(s['control_llr_max'])}]",
             f"{fmt(s['fitted_slope'])} [{fmt(s['fitted_slope_min'])}, {fmt(s['fitted_slope_max'])}]",
             fmt(s["class_rate"]), fmt(s["declared_exponent"]), fmt(s["control_slope"]),
             fmt(s["control_ratio_min"]),
             f"{fmt(s['n_growth_class_max'])} / {fmt(s['n_growth_control_max'])}", s["verdict"]]
            for s in rep["scaling"]]
    return out + [_table(rows, ["fit", "tag", "L", "n", "class growth [D min, max]",
                                "control growth [D min, max]", "class slope p [seeds]",
                                "class rate b", "declared p", "control slope",
                                "min control/class C", "max n-growth class/control", "verdict"])]


def _kernel(rep) -> list[str]:
    out = ["## Kernel convergence (empirical NTK -> H, docs/theory.md section 3)", ""]
    if not rep["kernel_mc"]:
        return out + ["No kernel Monte-Carlo design in this store."]
    for k in rep["kernel_mc"]:
        out.append(_table([[fmt(m), fmt(e)] for m, e in zip(k["widths"], k["mean_rel_err"])],
                          ["width m", "mean relative Frobenius error"]))
        out += ["", f"Fitted rate {fmt(k['fitted_rate'])} against the declared {fmt(k['declared_rate'])} "
                f"± {fmt(k['tol'])}: **{k['verdict']}** (n = {k['n']}, L = {k['L']}).", ""]
    return out


def _large_n(rep) -> list[str]:
    ln = rep.get("large_n") or {}
    if not ln.get("rows"):
        return []
    out = ["## G1 at large n (`--profile large`, THEORY.md section 4)", "",
           "G1 for the minimum-norm kernel interpolant of the first n points of one sample (nested "
           "n, one Gram and one Cholesky factor for all of them), per concept class over independent "
           "target seeds. The parity and random-label classes are negative controls: their bound "
           "should stay vacuous.", ""]
    fams = sorted({r["family"] for r in ln["rows"]})
    ns = sorted({r["n"] for r in ln["rows"]})
    cell = {(r["family"], r["n"]): r for r in ln["rows"]}

    def show(c):
        return (f"{fmt(c['non_vacuous_fraction'], 2)} (G1 {fmt(c['g1_median'])}, "
                f"risk {fmt(c['test_risk_median'])})") if c else "-"

    rows = [[f"n = {n}"] + [show(cell.get((f, n))) for f in fams] for n in ns]
    out.append(_table(rows, ["", *[f"{f}: non-vacuous (median G1, risk)" for f in fams]]))
    viol = sum(r["violations"] for r in ln["rows"])
    out += ["", f"Violations: {viol}."]
    for run in ln["runs"]:
        t, m = run["timings"], run["metrics"]
        out.append(f"Cost at n_max = {run['config'].get('n_max')}, L = {run['config'].get('L')}: Gram "
                   f"{fmt(t.get('gram_s'))} s, Cholesky {fmt(t.get('factor_s'))} s, test cross-Gram "
                   f"{fmt(t.get('cross_gram_s'))} s, all n and classes {fmt(t.get('solves_s'))} s, "
                   f"total {fmt(t.get('total_s'))} s; peak RSS {fmt(m.get('peak_rss_gib'))} GiB; "
                   f"estimated cond(H) {fmt(m.get('cond_est'))}.")
    return out


def _position(rep) -> list[str]:
    out = ["## Position effect (docs/theory.md section 3)", "",
           "The last token enters H only through a degree-0 arc-cosine kernel, so a target of X_L "
           "alone should be harder (larger complexity) than the same target of X_1 alone.", ""]
    if not rep["position_effect"]:
        return out + ["No first-token / last-token pairs in this store."]
    rows = [[fmt(p["L"]), f"{p['cases_first']}/{p['cases_last']}", fmt(p["complexity_first"]),
             fmt(p["complexity_last"]), fmt(p["complexity_ratio"]),
             f"{p['pairs_last_harder']}/{p['pairs']}", p["verdict"], fmt(p["g1_first"]),
             fmt(p["g1_last"]), fmt(p["risk_first"]), fmt(p["risk_last"])] for p in rep["position_effect"]]
    return out + [f"**Verdict: {rep['position_verdict']}.** (A pair: the same data, target and init "
                  "seeds, first vs last position; compared by C_n.)", "",
                  _table(rows, ["L", "cases", "C first", "C last", "last/first", "pairs last harder",
                                "verdict", "G1 first", "G1 last", "risk first", "risk last"])]


def _scale(rep) -> list[str]:
    out = ["## C1: the input scale r (no small-input condition)", "",
           "Same function of the normalized tokens at every r (input_scale = scale). By kernel "
           "homogeneity C_n is invariant in r, so G1 may move only through the grid rounding of B; "
           f"consistent with C1 means max_r G1 / min_r G1 <= {fmt(rep['c1_spread_tol'])}. The prior "
           "two-layer form sqrt(2 B^2 / n) assumes unit-scale inputs and is shown for contrast.", ""]
    if not rep["scale_effect"]:
        return out + ["No case was run at two or more scales."]
    rows = []
    for s in rep["scale_effect"]:
        rows.append([s["family"], fmt(s["L"]), fmt(s["data_seed"]), ", ".join(fmt(x) for x in s["scales"]),
                     ", ".join(fmt(x) for x in s["g1"]), ", ".join(fmt(x) for x in s["prior_two_layer"]),
                     ", ".join(fmt(x) for x in s["complexity"]), fmt(s["g1_spread"]),
                     fmt(s["prior_spread"]), ", ".join(fmt(x) for x in s["grid_floor_scales"]) or "-",
                     _yn(s["c1_applies"]), _yn(s["consistent_with_c1"])])
    out.append(_table(*_distinguish(
        rows, ["family", "L", "data seed", "r", "G1", "prior sqrt(2B^2/n)", "C_n", "G1 spread",
               "prior spread", "B < 1 at r", "C1 applies", "consistent"],
        [s.get("config") or {} for s in rep["scale_effect"]], nkey=3)))
    if any(s["grid_floor_scales"] for s in rep["scale_effect"]):
        out += ["", "Where B < 1 (large r: B^2 = y^T H^{-1} y scales as 1/r^2) G1's union-bound grid "
                "B_j = gamma^j, j >= 0, rounds B up to Bbar = 1, so its main term 2 Bbar sqrt(tr H)/n "
                "no longer scales like B sqrt(tr H)/n: G1 grows with r although C_n and the predictor "
                "are unchanged. That is a property of the bound's grid (docs/theory.md section 4), not of "
                "learnability at large inputs."]
    return out


def _contrast(rep) -> list[str]:
    out = ["## Contrast with prior results", "",
           "Which hypotheses each bound configuration satisfies (yes/no; data seeds pooled) and what "
           "each bound gives. P-AZL: max token norm <= eps_AZL (Allen-Zhu & Li 2019); P-ADHLW: "
           "unit-scale kernel H_ii = 1/2 (Arora et al. 2019), false for the RNN kernel in general. "
           "Prior two-layer form: sqrt(2 B^2 / n) with B^2 = y^T H^{-1} y.", ""]
    if not rep["contrast"]:
        return out + ["No bound cases in this store."]
    claims = list(rep["contrast"][0]["applies"])
    rows = [[c["family"], c["f"] if c["family"] != "parity" else "sign", fmt(c["L"]),
             "all" if c["positions"] is None else ",".join(map(str, c["positions"])),
             fmt(c["scale"]), fmt(c["N"]), fmt(c["l0"]), fmt(c["n"]),
             c["method"], fmt(c["cases"]), *[_yn(c["applies"][k]) for k in claims], fmt(c["g1"]),
             fmt(c["prior_two_layer"]), fmt(c["g2"]), fmt(c["test_risk"])] for c in rep["contrast"]]
    out.append(_table(*_distinguish(
        rows, ["family", "f", "L", "positions", "r", "N", "l0", "n", "method", "cases", *claims,
               "G1", "prior form", "G2 (mean)", "test risk"],
        [c.get("config") or {} for c in rep["contrast"]], nkey=9)))
    reasons = sorted({m for c in rep["contrast"] for msgs in c["hypotheses"].values() for m in msgs})
    if reasons:
        out += ["", "Unmet hypotheses in this table:", "", *[f"- {m}" for m in reasons]]
    return out


def _mutants(rep) -> list[str]:
    out = ["## Power checks (deliberately wrong bounds, kernels and laws)", "",
           "Each asserted mutant must be rejected by the check it targets; a mutant marked "
           "'informational' is recorded though the bound's slack is expected to hide it (its detail "
           "says where it is caught instead). Mutant records never count toward a claim's verdict."]
    p, other = rep["mutants"]["power"], rep["mutants"]["mutant_records"]
    if not p and not other:
        return out + ["", "No power-check records in this store."]
    if p:
        out += ["", _table([[m["mutant"], m["claim"], "asserted" if m["asserted"] else "informational",
                             _yn(m["rejected"]), m["detail"]] for m in p],
                           ["mutant", "claim", "must be rejected", "rejected", "detail"])]
    if other:
        out += ["", _table([[o["kind"], o["claim"], fmt(o["records"]), json.dumps(o["verdicts"])]
                            for o in other], ["kind", "claim", "mutant records", "verdicts"])]
    return out


#: Plots embedded next to their section instead of under Plots: the section's lines and the png.
_BESIDE = {"sample_complexity": "sample_complexity_vs_L.png"}


def _with_plot(rep, section: str) -> list[str]:
    """A section's lines followed by its plot where one was drawn (``_BESIDE``)."""
    lines, png = rep.get(section) or [], _BESIDE[section]
    if not lines or png not in rep["plots"]:
        return lines
    return [*lines, f"![{png}]({png})", ""]


def _plots(rep) -> list[str]:
    out = ["## Plots", ""]
    if rep["plots_note"]:
        out += [rep["plots_note"], ""]
    beside = [p for s, p in _BESIDE.items() if p in rep["plots"] and rep.get(s)]
    if beside:
        out += [f"Shown with their sections above: {', '.join(beside)}.", ""]
    return out + [f"![{p}]({p})" for p in rep["plots"] if p not in beside]


def to_markdown(rep: dict) -> str:
    head = ["# RNN generalization theory: results report", "",
            f"Store `{rep['store']}`: {rep['records']} records ({rep['raw_records']} lines read, "
            f"{len(rep['corrupt'])} line(s) that are not records skipped), generated {rep['generated']}."]
    parts = [head, _answer(rep), _claims(rep), networks_markdown(rep), training_facts_markdown(rep),
             _violations(rep), _failures(rep), _with_plot(rep, "sample_complexity"),
             rep.get("c1_net") or [], _scaling(rep),
             _kernel(rep), _large_n(rep),
             _position(rep), _scale(rep), _contrast(rep), quality_markdown(rep["quality"]),
             _mutants(rep), audit_markdown(rep), real_markdown(rep), _plots(rep)]
    return "\n".join(line for part in parts for line in [*part, ""])
