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

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import theory as T
from checks._harness import assert_no_violation, record_power
from checks._profiles import active_profile
from reports.cases._calibrate import C_LS, C_NS, GAP_MS, nvar_positions
from reports.cases._evaluate import BoundCase, evaluate_bound_case, on_calibration_grid

P, RAW = T.load_calibration()
DOM = RAW["points"]["domain"]


@pytest.mark.fast
def test_stored_constants_are_the_fit_of_the_stored_points():
    assert RAW["fitted"] == P.to_json()


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
