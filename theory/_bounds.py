"""Generalization bounds, complexity, sample sizes, GD facts and the violation rule.

docs/theory.md section 4. Provenance of each function is in its ``PROVENANCE`` entry below and in
every result object it returns.

G1 (rigorous, kernel limit) and G2 (rigorous for the linearized predictor) share one form: for a
class {x -> f0(x) + <phi(x), w> : ||w|| <= B} on a sample with Gram K and a [0,1]-valued,
1-Lipschitz loss, with probability >= 1 - delta, simultaneously over the grid B_j = gamma^j:

    risk <= train_loss + 2 * Bbar * sqrt(tr K) / n + 3 * sqrt( log(3 (|j|+1)(|j|+2) / delta) / (2 n) )

(Rademacher complexity B sqrt(tr K)/n, Talagrand's contraction, McDiarmid, and a union bound
over the **two-sided** grid B_j = gamma^j, j in Z, with weights delta_j = 2 delta / (3 (|j|+1)(|j|+2)),
which sum to delta). j is the smallest integer with gamma^j >= B, Bbar = gamma^j. (Revised
2026-11-27: the first version's one-sided grid j >= 0 rounded every B < 1 up to 1, which made G1
depend on the units of x; the two-sided grid keeps the main term scale-invariant up to gamma.)

G1-net / G2-net (rigorous) bound the trained network itself: for any predictors g, h and a
[0,1]-valued 1-Lipschitz loss, risk(g) <= risk(h) + E_x min(1, |g(x) - h(x)|); the second term is
bounded by the Chernoff-KL UCB (level delta_gap; ``kl_ucb``) of its mean on fresh unlabelled inputs, so
``net_bound(G_h, gap) = G_h + UCB`` holds with probability >= 1 - delta - delta_gap.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from models import check_float, check_int

from ._linalg import NestedCholesky, kernel_solve

PROVENANCE = {
    "g1_bound": "rigorous",
    "g1_nested": "rigorous",
    "g2_bound": "rigorous",
    "rademacher_bound": "rigorous",
    "complexity": "exact",
    "sample_size": "exact",  # arithmetic at a fixed C; C_n grows with n, so not a sample complexity
    "gd_residual_bound": "exact",
    "linearized_gd_trajectory": "exact",
    "weight_movement_limit": "exact",
    "hoeffding_lcb": "rigorous",  # the reference the KL bounds replaced
    "kl_bernoulli": "exact",
    "kl_lcb": "rigorous",  # Chernoff-KL (Hoeffding 1963, Thm 1): the suite's confidence bounds
    "kl_ucb": "rigorous",
    "binomial_tail": "exact",
    "prior_two_layer_form": "prior",
    "net_bound": "rigorous",
    "hoeffding_ucb": "rigorous",
    "grid_weight": "rigorous",  # the union bound's weights (they sum to delta)
    "bound_verdict": "rigorous",  # the violation rule: the risk's Chernoff-KL LCB against the bound
    "allowed_violation_rate": "rigorous",  # the binomial test's rate from the records' levels
    "infinite_bound": "exact",
}


def json_safe(d: dict) -> dict:
    """A record dict with non-finite floats as strings (JSON has no inf/nan)."""
    return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


@dataclass(frozen=True)
class BoundResult:
    """A bound's value and its terms. ``vacuous`` is value >= 1 (the loss lives in [0, 1])."""

    name: str
    value: float
    main_term: float  # 2 * Bbar * sqrt(tr K) / n
    confidence_term: float  # 3 * sqrt(log(3 (|j|+1)(|j|+2) / delta) / (2 n))
    train_loss: float
    B: float  # norm of the predictor in feature space
    B_grid: float  # Bbar = gamma^j
    grid_index: int  # j
    n: int
    delta: float
    trace: float
    provenance: str
    vacuous: bool
    reason: str = ""
    extra: dict = field(default_factory=dict)
    # G1-net / G2-net only (``net_bound``): value = base_value + gap_ucb
    base_value: float | None = None
    gap_mean: float | None = None
    gap_ucb: float | None = None
    n_gap: int | None = None
    delta_gap: float | None = None

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


#: The grid is two-sided but a B of exactly 0 (the zero predictor) has no smallest grid point
#: above it; it takes the grid point with j <= 0 that minimizes the bound, searched down to this.
_J_FLOOR = -400


