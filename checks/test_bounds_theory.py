"""The bounds, the solves, the violation rule and the claim registry as formulas (docs/theory.md section 4).

These checks need no training: they compare each function of ``theory/`` with a hand computation
or an independent evaluation, as Hypothesis properties, and run each check on a deliberately
wrong variant to show that it would fail. The trained-network checks of the bounds live in
test_bounds_trained.py.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import theory as T
from checks._harness import record_identity, record_power
from checks.strategies import seeds

pytestmark = pytest.mark.fast

EPS64 = np.finfo(np.float64).eps

deltas = st.floats(1e-4, 0.5)
gammas = st.floats(1.01, 3.0)
sample_ns = st.sampled_from((1, 2, 5, 20, 200))


def _spd(n, seed, cond=10.0):
    """A random SPD matrix with eigenvalues spread geometrically over [1/cond, 1]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    ev = np.geomspace(1.0 / cond, 1.0, n)
    return (Q * ev) @ Q.T


def _unit_diag(S):
    """Scale an SPD matrix to H_ii = 1/2 (the unit-input normalisation of Arora et al.)."""
    s = 1.0 / np.sqrt(np.diag(S))
    return 0.5 * S * np.outer(s, s)


# ---- G1 reduces to the two-layer form when H_ii = 1/2 -----------------------------------------

def prior_form_gap(H, y, delta, gamma):
    """(main_term / prior_two_layer_form, g1 result). Equals Bbar / B in [1, gamma] when H_ii = 1/2."""
    g1 = T.g1_bound(H, y, delta, gamma=gamma)
    quad = T.kernel_solve(H, y).quad
    return g1.main_term / T.prior_two_layer_form(quad, H.shape[0]), g1


@given(n=st.sampled_from((2, 5, 20)), seed=seeds(), delta=deltas, gamma=gammas)
@example(n=2, seed=0, delta=0.05, gamma=1.1)  # smallest n with a non-trivial H
@example(n=20, seed=1, delta=1e-4, gamma=3.0)  # coarse grid, tiny delta
# B < 1/gamma: under the first (one-sided) grid Bbar was 1 and the ratio 1/B > gamma; the
# two-sided grid (docs/theory.md section 4, revised 2026-11-27) rounds B < 1 to gamma^j, j < 0.
@example(n=2, seed=2703, delta=0.5, gamma=1.03125)
def test_g1_reduces_to_prior_form_on_unit_diagonal(store, n, seed, delta, gamma):
    H = _unit_diag(_spd(n, seed, cond=50.0))
    y = np.random.default_rng(seed + 1).standard_normal(n)
    ratio, g1 = prior_form_gap(H, y, delta, gamma)
    # main = 2 Bbar sqrt(n/2)/n = Bbar sqrt(2/n) and prior = B sqrt(2/n): the ratio is the grid
    # rounding Bbar/B, in [1, gamma] for every B > 0 (two-sided grid). Tolerance: rounding of a
    # few float64 operations, 1e-12 relative.
    err = max(1.0 - ratio, ratio - gamma, 0.0)
    ok = record_identity(store, "P-ADHLW", {"n": n, "delta": delta, "gamma": gamma}, seed, err, 1e-12,
                         ratio=ratio)
    assert ok, (ratio, gamma)
    assert g1.main_term == pytest.approx(g1.B_grid * math.sqrt(2.0 / n), rel=1e-12)
    assert g1.confidence_term == pytest.approx(T.confidence_term(n, delta, g1.grid_index), rel=1e-15)
    assert g1.value == pytest.approx(g1.main_term + g1.confidence_term, rel=1e-15)
    assert g1.train_loss == 0.0 and g1.provenance == "rigorous"


@pytest.mark.selftest
def test_prior_form_check_catches_non_unit_diagonal(store):
    H = 2.0 * _unit_diag(_spd(5, 0, cond=50.0))  # H_ii = 1: the reduction must not hold
    ratio, g1 = prior_form_gap(H, np.ones(5), 0.05, 1.1)
    assert record_power(store, "P-ADHLW", "H_ii = 1 instead of 1/2", ratio > 1.1 * (1 + 1e-12), ratio=ratio)


# ---- monotonicity of the confidence term and of G1 / G2 -------------------------------------

def non_increasing(values) -> bool:
    return all(b <= a for a, b in zip(values, values[1:]))


@given(n=sample_ns, j=st.integers(-60, 60), ds=st.lists(deltas, min_size=2, max_size=6, unique=True))
@example(n=1, j=0, ds=[0.01, 0.5])  # n = 1, the grid point B_0 = 1
@example(n=3, j=-5, ds=[0.01, 0.5])  # a grid point below 1 (two-sided grid)
def test_confidence_term_monotone(n, j, ds):
    ds = sorted(ds)
    assert non_increasing([T.confidence_term(n, d, j) for d in ds])  # larger delta, smaller term
    assert non_increasing([T.confidence_term(k, ds[0], j) for k in (n, n + 1, 2 * n, 10 * n)])
    assert T.confidence_term(n + 1, ds[0], j) < T.confidence_term(n, ds[0], j)  # strictly in n
    # grid penalty: grows with |j|, symmetric in the sign of j
    step = 1 if j >= 0 else -1
    assert T.confidence_term(n, ds[0], j + step) > T.confidence_term(n, ds[0], j)
    assert T.confidence_term(n, ds[0], -j) == T.confidence_term(n, ds[0], j)


def test_grid_weights_sum_to_delta():
    # sum_j 2 delta / (3 (|j|+1)(|j|+2)) over j in Z: 1/2 + 2 sum_{k>=1} 1/((k+1)(k+2)) = 3/2,
    # so the weights sum to delta exactly; the tail beyond |j| = J is 4 delta / (3 (J + 2)).
    J, delta = 100_000, 0.05
    total = sum(T.grid_weight(j, delta) for j in range(-J, J + 1))
    assert total == pytest.approx(delta - 4 * delta / (3 * (J + 2)), rel=1e-9)


