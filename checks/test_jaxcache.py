"""The persistent compilation cache (reports.runs._jaxcache): location, opt-out, graceful degradation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from reports.runs import _jaxcache
from reports.runs._jaxcache import CacheDirWarning, cache_dir, enable_compilation_cache

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh(monkeypatch):
    """A fresh decision, without touching this session's JAX configuration."""
    saved = _jaxcache._state
    _jaxcache._reset_for_tests()
    updates = []
    monkeypatch.setattr("jax.config.update", lambda k, v: updates.append((k, v)))
    yield updates
    _jaxcache._state = saved


def test_location_follows_xdg_and_override(tmp_path):
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "rnn-gen-checks" / "jax"
    assert cache_dir({}) == Path.home() / ".cache" / "rnn-gen-checks" / "jax"
    assert cache_dir({"XDG_CACHE_HOME": "relative/dir"}) == Path.home() / ".cache" / "rnn-gen-checks" / "jax"
    assert cache_dir({"RNN_CHECKS_JAX_CACHE": str(tmp_path / "c"), "XDG_CACHE_HOME": "/x"}) == tmp_path / "c"
    for off in ("off", "OFF", "0", "", "none", "false"):
        assert cache_dir({"RNN_CHECKS_JAX_CACHE": off}) is None


def test_enabled_with_every_compilation_cached(fresh, tmp_path):
    path = enable_compilation_cache(environ={"RNN_CHECKS_JAX_CACHE": str(tmp_path / "c")})
    assert path == tmp_path / "c" and path.is_dir() and not list(path.iterdir())  # probe removed
    assert dict(fresh) == {"jax_compilation_cache_dir": str(path),
                           "jax_persistent_cache_min_compile_time_secs": 0.0,
                           "jax_persistent_cache_min_entry_size_bytes": 0}
    # idempotent: a second call changes nothing and returns the same decision
    assert enable_compilation_cache(environ={"RNN_CHECKS_JAX_CACHE": "off"}) == path
    assert len(fresh) == 3


def test_opt_out(fresh):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert enable_compilation_cache(environ={"RNN_CHECKS_JAX_CACHE": "off"}) is None
    assert fresh == []


def _degrades(path: Path, updates: list) -> None:
    with pytest.warns(CacheDirWarning, match="running without a persistent cache") as rec:
        assert enable_compilation_cache(environ={"RNN_CHECKS_JAX_CACHE": str(path)}) is None
    assert len(rec) == 1 and updates == []
    with warnings.catch_warnings():  # the decision is made once: no second warning
        warnings.simplefilter("error")
        assert enable_compilation_cache(environ={"RNN_CHECKS_JAX_CACHE": str(path)}) is None


def test_a_file_where_the_directory_should_be(fresh, tmp_path):
    (tmp_path / "jax").write_text("not a directory")
    _degrades(tmp_path / "jax", fresh)
    _jaxcache._reset_for_tests()
    _degrades(tmp_path / "jax" / "below", fresh)  # a file in the way of a parent


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root ignores file permissions")
def test_unwritable_directory(fresh, tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0)
    try:
        _degrades(d, fresh)
    finally:
        d.chmod(0o700)


def test_unwritable_directory_as_seen_by_the_probe(fresh, tmp_path, monkeypatch):
    """The same path as chmod 000 for a non-root user (root ignores permissions)."""
    def denied(self, data):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", denied)
    _degrades(tmp_path / "c", fresh)


def test_a_subprocess_writes_then_hits_the_cache(tmp_path):
    """End to end in fresh interpreters: the first run writes one entry per compiled program
    (even sub-second ones), the second run compiles nothing (all hits)."""
    code = ("import json, jax, jax.numpy as jnp\n"
            "from reports.runs._jaxcache import enable_compilation_cache\n"
            "enable_compilation_cache()\n"
            "n = {'hit': 0, 'miss': 0}\n"
            "def on(e, **kw):\n"
            "    n['hit'] += e == '/jax/compilation_cache/cache_hits'\n"
            "    n['miss'] += e == '/jax/compilation_cache/cache_misses'\n"
            "jax.monitoring.register_event_listener(on)\n"
            "jax.jit(lambda x: jnp.sin(x) * 2)(jnp.ones(3)).block_until_ready()\n"
            "print(json.dumps(n))\n")
    env = {**os.environ, "RNN_CHECKS_JAX_CACHE": str(tmp_path / "c"), "PYTHONPATH": str(ROOT)}
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                                      capture_output=True, text=True, timeout=120).stdout)
            for _ in range(2)]
    assert runs[0]["miss"] >= 1 and runs[0]["hit"] == 0
    assert runs[1]["hit"] == runs[0]["miss"] and runs[1]["miss"] == 0
    assert list((tmp_path / "c").iterdir())


def test_ray_workers_get_the_drivers_choice(monkeypatch):
    """Ray workers turn the cache on in their setup hook, in the driver's directory (or off) when
    the driver chose one, else in their node's default."""
    from reports.runs._ray import worker_env

    monkeypatch.setenv("RNN_CHECKS_JAX_CACHE", "/some/shared/dir")
    assert worker_env(1, 0)["RNN_CHECKS_JAX_CACHE"] == "/some/shared/dir"
    monkeypatch.setenv("RNN_CHECKS_JAX_CACHE", "off")
    assert worker_env(1, 0)["RNN_CHECKS_JAX_CACHE"] == "off"
    monkeypatch.delenv("RNN_CHECKS_JAX_CACHE")
    assert "RNN_CHECKS_JAX_CACHE" not in worker_env(1, 0)
