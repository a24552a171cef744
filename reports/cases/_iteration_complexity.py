"""Iteration complexity in L: T_eps(L), the GD steps to a relative error (docs/theory.md sections 5-6).

The scaling claims C2 and C4 speak of the *iterations* needed to learn as well as the samples.
The sample side is ``_sample_complexity`` (n_eps(L)); this module measures the iteration side on
the same targets (``SampleComplexityDesign.scaling(claim).target`` and ``.control``), per length
L and target seed, at a fixed sample size n(L):

- **kernel GD (every point).** T_eps(L) = the first step count t of a geometric grid at which
  kernel GD from f = 0 with the step eta' = 1 / lambda_max(H) (GD's rule, docs/theory.md section
  4, at c = 1) has test risk <= eps times the zero predictor's. This is the *linearized* (infinite-
  width lazy) T_eps: the centred lazy network's function-space trajectory is kernel GD with
  K_m = m H and eta' = eta m (``theory.kernel_gd_predictor``'s docstring), so the identity
  u_t(x) = H(x, X) V diag((1 - (1 - eta' l)^t) / l) V^T y used here (``theory.kernel_gd_path``,
  tag ``exact``: one eigendecomposition per L for every t and every target) is exact for the
  linearization; the value T_eps read from it is a *measurement* (of one sample and one target
  seed, on a grid), with no tag of its own.
- **the trained network (a few cheap points).** The lazy network of docs/theory.md section 2
  (W-only, centred, width m) trained by full-batch GD at the bound cases' rule
  eta = lr_frac / lambda_max(K_m) (``_evaluate``), its test risk read at the same t-grid: its
  T_eps is recorded beside kernel GD's at the network's own effective step eta m, and at the
  design's step 1 / lambda_max(H). Agreement is within one grid step (an adjacent grid point);
  a disagreement is recorded as such, not hidden. The paper's online SGD (one fresh sample per
  step, eta = lr_frac / (m max_t H(x_t, x_t)) as in ``_evaluate``) is cheap at these sizes (one
  example per step), so it is measured at the same points when ``sgd_T_max`` > 0, against online
  kernel SGD over the same stream (``theory.kernel_sgd_predictor`` on its prefixes).

Censoring. A T_eps not reached by T_max is right-censored (kept as data, fitted by the Tobit fit
of ``theory.compare_growth``, never replaced by T_max). At a fixed n there is a second cause: when
the sample does not suffice, even the t -> infinity limit (the minimum-norm interpolant) misses
eps, and T_eps is infinite at this n (the control beyond L ~ 3 at n <= 1024). Such a value is
censored too (infinity > T_max), and the record's ``reachable`` flag (the limit's relative risk
<= eps) tells the two causes apart: a censored T_eps with ``reachable`` False is a sample limit,
not an iteration count.

Records: "iteration-complexity" per (L, role, claim, seed) (metrics ``T_eps`` per eps, the path
of relative risks, ``reachable``); "iteration-network" per trained point; "iteration-scaling" per
(claim, eps) with exactly the keys of ``fit_sample_complexity`` (it computes them: the one rule,
``theory.compare_growth``, with ``sigma_floor`` the t-grid's quantization), ``measure`` = "T_eps"
and ``n_class`` / ``n_control`` holding T values; ``decides`` is False (n_eps decides; T_eps is
reported).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import models as M
import theory as T

from ._records import make_record
from ._sample_complexity import SampleComplexityDesign, fit_sample_complexity, target_values

#: the fold_in constant of this item's random streams (independent of every other item's keys;
#: the sample-complexity item uses 22_000 + L)
_STREAM = 23_000
_ROLES = ("class", "control")


@dataclass(frozen=True)
class IterationComplexityDesign:
    """T_eps(L) for the targets of ``sample`` (module docstring).

    Empty ``claims`` / ``Ls`` / ``seeds`` / ``eps`` and ``n_test`` = 0 take ``sample``'s;
    ``n_per_L`` (one n per L; empty: ``sample.cap(L)``, where the sample suffices for n_eps) is the
    fixed sample size at each L. The t-grid is round(2^(k / steps_per_doubling)) up to ``T_max``.
    ``net_points``: (L, claim or "control", seed) at which the width-``m`` network is trained on
    the first ``net_n`` samples for up to ``net_T_max`` GD steps (and ``sgd_T_max`` online SGD
    steps when > 0), network seed ``init_seed``.
    """

    sample: SampleComplexityDesign = field(default_factory=SampleComplexityDesign)
    claims: tuple[str, ...] = ()
    Ls: tuple[int, ...] = ()
    seeds: tuple[int, ...] = ()
    eps: tuple[float, ...] = ()
    n_per_L: tuple[int, ...] = ()
    n_test: int = 0
    T_max: int = 2**17
    steps_per_doubling: int = 2
    m: int = 256
    lr_frac: float = 1.0
    net_points: tuple[tuple[int, str, int], ...] = ()
    net_n: int = 256
    net_T_max: int = 1024
    sgd_T_max: int = 0
    init_seed: int = 0

    def __post_init__(self):
        s = self.sample
        if not isinstance(s, SampleComplexityDesign):
            raise ValueError(f"sample = {s!r}: must be a SampleComplexityDesign")
        for name in ("claims", "Ls", "seeds", "eps"):
            v = getattr(self, name)
            if not isinstance(v, (tuple, list)):
                raise ValueError(f"{name} = {v!r}: must be a sequence (empty: the sample design's)")
            object.__setattr__(self, name, tuple(v) if v else getattr(s, name))
        if self.n_test == 0:
            object.__setattr__(self, "n_test", s.n_test)
        # the sample design's own checks of claims, Ls, seeds and eps
        SampleComplexityDesign(claims=self.claims, Ls=self.Ls, seeds=self.seeds, eps=self.eps,
                               d=s.d, N=s.N, l0=s.l0, f=s.f)
        n_per_L = tuple(self.n_per_L) or tuple(s.cap(L) if L in s.Ls else s.n_max for L in self.Ls)
        if len(n_per_L) != len(self.Ls) or any(
                isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in n_per_L):
            raise ValueError(f"n_per_L = {list(self.n_per_L)}: one integer >= 2 per L ({len(self.Ls)})")
        object.__setattr__(self, "n_per_L", n_per_L)
        M.check_int("n_test", self.n_test, low=1)
        M.check_int("T_max", self.T_max, low=2, high=10**9)
        M.check_int("steps_per_doubling", self.steps_per_doubling, low=1, high=16)
        M.check_int("m", self.m, low=1)
        M.check_float("lr_frac", self.lr_frac, low=0.0, high=1.0, low_open=True)
        M.check_int("net_n", self.net_n, low=2)
        M.check_int("net_T_max", self.net_T_max, low=1, high=10**6)
        M.check_int("sgd_T_max", self.sgd_T_max, low=0, high=10**5)
        M.check_int("init_seed", self.init_seed, low=0, high=M._keys.SEED_MAX)
        pts = tuple(tuple(p) for p in self.net_points)
        for p in pts:
            if (len(p) != 3 or p[0] not in self.Ls or p[1] not in (*self.claims, "control")
                    or p[2] not in self.seeds):
                raise ValueError(f"net_points entry {p!r}: need (L in Ls = {list(self.Ls)}, a claim of "
                                 f"{list(self.claims)} or 'control', a seed of {list(self.seeds)})")
        object.__setattr__(self, "net_points", pts)

    # ---- what fit_sample_complexity reads of a design (the one fit, reused) ------------------
    def cap(self, L: int) -> int:
        """The censoring level of T_eps: ``T_max`` at every L."""
        return self.T_max

    @property
    def n_min(self) -> int:
        """The grid's first step count: a T_eps there is left-censored (reached in one step)."""
        return 1

    @property
    def sigma_floor(self) -> float:
        """The t-grid's resolution on log T: a uniform quantization error of width
        log(2) / steps_per_doubling has standard deviation width / sqrt(12)."""
        return math.log(2.0) / self.steps_per_doubling / math.sqrt(12.0)

    @property
    def sized_to_decide(self) -> bool:
        return False  # T_eps is reported beside n_eps, which decides

    def scaling(self, claim: str):
        return self.sample.scaling(claim)

    def control(self, L: int, seed: int):
        return self.sample.control(L, seed)

    # ---- the grids ---------------------------------------------------------------------------
    def ts(self, top: int | None = None) -> tuple[int, ...]:
        """The geometric t-grid round(2^(k / steps_per_doubling)) up to ``top`` (default T_max),
        with ``top`` itself."""
        top = self.T_max if top is None else top
        k_max = int(math.floor(self.steps_per_doubling * math.log2(top) + 1e-9))
        grid = {int(round(2 ** (k / self.steps_per_doubling))) for k in range(k_max + 1)}
        return tuple(sorted(grid | {top}))

    def n(self, L: int) -> int:
        return self.n_per_L[self.Ls.index(L)]

    def columns(self, L: int) -> list[tuple]:
        """(role, claim or None for the shared control, seed, target) of every target at L: the
        controls first, then each claim's class targets (they share the sample X)."""
        return ([("control", None, s, self.control(L, s)) for s in self.seeds]
                + [("class", c, s, self.target(L, c, s)) for c in self.claims for s in self.seeds])

    def target(self, L: int, who: str, seed: int):
        return self.control(L, seed) if who == "control" else self.scaling(who).target(L, seed)


