"""What is evaluated and how: the case and design dataclasses with their field checks and resource
estimate, the evaluations (bound case, scaling, training facts, kernel Monte-Carlo, large n, real data),
power (mutants), the predicted bound's calibration and the record audit.

Import from the modules (``reports.cases._evaluate`` ...): this file imports nothing, so that reading a
case's fields (the command line's ``case``) does not import JAX.
"""
