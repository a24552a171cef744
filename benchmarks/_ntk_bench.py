"""(5) The empirical NTK: 'factored' versus 'jacobian' in ``models.empirical_ntk`` across sizes.

For each size (n sequences, width m, length L) both methods compute the same Gram K_m(X); the
informational figure is t_jacobian / t_factored (> 1: factored faster). The checked figure is
t_fastest / t_auto: 1.0 when ``method='auto'`` picks the faster method; target >= 0.8 (auto within
25% of the faster, so that two methods equally fast under noise do not count as a miss).
"""

from __future__ import annotations

import jax
import numpy as np

import models
from models import RNNConfig
from models._ntk import _auto_method, ntk_crossover

from ._timing import Ratio, interleaved


def ntk(quick: bool = False) -> list[Ratio]:
    n, d = 32, 4
    sizes = [(16, 4), (16, 16), (16, 64), (64, 8), (64, 64), (256, 8), (256, 64), (512, 16)]
    if quick:
        sizes = [(16, 4), (16, 64), (64, 64), (256, 8)]
    out = []
    for m, L in sizes:
        params = models.init_params(jax.random.key(4), RNNConfig(d=d, m=m))
        X = np.random.default_rng(5).normal(size=(n, L, d)) / np.sqrt(d)
        fns = {k: (lambda k=k, p=params, X=X: models.empirical_ntk(p, X, method=k))
               for k in ("factored", "jacobian")}
        Kf, Kj = (np.asarray(f()) for f in fns.values())
        agree = float(np.max(np.abs(Kf - Kj)) / np.max(np.abs(Kj)))
        best = interleaved(fns, rounds=3 if quick else 5, budget_s=20)
        pick = _auto_method(L, m)
        faster = min(best, key=best.get)
        case = f"n={n} m={m} L={L}"
        det = {"t_factored_s": best["factored"], "t_jacobian_s": best["jacobian"], "faster": faster,
               "auto_picks": pick, "max_rel_diff": agree,
               "backend": jax.default_backend(), "crossover_c": ntk_crossover()}
        out.append(Ratio("ntk", case, "t_jacobian / t_factored", best["jacobian"] / best["factored"],
                         note=f"faster: {faster}", details=det))
        out.append(Ratio("ntk", case, "t_fastest / t_auto", best[faster] / best[pick], target=">= 0.8",
                         note=f"auto -> {pick}", details=det))
    return out
