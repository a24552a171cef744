"""The predicted bound P(n, L, N, l_0, m, delta): the paper's claims' shapes composed into an
a-priori prediction with fitted constants (docs/theory.md section 4, "The predicted bound P";
tag: ``fitted-envelope``, not ``paper-claim``: every exponent is fitted, and the fitted ones
contradict the declared laws, e.g. q = 0.23 against 1/2).

    P = 2 gamma sqrt(C(L, N, l_0, n) / n) + conf(n, delta, j) + gap(m, L)

- C: the declared complexity laws of section 5, log C = log kappa + p log L + l_0 log b + c N,
  per target family, plus a term s log n. The n term is **ours**, not the paper's: at CPU sizes
  C_n has not converged in n (measured: slope 0.3-1 in n for the sin classes), so a law of L
  alone cannot predict a sample size it was not fitted at. Additive targets over all positions
  have N = L and l_0 = L - 1, collinear with L: their law is kappa L^p n^s.
- conf: G1's confidence term (``confidence_term``) at the grid index of the predicted norm
  B = sqrt(C / mean_diag), mean_diag = r^2 L (L - 1) / 4 (the mean of H(x, x) for tokens with
  E||X_l||^2 = r^2, docs/theory.md section 3's diagonal).
- gap: the width law, E min(1, |u_T - f_ker|) <= kappa_gap m^-q L^t n^u (q declared 1/2; all
  fitted; the L and n terms are ours: the network moves further from its kernel predictor when it
  fits more or longer sequences).
- gamma: the grid's rounding Bbar / B <= gamma, taken at its worst.

Every constant is fitted on a calibration grid stored as data (``theory/calibration.json``,
written by ``python -m reports calibrate``): a least-squares fit in log space, then the constant
term raised by the largest residual, so that every calibration point lies on or under the law
(an upper envelope). The predictive check (checks/test_predicted.py) then tests P on
configurations outside the grid: a law that only describes the data it was fitted on has not been
tested. Those configurations are pre-registered (``theory/p_preregistration.json``, committed before
the fit it tests; its sha256 is stored in the calibration and printed by the report): interpolation
points inside the calibrated box and extrapolation points beyond it, inside the pre-registered
extrapolation box, judged and reported apart. Outside both boxes, or at other fixed parameters
(d, r, f, method, parametrization, steps, lr_frac), P refuses to predict.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from models import check_float, check_int

from ._bounds import confidence_term, grid_index

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
PREREGISTRATION_PATH = Path(__file__).with_name("p_preregistration.json")
#: a law fitted to this suite's own measurements (an upper envelope), with no proof behind it;
#: judged only out of sample, on pre-registered configurations (docs/theory.md section 0)
TAG = "fitted-envelope"
PROVENANCE = {"fit_predicted_bound": TAG, "load_calibration": TAG}  # (the pre-registration is data)
REGIONS = ("calibration grid", "interpolation", "extrapolation")
GAMMA = 1.1
FAMILIES = ("additive", "n-variable")


def _design(family: str, L, N, l0, n) -> np.ndarray:
    """Regressors of log C: [1, log L, log n] (additive, all positions) or
    [1, log L, l_0, N, log n] (n-variable)."""
    L, N, l0, n = (np.atleast_1d(np.asarray(v, np.float64)) for v in (L, N, l0, n))
    if family == "additive":
        return np.stack([np.ones_like(L), np.log(L), np.log(n)], axis=1)
    return np.stack([np.ones_like(L), np.log(L), l0, N, np.log(n)], axis=1)


def _envelope_fit(A: np.ndarray, t: np.ndarray) -> tuple[list[float], float, float]:
    """Least squares t ~ A w, then w[0] raised by the largest residual (upper envelope).
    Returns (w, rms residual, the raise)."""
    w, *_ = np.linalg.lstsq(A, t, rcond=None)
    res = t - A @ w
    lift = float(np.max(res))
    w = w.copy()
    w[0] += lift
    return [float(x) for x in w], float(np.sqrt(np.mean(res**2))), lift


@dataclass(frozen=True)
class PredictedBound:
    """Fitted constants of P (see the module docstring) and the domain they were fitted on.

    ``complexity[family]`` = weights of ``_design(family, ...)`` for log C;
    ``gap`` = [log kappa_gap, -q, t, u] for log gap = log kappa_gap - q log m + t log L + u log n.
    """

    complexity: dict
    gap: list
    domain: dict
    fit_quality: dict = field(default_factory=dict)
    provenance: str = TAG
    #: the pre-registered extrapolation box ({"L_range", "m_range", "n_range"}), or None: P then
    #: predicts inside its calibrated box only
    extrapolation: dict | None = None

    def check_domain(self, *, family: str, L: int, m: int, n: int, d: int, scale: float,
                     method: str, parametrization: str, f: str, steps: int, lr_frac: float,
                     extrapolate: bool = False) -> str:
        """Raise (naming every parameter out of range) unless P applies; return the region:
        "interpolation" inside the calibrated box, "extrapolation" beyond it but inside the
        pre-registered extrapolation box (only with ``extrapolate``)."""
        dom = self.domain
        problems = []
        if family not in self.complexity:
            problems.append(f"family = {family!r} (calibrated: {sorted(self.complexity)})")
        boxes = [("calibrated", dom)]
        if extrapolate and self.extrapolation is not None:
            boxes.append(("pre-registered extrapolation", self.extrapolation))
        region = None
        for i, (label, box) in enumerate(boxes):
            out = [f"{name} = {v} outside the {label} range [{box[name + '_range'][0]}, "
                   f"{box[name + '_range'][1]}]"
                   for name, v in (("L", L), ("m", m), ("n", n))
                   if not box[f"{name}_range"][0] <= v <= box[f"{name}_range"][1]]
            if not out:
                region = ("interpolation", "extrapolation")[i]
                break
        if region is None:
            problems.extend(out)
        for name, v in (("d", d), ("scale", scale), ("method", method),
                        ("parametrization", parametrization), ("f", f), ("steps", steps),
                        ("lr_frac", lr_frac)):
            if v != dom[name]:
                problems.append(f"{name} = {v!r} (calibrated at {dom[name]!r})")
        if problems:
            raise ValueError("the predicted bound P does not apply: " + "; ".join(problems))
        return region

    def complexity_at(self, family: str, L: int, N: int, l0: int, n: int) -> float:
        w = np.asarray(self.complexity[family], np.float64)
        return float(np.exp(_design(family, L, N, l0, n) @ w)[0])

    def gap_at(self, m: int, L: int, n: int) -> float:
        a, mq, t, u = self.gap
        return float(min(1.0, math.exp(a + mq * math.log(m) + t * math.log(L) + u * math.log(n))))

    def terms(self, *, family: str, n: int, L: int, N: int, l0: int, m: int,
              delta: float) -> dict:
        """P and its terms (main, conf, gap), with C and the grid index used."""
        n = check_int("n", n, low=1)
        L = check_int("L", L, low=2)
        m = check_int("m", m, low=1)
        check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
        C = self.complexity_at(family, L, N, l0, n)
        r = float(self.domain["scale"])
        mean_diag = r * r * L * (L - 1) / 4.0
        j = grid_index(math.sqrt(C / mean_diag), GAMMA)
        main = 2.0 * GAMMA * math.sqrt(C / n)
        conf = confidence_term(n, delta, j)
        gap = self.gap_at(m, L, n)
        value = main + conf + gap
        return {"value": value, "main_term": main, "confidence_term": conf, "gap_term": gap,
                "C": C, "grid_index": j, "vacuous": value >= 1.0, "provenance": self.provenance}

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("extrapolation")  # from the pre-registration, not part of the fit
        return out


def fit_predicted_bound(points: dict) -> PredictedBound:
    """Fit P's constants from calibration ``points`` (the JSON written by ``reports calibrate``):

    points["complexity"]: [{"family", "L", "N", "l0", "n", "C"}] (C_n of the class target);
    points["gap"]: [{"m", "L", "n", "gap"}] (mean min(1, |u_T - f_ker|) of trained networks);
    points["domain"]: the fixed parameters of the grid (d, scale, method, ...).
    """
    comp, quality = {}, {}
    for fam in FAMILIES:
        pts = [p for p in points["complexity"] if p["family"] == fam]
        if not pts:
            continue
        A = _design(fam, *(np.array([p[k] for p in pts]) for k in ("L", "N", "l0", "n")))
        t = np.log([p["C"] for p in pts])
        if len(pts) <= A.shape[1]:
            raise ValueError(f"{fam}: {len(pts)} calibration points for {A.shape[1]} constants")
        comp[fam], rms, lift = _envelope_fit(A, t)
        quality[fam] = {"points": len(pts), "rms_log": rms, "envelope_lift_log": lift}
    g = points["gap"]
    A = np.stack([np.ones(len(g)), np.log([p["m"] for p in g]), np.log([p["L"] for p in g]),
                  np.log([p["n"] for p in g])], 1)
    gap_w, rms, lift = _envelope_fit(A, np.log([max(p["gap"], 1e-12) for p in g]))
    quality["gap"] = {"points": len(g), "rms_log": rms, "envelope_lift_log": lift,
                      "fitted_q": -gap_w[1], "declared_q": 0.5}
    return PredictedBound(comp, gap_w, dict(points["domain"]), quality)


def load_preregistration(path: str | Path = PREREGISTRATION_PATH) -> tuple[dict, str]:
    """(P's pre-registered held-out design, the sha256 of the file's bytes)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no pre-registered held-out design at {path}")
    data = path.read_bytes()
    return json.loads(data), hashlib.sha256(data).hexdigest()


def load_calibration(path: str | Path = CALIBRATION_PATH) -> tuple[PredictedBound, dict]:
    """(P fitted from the stored calibration points, the raw JSON); the stored constants must
    equal a fresh fit of the stored points (checked in checks/test_predicted.py). P extrapolates
    only into the box of the pre-registration whose hash the calibration recorded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no calibration at {path}: run `python -m reports calibrate`")
    raw = json.loads(path.read_text())
    P = fit_predicted_bound(raw["points"])
    try:
        prereg, sha = load_preregistration()
    except FileNotFoundError:
        return P, raw
    if raw.get("preregistration_sha256") == sha:
        P = replace(P, extrapolation=dict(prereg["extrapolation_box"]))
    return P, raw
