"""Iteration complexity T_eps(L) (reports/cases/_iteration_complexity.py, docs/theory.md section 6).

- exact: ``theory.kernel_gd_path`` (one eigendecomposition, every t) is kernel GD, i.e. it equals
  the explicit iteration alpha <- alpha - eta' (H alpha - y), f_t = H(., S) alpha_t, and
  ``kernel_gd_predictor`` at every t; its t = inf row is the minimum-norm interpolant;
- exact: the item's network GD loop (test risk read at the grid's checkpoints) is ``models.train``'s
  GD: the same W_T to a float32 tolerance derived in checks/_tolerance.py;
- censoring honoured: a T_eps not reached by T_max is None in the record, NaN and counted as
  censored in the fit, never replaced by T_max; the fit's keys are ``fit_sample_complexity``'s;
- the fit on synthetic curves (fast): polynomial class / exponential control is "supported", the
  control as the class "not supported", and T_eps never decides;
- measured (slow): at one cheap point the trained lazy network's T_eps agrees with kernel GD's at
  its own step within one grid point. That the control's T_eps grows faster than the class's is
  NOT asserted: at fixed n the control is censored by the sample beyond L = 3 (docs section 6).
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import models as M
import theory as T
from checks._tolerance import training_rtol
from reports.cases._iteration_complexity import (
    IterationComplexityDesign,
    first_reached,
    fit_iteration_complexity,
    grid_steps_apart,
    iteration_complexity_records,
    iteration_scaling_records,
    network_gd_path,
    network_records,
)
from reports.cases._records import make_record
from reports.cases._sample_complexity import SampleComplexityDesign, fit_sample_complexity

_U64 = np.finfo(np.float64).eps


def _kernel_problem(seed: int, n: int, L: int = 3, d: int = 2):
    rng = np.random.default_rng(seed)
    X, Xt = rng.normal(size=(n, L, d)), rng.normal(size=(5, L, d))
    return T.ntk_gram(X), T.ntk_gram(Xt, X), rng.normal(size=(n, 2))


@pytest.mark.fast
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(3, 24), t=st.integers(0, 200),
       frac=st.sampled_from([1.0, 0.5, 0.1]))
def test_kernel_gd_path_is_explicit_kernel_gd(seed, n, t, frac):
    H, Hc, Y = _kernel_problem(seed, n)
    lam_max = np.linalg.eigvalsh(H)[-1]
    eta = frac / lam_max
    path = T.kernel_gd_path(H, Y, eta, (t, math.inf), Hc)
    alpha = np.zeros_like(Y)
    for _ in range(t):
        alpha = alpha - eta * (H @ alpha - Y)
    explicit = Hc @ alpha
    # Tolerance (absolute, per prediction). Both sides compute f_t = H(x, S) phi_t(H) y with
    # phi_t(l) = (1 - (1 - eta l)^t) / l = eta sum_{k<t} (1 - eta l)^k, so |phi_t| <= eta t and
    # |phi_t'| <= eta^2 t^2 / 2 on [0, lambda_max] (eta lambda_max <= 1). The eigendecomposition is
    # backward stable (an exact one of H + E, ||E|| <= c n u ||H||), so phi_t(H) errs by <= Lip(phi_t)
    # ||E|| <= (eta t)^2 n u ||H|| / 2 (times a log n factor for a matrix function); the explicit
    # iteration makes <= n u (||H|| ||alpha|| + ||y||) eta per step, i.e. <= t n u eta (||H|| eta t
    # + 1) ||y|| over t steps. With eta ||H|| <= 1 both are <= 2 t^2 n u eta ||y|| (t >= 1); times
    # ||H(x, S)|| for the prediction, and a safety factor 16 for the constants c and log n.
    tol = 16 * max(t, 1) ** 2 * n * _U64 * eta * np.linalg.norm(Hc, 2) * np.linalg.norm(Y, axis=0)
    assert np.all(np.abs(path.pred[0] - explicit) <= tol + 1e-300)
    for j in range(Y.shape[1]):  # the one closed form of theory/_predictors.py, column by column
        ref = T.kernel_gd_predictor(H, Y[:, j], eta, t, Hc).test_pred
        assert np.all(np.abs(path.pred[0][:, j] - ref) <= tol[j] + 1e-300)
        interp = T.kernel_interpolant(H, Y[:, j], Hc).test_pred
        # the limit row: the interpolant (the kept directions are all of them at this conditioning)
        cond = lam_max / np.linalg.eigvalsh(H)[0]
        assert np.allclose(path.pred[1][:, j], interp, rtol=0,
                           atol=16 * n * _U64 * cond * np.linalg.norm(Hc, 2) / lam_max
                           * np.linalg.norm(Y[:, j]))
    assert path.eta_eff == eta and path.lam_max == pytest.approx(lam_max, rel=1e-12)


@pytest.mark.fast
def test_kernel_gd_path_default_step_and_bad_input():
    H, Hc, Y = _kernel_problem(0, 10)
    p = T.kernel_gd_path(H, Y[:, 0], None, [1, 5], Hc)
    assert p.eta_eff == pytest.approx(1 / np.linalg.eigvalsh(H)[-1], rel=1e-12)
    assert p.pred.shape == (2, 5)
    # a wrong step count (t - 1, the off-by-one mutant) differs far beyond the exact tolerance
    q = T.kernel_gd_path(H, Y[:, 0], None, [4], Hc)
    assert np.max(np.abs(q.pred[0] - p.pred[1])) > 1e-3 * np.max(np.abs(p.pred[1]))
    with pytest.raises(ValueError, match="steps"):
        T.kernel_gd_path(H, Y, None, [-1], Hc)
    with pytest.raises(ValueError, match="eta_eff"):
        T.kernel_gd_path(H, Y, 0.0, [1], Hc)
    with pytest.raises(ValueError, match="H_cross"):
        T.kernel_gd_path(H, Y, None, [1], Hc[:, :3])
    assert T.PROVENANCE["kernel_gd_path"] == "exact"


@pytest.mark.fast
def test_first_reached_and_grid_distance():
    ts = (1, 2, 3, 4, 6, 8)
    assert first_reached([0.9, 0.8, 0.6, 0.5, 0.4, 0.3], ts, 0.5) == 4
    assert first_reached([0.9, 0.8, 0.6, 0.55, 0.6, 0.51], ts, 0.5) is None  # censored
    assert grid_steps_apart(4, 6, ts) == 1 and grid_steps_apart(3, 8, ts) == 3
    assert grid_steps_apart(None, 8, ts) == 1 and grid_steps_apart(None, None, ts) == 0


@pytest.mark.fast
def test_design_defaults_and_validation():
    sc = SampleComplexityDesign(claims=("C2",), Ls=(2, 3, 4), n_max=64, seeds=(0, 1), n_test=50)
    d = IterationComplexityDesign(sc, T_max=64)
    assert (d.claims, d.Ls, d.seeds, d.eps, d.n_test) == (("C2",), (2, 3, 4), (0, 1), sc.eps, 50)
    assert d.n_per_L == (64, 64, 64) and d.cap(3) == 64 and d.n_min == 1
    assert d.ts() == (1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64)
    assert d.sigma_floor == pytest.approx(math.log(2) / 2 / math.sqrt(12))
    assert not d.sized_to_decide
    with pytest.raises(ValueError, match="n_per_L"):
        IterationComplexityDesign(sc, n_per_L=(10,))
    with pytest.raises(ValueError, match="net_points"):
        IterationComplexityDesign(sc, net_points=((5, "C2", 0),))
    with pytest.raises(ValueError, match="net_points"):
        IterationComplexityDesign(sc, net_points=((2, "C4-N", 0),))
    with pytest.raises(ValueError, match="T_max"):
        IterationComplexityDesign(sc, T_max=1)
    with pytest.raises(ValueError, match="lr_frac"):
        IterationComplexityDesign(sc, lr_frac=1.5)
    with pytest.raises(ValueError, match="claims"):
        IterationComplexityDesign(sc, claims=("C9",))


def _synthetic(design, T_class, T_control):
    """Records of the item's kind with given T values (None: censored), one per (L, role, seed)."""
    out = []
    for role, table in (("class", T_class), ("control", T_control)):
        for i, s in enumerate(design.seeds):
            for j, L in enumerate(design.Ls):
                cfg = {"claim": "C2", "L": L, "role": role}
                out.append(make_record("iteration-complexity", "C2", cfg, s, verdict="measured",
                                       metrics={"T_eps": {str(design.eps[0]): table[i][j]}}))
    return out


