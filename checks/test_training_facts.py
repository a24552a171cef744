"""GD training facts (docs/theory.md section 4; claim T-gd): exact for the linearized model, and the
kernel regime of the real network as a one-sided law with a level.

For each width m (64, 256, 1024: 16x) and 3 seeds, GD with eta = 1/lambda_max(K_m) on
1/2 sum (u - y)^2 is run on the network (``reports.cases._training_facts.training_facts_runs``, one vmapped
call per width). Checked:
- exact: the linearized residual obeys the contraction (1 - eta lambda_min)^t ||r_0||; its weight
  movement rises monotonically to sqrt(r_0^T K^{-1} r_0);
- law (registry T-gd, laws 'gap' and 'drift'): in the lazy parametrization (the default) the
  relative linearization gap on fresh test inputs and the relative NTK drift shrink with m (fitted
  slope <= -0.3) and are <= 0.05 at the largest width;
- power: the contrast parametrization (B ~ N(0, 1/m), uncentred; the first spec) must FAIL the
  same law: that is what makes the law able to tell lazy from non-lazy training.
"""

from __future__ import annotations

import numpy as np
import pytest

import theory as T
from checks._harness import record_power
from reports.cases._training_facts import TrainingFactsDesign, training_facts_records, training_facts_runs
from reports.runs._store import make_record

pytestmark = pytest.mark.bounds

LAZY = TrainingFactsDesign()
CONTRAST = TrainingFactsDesign(parametrization="contrast")


@pytest.fixture(scope="module")
def lazy_runs():
    return training_facts_runs(LAZY)


def test_linearized_gd_contracts_and_movement_rises_to_its_limit(lazy_runs, store):
    steps = LAZY.steps
    for m, run in lazy_runs.items():
        for s in range(LAZY.seeds):
            K, r0 = run["K0"][s], run["r0"][s]
            lin = T.linearized_gd_trajectory(K, r0, run["eta"], steps)
            bound = T.gd_residual_bound(K, r0, run["eta"], np.arange(steps + 1))
            # 1e-9 relative: the trajectory is computed in float64 from one eigendecomposition.
            assert np.all(lin["residual"] <= bound * (1 + 1e-9) + 1e-12), (m, s)
            assert np.all(np.diff(lin["movement"]) >= -1e-12 * lin["movement"][-1]), (m, s)
            assert lin["movement"][-1] <= T.weight_movement_limit(K, r0) * (1 + 1e-9), (m, s)
            store.append(make_record("identity", "T-gd", {"m": m, "steps": steps}, s,
                                     metrics={"final_residual": float(lin["residual"][-1])},
                                     verdict="pass"))


def test_lazy_network_follows_its_linearization_closer_as_m_grows(lazy_runs, store):
    recs, fits = training_facts_records(LAZY, lazy_runs)
    store.append_many(recs)
    assert not any(any(r["diverged"]) for r in lazy_runs.values()), "a lazy GD run diverged"
    for q, fit in fits.items():
        assert fit["verdict"] == "supported", (
            f"T-gd law '{q}' not supported in the lazy parametrization: slope "
            f"{fit['fitted_slope']:.3f} (max {fit['max_slope']}), level {fit['level_at_largest']:.4f} "
            f"at m = {fit['widths'][-1]} (max {fit['max_level']}); means {fit['means']}")


def test_contrast_parametrization_fails_the_law(store):
    """The law's power: the first spec's parametrization is not in the kernel regime (measured
    2026-11-27: gap slope -0.06, gap 0.36), so both laws must reject it."""
    recs, fits = training_facts_records(CONTRAST)
    store.append_many(recs)
    for q, fit in fits.items():
        assert fit["verdict"] == "not supported", (q, fit)


def test_law_rejects_weak_designs():
    """>= 3 widths spanning >= 16x and >= 3 seeds per width, or the fit says nothing."""
    with pytest.raises(ValueError, match="spanning"):
        TrainingFactsDesign(widths=(64, 256))
    with pytest.raises(ValueError, match="spanning"):
        TrainingFactsDesign(widths=(64, 128, 256))
    with pytest.raises(ValueError, match="seeds"):
        TrainingFactsDesign(seeds=2)


@pytest.mark.selftest
def test_level_law_verdicts_by_hand():
    law = T.get_claim("T-gd").laws["gap"]
    ws = (64, 256, 1024)
    # slope -0.5 (each 4x width halves the gap) ending at 0.04: supported
    assert law.fit(ws, [[0.16], [0.08], [0.04]])["verdict"] == "supported"
    # same slope but ending at 0.08 > 0.05: the level fails it
    assert law.fit(ws, [[0.32], [0.16], [0.08]])["verdict"] == "not supported"
    # flat at 0.01: the slope fails it (a gap that does not shrink is not lazy training)
    assert law.fit(ws, [[0.01], [0.01], [0.01]])["verdict"] == "not supported"
    # a NaN (diverged) value is never support
    assert law.fit(ws, [[0.16], [float("nan")], [0.04]])["verdict"] == "not supported"


def test_wrong_contraction_rate_is_rejected(lazy_runs, store):
    """Mutant: contraction by lambda_max instead of lambda_min ((1 - eta lambda_max)^t = 0 at
    eta = 1/lambda_max). The real linearized residual exceeds it, so the check must reject it."""
    run = lazy_runs[LAZY.widths[0]]
    K, r0, eta = run["K0"][0], run["r0"][0], run["eta"]
    lin = T.linearized_gd_trajectory(K, r0, eta, LAZY.steps)
    ev = np.linalg.eigvalsh(K)
    wrong = (1 - eta * ev[-1]) ** np.arange(LAZY.steps + 1) * np.linalg.norm(r0)
    rejected = bool(np.any(lin["residual"] > wrong * (1 + 1e-9) + 1e-12))
    record_power(store, "T-gd", "contraction with lambda_max", rejected)
    assert rejected