def first_reached(rel: np.ndarray, ts, level: float):
    """The first grid t whose relative risk is <= level (None: censored, not reached by ts[-1])."""
    hit = np.nonzero(np.asarray(rel) <= level)[0]
    return int(ts[hit[0]]) if hit.size else None


def grid_steps_apart(a, b, ts) -> int:
    """How many grid points apart two T_eps values are (a censored value sits one past the end)."""
    idx = {t: i for i, t in enumerate(ts)}
    ia = len(ts) if a is None else idx[a]
    ib = len(ts) if b is None else idx[b]
    return abs(ia - ib)


def _data(design: IterationComplexityDesign, L: int, n: int):
    """This item's train and test tokens at length L (their own key domains, models/_keys.py)."""
    tok = M.TokenDistribution(L, design.sample.d, 1.0)
    k_tr = jax.random.fold_in(M.stream_key(design.sample.data_seed, "train"), _STREAM + L)
    k_te = jax.random.fold_in(M.stream_key(design.sample.data_seed, "test"), _STREAM + L)
    return (np.asarray(tok.sample(k_tr, n), np.float64),
            np.asarray(tok.sample(k_te, design.n_test), np.float64))


def _zero_risk(yte: np.ndarray) -> np.ndarray:
    return np.mean(np.minimum(1.0, np.abs(yte)), axis=0)


