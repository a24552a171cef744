"""Key domains: every random stream of a case derived from its own domain, in one place
(docs/theory.md section 4, "Independence").

Every bound assumes that the initialization (W0, A, B) is independent of the training sample and
that the test and gap inputs are independent of both. With JAX's partitionable threefry (the
default), ``split(key(s), S)[i]`` does not depend on S and equals ``fold_in(key(s), i)``: deriving
the data from ``split(key(data_seed))`` and the init from ``split(key(init_seed), S)`` therefore
gave seed 0's W0 the very normals of the training tokens whenever ``init_seed == data_seed`` (the
defaults), seed 1's W0 those of the test tokens, and so on (found in review, agreement 1.8e-7).

Here each stream is ``fold_in(key(seed), TAG[domain])`` with a distinct 32-bit tag >= 2^31, so no
split of a seed's key into fewer than 2^31 parts can land on a domain's key, and two domains meet
only by a threefry collision. Inside a domain the consumers split as they always did:

- ``Task.sample(k)``: tokens from ``split(k)[0]``, label noise from ``split(k)[1]``;
- ``TokenDistribution.sample(k)`` (the unlabelled gap inputs): ``k`` itself;
- online SGD (``models.train`` with a key k): ``split(k)[0]`` for the blow-up reference sample,
  step t's example from ``fold_in(split(k)[1], t)``, itself a ``Task.sample`` key;
- ``init_seeds(keys)``: seed i's (W, A, B) from ``split(keys[i], 3)``, keys = ``split(k_init, S)``.

``leaf_keys`` lists every key that one bound case hands to a random draw, under those rules, so a
test can check that all are distinct (``checks/test_keys.py``), and that the rules are the ones
the draws use (the normals drawn from the listed keys are the case's tokens and weights).
"""

from __future__ import annotations

import zlib
from functools import partial
from typing import NamedTuple

import jax
import numpy as np

from ._validation import check_choice, check_int

DOMAINS = ("train", "test", "gap", "sgd", "init")
# crc32 of a namespaced name, top bit set: fixed, distinct, and never a small split index
TAGS = {d: (zlib.crc32(f"rnn-gen-checks/{d}".encode()) | 0x8000_0000) for d in DOMAINS}
assert len(set(TAGS.values())) == len(DOMAINS)
SEED_MAX = 2**32 - 1


class CaseKeys(NamedTuple):
    """The domain keys of one case: data streams from ``data_seed``, the init from ``init_seed``
    (``init`` holds one key per network seed)."""

    train: jax.Array
    test: jax.Array
    gap: jax.Array
    sgd: jax.Array
    init: jax.Array
    sgd_seeds: jax.Array  # ``sgd`` once per network seed: every seed consumes the same stream


def _check_seed(name: str, seed) -> int:
    return check_int(name, seed, low=0, high=SEED_MAX)


@jax.jit
def _domain(seed, tag):
    return jax.random.fold_in(jax.random.key(seed), tag)


def stream_key(seed: int, domain: str) -> jax.Array:
    """``fold_in(key(seed), TAGS[domain])``: the key of one stream (e.g. ``stream_key(s, "train")``
    for a sample that is not part of a bound case)."""
    check_choice("domain", domain, DOMAINS)
    return _domain(np.uint32(_check_seed("seed", seed)), np.uint32(TAGS[domain]))


@partial(jax.jit, static_argnums=2)
def _case_keys(data_seed, init_seed, seeds: int):
    # one compiled program for every key of a case (eagerly: key, fold_in, split: each compiled)
    k = jax.random.key(data_seed)
    data = [jax.random.fold_in(k, TAGS[d]) for d in ("train", "test", "gap", "sgd")]
    k_init = jax.random.fold_in(jax.random.key(init_seed), TAGS["init"])
    return CaseKeys(*data, jax.random.split(k_init, seeds),
                    jax.numpy.stack([data[3]] * seeds))


def case_keys(data_seed: int, init_seed: int, seeds: int) -> CaseKeys:
    """The keys of one bound case (see the module docstring)."""
    seeds = check_int("seeds", seeds, low=1)
    return _case_keys(np.uint32(_check_seed("data_seed", data_seed)),
                      np.uint32(_check_seed("init_seed", init_seed)), seeds)


def leaf_keys(data_seed: int, init_seed: int, seeds: int, *, sgd_steps: int = 0) -> dict:
    """Every key one bound case hands to a random draw, by name -> raw key data (uint32 array).

    The derivation rules are those of the module docstring; ``sgd_steps`` > 0 adds the keys of an
    online-SGD stream of that many steps (tokens and label noise of every step)."""
    k = case_keys(data_seed, init_seed, seeds)
    split = lambda key, num=2: jax.random.split(key, num)  # noqa: E731
    out = {}
    for name in ("train", "test"):
        kx, kn = split(getattr(k, name))
        out[f"{name}/tokens"], out[f"{name}/noise"] = kx, kn
    out["gap/tokens"] = k.gap
    if sgd_steps:
        k0, stream = split(k.sgd)
        kx, kn = split(k0)
        out["sgd/reference/tokens"], out["sgd/reference/noise"] = kx, kn
        for t in range(sgd_steps):
            kx, kn = split(jax.random.fold_in(stream, t))
            out[f"sgd/{t}/tokens"], out[f"sgd/{t}/noise"] = kx, kn
    for i in range(seeds):
        kw, ka, kb = split(k.init[i], 3)
        out[f"init/{i}/W"], out[f"init/{i}/A"], out[f"init/{i}/B"] = kw, ka, kb
    return {name: np.asarray(jax.random.key_data(v)) for name, v in out.items()}
