"""(4) The analytic kernel ``theory.ntk_gram``: entries per second against the per-pair reference.

ratio = (reference seconds per entry) / (ntk_gram seconds per entry), where the reference
``theory.ntk_gram_pair_reference`` (plain Python, O(L^2) per pair) is timed on a small random
subset of pairs of the same data and extrapolated per entry (its cost per pair does not depend on
n). ``ntk_gram`` is timed on the full n x n Gram (float64, as the suite uses it).

Memory: the peak-RSS growth of the largest Gram is measured (the kernel's peak-RSS mark is reset
just before the call) and compared with the O(n^2) result size and the O(block^2) tile working set.
"""

from __future__ import annotations

import time

import numpy as np

import theory

from ._timing import Ratio, interleaved, peak_rss_reset, rss_bytes


def _tokens(n: int, L: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, L, d)) / np.sqrt(d)


def _reference_per_entry(X: np.ndarray, pairs: int, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, X.shape[0], size=(pairs, 2))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for i, j in idx:
            theory.ntk_gram_pair_reference(X[i], X[j])
        best = min(best, time.perf_counter() - t0)
    return best / pairs


def kernel(quick: bool = False) -> list[Ratio]:
    d = 8
    cases = [(500, 16), (2000, 16), (4000, 16), (1000, 64)]
    if quick:
        cases = [(500, 16), (400, 64)]
    out = []
    largest = max(cases, key=lambda c: c[0] * c[0] * c[1])
    for n, L in cases:
        X = _tokens(n, L, d)
        ref = _reference_per_entry(X, pairs=200 if L <= 16 else 60)
        rounds = 3 if n * n * L <= 64e6 else 2
        best = interleaved({"gram": lambda X=X: theory.ntk_gram(X)}, rounds=rounds)
        per_entry = best["gram"] / (n * n)
        details = {"n": n, "L": L, "d": d, "t_gram_s": best["gram"],
                   "gram_entries_per_s": 1.0 / per_entry, "reference_entries_per_s": 1.0 / ref,
                   "block": 256}
        if (n, L) == largest:
            ok = peak_rss_reset()
            before = rss_bytes("VmRSS")
            theory.ntk_gram(X)
            peak = rss_bytes("VmHWM")
            if ok and before is not None and peak is not None:
                rows = min(256, n)
                details.update({
                    "peak_rss_growth_MB": (peak - before) / 2**20,
                    "result_MB": n * n * 8 / 2**20,
                    "working_set_per_tile_MB": 10 * rows * rows * 8 / 2**20,
                    "memory_note": "growth ~ the preallocated result (n^2 float64, written tile by "
                                   "tile, lower tiles mirrored) + ~10 block x block float64 "
                                   "temporaries per thread: O(n^2)"})
        out.append(Ratio("kernel", f"n={n} L={L} d={d}", "entries/s: ntk_gram / reference", ref / per_entry,
                         target=">= 100", details=details))
    return out
