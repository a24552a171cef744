"""The infinite-width kernel H of W-only training (docs/theory.md section 3; provenance: exact).

Every identity is a Hypothesis property over token arrays of any scale r in [0.1, 10], with
pinned examples for the edge regimes, and is recorded in the results store (kind "identity").
Every identity check is also run on a deliberately wrong kernel (a *mutant*) to prove that it
would fail (kind "power").

Tolerances (float64 throughout, eps = 2.2e-16). Entries of H are sums of non-negative terms
(k0, k1, s >= 0), so errors are measured relative to the Cauchy-Schwarz scale
sqrt(H(x,x) H(x',x')) of each entry:
- OFF_TOL = 1e-10 for two computations of the same off-diagonal entries: each entry costs O(L)
  flops plus one arccos per layer, whose amplification 1/sqrt(1 - rho^2) is <= ~1e3 for
  distinct random sequences, so the error is <= ~10 L * 1e3 * eps ~ 1e-11; measured worst case
  over 300 random draws: 3e-14. The margin covers rarer near-collinear pairs.
- DIAG_TOL = 1e-7 whenever the *recursion* is evaluated on identical sequences (rho = 1 exactly
  in exact arithmetic): rounding gives rho = 1 - delta with delta ~ a few eps, and
  arccos(1 - delta) ~ sqrt(2 delta) ~ 3e-8, so k0 = (pi - theta)/(2 pi) carries a relative error
  ~1e-8 per layer, accumulated over <= L - 1 <= 4 factors 2 k0(c_k) (k1's error is cubic in
  theta, negligible). Measured worst case: 1.8e-8.
"""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import theory as T
import theory._kernel as K
from checks._harness import record_identity, record_power
from checks.strategies import scales, seeds, token_arrays
from reports.cases._kernel_mc import MCDesign, kernel_mc_records

pytestmark = pytest.mark.fast

OFF_TOL = 1e-10
DIAG_TOL = 1e-7

# Shapes come from small fixed sets: ntk_gram compiles once per (n1, n2, L, d).
KERNEL_LS = (1, 2, 3, 5)
KERNEL_DS = (1, 3)


def _tokens(n, L, d, r, seed):
    """A concrete token array for pinned examples (same recipe as strategies.token_arrays)."""
    return np.random.default_rng(seed).standard_normal((n, L, d)) * (r / math.sqrt(d))


@st.composite
def kernel_tokens(draw, *, min_L=1, n=None):
    L = draw(st.sampled_from([l for l in KERNEL_LS if l >= min_L]))
    d = draw(st.sampled_from(KERNEL_DS))
    return draw(token_arrays(n=n, L=L, d=d))


@st.composite
def kernel_pairs(draw, *, min_L=1):
    """Two token arrays (n1, L, d), (n2, L, d) of the same L and d, each at its own scale."""
    X = draw(kernel_tokens(min_L=min_L))
    X2 = draw(token_arrays(n=draw(st.sampled_from((2, 5))), L=X.shape[1], d=X.shape[2]))
    return X, X2


def _cfg(X, **extra):
    n, L, d = X.shape
    return {"n": n, "L": L, "d": d, "rms_norm": float(np.sqrt(np.mean(np.sum(X**2, -1)))), **extra}


def _seed_of(X) -> int:
    """A stable integer identifying a generated array (the store's seed field)."""
    return int(np.frombuffer(np.ascontiguousarray(X).tobytes(), np.uint8).sum()) % (2**31)


def _scale(d1, d2):
    """sqrt(H(x,x) H(x',x')) for every pair; 1 where it is 0 (then H(x,x') = 0 exactly)."""
    s = np.sqrt(np.outer(d1, d2))
    return np.where(s > 0, s, 1.0)


def _rel_err(A, B, d1, d2):
    return float(np.max(np.abs(A - B) / _scale(d1, d2), initial=0.0))


def diag_formula(X) -> np.ndarray:
    """H(x,x) = 1/2 sum_{l=1..L-1} sum_{k=1..l} ||X_k||^2, written literally (docs/theory.md section 3)."""
    n, L, _ = X.shape
    out = np.zeros(n)
    for i in range(n):
        out[i] = 0.5 * sum(sum(float(X[i, k] @ X[i, k]) for k in range(l)) for l in range(1, L))
    return out


