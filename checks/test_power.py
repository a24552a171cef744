"""Power of the formula checks: deliberately wrong bounds fail the exact identities.

Complements the empirical power checks (test_bounds_trained.py, test_claims.py): a mutant that
the empirical violation rule cannot catch at CPU sizes (a main term divided by 10, hidden by the
bound's slack) is still caught here by the exact reduction of G1 to its prior two-layer form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory as T
from checks._harness import record_power
from reports.cases._evaluate import _mutated

pytestmark = pytest.mark.selftest


def _unit_diag_problem(n=40, seed=0):
    """An SPD H with H_ii = 1/2 exactly (the unit-norm setting of Arora et al. 2019) and labels."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, 3 * n))
    S = G @ G.T
    d = np.sqrt(np.diag(S))
    H = 0.5 * S / np.outer(d, d)
    return H, rng.choice([-1.0, 1.0], n)


def _matches_prior_form(b: T.BoundResult, quad: float, gamma: float = 1.1) -> bool:
    """G1 main term == sqrt(2 y^T H^-1 y / n) * Bbar / B (the grid rounding) to 1e-12 relative."""
    expected = T.prior_two_layer_form(quad, b.n) * (b.B_grid / b.B)
    main = b.value - b.train_loss - b.confidence_term
    return math.isclose(main, expected, rel_tol=1e-12)


def test_main_term_divided_by_10_fails_the_exact_formula_check(store):
    H, y = _unit_diag_problem()
    quad = T.kernel_solve(H, y).quad
    real = T.g1_bound(H, y)
    assert _matches_prior_form(real, quad)  # the check accepts the real bound ...
    wrong = _mutated(real, lambda b: b.train_loss + b.main_term / 10 + b.confidence_term)
    rejected = not _matches_prior_form(wrong, quad)  # ... and rejects the mutant
    record_power(store, "G1", "main term / 10 (exact prior-form identity)", rejected,
                 detail=f"real {real.value:.4f}, mutant {wrong.value:.4f}")
    assert rejected


# ---- the growth rule of the scaling claims (theory/_growth.py) --------------------------------

GROWTH_LS = (2, 4, 8, 16)  # the ci profile's scaling_Ls
GROWTH_SEEDS = 3


def _draw(rng, mean_log_c, sigma, Ls=GROWTH_LS, seeds=GROWTH_SEEDS):
    """C[s, i] = exp(mean_log_c(L_i) + N(0, sigma^2)): seeds x lengths, i.i.d. noise on log C."""
    mu = np.array([mean_log_c(L) for L in Ls])
    return np.exp(mu + sigma * rng.standard_normal((seeds, len(Ls))))


@pytest.mark.parametrize("p", [1.0, 2.0, 4.3])
@pytest.mark.parametrize("rng_seed", [0, 1, 2])
def test_power_law_is_classified_polynomial(p, rng_seed):
    """C = 3 L^p with noise sigma = 0.1 on log C, 3 seeds, L = 2..16: polynomial."""
    C = _draw(np.random.default_rng(rng_seed), lambda L: math.log(3.0) + p * math.log(L), 0.1)
    fit = T.GrowthTest().fit(GROWTH_LS, C)
    assert fit.model == "polynomial", fit.describe()
    assert all(abs(s - p) < 0.3 for s in fit.slope), fit.describe()  # the exponent is recovered


@pytest.mark.parametrize("b", [0.2, math.log(2.0), 0.7])
@pytest.mark.parametrize("rng_seed", [0, 1, 2])
def test_exponential_law_is_classified_exponential(b, rng_seed, store):
    """C = 3 e^{bL} with noise sigma = 0.1 on log C, 3 seeds, L = 2..16: exponential, never
    polynomial. b = log 2 is 2^L, whose log-log slope (4.60) the old slope rule accepted for C2."""
    C = _draw(np.random.default_rng(rng_seed), lambda L: math.log(3.0) + b * L, 0.1)
    fit = T.GrowthTest().fit(GROWTH_LS, C)
    rejected = fit.model == "exponential"
    if rng_seed == 0:
        record_power(store, "C2", f"synthetic exponential e^({b:.3g} L) classified", rejected,
                     detail=fit.describe())
    assert rejected, fit.describe()


def _error_rate(rng, truth, params, sigma, Ls, draws):
    """Fraction of draws classified as the *wrong* model (undecided is not an error)."""
    wrong = "exponential" if truth == "polynomial" else "polynomial"
    test, bad = T.GrowthTest(), 0
    for _ in range(draws):
        for q in params:
            law = (lambda L, q=q: q * math.log(L)) if truth == "polynomial" else (lambda L, q=q: q * L)
            bad += test.fit(Ls, _draw(rng, law, sigma, Ls)).model == wrong
    return bad, draws * len(params)


@pytest.mark.parametrize("Ls", [(2, 3, 4), GROWTH_LS])
@pytest.mark.parametrize("truth,params", [("polynomial", (0.25, 0.5, 1.0, 2.0, 4.0)),
                                          ("exponential", (0.05, 0.1, 0.2, 0.35, 0.7))])
