"""Executors for the sweep runner: how batches of configurations are evaluated.

An executor maps a picklable function over a list of batches and yields ``(batch_index,
result)`` as each finishes (any order). The sweep runner appends each result's records to the
results store as it arrives, so an interrupted sweep loses only the batches in flight.

- ``LocalExecutor``: in-process, in order (JAX vmaps inside each batch).
- ``RayExecutor`` (extra ``[ray]``): see ``_ray.py``; same interface.
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
