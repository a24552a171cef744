"""The large-n theory path: one Cholesky factor for a nested grid of n (theory.nested_cholesky)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import theory as T
from checks.strategies import seeds

pytestmark = pytest.mark.fast
EPS64 = np.finfo(np.float64).eps


def _sample(n, L, seed, scale=1.0):
    return np.random.default_rng(seed).standard_normal((n, L, 3)) * (scale / np.sqrt(3))


@given(n=st.sampled_from((1, 3, 12)), L=st.sampled_from((2, 4)), seed=seeds(),
       scale=st.sampled_from((0.1, 1.0, 10.0)), overwrite=st.booleans())
@example(n=12, L=4, seed=0, scale=1.0, overwrite=True)
def test_leading_blocks_of_one_factor_solve_every_prefix(n, L, seed, scale, overwrite):
    """quad_k, alpha_k and tr H_k from one factorization equal kernel_solve on each H[:k, :k]."""
    X = _sample(n, L, seed, scale)
    H = T.ntk_gram(X)
    Y = np.random.default_rng(seed + 1).standard_normal((n, 2))
    H_copy = H.copy()
    nc = T.nested_cholesky(H, overwrite=overwrite)
    if not overwrite:
        assert np.array_equal(H, H_copy)
    z = nc.forward(Y)
    q = nc.quads(z)
    assert nc.cond_est >= 1.0
    for k in range(1, n + 1):
        Hk = H_copy[:k, :k]
        for c in range(Y.shape[1]):
            ref = T.kernel_solve(Hk, Y[:k, c])
            tol = 100 * k * EPS64 * max(ref.cond, nc.cond_est)
            assert q[k - 1, c] == pytest.approx(ref.quad, rel=tol)
            np.testing.assert_allclose(nc.alpha(z[:, c], k), ref.alpha,
                                       rtol=0, atol=tol * np.max(np.abs(ref.alpha)))
        assert nc.trace(k) == pytest.approx(np.trace(Hk), rel=1e-15)


def test_a_wrong_prefix_rule_is_caught():
    """Power: the trailing block (the last k points) is not solved by the factor's leading block;
    the comparison above would reject a version that sliced the wrong end."""
    X = _sample(8, 3, 0)
    H = T.ntk_gram(X)
    y = np.random.default_rng(1).standard_normal(8)
    q = T.nested_cholesky(H).quads(T.nested_cholesky(H).forward(y))
    wrong = T.kernel_solve(H[-4:, -4:], y[-4:]).quad
    assert abs(q[3] - wrong) > 1e-3 * wrong


def test_singular_gram_raises_clearly():
    X = _sample(5, 3, 0)
    H = T.ntk_gram(X)
    H[4], H[:, 4] = H[1], H[:, 1]  # exactly singular: two equal rows (a duplicate sequence)
    with pytest.raises(T.SingularKernelError, match="not positive definite|condition number"):
        T.nested_cholesky(H)
    X[4] = 0.0  # an all-zero sequence: H_ii = 0
    with pytest.raises(T.SingularKernelError, match="diagonal"):
        T.nested_cholesky(T.ntk_gram(X))
    nc = T.nested_cholesky(np.eye(3))
    with pytest.raises(ValueError, match=r"Y must have shape \(3,\)"):
        nc.forward(np.ones(4))
    with pytest.raises(ValueError, match="k"):
        nc.alpha(np.ones(3), 4)


@given(seed=seeds(), scale=st.sampled_from((0.1, 1.0, 10.0)), delta=st.sampled_from((0.01, 0.05)))
@example(seed=0, scale=1.0, delta=0.05)
def test_g1_nested_equals_g1_on_each_prefix(seed, scale, delta):
    """theory.g1_nested (one factorization) gives g1_bound's terms on every leading block."""
    X = _sample(16, 3, seed, scale)
    H = T.ntk_gram(X)
    Y = np.random.default_rng(seed + 1).standard_normal((16, 2))
    ns = (1, 4, 9, 16)
    got = T.g1_nested(T.nested_cholesky(H), Y, ns, delta)
    for i, k in enumerate(ns):
        for c in range(2):
            ref = T.g1_bound(H[:k, :k], Y[:k, c], delta)
            g = got[i][c]
            assert (g.n, g.grid_index, g.name) == (ref.n, ref.grid_index, "G1")
            for f in ("value", "main_term", "confidence_term", "B", "trace"):
                assert getattr(g, f) == pytest.approx(getattr(ref, f), rel=1e-8), f