def grid_index(B: float, gamma: float) -> int:
    """Smallest integer j (of either sign) with gamma^j >= B > 0 (docs/theory.md section 4, two-sided
    grid). B = 0 is handled by ``rademacher_bound`` (the best j <= 0)."""
    check_float("B", B, low=0.0, low_open=True)
    j = math.ceil(math.log(B) / math.log(gamma) - 1e-12)
    while gamma**j < B:  # guard against log rounding
        j += 1
    while gamma ** (j - 1) >= B:
        j -= 1
    return j


def grid_weight(j: int, delta: float) -> float:
    """delta_j = 2 delta / (3 (|j|+1)(|j|+2)); sum over j in Z is delta."""
    return 2.0 * delta / (3.0 * (abs(j) + 1) * (abs(j) + 2))


def confidence_term(n: int, delta: float, j: int) -> float:
    """3 sqrt(log(2 / delta_j) / (2 n)) = 3 sqrt(log(3 (|j|+1)(|j|+2) / delta) / (2 n))."""
    return 3.0 * math.sqrt(math.log(2.0 / grid_weight(j, delta)) / (2.0 * n))


def rademacher_bound(B: float, trace: float, n: int, delta: float, train_loss: float = 0.0, *,
                     gamma: float = 1.1, name: str = "rademacher", provenance: str = "rigorous",
                     main_scale: float = 1.0) -> BoundResult:
    """risk <= train_loss + 2 Bbar sqrt(trace)/n + 3 sqrt(log(3(|j|+1)(|j|+2)/delta)/(2n)).

    Symbols: B = ``B`` (feature-space norm), tr K = ``trace``, n = ``n``, delta = ``delta``,
    gamma = ``gamma``. ``main_scale`` multiplies the main term: 1 for the real bound; the suite
    uses 0.1 to build the deliberately wrong bound its power checks must reject.
    """
    n = check_int("n", n, low=1)
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    check_float("gamma", gamma, low=1.0, low_open=True)
    check_float("B", B, low=0.0)
    check_float("trace", trace, low=0.0)
    check_float("train_loss", train_loss, low=0.0, high=1.0)
    def terms(j):
        main = main_scale * 2.0 * gamma**j * math.sqrt(trace) / n
        return main, confidence_term(n, delta, j)

    if B > 0:
        j = grid_index(B, gamma)
    else:  # the zero predictor lies in every ball: the best grid point j <= 0
        j = min(range(_J_FLOOR, 1), key=lambda i: sum(terms(i)))
    Bbar = gamma**j
    main, conf = terms(j)
    value = train_loss + main + conf
    return BoundResult(name, value, main, conf, train_loss, B, Bbar, j, n, delta, trace,
                       provenance, value >= 1.0)


def infinite_bound(name: str, n: int, delta: float, train_loss: float, reason: str) -> BoundResult:
    """A bound that says nothing (+inf, verdict 'not-applicable'), with the reason recorded."""
    inf = float("inf")
    return BoundResult(name, inf, inf, inf, train_loss, inf, inf, -1, n, delta, 0.0, "exact", True,
                       reason=reason)


def _l1_answer(name: str, n: int, delta: float, train_loss: float) -> BoundResult:
    return infinite_bound(
        name, n, delta, train_loss,
        "L = 1: H = 0 (a W-only RNN of length 1 has zero W-gradient at init, since h_0 = 0), so "
        "no target is learnable and the bound is +inf")


def g1_bound(H, y, delta: float = 0.05, *, gamma: float = 1.1, main_scale: float = 1.0,
             max_cond: float = 1e12) -> BoundResult:
    """G1: a-priori bound for the minimum-norm kernel interpolant (docs/theory.md section 4, rigorous).

    B^2 = y^T H^{-1} y (squared RKHS norm of the interpolant), train loss 0, trace = tr H.
    With H_ii = 1/2 the main term is sqrt(2 y^T H^{-1} y / n) (Arora et al. 2019, Thm 5.1 form).
    H = 0 (sequence length L = 1) returns +inf with the reason, not a division by zero.
    """
    H = np.asarray(H, np.float64)
    n = H.shape[0]
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    if n >= 1 and not np.any(H):
        return _l1_answer("G1", n, delta, 0.0)
    sol = kernel_solve(H, y, max_cond=max_cond)
    res = _g1_from_quad(sol.quad, float(np.trace(H)), n, delta, gamma, main_scale)
    return _with_extra(res, solve_method=sol.method, lambda_min=sol.lambda_min,
                       cond=sol.cond, solve_note=sol.note)


