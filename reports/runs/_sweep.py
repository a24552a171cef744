"""The sweep runner: evaluate a list of items, append their records as they finish, resume.

Resuming skips items whose id is already in the store, so an interrupted sweep never redoes,
duplicates or loses a finished item (items: ``_items``). Items whose only records are 'error'
records are not finished: a resumed sweep retries them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._executors import LocalExecutor
from ._items import SweepItem, evaluate_batch, evaluate_item, failure_records, failure_result
from ._store import ResultsStore

# the sweep's names, as the command line, checks/ and benchmarks/ import them from here
__all__ = ["SweepItem", "SweepResult", "evaluate_batch", "evaluate_item", "failure_records",
           "failure_result", "run_sweep"]


@dataclass
class SweepResult:
    total: int
    skipped: int
    evaluated: int
    errors: int
    records: int


def run_sweep(items: list[SweepItem], store: ResultsStore, *, executor=None, resume: bool = True,
              progress: bool = True, batch_size: int = 1, stop=None) -> SweepResult:
    """Evaluate ``items`` with ``executor`` (local by default), appending to ``store``.

    ``batch_size`` items go to each executor task (evaluated one after another in one worker;
    each item's records are still appended with their own single write as the task returns).
    ``stop``: a callable checked after every stored result; when it returns true the sweep
    raises KeyboardInterrupt (the CLI's flag for an interrupt that Python swallowed).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r} must be an integer >= 1")
    executor = executor or LocalExecutor()
    done = store.done_items() if resume else set()
    todo = [it for it in items if it.item_id not in done]
    if batch_size == 1:
        work, fn = todo, evaluate_item
    else:
        work = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
        fn = evaluate_batch
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep ({executor.name})", unit="item")
    errors = nrec = 0
    results = executor.map_unordered(fn, work)
    try:
        for _, res in results:
            for recs in ([res] if batch_size == 1 else res):
                store.append_many(recs)
                nrec += len(recs)
                errors += sum(r["verdict"] == "error" for r in recs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(recs[0].get("claim", "") if recs else "")
            if stop is not None and stop():
                raise KeyboardInterrupt
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # a generator: lets the executor cancel the tasks still in flight
            close()
        if bar is not None:
            bar.close()
    return SweepResult(len(items), len(items) - len(todo), len(todo), errors, nrec)
