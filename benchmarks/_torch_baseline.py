"""A faithful PyTorch eager-mode baseline of the same model and update (optional dependency).

Same model as ``models._rnn`` (h_0 = 0, h_l = relu(W h_{l-1} + A X_l), f = B . h_L), same
initial parameters (copied from the JAX ones), same objective Phi(W) = 1/2 sum_i (f(W; x_i) - y_i)^2,
same plain full-batch GD update W <- W - eta grad_W Phi, only W trained, float32, the same number
of threads as the machine has cores (XLA's CPU client uses all of them).

Written the way a competent PyTorch user would: A X_l for all l is computed once (A is fixed),
the h_0 = 0 step is skipped (h_1 = relu(A X_1)), autograd for the gradient, an in-place update
under ``no_grad``, the loss of every step kept as a tensor (no ``.item()`` sync in the loop).
"""

from __future__ import annotations

import os

import numpy as np

try:  # optional dependency
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


def available() -> bool:
    return torch is not None


def set_threads(n: int | None = None) -> int:
    n = n or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def to_torch(*arrays):
    return tuple(torch.from_numpy(np.array(a, dtype=np.float32)) for a in arrays)


def gd(W, A, B, X, y, lr: float, steps: int):
    """Full-batch GD on 1/2 sum (f - y)^2 for ``steps`` steps; returns (W_final, losses (steps,))."""
    W = W.clone().requires_grad_(True)
    AX = torch.einsum("nld,md->lnm", X, A).contiguous()  # A is fixed: once, not per step
    losses = []
    for _ in range(steps):
        h = torch.relu(AX[0])  # h_1 = relu(W h_0 + A X_1) with h_0 = 0
        for t in range(1, AX.shape[0]):
            h = torch.relu(h @ W.T + AX[t])
        f = h @ B
        loss = 0.5 * torch.sum((f - y) ** 2)
        (g,) = torch.autograd.grad(loss, W)
        with torch.no_grad():
            W -= lr * g
        losses.append(loss.detach())
    return W.detach(), torch.stack(losses)


def gd_seeds(Ws, As, Bs, X, y, lr: float, steps: int):
    """The baseline's way to train K seeds: one after another."""
    return [gd(Ws[k], As[k], Bs[k], X, y, lr, steps) for k in range(Ws.shape[0])]
