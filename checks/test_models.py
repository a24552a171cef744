"""The paper's RNN, its training and its data (docs/theory.md sections 2 and 5; issue 2).

Model identities run in float64 (inside ``jax.enable_x64``) so that they hold to ~1e-12; the
training checks use the default float32 model, with tolerances derived from float32's unit
roundoff u = 6e-8. Shapes come from small fixed sets (every new shape is one XLA compilation).
Each identity and statistical check comes with a deliberately wrong variant (``selftest``)
proving that it would fail; power records go to the results store only where the mutated
object is a registry claim's (K-L1, K-mc, T-gd).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import models as M
from checks._harness import record_identity, record_power
from checks._tolerance import ntk_rtol, training_rtol
from checks.strategies import positions, scales, seeds

pytestmark = pytest.mark.fast

D = 3  # token dimension of every model check
M_SMALL = 64  # width of the float64 identity checks
SEQ_LS = (1, 2, 4)  # lengths of the identity checks (L = 1 is the degenerate case)


def _params64(seed, m=M_SMALL):
    return M.init_params(jax.random.key(seed), M.RNNConfig(D, m, "float64"))


def _tokens(seed, n, L, r=1.0, d=D):
    return np.random.default_rng(seed).standard_normal((n, L, d)) * (r / math.sqrt(d))


# ---- positive homogeneity in the input ---------------------------------------------------------

def homogeneity_error(apply, params, X, c) -> float:
    """max_i |f(cx_i) - c f(x_i)| / (c |B| . h_L(x_i)), the scale of the summed terms.

    float64: f is a sum of m products through L layers, so rounding is ~ (m + L d) eps relative
    to that scale, ~1e-14 at m = 64; 1e-12 leaves ~100x headroom.
    """
    with jax.enable_x64(True):
        f1 = np.asarray(apply(params, c * X))
        f0 = np.asarray(apply(params, X))
        hL = np.asarray(M.hidden_states(params.W, params.A, jnp.asarray(X)))[-1]
        scale = c * (hL @ np.abs(np.asarray(params.B))) + 1e-300
    return float(np.max(np.abs(f1 - c * f0) / scale))


HOMOG_TOL = 1e-12


@given(L=st.sampled_from(SEQ_LS), c=scales(), seed=seeds())
@example(L=1, c=2.0, seed=0)  # L = 1: f = B . relu(A X_1), homogeneous too
@example(L=4, c=0.1, seed=1)  # r = 0.1 end of the scale range
@example(L=4, c=10.0, seed=2)  # r = 10 end of the scale range
def test_network_is_positively_homogeneous(L, c, seed):
    with jax.enable_x64(True):
        p = _params64(seed)
        err = homogeneity_error(M.apply, p, _tokens(seed, 5, L), c)
    assert err <= HOMOG_TOL, f"f(W; c x) != c f(W; x): relative error {err:.2e}"


@pytest.mark.selftest
def test_homogeneity_check_catches_output_bias():
    def biased(params, X):  # a network with an output bias is not homogeneous
        return M.apply(params, X) + 0.05

    with jax.enable_x64(True):
        err = homogeneity_error(biased, _params64(0), _tokens(0, 5, 4), 2.0)
    assert err > HOMOG_TOL, err


# ---- gradients flow to W only ------------------------------------------------------------------

def test_train_returns_only_w_and_leaves_a_b():
    _, X, y = _small_gd_data()
    p = M.init_params(jax.random.key(0), M.RNNConfig(D, SMALL_M))
    A0, B0 = np.array(p.A), np.array(p.B)
    rec = M.train(p, SMALL_GD, X, y, X_test=X, y_test=y)
    assert "W" in rec._fields and not {"A", "B"} & set(rec._fields)
    assert rec.W.shape == p.W.shape and not np.array_equal(np.asarray(rec.W), np.asarray(p.W))
    assert np.array_equal(np.asarray(p.A), A0) and np.array_equal(np.asarray(p.B), B0)
    # The first step is W1 = W0 - eta grad_W Phi(W0) with A, B held at their initial values:
    # its movement is eta ||grad|| and its objective Phi(W1). float32: both are O(1) numbers
    # computed along slightly different paths, agreeing to ~100 u; 1e-5 relative.
    def phi(W):  # the centred predictor u = f(W) - f(W0) of the default (lazy) parametrization
        return 0.5 * jnp.sum((M.apply_w(W, p.A, p.B, X) - M.apply_w(p.W, p.A, p.B, X) - y) ** 2)

    g = jax.grad(phi)(p.W)
    W1 = p.W - SMALL_GD.lr * g
    assert np.isclose(float(rec.movement[1]), float(jnp.linalg.norm(W1 - p.W)), rtol=1e-5)
    assert np.isclose(float(rec.loss[0]), float(phi(p.W)), rtol=1e-5)
    assert np.isclose(float(rec.loss[1]), float(phi(W1)), rtol=1e-5)


@given(L=st.sampled_from(SEQ_LS), seed=seeds())
@example(L=1, seed=0)  # L = 1: h_0 = 0, so grad_W f = delta_1 h_0^T = 0 exactly
@example(L=2, seed=1)  # shortest length with a non-zero W-gradient
def test_w_gradient_zero_exactly_at_length_one(store, L, seed):
    p = M.init_params(jax.random.key(seed), M.RNNConfig(D, 32))
    X = jnp.asarray(_tokens(seed, 4, L), jnp.float32)
    G = np.asarray(M.grad_w(p.W, p.A, p.B, X))  # (n, m, m)
    norms = np.linalg.norm(G.reshape(G.shape[0], -1), axis=1)
    if L == 1:
        ok = record_identity(store, "K-L1", {"object": "network grad_W f", "L": 1, "m": 32}, seed,
                             float(np.max(norms)), 0.0)
        assert ok, norms
    else:
        assert np.all(norms > 0), norms


# ---- initialization variances --------------------------------------------------------------------

INIT_M, INIT_D, INIT_KEYS = 512, 8, 8


def variance_z(samples: np.ndarray, var: float) -> tuple[float, float]:
    """(z of the sample variance, z of the sample mean) against N(0, var).

    For N i.i.d. N(0, s^2) draws, the sample variance has standard error s^2 sqrt(2/(N-1)) and
    the mean s/sqrt(N) (chi-square / CLT); |z| <= 6 fails with probability ~2e-9 per check.
    """
    x = samples.ravel().astype(np.float64)
    N = x.size
    z_var = (np.var(x, ddof=1) - var) / (var * math.sqrt(2.0 / (N - 1)))
    z_mean = np.mean(x) / math.sqrt(var / N)
    return float(z_var), float(z_mean)


@given(seed=seeds())
@example(seed=0)
def test_initialization_variances(seed):
    # docs/theory.md section 2: B ~ N(0, 1) in the lazy parametrization (the default), N(0, 1/m) in the
    # contrast one; W, A ~ N(0, 2/m) in both.
    keys = jax.random.split(jax.random.key(seed), INIT_KEYS)
    for par, b_var in (("lazy", 1.0), ("contrast", 1.0 / INIT_M)):
        p = M.init_seeds(keys, M.RNNConfig(INIT_D, INIT_M, parametrization=par))
        # W: 8 * 512^2 draws; A: 8 * 512 * 8; B: 8 * 512 (standard error of the variance 2.2%).
        for name, arr, var in (("W", p.W, 2.0 / INIT_M), ("A", p.A, 2.0 / INIT_M), ("B", p.B, b_var)):
            z_var, z_mean = variance_z(np.asarray(arr), var)
            assert abs(z_var) <= 6 and abs(z_mean) <= 6, (par, name, z_var, z_mean)


@pytest.mark.selftest
def test_variance_check_catches_wrong_scale():
    # W drawn with variance 1/m instead of 2/m: the check must reject it.
    W = np.asarray(jax.random.normal(jax.random.key(0), (INIT_KEYS, INIT_M, INIT_M))) / math.sqrt(INIT_M)
    z_var, _ = variance_z(W, 2.0 / INIT_M)
    assert abs(z_var) > 6, z_var


# ---- GD in the kernel regime, divergence ------------------------------------------------------

GD_L, GD_M, GD_N, GD_STEPS = 4, 512, 32, 300


def _gd_problem(seed):
    task = M.Task(M.TokenDistribution(GD_L, D, 1.0), M.AdditiveTarget.make(GD_L, D, "sin", seed=seed))
    X, y = task.sample(jax.random.key(seed), GD_N)
    p = M.init_params(jax.random.key(1000 + seed), M.RNNConfig(D, GD_M))
    lam_max = float(np.linalg.eigvalsh(np.asarray(M.empirical_ntk(p, X), np.float64))[-1])
    return p, X, y, lam_max


def _gd(p, X, y, lr):
    return M.train(p, M.TrainConfig("gd", lr, GD_STEPS), X, y, X_test=X, y_test=y)


@settings(max_examples=2)  # each example is one empirical NTK and 300 GD steps at m = 512
@given(seed=st.integers(0, 1000))
@example(seed=0)
def test_gd_in_kernel_regime_reduces_loss(seed):
    # eta = 1/lambda_max(K_m): the linearized residual contracts by (1 - lambda_min/lambda_max)
    # per step (measured lambda_min/lambda_max ~ 0.02 at this size), so 300 steps give far more
    # than the required 3 orders of magnitude (measured 1e-6 .. 1e-11).
    p, X, y, lam_max = _gd_problem(seed)
    rec = _gd(p, X, y, 1.0 / lam_max)
    loss = np.asarray(rec.loss)
    assert not bool(rec.diverged) and np.all(np.isfinite(loss))
    assert loss[-1] <= 1e-3 * loss[0], (loss[0], loss[-1])


@pytest.mark.selftest
def test_gd_check_catches_tiny_step(store):
    p, X, y, lam_max = _gd_problem(0)
    loss = np.asarray(_gd(p, X, y, 1e-3 / lam_max).loss)
    assert record_power(store, "T-gd", "GD with eta = 1e-3 / lambda_max", loss[-1] > 1e-3 * loss[0],
                        ratio=float(loss[-1] / loss[0]))


def test_divergent_learning_rate_is_an_outcome():
    p, X, y, lam_max = _gd_problem(0)
    rec = _gd(p, X, y, 100.0 / lam_max)  # no exception
    assert bool(rec.diverged)
    assert int(rec.diverged_step) >= 0
    assert math.isnan(float(rec.train_risk)) and math.isnan(float(rec.test_risk))
    assert np.all(np.isfinite(np.asarray(rec.W)))  # frozen at the last finite iterate
    assert np.isnan(np.asarray(rec.loss)[-1])
    ok = _gd(p, X, y, 1.0 / lam_max)
    assert not bool(ok.diverged) and int(ok.diverged_step) == -1


# ---- SGD is the paper's one-sample update -------------------------------------------------------

# One small configuration shared by the GD / SGD / vmap checks (L = 3, m = 32, 20 steps): the
# task is static data of the compiled training loop (its target's meta fields), so it is fixed
# and only the initialization and the sample-stream keys vary.
# SGD_LR: the lazy parametrization's kernel is ~ m H (m = 32, H(x, x) ~ 1.5 at L = 3), so a step
# of 0.05 / m keeps eta K(x, x) ~ 0.08, well inside the stable range.
SMALL_L, SMALL_M, SGD_STEPS, SGD_LR, SGD_NTEST = 3, 32, 20, 0.05 / 32, 16
SMALL_GD = M.TrainConfig("gd", SGD_LR, SGD_STEPS)
SMALL_SGD = M.TrainConfig("sgd", SGD_LR, SGD_STEPS)


def _small_task():
    return M.Task(M.TokenDistribution(SMALL_L, D, 1.0), M.AdditiveTarget.make(SMALL_L, D, "sin", seed=0))


def _sgd_setup(seed):
    task = _small_task()
    p = M.init_params(jax.random.key(seed), M.RNNConfig(D, SMALL_M))
    Xte, yte = task.sample(jax.random.key(seed + 1), SGD_NTEST)
    return task, p, Xte, yte


@jax.jit
def _sgd_step(W, W0, A, B, x, y, lr, factor):
    """W - eta grad_W factor * (u(W; x) - y)^2 with the centred u = f(W) - f(W0); the paper's
    loss is factor = 1/2."""
    def loss(W_):
        u = M.apply_w(W_, A, B, x[None]) - M.apply_w(W0, A, B, x[None])
        return factor * jnp.sum((u - y) ** 2)

    phi, g = jax.value_and_grad(loss)(W)
    return W - lr * g, phi


def manual_sgd(p, task, key, factor=0.5):
    xs, ys = M.sgd_samples(task, key, SGD_STEPS)
    W, phis = p.W, []
    for t in range(SGD_STEPS):
        W, phi = _sgd_step(W, p.W, p.A, p.B, xs[t], ys[t], SGD_LR, factor)
        phis.append(float(phi))
    return np.asarray(W), np.asarray(phis)


def _run_tol(p, W) -> float:
    """Two float32 evaluations of a small run from p.W to W, differently fused or batched:
    checks/_tolerance.py's training_rtol (the step rounding, amplified by ||W_0|| / movement)."""
    return training_rtol(SMALL_M, D, SMALL_L, SGD_STEPS, p.W, W)


