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

Censored curves (revised 2026-11-27, docs/theory.md section 5). A sample complexity n_eps(L) that
was not reached by n_max is a *right-censored* value: the truth is > n_max. It is data, not an
error, and it is never replaced by n_max (that substitution is exactly the saturation that made a
capped 2^L curve look polynomial). With censoring (``censored`` mask) both models are fitted by
maximum likelihood with Gaussian errors on log C (a Tobit fit): an observed point contributes
log phi((log C - mu) / s) - log s, a censored one log P(log C_true > log C) = log Phi_c((log C - mu) / s),
with s >= ``sigma_floor`` (a declared floor: the resolution of the measurement, e.g. the
quantization of a geometric n-grid of ratio rho, log(rho) / sqrt(12); without it a curve fitted
exactly would have an unbounded likelihood). D = 2 (loglik_poly - loglik_exp), the same statistic
(equal parameter counts). A seed with fewer than 2 observed points carries no information on the
shape: D = 0 for it (so the curve is undecided unless every seed decides). Without censoring and
with ``sigma_floor`` = 0 the fit is the closed form above.
Error rates with censoring (simulated, seeded, ``checks/test_power.py``; L = 2..10, 3 seeds,
sigma = 0.15, floor 0.05, 100 draws): 2^L censored at 800 / 3,200 is never called polynomial
(exponential in 58 / 92, undecided otherwise); 20 L censored at 800 is never called exponential,
20 L^2 censored at 800 once (1 of 100; 32 polynomial, 67 undecided). Unflagged *soft* saturation
(C = 1 / (2^-L + 1/400), C_n's shape) on L = (2, 4, 8, 16) is called polynomial in 200 of 200
draws: the rule cannot tell saturation from a power law, so measurements must flag it.

Claim verdict (``GrowthTest.verdict``; revised 2026-11-27: classify the class first):

- ``not supported at these sizes`` when the class is classified exponential, whatever the
  control says (an exponential class is a finding, not a lack of power);
- ``no power at these sizes`` when the class is not exponential and the control is not classified
  exponential (polynomial, undecided, or flat/fully censored): the rule cannot show here that it
  would tell a target outside the class from one inside it. Never a pass, never a silent skip;
- ``supported`` when the class is classified polynomial and the control exponential;
- ``inconclusive at these sizes`` when the class is undecided and the control exponential.

So the mutant "control treated as the class" (an exponential curve as the class) is "not
supported": the rule can fail it.

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
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares y = a + s x: (a, s, residual sum of squares)."""
    s, a = np.polyfit(x, y, 1)
    r = y - (a + s * x)
    return float(a), float(s), float(r @ r)


def _tobit_line(x: np.ndarray, y: np.ndarray, cens: np.ndarray,
                sigma_floor: float) -> tuple[float, float, float, float]:
    """Maximum-likelihood y = a + s x + N(0, sigma^2), sigma >= sigma_floor, with right-censored
    points (y_true > y where ``cens``): (a, s, RSS over the observed points, max log-likelihood)."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    obs = ~cens
    if obs.sum() >= 2:
        s0, a0 = np.polyfit(x[obs], y[obs], 1)
    else:  # nothing to fit the shape on: a flat line through the data (D is set to 0 anyway)
        s0, a0 = 0.0, float(np.max(y))

    def nll(th):  # negative log-likelihood and its gradient in (a, s, u), sigma = floor + e^u
        a, s, u = th
        eu = math.exp(min(u, 50.0))
        sig = sigma_floor + eu
        ls = math.log(sig)
        z = (y - (a + s * x)) / sig
        zo, zc = z[obs], z[cens]
        lsf = log_ndtr(-zc)  # log P(Z > z); scipy.special, not scipy.stats: ~50x less overhead
        val = -(np.sum(-0.5 * zo**2 - _HALF_LOG_2PI - ls) + np.sum(lsf))
        haz = np.exp(-0.5 * zc**2 - _HALF_LOG_2PI - lsf)  # d(-log sf)/dz
        dmu = np.zeros_like(z)
        dmu[obs], dmu[cens] = -zo / sig, -haz / sig
        dls = np.sum(1.0 - zo**2) - np.sum(haz * zc)
        return val, np.array([np.sum(dmu), np.sum(dmu * x), dls * eu / sig])

    best = None
    # two starts: the observed points' least squares, and a steeper line that clears the
    # censored points (the likelihood can have a second mode there)
    starts = [(a0, s0)]
    if cens.any():
        lift = (y[cens] - (a0 + s0 * x[cens])) / np.maximum(x[cens] - x.min(), 1e-9)
        steep = s0 + max(0.0, float(np.max(lift)))
        starts.append((a0, steep + 0.1))
    for a_, s_ in starts:
        r = y[obs] - (a_ + s_ * x[obs])
        sd = math.sqrt(float(r @ r) / max(obs.sum(), 1))
        u0 = math.log(max(sd - sigma_floor, 1e-3 * sigma_floor))
        # BFGS on an unconstrained parametrization (sigma = floor + e^u): a few ms per fit, where
        # L-BFGS-B's bounded Fortran driver took ~75 ms on the shared CPU
        res = minimize(nll, np.array([a_, s_, u0]), method="BFGS", jac=True,
                       options={"gtol": 1e-6, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    a, s, _ = best.x
    r = y[obs] - (a + s * x[obs])
    return float(a), float(s), float(r @ r), float(-best.fun)


@dataclass(frozen=True)
class GrowthFit:
    """Both growth models fitted to one curve C(L), per seed (docs/theory.md section 5).

    ``slope[s]`` is seed s's polynomial exponent p (log-log slope), ``rate[s]`` its exponential
    rate b; ``a_poly``/``a_exp`` the intercepts; ``llr[s]`` = D_s = 2 log LR (> 0: polynomial);
    ``censored[s]`` the number of seed s's censored points (Tobit fit; ``rss_*`` then sum over the
    observed points only).
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
    censored: tuple[int, ...] = ()
    sigma_floor: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def describe(self) -> str:
        cens = f"; censored per seed {list(self.censored)}" if any(self.censored) else ""
        return (f"{self.model} (2 log LR per seed {[round(x, 2) for x in self.llr]}{cens}, "
                f"threshold +-{self.threshold:g}; slope p {[round(x, 2) for x in self.slope]}, "
                f"rate b {[round(x, 3) for x in self.rate]})")


@dataclass(frozen=True)
class GrowthTest:
    """The decision rule: per-seed 2 log LR of polynomial vs exponential growth, threshold tau.

    ``threshold`` (tau > 0), ``min_seeds`` (>= 1) and ``sigma_floor`` (>= 0, the least noise on
    log C of the censored fit) are the rule's only knobs; the module docstring gives why tau = 2
    and the simulated error rates.
    """

    threshold: float = 2.0
    min_seeds: int = 2
    sigma_floor: float = 0.0

    def __post_init__(self):
        if not (isinstance(self.sigma_floor, (int, float)) and math.isfinite(self.sigma_floor)
                and self.sigma_floor >= 0):
            raise ValueError(f"sigma_floor = {self.sigma_floor!r}: must be a finite number >= 0")
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold)
                and self.threshold > 0):
            raise ValueError(f"threshold = {self.threshold!r}: must be a finite number > 0")
        if not isinstance(self.min_seeds, int) or isinstance(self.min_seeds, bool) or self.min_seeds < 1:
            raise ValueError(f"min_seeds = {self.min_seeds!r}: must be an integer >= 1")

    def fit(self, Ls: Sequence[float], C, seeds: Sequence | None = None, *,
            censored=None) -> GrowthFit:
        """Fit both models to ``C`` (shape (seeds, len(Ls)), C[s, i] = C(Ls[i]) of seed s) and classify.

        ``censored`` (same shape, bool; default none): C[s, i] is a lower limit (the value was not
        reached by the measurement's largest size); then the Tobit fit of the module docstring."""
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
        cens = np.zeros(C.shape, bool) if censored is None else np.asarray(censored)
        if cens.shape != C.shape or cens.dtype != bool:
            raise ValueError(f"censored: must be a bool array of C's shape {C.shape}")
        logC, logL = np.log(C), np.log(L)
        if cens.any() or self.sigma_floor > 0:
            if self.sigma_floor <= 0:
                raise ValueError("sigma_floor = 0: a censored curve needs sigma_floor > 0 "
                                 "(the measurement's resolution on log C)")
            poly = [_tobit_line(logL, y, c, self.sigma_floor) for y, c in zip(logC, cens)]
            expo = [_tobit_line(L, y, c, self.sigma_floor) for y, c in zip(logC, cens)]
            llr = tuple(0.0 if (~c).sum() < 2 else float(2 * (p[3] - e[3]))
                        for p, e, c in zip(poly, expo, cens))
        else:
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
                         float(self.threshold), tuple(int(c.sum()) for c in cens),
                         float(self.sigma_floor))

    def verdict(self, cls: GrowthFit, control: GrowthFit) -> tuple[str, str]:
        """(verdict, one-line reason) for a class curve against its negative control: the class is
        classified first (module docstring)."""
        reason = f"class {cls.describe()}; control {control.describe()}"
        if cls.model == "exponential":
            return "not supported at these sizes", reason
        if control.model != "exponential":
            return ("no power at these sizes",
                    f"the negative control is not classified exponential ({control.model}), so "
                    f"the rule has not shown it can tell a target outside the class here: {reason}")
        if cls.model == "polynomial":
            return "supported", reason
        return "inconclusive at these sizes", reason


def compare_growth(Ls: Sequence[float], C_class, C_control, *, seeds: Sequence | None = None,
                   test: GrowthTest | None = None, censored_class=None,
                   censored_control=None) -> dict:
    """Classify class and control growth and give the claim verdict (``GrowthTest`` rules).

    ``C_class``/``C_control``: arrays (seeds, len(Ls)). Returns a JSON-ready dict with the two
    ``GrowthFit``s (``class_growth``, ``control_growth``), ``verdict`` and ``reason``.
    """
    test = GrowthTest() if test is None else test
    cls = test.fit(Ls, C_class, seeds, censored=censored_class)
    ctl = test.fit(Ls, C_control, seeds, censored=censored_control)
    verdict, reason = test.verdict(cls, ctl)
    return {"class_growth": cls.to_dict(), "control_growth": ctl.to_dict(), "verdict": verdict,
            "reason": reason, "growth_threshold": test.threshold, "growth_min_seeds": test.min_seeds}
