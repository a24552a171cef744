"""The predicted bound P(n, L, N, l_0, m, delta) (docs/theory.md section 4; claim P).

Fast: the stored constants are exactly the fit of the stored calibration points, every point lies
under its fitted envelope, P's formula by hand, and P refuses configurations outside its domain.
Predictive (bounds tier): Hypothesis draws configurations OFF the calibration grid (lengths,
widths and sample sizes the fit never saw, inside the calibrated ranges), trains networks, and
asserts their test risk stays under P with the violation rule. A violation here is a finding
about the declared laws (they do not predict), not something to tune away: the calibration is
data written by `python -m reports calibrate`, never edited by hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math

import numpy as np
import pytest

import theory as T
from checks._harness import assert_no_violation, record_power
from checks._profiles import active_profile
from reports.cases._calibrate import C_LS, C_NS, GAP_MS, preregistered_cases
from reports.cases._evaluate import evaluate_bound_case, on_calibration_grid, predicted_record
from theory._predicted import FAMILIES, _design

P, RAW = T.load_calibration()
DOM = RAW["points"]["domain"]
RAW_PRE, PRE_SHA = T.load_preregistration()


def _lstsq_rtol(A: np.ndarray, t: np.ndarray) -> float:
    """A relative forward-error bound for a least-squares solution computed in float64.

    The stored constants were fitted on another machine: BLAS may sum in another order, so a refit
    agrees only to rounding (measured: 1.3e-14 relative on an AMD EPYC). Golub & Van Loan (Matrix
    Computations, 4th ed., section 5.3.8) bound the solution's relative change under relative
    perturbations of size eps of A and t by eps (2 kappa / cos(theta) + tan(theta) kappa^2), with
    kappa = cond(A) and sin(theta) = ||r|| / ||t||. A backward-stable solver's eps is a small
    multiple of the unit roundoff u = 2^-53 times the problem size; we take eps = 10 rows u, and the
    envelope's lift (the largest residual, added to w[0]) adds rows u ||t||-sized rounding, covered
    by the same factor. Here: kappa 57-90 and tan(theta) < 0.12 give rtol ~ 1e-11."""
    w, *_ = np.linalg.lstsq(A, t, rcond=None)
    r = t - A @ w
    sin = min(float(np.linalg.norm(r) / np.linalg.norm(t)), 0.99)
    cos, kappa = math.sqrt(1 - sin * sin), float(np.linalg.cond(A))
    eps = 10 * A.shape[0] * 2.0**-53
    return eps * (2 * kappa / cos + sin / cos * kappa**2)


def _floats(tree, prefix=""):
    """(path, float) for every number of a nested JSON value, so that two fits compare leaf by leaf."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _floats(v, f"{prefix}/{k}")
    elif isinstance(tree, list | tuple):
        for i, v in enumerate(tree):
            yield from _floats(v, f"{prefix}[{i}]")
    elif isinstance(tree, float):  # counts (ints) are compared exactly, with the rest of the tree
        yield prefix, tree


@pytest.mark.fast
def test_stored_constants_are_the_fit_of_the_stored_points():
    # Not exact equality: a refit on another CPU or BLAS differs in the 14th digit (summation order).
    # Everything that is not a float (domain, counts, provenance) must be equal; every float within
    # the fit's own forward-error bound, taken at the worst-conditioned of the three fits.
    pts = RAW["points"]
    designs = []
    for fam in FAMILIES:
        rows = [p for p in pts["complexity"] if p["family"] == fam]
        A = _design(fam, *(np.array([p[k] for p in rows]) for k in ("L", "N", "l0", "n")))
        designs.append((A, np.log([p["C"] for p in rows])))
    g = pts["gap"]
    designs.append((np.stack([np.ones(len(g)), *(np.log([p[k] for p in g]) for k in ("m", "L", "n"))], 1),
                    np.log([max(p["gap"], 1e-12) for p in g])))
    rtol = max(_lstsq_rtol(A, t) for A, t in designs)
    assert rtol < 1e-9  # the bound itself is small: a mis-stored constant cannot hide in it
    stored, refit = RAW["fitted"], P.to_json()
    strip = lambda tree: json.loads(json.dumps(tree), parse_float=lambda s: 0.0)  # noqa: E731
    assert strip(stored) == strip(refit)
    a, b = dict(_floats(stored)), dict(_floats(refit))
    assert a.keys() == b.keys()
    scale = max(abs(v) for v in a.values())  # a norm-wise bound: rtol relative to the largest constant
    bad = {k: (a[k], b[k]) for k in a if abs(a[k] - b[k]) > rtol * max(abs(a[k]), scale)}
    assert not bad, f"stored constants differ from a refit beyond rtol {rtol:.1e}: {bad}"