def sgd_mismatch(p, task, key, Xte, yte, factor=0.5) -> tuple[float, float]:
    """(||W_scan - W_manual|| / ||W_manual - W_0||, its tolerance): both paths apply the same 20
    updates, possibly with differently fused arithmetic (the tolerance: ``_run_tol``)."""
    rec = M.train(p, SMALL_SGD, X_test=Xte, y_test=yte, task=task, key=key)
    W, phis = manual_sgd(p, task, key, factor)
    tol = _run_tol(p, W)
    losses = np.asarray(rec.loss)[:SGD_STEPS]
    # the loss phi = (u - y)^2 / 2 of one sample moves by <= |u - y| |du| <= tol |u| |u - y|
    # <= tol (2 phi + |y| |u - y|) <= tol (3 phi + y^2 / 2): relative 3 tol plus y^2 tol / 2
    y2 = float(np.max(np.asarray(M.sgd_samples(task, key, SGD_STEPS)[1]) ** 2))
    assert np.allclose(losses, phis, rtol=3 * tol, atol=tol * y2 / 2) or factor != 0.5, (losses, phis)
    return float(np.linalg.norm(np.asarray(rec.W) - W) / np.linalg.norm(W - np.asarray(p.W))), tol


@settings(max_examples=3)  # a 20-step Python loop per example
@given(seed=seeds())
@example(seed=0)
def test_sgd_is_the_one_sample_update(seed):
    task, p, Xte, yte = _sgd_setup(seed)
    err, tol = sgd_mismatch(p, task, jax.random.key(seed + 7), Xte, yte)
    assert err <= tol, (err, tol)


