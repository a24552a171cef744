"""Exact fast checks of the computations around the violation rule (issue 19, items 4 and 8).

Three computations that only slower tiers used to reach, each checked here on synthetic records
built with the real theory functions (no training, milliseconds):
- the per-claim summary's allowed violation rate, from the levels its records were judged at
  (delta + delta_test, + delta_gap for the -net bounds; none for the fitted envelope P), and the
  binomial test over independent, non-vacuous draws (docs/theory.md section 4, "Violation");
- the record audit re-deriving each verdict at the record's own delta_test (not delta);
- the power item judging the *mutated* bound, not the stored one.
Each check was shown to fail under a single-line mutant of the code it covers (issue 19's closing
note lists them).
"""

from __future__ import annotations

import pytest

import theory as T
from reports.cases import _power
from reports.cases._audit import audit_bound_record
from reports.cases._evaluate import BoundCase
from reports.cases._power import BOUND_MUTANTS, PowerDesign, mutant_outcome, power_records
from reports.render._render import derived_claim_rows
from reports.render._summary import claim_summaries, independent_draws
from reports.runs._store import make_record

pytestmark = pytest.mark.fast

# Levels chosen pairwise distinct, so that a rate built from the wrong one (delta_test for
# delta_gap, delta for delta_test, a dropped term) gives a different float.
DELTA, DELTA_TEST, DELTA_GAP = 0.05, 0.02, 0.03


def _record(claim, *, risk, n_test=1000, data_seed=0, seed_index=0, L=3, base=None, verdict=None,
            delta_test=DELTA_TEST, gap=(0.1, 500)):
    """A bound record whose every term follows from the theory functions (the audit finds it
    clean): a Rademacher bound for G1 / G2, ``net_bound`` on top for a -net claim, P's terms for P.
    ``base``: (B, trace, n, train_loss)."""
    case = BoundCase(L=L, n=400, data_seed=data_seed, delta=DELTA, delta_test=delta_test,
                     delta_gap=DELTA_GAP, family="random-labels")
    cfg = {**case.config(), "seed_index": seed_index}
    if claim == "P":
        bound = {"name": "P", "main_term": 0.2, "confidence_term": 0.1, "gap_term": 0.05,
                 "value": 0.35, "vacuous": False}
    else:
        B, trace, n, train = base or (2.0, 400.0, 400, 0.1)
        b = T.rademacher_bound(B, trace, n, DELTA, train, name=claim.split("-")[0])
        if claim.endswith("-net"):
            mean, n_gap = gap
            b = T.net_bound(b, [mean] * n_gap, DELTA_GAP, name=claim)
        bound = b.to_dict()
    value = bound["value"]
    lcb, ucb = T.kl_lcb(risk, n_test, delta_test), T.kl_ucb(risk, n_test, delta_test)
    verdict = verdict or T.bound_verdict(value, risk, n_test, delta_test)
    return make_record("bound", claim, cfg, case.init_seed, bound=bound, verdict=verdict,
                       metrics={"test_risk": risk, "test_lcb": lcb, "test_ucb": ucb,
                                "n_test": n_test, "delta_test": delta_test, "mutant": False})


def _row(rows, key):
    (row,) = [r for r in rows if r["key"] == key]
    return row


# ---- item 9 (a): the summary's allowed rate from the records' levels -----------------------

def test_allowed_rate_of_each_claim_is_built_from_its_records_levels():
    recs = [_record(c, risk=0.05, data_seed=s) for c in ("G1", "G2", "G1-net", "G2-net", "P")
            for s in (0, 1)]
    rows = claim_summaries(recs)
    for claim in ("G1", "G2"):
        assert _row(rows, claim)["allowed_rate"] == DELTA + DELTA_TEST
    for claim in ("G1-net", "G2-net"):  # the gap term's own level counts
        assert _row(rows, claim)["allowed_rate"] == DELTA + DELTA_TEST + DELTA_GAP
    for key in [r["key"] for r in rows if r["claim"] == "P"]:  # judged per case: no rate
        row = _row(rows, key)
        assert row["allowed_rate"] is None and row["rate_p_value"] is None
        assert row["violation_rate"] is None and row["independent_draws"] == 0


def test_a_row_mixing_bounds_takes_the_largest_level():
    """C3's derived row mixes G1 (no gap) and -net records: the allowed rate is the largest
    delta + delta_test (+ delta_gap) of its draws."""
    recs = [_record("G1", risk=0.05, data_seed=0), _record("G2-net", risk=0.05, data_seed=1)]
    for r in recs:
        r["config"].update(family="n-variable", f="sin", parametrization="lazy")
    (row,) = [r for r in derived_claim_rows(recs) if r["key"] == "C3 (bound cases)"]
    assert row["independent_draws"] == 2
    assert row["allowed_rate"] == DELTA + DELTA_TEST + DELTA_GAP


def test_binomial_test_counts_one_non_vacuous_draw_per_data_seed():
    # data seed 0: four records (two lengths x two seeds), one of them a violation; data seed 1:
    # only vacuous records (no trial); data seed 2: one holding record
    viol = _record("G2", risk=0.95, data_seed=0, seed_index=1, L=2)  # bound ~0.6 < LCB ~0.93
    assert viol["verdict"] == "violation"
    recs = [_record("G2", risk=0.05, data_seed=0, seed_index=s, L=L) for L in (2, 3) for s in (0, 1)
            if (L, s) != (2, 1)] + [viol]
    vac = [_record("G2", risk=0.05, data_seed=1, base=(2.0, 400.0, 400, 0.9), seed_index=s)
           for s in (0, 1)]
    assert all(r["verdict"] == "vacuous" for r in vac)
    recs += vac + [_record("G2", risk=0.05, data_seed=2)]
    draws = independent_draws(recs)
    assert sorted(r["config"]["data_seed"] for r in draws) == [0, 2]
    # the draw of a data seed is its smallest case_id among the non-vacuous records
    seed0 = min((r for r in recs if r["config"]["data_seed"] == 0), key=lambda r: r["case_id"])
    assert seed0 in draws
    row = _row(claim_summaries(recs), "G2")
    assert row["cases"] == len(recs) and row["violations"] == 1
    assert row["independent_draws"] == 2
    k = sum(r["verdict"] == "violation" for r in draws)
    assert row["violation_rate"] == k / 2
    assert row["rate_p_value"] == T.binomial_tail(k, 2, DELTA + DELTA_TEST)


