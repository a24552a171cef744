"""Shape bucketing is exact: padded computations give the unpadded numbers.

- Sampling (``models._data.sample_bucket``): a sample of n is drawn at a power-of-four bucket of
  normals and cut; with JAX's partitionable threefry the first k random numbers of a longer draw
  are the shorter draw, so the tokens are bitwise those of the direct draw, and targets and label
  noise (row-wise functions, evaluated on a bucket of rows) agree to float32 rounding: XLA may
  vectorize a reduction differently for another row count.
- Length (``models.pad_front``): zero tokens before a sequence leave h_L, f, grad_W f, the
  empirical NTK, the analytic kernel H and a whole GD run unchanged (h_0 = 0, relu(0) = 0, and
  k0 = k1 = 0 on a zero prefix), in both parametrizations (u = f - f0 is a difference of two such
  f).
- Init (``models.init_params`` / ``init_seeds``): W, A, B drawn flat at a sampling bucket and
  cut, by the same prefix property: bitwise the definition's draw at every width.
- Width: hidden units with zero rows in W and A and zero B contribute nothing and stay zero
  under W-only training (relu'(0) = 0 in JAX), so a width-m network embeds in a wider one.
Each property has a power check: a padding that is not exact (zeros at the end of the sequence)
is caught by the same comparison.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import models as M
import theory as T
from checks._tolerance import between, init_w_norm, network_rtol, ntk_rtol, run_rtol, training_rtol
from checks.strategies import seeds

pytestmark = pytest.mark.fast
D, M_W, N = 3, 16, 8
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module", autouse=True)
def _partitionable():
    assert jax.config.jax_threefry_partitionable, "sampling buckets rely on partitionable threefry"


def _targets(L):
    return [M.AdditiveTarget.make(L, D, "sin"), M.NVariableTarget.make(L, D, (1, L), "cos"),
            M.ParityTarget.make(L, D), M.RandomLabelTarget.make(L, D)]


@given(n=st.sampled_from((1, 17, 171, 300)), L=st.sampled_from((2, 5)), seed=seeds(),
       noise=st.sampled_from((0.0, 0.25)), scale=st.sampled_from((0.1, 1.0, 10.0)))
@example(n=2731, L=2, seed=0, noise=0.25, scale=1.0)  # k = n L d = 16386: just past a bucket edge
@example(n=10923, L=2, seed=1, noise=0.25, scale=1.0)  # k = 65538: just past the next one
@settings(max_examples=6)
def test_bucketed_sampling_is_the_direct_draw(n, L, seed, noise, scale):
    key = jax.random.key(seed)
    for tgt in _targets(L):
        task = M.Task(M.TokenDistribution(L, D, scale), tgt, noise)
        X, y = task.sample(key, n)
        X0, y0 = task._draw(key, n, jnp.float32)  # the definition, at the exact shape
        assert np.array_equal(np.asarray(X), np.asarray(X0)), type(tgt).__name__
        # the target is the same function of the same X, but XLA may vectorize its reductions
        # differently for another row count: equal to float32 rounding
        np.testing.assert_allclose(np.asarray(y), np.asarray(y0), rtol=0,
                                   atol=8 * EPS32 * (1 + float(np.max(np.abs(np.asarray(y0))))),
                                   err_msg=type(tgt).__name__)
    Z = M.TokenDistribution(L, D, scale, "sphere")
    np.testing.assert_allclose(np.asarray(Z.sample(key, n)), np.asarray(Z._draw(key, n, jnp.float32)),
                               rtol=4 * EPS32, atol=0)  # the norm's rounding


@given(L=st.sampled_from((2, 3, 5)), seed=seeds())
@settings(max_examples=4)
def test_a_target_on_its_gathered_positions_is_the_target(L, seed):
    """Task.sample evaluates a positional target on the tokens at its positions, as a target of
    positions 1..P (models._data._target_view): bitwise the target on the whole sequence."""
    from models._data import _eval_target, _target_view

    X = np.asarray(M.TokenDistribution(L, D).sample(jax.random.key(seed), 64))
    targets = [*_targets(L), M.AdditiveTarget.make(L, D, "cos", positions=(L,), seed=seed),
               M.NVariableTarget.make(L, D, (L - 1, L), "sin", input_scale=2.0, seed=seed),
               M.ParityTarget.make(L, D, (1, L), seed=seed)]
    for tgt in targets:
        view, Xv = _target_view(tgt, X)
        assert np.array_equal(np.asarray(_eval_target(view, jax.device_put(Xv))),
                              np.asarray(_eval_target(tgt, jax.device_put(X)))), tgt
    # power: a view fed the wrong token (the first instead of the target's last) is caught
    tgt = M.AdditiveTarget.make(L, D, "sin", positions=(L,))
    view, _ = _target_view(tgt, X)
    assert not np.array_equal(np.asarray(_eval_target(view, jax.device_put(X[:, :1]))),
                              np.asarray(_eval_target(tgt, jax.device_put(X))))


def test_bucketing_without_the_prefix_property_is_caught():
    """Power: a draw at the bucket's shape (n_b, L, d) rather than flat is not the direct draw."""
    tok = M.TokenDistribution(3, D)
    key = jax.random.key(0)
    wrong = np.asarray(tok._draw(key, 16, jnp.float32))[:10]  # cut along rows of another shape
    assert np.array_equal(wrong, np.asarray(tok._draw(key, 10, jnp.float32)))  # rows: fine
    wrong = np.asarray(jax.random.normal(key, (10, 4, D)))[:, :3] * (1 / np.sqrt(D))
    assert not np.array_equal(wrong.astype(np.float32), np.asarray(tok.sample(key, 10)))