def _g1_from_quad(quad: float, trace: float, n: int, delta: float, gamma: float,
                  main_scale: float = 1.0) -> BoundResult:
    """G1's terms from y^T H^{-1} y and tr H: the interpolant has B^2 = quad and train loss 0."""
    return rademacher_bound(math.sqrt(max(quad, 0.0)), trace, n, delta, 0.0, gamma=gamma,
                            name="G1", main_scale=main_scale)


def g1_nested(factor: NestedCholesky, Y, ns, delta: float = 0.05, *,
              gamma: float = 1.1) -> list[list[BoundResult]]:
    """G1 for the first n samples of one sample, for every n in ``ns`` and every label column of
    ``Y`` (n_max,) or (n_max, c), from one factorization of the n_max x n_max Gram
    (``theory.nested_cholesky``; THEORY.md section 4, rigorous, the same bound as ``g1_bound``).

    Returns ``out[i][c]``: G1 at n = ns[i] for column c. The solve diagnostics (the estimated
    condition number of the whole Gram, which bounds every leading block's) are in ``extra``.
    """
    Y = np.asarray(Y, np.float64)
    Y2 = Y[:, None] if Y.ndim == 1 else Y
    ns = [check_int("n", k, low=1, high=factor.n) for k in ns]
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    q = factor.quads(factor.forward(Y2))
    return [[_with_extra(_g1_from_quad(float(q[k - 1, c]), factor.trace(k), k, delta, gamma),
                         solve_method="nested-cholesky", cond_est=factor.cond_est)
             for c in range(Y2.shape[1])] for k in ns]


def g2_bound(K, movement: float, train_loss: float, delta: float = 0.05, *, gamma: float = 1.1,
             main_scale: float = 1.0) -> BoundResult:
    """G2: a-posteriori bound for the linearized predictor of a trained network (rigorous).

    B = ||W_T - W_0||_F (``movement``), trace = tr K_m(S) of the empirical NTK at init on the
    training sample, ``train_loss`` = mean min(1, |f_lin(x_i) - y_i|) on that sample. It holds for
    f_lin; the linearization gap |f(W_T; x) - f_lin(x)| is measured and reported separately.
    """
    K = np.asarray(K, np.float64)
    n = K.shape[0]
    if n >= 1 and not np.any(K):
        return _l1_answer("G2", n, delta, float(train_loss))
    return rademacher_bound(float(movement), float(np.trace(K)), n, delta, float(train_loss),
                            gamma=gamma, name="G2", main_scale=main_scale)


def _with_extra(res: BoundResult, **extra) -> BoundResult:
    return BoundResult(**{**asdict(res), "extra": {**res.extra, **extra}})


def net_bound(base: BoundResult, gap_losses, delta_gap: float, *, name: str) -> BoundResult:
    """G1-net / G2-net (docs/theory.md section 4, rigorous): the bound for the trained network g from the
    bound ``base`` of a reference predictor h (f_ker for G1-net, f_lin for G2-net) and the losses
    ``gap_losses`` = min(1, |g(x) - h(x)|) on n_gap fresh unlabelled inputs drawn independently of
    the training sample:

        risk(g) <= base.value + kl_ucb(mean gap_losses; n_gap, delta_gap)

    with probability >= 1 - delta - delta_gap. The base's terms are kept; the gap is never folded
    in silently (``gap_mean``, ``gap_ucb``, ``base_value`` are fields of the result).
    """
    gl = np.asarray(gap_losses, np.float64).ravel()
    if gl.size == 0 or not np.all(np.isfinite(gl)) or np.any(gl < 0) or np.any(gl > 1):
        raise ValueError("gap_losses must be a non-empty array of values in [0, 1] "
                         "(min(1, |g - h|) on fresh inputs)")
    check_float("delta_gap", delta_gap, low=0.0, high=1.0, low_open=True, high_open=True)
    if not math.isfinite(base.value):
        return BoundResult(**{**asdict(base), "name": name})
    gap_mean = float(np.mean(gl))
    ucb = min(1.0, kl_ucb(gap_mean, int(gl.size), delta_gap))
    value = base.value + ucb
    return BoundResult(**{**asdict(base), "name": name, "value": value, "vacuous": value >= 1.0,
                          "provenance": "rigorous", "base_value": base.value,
                          "gap_mean": gap_mean, "gap_ucb": ucb, "n_gap": int(gl.size),
                          "delta_gap": float(delta_gap)})


