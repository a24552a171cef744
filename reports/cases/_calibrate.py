"""The calibration grid of the predicted bound P (docs/theory.md section 4, "Predicted bound").

``python -m reports calibrate [--out theory/calibration.json]`` measures, on a fixed grid:

- complexity points C_n (docs/theory.md section 4) of the class targets the claims speak about:
  additive sin targets over all positions (C2) and N-variable sin targets with N <= 3 positions
  ending at L (C4), at L in {2, 4, 8} and nested n in {200, 400, 800, 1600}, two target seeds;
- gap points: the mean min(1, |u_T - f_ker|) of G1-net for networks trained by GD in the lazy
  parametrization at widths m in {64, 128, 256}, L in {2, 4, 8} and n in {200, 1600} (two seeds);

The domain is the box these span (L 2..8, m 64..256, n 200..1600); n reaches where G1 stops being
vacuous at d = 5 (a few hundred to a thousand samples), so P can be tested non-vacuously.

and writes them with the grid's fixed parameters (the domain) to JSON. ``theory.load_calibration``
fits P's constants from these points (``theory.fit_predicted_bound``): the stored file holds data,
never hand-set constants. The predictive check draws configurations off this grid.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np

import models as M
import theory as T

from ._calibration_grid import C_LS, C_NS, C_SEEDS, DOMAIN, GAP_LS, GAP_MS, GAP_NS, NVAR_SHAPES
from ._evaluate import BoundCase, evaluate_bound_case


def nvar_positions(L: int, N: int, l0: int) -> tuple[int, ...] | None:
    """N positions ending at L with spread l_0, evenly spaced (None when they do not fit)."""
    if l0 >= L or (N == 1) != (l0 == 0) or l0 < N - 1:
        return None
    pos = sorted({int(round(p)) for p in np.linspace(L - l0, L, N)})
    return tuple(pos) if len(pos) == N else None


def complexity_points() -> list[dict]:
    d, r = DOMAIN["d"], DOMAIN["scale"]
    out = []
    for L in C_LS:
        tok = M.TokenDistribution(L, d, r)
        targets = [("additive", L, L - 1, None)]
        targets += [("n-variable", N, l0, p) for N, l0 in NVAR_SHAPES
                    if (p := nvar_positions(L, N, l0)) is not None]
        for fam, N, l0, pos in targets:
            for seed in C_SEEDS:
                tgt = (M.AdditiveTarget.make(L, d, "sin", seed=seed) if fam == "additive"
                       else M.NVariableTarget.make(L, d, pos, "sin", seed=seed))
                X, y = M.Task(tok, tgt).sample(M.stream_key(5000 + seed, "train"), max(C_NS))
                H = T.ntk_gram(np.asarray(X, np.float64))
                y = np.asarray(y, np.float64)
                for n in C_NS:
                    out.append({"family": fam, "L": L, "N": N, "l0": l0, "n": n, "seed": seed,
                                "C": T.complexity(H[:n, :n], y[:n])})
    return out


def gap_points() -> list[dict]:
    out = []
    for L, m, n in ((L, m, n) for L in GAP_LS for m in GAP_MS for n in GAP_NS):
        case = BoundCase(L=L, d=DOMAIN["d"], m=m, n=n, n_test=500, n_gap=2000,
                         steps=DOMAIN["steps"], seeds=2, family="additive", f="sin",
                         scale=DOMAIN["scale"], input_scale=DOMAIN["scale"],
                         data_seed=9, target_seed=9, init_seed=9)
        for r in evaluate_bound_case(case, predicted=False):
            if r["claim"] == "G1-net" and r["verdict"] != "diverged":
                out.append({"m": m, "L": L, "n": n, "seed": r["config"]["seed_index"],
                            "gap": r["bound"]["gap_mean"]})
    return out


def preregistered_cases(selection: str = "all") -> list[tuple[str, str, BoundCase]]:
    """(id, region, BoundCase) of P's pre-registered held-out design (``theory/p_preregistration.json``):
    ``selection`` is a profile's list in the file ("ci", "default", ...) or "all"."""
    pre, _ = T.load_preregistration()
    chosen = pre["profiles"].get(selection, "all") if selection != "all" else "all"
    fixed = dict(pre["fixed"])
    out = []
    for c in pre["cases"]:
        if chosen != "all" and c["id"] not in chosen:
            continue
        pos = tuple(c["positions"]) if c["positions"] is not None else None
        case = BoundCase(L=c["L"], m=c["m"], n=c["n"], family=c["family"], positions=pos,
                         data_seed=c["data_seed"], target_seed=c["target_seed"],
                         init_seed=c["init_seed"], **fixed)
        out.append((c["id"], c["region"], case))
    return out


def calibrate(out: str | Path) -> dict:
    """Measure the grid, fit P and write both, with the sha256 of the held-out design that was
    pre-registered before this fit (``theory/p_preregistration.json``; refused without one)."""
    _, sha = T.load_preregistration()
    points = {"domain": DOMAIN, "complexity": complexity_points(), "gap": gap_points()}
    P = T.fit_predicted_bound(points)
    raw = {"written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "by": "python -m reports calibrate", "preregistration_sha256": sha, "points": points,
           "fitted": P.to_json()}
    out = Path(out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(raw, indent=1) + "\n")
    tmp.replace(out)
    return raw
