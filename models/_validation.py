"""Argument validation shared by every public constructor of the suite.

Errors are ``ValueError`` whose message names the parameter, its value and the
allowed range, so that a bad configuration never reaches JAX (where it would
surface as a shape error deep in a trace, or worse, as a silently wrong number).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} = {value} is out of range: allowed {lo} <= {name} <= {hi}")
    return value


def check_float(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the stated (half-)open interval, or raise."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    lb = "(" if low_open else "["
    rb = ")" if high_open else "]"
    rng = f"{lb}{'-inf' if low is None else low}, {'inf' if high is None else high}{rb}"
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        raise ValueError(f"{name} = {value} is out of range: allowed {name} in {rng}")
    return value


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} = {value!r} is not allowed: choose one of {list(choices)}")
    return value


def check_tokens(name: str, X, *, d: int | None = None, L: int | None = None) -> np.ndarray:
    """Validate a token array of shape (n, L, d) (or (L, d)); finite; returns a numpy view.

    The check runs on the host, before any JAX tracing, so a NaN is reported as
    bad input rather than propagating into a loss curve.
    """
    arr = np.asarray(X)
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (n, L, d) or (L, d), got an array of shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.shape[-2] < 1:
        raise ValueError(f"{name}: sequence length L = {arr.shape[-2]} is out of range: L >= 1")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name}: token dimension d = {arr.shape[-1]} is out of range: d >= 1")
    if d is not None and arr.shape[-1] != d:
        raise ValueError(f"{name}: token dimension is {arr.shape[-1]}, the model expects d = {d}")
    if L is not None and arr.shape[-2] != L:
        raise ValueError(f"{name}: sequence length is {arr.shape[-2]}, expected L = {L}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf): inputs must be finite")
    return arr


def check_targets(name: str, y, n: int | None = None) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a vector of shape (n,), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries, expected n = {n} (one per sequence)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf): targets must be finite")
    return arr


def check_positions(positions: Sequence[int], L: int, name: str = "positions") -> tuple[int, ...]:
    """Positions l_1 < ... < l_N, 1-based as in docs/theory.md section 5, inside [1, L]."""
    pos = tuple(check_int(f"{name}[{i}]", p) for i, p in enumerate(positions))
    if len(pos) < 1:
        raise ValueError(f"{name} must name at least one position (N >= 1)")
    if len(pos) > L:
        raise ValueError(f"N = {len(pos)} positions is out of range: allowed 1 <= N <= L = {L}")
    for i, p in enumerate(pos):
        if not 1 <= p <= L:
            raise ValueError(f"{name}[{i}] = {p} is out of range: allowed 1 <= l_i <= L = {L}")
    if any(b <= a for a, b in zip(pos, pos[1:])):
        raise ValueError(f"{name} = {list(pos)} must be strictly increasing (l_1 < ... < l_N)")
    return pos
