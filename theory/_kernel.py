"""The infinite-width NTK of W-only training (docs/theory.md section 3; provenance: exact).

For sequences x, x' of length L, with s_0 = 0:

    c_l = s_{l-1} + <X_l, X'_l>,   s_l = 2 k1(c_l)                          l = 1..L
    H(x, x') = sum_{l=2..L} s_{l-1} k0(c_L) prod_{k=l..L-1} 2 k0(c_k)

k1, k0 are the degree-1 / degree-0 arc-cosine kernels of (a, b, c) = (c_l(x,x), c_l(x',x'), c_l(x,x')):
k1 = sqrt(ab)(sin t + (pi - t) cos t)/(2 pi), k0 = (pi - t)/(2 pi), t = arccos(clip(c/sqrt(ab))),
and k1 = k0 = 0 when ab = 0. On the diagonal c_l(x,x) = sum_{k<=l} ||X_k||^2 (closed form).

The sum is evaluated by the forward recursion T_1 = 0, T_{l+1} = 2 k0(c_l) T_l + s_l, H = k0(c_L) T_L,
in a ``lax.scan`` over l carrying (s, T) as (n, n') arrays: O(n n' L) time. Large Grams go in
fixed-size tiles (``ntk_gram``'s ``block``): O(block^2) working memory beyond the result.
Everything runs in float64 (inside ``jax.enable_x64``) because the Gram is solved against.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
from threadpoolctl import threadpool_limits

from models import check_int, check_tokens

PROVENANCE = "exact"


def _arccos_kernels(a, b, c, xp=jnp):
    """(k0, k1) of the arc-cosine kernels for norms a, b (broadcast) and inner product c.

    ``xp`` is the array module (jax.numpy, or numpy for the CPU tiles of ``ntk_gram``).
    sin(t) = sqrt((1 - rho)(1 + rho)) for t = arccos(rho) in [0, pi]: the same number as sin(t)
    to rounding (1 - rho is exact near rho = 1), at a fraction of the cost."""
    ab = a * b
    pos = ab > 0
    sq = xp.sqrt(xp.where(pos, ab, 1.0))
    rho = xp.clip(c / sq, -1.0, 1.0)  # rounding can push |rho| a hair past 1
    t = xp.arccos(rho)
    sin_t = xp.sqrt((1.0 - rho) * (1.0 + rho))
    k0 = xp.where(pos, (xp.pi - t) / (2 * xp.pi), 0.0)
    k1 = xp.where(pos, sq * (sin_t + (xp.pi - t) * rho) / (2 * xp.pi), 0.0)
    return k0, k1


def _step(xp, s_prev, T, x1, x2, a, b, k0_fn=None):
    """One layer l of the recursion: (s_l, T_{l+1}, k0(c_l)) from (s_{l-1}, T_l) and the tokens."""
    c = s_prev + x1 @ x2.T
    k0, k1 = _arccos_kernels(a[:, None], b[None, :], c, xp)
    if k0_fn is not None:
        k0 = k0_fn(k0)
    s = 2 * k1
    return s, 2 * k0 * T + s, k0


def _norms(X, xp):
    return xp.cumsum(xp.sum(X * X, axis=-1), axis=1)  # (n, L): c_l(x, x)


def _gram_block(X1, X2, k0_fn=None):
    """H(X1, X2) for X1 (n1, L, d), X2 (n2, L, d) in the current dtype, in JAX (a ``lax.scan``
    over l). ``k0_fn`` is a test hook."""
    n1, n2 = X1.shape[0], X2.shape[0]

    def step(carry, inp):
        s_prev, T, _ = carry
        s, T_next, k0 = _step(jnp, s_prev, T, *inp, k0_fn=k0_fn)
        return (s, T_next, k0 * T), None  # k0 T = H if this l is L

    z = jnp.zeros((n1, n2), X1.dtype)
    inputs = (jnp.swapaxes(X1, 0, 1), jnp.swapaxes(X2, 0, 1), _norms(X1, jnp).T, _norms(X2, jnp).T)
    (_, _, H), _ = jax.lax.scan(step, (z, z, z), inputs)
    return H


def _gram_tile_np(X1, X2, k0_fn=None) -> np.ndarray:
    """The same recursion in float64 NumPy: XLA's float64 arccos on CPU costs ~70 ns an element
    (measured), NumPy's vectorized one ~4 ns, and arccos dominates the Gram."""
    a_all, b_all = _norms(X1, np), _norms(X2, np)
    z = np.zeros((X1.shape[0], X2.shape[0]))
    s, T = z, z
    for l in range(X1.shape[1]):
        s, T_next, k0 = _step(np, s, T, X1[:, l], X2[:, l], a_all[:, l], b_all[:, l], k0_fn=k0_fn)
        if l + 1 < X1.shape[1]:
            T = T_next
    return np.asarray(k0 * T)


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


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def ntk_gram(X, X2=None, *, block: int = 256, k0_fn=None, threads: int | None = None) -> np.ndarray:
    """The analytic kernel H(X) (n x n) or the cross-Gram H(X, X2) (n x n2), float64 numpy.

    Computed in ``block x block`` tiles written into a preallocated result, so the working memory
    is O(threads * block^2) beyond the O(n n2) result (about 8 such arrays a thread); for H(X) only
    the tiles on and below the diagonal are computed and mirrored (half the work, exact
    symmetry). Tiles run on ``threads`` threads (default: the CPUs this process may use; NumPy
    releases the GIL). ``k0_fn`` replaces k0 (used only to build deliberately wrong kernels in
    the suite's power checks; those run serially).
    """
    X1, X2 = _validated(X, X2)
    block = check_int("block", block, low=1)
    threads = _threads() if threads is None else check_int("threads", threads, low=1)
    sym = X2 is None
    P1 = np.asarray(X1, np.float64)
    P2 = P1 if sym else np.asarray(X2, np.float64)
    n1, n2 = P1.shape[0], P2.shape[0]
    H = np.empty((n1, n2), np.float64)

    def tile(ij):
        i, j = ij
        i1, j1 = min(i + block, n1), min(j + block, n2)
        t = _gram_tile_np(P1[i:i1], P2[j:j1], k0_fn)
        if sym and i == j:
            t = 0.5 * (t + t.T)  # exact symmetry; the recursion is symmetric up to rounding
        H[i:i1, j:j1] = t
        if sym and i != j:
            H[j:j1, i:i1] = t.T

    tiles = [(i, j) for i in range(0, n1, block) for j in range(0, (i + 1) if sym else n2, block)]
    if k0_fn is not None or threads == 1 or len(tiles) == 1:
        with jax.enable_x64(True):  # a k0_fn written with jax.numpy stays in float64
            for ij in tiles:
                tile(ij)
    else:  # the tiles' d-dimensional matmuls are tiny: BLAS threads would only contend
        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(min(threads, len(tiles))) as pool:
            list(pool.map(tile, tiles))
    if sym and k0_fn is None:
        # On the diagonal rho = 1 exactly, but rounding of c / sqrt(ab) gives 1 - O(1e-16), and
        # arccos amplifies that to theta ~ 1e-8 (relative error ~1e-8 in H_ii). The closed form
        # is exact, so use it. Off-diagonal duplicates of a sequence keep that ~1e-8 error.
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
