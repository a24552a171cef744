"""Kernel predictors f_ker that G1 and G1-net are evaluated for (docs/theory.md section 4).

Each returns the predictor's values on the training sample and on new inputs, and its RKHS norm
B (the radius of the smallest ball of the class {x -> <phi(x), w>} that contains it), so G1's
right-hand side with that B and the predictor's own train loss holds for it
(``rademacher_bound``; the same uniform argument as G1).

- ``kernel_interpolant``: the minimum-norm interpolant f(x) = H(x, S) H^{-1} y, B^2 = y^T H^{-1} y.
- ``kernel_gd_predictor``: kernel GD with the effective step eta' after t steps of the sum loss
  1/2 sum (f(x_i) - y_i)^2 from f = 0:  f_t(S) = (I - (I - eta' H)^t) y,
  f_t(x) = H(x, S) H^{-1} (I - (I - eta' H)^t) y,  B_t = ||H^{-1/2} (I - (I - eta' H)^t) y||.
  This is the function-space trajectory of the centred network's linearization with
  K_m = c(m) H and eta' = eta c(m) (c(m) = m in the lazy parametrization).
- ``kernel_sgd_predictor``: the paper's online SGD in the RKHS: one pass over the stream
  (x_t, y_t), f_t = f_{t-1} - eta' (f_{t-1}(x_t) - y_t) H(., x_t); f = sum_t alpha_t H(., x_t),
  B^2 = alpha^T H alpha.

- ``kernel_gd_path``: kernel GD's predictions on new inputs at many step counts from one
  eigendecomposition (the same closed form as ``kernel_gd_predictor``, for several targets at
  once): what the iteration complexity T_eps(L) is read from (reports/cases/_iteration_complexity.py).

All four are tagged ``exact`` (closed forms of the stated procedures, float64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from models import check_float, check_int

from ._linalg import kernel_solve

PROVENANCE = {"kernel_interpolant": "exact", "kernel_gd_predictor": "exact",
              "kernel_sgd_predictor": "exact", "kernel_gd_path": "exact"}


@dataclass(frozen=True)
class KernelPredictor:
    """A kernel predictor on the training sample and on new inputs, with its RKHS norm B."""

    name: str
    train_pred: np.ndarray  # (n,)
    test_pred: np.ndarray | None  # (n_new,) or None when no cross-kernel was given
    B: float
    steps: int | None = None
    eta_eff: float | None = None


def _cross(H_cross, n):
    if H_cross is None:
        return None
    Hc = np.asarray(H_cross, np.float64)
    if Hc.ndim != 2 or Hc.shape[1] != n:
        raise ValueError(f"H_cross must have shape (n_new, {n}), got {Hc.shape}")
    return Hc


def kernel_interpolant(H, y, H_cross=None, *, max_cond: float = 1e12) -> KernelPredictor:
    """f(x) = H(x, S) H^{-1} y; B = sqrt(y^T H^{-1} y)."""
    H = np.asarray(H, np.float64)
    sol = kernel_solve(H, y, max_cond=max_cond)
    Hc = _cross(H_cross, H.shape[0])
    return KernelPredictor("kernel interpolant", H @ sol.alpha,
                           None if Hc is None else Hc @ sol.alpha, math.sqrt(max(sol.quad, 0.0)))


def kernel_gd_predictor(H, y, eta_eff: float, steps: int, H_cross=None) -> KernelPredictor:
    """Kernel GD after ``steps`` steps of effective step ``eta_eff`` (eta' above), from f = 0.

    In H's eigenbasis (l_i, v_i), with c = V^T y and g_i = 1 - (1 - eta' l_i)^t:
    f_t(S) = V (g c), f_t(x) = H(x, S) V (g c / l), B_t^2 = sum_i g_i^2 c_i^2 / l_i. Directions
    with l_i <= 1e-14 l_max carry no RKHS norm (g_i / l_i -> eta' t there; they are dropped, as
    in ``linearized_gd_trajectory``; at that conditioning they do not move f_t measurably).
    """
    steps = check_int("steps", steps, low=0)
    check_float("eta_eff", eta_eff, low=0.0, low_open=True)
    H = np.asarray(H, np.float64)
    y = np.asarray(y, np.float64)
    ev, V = np.linalg.eigh(H)
    keep = ev > max(ev[-1], 0.0) * 1e-14
    ev, V = ev[keep], V[:, keep]
    c = V.T @ y
    g = 1.0 - (1.0 - eta_eff * ev) ** steps
    coef = V @ (g * c / ev)  # H^{-1} (I - (I - eta' H)^t) y on the kept subspace
    B2 = float(np.sum(g**2 * c**2 / ev))
    Hc = _cross(H_cross, H.shape[0])
    return KernelPredictor("kernel GD", V @ (g * c), None if Hc is None else Hc @ coef,
                           math.sqrt(max(B2, 0.0)), steps, float(eta_eff))


def _gd_gain(x: np.ndarray, t: int) -> np.ndarray:
    """g = 1 - (1 - x)^t for x = eta' l >= 0. For x < 1 as -expm1(t log1p(-x)): relative
    accuracy ~1e-16 also where x << 1 / t (the plain form loses it there, and g / l multiplies
    that loss by 1 / l); x >= 1 (the top direction at eta' = 1 / l_max, or a divergent step) in
    the plain form, which is exact at x = 1."""
    if t == math.inf:  # the limit t -> infinity (0 < x < 2): the minimum-norm interpolant
        return np.ones_like(x)
    if t == 0:
        return np.zeros_like(x)
    small = x < 1.0
    with np.errstate(divide="ignore"):
        return np.where(small, -np.expm1(t * np.log1p(-np.where(small, x, 0.0))),
                        1.0 - (1.0 - x) ** t)


class GDPath(NamedTuple):
    """``kernel_gd_path``'s result: predictions per step count, the step used, and lambda_max(H)."""

    pred: np.ndarray
    eta_eff: float
    lam_max: float


def kernel_gd_path(H, Y, eta_eff: float | None, steps, H_cross) -> GDPath:
    """Kernel GD's predictions on new inputs after each of ``steps`` (non-negative integers, or
    ``math.inf`` for the limit: the minimum-norm interpolant on the kept directions) steps of
    effective step ``eta_eff`` (None: 1 / lambda_max(H), GD's stability rule of docs/theory.md
    section 4 at c = 1), from f = 0, for every column of ``Y`` (n,) or (n, k) at once: ``pred``
    of shape (len(steps), n_new) or (len(steps), n_new, k).

    f_t(x) = H(x, S) V diag(g_t / l) V^T y with g_t = 1 - (1 - eta' l)^t: ``kernel_gd_predictor``'s
    closed form (its docstring; directions with l <= 1e-14 l_max dropped as there), from one
    eigendecomposition for all t and targets (tag: exact)."""
    if eta_eff is not None:
        check_float("eta_eff", eta_eff, low=0.0, low_open=True)
    steps = [t if isinstance(t, float) and t == math.inf else check_int("steps", t, low=0)
             for t in steps]
    H = np.asarray(H, np.float64)
    Y = np.asarray(Y, np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or Y.shape[0] != H.shape[0] or Y.ndim > 2:
        raise ValueError(f"H {H.shape} and Y {Y.shape}: need H (n, n) and Y (n,) or (n, k)")
    Hc = _cross(H_cross, H.shape[0])
    ev, V = np.linalg.eigh(H)
    if not ev[-1] > 0:
        raise ValueError(f"H: lambda_max = {ev[-1]:.3g}, need a kernel matrix with lambda_max > 0")
    eta = 1.0 / ev[-1] if eta_eff is None else float(eta_eff)
    keep = ev > ev[-1] * 1e-14
    ev_k, V = ev[keep], V[:, keep]
    C = (V.T @ Y.reshape(H.shape[0], -1)) / ev_k[:, None]  # V^T y / l
    P = Hc @ V
    out = np.stack([P @ (_gd_gain(eta * ev_k, t)[:, None] * C) for t in steps])
    return GDPath(out[..., 0] if Y.ndim == 1 else out, eta, float(ev[-1]))


def kernel_sgd_predictor(H, y, eta_eff: float, H_cross=None) -> KernelPredictor:
    """One pass of online kernel SGD over the stream (the rows of H in stream order), from f = 0.

    alpha_t = -eta' (f_{t-1}(x_t) - y_t) with f_{t-1}(x_t) = sum_{s<t} alpha_s H(x_s, x_t).
    """
    check_float("eta_eff", eta_eff, low=0.0, low_open=True)
    H = np.asarray(H, np.float64)
    y = np.asarray(y, np.float64)
    n = H.shape[0]
    alpha = np.zeros(n)
    for t in range(n):
        alpha[t] = -eta_eff * (H[t, :t] @ alpha[:t] - y[t])
    B2 = float(alpha @ H @ alpha)
    Hc = _cross(H_cross, n)
    return KernelPredictor("kernel SGD", H @ alpha, None if Hc is None else Hc @ alpha,
                           math.sqrt(max(B2, 0.0)), n, float(eta_eff))
