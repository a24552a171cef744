"""The large-n profile (``python -m reports run --profile large``): G1 and C_n up to n = 20,000.

G1 is non-vacuous only from a few hundred to a few thousand samples, so the evidence that it
says something needs large n. This design evaluates G1 (THEORY.md section 4) for the minimum-norm
kernel interpolant on the first n points of one sample, for a nested grid of n and every concept
class at once:

- one token sample X (n_max sequences) shared by every target: one float64 Gram H (tiled,
  ``theory.ntk_gram``) and one Cholesky factor (``theory.nested_cholesky``) serve every n and
  every label column (``theory.g1_nested``: the leading block of the factor is the factor of
  the leading block);
- classes: additive sin over all positions (C1/C2), the N-variable target (C3/C4), the parity
  control and random labels (the negative controls), each with ``target_seeds`` targets, so
  the non-vacuous fraction per class at each n is over independent targets;
- the interpolant's test risk on ``n_test`` fresh labelled inputs (cross-Gram H(X_test, X)),
  with the verdict from ``theory.bound_verdict``.

Records: one "bound" record (claim "G1") per (n, class, target seed), config ``design:
"large-n"``; one "large-n" record with the wall times of each stage and the peak RSS.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

import models as M
import theory as T

from ._records import make_record

LARGE_FAMILIES = ("additive", "n-variable", "parity", "random-labels")


@dataclass(frozen=True)
class LargeNDesign:
    """Nested sample sizes ``ns`` (the first n points of one sample of max(ns)) at length L."""

    L: int = 16
    d: int = 5
    ns: tuple[int, ...] = (100, 200, 500, 1000, 2000, 5000, 10000, 20000)
    n_test: int = 2000
    families: tuple[str, ...] = LARGE_FAMILIES
    target_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    f: str = "sin"
    scale: float = 1.0
    delta: float = 0.05
    delta_test: float = 0.01
    data_seed: int = 0

    def __post_init__(self):
        M.check_int("L", self.L, low=2)
        M.check_int("d", self.d, low=1)
        M.check_int("n_test", self.n_test, low=1)
        M.check_float("scale", self.scale, low=0.0, low_open=True)
        if not self.ns or any(isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in self.ns):
            raise ValueError(f"ns = {self.ns}: need one or more integer sample sizes >= 2")
        if list(self.ns) != sorted(set(self.ns)):
            raise ValueError(f"ns = {self.ns} must be strictly increasing")
        bad = [f for f in self.families if f not in LARGE_FAMILIES]
        if bad or not self.families:
            raise ValueError(f"families = {self.families}: choose from {list(LARGE_FAMILIES)}")
        if not self.target_seeds:
            raise ValueError("target_seeds must name at least one seed")

    def case(self, family: str, target_seed: int, n: int):
        """The BoundCase whose target and configuration this (family, seed, n) uses."""
        from ._evaluate import BoundCase

        return BoundCase(L=self.L, d=self.d, n=n, n_test=self.n_test, scale=self.scale,
                         family=family, f=self.f, target_seed=target_seed,
                         data_seed=self.data_seed, delta=self.delta, delta_test=self.delta_test,
                         seeds=1)


def large_n_memory(design: LargeNDesign) -> float:
    """Peak host memory (bytes) of ``large_n_records(design)``: the float64 Gram of n_max points,
    factored in place (8 n^2), the cross-Gram (8 n_test n), the label columns and their solves
    (3 x 8 n columns), the process with JAX loaded, and 1 GB for the rest (measured: 4.4 GiB peak
    RSS at n = 20,000, L = 16, 20 columns, against 3.0 + 0.3 + 0.45 GiB for the terms above)."""
    from ._case_validation import RUNTIME_BYTES

    n = float(max(design.ns))
    cols = len(design.families) * len(design.target_seeds)
    return 8 * n * n + 8 * design.n_test * n + 24 * n * cols + RUNTIME_BYTES + 1e9


def _peak_rss_gib() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2**20 if sys.platform != "darwin" else kb / 2**30  # Linux: KiB; macOS: bytes


def large_n_records(design: LargeNDesign) -> list[dict]:
    """Evaluate the design (see the module docstring); the records for the results store."""
    from ._evaluate import _clipped, _risk_stats

    t0 = time.perf_counter()
    nmax = max(design.ns)
    tok = M.TokenDistribution(design.L, design.d, design.scale)
    k_tr, k_te = M.stream_key(design.data_seed, "train"), M.stream_key(design.data_seed, "test")
    X, Xte = tok.sample(k_tr, nmax), tok.sample(k_te, design.n_test)
    cols = [(fam, s) for fam in design.families for s in design.target_seeds]
    targets = [design.case(fam, s, nmax).target() for fam, s in cols]
    Y = np.stack([np.asarray(t(X), np.float64) for t in targets], axis=1)
    Yte = np.stack([np.asarray(t(Xte), np.float64) for t in targets], axis=1)
    X64, Xte64 = np.asarray(X, np.float64), np.asarray(Xte, np.float64)
    t_data = time.perf_counter()

    H = T.ntk_gram(X64)
    t_gram = time.perf_counter()
    factor = T.nested_cholesky(H, overwrite=True)  # H's storage becomes the factor
    del H
    t_factor = time.perf_counter()
    H_te = T.ntk_gram(Xte64, X64)
    t_cross = time.perf_counter()

    g1 = T.g1_nested(factor, Y, design.ns, design.delta)
    z = factor.forward(Y)
    records = []
    for i, n in enumerate(design.ns):
        pred = H_te[:, :n] @ factor.alpha(z, n)  # (n_test, columns): the interpolants of n points
        for c, (fam, s) in enumerate(cols):
            b = g1[i][c]
            risk = {**_risk_stats(_clipped(pred[:, c], Yte[:, c]), design.delta_test),
                    "delta_test": design.delta_test}
            cfg = {**design.case(fam, s, n).config(), "design": "large-n", "n_max": nmax}
            for k in ("m", "steps", "seeds", "method", "lr_frac", "init_seed", "trained",
                      "loss", "gap_inputs", "n_gap", "delta_gap"):
                cfg.pop(k, None)  # no network is trained here: G1 is about the kernel interpolant
            # (the parametrization stays: H is the limit of both, and the summary groups by it)
            records.append(make_record(
                "bound", "G1", cfg, design.data_seed, bound=b.to_dict(),
                verdict=T.bound_verdict(b.value, risk["test_risk"], risk["n_test"], design.delta_test),
                metrics={**risk, "predictor": "kernel interpolant",
                         "ratio": risk["test_risk"] / b.value if b.value > 0 else None,
                         "complexity": b.B**2 * b.trace / b.n if math.isfinite(b.B) else None,
                         "mutant": False}))
    t_solve = time.perf_counter()
    records.append(make_record(
        "large-n", "G1", {**asdict(design), "n_max": nmax}, design.data_seed, verdict="measured",
        metrics={"cond_est": factor.cond_est, "columns": len(cols), "peak_rss_gib": _peak_rss_gib()},
        timings={"data_s": t_data - t0, "gram_s": t_gram - t_data, "factor_s": t_factor - t_gram,
                 "cross_gram_s": t_cross - t_factor, "solves_s": t_solve - t_cross,
                 "total_s": t_solve - t0}))
    return records


def nonvacuous_by_n(records: list[dict]) -> list[dict]:
    """Per (class, n) of the large-n design: cases, the fraction whose G1 is non-vacuous (the
    records' own ``vacuous`` flag), violations, and the median bound and test risk."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in records:
        c = r.get("config", {})
        if r.get("kind") == "bound" and r.get("claim") == "G1" and c.get("design") == "large-n":
            groups.setdefault((c.get("family"), int(c["n"])), []).append(r)
    out = []
    for (fam, n), rs in sorted(groups.items()):
        vals = [float(r["bound"]["value"]) for r in rs]
        out.append({"family": fam, "n": n, "cases": len(rs),
                    "non_vacuous_fraction": sum(not r["bound"]["vacuous"] for r in rs) / len(rs),
                    "violations": sum(r["verdict"] == "violation" for r in rs),
                    "g1_median": float(np.median(vals)),
                    "test_risk_median": float(np.median([float(r["metrics"]["test_risk"]) for r in rs])),
                    "complexity_median": float(np.median([float(r["metrics"]["complexity"]) for r in rs]))})
    return out
