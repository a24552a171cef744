"""Weight and data norms of a trained network: what the earlier (prior) RNN bounds read.

``weight_norms(params0, W_T, X)`` returns a plain dict of floats, stored by the sweep under
``metrics["norms"]`` of each G2-net record and read by ``theory.prior_rnn_bounds`` and by the
bound-quality statistics (``reports/render/_quality.py``). Symbols -> keys (docs/theory.md section 2's model
h_l = relu(W h_{l-1} + A X_l), f = B . h_L; in the prior papers' notation W is their recurrent
matrix, A their input matrix "U" (Tu et al.) and B their output matrix "V"):

- ``W_spec``, ``W_fro``: ||W_T||_2, ||W_T||_F;  ``W0_spec``, ``W0_fro``: the same at init;
- ``dW_spec``, ``dW_fro``: ||W_T - W_0||_2, ||W_T - W_0||_F (the movement);
- ``A_spec``, ``A_fro``, ``B_l2`` (= ||B||_2, B as a 1 x m matrix), ``B_l1``;
- ``W_inf``, ``A_inf``: the largest row l1 norm, i.e. the matrix 1-norm of the transpose
  ||W^T||_1, ||A^T||_1 (Tu, He & Tao 2020 bound with these); ``B_l1`` = ||B^T||_1;
- data, from the inputs ``X`` (n, L, d) passed in (the training sample): ``x_max`` = max_{i,l}
  ||X_{i,l}|| (the bound B_x on token norms), ``X_fro`` = ||X||_F of the Ld x n data matrix,
  ``X_col1`` = ||X^T||_1 (largest over the Ld coordinates of sum_i |x_i|), ``X_col1_steps`` the
  same per step l (||X_l^T||_1), ``x_second_moment_min`` = lambda_min of (1/n) sum_i x_i x_i^T
  over the flattened x_i in R^{Ld} (an estimate of lambda_min(E x x^T)), ``fisher_rao`` = the
  empirical root mean square over the sample of sum_l (L + 2 - l) B W_T^{L-l} A X_l (the
  'Fisher-Rao norm' ||theta||_fs of Tu et al. 2020, eq. (2), for one output);
- ``m``, ``d``, ``L``, ``n``.

Everything is computed in float64 numpy: norms of (m, m) matrices, no JAX tracing.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_tokens


def _spec(M: np.ndarray) -> float:
    return float(np.linalg.norm(M, 2)) if M.ndim == 2 else float(np.linalg.norm(M))


def weight_norms(params0, W_T, X) -> dict:
    """Norms of the trained recurrent matrix ``W_T``, of the fixed A and B (from ``params0``, a
    single-seed ``Params``) and of the inputs ``X`` (n, L, d). See the module docstring for keys."""
    W0 = np.asarray(params0.W, np.float64)
    if W0.ndim != 2:
        raise ValueError(f"params0 carries a seed axis (W has shape {W0.shape}): pass one seed's "
                         "Params, e.g. Params(params0.W[s], params0.A[s], params0.B[s])")
    A = np.asarray(params0.A, np.float64)
    B = np.asarray(params0.B, np.float64).reshape(-1)
    W = np.asarray(W_T, np.float64)
    if W.shape != W0.shape:
        raise ValueError(f"W_T has shape {W.shape}, expected {W0.shape} (the shape of params0.W)")
    if not np.all(np.isfinite(W)):
        raise ValueError("W_T has non-finite entries (a diverged run has no norms)")
    Xa = np.asarray(check_tokens("X", X, d=A.shape[1]), np.float64)
    if Xa.ndim == 2:
        Xa = Xa[None]
    n, L, d = Xa.shape
    flat = Xa.reshape(n, L * d)
    second = flat.T @ flat / n
    # sum_l c_l B W^{L-l} A X_l with c_l = L + 2 - l: v_l = B W^{L-l} by a backward recursion
    v = B.copy()
    s = np.zeros(n)
    for l_idx in range(L - 1, -1, -1):  # l = l_idx + 1
        s += (L + 1 - l_idx) * (Xa[:, l_idx, :] @ A.T) @ v
        v = v @ W
    col1 = np.abs(Xa).sum(axis=0)  # (L, d): sum_i |x_{i,l,f}|
    return {
        "W_spec": _spec(W), "W_fro": float(np.linalg.norm(W)),
        "W0_spec": _spec(W0), "W0_fro": float(np.linalg.norm(W0)),
        "dW_spec": _spec(W - W0), "dW_fro": float(np.linalg.norm(W - W0)),
        "A_spec": _spec(A), "A_fro": float(np.linalg.norm(A)),
        "B_l2": float(np.linalg.norm(B)), "B_l1": float(np.abs(B).sum()),
        "W_inf": float(np.abs(W).sum(axis=1).max()), "A_inf": float(np.abs(A).sum(axis=1).max()),
        "x_max": float(np.linalg.norm(Xa, axis=-1).max()), "X_fro": float(np.linalg.norm(flat)),
        "X_col1": float(col1.max()), "X_col1_steps": [float(c) for c in col1.max(axis=1)],
        "x_second_moment_min": float(np.linalg.eigvalsh(second)[0]),
        "fisher_rao": float(np.sqrt(np.mean(s**2))),
        "m": int(W.shape[0]), "d": int(d), "L": int(L), "n": int(n),
    }
