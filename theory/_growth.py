"""Polynomial or exponential growth in L: the decision rule of the scaling claims C2 and C4.

docs/theory.md sections 1 and 5: the paper claims that iterations and samples grow *almost
polynomially* in L; our declared reading is C(L) <= kappa L^p (``PowerLaw`` in the claim registry).
A bound on the fitted log-log slope cannot test that on a few lengths: 2^L over L = 2..16 has a
log-log slope of 4.60, under C2's declared 4.3 + 0.5, so "slope <= p + tol" supported an
exponential. The rule here is a *model comparison* instead, made in this one place:

Models, fitted by least squares on log C, separately for every seed (a seed draws its own target
and sample, so seeds are independent replicates):

    polynomial   log C = a + p log L
    exponential  log C = a + b L

Both have two parameters. With Gaussian errors of unknown variance on log C, the maximized
log-likelihood ratio of the two fits on N_L lengths is

    D = 2 log LR = N_L log(RSS_exp / RSS_poly)        (> 0 favours polynomial)

which equals the difference of their AIC, and of their BIC, because the parameter counts match.

Classification of one curve (the class target's, or the negative control's):

- ``polynomial``  when every seed has D >= tau;
- ``exponential`` when every seed has D <= -tau;
- ``undecided``   otherwise: the seeds disagree or the evidence is weak, or fewer than
  ``min_seeds`` seeds (one seed gives no spread over seeds to judge).

tau = 2 is "positive evidence" on Kass & Raftery's (1995) scale for 2 log(Bayes factor), which
D approximates (BIC, equal parameter counts); demanding it of *every* seed makes the preference a
replicated finding rather than a mean carried by one seed. Why per-seed fits and not a bootstrap:
with 3 seeds a bootstrap over seeds has 10 distinct resamples, too few for an interval.

Error rates, simulated (3 seeds, i.i.d. Gaussian noise sigma in {0.05, 0.1, 0.2, 0.3} on log C,
power laws L^p with p in {0.25, 0.5, 1, 2, 4} and exponentials e^{bL} with b in {0.05, 0.1, 0.2,
0.35, 0.7}; 1000 draws per sigma and family; re-measured by ``checks/test_power.py``): the wrong
model is chosen in <= 0.4% of draws on L = (2, 4, 8, 16) and <= 2.3% on L = (2, 3, 4), where
most curves are (rightly) left undecided. Without the threshold (tau -> 0) the same errors reach
3.4% and 11%. Weak growth (p < 1 at sigma = 0.2) is mostly undecided: the rule says so rather
than guess.

Claim verdict (``GrowthTest.verdict``), class against its negative control (parity):

- ``no power at these sizes`` when the control is itself classified polynomial: the rule cannot
  tell a target outside the class from one inside it here, so the class's fit means nothing;
- else ``supported`` when the class is classified polynomial;
- ``not supported at these sizes`` when the class is classified exponential;
- ``inconclusive at these sizes`` when the class is undecided.

The declared exponent and the fitted slope are reported next to the verdict, never part of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

GROWTH_MODELS = ("polynomial", "exponential", "undecided")
SCALING_VERDICTS = ("supported", "not supported at these sizes", "inconclusive at these sizes",
                    "no power at these sizes")

# RSS floor per length: log C is known to ~1e-12 at best, and a noise-free synthetic curve must
# give a large finite D rather than log(0).
_RSS_FLOOR = 1e-24


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares y = a + s x: (a, s, residual sum of squares)."""
    s, a = np.polyfit(x, y, 1)
    r = y - (a + s * x)
    return float(a), float(s), float(r @ r)


@dataclass(frozen=True)
class GrowthFit:
    """Both growth models fitted to one curve C(L), per seed (docs/theory.md section 5).

    ``slope[s]`` is seed s's polynomial exponent p (log-log slope), ``rate[s]`` its exponential
    rate b; ``a_poly``/``a_exp`` the intercepts; ``llr[s]`` = D_s = 2 log LR (> 0: polynomial).
    """

    Ls: tuple[float, ...]
    seeds: tuple
    a_poly: tuple[float, ...]
    slope: tuple[float, ...]
    rss_poly: tuple[float, ...]
    a_exp: tuple[float, ...]
    rate: tuple[float, ...]
    rss_exp: tuple[float, ...]
    llr: tuple[float, ...]
    model: str
    threshold: float

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def describe(self) -> str:
        return (f"{self.model} (2 log LR per seed {[round(x, 2) for x in self.llr]}, "
                f"threshold +-{self.threshold:g}; slope p {[round(x, 2) for x in self.slope]}, "
                f"rate b {[round(x, 3) for x in self.rate]})")


