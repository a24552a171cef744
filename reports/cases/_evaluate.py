"""Evaluation of a bound case: the harness shared by ``pytest checks/`` and the ``run`` sweep.

``evaluate_bound_case`` trains the networks of one ``BoundCase`` and evaluates them against the
bounds (G1, G2, G1-net, G2-net, the prior bounds and P), returning plain records for the results
store (``runs/_store.py``). The other evaluations stand beside it, one module each: ``_scaling``
(C2, C4, C1), ``_kernel_mc`` (K-mc), ``_training_facts`` (T-gd), ``_large`` (large n), ``_real``
(real data).
Assertions live in ``checks/``; verdicts here follow docs/theory.md section 4's violation rule and
section 5's fitting protocol, reading every claim from ``theory.REGISTRY``.
"""

from __future__ import annotations

import functools
import json
import math
import time
from dataclasses import asdict, dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

import models as M
import theory as T

from ._calibration_grid import C_LS, C_NS, GAP_MS
from ._case_validation import (
    FAMILIES,
    check_bound_case,
)
from ._records import make_record


@dataclass(frozen=True)
class BoundCase:
    """One configuration for the bound checks (G1, G2, G1-net, G2-net; docs/theory.md section 4).

    Paper symbols: L, N = len(positions), l_0 = spread, m, n, delta; r = ``scale`` (token norm).
    ``seeds`` networks are trained from independent initializations in one vmapped call, in the
    ``parametrization`` "lazy" (default: B ~ N(0, 1), centred predictor) or "contrast" (B ~ N(0, 1/m),
    uncentred; the negative control of the kernel regime). ``lr_frac`` = c sets the step:
    GD eta = c / lambda_max(K_m) (docs/theory.md section 4's stability condition at c <= 1); online SGD
    eta = c / (c(m) max_t H(x_t, x_t)) with c(m) the parametrization's kernel scale (m when lazy).
    The gap terms of G1-net / G2-net are estimated on ``n_gap`` fresh unlabelled inputs (default:
    n_test) at level ``delta_gap``.
    """

    L: int = 4
    d: int = 3
    m: int = 128
    n: int = 64
    n_test: int = 512
    scale: float = 1.0
    family: str = "additive"
    f: str = "sin"
    positions: tuple[int, ...] | None = None
    method: str = "gd"
    steps: int = 200
    lr_frac: float = 1.0
    seeds: int = 2
    delta: float = 0.05
    delta_test: float = 0.01
    input_scale: float = 1.0
    target_seed: int = 0
    data_seed: int = 0
    init_seed: int = 0
    parametrization: str = "lazy"
    n_gap: int | None = None
    delta_gap: float = 0.01

    def __post_init__(self):
        check_bound_case(self)  # every field's type and range, one line naming the field
        M.check_int("L", self.L, low=1)
        M.check_int("d", self.d, low=1)
        M.check_int("m", self.m, low=1)
        M.check_int("n", self.n, low=1)
        M.check_int("n_test", self.n_test, low=1)
        M.check_int("seeds", self.seeds, low=1)
        if self.n_gap is not None:
            M.check_int("n_gap", self.n_gap, low=1)
        M.check_float("scale", self.scale, low=0.0, low_open=True)
        M.check_float("delta", self.delta, low=0.0, high=1.0, low_open=True, high_open=True)
        M.check_float("delta_test", self.delta_test, low=0.0, high=1.0, low_open=True,
                      high_open=True)
        M.check_float("delta_gap", self.delta_gap, low=0.0, high=1.0, low_open=True,
                      high_open=True)
        M.check_float("lr_frac", self.lr_frac, low=0.0, low_open=True)
        M.get_parametrization(self.parametrization)
        if self.family not in FAMILIES:
            raise ValueError(f"family = {self.family!r} is not allowed: choose one of {list(FAMILIES)}")
        if self.positions is not None:
            object.__setattr__(self, "positions", M.check_positions(self.positions, self.L))
        M.TrainConfig(method=self.method, steps=self.steps)  # validates method / steps

    def target(self):
        L, d, s = self.L, self.d, self.target_seed
        if self.family == "additive":
            return M.AdditiveTarget.make(L, d, self.f, positions=self.positions, seed=s,
                                         input_scale=self.input_scale)
        if self.family == "n-variable":
            pos = self.positions if self.positions is not None else tuple(range(1, L + 1))
            return M.NVariableTarget.make(L, d, pos, self.f, seed=s, input_scale=self.input_scale)
        if self.family == "parity":
            return M.ParityTarget.make(L, d, self.positions, seed=s)
        return M.RandomLabelTarget.make(L, d, seed=s)

    def task(self) -> M.Task:
        return M.Task(M.TokenDistribution(self.L, self.d, self.scale), self.target())

    @property
    def N(self) -> int:
        return self.L if self.positions is None else len(self.positions)

    @property
    def l0(self) -> int:
        return self.L - 1 if self.positions is None else self.positions[-1] - self.positions[0]

    @property
    def gap_inputs(self) -> int:
        return self.n_test if self.n_gap is None else self.n_gap

    @property
    def param(self) -> M.Parametrization:
        return M.get_parametrization(self.parametrization)

    def config(self) -> dict:
        c = asdict(self)
        c["positions"] = None if self.positions is None else list(self.positions)
        c.update(N=self.N, l0=self.l0, trained="W", loss="squared", n_gap=self.gap_inputs)
        return c

    def to_json(self) -> str:
        c = asdict(self)
        c["positions"] = None if self.positions is None else list(self.positions)
        return json.dumps(c, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BoundCase:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"case is not valid JSON: {e.msg}") from None
        if not isinstance(raw, dict):
            raise ValueError("case JSON must be an object of BoundCase fields")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown BoundCase field(s) {sorted(unknown)}; "
                             f"allowed: {sorted(cls.__dataclass_fields__)}")
        return cls(**raw)  # __post_init__ checks every field (positions from a JSON list included)

    def repro(self) -> str:
        return f"python -m reports case --json '{self.to_json()}'"


