"""Formatting helpers for every section of the report (the bottom of render/: imports nothing of it).

Numbers read from records (``num``: 'inf'/'nan' strings included), their display (``fmt``,
``fmt_interval``) and markdown tables (``table``).
"""

from __future__ import annotations

import math

import numpy as np
from tabulate import tabulate


def num(x) -> float:
    """A record field as a float ('inf'/'nan' strings included); nan when absent or not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def fmt(x, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    v = num(x)
    if math.isnan(v):
        return "-" if not isinstance(x, str) else x
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def fmt_interval(lcb, ucb, digits: int = 4) -> str:
    """A confidence interval [lcb, ucb] of a risk for display. The Chernoff-KL lcb is >= 0, but a
    store written with the earlier Hoeffding rule holds mean - margin, which can be negative; a
    risk is >= 0, so the display clips it at 0 (marked with a footnote sign '0*'); the store and
    every verdict keep the unclipped value."""
    lo = num(lcb)
    shown = "0*" if lo < 0 else fmt(lcb, digits)
    return f"[{shown}, {fmt(ucb, digits)}]"


def table(rows, headers) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
