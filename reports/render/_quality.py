"""Bound quality beyond validity: does a bound rank configurations the way their true
generalization gap does (issue 14; Jiang, Neyshabur, Mobahi, Krishnan & Bengio, "Fantastic
Generalization Measures and Where to Find Them", ICLR 2020; Dziugaite et al., NeurIPS 2020)?

Unit of analysis: a **configuration** = a G2-net record's ``config`` without its seed keys
(``seed_index``, ``init_seed``); its seeds' values are averaged (seeds of one configuration are
replicates, not extra configurations). For each configuration:

- the generalization gap = network test risk - network train risk (``metrics`` of G2-net);
- measures: G1-net and G2-net (their records' ``bound.value``), P (claim "P", optional), the prior
  bounds of ``theory.prior_rnn_bounds`` on ``metrics['norms']``, and the simple measures
  ||W_T - W_0||_F and ||W_T||_2 (from the norms) and sqrt(y^T H^-1 y / n) (= B / sqrt(n) of the
  G1 record of the same configuration).

Statistics (scipy): Kendall's tau (``scipy.stats.kendalltau``, tau-b) between a measure and the gap
across configurations, with a percentile bootstrap CI (``scipy.stats.bootstrap``, paired, seeded);
the granulated tau of Jiang et al. (their eq. 4): for each hyperparameter axis, the mean of tau
over the groups of configurations that differ **only** along that axis (the keys that co-vary
with it by construction move with it, see ``AXES``), an axis with fewer than ``MIN_GROUPS``
groups reported "n/a (k groups)", and Psi = the mean over the axes that have a value. Validity
(violations by the suite's rule ``theory.is_violation`` against the allowed rate, binomial test
``theory.violation_rate_test``), the non-vacuous fraction (bound < 1) and the median tightness
(bound / test risk) are per record. Bounds that are order forms (``rigorous`` False) get no
validity verdict. Nothing here recomputes a bound: values come from the records or from
``theory``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
from scipy import stats

import theory as T

from ._format import fmt
from ._format import num as _num
from ._format import table as _table

#: Hyperparameter axes of the granulated tau -> the config keys that vary with the axis (derived
#: keys move with it: N = l0 + 1 = L for all-position targets, steps = n for online SGD, the
#: target is built at input_scale = scale).
AXES = {
    "L": ("L", "N", "l0", "positions"),
    "n": ("n", "steps"),
    "m": ("m",),
    "r": ("scale", "input_scale"),
    "family": ("family", "f", "positions", "N", "l0"),
    "N": ("N", "positions"),
    "l0": ("l0", "positions"),
    "method": ("method", "steps", "lr_frac"),
}
SEED_KEYS = ("seed_index", "init_seed")
MIN_GROUPS = 3
N_BOOT = 999
BOOT_SEED = 20200426
LEVEL = 0.9

PW = "||W_T - W0||_F"
PH = "sqrt(y^T H^-1 y / n)"
PS = "||W_T||_2"
#: measure -> (kind, provenance); kind 'bound' has validity/vacuity/tightness, 'measure' has not.
MEASURES = {
    "G1-net": ("bound", "rigorous"), "G2-net": ("bound", "rigorous"),
    "P": ("bound", T.PREDICTED_PROVENANCE["fit_predicted_bound"]),
    "P-THT": ("bound", "prior"), "P-ZLD": ("order form", "prior"),
    PW: ("measure", "-"), PH: ("measure", "-"), PS: ("measure", "-"),
}
_EVALUATED = ("holds", "vacuous", "violation")


def _key(cfg: dict, drop=SEED_KEYS) -> str:
    return json.dumps({k: v for k, v in cfg.items() if k not in drop}, sort_keys=True)


def _real(r: dict) -> bool:
    return r.get("kind") == "bound" and not r.get("metrics", {}).get("mutant")


def quality_points(records: list[dict]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Per-configuration points (gap and measures, seeds averaged) and, per bound, the per-record
    cases its validity is judged on (value, test risk, n_test, allowed rates)."""
    # last record per (claim, case_id): G2-net and G1-net share a case's config and seed, so a
    # dedupe by case_id alone would merge records of different claims
    recs = list({(r["claim"], r["case_id"]): r for r in records if _real(r)}.values())
    by_claim: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in recs:
        by_claim[r["claim"]][_key(r["config"], drop=())] = r
        by_claim[r["claim"]].setdefault(_key(r["config"]), r)
    seeds: dict[str, list[dict]] = defaultdict(list)
    cases: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        if r["claim"] != "G2-net" or r["verdict"] not in _EVALUATED:
            continue
        cfg, m = r["config"], r["metrics"]
        test, train = _num(m.get("test_risk")), _num(m.get("train_risk"))
        if not (math.isfinite(test) and math.isfinite(train)):
            continue
        n, dtest = int(_num(cfg.get("n"))), _num(cfg.get("delta_test", 0.01))
        vals: dict[str, float] = {}
        allowed: dict[str, float] = {}
        for claim in ("G1-net", "G2-net", "P"):
            other = r if claim == "G2-net" else (by_claim[claim].get(_key(cfg, drop=()))
                                                 or by_claim[claim].get(_key(cfg)))
            if other and other["verdict"] in _EVALUATED:
                b = other["bound"]
                vals[claim] = _num(b.get("value"))
                # P, a fitted envelope, has no confidence level: judged per case, no allowed rate
                allowed[claim] = float("nan") if claim == "P" else _num(b.get("delta", cfg.get("delta"))) + (
                    _num(b.get("delta_gap")) if b.get("delta_gap") is not None else 0.0)
        norms = m.get("norms")
        if norms:
            for name, pb in T.prior_rnn_bounds(norms, n=n, L=int(cfg["L"]), m=int(cfg["m"]),
                                               d=int(cfg["d"]), delta=_num(cfg["delta"]),
                                               train_loss=min(max(train, 0.0), 1.0)).items():
                vals[name] = pb.value
                allowed[name] = pb.delta if pb.rigorous else float("nan")
            vals[PW], vals[PS] = _num(norms.get("dW_fro")), _num(norms.get("W_spec"))
        elif m.get("movement") is not None:
            vals[PW] = _num(m["movement"])
        g1 = by_claim["G1"].get(_key(cfg))
        if g1 and math.isfinite(_num(g1["bound"].get("B"))):
            vals[PH] = _num(g1["bound"]["B"]) / math.sqrt(n)
        seeds[_key(cfg)].append({"cfg": cfg, "gap": test - train, "test": test, "vals": vals,
                                 "norms": bool(norms)})
        for name, v in vals.items():  # an infinite bound is a (vacuous) case, a NaN is none
            if MEASURES[name][0] != "measure" and not math.isnan(v):
                cases[name].append({"value": v, "test_risk": test, "n_test": int(_num(m.get("n_test"))),
                                    "delta": allowed.get(name, float("nan")), "delta_test": dtest})
    points = []
    for key, rows in seeds.items():
        cfg = {k: v for k, v in rows[0]["cfg"].items() if k not in SEED_KEYS}
        meas = {}
        for name in MEASURES:
            v = [x["vals"][name] for x in rows if math.isfinite(x["vals"].get(name, float("nan")))]
            if v:
                meas[name] = float(np.mean(v))
        points.append({"key": key, "config": cfg, "seeds": len(rows),
                       "gap": float(np.mean([x["gap"] for x in rows])),
                       "test_risk": float(np.mean([x["test"] for x in rows])), "measures": meas,
                       "with_norms": sum(x["norms"] for x in rows)})
    points.sort(key=lambda p: p["key"])
    return points, cases


