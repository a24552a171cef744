"""The wiring between models/, theory/ and the stored verdicts (issue 10, item 6).

Every record field that feeds a verdict is recomputed here *independently from the case* (data
regenerated from its seeds, the kernel solved with numpy rather than ``kernel_solve``, the bound
written out by hand, the network retrained through the public API) and compared with what
``evaluate_bound_case`` stored. A second, store-level check re-derives every stored term and
verdict from the record's own fields (``reports.cases._audit``), and is shown to catch a tampered
record. Small sizes: the module runs in seconds once compiled.
"""

from __future__ import annotations

import copy
import math

import jax
import numpy as np
import pytest
from scipy.optimize import brentq

import models as M
import theory as T
from checks._tolerance import between, network_rtol, ntk_rtol, training_rtol
from models import _keys
from reports.cases._audit import audit_bound_record, audit_records
from reports.cases._evaluate import BoundCase, evaluate_bound_case

pytestmark = pytest.mark.fast

CASE = BoundCase(L=3, d=3, m=64, n=48, n_test=200, n_gap=300, steps=30, seeds=2,
                 family="additive", f="sin", scale=1.3, input_scale=1.3, data_seed=4,
                 target_seed=2, init_seed=5)
SGD_CASE = BoundCase(**{**CASE.__dict__, "method": "sgd", "steps": 40, "lr_frac": 0.5})
GAMMA = 1.1

# Tolerances. FORMULA: float64 arithmetic of the same expression in another order (1e-12 would
# do; 1e-10 leaves room for the solves). Quantities that pass through the float32 network
# (empirical NTK, training, f_lin) are computed batched differently (vmapped seeds at the length
# bucket vs one seed at L): ``_net_tols`` derives their tolerances per seed (checks/_tolerance.py).
FORMULA = 1e-10


def _net_tols(case, p, W, K):
    """Relative tolerances (K, eta, W) of a seed's float32 numbers (checks/_tolerance.py), at the
    longer of the two programs' lengths (the evaluation runs at the length bucket):
    - K: ntk_rtol, entrywise in units of sqrt(K_ii K_jj): the trace relatively;
    - eta = c / lambda_max(K) (GD): ||dK||_2 <= ||dK||_F <= ntk_rtol trace(K) (the matrix
      sqrt(K_ii K_jj) has Frobenius norm trace K), relatively ntk_rtol trace / lambda_max; SGD's
      eta comes from the float64 H: FORMULA;
    - W and what is computed from it at the same step size (movement, f_lin, u, the risks): the
      run's training_rtol plus two evaluations of f_lin's JVP / u's forward (two passes)."""
    L = M.length_bucket(case.L)
    tol_k = ntk_rtol(case.m, case.d, L)
    tol_lr = (tol_k * float(np.trace(K)) / float(np.linalg.eigvalsh(K)[-1]) if case.method == "gd"
              else FORMULA)
    tol_w = (training_rtol(case.m, case.d, L, case.steps, p.W, W)
             + between(network_rtol(case.m, case.d, L, passes=2)))
    return tol_k, tol_lr, tol_w


def _near(a, b, tol, scale=0.0):
    """|a - b| <= tol (|b| + scale): ``scale`` is the size of the predictions a risk is a mean of
    (the loss min(1, |u - y|) is 1-Lipschitz, so an error tol |u| in u moves it by <= tol max|u|)."""
    return abs(float(a) - float(b)) <= tol * (abs(float(b)) + scale)


def _by(records, claim, seed_index=None):
    out = [r for r in records if r["claim"] == claim
           and (seed_index is None or r["config"].get("seed_index") == seed_index)]
    assert out, f"no {claim} record"
    return out


@pytest.fixture(scope="module")
def gd_records():
    return evaluate_bound_case(CASE)


@pytest.fixture(scope="module")
def sgd_records():
    return evaluate_bound_case(SGD_CASE)


def _data(case):
    """The case's data protocol, derived here from its definition (docs/theory.md section 4,
    "Independence"), not through models.case_keys: each stream is key(data_seed) folded with its
    domain's tag; SGD's sample is the one stream every seed consumes."""
    task = case.task()
    dom = lambda d: jax.random.fold_in(jax.random.key(case.data_seed), _keys.TAGS[d])  # noqa: E731
    Xte, yte = task.sample(dom("test"), case.n_test)
    Xgap = task.tokens.sample(dom("gap"), case.gap_inputs)
    keys = None
    if case.method == "gd":
        X, y = task.sample(dom("train"), case.n)
    else:
        keys = [dom("sgd")] * case.seeds  # one stream, shared by the seeds
        X, y = M.sgd_samples(task, keys[0], case.steps)
    return task, X, y, Xte, yte, Xgap, keys


