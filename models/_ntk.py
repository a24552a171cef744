"""Empirical neural tangent kernel for W-only training, and the linearized predictor.

    K_m(x, x') = < grad_W f(W0; x), grad_W f(W0; x') >_F          (docs/theory.md section 3)
    f_lin(x)   = u(W0; x) + < grad_W f(W0; x), W - W0 >_F          (docs/theory.md section 4, G2)

with u(W0; x) = 0 for the centred predictor (lazy parametrization) and f(W0; x) otherwise.
Centring subtracts a constant of W, so K_m is the same for both predictors; in the lazy
parametrization K_m / m -> H, in the contrast one K_m -> H (``Parametrization.kernel_scale``).

Two ways to compute K_m (the benchmarks pick the faster per size):
- 'jacobian': materialise J (n, m*m) with jax.jacrev and contract; O(n m^2) memory.
- 'factored': grad_W f(x) = sum_l delta_l h_{l-1}^T with delta_l = df/dg_l, so
  K(x, x') = sum_{l, k} (delta_l . delta'_k)(h_{l-1} . h'_{k-1}); O(n L m) memory plus row blocks
  of the (n, n', L, L) intermediate (bounded size), and O(n n' L^2 m) time, which wins whenever
  L < ~1.5 m (measured; see ``_auto_method``).
"""

from __future__ import annotations

import functools
import math
import os
import time
from functools import partial

import jax
import jax.numpy as jnp

from . import _precision as prec
from ._rnn import Params, apply_w, check_trained, hidden_states
from ._validation import check_choice, check_float, check_tokens

NTK_METHODS = ("auto", "factored", "jacobian")


def _deltas(W, A, B, X):
    """delta_l = df/dg_l for l = 1..L, via the gradient of an additive perturbation of g_l."""
    L = X.shape[1]

    def f_eps(eps):  # eps: (n, L, m), added to g_l
        AX = prec.einsum("nld,md->lnm", X.astype(W.dtype), A) + jnp.swapaxes(eps, 0, 1)

        def step(h, ax):
            return jax.nn.relu(prec.matmul(h, W.T) + ax), None

        hL, _ = jax.lax.scan(step, jnp.zeros((X.shape[0], W.shape[0]), W.dtype), AX)
        return jnp.sum(prec.matmul(hL, B))  # examples are independent, so one gradient gives every delta

    return jax.grad(f_eps)(jnp.zeros((X.shape[0], L, W.shape[0]), W.dtype))  # (n, L, m)


def ntk_factors(W, A, B, X):
    """(delta, hprev), each (n, L, m): grad_W f(x_i) = sum_l delta[i, l] outer hprev[i, l]."""
    hs = hidden_states(W, A, X)  # (L, n, m): h_1..h_L
    hprev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)  # h_0..h_{L-1}
    return _deltas(W, A, B, X), jnp.swapaxes(hprev, 0, 1)


