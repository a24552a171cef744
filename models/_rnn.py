"""The paper's recurrent network (docs/theory.md section 2).

    h_0 = 0,  g_l = W h_{l-1} + A X_l,  h_l = relu(g_l)  (l = 1..L),  f(W; x) = B . h_L

Symbols -> arguments: W (m x m) = ``params.W``, A (m x d) = ``params.A``,
B (m,) = ``params.B``, X_l = ``x[l-1]``, width m = ``RNNConfig.m``.
Only W is trained; A and B stay at their initial values (the training code differentiates
with respect to W only).

Parametrizations (docs/theory.md section 2, revised 2026-11-27), selected by name:

- ``"lazy"`` (the default everywhere): W_ij, A_ij ~ N(0, 2/m), B_j ~ N(0, 1), and the predictor is
  the centred network u(W; x) = f(W; x) - f(W0; x). The empirical NTK is then ~ m H and W moves
  O(m^{-1/2}): training is in the kernel regime.
- ``"contrast"`` (the first spec, "non-lazy"): B_j ~ N(0, 1/m), uncentred u = f. Kept as the
  negative control of the kernel-regime checks; K_m itself converges to H.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _precision as prec
from ._data import _normal_flat, sample_bucket, split_keys
from ._validation import check_choice, check_int, check_tokens


class Params(NamedTuple):
    """Network parameters as a pytree. Leading axes (seeds) are allowed: see ``init_seeds``."""

    W: jax.Array  # (m, m), trained
    A: jax.Array  # (m, d), fixed at init
    B: jax.Array  # (m,),   fixed at init


@dataclass(frozen=True)
class Parametrization:
    """How the output weights are drawn and whether the predictor is centred (docs/theory.md section 2).

    ``b_var_times_m``: Var(B_j) * m as a function of m (m for B ~ N(0, 1); 1 for N(0, 1/m)).
    ``centred``: the predictor is u(W; x) = f(W; x) - f(W0; x) (True) or f(W; x) (False).
    ``lazy``: whether docs/theory.md declares training in the kernel regime for it (the training-facts
    law must hold for a lazy parametrization and fail for the contrast one).
    """

    name: str
    b_var: str  # "1" or "1/m": the variance of B_j
    centred: bool
    lazy: bool
    text: str

    def b_std(self, m: int) -> float:
        return 1.0 if self.b_var == "1" else (1.0 / m) ** 0.5

    def kernel_scale(self, m: int) -> float:
        """c(m) with K_m / c(m) -> H: Var(B_j) * m (m for B ~ N(0, 1), 1 for B ~ N(0, 1/m))."""
        return float(m) if self.b_var == "1" else 1.0


PARAMETRIZATIONS = {
    "lazy": Parametrization(
        "lazy", "1", True, True,
        "W, A ~ N(0, 2/m), B ~ N(0, 1), centred u = f(W) - f(W0) (kernel regime; the default)"),
    "contrast": Parametrization(
        "contrast", "1/m", False, False,
        "W, A ~ N(0, 2/m), B ~ N(0, 1/m), uncentred u = f (non-lazy contrast; the first spec)"),
}


def get_parametrization(name: str) -> Parametrization:
    check_choice("parametrization", name, tuple(PARAMETRIZATIONS))
    return PARAMETRIZATIONS[name]


@dataclass(frozen=True)
class RNNConfig:
    """Architecture of docs/theory.md section 2: token dimension ``d``, width ``m``, and the
    ``parametrization`` ("lazy" default, or "contrast"; see the module docstring).

    ``dtype`` is float32 by default (training speed); float64 is available for
    Monte-Carlo checks that need the extra precision (call inside ``jax.enable_x64``).
    """

    d: int
    m: int
    dtype: str = "float32"
    parametrization: str = "lazy"

    def __post_init__(self):
        check_int("d", self.d, low=1)
        check_int("m", self.m, low=1)
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_choice("parametrization", self.parametrization, tuple(PARAMETRIZATIONS))

    @property
    def param(self) -> Parametrization:
        return PARAMETRIZATIONS[self.parametrization]


def _init_definition(key: jax.Array, cfg: RNNConfig) -> Params:
    """The definition of the init (traceable): three normals from ``split(key, 3)``, scaled."""
    kw, ka, kb = jax.random.split(key, 3)
    m, d, dt = cfg.m, cfg.d, jnp.dtype(cfg.dtype)
    W = jax.random.normal(kw, (m, m), dt) * jnp.sqrt(2.0 / m).astype(dt)
    A = jax.random.normal(ka, (m, d), dt) * jnp.sqrt(2.0 / m).astype(dt)
    B = jax.random.normal(kb, (m,), dt) * jnp.asarray(cfg.param.b_std(m), dt)
    return Params(W, A, B)


def init_params(key: jax.Array, cfg: RNNConfig) -> Params:
    """Draw W, A ~ N(0, 2/m) and B ~ N(0, 1) ("lazy") or N(0, 1/m) ("contrast") entrywise.

    The numbers of ``_init_definition`` made by ``init_seeds``' bucketed draws (see there)."""
    if isinstance(key, jax.core.Tracer):
        return _init_definition(key, cfg)
    return Params(*(jax.device_put(a[0]) for a in _host_init(key, cfg)))