def _clipped(u, y) -> np.ndarray:
    """The evaluation loss min(1, |u - y|) of docs/theory.md section 2, in float64."""
    return np.minimum(1.0, np.abs(np.asarray(u, np.float64) - np.asarray(y, np.float64)))


def _risk_stats(losses: np.ndarray, delta_test: float) -> dict:
    n = losses.shape[0]
    mean = float(np.mean(losses))
    return {"test_risk": mean, "test_lcb": T.kl_lcb(mean, n, delta_test),
            "test_ucb": T.kl_ucb(mean, n, delta_test), "n_test": n}


_NAN_RISK = {"test_risk": float("nan"), "test_lcb": float("nan"), "test_ucb": float("nan")}


def _verdict(bound: T.BoundResult, risk: dict) -> str:
    """The record's verdict: ``theory.bound_verdict`` (the one rule) on the risk's sample."""
    return T.bound_verdict(bound.value, risk["test_risk"], risk["n_test"], risk["delta_test"])


@jax.jit
def _ntk_seeds(W, A, B, X):
    return jax.vmap(lambda W_, A_, B_: M._ntk._ntk_factored(W_, A_, B_, X, X))(W, A, B)


@partial(jax.jit, static_argnames=("centred",))
def _lin_and_net(W0, A, B, W, X, centred):
    """f_lin and the trained predictor u for every seed on X: two (S, n) arrays."""
    lin = jax.vmap(M._ntk._linearized, in_axes=(0, 0, 0, 0, None, None))(W0, A, B, W, X, centred)
    net = jax.vmap(M.centred_apply, in_axes=(0, 0, 0, 0, None, None))(W, W0, A, B, X, centred)
    return lin, net