def diag_formula_off_by_one(X) -> np.ndarray:
    """Mutant: the outer sum runs to L instead of L - 1."""
    n, L, _ = X.shape
    return np.array([0.5 * sum(sum(float(X[i, k] @ X[i, k]) for k in range(l)) for l in range(1, L + 1))
                     for i in range(n)])


def reference_gram(X, X2=None) -> np.ndarray:
    X2 = X if X2 is None else X2
    return np.array([[T.ntk_gram_pair_reference(x, xp) for xp in X2] for x in X])


# ---- diagonal ----------------------------------------------------------------------------------

def diag_errors(X, formula=diag_formula):
    """(err of the recursion's diagonal, err of ntk_diagonal, err of ntk_gram's diagonal), relative."""
    f = formula(X)
    den = np.where(f > 0, f, 1.0)
    rec = np.diag(T.ntk_gram(X, X.copy()))  # cross-Gram: bypasses the exact-diagonal override
    return (float(np.max(np.abs(rec - f) / den)), float(np.max(np.abs(T.ntk_diagonal(X) - f) / den)),
            float(np.max(np.abs(np.diag(T.ntk_gram(X)) - f) / den)))


@given(X=kernel_tokens())
@example(X=_tokens(5, 1, 3, 1.0, 0))  # L = 1: empty sum, H(x,x) = 0
@example(X=_tokens(5, 5, 3, 0.1, 1))  # r = 0.1: the small-input regime of earlier work
@example(X=_tokens(5, 5, 3, 10.0, 2))  # r = 10: large inputs, C1's regime
@example(X=_tokens(1, 3, 1, 1.0, 3))  # n = 1, d = 1: a single sequence of scalars
def test_diagonal_formula(store, X):
    e_rec, e_closed, e_gram = diag_errors(X)
    # ntk_diagonal and ntk_gram's diagonal are the closed form: a handful of float64 sums.
    ok = record_identity(store, "K-diag", _cfg(X, what="recursion diag vs formula"), _seed_of(X),
                         e_rec, DIAG_TOL, closed_form_err=e_closed, gram_diag_err=e_gram)
    assert ok, f"recursion's diagonal differs from the formula by {e_rec:.2e} (relative)"
    assert e_closed <= 1e-13 and e_gram <= 1e-13, (e_closed, e_gram)


@pytest.mark.selftest
def test_diagonal_check_catches_off_by_one(store):
    X = _tokens(5, 3, 3, 1.0, 0)
    e_rec, _, _ = diag_errors(X, formula=diag_formula_off_by_one)
    assert record_power(store, "K-diag", "diagonal sum to L instead of L-1", e_rec > DIAG_TOL,
                        max_err=e_rec)


# ---- symmetry and PSD --------------------------------------------------------------------------

# Eigenvalues of a symmetric matrix are computed to ~n eps lambda_max, and entry errors of
# ~OFF_TOL relative move them by at most n * OFF_TOL * lambda_max: for n <= 16, 1e-8 is generous.
PSD_TOL = 1e-8


def psd_violation(H) -> float:
    """max(asymmetry, -lambda_min) relative to lambda_max (0 for a symmetric PSD matrix)."""
    ev = np.linalg.eigvalsh(0.5 * (H + H.T))
    top = max(float(ev[-1]), 1e-300)
    asym = float(np.max(np.abs(H - H.T))) / top
    return max(asym, -float(ev[0]) / top, 0.0)


@given(X=kernel_tokens())
@example(X=_tokens(8, 5, 3, 0.1, 4))  # r = 0.1
@example(X=_tokens(8, 5, 3, 10.0, 5))  # r = 10
@example(X=_tokens(1, 2, 3, 1.0, 6))  # n = 1
@example(X=_tokens(5, 1, 1, 1.0, 7))  # L = 1: H = 0 is (trivially) PSD
def test_symmetric_psd(store, X):
    H = T.ntk_gram(X)
    err = psd_violation(H)
    assert record_identity(store, "K-psd", _cfg(X, what="symmetric PSD"), _seed_of(X), err, PSD_TOL), err


