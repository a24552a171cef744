"""Hypothesis profiles, registered in one place (imported by conftest.py and strategies.py).

All profiles use deadline=None: JAX compiles on the first call of every new shape, and a
compile is not a slow example.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

PROFILES = ("ci", "dev", "thorough")

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=6, derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.register_profile(
    "thorough", max_examples=60,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink], **_COMMON)


def active_profile() -> str:
    name = os.environ.get("RNN_CHECKS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    if name not in ("ci", "dev", "thorough"):
        raise pytest.UsageError(f"RNN_CHECKS_PROFILE={name!r}: choose one of {PROFILES}")
    return name