def _mutated(bound: T.BoundResult, mutant) -> T.BoundResult:
    if mutant is None or not math.isfinite(bound.value):
        return bound
    value = float(mutant(bound))
    return T.BoundResult(**{**asdict(bound), "value": value, "vacuous": value >= 1.0,
                            "name": bound.name + " (mutant)"})


def _kernel_reference(case: BoundCase, H, y, H_cross, lr: float, kscale: float):
    """f_ker of G1-net: the kernel-GD predictor at the network's step count and effective step
    eta' = eta c(m) (GD), or kernel online SGD over the same stream (SGD) (docs/theory.md section 4)."""
    eta_eff = lr * kscale
    if case.method == "gd":
        return T.kernel_gd_predictor(H, y, eta_eff, case.steps, H_cross)
    return T.kernel_sgd_predictor(H, y, eta_eff, H_cross)


def _rel(a, b) -> float:
    nb = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float("nan")


@functools.lru_cache(maxsize=1)
def _predicted_bound():
    try:
        return T.load_calibration()[0]
    except FileNotFoundError:
        return None


def on_calibration_grid(case: BoundCase) -> bool:
    """Whether (L, m, n) all lie on the lattice of P's calibration grid (``_calibration_grid``);
    a case with any coordinate off it is out of sample for P."""
    return case.L in C_LS and case.m in GAP_MS and case.n in C_NS


def predicted_record(case: BoundCase, seed_cfg: dict, risk_net: dict, *, mutant=None) -> dict | None:
    """The "P" record of one trained network: P(n, L, N, l_0, m, delta) of the case against the
    network's test risk (docs/theory.md section 4), or None when P has no calibration or the case is
    outside its domain. ``metrics.p_region`` says where the case lies: on the calibration grid
    (descriptive only), inside the calibrated box off the grid ("interpolation"), or beyond it in
    the pre-registered extrapolation box ("extrapolation")."""
    P = _predicted_bound()
    if P is None or case.family not in P.complexity or case.scale != case.input_scale:
        return None
    if case.family == "additive" and case.positions is not None:
        return None  # the additive law is calibrated on targets over all positions (N = L)
    try:
        region = P.check_domain(family=case.family, L=case.L, m=case.m, n=case.n, d=case.d,
                                scale=case.scale, method=case.method,
                                parametrization=case.parametrization, f=case.f, steps=case.steps,
                                lr_frac=case.lr_frac, extrapolate=True)
    except ValueError:
        return None
    if on_calibration_grid(case):
        region = "calibration grid"
    terms = P.terms(family=case.family, n=case.n, L=case.L, N=case.N, l0=case.l0, m=case.m,
                    delta=case.delta)
    value = float(mutant(terms)) if mutant is not None else terms["value"]
    bound = {**terms, "value": value, "vacuous": value >= 1.0,
             "name": "P (mutant)" if mutant is not None else "P"}
    return make_record(
        "bound", "P", seed_cfg, case.init_seed, bound=bound,
        verdict=T.bound_verdict(value, risk_net["test_risk"], risk_net["n_test"], case.delta_test),
        metrics={**{k: risk_net[k] for k in ("test_risk", "test_lcb", "test_ucb", "n_test")},
                 "predictor": "network", "in_calibration": region == "calibration grid",
                 "p_region": region,
                 "mutant": mutant is not None,
                 "ratio": risk_net["test_risk"] / value if value > 0 else None},
        repro=case.repro())


