"""Re-derive every stored bound term and verdict from the record's own fields.

A record of kind "bound" stores a bound's terms (B, grid index, trace, n, delta, train loss, the
gap of a -net bound) and a verdict. This module recomputes, with the ``theory`` functions that
define them (docs/theory.md section 4), every derived field from the primitive ones:

    j        = grid_index(B, gamma)                     (B > 0; B = 0 keeps the stored j <= 0)
    B_grid   = gamma^j
    main     = 2 B_grid sqrt(trace) / n                  (G1, G2; the bases of G1-net / G2-net)
    conf     = confidence_term(n, delta, j)
    base     = train_loss + main + conf
    gap_ucb  = min(1, kl_ucb(gap_mean, n_gap, delta_gap))              (-net bounds)
    value    = base (+ gap_ucb);  P: value = main + conf + gap_term
    vacuous  = value >= 1
    test_lcb = kl_lcb(test_risk, n_test, delta_test), test_ucb = kl_ucb(...)
    verdict  = bound_verdict(value, test_risk, n_test, delta_test)

(delta_test is the record's config entry: the level the evaluation judged it at, never delta.)

and lists every mismatch. ``python -m reports render`` and the checks run it on every store, so a
record whose numbers do not follow from the rule (a mis-wired term, a stale verdict, a verdict
decided elsewhere) is reported. Mutant records (power checks) replace ``value`` on purpose: only
their verdict is re-derived.
"""

from __future__ import annotations

import math

import theory as T

#: Relative tolerance of a re-derived float against the stored one: both are float64 computations
#: of the same expression, possibly in a different order, then written to JSON (repr round-trips).
REL_TOL = 1e-9

_NET = ("G1-net", "G2-net")


def _f(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b), 1e-300)


def audit_bound_record(rec: dict, gamma: float = 1.1) -> list[str]:
    """Mismatches between a bound record's stored fields and their re-derivation (empty: clean)."""
    if rec.get("kind") != "bound" or rec.get("verdict") == "diverged":
        return []
    b, m = rec.get("bound") or {}, rec.get("metrics") or {}
    out = []

    def check(name, stored, derived):
        if not _close(_f(stored), _f(derived)):
            out.append(f"{rec['claim']} {name}: stored {stored} != re-derived {derived}")

    value = _f(b.get("value"))
    mutant = bool(m.get("mutant"))
    if rec["claim"] == "P":  # the predicted bound: P = main + conf + gap (theory/_predicted.py)
        if not mutant:
            check("value", value, _f(b["main_term"]) + _f(b["confidence_term"]) + _f(b["gap_term"]))
    elif math.isfinite(value) and not mutant:
        B, n, delta, trace = _f(b["B"]), int(b["n"]), _f(b["delta"]), _f(b["trace"])
        j = T.grid_index(B, gamma) if B > 0 else int(b["grid_index"])
        check("grid_index", b.get("grid_index"), j)
        check("B_grid", b.get("B_grid"), gamma**j)
        check("main_term", b.get("main_term"), 2.0 * gamma**j * math.sqrt(trace) / n)
        check("confidence_term", b.get("confidence_term"), T.confidence_term(n, delta, j))
        base = _f(b["train_loss"]) + _f(b["main_term"]) + _f(b["confidence_term"])
        if rec["claim"] in _NET:
            ucb = min(1.0, T.kl_ucb(_f(b["gap_mean"]), int(b["n_gap"]), _f(b["delta_gap"])))
            check("gap_ucb", b.get("gap_ucb"), ucb)
            check("base_value", b.get("base_value"), base)
            check("value", value, base + _f(b["gap_ucb"]))
        else:
            check("value", value, base)
    if math.isfinite(value) and bool(b.get("vacuous")) != (value >= 1.0):
        out.append(f"{rec['claim']} vacuous: stored {b.get('vacuous')} but value = {value}")
    delta_test = _f(rec["config"]["delta_test"])
    derived = "not-applicable"
    if math.isfinite(value):
        risk, n_test = _f(m.get("test_risk")), int(m["n_test"])
        if not 0.0 <= risk <= 1.0:  # the mean of a [0, 1] loss: nothing to re-derive from
            return out + [f"{rec['claim']} test_risk: stored {m.get('test_risk')} is not in [0, 1]"]
        if "test_lcb" in m:  # the risk's interval, by the one rule
            check("test_lcb", m["test_lcb"], T.kl_lcb(risk, n_test, delta_test))
            check("test_ucb", m.get("test_ucb"), T.kl_ucb(risk, n_test, delta_test))
        derived = T.bound_verdict(value, risk, n_test, delta_test)
    if rec["verdict"] != derived:
        out.append(f"{rec['claim']} verdict: stored {rec['verdict']!r} != re-derived {derived!r}")
    return out


def audit_records(records: list[dict]) -> dict:
    """{'audited': k, 'c1_net_audited': k', 'mismatches': [messages with the record's case_id]}
    over bound records and "c1-net" records (their verdicts re-derived by
    ``reports.cases._c1_net.audit_c1_net_record`` from the bound records of their design)."""
    audited, bad = 0, []
    for r in records:
        if r.get("kind") != "bound" or r.get("verdict") == "diverged":
            continue
        audited += 1
        try:
            msgs = audit_bound_record(r)
        except (KeyError, ValueError, TypeError) as e:
            msgs = [f"{r.get('claim')}: cannot re-derive ({type(e).__name__}: {e})"]
        bad += [f"{r.get('case_id')}: {msg}" for msg in msgs]
    # the C1 verdicts on the trained network, from the bound records their items stored
    from ._c1_net import audit_c1_net_record

    c1 = [r for r in records if r.get("kind") == "c1-net"]
    for r in c1:
        try:
            msgs = audit_c1_net_record(r, records)
        except (KeyError, ValueError, TypeError) as e:
            msgs = [f"c1-net: cannot re-derive ({type(e).__name__}: {e})"]
        bad += [f"{r.get('case_id')}: {msg}" for msg in msgs]
    return {"audited": audited, "c1_net_audited": len(c1), "mismatches": bad}
