"""The paper-claim scaling checks (C2, C4) and the scale claim (C1): complexity C_n of class
targets and of a parity control over a grid of L and n, and the growth-model fit that decides the
claim (docs/theory.md section 5's fitting protocol, laws read from ``theory.REGISTRY``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

import models as M
import theory as T

from ._case_validation import check_scaling_design
from ._records import make_record


@dataclass(frozen=True)
class ScalingDesign:
    """A grid for a paper-claim scaling check (docs/theory.md section 5).

    claim 'C2': additive targets over all positions; 'C4-N': N-variable with N fixed, positions
    spread evenly over the last ``window`` tokens ending at l_N = L (so l_0 grows with L unless
    window is set); 'C4-l0': N = 2 positions {L - l0, L}. The negative control is a parity of
    signs over all L positions. C(L) is C_n at the largest n, per seed (``fit_scaling`` compares
    growth models seed by seed), and the growth of C_n in n is reported as a convergence
    diagnostic.
    """

    claim: str = "C2"
    Ls: tuple[int, ...] = (2, 4, 8, 16)
    ns: tuple[int, ...] = (100, 200, 400)
    d: int = 5
    scale: float = 1.0
    f: str = "sin"
    seeds: tuple[int, ...] = (0, 1, 2)
    eps: float = 0.1
    N: int = 2
    l0: int = 1
    anchor: str = "end"

    def __post_init__(self):
        check_scaling_design(self)  # every field's type and range, one line naming the field
        if self.claim == "C4-N" and self.N > min(self.Ls):
            raise ValueError(f"N = {self.N} is out of range: allowed 1 <= N <= min(Ls) = {min(self.Ls)}")
        if self.claim == "C4-l0" and self.l0 >= min(self.Ls):
            raise ValueError(f"l0 = {self.l0} is out of range: allowed 0 <= l0 < min(Ls) = {min(self.Ls)}")

    def positions(self, L: int) -> tuple[int, ...]:
        if self.claim == "C4-N":
            pos = sorted({int(round(p)) for p in np.linspace(1, L, self.N)}) if self.N > 1 else [L]
        elif self.claim == "C4-l0":
            pos = sorted({L - self.l0, L})
        else:
            return tuple(range(1, L + 1))
        if self.anchor == "start":
            shift = pos[0] - 1
            pos = [p - shift for p in pos]
        return tuple(pos)

    def target(self, L: int, seed: int):
        if self.claim == "C2":
            return M.AdditiveTarget.make(L, self.d, self.f, seed=seed)
        return M.NVariableTarget.make(L, self.d, self.positions(L), self.f, seed=seed)

    def control(self, L: int, seed: int):
        return M.ParityTarget.make(L, self.d, seed=seed)

    def law(self):
        claim = T.get_claim(self.claim[:2])
        name = {"C2": "complexity", "C4-N": "fixed_N", "C4-l0": "fixed_l0"}[self.claim]
        return claim, name

    def declared_exponent(self, claim=None) -> float:
        c, name = self.law()
        c = claim or c
        return c.laws[name].exponent(eps=self.eps, N=self.N)


def complexity_records(design: ScalingDesign, *, k0_fn=None) -> list[dict]:
    """C_n = y^T H^{-1} y tr(H)/n for the class target and the negative control, per (L, n, seed).

    One Gram per (L, seed, family) at the largest n; smaller n use its leading blocks (nested
    samples, so C_n's growth in n is measured on one sample path).
    """
    out = []
    nmax = max(design.ns)
    base = {k: v for k, v in asdict(design).items() if k not in ("seeds",)}
    for L in design.Ls:
        tok = M.TokenDistribution(L, design.d, design.scale)
        for seed in design.seeds:
            for role, tgt in (("class", design.target(L, seed)), ("control", design.control(L, seed))):
                t0 = time.perf_counter()
                X, y = M.Task(tok, tgt).sample(M.stream_key(1000 + seed, "train"), nmax)
                X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
                H = T.ntk_gram(X, k0_fn=k0_fn)
                for n in design.ns:
                    Hn = H[:n, :n]
                    C = T.complexity(Hn, y[:n])
                    cfg = {**base, "L": L, "n": n, "role": role, "target": tgt.describe(),
                           "positions": list(getattr(tgt, "positions", ()))}
                    out.append(make_record(
                        "complexity", design.claim, cfg, seed, verdict="measured",
                        metrics={"C_n": C, "g1_main": 2 * math.sqrt(C / n),
                                 "mean_diag": float(np.mean(np.diag(Hn)))},
                        timings={"s": time.perf_counter() - t0}))
    return out


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def fit_scaling(records: list[dict], design: ScalingDesign, *, claim=None) -> dict:
    """Classify the growth of C(L) for the class and its control; the claim's verdict.

    The decision is the declared law's ``growth`` rule (``theory/_growth.py``): per seed, polynomial
    (log C vs log L) against exponential (log C vs L) by 2 log LR with threshold tau in every seed;
    the verdict is ``theory.GrowthTest.verdict`` (class first; a control that is not exponential
    means 'no power'). C_n at one n saturates for the control: the scaling claims are decided on
    the sample complexity instead (``reports/cases/_sample_complexity.py``). Reported beside the
    verdict, never part of it: the declared exponent, the class's fitted log-log slope (mean of
    the per-seed slopes = the slope of the geometric mean over seeds; per seed too), the
    control's slope, the control/class ratio of C per L, C_n's growth in n (slope of log C_n in
    log n; near 1 means memorization) and
    ``kappa_envelope``, the smallest kappa with kappa L^p >= C(L) at every L (the law is an upper
    bound). ``claim`` substitutes a claim object (e.g. a stricter rule, for a mutant check).
    """
    base_claim, law_name = design.law()
    claim = claim or base_claim
    law = claim.laws[law_name]
    nmax = max(design.ns)
    p_decl = law.exponent(eps=design.eps, N=design.N)

    def table(role):
        C = {}
        for r in records:
            c = r["config"]
            if c.get("role") == role and c["n"] == nmax:
                C.setdefault(c["L"], {})[r["seed"]] = float(r["metrics"]["C_n"])
        return C

    def nslope(role, L):
        vals = {}
        for r in records:
            c = r["config"]
            if c.get("role") == role and c["L"] == L:
                vals.setdefault(r["seed"], []).append((c["n"], float(r["metrics"]["C_n"])))
        sl = [_slope(*zip(*sorted(v))) for v in vals.values() if len(v) >= 2]
        return float(np.mean(sl)) if sl else float("nan")

    cls, ctl = table("class"), table("control")
    Ls = sorted(set(cls) & set(ctl))
    if len(Ls) < 3:
        raise ValueError(f"need complexity at >= 3 lengths for both roles, have L = {Ls}")
    seeds = sorted(set.intersection(*(set(cls[L]) & set(ctl[L]) for L in Ls)))
    if not seeds:
        raise ValueError(f"no seed has complexity at every L = {Ls} for both roles")
    C_cls = np.array([[cls[L][s] for L in Ls] for s in seeds])
    C_ctl = np.array([[ctl[L][s] for L in Ls] for s in seeds])
    growth = T.compare_growth(Ls, C_cls, C_ctl, seeds=seeds, test=law.growth)
    g_cls, g_ctl = growth["class_growth"], growth["control_growth"]
    c_mean = np.exp(np.log(C_cls).mean(axis=0))  # geometric means: the scale the fits work on
    k_mean = np.exp(np.log(C_ctl).mean(axis=0))
    return {
        "claim": design.claim, "law": law_name, "Ls": Ls, "seeds": seeds, "n_max": nmax,
        "verdict": growth["verdict"], "reason": growth["reason"],
        "class_model": g_cls["model"], "control_model": g_ctl["model"],
        "class_llr": g_cls["llr"], "control_llr": g_ctl["llr"],
        "growth_threshold": growth["growth_threshold"], "growth_min_seeds": growth["growth_min_seeds"],
        "class_growth": g_cls, "control_growth": g_ctl,
        "declared_exponent": p_decl, "fitted_slope": float(np.mean(g_cls["slope"])),
        "fitted_slope_seeds": g_cls["slope"], "class_rate": float(np.mean(g_cls["rate"])),
        "control_slope": float(np.mean(g_ctl["slope"])),
        "control_rate": float(np.mean(g_ctl["rate"])),
        "C_class": c_mean.tolist(), "C_control": k_mean.tolist(),
        "C_class_seeds": C_cls.tolist(), "C_control_seeds": C_ctl.tolist(),
        "control_ratio": (k_mean / c_mean).tolist(),
        "n_growth_class": [nslope("class", L) for L in Ls],
        "n_growth_control": [nslope("control", L) for L in Ls],
        "kappa_envelope": float(np.max(c_mean / np.asarray(Ls, float) ** p_decl)),
        "provenance": claim.provenance,
    }


def scaling_record(design: ScalingDesign, fit: dict) -> dict:
    cfg = {k: v for k, v in asdict(design).items()}
    verdict = fit["verdict"]
    return make_record("scaling", design.claim, cfg, list(design.seeds), metrics=fit,
                       verdict=verdict)