@pytest.mark.selftest
def test_sgd_check_catches_missing_half():
    task, p, Xte, yte = _sgd_setup(0)
    err, tol = sgd_mismatch(p, task, jax.random.key(7), Xte, yte, factor=1.0)  # (f - y)^2 without 1/2
    assert err > tol, (err, tol)


# ---- vmapped seeds, logistic loss -----------------------------------------------------------------

def _small_gd_data():
    task = _small_task()
    X, y = task.sample(jax.random.key(0), 8)
    return task, X, y


def seeds_mismatch(recs, rec_one, s) -> float:
    """Largest relative difference between seed s of a train_seeds record and a train record.

    vmap batches the same float32 matmuls, which XLA may reassociate: within ``_run_tol``.
    """
    errs = []
    for k in ("loss", "movement", "W", "train_risk", "test_risk"):
        a, b = np.asarray(getattr(recs, k))[s], np.asarray(getattr(rec_one, k))
        if not np.array_equal(np.isnan(a), np.isnan(b)):  # SGD's last loss entry is NaN by design
            return math.inf
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        errs.append(float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-30)))
    return max(errs)


def test_train_seeds_matches_train_per_seed():
    # Same shapes and configs as the other small GD / SGD checks: train() is compiled once.
    task, X, y = _small_gd_data()
    Xte, yte = task.sample(jax.random.key(1), SGD_NTEST)
    P = M.init_seeds(jax.random.split(jax.random.key(3), 2), M.RNNConfig(D, SMALL_M))
    one = [jax.tree.map(lambda a, s=s: a[s], P) for s in range(2)]
    recs = M.train_seeds(P, SMALL_GD, X, y, X_test=X, y_test=y)
    for s in range(2):
        r = M.train(one[s], SMALL_GD, X, y, X_test=X, y_test=y)
        assert seeds_mismatch(recs, r, s) <= _run_tol(one[s], r.W)
        assert bool(recs.diverged[s]) == bool(r.diverged)
    keys = jax.random.split(jax.random.key(9), 2)
    recs = M.train_seeds(P, SMALL_SGD, X_test=Xte, y_test=yte, task=task, keys=keys)
    one_rec = [M.train(one[s], SMALL_SGD, X_test=Xte, y_test=yte, task=task, key=keys[s]) for s in range(2)]
    for s in range(2):
        assert seeds_mismatch(recs, one_rec[s], s) <= _run_tol(one[s], one_rec[s].W)
    # the comparison is sensitive: seed 0's record does not pass for seed 1
    err = seeds_mismatch(recs, one_rec[0], 1)
    assert err > _run_tol(one[1], one_rec[1].W), err


