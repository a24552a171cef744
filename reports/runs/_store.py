"""The results store: one JSON record per evaluated case, appended to a JSONL file.

All lines of one sweep item are written together on an ``O_APPEND`` descriptor and ``fsync``ed:
a short ``os.write`` is continued until every byte is down, and a write that fails (disk full,
I/O error) is cut back to the store's size before it (``ftruncate``), so an item is in the store
whole or not at all and a retry cannot duplicate it; the failure is raised as ``StoreWriteError``
naming the folder, the bytes needed and the bytes free. A run killed at any point leaves every
finished record intact and at most one torn last line, which ``read_records`` reports and skips.

``repair`` (called by a resumed run that owns the store) deletes only that torn last line. Any
other line it does not read as a record (a hand annotation, a line of another schema, a non-JSON
line mid-store) and the records of an item that is not complete (a write that could not be cut
back) are moved, byte for byte, to the sidecar ``<store>.set-aside`` (appended, never
overwritten), and said so: nothing that parses as JSON is ever deleted. The rewrite keeps a
backup (a hard link of the old store) until the new store has replaced it. Resuming a sweep
reads the items already present and skips them, so nothing is redone, duplicated or lost. Sweep
items whose only records are 'error' records are not finished: a resumed sweep retries them.

One writer at a time: ``StoreLock`` (a ``filelock`` lock next to the store, released by the
kernel if its holder dies) makes a second ``run`` into the same folder stop at once and say
which process holds it, instead of computing and writing every record twice.
"""

from __future__ import annotations

import datetime as _dt
import errno
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
        """Append several records, all or nothing (all lines of one sweep item land together).

        A short ``os.write`` is continued; a write that fails is cut back to the store's size
        before it and raised (``StoreWriteError`` for a full disk or an I/O error), so a retry
        of the item cannot duplicate the lines that did land.
        """
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
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError as e:
                try:  # one writer (StoreLock): nothing else appended since ``size`` was read
                    os.ftruncate(fd, size)
                    os.fsync(fd)
                    cut = True
                except OSError:
                    cut = False  # a resumed run's ``repair`` sets the partial item aside
                if e.errno in WRITE_ERRNOS:
                    raise StoreWriteError(self.path, len(line), e, state=(
                        "nothing of this item was kept" if cut else
                        "its partial lines are set aside on resume")) from e
                raise
        finally:
            os.close(fd)

    def extend(self, records: Iterable[dict]) -> int:
        records = list(records)
        self.append_many(records)
        return len(records)

    def read(self) -> StoreContents:
        return read_records(self.path)

    def repair(self) -> Repair:
        """Prepare the store for a resumed run: delete only a torn last line; set aside (see the
        module docstring) every other line that is not a record and the records of incomplete
        items, so that the items are redone whole and never duplicated.

        The kept lines are copied byte for byte into a temporary file in the same folder,
        fsync'ed and renamed over the store (``os.replace`` is atomic on POSIX); the set-aside
        lines are appended to the sidecar first, and the old store stays reachable as a backup
        (a hard link, ``<store>.bak``) until the replacement succeeded. A failure leaves the old
        store as it was. Call it only while holding ``StoreLock``.
        """
        rep = Repair(sidecar=self.path.with_name(self.path.name + ".set-aside"))
        if not self.path.is_file():
            return rep
        lines = _lines(self.path)
        recs = {i: rec for i, raw, rec, _ in lines if rec is not None}
        incomplete = _incomplete_items(recs.values())
        keep, aside = [], []
        for i, raw, rec, why in lines:
            if rec is None and why == TORN:
                rep.torn = i
            elif rec is None:
                rep.set_aside.append((i, why))
                aside.append(raw)
            elif rec.get("item_id") in incomplete and rec.get("kind") != "error":
                rep.set_aside.append((i, "a record of an item the store holds only in part "
                                         f"({incomplete[rec['item_id']]}): the item is redone"))
                aside.append(raw)
            else:
                keep.append(raw)
        if rep.torn is None and not aside:
            return rep

        def _nl(b: bytes) -> bytes:
            return b if b.endswith(b"\n") else b + b"\n"

        backup = self.path.with_name(self.path.name + ".bak")
        backup.unlink(missing_ok=True)
        try:
            os.link(self.path, backup)  # no space needed: the old bytes stay under this name
        except OSError:
            import shutil

            shutil.copy2(self.path, backup)
        try:
            if aside:
                _append_synced(rep.sidecar, b"".join(_nl(b) for b in aside))
            _replace_synced(self.path, b"".join(_nl(b) for b in keep))
        except OSError as e:
            if e.errno in WRITE_ERRNOS:
                raise StoreWriteError(self.path, sum(map(len, keep)), e, what="rewriting the store",
                                      state=f"the store is unchanged, its backup {str(backup)!r} "
                                            "is kept") from e
            raise
        backup.unlink()
        return rep

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
        recs = self.read().records
        incomplete = _incomplete_items(recs)
        return {r["item_id"] for r in recs if r.get("item_id") and r.get("kind") != "error"} - set(incomplete)


