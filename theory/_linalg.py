"""Kernel solves with diagnostics (docs/theory.md section 4): y^T H^{-1} y is never silently garbage.

``kernel_solve`` tries a float64 Cholesky factorization; if it fails, or the condition number
exceeds ``max_cond``, it falls back to an eigendecomposition and reports that it did. A kernel
whose smallest eigenvalue is not positive relative to its largest (numerically singular) raises
``SingularKernelError`` with the spectrum in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import check_float


class SingularKernelError(ValueError):
    """The Gram matrix is singular to working precision, so y^T H^{-1} y is undefined."""


@dataclass(frozen=True)
class KernelSolve:
    """alpha = H^{-1} y and diagnostics. ``method`` is 'cholesky' or 'eigh' (the reported fallback)."""

    alpha: np.ndarray
    quad: float  # y^T H^{-1} y
    lambda_min: float
    lambda_max: float
    cond: float
    method: str
    note: str = ""


def spectrum(H) -> tuple[float, float, float]:
    """(lambda_min, lambda_max, condition number) of a symmetric matrix."""
    ev = np.linalg.eigvalsh(np.asarray(H, np.float64))
    lo, hi = float(ev[0]), float(ev[-1])
    return lo, hi, (hi / lo if lo > 0 else float("inf"))


def kernel_solve(H, y, *, max_cond: float = 1e12, rtol: float = 1e-13) -> KernelSolve:
    """Solve H alpha = y in float64 with Cholesky, or an eigendecomposition if ill-conditioned.

    Raises SingularKernelError when lambda_min <= rtol * lambda_max (H is singular to float64
    precision: duplicate sequences, L = 1, a zero input).
    """
    H = np.asarray(H, np.float64)
    y = np.asarray(y, np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    if y.shape != (H.shape[0],):
        raise ValueError(f"y must have shape ({H.shape[0]},), got {y.shape}")
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(y))):
        raise ValueError("H and y must be finite")
    check_float("max_cond", max_cond, low=1.0)
    lo, hi, cond = spectrum(H)
    if hi <= 0 or lo <= rtol * hi:
        raise SingularKernelError(
            f"kernel Gram H (n = {H.shape[0]}) is singular: lambda_min = {lo:.3e}, "
            f"lambda_max = {hi:.3e} (need lambda_min > {rtol:g} * lambda_max); "
            "check for duplicate or all-zero sequences, or L = 1 where H = 0"
        )
    if cond <= max_cond:
        try:
            C = np.linalg.cholesky(H)
            z = np.linalg.solve(C, y)
            alpha = np.linalg.solve(C.T, z)
            return KernelSolve(alpha, float(z @ z), lo, hi, cond, "cholesky")
        except np.linalg.LinAlgError:
            pass
    ev, V = np.linalg.eigh(H)
    coef = V.T @ y
    alpha = V @ (coef / ev)
    return KernelSolve(alpha, float(np.sum(coef**2 / ev)), lo, hi, cond, "eigh",
                       note=f"ill-conditioned (cond = {cond:.2e} > {max_cond:.0e}): eigh fallback")