def test_logistic_loss_runs():
    # Labels +-1 (the sign of one token projection); full-batch GD on the logistic objective.
    task = M.Task(M.TokenDistribution(SMALL_L, D, 1.0), M.ParityTarget.make(SMALL_L, D, positions=(1,)))
    X, y = task.sample(jax.random.key(0), 8)
    assert set(np.unique(np.asarray(y))) <= {-1.0, 1.0}
    p = M.init_params(jax.random.key(1), M.RNNConfig(D, SMALL_M))
    cfg = M.TrainConfig("gd", 0.2 / SMALL_M, SGD_STEPS, loss="logistic")
    rec = M.train(p, cfg, X, y, X_test=X, y_test=y)
    loss = np.asarray(rec.loss)
    assert not bool(rec.diverged) and np.all(np.isfinite(loss))
    assert np.isfinite(float(rec.test_risk))
    # the centred predictor is 0 at init: the first objective is n log 2 exactly
    assert abs(loss[0] - 8 * math.log(2.0)) <= 1e-5 * loss[0]
    contrast = M.TrainConfig("gd", 0.2, SGD_STEPS, loss="logistic", centred=False)
    pc = M.init_params(jax.random.key(1), M.RNNConfig(D, SMALL_M, parametrization="contrast"))
    lc = np.asarray(M.train(pc, contrast, X, y, X_test=X, y_test=y).loss)
    assert abs(lc[0] - float(jnp.sum(jax.nn.softplus(-y * M.apply(pc, X))))) <= 1e-5 * lc[0]
    assert lc[-1] < lc[0]
    assert loss[-1] < loss[0]


