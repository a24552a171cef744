"""Widths that share compiled programs: a design's smaller widths run at its largest (zero hidden
units are exact, ``models.pad_width``) when that costs little, so one program serves them all.
"""

from __future__ import annotations

#: The most work (multiply-adds of the recurrent matmuls, forward and backward, at the padded
#: width) for which a design's width runs at the design's largest width instead of its own
#: (pad_width). About 1e10 is ~1 s on a 2-core CPU, the price of compiling one GD program there
#: (benchmarks/README.md, "Issue 12"): the tiny profile's training-facts widths (16, 64, 256:
#: ~3e9) share one program set and its K-mc widths (64, 1024: ~2e8) one NTK program; the default
#: profile's training facts (~3e11) and K-mc (256..4096: ~2e10; measured, sharing made that item
#: 4 s slower for 2.7 s less compilation) keep their own.
PAD_WORK = 1e10


def shared_width(widths, m: int, work_per_m2: float) -> int:
    """The width the programs of width ``m`` run at: the largest of ``widths`` when a run there
    costs at most ``PAD_WORK`` (top^2 * ``work_per_m2`` multiply-adds), else ``m`` itself."""
    top = max(widths)
    return top if top * top * work_per_m2 <= PAD_WORK else m