def iteration_complexity_records(design: IterationComplexityDesign) -> list[dict]:
    """Kernel-GD T_eps at every (L, role, claim, seed): one Gram and one eigendecomposition per L."""
    from ._evaluate import _clipped

    base = {k: v for k, v in asdict(design).items() if k not in ("seeds", "net_points")}
    ts = design.ts()
    out = []
    for L in design.Ls:
        t0 = time.perf_counter()
        n = design.n(L)
        X, Xte = _data(design, L, n)
        cols = design.columns(L)
        Y, Yte = (np.stack([np.asarray(c[3](A), np.float64) for c in cols], axis=1) for A in (X, Xte))
        H, H_te = T.ntk_gram(X), T.ntk_gram(Xte, X)
        t_kernel = time.perf_counter()
        path = T.kernel_gd_path(H, Y, None, (*ts, math.inf), H_te)
        del H
        zero = _zero_risk(Yte)
        rel = np.stack([np.mean(_clipped(p, Yte), axis=0) / zero for p in path.pred])  # (t, col)
        t_path = time.perf_counter()
        for c, (role, claim, s, tgt) in enumerate(cols):
            T_eps = {str(e): first_reached(rel[:-1, c], ts, e) for e in design.eps}
            reach = {str(e): bool(rel[-1, c] <= e) for e in design.eps}
            for cl in (design.claims if claim is None else (claim,)):
                cfg = {**base, "claim": cl, "L": L, "role": role, "target": tgt.describe(), "n": n,
                       "ts": list(ts), "T_cap": design.T_max}
                out.append(make_record(
                    "iteration-complexity", cl, cfg, s, verdict="measured",
                    metrics={"T_eps": T_eps, "reachable": reach, "rel_risk": rel[:-1, c].tolist(),
                             "rel_risk_limit": float(rel[-1, c]), "zero_risk": float(zero[c]),
                             "eta": path.eta_eff, "lam_max": path.lam_max},
                    timings={"kernel_s": t_kernel - t0, "path_s": t_path - t_kernel}))
    return out