@pytest.mark.fast
def test_every_calibration_point_lies_under_the_envelope():
    # The envelope raises the constant by the largest log residual: the largest point sits on
    # the law (to float rounding), none above it. 1e-9 relative: exp/log of float64 sums.
    for p in RAW["points"]["complexity"]:
        assert p["C"] <= P.complexity_at(p["family"], p["L"], p["N"], p["l0"], p["n"]) * (1 + 1e-9)
    for p in RAW["points"]["gap"]:
        assert p["gap"] <= P.gap_at(p["m"], p["L"], p["n"]) * (1 + 1e-9)
    q = P.fit_quality["gap"]
    assert q["declared_q"] == 0.5 and math.isfinite(q["fitted_q"])


@pytest.mark.fast
def test_predicted_bound_by_hand():
    n, L, m, delta = 300, 5, 192, 0.05
    w = P.complexity["additive"]
    C = math.exp(w[0] + w[1] * math.log(L) + w[2] * math.log(n))
    a, mq, t, u = P.gap
    gap = min(1.0, math.exp(a + mq * math.log(m) + t * math.log(L) + u * math.log(n)))
    B = math.sqrt(C / (DOM["scale"] ** 2 * L * (L - 1) / 4))
    j = T.grid_index(B, 1.1)
    conf = 3 * math.sqrt(math.log(3 * (abs(j) + 1) * (abs(j) + 2) / delta) / (2 * n))
    terms = P.terms(family="additive", n=n, L=L, N=L, l0=L - 1, m=m, delta=delta)
    assert terms["value"] == pytest.approx(2 * 1.1 * math.sqrt(C / n) + conf + gap, rel=1e-12)
    assert terms["gap_term"] == pytest.approx(gap, rel=1e-12)


@pytest.mark.fast
def test_predicted_bound_refuses_outside_its_domain():
    ok = dict(family="additive", L=5, m=192, n=300, d=DOM["d"], scale=DOM["scale"], method="gd",
              parametrization="lazy", f="sin", steps=DOM["steps"], lr_frac=DOM["lr_frac"])
    assert P.check_domain(**ok) == "interpolation"
    for bad, msg in ((dict(L=16), "L = 16 outside"), (dict(m=8), "m = 8 outside"),
                     (dict(n=5000), "n = 5000 outside"),
                     (dict(d=3), "d = 3"), (dict(parametrization="contrast"), "parametrization"),
                     (dict(family="parity"), "family"), (dict(method="sgd"), "method"),
                     # the gap law was calibrated at 150 GD steps and eta = 1 / lambda_max
                     (dict(steps=300), "steps = 300"), (dict(lr_frac=0.5), "lr_frac = 0.5")):
        with pytest.raises(ValueError, match=msg):
            P.check_domain(**{**ok, **bad})
        with pytest.raises(ValueError, match=msg):  # the extrapolation box does not widen these
            P.check_domain(**{**ok, **bad, "L": 16 if "L" in bad else ok["L"]}, extrapolate=True)
    # beyond the calibrated box, inside the pre-registered one: predicted, and said to extrapolate
    assert P.check_domain(**{**ok, "L": 12, "n": 3200}, extrapolate=True) == "extrapolation"


@pytest.mark.fast
def test_refit_on_other_points_changes_the_constants():
    """The constants come from the points: dropping the largest-C point lowers the envelope."""
    pts = RAW["points"]
    worst = max(pts["complexity"], key=lambda p: p["C"] / P.complexity_at(
        p["family"], p["L"], p["N"], p["l0"], p["n"]))
    fewer = {**pts, "complexity": [p for p in pts["complexity"] if p is not worst]}
    assert T.fit_predicted_bound(fewer).complexity != P.complexity


# ---- out of sample -----------------------------------------------------------------------------

#: P's pre-registered held-out cases (theory/p_preregistration.json, committed before the fit they
#: test), every one of the list run: the file's short 'ci' list under ci and dev, all 18 under
#: thorough (the default sweep runs its 'default' list of 12)
HELD = preregistered_cases("all" if active_profile() == "thorough" else "ci")


def _p_records(records):
    return [r for r in records if r["claim"] == "P"]


@pytest.mark.fast
def test_the_calibration_records_the_preregistration_it_is_tested_by():
    # sha256 of the file's bytes: machine-independent, so compared exactly
    assert RAW.get("preregistration_sha256") == PRE_SHA, (
        "theory/calibration.json was not fitted after the committed pre-registration: rerun "
        "`python -m reports calibrate` only after committing theory/p_preregistration.json")
    assert P.extrapolation == RAW_PRE["extrapolation_box"]


