"""Reports: the results store, case evaluation, sweeps, rendering and baseline comparison.

The names below are re-exported lazily (PEP 562): ``python -m reports --help`` imports this
package, and building the command line must not import JAX (seconds) to print a usage text.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BoundCase": "._evaluate", "MCDesign": "._evaluate", "ScalingDesign": "._evaluate",
    "complexity_records": "._evaluate", "evaluate_bound_case": "._evaluate",
    "fit_scaling": "._evaluate", "kernel_mc_records": "._evaluate", "scaling_record": "._evaluate",
    "LocalExecutor": "._executors",
    "ResultsStore": "._store", "case_id": "._store", "dedupe": "._store", "make_record": "._store",
    "read_records": "._store",
    "claim_summaries": "._summary", "mutant_summaries": "._summary",
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