@given(seed=seeds(), ds=st.lists(deltas, min_size=2, max_size=5, unique=True),
       movement=st.floats(0.0, 50.0), train_loss=st.floats(0.0, 1.0))
@example(seed=0, ds=[1e-4, 0.5], movement=0.0, train_loss=0.0)  # B = 0: the best grid point j <= 0
def test_g1_g2_non_increasing_in_delta(seed, ds, movement, train_loss):
    ds = sorted(ds)
    H = _spd(8, seed)
    y = np.random.default_rng(seed).standard_normal(8)
    g1 = [T.g1_bound(H, y, d) for d in ds]
    g2 = [T.g2_bound(H, movement, train_loss, d) for d in ds]
    for res in (g1, g2):
        assert non_increasing([r.value for r in res])
        assert non_increasing([r.confidence_term for r in res])
        if res[0].B > 0:  # (B = 0 picks the grid point that minimizes the bound, which moves)
            assert len({r.main_term for r in res}) == 1  # the main term does not depend on delta


@pytest.mark.selftest
def test_monotonicity_check_catches_inverted_delta():
    def wrong(n, delta, j):  # log(... * delta) instead of log(... / delta)
        return 3.0 * math.sqrt(max(math.log(2.0 * (j + 1) * (j + 2) * delta) + 20, 0.0) / (2.0 * n))

    assert not non_increasing([wrong(20, d, 0) for d in (0.01, 0.1, 0.5)])


# ---- the formula itself -----------------------------------------------------------------------------

def test_rademacher_bound_by_hand():
    # B = 2.5, tr K = 10, n = 50, delta = 0.1, gamma = 1.1, train loss 0.05:
    # 1.1^9 = 2.358 < 2.5 <= 1.1^10 = 2.5937, so j = 10 and Bbar = 1.1^10.
    r = T.rademacher_bound(2.5, 10.0, 50, 0.1, 0.05, gamma=1.1)
    Bbar = 1.1**10
    main = 2.0 * Bbar * math.sqrt(10.0) / 50.0
    conf = 3.0 * math.sqrt(math.log(3.0 * 11 * 12 / 0.1) / 100.0)
    assert r.grid_index == 10 and r.B_grid == Bbar
    assert r.main_term == pytest.approx(main, rel=1e-15)  # 0.32807...
    assert r.confidence_term == pytest.approx(conf, rel=1e-15)  # 0.83965...
    assert r.value == pytest.approx(0.05 + main + conf, rel=1e-15)
    assert r.vacuous == (r.value >= 1.0) and r.vacuous
    assert T.rademacher_bound(2.5, 10.0, 50, 0.1, 0.05, main_scale=0.1).main_term == pytest.approx(0.1 * main)
    # B = 0.5: 1.1^-8 = 0.4665 < 0.5 <= 1.1^-7 = 0.5132, so j = -7 (two-sided grid), and the
    # confidence term pays log(3 * 8 * 9 / delta).
    small = T.rademacher_bound(0.5, 1.0, 10_000, 0.05)
    assert small.grid_index == -7 and small.B_grid == 1.1**-7
    assert small.value == pytest.approx(2.0 * 1.1**-7 / 10_000
                                        + 3.0 * math.sqrt(math.log(3.0 * 8 * 9 / 0.05) / 20_000))
    assert not small.vacuous


@given(B=st.floats(0.0, 1e4), trace=st.floats(0.0, 1e4), n=sample_ns, delta=deltas, gamma=gammas,
       loss=st.floats(0.0, 1.0))
def test_rademacher_bound_formula(B, trace, n, delta, gamma, loss):
    r = T.rademacher_bound(B, trace, n, delta, loss, gamma=gamma)
    j = r.grid_index
    assert r.B_grid == gamma**j
    assert r.main_term == pytest.approx(2.0 * gamma**j * math.sqrt(trace) / n, rel=1e-14, abs=0)
    assert r.confidence_term == pytest.approx(
        3.0 * math.sqrt(math.log(3.0 * (abs(j) + 1) * (abs(j) + 2) / delta) / (2.0 * n)), rel=1e-14)
    if B > 0:
        assert gamma**j >= B and gamma ** (j - 1) < B
    assert r.value == pytest.approx(loss + r.main_term + r.confidence_term, rel=1e-14)


# ---- grid index ---------------------------------------------------------------------------------

def grid_ok(index_fn, B, gamma) -> bool:
    """j is the smallest integer (two-sided grid) with gamma^j >= B."""
    j = index_fn(B, gamma)
    return gamma**j >= B and gamma ** (j - 1) < B


@given(B=st.floats(1e-8, 1e8), gamma=gammas)
@example(B=1e-8, gamma=1.1)  # far below 1: j = -194
@example(B=0.5, gamma=1.1)  # j = -7 (the first grid rounded this up to 1)
@example(B=1.0, gamma=1.1)  # j = 0
@example(B=1.1**5, gamma=1.1)  # exactly on a grid point: j = 5
@example(B=np.nextafter(1.1**5, 2.0), gamma=1.1)  # just above it: j = 6
@example(B=2.5, gamma=1.1)
def test_grid_index_is_smallest(B, gamma):
    assert grid_ok(T.grid_index, B, gamma), (B, gamma, T.grid_index(B, gamma))


