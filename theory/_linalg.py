"""Kernel solves with diagnostics (docs/theory.md section 4): y^T H^{-1} y is never silently garbage.

``kernel_solve`` tries a float64 Cholesky factorization; if it fails, or the condition number
exceeds ``max_cond``, it falls back to an eigendecomposition and reports that it did. A kernel
whose smallest eigenvalue is not positive relative to its largest (numerically singular) raises
``SingularKernelError`` with the spectrum in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import check_float, check_int


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


@dataclass(frozen=True)
class NestedCholesky:
    """One float64 Cholesky factor H = C C^T serving every leading block H[:k, :k].

    The leading k x k block of a lower Cholesky factor is the Cholesky factor of the leading
    k x k principal submatrix (C C^T restricted to the first k rows and columns only involves
    C[:k, :k]). With z = C^{-1} y (one forward substitution over all n), the first k entries of
    z are C[:k, :k]^{-1} y[:k], so

        y[:k]^T H[:k, :k]^{-1} y[:k] = sum_{i < k} z_i^2        for every k at once,

    and the interpolant of the first k samples is alpha_k = C[:k, :k]^{-T} z[:k]. A nested grid of
    sample sizes (the first k points of one sample) therefore costs one O(n^3 / 3) factorization
    and O(n^2) per size, instead of one factorization per size. ``diag`` keeps H's diagonal (the
    factorization may overwrite H), ``cond_est`` is LAPACK's 1-norm estimate of cond(C)^2, an
    estimate of cond(H) (within a factor of about n) that bounds every leading block's condition
    (Cauchy interlacing), computed in O(n^2) where the exact spectrum would cost an eigensolve.
    """

    factor: np.ndarray  # lower triangular C
    diag: np.ndarray
    cond_est: float

    @property
    def n(self) -> int:
        return self.factor.shape[0]

    def _k(self, k: int | None) -> int:
        return self.n if k is None else check_int("k", k, low=1, high=self.n)

    def forward(self, Y) -> np.ndarray:
        """z = C^{-1} Y for Y of shape (n,) or (n, c): one forward substitution for all sizes."""
        from scipy.linalg import solve_triangular

        Y = np.asarray(Y, np.float64)
        if Y.shape[0] != self.n or Y.ndim > 2:
            raise ValueError(f"Y must have shape ({self.n},) or ({self.n}, c), got {Y.shape}")
        if not np.all(np.isfinite(Y)):
            raise ValueError("Y must be finite")
        return solve_triangular(self.factor, Y, lower=True, check_finite=False)

    @staticmethod
    def quads(z) -> np.ndarray:
        """q[k-1] = y[:k]^T H[:k, :k]^{-1} y[:k] for k = 1..n, from z = ``forward(y)``."""
        return np.cumsum(np.asarray(z) ** 2, axis=0)

    def alpha(self, z, k: int | None = None) -> np.ndarray:
        """alpha_k = H[:k, :k]^{-1} y[:k] (the interpolant's coefficients), from z = ``forward(y)``."""
        from scipy.linalg import solve_triangular

        k = self._k(k)
        return solve_triangular(self.factor[:k, :k], np.asarray(z)[:k], lower=True, trans="T",
                                check_finite=False)

    def trace(self, k: int | None = None) -> float:
        """tr H[:k, :k]."""
        return float(np.sum(self.diag[:self._k(k)]))


def nested_cholesky(H, *, overwrite: bool = False, rtol: float = 1e-13) -> NestedCholesky:
    """Factor H once for all its leading blocks (``NestedCholesky``); float64, in place when
    ``overwrite`` (then H's storage becomes the factor: no second n x n array at large n).

    Raises SingularKernelError when the factorization fails or the estimated condition number
    exceeds 1 / ``rtol`` (``kernel_solve``'s rule, on the estimate: H singular to float64
    precision, e.g. duplicate sequences, L = 1, a zero input)."""
    from scipy.linalg import LinAlgError, cholesky
    from scipy.linalg.lapack import dtrcon
    from threadpoolctl import threadpool_limits

    H = np.asarray(H, np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H must be a non-empty square matrix, got shape {H.shape}")
    diag = np.diag(H).copy()
    if not (np.all(np.isfinite(diag)) and np.all(diag > 0)):
        raise SingularKernelError(f"kernel Gram H (n = {H.shape[0]}) has a non-positive or "
                                  "non-finite diagonal entry: check for all-zero sequences or L = 1")
    # LAPACK works in Fortran order: H is symmetric, so H.T is the same matrix in the order LAPACK
    # can overwrite (a C-ordered H would be copied whole first); scipy zeroes the upper triangle.
    A = H.T if H.flags.c_contiguous else H
    try:
        # One BLAS thread: OpenBLAS's threaded dpotrf (dpotrf_L_parallel / dsyrk_thread) wrote
        # past a buffer and segfaulted twice here at n = 20,000 with 2 threads (OpenBLAS 0.3.30;
        # cf. OpenMathLib/OpenBLAS#2562, #1413); the serial path is the well-trodden one.
        with threadpool_limits(1, user_api="blas"):
            C = cholesky(A, lower=True, overwrite_a=overwrite, check_finite=True)
    except (LinAlgError, ValueError) as e:
        raise SingularKernelError(
            f"kernel Gram H (n = {H.shape[0]}) is not positive definite to float64 precision "
            f"(Cholesky failed: {e}); check for duplicate or all-zero sequences") from None
    rcond, info = dtrcon(C, norm="1", uplo="L")
    cond = float("inf") if info != 0 or rcond <= 0 else float(1.0 / rcond) ** 2
    if not cond * rtol < 1.0:
        raise SingularKernelError(
            f"kernel Gram H (n = {H.shape[0]}) is singular to float64 precision: estimated "
            f"condition number {cond:.2e} > 1 / rtol = {1 / rtol:.0e}; check for duplicate or "
            "all-zero sequences")
    return NestedCholesky(C, diag, cond)