def _tau(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(stats.kendalltau(x, y).statistic)


def tau_b_batched(x, y, axis=-1) -> np.ndarray:
    """Kendall's tau-b along ``axis`` for a batch of samples: (concordant - discordant) pairs over
    sqrt(pairs untied in x * pairs untied in y), from pairwise sign matrices. The same number as
    ``scipy.stats.kendalltau`` (checked in checks/test_quality.py), vectorized over bootstrap
    resamples, where scipy's per-call overhead (~2 ms) would make a 999-resample CI cost seconds
    per measure. NaN where x or y is constant."""
    x, y = np.moveaxis(np.asarray(x, float), axis, -1), np.moveaxis(np.asarray(y, float), axis, -1)
    sx = np.sign(x[..., :, None] - x[..., None, :])
    sy = np.sign(y[..., :, None] - y[..., None, :])
    num = np.sum(sx * sy, axis=(-2, -1))
    den = np.sqrt(np.sum(sx * sx, axis=(-2, -1)) * np.sum(sy * sy, axis=(-2, -1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def tau_with_ci(x, y, *, n_resamples: int = N_BOOT, seed: int = BOOT_SEED,
                level: float = LEVEL) -> dict:
    """Kendall's tau of (x, y) (scipy) and its paired percentile bootstrap CI
    (``scipy.stats.bootstrap``, seeded; statistic ``tau_b_batched``)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    tau = _tau(x, y)
    lo = hi = float("nan")
    if math.isfinite(tau) and len(x) >= 4:
        res = stats.bootstrap((x, y), tau_b_batched, paired=True, vectorized=True,
                              batch=max(1, 4_000_000 // len(x) ** 2), n_resamples=n_resamples,
                              confidence_level=level, method="percentile",
                              random_state=np.random.default_rng(seed))
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return {"tau": tau, "ci": [lo, hi], "configs": int(len(x))}


def granulated(points: list[dict], measure: str, axis: str, *, min_groups: int = MIN_GROUPS,
               seed: int = BOOT_SEED) -> dict:
    """Jiang et al.'s psi for one axis: mean tau over groups of configurations that differ only in
    ``AXES[axis]``; a group needs >= 2 distinct axis values. CI: bootstrap of the group mean."""
    keys = AXES[axis]
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in points:
        if measure in p["measures"] and math.isfinite(p["measures"][measure]):
            groups[_key(p["config"], drop=SEED_KEYS + keys)].append(p)
    taus, used = [], 0
    for g in groups.values():
        if len({json.dumps([p["config"].get(k) for k in keys]) for p in g}) < 2:
            continue
        t = _tau([p["measures"][measure] for p in g], [p["gap"] for p in g])
        if math.isfinite(t):
            taus.append(t)
            used += len(g)
    out = {"axis": axis, "groups": len(taus), "configs": used}
    if len(taus) < min_groups:
        out.update(psi=None, ci=[None, None], label=f"n/a ({len(taus)} groups)")
        return out
    res = stats.bootstrap((np.asarray(taus),), np.mean, n_resamples=N_BOOT, confidence_level=LEVEL,
                          method="percentile", random_state=np.random.default_rng(seed))
    psi = float(np.mean(taus))
    ci = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
    out.update(psi=psi, ci=ci, label=f"{psi:.2f} [{ci[0]:.2f}, {ci[1]:.2f}] ({len(taus)} groups)")
    return out


def _validity(name: str, cs: list[dict]) -> dict:
    kind = MEASURES[name][0]
    if kind != "bound" or not cs:  # order forms: values and vacuity, never a validity verdict
        return {"cases": len(cs), "violations": None, "violation_rate": None, "allowed_rate": None,
                "p_value": None,
                "validity_note": "order form (constants not found): no validity verdict"
                if kind == "order form" else ("" if cs else "no cases")}
    judged = [c for c in cs if math.isfinite(c["delta"])]
    viol = sum(T.is_violation(c["test_risk"], c["n_test"], c["value"], c["delta_test"]) for c in judged)
    if not judged:
        return {"cases": len(cs), "violations": viol, "violation_rate": None, "allowed_rate": None,
                "p_value": None, "validity_note": {
                    "P": "a fitted envelope: judged per case, no allowed rate",
                    "P-THT": "evaluated at its own norms without the union bound over levels: "
                             "no validity verdict"}.get(name, "allowed rate unknown")}
    rt = T.violation_rate_test(viol, len(judged), T.allowed_violation_rate(
        (c["delta"], c["delta_test"], None) for c in judged))
    return {"cases": len(judged), "violations": viol, "violation_rate": rt.observed_rate,
            "allowed_rate": rt.expected_rate, "p_value": rt.p_value,
            "validity_note": "REJECTED: violated more often than allowed" if rt.rejected else ""}


def quality_section(records: list[dict]) -> dict:
    """The bound-quality section of report.json: one row per measure, plus the points."""
    points, cases = quality_points(records)
    rows = []
    for name, (kind, prov) in MEASURES.items():
        pts = [p for p in points if name in p["measures"] and math.isfinite(p["measures"][name])]
        if not pts:
            continue
        overall = tau_with_ci([p["measures"][name] for p in pts], [p["gap"] for p in pts])
        axes = {a: granulated(points, name, a) for a in AXES}
        psis = [v["psi"] for v in axes.values() if v["psi"] is not None]
        cs = cases.get(name, [])
        row = {"measure": name, "kind": kind, "provenance": prov, **overall, "axes": axes,
               "granulated": float(np.mean(psis)) if psis else None, "granulated_axes": len(psis),
               **_validity(name, cs)}
        if kind != "measure" and cs:
            v = np.array([c["value"] for c in cs])
            row["non_vacuous_fraction"] = float(np.mean(v < 1.0))
            row["tightness_median"] = float(np.median(v / np.maximum([c["test_risk"] for c in cs],
                                                                      1e-12)))
            row["value_median"] = float(np.median(v))
        rows.append(row)
    best = {}
    for a in AXES:  # every measure at the top psi (ties are common with few groups)
        scored = [(r["axes"][a]["psi"], r["measure"]) for r in rows if r["axes"][a]["psi"] is not None]
        top = max((s for s, _ in scored), default=None)
        best[a] = (None if top is None else
                   {"psi": top, "measures": [m for s, m in scored if s >= top - 1e-12]})
    return {"configs": len(points), "records": sum(p["seeds"] for p in points),
            "records_with_norms": sum(p["with_norms"] for p in points), "rows": rows,
            "best_per_axis": best, "points": points, "min_groups": MIN_GROUPS,
            "bootstrap": {"n_resamples": N_BOOT, "seed": BOOT_SEED, "level": LEVEL,
                          "method": "percentile"},
            "not_evaluated": {"P-CLZ": T.get_claim("P-CLZ").statement}}


def quality_markdown(q: dict) -> list[str]:
    """The report.md section for ``quality_section``'s dict."""
    out = ["## Bound quality: ranking the generalization gap", "",
           "Per configuration (seeds averaged): gap = network test risk - train risk. tau = Kendall's "
           f"tau-b between the measure and the gap across configurations, [{q['bootstrap']['level']:.0%} "
           f"percentile bootstrap CI, {q['bootstrap']['n_resamples']} resamples, seed "
           f"{q['bootstrap']['seed']}]; per axis: Jiang et al.'s granulated tau (mean tau over groups "
           f"where only that axis varies; 'n/a (k groups)' below {q['min_groups']} groups); Psi = mean "
           "over the axes that have a value. Validity: violations / cases (the suite's rule) and the "
           "observed rate vs the allowed one; tightness = median bound / test risk."]
    if not q["rows"]:
        return out + ["", "No G2-net records in this store: nothing to rank."]
    axes = list(AXES)
    rows = []
    for r in q["rows"]:
        rate = f"{fmt(r['violation_rate'], 2)} vs {fmt(r['allowed_rate'], 2)}"
        val = "n/a" if r["violations"] is None else f"{r['violations']}/{r['cases']} ({rate})"
        ci = r["ci"]
        tau = f"{fmt(r['tau'], 2)} [{fmt(ci[0], 2)}, {fmt(ci[1], 2)}]"
        rows.append([r["measure"], r["provenance"], fmt(r["configs"]), val,
                     fmt(r.get("non_vacuous_fraction"), 2), fmt(r.get("tightness_median")), tau,
                     *[r["axes"][a]["label"] for a in axes], fmt(r["granulated"], 2)])
    out += ["", f"{q['configs']} configurations from {q['records']} G2-net records.", "",
            _table(rows, ["measure", "tag", "configs", "violations (rate vs allowed)", "non-vacuous",
                          "tightness", "tau [CI]", *[f"psi {a}" for a in axes], "Psi"])]
    notes = ["- best ranking per axis (highest psi; ties listed): " + "; ".join(
        f"{a}: " + ("n/a" if b is None else f"{' = '.join(b['measures'])} ({b['psi']:.2f})")
        for a, b in q["best_per_axis"].items())]
    for r in q["rows"]:
        if r["provenance"] == "prior" and r.get("value_median") is not None:
            notes.append(f"- {r['measure']}: median value {fmt(r['value_median'])}"
                         + (f", vacuous by a factor of about {fmt(r['value_median'])}"
                            if r["value_median"] >= 1 else "")
                         + (f"; {r['validity_note']}" if r["validity_note"] else ""))
    if q["records_with_norms"] < q["records"]:
        notes.append(f"- only {q['records_with_norms']} of {q['records']} G2-net records carry "
                     "metrics['norms'] (models.weight_norms): the prior bounds and ||W_T||_2 rest "
                     "on those alone")
    notes.append(f"- P-CLZ (Chen, Li & Zhao 2020): not evaluated. {q['not_evaluated']['P-CLZ']}")
    return out + ["", *notes]