# ---- the linearized predictor -------------------------------------------------------------------

LIN_STEP = 2e-5  # relative step ||W - W0|| / ||W0||; see test_linearization_error_is_quadratic


def _patterns(p, W, X):
    return np.asarray(M.hidden_states(W, p.A, X)) > 0


def _lin_uncentred(p, W, X):
    return M.linearized_predict(p, W, X, centred=False)


def linearization_ratio(p, X, V, lin=_lin_uncentred):
    """(err(t), err(t/2), same activation pattern?) for W = W0 + t V, t = LIN_STEP ||W0||."""
    t = LIN_STEP * float(jnp.linalg.norm(p.W))
    errs = []
    for s in (t, t / 2):
        W = p.W + s * V
        errs.append(float(jnp.linalg.norm(M.apply_w(W, p.A, p.B, X) - lin(p, W, X))))
    same = bool(np.array_equal(_patterns(p, p.W, X), _patterns(p, p.W + t * V, X)))
    return errs[0], errs[1], same


@given(L=st.sampled_from((2, 3, 4)), seed=seeds())
@example(L=4, seed=0)
@example(L=2, seed=1)  # L = 2: f is linear in W inside an activation region, error ~ rounding
def test_linearization_error_is_quadratic(L, seed):
    # Inside one activation region f is a polynomial in W (degree L - 1), so
    # f(W0 + tV) - f_lin = t^2 q + O(t^3) and halving t divides the error by 4 (measured 4.00 at
    # relative steps below ~2e-4; larger steps cross relu kinks). The step 2e-5 keeps the error
    # ~1e-10, far above float64 rounding (~1e-15), and a kink crossing (probability ~ 1e-2 per
    # draw) is excluded with assume() rather than tolerated.
    with jax.enable_x64(True):
        p = _params64(seed)
        X = jnp.asarray(_tokens(seed, 5, L))
        # f_lin(W0) = f(W0) + 0: the JVP's primal is the same forward pass (XLA may fuse it
        # differently, so allow float64 rounding, ~(m + L d) eps ~ 1e-14 relative).
        f0 = np.asarray(M.apply(p, X))
        assert np.allclose(np.asarray(_lin_uncentred(p, p.W, X)), f0, rtol=1e-13, atol=1e-15)
        # centred (lazy): f_lin = u_lin = f_lin(uncentred) - f(W0), exactly 0 at W = W0
        assert np.all(np.asarray(M.linearized_predict(p, p.W, X)) == 0.0)
        V = jax.random.normal(jax.random.key(seed + 1), p.W.shape, jnp.float64)
        V = V / jnp.linalg.norm(V)
        e1, e2, same = linearization_ratio(p, X, V)
    assume(same)
    if L == 2:
        assert e1 <= 1e-12 * max(float(np.max(np.abs(f0))), 1.0), e1
    else:
        assert 3.6 <= e1 / e2 <= 4.4, (e1, e2, e1 / e2)