def test_growth_rule_error_rates_are_as_documented(Ls, truth, params):
    """The error rates theory/_growth.py states, re-measured: over sigma in {0.05, 0.1, 0.2, 0.3}
    and the listed laws, the wrong model is chosen in <= 4% of draws on L = (2, 3, 4) and <= 1%
    on L = (2, 4, 8, 16) (measured: 2.3% and 0.4%), and the 99% Clopper-Pearson upper limit stays
    under twice that. A fixed generator makes it deterministic; the rule with its threshold
    removed (tau -> 0: 11% and 3.4%) fails it."""
    from scipy.stats import beta

    limit = 0.04 if len(Ls) == 3 else 0.01
    rng = np.random.default_rng(12345)
    for sigma in (0.05, 0.1, 0.2, 0.3):
        bad, total = _error_rate(rng, truth, params, sigma, Ls, draws=200)
        rate = bad / total
        upper = beta.ppf(0.99, bad + 1, total - bad) if bad < total else 1.0
        assert rate <= limit and upper <= 2 * limit, (truth, Ls, sigma, bad, total, upper)


# ---- censored and saturating curves (revised rule, theory/_growth.py; docs/theory.md section 5) ----

SC_LS = (2, 3, 4, 5, 6, 8, 10)  # the sample-complexity item's lengths
SC_FLOOR = math.log(2.0) / 4 / math.sqrt(12.0)  # its grid's quantization (2^(1/4) steps)


def _censored_draw(rng, mean_log_c, sigma, cap, seeds=GROWTH_SEEDS):
    """A measured n_eps: C exp(noise), right-censored at ``cap`` (the value is then cap, flagged)."""
    C = _draw(rng, mean_log_c, sigma, SC_LS, seeds)
    cens = C > cap
    return np.where(cens, cap, C), cens


def _rates(draws, make, test):
    out = {"polynomial": 0, "exponential": 0, "undecided": 0}
    for _ in range(draws):
        C, cens = make()
        out[test.fit(SC_LS, C, censored=cens).model] += 1
    return out


@pytest.mark.parametrize("cap", [800.0, 3200.0])
def test_censored_exponential_is_never_called_polynomial(cap, store):
    """2^L from n = 50 at L = 2, censored at ``cap`` (saturation flagged as censoring, the way the
    sample-complexity item measures it), noise sigma = 0.15 on log n: never 'polynomial' in 100
    seeded draws, and "exponential" in at least half (see the message for the measured counts)."""
    rng = np.random.default_rng(2026)
    test = T.GrowthTest(sigma_floor=SC_FLOOR)
    r = _rates(100, lambda: _censored_draw(rng, lambda L: math.log(50) + math.log(2) * (L - 2),
                                           0.15, cap), test)
    record_power(store, "C2", f"censored 2^L (cap {cap:g}) not called polynomial",
                 r["polynomial"] == 0, detail=str(r))
    assert r["polynomial"] == 0 and r["exponential"] >= 50, r


@pytest.mark.parametrize("p,limit", [(1.0, 0), (2.0, 2)])
def test_saturating_polynomial_is_rarely_called_exponential(p, limit):
    """A power law 20 L^p censored at 800 (p = 2 saturates from L ~ 6), 100 seeded draws:
    'exponential' in at most ``limit`` (measured: 0 for p = 1; 1 for p = 2, with 32 polynomial
    and 67 undecided), and the noise-free curve is classified polynomial with its exponent."""
    rng = np.random.default_rng(7)
    test = T.GrowthTest(sigma_floor=SC_FLOOR)
    r = _rates(100, lambda: _censored_draw(rng, lambda L: math.log(20) + p * math.log(L), 0.15,
                                           800.0), test)
    assert r["exponential"] <= limit, r
    C = np.array([[20.0 * L**p for L in SC_LS]] * 3)
    fit = test.fit(SC_LS, np.minimum(C, 800.0), censored=C > 800.0)
    assert fit.model == "polynomial" and all(abs(x - p) < 0.05 for x in fit.slope), fit.describe()


def test_unflagged_saturation_fools_the_rule_so_the_measurement_flags_it():
    """Why censoring must be flagged: a *soft* saturation C = 1 / (2^-L + 1/400) (C_n at one fixed
    n = 400) with noise 0.1 on log C, on L = (2, 4, 8, 16), is classified polynomial in 200 of 200
    seeded draws (the reviewer's measurement in issue 22): the rule cannot tell saturation from a
    power law, so the sample-complexity item never produces such a curve (a value not reached by
    the cap is recorded as censored)."""
    rng = np.random.default_rng(11)
    test = T.GrowthTest()
    r = {"polynomial": 0, "exponential": 0, "undecided": 0}
    for _ in range(200):
        C = _draw(rng, lambda L: -math.log(2.0**-L + 1 / 400), 0.1, GROWTH_LS)
        r[test.fit(GROWTH_LS, C).model] += 1
    assert r["polynomial"] == 200, r


def test_censored_fit_needs_a_noise_floor():
    C = np.array([[50.0, 100.0, 200.0]] * 2)
    with pytest.raises(ValueError, match="sigma_floor"):
        T.GrowthTest().fit((2, 3, 4), C, censored=np.array([[False, False, True]] * 2))
    with pytest.raises(ValueError, match="censored"):
        T.GrowthTest(sigma_floor=0.05).fit((2, 3, 4), C, censored=[[0, 0, 1]] * 2)