@jax.jit
def _ntk_factored(W, A, B, X1, X2):
    d1, h1 = ntk_factors(W, A, B, X1)
    d2, h2 = ntk_factors(W, A, B, X2)
    n1, n2, L = X1.shape[0], X2.shape[0], X1.shape[1]
    # The (rows, n2, L, L) intermediates are blocked over rows of X1 so they stay under
    # _BLOCK_ELEMS elements (n1 n2 L^2 whole: 2.6 GB in float32 at n = 2000, L = 16); a block
    # of zero rows pads the last one (its kernel rows are 0 and are cut).
    rows = max(1, min(n1, _BLOCK_ELEMS // max(1, n2 * L * L)))

    def block(args):
        d, h = args
        gd = prec.einsum("ilm,jkm->ijlk", d, d2)
        gh = prec.einsum("ilm,jkm->ijlk", h, h2)
        return jnp.sum(gd * gh, axis=(2, 3))

    if rows == n1:
        return block((d1, h1))
    nb = -(-n1 // rows)
    pad = ((0, nb * rows - n1), (0, 0), (0, 0))
    d1b = jnp.pad(d1, pad).reshape(nb, rows, L, -1)
    h1b = jnp.pad(h1, pad).reshape(nb, rows, L, -1)
    return jax.lax.map(block, (d1b, h1b)).reshape(nb * rows, n2)[:n1]


_BLOCK_ELEMS = 1 << 25  # elements of one (rows, n2, L, L) intermediate: 128 MiB in float32


@jax.jit
def _ntk_jacobian(W, A, B, X1, X2):
    def jac(X):
        J = jax.jacrev(lambda W_: apply_w(W_, A, B, X))(W)  # (n, m, m)
        return J.reshape(X.shape[0], -1)

    return prec.matmul(jac(X1), jac(X2).T)


#: t_jacobian / t_factored ~ c m / L, so 'factored' is the faster method iff L <= c m. c per
#: backend, from a measurement (``python -m benchmarks --only ntk``): CPU 1.5 (t_jacobian /
#: t_factored ~ 1.6 m / L at n = 32, m = 16..512, L = 2..64, 2-core EPYC; benchmarks/README.md).
#: A backend without a stored value (a GPU: the CPU's c chose the slower method at 3 of 9 sizes
#: on an H100, issue 24) measures it once per process (``_probe_crossover``);
#: RNN_CHECKS_NTK_CROSSOVER=<c> fixes it (e.g. for bitwise-repeatable GPU runs: the two methods
#: agree to rounding only, checks/_tolerance.py's ntk_rtol).
NTK_CROSSOVER = {"cpu": 1.5}
CROSSOVER_ENV = "RNN_CHECKS_NTK_CROSSOVER"


@functools.cache
def ntk_crossover(backend: str | None = None) -> float:
    """c of ``NTK_CROSSOVER`` for ``backend`` (default: JAX's): the environment's override, the
    stored value, or a one-time probe on that backend."""
    env = os.environ.get(CROSSOVER_ENV, "").strip()
    if env:
        return check_float(CROSSOVER_ENV, env, low=0.0, low_open=True)
    backend = backend or jax.default_backend()
    if backend in NTK_CROSSOVER:
        return NTK_CROSSOVER[backend]
    return _probe_crossover(backend)


#: The probe's size: n = 32 sequences (the benchmark's), m = 64, L = 16: both methods take
#: milliseconds after compiling (two programs, ~1-2 s), and t_jacobian / t_factored there gives
#: c = ratio * L / m under the cost model above; clipped to [1/16, 64] (the sizes the cost model
#: was measured over).
_PROBE = dict(n=32, m=64, L=16, d=4, rounds=3)


def _probe_crossover(backend: str) -> float:
    """Measure c on ``backend`` once: best-of-``rounds`` interleaved timings of both methods."""
    from ._rnn import RNNConfig, init_params

    n, m, L, d = (_PROBE[k] for k in ("n", "m", "L", "d"))
    dev = jax.devices(backend)[0]
    p = jax.device_put(init_params(jax.random.key(0), RNNConfig(d, m)), dev)
    X = jax.device_put(jnp.ones((n, L, d), jnp.float32) / d, dev)
    fns = (_ntk_factored, _ntk_jacobian)
    best = [math.inf, math.inf]
    for f in fns:
        jax.block_until_ready(f(p.W, p.A, p.B, X, X))  # compile outside the timing
    for _ in range(_PROBE["rounds"]):
        for i, f in enumerate(fns):
            t0 = time.perf_counter()
            jax.block_until_ready(f(p.W, p.A, p.B, X, X))
            best[i] = min(best[i], time.perf_counter() - t0)
    return float(min(64.0, max(1 / 16, best[1] / best[0] * L / m)))


def _auto_method(L: int, m: int, backend: str | None = None) -> str:
    """The method ``empirical_ntk(method='auto')`` uses for sequences of length L at width m.

    Costs: 'factored' ~ n n' L^2 m, 'jacobian' ~ (n^2 + n'^2) L m^2 (jax.jacrev runs one backward
    pass of the whole batch per example), so t_jacobian / t_factored ~ c m / L with c measured per
    backend (``ntk_crossover``); factored iff L <= c m.
    """
    return "factored" if L <= ntk_crossover(backend) * m else "jacobian"


def empirical_ntk(params: Params, X1, X2=None, *, method: str = "auto") -> jax.Array:
    """Gram K_m(X1) (X2 None) or cross-Gram K_m(X1, X2) of the W-gradients at ``params``."""
    check_choice("method", method, NTK_METHODS)
    d = params.A.shape[-1]
    X1 = jnp.asarray(check_tokens("X1", X1, d=d), params.W.dtype)
    X2 = X1 if X2 is None else jnp.asarray(check_tokens("X2", X2, d=d, L=X1.shape[1]), params.W.dtype)
    if X1.ndim != 3 or X2.ndim != 3:
        raise ValueError("X1 and X2 must have shape (n, L, d)")
    if method == "auto":
        method = _auto_method(X1.shape[1], params.W.shape[0])
    fn = _ntk_factored if method == "factored" else _ntk_jacobian
    return fn(params.W, params.A, params.B, X1, X2)


@partial(jax.jit, static_argnames=("centred",))
def _linearized(W0, A, B, W, X, centred: bool = True):
    f0, df = jax.jvp(lambda W_: apply_w(W_, A, B, X), (W0,), (W - W0,))
    return df if centred else f0 + df


def linearized_predict(params0: Params, W, X, *, centred: bool = True) -> jax.Array:
    """f_lin(x) = u(W0; x) + <grad_W f(W0; x), W - W0> for every x in X (one JVP); u(W0) = 0 when
    ``centred`` (the lazy parametrization), f(W0; x) otherwise."""
    W, X = check_trained(params0, W, X)
    return _linearized(params0.W, params0.A, params0.B, W, X, bool(centred))


@partial(jax.jit, static_argnames=())
def grad_w(W, A, B, X):
    """Per-example gradients grad_W f(W; x_i), shape (n, m, m) (small sizes / tests only)."""
    return jax.jacrev(lambda W_: apply_w(W_, A, B, X))(W)