def _by_hand(B, trace, n, delta, train_loss):
    """docs/theory.md section 4's G1/G2 right-hand side, written out (two-sided grid)."""
    j = math.ceil(math.log(B) / math.log(GAMMA)) if B > 0 else 0
    while GAMMA**j < B:
        j += 1
    while GAMMA ** (j - 1) >= B:
        j -= 1
    main = 2 * GAMMA**j * math.sqrt(trace) / n
    conf = 3 * math.sqrt(math.log(3 * (abs(j) + 1) * (abs(j) + 2) / delta) / (2 * n))
    return train_loss + main + conf, j


def _kl_end(mean, n, delta, upper):
    """The Chernoff-KL confidence end written out: the root of kl(mean || q) = log(1/delta) / n on
    one side of mean, by scipy's brentq (not the suite's bisection)."""
    if mean == (1.0 if upper else 0.0):
        return mean

    def f(q):
        t = mean * math.log(mean / q) if mean > 0 else 0.0
        return t + ((1 - mean) * math.log((1 - mean) / (1 - q)) if mean < 1 else 0.0) \
            - math.log(1 / delta) / n

    a, b = (mean, np.nextafter(1.0, 0.0)) if upper else (np.nextafter(0.0, 1.0), mean)
    return brentq(f, a, b, xtol=1e-15, rtol=1e-15)


def _ucb(losses, delta):
    return min(1.0, _kl_end(float(np.mean(losses)), len(losses), delta, True))


def _lcb_ucb(risk, n_test, delta_test):
    return _kl_end(risk, n_test, delta_test, False), _kl_end(risk, n_test, delta_test, True)


def _check_interval(m, case):
    lcb, ucb = _lcb_ucb(m["test_risk"], m["n_test"], case.delta_test)
    assert _rel(m["test_lcb"], lcb) <= FORMULA and _rel(m["test_ucb"], ucb) <= FORMULA


def _verdict_by_hand(value, risk, n_test, delta_test):
    if not math.isfinite(value):
        return "not-applicable"
    if _kl_end(risk, n_test, delta_test, False) > value:
        return "violation"
    return "vacuous" if value >= 1 else "holds"