@pytest.mark.selftest
def test_linearization_check_catches_half_tangent():
    def wrong(p, W, X):  # tangent (W - W0)/2: first-order error O(t), ratio 2
        return M.linearized_predict(p, p.W + 0.5 * (W - p.W), X, centred=False)

    with jax.enable_x64(True):
        p = _params64(0)
        X = jnp.asarray(_tokens(0, 5, 4))
        V = jax.random.normal(jax.random.key(1), p.W.shape, jnp.float64)
        e1, e2, _ = linearization_ratio(p, X, V / jnp.linalg.norm(V), lin=wrong)
    assert not 3.6 <= e1 / e2 <= 4.4, (e1, e2)


# ---- empirical NTK: factored == jacobian -------------------------------------------------------

NTK_L, NTK_M = 3, 32
# float32 at the policy's precision: a Gram entry is an inner product of two m^2 = 1024-dim
# gradients; relative to ||g|| ||g'|| each method's worst case is its gradients' two passes plus
# its contraction (checks/_tolerance.py: ntk_rtol, ~3.6e-4 here; measured 1e-7).
NTK_TOL = ntk_rtol(NTK_M, D, NTK_L, "factored", "jacobian")


def _ntk_rel_err(Ka, Kb, d1, d2):
    return float(np.max(np.abs(np.asarray(Ka, np.float64) - np.asarray(Kb, np.float64))
                        / np.sqrt(np.outer(d1, d2))))


def factored_vs_jacobian(p, X, X2):
    Kj = np.asarray(M.empirical_ntk(p, X, X2, method="jacobian"))
    d1 = np.diag(np.asarray(M.empirical_ntk(p, X, method="jacobian")))
    d2 = np.diag(np.asarray(M.empirical_ntk(p, X2, method="jacobian")))
    gram = _ntk_rel_err(M.empirical_ntk(p, X, method="factored"),
                        M.empirical_ntk(p, X, method="jacobian"), d1, d1)
    cross = _ntk_rel_err(M.empirical_ntk(p, X, X2, method="factored"), Kj, d1, d2)
    return max(gram, cross), Kj, d1, d2


@given(r=scales(), seed=seeds())
@example(r=0.1, seed=0)  # r = 0.1
@example(r=10.0, seed=1)  # r = 10
def test_empirical_ntk_factored_equals_jacobian(r, seed):
    p = M.init_params(jax.random.key(seed), M.RNNConfig(D, NTK_M))
    X = jnp.asarray(_tokens(seed, 5, NTK_L, r), jnp.float32)
    X2 = jnp.asarray(_tokens(seed + 1, 5, NTK_L, r), jnp.float32)  # same n: fewer compilations
    err, _, _, _ = factored_vs_jacobian(p, X, X2)
    assert err <= NTK_TOL, err


@pytest.mark.selftest
def test_ntk_check_catches_shifted_hidden_states(store):
    # Factored NTK built from h_1..h_L instead of h_0..h_{L-1} (an off-by-one in the factors).
    p = M.init_params(jax.random.key(0), M.RNNConfig(D, NTK_M))
    X = jnp.asarray(_tokens(0, 5, NTK_L), jnp.float32)
    X2 = jnp.asarray(_tokens(1, 5, NTK_L), jnp.float32)
    _, Kj, d1, d2 = factored_vs_jacobian(p, X, X2)

    def factors(X_):
        return M._ntk._deltas(p.W, p.A, p.B, X_), jnp.swapaxes(M.hidden_states(p.W, p.A, X_), 0, 1)

    (da, ha), (db, hb) = factors(X), factors(X2)
    Kw = jnp.sum(jnp.einsum("ilm,jkm->ijlk", da, db) * jnp.einsum("ilm,jkm->ijlk", ha, hb), axis=(2, 3))
    err = _ntk_rel_err(Kw, Kj, d1, d2)
    assert record_power(store, "K-mc", "factored NTK with h_l instead of h_{l-1}", err > NTK_TOL,
                        max_err=err)


# ---- data generators ------------------------------------------------------------------------------