@pytest.mark.fast
def test_fit_on_synthetic_curves_decides_and_honours_censoring():
    sc = SampleComplexityDesign(claims=("C2",), Ls=(2, 3, 4, 5, 6, 8), seeds=(0, 1, 2))
    d = IterationComplexityDesign(sc, T_max=512)
    ts = d.ts()
    snap = lambda v: min(ts, key=lambda t: abs(math.log(t / v)))  # noqa: E731 (values on the grid)
    poly = [[snap(4 * L**1.5 * (1 + 0.1 * s)) for L in d.Ls] for s in d.seeds]
    expo = [[snap(3 * 2.0**L * (1 + 0.1 * s)) if 3 * 2.0**L <= 512 else None for L in d.Ls]
            for s in d.seeds]
    recs = _synthetic(d, poly, expo)
    f = fit_iteration_complexity(recs, d, "C2")
    assert f["measure"] == "T_eps" and f["decides"] is False and f["sized_to_decide"] is False
    assert (f["class_model"], f["control_model"], f["verdict"]) == ("polynomial", "exponential",
                                                                    "supported")
    # censoring: the control's values above T_max are None in the records, NaN in the fit, counted
    assert f["control_censored"] == sum(v is None for row in expo for v in row) == 3
    assert all(math.isnan(f["n_control"][i][-1]) for i in range(3)) and f["n_cap"] == [512] * 6
    # the same keys as the sample-complexity fit (the report treats both alike)
    ref = fit_sample_complexity([{**r, "kind": "sample-complexity",
                                  "metrics": {"n_eps": r["metrics"]["T_eps"]}} for r in recs],
                                d, "C2", kind="sample-complexity")
    assert set(f) == set(ref)
    # power: the control as the class is rejected
    g = fit_iteration_complexity(_synthetic(d, expo, expo), d, "C2")
    assert g["verdict"] == "not supported at these sizes"