@pytest.mark.selftest
def test_psd_check_catches_wrong_k0(store):
    # k0 - 1/2 = -theta/(2 pi): zero on the diagonal, negative off it -> indefinite.
    X = _tokens(5, 3, 3, 1.0, 0)
    err = psd_violation(T.ntk_gram(X, k0_fn=lambda k0: k0 - 0.5))
    assert record_power(store, "K-psd", "k0 replaced by k0 - 1/2", err > PSD_TOL, max_err=err)


# ---- homogeneity ---------------------------------------------------------------------------------

def homogeneity_error(X, X2, c, c2, gram=T.ntk_gram) -> float:
    H = gram(X, X2)
    Hs = gram(c * X, c2 * X2)
    return _rel_err(Hs, c * c2 * H, T.ntk_diagonal(c * X), T.ntk_diagonal(c2 * X2))


@given(pair=kernel_pairs(), c=scales(), c2=scales())
@example(pair=(_tokens(5, 1, 3, 1.0, 0), _tokens(2, 1, 3, 1.0, 1)), c=2.0, c2=3.0)  # L = 1: 0 = 0
@example(pair=(_tokens(5, 3, 3, 1.0, 2), _tokens(2, 3, 3, 1.0, 3)), c=0.1, c2=10.0)  # extreme scales
@example(pair=(_tokens(1, 5, 1, 10.0, 4), _tokens(1, 5, 1, 0.1, 5)), c=10.0, c2=0.1)  # n = 1, d = 1
def test_homogeneity(store, pair, c, c2):
    X, X2 = pair
    err = homogeneity_error(X, X2, c, c2)
    ok = record_identity(store, "K-homog", _cfg(X, n2=X2.shape[0], c=c, c2=c2), _seed_of(X), err, OFF_TOL)
    assert ok, f"H(cx, c'x') != c c' H(x, x'): relative error {err:.2e}"


@pytest.mark.selftest
def test_homogeneity_check_catches_bias_kernel(store):
    # A kernel with a constant offset (what a network with biases would give) is not homogeneous.
    def biased(A, B):
        return T.ntk_gram(A, B) + 0.1

    err = homogeneity_error(_tokens(5, 3, 3, 1.0, 0), _tokens(2, 3, 3, 1.0, 1), 2.0, 3.0, gram=biased)
    assert record_power(store, "K-homog", "constant 0.1 added to H", err > OFF_TOL, max_err=err)


# ---- rotation invariance ---------------------------------------------------------------------------

def _orthogonal(d, seed):
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q * np.sign(np.diag(R))  # Haar-distributed


def rotation_error(X, Q, gram=T.ntk_gram) -> float:
    H, Hr = gram(X), gram(X @ Q.T)
    d = T.ntk_diagonal(X)
    return _rel_err(Hr, H, d, d)


@given(X=kernel_tokens(), qseed=seeds())
@example(X=_tokens(5, 5, 3, 0.1, 0), qseed=1)  # r = 0.1
@example(X=_tokens(5, 5, 3, 10.0, 2), qseed=3)  # r = 10
@example(X=_tokens(1, 2, 1, 1.0, 4), qseed=5)  # n = 1, d = 1 (Q = +-1)
def test_rotation_invariance(store, X, qseed):
    Q = _orthogonal(X.shape[2], qseed)
    err = rotation_error(X, Q)
    ok = record_identity(store, "K-psd", _cfg(X, what="rotation invariance"), qseed, err, OFF_TOL)
    assert ok, f"H changes under a common rotation of the tokens: {err:.2e}"


@pytest.mark.selftest
def test_rotation_check_catches_anisotropic_kernel(store):
    w = np.array([1.0, 0.5, 0.25])  # a kernel that weights coordinates is not rotation invariant

    def aniso(A):
        return T.ntk_gram(A * w)

    err = rotation_error(_tokens(5, 3, 3, 1.0, 0), _orthogonal(3, 1), gram=aniso)
    assert record_power(store, "K-psd", "tokens weighted per coordinate", err > OFF_TOL, max_err=err)


# ---- cross-Gram blocks -----------------------------------------------------------------------------

