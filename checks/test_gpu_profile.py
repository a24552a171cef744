"""The 'gpu' run profile (reports/runs/_grid.py) by construction: it is not run on a CPU.

Its items are built and their memory estimated: every network case within one H100's 80 GB
(``reports.cases._case_validation.estimate_resources``, an upper-bound model), the large-n item's
float64 Gram at n = 100,000 within the H100 machine's 128 GiB of host memory
(``reports.cases._large.large_n_memory``), and the accelerator-shaped parts present: 16 seeds per
compiled program, widths to 16,384, lengths to 16, G1 to n = 100,000.
"""

from __future__ import annotations

import pytest

from reports.cases._case_validation import estimate_resources
from reports.cases._large import large_n_memory
from reports.runs._grid import PROFILES, default_items

pytestmark = pytest.mark.fast
H100_GPU_BYTES = 80e9
H100_HOST_BYTES = 128 * 2**30


@pytest.fixture(scope="module")
def items():
    return default_items("gpu")


def test_gpu_profile_network_cases_fit_an_h100(items):
    bound = [it.spec for it in items if it.kind == "bound"]
    assert len(bound) > 200
    worst = max(bound, key=lambda c: estimate_resources(c).memory)
    assert estimate_resources(worst).memory <= H100_GPU_BYTES, (worst, estimate_resources(worst).text())
    # networks batched: every bound case trains 16 seeds in one vmapped program, except P's
    # pre-registered held-out cases, which run at the pre-registration's own sizes
    from reports.cases._calibrate import preregistered_cases

    held = {c for _, _, c in preregistered_cases()}
    assert {c.seeds for c in bound if c not in held} == {16}
    assert held <= set(bound)
    assert max(c.L for c in bound) == 16 and max(c.m for c in bound) >= 1024
    assert max(c.n for c in bound) >= 1000
    # K-mc and training facts: one width's seeds at a time, float32 W of m^2 per seed (+ a few
    # copies of that size for the gradient and the update): well inside the GPU
    mc = next(it.spec for it in items if it.kind == "kernel-mc")
    facts = [it.spec for it in items if it.kind == "training-facts"]
    assert max(mc.widths) == 16384 and max(max(f.widths) for f in facts) == 4096
    assert 4 * 4 * max(mc.widths) ** 2 * 2 <= H100_GPU_BYTES  # W, its gradient, A-side copies
    assert all(4 * 6 * max(f.widths) ** 2 * f.seeds <= H100_GPU_BYTES for f in facts)


def test_gpu_profile_has_g1_at_n_100000_within_the_host_memory(items):
    (large,) = [it.spec for it in items if it.kind == "large-n"]
    assert max(large.ns) == 100_000
    assert 8 * 100_000**2 <= large_n_memory(large) <= 0.9 * H100_HOST_BYTES
    # the negative control: one more doubling of n does not fit, and the estimate says so
    assert large_n_memory(type(large)(ns=(200_000,))) > H100_HOST_BYTES


def test_only_the_gpu_profile_carries_a_large_n_item():
    for name, p in PROFILES.items():
        assert (p.large is not None) == (name == "gpu"), name
        assert any(it.kind == "large-n" for it in default_items(name)) == (name == "gpu"), name