def evaluate_bound_case(case: BoundCase, *, mutant=None, k0_fn=None, predicted: bool = True,
                        p_mutant=None) -> list[dict]:
    """Train ``case.seeds`` networks and evaluate every bound of docs/theory.md section 4 on them.

    Records (kind "bound"), each with its BoundResult terms under ``bound`` and the risk of the
    predictor it is rigorous for under ``metrics`` (test risk with its Chernoff-KL interval):
    - "G1": the minimum-norm kernel interpolant (one per case);
    - "G2": each seed's linearization f_lin;
    - "G1-net", "G2-net": each seed's trained network u_T itself, bounded by G1 of the kernel
      predictor f_ker (kernel GD/SGD at the same steps) resp. G2 of f_lin, plus the Chernoff-KL UCB
      of the mean min(1, |u_T - reference|) on ``n_gap`` fresh unlabelled inputs.
    Every record's metrics also carry the network's, f_lin's, f_ker's and the interpolant's test
    risks side by side, and the kernel-regime diagnostics (relative linearization gap on the
    test inputs and relative NTK drift). A diverged seed gets "diverged" records with no bound
    verdict. ``mutant`` (BoundResult -> wrong value) and ``k0_fn`` (a wrong k0) build the
    deliberately wrong bounds and kernels of the power checks; their records are flagged and never
    count for a claim. ``predicted``: add the "P" record of each seed when the case lies in the
    predicted bound's calibrated domain (``p_mutant``: P's terms -> a wrong value of P).
    """
    t0 = time.perf_counter()
    cfg = case.config()
    repro = case.repro()
    task = case.task()
    par = case.param
    keys = M.case_keys(case.data_seed, case.init_seed, case.seeds)  # one domain per stream
    Xte, yte = task.sample(keys.test, case.n_test)
    Xgap = task.tokens.sample(keys.gap, case.gap_inputs)  # unlabelled: only the gap term uses it
    Xte64, yte64 = np.asarray(Xte, np.float64), np.asarray(yte, np.float64)
    Xgap64 = np.asarray(Xgap, np.float64)
    flagged = mutant is not None or k0_fn is not None

    params0 = M.init_seeds(keys.init, M.RNNConfig(case.d, case.m, parametrization=case.parametrization))
    if case.method == "gd":
        X, y = task.sample(keys.train, case.n)
        sgd_keys = None
    else:  # the sample of online SGD is the stream it consumed (one fresh example per step);
        # every seed consumes the same stream, so the seeds differ by initialization only and
        # each seed's G2 / G1-net is evaluated on the very sample it was trained on
        sgd_keys = keys.sgd_seeds
        X, y = M.sgd_samples(task, keys.sgd, case.steps)
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n = X64.shape[0]
    t_data = time.perf_counter()

    # ---- the analytic kernel: G1 for the interpolant ------------------------------------------
    H = T.ntk_gram(X64, k0_fn=k0_fn)
    g1 = _mutated(T.g1_bound(H, y64, case.delta), mutant)
    applicable = math.isfinite(g1.value)
    H_cross = None
    risk_int = {**_NAN_RISK, "n_test": case.n_test, "delta_test": case.delta_test}
    if applicable:
        H_cross = T.ntk_gram(np.concatenate([Xte64, Xgap64]), X64, k0_fn=k0_fn)
        interp = T.kernel_interpolant(H, y64, H_cross[: case.n_test])
        risk_int = {**_risk_stats(_clipped(interp.test_pred, yte64), case.delta_test),
                    "delta_test": case.delta_test}
    t_g1 = time.perf_counter()

    # ---- train the networks (one vmapped call) ------------------------------------------------
    # GD's network programs run at a bucket of lengths: zero tokens in front are exact
    # (models.pad_front), and one compiled set then serves several L (models.length_bucket)
    Xn, Xte_n, Xgap_n = X, Xte, Xgap
    if case.method == "gd" and M.length_bucket(case.L) != case.L:
        Xn, Xte_n, Xgap_n = (M.pad_front(a, M.length_bucket(case.L)) for a in (X, Xte, Xgap))
    K = np.asarray(_ntk_seeds(params0.W, params0.A, params0.B, jnp.asarray(Xn)), np.float64)
    lam_max = float(max(np.linalg.eigvalsh(k)[-1] for k in K))
    kscale = par.kernel_scale(case.m)
    if case.method == "gd":
        lr = case.lr_frac / lam_max if lam_max > 0 else case.lr_frac
        tcfg = M.TrainConfig("gd", lr, case.steps, centred=par.centred)
        rec = M.train_seeds(params0, tcfg, Xn, y, X_test=Xte_n, y_test=yte)
    else:
        hmax = float(np.max(np.diag(H))) if np.any(H) else 1.0
        lr = case.lr_frac / (kscale * max(hmax, 1e-12))
        tcfg = M.TrainConfig("sgd", lr, case.steps, centred=par.centred)
        rec = M.train_seeds(params0, tcfg, X_test=Xte, y_test=yte, task=task, keys=sgd_keys)
    rec = M.record_to_numpy(rec)
    W_T = jax.device_put(rec["W"])  # (device_put and NumPy: no eager program per shape)
    allX = jax.device_put(np.concatenate([np.asarray(a) for a in (Xn, Xte_n, Xgap_n)]))
    lin_all, net_all = (np.asarray(a, np.float64) for a in
                        _lin_and_net(params0.W, params0.A, params0.B, W_T, allX, par.centred))
    sl_tr, sl_te, sl_gap = slice(0, n), slice(n, n + case.n_test), slice(n + case.n_test, None)
    K_T = np.asarray(_ntk_seeds(W_T, params0.A, params0.B, jnp.asarray(Xn)), np.float64)
    t_lin = time.perf_counter()

    # ---- f_ker for G1-net: kernel GD / SGD at the network's steps and effective step ----------
    ker = None
    if applicable:
        with np.errstate(over="ignore", invalid="ignore"):
            ker = _kernel_reference(case, H, y64, H_cross, lr, kscale)
        if math.isfinite(ker.B) and np.all(np.isfinite(ker.test_pred)):
            ker_train_loss = float(np.mean(_clipped(ker.train_pred, y64)))
            g1_ker = T.rademacher_bound(ker.B, g1.trace, n, case.delta, ker_train_loss, name="G1")
            risk_ker = _risk_stats(_clipped(ker.test_pred[: case.n_test], yte64), case.delta_test)
        else:  # kernel GD diverges at this effective step: G1-net says nothing, and says why
            g1_ker = T.infinite_bound("G1", n, case.delta, 0.0, f"kernel {case.method.upper()} "
                                      f"diverges at eta' = {lr * kscale:.3g}")
            ker = T.KernelPredictor(ker.name, ker.train_pred, np.zeros(H_cross.shape[0]), ker.B)
            risk_ker = {**_NAN_RISK, "n_test": case.n_test}
    else:
        risk_ker = {**_NAN_RISK, "n_test": case.n_test}

    net_risks = [float(r) for r in rec["test_risk"]]
    finite_net = [r for r in net_risks if math.isfinite(r)]
    side = {"interp_test_risk": risk_int["test_risk"], "ker_test_risk": risk_ker["test_risk"],
            "net_test_risk_mean": float(np.mean(finite_net)) if finite_net else None}
    common = {"lr": lr, "lam_max": lam_max, "kernel_scale": kscale, "mutant": flagged}
    records = [make_record(
        "bound", "G1", cfg, case.init_seed, bound=g1.to_dict(), verdict=_verdict(g1, risk_int),
        metrics={**risk_int, **side, "predictor": "kernel interpolant",
                 "ratio": risk_int["test_risk"] / g1.value if g1.value > 0 else None,
                 "net_over_bound": (float(np.max(finite_net)) / g1.value
                                    if finite_net and applicable else None),
                 "complexity": g1.B**2 * g1.trace / g1.n if math.isfinite(g1.B) else None,
                 "mutant": flagged},
        timings={"data_s": t_data - t0, "kernel_s": t_g1 - t_data}, repro=repro,
        note=g1.reason)]

    per_seed = (t_lin - t_g1) / case.seeds  # training and the predictions after it
    host0 = [np.asarray(a) for a in params0]  # (indexing device arrays: one program per shape)
    for s in range(case.seeds):
        seed_cfg = {**cfg, "seed_index": s}
        if rec["diverged"][s]:
            for claim in ("G2", "G1-net", "G2-net"):
                records.append(make_record(
                    "bound", claim, seed_cfg, case.init_seed, verdict="diverged",
                    metrics={"diverged_step": int(rec["diverged_step"][s]), **common},
                    repro=repro,
                    note="training diverged (NaN/inf or blow-up): recorded as an outcome"))
            continue
        lin, net = lin_all[s], net_all[s]
        train_loss_lin = float(np.mean(_clipped(lin[sl_tr], y64)))
        movement = float(rec["movement"][s][-1])
        g2 = T.g2_bound(K[s], movement, train_loss_lin, case.delta)
        risk_lin = {**_risk_stats(_clipped(lin[sl_te], yte64), case.delta_test),
                    "delta_test": case.delta_test}
        risk_net = {**_risk_stats(_clipped(net[sl_te], yte64), case.delta_test),
                    "delta_test": case.delta_test}
        # the weight and data norms the prior RNN bounds read (theory/_prior_rnn.py)
        norms = M.weight_norms(M.Params(*(a[s] for a in host0)), rec["W"][s], X)
        diag = {"net_test_risk": risk_net["test_risk"], "lin_test_risk": risk_lin["test_risk"],
                **side, "net_train_risk": float(np.mean(_clipped(net[sl_tr], y64))),
                "lin_train_risk": train_loss_lin, "movement": movement,
                "lin_gap_rel": _rel(net[sl_te], lin[sl_te]),
                "ntk_drift": _rel(K_T[s], K[s]),
                "gap_mean": float(np.mean(_clipped(net[sl_gap], lin[sl_gap]))),
                "gap_max": float(np.max(np.abs(net[sl_gap] - lin[sl_gap]))),
                "loss_first": float(rec["loss"][s][0]),
                "loss_last": float(np.nanmin(rec["loss"][s][-2:])), **common}
        timings = {"train_s": per_seed}
        g2m = _mutated(g2, mutant)
        records.append(make_record(
            "bound", "G2", seed_cfg, case.init_seed, bound=g2m.to_dict(),
            verdict=_verdict(g2m, risk_lin),
            metrics={**risk_lin, **diag, "predictor": "f_lin",
                     "ratio": risk_lin["test_risk"] / g2m.value if g2m.value > 0 else None},
            timings=timings, repro=repro))
        # The network itself: G2-net from f_lin, G1-net from f_ker (docs/theory.md section 4).
        nets = []
        if applicable:
            nets.append(("G1-net", T.net_bound(g1_ker, _clipped(net[sl_gap], ker.test_pred[case.n_test:]),
                                               case.delta_gap, name="G1-net"), "f_ker"))
        nets.append(("G2-net", T.net_bound(g2, _clipped(net[sl_gap], lin[sl_gap]), case.delta_gap,
                                           name="G2-net"), "f_lin"))
        for claim, b, ref in nets:
            bm = _mutated(b, mutant)
            records.append(make_record(
                "bound", claim, seed_cfg, case.init_seed, bound=bm.to_dict(),
                verdict=_verdict(bm, risk_net),
                metrics={**risk_net, **diag, "predictor": "network", "reference": ref,
                         "train_risk": diag["net_train_risk"], "norms": norms,
                         "ratio": risk_net["test_risk"] / bm.value if bm.value > 0 else None},
                timings=timings, repro=repro, note=bm.reason))
        if predicted and k0_fn is None and mutant is None:
            rp = predicted_record(case, seed_cfg, risk_net, mutant=p_mutant)
            if rp is not None:
                records.append(rp)
    return records