def cross_gram_errors(X, X2, cross=T.ntk_gram) -> dict[str, float]:
    """Cross-Gram blocks vs the full Gram of the concatenation, transposition, tile size."""
    n1 = X.shape[0]
    full = T.ntk_gram(np.concatenate([X, X2]))
    dfull = np.diag(full)
    d1, d2 = dfull[:n1], dfull[n1:]
    H12 = cross(X, X2)
    return {
        "block_vs_full": _rel_err(H12, full[:n1, n1:], d1, d2),
        "transpose": _rel_err(cross(X2, X).T, H12, d1, d2),
        # Off-diagonal entries of the Gram equal those of the un-symmetrized cross-Gram (X, X).
        "self_cross": _rel_err(np.where(np.eye(n1, dtype=bool), 0.0, cross(X, X.copy())),
                               np.where(np.eye(n1, dtype=bool), 0.0, T.ntk_gram(X)), d1, d1),
        "block_size": _rel_err(T.ntk_gram(X, X2, block=2), H12, d1, d2),
        # the tiled Gram (lower tiles mirrored, last tile zero-padded) against the one-call Gram
        "gram_tiles": _rel_err(T.ntk_gram(np.concatenate([X, X2]), block=2), full, dfull, dfull),
    }


@given(pair=kernel_pairs())
@example(pair=(_tokens(5, 1, 3, 1.0, 0), _tokens(2, 1, 3, 1.0, 1)))  # L = 1: all blocks 0
@example(pair=(_tokens(5, 3, 3, 0.1, 2), _tokens(2, 3, 3, 10.0, 3)))  # r = 0.1 against r = 10
@example(pair=(_tokens(1, 5, 1, 1.0, 4), _tokens(1, 5, 1, 1.0, 5)))  # n = 1 on both sides
def test_cross_gram_consistent_with_gram(store, pair):
    X, X2 = pair
    errs = cross_gram_errors(X, X2)
    err = max(errs.values())
    ok = record_identity(store, "K-psd", _cfg(X, n2=X2.shape[0], what="cross-Gram blocks"),
                         _seed_of(X), err, OFF_TOL, **errs)
    assert ok, errs


@pytest.mark.selftest
def test_cross_gram_check_catches_float32(store):
    # A cross-Gram evaluated in float32 (a plausible precision bug) is off by ~1e-7.
    def cross32(A, B):
        return np.asarray(K._gram_block_jit(jnp.asarray(A, jnp.float32), jnp.asarray(B, jnp.float32)),
                          np.float64)

    errs = cross_gram_errors(_tokens(5, 3, 3, 1.0, 0), _tokens(2, 3, 3, 1.0, 1), cross=cross32)
    err = errs["block_vs_full"]
    assert record_power(store, "K-psd", "cross-Gram in float32", err > OFF_TOL, max_err=err)


# ---- the literal per-pair reference --------------------------------------------------------------

def reference_errors(X, k0_fn=None) -> tuple[float, float]:
    H = T.ntk_gram(X, k0_fn=k0_fn)
    R = reference_gram(X)
    d = T.ntk_diagonal(X)
    off = ~np.eye(X.shape[0], dtype=bool)
    s = _scale(d, d)
    e_off = float(np.max(np.abs(H - R)[off] / s[off], initial=0.0))
    e_diag = float(np.max(np.abs(np.diag(H) - np.diag(R)) / np.diag(s)))
    return e_off, e_diag


@given(X=kernel_tokens())
@example(X=_tokens(8, 5, 3, 0.1, 0))  # r = 0.1
@example(X=_tokens(8, 5, 3, 10.0, 1))  # r = 10
@example(X=_tokens(5, 1, 3, 1.0, 2))  # L = 1: both 0
@example(X=_tokens(1, 3, 1, 1.0, 3))  # n = 1: diagonal only
def test_gram_matches_reference(store, X):
    e_off, e_diag = reference_errors(X)
    # Off the diagonal both evaluate the same recursion (OFF_TOL); on it the reference runs the
    # recursion at rho = 1 while ntk_gram uses the exact closed form (DIAG_TOL, see module doc).
    ok = record_identity(store, "K-psd", _cfg(X, what="ntk_gram vs per-pair reference"),
                         _seed_of(X), e_off, OFF_TOL, diag_err=e_diag)
    assert ok and e_diag <= DIAG_TOL, (e_off, e_diag)