@pytest.mark.selftest
def test_grid_check_catches_floor():
    def floor_index(B, gamma):
        return max(0, math.floor(math.log(B) / math.log(gamma))) if B > 0 else 0

    def one_sided(B, gamma):  # the first version's grid j >= 0: wrong for B < 1/gamma
        return max(0, math.ceil(math.log(B) / math.log(gamma)))

    assert not grid_ok(floor_index, 2.5, 1.1)
    assert not grid_ok(one_sided, 0.5, 1.1)


def test_grid_index_rejects_nonpositive_B():
    with pytest.raises(ValueError, match="B"):
        T.grid_index(0.0, 1.1)


# ---- complexity ------------------------------------------------------------------------------------

@given(seed=seeds(), c=st.floats(1e-3, 1e3))
@example(seed=0, c=1e-3)
@example(seed=1, c=1e3)
def test_complexity_invariant_under_scaling(seed, c):
    H = _spd(8, seed, cond=100.0)
    y = np.random.default_rng(seed).standard_normal(8)
    C0, C1 = T.complexity(H, y), T.complexity(c * H, y)
    # The solve's relative error is ~ n eps cond(H) = 8 * 2.2e-16 * 100 ~ 2e-13; 1e-11 leaves room.
    assert abs(C1 - C0) <= 1e-11 * C0, (C0, C1)
    assert C0 == pytest.approx(T.kernel_solve(H, y).quad * np.trace(H) / 8, rel=1e-15)


@pytest.mark.selftest
def test_complexity_check_catches_missing_trace():
    H = _spd(8, 0, cond=100.0)
    y = np.ones(8)
    quad0, quad1 = T.kernel_solve(H, y).quad, T.kernel_solve(10.0 * H, y).quad
    assert abs(quad1 - quad0) > 1e-11 * quad0  # y^T H^-1 y alone is not scale invariant


# ---- sample size ---------------------------------------------------------------------------------

def g1_terms(C, n, delta, mean_diag, gamma):
    """G1's main + confidence terms at sample size n for complexity C (B = sqrt(C / mean_diag))."""
    r = T.rademacher_bound(math.sqrt(C / mean_diag), n * mean_diag, n, delta, gamma=gamma)
    return r.main_term + r.confidence_term


@given(C=st.floats(1e-3, 100.0), eps=st.floats(0.02, 0.9), delta=deltas,
       mean_diag=st.floats(0.1, 10.0), gamma=gammas)
@example(C=1.0, eps=0.1, delta=0.05, mean_diag=0.5, gamma=1.1)
@example(C=1e-3, eps=0.9, delta=0.5, mean_diag=1.0, gamma=1.1)  # tiny n
def test_sample_size_is_smallest(C, eps, delta, mean_diag, gamma):
    n = T.sample_size(C, eps, delta, mean_diag=mean_diag, gamma=gamma)
    # The terms are evaluated by a different expression than sample_size's: allow 1e-12 relative
    # for rounding when the terms sit exactly at eps.
    assert g1_terms(C, n, delta, mean_diag, gamma) <= eps * (1 + 1e-12)
    if n > 1:
        assert g1_terms(C, n - 1, delta, mean_diag, gamma) > eps * (1 - 1e-12)


@pytest.mark.selftest
def test_sample_size_check_catches_asymptotic_formula():
    # n ~ 4 C / eps^2 ignores the confidence term and the grid rounding: too small.
    C, eps = 1.0, 0.1
    n = math.ceil(4 * C / eps**2)
    assert g1_terms(C, n, 0.05, 1.0, 1.1) > eps


# ---- kernel solves ---------------------------------------------------------------------------------

@given(n=st.sampled_from((1, 5, 20)), seed=seeds(), cond=st.floats(1.0, 1e6))
@example(n=1, seed=0, cond=1.0)  # n = 1
def test_kernel_solve_cholesky_matches_numpy(n, seed, cond):
    H = _spd(n, seed, cond)
    y = np.random.default_rng(seed).standard_normal(n)
    s = T.kernel_solve(H, y)
    ref = np.linalg.solve(H, y)
    assert s.method == "cholesky" and s.note == ""
    # Both are backward-stable solves: their difference is ~ n eps cond(H) relative.
    assert np.linalg.norm(s.alpha - ref) <= 10 * n * EPS64 * cond * np.linalg.norm(ref)
    assert s.quad == pytest.approx(float(y @ ref), rel=10 * n * EPS64 * cond)
    assert s.cond == pytest.approx(cond if n > 1 else 1.0, rel=1e-6)  # n = 1: one eigenvalue


@pytest.mark.parametrize("cond,max_cond", [(1e4, 1e3), (2e12, 1e12)])
def test_ill_conditioned_uses_reported_eigh_fallback(cond, max_cond):
    H = _spd(6, 0, cond)
    y = np.random.default_rng(0).standard_normal(6)
    s = T.kernel_solve(H, y, max_cond=max_cond)
    assert s.method == "eigh" and "eigh fallback" in s.note and "ill-conditioned" in s.note
    assert s.cond > max_cond
    # the fallback still solves the system to ~ eps cond relative
    assert np.linalg.norm(H @ s.alpha - y) <= 1e3 * EPS64 * cond * np.linalg.norm(y)
    assert T.kernel_solve(H, y, max_cond=cond * 10).method == "cholesky"


def test_singular_kernel_raises_naming_lambda_min():
    X = np.random.default_rng(0).standard_normal((4, 3, 2))
    X[3] = X[1]  # a duplicate sequence: two equal rows of H
    H = T.ntk_gram(X)
    with pytest.raises(T.SingularKernelError, match=r"singular: lambda_min = .* lambda_max = "):
        T.kernel_solve(H, np.ones(4))
    with pytest.raises(ValueError, match=r"lambda_min"):  # SingularKernelError is a ValueError
        T.g1_bound(H, np.ones(4))
    X[3] = 0.0  # an all-zero sequence: a zero row
    with pytest.raises(T.SingularKernelError, match=r"lambda_min"):
        T.kernel_solve(T.ntk_gram(X), np.ones(4))
    assert issubclass(T.SingularKernelError, ValueError)
    X[3] = X[0] + 1.0  # distinct again: solves
    assert T.kernel_solve(T.ntk_gram(X), np.ones(4)).method in ("cholesky", "eigh")


