"""Bad input is refused with a ValueError that names the parameter and its allowed range (issue 2).

Every ``pytest.raises`` matches the message, not just the type, so a check that raises for the
wrong reason fails. Each group also passes the boundary value that is allowed, proving that the
validation is not over-broad.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import models as M
import theory as T
from reports.cases._evaluate import BoundCase

pytestmark = pytest.mark.selftest

D = 3


@pytest.fixture(scope="module")
def params():
    return M.init_params(jax.random.key(0), M.RNNConfig(D, 8))


def _X(n=4, L=3, d=D):
    return np.random.default_rng(0).standard_normal((n, L, d)).astype(np.float32)


# ---- sizes: L, d, m, N --------------------------------------------------------------------------

@given(bad=st.integers(-1000, 0))
@example(bad=0)  # the boundary
def test_sizes_below_one_are_refused(bad):
    with pytest.raises(ValueError, match=rf"L = {bad} is out of range: allowed 1 <= L <= inf"):
        M.TokenDistribution(bad, D)
    with pytest.raises(ValueError, match=rf"d = {bad} is out of range: allowed 1 <= d <= inf"):
        M.TokenDistribution(3, bad)
    with pytest.raises(ValueError, match=rf"d = {bad} is out of range: allowed 1 <= d"):
        M.RNNConfig(bad, 8)
    with pytest.raises(ValueError, match=rf"m = {bad} is out of range: allowed 1 <= m"):
        M.RNNConfig(D, bad)
    with pytest.raises(ValueError, match=rf"L = {bad} is out of range: allowed 1 <= L"):
        M.AdditiveTarget.make(bad, D)
    with pytest.raises(ValueError, match=rf"L = {bad} is out of range"):
        BoundCase(L=bad)


def test_sizes_of_one_are_allowed():
    M.TokenDistribution(1, 1)
    M.RNNConfig(1, 1)
    M.AdditiveTarget.make(1, 1)
    M.NVariableTarget.make(1, 1, (1,))


@pytest.mark.parametrize("bad", [2.0, "3", True, None])
def test_sizes_must_be_integers(bad):
    with pytest.raises(ValueError, match=r"m must be an integer"):
        M.RNNConfig(D, bad)


def test_more_positions_than_length():
    with pytest.raises(ValueError, match=r"N = 4 positions is out of range: allowed 1 <= N <= L = 3"):
        M.NVariableTarget.make(3, D, (1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"at least one position \(N >= 1\)"):
        M.NVariableTarget.make(3, D, ())


@pytest.mark.parametrize("pos,msg", [
    ((0,), r"positions\[0\] = 0 is out of range: allowed 1 <= l_i <= L = 4"),  # 0-based by mistake
    ((2, 5), r"positions\[1\] = 5 is out of range: allowed 1 <= l_i <= L = 4"),
    ((-1, 2), r"positions\[0\] = -1 is out of range"),
    ((3, 2), r"positions = \[3, 2\] must be strictly increasing"),
    ((2, 2), r"positions = \[2, 2\] must be strictly increasing"),
    ((1.5,), r"positions\[0\] must be an integer"),
])
def test_bad_positions(pos, msg):
    for make in (lambda: M.NVariableTarget.make(4, D, pos), lambda: M.ParityTarget.make(4, D, pos),
                 lambda: M.AdditiveTarget.make(4, D, positions=pos), lambda: BoundCase(L=4, positions=pos)):
        with pytest.raises(ValueError, match=msg):
            make()


def test_boundary_positions_are_allowed():
    assert M.NVariableTarget.make(4, D, (1, 4)).spread == 3
    assert M.check_positions((4,), 4) == (4,)


# ---- non-finite inputs ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_tokens(params, bad):
    X = _X()
    X[1, 2, 0] = bad
    msg = r"contains 1 non-finite value\(s\) \(NaN or inf\): inputs must be finite"
    y = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"X " + msg):
        M.apply(params, X)
    with pytest.raises(ValueError, match=r"X " + msg):
        M.predict_seeds(params, X)
    with pytest.raises(ValueError, match=r"X " + msg):
        M.train(params, M.TrainConfig("gd", 0.1, 2), X, y, X_test=_X(), y_test=y)
    with pytest.raises(ValueError, match=r"X_test " + msg):
        M.train(params, M.TrainConfig("gd", 0.1, 2), _X(), y, X_test=X, y_test=y)
    with pytest.raises(ValueError, match=r"X1 " + msg):
        M.empirical_ntk(params, X)
    with pytest.raises(ValueError, match=r"X2 " + msg):
        M.empirical_ntk(params, _X(), X)
    with pytest.raises(ValueError, match=r"X " + msg):
        M.linearized_predict(params, params.W, X)
    with pytest.raises(ValueError, match=r"X " + msg):
        T.ntk_gram(X)
    with pytest.raises(ValueError, match=r"X2 " + msg):
        T.ntk_gram(_X(), X)
    with pytest.raises(ValueError, match=r"X " + msg):
        T.ntk_diagonal(X)


def test_non_finite_targets(params):
    y = np.zeros(4, np.float32)
    y[0] = np.nan
    with pytest.raises(ValueError, match=r"y contains non-finite values \(NaN or inf\)"):
        M.train(params, M.TrainConfig("gd", 0.1, 2), _X(), y, X_test=_X(), y_test=np.zeros(4))
    H = T.ntk_gram(_X().astype(np.float64))
    with pytest.raises(ValueError, match=r"H and y must be finite"):
        T.kernel_solve(H, y)
    with pytest.raises(ValueError, match=r"must be finite"):
        T.kernel_solve(np.full((2, 2), np.nan), np.ones(2))


# ---- scales and rates ------------------------------------------------------------------------------

@given(bad=st.floats(-1e6, 0.0))
@example(bad=0.0)  # the boundary: r must be > 0
@example(bad=-0.0)
def test_scale_must_be_positive(bad):
    with pytest.raises(ValueError, match=r"scale = .* is out of range: allowed scale in \(0\.0, inf\]"):
        M.TokenDistribution(3, D, bad)
    with pytest.raises(ValueError, match=r"input_scale = .* is out of range"):
        M.AdditiveTarget.make(3, D, input_scale=bad)
    with pytest.raises(ValueError, match=r"scale = .* is out of range"):
        BoundCase(scale=bad)


@given(bad=st.floats(-1e6, 0.0))
@example(bad=0.0)  # the boundary: eta must be > 0
def test_learning_rate_must_be_positive(bad):
    with pytest.raises(ValueError, match=r"lr = .* is out of range: allowed lr in \(0\.0, inf\]"):
        M.TrainConfig(lr=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "fast"])
def test_rates_must_be_finite_numbers(bad):
    with pytest.raises(ValueError, match=r"lr must be (finite|a real number)"):
        M.TrainConfig(lr=bad)
    with pytest.raises(ValueError, match=r"scale must be (finite|a real number)"):
        M.TokenDistribution(3, D, bad)


def test_tiny_positive_scale_and_rate_are_allowed():
    M.TokenDistribution(3, D, 1e-300)
    M.TrainConfig(lr=1e-300)


def test_other_training_settings():
    with pytest.raises(ValueError, match=r"steps = 0 is out of range: allowed 1 <= steps <= 10000000"):
        M.TrainConfig(steps=0)
    with pytest.raises(ValueError, match=r"blowup = 1.0 is out of range: allowed blowup in \(1.0, inf\]"):
        M.TrainConfig(blowup=1.0)
    with pytest.raises(ValueError, match=r"noise = -0.1 is out of range"):
        M.Task(M.TokenDistribution(3, D), M.AdditiveTarget.make(3, D), noise=-0.1)
    with pytest.raises(ValueError, match=r"degree = 13 is out of range: allowed 0 <= degree <= 12"):
        M.AdditiveTarget.make(3, D, "poly", degree=13)


# ---- unknown choices --------------------------------------------------------------------------------

@pytest.mark.parametrize("make,msg", [
    (lambda: M.TrainConfig(method="adam"), r"method = 'adam' is not allowed: choose one of \['gd', 'sgd'\]"),
    (lambda: M.TrainConfig(loss="hinge"),
     r"loss = 'hinge' is not allowed: choose one of \['squared', 'logistic'\]"),
    (lambda: M.AdditiveTarget.make(3, D, "relu"), r"f = 'relu' is not allowed: choose one of \['sin'"),
    (lambda: M.NVariableTarget.make(3, D, (1,), "gelu"), r"f = 'gelu' is not allowed"),
    (lambda: M.TokenDistribution(3, D, kind="uniform"), r"kind = 'uniform' is not allowed"),
    (lambda: M.RNNConfig(D, 8, dtype="float16"), r"dtype = 'float16' is not allowed"),
    (lambda: BoundCase(family="xor"), r"family = 'xor' is not allowed: choose one of \['additive'"),
    (lambda: BoundCase(method="adam"), r"method = 'adam' is not allowed"),
])
def test_unknown_choices(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


def test_unknown_ntk_method(params):
    msg = r"method = 'svd' is not allowed: choose one of \['auto', 'factored', 'jacobian'\]"
    with pytest.raises(ValueError, match=msg):
        M.empirical_ntk(params, _X(), method="svd")


def test_unknown_claim():
    with pytest.raises(ValueError, match=r"unknown claim 'C9': known claims are \["):
        T.get_claim("C9")


# ---- shapes: token dimension, length, seed axes ---------------------------------------------------

def test_wrong_token_dimension(params):
    X = _X(d=2)
    with pytest.raises(ValueError, match=r"X: token dimension is 2, the model expects d = 3"):
        M.apply(params, X)
    with pytest.raises(ValueError, match=r"X: token dimension is 2, the model expects d = 3"):
        M.train(params, M.TrainConfig("gd", 0.1, 2), X, np.zeros(4), X_test=X, y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"X1: token dimension is 2, the model expects d = 3"):
        M.empirical_ntk(params, X)
    with pytest.raises(ValueError, match=r"X2: token dimension is 2, the model expects d = 3"):
        T.ntk_gram(_X(), X)
    with pytest.raises(ValueError, match=r"X2: sequence length is 4, expected L = 3"):
        T.ntk_gram(_X(), _X(L=4))
    with pytest.raises(ValueError, match=r"X_test: sequence length is 4, expected L = 3"):
        M.train(params, M.TrainConfig("gd", 0.1, 2), _X(), np.zeros(4), X_test=_X(L=4), y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"must have shape \(n, L, d\) or \(L, d\), got an array of shape"):
        M.apply(params, np.zeros(3))
    with pytest.raises(ValueError, match=r"sequence length L = 0 is out of range: L >= 1"):
        T.ntk_gram(np.zeros((2, 0, D)))
    msg = r"target expects \(L, d\) = \(4, 3\) but tokens have \(L, d\) = \(3, 3\)"
    with pytest.raises(ValueError, match=msg):
        M.Task(M.TokenDistribution(3, D), M.AdditiveTarget.make(4, D))


def test_wrong_target_count(params):
    with pytest.raises(ValueError, match=r"y has 3 entries, expected n = 4 \(one per sequence\)"):
        M.train(params, M.TrainConfig("gd", 0.1, 2), _X(), np.zeros(3), X_test=_X(), y_test=np.zeros(4))


def test_seed_axes_and_missing_arguments(params):
    P = M.init_seeds(jax.random.split(jax.random.key(0), 2), M.RNNConfig(D, 8))
    with pytest.raises(ValueError, match=r"params carry a seed axis"):
        M.apply(P, _X())
    with pytest.raises(ValueError, match=r"params carry a seed axis: use train_seeds"):
        M.train(P, M.TrainConfig(), _X(), np.zeros(4), X_test=_X(), y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"train_seeds expects params with a leading seed axis"):
        M.train_seeds(params, M.TrainConfig(), _X(), np.zeros(4), X_test=_X(), y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"method='gd' needs the training set X, y"):
        M.train(params, M.TrainConfig("gd"), X_test=_X(), y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"method='sgd' draws a fresh sample per step: pass task= and key="):
        M.train(params, M.TrainConfig("sgd"), X_test=_X(), y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"W has shape \(4, 4\), expected \(8, 8\)"):
        M.linearized_predict(params, jnp.zeros((4, 4)), _X())


# ---- theory's own arguments -------------------------------------------------------------------------

def test_theory_arguments():
    with pytest.raises(ValueError, match=r"delta = 0.0 is out of range: allowed delta in \(0.0, 1.0\)"):
        T.g1_bound(np.eye(2), np.ones(2), delta=0.0)
    with pytest.raises(ValueError, match=r"delta = 1.0 is out of range"):
        T.rademacher_bound(1.0, 1.0, 10, 1.0)
    with pytest.raises(ValueError, match=r"n = 0 is out of range: allowed 1 <= n"):
        T.rademacher_bound(1.0, 1.0, 0, 0.05)
    with pytest.raises(ValueError, match=r"gamma = 1.0 is out of range: allowed gamma in \(1.0, inf\]"):
        T.rademacher_bound(1.0, 1.0, 10, 0.05, gamma=1.0)
    with pytest.raises(ValueError, match=r"train_loss = 1.5 is out of range: allowed train_loss in \[0.0, 1"):
        T.rademacher_bound(1.0, 1.0, 10, 0.05, 1.5)
    with pytest.raises(ValueError, match=r"n_test = 0 is out of range"):
        T.hoeffding_lcb(0.1, 0, 0.01)
    with pytest.raises(ValueError, match=r"p = 1.5 is out of range: allowed p in \[0.0, 1.0\]"):
        T.binomial_tail(1, 10, 1.5)
    with pytest.raises(ValueError, match=r"eps = 0.0 is out of range: allowed eps in \(0.0, inf\]"):
        T.sample_size(1.0, 0.0)
    with pytest.raises(ValueError, match=r"H must be a square matrix, got shape \(2, 3\)"):
        T.kernel_solve(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\), got \(3,\)"):
        T.kernel_solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match=r"eta = .* is out of range"):  # eta > 1/lambda_max
        T.gd_residual_bound(np.eye(2), np.ones(2), 1.5, 3)
    with pytest.raises(ValueError, match=r"test_risk is not finite"):
        T.is_violation(math.nan, 100, 0.5)
    with pytest.raises(ValueError, match=r"block = 0 is out of range"):
        T.ntk_gram(_X(), block=0)
