"""What a person reads: claim summaries, the answer-first section, per-topic sections, markdown,
plots and the comparison with the committed baseline.

Import from the modules (``reports.render._render`` ...): this file imports nothing, so that the
command line can be built without importing JAX.
"""
