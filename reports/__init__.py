"""Reports: case evaluation (``cases/``), sweeps and the results store (``runs/``), the report and the
baseline comparison (``render/``), the command line (``cli.py``).

The names below are re-exported lazily (PEP 562): ``python -m reports --help`` imports this
package, and building the command line must not import JAX (seconds) to print a usage text.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BoundCase": ".cases._evaluate", "evaluate_bound_case": ".cases._evaluate",
    "ScalingDesign": ".cases._scaling", "complexity_records": ".cases._scaling",
    "fit_scaling": ".cases._scaling", "scaling_record": ".cases._scaling",
    "MCDesign": ".cases._kernel_mc", "kernel_mc_records": ".cases._kernel_mc",
    "LocalExecutor": ".runs._executors",
    "case_id": ".cases._records", "make_record": ".cases._records",
    "ResultsStore": ".runs._store", "dedupe": ".runs._store", "read_records": ".runs._store",
    "claim_summaries": ".render._summary", "mutant_summaries": ".render._summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