@pytest.fixture(scope="module")
def tiny_kernel_records():
    sc = SampleComplexityDesign(claims=("C2",), Ls=(2, 3, 4), n_max=64, seeds=(0, 1), n_test=200,
                                sized_to_decide=False)
    d = IterationComplexityDesign(sc, T_max=256)
    recs = iteration_complexity_records(d)
    return d, recs, iteration_scaling_records(d, recs)


@pytest.mark.fast
def test_records_read_the_path_and_censor(tiny_kernel_records):
    d, recs, fits = tiny_kernel_records
    ts = d.ts()
    assert {r["config"]["role"] for r in recs} == {"class", "control"}
    assert len(recs) == len(d.Ls) * 2 * len(d.seeds)
    for r in recs:
        m = r["metrics"]
        for e in d.eps:
            t = m["T_eps"][str(e)]
            rel = np.asarray(m["rel_risk"])
            if t is None:  # censored: no grid point up to T_max reaches eps (never set to T_max)
                assert np.all(rel > e)
            else:  # the first grid point that reaches eps
                i = ts.index(t)
                assert rel[i] <= e and np.all(rel[:i] > e)
            # the limit misses eps => no step count reaches it... unless GD stops early below it
            if not m["reachable"][str(e)]:
                assert m["rel_risk_limit"] > e
    assert len(fits) == len(d.claims) * len(d.eps)
    for f in fits:
        assert f["kind"] == "iteration-scaling" and f["metrics"]["measure"] == "T_eps"
        assert f["metrics"]["decides"] is False
        assert f["verdict"] in T.SCALING_VERDICTS
        # the note counts the censored values that are sample limits, role by role
        e = str(f["metrics"]["eps"])
        lim = {role: sum(r["config"]["role"] == role and r["claim"] == f["claim"]
                         and r["metrics"]["T_eps"][e] is None and not r["metrics"]["reachable"][e]
                         for r in recs) for role in ("class", "control")}
        assert f"sample limits (the interpolant misses eps at this n; not iteration counts): " \
               f"class {lim['class']}, control {lim['control']}" in f["note"]


