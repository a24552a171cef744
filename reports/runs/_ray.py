"""The Ray executor (extra ``[ray]``): sweep tasks on a local Ray instance or a running cluster.

``RayExecutor`` has ``LocalExecutor``'s interface: ``map_unordered(fn, batches)`` runs each batch
as one Ray task and yields ``(batch_index, result)`` as tasks finish, so ``run_sweep`` appends
every item's records to the one append-only store (on the driver) the moment they arrive.

- ``address=None`` starts a local Ray instance with ``num_cpus`` CPUs (default ``os.cpu_count()``)
  and no dashboard; ``address='auto'`` or ``'ray://host:10001'`` connects to a running cluster
  (whose nodes need this package installed, e.g. ``pip install -e '.[ray]'``).
- Worker failures (a crashed or killed worker process, a lost node) are retried ``max_retries``
  times by Ray. A task that still fails comes back as 'error' records carrying the items' ids
  (``reports.runs._items.failure_result``); ``ResultsStore.done_items`` ignores error-only items, so a
  resumed sweep retries them. Python exceptions inside an item never reach Ray:
  ``evaluate_item`` records them itself.
- Threads: every task declares ``cpus_per_task`` CPUs, and each worker process is pinned to that
  many cores of its node (``_worker_setup``, a Ray worker setup hook) before JAX starts. XLA's
  CPU client sizes its thread pool from the process's CPU affinity, so W workers on W cores do not
  oversubscribe them. (``--xla_cpu_multi_thread_eigen=false`` alone does not: with jax 0.10 a
  worker still keeps 3-4 threads busy on 2 cores; ``intra_op_parallelism_threads`` is not an XLA
  flag at all.) The workers also get ``OMP/MKL/OPENBLAS_NUM_THREADS``.
- Priority: a local instance runs its workers at nice 0, not Ray's default 15, which starves
  them on a loaded machine (``RAY_worker_niceness``; an explicit setting is respected).
- Compilation cache: every worker turns on JAX's persistent compilation cache
  (``reports.runs._jaxcache``) in the same setup hook, in the driver's ``RNN_CHECKS_JAX_CACHE`` if it is
  set, else in the node's default user cache directory, so workers share compiled programs.
- GPU: ``gpus_per_task`` (e.g. 1, or 0.5 to share a GPU between two tasks) reserves GPUs per task;
  each worker then preallocates only ``gpus_per_task`` of the XLA memory fraction, so tasks
  sharing a GPU do not each claim 75% of its memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

RAY_EXTRA_MESSAGE = "the ray executor needs the [ray] extra: pip install -e '.[ray]'"

_SLOT_FD: int | None = None  # held for the worker's lifetime: its CPU slot's lock
WORKER_NICENESS_ENV = "RAY_worker_niceness"  # Ray's own variable (ray_constants.RAY_WORKER_NICENESS)


def _worker_setup() -> None:
    """Ray worker setup hook: CPU pinning (before XLA's client exists), then the compilation cache."""
    from ._jaxcache import enable_compilation_cache

    _pin_cpus()
    enable_compilation_cache()


def _pin_cpus() -> None:
    """Pin this worker process to ``RNN_CHECKS_CPUS_PER_WORKER`` cores.

    Slots are claimed with an exclusive ``flock`` on a per-slot file, released by the kernel when
    the worker exits (or crashes), so concurrent workers on a node take disjoint cores. With more
    workers than slots, or no ``sched_setaffinity``, the worker is left unpinned."""
    global _SLOT_FD
    n = int(os.environ.get("RNN_CHECKS_CPUS_PER_WORKER", "0") or 0)
    if n <= 0 or not hasattr(os, "sched_setaffinity") or _SLOT_FD is not None:
        return
    import fcntl

    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) <= n:
        return
    lockdir = Path(tempfile.gettempdir()) / f"rnn-checks-cpu-slots-{os.getuid()}"
    lockdir.mkdir(parents=True, exist_ok=True)
    for k in range(len(cpus) // n):
        fd = os.open(lockdir / f"slot-{k}-of-{len(cpus) // n}", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _SLOT_FD = fd
        os.sched_setaffinity(0, cpus[k * n:(k + 1) * n])
        return


def worker_env(cpus_per_task: float = 1, gpus_per_task: float = 0, pin_cpus: bool = True
               ) -> dict[str, str]:
    """Environment variables of the Ray workers (thread limits; GPU memory share)."""
    threads = str(max(1, int(cpus_per_task)))
    env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "RNN_CHECKS_CPUS_PER_WORKER": threads if pin_cpus else "0"}
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags and int(cpus_per_task) <= 1:
        flags = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    if flags:
        env["XLA_FLAGS"] = flags
    from ._jaxcache import ENV as cache_env

    if cache_env in os.environ:  # the driver's choice (a directory, or off); else the worker's default
        env[cache_env] = os.environ[cache_env]
    if 0 < gpus_per_task < 1 and "XLA_PYTHON_CLIENT_MEM_FRACTION" not in os.environ:
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{0.75 * gpus_per_task:.3f}"
    return env


class RayExecutor:
    """Runs each batch as one Ray task; see the module docstring."""

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 cpus_per_task: float = 1, gpus_per_task: float = 0, max_retries: int = 3,
                 max_in_flight: int | None = None, pin_cpus: bool = True,
                 on_error: Callable[[Any, BaseException], Any] | None = None,
                 log_to_driver: bool = False):
        try:
            import ray
        except ImportError as e:
            raise ImportError(RAY_EXTRA_MESSAGE) from e
        if num_cpus is not None and address is not None:
            raise ValueError("num_cpus sizes a local Ray instance; a cluster at --address has its own")
        if cpus_per_task <= 0 or gpus_per_task < 0 or max_retries < 0:
            raise ValueError("cpus_per_task must be > 0, gpus_per_task >= 0 and max_retries >= 0")
        self._ray = ray
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.max_retries = int(max_retries)
        self._on_error = on_error
        self._owns = False
        if not ray.is_initialized():
            runtime_env = {"env_vars": worker_env(cpus_per_task, gpus_per_task, pin_cpus),
                           "worker_process_setup_hook": "reports.runs._ray._worker_setup"}
            kw: dict[str, Any] = {"runtime_env": runtime_env, "log_to_driver": log_to_driver,
                                  "configure_logging": False}
            if address is None:
                kw.update(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False)
                # Ray starts workers at nice 15 (its default worker_niceness) so that its own
                # daemons stay responsive. Here the workers *are* the sweep: on a loaded machine
                # (load 12 on 2 cores, measured) a nice-15 worker got ~2% of a core against
                # nice-0 processes, and a two-item test batch had used 12 s of CPU after 10 min.
                # The raylet reads RAY_worker_niceness from the environment it inherits.
                os.environ.setdefault(WORKER_NICENESS_ENV, "0")
            else:
                kw["address"] = address
            ray.init(**kw)
            self._owns = True
        total = ray.cluster_resources().get("CPU", 1)
        self.max_in_flight = max_in_flight or max(2, int(2 * total / cpus_per_task))

    def _failure(self, batch, exc: BaseException):
        if self._on_error is not None:
            return self._on_error(batch, exc)
        # imported here: the workers import this module (setup hook) and must pin CPUs before JAX loads
        from ._items import failure_result

        return failure_result(batch, exc)

    def map_unordered(self, fn: Callable[[Any], Any], batches: Sequence[Any]
                      ) -> Iterator[tuple[int, Any]]:
        ray = self._ray
        task = ray.remote(fn).options(num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task,
                                      max_retries=self.max_retries, retry_exceptions=False)
        todo = iter(enumerate(batches))
        pending: dict[Any, tuple[int, Any]] = {}
        try:
            while True:
                while len(pending) < self.max_in_flight:
                    nxt = next(todo, None)
                    if nxt is None:
                        break
                    pending[task.remote(nxt[1])] = nxt
                if not pending:
                    return
                ready, _ = ray.wait(list(pending), num_returns=1)
                i, batch = pending.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as e:  # crashed past its retries, lost, cancelled
                    result = self._failure(batch, e)
                yield i, result
        finally:  # interrupted (Ctrl-C, consumer stopped): do not leave tasks running
            for ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort; the task may have finished
                    pass

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
