"""GD training facts (THEORY.md section 4; claim T-gd): exact for the linearized model, checked
on the real network with a gap that must shrink as the width m grows.

For each width, GD with eta = 1/lambda_max(K_m) on 1/2 sum (f - y)^2 is run on the network, and
the exact linearized trajectory r_t = (I - eta K_m)^t r_0 is computed from the empirical NTK at
init. Checked: the linearized residual obeys the contraction (1 - eta lambda_min)^t ||r_0||; its
weight movement rises monotonically to sqrt(r_0^T K^{-1} r_0); the network's residual and movement
follow the linearized ones with a relative gap whose fitted rate in m matches the registry's
declared law (T-gd 'gap_rate').
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import models as M
import theory as T
from checks._harness import record_power
from reports._store import make_record

pytestmark = pytest.mark.bounds

WIDTHS = (64, 256, 1024)
SEEDS = (0, 1)
STEPS = 100


def _run(m: int, seed: int):
    task = M.Task(M.TokenDistribution(3, 3, 1.0), M.AdditiveTarget.make(3, 3, "sin", seed=seed))
    X, y = task.sample(jax.random.key(100 + seed), 24)
    p = M.init_params(jax.random.key(seed), M.RNNConfig(3, m))
    K = np.asarray(M.empirical_ntk(p, X), np.float64)
    eta = 1.0 / np.linalg.eigvalsh(K)[-1]
    rec = M.train(p, M.TrainConfig("gd", float(eta), STEPS), X, y, X_test=X, y_test=y)
    r0 = np.asarray(M.apply(p, X), np.float64) - np.asarray(y, np.float64)
    lin = T.linearized_gd_trajectory(K, r0, eta, STEPS)
    net_res = np.sqrt(2 * np.asarray(rec.loss, np.float64))  # loss = 1/2 ||r||^2
    net_move = np.asarray(rec.movement, np.float64)
    gap = max(np.max(np.abs(net_res - lin["residual"])) / np.linalg.norm(r0),
              np.max(np.abs(net_move - lin["movement"])) / lin["movement"][-1])
    K_T = np.asarray(M.empirical_ntk(M.Params(rec.W, p.A, p.B), X), np.float64)
    drift = float(np.linalg.norm(K_T - K) / np.linalg.norm(K))
    return K, eta, r0, lin, float(gap), drift


@pytest.fixture(scope="module")
def runs():
    return {(m, s): _run(m, s) for m in WIDTHS for s in SEEDS}


def test_linearized_gd_contracts_and_movement_rises_to_its_limit(runs, store):
    for (m, s), (K, eta, r0, lin, _, _) in runs.items():
        bound = T.gd_residual_bound(K, r0, eta, np.arange(STEPS + 1))
        # 1e-9 relative: the trajectory is computed in float64 from one eigendecomposition.
        assert np.all(lin["residual"] <= bound * (1 + 1e-9) + 1e-12), (m, s)
        assert np.all(np.diff(lin["movement"]) >= -1e-12 * lin["movement"][-1]), (m, s)
        assert lin["movement"][-1] <= T.weight_movement_limit(K, r0) * (1 + 1e-9), (m, s)
        store.append(make_record("identity", "T-gd", {"m": m, "steps": STEPS}, s,
                                 metrics={"final_residual": float(lin["residual"][-1])},
                                 verdict="pass"))


# FINDING (measured in this project, 2026-11-25): under THEORY.md section 2's parametrization
# (W, A ~ N(0, 2/m), B ~ N(0, 1/m), only W trained, no 1/sqrt(m) output multiplier), GD at
# eta = 1/lambda_max(K_m) is NOT in the kernel regime: the relative gap to the linearized
# trajectory stays ~0.05-0.2 and the NTK moves by ~0.9 of its norm from m = 64 to m = 4096
# (float64 runs agree). Reason: the gradient of f is rank <= L with O(1) norm, so the needed
# movement ||W_T - W_0||_F = sqrt(r0^T K^-1 r0) is O(1) whatever m, and it shifts the
# pre-activations along B's direction by as much as their own size. The spec's "gap that must
# shrink with m" is therefore not supported; the check stays, strict: if a change makes the gap
# shrink at the declared rate, this xfail turns into a failure that asks for a look.
@pytest.mark.xfail(strict=True, reason="T-gd gap_rate not supported in this parametrization: "
                   "the linearization gap and the kernel drift do not shrink with m (see comment)")
def test_network_follows_the_linearized_trajectory_closer_as_m_grows(runs, store):
    law = T.get_claim("T-gd").laws["gap_rate"]
    gaps = [float(np.mean([runs[(m, s)][4] for s in SEEDS])) for m in WIDTHS]
    drifts = [float(np.mean([runs[(m, s)][5] for s in SEEDS])) for m in WIDTHS]
    rate = float(np.polyfit(np.log(WIDTHS), np.log(gaps), 1)[0])
    fit = {"widths": list(WIDTHS), "mean_gap": gaps, "kernel_drift": drifts, "fitted_rate": rate,
           "declared_rate": law.exponent, "tol": law.tol,
           "verdict": "supported" if law.supports(rate) else "not supported"}
    store.append(make_record("rate-fit", "T-gd", {"widths": list(WIDTHS), "steps": STEPS},
                             list(SEEDS), metrics=fit, verdict=fit["verdict"]))
    assert gaps[-1] < gaps[0], (f"the gap does not shrink with m: {dict(zip(WIDTHS, gaps))}; "
                                f"kernel drift {dict(zip(WIDTHS, drifts))}")
    assert law.supports(rate), f"gap rate {rate:.2f} vs declared {law.exponent} +- {law.tol}: {gaps}"


def test_wrong_contraction_rate_is_rejected(runs, store):
    """Mutant: contraction by lambda_max instead of lambda_min ((1 - eta lambda_max)^t = 0 at
    eta = 1/lambda_max). The real linearized residual exceeds it, so the check must reject it."""
    K, eta, r0, lin, _, _ = runs[(WIDTHS[0], SEEDS[0])]
    ev = np.linalg.eigvalsh(K)
    wrong = (1 - eta * ev[-1]) ** np.arange(STEPS + 1) * np.linalg.norm(r0)
    rejected = bool(np.any(lin["residual"] > wrong * (1 + 1e-9) + 1e-12))
    record_power(store, "T-gd", "contraction with lambda_max", rejected)
    assert rejected
