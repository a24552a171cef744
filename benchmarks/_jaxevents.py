"""Counting JAX's compilation events with ``jax.monitoring`` listeners (no other imports, so a
script run against another tree, e.g. an old commit's, can import it as a sibling module).

- ``traces``: jaxpr traces (``/jax/core/compile/jaxpr_trace_duration``);
- ``compiles``: executables requested from the backend (``/jax/core/compile/backend_compile_duration``,
  which also fires on a persistent-cache hit) and ``compile_s``, their summed duration;
- ``cache_hits`` / ``cache_misses``: persistent compilation cache outcomes.
"""

from __future__ import annotations


def count_compilations() -> dict:
    """Register listeners; returns the dict they update (read it after the workload)."""
    import jax

    counts = {"traces": 0, "compiles": 0, "compile_s": 0.0, "cache_hits": 0, "cache_misses": 0}

    def on_duration(event, duration, **kw):
        if event == "/jax/core/compile/jaxpr_trace_duration":
            counts["traces"] += 1
        elif event == "/jax/core/compile/backend_compile_duration":
            counts["compiles"] += 1
            counts["compile_s"] += duration

    def on_event(event, **kw):
        if event == "/jax/compilation_cache/cache_hits":
            counts["cache_hits"] += 1
        elif event == "/jax/compilation_cache/cache_misses":
            counts["cache_misses"] += 1

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    jax.monitoring.register_event_listener(on_event)
    return counts