# ---- the violation rule -------------------------------------------------------------------------

@given(mean=st.floats(0.0, 1.0), n=st.integers(1, 100_000), dt=st.floats(1e-6, 0.5),
       bound=st.floats(0.0, 2.0))
@example(mean=0.5, n=1, dt=0.01, bound=0.0)  # n_test = 1
def test_hoeffding_reference_and_violation_rule(mean, n, dt, bound):
    half = math.sqrt(math.log(1.0 / dt) / (2.0 * n))
    assert T.hoeffding_lcb(mean, n, dt) == pytest.approx(mean - half, rel=1e-15, abs=1e-15)
    assert T.hoeffding_ucb(mean, n, dt) == pytest.approx(mean + half, rel=1e-15, abs=1e-15)
    # the rule is the Chernoff-KL LCB, which Pinsker's inequality kl(p||q) >= 2 (p - q)^2 puts
    # inside Hoeffding's interval: never looser
    lcb, ucb = T.kl_lcb(mean, n, dt), T.kl_ucb(mean, n, dt)
    assert T.is_violation(mean, n, bound, dt) == (lcb > bound)
    assert max(0.0, mean - half) <= lcb <= mean <= ucb <= min(1.0, mean + half)


def _kl(p, q):
    """kl(p || q) written out (0 log 0 = 0), for arrays of q."""
    with np.errstate(divide="ignore"):
        t = p * np.log(p / q) if p > 0 else 0.0
        return t + ((1 - p) * np.log((1 - p) / (1 - q)) if p < 1 else 0.0)


#: The brute-force inversion's grid: q = k / GRID. Its answer is the first (last) grid point
#: inside {q : kl(mean || q) <= eps}, so the exact end lies within one step 1/GRID below (above) it.
GRID = 200_000


@given(mean=st.floats(0.0, 1.0), n=st.integers(1, 5000), dt=st.floats(1e-6, 0.5))
@example(mean=0.0, n=10, dt=0.01)  # LCB 0, UCB 1 - dt^(1/n) (closed form below)
@example(mean=1.0, n=10, dt=0.01)
@example(mean=0.1, n=1000, dt=0.01)
@example(mean=1e-9, n=1, dt=0.5)  # a tiny mean at n = 1: the LCB underflows to ~0
@example(mean=0.5, n=1, dt=1e-6)  # UCB 1 - 2.5e-13: q's float spacing limits kl's precision
def test_kl_bounds_match_brute_force_inversion(mean, n, dt):
    eps = math.log(1.0 / dt) / n
    q = np.arange(GRID + 1) / GRID
    inside = q[_kl(mean, q) <= eps]
    lcb, ucb = T.kl_lcb(mean, n, dt), T.kl_ucb(mean, n, dt)
    # the bisection returns the end outside the set: lcb <= exact <= first grid point inside
    if inside.size:
        assert inside[0] - 1.0 / GRID <= lcb <= inside[0] + 1e-15
        assert inside[-1] - 1e-15 <= ucb <= inside[-1] + 1.0 / GRID
    # the defining equation at an interior end: kl(mean || end) = eps, to the end's resolution
    # (one float spacing of q, at least the bisection's 2^-100; near q = 1 a spacing is 1.1e-16
    # absolute, a large relative step of 1 - q) times |d kl / dq| = |q - mean| / (q (1 - q)),
    # plus the logs' rounding (1e-12 relative covers it)
    for end in (lcb, ucb):
        if 0.0 < end < 1.0 and end != mean:
            slope = abs(end - mean) / (end * (1.0 - end))
            tol = 4.0 * slope * max(np.spacing(end), 2.0**-100) + 1e-12 * eps
            assert abs(T.kl_bernoulli(mean, end) - eps) <= tol, (end, eps)


def test_kl_bounds_closed_forms_and_margins():
    # mean 0: kl(0 || q) = -log(1 - q), so UCB = 1 - dt^(1/n); mean 1 mirrors it
    assert T.kl_ucb(0.0, 10, 0.01) == pytest.approx(1 - 0.01**0.1, rel=1e-14)
    assert T.kl_lcb(1.0, 10, 0.01) == pytest.approx(0.01**0.1, rel=1e-14)
    assert T.kl_lcb(0.0, 10, 0.01) == 0.0 and T.kl_ucb(1.0, 10, 0.01) == 1.0
    # the margins the suite reports (issue 19): Hoeffding's 0.0480 at n_test = 1000, delta_test =
    # 0.01 against the KL margin below the mean, measured by this function (3 digits)
    assert 0.1 - T.hoeffding_lcb(0.1, 1000, 0.01) == pytest.approx(0.0480, abs=5e-5)
    assert 0.1 - T.hoeffding_lcb(0.1, 300, 0.01) == pytest.approx(0.0876, abs=5e-5)
    for risk, margin in ((0.05, 0.0182), (0.1, 0.0263), (0.2, 0.0365)):
        assert risk - T.kl_lcb(risk, 1000, 0.01) == pytest.approx(margin, abs=5e-5)
    for risk, margin in ((0.05, 0.0294), (0.1, 0.0444), (0.2, 0.0636)):
        assert risk - T.kl_lcb(risk, 300, 0.01) == pytest.approx(margin, abs=5e-5)
    with pytest.raises(ValueError, match=r"mean = 1.5 is out of range: allowed mean in \[0"):
        T.kl_lcb(1.5, 10, 0.01)
    with pytest.raises(ValueError, match=r"n_test"):
        T.kl_ucb(0.5, 0, 0.01)
    assert T.kl_bernoulli(0.5, 0.0) == math.inf and T.kl_bernoulli(0.0, 0.0) == 0.0


