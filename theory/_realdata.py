"""True labels against random labels on real data: the separation rule (provenance: prior).

The classic observation (Zhang et al. 2017; Arora et al. 2019, Fig. 1) is that a data-dependent
NTK complexity is much larger for random labels than for true labels on real data. It is an
empirical regularity of earlier work, not a theorem of the paper (docs/theory.md section 0), so its
tag is 'prior'. The rule here states it as a checkable property of one dataset:

    if the kernel predictor *clearly* beats the majority class on the test split (the Chernoff-KL
    lower confidence bound of its accuracy, level delta_test, exceeds the majority-class test
    accuracy), then min over random-label seeds of C_n(random) >= factor * C_n(true).

C_n = y^T H^{-1} y tr(H) / n (``complexity``); the random labels are permutations of the true
training labels (the same balance). A factor 2 in C_n is a factor sqrt(2) in G1's leading term
2 sqrt(C_n / n) and 2x in the sample size n(eps) ~ 4 C / eps^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models import check_float, check_int

from ._bounds import kl_lcb

PROVENANCE = "prior"


@dataclass(frozen=True)
class LabelSeparation:
    """The rule's verdict for one dataset and tokenisation (see the module docstring)."""

    applies: bool  # the kernel predictor clearly beats the majority class
    ratio: float  # min_seeds C_n(random) / C_n(true)
    factor: float
    separated: bool  # ratio >= factor
    accuracy_lcb: float
    majority_accuracy: float
    verdict: str  # 'separated' | 'NOT separated' | 'not applicable (...)'
    provenance: str = PROVENANCE


def label_separation(C_true: float, C_random, kernel_accuracy: float, majority_accuracy: float,
                     n_test: int, *, factor: float = 2.0,
                     delta_test: float = 0.01) -> LabelSeparation:
    """Apply the separation rule: ``C_random`` holds C_n of each random-label seed."""
    check_float("C_true", C_true, low=0.0, low_open=True)
    C_random = [check_float("C_random", c, low=0.0, low_open=True) for c in C_random]
    if not C_random:
        raise ValueError("C_random must hold at least one random-label complexity")
    check_float("kernel_accuracy", kernel_accuracy, low=0.0, high=1.0)
    check_float("majority_accuracy", majority_accuracy, low=0.0, high=1.0)
    n_test = check_int("n_test", n_test, low=1)
    check_float("factor", factor, low=1.0)
    lcb = kl_lcb(kernel_accuracy, n_test, delta_test)
    applies = lcb > majority_accuracy
    ratio = min(C_random) / C_true
    separated = ratio >= factor
    if not applies:
        verdict = (f"not applicable (accuracy LCB {lcb:.3f} <= majority {majority_accuracy:.3f})")
    else:
        verdict = "separated" if separated else "NOT separated"
    return LabelSeparation(applies, ratio if math.isfinite(ratio) else float("inf"), factor,
                           separated, lcb, majority_accuracy, verdict)
