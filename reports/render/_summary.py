"""Per-claim summaries of a results store: the numbers a report and the pytest summary print.

Bound claims (rigorous, G1/G2): cases, violations, divergences, vacuous share, the observed
violation rate over independent non-vacuous draws against the allowed rate of the levels those
records were judged at (``theory.allowed_violation_rate``: delta + delta_test, + delta_gap for a
-net bound; binomial test; none for the fitted envelope P), slack quantiles bound / test risk,
verdict. Fitted claims (scaling laws, rates): the fit's verdict and numbers. Mutant records
(deliberately wrong bounds or kernels from the power checks) are summarised apart and never
count toward a claim's verdict.
"""

from __future__ import annotations

import math

import numpy as np

import theory as T

from ._format import num as _num


def _provenance(claim: str) -> str:
    """The registry's tag of ``claim``; a G1-net / G2-net claim not (yet) in the registry has its
    base bound's tag (rigorous: the -net bound adds a Chernoff-KL UCB, docs/theory.md section 4)."""
    if claim not in T.REGISTRY and claim.endswith("-net"):
        claim = claim[: -len("-net")]
    return T.get_claim(claim).provenance


def rate_levels(record: dict) -> tuple[float, float, float | None]:
    """The (delta, delta_test, delta_gap) a bound record was judged at: delta from its bound
    (the config's when absent), delta_test from the config, delta_gap only for a -net bound."""
    b, c = record.get("bound") or {}, record.get("config") or {}
    gap = b.get("delta_gap")
    return (_num(b.get("delta", c.get("delta"))), _num(c.get("delta_test")),
            None if gap is None else _num(gap))


def independent_draws(recs: list[dict]) -> list[dict]:
    """The records the binomial test counts: one per independent sample, non-vacuous ones only
    (docs/theory.md section 4, "Violation").

    Every random stream of a case (training, test and gap samples) derives from its
    ``data_seed``, and cases with the same data seed draw from the same keys (another L, n or
    scale reshapes or rescales the same numbers); the seeds of one case share its samples. So the
    records of one data seed are one draw, represented by the non-vacuous record with the
    smallest case_id (a choice that ignores the test sample). A vacuous bound (value >= 1) cannot
    be violated by a [0, 1] risk, so it is no trial. Records without a data seed count alone."""
    groups: dict = {}
    for r in sorted(recs, key=lambda r: r.get("case_id", "")):
        if r["verdict"] not in ("holds", "violation") or not _num(r["bound"].get("value")) < 1.0:
            continue
        seed = (r.get("config") or {}).get("data_seed")
        groups.setdefault(("data_seed", seed) if seed is not None else ("case", r.get("case_id")), r)
    return list(groups.values())


def _bound_summary(claim: str, recs: list[dict]) -> dict:
    evaluated = [r for r in recs if r["verdict"] in ("holds", "vacuous", "violation")]
    viol = [r for r in evaluated if r["verdict"] == "violation"]
    vac = [r for r in evaluated if r["verdict"] == "vacuous"]
    div = [r for r in recs if r["verdict"] == "diverged"]
    na = [r for r in recs if r["verdict"] == "not-applicable"]
    slack = [(_num(r["bound"].get("value")) / max(_num(r["metrics"].get("test_risk")), 1e-12))
             for r in evaluated]
    slack = [s for s in slack if math.isfinite(s)]
    q = np.quantile(slack, [0.0, 0.5, 0.9]).tolist() if slack else [None] * 3
    # P is a fitted envelope with no confidence level: judged per case, no allowed rate
    draws = independent_draws(evaluated) if claim != "P" else []
    levels = [rate_levels(r) for r in draws]
    rt = None
    if draws and all(math.isfinite(x) for lv in levels for x in lv if x is not None):
        # (a record that does not carry its levels gets no allowed rate, never a guessed one)
        rt = T.violation_rate_test(sum(r["verdict"] == "violation" for r in draws), len(draws),
                                   T.allowed_violation_rate(levels))
    nonvac = (len(evaluated) - len(vac)) / len(evaluated) if evaluated else 0.0
    if not evaluated:
        verdict = "no evaluable case"
    elif viol:
        verdict = "VIOLATED"
    elif not vac or len(vac) < len(evaluated):
        verdict = "holds"
    else:
        verdict = "holds (all vacuous: tested nothing)"
    return {"claim": claim, "key": claim, "kind": "bound",
            "provenance": _provenance(claim), "cases": len(evaluated),
            "violations": len(viol), "diverged": len(div), "not_applicable": len(na),
            "non_vacuous_fraction": nonvac, "independent_draws": len(draws),
            "violation_rate": rt.observed_rate if rt else None,
            "allowed_rate": rt.expected_rate if rt else None,
            "rate_p_value": rt.p_value if rt else None,
            "slack_min": q[0], "slack_median": q[1], "slack_p90": q[2], "verdict": verdict}


def parametrization(record: dict) -> str:
    """The record's parametrization; records written before it existed were 'contrast'."""
    c = record.get("config", {})
    if "parametrization" in c:
        return c["parametrization"]
    return "contrast" if record.get("kind") == "bound" else "lazy"