@pytest.mark.parametrize("n", [10, 50, 200])
@pytest.mark.parametrize("delta", [0.05, 0.2])
def test_kl_lcb_coverage_exact_for_bernoulli_losses(n, delta):
    """P(LCB > mu) <= delta for Bernoulli(mu) losses, computed exactly (no simulation): the mean
    is k / n, so the miss probability is the Binomial(n, mu) mass of the k whose LCB exceeds mu.
    A 0/1 loss is the extreme case of Hoeffding's convexity argument (the bound is tightest there)."""
    lcbs = np.array([T.kl_lcb(k / n, n, delta) for k in range(n + 1)])
    ucbs = np.array([T.kl_ucb(k / n, n, delta) for k in range(n + 1)])
    worst = 0.0
    for mu in np.linspace(0.001, 0.999, 499):
        pmf = np.exp([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                      + k * math.log(mu) + (n - k) * math.log1p(-mu) for k in range(n + 1)])
        miss_low, miss_up = float(pmf[lcbs > mu].sum()), float(pmf[ucbs < mu].sum())
        worst = max(worst, miss_low, miss_up)
        # pmf sums to 1 within ~n * 1e-15 (lgamma's relative error per term)
        assert miss_low <= delta + 1e-12 and miss_up <= delta + 1e-12, mu
    assert worst > delta / 4  # not vacuously loose: the level is nearly attained somewhere


#: Coverage simulation of continuous losses: REPS samples per case. The observed miss rate is a
#: Binomial(REPS, p <= delta) proportion; 4 of its standard deviations sqrt(delta (1 - delta) /
#: REPS) bound the excess a valid bound can show (two-sided z = 4: probability 6e-5 per case;
#: the seeds are fixed, so the outcome is reproducible).
REPS = 4000


@pytest.mark.parametrize("a,b", [(0.05, 0.2), (0.02, 0.02), (2.0, 8.0)])
def test_kl_lcb_coverage_simulated_for_beta_losses(a, b):
    """Continuous [0, 1] losses; U-shaped Beta laws (mass near 0 and 1) come closest to the
    Bernoulli worst case, so their miss rates are the informative ones (measured ~0.01-0.017 at
    delta = 0.1, n = 20). A bound at a far too optimistic level (0.9) must miss more often than
    the tolerance allows on those: the simulation can see an invalid bound."""
    rng = np.random.default_rng(19)
    n, delta = 20, 0.1
    mu = a / (a + b)
    means = rng.beta(a, b, size=(REPS, n)).mean(axis=1)
    miss_low = np.mean([T.kl_lcb(x, n, delta) > mu for x in means])
    miss_up = np.mean([T.kl_ucb(x, n, delta) < mu for x in means])
    tol = 4.0 * math.sqrt(delta * (1 - delta) / REPS)
    assert miss_low <= delta + tol and miss_up <= delta + tol, (miss_low, miss_up)
    # Hoeffding's reference covers too, more conservatively (its misses <= the KL ones)
    miss_h = np.mean([T.hoeffding_lcb(x, n, delta) > mu for x in means])
    assert miss_h <= miss_low
    if a < 1:  # the negative control
        assert np.mean([T.kl_lcb(x, n, 0.9) > mu for x in means]) > delta + tol


@pytest.mark.selftest
def test_coverage_check_catches_an_invalid_bound():
    """The exact Bernoulli coverage check rejects a bound at the wrong level (log(1/delta)/(4n):
    the KL set for delta^(1/4), i.e. a level 4x too optimistic in the exponent)."""
    n, delta = 50, 0.05
    wrong = [T.kl_lcb(k / n, n, delta**0.25) for k in range(n + 1)]
    mu = 0.3
    pmf = [math.comb(n, k) * mu**k * (1 - mu) ** (n - k) for k in range(n + 1)]
    assert sum(p for p, lo in zip(pmf, wrong) if lo > mu) > delta


def test_violation_rule_by_hand():
    # n_test = 1000, delta_test = 0.01: the KL LCB of 0.30 is 0.2573 (Hoeffding's: 0.252)
    lcb = T.kl_lcb(0.30, 1000, 0.01)
    assert lcb == pytest.approx(0.2573, abs=1e-4)
    assert T.is_violation(0.30, 1000, 0.255, 0.01)  # LCB 0.257 > 0.255 (Hoeffding's 0.252 is not)
    assert not T.is_violation(0.29, 1000, 0.255, 0.01)  # LCB 0.247 <= 0.255
    assert not T.is_violation(0.30, 1000, 0.30, 0.01)  # the risk equal to the bound never violates
    assert not T.is_violation(0.30, 1000, lcb, 0.01)  # LCB == bound: not a violation (strict)


def _brute_tail(k, trials, p):
    return sum(math.comb(trials, i) * p**i * (1 - p) ** (trials - i) for i in range(k, trials + 1))


@given(trials=st.integers(0, 40), k=st.integers(0, 45), p=st.floats(0.0, 1.0))
@example(trials=0, k=0, p=0.5)  # empty: P(X >= 0) = 1
@example(trials=10, k=11, p=0.9)  # k > trials: 0
@example(trials=10, k=1, p=0.0)
@example(trials=10, k=10, p=1.0)
def test_binomial_tail_matches_brute_force(trials, k, p):
    got = T.binomial_tail(k, trials, p)
    want = _brute_tail(k, trials, p) if k <= trials else 0.0
    # log-space terms via lgamma carry ~1e-14 relative each; sums of <= 41 terms: 1e-12 relative.
    assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
    assert 0.0 <= got <= 1.0


