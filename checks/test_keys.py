"""Key domains (docs/theory.md section 4, "Independence"; models/_keys.py).

Every bound assumes the initialization is independent of the training sample and the test and gap
inputs independent of both. These exact checks enumerate every key one bound case hands to a random
draw and assert that no two coincide, for seed triples that include equal data and init seeds (the
defaults, and the case that made W0 equal to the training tokens before the domains existed); that
the enumeration follows the draws the case really makes; and that the normals of W0 and of the
tokens differ.
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import models as M
from checks.strategies import seeds
from reports.cases._evaluate import BoundCase


def _distinct(leaves: dict) -> list[tuple[str, str]]:
    seen: dict[bytes, str] = {}
    clashes = []
    for name, data in leaves.items():
        b = np.asarray(data).tobytes()
        if b in seen:
            clashes.append((seen[b], name))
        seen[b] = name
    return clashes


@pytest.mark.fast
@given(data_seed=seeds(), init_seed=seeds(), S=st.sampled_from((1, 2, 4)), eq=st.booleans())
@settings(max_examples=12)
@example(data_seed=0, init_seed=0, S=4, eq=True)  # the BoundCase defaults: the old collision
@example(data_seed=1, init_seed=0, S=2, eq=False)  # seed 1's init met data seed 1's streams
def test_every_leaf_key_of_a_case_is_distinct(data_seed, init_seed, S, eq):
    init_seed = data_seed if eq else init_seed
    leaves = M.leaf_keys(data_seed, init_seed, S, sgd_steps=5)
    assert len(leaves) == 2 + 2 + 1 + 2 + 2 * 5 + 3 * S
    assert _distinct(leaves) == []


@pytest.mark.fast
def test_leaf_keys_across_cases_of_one_sweep_are_distinct():
    # Cases of a sweep differ by data and init seeds; none of their streams may be reused by
    # another case's other stream (a data seed 1 case's train tokens are not a seed-0 case's init).
    leaves = {}
    for d, i in itertools.product((0, 1, 2), repeat=2):
        leaves.update({f"({d},{i}):{k}": v for k, v in M.leaf_keys(d, i, 3, sgd_steps=2).items()})
    clashes = [(a, b) for a, b in _distinct(leaves)
               # the same seed gives the same stream of the same domain in another case: by design
               if a.split(":")[1].split("/")[0] != b.split(":")[1].split("/")[0]]
    assert clashes == []


@pytest.mark.fast
def test_the_enumeration_follows_the_draws():
    """The listed leaf keys are the ones the case's draws use: the tokens of the training and test
    samples and the gap inputs are the normals of their listed keys, scaled, and each seed's W0, A
    and B the normals of theirs; so the distinctness above is about the real streams."""
    case = BoundCase(L=3, n=8, n_test=8, n_gap=8, d=2, m=8, seeds=2, data_seed=5, init_seed=5)
    task, S = case.task(), case.seeds
    keys = M.case_keys(case.data_seed, case.init_seed, S)
    leaves = M.leaf_keys(case.data_seed, case.init_seed, S)
    wrap = jax.random.wrap_key_data
    r = task.tokens.scale / np.sqrt(case.d)

    def normals(name, shape):
        return np.asarray(jax.random.normal(wrap(leaves[name]), shape))

    for name, k, n in (("train", keys.train, case.n), ("test", keys.test, case.n_test)):
        X, _ = task.sample(k, n)
        np.testing.assert_allclose(np.asarray(X), normals(f"{name}/tokens", X.shape) * r, rtol=1e-6)
    Xg = task.tokens.sample(keys.gap, case.gap_inputs)
    np.testing.assert_allclose(np.asarray(Xg), normals("gap/tokens", Xg.shape) * r, rtol=1e-6)
    P = M.init_seeds(keys.init, M.RNNConfig(case.d, case.m))
    for s in range(S):
        np.testing.assert_allclose(np.asarray(P.W[s]), normals(f"init/{s}/W", P.W.shape[1:])
                                   * np.sqrt(2 / case.m), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(P.A[s]), normals(f"init/{s}/A", P.A.shape[1:])
                                   * np.sqrt(2 / case.m), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(P.B[s]), normals(f"init/{s}/B", P.B.shape[1:]), rtol=1e-6)


@pytest.mark.fast
def test_sgd_stream_enumeration_follows_the_draws():
    task = BoundCase(L=3, d=2, method="sgd").task()
    k = M.case_keys(0, 0, 1)
    leaves = M.leaf_keys(0, 0, 1, sgd_steps=3)
    X, _ = M.sgd_samples(task, k.sgd, 3)
    r = task.tokens.scale / np.sqrt(2)
    for t in range(3):
        Z = np.asarray(jax.random.normal(jax.random.wrap_key_data(leaves[f"sgd/{t}/tokens"]), (1, 3, 2)))
        np.testing.assert_allclose(np.asarray(X[t]), Z[0] * r, rtol=1e-6)


@pytest.mark.fast
def test_w0_and_the_tokens_are_not_the_same_normals():
    """The collision itself, at equal seeds: before the key domains, W0's first numbers were the
    training tokens' normals (times a constant). Compared as normals, with no tolerance games: the
    correlation of the flattened draws must look like that of independent draws."""
    case = BoundCase(L=4, n=64, d=4, m=16, seeds=3, data_seed=0, init_seed=0)
    keys = M.case_keys(0, 0, 3)
    X, _ = case.task().sample(keys.train, case.n)
    Xte, _ = case.task().sample(keys.test, case.n)
    P = M.init_seeds(keys.init, M.RNNConfig(case.d, case.m))
    for s in range(3):
        w = np.asarray(P.W[s]).ravel()
        for Z in (X, Xte):
            z = np.asarray(Z).ravel()[: w.size]
            rho = np.corrcoef(w, z)[0, 1]
            # independent: rho ~ N(0, 1/256); 6 sd is a 1e-9 false alarm, while equal streams give 1
            assert abs(rho) < 6 / np.sqrt(w.size), (s, rho)


@pytest.mark.fast
@pytest.mark.parametrize("method", ["gd", "sgd"])
def test_the_evaluation_draws_each_stream_from_its_domain(method, monkeypatch):
    """The bound case's own draws, spied on: the training sample (or SGD's stream), the test sample,
    the gap inputs and the init come from the keys of their domains, by name. (The wiring check
    recomputes the gap term within float32 tolerances, which an independent gap sample of the same
    law can sit inside; this is exact.)"""
    from reports.cases._evaluate import evaluate_bound_case

    seen = []

    def spy(name, fn):
        def wrapped(self, key, *a, **k):
            if not isinstance(key, jax.core.Tracer):  # SGD's per-step draws inside its scan
                seen.append((name, np.asarray(jax.random.key_data(key)).tobytes()))
            return fn(self, key, *a, **k)
        return wrapped

    monkeypatch.setattr(M.Task, "sample", spy("task", M.Task.sample))
    monkeypatch.setattr(M.TokenDistribution, "sample", spy("tokens", M.TokenDistribution.sample))
    def spy_fn(name, fn):
        def wrapped(key, *a, **k):
            seen.append((name, np.asarray(jax.random.key_data(key)).tobytes()))
            return fn(key, *a, **k)
        return wrapped

    real_sgd = M.sgd_samples
    monkeypatch.setattr(M, "sgd_samples", lambda task, key, *a, **k: spy_fn(
        "sgd", lambda kk: real_sgd(task, kk, *a, **k))(key))
    monkeypatch.setattr(M, "init_seeds", spy_fn("init", M.init_seeds))
    case = BoundCase(L=2, d=2, m=8, n=8, n_test=8, n_gap=8, steps=2, seeds=2, method=method,
                     data_seed=3, init_seed=3)
    evaluate_bound_case(case, predicted=False)
    k = M.case_keys(3, 3, 2)
    b = lambda key: np.asarray(jax.random.key_data(key)).tobytes()  # noqa: E731
    assert ("task", b(k.test)) in seen and ("tokens", b(k.gap)) in seen and ("init", b(k.init)) in seen
    if method == "gd":
        assert ("task", b(k.train)) in seen
    else:
        assert ("sgd", b(k.sgd)) in seen
    # nothing else is drawn from: every host-side draw used one of the case's domain keys
    assert {key for _, key in seen} <= {b(k.train), b(k.test), b(k.gap), b(k.sgd), b(k.init)}
