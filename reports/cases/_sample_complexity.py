"""Sample complexity in L: the measurement the scaling claims C2 and C4 are about.

docs/theory.md sections 5 and 6, /work/shared/THEORY.md section 5 (revised 2026-11-27 evening).
The paper claims that the number of *samples* needed to learn grows (almost) polynomially in L.
C_n at one fixed n is not that number (it saturates near n for hard targets, which made a capped
2^L control look polynomial). Measured here, per length L and target seed:

- n_eps(L): the smallest n of a nested geometric grid from which the minimum-norm kernel
  interpolant's test risk stays <= eps times the zero predictor's (what happens; eps declared);
- n_G1(L): the smallest n at which G1 itself certifies risk <= eps times the zero predictor's
  risk (what the theorem promises; reported, not decided on: G1 is loose by 5-10x);

from one Gram and one Cholesky factor at n_max per L (the large-n path, ``theory.nested_cholesky``:
the leading block of the factor is the factor of the leading block), for every claim's class
target and the negative control at once (they share the token sample X). A value not reached by
n_max is **right-censored** (the truth is > n_max): it is kept as data and fitted by the growth
rule's Tobit fit (``theory.GrowthTest``, ``censored=``), never replaced by n_max.

The negative control (why this one; measured 2026-11-27 on the kernel interpolant, eps = 0.5,
two target seeds, nested grid to n = 8,192; docs/theory.md section 6): y = sin(omega_L t_L) with
omega_L^2 = 1 + 0.2 (L - 2) (``RampedSineControl``). Its n_eps at d = 5 is 95-135, 160-226, 453,
2,153-2,560, 8,192 / > 8,192 at L = 2..6 (convex on a log scale: exponential), censored after.
The controls measured before it, and why they were not chosen:
- parity over all positions: censored at every L (relative risk 0.55 at L = 2, n = 6,400);
  parity and products of sin or of projections over >= 3 positions are censored from L = 3 on,
  at d = 5 and at d = 2 alike (d = 2, L = 3, n = 4,096: relative risk 0.59-0.61);
- t_1 t_L (the previous control): 190-269, 761-905, 2,153-2,560, 5,120-6,089 at d = 5, L = 2..5,
  and at d = 2: 34-67, 160-190, 381-453, 905, 1,522-1,810, 3,620, 6,089, > 8,192 at L = 2..8, a
  near-constant log-log slope of about 3.3: a power of L (as C4 predicts for N = 2), not a control;
  t_{L-1} t_L (l_0 = 1) grows like L^2.2 (d = 2, L = 3..10);
- sin(omega t_L) with omega doubling every 2 or 3 lengths: censored from L = 4 (too steep).

Records: one "sample-complexity" record per (L, role, claim, seed) with the relative-risk curve,
n_eps and n_G1 per eps; one "sample-scaling" record per (claim, measure, eps) with the growth fits
and the verdict of ``theory.compare_growth`` (the one rule); the deciding one has
``metrics["decides"] = True``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace

import jax
import numpy as np

import models as M
import theory as T

from ._records import make_record

SC_CLAIMS = ("C2", "C4-N", "C4-l0")
#: the fold_in constant of this item's random streams (independent of every other item's keys)
_STREAM = 22_000


@dataclass(frozen=True)
class RampedSineControl:
    """Negative control: y = sin(omega_L t_L) / s(omega_L), one token, a frequency that grows with L.

    t_L = sqrt(d) beta^T X_L (unit variance at r = 1, beta a unit vector drawn from ``seed``),
    omega_L^2 = 1 + c (L - 2) (``c`` declared, the design's ``control_c``) and
    s(omega)^2 = (1 - e^{-2 omega^2}) / 2 = Var sin(omega t) for t ~ N(0, 1), so y has unit variance
    at every L. Why this one (module docstring, docs/theory.md section 5): its n_eps was measured to
    be convex on a log scale over L = 2..5 at d = 5 (four observed points per seed; the rule
    classifies it exponential), while every product over >= 3 positions is censored from L = 3 and
    two-token products grow like a power of L. It lies outside the claims' scope by construction:
    each claim fixes f as L grows, while here the Hermite mass of f_L(t) = sin(omega_L t) (a
    Poisson(omega_L^2) law over the odd degrees) moves to higher degree linearly in L; that alone
    does not make its growth exponential (one token has only ~k^d polynomials of degree <= k), the
    measurement does. It is a control of the *measurement's* power, not a
    natural concept."""

    L: int
    d: int
    seed: int
    c: float
    beta: np.ndarray = field(repr=False)
    family: str = "ramped-sine"

    @classmethod
    def make(cls, L: int, d: int, *, seed: int = 0, c: float = 0.2) -> RampedSineControl:
        M.check_int("L", L, low=2)
        M.check_int("d", d, low=1)
        M.check_float("control_c", c, low=0.0, high=10.0, low_open=True)
        return cls(L, d, int(seed), float(c), M._data._unit_vectors(seed, 1, d)[0])

    @property
    def omega(self) -> float:
        return math.sqrt(1.0 + self.c * (self.L - 2))

    def __call__(self, X) -> np.ndarray:
        X = np.asarray(X, np.float64)
        w = self.omega
        t = X[:, self.L - 1, :] @ self.beta * math.sqrt(self.d)
        return np.sin(w * t) / math.sqrt((1.0 - math.exp(-2.0 * w * w)) / 2.0)

    def describe(self) -> dict:
        return {"family": self.family, "positions": [self.L], "omega": self.omega, "c": self.c,
                "seed": self.seed}


@dataclass(frozen=True)
class SampleComplexityDesign:
    """Nested n grid n_min * 2^(k / steps_per_doubling) up to n_max, lengths ``Ls``, ``claims``.

    ``eps[0]`` decides (n_eps at that level); every eps is reported. ``sized_to_decide``: the
    profile that carries this design is sized to have power, so "no power" there is a failure of
    the design (checks/test_claims.py asserts it), not a skip.
    """

    claims: tuple[str, ...] = SC_CLAIMS
    Ls: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10)
    n_min: int = 10
    n_max: int = 8192
    # the largest n at each L (default: n_max everywhere). The control needs large n only at small
    # L (it is censored beyond L ~ 5 anyway) and the class small n at every L, so large L can stop
    # early: the Gram costs O(n^2 L) and the factorization O(n^3)
    n_max_per_L: tuple[int, ...] = ()
    steps_per_doubling: int = 4
    eps: tuple[float, ...] = (0.5, 0.25)
    d: int = 5
    n_test: int = 1000
    seeds: tuple[int, ...] = (0, 1, 2)
    f: str = "sin"
    N: int = 2
    l0: int = 1
    delta: float = 0.05
    data_seed: int = 0
    sized_to_decide: bool = True
    # the control's frequency ramp omega_L^2 = 1 + control_c (L - 2) (RampedSineControl)
    control_c: float = 0.2
    # n_eps as a function of N at the fixed length L_N (C4's exponential side, reported): N-variable
    # targets at N positions spread over the whole sequence (l_0 = L_N - 1 for every N >= 2), so
    # that only N varies; computed from the L_N Gram the L sweep already factors (L_N in Ls)
    Ns: tuple[int, ...] = ()
    L_N: int = 8

    def __post_init__(self):
        for name in ("claims", "Ls", "eps", "seeds"):
            v = getattr(self, name)
            if not isinstance(v, (tuple, list)) or not v:
                raise ValueError(f"{name} = {v!r}: must be a non-empty sequence")
            object.__setattr__(self, name, tuple(v))
        bad = [c for c in self.claims if c not in SC_CLAIMS]
        if bad or len(set(self.claims)) != len(self.claims):
            raise ValueError(f"claims = {list(self.claims)}: distinct names from {list(SC_CLAIMS)}")
        if (len(self.Ls) < 3 or list(self.Ls) != sorted(set(self.Ls))
                or any(isinstance(L, bool) or not isinstance(L, int) or L < 2 for L in self.Ls)):
            raise ValueError(f"Ls = {list(self.Ls)}: need >= 3 increasing integer lengths >= 2")
        M.check_int("n_min", self.n_min, low=2)
        M.check_int("n_max", self.n_max, low=self.n_min + 1)
        object.__setattr__(self, "n_max_per_L", tuple(self.n_max_per_L))
        if self.n_max_per_L and (len(self.n_max_per_L) != len(self.Ls) or any(
                isinstance(n, bool) or not isinstance(n, int) or not self.n_min < n <= self.n_max
                for n in self.n_max_per_L)):
            raise ValueError(f"n_max_per_L = {list(self.n_max_per_L)}: one integer per L in "
                             f"(n_min, n_max] = ({self.n_min}, {self.n_max}]")
        M.check_int("steps_per_doubling", self.steps_per_doubling, low=1, high=16)
        M.check_int("d", self.d, low=1)
        M.check_int("n_test", self.n_test, low=1)
        M.check_int("N", self.N, low=1, high=min(self.Ls))
        M.check_int("l0", self.l0, low=0, high=min(self.Ls) - 1)
        for e in self.eps:
            M.check_float("eps", e, low=0.0, high=1.0, low_open=True, high_open=True)
        M.check_float("delta", self.delta, low=0.0, high=1.0, low_open=True, high_open=True)
        M.check_float("control_c", self.control_c, low=0.0, high=10.0, low_open=True)
        object.__setattr__(self, "Ns", tuple(self.Ns))
        if self.Ns:
            if self.L_N not in self.Ls:
                raise ValueError(f"L_N = {self.L_N!r}: must be one of Ls = {list(self.Ls)} "
                                 "(its Gram is reused)")
            if (len(self.Ns) < 3 or list(self.Ns) != sorted(set(self.Ns)) or any(
                    isinstance(N, bool) or not isinstance(N, int) or not 2 <= N <= self.L_N
                    for N in self.Ns)):
                raise ValueError(f"Ns = {list(self.Ns)}: need >= 3 increasing integers in "
                                 f"[2, L_N = {self.L_N}]")
        if len(set(self.seeds)) != len(self.seeds) or any(
                isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ValueError(f"seeds = {list(self.seeds)}: distinct integers >= 0")

    def cap(self, L: int) -> int:
        """The largest n at length L (a value not reached by it is censored there)."""
        return self.n_max_per_L[self.Ls.index(L)] if self.n_max_per_L else self.n_max

    def ns(self, L: int) -> tuple[int, ...]:
        """The nested grid at length L: n_min 2^(k / steps_per_doubling) up to ``cap(L)``."""
        top = self.cap(L)
        k_max = int(math.floor(self.steps_per_doubling * math.log2(top / self.n_min) + 1e-9))
        grid = {int(round(self.n_min * 2 ** (k / self.steps_per_doubling))) for k in range(k_max + 1)}
        return tuple(sorted(grid | {top}))

    @property
    def sigma_floor(self) -> float:
        """The resolution of log n_eps on the grid: a uniform quantization error of width
        log(2) / steps_per_doubling has standard deviation width / sqrt(12)."""
        return math.log(2.0) / self.steps_per_doubling / math.sqrt(12.0)

    def scaling(self, claim: str):
        """The ScalingDesign whose class target (and positions) ``claim`` uses: one definition."""
        from ._scaling import ScalingDesign

        return ScalingDesign(claim, Ls=self.Ls, d=self.d, f=self.f, seeds=self.seeds, N=self.N,
                             l0=self.l0)

    def control(self, L: int, seed: int) -> RampedSineControl:
        return RampedSineControl.make(L, self.d, seed=seed, c=self.control_c)

    def n_positions(self, N: int) -> tuple[int, ...]:
        """N positions spread evenly over 1..L_N, first and last included (l_0 = L_N - 1)."""
        pos = tuple(int(round(p)) for p in np.linspace(1, self.L_N, N))
        if len(set(pos)) != N:
            raise ValueError(f"N = {N}: no {N} distinct positions in 1..{self.L_N}")
        return pos

    def n_target(self, N: int, seed: int):
        """C4's N-variable class target with N spread positions (``n_positions``) at L_N."""
        return M.NVariableTarget.make(self.L_N, self.d, self.n_positions(N), self.f, seed=seed)


def target_values(target, X: np.ndarray) -> np.ndarray:
    """target(X) as float64. The class targets are models' JAX functions, which compute in float32
    (the network's precision) unless x64 is on: they get X rounded to float32 here, which is what
    JAX did with the float64 array anyway (same numbers, without one UserWarning per call); the
    control is NumPy and gets X as it is."""
    if isinstance(target, RampedSineControl):
        return np.asarray(target(X), np.float64)
    return np.asarray(target(np.asarray(X, np.float32)), np.float64)


def _first_reached(values: np.ndarray, ns, level: float):
    """The smallest grid n from which the value stays <= level at every larger grid n up to the
    cap (None: right-censored at the cap). Why not the first crossing: the minimum-norm
    interpolant's risk need not be monotone in n, and a sample cannot be stopped early the way GD
    can, so n_eps is where the risk is <= eps for good. Adopted 2026-11-27 after a GPU-design value
    (n = 17 at L = 2 for one seed, 40-48 for the others) made us look; it was a stable crossing, and
    no value of the CPU designs changed (docs/theory.md section 5)."""
    above = np.nonzero(~(np.asarray(values) <= level))[0]  # NaN counts as not reached
    k = 0 if above.size == 0 else int(above[-1]) + 1
    return int(ns[k]) if k < len(ns) else None


def sample_complexity_records(design: SampleComplexityDesign) -> list[dict]:
    """Evaluate the design (module docstring): one Gram and one factorization per L."""
    from ._evaluate import _clipped

    base = {k: v for k, v in asdict(design).items() if k not in ("seeds",)}
    out = []
    for L in design.Ls:
        ns = design.ns(L)
        t0 = time.perf_counter()
        tok = M.TokenDistribution(L, design.d, 1.0)
        # the train and test domains of data_seed (models/_keys.py), one stream per L
        k_tr = jax.random.fold_in(M.stream_key(design.data_seed, "train"), _STREAM + L)
        k_te = jax.random.fold_in(M.stream_key(design.data_seed, "test"), _STREAM + L)
        X = np.asarray(tok.sample(k_tr, design.cap(L)), np.float64)
        Xte = np.asarray(tok.sample(k_te, design.n_test), np.float64)
        cols = [("control", None, s, design.control(L, s)) for s in design.seeds]
        cols += [("class", c, s, design.scaling(c).target(L, s)) for c in design.claims
                 for s in design.seeds]
        if L == design.L_N:
            cols += [("N-sweep", "C4-N", s, design.n_target(N, s)) for N in design.Ns
                     for s in design.seeds]
        Y = np.stack([target_values(t, X) for *_, t in cols], axis=1)
        Yte = np.stack([target_values(t, Xte) for *_, t in cols], axis=1)
        H = T.ntk_gram(X)
        factor = T.nested_cholesky(H, overwrite=True)
        del H
        H_te = T.ntk_gram(Xte, X)
        t_kernel = time.perf_counter()
        g1 = T.g1_nested(factor, Y, ns, design.delta)
        z = factor.forward(Y)
        zero = np.mean(np.minimum(1.0, np.abs(Yte)), axis=0)  # the zero predictor's risk
        rel = np.stack([np.mean(_clipped(H_te[:, :n] @ factor.alpha(z, n), Yte), axis=0) / zero
                        for n in ns])  # (len(ns), columns)
        g1v = np.array([[b.value for b in row] for row in g1]) / zero  # G1 / zero risk
        t_solve = time.perf_counter()
        for c, (role, claim, s, tgt) in enumerate(cols):
            n_eps = {str(e): _first_reached(rel[:, c], ns, e) for e in design.eps}
            n_g1 = {str(e): _first_reached(g1v[:, c], ns, e) for e in design.eps}
            for cl in (design.claims if claim is None else (claim,)):
                cfg = {**base, "claim": cl, "L": L, "role": role, "target": tgt.describe(),
                       "ns": list(ns), "n_cap": ns[-1]}
                if role == "N-sweep":
                    cfg["N"] = len(tgt.positions)
                out.append(make_record(
                    "sample-complexity", cl, cfg, s, verdict="measured",
                    metrics={"n_eps": n_eps, "n_G1": n_g1, "zero_risk": float(zero[c]),
                             "rel_risk": rel[:, c].tolist(), "g1_rel": g1v[:, c].tolist(),
                             "cond_est": factor.cond_est},
                    timings={"kernel_s": t_kernel - t0, "solves_s": t_solve - t_kernel}))
    return out


def fit_sample_complexity(records: list[dict], design: SampleComplexityDesign, claim: str, *,
                          measure: str = "n_eps", eps: float | None = None, claim_obj=None,
                          kind: str = "sample-complexity") -> dict:
    """The growth fits and verdict for one claim from its records (``theory.compare_growth``,
    the claim's own law's rule with the grid's ``sigma_floor``); censored values enter as such.
    ``claim_obj`` substitutes a claim (a mutant rule). ``kind``: the per-point records read (the
    iteration-complexity item fits its T_eps records here, reports/cases/_iteration_complexity.py)."""
    eps = design.eps[0] if eps is None else eps
    base_claim, law_name = design.scaling(claim).law()
    law = (claim_obj or base_claim).laws[law_name]
    test = replace(law.growth, sigma_floor=design.sigma_floor)
    vals: dict[str, dict] = {"class": {}, "control": {}}
    for r in records:
        c = r["config"]
        if r["kind"] == kind and r["claim"] == claim and c["role"] in vals:
            vals[c["role"]][(c["L"], r["seed"])] = r["metrics"][measure][str(eps)]
    Ls = sorted({L for (L, _) in vals["class"]} & {L for (L, _) in vals["control"]})
    seeds = sorted({s for (_, s) in vals["class"]} & {s for (_, s) in vals["control"]})
    if len(Ls) < 3 or not seeds:
        raise ValueError(f"{claim}: need {measure} at >= 3 lengths for class and control, have L = {Ls}")

    def table(role):
        v = [[vals[role].get((L, s), "missing") for L in Ls] for s in seeds]
        if any(x == "missing" for row in v for x in row):
            raise ValueError(f"{claim}: {role} {measure} missing for some (L, seed)")
        cens = np.array([[x is None for x in row] for row in v])
        C = np.array([[design.cap(L) if x is None else x for L, x in zip(Ls, row)] for row in v],
                     float)
        return C, cens

    C_cls, cens_cls = table("class")
    C_ctl, cens_ctl = table("control")
    g = T.compare_growth(Ls, C_cls, C_ctl, seeds=seeds, test=test, censored_class=cens_cls,
                         censored_control=cens_ctl)
    gc, gk = g["class_growth"], g["control_growth"]
    left = int(np.sum(C_cls <= design.n_min) + np.sum(C_ctl <= design.n_min))
    return {"claim": claim, "measure": measure, "eps": eps, "Ls": Ls, "seeds": seeds,
            "n_cap": [design.cap(L) for L in Ls], "verdict": g["verdict"], "reason": g["reason"],
            "class_model": gc["model"], "control_model": gk["model"],
            "class_llr": gc["llr"], "control_llr": gk["llr"],
            "class_slope": gc["slope"], "class_rate": gc["rate"],
            "control_slope": gk["slope"], "control_rate": gk["rate"],
            # the intercepts, so that a plot draws the fitted models without refitting
            "class_a_poly": gc["a_poly"], "class_a_exp": gc["a_exp"],
            "control_a_poly": gk["a_poly"], "control_a_exp": gk["a_exp"],
            "class_censored": int(cens_cls.sum()), "control_censored": int(cens_ctl.sum()),
            "left_censored": left, "sigma_floor": test.sigma_floor,
            "declared_exponent": design.scaling(claim).declared_exponent(claim_obj),
            "n_class": np.where(cens_cls, np.nan, C_cls).tolist(),
            "n_control": np.where(cens_ctl, np.nan, C_ctl).tolist(),
            "decides": measure == "n_eps" and eps == design.eps[0],
            "sized_to_decide": design.sized_to_decide, "provenance": base_claim.provenance}


def fit_n_dependence(records: list[dict], design: SampleComplexityDesign, *, eps: float | None = None,
                     measure: str = "n_eps") -> dict:
    """n_eps(N) at L = L_N (C4's exponential side): the growth rule's classification of the curve in
    N (``theory.GrowthTest.fit`` with N in the place of L: polynomial log C = a + p log N against
    exponential log C = a + b N, censored values as such). Reported, not a verdict on a claim: the
    paper's statements allow growth exponential in N (docs/theory.md section 1, C4)."""
    eps = design.eps[0] if eps is None else eps
    vals = {(r["config"]["N"], r["seed"]): r["metrics"][measure][str(eps)] for r in records
            if r["kind"] == "sample-complexity" and r["config"].get("role") == "N-sweep"}
    Ns = sorted({N for N, _ in vals})
    seeds = sorted({s for _, s in vals})
    if len(Ns) < 3:
        raise ValueError(f"need n_eps at >= 3 values of N, have N = {Ns}")
    cap = design.cap(design.L_N)
    v = [[vals[(N, s)] for N in Ns] for s in seeds]
    cens = np.array([[x is None for x in row] for row in v])
    C = np.array([[cap if x is None else x for x in row] for row in v], float)
    claim, law_name = design.scaling("C4-N").law()
    test = replace(claim.laws[law_name].growth, sigma_floor=design.sigma_floor)
    g = test.fit(Ns, C, seeds, censored=cens).to_dict()
    return {"claim": "C4-N", "measure": measure, "eps": eps, "L": design.L_N, "Ns": Ns,
            "seeds": seeds, "n_cap": cap, "model": g["model"], "llr": g["llr"],
            "slope": g["slope"], "rate": g["rate"], "censored": int(cens.sum()),
            "positions": {str(N): list(design.n_positions(N)) for N in Ns},
            "n": np.where(cens, np.nan, C).tolist(), "sigma_floor": test.sigma_floor,
            "provenance": claim.provenance}


def sample_scaling_records(design: SampleComplexityDesign, records: list[dict]) -> list[dict]:
    """One "sample-scaling" record per (claim, measure, eps): the deciding fit (n_eps at eps[0])
    and the reported ones (n_eps at the other eps, n_G1 at every eps)."""
    out = []
    cfg = asdict(design)
    for claim in design.claims:
        for measure in ("n_eps", "n_G1"):
            for e in design.eps:
                fit = fit_sample_complexity(records, design, claim, measure=measure, eps=e)
                out.append(make_record("sample-scaling", claim, {**cfg, "measure": measure, "eps": e},
                                       list(design.seeds), metrics=fit, verdict=fit["verdict"]))
    if design.Ns:
        for e in design.eps:
            fit = fit_n_dependence(records, design, eps=e)
            out.append(make_record("sample-N", "C4-N", {**cfg, "measure": "n_eps", "eps": e},
                                   list(design.seeds), metrics=fit, verdict=f"{fit['model']} in N"))
    return out


def evaluate_sample_complexity(design: SampleComplexityDesign) -> list[dict]:
    t0 = time.perf_counter()
    recs = sample_complexity_records(design)
    fits = sample_scaling_records(design, recs)
    total = time.perf_counter() - t0
    for r in fits:
        r["timings"] = {"item_s": total}
    return recs + fits
