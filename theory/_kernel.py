"""The infinite-width NTK of W-only training (docs/theory.md section 3; provenance: exact).

For sequences x, x' of length L, with s_0 = 0:

    c_l = s_{l-1} + <X_l, X'_l>,   s_l = 2 k1(c_l)                          l = 1..L
    H(x, x') = sum_{l=2..L} s_{l-1} k0(c_L) prod_{k=l..L-1} 2 k0(c_k)

k1, k0 are the degree-1 / degree-0 arc-cosine kernels of (a, b, c) = (c_l(x,x), c_l(x',x'), c_l(x,x')):
k1 = sqrt(ab)(sin t + (pi - t) cos t)/(2 pi), k0 = (pi - t)/(2 pi), t = arccos(clip(c/sqrt(ab))),
and k1 = k0 = 0 when ab = 0. On the diagonal c_l(x,x) = sum_{k<=l} ||X_k||^2 (closed form).

The sum is evaluated by the forward recursion T_1 = 0, T_{l+1} = 2 k0(c_l) T_l + s_l, H = k0(c_L) T_L,
in a ``lax.scan`` over l carrying (s, T) as (n, n') arrays: O(n n' L) time, O(n n') memory.
Everything runs in float64 (inside ``jax.enable_x64``) because the Gram is solved against.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from models import check_int, check_tokens

PROVENANCE = "exact"


def _arccos_kernels(a, b, c):
    """(k0, k1) of the arc-cosine kernels for norms a, b (broadcast) and inner product c."""
    ab = a * b
    pos = ab > 0
    sq = jnp.sqrt(jnp.where(pos, ab, 1.0))
    rho = jnp.clip(c / sq, -1.0, 1.0)  # rounding can push |rho| a hair past 1
    t = jnp.arccos(rho)
    k0 = jnp.where(pos, (jnp.pi - t) / (2 * jnp.pi), 0.0)
    k1 = jnp.where(pos, sq * (jnp.sin(t) + (jnp.pi - t) * rho) / (2 * jnp.pi), 0.0)
    return k0, k1


def _gram_block(X1, X2, k0_fn=None):
    """H(X1, X2) for X1 (n1, L, d), X2 (n2, L, d) in the current dtype. ``k0_fn`` is a test hook."""
    a_all = jnp.cumsum(jnp.sum(X1 * X1, axis=-1), axis=1)  # (n1, L): c_l(x, x)
    b_all = jnp.cumsum(jnp.sum(X2 * X2, axis=-1), axis=1)
    n1, n2 = X1.shape[0], X2.shape[0]

    def step(carry, inp):
        s_prev, T, _ = carry
        x1, x2, a, b = inp
        c = s_prev + x1 @ x2.T
        k0, k1 = _arccos_kernels(a[:, None], b[None, :], c)
        if k0_fn is not None:
            k0 = k0_fn(k0)
        H_here = k0 * T  # = H if this l is L
        s = 2 * k1
        return (s, 2 * k0 * T + s, H_here), None

    z = jnp.zeros((n1, n2), X1.dtype)
    inputs = (jnp.swapaxes(X1, 0, 1), jnp.swapaxes(X2, 0, 1), a_all.T, b_all.T)
    (_, _, H), _ = jax.lax.scan(step, (z, z, z), inputs)
    return H


_gram_block_jit = jax.jit(_gram_block, static_argnames=("k0_fn",))


def _validated(X1, X2):
    X1 = check_tokens("X", X1)
    if X1.ndim != 3:
        raise ValueError(f"X must have shape (n, L, d), got {X1.shape}")
    if X2 is None:
        return X1, None
    X2 = check_tokens("X2", X2, d=X1.shape[-1], L=X1.shape[1])
    if X2.ndim != 3:
        raise ValueError(f"X2 must have shape (n2, L, d), got {X2.shape}")
    return X1, X2


def ntk_gram(X, X2=None, *, block: int = 1024, k0_fn=None) -> np.ndarray:
    """The analytic kernel H(X) (n x n) or the cross-Gram H(X, X2) (n x n2), float64 numpy.

    Rows are processed in blocks of ``block`` sequences so memory stays O(block * n2) per step
    plus the O(n * n2) result. ``k0_fn`` replaces k0 (used only to build deliberately wrong
    kernels in the suite's power checks).
    """
    X1, X2 = _validated(X, X2)
    block = check_int("block", block, low=1)
    X2_ = X1 if X2 is None else X2
    with jax.enable_x64(True):
        A2 = jnp.asarray(X2_, jnp.float64)
        out = [np.asarray(_gram_block_jit(jnp.asarray(X1[i:i + block], jnp.float64), A2,
                                          k0_fn=k0_fn))
               for i in range(0, X1.shape[0], block)]
    H = np.concatenate(out, axis=0)
    if X2 is None:
        H = 0.5 * (H + H.T)  # exact symmetry; the recursion is symmetric up to rounding
        # On the diagonal rho = 1 exactly, but rounding of c / sqrt(ab) gives 1 - O(1e-16), and
        # arccos amplifies that to theta ~ 1e-8 (relative error ~1e-8 in H_ii). The closed form
        # is exact, so use it. Off-diagonal duplicates of a sequence keep that ~1e-8 error.
        if k0_fn is None:
            np.fill_diagonal(H, ntk_diagonal(X1))
    return H


def ntk_diagonal(X) -> np.ndarray:
    """H(x, x) = 1/2 sum_{l=1..L-1} sum_{k<=l} ||X_k||^2 for each sequence (closed form, exact)."""
    X1, _ = _validated(X, None)
    cums = np.cumsum(np.sum(np.asarray(X1, np.float64) ** 2, axis=-1), axis=1)
    return 0.5 * np.sum(cums[:, :-1], axis=1)


def ntk_gram_pair_reference(x, xp) -> float:
    """Per-pair reference of the recursion, written literally from docs/theory.md section 3.

    Plain Python/NumPy, O(L^2) per pair: used to test ``ntk_gram`` and as the naive baseline
    of the kernel benchmark. Not for production use.
    """
    x = np.asarray(x, np.float64)
    xp = np.asarray(xp, np.float64)
    L = x.shape[0]
    s_prev = s_a = s_b = 0.0
    cs, ss = [], []
    for l in range(L):
        a = s_a + x[l] @ x[l]
        b = s_b + xp[l] @ xp[l]
        c = s_prev + x[l] @ xp[l]
        if a * b > 0:
            rho = min(1.0, max(-1.0, c / math.sqrt(a * b)))
            t = math.acos(rho)
            k0 = (math.pi - t) / (2 * math.pi)
            k1 = math.sqrt(a * b) * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)
        else:
            k0 = k1 = 0.0
        cs.append(k0)
        s_prev, s_a, s_b = 2 * k1, a, b  # s_l(x,x) = 2 k1(a, a, a) = a
        ss.append(s_prev)
    H = 0.0
    for l in range(2, L + 1):  # l = 2..L (1-based)
        prod = 1.0
        for k in range(l, L):  # k = l..L-1
            prod *= 2 * cs[k - 1]
        H += ss[l - 2] * cs[L - 1] * prod
    return H