def _incomplete_items(records) -> dict[str, str]:
    """Items with fewer non-error records than they say they wrote (``item_records``): id -> 'k
    of n records'. Items with only 'error' records are not listed (they are retried, not partial)."""
    count: dict[str, int] = {}
    want: dict[str, int] = {}
    for r in records:
        iid = r.get("item_id")
        if not iid or r.get("kind") == "error":
            continue
        count[iid] = count.get(iid, 0) + 1
        n = r.get("item_records")
        if isinstance(n, int) and not isinstance(n, bool):
            want[iid] = max(want.get(iid, 1), n)
    return {iid: f"{c} of {want[iid]} records" for iid, c in count.items() if c < want.get(iid, 1)}


#: errno values of a store or report that cannot be written for lack of space or a failing
#: device: the CLI stops with one line and its own exit code, not a traceback.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})


#: Room the report needs beside the store: report.md, report.json and up to 7 PNGs (the tiny
#: profile's report measured 0.43 MB on disk; the default's plots are larger).
REPORT_BYTES = 2_000_000


class StoreWriteError(OSError):
    """The store (or the report) could not be written: disk full, quota or I/O error. Its text
    is one line naming the folder, the bytes the write needed and the bytes free there."""

    def __init__(self, path, needed: int, cause: OSError, *, what: str = "appending records",
                 state: str = "nothing of this item was kept", report: bool = False):
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        self.folder, self.needed, self.free = folder, int(needed), free_bytes(folder)
        if report:  # what was written before the disk filled: a lower bound of the report's size
            need = (f"the report needed more than {_size(self.needed)}" if self.needed else
                    "not even its folder could be made")
            advice = f"free at least {_size(REPORT_BYTES)} there, then rerun the same command"
        else:
            need = f"the write needed {_size(self.needed)}"
            advice = (f"free at least {_size(self.needed + REPORT_BYTES)} there (the report takes "
                      f"about {_size(REPORT_BYTES)} more), then rerun the same command to resume")
        msg = (f"cannot write {str(folder)!r} ({what}): {cause.strerror or cause}; "
               f"{_size(self.free)} free, {need} ({state}); {advice}")
        super().__init__(cause.errno, msg)

    def __str__(self) -> str:
        return self.strerror


def free_bytes(folder) -> int:
    """Bytes available to this user on the filesystem of ``folder`` (-1 if unknown)."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return -1
    return st.f_bavail * st.f_frsize


def _size(b: int) -> str:
    if b < 0:
        return "an unknown amount"
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= k:
            return f"{b / k:.3g} {unit}"
    return f"{b} bytes"


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written: a short write (a filling disk) is continued,
    and a write of 0 bytes is the full disk it means."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def _append_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def _replace_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, rename it over ``path`` and
    fsync the folder (the rename survives a power cut only then)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@dataclass
class Repair:
    """What ``ResultsStore.repair`` did: the torn last line it deleted (its number, or None) and
    the lines it moved to ``sidecar`` (number, reason)."""

    sidecar: Path
    torn: int | None = None
    set_aside: list[tuple[int, str]] = field(default_factory=list)

    def text(self, store) -> str:
        """One line for stderr ('' when nothing was changed)."""
        parts = []
        if self.torn is not None:
            parts.append(f"removed the torn last line {self.torn} (a write cut short)")
        if self.set_aside:
            nums = ", ".join(str(i) for i, _ in self.set_aside[:10])
            more = "" if len(self.set_aside) <= 10 else f" and {len(self.set_aside) - 10} more"
            reasons = sorted({w for _, w in self.set_aside})
            parts.append(f"moved {len(self.set_aside)} line(s) it does not read as complete records "
                         f"(line {nums}{more}: {'; '.join(reasons)}) to {self.sidecar}, unchanged")
        return f"resume: {' and '.join(parts)}; {store} rewritten atomically" if parts else ""


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
    for i, _raw, rec, why in _lines(path):
        if rec is None:
            out.corrupt.append((i, why))
        else:
            out.records.append(rec)
    return out


#: The reason ``_lines`` gives a torn last line (the only line ``repair`` deletes).
TORN = "torn last line (a write cut short)"


def _lines(path: Path) -> list[tuple[int, bytes, dict | None, str]]:
    """Every non-blank line of a store: (line number, raw bytes, record or None, reason). A line
    that is not JSON is 'torn' only when it is the last one and lacks its newline: a write cut
    short can leave nothing else (every write ends with a newline and starts on a fresh line)."""
    out = []
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, start=1):
            if raw.strip():
                rec, why = _parse_line(raw)
                out.append((i, raw, rec, why))
    if out and out[-1][2] is None and out[-1][3].startswith("not JSON") and not out[-1][1].endswith(b"\n"):
        out[-1] = (*out[-1][:3], TORN)
    return out


def _parse_line(raw: bytes) -> tuple[dict | None, str]:
    """One store line as a record, or (None, the reason it is not one)."""
    try:
        rec = json.loads(raw.decode("utf-8", errors="replace").strip())
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e.msg})"
    if not isinstance(rec, dict) or not {"kind", "claim", "case_id", "verdict"} <= rec.keys():
        return None, "JSON but not a record (missing one of kind/claim/case_id/verdict)"
    if rec.get("schema", SCHEMA) != SCHEMA:
        return None, f"a record of schema {str(rec.get('schema'))[:20]!r}, this version reads {SCHEMA}"
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
