"""Shared Hypothesis strategies for the check suite (configurations of docs/theory.md sections 2-5).

Shapes are drawn from small per-profile sets (``SIZES``) so the number of distinct XLA
compilations stays bounded; values that do not change shapes (scales, seeds, positions, target
functions) are drawn freely. Token arrays are generated from a drawn seed with NumPy rather than
element by element, which keeps examples cheap and still lets Hypothesis shrink the seed and
the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from checks._profiles import active_profile
from reports.cases._evaluate import BoundCase


@dataclass(frozen=True)
class Sizes:
    Ls: tuple[int, ...]
    ds: tuple[int, ...]
    ms: tuple[int, ...]
    ns: tuple[int, ...]
    n_test: int
    steps: int
    seeds: int
    kernel_ns: tuple[int, ...]
    bound_examples: int  # examples of the main bound check (3 records each: G1 + 2 x G2)
    scaling_ns: tuple[int, ...]
    scaling_Ls: tuple[int, ...]
    scaling_seeds: tuple[int, ...]


SIZES = {
    # ci: 2 cores, < 15 min for the whole suite; every (L, n, m) triple is one compilation.
    "ci": Sizes(Ls=(2, 3, 4, 6), ds=(3,), ms=(256,), ns=(200,), n_test=1000, steps=150,
                seeds=2, kernel_ns=(1, 2, 5, 8), bound_examples=34,
                scaling_ns=(100, 200, 400), scaling_Ls=(2, 4, 8, 16), scaling_seeds=(0, 1, 2)),
    "dev": Sizes(Ls=(2, 3, 4, 6, 8), ds=(3,), ms=(256,), ns=(200,), n_test=1000, steps=150,
                 seeds=2, kernel_ns=(1, 2, 5, 8), bound_examples=20,
                 scaling_ns=(100, 200, 400), scaling_Ls=(2, 4, 8, 16), scaling_seeds=(0, 1, 2)),
    "thorough": Sizes(Ls=(2, 3, 4, 6, 8, 12, 16), ds=(2, 3, 5), ms=(256, 1024), ns=(200, 400),
                      n_test=2000, steps=300, seeds=4, kernel_ns=(1, 2, 5, 8, 16),
                      bound_examples=200, scaling_ns=(200, 400, 800, 1600),
                      scaling_Ls=(2, 4, 8, 16, 32), scaling_seeds=(0, 1, 2, 3, 4)),
}[active_profile()]

#: The paper's point (C1) is that r need not be small: scales span 0.1 .. 10.
SCALE_MIN, SCALE_MAX = 0.1, 10.0


def scales() -> st.SearchStrategy[float]:
    """Token norms r, log-uniform on [0.1, 10]."""
    return st.floats(math.log(SCALE_MIN), math.log(SCALE_MAX)).map(lambda t: round(math.exp(t), 4))


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**31 - 1)


@st.composite
def positions(draw, L: int, max_N: int | None = None) -> tuple[int, ...]:
    """l_1 < ... < l_N in [1, L] (1-based), N >= 1."""
    N = draw(st.integers(1, min(L, max_N or L)))
    return tuple(sorted(draw(st.sets(st.integers(1, L), min_size=N, max_size=N))))


@st.composite
def token_arrays(draw, *, n=None, L=None, d=None, scale=None, min_L: int = 1) -> np.ndarray:
    """A float64 token array (n, L, d) with ||X_l|| about r, from a drawn seed."""
    n = draw(st.sampled_from(SIZES.kernel_ns)) if n is None else n
    L = draw(st.integers(min_L, 6)) if L is None else L
    d = draw(st.integers(1, 4)) if d is None else d
    r = draw(scales()) if scale is None else scale
    seed = draw(seeds())
    X = np.random.default_rng(seed).standard_normal((n, L, d)) * (r / math.sqrt(d))
    return X


@st.composite
def bound_cases(draw, *, families=("additive", "n-variable", "parity"), method=None,
                scale=None) -> BoundCase:
    """A full bound-check configuration: L, N, positions (spread l_0), d, m, n, r, target, SGD/GD."""
    L = draw(st.sampled_from(SIZES.Ls))
    family = draw(st.sampled_from(families))
    pos = None if family == "additive" and draw(st.booleans()) else draw(positions(L))
    r = draw(scales()) if scale is None else scale
    return BoundCase(
        L=L, d=draw(st.sampled_from(SIZES.ds)), m=draw(st.sampled_from(SIZES.ms)),
        n=draw(st.sampled_from(SIZES.ns)), n_test=SIZES.n_test,
        scale=r,
        family=family, f=draw(st.sampled_from(("sin", "cos", "poly", "tanh"))),
        positions=pos,
        method=draw(st.sampled_from(("gd",))) if method is None else method,
        steps=SIZES.steps, lr_frac=1.0, seeds=SIZES.seeds,
        # The target sees tokens normalized by r, so the concept is the same at every scale and
        # only the input norm changes: exactly the regime C1 is about.
        input_scale=r,
        target_seed=draw(st.integers(0, 1000)), data_seed=draw(st.integers(0, 1000)),
        init_seed=draw(st.integers(0, 1000)),
    )
