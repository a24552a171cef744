"""Bound-quality statistics (reports/render/_quality.py): power of the rank statistics, and the section
built from a synthetic store.

Power: on a synthetic grid of configurations with a known gap, a measure equal to the gap plus
small noise must score Kendall's tau > 0.8 overall and per axis, and an independent-noise measure
must score near 0 with a bootstrap CI covering 0. Seeds are fixed, so the outcome is
deterministic (no flakiness under load).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import models as M
import theory as T
from reports.render._quality import AXES, granulated, quality_markdown, quality_section, tau_with_ci
from reports.runs._store import make_record

pytestmark = pytest.mark.selftest


def _grid_points(seed=0):
    rng = np.random.default_rng(seed)
    pts = []
    for L, n, m, fam in itertools.product((2, 4, 8), (100, 200, 400), (64, 256), ("additive", "parity")):
        gap = 0.02 * L * (400 / n) ** 0.5 * (1.5 if fam == "parity" else 1.0) * (1 + 32 / m)
        gap += rng.normal(0, 0.002)
        pts.append({"config": {"L": L, "n": n, "m": m, "family": fam, "d": 3}, "gap": gap})
    gaps = np.array([p["gap"] for p in pts])
    good = gaps + rng.normal(0, 0.05 * gaps.std(), len(pts))
    noise = rng.normal(0, 1, len(pts))
    for p, g, z in zip(pts, good, noise):
        p["measures"] = {"good": float(g), "noise": float(z)}
    return pts


def test_rank_statistics_have_power():
    pts = _grid_points()
    gaps = [p["gap"] for p in pts]
    good = tau_with_ci([p["measures"]["good"] for p in pts], gaps)
    noise = tau_with_ci([p["measures"]["noise"] for p in pts], gaps)
    assert good["configs"] == 36
    assert good["tau"] > 0.8 and good["ci"][0] > 0.6, good
    assert abs(noise["tau"]) < 0.3 and noise["ci"][0] < 0 < noise["ci"][1], noise
    for axis in ("L", "n", "m", "family"):
        g = granulated(pts, "good", axis)
        z = granulated(pts, "noise", axis)
        assert g["psi"] > 0.8, (axis, g)
        assert z["psi"] is not None and g["groups"] == z["groups"] >= 3
        assert abs(z["psi"]) < g["psi"]
    # axes along which nothing varies have no groups: reported n/a, never a number
    assert granulated(pts, "good", "r")["label"] == "n/a (0 groups)"


def _record(claim, cfg, *, value, test, train, norms=None, B=None, seed=0, delta_gap=None):
    bound = {"value": value, "delta": cfg["delta"], "B": B if B is not None else 1.0, "n": cfg["n"],
             "train_loss": train, "provenance": "rigorous", "vacuous": value >= 1}
    if delta_gap is not None:
        bound["delta_gap"] = delta_gap
    metrics = {"test_risk": test, "train_risk": train, "n_test": 1000, "mutant": False}
    if norms is not None:
        metrics["norms"] = norms
    return make_record("bound", claim, cfg, seed, bound=bound, metrics=metrics,
                       verdict="vacuous" if value >= 1 else "holds")


def _store_records():
    rng = np.random.default_rng(1)
    recs = []
    d = 2
    for L, m, r in itertools.product((2, 3, 4), (4, 8), (0.5, 1.0)):
        cfg = {"L": L, "m": m, "d": d, "n": 6, "scale": r, "input_scale": r, "family": "additive",
               "f": "sin", "positions": None, "N": L, "l0": L - 1, "method": "gd", "steps": 10,
               "delta": 0.05, "delta_test": 0.01, "init_seed": 0}
        gap = 0.03 * L + 0.2 / m + rng.normal(0, 0.002)
        recs.append(_record("G1", cfg, value=0.5, test=0.2, train=0.0, B=2.0 * L))
        for s in range(2):
            p0 = M.Params(rng.normal(0, (2 / m) ** 0.5, (m, m)), rng.normal(0, (2 / m) ** 0.5, (m, d)),
                          rng.normal(0, 1, m))
            X = rng.normal(0, r / d**0.5, (6, L, d))
            norms = M.weight_norms(p0, p0.W + 0.01 * rng.normal(size=(m, m)), X)
            sc = {**cfg, "seed_index": s}
            recs.append(_record("G2-net", sc, value=0.3 + gap, test=0.1 + gap, train=0.1,
                                norms=norms, seed=0, delta_gap=0.01))
            recs.append(_record("G1-net", sc, value=0.2 + 2 * gap, test=0.1 + gap, train=0.1,
                                delta_gap=0.01))
    return recs


def test_quality_section_from_a_store():
    recs = _store_records()
    q = quality_section(recs)
    assert q["configs"] == 12 and q["records"] == 24 and q["records_with_norms"] == 24
    names = [r["measure"] for r in q["rows"]]
    assert names == ["G1-net", "G2-net", "P-THT", "P-ZLD", "||W_T - W0||_F",
                     "sqrt(y^T H^-1 y / n)", "||W_T||_2"]  # no P records here: no P row
    rows = {r["measure"]: r for r in q["rows"]}
    assert rows["G2-net"]["tau"] > 0.8 and rows["G1-net"]["tau"] > 0.8  # both move with the gap
    assert rows["G2-net"]["violations"] == 0 and rows["G2-net"]["cases"] == 24
    assert math.isclose(rows["G2-net"]["allowed_rate"], 0.05 + 0.01 + 0.01)
    assert rows["P-ZLD"]["violations"] is None and "order form" in rows["P-ZLD"]["validity_note"]
    assert rows["P-THT"]["non_vacuous_fraction"] == 0.0  # vacuous, and said so
    assert rows["P-THT"]["cases"] == 24  # infinite values (singular second moment at n = 6) count
    assert rows["P-ZLD"]["non_vacuous_fraction"] is not None
    assert rows["||W_T||_2"].get("non_vacuous_fraction") is None  # a measure, not a bound
    assert rows["G2-net"]["axes"]["n"]["label"] == "n/a (0 groups)"  # n never varies here
    assert rows["G2-net"]["axes"]["L"]["groups"] == 4  # (m, r) pairs, each with 3 lengths
    # one rule, one place: the prior values are theory.prior_rnn_bounds' (seed mean per config)
    pt = q["points"][0]
    g2 = [r for r in recs if r["claim"] == "G2-net"
          and all(r["config"].get(k) == v for k, v in pt["config"].items())]
    want = np.mean([T.prior_rnn_bounds(r["metrics"]["norms"], n=6, L=pt["config"]["L"],
                                       m=pt["config"]["m"], d=2, delta=0.05,
                                       train_loss=0.1)["P-THT"].value for r in g2])
    assert math.isclose(pt["measures"]["P-THT"], want, rel_tol=1e-12)
    md = "\n".join(quality_markdown(q))
    assert "psi L" in md and "n/a (0 groups)" in md and "P-CLZ" in md and "vacuous by a factor" in md


def test_render_has_the_quality_section_and_plot(tmp_path, monkeypatch):
    from dataclasses import replace
    from types import MappingProxyType

    import theory._claims as TC
    from reports.render._render import render
    from reports.runs._store import ResultsStore

    if "G2-net" not in T.REGISTRY:  # until issue 10's claims are registered (main), stand-ins
        reg = MappingProxyType({**TC.REGISTRY, **{c: replace(TC.REGISTRY[c[:2]], id=c)
                                                  for c in ("G1-net", "G2-net")}})
        monkeypatch.setattr(TC, "REGISTRY", reg)
        monkeypatch.setattr(T, "REGISTRY", reg)

    store = ResultsStore(tmp_path / "s.jsonl")
    store.extend(_store_records())
    rep = render(store.read(), tmp_path / "rep", store_path=store.path)
    assert rep["quality"]["configs"] == 12
    assert "Bound quality" in (tmp_path / "rep" / "report.md").read_text()
    assert "quality_scatter.png" in rep["plots"]


def test_axes_cover_the_issue():
    assert set(AXES) == {"L", "n", "m", "r", "family", "N", "l0", "method"}


@pytest.mark.parametrize("profile, expect", [("default", 0), ("quality", 6)])
def test_grid_profiles_give_the_n_and_m_axes_groups(profile, expect):
    """The default grid never varies n or m alone; the 'quality' profile's sweeps do (6 groups
    each: 3 lengths x 2 families), so the granulated tau has those axes there."""
    from reports.runs._grid import default_items

    pts = []
    for it in default_items(profile):
        if it.kind == "bound":
            c = it.spec.config()
            g = 1.0 / c["n"] + 1.0 / c["m"] + c["L"] + c["scale"]
            pts.append({"config": c, "gap": g, "measures": {"x": g}})
    for axis in ("n", "m"):
        got = granulated(pts, "x", axis)
        assert got["groups"] == expect, (axis, got)
    assert granulated(pts, "x", "L")["groups"] >= 9


def test_batched_tau_b_equals_scipy():
    """The bootstrap's vectorized statistic is scipy's Kendall tau-b, ties included."""
    from scipy.stats import kendalltau

    from reports.render._quality import tau_b_batched

    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, (7, 30)).astype(float)  # many ties
    y = x + rng.integers(0, 3, (7, 30))
    got = tau_b_batched(x, y)
    want = [kendalltau(a, b).statistic for a, b in zip(x, y)]
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isnan(tau_b_batched(np.ones(5), np.arange(5.0)))
