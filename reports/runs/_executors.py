"""Executors for the sweep runner: how batches of configurations are evaluated.

An executor maps a picklable function over a list of batches and yields ``(batch_index,
result)`` as each finishes (any order). The sweep runner appends each result's records to the
results store as it arrives, so an interrupted sweep loses only the batches in flight.

- ``LocalExecutor``: in-process, in order (JAX vmaps inside each batch).
- ``RayExecutor`` (extra ``[ray]``): see ``_ray.py``; same interface.

``make_executor(name, address)`` builds one by name (the ``run`` subcommand's ``--executor`` and
``--address``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol


class Executor(Protocol):
    name: str

    def map_unordered(self, fn: Callable[[Any], Any], batches: Sequence[Any]
                      ) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    name = "local"

    def map_unordered(self, fn, batches):
        for i, b in enumerate(batches):
            yield i, fn(b)

    def close(self) -> None:
        pass


EXECUTORS = ("local", "ray")


def make_executor(name: str, address: str | None = None, **kw) -> Executor:
    """The executor called ``name``: 'local' (in-process) or 'ray'.

    For 'ray', ``address=None`` starts a local Ray instance, ``'auto'`` or ``'ray://host:port'``
    connects to a running cluster; ``kw`` go to ``RayExecutor`` (num_cpus, cpus_per_task,
    gpus_per_task, max_retries, ...). Raises ValueError for an unknown name or options the
    executor does not take, and ImportError (with the install command) when Ray is missing.
    """
    if name == "local":
        extra = {k: v for k, v in kw.items() if v is not None}
        if address is not None or extra:
            given = (["address"] if address is not None else []) + sorted(extra)
            raise ValueError(f"the local executor takes no options (got {', '.join(given)}); "
                             "--address and the Ray options need --executor ray")
        return LocalExecutor()
    if name == "ray":
        import inspect

        from ._ray import RAY_EXTRA_MESSAGE, RayExecutor

        try:
            import ray  # noqa: F401
        except ImportError as e:
            raise ImportError(RAY_EXTRA_MESSAGE) from e
        allowed = set(inspect.signature(RayExecutor).parameters) - {"address"}
        unknown = sorted(set(kw) - allowed)
        if unknown:
            raise ValueError(f"unknown ray executor option(s) {unknown}; allowed: {sorted(allowed)}")
        return RayExecutor(address=address, **kw)
    raise ValueError(f"unknown executor {name!r}: choose one of {list(EXECUTORS)}")