def test_data_is_seeded_and_deterministic():
    task = M.Task(M.TokenDistribution(4, D, 2.0), M.NVariableTarget.make(4, D, (1, 3)), noise=0.1)
    X1, y1 = task.sample(jax.random.key(5), 16)
    X2, y2 = task.sample(jax.random.key(5), 16)
    X3, y3 = task.sample(jax.random.key(6), 16)
    assert np.array_equal(np.asarray(X1), np.asarray(X2)) and np.array_equal(np.asarray(y1), np.asarray(y2))
    assert not np.array_equal(np.asarray(X1), np.asarray(X3))
    assert not np.array_equal(np.asarray(y1), np.asarray(y3))
    t1, t2 = M.AdditiveTarget.make(4, D, seed=3), M.AdditiveTarget.make(4, D, seed=3)
    assert np.array_equal(t1.betas, t2.betas)
    assert not np.array_equal(t1.betas, M.AdditiveTarget.make(4, D, seed=4).betas)


TOK_N, TOK_L = 256, 4


@given(r=scales(), kind=st.sampled_from(("gaussian", "sphere")), seed=seeds())
@example(r=0.1, kind="gaussian", seed=0)  # smallest scale
@example(r=10.0, kind="gaussian", seed=1)  # largest scale
@example(r=10.0, kind="sphere", seed=2)
def test_token_norms_are_about_r(r, kind, seed):
    X = np.asarray(M.TokenDistribution(TOK_L, D, r, kind).sample(jax.random.key(seed), TOK_N), np.float64)
    sq = np.sum(X**2, axis=-1) / r**2  # ||X_l||^2 / r^2
    if kind == "sphere":
        # float32 normalisation: relative error of a norm ~ d u; 1e-5 covers it.
        assert np.max(np.abs(np.sqrt(sq) - 1.0)) <= 1e-5
    else:
        # ||X_l||^2 d / r^2 ~ chi-square_d: mean 1, variance 2/d per token; 6 standard errors.
        se = math.sqrt(2.0 / (D * sq.size))
        assert abs(np.mean(sq) - 1.0) <= 6 * se, (np.mean(sq), se)


@pytest.mark.selftest
def test_norm_check_catches_missing_sqrt_d():
    # N(0, r^2 I) tokens (the 1/sqrt(d) forgotten) have E||X_l||^2 = d r^2: rejected.
    X = np.asarray(M.TokenDistribution(TOK_L, D, 1.0).sample(jax.random.key(0), TOK_N)) * math.sqrt(D)
    sq = np.sum(X.astype(np.float64) ** 2, axis=-1)
    assert abs(np.mean(sq) - 1.0) > 6 * math.sqrt(2.0 / (D * sq.size))


FUNCS = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "tanh": np.tanh, "linear": lambda t: t}


def _np_f(f, t, degree):
    return t**degree / math.factorial(degree) if f == "poly" else FUNCS[f](t)


@st.composite
def target_specs(draw):
    L = draw(st.sampled_from((1, 3, 5)))
    return {"L": L, "pos": draw(positions(L)), "f": draw(st.sampled_from(M.FUNCTIONS)),
            "degree": draw(st.integers(0, 4)), "s": draw(scales()), "seed": draw(st.integers(0, 1000))}


