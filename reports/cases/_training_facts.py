"""Training facts (T-gd): the kernel regime of the trained network. GD at several widths; the
linearization gap and the NTK drift against the registry's declared laws (docs/theory.md
section 4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jax
import numpy as np

import models as M
import theory as T

from ._case_validation import check_training_facts_design
from ._evaluate import _lin_and_net, _ntk_seeds, _rel
from ._records import make_record
from ._widths import shared_width


@dataclass(frozen=True)
class TrainingFactsDesign:
    """GD runs at several widths for docs/theory.md section 4's training facts.

    Per width m and seed: GD with eta = lr_frac / lambda_max(K_m) for ``steps`` steps on the sum
    loss; measured on ``n_test`` fresh inputs the relative linearization gap
    ||u_T - f_lin|| / ||f_lin|| and, on the training sample, the relative NTK drift
    ||K_T - K_0||_F / ||K_0||_F. The registry's T-gd laws ('gap', 'drift': one-sided slope with a
    level) are fitted to their means over seeds. Defaults follow the measurement in docs/theory.md
    (n = 32, L = 5, d = 4, sin target) with widths 64..1024 (16x, the law's minimum span).
    """

    widths: tuple[int, ...] = (64, 256, 1024)
    seeds: int = 3
    n: int = 32
    n_test: int = 256
    L: int = 5
    d: int = 4
    steps: int = 200
    lr_frac: float = 1.0
    parametrization: str = "lazy"
    data_seed: int = 0

    def __post_init__(self):
        check_training_facts_design(self)
        for law in T.get_claim("T-gd").laws.values():
            law.require_design(self.widths, self.seeds)


def training_facts_width(design: TrainingFactsDesign, m: int) -> int:
    """``shared_width`` for a training-facts design: per GD step and seed, a forward pass over n
    sequences of L tokens and its backward pass (~3 n L m^2 multiply-adds)."""
    return shared_width(design.widths, m, 3 * design.n * design.L * design.steps * design.seeds)


def training_facts_runs(design: TrainingFactsDesign) -> dict:
    """Per width: the seeds' (gap, drift) and what the exact identities need (K_0, eta, r_0,
    the network's loss and movement curves), from one vmapped GD call per width."""
    task = M.Task(M.TokenDistribution(design.L, design.d, 1.0),
                  M.AdditiveTarget.make(design.L, design.d, "sin", seed=design.data_seed))
    # the data streams of data seed 100 + data_seed; the init keys are drawn per width
    k_tr, k_te = M.case_keys(100 + design.data_seed, 7 + design.widths[0], design.seeds)[:2]
    X, y = task.sample(k_tr, design.n)
    Xte, yte = task.sample(k_te, design.n_test)
    par = M.get_parametrization(design.parametrization)
    out = {}
    for m in design.widths:
        cfg = M.RNNConfig(design.d, m, parametrization=design.parametrization)
        p0 = M.init_seeds(M.case_keys(100 + design.data_seed, 7 + m, design.seeds).init, cfg)
        # the network programs run at a shared width: zero hidden units are exact (pad_width)
        p0 = M.pad_width(p0, training_facts_width(design, m))
        K0 = np.asarray(_ntk_seeds(p0.W, p0.A, p0.B, X), np.float64)
        lam = float(max(np.linalg.eigvalsh(k)[-1] for k in K0))
        eta = design.lr_frac / lam
        rec = M.record_to_numpy(M.train_seeds(
            p0, M.TrainConfig("gd", eta, design.steps, centred=par.centred), X, y,
            X_test=Xte, y_test=yte))
        W_T = jax.device_put(rec["W"])
        lin, net = (np.asarray(a, np.float64) for a in
                    _lin_and_net(p0.W, p0.A, p0.B, W_T, Xte, par.centred))
        K_T = np.asarray(_ntk_seeds(W_T, p0.A, p0.B, X), np.float64)
        f0 = (np.zeros((design.seeds, design.n)) if par.centred
              else np.asarray(M.predict_seeds(p0, X), np.float64))
        out[m] = {"gap": [_rel(net[s], lin[s]) for s in range(design.seeds)],
                  "drift": [_rel(K_T[s], K0[s]) for s in range(design.seeds)],
                  "diverged": [bool(v) for v in rec["diverged"]],
                  "K0": K0, "eta": eta, "r0": f0 - np.asarray(y, np.float64)[None],
                  "loss": rec["loss"], "movement": rec["movement"]}
    return out


def training_facts_records(design: TrainingFactsDesign, runs: dict | None = None) -> tuple[list[dict], dict]:
    """Fit the registry's T-gd laws ('gap', 'drift') to the runs; one measured record per
    (width, seed) and one fit record per law. For the lazy parametrization the fits are kind
    "rate-fit" (the claim's verdict); for the contrast one they are kind "power": the contrast is
    the law's negative control and must come out 'not supported' (rejected)."""
    runs = runs if runs is not None else training_facts_runs(design)
    claim = T.get_claim("T-gd")
    base = {k: v for k, v in asdict(design).items()}
    recs, fits = [], {}
    for m, run in runs.items():
        for s in range(design.seeds):
            recs.append(make_record("training-fact", "T-gd", {**base, "m": m}, s,
                                    metrics={"gap": run["gap"][s], "drift": run["drift"][s],
                                             "diverged": run["diverged"][s]},
                                    verdict="measured"))
    widths = sorted(runs)
    for q, law in claim.laws.items():
        fit = law.fit(widths, [runs[m][q] for m in widths])
        fit.update(quantity=q, parametrization=design.parametrization, seeds=design.seeds)
        fits[q] = fit
        cfg = {**base, "quantity": q}
        if M.get_parametrization(design.parametrization).lazy:
            recs.append(make_record("rate-fit", "T-gd", cfg, list(range(design.seeds)),
                                    metrics=fit, verdict=fit["verdict"]))
        else:
            rejected = fit["verdict"] == "not supported"
            recs.append(make_record(
                "power", "T-gd", {"mutant": f"{design.parametrization} parametrization passes the "
                                  f"{q} law", "claim": "T-gd", **cfg}, 0, metrics=fit,
                verdict="rejected" if rejected else "not rejected",
                note=f"slope {fit['fitted_slope']:.2f} (max {law.max_slope}), level "
                     f"{fit['level_at_largest']:.3f} at m = {widths[-1]} (max {law.max_level})"))
    return recs, fits