def test_violation_rate_test():
    bad = T.violation_rate_test(10, 20, 0.06)
    assert bad.rejected and bad.expected_rate == 0.06 and bad.observed_rate == 0.5
    assert bad.p_value == pytest.approx(_brute_tail(10, 20, 0.06), rel=1e-12) and bad.p_value < 1e-6
    good = T.violation_rate_test(0, 20, 0.06)
    assert not good.rejected and good.p_value == 1.0
    # one violation in 20 at rate 0.06 is expected-ish: P(>= 1) = 1 - 0.94^20 = 0.71
    assert not T.violation_rate_test(1, 20, 0.06).rejected


def test_allowed_violation_rate_from_the_records_levels():
    """delta + delta_test (+ delta_gap), the largest over the records, exactly (floats summed
    in the same order as the function: no tolerance needed)."""
    assert T.allowed_violation_rate([(0.05, 0.01, None)]) == 0.05 + 0.01
    assert T.allowed_violation_rate([(0.05, 0.01, 0.01)]) == 0.05 + 0.01 + 0.01
    assert T.allowed_violation_rate([(0.05, 0.01, None), (0.1, 0.02, 0.03), (0.01, 0.01, 0.0)]) \
        == 0.1 + 0.02 + 0.03
    assert T.allowed_violation_rate([(0.9, 0.5, 0.5)]) == 1.0  # a rate is a probability
    with pytest.raises(ValueError, match="levels must hold"):
        T.allowed_violation_rate([])
    with pytest.raises(ValueError, match=r"delta_test = 0.0 is out of range"):
        T.allowed_violation_rate([(0.05, 0.0, None)])


# ---- linearized GD facts ---------------------------------------------------------------------------

def direct_trajectory(K, r0, eta, steps):
    """r_{t+1} = (I - eta K) r_t and W_t - W_0 = -eta sum_{s<t} J^T r_s, so
    ||W_t - W_0||^2 = eta^2 u_t^T K u_t with u_t = sum_{s<t} r_s (sum loss, J J^T = K)."""
    r, u, res, mov = r0.copy(), np.zeros_like(r0), [], []
    for _ in range(steps + 1):
        res.append(np.linalg.norm(r))
        mov.append(eta * math.sqrt(max(u @ K @ u, 0.0)))
        u = u + r
        r = r - eta * (K @ r)
    return np.array(res), np.array(mov)


@given(seed=seeds(), frac=st.floats(0.05, 1.0), use_kernel=st.booleans())
@example(seed=0, frac=1.0, use_kernel=True)  # eta = 1/lambda_max exactly, the stability limit
@example(seed=1, frac=0.05, use_kernel=False)
def test_linearized_gd_trajectory(store, seed, frac, use_kernel):
    if use_kernel:  # the analytic kernel of 6 random sequences (L = 3, d = 3)
        K = T.ntk_gram(np.random.default_rng(seed).standard_normal((6, 3, 3)))
    else:
        K = _spd(6, seed, cond=10.0)
    r0 = np.random.default_rng(seed + 1).standard_normal(6)
    lo, hi, cond = T.spectrum(K)
    eta = frac / hi
    steps = 60
    tr = T.linearized_gd_trajectory(K, r0, eta, steps)
    res, mov = direct_trajectory(K, r0, eta, steps)
    bound = T.gd_residual_bound(K, r0, eta, np.arange(steps + 1))
    limit = T.weight_movement_limit(K, r0)
    # eigenbasis vs direct iteration: ~ steps * n * eps * cond relative; 1e-9 covers cond <= 1e4.
    scale = np.linalg.norm(r0)
    err = max(float(np.max(np.abs(tr["residual"] - res))) / scale,
              float(np.max(np.abs(tr["movement"] - mov))) / max(limit, 1e-300))
    ok = record_identity(store, "T-gd", {"what": "linearized GD trajectory", "kernel": use_kernel,
                                         "frac": frac}, seed, err, 1e-9)
    assert ok, err
    assert np.all(tr["residual"] <= bound * (1 + 1e-12) + 1e-15 * scale)
    assert np.all(np.diff(tr["movement"]) >= -1e-12 * limit)  # non-decreasing
    assert np.all(tr["movement"] <= limit * (1 + 1e-9))
    assert limit == pytest.approx(math.sqrt(r0 @ np.linalg.solve(K, r0)), rel=1e-9 * cond)
    long = T.linearized_gd_trajectory(K, r0, eta, int(60 / (eta * lo)))  # (1 - eta lo)^t < e^-60
    assert long["movement"][-1] == pytest.approx(limit, rel=1e-6)


@pytest.mark.selftest
def test_residual_check_catches_wrong_rate(store):
    # A residual "bound" with lambda_max in place of lambda_min decays too fast: violated.
    K = _spd(6, 0, cond=10.0)
    r0 = np.ones(6)
    eta = 1.0 / T.spectrum(K)[1]
    res = T.linearized_gd_trajectory(K, r0, eta, 20)["residual"]
    wrong = (1.0 - eta * T.spectrum(K)[1] * 0.999) ** np.arange(21) * np.linalg.norm(r0)
    caught = bool(np.any(res > wrong * (1 + 1e-12)))
    assert record_power(store, "T-gd", "residual rate with lambda_max for lambda_min", caught)
    with pytest.raises(ValueError, match=r"eta = .* is out of range"):  # eta > 1/lambda_max refused
        T.linearized_gd_trajectory(K, r0, 2.0 * eta, 5)


# ---- the claim registry ----------------------------------------------------------------------------

