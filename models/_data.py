"""Inputs and target concept classes (docs/theory.md section 5). Everything is seeded.

Tokens: X_l in R^d with ||X_l|| about r (``scale``), r from 0.1 to 10 and beyond: the
paper's claim C1 is precisely that r need not be small.

Targets (positions are 1-based, as in the paper: l = 1..L):
- ``AdditiveTarget``:  y = sum_{l in P} a_l f(beta_l^T X_l / s)          (claims C1, C2)
- ``NVariableTarget``: y = f(sum_{i<=N} beta_i^T X_{l_i} / s)             (claims C3, C4)
- ``ParityTarget``:    y = prod_i sign(beta_i^T X_{l_i})                 (negative control)
- ``RandomLabelTarget``: y = +-1 from a hash of x, independent of any structure (negative control)

``s`` (``input_scale``) is 1 by default: the target sees the raw tokens, whatever their
norm. The coefficients default to a_l = 1/sqrt(|P|) so that Var(y) stays O(1) as L grows,
which keeps bounds at different L on the same [0, 1] loss scale.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _precision as prec
from ._validation import check_choice, check_float, check_int, check_positions, check_tokens

TOKEN_KINDS = ("gaussian", "sphere")


@dataclass(frozen=True)
class TokenDistribution:
    """i.i.d. tokens X_l in R^d for l = 1..L with E||X_l||^2 = r^2.

    kind='gaussian': X_l ~ N(0, r^2/d I).  kind='sphere': X_l uniform on the sphere of radius r.
    """

    L: int
    d: int
    scale: float = 1.0
    kind: str = "gaussian"

    def __post_init__(self):
        check_int("L", self.L, low=1)
        check_int("d", self.d, low=1)
        check_float("scale", self.scale, low=0.0, low_open=True)
        check_choice("kind", self.kind, TOKEN_KINDS)

    def sample(self, key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        """n sequences, shape (n, L, d): the numbers of ``_draw(key, n)``, at one compiled
        program per ``sample_bucket`` of n L d (see there)."""
        if isinstance(key, jax.core.Tracer):  # inside a trace: shapes are the caller's business
            return self._draw(key, n, dtype)
        n = check_int("n", n, low=1)
        return jax.device_put(self._host_draw(key, n, jnp.dtype(dtype)))  # (no per-shape program)

    def _draw(self, key, n: int, dtype):
        """The definition: X = Z r / sqrt(d) (gaussian) or r Z / ||Z|| per token (sphere),
        Z ~ N(0, I) of shape (n, L, d)."""
        return self._shape(jax.random.normal(key, (n, self.L, self.d), dtype), jnp)

    def _shape(self, Z, xp):
        if self.kind == "sphere":
            return Z / xp.linalg.norm(Z, axis=-1, keepdims=True) * xp.asarray(self.scale, Z.dtype)
        return Z * xp.asarray(self.scale / math.sqrt(self.d), Z.dtype)

    def _host_draw(self, key, n: int, dtype) -> np.ndarray:
        k = n * self.L * self.d
        Z = np.asarray(_normal_flat(key, sample_bucket(k), dtype))[:k].reshape(n, self.L, self.d)
        # gaussian: one multiply, which NumPy rounds exactly as XLA does; sphere: the norm's
        # float32 sum may round differently (XLA's own reductions differ by shape, too)
        return self._shape(Z, np)


def sample_bucket(k: int) -> int:
    """The number of normals a draw of k is made at: the next power of four, at least 2^14.

    Exact, not approximate: with JAX's partitionable threefry (the default) random bits are a
    function of the element's flat index, so the first k numbers of a draw of N >= k are the draw
    of k, whatever shape they are then given, and tokens, targets and label noise are row-wise.
    One compiled sampler then serves every sample of k in (N/4, N] numbers, for every (n, L, d),
    and every init whose W, A or B has that many entries, instead of one program per shape. Powers
    of four, not two: a draw is O(k), milliseconds even at 4x, next to the 0.1-0.5 s compilation of
    one more bucket (the tiny profile's samples and inits fall in 3 buckets instead of 4).
    ``checks/test_buckets.py`` holds this to equality."""
    e = max(14, (int(k) - 1).bit_length())
    return 1 << (e + (e & 1))


def row_bucket(n: int) -> int:
    """The number of rows a row-wise function of a sample (its target) runs on: the next power of
    two, at least 1024 (a target costs O(rows N d): padding small samples is free, and then one
    program per target serves every sample of up to 1024 rows)."""
    return max(1024, 1 << (int(n) - 1).bit_length())


@partial(jax.jit, static_argnums=(1, 2))
def _normal_flat(key, size: int, dtype):
    return jax.random.normal(key, (size,), dtype)


@partial(jax.jit, static_argnums=1)
def _split_tuple(key, num: int):
    return tuple(jax.random.split(key, num))


def split_keys(key: jax.Array, num: int = 2) -> tuple:
    """``tuple(jax.random.split(key, num))`` as one compiled program per ``num`` (eagerly, the
    split and the unpacking of its result are two, each compiled on first use)."""
    return _split_tuple(key, num)


def _target_view(target, X: np.ndarray):
    """(target', X') with target'(X') = target(X) for a target that reads only its positions
    l_1 < ... < l_P: X' = X[:, l - 1] (gathered on the host) and target' the same target at
    positions 1..P of a length-P sequence. The target's program then depends on its family, f,
    P and d, not on L or where the positions are (the lengths of a sweep, the position effect's
    first and last token, C4's anchors share programs), and it computes the same einsum on the
    same gathered tokens (``checks/test_buckets.py``). Targets without positions (random labels)
    read every token and are returned as they are."""
    pos = getattr(target, "positions", None)
    if pos is None:
        return target, X
    P = len(pos)
    return (dataclasses.replace(target, L=P, positions=tuple(range(1, P + 1))),
            X[:, np.asarray(pos) - 1, :])


@jax.jit
def _eval_target(target, X):
    return target(X)


FUNCTIONS = ("sin", "cos", "exp", "tanh", "poly", "linear")


def _apply_f(f: str, t: jax.Array, degree: int) -> jax.Array:
    if f == "sin":
        return jnp.sin(t)
    if f == "cos":
        return jnp.cos(t)
    if f == "exp":
        return jnp.exp(t)
    if f == "tanh":
        return jnp.tanh(t)
    if f == "poly":
        # t^k / k!: the degree-k term of an analytic function's Taylor series.
        return t**degree / math.factorial(degree)
    return t  # linear


def _unit_vectors(seed: int, k: int, d: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((k, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _register(cls, data_fields):
    meta = [f for f in cls.__dataclass_fields__ if f not in data_fields]
    return jax.tree_util.register_dataclass(cls, data_fields=list(data_fields), meta_fields=meta)


@dataclass(frozen=True)
class AdditiveTarget:
    """y = sum_{l in positions} a_l f(beta_l^T X_l / input_scale)   (docs/theory.md section 5).

    Paper symbols: beta_l = ``betas[i]`` (unit vectors drawn from ``seed``), a_l = ``coeffs[i]``,
    f = ``f`` (with ``degree`` k when f = 'poly'). ``positions`` defaults to all of 1..L.
    Build with ``AdditiveTarget.make``; the dataclass is a JAX pytree.
    """

    L: int
    d: int
    f: str
    positions: tuple[int, ...]
    degree: int
    input_scale: float
    seed: int
    betas: np.ndarray = field(repr=False)
    coeffs: np.ndarray = field(repr=False)
    family: str = "additive"

    @classmethod
    def make(cls, L, d, f="sin", *, positions=None, degree=2, input_scale=1.0, seed=0,
             coeffs=None):
        L = check_int("L", L, low=1)
        d = check_int("d", d, low=1)
        check_choice("f", f, FUNCTIONS)
        degree = check_int("degree", degree, low=0, high=12)
        check_float("input_scale", input_scale, low=0.0, low_open=True)
        pos = tuple(range(1, L + 1)) if positions is None else check_positions(positions, L)
        if coeffs is None:
            coeffs = np.full(len(pos), 1.0 / math.sqrt(len(pos)))
        coeffs = np.asarray(coeffs, dtype=np.float64)
        if coeffs.shape != (len(pos),) or not np.all(np.isfinite(coeffs)):
            raise ValueError(f"coeffs must be {len(pos)} finite numbers (one per position)")
        return cls(L, d, f, pos, degree, float(input_scale), int(seed),
                   _unit_vectors(seed, len(pos), d), coeffs)

    def __call__(self, X: jax.Array) -> jax.Array:
        idx = np.asarray(self.positions) - 1
        t = prec.einsum("nkd,kd->nk", X[:, idx, :], jnp.asarray(self.betas, X.dtype))
        return prec.matmul(_apply_f(self.f, t / self.input_scale, self.degree),
                           jnp.asarray(self.coeffs, X.dtype))

    def describe(self) -> dict:
        return {"family": self.family, "f": self.f, "positions": list(self.positions),
                "degree": self.degree, "input_scale": self.input_scale, "seed": self.seed}


@dataclass(frozen=True)
class NVariableTarget:
    """y = f(sum_{i<=N} beta_i^T X_{l_i} / input_scale) with l_1 < ... < l_N, l_0 = l_N - l_1.

    The N-variable class of claims C3/C4. ``betas`` are unit vectors / sqrt(N) drawn from
    ``seed``, so the argument of f has the scale of one token projection whatever N is.
    """

    L: int
    d: int
    f: str
    positions: tuple[int, ...]
    degree: int
    input_scale: float
    seed: int
    betas: np.ndarray = field(repr=False)
    family: str = "n-variable"

    @classmethod
    def make(cls, L, d, positions, f="sin", *, degree=2, input_scale=1.0, seed=0):
        L = check_int("L", L, low=1)
        d = check_int("d", d, low=1)
        pos = check_positions(positions, L)
        check_choice("f", f, FUNCTIONS)
        degree = check_int("degree", degree, low=0, high=12)
        check_float("input_scale", input_scale, low=0.0, low_open=True)
        betas = _unit_vectors(seed, len(pos), d) / math.sqrt(len(pos))
        return cls(L, d, f, pos, degree, float(input_scale), int(seed), betas)

    @property
    def N(self) -> int:
        return len(self.positions)

    @property
    def spread(self) -> int:
        """l_0 = max_i l_i - min_i l_i."""
        return self.positions[-1] - self.positions[0]

    def __call__(self, X: jax.Array) -> jax.Array:
        idx = np.asarray(self.positions) - 1
        t = prec.einsum("nkd,kd->n", X[:, idx, :], jnp.asarray(self.betas, X.dtype))
        return _apply_f(self.f, t / self.input_scale, self.degree)

    def describe(self) -> dict:
        return {"family": self.family, "f": self.f, "positions": list(self.positions),
                "N": self.N, "l0": self.spread, "degree": self.degree,
                "input_scale": self.input_scale, "seed": self.seed}


@dataclass(frozen=True)
class ParityTarget:
    """Negative control: y = prod_i sign(beta_i^T X_{l_i}) over the given positions.

    A product of N sign bits is not a smooth function of one projection per token (C1/C2)
    nor of one projection of the concatenation (C3); its kernel complexity grows
    exponentially with N, which is what a scaling check must be able to tell apart.
    """

    L: int
    d: int
    positions: tuple[int, ...]
    seed: int
    betas: np.ndarray = field(repr=False)
    family: str = "parity"

    @classmethod
    def make(cls, L, d, positions=None, *, seed=0):
        L = check_int("L", L, low=1)
        d = check_int("d", d, low=1)
        pos = tuple(range(1, L + 1)) if positions is None else check_positions(positions, L)
        return cls(L, d, pos, int(seed), _unit_vectors(seed, len(pos), d))

    def __call__(self, X: jax.Array) -> jax.Array:
        idx = np.asarray(self.positions) - 1
        t = prec.einsum("nkd,kd->nk", X[:, idx, :], jnp.asarray(self.betas, X.dtype))
        return jnp.prod(jnp.where(t >= 0, 1.0, -1.0).astype(X.dtype), axis=1)

    def describe(self) -> dict:
        return {"family": self.family, "positions": list(self.positions), "N": len(self.positions),
                "seed": self.seed}


@dataclass(frozen=True)
class RandomLabelTarget:
    """Negative control: labels +-1 that are a pseudo-random function of x (no structure).

    The label is the sign of sin(1e4 * <x, u>) for a fixed random u: deterministic (so test and
    train sets agree on the "function"), but with no smooth structure at any scale.
    """

    L: int
    d: int
    seed: int
    u: np.ndarray = field(repr=False)
    family: str = "random-labels"

    @classmethod
    def make(cls, L, d, *, seed=0):
        L = check_int("L", L, low=1)
        d = check_int("d", d, low=1)
        u = np.random.default_rng(seed).standard_normal((L, d))
        return cls(L, d, int(seed), u)

    def __call__(self, X: jax.Array) -> jax.Array:
        t = prec.einsum("nld,ld->n", X, jnp.asarray(self.u, X.dtype))
        return jnp.where(jnp.sin(1e4 * t) >= 0, 1.0, -1.0).astype(X.dtype)

    def describe(self) -> dict:
        return {"family": self.family, "seed": self.seed}


# Arrays and the numbers that only feed arithmetic are pytree data, so a new target seed or
# input scale reuses the compiled SGD loop; what fixes shapes or code paths (L, d, f,
# positions, degree) is static.
for _cls, _data in ((AdditiveTarget, ("betas", "coeffs", "seed", "input_scale")),
                    (NVariableTarget, ("betas", "seed", "input_scale")),
                    (ParityTarget, ("betas", "seed")), (RandomLabelTarget, ("u", "seed"))):
    _register(_cls, _data)


@dataclass(frozen=True)
class Task:
    """A data distribution: tokens and a target, plus optional label noise (std ``noise``)."""

    tokens: TokenDistribution
    target: object
    noise: float = 0.0

    def __post_init__(self):
        check_float("noise", self.noise, low=0.0)
        t = self.target
        if (t.L, t.d) != (self.tokens.L, self.tokens.d):
            raise ValueError(
                f"target expects (L, d) = ({t.L}, {t.d}) but tokens have "
                f"(L, d) = ({self.tokens.L}, {self.tokens.d})"
            )

    def sample(self, key: jax.Array, n: int, dtype=jnp.float32):
        """n i.i.d. pairs (X, y): X of shape (n, L, d), y of shape (n,)."""
        n = check_int("n", n, low=1)
        if isinstance(key, jax.core.Tracer):
            return self._draw(key, n, dtype)
        dtype = jnp.dtype(dtype)
        kx, kn = split_keys(key)
        # the target runs on a bucket of rows (one compiled program per bucket), then is cut
        nb = row_bucket(n)
        Xb = self.tokens._host_draw(kx, nb, dtype)
        target, Xt = _target_view(self.target, Xb)
        y = np.asarray(_eval_target(target, jax.device_put(Xt)))[:n]
        if self.noise > 0:
            y = y + np.asarray(self.noise, dtype) * np.asarray(_normal_flat(kn, sample_bucket(n), dtype))[:n]
        return jax.device_put(Xb[:n]), jax.device_put(y)

    def _draw(self, key, n: int, dtype):
        kx, kn = jax.random.split(key)
        X = self.tokens._draw(kx, n, dtype)
        y = self.target(X)
        if self.noise > 0:
            y = y + self.noise * jax.random.normal(kn, y.shape, dtype)
        return X, y

    def describe(self) -> dict:
        return {"L": self.tokens.L, "d": self.tokens.d, "scale": self.tokens.scale,
                "token_kind": self.tokens.kind, "noise": self.noise, **self.target.describe()}


_register(Task, ("target",))



def pad_front(X, L: int):
    """X (n, L0, d) with L - L0 zero tokens put in front: (n, L, d).

    Exact for the W-only RNN (THEORY.md section 2): h_0 = 0 and relu(W 0 + A 0) = 0, so the hidden
    state is still 0 when the real tokens start, and f, grad_W f, the empirical NTK and the
    analytic kernel H are those of X (``checks/test_buckets.py``). One compiled program per
    bucket of lengths then serves several L. Targets are computed on X, never on the padding."""
    X = check_tokens("X", X)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n, L, d), got {X.shape}")
    L = check_int("L", L, low=X.shape[1])
    zeros = np.zeros((X.shape[0], L - X.shape[1], X.shape[2]), X.dtype)
    return jax.device_put(np.concatenate([zeros, np.asarray(X)], axis=1))


def length_bucket(L: int) -> int:
    """The length the network programs of a sweep run at: the next power of two (>= L).

    Chosen from measurements (benchmarks/README.md, "Shape buckets"): one GD + NTK +
    linearization program set costs seconds to compile on a 2-core CPU, while padding L to the
    next power of two costs at most 2x (at most +33% for the profiles' lengths 3 and 6) of a
    training run that takes about as long; the profiles' other lengths are powers of two already."""
    L = check_int("L", L, low=1)
    return 1 << (L - 1).bit_length()
