"""The results store: one JSON record per evaluated case, appended to a JSONL file.

Each record is written with a single ``os.write`` on an ``O_APPEND`` descriptor followed by
``fsync``, so a run killed at any point leaves every finished record intact and at most one
truncated last line, which ``read_records`` reports and skips (and ``rewrite_clean`` removes,
atomically, when a resumed run owns the store). Resuming a sweep reads the ``case_id``s already
present and skips them, so nothing is redone, duplicated or lost. Sweep items whose only records
are 'error' records are not finished: a resumed sweep retries them.

One writer at a time: ``StoreLock`` (a ``filelock`` lock next to the store, released by the
kernel if its holder dies) makes a second ``run`` into the same folder stop at once and say
which process holds it, instead of computing and writing every record twice.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# the record format (what every evaluation writes) is the cases' own; the store keeps its names
from ..cases._records import SCHEMA, _jsonable, case_id, make_record  # noqa: F401


class ResultsStore:
    """Append-only JSONL store at ``path`` (created with its parent folders on first write).

    ``stamp``: top-level fields added to every appended record (``{"profile": "run:default"}``
    says which grid or Hypothesis profile produced it, so ``compare`` and ``run`` can refuse to
    mix or compare stores of different profiles). Stamps never enter the ``case_id``.
    """

    def __init__(self, path: str | os.PathLike, *, stamp: dict | None = None):
        self.path = Path(path)
        self.stamp = dict(stamp or {})

    def append(self, record: dict) -> None:
        self.append_many([record])

    def append_many(self, records: list[dict]) -> None:
        """Append several records with one write (all lines of one sweep item land together)."""
        if not records:
            return
        line = "".join(json.dumps(_jsonable({**r, **self.stamp}), sort_keys=True) + "\n"
                       for r in records).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A run killed mid-write can leave a truncated last line without its newline: start
            # on a fresh line so that line stays the only corrupt one and this write stays whole.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def extend(self, records: Iterable[dict]) -> int:
        records = list(records)
        self.append_many(records)
        return len(records)

    def read(self) -> StoreContents:
        return read_records(self.path)

    def rewrite_clean(self) -> list[int]:
        """Drop the store's corrupt lines (a write cut short by a kill), atomically.

        The valid lines are copied byte for byte into a temporary file in the same folder,
        fsync'ed, and renamed over the store (``os.replace`` is atomic on POSIX), so a crash at
        any point leaves either the old or the new store, never a mix. Returns the line numbers
        dropped (none: the file is left untouched). Call it only while holding ``StoreLock``.
        """
        if not self.path.is_file():
            return []
        keep, dropped = [], []
        with open(self.path, "rb") as fh:
            for i, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                if _parse_line(raw)[0] is None:
                    dropped.append(i)
                else:
                    keep.append(raw if raw.endswith(b"\n") else raw + b"\n")
        if not dropped:
            return []
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.writelines(keep)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:  # the rename itself survives a power cut only once the folder is synced
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return dropped

    def done_ids(self) -> set[str]:
        return {r["case_id"] for r in self.read().records if "case_id" in r}

    def done_items(self) -> set[str]:
        """Sweep items finished in the store (the resume key of ``run_sweep``).

        An item is finished when it has at least one record that is not an 'error' record and,
        where its records say how many the item wrote (``item_records``), at least that many.
        Items whose only records are 'error' records (an exception, or a Ray worker that crashed
        past its retries) are not finished, so a resumed sweep retries them; so is an item whose
        single write was cut short (a truncated last line).
        """
        if not self.path.exists():
            return set()
        count: dict[str, int] = {}
        want: dict[str, int] = {}
        for r in self.read().records:
            iid = r.get("item_id")
            if not iid or r.get("kind") == "error":
                continue
            count[iid] = count.get(iid, 0) + 1
            n = r.get("item_records")
            if isinstance(n, int) and not isinstance(n, bool):
                want[iid] = max(want.get(iid, 1), n)
        return {iid for iid, c in count.items() if c >= want.get(iid, 1)}


@dataclass
class StoreContents:
    records: list[dict] = field(default_factory=list)
    corrupt: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def read_records(path: str | os.PathLike) -> StoreContents:
    """All valid records of a store; corrupt lines are listed (line number, reason), not fatal.

    Raises FileNotFoundError with a clear message when the store does not exist.
    """
    path = Path(path)
    if path.is_dir():
        inner = path / "results.jsonl"
        hint = f": the store inside it is {str(inner)!r}" if inner.is_file() else ""
        raise IsADirectoryError(f"results store {str(path)!r} is a directory, not a JSONL file{hint}")
    if not path.is_file():
        raise FileNotFoundError(f"results store {str(path)!r} does not exist (run a sweep first)")
    out = StoreContents()
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            rec, why = _parse_line(raw)
            if rec is None:
                out.corrupt.append((i, why))
            else:
                out.records.append(rec)
    return out


def _parse_line(raw: bytes) -> tuple[dict | None, str]:
    """One store line as a record, or (None, the reason it is corrupt)."""
    try:
        rec = json.loads(raw.decode("utf-8", errors="replace").strip())
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e.msg})"
    if not isinstance(rec, dict) or not {"kind", "claim", "case_id", "verdict"} <= rec.keys():
        return None, "missing one of kind/claim/case_id/verdict"
    return rec, ""


def store_profiles(records: list[dict]) -> set[str]:
    """The profiles stamped on a store's records ('run:default', 'ci', ...); empty if unstamped."""
    return {str(r["profile"]) for r in records if r.get("profile")}


class StoreBusyError(RuntimeError):
    """Another process holds the lock of a results folder."""


class StoreLock:
    """An exclusive, non-blocking lock on a results folder (``DIR/.lock``, via ``filelock``).

    The holder writes its pid, host and start time to ``DIR/.lock.json``; a second process that
    cannot take the lock raises ``StoreBusyError`` naming them. The lock is an ``flock``: the
    kernel releases it when the holder exits or is killed, so a stale ``.lock.json`` never
    blocks anyone (the next holder overwrites it).
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.info_path = self.folder / ".lock.json"

    def __enter__(self) -> StoreLock:
        from filelock import FileLock, Timeout

        self._lock = FileLock(str(self.folder / ".lock"))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise StoreBusyError(f"{str(self.folder)!r} is in use by another run "
                                 f"({self._holder()}); wait for it, or choose another --out") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        self.info_path.write_text(json.dumps(info) + "\n")
        return self

    def _holder(self) -> str:
        try:
            h = json.loads(self.info_path.read_text())
            return f"pid {h['pid']} on {h['host']}, started {h['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def __exit__(self, *exc) -> None:
        self._lock.release()


def drop_superseded_errors(records: list[dict]) -> list[dict]:
    """Drop the 'error' records of sweep items that a later attempt finished (a resumed sweep
    retries errored items and keeps the old error records as history); other errors stay."""
    finished = {r.get("item_id") for r in records if r.get("item_id") and r.get("kind") != "error"}
    return [r for r in records if not (r.get("kind") == "error" and r.get("item_id") in finished)]


def dedupe(records: list[dict]) -> list[dict]:
    """Keep the last record of each case_id (a resumed run never duplicates, but merges might)."""
    seen: dict[str, dict] = {}
    for r in records:
        seen[r["case_id"]] = r
    return list(seen.values())