def test_every_claim_has_a_valid_provenance():
    assert set(T.PROVENANCE_TAGS) == {"exact", "rigorous", "paper-claim", "prior", "declared",
                                      "fitted-envelope"}
    for cid, c in T.REGISTRY.items():
        assert c.id == cid and c.provenance in T.PROVENANCE_TAGS, cid
        assert c.statement and c.source and c.title
        for fn in c.functions:  # every implementing function exists in theory
            assert callable(getattr(T, fn)), (cid, fn)
        assert T.get_claim(cid) is c
    # paper-claims are the paper's abstract; nothing else may cite the paper as its source
    for c in T.REGISTRY.values():
        assert (c.provenance == "paper-claim") == ("paper abstract" in c.source), c.id
    for name, tag in T.PROVENANCE.items():
        assert tag in T.PROVENANCE_TAGS, name
    with pytest.raises(ValueError, match=r"provenance 'theorem' not in"):
        T.Claim("X", "t", "s", "theorem", "nowhere")


def _statement_term(text: str):
    """A formula term as the registry writes it, made a Python function of the bound's symbols:
    juxtaposition is a product ("2 Bbar", "3(", ")(", "2n"), |j| is abs(j), tr H / tr K_m is trace."""
    import re

    e = text.replace("|j|", "abs(j)").replace("tr H", "trace").replace("tr K_m", "trace")
    e = re.sub(r"(?<=[\w)])\s+(?=[\w(])", "*", e)
    e = re.sub(r"(?<=\d)(?=[A-Za-z(])", "*", e)
    e = e.replace(")(", ")*(")
    return lambda **v: eval(e, {"sqrt": math.sqrt, "log": math.log, "abs": abs}, v)


#: claim -> (the function evaluating it, {formula as the statement writes it: BoundResult field})
_STATEMENT_TERMS = {
    "G1": {"2 Bbar sqrt(tr H)/n": "main_term",
           "3 sqrt(log(3(|j|+1)(|j|+2)/delta)/(2n))": "confidence_term"},
    "G2": {"2 Bbar sqrt(tr K_m)/n": "main_term",
           "3 sqrt(log(3(|j|+1)(|j|+2)/delta)/(2n))": "confidence_term"},
    "P-THT": {"3 sqrt(log(2/delta)/(2n))": "confidence_term"},
}


@given(B=st.floats(1e-3, 1e3), trace=st.floats(1e-2, 1e4), n=sample_ns, delta=deltas,
       loss=st.floats(0.0, 1.0))
@example(B=0.5, trace=10.0, n=20, delta=0.05, loss=0.1)  # j < 0: the two-sided grid's |j|
def test_registry_statements_match_the_implemented_terms(B, trace, n, delta, loss):
    """The registry's statement of each bound, where it writes a term as a formula, is the term
    the code computes: each formula must appear verbatim and evaluate to the implemented value
    (float64, same operations up to order: 1e-12 relative)."""
    res = T.rademacher_bound(B, trace, n, delta, loss)
    sym = {"Bbar": res.B_grid, "trace": res.trace, "n": n, "delta": delta, "j": res.grid_index}
    tht = T.tht_bound(train_loss=loss, n=n, L=3, delta=delta, beta_V=1.0, beta_W=0.5, beta_U=1.0,
                      X_fro=1.0, X_col1=1.0, fisher_rao=1.0, lambda_min=0.5)
    results = {"G1": res, "G2": res, "P-THT": tht}
    for claim, terms in _STATEMENT_TERMS.items():
        statement = T.get_claim(claim).statement
        assert "train loss" in statement, claim
        for text, field in terms.items():
            assert text in statement, (claim, text)
            got = _statement_term(text)(**sym)
            assert got == pytest.approx(getattr(results[claim], field), rel=1e-12), (claim, text)
    for claim in ("G1-net", "G2-net"):  # the gap term: the suite's Chernoff-KL UCB at delta_gap
        statement = T.get_claim(claim).statement
        assert "Chernoff-KL UCB" in statement and "1 - delta - delta_gap" in statement, claim


@pytest.mark.selftest
def test_statement_check_catches_the_one_sided_weights():
    """The first G1 statement's confidence term, log(2(j+1)(j+2)/delta), is not the code's."""
    res = T.rademacher_bound(0.5, 10.0, 20, 0.05)
    old = _statement_term("3 sqrt(log(2(j+1)(j+2)/delta)/(2n))")(
        j=res.grid_index, delta=0.05, n=20)
    assert old != pytest.approx(res.confidence_term, rel=1e-12)


def test_hypotheses_report_unmet_conditions():
    c4 = T.get_claim("C4")
    cfg = {"L": 8, "family": "n-variable", "f": "sin", "N": 5, "l0": 6}
    msgs = c4.unmet(cfg)
    assert len(msgs) == 1 and not c4.applies(cfg)
    assert "N or l0 small" in msgs[0] and "'N': 5" in msgs[0] and "'l0': 6" in msgs[0]
    assert f"N <= {T.C4_SMALL_N} or l_0 <= {T.C4_SMALL_L0}" in msgs[0]
    with pytest.raises(ValueError, match=r"claim C4 .* does not apply"):
        c4.require(cfg)
    assert c4.applies({**cfg, "N": 2}) and c4.applies({**cfg, "l0": 1})  # either one small suffices
    missing = c4.unmet({"L": 8, "family": "n-variable", "f": "sin"})
    assert missing == ["N or l0 small: configuration lacks ['N', 'l0'] (needed to decide: "
                       f"N <= {T.C4_SMALL_N} or l_0 <= {T.C4_SMALL_L0})"]
    g1 = T.get_claim("G1").unmet({"L": 1, "delta": 0.05})
    assert len(g1) == 1 and "L>=2" in g1[0] and "'L': 1" in g1[0]
    assert T.get_claim("P-AZL").unmet({"max_token_norm": 1.0})  # inputs not small
    assert not T.get_claim("P-AZL").unmet({"max_token_norm": T.AZL_EPS})


