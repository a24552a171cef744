"""True labels against random labels on real data: a permutation test and the separation rule
(provenance: prior; docs/theory.md section 5, "Real data").

The classic observation (Zhang et al. 2017; Arora et al. 2019, Fig. 1) is that a data-dependent
NTK complexity is much larger for random labels than for true labels on real data. It is an
empirical regularity of earlier work, not a theorem of the paper (docs/theory.md section 0), so its
tag is 'prior'. ``permutation_test`` states it as a test: C_n = y^T H^{-1} y tr(H) / n
(``complexity``) of the true training labels among C_n of ``n_perm`` seeded permutations of
them (random labels with the same balance). Under the null hypothesis "the labels carry no
information the kernel sees" the true labelling is exchangeable with its permutations, so

    p = (1 + #{j : C_n(perm_j) <= C_n(true)}) / (n_perm + 1)

is a valid one-sided p-value (the +1 counts the true labelling itself; Phipson & Smyth 2010),
and ``ratio`` = median_j C_n(perm_j) / C_n(true) is the effect size. Permuting labels only
changes y in y^T H^{-1} y, so one Cholesky factor C C^T = H serves all of them: z = C^{-1} Y for
the (n, n_perm + 1) matrix Y of labellings is one triangular solve with many right-hand sides,
and y^T H^{-1} y = |z|^2 per column.

``label_separation`` is the rule (the thresholds are ours): where the kernel predictor clearly
beats the majority class (the Chernoff-KL lower confidence bound of its accuracy, level
delta_test, exceeds the majority-class test accuracy), the true labels must be separated from
random ones: p <= alpha AND ratio >= factor. A factor 2 in C_n is a factor sqrt(2) in G1's
leading term 2 sqrt(C_n / n) and 2x in the sample size n(eps) ~ 4 C / eps^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models import check_float, check_int

from ._bounds import kl_lcb
from ._linalg import nested_cholesky

PROVENANCE = "prior"
#: The fewest permutations the test accepts (the p-value's resolution is 1 / (n_perm + 1)).
MIN_PERMUTATIONS = 100


@dataclass(frozen=True)
class PermutationTest:
    """C_n of the true labels among ``n_perm`` seeded permutations (module docstring)."""

    C_true: float
    C_perm: tuple[float, ...]
    p_value: float  # (1 + #{C_perm <= C_true}) / (n_perm + 1)
    median: float  # median of C_perm
    ratio: float  # median / C_true
    n_perm: int
    seed: int
    provenance: str = PROVENANCE

    def summary(self) -> dict:
        """The test without the permutation values (what a report row needs)."""
        q = np.quantile(self.C_perm, [0.0, 0.05, 0.5])
        return {"C_true": self.C_true, "p_value": self.p_value, "median": self.median,
                "ratio": self.ratio, "n_perm": self.n_perm, "seed": self.seed,
                "C_perm_min": float(q[0]), "C_perm_q05": float(q[1])}


def permutation_labels(y, n_perm: int, seed: int) -> np.ndarray:
    """The (n, n_perm) matrix of seeded permutations of y (column j: permutation j)."""
    y = np.asarray(y, np.float64)
    rng = np.random.default_rng(seed)
    return np.stack([y[rng.permutation(y.size)] for _ in range(n_perm)], axis=1)


def permutation_test(H, y, *, n_perm: int = 199, seed: int = 0) -> PermutationTest:
    """The permutation test of C_n(true) against C_n of ``n_perm`` permutations of ``y`` (seeded
    by ``seed``), from one Cholesky factor of H (module docstring). exact given the draws."""
    H = np.asarray(H, np.float64)
    y = np.asarray(y, np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or y.shape != (H.shape[0],):
        raise ValueError(f"H must be n x n and y of shape (n,), got {H.shape} and {y.shape}")
    n_perm = check_int("n_perm", n_perm, low=MIN_PERMUTATIONS, high=1_000_000)
    seed = check_int("seed", seed, low=0)
    fac = nested_cholesky(H)
    Y = np.concatenate([y[:, None], permutation_labels(y, n_perm, seed)], axis=1)
    z = fac.forward(Y)
    C = np.sum(z * z, axis=0) * fac.trace() / H.shape[0]
    C_true, C_perm = float(C[0]), C[1:]
    p = (1.0 + float(np.sum(C_perm <= C_true))) / (n_perm + 1.0)
    med = float(np.median(C_perm))
    return PermutationTest(C_true, tuple(float(c) for c in C_perm), p, med,
                           med / C_true if C_true > 0 else float("inf"), n_perm, seed)


@dataclass(frozen=True)
class LabelSeparation:
    """The rule's verdict for one binary task and tokenisation (see the module docstring)."""

    applies: bool  # the kernel predictor clearly beats the majority class
    p_value: float
    ratio: float  # median_perm C_n / C_n(true)
    alpha: float
    factor: float
    separated: bool  # p_value <= alpha and ratio >= factor
    accuracy_lcb: float
    majority_accuracy: float
    verdict: str  # 'separated' | 'NOT separated' | 'not applicable (...)'
    n_perm: int = 0
    provenance: str = PROVENANCE


def label_separation(test: PermutationTest, kernel_accuracy: float, majority_accuracy: float,
                     n_test: int, *, alpha: float = 0.01, factor: float = 2.0,
                     delta_test: float = 0.01) -> LabelSeparation:
    """Apply the separation rule to a ``PermutationTest`` (module docstring)."""
    if not isinstance(test, PermutationTest):
        raise ValueError(f"test must be a theory.PermutationTest, got {type(test).__name__}")
    check_float("kernel_accuracy", kernel_accuracy, low=0.0, high=1.0)
    check_float("majority_accuracy", majority_accuracy, low=0.0, high=1.0)
    n_test = check_int("n_test", n_test, low=1)
    check_float("factor", factor, low=1.0)
    check_float("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    if 1.0 / (test.n_perm + 1) > alpha:
        raise ValueError(f"alpha = {alpha} is out of range for {test.n_perm} permutations: the "
                         f"smallest p-value is 1/{test.n_perm + 1}; allowed alpha >= that")
    lcb = kl_lcb(kernel_accuracy, n_test, delta_test)
    applies = lcb > majority_accuracy
    separated = test.p_value <= alpha and test.ratio >= factor
    if not applies:
        verdict = f"not applicable (accuracy LCB {lcb:.3f} <= majority {majority_accuracy:.3f})"
    else:
        verdict = "separated" if separated else "NOT separated"
    ratio = test.ratio if math.isfinite(test.ratio) else float("inf")
    return LabelSeparation(applies, test.p_value, ratio, alpha, factor, separated, lcb,
                           majority_accuracy, verdict, test.n_perm)