# ---- the trained network --------------------------------------------------------------------

@jax.jit
def _gd_steps(W, A, B, X, y, f0, lr, k):
    """k full-batch GD steps (dynamic k) on 1/2 sum (f(W) - f(W0) - y)^2: ``models.train``'s GD
    (its objective and step; its divergence guard aside: the run is checked finite after)."""
    grad = jax.grad(lambda W_: 0.5 * jnp.sum((M.apply_w(W_, A, B, X) - f0 - y) ** 2))
    return jax.lax.fori_loop(0, k, lambda _, W_: W_ - lr * grad(W_), W)


@jax.jit
def _sgd_steps(W, A, B, Xs, ys, f0s, lr, t0, t1):
    """Online SGD steps t0..t1-1 over the stream (Xs, ys): one example per step, the sample loss
    1/2 (u(W; x_t) - y_t)^2 of ``models.train``'s SGD (f0s = f(W0; x_t))."""
    def step(t, W_):
        g = jax.grad(lambda V: 0.5 * (M.apply_w(V, A, B, Xs[t][None])[0] - f0s[t] - ys[t]) ** 2)(W_)
        return W_ - lr * g
    return jax.lax.fori_loop(t0, t1, step, W)


@jax.jit
def _u(W, W0, A, B, X):
    return M.centred_apply(W, W0, A, B, X, True)


def network_gd_path(params0: M.Params, X, y, Xte, lr: float, ts) -> np.ndarray:
    """The centred network's test predictions after each grid step count of GD (rows: ts)."""
    W0, A, B = params0
    Xj, yj, Xtej = (jnp.asarray(a, W0.dtype) for a in (X, y, Xte))
    f0 = M.apply_w(W0, A, B, Xj)
    W, done, out = W0, 0, []
    for t in ts:
        W = _gd_steps(W, A, B, Xj, yj, f0, lr, t - done)
        done = t
        out.append(np.asarray(_u(W, W0, A, B, Xtej), np.float64))
    return np.stack(out)


def network_sgd_path(params0: M.Params, Xs, ys, Xte, lr: float, ts) -> np.ndarray:
    """The centred network's test predictions after each grid step count of online SGD over the
    stream (Xs, ys) (one fresh example per step; rows: ts)."""
    W0, A, B = params0
    Xj, yj, Xtej = (jnp.asarray(a, W0.dtype) for a in (Xs, ys, Xte))
    f0s = M.apply_w(W0, A, B, Xj)
    W, done, out = W0, 0, []
    for t in ts:
        W = _sgd_steps(W, A, B, Xj, yj, f0s, lr, done, t)
        done = t
        out.append(np.asarray(_u(W, W0, A, B, Xtej), np.float64))
    return np.stack(out)