@given(spec=target_specs(), r=scales())
@example(spec={"L": 1, "pos": (1,), "f": "sin", "degree": 2, "s": 1.0, "seed": 0}, r=1.0)  # L = 1
@example(spec={"L": 5, "pos": (1, 5), "f": "exp", "degree": 2, "s": 0.1, "seed": 1}, r=0.1)  # r = 0.1
@example(spec={"L": 5, "pos": (2, 4), "f": "poly", "degree": 3, "s": 10.0, "seed": 2}, r=10.0)  # r = 10
def test_targets_match_numpy(spec, r):
    L, pos, f, k, s = spec["L"], spec["pos"], spec["f"], spec["degree"], spec["s"]
    X = _tokens(spec["seed"], 6, L, r)
    idx = np.asarray(pos) - 1  # positions are 1-based
    add = M.AdditiveTarget.make(L, D, f, positions=pos, degree=k, input_scale=s, seed=spec["seed"])
    nv = M.NVariableTarget.make(L, D, pos, f, degree=k, input_scale=s, seed=spec["seed"])
    par = M.ParityTarget.make(L, D, pos, seed=spec["seed"])
    with jax.enable_x64(True):
        Xj = jnp.asarray(X)
        got = [np.asarray(t(Xj)) for t in (add, nv, par)]
    proj = np.einsum("nkd,kd->nk", X[:, idx], add.betas)
    want_add = _np_f(f, proj / s, k) @ add.coeffs
    want_nv = _np_f(f, np.einsum("nkd,kd->n", X[:, idx], nv.betas) / s, k)
    want_par = np.prod(np.where(np.einsum("nkd,kd->nk", X[:, idx], par.betas) >= 0, 1.0, -1.0), axis=1)
    # float64 on both sides, same formula in a different summation order. Arguments reach
    # |t/s| ~ 300 (r = 10, s = 0.1), where f's error is ~ |t/s| eps ~ 1e-13 absolute for bounded
    # f (sin, cos, tanh) and relative for exp and polynomials: rtol 1e-12 plus atol 1e-10.
    for g, w in ((got[0], want_add), (got[1], want_nv)):
        assert np.allclose(g, w, rtol=1e-12, atol=1e-10), (g, w)
    assert np.array_equal(got[2], want_par)
    assert np.allclose(np.linalg.norm(add.betas, axis=1), 1.0)
    assert np.allclose(np.linalg.norm(nv.betas, axis=1), 1.0 / math.sqrt(len(pos)))
    assert np.allclose(add.coeffs, 1.0 / math.sqrt(len(pos)))


@pytest.mark.parametrize("L", [1, 4])
def test_positions_are_one_based(L):
    X = np.asarray(_tokens(0, 4, L), np.float32)
    for p in (1, L):
        tgt = M.NVariableTarget.make(L, D, (p,), "linear")
        y0 = np.asarray(tgt(jnp.asarray(X)))
        for l in range(1, L + 1):  # perturb token l (1-based): y changes iff l is the position
            Xp = X.copy()
            Xp[:, l - 1] += 1.0
            changed = not np.allclose(np.asarray(tgt(jnp.asarray(Xp))), y0)
            assert changed == (l == p), (p, l)
    tgt = M.AdditiveTarget.make(L, D, "linear", positions=(L,))
    assert tgt.describe()["positions"] == [L]
    with pytest.raises(ValueError, match=r"positions\[0\] = 0 is out of range"):
        M.NVariableTarget.make(L, D, (0,))


def test_sgd_samples_are_task_samples():
    task = M.Task(M.TokenDistribution(3, D, 1.0), M.AdditiveTarget.make(3, D, "sin"))
    xs, ys = M.sgd_samples(task, jax.random.key(0), 5)
    assert xs.shape == (5, 3, D) and ys.shape == (5,)
    assert np.allclose(np.asarray(task.target(xs)), np.asarray(ys), rtol=1e-6, atol=1e-6)


# ---- the NTK method's auto-pick, per backend ----------------------------------------------------

def test_ntk_auto_pick_uses_the_backends_measured_crossover(monkeypatch):
    """'auto' is factored iff L <= c m with c of the backend: the CPU's stored 1.5 here; the
    environment's override wins; a bad override is a one-line error naming the variable."""
    from models import _ntk

    _ntk.ntk_crossover.cache_clear()
    try:
        assert _ntk.ntk_crossover("cpu") == _ntk.NTK_CROSSOVER["cpu"] == 1.5
        assert _ntk._auto_method(24, 16, "cpu") == "factored"
        assert _ntk._auto_method(25, 16, "cpu") == "jacobian"
        monkeypatch.setenv(_ntk.CROSSOVER_ENV, "0.25")
        _ntk.ntk_crossover.cache_clear()
        assert _ntk._auto_method(4, 16, "cpu") == "factored"
        assert _ntk._auto_method(5, 16, "cpu") == "jacobian"
        monkeypatch.setenv(_ntk.CROSSOVER_ENV, "-1")
        _ntk.ntk_crossover.cache_clear()
        with pytest.raises(ValueError, match=_ntk.CROSSOVER_ENV):
            _ntk.ntk_crossover("cpu")
    finally:
        monkeypatch.undo()
        _ntk.ntk_crossover.cache_clear()


def test_ntk_crossover_probe_measures_a_backend_without_a_stored_value():
    """A backend with no stored c (a GPU) is probed once; here the probe runs on the CPU. Its
    value is a timing, so only its construction is checked: a finite c in the clipped range."""
    from models import _ntk

    c = _ntk._probe_crossover("cpu")
    assert 1 / 16 <= c <= 64 and math.isfinite(c)
