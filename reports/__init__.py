"""Reports: the results store, case evaluation, sweeps, rendering and baseline comparison."""

from ._evaluate import (
    BoundCase,
    MCDesign,
    ScalingDesign,
    complexity_records,
    evaluate_bound_case,
    fit_scaling,
    kernel_mc_records,
    scaling_record,
)
from ._executors import LocalExecutor
from ._store import ResultsStore, case_id, dedupe, make_record, read_records
from ._summary import claim_summaries, mutant_summaries

__all__ = [
    "BoundCase", "LocalExecutor", "MCDesign", "ResultsStore", "ScalingDesign", "case_id",
    "claim_summaries", "complexity_records", "dedupe", "evaluate_bound_case", "fit_scaling",
    "kernel_mc_records", "make_record", "mutant_summaries", "read_records", "scaling_record",
]