def network_records(design: IterationComplexityDesign) -> list[dict]:
    """At each of ``net_points``: T_eps of the trained lazy network (GD, and online SGD when
    ``sgd_T_max`` > 0) beside kernel GD's / kernel SGD's on the same data (module docstring)."""
    from ._evaluate import _clipped, _ntk_seeds

    out = []
    par = M.get_parametrization("lazy")
    kscale = par.kernel_scale(design.m)
    for L, who, s in design.net_points:
        t0 = time.perf_counter()
        # the first net_n rows of the kernel's sample at this L (draws are nested in n)
        X, Xte = _data(design, L, design.net_n)
        tgt = design.target(L, who, s)
        y, yte = target_values(tgt, X), target_values(tgt, Xte)
        zero = float(_zero_risk(yte))
        k_init = jax.random.fold_in(M.stream_key(design.init_seed, "init"), _STREAM + L)
        params = M.init_seeds(jax.random.split(k_init, 1), M.RNNConfig(design.sample.d, design.m))
        K = np.asarray(_ntk_seeds(params.W, params.A, params.B, jnp.asarray(X, jnp.float32))[0],
                       np.float64)
        lam_K = float(np.linalg.eigvalsh(K)[-1])
        lr = design.lr_frac / lam_K  # the bound cases' GD rule (_evaluate)
        p0 = M.Params(*(a[0] for a in params))
        ts = design.ts(design.net_T_max)
        H, H_te = T.ntk_gram(X), T.ntk_gram(Xte, X)

        def rel(P, yte=yte, zero=zero):  # relative test risk of each row of predictions
            return np.mean(_clipped(P, yte[None, :]), axis=1) / zero

        rel_net = rel(network_gd_path(p0, X, y, Xte, lr, ts))
        rel_ker_net = rel(T.kernel_gd_path(H, y, lr * kscale, ts, H_te).pred)
        ker = T.kernel_gd_path(H, y, None, ts, H_te)
        rel_ker = rel(ker.pred)
        finite = bool(np.all(np.isfinite(rel_net)))
        m = {"rel_risk_net_gd": rel_net.tolist(), "rel_risk_kernel_gd_net_eta": rel_ker_net.tolist(),
             "rel_risk_kernel_gd": rel_ker.tolist(), "lr": lr, "lam_max_K": lam_K,
             "lam_max_H": ker.lam_max, "kernel_scale": kscale,
             "eta_ratio": lr * kscale * ker.lam_max,  # the network's eta' over 1 / lambda_max(H)
             "finite": finite, "zero_risk": zero}
        for e in design.eps:
            tn, tk, tkd = (first_reached(r, ts, e) for r in (rel_net, rel_ker_net, rel_ker))
            m.setdefault("T_eps_net_gd", {})[str(e)] = tn
            m.setdefault("T_eps_kernel_gd_net_eta", {})[str(e)] = tk
            m.setdefault("T_eps_kernel_gd", {})[str(e)] = tkd
            m.setdefault("agree_gd", {})[str(e)] = finite and grid_steps_apart(tn, tk, ts) <= 1
        t_gd = time.perf_counter()
        timings = {"gd_s": t_gd - t0}
        if design.sgd_T_max > 0:
            tok = M.TokenDistribution(L, design.sample.d, 1.0)
            k_sgd = jax.random.fold_in(M.stream_key(design.sample.data_seed, "sgd"), _STREAM + L)
            Xs = np.asarray(tok.sample(k_sgd, design.sgd_T_max), np.float64)
            ys = np.asarray(tgt(Xs), np.float64)
            lr_sgd = design.lr_frac / (kscale * float(np.max(T.ntk_diagonal(Xs))))  # _evaluate's rule
            ts_sgd = design.ts(design.sgd_T_max)
            rel_sgd = rel(network_sgd_path(p0, Xs, ys, Xte, lr_sgd, ts_sgd))
            Hs, Hs_te = T.ntk_gram(Xs), T.ntk_gram(Xte, Xs)
            rel_ksgd = rel(np.stack([T.kernel_sgd_predictor(Hs[:t, :t], ys[:t], lr_sgd * kscale,
                                                            Hs_te[:, :t]).test_pred
                                     for t in ts_sgd]))
            fin = bool(np.all(np.isfinite(rel_sgd)))
            m.update({"rel_risk_net_sgd": rel_sgd.tolist(), "rel_risk_kernel_sgd": rel_ksgd.tolist(),
                      "lr_sgd": lr_sgd, "ts_sgd": list(ts_sgd), "finite_sgd": fin})
            for e in design.eps:
                tn, tk = first_reached(rel_sgd, ts_sgd, e), first_reached(rel_ksgd, ts_sgd, e)
                m.setdefault("T_eps_net_sgd", {})[str(e)] = tn
                m.setdefault("T_eps_kernel_sgd", {})[str(e)] = tk
                m.setdefault("agree_sgd", {})[str(e)] = fin and grid_steps_apart(tn, tk, ts_sgd) <= 1
            timings["sgd_s"] = time.perf_counter() - t_gd
        cfg = {"L": L, "target": who, "role": "control" if who == "control" else "class",
               "n": int(X.shape[0]), "m": design.m, "lr_frac": design.lr_frac, "ts": list(ts),
               "init_seed": design.init_seed, "sgd_T_max": design.sgd_T_max,
               "describe": tgt.describe(), "sample": asdict(design.sample)}
        out.append(make_record("iteration-network", who, cfg, s, verdict="measured", metrics=m,
                               timings=timings))
    return out