def test_power_law_exponents():
    law = T.get_claim("C2").laws["complexity"]
    assert law.exponent(eps=0.1) == pytest.approx(2.0 + math.log(10.0))
    assert law.exponent(eps=0.01) > law.exponent(eps=0.1)  # smaller eps, larger exponent
    for bad in (None, 0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"this law's exponent depends on eps: pass 0 < eps < 1"):
            law.exponent(eps=bad)
    fixed_n = T.get_claim("C4").laws["fixed_N"]
    assert fixed_n.exponent(N=3) == pytest.approx(5.0)
    with pytest.raises(ValueError, match=r"depends on N: pass N >= 1"):
        fixed_n.exponent()
    assert T.get_claim("C4").laws["fixed_l0"].predict(2.0, l0=3) == pytest.approx(2.0**3 * 2.0**3)
    # every scaling law is judged by the growth rule, not by its exponent
    assert all(law_.growth == T.GrowthTest() for c in ("C2", "C4")
               for law_ in T.get_claim(c).laws.values())
    rate = T.get_claim("K-mc").laws["rate"]
    assert rate.exponent == -0.5 and rate.tol == 0.2
    assert rate.supports(-0.45) and not rate.supports(-0.06) and not rate.supports(-1.0)


def test_growth_rule_needs_every_seed_and_says_why_not():
    """Per-seed decision: one dissenting seed, or a single seed, leaves the curve undecided; the
    class is classified first (an exponential class is 'not supported' whatever the control), and
    a class that is not exponential needs an exponential control. Exact, noise-free curves."""
    Ls = (2, 4, 8, 16)
    poly = [[3.0 * L**2 for L in Ls]] * 3
    expo = [[3.0 * math.exp(0.5 * L) for L in Ls]] * 3
    test = T.GrowthTest()
    assert test.fit(Ls, poly).model == "polynomial" and test.fit(Ls, expo).model == "exponential"
    assert min(test.fit(Ls, poly).llr) > 50 and max(test.fit(Ls, expo).llr) < -50
    assert test.fit(Ls, poly[:2] + expo[:1]).model == "undecided"  # the seeds disagree
    assert test.fit(Ls, poly[:1]).model == "undecided"  # one seed: no spread to judge
    assert T.GrowthTest(min_seeds=1).fit(Ls, poly[:1]).model == "polynomial"
    verdicts = {(c, k): T.compare_growth(Ls, a, b)["verdict"]
                for c, a in (("poly", poly), ("exp", expo)) for k, b in (("poly", poly), ("exp", expo))}
    assert verdicts == {("poly", "exp"): "supported", ("exp", "exp"): "not supported at these sizes",
                        ("poly", "poly"): "no power at these sizes",
                        ("exp", "poly"): "not supported at these sizes"}
    assert T.compare_growth(Ls, poly[:2] + expo[:1], expo)["verdict"] == "inconclusive at these sizes"
    # an undecided (here: one dissenting seed) control is no power, never a pass
    assert T.compare_growth(Ls, poly, poly[:2] + expo[:1])["verdict"] == "no power at these sizes"


@pytest.mark.parametrize("kwargs,match", [
    (dict(Ls=(2, 4), C=[[1.0, 2.0]]), r"Ls = \[2, 4\]: need at least 3"),
    (dict(Ls=(2, 4, 4), C=[[1.0, 2.0, 3.0]]), "distinct"),
    (dict(Ls=(0, 4, 8), C=[[1.0, 2.0, 3.0]]), "lengths > 0"),
    (dict(Ls=(2, 4, 8), C=[[1.0, 2.0]]), r"C has shape \(1, 2\)"),
    (dict(Ls=(2, 4, 8), C=[[1.0, -2.0, 3.0]]), "finite and > 0"),
    (dict(Ls=(2, 4, 8), C=[[1.0, float("nan"), 3.0]]), "finite and > 0"),
    (dict(Ls=(2, 4, 8), C=[["a", 2.0, 3.0]]), "numeric array"),
    (dict(Ls=(2, 4, 8), C=[[1.0, 2.0, 3.0]], seeds=(0, 1)), "one label per row"),
])
def test_growth_rule_bad_input_is_one_line_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.GrowthTest().fit(**kwargs)


@pytest.mark.parametrize("kwargs,match", [(dict(threshold=0), "threshold"),
                                          (dict(threshold=float("nan")), "threshold"),
                                          (dict(min_seeds=0), "min_seeds"),
                                          (dict(min_seeds=2.0), "min_seeds"),
                                          (dict(sigma_floor=-0.1), "sigma_floor")])
def test_growth_rule_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.GrowthTest(**kwargs)


def test_with_law_builds_a_mutant_copy():
    c2 = T.get_claim("C2")
    mutant = c2.with_law("complexity", p0=0.5, p_eps=0.0)
    assert mutant.laws["complexity"].exponent() == 0.5
    assert T.get_claim("C2").laws["complexity"].p0 == 2.0  # the registry is untouched
    assert T.REGISTRY["C2"] is c2 and mutant is not c2 and mutant.id == "C2"
    with pytest.raises(TypeError):
        T.REGISTRY["C2"] = mutant  # read-only mapping
    with pytest.raises(TypeError):
        c2.laws["complexity"] = None  # read-only laws
    with pytest.raises(KeyError):
        c2.with_law("no-such-law", p0=1.0)
    assert isinstance(T.REGISTRY, types.MappingProxyType)