@pytest.mark.fast
def test_network_gd_loop_is_models_gd():
    L, d, m, n, steps = 3, 3, 32, 12, 20
    key = jax.random.key(5)
    tok = M.TokenDistribution(L, d, 1.0)
    X = np.asarray(tok.sample(jax.random.fold_in(key, 1), n))
    Xte = np.asarray(tok.sample(jax.random.fold_in(key, 2), 7))
    y = np.sin(X[:, -1, 0] * 2)
    params = M.init_seeds(jax.random.split(jax.random.fold_in(key, 3), 1), M.RNNConfig(d, m))
    p0 = M.Params(*(a[0] for a in params))
    lr = 0.5 / float(np.max(np.linalg.eigvalsh(np.asarray(M.empirical_ntk(p0, X)))))
    ours = network_gd_path(p0, X, y, Xte, lr, (steps // 2, steps))[-1]
    rec = M.train(p0, M.TrainConfig("gd", lr, steps), X, y, X_test=Xte, y_test=np.zeros(7))
    theirs = np.asarray(M.predict_u(p0, rec.W, Xte), np.float64)
    # two float32 runs of the same GD (checks/_tolerance.py item 3): relative to the movement of
    # u, which is what training changes (u = 0 at init)
    rtol = training_rtol(m, d, L, steps, p0.W, rec.W)
    assert np.max(np.abs(ours - theirs)) <= rtol * np.max(np.abs(theirs))
    assert np.max(np.abs(theirs)) > 0


@pytest.mark.slow
def test_lazy_network_t_eps_agrees_with_kernel_gd_at_a_cheap_point():
    """Measured (docs/theory.md section 6): C2, L = 2, seed 0, n = 256, m = 256, GD at the bound
    cases' eta = 1 / lambda_max(K_m): the network's T_eps(0.5) = 16 against kernel GD's 11 at the
    same effective step (adjacent grid points); at eps = 0.25, 64 against 45."""
    sc = SampleComplexityDesign()
    d = IterationComplexityDesign(sc, net_points=((2, "C2", 0),), net_n=256, net_T_max=128)
    (r,) = network_records(d)
    m = r["metrics"]
    assert m["finite"] and 0.9 < m["eta_ratio"] < 1.1  # eta m ~ 1 / lambda_max(H): K_m ~ m H
    assert all(m["agree_gd"].values()), m
    assert m["T_eps_net_gd"]["0.5"] is not None


@pytest.mark.fast
def test_report_shows_t_eps_rows_and_disagreements(tiny_kernel_records):
    from reports.render._sample_complexity import render_sample_complexity

    d, recs, fits = tiny_kernel_records
    net = make_record("iteration-network", "C2", {"L": 2, "n": 64, "m": 64}, 0, verdict="measured",
                      metrics={"T_eps_net_gd": {"0.5": None}, "T_eps_kernel_gd_net_eta": {"0.5": 16},
                               "agree_gd": {"0.5": False}})
    text = "\n".join(render_sample_complexity(recs + fits + [net]))
    assert "## Iteration complexity in L" in text
    assert sum(line.startswith("| C2 | T_eps |") for line in text.splitlines()) == len(d.eps)
    assert "| 2 | C2 | 0 | 64 | 64 | 0.5 | censored | 16 | **no** | not run |" in text
    assert "sample limits" in text
