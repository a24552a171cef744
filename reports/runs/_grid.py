"""The embedded sweep grids of ``python -m reports run`` (profiles 'tiny', 'default', 'thorough').

Each profile is a list of ``SweepItem``s covering every claim the report speaks about:

- bound cases (G1, G2; docs/theory.md section 4) across lengths L, input scales r and the target
  families of section 5: additive (C1/C2), N-variable (C3/C4) and parity (the negative control).
  C1 is about r not being small, so the target is built with ``input_scale = scale``: the same
  function of the normalized tokens at every r, which isolates the effect of the input scale;
- the position effect of section 3 (a target of the first token only vs the last token only);
- N-variable cases at one length over a small set of (N, l_0), for the complexity heatmap;
- the paper-claim scaling designs of section 5 (C2, C4 at fixed N, C4 at fixed l_0 anchored at
  the end and at the start of the sequence: the position-effect contrast);
- the Monte-Carlo convergence of the empirical NTK to H (section 3);
- the training facts of section 4 (lazy, and the contrast parametrization that must fail them);
- C1 on the trained network across input scales (``reports.cases._c1_net``), with its negative
  control outside the claim's range;
- power checks: deliberately wrong bounds on a random-label case, which the verdict rule must
  reject (``reports.cases._power``), so the report shows the checks can fail.

JAX compiles once per array shape, so every profile keeps the set of shapes small: one n, one
width m and a few lengths L; everything else (scale, family, positions, seeds) is data.
The 'default' profile takes about half an hour on a 2-core CPU at load 3-5 (README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cases._c1_net import C1NetDesign
from ..cases._evaluate import BoundCase
from ..cases._iteration_complexity import IterationComplexityDesign
from ..cases._kernel_mc import MCDesign
from ..cases._large import LargeNDesign
from ..cases._power import PowerDesign
from ..cases._sample_complexity import SampleComplexityDesign
from ..cases._scaling import ScalingDesign
from ..cases._training_facts import TrainingFactsDesign
from ._items import SweepItem


@dataclass(frozen=True)
class GridProfile:
    """The knobs of one profile. ``bound`` holds the BoundCase fields shared by all bound cases."""

    bound: dict
    Ls: tuple[int, ...]
    scales: tuple[float, ...]
    families: tuple[str, ...] = ("additive", "n-variable", "parity")
    data_seeds: tuple[int, ...] = (0,)
    position_Ls: tuple[int, ...] = ()
    position_seeds: tuple[int, ...] = (0,)
    heatmap_L: int | None = None
    heatmap_N: tuple[int, ...] = ()
    heatmap_l0: tuple[int, ...] = ()
    sgd_Ls: tuple[int, ...] = ()
    scaling: dict = field(default_factory=dict)
    scaling_claims: tuple[tuple[str, str], ...] = (("C2", "end"), ("C4-N", "end"), ("C4-l0", "end"),
                                                    ("C4-l0", "start"))
    mc: MCDesign | None = None
    sgd_scales: tuple[float, ...] = (1.0,)
    contrast_Ls: tuple[int, ...] = ()
    # P's pre-registered held-out cases: a profile's list in theory/p_preregistration.json
    heldout: str | None = None
    training_facts: tuple[TrainingFactsDesign, ...] = ()
    # the main job's power item (reports/cases/_power.py): the BoundCase fields of one random-label
    # case on which every mutant of BOUND_MUTANTS is tried (None: no power item)
    power: dict | None = None
    # the sample-complexity item (reports/cases/_sample_complexity.py): n_eps(L) for C2, C4-N, C4-l0
    # against the ramped-sine control; the item that decides the scaling claims
    sample_complexity: SampleComplexityDesign | None = None
    # C1 judged on the trained network (reports/cases/_c1_net.py): the -net certificate, risk and
    # linearization gap across input scales r, with r = 0.01 as the negative control (None: none)
    c1_net: C1NetDesign | None = None
    # the iteration-complexity item (reports/cases/_iteration_complexity.py): T_eps(L) of kernel GD
    # on the sample-complexity item's targets, and of the trained network at a few points; reported
    iteration_complexity: IterationComplexityDesign | None = None
    # one-at-a-time sweeps of n and m around the base case (for the granulated tau's n and m
    # axes, reports/render/_quality.py): at every L, for these families and data seeds
    sample_sizes: tuple[int, ...] = ()
    widths: tuple[int, ...] = ()
    sweep_families: tuple[str, ...] = ("additive", "parity")
    sweep_seeds: tuple[int, ...] = (0,)
    # G1 of the kernel interpolant at nested n (reports/cases/_large.py), appended last (None: none)
    large: LargeNDesign | None = None
    note: str = ""


#: The power item's case (every profile): random labels, L = 3, n = 1000, one seed, as in the power
#: test of checks/test_bounds_trained.py, with a small network (d = 3, m = 64, 40 GD steps) so the
#: item costs seconds. Measured here (Chernoff-KL LCB, 2026-11-27): the asserted mutants are
#: rejected with margins of 0.44 (G1 main / 100: bound 0.29 vs risk LCB 0.73), 0.50 (G2 without
#: train loss: 0.38 vs 0.885), 0.31 (G1-net without train loss: 0.58 vs 0.886) and 0.45 (G2-net
#: without train loss: 0.43 vs 0.886).
#: At the default profile's bound sizes (d = 5, m = 256, 150 steps) G2's main term grows to ~0.7
#: and "G2 without train loss" is caught by a margin of 0.01 only (at n = 400 not at all): the
#: empirical power of a too-small bound needs a large n and a network that cannot fit the noise.
POWER_CASE = dict(L=3, d=3, m=64, n=1000, n_test=300, steps=40, seeds=1)

#: The sample-complexity design of the default profile (docs/theory.md sections 5-6): the cap
#: (largest n) at each L is where the ramped-sine control still reaches eps (its n_eps ~ 80-95,
#: 190, 450-640, 1,800-3,000 at L = 2..5; ~ 8,600-10,200 at L = 6, measured on the GPU machine's
#: host), and 2,048-4,096 at L >= 6, where C2's and C4-l0's classes need at most ~1,300 (C4-N's is
#: censored at L = 16: > 4,096) and the control is censored anyway. L reaches 16 because C4-l0's
#: class is undecided on L <= 10 (one seed's 2 log LR -0.8) and polynomial on L <= 16 (added after
#: that was seen: an in-sample design choice, docs/theory.md section 6). Samples are nested across
#: caps (the first n rows of a larger draw are the smaller draw), so lowering a cap above every
#: observed value changes nothing.
SC_DEFAULT = SampleComplexityDesign(Ls=(2, 3, 4, 5, 6, 8, 10, 12, 16), n_max=8192,
                                    n_max_per_L=(1024, 2048, 4096, 8192, 2048, 2048, 2048, 2048, 4096),
                                    Ns=(2, 3, 4, 5, 6), L_N=8)
#: CI's reduced design (checks/test_claims.py under RNN_CHECKS_PROFILE=ci): L = 2..10, n up to
#: 512-4,096 at L <= 5 (where the control reaches eps; censored from L = 6). It decides C2 and
#: C4-N with power (control 2 log LR -5.7, -3.9, -4.7 against the threshold -2); C4-l0 is
#: inconclusive here (measured 2026-11-27, 18 s at load ~3).
SC_CI = SampleComplexityDesign(Ls=(2, 3, 4, 5, 6, 8, 10), n_max=4096,
                               n_max_per_L=(512, 1024, 1448, 4096, 1024, 1024, 1024),
                               Ns=(2, 3, 4, 5, 6), L_N=8)
#: The GPU machine's design (its 16-core host does the float64 kernel work): the control measured
#: where CPU designs censor it (L = 6, 7: n_eps ~ 10^4) and the classes to L = 24, five seeds
#: (171 s on the H100 machine's 16 cores, 2026-11-27; benchmarks/gpu_session.sh step 'sc').
SC_GPU = SampleComplexityDesign(
    Ls=(2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24), n_max=16384, seeds=(0, 1, 2, 3, 4),
    n_max_per_L=(1024, 2048, 4096, 8192, 16384, 16384, 4096, 4096, 4096, 4096, 8192),
    Ns=(2, 3, 4, 5, 6, 7, 8), L_N=8)

#: C1 on the trained network (reports/cases/_c1_net.py). The default design (``C1NetDesign()``:
#: the default profile's bound sizes at L = 2, r = 0.01 .. 30) costs 8 bound cases, about 4.5 s
#: of CPU each once the grid has compiled their programs. The tiny profile's minimal version: its
#: own bound sizes at L = 2 (no new program), the judged range's ends, r_ref and the control.
C1_TINY = C1NetDesign(scales=(0.01, 0.1, 1.0, 10.0), L=2, d=3, m=64, n=100, n_test=300, steps=40,
                      seeds=1)

#: The tiny profile's sample-complexity design (a smoke test, not sized to decide).
SC_TINY = SampleComplexityDesign(claims=("C2",), Ls=(2, 3, 4), n_max=256, seeds=(0, 1), n_test=300,
                                 sized_to_decide=False)
#: The iteration-complexity design of the default profile (docs/theory.md section 6): kernel-GD
#: T_eps on SC_DEFAULT's targets at a fixed n per L: 1,024 at L = 2..4 and 2,048 at L = 5, where the
#: ramped-sine control still reaches eps for some seeds (n_eps ~ 80-95, 190, 450-640, 1,800-3,044:
#: at L = 5, n = 2,048, seed 1 does not), 512 at L = 6, 8
#: (the class's T_eps did not move between n = 512 and 1,024 on the sqrt(2) grid) and 1,024-2,048
#: at L = 10..16 (C4-N's class needs 761-1,522 there); one trained network (C2, L = 2, m = 256: GD
#: and online SGD). Its time on the 2-core machine is in docs/theory.md section 6.
IC_DEFAULT = IterationComplexityDesign(SC_DEFAULT,
                                       n_per_L=(1024, 1024, 1024, 2048, 512, 512, 1024, 2048, 2048),
                                       net_points=((2, "C2", 0),), net_n=256, net_T_max=128,
                                       sgd_T_max=512)

PROFILES: dict[str, GridProfile] = {
    # Smoke test: seconds of work after JAX's start-up; two lengths (two compiled shapes).
    "tiny": GridProfile(
        bound=dict(d=3, m=64, n=100, n_test=300, steps=40, seeds=1),
        Ls=(2, 3), scales=(1.0,), families=("additive", "parity"),
        position_Ls=(2,),
        scaling=dict(Ls=(2, 3, 4), ns=(40, 80), d=3, seeds=(0,)),
        scaling_claims=(("C2", "end"), ("C4-l0", "end")),
        mc=MCDesign(widths=(64, 1024), n=4, L=3, seeds=2),  # one NTK program (kernel_mc_width)
        training_facts=(TrainingFactsDesign(widths=(16, 64, 256), steps=60, n=16, n_test=64),),
        power=POWER_CASE,
        sample_complexity=SC_TINY,
        iteration_complexity=IterationComplexityDesign(SC_TINY, T_max=4096, m=64, net_n=64,
                                                       net_points=((2, "C2", 0),), net_T_max=64),
        c1_net=C1_TINY,
        note="smoke test (about a minute); too small for conclusions"),
    # The README's main job: about half an hour on a 2-core CPU at load 3-5 (README). n = 400 at
    # d = 5 is where G1 is non-vacuous for smooth targets (docs/theory.md section 4's measurement),
    # so the bound checks test something.
    "default": GridProfile(
        bound=dict(d=5, m=256, n=400, n_test=1000, steps=150, seeds=2),
        Ls=(2, 4, 8), scales=(0.1, 1.0, 10.0), data_seeds=(0, 1, 2),
        position_Ls=(2, 4, 8), position_seeds=(0, 1, 2),
        heatmap_L=8, heatmap_N=(1, 2, 3, 4), heatmap_l0=(0, 1, 3, 7),
        sgd_Ls=(2, 4, 8), sgd_scales=(0.1, 1.0, 10.0),
        contrast_Ls=(2, 4, 8),
        heldout="default",
        scaling=dict(Ls=(2, 4, 8, 16), ns=(100, 200, 400), d=5, seeds=(0, 1, 2)),
        mc=MCDesign(widths=(256, 1024, 4096), n=6, L=5, seeds=4),
        training_facts=(TrainingFactsDesign(), TrainingFactsDesign(parametrization="contrast")),
        power=POWER_CASE,
        sample_complexity=SC_DEFAULT,
        c1_net=C1NetDesign(),
        iteration_complexity=IC_DEFAULT,
        note="about half an hour on a 2-core CPU at load 3-5"),
    # Bigger and slower (an hour or more on a CPU): more lengths, samples, seeds and wider kernels.
    "thorough": GridProfile(
        bound=dict(d=5, m=512, n=800, n_test=2000, steps=300, seeds=3),
        Ls=(2, 4, 8, 16), scales=(0.1, 0.3, 1.0, 3.0, 10.0), data_seeds=(0, 1, 2),
        position_Ls=(2, 4, 8, 16), position_seeds=(0, 1, 2),
        heatmap_L=8, heatmap_N=(1, 2, 3, 4, 5), heatmap_l0=(0, 1, 2, 3, 5, 7),
        sgd_Ls=(2, 4, 8, 16), sgd_scales=(0.1, 1.0, 10.0),
        contrast_Ls=(2, 4, 8),
        heldout="thorough",
        scaling=dict(Ls=(2, 4, 8, 16, 32), ns=(200, 400, 800), d=5, seeds=(0, 1, 2, 3)),
        mc=MCDesign(widths=(256, 1024, 4096, 8192), n=6, L=5, seeds=6),
        training_facts=(TrainingFactsDesign(widths=(64, 256, 1024, 4096)),
                        TrainingFactsDesign(widths=(64, 256, 1024, 4096), parametrization="contrast")),
        power=POWER_CASE,
        sample_complexity=SC_DEFAULT,
        c1_net=C1NetDesign(),
        iteration_complexity=IterationComplexityDesign(
            SC_DEFAULT, n_per_L=(1024, 2048, 4096, 4096, 1024, 1024, 1024, 2048, 2048),
            net_points=((2, "C2", 0), (3, "C2", 0), (2, "control", 0)), net_n=256, net_T_max=1024,
            sgd_T_max=2048),
        note="bigger grid, an hour or more on a CPU"),
}
# The default grid varies L, r, family, N, l_0 and the method but never n or m, so the
# granulated tau has no n or m axis on it; 'quality' adds one-at-a-time sweeps of both
# (2 x 2 new values x 3 lengths x 2 families = 24 more bound cases, 12 new compiled shapes).
PROFILES["quality"] = GridProfile(**{
    **{k: getattr(PROFILES["default"], k) for k in GridProfile.__dataclass_fields__},
    "sample_sizes": (100, 200), "widths": (64, 1024),
    "note": "the default grid plus n and m sweeps for the bound-quality taus"})

#: What a GPU user would run (issue 24): the network work grows to where an accelerator is busy.
#: Seeds are batched: every bound case trains its 16 seeds in one vmapped program per shape
#: (``models.train_seeds``: 0.75-0.87 of the GPU's matmul efficiency at 16 networks against
#: 0.09 on the CPU, issue 24), so 16 x the items' networks cost little more than one; widths up
#: to 4096 (training facts) and 16,384 (K-mc); lengths to 16; n to 1000 for the networks and
#: n = 100,000 for G1 of the kernel interpolant (the large-n path: a float64 Gram of 80 GB in
#: host memory, which fits the 128 GiB of the H100 machine, not the GPU's 80 GB; its Cholesky,
#: 3.3e14 flop, is the longest item). Its memory is checked by construction
#: (checks/test_gpu_profile.py::test_gpu_profile_network_cases_fit_an_h100); it was not run on a CPU.
PROFILES["gpu"] = GridProfile(
    bound=dict(d=5, m=512, n=1000, n_test=2000, steps=300, seeds=16),
    Ls=(2, 4, 8, 16), scales=(0.1, 1.0, 10.0), data_seeds=(0, 1, 2),
    position_Ls=(2, 8, 16), position_seeds=(0, 1, 2),
    heatmap_L=8, heatmap_N=(1, 2, 3, 4, 5), heatmap_l0=(0, 1, 2, 3, 5, 7),
    sgd_Ls=(2, 8, 16), sgd_scales=(0.1, 1.0, 10.0),
    contrast_Ls=(2, 8, 16),
    heldout="thorough",  # every pre-registered case of P, at the pre-registration's own sizes
    sample_sizes=(250, 500), widths=(128, 1024), sweep_seeds=(0, 1),
    scaling=dict(Ls=(2, 4, 8, 16, 32), ns=(250, 500, 1000), d=5, seeds=(0, 1, 2, 3)),
    mc=MCDesign(widths=(256, 1024, 4096, 16384), n=6, L=5, seeds=8),
    training_facts=(TrainingFactsDesign(widths=(64, 256, 1024, 4096), seeds=16),
                    TrainingFactsDesign(widths=(64, 256, 1024, 4096), seeds=16,
                                        parametrization="contrast")),
    power=POWER_CASE,
    large=LargeNDesign(ns=(1000, 2000, 5000, 10000, 20000, 50000, 100000)),
    sample_complexity=SC_GPU,
    c1_net=C1NetDesign(),  # the CPU-measured design (docs/theory.md section 6), seconds on a GPU
    note="sized for one GPU (H100 class) and its host: networks of 16 seeds per program, "
         "G1 to n = 100,000")


def _spread(L: int, N: int, l0: int) -> tuple[int, ...] | None:
    """N positions ending at L with spread l_0, as evenly spaced as integers allow (None if
    impossible: N distinct positions need l_0 >= N - 1, and l_0 < L)."""
    if N < 1 or l0 < N - 1 or l0 >= L or (N == 1) != (l0 == 0):
        return None
    pos = sorted({int(round(p)) for p in np.linspace(L - l0, L, N)})
    return tuple(pos) if len(pos) == N else None


def bound_items(p: GridProfile) -> list[SweepItem]:
    base = p.bound
    items = []
    # G1/G2 across L, r and family (C1: input_scale = scale, see the module docstring).
    for L in p.Ls:
        for r in p.scales:
            for fam in p.families:
                for ds in p.data_seeds:
                    items.append(BoundCase(L=L, scale=r, input_scale=r, family=fam, data_seed=ds,
                                           target_seed=ds, **base))
    # The position effect (docs/theory.md section 3): a target of X_1 only against one of X_L only.
    for L in p.position_Ls:
        for ds in p.position_seeds:
            for pos in ((1,), (L,)):
                items.append(BoundCase(L=L, family="additive", positions=pos, data_seed=ds,
                                       target_seed=ds, **base))
    # N-variable targets over (N, l_0) at one length (the complexity heatmap; C3 and C4).
    if p.heatmap_L:
        for N in p.heatmap_N:
            for l0 in p.heatmap_l0:
                pos = _spread(p.heatmap_L, N, l0)
                if pos is not None:
                    items.append(BoundCase(L=p.heatmap_L, family="n-variable", positions=pos, **base))
    # One-at-a-time n and m sweeps (the base value itself is already in the grid above).
    for L in p.Ls:
        for fam in p.sweep_families:
            for ds in p.sweep_seeds:
                for key, values in (("n", p.sample_sizes), ("m", p.widths)):
                    for v in values:
                        items.append(BoundCase(L=L, family=fam, data_seed=ds, target_seed=ds,
                                               **{**base, key: v}))
    # The paper's optimizer: online SGD, one fresh example per step (its sample is its stream),
    # with eta = 0.5 / (c(m) max_t H(x_t, x_t)) across input scales r (docs/theory.md section 2's rule).
    for L in p.sgd_Ls:
        for r in p.sgd_scales:
            sgd = {**base, "method": "sgd", "steps": base["n"], "lr_frac": 0.5}
            items.append(BoundCase(L=L, family="additive", scale=r, input_scale=r, **sgd))
    # The contrast parametrization (B ~ N(0, 1/m), uncentred): the kernel regime's negative
    # control, summarised apart ("[contrast]" rows), never deciding a claim.
    for L in p.contrast_Ls:
        items.append(BoundCase(L=L, family="additive", parametrization="contrast", **base))
    # The predicted bound P out of sample: its pre-registered cases (interpolation, extrapolation)
    if p.heldout is not None:
        from ..cases._calibrate import preregistered_cases

        items += [case for _, _, case in preregistered_cases(p.heldout)]
    seen, out = set(), []
    for c in items:  # a case listed twice (e.g. L = 1 position) is evaluated once
        if c not in seen:
            seen.add(c)
            out.append(SweepItem("bound", c))
    return out


def scaling_items(p: GridProfile) -> list[SweepItem]:
    out = []
    for claim, anchor in p.scaling_claims:
        out.append(SweepItem("scaling", ScalingDesign(claim=claim, anchor=anchor, **p.scaling)))
    return out


#: Profiles that are one design rather than a grid: 'large' is G1 and C_n for n up to 20,000 at
#: L = 16 (``reports.cases._large``; tens of minutes and about 4 GiB on a 2-core CPU).
DESIGN_PROFILES = {"large": LargeNDesign()}


def profile_names() -> list[str]:
    return sorted([*PROFILES, *DESIGN_PROFILES])


def default_items(profile: str = "default") -> list[SweepItem]:
    """The sweep of ``python -m reports run --profile <profile>`` (a list of SweepItem).

    Bound cases come first: their compiled shapes are reused by every later case of the same
    length, and a partial run already has the rigorous checks."""
    if profile == "real":  # real sequence data (the optional 'data' extra): reports/cases/_real.py
        from ..cases._real import real_cases

        return [SweepItem("real", c) for c in real_cases()]
    if profile in DESIGN_PROFILES:
        return [SweepItem("large-n", DESIGN_PROFILES[profile])]
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r} is unknown: choose one of {profile_names()}")
    p = PROFILES[profile]
    items = bound_items(p) + scaling_items(p)
    if p.mc is not None:
        items.append(SweepItem("kernel-mc", p.mc))
    items += [SweepItem("training-facts", d) for d in p.training_facts]
    if p.sample_complexity is not None:
        items.append(SweepItem("sample-complexity", p.sample_complexity))
    if p.c1_net is not None:
        items.append(SweepItem("c1-net", p.c1_net))
    if p.iteration_complexity is not None:
        items.append(SweepItem("iteration-complexity", p.iteration_complexity))
    if p.power is not None:
        items.append(SweepItem("power", PowerDesign(BoundCase(family="random-labels", **p.power))))
    if p.large is not None:
        items.append(SweepItem("large-n", p.large))
    return items