@dataclass(frozen=True)
class GrowthTest:
    """The decision rule: per-seed 2 log LR of polynomial vs exponential growth, threshold tau.

    ``threshold`` (tau > 0) and ``min_seeds`` (>= 1) are the rule's only knobs; the module
    docstring gives why tau = 2 and the simulated error rates.
    """

    threshold: float = 2.0
    min_seeds: int = 2

    def __post_init__(self):
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold)
                and self.threshold > 0):
            raise ValueError(f"threshold = {self.threshold!r}: must be a finite number > 0")
        if not isinstance(self.min_seeds, int) or isinstance(self.min_seeds, bool) or self.min_seeds < 1:
            raise ValueError(f"min_seeds = {self.min_seeds!r}: must be an integer >= 1")

    def fit(self, Ls: Sequence[float], C, seeds: Sequence | None = None) -> GrowthFit:
        """Fit both models to ``C`` (shape (seeds, len(Ls)), C[s, i] = C(Ls[i]) of seed s) and classify."""
        L = np.asarray(Ls, dtype=float)
        if L.ndim != 1 or len(L) < 3 or not np.all(np.isfinite(L)) or np.any(L <= 0):
            raise ValueError(f"Ls = {list(Ls)}: need at least 3 finite lengths > 0 to compare two "
                             "2-parameter fits")
        if len(set(L.tolist())) != len(L):
            raise ValueError(f"Ls = {list(Ls)}: lengths must be distinct")
        try:
            C = np.asarray(C, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("C: must be a numeric array of shape (seeds, len(Ls))") from None
        if C.ndim != 2 or C.shape[1] != len(L) or C.shape[0] < 1:
            raise ValueError(f"C has shape {C.shape}: need (seeds >= 1, len(Ls) = {len(L)})")
        if not np.all(np.isfinite(C)) or np.any(C <= 0):
            raise ValueError("C: every complexity must be finite and > 0 (growth is fitted on log C)")
        seeds = tuple(range(C.shape[0])) if seeds is None else tuple(seeds)
        if len(seeds) != C.shape[0]:
            raise ValueError(f"seeds = {list(seeds)}: need one label per row of C ({C.shape[0]})")
        logC, logL = np.log(C), np.log(L)
        floor = _RSS_FLOOR * len(L)
        poly = [_line(logL, y) for y in logC]
        expo = [_line(L, y) for y in logC]
        llr = tuple(float(len(L) * math.log(max(e[2], floor) / max(p[2], floor)))
                    for p, e in zip(poly, expo))
        if len(seeds) < self.min_seeds:
            model = "undecided"
        elif min(llr) >= self.threshold:
            model = "polynomial"
        elif max(llr) <= -self.threshold:
            model = "exponential"
        else:
            model = "undecided"
        return GrowthFit(tuple(L.tolist()), seeds, tuple(p[0] for p in poly), tuple(p[1] for p in poly),
                         tuple(p[2] for p in poly), tuple(e[0] for e in expo),
                         tuple(e[1] for e in expo), tuple(e[2] for e in expo), llr, model,
                         float(self.threshold))

    def verdict(self, cls: GrowthFit, control: GrowthFit) -> tuple[str, str]:
        """(verdict, one-line reason) for a class curve against its negative control."""
        if control.model == "polynomial":
            return ("no power at these sizes",
                    "the negative control is itself classified polynomial: "
                    f"control {control.describe()}")
        reason = f"class {cls.describe()}; control {control.model}"
        if cls.model == "polynomial":
            return "supported", reason
        if cls.model == "exponential":
            return "not supported at these sizes", reason
        return "inconclusive at these sizes", reason


def compare_growth(Ls: Sequence[float], C_class, C_control, *, seeds: Sequence | None = None,
                   test: GrowthTest | None = None) -> dict:
    """Classify class and control growth and give the claim verdict (``GrowthTest`` rules).

    ``C_class``/``C_control``: arrays (seeds, len(Ls)). Returns a JSON-ready dict with the two
    ``GrowthFit``s (``class_growth``, ``control_growth``), ``verdict`` and ``reason``.
    """
    test = GrowthTest() if test is None else test
    cls = test.fit(Ls, C_class, seeds)
    ctl = test.fit(Ls, C_control, seeds)
    verdict, reason = test.verdict(cls, ctl)
    return {"class_growth": cls.to_dict(), "control_growth": ctl.to_dict(), "verdict": verdict,
            "reason": reason, "growth_threshold": test.threshold, "growth_min_seeds": test.min_seeds}