def prior_two_layer_form(quad: float, n: int) -> float:
    """sqrt(2 y^T H^{-1} y / n): the leading term of Arora et al. 2019, Thm 5.1 (tag: prior)."""
    return math.sqrt(2.0 * quad / check_int("n", n, low=1))


def complexity(H, y) -> float:
    """C_n = y^T H^{-1} y * tr(H) / n (docs/theory.md section 4; invariant under H -> c H). exact."""
    H = np.asarray(H, np.float64)
    if not np.any(H):
        return float("inf")
    return kernel_solve(H, y).quad * float(np.trace(H)) / H.shape[0]


def sample_size(C: float, eps: float, delta: float = 0.05, *, mean_diag: float = 1.0,
                gamma: float = 1.1) -> int:
    """Smallest n with G1's leading and confidence terms <= eps, for complexity C held fixed (exact).

    Not a sample complexity: it treats C as independent of n, while the measured C_n grows with
    n at CPU sizes (slopes 0.26-0.96 in n for the sin classes, docs/theory.md section 4), so
    n(eps) computed from C_n at one n understates the n that G1 needs; the tag is ``exact`` for
    the arithmetic only.

    Since C = B^2 tr(H)/n = B^2 * mean_diag, B = sqrt(C / mean_diag) does not depend on n, so
    n(eps) = ceil( ((2 Bbar sqrt(mean_diag) + 3 sqrt(log(3(|j|+1)(|j|+2)/delta)/2)) / eps)^2 ) ~ 4 C / eps^2.
    """
    check_float("C", C, low=0.0)
    check_float("eps", eps, low=0.0, low_open=True)
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    check_float("mean_diag", mean_diag, low=0.0, low_open=True)
    j = grid_index(math.sqrt(C / mean_diag), gamma) if C > 0 else 0
    Bbar = gamma**j
    lead = 2.0 * Bbar * math.sqrt(mean_diag)
    conf = 3.0 * math.sqrt(math.log(2.0 / grid_weight(j, delta)) / 2.0)
    return math.ceil(((lead + conf) / eps) ** 2)


def gd_residual_bound(K, r0, eta: float, t) -> np.ndarray:
    """||r_t|| <= (1 - eta lambda_min)^t ||r_0|| for linearized GD, valid when eta <= 1/lambda_max."""
    K = np.asarray(K, np.float64)
    ev = np.linalg.eigvalsh(K)
    check_float("eta", eta, low=0.0, high=1.0 / ev[-1] * (1 + 1e-9), low_open=True)
    t = np.asarray(t, np.float64)
    return (1.0 - eta * max(ev[0], 0.0)) ** t * np.linalg.norm(r0)


def linearized_gd_trajectory(K, r0, eta: float, steps: int) -> dict[str, np.ndarray]:
    """Exact residual norms and weight movement of GD on the linearized model (sum loss).

    r_t = (I - eta K)^t r_0 and ||W_t - W_0||^2 = sum_i (1 - (1 - eta l_i)^t)^2 c_i^2 / l_i in the
    eigenbasis (l_i, c_i = v_i^T r_0): increasing in t for eta <= 1/lambda_max, with limit
    r_0^T K^{-1} r_0.
    """
    steps = check_int("steps", steps, low=0)
    K = np.asarray(K, np.float64)
    ev, V = np.linalg.eigh(K)
    check_float("eta", eta, low=0.0, high=1.0 / ev[-1] * (1 + 1e-9), low_open=True)
    c = V.T @ np.asarray(r0, np.float64)
    t = np.arange(steps + 1)[:, None]
    decay = (1.0 - eta * ev[None, :]) ** t
    resid = np.sqrt(np.sum((decay * c) ** 2, axis=1))
    pos = ev > ev[-1] * 1e-14
    move2 = np.sum(((1.0 - decay[:, pos]) * c[pos]) ** 2 / ev[pos], axis=1)
    return {"residual": resid, "movement": np.sqrt(move2)}


def weight_movement_limit(K, r0) -> float:
    """lim_t ||W_t - W_0||_F = sqrt(r_0^T K^{-1} r_0) for linearized GD (exact)."""
    return math.sqrt(max(kernel_solve(K, r0).quad, 0.0))


# ---- the violation rule -------------------------------------------------------------------
#
# The suite's confidence bounds for the mean of a [0, 1]-valued loss are the Chernoff-KL bounds
# (``kl_lcb`` / ``kl_ucb``): the one rule behind every test-risk interval, every violation and every
# -net gap term (docs/theory.md section 4, "Violation"). Hoeffding's bounds are kept as the
# tested reference they replace (Pinsker: kl(p || q) >= 2 (p - q)^2, so the KL interval always
# lies inside Hoeffding's).

