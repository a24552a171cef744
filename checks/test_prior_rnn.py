"""Earlier RNN bounds (tag prior, theory/_prior_rnn.py) and the norms they read (models/_norms.py).

Exact checks: on a 2-unit, 1-dimensional, length-2 network with explicit weights and two input
sequences, every norm and both bounds are computed by hand here (the arithmetic is written out,
not delegated to the code under test) and must agree to 1e-12. Power: deliberately wrong
versions of the formulas (Lambda without its (k+1) weights, the L^2 of the order form as L, the
Fisher-Rao weights c_l dropped) must fail the same exact check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import models as M
import theory as T
import theory._prior_rnn as PR
from checks._harness import record_power

pytestmark = pytest.mark.fast

W0 = np.array([[0.5, 0.0], [0.0, 0.5]])
WT = np.array([[1.0, -2.0], [0.5, 0.0]])
A = np.array([[1.0], [-1.0]])
B = np.array([2.0, -1.0])
X = np.array([[[1.0], [2.0]], [[-1.0], [0.5]]])  # n = 2 sequences, L = 2, d = 1
N, L, DELTA, TRAIN = 2, 2, 0.05, 0.1

# ---- by hand ---------------------------------------------------------------------------------
# W_T^T W_T = [[1.25, -2], [-2, 4]]: trace 5.25, det 1.
HAND_W_SPEC2 = (5.25 + math.sqrt(5.25**2 - 4.0)) / 2.0
# B W_T = [1.5, -4], B W_T A = 5.5, B A = 3; s_i = 3 * 5.5 * x_{i,1} + 2 * 3 * x_{i,2}
HAND_S = (3 * 5.5 * 1.0 + 2 * 3 * 2.0, 3 * 5.5 * -1.0 + 2 * 3 * 0.5)  # (28.5, -13.5)
HAND = {
    "W_spec": math.sqrt(HAND_W_SPEC2), "W_fro": math.sqrt(5.25), "dW_fro": math.sqrt(4.75),
    "A_spec": math.sqrt(2.0), "B_l2": math.sqrt(5.0), "B_l1": 3.0, "W_inf": 3.0, "A_inf": 1.0,
    "x_max": 2.0, "X_fro": 2.5, "X_col1": 2.5, "X_col1_steps": [2.0, 2.5],
    # (1/2) [[2, 1.5], [1.5, 4.25]]: eigenvalues (3.125 +- 1.875) / 2
    "x_second_moment_min": 0.625,
    "fisher_rao": math.sqrt((HAND_S[0] ** 2 + HAND_S[1] ** 2) / 2.0),
}
HAND_LAMBDA = 1.0 + 2.0 * 3.0  # sum_{k<2} (k+1) beta_W^k at beta_W = ||W^T||_1 = 3
HAND_THT = (TRAIN + 2.0 * (HAND["fisher_rao"] * 2.5 / (2 * N) * math.sqrt(1 / 0.625)
                           + 3.0 * 1.0 * 2.5 * HAND_LAMBDA / N)
            + 3.0 * math.sqrt(math.log(2 / DELTA) / (2 * N)))
HAND_ZLD = TRAIN + 2 * 2**2 * math.sqrt(2.0) * math.sqrt(5.0) * HAND_W_SPEC2 * 2.0 / math.sqrt(2.0)


def _norms():
    return M.weight_norms(M.Params(W0, A, B), WT, X)


def _bounds():
    return T.prior_rnn_bounds(_norms(), n=N, L=L, m=2, d=1, delta=DELTA, train_loss=TRAIN)


def _exact(b: dict) -> bool:
    return (math.isclose(b["P-THT"].value, HAND_THT, rel_tol=1e-12)
            and math.isclose(b["P-ZLD"].value, HAND_ZLD, rel_tol=1e-12))


def test_norms_match_the_hand_computation():
    got = _norms()
    for k, v in HAND.items():
        assert np.allclose(got[k], v, rtol=1e-12, atol=0), (k, got[k], v)
    assert (got["m"], got["d"], got["L"], got["n"]) == (2, 1, 2, 2)


def test_prior_bounds_match_the_hand_computation():
    b = _bounds()
    assert _exact(b), (b["P-THT"].value, HAND_THT, b["P-ZLD"].value, HAND_ZLD)
    # neither is the theorem as stated: P-THT omits its union bound over norm levels
    assert not b["P-THT"].rigorous and not b["P-ZLD"].rigorous
    assert b["P-THT"].provenance == b["P-ZLD"].provenance == "prior"
    assert b["P-THT"].vacuous and b["P-ZLD"].vacuous  # both >> 1 here, and reported as such
    assert "P-CLZ" not in b  # not found: never evaluated


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 1.7])
@pytest.mark.parametrize("Lk", [1, 2, 7])
def test_lambda_equals_tu_et_al_closed_form(beta, Lk):
    closed = ((Lk + Lk**2) / 2 if beta == 1.0
              else (1 / (1 - beta)) * ((1 - beta**Lk) / (1 - beta) - Lk * beta**Lk))
    assert math.isclose(T.tht_lambda(beta, Lk), closed, rel_tol=1e-12, abs_tol=1e-12)


def _wrong_lambda(beta, Lk):
    return math.fsum(beta**k for k in range(Lk))  # the (k + 1) weights dropped


_REAL_ZLD = PR.zld_order_form


def _wrong_zld(**kw):  # L^2 -> L, as if the length entered once
    real = _REAL_ZLD(**kw)
    return PR.PriorBound(**{**real.__dict__, "value": real.train_loss + real.main_term / kw["L"]})


@pytest.mark.parametrize("mutant", ["lambda without (k+1)", "order form with L instead of L^2",
                                    "Fisher-Rao weights c_l dropped"])
def test_wrong_prior_formulas_fail_the_exact_check(mutant, monkeypatch, store):
    assert _exact(_bounds())  # the check accepts the real formulas ...
    if mutant.startswith("lambda"):
        monkeypatch.setattr(PR, "tht_lambda", _wrong_lambda)
        b = _bounds()
    elif mutant.startswith("order"):
        monkeypatch.setattr(PR, "zld_order_form", _wrong_zld)
        b = _bounds()
    else:
        norms = _norms()
        v, s = B.copy(), np.zeros(N)
        for li in range(L - 1, -1, -1):
            s += (X[:, li, :] @ A.T) @ v
            v = v @ WT
        norms["fisher_rao"] = float(np.sqrt(np.mean(s**2)))
        b = T.prior_rnn_bounds(norms, n=N, L=L, m=2, d=1, delta=DELTA, train_loss=TRAIN)
    rejected = not _exact(b)  # ... and rejects each mutant
    record_power(store, "P-THT" if "order" not in mutant else "P-ZLD", mutant + " (exact check)",
                 rejected, detail=f"mutant P-THT {b['P-THT'].value:.4f} vs {HAND_THT:.4f}, "
                                  f"P-ZLD {b['P-ZLD'].value:.4f} vs {HAND_ZLD:.4f}")
    assert rejected


def test_order_form_and_rademacher_terms_scale_as_declared():
    """The L-dependence the sources state, checked as ratios (independent of the hand values)."""
    base = dict(m=8, d=2, n=100, spec_A=1.0, spec_B=1.0, spec_W=0.9, x_max=1.0)
    z = [T.zld_order_form(L=Lk, **base).main_term for Lk in (2, 4)]
    assert math.isclose(z[1] / z[0], 4.0, rel_tol=1e-12)  # L^2 at ||W||_2 <= 1
    assert math.isclose(T.tht_lambda(1.0, 8) / T.tht_lambda(1.0, 4), 72 / 20, rel_tol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="norms lacks"):
        T.prior_rnn_bounds({"W_spec": 1.0}, n=2, L=2, m=2, d=1)
    with pytest.raises(ValueError, match="same training sample"):
        T.prior_rnn_bounds(_norms(), n=3, L=2, m=2, d=1)
    with pytest.raises(ValueError, match="delta"):
        T.tht_bound(L=2, n=2, beta_V=1, beta_W=1, beta_U=1, X_fro=1, X_col1=1, fisher_rao=1,
                    lambda_min=1, delta=1.5)
    with pytest.raises(ValueError, match="seed axis"):
        M.weight_norms(M.Params(W0[None], A[None], B[None]), WT, X)
    with pytest.raises(ValueError, match="W_T has shape"):
        M.weight_norms(M.Params(W0, A, B), WT[:1], X)
    with pytest.raises(ValueError, match="token dimension"):
        M.weight_norms(M.Params(W0, A, B), WT, np.zeros((2, 2, 3)))


def test_claims_registered_with_their_provenance_and_gaps():
    for cid in ("P-THT", "P-ZLD", "P-CLZ"):
        c = T.get_claim(cid)
        assert c.provenance == "prior" and c.source
    assert "NOT FOUND" in T.get_claim("P-CLZ").statement
    assert "NOT FOUND" in T.get_claim("P-ZLD").statement
    assert not T.get_claim("P-CLZ").functions
