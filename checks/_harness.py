"""Helpers shared by the check modules: violation messages, identity and power records."""

from __future__ import annotations

import json
import math

from reports.cases._power import power_record
from reports.runs._store import make_record


def violation_message(rec: dict) -> str:
    """Everything needed to reproduce and judge a violation, in one failure message."""
    b, m = rec.get("bound", {}), rec.get("metrics", {})
    return (
        f"{rec['claim']} VIOLATED (provenance {b.get('provenance')}): test risk "
        f"{m.get('test_risk'):.4f} with KL CI [{m.get('test_lcb'):.4f}, {m.get('test_ucb'):.4f}] "
        f"(n_test = {m.get('n_test')}) exceeds the bound {b.get('value'):.4f} = train "
        f"{b.get('train_loss'):.4f} + main {b.get('main_term'):.4f} + confidence "
        f"{b.get('confidence_term'):.4f} (B = {b.get('B')}, grid j = {b.get('grid_index')}).\n"
        f"configuration: {json.dumps(rec['config'], sort_keys=True)}\nseed: {rec['seed']}\n"
        f"reproduce: {rec.get('repro')}"
    )


def track_tightness(records: list[dict]) -> None:
    """hypothesis.target on the largest test risk / bound of evaluated records, so the thorough
    profile climbs toward the cases where a bound is tightest (and a violation likeliest)."""
    from hypothesis import target

    ratios = [r["metrics"]["test_risk"] / r["bound"]["value"] for r in records
              if r["verdict"] in ("holds", "vacuous", "violation")
              and isinstance(r["bound"].get("value"), float) and r["bound"]["value"] > 0]
    if ratios:
        target(max(ratios), label="test risk / bound")


def assert_no_violation(records: list[dict]) -> None:
    bad = [r for r in records if r["verdict"] == "violation"]
    assert not bad, "\n\n".join(violation_message(r) for r in bad)


def _finite_err(err) -> float:
    err = float(err)
    return err if math.isfinite(err) else math.inf


def record_identity(store, claim: str, config: dict, seed, max_err, tol: float, **metrics) -> bool:
    """Append one identity record (verdict pass iff max_err <= tol; NaN counts as a failure).

    An identity check compares two computations of the same exact quantity; its record carries
    the largest error and the tolerance it was judged against.
    """
    err = _finite_err(max_err)
    ok = err <= tol
    store.append(make_record("identity", claim, config, seed,
                             metrics={"max_err": err, "tol": tol, **metrics},
                             verdict="pass" if ok else "fail"))
    return ok


def record_power(store, claim: str, mutant: str, rejected: bool, *, seed=0, detail: str = "",
                 asserted: bool = True, **metrics) -> bool:
    """Store a power-check outcome (``reports.cases._power.power_record``: kind "power", never counted
    toward a claim's verdict); ``asserted = False`` marks a mutant recorded for information."""
    store.append(power_record(claim, mutant, rejected, asserted=asserted, seed=seed, detail=detail,
                              **metrics))
    return bool(rejected)


def synthetic_complexity_records(design, log_c_class, log_c_control, *, sigma: float = 0.1,
                                 rng_seed: int = 0, n_growth=(0.3, 1.0)) -> list[dict]:
    """Complexity records shaped like ``complexity_records(design)``, with C(L) drawn from a
    known law: log C = log_c_<role>(L) + N(0, sigma^2), i.i.d. per (L, seed, role), and C_n =
    C(L) (n / n_max)^g with g = ``n_growth`` (class, control). What ``fit_scaling`` must decide
    on them is known, which is how its rule is tested without computing a kernel.
    """
    import dataclasses

    import numpy as np

    rng = np.random.default_rng(rng_seed)
    nmax = max(design.ns)
    base = {k: v for k, v in dataclasses.asdict(design).items() if k != "seeds"}
    out = []
    for L in design.Ls:
        for seed in design.seeds:
            for role, law, g in (("class", log_c_class, n_growth[0]),
                                 ("control", log_c_control, n_growth[1])):
                c = math.exp(law(L) + sigma * rng.standard_normal())
                for n in design.ns:
                    cfg = {**base, "L": L, "n": n, "role": role,
                           "target": {"family": "synthetic", "role": role}, "positions": []}
                    out.append(make_record("complexity", design.claim, cfg, seed, verdict="measured",
                                           metrics={"C_n": c * (n / nmax) ** g}))
    return out