@given(m=st.sampled_from((1, 16, 128, 129)), d=st.sampled_from((1, 3)), seed=seeds(),
       par=st.sampled_from(("lazy", "contrast")), S=st.sampled_from((1, 3)))
@example(m=128, d=3, seed=0, par="lazy", S=3)  # m*m = 2^14: exactly the first bucket
@settings(max_examples=6)
def test_bucketed_init_is_the_definition(m, d, seed, par, S):
    """init_params / init_seeds draw flat at sample_bucket sizes and scale in NumPy: bitwise the
    definition (split, three normals at their shapes, scaled), evaluated eagerly, per key."""
    from models._rnn import _init_definition

    cfg = M.RNNConfig(d, m, parametrization=par)
    keys = jax.random.split(jax.random.key(seed), S)
    stacked = M.init_seeds(keys, cfg)
    for s in range(S):
        ref = _init_definition(keys[s], cfg)
        for name, a, b, c in zip(M.Params._fields, stacked, M.init_params(keys[s], cfg), ref):
            assert a.shape[1:] == c.shape and a.dtype == c.dtype, name
            assert np.array_equal(np.asarray(a[s]), np.asarray(c)), (name, s)
            assert np.array_equal(np.asarray(b), np.asarray(c)), (name, s)


def test_bucketed_init_in_float64_and_from_a_legacy_key():
    from models._rnn import _init_definition

    with jax.enable_x64(True):
        for dt in ("float32", "float64"):
            cfg = M.RNNConfig(D, M_W, dt)
            for a, b in zip(M.init_params(jax.random.key(5), cfg), _init_definition(jax.random.key(5), cfg)):
                assert a.dtype == b.dtype and np.array_equal(np.asarray(a), np.asarray(b)), dt
    cfg = M.RNNConfig(D, M_W)
    for a, b in zip(M.init_params(jax.random.PRNGKey(5), cfg), _init_definition(jax.random.PRNGKey(5), cfg)):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_init_cut_from_a_wider_square_is_caught():
    """Power: the bucketed init must cut the flat draw, not a wider (m_b, m_b) square."""
    cfg = M.RNNConfig(D, M_W)
    kw = jax.random.split(jax.random.key(3), 3)[0]
    wrong = np.asarray(jax.random.normal(kw, (2 * M_W, 2 * M_W)))[:M_W, :M_W] * np.sqrt(np.float32(2 / M_W))
    assert not np.array_equal(wrong, np.asarray(M.init_params(jax.random.key(3), cfg).W))


@given(data_seed=seeds(), init_seed=seeds(), S=st.sampled_from((1, 3)))
@settings(max_examples=4)
def test_jitted_key_helpers_are_the_eager_keys(data_seed, init_seed, S):
    """The evaluation's keys come from one compiled program each (models.split_keys,
    models.case_keys and stream_key) instead of several eager ops: the same keys as the eager
    definition of docs/theory.md section 4 ("Independence")."""
    from models._keys import TAGS

    def same(a, b):
        return np.array_equal(np.asarray(jax.random.key_data(a)), np.asarray(jax.random.key_data(b)))

    dom = {d: jax.random.fold_in(jax.random.key(data_seed), TAGS[d]) for d in ("train", "test", "gap", "sgd")}
    init = jax.random.split(jax.random.fold_in(jax.random.key(init_seed), TAGS["init"]), S)
    ref = (dom["train"], dom["test"], dom["gap"], dom["sgd"], init, jax.numpy.stack([dom["sgd"]] * S))
    assert all(same(a, b) for a, b in zip(M.case_keys(data_seed, init_seed, S), ref, strict=True))
    assert same(M.stream_key(data_seed, "train"), dom["train"])
    k_tr = dom["train"]
    for num in (2, 3):
        pairs = zip(M.split_keys(k_tr, num), jax.random.split(k_tr, num), strict=True)
        assert all(same(a, b) for a, b in pairs)


