"""Timing helpers shared by every benchmark: interleaved best-of timing, the matmul reference rate,
machine description, and the ``Ratio`` row that every benchmark returns.

Every figure the benchmarks report is a ratio of two timings taken in the same process and, where
possible, in the same interleaved rounds (A, B, A, B, ...), so that a noisy, shared machine slows
both sides of a ratio alike. Each side's figure is the best (minimum) time over the rounds: the
run least disturbed by other processes. Compilation is excluded: every callable is called once
(and its result blocked on) before timing starts.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp

from models._precision import MATMUL_PRECISION, matmul


@dataclass
class Ratio:
    """One reported figure: ``value`` = the ratio, ``target`` e.g. '>= 0.7' (None: informational).

    ``value`` None means the case was skipped; ``note`` says why.
    """

    bench: str
    case: str
    name: str
    value: float | None
    target: str | None = None
    note: str = ""
    details: dict = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        op, num = self.target.split()
        x = float(num)
        return {">=": self.value >= x, "<=": self.value <= x, ">": self.value > x, "<": self.value < x}[op]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["met"] = self.met
        return out


def block(x):
    """Block on every array in a pytree (also for torch tensors / plain Python: no-op)."""
    return jax.block_until_ready(x)


def interleaved(fns: dict[str, Callable[[], object]], *, rounds: int = 5, budget_s: float | None = None,
                warmup: int = 1) -> dict[str, float]:
    """Best wall time (seconds) of each callable over ``rounds`` interleaved rounds.

    Each callable is first called ``warmup`` times (compiles, fills caches). A round calls every
    callable once, in order, blocking on its result. With ``budget_s``, stops early (after at least
    two rounds) once the rounds have used that much time.
    """
    for f in fns.values():
        for _ in range(warmup):
            block(f())
    best = {k: float("inf") for k in fns}
    t_start = time.perf_counter()
    for r in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            block(f())
            best[k] = min(best[k], time.perf_counter() - t0)
        if budget_s is not None and r >= 1 and time.perf_counter() - t_start > budget_s:
            break
    return best


_MM_CACHE: dict[int, tuple] = {}


def matmul_reference(n: int = 2048):
    """(callable, flops): one jitted float32 product of two n x n matrices, 2 n^3 FLOPs, at the
    precision policy's ``MATMUL_PRECISION`` (the networks' own: on a GPU, JAX's default would be
    TF32, several times faster than the full float32 products the networks run).

    Time it inside the same ``interleaved`` rounds as the workload to get the machine's own large
    float32 matmul rate in the same conditions.
    """
    if n not in _MM_CACHE:
        ka, kb = jax.random.split(jax.random.key(12345))
        a = jax.random.normal(ka, (n, n), jnp.float32)
        b = jax.random.normal(kb, (n, n), jnp.float32)
        mm = jax.jit(matmul)
        _MM_CACHE[n] = (lambda: mm(a, b), 2.0 * n ** 3)
    return _MM_CACHE[n]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,  # e.g. "NVIDIA H100 80GB HBM3" or "cpu"
        "matmul_precision": str(MATMUL_PRECISION),
    }
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss_bytes(field_name: str = "VmRSS") -> int | None:
    """Current (VmRSS) or peak (VmHWM) resident set size in bytes, from /proc/self/status."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