def fit_iteration_complexity(records: list[dict], design: IterationComplexityDesign, claim: str, *,
                             eps: float | None = None, claim_obj=None) -> dict:
    """``fit_sample_complexity`` on the T_eps records (the same keys; ``measure`` = "T_eps",
    ``n_class`` / ``n_control`` hold T values, ``n_cap`` the censoring level T_max)."""
    return fit_sample_complexity(records, design, claim, measure="T_eps", eps=eps,
                                 claim_obj=claim_obj, kind="iteration-complexity")


def _sample_limited(records: list[dict], claim: str, eps: float) -> dict[str, int]:
    """Per role, how many censored T_eps of ``claim`` are sample limits (the t -> infinity limit,
    the interpolant, misses eps at this n) rather than iteration counts beyond T_max."""
    out = dict.fromkeys(_ROLES, 0)
    for r in records:
        m = r["metrics"]
        if (r["kind"] == "iteration-complexity" and r["claim"] == claim
                and m["T_eps"][str(eps)] is None and not m["reachable"][str(eps)]):
            out[r["config"]["role"]] += 1
    return out


def iteration_scaling_records(design: IterationComplexityDesign, records: list[dict]) -> list[dict]:
    """One "iteration-scaling" record per (claim, eps): reported, never deciding. Its note says how
    many censored values are sample limits (module docstring, "Censoring")."""
    cfg = asdict(design)
    out = []
    for f in (fit_iteration_complexity(records, design, c, eps=e) for c in design.claims
              for e in design.eps):
        lim = _sample_limited(records, f["claim"], f["eps"])
        note = (f"censored T_eps: class {f['class_censored']}, control {f['control_censored']}; of "
                f"these, sample limits (the interpolant misses eps at this n; not iteration "
                f"counts): class {lim['class']}, control {lim['control']}")
        out.append(make_record("iteration-scaling", f["claim"], {**cfg, "measure": "T_eps",
                                                                 "eps": f["eps"]},
                               list(design.seeds), metrics=f, verdict=f["verdict"], note=note))
    return out


def evaluate_iteration_complexity(design: IterationComplexityDesign) -> list[dict]:
    """The item: kernel-GD T_eps records, their fits, and the trained networks' records (the
    sweep stamps every record with the item's time, ``runs/_items.evaluate_item``)."""
    recs = iteration_complexity_records(design)
    return recs + iteration_scaling_records(design, recs) + network_records(design)
