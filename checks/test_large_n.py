"""The large-n theory path: one Cholesky factor for a nested grid of n (theory.nested_cholesky)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import theory as T
from checks.strategies import seeds

pytestmark = pytest.mark.fast
EPS64 = np.finfo(np.float64).eps


def _sample(n, L, seed, scale=1.0):
    return np.random.default_rng(seed).standard_normal((n, L, 3)) * (scale / np.sqrt(3))


@given(n=st.sampled_from((1, 3, 12)), L=st.sampled_from((2, 4)), seed=seeds(),
       scale=st.sampled_from((0.1, 1.0, 10.0)), overwrite=st.booleans())
@example(n=12, L=4, seed=0, scale=1.0, overwrite=True)
def test_leading_blocks_of_one_factor_solve_every_prefix(n, L, seed, scale, overwrite):
    """quad_k, alpha_k and tr H_k from one factorization equal kernel_solve on each H[:k, :k]."""
    X = _sample(n, L, seed, scale)
    H = T.ntk_gram(X)
    Y = np.random.default_rng(seed + 1).standard_normal((n, 2))
    H_copy = H.copy()
    nc = T.nested_cholesky(H, overwrite=overwrite)
    if not overwrite:
        assert np.array_equal(H, H_copy)
    z = nc.forward(Y)
    q = nc.quads(z)
    assert nc.cond_est >= 1.0
    for k in range(1, n + 1):
        Hk = H_copy[:k, :k]
        for c in range(Y.shape[1]):
            ref = T.kernel_solve(Hk, Y[:k, c])
            tol = 100 * k * EPS64 * max(ref.cond, nc.cond_est)
            assert q[k - 1, c] == pytest.approx(ref.quad, rel=tol)
            np.testing.assert_allclose(nc.alpha(z[:, c], k), ref.alpha,
                                       rtol=0, atol=tol * np.max(np.abs(ref.alpha)))
        assert nc.trace(k) == pytest.approx(np.trace(Hk), rel=1e-15)


def test_a_wrong_prefix_rule_is_caught():
    """Power: the trailing block (the last k points) is not solved by the factor's leading block;
    the comparison above would reject a version that sliced the wrong end."""
    X = _sample(8, 3, 0)
    H = T.ntk_gram(X)
    y = np.random.default_rng(1).standard_normal(8)
    q = T.nested_cholesky(H).quads(T.nested_cholesky(H).forward(y))
    wrong = T.kernel_solve(H[-4:, -4:], y[-4:]).quad
    assert abs(q[3] - wrong) > 1e-3 * wrong


def test_singular_gram_raises_clearly():
    X = _sample(5, 3, 0)
    H = T.ntk_gram(X)
    H[4], H[:, 4] = H[1], H[:, 1]  # exactly singular: two equal rows (a duplicate sequence)
    with pytest.raises(T.SingularKernelError, match="not positive definite|condition number"):
        T.nested_cholesky(H)
    X[4] = 0.0  # an all-zero sequence: H_ii = 0
    with pytest.raises(T.SingularKernelError, match="diagonal"):
        T.nested_cholesky(T.ntk_gram(X))
    nc = T.nested_cholesky(np.eye(3))
    with pytest.raises(ValueError, match=r"Y must have shape \(3,\)"):
        nc.forward(np.ones(4))
    with pytest.raises(ValueError, match="k"):
        nc.alpha(np.ones(3), 4)