@pytest.mark.fast
def test_preregistered_cases_lie_where_they_say():
    assert {region for _, region, _ in preregistered_cases()} == {"interpolation", "extrapolation"}
    for cid, region, case in preregistered_cases():
        got = P.check_domain(family=case.family, L=case.L, m=case.m, n=case.n, d=case.d,
                             scale=case.scale, method=case.method, f=case.f, steps=case.steps,
                             parametrization=case.parametrization, lr_frac=case.lr_frac,
                             extrapolate=True)
        assert got == region and not on_calibration_grid(case), cid
        if region == "interpolation":  # every coordinate off the calibration lattice
            assert case.L not in C_LS and case.m not in GAP_MS and case.n not in C_NS, cid
        with pytest.raises(ValueError) if region == "extrapolation" else contextlib.nullcontext():
            P.check_domain(family=case.family, L=case.L, m=case.m, n=case.n, d=case.d,
                           scale=case.scale, method=case.method, f=case.f, steps=case.steps,
                           parametrization=case.parametrization, lr_frac=case.lr_frac)


@pytest.mark.fast
def test_p_record_says_its_region():
    """predicted_record (the evaluation's P record) predicts at pre-registered extrapolation
    cases and says so, marks a case on the calibration lattice as such, and refuses one beyond
    both boxes. A stand-in risk: the record's terms and region do not depend on it."""
    risk = {"test_risk": 0.1, "test_lcb": 0.05, "test_ucb": 0.15, "n_test": 1000}
    by_id = {cid: c for cid, _, c in preregistered_cases()}
    for cid, region in (("I1-add", "interpolation"), ("E1-nvar", "extrapolation"),
                        ("E3-add", "extrapolation")):
        rec = predicted_record(by_id[cid], {"seed_index": 0}, risk)
        assert rec is not None and rec["metrics"]["p_region"] == region, cid
        assert rec["metrics"]["in_calibration"] is False
    on_grid = dataclasses.replace(by_id["I1-add"], L=4, m=128, n=400)
    assert predicted_record(on_grid, {"seed_index": 0}, risk)["metrics"]["p_region"] == "calibration grid"
    beyond = dataclasses.replace(by_id["E1-add"], L=16)
    assert predicted_record(beyond, {"seed_index": 0}, risk) is None


@pytest.mark.fast
def test_extrapolation_needs_the_preregistration_the_calibration_recorded(tmp_path):
    """P extrapolates only into the box of the pre-registration whose hash its calibration holds:
    a calibration that recorded another file's hash predicts inside its calibrated box only."""
    other = {**RAW, "preregistration_sha256": "0" * 64}
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(other))
    P2, _ = T.load_calibration(path)
    assert P2.extrapolation is None and P.extrapolation is not None
    args = dict(family="additive", L=10, m=128, n=600, d=DOM["d"], scale=DOM["scale"],
                method="gd", parametrization="lazy", f="sin", steps=DOM["steps"],
                lr_frac=DOM["lr_frac"], extrapolate=True)
    assert P.check_domain(**args) == "extrapolation"
    with pytest.raises(ValueError, match="L = 10 outside the calibrated range"):
        P2.check_domain(**args)


@pytest.mark.fast
def test_calibrate_records_the_preregistration_hash(tmp_path, monkeypatch):
    """`reports calibrate` writes the sha256 of the committed pre-registration into the
    calibration (measured here on a stand-in grid: the hash, not the fit, is under test)."""
    from reports.cases import _calibrate as C

    monkeypatch.setattr(C, "complexity_points", lambda: RAW["points"]["complexity"])
    monkeypatch.setattr(C, "gap_points", lambda: RAW["points"]["gap"])
    raw = C.calibrate(tmp_path / "cal.json")
    assert raw["preregistration_sha256"] == PRE_SHA
    assert json.loads((tmp_path / "cal.json").read_text())["preregistration_sha256"] == PRE_SHA


@pytest.mark.bounds
@pytest.mark.parametrize("held", HELD, ids=[cid for cid, _, _ in HELD])
def test_network_risk_stays_under_p_out_of_sample(held, store):
    """The pre-registered decision rule: no violation at any pre-registered case, in either region."""
    cid, region, case = held
    records = evaluate_bound_case(case)
    store.append_many(records)
    p = _p_records(records)
    assert p, f"P produced no record for the pre-registered case {cid}"
    assert all(r["metrics"]["p_region"] == region for r in p), cid
    assert_no_violation(p)


@pytest.mark.bounds
def test_wrong_p_is_caught(store):
    """Power: P with its main term / 100 and neither confidence nor gap term sits below the
    network's risk LCB; the same held-out case must then come out 'violation'."""
    case = next(c for cid, _, c in preregistered_cases() if cid == "I2-add")
    # (n_test = 1000: the risk's LCB is ~0.05 below its mean, above P' ~ 0.01)
    wrong = _p_records(evaluate_bound_case(case, p_mutant=lambda t: t["main_term"] / 100))
    caught = bool(wrong) and all(r["verdict"] == "violation" for r in wrong)
    detail = "; ".join(f"P' {r['bound']['value']:.4f} vs risk LCB {r['metrics']['test_lcb']:.4f}"
                       for r in wrong)
    record_power(store, "P", "P main term / 100, no confidence or gap term", caught, detail=detail)
    assert caught, detail
    assert all(np.isfinite(r["metrics"]["test_lcb"]) for r in wrong)