# ---- item 9 (b): the audit re-derives verdicts at the record's delta_test --------------------

def _between_levels(n_test=300):
    """A risk whose Chernoff-KL LCB at delta_test lies below the record's bound value while the
    LCB at delta lies above it: the verdict depends on which level is used."""
    rec = _record("G1", risk=0.5)
    v = rec["bound"]["value"]
    lo, hi = v, 1.0
    for _ in range(60):  # the risk at which the LCB at level (delta, delta_test)'s middle is v
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if T.kl_lcb(mid, n_test, 0.035) <= v else (lo, mid)
    assert T.kl_lcb(lo, n_test, DELTA_TEST) < v < T.kl_lcb(lo, n_test, DELTA)
    return lo


def test_audit_rederives_the_verdict_at_the_records_delta_test():
    risk = _between_levels()
    rec = _record("G1", risk=risk, n_test=300)
    assert rec["verdict"] == "holds"  # at delta_test = 0.02 the margin protects the bound
    assert audit_bound_record(rec) == []
    stale = {**rec, "verdict": "violation"}  # what the wrong level (delta) would decide
    assert any("verdict" in m for m in audit_bound_record(stale))
    # the level is the record's own: the same numbers judged at delta_test = delta violate
    rec2 = _record("G1", risk=risk, n_test=300, delta_test=DELTA)
    assert rec2["verdict"] == "violation" and audit_bound_record(rec2) == []


def test_audit_rederives_the_interval_and_gap_with_the_kl_rule():
    rec = _record("G2-net", risk=0.2)
    assert audit_bound_record(rec) == []
    hoeff = {**rec, "metrics": {**rec["metrics"],
                                "test_lcb": T.hoeffding_lcb(0.2, 1000, DELTA_TEST)}}
    assert any("test_lcb" in m for m in audit_bound_record(hoeff))
    b = rec["bound"]
    old = T.hoeffding_ucb(b["gap_mean"], b["n_gap"], DELTA_GAP)
    tampered = {**rec, "bound": {**b, "gap_ucb": old, "value": b["base_value"] + old}}
    assert any("gap_ucb" in m for m in audit_bound_record(tampered))


# ---- item 9 (c): the power item judges the mutant --------------------------------------------

def _random_label_records():
    """Stored terms like POWER_CASE's (random labels: train loss ~ risk ~0.9, G1 main ~6)."""
    return [_record("G1", risk=0.8, base=(150.0, 400.0, 1000, 0.0)),
            _record("G2", risk=0.93, base=(2.0, 1000.0, 1000, 0.9)),
            _record("G1-net", risk=0.93, base=(3.0, 1000.0, 1000, 0.9), gap=(0.1, 1000)),
            _record("G2-net", risk=0.93, base=(2.0, 1000.0, 1000, 0.9), gap=(0.05, 1000))]


@pytest.mark.parametrize("name", [n for n, m in BOUND_MUTANTS.items() if m.asserted])
def test_mutant_outcome_judges_the_mutated_value(name):
    recs = _random_label_records()
    mut = BOUND_MUTANTS[name]
    (real,) = [r for r in recs if r["claim"] == mut.claim]
    assert real["verdict"] in ("holds", "vacuous")  # the real bound is not violated...
    rejected, _, judged = mutant_outcome(recs, name)
    want = float(mut.fn(T.BoundResult(**real["bound"])))
    assert [j["value"] for j in judged] == [want]  # ...the mutant's value is what is judged
    assert judged[0]["verdict"] == T.bound_verdict(want, real["metrics"]["test_risk"], 1000,
                                                   DELTA_TEST) == "violation"
    assert rejected


def test_power_records_report_each_mutants_own_verdict(monkeypatch):
    """The main job's power item on stored records (training replaced by the synthetic ones):
    every asserted mutant is rejected although no real bound is violated."""
    recs = _random_label_records()
    monkeypatch.setattr(_power, "evaluate_bound_case", lambda case: [dict(r) for r in recs])
    out = power_records(PowerDesign(BoundCase(family="random-labels")))
    power = {r["config"]["mutant"].split(" (")[0]: r for r in out if r["kind"] == "power"}
    assert set(power) == set(BOUND_MUTANTS)
    for name, mut in BOUND_MUTANTS.items():
        if mut.asserted:
            assert power[name]["verdict"] == "rejected", name
    assert all(r["verdict"] != "violation" for r in out if r["kind"] == "bound")


def test_records_without_their_levels_get_no_allowed_rate():
    """A record that does not carry delta / delta_test (an old or foreign store) is summarised
    without a rate rather than with a guessed one, and without an error."""
    rec = _record("G1", risk=0.05)
    del rec["bound"]["delta"], rec["config"]["delta"], rec["config"]["delta_test"]
    row = _row(claim_summaries([rec]), "G1")
    assert row["cases"] == 1 and row["independent_draws"] == 1
    assert row["allowed_rate"] is None and row["rate_p_value"] is None