#: Bisection steps of ``kl_lcb`` / ``kl_ucb`` at most: the bracket halves each step and the loop
#: stops once its ends are adjacent float64 numbers (about 60 steps), so the returned end is one
#: ulp from the boundary of the set as float64 evaluates kl; it is the end that evaluation puts
#: outside the set (conservative up to kl's own rounding near the boundary, ~1e-16 relative).
_KL_ITERS = 100


def kl_bernoulli(p: float, q: float) -> float:
    """kl(p || q) = p log(p/q) + (1-p) log((1-p)/(1-q)), with 0 log 0 = 0 (exact).

    The relative entropy of Bernoulli(p) from Bernoulli(q); +inf where q puts no mass on an
    outcome p has (q = 0 < p or q = 1 > p).
    """
    p = check_float("p", p, low=0.0, high=1.0)
    q = check_float("q", q, low=0.0, high=1.0)
    return _kl(p, q)


def _kl(p: float, q: float) -> float:
    """``kl_bernoulli`` without the argument checks (the bisection's inner loop)."""
    t = 0.0
    if p > 0:
        if q == 0:
            return math.inf
        t += p * (math.log(p) - math.log(q))
    if p < 1:
        if q == 1:
            return math.inf
        t += (1 - p) * (math.log1p(-p) - math.log1p(-q))
    return t


def _kl_level(n_test, delta_test) -> float:
    n_test = check_int("n_test", n_test, low=1)
    check_float("delta_test", delta_test, low=0.0, high=1.0, low_open=True, high_open=True)
    return math.log(1.0 / delta_test) / n_test


def _kl_invert(mean, n_test, delta_test, upper: bool) -> float:
    """The end of {q : kl(mean || q) <= log(1/delta_test)/n_test} on one side of ``mean``, by
    bisection, returning the bracket end *outside* the set: a lower end that is <= the exact one,
    an upper end that is >= it (one float64 ulp outside the set as ``_kl`` evaluates it)."""
    eps = _kl_level(n_test, delta_test)
    p = check_float("mean", mean, low=0.0, high=1.0)
    inside, outside = p, (1.0 if upper else 0.0)  # kl(p || p) = 0 <= eps; kl = inf at 0 / 1
    for _ in range(_KL_ITERS):
        mid = 0.5 * (inside + outside)
        if mid in (inside, outside):  # adjacent floats: the bracket cannot shrink further
            break
        if _kl(p, mid) <= eps:
            inside = mid
        else:
            outside = mid
    return outside


def kl_lcb(mean: float, n_test: int, delta_test: float) -> float:
    """Chernoff-KL lower confidence bound of the mean of n_test i.i.d. [0, 1]-valued losses (rigorous):

        LCB = min { q in [0, mean] : kl(mean || q) <= log(1/delta_test) / n_test }

    Validity: for i.i.d. X_i in [0, 1] with mean mu, convexity of e^{s x} gives
    E e^{s X} <= 1 - mu + mu e^s, the moment generating function of a Bernoulli(mu), so the
    Bernoulli Chernoff bound holds for every [0, 1]-valued loss: P(mean >= a) <= exp(-n kl(a || mu))
    for a > mu (Hoeffding 1963, "Probability inequalities for sums of bounded random variables",
    JASA 58: 13-30, Theorem 1, inequality (2.1)). LCB > mu happens only when mean > mu and
    kl(mean || mu) > log(1/delta_test)/n, hence P(LCB > mu) <= delta_test. It is never looser than
    Hoeffding's mean - sqrt(log(1/delta_test)/(2 n_test)) (Pinsker), and much tighter at small
    risks: at n_test = 1000, delta_test = 0.01 the margin at mean 0.1 is 0.032 against 0.048.
    Computed by bisection (``_kl_invert``), rounded down.
    """
    return _kl_invert(mean, n_test, delta_test, upper=False)


def kl_ucb(mean: float, n_test: int, delta_test: float) -> float:
    """Chernoff-KL upper confidence bound (rigorous; the mirror of ``kl_lcb``, same citation):
    max { q in [mean, 1] : kl(mean || q) <= log(1/delta_test) / n_test }, rounded up."""
    return _kl_invert(mean, n_test, delta_test, upper=True)


