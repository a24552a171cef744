"""Field checks and a resource estimate for ``BoundCase`` (the ``case --json`` input and the grids).

``check_bound_case`` type- and range-checks every field with a one-line ``ValueError`` naming the
field and what is allowed, before anything reaches JAX: a string where a number belongs, NaN, a
float seed or an int for ``positions`` would otherwise surface as a deep traceback or, worse,
as a silently wrong number (docs/theory.md section 5 for the ranges of r).

``estimate_resources`` bounds the memory and work of ``evaluate_bound_case`` from (n, n_test, L,
m, d, seeds, steps) before any allocation, and ``check_resources`` refuses a case that would not
fit the machine's memory (the message names the estimate and the override: ``--force`` or
``RNN_CHECKS_FORCE=1``). The estimate is an upper-bound model of the arrays the evaluation
materialises, not a measurement; it is deliberately conservative.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

#: Token scales r (and the target's input_scale) the float32 network is meaningful at. docs/theory.md
#: spans r = 0.1 .. 10; outside [1e-3, 1e3] the kernel's r^2 L terms and the targets' arguments
#: lose float32 precision long before they overflow (r = 1e300 gives inf tokens and NaN risks).
SCALE_RANGE = (1e-3, 1e3)
SEED_MAX = 2**32 - 1  # NumPy's and JAX's seed range
FORCE_ENV = "RNN_CHECKS_FORCE"
#: The target families a ``BoundCase`` may name (``models`` builds each).
FAMILIES = ("additive", "n-variable", "parity", "random-labels")


def short(v, limit: int = 80) -> str:
    """``repr(v)`` cut to ``limit`` characters: an error line echoes the offending value, not a
    100 KB string someone pasted."""
    r = repr(v)
    return r if len(r) <= limit else f"{r[:limit - 25]}... ({len(r)} characters)"


def _int(name: str, v, low: int, high: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        rng = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"{name} must be an integer ({rng}), got {type(v).__name__} {short(v)}")
    v = int(v)
    if v < low or (high is not None and v > high):
        raise ValueError(f"{name} = {v} is out of range: allowed {low} <= {name} <= "
                         f"{'inf' if high is None else high}")
    return v


def _real(name: str, v, low: float, high: float, *, low_open: bool = False,
          high_open: bool = False) -> float:
    """A finite real in the stated interval; strings and booleans are refused (float("1") is a
    string a JSON writer quoted by mistake, not a number)."""
    lb, rb = "(" if low_open else "[", ")" if high_open else "]"
    rng = f"{name} in {lb}{low:g}, {high:g}{rb}"
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number ({rng}), got {type(v).__name__} {short(v)}")
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v} is not allowed: {name} must be finite, {rng}")
    if (v <= low if low_open else v < low) or (v >= high if high_open else v > high):
        raise ValueError(f"{name} = {v:g} is out of range: allowed {rng}")
    return v


def _choice(name: str, v, choices) -> str:
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"{name} = {short(v)} is not allowed: choose one of {list(choices)}")
    return v


def check_bound_case(case) -> None:
    """Validate every field of a ``BoundCase`` (called from its ``__post_init__``).

    Normalises ``positions`` (a list from JSON) to a tuple of ints on the frozen instance.
    """
    import models as M

    _check_case_fields(case, {"family": FAMILIES, "f": M.FUNCTIONS, "method": M.METHODS,
                              "parametrization": tuple(M.PARAMETRIZATIONS)})
    if case.positions is not None:
        object.__setattr__(case, "positions", M.check_positions(tuple(case.positions), case.L))


def _check_case_fields(case, choices: dict) -> None:
    """The checks of ``check_bound_case`` that need no JAX (``precheck_case_json`` runs them
    before the CLI imports it), with the string fields\x27 choices passed in."""
    for name in ("L", "d", "m", "n", "n_test", "seeds"):
        _int(name, getattr(case, name), 1)
    _int("steps", case.steps, 1, 10_000_000)
    for name in ("target_seed", "data_seed", "init_seed"):
        _int(name, getattr(case, name), 0, SEED_MAX)
    _real("scale", case.scale, *SCALE_RANGE)
    _real("input_scale", case.input_scale, *SCALE_RANGE)
    _real("delta", case.delta, 0.0, 1.0, low_open=True, high_open=True)
    _real("delta_test", case.delta_test, 0.0, 1.0, low_open=True, high_open=True)
    _real("lr_frac", case.lr_frac, 0.0, 1e6, low_open=True)
    for name in ("family", "f", "method"):
        _choice(name, getattr(case, name), choices[name])
    if hasattr(case, "parametrization"):
        _choice("parametrization", case.parametrization, choices["parametrization"])
    if getattr(case, "n_gap", None) is not None:
        _int("n_gap", case.n_gap, 1)
    if hasattr(case, "delta_gap"):
        _real("delta_gap", case.delta_gap, 0.0, 1.0, low_open=True, high_open=True)
    pos = case.positions
    if pos is not None and (isinstance(pos, (str, bytes)) or not isinstance(pos, (list, tuple))):
        raise ValueError(f"positions must be null or a list of token positions 1 <= l_i <= L = "
                         f"{case.L}, got {type(pos).__name__} {short(pos)}")


#: ``BoundCase``'s fields for ``case --json``: (name, default, what is allowed). Every field is
#: optional. Kept here, away from JAX, so that ``case --help`` and ``precheck_case_json`` answer
#: at once; checks/test_faults.py keeps the defaults and choices equal to ``BoundCase``'s and
#: ``models``'.
CASE_FIELDS = (
    ("L", 4, "sequence length, integer >= 1"),
    ("d", 3, "token dimension, integer >= 1"),
    ("m", 128, "network width, integer >= 1"),
    ("n", 64, "training sample size, integer >= 1"),
    ("n_test", 512, "test sample size, integer >= 1"),
    ("scale", 1.0, f"token scale r, real in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}]"),
    ("family", "additive", "additive | n-variable | parity | random-labels"),
    ("f", "sin", "sin | cos | exp | tanh | poly | linear"),
    ("positions", None, "null (all) or a list of token positions 1 <= l_i <= L, increasing"),
    ("method", "gd", "gd | sgd"),
    ("steps", 200, "training steps, integer in [1, 10000000]"),
    ("lr_frac", 1.0, "step as a fraction of the stable step, real in (0, 1e6]"),
    ("seeds", 2, "networks trained, integer >= 1"),
    ("delta", 0.05, "the bound's failure probability, real in (0, 1)"),
    ("delta_test", 0.01, "the test interval's failure probability, real in (0, 1)"),
    ("input_scale", 1.0, f"the target's input scale, real in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}]"),
    ("target_seed", 0, f"integer in [0, {SEED_MAX}]"),
    ("data_seed", 0, f"integer in [0, {SEED_MAX}]"),
    ("init_seed", 0, f"integer in [0, {SEED_MAX}]"),
    ("parametrization", "lazy", "lazy | contrast (the kernel regime's negative control)"),
    ("n_gap", None, "null (= n_test) or unlabelled inputs for the -net gap terms, integer >= 1"),
    ("delta_gap", 0.01, "the gap estimate's failure probability, real in (0, 1)"),
)
_CASE_CHOICES = {name: tuple(x.strip() for x in allowed.split("(")[0].split("|"))
                 for name, _, allowed in CASE_FIELDS if "|" in allowed}


def case_fields_help() -> str:
    """The ``case --help`` table of fields."""
    width = max(len(n) for n, _, _ in CASE_FIELDS)
    import json

    rows = [f"  {n:<{width}}  default {json.dumps(d):<10} {allowed}" for n, d, allowed in CASE_FIELDS]
    return "\n".join(rows)


def precheck_case_json(text: str) -> dict:
    """Parse a ``case --json`` text and check its fields without JAX: one-line ``ValueError``
    naming the field (values echoed at most 80 characters). Returns the JSON object."""
    import json
    from types import SimpleNamespace

    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"case is not valid JSON: {e.msg} (line {e.lineno} column {e.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"case JSON must be an object of BoundCase fields, got {type(raw).__name__} "
                         f"{short(raw)}")
    names = [n for n, _, _ in CASE_FIELDS]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ValueError(f"unknown BoundCase field(s) {short(unknown)}; allowed (all optional): "
                         f"{', '.join(names)}")
    _check_case_fields(SimpleNamespace(**{**{n: d for n, d, _ in CASE_FIELDS}, **raw}), _CASE_CHOICES)
    return raw


def _ints(name: str, v, low: int, high: int | None = None, *, min_len: int = 1,
          increasing: bool = False) -> tuple[int, ...]:
    """A list or tuple of integers, each in [low, high], at least ``min_len`` of them (and
    strictly increasing when asked: a grid of widths or sample sizes listed twice is a mistake)."""
    if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple)):
        raise ValueError(f"{name} must be a list of integers >= {low}, got {type(v).__name__} {short(v)}")
    if len(v) < min_len:
        raise ValueError(f"{name} = {list(v)}: need at least {min_len} value(s)")
    out = tuple(_int(f"{name}[{i}]", x, low, high) for i, x in enumerate(v))
    if increasing and list(out) != sorted(set(out)):
        raise ValueError(f"{name} = {list(out)} must be strictly increasing")
    return out


def check_scaling_design(design) -> None:
    """Validate every field of a ``ScalingDesign`` (docs/theory.md section 5) with one line naming
    the field; normalises the grids (a list from JSON) to tuples on the frozen instance."""
    import models as M

    _choice("claim", design.claim, ("C2", "C4-N", "C4-l0"))
    Ls = _ints("Ls", design.Ls, 2, min_len=3, increasing=True)  # L = 1 has H = 0 (section 3)
    ns = _ints("ns", design.ns, 2, min_len=2, increasing=True)
    seeds = _ints("seeds", design.seeds, 0, SEED_MAX)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds = {list(seeds)}: each seed once (a repeated seed is not new evidence)")
    _int("d", design.d, 1)
    _int("N", design.N, 1)
    _int("l0", design.l0, 0)
    _real("scale", design.scale, *SCALE_RANGE)
    _real("eps", design.eps, 0.0, 1.0, low_open=True, high_open=True)
    _choice("f", design.f, M.FUNCTIONS)
    _choice("anchor", design.anchor, ("end", "start"))
    for name, val in (("Ls", Ls), ("ns", ns), ("seeds", seeds)):
        object.__setattr__(design, name, val)


def check_mc_design(design) -> None:
    """Validate every field of an ``MCDesign`` (the K-mc check, docs/theory.md section 3)."""
    import models as M

    # the Monte-Carlo rate is a slope in log m: two widths at least, and the fit needs them distinct
    widths = _ints("widths", design.widths, 1, min_len=2, increasing=True)
    _int("n", design.n, 1)
    _int("L", design.L, 2)  # at L = 1 the W-only kernel is H = 0 and ||K - H|| / ||H|| is undefined
    _int("d", design.d, 1)
    _int("seeds", design.seeds, 1)
    _int("data_seed", design.data_seed, 0, SEED_MAX)
    _real("scale", design.scale, *SCALE_RANGE)
    _choice("parametrization", design.parametrization, tuple(M.PARAMETRIZATIONS))
    object.__setattr__(design, "widths", widths)


def check_training_facts_design(design) -> None:
    """Validate every field of a ``TrainingFactsDesign`` (docs/theory.md section 4's facts)."""
    import models as M

    widths = _ints("widths", design.widths, 1, min_len=1, increasing=True)
    for name in ("seeds", "n", "n_test", "L", "d"):
        _int(name, getattr(design, name), 1)
    _int("steps", design.steps, 1, 10_000_000)
    _int("data_seed", design.data_seed, 0, SEED_MAX)
    _real("lr_frac", design.lr_frac, 0.0, 1e6, low_open=True)
    _choice("parametrization", design.parametrization, tuple(M.PARAMETRIZATIONS))
    object.__setattr__(design, "widths", widths)


# ---- resources ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """Peak memory (bytes) and arithmetic work (flop) of one bound case; ``seconds`` at ``rate``."""

    memory: float
    flops: float
    rate: float
    overhead_s: float = 0.0

    @property
    def seconds(self) -> float:
        return self.overhead_s + self.flops / self.rate

    def text(self) -> str:
        return f"~{_bytes(self.memory)} peak memory, ~{self.flops:.2g} flop (~{_duration(self.seconds)})"


#: Effective rate of the evaluation on one CPU core (flop/s): XLA's small, latency-bound kernels
#: run far below a BLAS peak. Only used to print a duration next to the estimate, plus the fixed
#: cost of starting JAX and compiling (~20 s on an idle 2-core CPU).
CPU_RATE = 1e9
START_S = 20.0
#: Resident memory of the Python process with JAX, NumPy and SciPy loaded, before any case
#: (measured: a peak RSS of 4.05e8 bytes for a case of a few MB).
RUNTIME_BYTES = 450e6


def estimate_resources(case) -> Estimate:
    """Memory and work of ``evaluate_bound_case(case)`` (an upper-bound model, see below).

    n_tr is the training sample (GD: n; online SGD: its stream of ``steps`` examples); the
    evaluation inputs are the n_test test inputs and the -net bounds' n_gap unlabelled ones.
    - the analytic kernel (float64): Gram n_tr^2 and cross-Gram n_test x n_tr, a few copies in
      the solve; ~30 flop per entry and position;
    - the empirical NTK (float32, factored): three (n_tr, n_tr, L, L) arrays per seed (two einsum
      products and their elementwise product), L^2 n_tr^2 m flop each (the jacobian form, used
      when L > 1.5 m, holds n_tr m^2 per seed). Measured: peak RSS 1.46e9 bytes at L = 16, n = 400,
      m = 64, two seeds, against 1.47e9 estimated;
    - training: (n_tr + n_test) L m float32 activations kept for the backward pass, a few m^2
      weights per seed; 6 n_tr L m^2 flop per GD step and seed (one example per SGD step);
    - the linearised and network predictions: 6 (n_tr + n_test) L m^2 flop per seed.
    """
    n_tr = case.n if case.method == "gd" else case.steps
    n_gap = getattr(case, "n_gap", None)  # the -net bounds' unlabelled inputs (default: n_test)
    n_eval = case.n_test + (case.n_test if n_gap is None else n_gap)
    n, nt, L, m, d, S = (float(x) for x in (n_tr, n_eval, case.L, case.m, case.d, case.seeds))
    kernel_mem = 8 * (4 * n * n + 2 * n * nt)
    if L <= 1.5 * m:
        ntk_mem = 4 * S * (3 * n * n * L * L + 2 * n * L * m)
        ntk_flops = S * 4 * n * n * L * L * m
    else:
        ntk_mem = 4 * S * 2 * n * m * m
        ntk_flops = S * 6 * 2 * n * L * m * m * n
    train_mem = 4 * S * (4 * (n + nt) * L * m + 6 * m * m + m * d)
    data_mem = 4 * (n + nt) * L * d * 4
    per_step = n if case.method == "gd" else 1.0
    train_flops = S * case.steps * 6 * per_step * L * m * m
    pred_flops = S * 6 * (n + nt) * L * m * m * 2
    kernel_flops = 30 * (n * n + n * nt) * L
    return Estimate(memory=kernel_mem + ntk_mem + train_mem + data_mem + RUNTIME_BYTES,
                    flops=kernel_flops + ntk_flops + train_flops + pred_flops, rate=CPU_RATE,
                    overhead_s=START_S)


def available_memory() -> float | None:
    """Bytes of memory available to a new allocation (MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


class ResourceError(ValueError):
    """A case whose estimated memory exceeds what the machine has (override: --force)."""


def forced() -> bool:
    return os.environ.get(FORCE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def check_resources(cases, *, force: bool = False, what: str = "this case") -> Estimate:
    """The largest estimate over ``cases``; raises ResourceError when it would not fit in memory
    (unless ``force`` or RNN_CHECKS_FORCE=1)."""
    cases = list(cases)
    worst = max((estimate_resources(c) for c in cases), key=lambda e: e.memory)
    avail = available_memory()
    if avail is not None and worst.memory > 0.9 * avail and not (force or forced()):
        raise ResourceError(
            f"{what} needs an estimated {worst.text()}: more memory than the {_bytes(avail)} "
            f"available; reduce n, n_test, L, m or seeds, or pass --force (or set {FORCE_ENV}=1) "
            "to run it anyway")
    return worst


def _bytes(x: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if x < 1024 or unit == "TB":
            return f"{x:.3g} {unit}"
        x /= 1024
    return f"{x:.3g} TB"  # pragma: no cover


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
