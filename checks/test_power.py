"""Power of the formula checks: deliberately wrong bounds fail the exact identities.

Complements the empirical power checks (test_bounds_trained.py, test_claims.py): a mutant that
the empirical violation rule cannot catch at CPU sizes (a main term divided by 10, hidden by the
bound's slack) is still caught here by the exact reduction of G1 to its prior two-layer form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory as T
from checks._harness import record_power
from reports._evaluate import _mutated

pytestmark = pytest.mark.selftest


def _unit_diag_problem(n=40, seed=0):
    """An SPD H with H_ii = 1/2 exactly (the unit-norm setting of Arora et al. 2019) and labels."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, 3 * n))
    S = G @ G.T
    d = np.sqrt(np.diag(S))
    H = 0.5 * S / np.outer(d, d)
    return H, rng.choice([-1.0, 1.0], n)


def _matches_prior_form(b: T.BoundResult, quad: float, gamma: float = 1.1) -> bool:
    """G1 main term == sqrt(2 y^T H^-1 y / n) * Bbar / B (the grid rounding) to 1e-12 relative."""
    expected = T.prior_two_layer_form(quad, b.n) * (b.B_grid / b.B)
    main = b.value - b.train_loss - b.confidence_term
    return math.isclose(main, expected, rel_tol=1e-12)


def test_main_term_divided_by_10_fails_the_exact_formula_check(store):
    H, y = _unit_diag_problem()
    quad = T.kernel_solve(H, y).quad
    real = T.g1_bound(H, y)
    assert _matches_prior_form(real, quad)  # the check accepts the real bound ...
    wrong = _mutated(real, lambda b: b.train_loss + b.main_term / 10 + b.confidence_term)
    rejected = not _matches_prior_form(wrong, quad)  # ... and rejects the mutant
    record_power(store, "G1", "main term / 10 (exact prior-form identity)", rejected,
                 detail=f"real {real.value:.4f}, mutant {wrong.value:.4f}")
    assert rejected