# ---- length: zero tokens in front ------------------------------------------------------------

def _problem(seed, L, parametrization="lazy"):
    cfg = M.RNNConfig(D, M_W, parametrization=parametrization)
    p = M.init_params(jax.random.key(seed), cfg)
    task = M.Task(M.TokenDistribution(L, D), M.AdditiveTarget.make(L, D, "sin"))
    X, y = task.sample(jax.random.key(seed + 1), N)
    return p, X, y


def _grad(p, X, centred):
    W0 = p.W + 0.01  # a W away from init, so the centred predictor is not identically 0
    return jax.grad(lambda W: jnp.sum(M.centred_apply(W, W0, p.A, p.B, X, centred) ** 2))(p.W)


def _close(a, b, rtol):
    """Normwise: max |a - b| <= rtol max |b| (the tolerances are checks/_tolerance.py's, derived
    per quantity: zero padding changes the programs' shapes, so their summation order)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b))) <= rtol * max(1e-30, float(np.max(np.abs(b))))


def _tols(m, L):
    """(f, grad_W f, NTK) tolerances of two evaluations at width m and length L (the longer)."""
    return (between(network_rtol(m, D, L)), between(network_rtol(m, D, L, passes=2)),
            ntk_rtol(m, D, L))


@given(pad=st.sampled_from((1, 3)), seed=seeds(), par=st.sampled_from(("lazy", "contrast")))
@example(pad=1, seed=0, par="lazy")
@example(pad=3, seed=1, par="contrast")
@settings(max_examples=4)
def test_front_padding_leaves_f_grad_kernels_and_gd_unchanged(pad, seed, par):
    L = 2
    p, X, y = _problem(seed, L, par)
    Xp = M.pad_front(X, L + pad)
    assert Xp.shape == (N, L + pad, D) and np.array_equal(np.asarray(Xp[:, pad:]), np.asarray(X))
    centred = M.RNNConfig(D, M_W, parametrization=par).param.centred
    tol_f, tol_g, tol_k = _tols(M_W, L + pad)
    assert _close(M.apply(p, Xp), M.apply(p, X), tol_f)
    assert _close(_grad(p, Xp, centred), _grad(p, X, centred), tol_g)
    assert _close(M.empirical_ntk(p, Xp), M.empirical_ntk(p, X), tol_k)
    X64, Xp64 = np.asarray(X, np.float64), np.asarray(Xp, np.float64)
    np.testing.assert_allclose(T.ntk_gram(Xp64), T.ntk_gram(X64), rtol=1e-12, atol=0)
    ps = jax.tree.map(lambda a: a[None], p)
    cfg = M.TrainConfig("gd", 0.02, 15, centred=centred)
    r0 = M.train_seeds(ps, cfg, X, y, X_test=X, y_test=y)
    r1 = M.train_seeds(ps, cfg, Xp, y, X_test=Xp, y_test=y)
    tol = training_rtol(M_W, D, L + pad, cfg.steps, p.W, r0.W[0])
    for f in ("W", "loss", "movement", "train_risk", "test_risk"):
        assert _close(getattr(r1, f), getattr(r0, f), tol), (f, tol)


def test_back_padding_is_caught():
    """Power: zeros after the sequence change h_L (W h_L is fed through again): not exact."""
    p, X, _ = _problem(0, 3)
    Xb = jnp.concatenate([X, jnp.zeros((N, 1, D), X.dtype)], axis=1)
    assert not _close(M.apply(p, Xb), M.apply(p, X), _tols(M_W, 4)[0])


def test_pad_front_rejects_shorter_lengths():
    with pytest.raises(ValueError, match="L"):
        M.pad_front(np.zeros((2, 4, D), np.float32), 3)


# ---- width: dead hidden units ------------------------------------------------------------------

def _widen(p, extra):
    m = p.W.shape[0]
    W = jnp.zeros((m + extra, m + extra), p.W.dtype).at[:m, :m].set(p.W)
    A = jnp.zeros((m + extra, p.A.shape[1]), p.A.dtype).at[:m].set(p.A)
    B = jnp.zeros((m + extra,), p.B.dtype).at[:m].set(p.B)
    return M.Params(W, A, B)


@given(seed=seeds(), extra=st.sampled_from((1, 16)))
@settings(max_examples=4)
def test_zero_hidden_units_change_nothing_and_stay_zero(seed, extra):
    p, X, y = _problem(seed, 3)
    q = _widen(p, extra)
    m = p.W.shape[0]
    tol_f, _, tol_k = _tols(m + extra, 3)
    assert _close(M.apply(q, X), M.apply(p, X), tol_f)
    assert _close(M.empirical_ntk(q, X), M.empirical_ntk(p, X), tol_k)
    cfg = M.TrainConfig("gd", 0.02, 10)
    r_p = M.train(p, cfg, X, y, X_test=X, y_test=y)
    r_q = M.train(q, cfg, X, y, X_test=X, y_test=y)
    assert _close(r_q.W[:m, :m], r_p.W, training_rtol(m + extra, D, 3, cfg.steps, p.W, r_p.W))
    assert not np.any(np.asarray(r_q.W[m:])) and not np.any(np.asarray(r_q.W[:, m:]))


def test_bound_case_at_a_bucketed_length_gives_the_same_records(monkeypatch):
    """evaluate_bound_case runs GD's network programs at models.length_bucket(L); every number it
    records equals the unpadded evaluation's to float tolerance."""
    from reports.cases._evaluate import BoundCase, evaluate_bound_case

    case = BoundCase(L=3, d=D, m=M_W, n=20, n_test=40, steps=5, seeds=1)
    assert M.length_bucket(3) == 4
    padded = evaluate_bound_case(case)
    monkeypatch.setattr(M, "length_bucket", lambda L: L)
    plain = evaluate_bound_case(case)
    assert [r["claim"] for r in padded] == [r["claim"] for r in plain]
    for a, b in zip(padded, plain):
        assert a["verdict"] == b["verdict"]
        for part in ("bound", "metrics"):
            for k, v in b[part].items():
                if isinstance(v, float) and np.isfinite(v):
                    assert a[part][k] == pytest.approx(v, rel=1e-3, abs=1e-6), (a["claim"], part, k)