def init_seeds(keys: jax.Array, cfg: RNNConfig) -> Params:
    """Independent initializations, one per key, stacked on a leading seed axis.

    Not one compiled program per config: the normals are drawn flat at ``sample_bucket`` sizes
    by the token sampler's ``_normal_flat`` (one program per bucket, shared with the samples and
    by every width whose W, A and B fall in the same buckets: all of m <= 128 at d <= 128), from
    ``split_keys(key, 3)``, and scaled in NumPy. With JAX's partitionable threefry an element's
    random bits depend on its flat index only, so the first m*m numbers of the bucket's draw,
    reshaped, are ``normal(kw, (m, m))``; NumPy's float multiply rounds as XLA's does, so the
    result is ``_init_definition``'s eager evaluation bitwise (``checks/test_buckets.py``). A
    jitted per-config init cost 0.4-1.2 s of compilation per width (threefry) on a 2-core CPU,
    for microseconds of work."""
    if isinstance(keys, jax.core.Tracer):
        return jax.vmap(lambda k: _init_definition(k, cfg))(keys)
    return Params(*(jax.device_put(a) for a in _host_init(keys, cfg)))


def _host_init(keys, cfg: RNNConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W, A, B) as NumPy arrays with a leading seed axis, one per key of ``keys`` (a single
    key counts as one); see ``init_seeds``."""
    m, d = cfg.m, cfg.d
    # the dtype JAX computes in (float64 is float32 unless x64 is on), and the scale constants as
    # _init_definition makes them: a Python float is float64 under x64, float32 otherwise
    dt = np.dtype(jax.dtypes.canonicalize_dtype(jnp.dtype(cfg.dtype)))
    weak = np.dtype(jax.dtypes.canonicalize_dtype(np.float64))
    scales = (np.sqrt(np.asarray(2.0 / m, weak)).astype(dt),) * 2 + (np.asarray(cfg.param.b_std(m), dt),)
    shapes = ((m, m), (m, d), (m,))
    if not jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.wrap_key_data(keys)  # a legacy uint32 key (PRNGKey)
    impl = str(jax.random.key_impl(keys))
    # the keys as host data, one at a time (indexing a device key array is a program per shape)
    data = np.asarray(jax.random.key_data(keys))
    out = ([], [], [])
    for row in data.reshape((-1, *data.shape[keys.ndim:])):
        for j, (k, shape) in enumerate(zip(split_keys(jax.random.wrap_key_data(row, impl=impl), 3),
                                           shapes)):
            size = int(np.prod(shape))
            Z = np.asarray(_normal_flat(k, sample_bucket(size), dt))[:size].reshape(shape)
            out[j].append(Z * scales[j])
    return tuple(np.stack(o) for o in out)


def pad_width(params: Params, m: int) -> Params:
    """``params`` (one seed or a seed axis) widened to m hidden units with zeros: rows and
    columns of W, rows of A, entries of B.

    Exact for the W-only RNN: a unit with zero incoming weights (W row, A row) stays at
    relu(0) = 0, its zero B entry and zero W column carry nothing out, and its weights' gradients
    are 0 (relu'(0) = 0 in JAX), so f, the empirical NTK, a GD run's predictions, loss and
    movement are the narrow network's and the padding stays 0 (``checks/test_buckets.py``). One
    compiled program set then serves several widths."""
    W = np.asarray(params.W)
    m0 = W.shape[-1]
    m = check_int("m", m, low=m0)
    if m == m0:
        return params
    lead = W.shape[:-2]
    grow = [(0, 0)] * len(lead)
    return Params(jax.device_put(np.pad(W, grow + [(0, m - m0), (0, m - m0)])),
                  jax.device_put(np.pad(np.asarray(params.A), grow + [(0, m - m0), (0, 0)])),
                  jax.device_put(np.pad(np.asarray(params.B), grow + [(0, m - m0)])))


def hidden_states(W: jax.Array, A: jax.Array, X: jax.Array) -> jax.Array:
    """All hidden states h_1..h_L for a batch X of shape (n, L, d); returns (L, n, m).

    A X_l is computed for every l in one matmul; the recurrence is a ``lax.scan``
    over time whose body is a batched (n, m) x (m, m) matmul.
    """
    AX = prec.einsum("nld,md->lnm", X.astype(W.dtype), A)

    def step(h, ax):
        h = jax.nn.relu(prec.matmul(h, W.T) + ax)
        return h, h

    h0 = jnp.zeros((X.shape[0], W.shape[0]), W.dtype)
    _, hs = jax.lax.scan(step, h0, AX)
    return hs


def apply_w(W: jax.Array, A: jax.Array, B: jax.Array, X: jax.Array) -> jax.Array:
    """f(W; x) for every sequence of X (n, L, d) -> (n,). Pure, jit/vmap/grad friendly."""
    AX = prec.einsum("nld,md->lnm", X.astype(W.dtype), A)

    def step(h, ax):
        return jax.nn.relu(prec.matmul(h, W.T) + ax), None

    hL, _ = jax.lax.scan(step, jnp.zeros((X.shape[0], W.shape[0]), W.dtype), AX)
    return prec.matmul(hL, B)


_apply_jit = jax.jit(apply_w)


def apply(params: Params, X) -> jax.Array:
    """Public, validated forward pass: X of shape (n, L, d) or (L, d); returns (n,) or ()."""
    arr = check_tokens("X", X, d=params.A.shape[-1])
    if params.W.ndim != 2:
        raise ValueError(
            f"params carry a seed axis (W has shape {params.W.shape}); "
            "use jax.vmap(apply_w, ...) or models.predict_seeds for stacked seeds"
        )
    single = arr.ndim == 2
    out = _apply_jit(params.W, params.A, params.B, jnp.asarray(arr[None] if single else arr))
    return out[0] if single else out


@jax.jit
def _predict_seeds(W, A, B, X):
    return jax.vmap(apply_w, in_axes=(0, 0, 0, None))(W, A, B, X)


def predict_seeds(params: Params, X) -> jax.Array:
    """Forward pass of S stacked seeds on a shared batch: returns (S, n)."""
    arr = check_tokens("X", X, d=params.A.shape[-1])
    if arr.ndim == 2:
        arr = arr[None]
    return _predict_seeds(params.W, params.A, params.B, jnp.asarray(arr))


def centred_apply(W, W0, A, B, X, centred: bool):
    """The predictor u(W; x) = f(W; x) - f(W0; x) (``centred``) or f(W; x), for X (n, L, d)."""
    f = apply_w(W, A, B, X)
    return f - jax.lax.stop_gradient(apply_w(W0, A, B, X)) if centred else f


@partial(jax.jit, static_argnames=("centred",))
def _predict_u_seeds(W, W0, A, B, X, centred):
    return jax.vmap(centred_apply, in_axes=(0, 0, 0, 0, None, None))(W, W0, A, B, X, centred)


def check_trained(params0: Params, W, X) -> tuple[jax.Array, jax.Array]:
    """(W, X) validated against the init ``params0``: X of shape (n, L, d) (a single (L, d)
    sequence gets a batch axis), W of the init's shape, both in its dtype."""
    arr = jnp.asarray(check_tokens("X", X, d=params0.A.shape[-1]), params0.W.dtype)
    if arr.ndim == 2:
        arr = arr[None]
    W = jnp.asarray(W, params0.W.dtype)
    if W.shape != params0.W.shape:
        raise ValueError(f"W has shape {W.shape}, expected {params0.W.shape} (the init's)")
    return W, arr


def predict_u(params0: Params, W, X, *, centred: bool = True) -> jax.Array:
    """The trained predictor u(W; x) for init ``params0`` and trained ``W`` (one seed or a stacked
    seed axis), on X (n, L, d): returns (n,) or (S, n). ``centred`` follows the parametrization."""
    W, arr = check_trained(params0, W, X)
    if params0.W.ndim == 3:
        return _predict_u_seeds(W, params0.W, params0.A, params0.B, arr, bool(centred))
    return _predict_u_seeds(W[None], params0.W[None], params0.A[None], params0.B[None], arr,
                            bool(centred))[0]


def param_count(cfg: RNNConfig) -> dict[str, int]:
    return {"W (trained)": cfg.m * cfg.m, "A (fixed)": cfg.m * cfg.d, "B (fixed)": cfg.m}


def as_numpy(params: Params) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in params._asdict().items()}
