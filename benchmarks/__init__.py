"""Performance benchmarks of the suite (issue 6): ``python -m benchmarks`` (see benchmarks/README.md).

Every figure is a ratio of two timings measured in the same run (never an absolute time alone).
"""

BENCHMARKS = ("throughput", "batched", "torch", "seeds", "kernel", "ntk", "compile", "cli", "large-n")