def test_large_n_design_records_and_report(tmp_path):
    """The large-n sweep item end to end at toy sizes: records, G1 equal to g1_bound on the
    prefix, the verdict rule, the report section and its plot."""
    from reports.cases._large import LargeNDesign, nonvacuous_by_n
    from reports.render._render import render
    from reports.runs._store import ResultsStore
    from reports.runs._sweep import SweepItem, run_sweep

    design = LargeNDesign(L=3, d=3, ns=(10, 30), n_test=40, target_seeds=(0, 1))
    store = ResultsStore(tmp_path / "results.jsonl")
    res = run_sweep([SweepItem("large-n", design)], store, progress=False)
    assert res.errors == 0
    recs = store.read().records
    g1 = [r for r in recs if r["kind"] == "bound"]
    assert len(g1) == 2 * 4 * 2 and len([r for r in recs if r["kind"] == "large-n"]) == 1
    # one record recomputed the direct way: the same sample, the same target, g1_bound on H[:n, :n]
    r = next(r for r in g1 if r["config"]["family"] == "parity" and r["config"]["n"] == 10)

    import models as M

    X32 = M.TokenDistribution(design.L, design.d).sample(M.stream_key(design.data_seed, "train"), 30)
    y = np.asarray(design.case("parity", r["config"]["target_seed"], 30).target()(X32), np.float64)
    X = np.asarray(X32, np.float64)
    ref = T.g1_bound(T.ntk_gram(X[:10]), y[:10], design.delta)
    assert r["bound"]["value"] == pytest.approx(ref.value, rel=1e-6)
    for r in g1:
        m = r["metrics"]
        assert r["verdict"] == T.bound_verdict(float(r["bound"]["value"]), m["test_risk"],
                                               m["n_test"], design.delta_test)
    rows = nonvacuous_by_n(recs)
    assert {(x["family"], x["n"]) for x in rows} == {(f, n) for f in design.families for n in design.ns}
    rep = render(store.read(), tmp_path / "report", plots=True)
    md = (tmp_path / "report" / "report.md").read_text()
    assert "G1 at large n" in md and "Cost at n_max = 30" in md
    pytest.importorskip("matplotlib")
    assert "g1_large_n.png" in rep["plots"]


def test_large_n_design_rejects_bad_grids():
    from reports.cases._large import LargeNDesign

    with pytest.raises(ValueError, match="strictly increasing"):
        LargeNDesign(ns=(20, 10))
    with pytest.raises(ValueError, match="families"):
        LargeNDesign(families=("bogus",))
    with pytest.raises(ValueError, match="L"):
        LargeNDesign(L=1)


def test_factored_ntk_row_blocks_equal_the_whole(monkeypatch):
    """The empirical NTK's (rows, n2, L, L) intermediate in row blocks (the last one padded with
    zero rows) gives the unblocked kernel."""
    import jax

    import models as M
    from models import _ntk

    p = M.init_params(jax.random.key(0), M.RNNConfig(3, 16))
    X = M.TokenDistribution(5, 3).sample(jax.random.key(1), 13)
    whole = np.asarray(_ntk._ntk_factored(p.W, p.A, p.B, X, X))
    monkeypatch.setattr(_ntk, "_BLOCK_ELEMS", 13 * 25 * 3)  # 3-row blocks, 5 of them
    blocked = np.asarray(jax.jit(_ntk._ntk_factored.__wrapped__)(p.W, p.A, p.B, X, X))
    np.testing.assert_allclose(blocked, whole, rtol=1e-6, atol=1e-6 * np.max(np.abs(whole)))