def hoeffding_lcb(mean: float, n_test: int, delta_test: float) -> float:
    """Hoeffding's lower confidence bound of a [0,1] mean: mean - sqrt(log(1/delta_test) / (2 n_test)).

    The reference ``kl_lcb`` replaced (rigorous, never tighter than it); not used for verdicts."""
    return mean - math.sqrt(_kl_level(n_test, delta_test) / 2.0)


def hoeffding_ucb(mean: float, n_test: int, delta_test: float) -> float:
    """Hoeffding's upper confidence bound of a [0,1] mean: mean + sqrt(log(1/delta_test) / (2 n_test))
    (the reference of ``kl_ucb``; not used for verdicts)."""
    return mean + math.sqrt(_kl_level(n_test, delta_test) / 2.0)


def is_violation(test_risk: float, n_test: int, bound: float, delta_test: float = 0.01) -> bool:
    """A violation: the Chernoff-KL LCB of the test risk (level delta_test) exceeds the bound."""
    if not math.isfinite(test_risk):
        raise ValueError("test_risk is not finite (a diverged run is an outcome, not a risk)")
    return kl_lcb(test_risk, n_test, delta_test) > bound


#: The verdicts a bound record can carry (``bound_verdict``), plus "diverged" for a training
#: run that blew up (an outcome, with no bound verdict).
VERDICTS = ("holds", "vacuous", "violation", "not-applicable")


def bound_verdict(value: float, test_risk: float, n_test: int, delta_test: float) -> str:
    """docs/theory.md section 4's rule, the one place a bound record's verdict is decided, for a bound
    of value ``value``: 'not-applicable' when it is infinite (L = 1), 'violation' when the
    Chernoff-KL LCB of the test risk exceeds it (``is_violation``), else 'vacuous' (value >= 1, the
    loss lives in [0, 1]) or 'holds'."""
    value = float(value)
    if not math.isfinite(value):
        return "not-applicable"
    if is_violation(test_risk, n_test, value, delta_test):
        return "violation"
    return "vacuous" if value >= 1.0 else "holds"


def binomial_tail(k: int, trials: int, p: float) -> float:
    """P(Binomial(trials, p) >= k), computed exactly in log space."""
    k = check_int("k", k, low=0)
    trials = check_int("trials", trials, low=0)
    check_float("p", p, low=0.0, high=1.0)
    if k == 0:
        return 1.0
    if k > trials:
        return 0.0
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    terms = [math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
             + i * math.log(p) + (trials - i) * math.log1p(-p) for i in range(k, trials + 1)]
    mx = max(terms)
    return min(1.0, math.exp(mx) * sum(math.exp(t - mx) for t in terms))


def allowed_violation_rate(levels) -> float:
    """The violation rate a set of independent bound checks may show (rigorous): the largest
    delta + delta_test (+ delta_gap) over ``levels``, an iterable of (delta, delta_test, delta_gap)
    triples (delta_gap None or 0 for a bound without a gap term), capped at 1.

    Each check violates with probability at most its own sum (docs/theory.md section 4,
    "Violation"); for independent checks with rates p_i <= p the violation count is
    stochastically below Binomial(k, p), so testing against the largest rate is valid when the
    levels differ. A bound without confidence levels (the fitted envelope P) has no allowed rate
    and is never passed here."""
    rates = []
    for delta, delta_test, delta_gap in levels:
        check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
        check_float("delta_test", delta_test, low=0.0, high=1.0, low_open=True, high_open=True)
        gap = 0.0 if delta_gap is None else check_float("delta_gap", delta_gap, low=0.0, high=1.0)
        rates.append(min(1.0, delta + delta_test + gap))
    if not rates:
        raise ValueError("levels must hold at least one (delta, delta_test, delta_gap) triple")
    return max(rates)


@dataclass(frozen=True)
class RateTest:
    cases: int
    violations: int
    expected_rate: float  # the allowed rate (``allowed_violation_rate``)
    observed_rate: float
    p_value: float  # P(Bin(cases, expected) >= violations)
    rejected: bool  # p_value < alpha: the bound fails more often than its confidence allows


def violation_rate_test(violations: int, cases: int, allowed_rate: float,
                        alpha: float = 0.01) -> RateTest:
    """Binomial test of an observed violation count among ``cases`` independent checks against
    the allowed rate (``allowed_violation_rate``)."""
    p = check_float("allowed_rate", allowed_rate, low=0.0, high=1.0)
    pv = binomial_tail(violations, cases, p)
    return RateTest(cases, violations, p, violations / cases if cases else float("nan"), pv,
                    pv < alpha)
