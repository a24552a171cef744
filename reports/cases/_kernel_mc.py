"""Kernel Monte-Carlo convergence (K-mc): the empirical NTK of random networks at growing widths
against the infinite-width kernel H (docs/theory.md section 3), and its fitted rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

import models as M
import theory as T

from ._case_validation import check_mc_design
from ._records import make_record
from ._scaling import _slope
from ._widths import shared_width


@dataclass(frozen=True)
class MCDesign:
    """Widths, sample and seeds of the K-mc check; ``parametrization`` picks the kernel scale c(m)
    with K_m / c(m) -> H (m in the lazy parametrization, 1 in the contrast one)."""

    widths: tuple[int, ...] = (256, 1024, 4096)
    n: int = 6
    L: int = 5
    d: int = 3
    scale: float = 1.5
    seeds: int = 4
    data_seed: int = 0
    parametrization: str = "lazy"

    def __post_init__(self):
        check_mc_design(self)


def kernel_mc_width(design: MCDesign, m: int) -> int:
    """``shared_width`` for the K-mc design: per seed, one factored empirical NTK of n sequences
    of L tokens (two factor passes, each a forward and a backward: ~8 n L m^2 multiply-adds)."""
    return shared_width(design.widths, m, 8 * design.n * design.L * design.seeds)


def kernel_mc_records(design: MCDesign, *, k0_fn=None) -> tuple[list[dict], dict]:
    """Relative Frobenius error ||K_m / c(m) - H|| / ||H|| per width and seed, and the fitted rate
    (docs/theory.md section 3; c(m) = ``Parametrization.kernel_scale``)."""
    tok = M.TokenDistribution(design.L, design.d, design.scale)
    X = tok.sample(M.stream_key(design.data_seed, "train"), design.n)
    H = T.ntk_gram(np.asarray(X, np.float64), k0_fn=k0_fn)
    recs, means = [], []
    for m in design.widths:
        errs = []
        for s in range(design.seeds):
            cfg = M.RNNConfig(design.d, m, parametrization=design.parametrization)
            # one NTK program for several widths: zero hidden units are exact (pad_width)
            p = M.pad_width(M.init_params(M.stream_key(10_000 + s, "init"), cfg), kernel_mc_width(design, m))
            K = np.asarray(M.empirical_ntk(p, X), np.float64) / cfg.param.kernel_scale(m)
            e = float(np.linalg.norm(K - H) / np.linalg.norm(H))
            errs.append(e)
            recs.append(make_record("kernel-mc", "K-mc", {**asdict(design), "m": m}, s,
                                    metrics={"rel_err": e}, verdict="measured"))
        means.append(float(np.mean(errs)))
    rate = _slope(design.widths, means)
    law = T.get_claim("K-mc").laws["rate"]
    fit = {"widths": list(design.widths), "mean_rel_err": means, "fitted_rate": rate,
           "declared_rate": law.exponent, "tol": law.tol,
           "verdict": "supported" if law.supports(rate) else "not supported"}
    recs.append(make_record("rate-fit", "K-mc", asdict(design), design.data_seed, metrics=fit,
                            verdict=fit["verdict"]))
    return recs, fit
