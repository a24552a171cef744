"""JAX's persistent compilation cache, on by default for the CLI, the checks and Ray workers.

Nearly all of a cold small run is XLA compilation (issue 12: 39 of 40 s of the tiny profile), and
JAX caches on disk only compilations slower than ``jax_persistent_cache_min_compile_time_secs``
(1 s by default), so most of this suite's many small programs were recompiled on every run. Here
every compilation is cached (minimum compile time 0, minimum entry size 0).

Location (``cache_dir``):
- ``RNN_CHECKS_JAX_CACHE=<dir>``: that directory;
- ``RNN_CHECKS_JAX_CACHE=off`` (or ``0``, ``false``, ``no``, ``none``, or empty): no persistent cache;
- unset: ``$XDG_CACHE_HOME/rnn-gen-checks/jax``, ``~/.cache/rnn-gen-checks/jax`` without
  XDG_CACHE_HOME (the XDG base-directory convention).

A directory that cannot be created or written (permissions, a file in its place, a read-only
file system) degrades to no persistent cache with one warning: a cache is an optimisation, never
a reason to fail. Unreadable entries inside a writable cache are JAX's to handle: it warns and
recompiles that program.
"""

from __future__ import annotations

import os
import sys
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path

ENV = "RNN_CHECKS_JAX_CACHE"
_OFF = frozenset({"", "0", "off", "false", "no", "none"})

# the process's outcome: None before the first call, then the directory in use or "" (no cache)
_state: str | None = None


class CacheDirWarning(UserWarning):
    """The persistent compilation cache directory is unusable; running without it."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache directory the environment asks for, or None when the cache is switched off."""
    env = os.environ if environ is None else environ
    if ENV in env:
        value = env[ENV].strip()
        return None if value.lower() in _OFF else Path(value).expanduser()
    base = env.get("XDG_CACHE_HOME", "").strip()
    # XDG: a relative XDG_CACHE_HOME is invalid and must be ignored
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "rnn-gen-checks" / "jax"


def _check_writable(path: Path) -> None:
    """Create ``path`` and round-trip a probe file through it; raise OSError if that fails."""
    path.mkdir(parents=True, exist_ok=True)
    probe = path / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"ok")
        if probe.read_bytes() != b"ok":
            raise OSError(f"cannot read back a file written to {path}")
    finally:
        probe.unlink(missing_ok=True)


def enable_compilation_cache(*, announce: bool = False,
                             environ: Mapping[str, str] | None = None) -> Path | None:
    """Switch JAX's persistent compilation cache on (see the module docstring); idempotent.

    Call it before the first compilation. Returns the directory in use, or None (switched off,
    or the directory was unusable: then one ``CacheDirWarning``). ``announce`` prints the location
    once per process on stderr (the CLI does; the checks and Ray workers stay quiet)."""
    global _state
    if _state is not None:
        return Path(_state) if _state else None
    import jax

    path = cache_dir(environ)
    if path is not None:
        try:
            _check_writable(path)
        except OSError as e:
            warnings.warn(f"JAX compilation cache directory {str(path)!r} is unusable "
                          f"({type(e).__name__}: {e.strerror or e}); running without a persistent "
                          f"cache (set {ENV}=<dir> to choose another, {ENV}=off to silence this)",
                          CacheDirWarning, stacklevel=2)
            path = None
    if path is None:
        _state = ""
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:  # not in every jax version: small programs are below its default in some
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (AttributeError, KeyError):  # pragma: no cover - depends on the jax version
        pass
    _state = str(path)
    if announce:
        print(f"JAX compilation cache: {path} ({ENV}=off disables it)", file=sys.stderr)
    return path


def _reset_for_tests() -> None:
    """Forget this process's decision (tests only; JAX's own cache state is not touched)."""
    global _state
    _state = None