def test_cross_gram_matches_reference():
    X, X2 = _tokens(5, 5, 3, 2.0, 0), _tokens(2, 5, 3, 0.5, 1)
    d1, d2 = T.ntk_diagonal(X), T.ntk_diagonal(X2)
    assert _rel_err(T.ntk_gram(X, X2), reference_gram(X, X2), d1, d2) <= OFF_TOL


@pytest.mark.selftest
def test_reference_check_catches_constant_k0(store):
    e_off, _ = reference_errors(_tokens(5, 3, 3, 1.0, 0), k0_fn=lambda k0: jnp.full_like(k0, 0.5))
    assert record_power(store, "K-psd", "k0 replaced by constant 1/2 (vs reference)", e_off > OFF_TOL,
                        max_err=e_off)


# ---- L = 1 ------------------------------------------------------------------------------------------

@given(X=kernel_tokens(), yseed=seeds())
@example(X=_tokens(5, 1, 3, 0.1, 0), yseed=0)  # r = 0.1
@example(X=_tokens(5, 1, 3, 10.0, 1), yseed=1)  # r = 10
@example(X=_tokens(1, 1, 1, 1.0, 2), yseed=2)  # n = 1
def test_length_one_gives_zero_kernel_and_infinite_bound(store, X, yseed):
    X = X[:, :1]  # every drawn array, cut to L = 1
    y = np.random.default_rng(yseed).standard_normal(X.shape[0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")  # no division-by-zero or invalid-value warning either
        H = T.ntk_gram(X)
        g1 = T.g1_bound(H, y)
        g2 = T.g2_bound(H, movement=1.0, train_loss=0.0)
        C = T.complexity(H, y)
    err = float(np.max(np.abs(H)))
    ok = record_identity(store, "K-L1", _cfg(X), yseed, err, 0.0)
    assert ok, f"H != 0 at L = 1 (max |H| = {err})"
    for b in (g1, g2):
        assert b.value == math.inf and b.vacuous and "L = 1" in b.reason
    assert C == math.inf


@pytest.mark.selftest
def test_length_one_check_fails_at_length_two(store):
    # The same check at L = 2 must fail: H != 0 and the bound is finite.
    X = _tokens(5, 2, 3, 1.0, 0)
    H = T.ntk_gram(X)
    g1 = T.g1_bound(H, np.sin(X[:, 0, 0]))
    caught = float(np.max(np.abs(H))) > 0 and math.isfinite(g1.value)
    assert record_power(store, "K-L1", "L = 2 passed to the L = 1 check", caught,
                        max_abs_H=float(np.max(np.abs(H))))


# ---- zero prefixes and rounding of rho ---------------------------------------------------------

@given(X=kernel_tokens(min_L=2), k=st.integers(1, 4))
@example(X=_tokens(5, 5, 3, 0.1, 0), k=4)  # r = 0.1, only the last token is non-zero
@example(X=_tokens(5, 5, 3, 10.0, 1), k=1)  # r = 10
@example(X=_tokens(1, 2, 1, 1.0, 2), k=1)  # n = 1, L = 2: the only token left is X_L
def test_zero_prefix(store, X, k):
    X = X.copy()
    k = min(k, X.shape[1] - 1)
    X[:, :k] = 0.0  # g_1 = ... = g_k = 0 exactly: ab = 0 at those layers
    if X.shape[0] > 1:
        X[0] = 0.0  # and one all-zero sequence: its row of H is exactly 0
    H = T.ntk_gram(X)
    assert np.all(np.isfinite(H))
    if X.shape[0] > 1:
        assert np.all(H[0] == 0.0) and np.all(H[:, 0] == 0.0)
    e_off, e_diag = reference_errors(X)
    ok = record_identity(store, "K-psd", _cfg(X, zero_prefix=k, what="zero prefix vs reference"),
                         _seed_of(X), e_off, OFF_TOL, diag_err=e_diag)
    assert ok and e_diag <= DIAG_TOL, (e_off, e_diag)


@pytest.mark.parametrize("r", [1e-6, 1.0, 1e6])
def test_rho_rounding_gives_no_nan(store, r):
    # Identical sequences in a cross-Gram (rho = 1 up to rounding) and opposite sequences
    # (rho = -1 at layer 1), at tiny and huge scales: clipping keeps arccos finite.
    X = _tokens(5, 5, 3, r, 0)
    Hc = T.ntk_gram(X, X.copy())
    Hn = T.ntk_gram(X, -X)
    assert np.all(np.isfinite(Hc)) and np.all(np.isfinite(Hn))
    f = diag_formula(X)
    err = float(np.max(np.abs(np.diag(Hc) - f) / f))
    assert record_identity(store, "K-diag", _cfg(X, what="identical sequences, cross-Gram"), 0,
                           err, DIAG_TOL), err


def _arccos_unclipped(a, b, c, xp=jnp):
    ab = a * b
    pos = ab > 0
    sq = xp.sqrt(xp.where(pos, ab, 1.0))
    rho = c / sq  # no clip: the bug the clip prevents
    t = xp.arccos(rho)
    k0 = xp.where(pos, (xp.pi - t) / (2 * xp.pi), 0.0)
    k1 = xp.where(pos, sq * (xp.sin(t) + (xp.pi - t) * rho) / (2 * xp.pi), 0.0)
    return k0, k1


@pytest.mark.selftest
@pytest.mark.parametrize("r", [1e-6, 1e6])
def test_rho_check_catches_missing_clip(store, monkeypatch, r):
    # Without the clip, rounding pushes some rho a hair above 1 and arccos returns NaN. The
    # NumPy tiles of ntk_gram look the function up at each call, so the patched one is used.
    # Whether a given rho rounds above 1 depends on the draw: 4 draws of 5 sequences x 5 layers
    # (measured: 3 of the 4 give NaNs at each scale) make a miss very unlikely.
    monkeypatch.setattr(K, "_arccos_kernels", _arccos_unclipped)
    nans = 0
    with np.errstate(invalid="ignore"):
        for seed in range(4):
            X = _tokens(5, 5, 3, r, seed)
            H = T.ntk_gram(X, X.copy())
            nans += int(np.sum(~np.isfinite(H)))
    assert record_power(store, "K-diag", f"arccos without clip (r = {r:g})", nans > 0, nan_count=nans)


# ---- Monte-Carlo convergence of the empirical NTK (K-mc) ----------------------------------------

# The registry's law: relative Frobenius error ~ m^-0.5, tol 0.2 on the fitted exponent (CLT over
# m i.i.d. neurons). Widths 256, 1024, 4096, 4 seeds each: measured fits -0.52 .. -0.57 over three
# data seeds. The wrong kernel (k0 constant) leaves an O(1) error that does not shrink with m.
MC_DESIGN = MCDesign(widths=(256, 1024, 4096), n=6, L=5, d=3, scale=1.5, seeds=4, data_seed=0)


def test_empirical_ntk_converges_at_rate_half(store):
    recs, fit = kernel_mc_records(MC_DESIGN)
    store.extend(recs)
    assert fit["verdict"] == "supported", fit
    assert fit["mean_rel_err"][-1] < fit["mean_rel_err"][0], fit


@pytest.mark.selftest
def test_mc_check_catches_wrong_kernel(store):
    # Two seeds suffice for the mutant: its error stays ~0.4 at every width (fitted rate ~ -0.06).
    design = MCDesign(widths=MC_DESIGN.widths, n=MC_DESIGN.n, L=MC_DESIGN.L, d=MC_DESIGN.d,
                      scale=MC_DESIGN.scale, seeds=2, data_seed=MC_DESIGN.data_seed)
    _, fit = kernel_mc_records(design, k0_fn=lambda k0: jnp.full_like(k0, 0.5))
    caught = fit["verdict"] == "not supported"
    record_power(store, "K-mc", "k0 replaced by constant 1/2", caught,
                 fitted_rate=fit["fitted_rate"], mean_rel_err=fit["mean_rel_err"])
    assert caught, fit

