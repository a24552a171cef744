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

import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import theory as T
from checks._harness import assert_no_violation, record_power
from checks._profiles import active_profile
from reports._calibrate import C_LS, C_NS, GAP_MS, nvar_positions
from reports._evaluate import BoundCase, evaluate_bound_case, on_calibration_grid
from theory._predicted import FAMILIES, _design

P, RAW = T.load_calibration()
DOM = RAW["points"]["domain"]


@pytest.mark.fast
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
              parametrization="lazy", f="sin")
    P.check_domain(**ok)
    for bad, msg in ((dict(L=16), "L = 16 outside"), (dict(m=8), "m = 8 outside"),
                     (dict(n=5000), "n = 5000 outside"),
                     (dict(d=3), "d = 3"), (dict(parametrization="contrast"), "parametrization"),
                     (dict(family="parity"), "family"), (dict(method="sgd"), "method")):
        with pytest.raises(ValueError, match=msg):
            P.check_domain(**{**ok, **bad})


@pytest.mark.fast
def test_refit_on_other_points_changes_the_constants():
    """The constants come from the points: dropping the largest-C point lowers the envelope."""
    pts = RAW["points"]
    worst = max(pts["complexity"], key=lambda p: p["C"] / P.complexity_at(
        p["family"], p["L"], p["N"], p["l0"], p["n"]))
    fewer = {**pts, "complexity": [p for p in pts["complexity"] if p is not worst]}
    assert T.fit_predicted_bound(fewer).complexity != P.complexity


# ---- out of sample -----------------------------------------------------------------------------

_CI = active_profile() == "ci"
#: Off-grid lengths, widths and sample sizes inside the calibrated ranges (the grid has L in
#: C_LS, m in GAP_MS, n in C_NS). The ci profile keeps the compiled shapes few and small.
HELD_LS = (3, 5, 6) if _CI else (3, 5, 6, 7)
HELD_MS = (96, 192) if _CI else (96, 160, 192)
HELD_NS = (600, 1200) if _CI else (300, 600, 1200)
_BASE = dict(d=DOM["d"], scale=DOM["scale"], input_scale=DOM["scale"], steps=DOM["steps"],
             lr_frac=DOM["lr_frac"], f=DOM["f"], n_test=1000, n_gap=2000, seeds=1)


@st.composite
def held_out_cases(draw):
    L = draw(st.sampled_from(HELD_LS))
    fam = draw(st.sampled_from(("additive", "n-variable")))
    positions = None
    if fam == "n-variable":
        shapes = [(N, l0) for N in (1, 2, 3) for l0 in range(L) if nvar_positions(L, N, l0)]
        N, l0 = draw(st.sampled_from(shapes))
        positions = nvar_positions(L, N, l0)
    return BoundCase(L=L, m=draw(st.sampled_from(HELD_MS)), n=draw(st.sampled_from(HELD_NS)),
                     family=fam, positions=positions, data_seed=draw(st.integers(0, 50)),
                     target_seed=draw(st.integers(0, 50)), **_BASE)


def _p_records(records):
    return [r for r in records if r["claim"] == "P"]


@pytest.mark.bounds
@settings(max_examples=3 if _CI else 12)
@given(case=held_out_cases())
# The largest held-out n with the shortest length: where P's main term is smallest (tightest).
@example(case=BoundCase(L=3, m=HELD_MS[-1], n=HELD_NS[-1], family="additive", **_BASE))
def test_network_risk_stays_under_p_out_of_sample(case, store):
    assert not on_calibration_grid(case)
    assert case.L not in C_LS and case.m not in GAP_MS and case.n not in C_NS
    records = evaluate_bound_case(case)
    store.append_many(records)
    p = _p_records(records)
    assert p, "P produced no record for an in-domain case"
    assert all(not r["metrics"]["in_calibration"] for r in p)
    assert_no_violation(p)


@pytest.mark.bounds
def test_wrong_p_is_caught(store):
    """Power: P with its main term / 100 and neither confidence nor gap term sits below the
    network's risk LCB; the same held-out case must then come out 'violation'."""
    case = BoundCase(L=3, m=HELD_MS[0], n=HELD_NS[0], family="additive", **_BASE)
    # (n_test = 1000: the risk's LCB is ~0.05 below its mean, above P' ~ 0.01)
    wrong = _p_records(evaluate_bound_case(case, p_mutant=lambda t: t["main_term"] / 100))
    caught = bool(wrong) and all(r["verdict"] == "violation" for r in wrong)
    detail = "; ".join(f"P' {r['bound']['value']:.4f} vs risk LCB {r['metrics']['test_lcb']:.4f}"
                       for r in wrong)
    record_power(store, "P", "P main term / 100, no confidence or gap term", caught, detail=detail)
    assert caught, detail
    assert all(np.isfinite(r["metrics"]["test_lcb"]) for r in wrong)
