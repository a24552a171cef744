"""Float tolerances derived from the computation (docs/precision.md; models/_precision.py).

Two float32 evaluations of the same quantity by programs that differ only in summation order
(another backend, vmapped seeds vs one seed, a padded length or width, 'factored' vs 'jacobian')
differ by at most the sum of their forward errors, so each tolerance below is
``2 * (one evaluation's error bound)``. The bounds, with u the unit roundoff of the policy's
arithmetic (``models._precision.unit_roundoff``: 2^-24 for float32 products at HIGHEST; a
DEFAULT-precision product on a GPU would be TF32, 2^-11, and every tolerance here would be
8192 times larger, which is why the policy fixes HIGHEST):

1. A k-term dot, any order: |error| <= gamma_k sum_i |a_i b_i| (Higham, Accuracy and Stability of
   Numerical Algorithms, Thm 3.1), gamma_k = k u / (1 - k u).
2. One layer g = W h + A x of the network, h = relu(.) >= 0, W ~ N(0, 2/m): (|W| h)_i ~ m E|w| mean(h)
   and |(W h)_i| ~ sqrt(2/m) ||h||, so the layer's condition ||(|W| h)|| / ||W h|| ~ sqrt(2/pi) sqrt(m)
   mean(h)/rms(h) <= sqrt(m); relative error per layer <= gamma_{m+d} sqrt(m). The init preserves
   ||h_l|| in expectation (He scaling; docs/theory.md section 2), so a layer carries the earlier
   layers' relative error without amplifying it: L layers add up to L gamma_{m+d} sqrt(m), a
   backward pass as many again (``network_rtol``'s ``passes``).
3. Training: storing W_t = W_{t-1} - eta g_t in float32 rounds by <= u ||W_t|| per step, so after T
   steps the movement W_T - W_0 carries T u (||W_0|| + ||W_T - W_0||) absolutely: relative to the
   movement, T u kappa with kappa = (||W_0|| + ||dW||) / ||dW|| (a property of the run, read from it:
   ``training_rtol``). The gradients' own relative error (item 2, two passes) adds once: in the
   kernel regime with eta <= 1/lambda_max the GD map is non-expansive, so an error made at step t
   is not amplified by the later steps. Every number of a run (W, losses, movement, risks, f_lin)
   is a function of the movement, so this one tolerance covers them.
The bounds are worst-case in the rounding (every error aligned) and use the init's typical norms
(the condition sqrt(m) and the norm preservation of item 2 are expectations, not bounds); the
measured float32-vs-float64 errors on the CPU are 10^3-10^4 times smaller (docs/precision.md).
"""

from __future__ import annotations

import math

import numpy as np

from models._precision import gamma, unit_roundoff


def network_rtol(m: int, d: int, L: int, *, passes: int = 1, dtype="float32") -> float:
    """One evaluation's relative error bound of a quantity computed by ``passes`` sweeps (forward
    1; a gradient or the NTK's factors 2) through L layers of (m + d)-term products (item 2)."""
    return passes * L * gamma(m + d, dtype) * math.sqrt(m)


def between(one: float) -> float:
    """Two evaluations, each within ``one`` of the exact value, are within 2 * one of each other."""
    return 2.0 * one


def ntk_contraction(m: int, L: int, method: str, dtype="float32") -> float:
    """The relative error (in units of sqrt(K(x,x) K(x',x')), Cauchy-Schwarz) of the NTK's final
    contraction (item 1): 'jacobian' sums the m^2 products of J's entries (gamma_{m^2}); 'factored'
    sums L^2 products of two m-term dots (gamma_{2m + L^2}), whose absolute terms exceed the
    norms' product by at most L (sum_l |delta_l h_l| <= L max_l, against |sum_l delta_l h_l|);
    "either" is the larger (``method='auto'`` picks per backend and size)."""
    if method == "either":
        return max(ntk_contraction(m, L, k, dtype) for k in ("factored", "jacobian"))
    if method == "jacobian":
        return gamma(m * m, dtype)
    return L * gamma(2 * m + L * L, dtype)


def ntk_rtol(m: int, d: int, L: int, a: str = "either", b: str = "either", dtype="float32") -> float:
    """Two evaluations of the empirical NTK by methods ``a`` and ``b``, normalised by
    sqrt(K(x,x) K(x',x')): each carries the factors' (gradients') two passes (item 2; K is
    bilinear in them: twice their relative error) and its contraction."""
    return sum(2 * network_rtol(m, d, L, passes=2, dtype=dtype) + ntk_contraction(m, L, k, dtype)
               for k in (a, b))


def training_rtol(m: int, d: int, L: int, steps: int, W0, W_T, dtype="float32") -> float:
    """Two evaluations of a training run of ``steps`` steps from W_0 to W_T (item 3)."""
    W0 = np.asarray(W0, np.float64)
    dW = float(np.linalg.norm(np.asarray(W_T, np.float64) - W0))
    return run_rtol(m, d, L, steps, float(np.linalg.norm(W0)), dW, dtype)


def run_rtol(m: int, d: int, L: int, steps: int, w0_norm: float, movement: float,
             dtype="float32") -> float:
    """``training_rtol`` from the norms ||W_0|| and ||W_T - W_0|| (item 3)."""
    if not movement > 0.0:
        raise ValueError(f"movement = {movement} is not allowed: the run must move (> 0)")
    kappa = (w0_norm + movement) / movement
    return between(steps * unit_roundoff(dtype) * kappa + network_rtol(m, d, L, passes=2, dtype=dtype))


def init_w_norm(m: int) -> float:
    """An upper bound of ||W_0||_F for W_0 ~ N(0, 2/m) (m x m) used where a check has the movement
    but not W_0: ||W_0||^2 m / 2 is chi-square with k = m^2 degrees, and P(chi2_k > 4k) <=
    exp(-k (4 - 1 - ln 4) / 2) (Chernoff) < 3e-6 for m >= 4, so 2 sqrt(2m) holds there."""
    if m < 4:
        raise ValueError(f"m = {m} is not allowed: the bound needs m >= 4")
    return 2.0 * math.sqrt(2 * m)