@given(seed=seeds(), extra=st.sampled_from((1, 16)), S=st.sampled_from((1, 2)))
@settings(max_examples=3)
def test_pad_width_is_zero_hidden_units(seed, extra, S):
    """models.pad_width (one seed or a seed axis) is the widening above, entry for entry."""
    keys = jax.random.split(jax.random.key(seed), S)
    ps = M.init_seeds(keys, M.RNNConfig(D, M_W))
    wide = M.pad_width(ps, M_W + extra)
    for s in range(S):
        ref = _widen(M.init_params(keys[s], M.RNNConfig(D, M_W)), extra)
        for a, b in zip(wide, ref):
            assert np.array_equal(np.asarray(a[s]), np.asarray(b))
    assert M.pad_width(ps, M_W) is ps
    with pytest.raises(ValueError, match="m"):
        M.pad_width(ps, M_W - 1)


def test_live_padding_units_are_caught():
    """Power: units padded with nonzero A and B rows are not dead: the NTK changes."""
    p, X, _ = _problem(0, 3)
    q = M.pad_width(p, M_W + 4)
    live = M.Params(q.W, q.A.at[M_W:].set(1.0), q.B.at[M_W:].set(1.0))
    tol = _tols(M_W + 4, 3)[2]
    assert _close(M.empirical_ntk(q, X), M.empirical_ntk(p, X), tol)
    assert not _close(M.empirical_ntk(live, X), M.empirical_ntk(p, X), tol)


