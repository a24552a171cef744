"""How evaluations are executed and kept: run profiles (grids), the sweep, the executors (local,
Ray), the append-only results store and the JAX compilation cache.

Import from the modules (``reports.runs._sweep`` ...): this file imports nothing, so that the command
line can be built without importing JAX.
"""
