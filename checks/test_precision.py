"""The precision policy (models/_precision.py, docs/precision.md) holds in the compiled programs.

Every matrix product of the network's programs (training by GD and SGD, one seed and vmapped
seeds; the empirical NTK by both methods; the linearized predictor; the predictor; the data's
targets; the evaluation's batched programs) must carry ``MATMUL_PRECISION`` (HIGHEST) on both
operands, and every product of the infinite-width kernel must be float64. Checked twice, on the
CPU, without running anything:
- in the jaxpr (every ``dot_general``, recursively through jit, scan, while, cond, custom rules,
  including the dots that autodiff's transposes and vmap's batching derived);
- in the StableHLO handed to XLA (``jax.jit(f).lower(...).as_text()``): every
  ``stablehlo.dot_general`` line says ``precision = [HIGHEST, HIGHEST]``; XLA's GPU backend takes
  a DEFAULT (or absent) precision as licence for TF32, so this is the line a GPU regression changes.
Negative controls: a product written without a precision, and the real programs traced with the
policy's constant set to DEFAULT, are both caught.
"""

from __future__ import annotations

import jax
import jax.extend as jex
import jax.numpy as jnp
import pytest
from jax import lax

import models as M
import theory as T
from models import _ntk, _precision, _rnn, _train
from reports.cases import _evaluate as E

pytestmark = pytest.mark.fast
HIGHEST = (lax.Precision.HIGHEST, lax.Precision.HIGHEST)
D, M_W, L, N, S = 3, 8, 3, 4, 2


def _dots(jaxpr, out=None):
    """(precision, operand dtypes) of every dot_general in ``jaxpr`` and its sub-jaxprs."""
    out = [] if out is None else out
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            out.append((eqn.params["precision"], tuple(str(v.aval.dtype) for v in eqn.invars)))
        for sub in jex.core.jaxprs_in_params(eqn.params):
            _dots(sub, out)
    return out


def _hlo_dots(fn, args) -> list[str]:
    return [ln for ln in jax.jit(fn).lower(*args).as_text().splitlines() if "stablehlo.dot_general" in ln]


def policy_violations(fn, args) -> list[str]:
    """Every float32 dot of ``fn(*args)`` that is not at HIGHEST, in the jaxpr or the StableHLO."""
    bad = [f"jaxpr: {prec} on {dts}" for prec, dts in _dots(jax.make_jaxpr(fn)(*args).jaxpr)
           if "float32" in dts and prec != HIGHEST]
    bad += [f"hlo: {ln.strip()[:200]}" for ln in _hlo_dots(fn, args)
            if "f32>" in ln and "precision = [HIGHEST, HIGHEST]" not in ln]
    return bad


def _programs():
    """name -> (function, arguments): the network's programs at small shapes (tracing only)."""
    cfg = M.RNNConfig(D, M_W)
    ps = M.init_seeds(jax.random.split(jax.random.key(0), S), cfg)
    p = jax.tree.map(lambda a: a[0], ps)
    task = M.Task(M.TokenDistribution(L, D), M.AdditiveTarget.make(L, D, "sin"))
    X, y = task.sample(jax.random.key(1), N)
    keys = jax.random.split(jax.random.key(2), S)
    progs = {}
    for loss in ("squared", "logistic"):
        for centred in (True, False):
            kw = dict(steps=3, loss=loss, centred=centred)
            progs[f"gd one seed {loss} centred={centred}"] = (
                lambda *a, kw=kw: _train._gd_jit(*a, blowup=1e6, **kw), (p.W, p.A, p.B, X, y, X, y, 0.1))
            progs[f"gd vmapped seeds {loss} centred={centred}"] = (
                lambda *a, kw=kw: _train._gd_seeds(*a, **kw), (ps.W, ps.A, ps.B, X, y, X, y, 0.1, 1e6))
            progs[f"sgd one seed {loss} centred={centred}"] = (
                lambda W, A, B, k, kw=kw: _train._sgd_jit(W, A, B, task, k, X, y, 0.1, blowup=1e6, **kw),
                (p.W, p.A, p.B, keys[0]))
            progs[f"sgd vmapped seeds {loss} centred={centred}"] = (
                lambda W, A, B, k, kw=kw: _train._sgd_seeds(W, A, B, task, k, X, y, 0.1, 1e6, **kw),
                (ps.W, ps.A, ps.B, keys))
    for centred in (True, False):
        progs[f"linearized predictor centred={centred}"] = (
            lambda *a, c=centred: _ntk._linearized(*a, c), (p.W, p.A, p.B, p.W + 0.01, X))
        progs[f"evaluation f_lin and u, vmapped centred={centred}"] = (
            lambda *a, c=centred: E._lin_and_net(*a, c), (ps.W, ps.A, ps.B, ps.W + 0.01, X))
    progs["ntk factored"] = (_ntk._ntk_factored, (p.W, p.A, p.B, X, X[:3]))
    progs["ntk jacobian (full Jacobian)"] = (_ntk._ntk_jacobian, (p.W, p.A, p.B, X, X[:3]))
    progs["ntk factored, vmapped seeds (evaluation)"] = (E._ntk_seeds, (ps.W, ps.A, ps.B, X))
    progs["grad_W f"] = (_ntk.grad_w, (p.W, p.A, p.B, X))
    progs["forward f"] = (_rnn._apply_jit, (p.W, p.A, p.B, X))
    progs["predictor u, vmapped"] = (lambda *a: _rnn._predict_u_seeds(*a, True), (ps.W, ps.W, ps.A, ps.B, X))
    for tgt in (M.AdditiveTarget.make(L, D, "sin"), M.NVariableTarget.make(L, D, (1, L)),
                M.ParityTarget.make(L, D), M.RandomLabelTarget.make(L, D)):
        progs[f"target {type(tgt).__name__}"] = (lambda X_, t=tgt: t(X_), (X,))
    return progs