@pytest.mark.parametrize("par", ["lazy", "contrast"])
def test_training_facts_at_a_shared_width_give_the_same_runs(monkeypatch, par):
    """training_facts_runs runs every width of a small design at its largest width (zero hidden
    units); every number equals the runs at each width's own size to float tolerance."""
    from reports.cases import _training_facts as E

    design = E.TrainingFactsDesign(widths=(4, 16, 64), seeds=3, n=6, n_test=12, L=3, d=2,
                                   steps=8, parametrization=par)
    assert all(E.training_facts_width(design, m) == 64 for m in design.widths)
    shared = E.training_facts_runs(design)
    monkeypatch.setattr(E, "training_facts_width", lambda design, m: m)
    own = E.training_facts_runs(design)
    w = max(design.widths)
    for m in design.widths:
        # tolerances (checks/_tolerance.py, item 3) of the run at the shared width w, with the
        # smallest movement of the seeds (the largest kappa) and W_0's norm bounded from m
        move = float(np.min(np.asarray(own[m]["movement"])[:, -1]))
        tol = run_rtol(w, design.d, design.L, design.steps, init_w_norm(m), move)
        for k, v in own[m].items():
            a, b = np.asarray(shared[m][k], np.float64), np.asarray(v, np.float64)
            if k == "diverged":
                assert shared[m][k] == v
            elif k in ("gap", "drift"):
                # ||net - lin|| / ||lin||, ||K_T - K_0|| / ||K_0||: each side of the difference
                # carries <= tol (drift: the NTK's own ntk_rtol besides) of the norm it is divided by
                atol = 2 * (tol + (ntk_rtol(w, design.d, design.L) if k == "drift" else 0.0))
                np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=f"{par} m={m} {k}")
            elif k == "loss":
                # |dPhi| <= ||r|| ||du|| <= ||r_0|| tol (||r_0|| + ||r||) <= 4 tol Phi_0 (GD does not
                # grow the residual at eta <= 1/lambda_max)
                np.testing.assert_allclose(a, b, rtol=0, atol=4 * tol * float(np.max(b[:, 0])),
                                           err_msg=f"{par} m={m} {k}")
            else:  # K0, eta, r0, movement: normwise relative
                assert _close(a, b, tol), f"{par} m={m} {k}"


def test_kernel_mc_at_a_shared_width_gives_the_same_records(monkeypatch):
    """kernel_mc_records computes every width's empirical NTK at the largest width (zero hidden
    units): the relative errors equal the per-width ones to float tolerance."""
    from reports.cases import _kernel_mc as E

    design = E.MCDesign(widths=(8, 32), n=3, L=3, seeds=2)
    assert E.kernel_mc_width(design, 8) == 32
    shared, fit_s = E.kernel_mc_records(design)
    monkeypatch.setattr(E, "kernel_mc_width", lambda design, m: m)
    own, fit_o = E.kernel_mc_records(design)
    # rel_err = ||K_m / c - H||_F / ||H||_F: K_m's entries carry ntk_rtol max|K_m| at the shared
    # width, so its Frobenius error is <= n ntk_rtol ||K_m||_F <= n ntk_rtol (1 + rel_err) ||H||_F;
    # H is float64 and the same on both sides
    tol = design.n * ntk_rtol(max(design.widths), design.d, design.L)
    worst = 0.0  # the largest error of log(rel_err), which the fitted rate is a slope of
    for a, b in zip(shared, own, strict=True):
        if "rel_err" in b["metrics"]:
            e = b["metrics"]["rel_err"]
            assert abs(a["metrics"]["rel_err"] - e) <= tol * (1 + e), (a["metrics"], e)
            worst = max(worst, tol * (1 + e) / e)
    # the rate is the least-squares slope of log(mean rel_err) on log m over two widths: an error
    # eps in each log moves it by <= 2 eps / |log m_2 - log m_1|
    span = math.log(max(design.widths) / min(design.widths))
    assert abs(fit_s["fitted_rate"] - fit_o["fitted_rate"]) <= 2 * worst / span


def test_shared_widths_keep_large_designs_at_their_own_widths():
    from reports.cases import _kernel_mc as KM
    from reports.cases import _training_facts as TF

    design = TF.TrainingFactsDesign()  # the default profile's: 64, 256, 1024
    assert [TF.training_facts_width(design, m) for m in design.widths] == list(design.widths)
    for mc in (KM.MCDesign(widths=(256, 1024, 4096), n=6, L=5, seeds=4),  # the default profile's
               KM.MCDesign(widths=(256, 1024, 4096, 8192), n=6, L=5, seeds=6)):  # the thorough one's
        assert [KM.kernel_mc_width(mc, m) for m in mc.widths] == list(mc.widths)
    tiny = KM.MCDesign(widths=(64, 1024), n=4, L=3, seeds=2)  # the tiny profile's: shared
    assert [KM.kernel_mc_width(tiny, m) for m in tiny.widths] == [1024, 1024]
    facts = TF.TrainingFactsDesign(widths=(16, 64, 256), steps=60, n=16, n_test=64)
    assert [TF.training_facts_width(facts, m) for m in facts.widths] == [256, 256, 256]
