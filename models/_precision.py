"""The precision policy, in one place (docs/precision.md; docs/theory.md section 2).

What runs in which arithmetic, on every backend:

- float32, every product at ``MATMUL_PRECISION`` (HIGHEST: full float32 products): the network's
  forward pass, GD and SGD training, the centred predictor u, the targets of the data, the
  empirical NTK (both methods), grad_W f and the linearized predictor f_lin;
- float64 (products have no reduced-precision mode there): the infinite-width kernel H
  (``theory/_kernel.py``), its solves (``theory/_linalg.py``) and every bound term (NumPy).

Why explicit: JAX's *default* float32 matmul precision is backend-dependent. On an NVIDIA GPU
from Ampere on it multiplies in TF32 (inputs rounded to a 10-bit mantissa, unit roundoff 2^-11
instead of float32's 2^-24), on a CPU it is full float32. A program that leaves the precision to
the environment therefore computes different numbers on a GPU (issue 24: 8 exact checks failed on
an H100). Every float32 ``dot_general`` of the network's programs is written through ``einsum`` /
``matmul`` below, which pass ``precision=MATMUL_PRECISION``; autodiff (jvp, vjp/transpose) and vmap
carry the operand's precision to the dots they derive, so training's gradients and the NTK's
Jacobians inherit it. ``checks/test_precision.py`` lowers those programs on the CPU and asserts
the precision on every dot, so a GPU regression is caught without a GPU.

With the policy the backends differ only in summation order (blocking, split-K, vectorisation),
which is what the checks' float tolerances are derived from: ``unit_roundoff`` and ``gamma``
below (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 3.1: a sum or
dot of k terms computed in any order has |error| <= gamma_k sum_i |a_i b_i|, gamma_k = k u / (1 - k u)).

The policy costs no measurable time at the sweep's sizes: the GPU runs the sweep's networks at
0.004-0.34 of its matmul throughput (issue 24, benchmarks/README.md), so products are not the
bottleneck; a user who wants TF32 for a large run may set ``MATMUL_PRECISION`` to
``jax.lax.Precision.DEFAULT`` and must then use the TF32 unit roundoff for any comparison.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

NETWORK_DTYPE = "float32"
KERNEL_DTYPE = "float64"
MATMUL_PRECISION = lax.Precision.HIGHEST

# Unit roundoff u of one rounding, per (dtype, precision of the products). float32 products at
# HIGHEST are correctly rounded float32 (u = 2^-24); at DEFAULT a GPU may round the inputs to
# TF32 (10 explicit mantissa bits: u = 2^-11) and a TPU to bfloat16 (u = 2^-8); float64 is 2^-53
# whatever the precision flag.
_UNIT_ROUNDOFF = {
    ("float32", lax.Precision.HIGHEST): 2.0 ** -24,
    ("float32", lax.Precision.DEFAULT): 2.0 ** -8,  # the worst backend's (bfloat16 passes)
    ("float64", lax.Precision.HIGHEST): 2.0 ** -53,
    ("float64", lax.Precision.DEFAULT): 2.0 ** -53,
}


def einsum(spec: str, *operands):
    """``jnp.einsum`` at the policy's precision (read at trace time, so a test may change it)."""
    return jnp.einsum(spec, *operands, precision=MATMUL_PRECISION)


def matmul(a, b):
    """``a @ b`` at the policy's precision."""
    return jnp.matmul(a, b, precision=MATMUL_PRECISION)


def unit_roundoff(dtype="float32", precision=None) -> float:
    """u for arithmetic in ``dtype`` with products at ``precision`` (default: the policy's)."""
    key = (np.dtype(dtype).name, MATMUL_PRECISION if precision is None else precision)
    if key not in _UNIT_ROUNDOFF:
        raise ValueError(f"dtype, precision = {key} is not allowed: choose one of "
                         f"{sorted(_UNIT_ROUNDOFF, key=str)}")
    return _UNIT_ROUNDOFF[key]


def gamma(k: int, dtype="float32", precision=None) -> float:
    """gamma_k = k u / (1 - k u): the relative error bound of a k-term sum or dot, any order, in
    units of sum |terms| (Higham Lemma 3.1 / Theorem 3.1; exact up to the bound's k u < 1)."""
    u = unit_roundoff(dtype, precision)
    if not k * u < 1:
        raise ValueError(f"k = {k} is not allowed: k u must be < 1 (u = {u})")
    return k * u / (1 - k * u)
