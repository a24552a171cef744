"""The report answers first, and its sections do not contradict each other (issue 11, item 5).

Synthetic stores (``make_record``) with the record shapes of issue 10's contract: claims G1
(kernel interpolant), G2 (f_lin), G1-net and G2-net (the trained network; ``bound`` carries
``gap_ucb``, ``gap_mean``, ``base_value``; ``metrics`` the network's own risks). Each check has
its failing counterpart: a violated -net bound turns the answer into "No".
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import theory as T
from checks.test_reports import _bound, _store, synthetic_records
from reports.cases._evaluate import BoundCase
from reports.cli import main
from reports.render._format import fmt_interval

pytestmark = pytest.mark.selftest


def _net(claim, case: BoundCase, *, value, risk, gap=0.05, seed_index=0, verdict=None):
    rec = _bound(claim, case, value=value, risk=risk, seed_index=seed_index, verdict=verdict)
    rec["bound"].update(gap_ucb=gap + 0.02, gap_mean=gap, n_gap=1000, delta_gap=0.01,
                        base_value=value - gap - 0.02)
    rec["metrics"].update(train_risk=0.01)
    rec["config"]["parametrization"] = "lazy"
    return rec


def _net_records(*, violated=False) -> list[dict]:
    recs = []
    for L in (2, 4):
        for r in (1.0, 10.0):
            c = BoundCase(L=L, scale=r, input_scale=r, n=400)
            vac = r == 10.0  # vacuous at the large scale only
            recs.append(_net("G1-net", c, value=1.4 if vac else 0.7, risk=0.1))
            recs.append(_net("G2-net", c, value=1.2 if vac else 0.6, risk=0.1))
    recs.append(_net("G1-net", BoundCase(L=2, family="parity", n=400), value=2.0, risk=0.5))
    if violated:
        recs.append(_net("G2-net", BoundCase(L=4, n=400, data_seed=9), value=0.2, risk=0.6))
    return recs


def _render(tmp_path, records) -> tuple[dict, str]:
    store = _store(tmp_path, records)
    out = tmp_path / "rep"
    assert main(["render", str(store), "--out", str(out), "--no-plots"]) in (0, 1)
    return json.loads((out / "report.json").read_text()), (out / "report.md").read_text()


def test_answer_first_per_claim_and_predictor(tmp_path):
    rep, md = _render(tmp_path, synthetic_records(violation=False) + _net_records())
    rows = {r["claim"]: r for r in rep["answer"]["rows"]}
    assert list(rows) == ["G1", "G2", "G1-net", "G2-net"]  # the contract's order
    assert rows["G1"]["predictor"] == "kernel interpolant" and rows["G2"]["predictor"].startswith("f_lin")
    assert rows["G1-net"]["predictor"] == rows["G2-net"]["predictor"] == "trained network"
    g1n = rows["G1-net"]
    assert (g1n["cases"], g1n["held"], g1n["violations"], g1n["non_vacuous"]) == (5, 5, 0, 2)
    assert "r=10 (2/2)" in g1n["where_vacuous"] and "family=parity (1/1)" in g1n["where_vacuous"]
    assert "r=1 (1/3)" in g1n["where_vacuous"]  # at r = 1 only the parity case is vacuous
    assert g1n["gap_median"] == pytest.approx(0.05) and g1n["gap_ucb_median"] == pytest.approx(0.07)
    assert rows["G2"]["gap_median"] is None or rows["G2"]["gap_median"] >= 0
    assert rep["answer"]["answer"].startswith("Do the bounds hold for the trained networks? Yes")
    # the section opens the report, before the claims table
    assert md.index("## Answer first") < md.index("## Claims")
    assert "G1-net held in all 5 case(s), non-vacuous in 2, median slack 7x" in md
    assert "network risk (median)" in md and "gap network vs reference" in md
    table = md[md.index("## Answer first"):md.index("## Claims")]
    # a compact table (8 columns) and its detail (4 columns) below it, not one 430-character row
    widths = {line.count("|") for line in table.splitlines() if line.startswith("|")}
    assert widths == {9, 5} and max(len(x) for x in table.splitlines() if x.startswith("|")) < 200
    # the glossary comes before the first table and defines every term the answer uses
    glossary = table[table.index("Terms used below"):table.index("| role")]
    for term in ("r", "UCB / LCB", "f_lin", "f_ker", "P", "slack", "vacuous"):
        assert f"- **{term}**:" in glossary, term
    assert rows["G1-net"]["slack_median"] == pytest.approx(7.0)  # the claims table's slack rule
    claims = {c.get("key", c["claim"]): c for c in rep["claims"]}
    assert rows["G1-net"]["slack_median"] == claims["G1-net"]["slack_median"]
    assert len(rep["answer"]["paper_claims"]) == 4 and rep["answer"]["paper_claims"][0].startswith("C1 ")
    assert "- C1 (No small-input condition): supported (C1 (input scale))." in md


def test_answer_says_no_when_a_network_bound_is_violated(tmp_path):
    rep, md = _render(tmp_path, _net_records(violated=True))
    assert rep["answer"]["answer"].startswith("Do the bounds hold for the trained networks? No")
    assert "G2-net was VIOLATED in 1 of 5 case(s)" in md


def test_answer_without_network_records_says_the_network_was_not_checked(tmp_path):
    rep, md = _render(tmp_path, synthetic_records(violation=False))
    assert "no G1-net/G2-net records" in rep["answer"]["answer"]
    assert "trained networks themselves were not checked" in md


def test_c1_row_and_the_violations_section_agree(tmp_path):
    recs = []
    for r, g in ((0.1, 0.3), (1.0, 0.3), (10.0, 0.9)):  # G1 spreads 3x over r: C1 inconsistent
        c = BoundCase(L=4, scale=r, input_scale=r, n=400)
        recs.append(_bound("G1", c, value=g, risk=0.05))
    rep, md = _render(tmp_path, recs)
    (c1,) = [c for c in rep["claims"] if c["key"] == "C1 (input scale)"]
    assert c1["violations"] is None and c1["inconsistent"] == 1 and not rep["violations"]
    assert "None: no test risk's lower confidence bound exceeded its bound." in md
    assert "1 of 1 target(s) spread beyond" in md and "not bound violations" in md
    assert "spread 3 (allowed 1.25)" in md  # a spread, not a "fitted exponent"


def test_kernel_rate_is_tagged_as_a_monte_carlo_rate(tmp_path):
    rep, md = _render(tmp_path, synthetic_records(violation=False))
    (kmc,) = [c for c in rep["claims"] if c["key"] == "K-mc fit"]
    assert kmc["provenance"] == "exact (Monte-Carlo rate)"
    g1 = next(c for c in rep["claims"] if c["key"] == "G1")
    assert g1["provenance"] == "rigorous"


def test_hoeffding_interval_is_clipped_at_zero_for_display_only():
    assert fmt_interval(-0.012, 0.05) == "[0*, 0.05]"
    assert fmt_interval(0.01, 0.05) == "[0.01, 0.05]"


def test_position_effect_has_a_verdict(tmp_path):
    rep, md = _render(tmp_path, synthetic_records(violation=False))
    assert rep["position_verdict"].startswith("as predicted") and "**Verdict: as predicted" in md
    assert all(p["verdict"] == "last harder" for p in rep["position_effect"])
    # the negative control: the first-token target made harder at L = 4 changes the verdict
    flipped = []
    for r in synthetic_records(violation=False):
        c = r["config"]
        if r["claim"] == "G1" and c.get("positions") == [1] and c["L"] == 4:
            r["metrics"]["complexity"] *= 100
        flipped.append(r)
    rep, _ = _render(tmp_path / "flipped", flipped)
    assert rep["position_verdict"] == "not as predicted at L = 4 (first harder: 0/1)"


def test_records_of_several_claims_for_one_case_and_seed_are_all_kept():
    """G2, G1-net and G2-net of one case and seed share configuration and seed: their case ids
    must differ, or ``dedupe`` keeps only the last of them (it did, before the claim was part of
    the id)."""
    from reports.runs._store import dedupe

    c = BoundCase(L=2, n=400)
    recs = [_bound("G2", c, value=0.5, risk=0.1, seed_index=0),
            _net("G1-net", c, value=0.6, risk=0.1), _net("G2-net", c, value=0.6, risk=0.1)]
    for r in recs:  # the -net helper adds the parametrization; the three share one config
        r["config"]["parametrization"] = "lazy"
    assert len({r["case_id"] for r in recs}) == 3
    assert sorted(r["claim"] for r in dedupe(recs)) == ["G1-net", "G2", "G2-net"]


def test_predicted_bound_rows_are_split_and_kept_out_of_the_answer(tmp_path):
    recs = _net_records()
    for k, region in enumerate(("interpolation", "extrapolation", "calibration grid")):
        r = _bound("P", BoundCase(L=2, n=400, data_seed=k), value=0.3, risk=0.1, seed_index=0)
        r["metrics"]["p_region"] = region
        r["metrics"]["in_calibration"] = region == "calibration grid"
        recs.append(r)
    old = _bound("P", BoundCase(L=2, n=400, data_seed=7), value=0.3, risk=0.1, seed_index=0)
    old["metrics"]["in_calibration"] = False  # written before the regions: off the grid = interpolation
    bad = _bound("P", BoundCase(L=4, n=400, data_seed=5), value=0.05, risk=0.5, seed_index=0)
    bad["metrics"]["p_region"] = "extrapolation"  # P violated beyond its calibrated box
    rep, md = _render(tmp_path, recs + [old, bad])
    rows = {r["claim"]: r for r in rep["answer"]["rows"]}
    assert rows["P (interpolation)"]["cases"] == 2 and rows["P (interpolation)"]["violations"] == 0
    assert rows["P (extrapolation)"]["cases"] == 2 and rows["P (extrapolation)"]["violations"] == 1
    assert rows["P (calibration grid)"]["cases"] == 1
    assert rep["answer"]["answer"].startswith("Do the bounds hold for the trained networks? Yes")
    assert "| P (extrapolation)" in md
    pre = rep["answer"]["p_preregistration"]
    assert pre["sha256"] == T.load_preregistration()[1] and "pre-registered in" in md


# ---- can the checks fail? The power checks right under the answer ------------------------------

def _power(mutant, rejected, *, asserted=True, claim="G1"):
    from reports.cases._power import power_record

    return power_record(claim, mutant, rejected, asserted=asserted, detail="synthetic")


def test_answer_says_whether_the_power_checks_rejected_their_mutants(tmp_path):
    recs = _net_records() + [_power("G1 main term / 100", True), _power("G2 w/o train", True, claim="G2"),
                             _power("G1 main term / 10", False, asserted=False)]
    _, md = _render(tmp_path, recs)
    answer = md[md.index("## Answer first"):md.index("## Claims")]
    assert ("Can the checks fail? 2 of 2 deliberately wrong bound(s) that must be rejected were "
            "rejected; 0 of 1 informational mutant(s) were rejected too") in answer
    power = md[md.index("## Power checks"):]
    assert "| G1 main term / 10" in power and "informational" in power and "asserted" in power


def test_answer_names_an_asserted_mutant_that_was_not_rejected(tmp_path):
    recs = _net_records() + [_power("G1 main term / 100", False), _power("G2 w/o train", True, claim="G2")]
    _, md = _render(tmp_path, recs)
    assert "1 of 2 deliberately wrong bound(s) that must be rejected were rejected (NOT rejected: " \
           "G1 main term / 100)" in md


def test_answer_without_power_records_says_so(tmp_path):
    _, md = _render(tmp_path, _net_records())
    assert "Can the checks fail? This store has no power checks" in md


def test_every_run_profile_has_a_power_item_with_every_mutant():
    from reports.cases._power import BOUND_MUTANTS
    from reports.runs._grid import PROFILES, default_items

    for name in PROFILES:
        power = [it for it in default_items(name) if it.kind == "power"]
        assert len(power) == 1, name
        spec = power[0].spec
        assert spec.case.family == "random-labels" and set(spec.mutants) == set(BOUND_MUTANTS)


def test_power_design_refuses_a_learnable_case_and_unknown_mutants():
    from reports.cases._power import PowerDesign

    with pytest.raises(ValueError, match="case.family = 'additive': the power item needs 'random-labels'"):
        PowerDesign(BoundCase(L=3))
    with pytest.raises(ValueError, match=r"mutants = \['G1 x 0'\]: choose from"):
        PowerDesign(BoundCase(L=3, family="random-labels"), mutants=("G1 x 0",))


def test_the_default_parametrization_comes_before_its_contrast_in_the_table(tmp_path):
    contrast = _net("G1-net", BoundCase(L=2, n=400, data_seed=5), value=0.7, risk=0.1)
    contrast["config"]["parametrization"] = "contrast"
    rep, _ = _render(tmp_path, [contrast] + _net_records())
    rows = [(r["claim"], r["parametrization"]) for r in rep["answer"]["rows"]]
    assert rows.index(("G1-net", "lazy")) + 1 == rows.index(("G1-net", "contrast")), rows


# ---- issue 20: each row says what it is for; rows that would look identical get their field --------

def test_contrast_rows_are_called_a_negative_control_and_p_on_its_grid_an_envelope(tmp_path):
    recs = _net_records()
    for k in range(2):
        c = _net("G1-net", BoundCase(L=2, n=400, data_seed=5 + k), value=0.9, risk=0.2)
        c["config"]["parametrization"] = "contrast"
        recs.append(c)
    for k, inside in enumerate((False, True)):
        r = _bound("P", BoundCase(L=2, n=400, data_seed=k), value=0.3, risk=0.1, seed_index=0)
        r["metrics"]["in_calibration"] = inside
        recs.append(r)
    rep, md = _render(tmp_path, recs)
    role = {(r["claim"], r["parametrization"]): r["role"] for r in rep["answer"]["rows"]}
    assert role[("G1-net", "lazy")] == "bound under test"
    assert role[("G1-net", "contrast")] == "negative control"
    assert role[("P (interpolation)", "lazy")] == "predicted law under test"
    assert role[("P (calibration grid)", "lazy")].startswith("in-sample envelope")
    answer = rep["answer"]["answer"]
    # the lead is about the bounds under test; the control is named as one, after them
    lead, control = answer.split(" Negative control ")
    assert "G1-net held in all 5 case(s)" in lead and "G1-net held in all 2 case(s)" in control
    assert "expected, not evidence" in control
    assert "with the same counts per row" in md  # answer rows = claims table rows


def test_rows_with_identical_keys_get_the_field_that_tells_them_apart(tmp_path):
    recs = []
    for param in ("lazy", "contrast"):
        r = _bound("G1", BoundCase(L=2, n=400), value=0.6, risk=0.1, seed_index=0)
        r["config"]["parametrization"] = param
        r["case_id"] += param  # two cases (make_record hashed the config before the edit)
        recs.append(r)
    for ts in (0, 1):  # C1's table: the same target function at two r, for two target seeds
        for sc in (1.0, 3.0):
            recs.append(_bound("G1", BoundCase(L=3, n=400, scale=sc, input_scale=sc, target_seed=ts),
                               value=0.6, risk=0.1, seed_index=0))
    _, md = _render(tmp_path, recs)
    contrast = md[md.index("## Contrast with prior results"):]
    header = next(x for x in contrast.splitlines() if x.startswith("| family"))
    assert "parametrization" in header
    c1 = md[md.index("## C1: the input scale"):md.index("## Contrast with prior results")]
    header = next(x for x in c1.splitlines() if x.startswith("| family"))
    assert "target_seed" in header and "parametrization" not in header


# ---- issue 20: every plot has labelled axes and readable ticks -----------------------------------

def test_every_plot_labels_its_axes_and_ticks(tmp_path):
    """Draw every plot of a synthetic store with all of them in it and inspect the Axes: each
    visible panel has an x and a y label and at least two labelled y ticks within its limits
    (quality_scatter had no y label, and its P panel no tick label above 1); bound_vs_L has the
    network bounds and tells the contrast parametrization apart."""
    pytest.importorskip("matplotlib")
    from checks.test_reports import synthetic_records
    from reports.render._plots import _PLOTS, _mpl, _readable_log_ticks
    from reports.render._render import build_report
    from reports.runs._store import StoreContents

    recs = synthetic_records(violation=False) + _net_records()
    c = _net("G2-net", BoundCase(L=2, n=400, data_seed=7), value=0.9, risk=0.2)
    c["config"]["parametrization"] = "contrast"
    recs.append(c)
    for k in range(4):  # P close to its risk: a log axis spanning well under a decade
        r = _bound("P", BoundCase(L=2 + k, n=400), value=1.1 + 0.1 * k, risk=0.5, seed_index=0)
        r["metrics"].update(in_calibration=False, train_risk=0.4)
        recs.append(r)
    recs += sample_scaling_synthetic()  # n_eps, n_G1 and T_eps against L, censored values in it
    rep = build_report(StoreContents(records=recs))
    plt = _mpl()
    drawn = {}
    for name, fn in _PLOTS:
        fig = fn(plt, recs, rep)
        if fig is None:
            continue
        for ax in fig.axes:
            _readable_log_ticks(ax)
        fig.canvas.draw()
        drawn[name] = fig
        for ax in fig.axes:
            if not ax.axison:
                continue
            where = f"{name}: panel {ax.get_title()!r}"
            colorbar = ax.get_label() == "<colorbar>"  # its one axis is the y axis
            assert (colorbar or ax.get_xlabel().strip()) and ax.get_ylabel().strip(), where
            lo, hi = sorted(ax.get_ylim())
            shown = [t.get_text() for t, v in zip(ax.get_yticklabels(), ax.get_yticks())
                     if lo <= v <= hi and t.get_text()]
            assert len(shown) >= 2, (where, shown)
    assert {"bound_vs_L", "quality_scatter", "complexity_vs_L", "kernel_convergence",
            "sample_complexity_vs_L"} <= set(drawn)
    titles = [ax.get_title() for ax in drawn["bound_vs_L"].axes if ax.axison]
    assert any(t.startswith("G1-net") for t in titles) and any(t.startswith("G2-net") for t in titles)
    g2net = next(ax for ax in drawn["bound_vs_L"].axes if ax.get_title().startswith("G2-net"))
    assert any("[contrast]" in t.get_text() for t in g2net.get_legend().get_texts())
    for fig in drawn.values():
        plt.close(fig)


def test_paper_claims_c2_c4_come_from_the_deciding_sample_complexity_fits():
    """C2 / C4's answer lines read the deciding sample-scaling records (n_eps(L)); a non-deciding
    fit (eps = 0.25, reported only) does not speak for the claim; C1 falls back to the claims table."""
    from reports.render._answer import paper_claim_lines

    def fit(claim, verdict, decides, eps):
        return {"kind": "sample-scaling", "claim": claim, "verdict": verdict,
                "metrics": {"decides": decides, "class_model": "exponential",
                            "control_model": "exponential", "eps": eps}}

    recs = [fit("C2", "not supported at these sizes", True, 0.5), fit("C2", "supported", False, 0.25),
            fit("C4-l0", "no power at these sizes", True, 0.5)]
    lines = paper_claim_lines([{"claim": "C1", "key": "C1 (input scale)", "verdict": "supported"}], recs)
    assert lines[0].startswith("C1 ") and "supported (C1 (input scale))" in lines[0]
    assert "C2: **not supported at these sizes**" in lines[1] and "supported (" not in lines[1]
    assert "not evaluated" in lines[2]
    assert "C4-l0: **no power at these sizes**" in lines[3]


# ---- issue 22 item 4: n_eps, n_G1 and T_eps against L with both fitted models ------------------

def sample_scaling_synthetic() -> list[dict]:
    """Sample-complexity records of two claims on a nested grid (class ~ L^1.5, control ~ 2^(1.2 L),
    censored above each L's cap; n_G1 = 4 n_eps, more censored) with their "sample-scaling" fits by
    the real rule (``sample_scaling_records``), and C2's T_eps fits as "iteration-scaling" records
    (``fit_sample_complexity`` on T values, caps T_max = 512: the iteration helper's record shape)."""
    from reports.cases._records import make_record
    from reports.cases._sample_complexity import (
        SampleComplexityDesign,
        fit_sample_complexity,
        sample_scaling_records,
    )

    design = SampleComplexityDesign(claims=("C2", "C4-N"), Ls=(2, 3, 4, 5, 6), n_max=2048,
                                    n_max_per_L=(512, 1024, 2048, 2048, 512), seeds=(0, 1),
                                    sized_to_decide=False)
    t_design = replace(design, n_min=4, n_max=512, n_max_per_L=())

    def on_grid(v, d, L):  # the first grid value >= v; None (censored) above the cap
        return next((n for n in d.ns(L) if n >= v), None)

    recs, t_recs = [], []
    for claim in design.claims:
        for L in design.Ls:
            for s in design.seeds:
                for role, v in (("class", 12 * L**1.5 * (1 + 0.2 * s)),
                                ("control", 6 * 2 ** (1.2 * L) * (1 + 0.3 * s))):
                    cfg = {"claim": claim, "L": L, "role": role, "n_cap": design.cap(L)}
                    m = {"n_eps": {"0.5": on_grid(v, design, L), "0.25": on_grid(2 * v, design, L)},
                         "n_G1": {"0.5": on_grid(4 * v, design, L), "0.25": on_grid(8 * v, design, L)},
                         "T_eps": {"0.5": on_grid(v / 3, t_design, L)}}
                    recs.append(make_record("sample-complexity", claim, cfg, s, metrics=m,
                                            verdict="measured"))
    fits = sample_scaling_records(design, recs)
    t_fit = fit_sample_complexity(recs, t_design, "C2", measure="T_eps", eps=0.5)
    t_recs.append(make_record("iteration-scaling", "C2", {"measure": "T_eps", "eps": 0.5}, [0, 1],
                              metrics=t_fit, verdict=t_fit["verdict"]))
    return recs + fits + t_recs


def _sc_figure(records):
    from reports.render._plots import _mpl, _sample_complexity

    plt = _mpl()
    fig = _sample_complexity(plt, records, {})
    fig.canvas.draw()
    return plt, fig


def test_sample_complexity_plot_rows_claims_columns_measures_log_axes():
    """One row per claim, one column per measure (T_eps only where iteration records exist: C4-N's
    T_eps panel says it has none); every drawn panel log-log, labelled, titled with its verdict,
    and carrying both fitted models of class and control."""
    pytest.importorskip("matplotlib")
    recs = sample_scaling_synthetic()
    plt, fig = _sc_figure(recs)
    axes = np.array(fig.axes[:6]).reshape(2, 3)
    fits = {(r["claim"], r["metrics"]["measure"]): r["metrics"] for r in recs
            if r["kind"].endswith("-scaling") and r["metrics"]["eps"] == 0.5}
    for i, claim in enumerate(("C2", "C4-N")):
        for j, measure in enumerate(("n_eps", "n_G1", "T_eps")):
            ax = axes[i, j]
            if (claim, measure) not in fits:
                assert not ax.axison and f"no {measure}" in ax.texts[0].get_text()
                continue
            assert ax.get_xscale() == ax.get_yscale() == "log"
            assert ax.get_xlabel() == "sequence length L" and ax.get_ylabel().startswith(measure)
            title = ax.get_title()
            assert title.startswith(f"{claim}, {measure}: {fits[(claim, measure)]['verdict']}")
            assert ("(decides)" in title) == (measure == "n_eps")
            styles = {(ln.get_color(), ln.get_linestyle()) for ln in ax.get_lines()}
            for color in ("C0", "C3"):  # class, control: polynomial solid, exponential dashed
                assert {(color, "-"), (color, "--")} <= styles, (claim, measure, styles)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "class censored (> cap)" in labels and "control censored (> cap)" in labels
    plt.close(fig)


def test_sample_complexity_plot_draws_censored_points_at_the_cap():
    """A censored value (NaN in the fit: not reached by the cap) is drawn as a hollow upward
    triangle at its L's cap, every one of them: none omitted, none at another height."""
    pytest.importorskip("matplotlib")
    recs = sample_scaling_synthetic()
    plt, fig = _sc_figure(recs)
    fits = [r["metrics"] for r in recs if r["kind"].endswith("-scaling") and r["metrics"]["eps"] == 0.5]
    checked = 0
    for f in fits:
        ax = next(a for a in fig.axes if a.get_title().startswith(f"{f['claim']}, {f['measure']}:"))
        for role in ("class", "control"):
            want = sorted((L, cap) for row in f[f"n_{role}"] for L, cap, v in zip(f["Ls"], f["n_cap"], row)
                          if not np.isfinite(float(v)))
            got = [c for c in ax.collections if c.get_label() == f"{role} censored (> cap)"]
            pts = np.concatenate([c.get_offsets() for c in got]) if got else np.zeros((0, 2))
            assert len(pts) == len(want) == f[f"{role}_censored"], (f["claim"], f["measure"], role)
            # x carries a per-role-and-seed offset of a few % (nearest L recovers it); y is the cap exactly
            drawn = sorted((min(f["Ls"], key=lambda L: abs(L - x)), y) for x, y in pts)
            assert drawn == want
            assert all((c.get_facecolor().size == 0 or c.get_facecolor()[0, 3] == 0) for c in got)
            checked += len(want)
    assert checked >= 10  # the synthetic curves are censored in several panels
    plt.close(fig)


def test_sample_complexity_plot_refits_with_the_one_rule():
    """The drawn lines are the record's own fit (its stored intercepts, slopes and rates); for a
    store written before intercepts were stored, the refit by theory.GrowthTest on the record's
    values gives the same fit (same inputs through JSON's exact float round trip and the same
    deterministic BFGS: equal to the optimizer's rounding, 1e-9 relative); a seed with < 2
    observed points gets no lines."""
    from reports.render._plots import growth_lines

    recs = sample_scaling_synthetic()
    fits = [r["metrics"] for r in recs if r["kind"].endswith("-scaling")]
    for f in fits:
        for role in ("class", "control"):
            lines = growth_lines(f, role)
            old = {k: v for k, v in f.items() if k not in (f"{role}_a_poly", f"{role}_a_exp")}
            refit = growth_lines(old, role)  # the fallback for old stores
            assert len(refit) == len(lines)
            for ln, re_ in zip(lines, refit):
                k = f["seeds"].index(ln["seed"])
                assert ln["a_poly"] == f[f"{role}_a_poly"][k] and ln["a_exp"] == f[f"{role}_a_exp"][k]
                for key in ("a_poly", "slope", "a_exp", "rate"):
                    assert re_[key] == pytest.approx(ln[key], rel=1e-9, abs=1e-12), (role, key)
            observed = [sum(np.isfinite(float(v)) for v in row) for row in f[f"n_{role}"]]
            assert len(lines) == sum(o >= 2 for o in observed)
    f = dict(fits[0], class_a_poly=[1.0, 2.0], class_a_exp=[3.0, 4.0])
    got = growth_lines(f, "class")
    assert [ln["a_poly"] for ln in got] == [1.0, 2.0] and [ln["a_exp"] for ln in got] == [3.0, 4.0]


def test_sample_complexity_plot_sits_beside_its_section(tmp_path):
    """report.md embeds sample_complexity_vs_L.png right under the sample-complexity section (not
    again under Plots); with --no-plots nothing is embedded there."""
    pytest.importorskip("matplotlib")
    store = _store(tmp_path, sample_scaling_synthetic())
    for plots in (True, False):
        out = tmp_path / f"rep{plots}"
        assert main(["render", str(store), "--out", str(out)] + ([] if plots else ["--no-plots"])) in (0, 1)
        md = (out / "report.md").read_text()
        sc = md[md.index("## Sample complexity in L"):md.index("## Scaling fits")]
        assert ("![sample_complexity_vs_L.png](sample_complexity_vs_L.png)" in sc) == plots
        assert md.count("![sample_complexity_vs_L.png]") == int(plots)
        assert (out / "sample_complexity_vs_L.png").exists() == plots


def test_sample_complexity_plot_says_which_seeds_have_no_fitted_lines():
    """A seed with fewer than two observed points has no fitted shape (its 2 log LR is 0 by the
    rule): its lines are left out and the panel says so, rather than drawing a degenerate fit."""
    pytest.importorskip("matplotlib")
    recs = sample_scaling_synthetic()
    r = next(r for r in recs if r["kind"] == "sample-scaling" and r["metrics"]["decides"]
             and r["claim"] == "C2")
    r["metrics"]["n_control"][0] = [r["metrics"]["n_control"][0][0]] + ["nan"] * 4
    plt, fig = _sc_figure(recs)
    ax = next(a for a in fig.axes if a.get_title().startswith("C2, n_eps:"))
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["no fit drawn (< 2 observed points): control seed(s) 0"]
    assert sum(ln.get_color() == "C3" for ln in ax.get_lines()) == 2  # seed 1's two models only
    plt.close(fig)
def _c1_net_records(control_risk=0.3, judged_risk_at_10=0.076):
    """The c1-net item's verdict records (``reports.cases._c1_net.verdict_records``) on synthetic
    -net rows: non-vacuous certificates at r = 0.1, 1, 10, the control r = 0.01's network risk
    ``control_risk`` against 0.075 at r = 1 (degrades beyond the rule's 1.5 x when > 0.1125)."""
    from reports.cases._c1_net import C1NetDesign, verdict_records

    def rows(r, value, risk):
        return [{"r": r, "claim": c, "seed": (r, s), "value": value, "violation": False,
                 "net_risk": risk, "lin_gap": 0.1} for c in ("G1-net", "G2-net") for s in range(2)]

    design = C1NetDesign(scales=(0.01, 0.1, 1.0, 10.0))
    return verdict_records(design, {0.01: rows(0.01, 0.85, control_risk), 0.1: rows(0.1, 0.79, 0.07),
                                    1.0: rows(1.0, 0.75, 0.075), 10.0: rows(10.0, 0.75, judged_risk_at_10)})


def test_paper_claim_c1_comes_from_the_c1_net_record(tmp_path):
    """C1's answer line reads the 'judged' c1-net record (verdict, range, the failing control
    scale), not the claims table's 'C1 (input scale)' row (the interpolant's G1 spread, an
    identity); the report has the per-r table. A control that does not fail, and a judged
    scale that degrades, each read as such."""
    from reports.render._answer import paper_claim_lines

    old = [{"claim": "C1", "key": "C1 (input scale)", "verdict": "supported"}]
    (line, *_) = paper_claim_lines(old, _c1_net_records())
    assert line.startswith("C1 (No small-input condition), on the trained network: **supported** "
                           "over r = 0.1..10 (r = [0.1, 1.0, 10.0];"), line
    assert "negative control r = [0.01]): not supported at these sizes, degrading at r = [0.01]" in line
    assert "non-vacuous for 100%-100%" in line and "(C1 (input scale))" not in line
    (line, *_) = paper_claim_lines(old, _c1_net_records(control_risk=0.08))
    assert "was NOT caught" in line and "**supported**" in line
    (line, *_) = paper_claim_lines(old, _c1_net_records(judged_risk_at_10=0.2))
    assert "**not supported at these sizes** over r = 0.1..10" in line
    assert "degrading at r = [10.0]" in line

    rep, md = _render(tmp_path, _c1_net_records())
    assert rep["answer"]["paper_claims"][0] == paper_claim_lines([], _c1_net_records())[0]
    section = md[md.index("## C1 on the trained network"):]
    assert "| 0.01 | control | 2 | 1 | 1 | 0.85 | 0.3 | 0.1 | 0 | 0 | yes |" in section
    assert "| 10 | judged | 2 | 1 | 1 | 0.75 | 0.076 | 0.1 | 0 | 0 | no |" in section


def test_sample_complexity_table_shows_no_slope_for_a_seed_without_shape():
    """A seed with < 2 observed points has no shape (the rule gives it 2 log LR = 0): its fitted
    slope and rate would be fitted to the caps, so the table prints '-' instead of a number."""
    from reports.render._sample_complexity import _row

    nan = float("nan")
    f = {"claim": "C2", "measure": "n_G1", "eps": 0.5, "class_model": "undecided",
         "control_model": "exponential", "verdict": "no power at these sizes", "decides": False,
         "class_slope": [0.91, 1.5], "class_rate": [1.002, 0.3], "control_rate": [1.1, 1.2],
         "class_censored": 3, "control_censored": 0,
         "n_class": [[nan, nan, 800.0], [40.0, 60.0, 90.0]], "n_control": [[1, 2, 3], [1, 2, 3]]}
    row = _row(f)
    assert "| [-, 1.5] | [-, 0.3] | [1.1, 1.2] |" in row, row