def _clip(a, b):
    return np.minimum(1.0, np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def _rel(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-300)


def test_g1_record_recomputed_from_the_case(gd_records):
    _, X, y, Xte, yte, _, _ = _data(CASE)
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    H = np.asarray(T.ntk_gram(X64))
    alpha = np.linalg.solve(H, y64)
    B = math.sqrt(float(y64 @ alpha))
    value, j = _by_hand(B, float(np.trace(H)), CASE.n, CASE.delta, 0.0)
    risk = float(np.mean(_clip(T.ntk_gram(np.asarray(Xte, np.float64), X64) @ alpha, yte)))
    (g1,) = _by(gd_records, "G1")
    b, m = g1["bound"], g1["metrics"]
    assert _rel(b["B"], B) <= 1e-8 and b["grid_index"] == j and b["n"] == CASE.n
    assert _rel(b["trace"], np.trace(H)) <= FORMULA and b["delta"] == CASE.delta
    assert _rel(b["value"], value) <= 1e-8
    assert _rel(m["test_risk"], risk) <= 1e-8 and m["n_test"] == CASE.n_test
    assert g1["verdict"] == _verdict_by_hand(value, risk, CASE.n_test, CASE.delta_test)
    _check_interval(m, CASE)
    assert m["complexity"] == pytest.approx(B**2 * np.trace(H) / CASE.n, rel=1e-8)


def _retrain(case, lr_record=None):
    """The networks of the case, retrained through the public API, one seed at a time, at the
    records' step size ``lr_record`` (checked apart against ``lr``, this function's own: each
    number is then compared within its own computation's tolerance, not the step size's too)."""
    task, X, y, Xte, yte, Xgap, keys = _data(case)
    par = case.param
    k_init = jax.random.fold_in(jax.random.key(case.init_seed), _keys.TAGS["init"])
    P = M.init_seeds(jax.random.split(k_init, case.seeds),
                     M.RNNConfig(case.d, case.m, parametrization=case.parametrization))
    ps = [jax.tree.map(lambda a, s=s: a[s], P) for s in range(case.seeds)]
    Ks = [np.asarray(M.empirical_ntk(p, X), np.float64) for p in ps]
    H = np.asarray(T.ntk_gram(np.asarray(X, np.float64)))
    if case.method == "gd":
        lr = case.lr_frac / max(np.linalg.eigvalsh(K)[-1] for K in Ks)
        cfg = M.TrainConfig("gd", float(lr if lr_record is None else lr_record), case.steps,
                            centred=par.centred)
        Ws = [np.asarray(M.train(p, cfg, X, y, X_test=Xte, y_test=yte).W) for p in ps]
    else:
        lr = case.lr_frac / (par.kernel_scale(case.m) * float(np.max(np.diag(H))))
        cfg = M.TrainConfig("sgd", float(lr if lr_record is None else lr_record), case.steps,
                            centred=par.centred)
        Ws = [np.asarray(M.train(p, cfg, X_test=Xte, y_test=yte, task=task, key=keys[s]).W)
              for s, p in enumerate(ps)]
    return dict(X=X, y=y, Xte=Xte, yte=yte, Xgap=Xgap, ps=ps, Ks=Ks, H=H, lr=lr, Ws=Ws, par=par,
                lr_train=cfg.lr)


@pytest.fixture(scope="module")
def gd_retrained(gd_records):
    return _retrain(CASE, _by(gd_records, "G2", 0)[0]["metrics"]["lr"])


@pytest.fixture(scope="module")
def sgd_retrained(sgd_records):
    return _retrain(SGD_CASE, _by(sgd_records, "G2", 0)[0]["metrics"]["lr"])


def _check_seed_records(case, records, rt):
    y64 = np.asarray(rt["y"], np.float64)
    n = len(y64)
    # f_ker does not depend on the seed (one step size for all seeds): computed once
    H = rt["H"]
    eta_eff = rt["lr_train"] * rt["par"].kernel_scale(case.m)  # the records' step size
    Hc = T.ntk_gram(np.asarray(rt["Xgap"], np.float64), np.asarray(rt["X"], np.float64))
    ker = (T.kernel_gd_predictor(H, y64, eta_eff, case.steps, Hc) if case.method == "gd"
           else T.kernel_sgd_predictor(H, y64, eta_eff, Hc))
    ker_train = float(np.mean(_clip(ker.train_pred, y64)))
    g1_value, _ = _by_hand(ker.B, float(np.trace(H)), n, case.delta, ker_train)
    for s, (p, K, W) in enumerate(zip(rt["ps"], rt["Ks"], rt["Ws"])):
        lin = {k: np.asarray(M.linearized_predict(p, W, rt[k], centred=rt["par"].centred), np.float64)
               for k in ("X", "Xte", "Xgap")}
        net = {k: np.asarray(M.predict_u(p, W, rt[k], centred=rt["par"].centred), np.float64)
               for k in ("X", "Xte", "Xgap")}
        movement = float(np.linalg.norm(W - np.asarray(p.W)))
        tol_k, tol_lr, tol_w = _net_tols(case, p, W, K)
        fs = max(float(np.max(np.abs(v))) for d in (lin, net) for v in d.values())  # risks' scale
        lin_train = float(np.mean(_clip(lin["X"], y64)))
        g2_value, _ = _by_hand(movement, float(np.trace(K)), n, case.delta, lin_train)
        (g2,) = _by(records, "G2", s)
        assert _near(g2["bound"]["B"], movement, tol_w)
        assert _near(g2["bound"]["trace"], np.trace(K), tol_k)
        assert _near(g2["bound"]["train_loss"], lin_train, tol_w, fs)
        assert _near(g2["bound"]["value"], g2_value, tol_w + tol_k, fs)  # sqrt(trace): tol_k / 2
        lin_risk = float(np.mean(_clip(lin["Xte"], rt["yte"])))
        assert _near(g2["metrics"]["test_risk"], lin_risk, tol_w, fs)
        assert _near(g2["metrics"]["lr"], rt["lr"], tol_lr)
        # G2-net: G2 + UCB of the network's distance to f_lin on the gap inputs
        (g2n,) = _by(records, "G2-net", s)
        gap = _clip(net["Xgap"], lin["Xgap"])
        assert g2n["bound"]["n_gap"] == case.gap_inputs == len(gap)
        assert _near(g2n["bound"]["gap_ucb"], _ucb(gap, case.delta_gap), tol_w, fs)
        assert _near(g2n["bound"]["value"], g2_value + _ucb(gap, case.delta_gap), tol_w + tol_k, fs)
        net_risk = float(np.mean(_clip(net["Xte"], rt["yte"])))
        assert _near(g2n["metrics"]["test_risk"], net_risk, tol_w, fs)
        # G1-net: G1 of the kernel predictor at the same steps and effective step + its gap
        (g1n,) = _by(records, "G1-net", s)
        gap1 = _clip(net["Xgap"], ker.test_pred)
        assert _near(g1n["bound"]["B"], ker.B, tol_w)
        assert _near(g1n["bound"]["base_value"], g1_value, tol_w, fs)
        assert _near(g1n["bound"]["value"], g1_value + _ucb(gap1, case.delta_gap), tol_w, fs)
        for r in (g2, g2n, g1n):
            m = r["metrics"]
            _check_interval(m, case)
            assert r["verdict"] == _verdict_by_hand(r["bound"]["value"], m["test_risk"], m["n_test"],
                                                    case.delta_test), r["claim"]


def test_gd_seed_records_recomputed_from_the_case(gd_records, gd_retrained):
    _check_seed_records(CASE, gd_records, gd_retrained)


def test_sgd_seed_records_recomputed_from_the_case(sgd_records, sgd_retrained):
    _check_seed_records(SGD_CASE, sgd_records, sgd_retrained)


def test_kernel_gd_predictor_is_the_linearized_network_in_function_space():
    """f_ker's definition: with K = c H and eta' = eta c, kernel GD from 0 is the function-space
    GD of the centred linearization, u_t = (I - (I - eta' H)^t) y on the sample, exactly."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    H = A @ A.T + 0.1 * np.eye(6)
    y = rng.standard_normal(6)
    eta = 0.9 / np.linalg.eigvalsh(H)[-1]
    u = np.zeros(6)
    for _ in range(25):
        u = u - eta * H @ (u - y)
    ker = T.kernel_gd_predictor(H, y, eta, 25, H)
    assert np.allclose(ker.train_pred, u, rtol=1e-10, atol=1e-12)
    assert np.allclose(ker.test_pred, u, rtol=1e-10, atol=1e-12)  # H(S, S) as cross-kernel
    coef = np.linalg.solve(H, u)
    assert ker.B == pytest.approx(math.sqrt(coef @ H @ coef), rel=1e-9)
    # online kernel SGD: alpha_t = -eta (f(x_t) - y_t), written as a loop over explicit sums
    sgd = T.kernel_sgd_predictor(H, y, eta)
    alpha = np.zeros(6)
    for t in range(6):
        alpha[t] = -eta * (sum(alpha[s] * H[s, t] for s in range(t)) - y[t])
    assert np.allclose(sgd.train_pred, H @ alpha, rtol=1e-12)
    assert sgd.B == pytest.approx(math.sqrt(alpha @ H @ alpha), rel=1e-12)


# ---- the verdict rule, placed on either side of the LCB --------------------------------------

def test_wrong_bound_between_lcb_and_risk_holds_and_below_lcb_violates(gd_records):
    """A bound placed between the network's risk LCB and its point estimate must come out
    'holds' (the margin protects it); one below the LCB must come out 'violation'."""
    (rec,) = _by(gd_records, "G2-net", 0)
    lcb, risk = rec["metrics"]["test_lcb"], rec["metrics"]["test_risk"]
    assert lcb < risk
    between = evaluate_bound_case(CASE, mutant=lambda b: (lcb + risk) / 2)
    below = evaluate_bound_case(CASE, mutant=lambda b: lcb - 1e-3)
    (b1,) = _by(between, "G2-net", 0)
    (b2,) = _by(below, "G2-net", 0)
    assert b1["metrics"]["test_lcb"] == lcb  # the same networks and test sample
    assert b1["verdict"] == "holds" and b2["verdict"] == "violation"
    assert all(r["metrics"]["mutant"] for r in between + below)
    # mutant records never share an id with the real ones (the store keeps both)
    assert not {r["case_id"] for r in between} & {r["case_id"] for r in gd_records}


# ---- the store-level audit ------------------------------------------------------------------

def test_every_stored_term_and_verdict_rederives(gd_records, sgd_records):
    rep = audit_records(gd_records + sgd_records)
    assert rep["audited"] == len(gd_records) + len(sgd_records)
    assert rep["mismatches"] == []


@pytest.mark.selftest
@pytest.mark.parametrize("field, change", [
    ("verdict", lambda r: "holds" if r["verdict"] != "holds" else "violation"),
    ("value", lambda r: r["bound"].__setitem__("value", r["bound"]["value"] * 0.9)),
    ("main_term", lambda r: r["bound"].__setitem__("main_term", r["bound"]["main_term"] / 10)),
    ("confidence_term", lambda r: r["bound"].__setitem__("confidence_term", 0.0)),
    ("gap_ucb", lambda r: r["bound"].__setitem__("gap_ucb", r["bound"]["gap_mean"])),
    ("grid_index", lambda r: r["bound"].__setitem__("grid_index", r["bound"]["grid_index"] + 1)),
    ("vacuous", lambda r: r["bound"].__setitem__("vacuous", not r["bound"]["vacuous"])),
    ("test_risk", lambda r: r["metrics"].__setitem__("test_risk", r["bound"]["value"] + 0.5)),
])
def test_audit_catches_a_tampered_record(gd_records, field, change):
    rec = copy.deepcopy(_by(gd_records, "G1-net", 0)[0])
    assert audit_bound_record(rec) == []
    if field == "verdict":
        rec["verdict"] = change(rec)
    else:
        change(rec)
    assert audit_bound_record(rec), f"a tampered {field} went unnoticed"
