"""The paper's claims C1-C4 (docs/theory.md sections 1 and 5; provenance: paper-claim).

C1 (no small-input condition): an exact part (the kernel is homogeneous, so for the same concept
of the normalized tokens the complexity and G1 are identical at every input scale r) and an
empirical part (trained networks at r in [0.1, 10] obey G1/G2; the fraction of non-vacuous
bounds is reported; Allen-Zhu & Li's small-input hypothesis fails for r > eps_AZL).
C3 (N-variable targets learnable): trained networks on N-variable targets obey the bounds.
C2 / C4 (almost-polynomial in L): decided on the sample complexity n_eps(L) (reports/
_sample_complexity.py: nested n, censored values kept as such) by the growth rule
(theory/_growth.py): the class is classified first (exponential: 'not supported at these sizes'),
the ramped-sine control must be classified exponential, or the verdict is 'no power', which
fails a design sized to decide (never a skip). C_n at one n (the old measurement) is kept only
for its mutant and diagnostic checks. The rule itself is checked on synthetic C(L) of known law
(a power law, 2^L, censored and saturating curves) in milliseconds.
C1 on the trained network: theory.ScaleTest over r (the -net certificate and the network's risk);
the interpolant's scale invariance is the exact identity check.
Each claim check has a mutant that it is shown to reject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import models as M
import theory as T
from checks._harness import (
    assert_no_violation,
    record_power,
    synthetic_complexity_records,
    track_tightness,
)
from checks.strategies import SIZES, bound_cases, seeds
from reports.cases._c1_net import C1NetDesign, c1_net_records
from reports.cases._evaluate import BoundCase, evaluate_bound_case
from reports.cases._scaling import ScalingDesign, complexity_records, fit_scaling, scaling_record


def _relabel(records: list[dict], claim: str) -> list[dict]:
    """The same evaluated cases, counted for the paper claim they exercise."""
    out = []
    for r in records:
        r = dict(r, claim=claim, case_id=f"{claim}:{r['case_id']}:{r['claim']}")
        r["metrics"] = {**r["metrics"], "bound_name": r["bound"].get("name")}
        out.append(r)
    return out


# ---- C1: exact part ----------------------------------------------------------------------

def _c1_quantities(kernel, X, y, r):
    """(C_n, G1's un-gridded main term 2 B sqrt(tr H) / n) on tokens scaled by r."""
    H = kernel(X * r)
    b = T.g1_bound(H, y)
    return T.complexity(H, y), 2 * b.B * math.sqrt(b.trace) / b.n


@pytest.mark.fast
@given(seed=seeds(), L=st.integers(2, 5), r=st.sampled_from([0.1, 0.3, 3.0, 10.0]))
# r = 10 and 0.1: the ends of the range the claim is about.
@example(seed=0, L=3, r=10.0)
@example(seed=0, L=3, r=0.1)
def test_c1_complexity_and_g1_do_not_depend_on_input_scale(seed, L, r, store):
    """Same concept of the normalized tokens (y fixed), tokens scaled by r: C_n and G1's main
    term 2 B sqrt(tr H) / n identical.

    Exact consequence of homogeneity H(cx, cx') = c^2 H(x, x'): C_n and B sqrt(tr H) are
    invariant under H -> c H. Tolerance 1e-8 relative: a float64 solve of a 40 x 40 Gram with
    condition number up to ~1e6 loses about 6 of 16 digits.

    G1's *value* is not exactly invariant, and Hypothesis found it: the union bound runs over a
    fixed grid B_j = gamma^j, the one place a unit enters, so rounding B up to the grid and the
    log(j) in the confidence term change with r (2.61 at r = 1 vs 2.84 at r = 0.1, seed 0, L = 3).
    That is a property of the bound's construction, not of the network; reports show it.
    """
    X = np.random.default_rng(seed).standard_normal((40, L, 3)) / math.sqrt(3)
    y = np.sin(X[:, :, 0].sum(axis=1))
    c1, g1 = _c1_quantities(T.ntk_gram, X, y, 1.0)
    cr, gr = _c1_quantities(T.ntk_gram, X, y, r)
    assert math.isclose(c1, cr, rel_tol=1e-8) and math.isclose(g1, gr, rel_tol=1e-8), (c1, cr, g1, gr)


@pytest.mark.fast
def test_c1_check_rejects_a_kernel_with_a_bias_term(store):
    """Mutant: H + 1 (what a bias in every layer would add) is not homogeneous: C_n changes with r."""
    X = np.random.default_rng(1).standard_normal((40, 3, 3)) / math.sqrt(3)
    y = np.sin(X[:, :, 0].sum(axis=1))

    def biased(X_):
        return T.ntk_gram(X_) + 1.0

    c1, _ = _c1_quantities(biased, X, y, 1.0)
    c10, _ = _c1_quantities(biased, X, y, 10.0)
    rejected = not math.isclose(c1, c10, rel_tol=1e-8)
    record_power(store, "C1", "kernel with bias term (H + 1)", rejected,
                 detail=f"C_n at r=1: {c1:.4g}, at r=10: {c10:.4g}")
    assert rejected


# ---- C1 and C3: trained networks -----------------------------------------------------------

@pytest.mark.bounds
@settings(max_examples=max(3, SIZES.bound_examples // 4))
@given(case=bound_cases(families=("additive",)))
@example(case=BoundCase(L=4, d=3, m=SIZES.ms[0], n=SIZES.ns[0], n_test=SIZES.n_test,
                        steps=SIZES.steps, seeds=SIZES.seeds, scale=10.0, input_scale=10.0))
def test_c1_trained_networks_at_any_input_scale(case, store):
    claim = T.get_claim("C1")
    cfg = case.config()
    claim.require(cfg)
    records = _relabel(evaluate_bound_case(case), "C1")
    store.append_many(records)
    track_tightness(records)
    # Which prior hypotheses hold for these inputs (Allen-Zhu & Li's small-input condition fails
    # once r > eps_AZL) is shown in the report's contrast table, not asserted here.
    assert_no_violation(records)


@pytest.mark.bounds
@settings(max_examples=max(3, SIZES.bound_examples // 4))
@given(case=bound_cases(families=("n-variable",)))
def test_c3_n_variable_targets_respect_the_bounds(case, store):
    T.get_claim("C3").require(case.config())
    records = _relabel(evaluate_bound_case(case), "C3")
    store.append_many(records)
    track_tightness(records)
    assert_no_violation(records)


# ---- C2 and C4: scaling in L -----------------------------------------------------------------

DESIGNS = {
    "C2": ScalingDesign("C2", Ls=SIZES.scaling_Ls, ns=SIZES.scaling_ns, seeds=SIZES.scaling_seeds),
    "C4-N": ScalingDesign("C4-N", Ls=SIZES.scaling_Ls, ns=SIZES.scaling_ns,
                          seeds=SIZES.scaling_seeds, N=2),
    "C4-l0": ScalingDesign("C4-l0", Ls=SIZES.scaling_Ls, ns=SIZES.scaling_ns,
                           seeds=SIZES.scaling_seeds, l0=1),
}


@pytest.fixture(scope="module")
def complexity_cache():
    return {}


def _fit(name, cache, store):
    if name not in cache:
        design = DESIGNS[name]
        recs = complexity_records(design)
        fit = fit_scaling(recs, design)
        store.append_many(recs + [scaling_record(design, fit)])
        cache[name] = (design, recs, fit)
    return cache[name]


def _describe(fit: dict) -> str:
    return (f"{fit['claim']}: verdict {fit['verdict']} ({fit['reason']}); class "
            f"{fit['class_model']}, control {fit['control_model']}; reported: fitted slope "
            f"{fit['fitted_slope']:.2f} (per seed {np.round(fit['fitted_slope_seeds'], 2).tolist()}), "
            f"declared exponent {fit['declared_exponent']:.2f}, control slope "
            f"{fit['control_slope']:.2f}; C(L) class {np.round(fit['C_class'], 1).tolist()}, control "
            f"{np.round(fit['C_control'], 1).tolist()} at L = {fit['Ls']}, n = {fit['n_max']}")


def _as_class(records: list[dict], role: str) -> list[dict]:
    """The mutant 'parity control treated as the class': the control's records under both roles."""
    picked = [r for r in records if r["config"]["role"] == role]
    return [dict(r, config={**r["config"], "role": new}) for r in picked for new in ("class", "control")]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DESIGNS))
def test_scaling_check_rejects_the_control_as_the_class(name, complexity_cache, store):
    """Mutant: the parity control's C(L) presented as the class. The rule must not support it.

    At these sizes parity's C_n is memorization (~n) and *falls* with L, so judged on its own it
    looks polynomial; only the control requirement keeps the rule from supporting it, and the
    detail records what a class-only judgement would have said.
    """
    design, recs, fit = _fit(name, complexity_cache, store)
    mfit = fit_scaling(_as_class(recs, "control"), design)
    rejected = mfit["verdict"] != "supported"
    alone = mfit["class_model"]
    record_power(store, name, "parity control treated as the class", rejected,
                 detail=f"{_describe(mfit)}; judged alone the mutant class is {alone}")
    assert rejected, _describe(mfit)


@pytest.mark.slow
def test_negative_control_is_harder_than_the_class_at_every_length(complexity_cache, store):
    """Parity's C_n exceeds the additive class's at every L and grows with n (memorization):
    it is harder everywhere, even where its growth in L is not exponential at these sizes."""
    _, _, fit = _fit("C2", complexity_cache, store)
    assert all(r > 1 for r in fit["control_ratio"]), _describe(fit)
    assert all(g > 0 for g in fit["n_growth_control"])  # C_n of a memorized control grows with n


# ---- the growth rule on synthetic C(L) of known law (no kernels: milliseconds) --------------

POLY, EXPO = (lambda L: 2.0 * math.log(L)), (lambda L: math.log(2.0) * L)  # L^2 and 2^L
SIGMA = 0.1  # noise on log C, i.i.d. per (L, seed): about the real C(L)'s spread over seeds


def _synthetic_fit(name, cls, ctl, rng_seed=0):
    design = DESIGNS[name]
    return fit_scaling(synthetic_complexity_records(design, cls, ctl, sigma=SIGMA,
                                                    rng_seed=rng_seed), design)


@pytest.mark.fast
@pytest.mark.parametrize("name", list(DESIGNS))
@pytest.mark.parametrize("rng_seed", [0, 1, 2])
def test_growth_rule_supports_polynomial_class_against_exponential_control(name, rng_seed):
    fit = _synthetic_fit(name, POLY, EXPO, rng_seed)
    assert (fit["class_model"], fit["control_model"], fit["verdict"]) == (
        "polynomial", "exponential", "supported"), _describe(fit)


@pytest.mark.fast
@pytest.mark.parametrize("name", list(DESIGNS))
def test_growth_rule_rejects_an_exponential_class(name, store):
    """Negative control of the rule: C = 2^L. The old rule (slope <= declared + 0.5) supported
    it for C2 (log-log slope 4.60 on L = 2..16 under 4.30 + 0.5); the model comparison must not."""
    fit = _synthetic_fit(name, EXPO, EXPO)
    rejected = fit["verdict"] == "not supported at these sizes" and fit["class_model"] == "exponential"
    old_rule = fit["fitted_slope"] <= fit["declared_exponent"] + 0.5
    record_power(store, name, "synthetic exponential class C = 2^L", rejected,
                 detail=f"{_describe(fit)}; the old slope rule would have said "
                        f"{'supported' if old_rule else 'not supported'}")
    assert rejected, _describe(fit)


@pytest.mark.fast
@pytest.mark.parametrize("name", list(DESIGNS))
def test_growth_rule_rejects_the_control_as_the_class_and_an_easy_control(name, store):
    """Mutants: the exponential control presented as the class (must not be supported), and a
    control that grows polynomially like the class (the rule then has no power and says so)."""
    as_class = _synthetic_fit(name, EXPO, EXPO, rng_seed=5)
    easy_control = _synthetic_fit(name, POLY, POLY, rng_seed=6)
    rejected = as_class["verdict"] != "supported"
    record_power(store, name, "synthetic control treated as the class", rejected,
                 detail=_describe(as_class))
    assert rejected, _describe(as_class)
    assert easy_control["verdict"] == "no power at these sizes", _describe(easy_control)


@pytest.mark.fast
def test_scaling_design_validation():
    with pytest.raises(ValueError, match="Ls"):
        ScalingDesign("C2", Ls=(2, 4))
    with pytest.raises(ValueError, match="N = 9 is out of range"):
        ScalingDesign("C4-N", N=9)
    with pytest.raises(ValueError, match="claim"):
        ScalingDesign("C9")
    with pytest.raises(ValueError, match="l0"):
        ScalingDesign("C4-l0", l0=2, Ls=(2, 4, 8))


@pytest.mark.fast
def test_claim_hypotheses_reject_out_of_class_configurations():
    with pytest.raises(ValueError, match="N or l0 small"):
        T.get_claim("C4").require({"L": 8, "family": "n-variable", "f": "sin", "N": 6, "l0": 7})
    with pytest.raises(ValueError, match="additive"):
        T.get_claim("C2").require({"L": 8, "family": "parity", "f": "sin"})
    assert M.ParityTarget.make(4, 3).family == "parity"


# ---- C2 and C4 decided on sample complexity n_eps(L) (reports/cases/_sample_complexity.py) ----------

def _sc_design():
    """The profile's sample-complexity design: CI's reduced one (ci, dev), the default sweep's
    (thorough). Both are sized to decide (checks that 'no power' fails them)."""
    from checks._profiles import active_profile
    from reports.runs._grid import SC_CI, SC_DEFAULT

    return SC_DEFAULT if active_profile() == "thorough" else SC_CI


@pytest.fixture(scope="module")
def sample_complexity(store):
    from reports.cases._sample_complexity import sample_complexity_records, sample_scaling_records

    design = _sc_design()
    recs = sample_complexity_records(design)
    fits = sample_scaling_records(design, recs)
    store.append_many(recs + fits)
    return design, recs, {f["claim"]: f["metrics"] for f in fits
                          if f["kind"] == "sample-scaling" and f["metrics"]["decides"]}


#: The claims each design decides with power (measured 2026-11-27 with the ramped-sine control,
#: docs/theory.md section 6): CI's design (L = 2..10) decides C2 and C4-N (both 'not supported at
#: these sizes', control exponential); C4-l0 is 'inconclusive' there (one seed's class curve is
#: undecided, 2 log LR -0.8) and is decided by the default design (L = 2..16: 'supported').
def _decided_claims() -> tuple[str, ...]:
    from checks._profiles import active_profile

    return ("C2", "C4-N", "C4-l0") if active_profile() == "thorough" else ("C2", "C4-N")


def _sc_describe(f: dict) -> str:
    return (f"{f['claim']} ({f['measure']} at eps = {f['eps']:g}, L = {f['Ls']}, caps {f['n_cap']}): "
            f"{f['verdict']}; {f['reason']}; class n {f['n_class']}, control n {f['n_control']}")


@pytest.mark.slow
def test_sample_complexity_control_has_power(sample_complexity):
    """The negative control (RampedSineControl) must be classified exponential in a design sized to
    decide: otherwise every verdict is 'no power', which fails here (never a skip)."""
    design, _, fits = sample_complexity
    assert design.sized_to_decide
    for f in fits.values():
        assert f["control_model"] == "exponential", _sc_describe(f)


@pytest.mark.slow
@pytest.mark.parametrize("claim", _decided_claims())
def test_scaling_claim_decided_with_power(claim, sample_complexity):
    """The claims this design is sized to decide (_decided_claims): the verdict is 'supported' or
    'not supported at these sizes' with the control classified exponential (a decision with
    power); 'no power' or 'inconclusive' fail the design. The verdict is the one rule's
    (theory.compare_growth), recomputed here from the records."""
    from reports.cases._sample_complexity import fit_sample_complexity

    design, recs, fits = sample_complexity
    f = fits[claim]
    assert f["verdict"] in ("supported", "not supported at these sizes"), _sc_describe(f)
    assert f["control_model"] == "exponential", _sc_describe(f)
    assert fit_sample_complexity(recs, design, claim)["verdict"] == f["verdict"]


@pytest.mark.slow
@pytest.mark.parametrize("claim", _decided_claims())
def test_scaling_claim_is_supported(claim, sample_complexity):
    """The paper's claim itself: n_eps(L) of the class grows polynomially. Measured 2026-11-27, C2
    and C4-N are classified exponential at these sizes and C4-l0 polynomial (docs/theory.md section
    6): a 'not supported' decided with power is reported as an expected failure with its numbers
    (visible, never a pass), and turns into a pass if it changes."""
    _, _, fits = sample_complexity
    f = fits[claim]
    if f["verdict"] == "not supported at these sizes":  # decided with power: a finding, reported
        pytest.xfail("measured finding: " + _sc_describe(f))
    # 'no power' / 'inconclusive' reach the assert and fail
    assert f["verdict"] == "supported", _sc_describe(f)


@pytest.mark.slow
def test_control_as_the_class_is_not_supported(sample_complexity, store):
    """Mutant: the control's n_eps presented as the class. Classified exponential, so the claim's
    verdict becomes 'not supported at these sizes' (the rule can fail a claim)."""
    from reports.cases._sample_complexity import fit_sample_complexity

    design, recs, _ = sample_complexity
    swapped = [dict(r, config={**r["config"], "role": new}) for r in recs
               if r["kind"] == "sample-complexity" and r["config"]["role"] == "control"
               for new in ("class", "control")]
    f = fit_sample_complexity(swapped, design, "C2")
    rejected = f["class_model"] == "exponential" and f["verdict"] == "not supported at these sizes"
    record_power(store, "C2", "ramped-sine control treated as the class (n_eps)", rejected,
                 detail=_sc_describe(f))
    assert rejected, _sc_describe(f)


@pytest.mark.fast
def test_ramped_sine_control_is_its_formula():
    """y = sin(omega_L t_L) / s(omega_L) with omega_L^2 = 1 + c (L - 2), t_L = sqrt(d) beta^T X_L:
    recomputed from the definition, and unit variance by Monte Carlo (n = 200,000 Gaussian tokens:
    the sample variance of a unit-variance y with kurtosis <= 3 has sd <= sqrt(2 / n) = 0.0032,
    so 0.02 is > 6 sd)."""
    from reports.cases._sample_complexity import RampedSineControl

    X = np.random.default_rng(0).standard_normal((200_000, 6, 5)) / math.sqrt(5)
    for L, c in ((2, 0.2), (6, 0.2), (6, 0.45)):
        ctl = RampedSineControl.make(L, 5, seed=3, c=c)
        w = math.sqrt(1 + c * (L - 2))
        assert ctl.omega == pytest.approx(w, rel=1e-15)
        t = math.sqrt(5) * X[:, L - 1, :] @ ctl.beta
        want = np.sin(w * t) / math.sqrt((1 - math.exp(-2 * w * w)) / 2)
        np.testing.assert_allclose(ctl(X[:, :L]), want, rtol=1e-12, atol=1e-12)
        assert abs(float(np.var(ctl(X[:, :L]))) - 1.0) < 0.02
    with pytest.raises(ValueError, match="control_c"):
        RampedSineControl.make(4, 5, c=0.0)


@pytest.mark.fast
def test_target_values_are_the_float32_targets_without_a_warning():
    """The class targets (JAX, float32 unless x64) get X rounded to float32, which JAX did with a
    float64 array anyway: the same program on the same float32 input, so equal bit for bit (one
    process, one backend); the NumPy control keeps float64. No UserWarning is raised."""
    import warnings

    from reports.cases._sample_complexity import SampleComplexityDesign, target_values

    d = SampleComplexityDesign()
    X = np.random.default_rng(1).standard_normal((64, 4, 5)) / math.sqrt(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for c in ("C2", "C4-N", "C4-l0"):
            t = d.scaling(c).target(4, 0)
            np.testing.assert_array_equal(target_values(t, X),
                                          np.asarray(t(X.astype(np.float32)), np.float64))
        ctl = d.control(4, 0)
        np.testing.assert_array_equal(target_values(ctl, X), ctl(X))


@pytest.mark.fast
def test_sample_complexity_is_where_the_curve_stays_below_eps():
    """n_eps is the smallest grid n from which the relative risk stays <= eps up to the cap (a
    crossing that comes back above does not count); never reached: None (censored); NaN is not
    reached."""
    from reports.cases._sample_complexity import _first_reached

    ns = (10, 20, 40, 80)
    assert _first_reached(np.array([0.9, 0.4, 0.6, 0.3]), ns, 0.5) == 80
    assert _first_reached(np.array([0.9, 0.4, 0.4, 0.3]), ns, 0.5) == 20
    assert _first_reached(np.array([0.9, 0.4, 0.4, 0.6]), ns, 0.5) is None
    assert _first_reached(np.array([0.1, 0.1, 0.1, 0.1]), ns, 0.5) == 10
    assert _first_reached(np.array([0.1, np.nan, 0.1, 0.1]), ns, 0.5) == 40


@pytest.mark.fast
def test_n_dependence_positions_and_fit():
    """n_eps(N) at L_N: N evenly spread positions with the first and the last (l_0 = L_N - 1 for
    every N), and the fit is the growth rule's on N (a synthetic 2^N curve is exponential in N,
    a flat one is not)."""
    from reports.cases._records import make_record
    from reports.cases._sample_complexity import SampleComplexityDesign, fit_n_dependence

    d = SampleComplexityDesign(Ls=(2, 4, 8), Ns=(2, 3, 4, 5, 6), L_N=8, seeds=(0, 1, 2))
    assert [d.n_positions(N) for N in (2, 3, 6)] == [(1, 8), (1, 4, 8), (1, 2, 4, 5, 7, 8)]
    assert d.n_target(4, 1).positions == (1, 3, 6, 8) and d.n_target(4, 1).spread == 7

    def records(curve):
        return [make_record("sample-complexity", "C4-N", {"role": "N-sweep", "N": N, "L": 8}, s,
                            metrics={"n_eps": {"0.5": curve(N, s)}}, verdict="measured")
                for N in d.Ns for s in d.seeds]

    ns = d.ns(8)
    on_grid = lambda v: next((n for n in ns if n >= v), None)  # noqa: E731
    expo = fit_n_dependence(records(lambda N, s: on_grid(10 * 2.0 ** N * (1 + 0.1 * s))), d)
    assert expo["model"] == "exponential" and expo["censored"] == 0
    flat = fit_n_dependence(records(lambda N, s: on_grid(300 + s)), d)
    assert flat["model"] != "exponential"
    with pytest.raises(ValueError, match="L_N"):
        SampleComplexityDesign(Ls=(2, 4, 6), Ns=(2, 3, 4), L_N=8)
    with pytest.raises(ValueError, match="Ns"):
        SampleComplexityDesign(Ls=(2, 4, 8), Ns=(2, 9, 10), L_N=8)


@pytest.mark.fast
def test_sample_complexity_design_validation():
    from reports.cases._sample_complexity import SampleComplexityDesign

    with pytest.raises(ValueError, match="claims"):
        SampleComplexityDesign(claims=("C9",))
    with pytest.raises(ValueError, match="Ls"):
        SampleComplexityDesign(Ls=(2, 4))
    with pytest.raises(ValueError, match="n_max_per_L"):
        SampleComplexityDesign(n_max_per_L=(100,))
    with pytest.raises(ValueError, match="eps"):
        SampleComplexityDesign(eps=(1.5,))
    d = SampleComplexityDesign(n_min=10, n_max=80, Ls=(2, 3, 4), steps_per_doubling=1)
    assert d.ns(3) == (10, 20, 40, 80) and d.cap(4) == 80


# ---- C1 on the trained network (theory/_scale.py, reports/cases/_c1_net.py) ------------------

#: The sweep item's sizes (the default profile's bound sizes at L = 2: d = 5, m = 256, n = 400,
#: 150 GD steps, 2 seeds) at four of its scales: the judged range's ends, r_ref, and the negative
#: control r = 0.01.
C1_TEST_DESIGN = C1NetDesign(scales=(0.01, 0.1, 1.0, 10.0))


@pytest.fixture(scope="module")
def c1_networks(store):
    """The c1-net item's records (every scale's bound records, one c1-net record per verdict and
    the control's power record), stored, and its c1-net records by role."""
    recs = c1_net_records(C1_TEST_DESIGN)
    store.append_many(recs)
    return recs, {r["metrics"]["role"]: r for r in recs if r["kind"] == "c1-net"}


@pytest.mark.bounds
def test_c1_network_risk_and_certificate_do_not_depend_on_input_scale(c1_networks):
    """C1 judged on the trained network: over r = 0.1 .. 10 the -net certificates and the
    network's risk stay within the rule's factor of r = 1's (theory.ScaleTest), never violated.
    The stored verdicts are the rule's: the record audit re-derives them from the stored bound
    records, and catches a stored verdict or a bound record that does not follow."""
    from reports.cases._audit import audit_records

    recs, by_role = c1_networks
    v = by_role["judged"]
    assert v["metrics"]["scales"] == [0.1, 1.0, 10.0]
    assert v["verdict"] == "supported", v["metrics"]["reason"]
    audit = audit_records(recs)
    assert audit["c1_net_audited"] == 2 and not audit["mismatches"], audit["mismatches"]
    flipped = [dict(r, verdict="supported") if r is by_role["beyond"] else r for r in recs]
    assert any("c1-net (beyond): verdict 'supported'" in m
               for m in audit_records(flipped)["mismatches"])
    dropped = [r for r in recs if not (r["kind"] == "bound" and r["config"]["scale"] == 10.0)]
    assert sum("no -net bound records at r = [10.0]" in m
               for m in audit_records(dropped)["mismatches"]) == 2


@pytest.mark.bounds
def test_c1_network_verdict_fails_at_a_tiny_input_scale(c1_networks):
    """The verdict can fail: at r = 0.01 the lazy network (m = 256) is far from its linearization
    (median relative gap 0.44 against 0.09 at r = 1) and its risk triples (median 0.227 against
    0.075; measured 2026-11-27). The item's power record says so."""
    recs, by_role = c1_networks
    beyond = by_role["beyond"]
    assert beyond["verdict"] == "not supported at these sizes", beyond["metrics"]["reason"]
    assert 0.01 in beyond["metrics"]["degrades"]
    (power,) = [r for r in recs if r["kind"] == "power"]
    assert power["claim"] == "C1" and power["verdict"] == "rejected", power["note"]


@pytest.mark.fast
def test_c1_net_design_validation():
    with pytest.raises(ValueError, match="control"):
        C1NetDesign(control=(1.0,))
    with pytest.raises(ValueError, match="control"):
        C1NetDesign(scales=(0.1, 1.0, 10.0), control=())
    with pytest.raises(ValueError, match="r_ref"):
        C1NetDesign(scales=(0.01, 1.0))
    with pytest.raises(ValueError, match="scales"):
        C1NetDesign(scales=(0.01, 10.0, 1.0))
    with pytest.raises(ValueError, match="judged"):
        C1NetDesign(judged=(10.0, 0.1))
    with pytest.raises(ValueError, match=r"^m = 0"):
        C1NetDesign(m=0)
    assert C1NetDesign().judged_scales() == (0.1, 0.3, 1.0, 3.0, 10.0)


@pytest.mark.fast
def test_c1_scale_rule_on_synthetic_rows():
    def rows(r, value, risk, viol=False):
        return [{"r": r, "claim": c, "seed": (r, s), "value": value, "violation": viol,
                 "net_risk": risk} for c in ("G1-net", "G2-net") for s in range(2)]

    test = T.ScaleTest()
    assert test.verdict(rows(1.0, 0.5, 0.1) + rows(10.0, 0.6, 0.12))["verdict"] == "supported"
    diverged = [{"r": 10.0, "claim": "G1-net", "seed": (10.0, 0), "value": float("nan"),
                 "violation": False, "diverged": True}]
    for bad in (rows(10.0, 0.9, 0.1), rows(10.0, 0.5, 0.2), rows(10.0, 0.5, 0.1, True), diverged):
        v = test.verdict(rows(1.0, 0.5, 0.1) + bad)
        assert v["verdict"] == "not supported at these sizes" and v["degrades"] == [10.0], v
    v = test.verdict(rows(1.0, 0.5, 0.1) + rows(10.0, 1.2, 0.1)[:2] + rows(10.0, 0.5, 0.1)[2:])
    assert v["per_r"][1]["non_vacuous_by_bound"] == {"G1-net": 0.0, "G2-net": 1.0}
    with pytest.raises(ValueError, match="r_ref"):
        test.verdict(rows(10.0, 0.5, 0.1))
    with pytest.raises(ValueError, match="tol"):
        T.ScaleTest(tol=1.0)
