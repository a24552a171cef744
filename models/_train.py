"""Training of W only: the paper's online SGD and full-batch GD (docs/theory.md sections 2 and 4).

Objectives (sum, not mean, so that docs/theory.md section 4's GD facts hold verbatim:
with eta <= 1/lambda_max(K_m) the linearized residual contracts by (1 - eta lambda_min)):
- squared:  Phi(W) = 1/2 sum_i (u(W; x_i) - y_i)^2
- logistic: Phi(W) = sum_i log(1 + exp(-y_i u(W; x_i)))   (labels +-1)
with the predictor u(W; x) = f(W; x) - f(W0; x) when ``TrainConfig.centred`` (the lazy
parametrization's default, docs/theory.md section 2) and u = f otherwise (the contrast one).
SGD draws one fresh sample (x_t, y_t) from the task at every step and applies
W_t = W_{t-1} - eta grad_W loss(u(W_{t-1}; x_t), y_t) (the paper's Algorithm 1).

Evaluation loss (for bounds): l(u, y) = min(1, |u - y|), in [0, 1] and 1-Lipschitz.

Divergence: a step whose loss is NaN/inf or exceeds ``blowup`` times the initial loss marks the
run diverged; W is frozen at its last finite value, later losses are recorded as NaN, and the
risks of a diverged run are NaN. Divergence is an outcome in the record, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._rnn import Params, apply_w, centred_apply
from ._validation import check_choice, check_float, check_int, check_targets, check_tokens

LOSSES = ("squared", "logistic")
METHODS = ("gd", "sgd")


def eval_loss(u: jax.Array, y: jax.Array) -> jax.Array:
    """l(u, y) = min(1, |u - y|): the [0, 1]-valued, 1-Lipschitz loss the bounds are stated for."""
    return jnp.minimum(1.0, jnp.abs(u - y))


def _train_loss(kind: str, u, y):
    if kind == "squared":
        return 0.5 * jnp.sum((u - y) ** 2)
    return jnp.sum(jax.nn.softplus(-y * u))


@dataclass(frozen=True)
class TrainConfig:
    """``method`` 'gd' (full batch) or 'sgd' (one fresh sample per step), step size ``lr`` (eta),
    ``steps`` iterations, training ``loss`` 'squared' or 'logistic', divergence factor ``blowup``,
    ``centred``: train the centred predictor u = f(W) - f(W0) (the lazy parametrization; set it
    from ``RNNConfig.param.centred``)."""

    method: str = "gd"
    lr: float = 0.1
    steps: int = 200
    loss: str = "squared"
    blowup: float = 1e6
    centred: bool = True

    def __post_init__(self):
        check_choice("method", self.method, METHODS)
        check_float("lr", self.lr, low=0.0, low_open=True)
        check_int("steps", self.steps, low=1, high=10_000_000)
        check_choice("loss", self.loss, LOSSES)
        check_float("blowup", self.blowup, low=1.0, low_open=True)
        if not isinstance(self.centred, bool):
            raise ValueError(f"centred = {self.centred!r} is not allowed: choose True or False")


class TrainRecord(NamedTuple):
    """What one training run returns (leading seed axis when trained with ``train_seeds``).

    loss:      (steps + 1,) training objective before each step and after the last
               (GD: full-batch Phi; SGD: loss on the fresh sample of that step, last entry NaN)
    movement:  (steps + 1,) ||W_t - W_0||_F
    W:         final W (the last finite iterate if the run diverged)
    diverged:  bool;  diverged_step: first step flagged, -1 if none
    train_risk / test_risk: mean evaluation loss min(1, |u - y|) of the predictor u on the train /
               test set (NaN if diverged)
    """

    loss: jax.Array
    movement: jax.Array
    W: jax.Array
    diverged: jax.Array
    diverged_step: jax.Array
    train_risk: jax.Array
    test_risk: jax.Array


def _risk(W, W0, A, B, X, y, diverged, centred):
    r = jnp.mean(eval_loss(centred_apply(W, W0, A, B, X, centred), y))
    return jnp.where(diverged, jnp.nan, r)


def _guarded_descent(W0, value_and_grad, lr, steps: int, limit):
    """``steps`` plain descent steps W <- W - lr g (optax.sgd) in a ``lax.scan``, with the
    divergence guard of the module docstring, shared by GD and SGD.

    ``value_and_grad(W, t)`` returns (loss, grad) of step t. A step is flagged when its loss is
    NaN/inf or above ``limit``, its gradient is not finite, or the update makes W non-finite; W is
    then frozen at its last finite value and later losses are NaN.
    Returns (W_T, diverged, diverged_step, losses (steps,), movements (steps,)).
    """
    opt = optax.sgd(lr)

    def step(carry, t):
        W, state, dead, dead_at = carry
        phi, g = value_and_grad(W, t)
        upd, state2 = opt.update(g, state)
        W2 = optax.apply_updates(W, upd)
        bad = (~jnp.isfinite(phi) | (phi > limit) | ~jnp.all(jnp.isfinite(g))
               | ~jnp.all(jnp.isfinite(W2)))
        newly = bad & ~dead
        dead = dead | bad
        dead_at = jnp.where(newly, t, dead_at)
        W2 = jnp.where(dead, W, W2)
        return (W2, state2, dead, dead_at), (jnp.where(dead & ~newly, jnp.nan, phi),
                                             jnp.linalg.norm(W - W0))

    init = (W0, opt.init(W0), jnp.array(False), jnp.array(-1))
    (W, _, dead, dead_at), (phis, moves) = jax.lax.scan(step, init, jnp.arange(steps))
    return W, dead, dead_at, phis, moves


def _gd(W0, A, B, X, y, Xte, yte, lr, steps: int, loss: str, blowup, centred: bool):
    # u = f(W) - f(W0): f(W0; X) is a constant of the objective, computed once.
    f0 = apply_w(W0, A, B, X) if centred else jnp.zeros((), W0.dtype)

    def objective(W):
        return _train_loss(loss, apply_w(W, A, B, X) - f0, y)

    vg = jax.value_and_grad(objective)
    limit = blowup * jnp.maximum(objective(W0), jnp.finfo(W0.dtype).tiny)
    W, dead, dead_at, phis, moves = _guarded_descent(W0, lambda W, t: vg(W), lr, steps, limit)
    phi_T = objective(W)
    bad_T = ~jnp.isfinite(phi_T) | (phi_T > limit)
    dead_at = jnp.where(bad_T & ~dead, steps, dead_at)
    dead = dead | bad_T
    phis = jnp.append(phis, jnp.where(dead, jnp.nan, phi_T))
    moves = jnp.append(moves, jnp.linalg.norm(W - W0))
    return TrainRecord(phis, moves, W, dead, dead_at, _risk(W, W0, A, B, X, y, dead, centred),
                       _risk(W, W0, A, B, Xte, yte, dead, centred))


def _sgd(W0, A, B, task, key, Xte, yte, lr, steps: int, loss: str, blowup, centred: bool):
    """One fresh sample per step, drawn inside the scan from ``task`` (a pytree)."""

    def sample_loss(W, x, yy):
        return _train_loss(loss, centred_apply(W, W0, A, B, x, centred), yy)

    vg = jax.value_and_grad(sample_loss)
    k0, key = jax.random.split(key)
    x0, y0 = task.sample(k0, 1, W0.dtype)
    limit = blowup * jnp.maximum(sample_loss(W0, x0, y0), 1.0)

    def vg_t(W, t):
        return vg(W, *task.sample(jax.random.fold_in(key, t), 1, W0.dtype))

    W, dead, dead_at, phis, moves = _guarded_descent(W0, vg_t, lr, steps, limit)
    phis = jnp.append(phis, jnp.nan)
    moves = jnp.append(moves, jnp.linalg.norm(W - W0))
    # SGD has no fixed training set: its "train risk" is measured on the test set's twin,
    # which the caller passes as (Xte, yte); report the same number for both.
    r = _risk(W, W0, A, B, Xte, yte, dead, centred)
    return TrainRecord(phis, moves, W, dead, dead_at, r, r)


_STATIC = ("steps", "loss", "centred")
_gd_jit = jax.jit(_gd, static_argnames=_STATIC)
_sgd_jit = jax.jit(_sgd, static_argnames=_STATIC)


@partial(jax.jit, static_argnames=_STATIC)
def _gd_seeds(W0, A, B, X, y, Xte, yte, lr, blowup, *, steps, loss, centred):
    def one(W0, A, B):
        return _gd(W0, A, B, X, y, Xte, yte, lr, steps, loss, blowup, centred)

    return jax.vmap(one)(W0, A, B)


@partial(jax.jit, static_argnames=_STATIC)
def _sgd_seeds(W0, A, B, task, keys, Xte, yte, lr, blowup, *, steps, loss, centred):
    def one(W0, A, B, key):
        return _sgd(W0, A, B, task, key, Xte, yte, lr, steps, loss, blowup, centred)

    return jax.vmap(one)(W0, A, B, keys)


def _check_data(params: Params, X, y, Xte, yte):
    d = params.A.shape[-1]
    X = check_tokens("X", X, d=d)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n, L, d), got {X.shape}")
    y = check_targets("y", y, X.shape[0])
    Xte = check_tokens("X_test", Xte, d=d, L=X.shape[1])
    if Xte.ndim != 3:
        raise ValueError(f"X_test must have shape (n_test, L, d), got {Xte.shape}")
    yte = check_targets("y_test", yte, Xte.shape[0])
    dt = params.W.dtype
    return tuple(jnp.asarray(a, dt) for a in (X, y, Xte, yte))


def train(params: Params, cfg: TrainConfig, X=None, y=None, *, X_test, y_test, task=None,
          key=None) -> TrainRecord:
    """Train W from ``params`` (one seed).

    GD: full batch on (X, y). SGD: ``task`` and ``key`` supply one fresh sample per step
    (X, y are ignored). The test set (X_test, y_test) gives ``test_risk``.
    """
    if params.W.ndim != 2:
        raise ValueError("params carry a seed axis: use train_seeds for stacked seeds")
    if cfg.method == "gd":
        if X is None or y is None:
            raise ValueError("method='gd' needs the training set X, y")
        X, y, Xte, yte = _check_data(params, X, y, X_test, y_test)
        return _gd_jit(params.W, params.A, params.B, X, y, Xte, yte, cfg.lr,
                       steps=cfg.steps, loss=cfg.loss, blowup=cfg.blowup, centred=cfg.centred)
    if task is None or key is None:
        raise ValueError("method='sgd' draws a fresh sample per step: pass task= and key=")
    Xte = jnp.asarray(check_tokens("X_test", X_test, d=params.A.shape[-1]), params.W.dtype)
    yte = jnp.asarray(check_targets("y_test", y_test, Xte.shape[0]), params.W.dtype)
    return _sgd_jit(params.W, params.A, params.B, task, key, Xte, yte, cfg.lr,
                    steps=cfg.steps, loss=cfg.loss, blowup=cfg.blowup, centred=cfg.centred)


def train_seeds(params: Params, cfg: TrainConfig, X=None, y=None, *, X_test, y_test,
                task=None, keys=None) -> TrainRecord:
    """Train S stacked seeds (leading axis of ``params``) in one compiled, vmapped call.

    GD: all seeds share (X, y). SGD: each seed draws its own sample stream from ``keys`` (S,).
    """
    if params.W.ndim != 3:
        raise ValueError("train_seeds expects params with a leading seed axis (use init_seeds)")
    if cfg.method == "gd":
        if X is None or y is None:
            raise ValueError("method='gd' needs the training set X, y")
        # _check_data reads only A's last axis and W's dtype: the stacked params serve (indexing
        # seed 0 out of them would compile two eager programs per shape)
        X, y, Xte, yte = _check_data(params, X, y, X_test, y_test)
        return _gd_seeds(params.W, params.A, params.B, X, y, Xte, yte, cfg.lr, cfg.blowup,
                         steps=cfg.steps, loss=cfg.loss, centred=cfg.centred)
    if task is None or keys is None:
        raise ValueError("method='sgd' draws fresh samples per step: pass task= and keys=")
    if keys.shape[0] != params.W.shape[0]:
        raise ValueError(f"keys has {keys.shape[0]} entries, expected one per seed ({params.W.shape[0]})")
    Xte = jnp.asarray(check_tokens("X_test", X_test, d=params.A.shape[-1]), params.W.dtype)
    yte = jnp.asarray(check_targets("y_test", y_test, Xte.shape[0]), params.W.dtype)
    return _sgd_seeds(params.W, params.A, params.B, task, keys, Xte, yte, cfg.lr, cfg.blowup,
                      steps=cfg.steps, loss=cfg.loss, centred=cfg.centred)


def sgd_samples(task, key: jax.Array, steps: int, dtype=jnp.float32):
    """The exact (X, y) stream that ``train(..., method='sgd', key=key)`` consumed, (steps, L, d).

    SGD's sample is the set of examples it saw; G2 is evaluated on it (docs/theory.md section 4).
    """
    steps = check_int("steps", steps, low=1)
    _, key = jax.random.split(key)
    xs, ys = jax.vmap(lambda t: task.sample(jax.random.fold_in(key, t), 1, dtype))(
        jnp.arange(steps))
    return xs[:, 0], ys[:, 0]


def record_to_numpy(rec: TrainRecord) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in rec._asdict().items()}