PROGRAMS = _programs()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_float32_dot_is_at_the_policy_precision(name):
    fn, args = PROGRAMS[name]
    dots = _dots(jax.make_jaxpr(fn)(*args).jaxpr)
    assert dots, f"{name}: no dot_general traced (the check would be vacuous)"
    assert len(_hlo_dots(fn, args)) > 0, name
    assert policy_violations(fn, args) == [], name


def test_training_programs_carry_the_derived_dots():
    """GD's program holds the forward dots and the ones autodiff derived (the backward pass's
    transposes): more dots than the forward pass alone, all checked above."""
    fwd = _dots(jax.make_jaxpr(PROGRAMS["forward f"][0])(*PROGRAMS["forward f"][1]).jaxpr)
    fn, args = PROGRAMS["gd one seed squared centred=True"]
    assert len(_dots(jax.make_jaxpr(fn)(*args).jaxpr)) > 2 * len(fwd)


def test_kernel_products_are_float64():
    """The infinite-width kernel H is float64 (the policy's kernel row): every product in it."""
    X1 = jnp.ones((3, L, D))
    with jax.enable_x64(True):
        X64 = jnp.asarray(X1, jnp.float64)
        dots = _dots(jax.make_jaxpr(T._kernel._gram_block)(X64, X64).jaxpr)
    assert dots and all(dts == ("float64", "float64") for _, dts in dots), dots


# ---- negative controls: the check can fail --------------------------------------------------

def test_a_product_at_default_precision_is_caught():
    a = jnp.ones((4, 4), jnp.float32)
    assert policy_violations(lambda x, y: x @ y, (a, a))  # jnp's default: precision None
    assert policy_violations(lambda x, y: jnp.einsum("ij,jk->ik", x, y), (a, a))
    assert not policy_violations(lambda x, y: _precision.matmul(x, y), (a, a))


@pytest.mark.parametrize("name", ["gd vmapped seeds squared centred=True",
                                  "sgd one seed logistic centred=False", "ntk factored",
                                  "ntk jacobian (full Jacobian)",
                                  "linearized predictor centred=True"])
def test_the_programs_at_default_precision_are_caught(monkeypatch, name):
    """The same programs traced with the policy's constant at DEFAULT (what the environment would
    choose: TF32 on a GPU) fail the check: it reads the programs, not the constant."""
    fn, args = PROGRAMS[name]
    monkeypatch.setattr(_precision, "MATMUL_PRECISION", lax.Precision.DEFAULT)
    jax.clear_caches()  # the jit caches hold the HIGHEST traces
    try:
        assert policy_violations(fn, args)
    finally:
        monkeypatch.undo()
        jax.clear_caches()
    assert not policy_violations(fn, args)
