"""The record format: one JSON-ready dict per evaluated claim of a case.

Every evaluation builds its records with ``make_record``; ``case_id`` is the stable key a store
keeps one record of, and ``_jsonable`` turns numpy / JAX values into plain JSON. The results store
(``runs/_store``) appends these records and reads them back; it does not define them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math

SCHEMA = 1


def _jsonable(x):
    """numpy / jax scalars and arrays to plain JSON; inf/nan as strings (JSON has neither)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):
        return _jsonable(x.tolist())
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f if math.isfinite(f) else str(f)


def case_id(kind: str, config: dict, seed, claim: str = "", variant: str = "") -> str:
    """A stable id of (kind, configuration, seed, claim, variant): the key ``dedupe`` keeps one
    record of. The claim and the variant (e.g. a power check's mutant) are part of it because one
    case writes several records (G2, G1-net and G2-net of a seed share kind, config and seed)."""
    key = {"kind": kind, "config": _jsonable(config), "seed": _jsonable(seed)}
    if claim:
        key["claim"] = claim
    if variant:
        key["variant"] = variant
    blob = json.dumps(key, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def make_record(kind: str, claim: str, config: dict, seed, *, metrics: dict, verdict: str,
                bound: dict | None = None, timings: dict | None = None, repro: str = "",
                note: str = "") -> dict:
    return _jsonable({
        "schema": SCHEMA, "kind": kind, "claim": claim,
        "case_id": case_id(kind, config, seed, claim, "mutant" if metrics.get("mutant") else ""),
        "config": config, "seed": seed, "metrics": metrics, "bound": bound or {},
        "verdict": verdict, "timings": timings or {}, "repro": repro, "note": note,
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })
