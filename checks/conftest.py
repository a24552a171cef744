"""Shared configuration of the check suite: Hypothesis profiles, the results store, the summary.

Profiles (all deadline=None because JAX compiles on first call):
- ``ci``: derandomized, few examples, a bounded shape grid (chosen when CI is set);
- ``dev``: the default at a desk;
- ``thorough``: many examples and larger sizes, same code.
Select with RNN_CHECKS_PROFILE=<name> (or tox -e thorough). The active profile's size knobs
are in ``checks/strategies.py`` (``SIZES``).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

# On a GPU, JAX preallocates 75% of the device's memory at its first use; the suite's subprocesses
# (``python -m reports case/run`` in test_reports.py and the fault checks) then start a second
# JAX on the same device and fail to get theirs (issue 24: test_case_reproduction_command failed
# on an H100). Allocating on demand, set before any JAX backend starts and inherited by the
# subprocesses, lets both run; no effect on a CPU.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import pytest
from hypothesis import settings

from checks._profiles import active_profile
from reports.render._render import normalised
from reports.render._summary import claim_summaries, mutant_summaries
from reports.runs._jaxcache import enable_compilation_cache
from reports.runs._store import ResultsStore

settings.load_profile(active_profile())

# JAX's persistent compilation cache (every compilation; RNN_CHECKS_JAX_CACHE=<dir>|off) makes a
# second run of the suite start warm.
enable_compilation_cache()


def _store_path() -> Path:
    env = os.environ.get("RNN_CHECKS_STORE")
    if env:
        return Path(env)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return Path("out") / "checks" / f"results-{stamp}.jsonl"


_STORE = ResultsStore(_store_path(), stamp={"profile": active_profile()})  # compare checks it


@pytest.fixture(scope="session")
def store() -> ResultsStore:
    """The session's append-only results store (one JSON record per evaluated case)."""
    return _STORE


def pytest_report_header(config):
    return [f"rnn-gen-checks: hypothesis profile {active_profile()!r}, results store {_STORE.path}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tabulate import tabulate

    if not _STORE.path.exists():
        return
    contents = _STORE.read()
    records = normalised(contents.records)  # one record per case_id, as the report reads them
    rows = claim_summaries(records)
    tr = terminalreporter
    tr.section("theory claims: per-claim summary")
    if rows:
        cols = ["claim", "provenance", "cases", "violations", "diverged", "non_vacuous_fraction", "verdict"]
        tr.write_line(tabulate([[r.get(c) for c in cols] for r in rows], headers=cols,
                               floatfmt=".2f"))
    muts = mutant_summaries(records)
    if muts:
        tr.write_line("")
        tr.write_line(tabulate([[m["mutant"], m["claim"], m["rejected"]] for m in muts],
                               headers=["mutant (power check)", "claim", "rejected"]))
    if contents.corrupt:
        tr.write_line(f"{len(contents.corrupt)} corrupt line(s) in the store were skipped")
    tr.write_line(f"results store: {_STORE.path}  ({len(contents.records)} records; "
                  f"render with: python -m reports render {_STORE.path})")