def fit_key(record: dict) -> str:
    """A stable, readable name of one fitted law (a baseline key): the claim and the design
    parameters that tell two fits of the same claim apart (C4's N or l_0, the anchor)."""
    c = record.get("config", {})
    parts = []
    if record["claim"] == "C4-N" and "N" in c:
        parts.append(f"N={c['N']}")
    if record["claim"] == "C4-l0" and "l0" in c:
        parts.append(f"l0={c['l0']}")
    if record["claim"] == "T-gd" and "quantity" in c:
        parts.append(str(c["quantity"]))
    if c.get("anchor", "end") != "end":
        parts.append(f"anchor={c['anchor']}")
    return f"{record['claim']} fit" + (f" ({', '.join(parts)})" if parts else "")


def p_region(record: dict) -> str:
    """Where a P record's case lies (docs/theory.md section 4, "The predicted bound P"): "calibration
    grid" (descriptive only), "interpolation" or "extrapolation" (pre-registered tests). Records
    written before the regions existed say only whether they were on the grid."""
    m = record.get("metrics", {})
    return m.get("p_region") or ("calibration grid" if m.get("in_calibration") else "interpolation")


def p_preregistration_status() -> dict | None:
    """The pre-registered held-out design of P: the sha256 of the committed file and of the one the
    calibration recorded, and whether they match (the report prints this)."""
    try:
        _, sha = T.load_preregistration()
        raw = T.load_calibration()[1]
    except FileNotFoundError:
        return None
    recorded = raw.get("preregistration_sha256")
    return {"file": "theory/p_preregistration.json", "sha256": sha,
            "calibration_recorded": recorded, "match": recorded == sha}


def claim_summaries(records: list[dict]) -> list[dict]:
    """One summary row per claim present in ``records`` (mutants excluded; see mutant_summaries).
    ``records``: normalised (``_render.normalised``: one per case_id)."""
    real = [r for r in records if not r.get("metrics", {}).get("mutant")]
    rows = []
    by_claim: dict[str, list[dict]] = {}
    for r in real:
        by_claim.setdefault(r["claim"], []).append(r)
    for claim in sorted(by_claim):
        recs = by_claim[claim]
        kinds = {r["kind"] for r in recs}
        if "bound" in kinds:
            # The contrast parametrization is the kernel regime's negative control (docs/theory.md
            # section 2): its bound records are summarised apart and never decide the claim.
            bounds = [r for r in recs if r["kind"] == "bound"]
            lazy = [r for r in bounds if parametrization(r) != "contrast"]
            contrast = [r for r in bounds if parametrization(r) == "contrast"]
            if lazy and claim == "P":
                # P is a fitted envelope: only its pre-registered configurations off the
                # calibration grid test it, inside the box and beyond it, reported apart
                for region in T.P_REGIONS[1:] + T.P_REGIONS[:1]:
                    part = [r for r in lazy if p_region(r) == region]
                    if part:
                        rows.append({**_bound_summary(claim, part), "key": f"P ({region})"})
            elif lazy:
                rows.append(_bound_summary(claim, lazy))
            if contrast:
                rows.append({**_bound_summary(claim, contrast), "key": f"{claim} [contrast]",
                             "contrast": True})
        fits = [r for r in recs if r["kind"] in ("scaling", "rate-fit")]
        for r in fits:
            m = r["metrics"]
            base = claim.split("-")[0] if claim.startswith("C4") else claim
            tag = T.get_claim(base).provenance
            if r["kind"] == "rate-fit" and claim == "K-mc":  # the limit is exact, its rate fitted
                tag = "exact (Monte-Carlo rate)"
            # T-gd: the registry's tag, "declared" (a law of ours on the network)
            rows.append({"claim": claim, "key": fit_key(r), "kind": r["kind"],
                         "provenance": tag, "cases": 1,
                         "violations": 0 if r["verdict"] == "supported" else None,
                         "non_vacuous_fraction": None,
                         "fitted": m.get("fitted_slope", m.get("fitted_rate")),
                         "declared": m.get("declared_exponent", m.get("declared_rate")),
                         "verdict": r["verdict"]})
        ident = [r for r in recs if r["kind"] == "identity"]
        if ident:
            bad = [r for r in ident if r["verdict"] != "pass"]
            rows.append({"claim": claim, "key": f"{claim} identities", "kind": "identity",
                         "provenance": T.get_claim(claim).provenance, "cases": len(ident),
                         "violations": len(bad),
                         "non_vacuous_fraction": None,
                         "verdict": "holds" if not bad else "VIOLATED"})
    return rows


def mutant_summaries(records: list[dict]) -> list[dict]:
    """How each deliberately wrong bound or kernel fared: an asserted one must have been rejected;
    one with ``asserted`` False is shown for information (the bound's slack hides it)."""
    rows = []
    for r in records:
        if r["kind"] == "power":
            rows.append({"mutant": r["config"].get("mutant"), "claim": r["claim"],
                         "rejected": r["verdict"] == "rejected",
                         # a mutant recorded for information (reports.cases._power: asserted False)
                         "asserted": bool(r["config"].get("asserted", True)),
                         "detail": r.get("note", "")})
    return rows
