"""Real sequence data (UCR/UEA, ``models.load_real``): bounds, kernel and network accuracy, and the
comparison with published accuracies. Evaluated by ``python -m reports run --profile real``
(``--dataset NAME|PATH[,...]`` for any dataset aeon ships or a local .ts pair).

One ``RealCase`` is one dataset under one tokenisation. Its binary tasks are the one-vs-rest
splits (``splits``): every class against the rest (a two-class dataset has one split, its first
class +1), or the one split ``positive`` names. Its records (kind 'real'; each carries ``repro``,
the command that reruns its item):

- claim 'G1', per split, role 'true' or 'random' (one per label seed), at each n of a nested
  sequence of training subsets (the first n of one fixed permutation of the archive's training
  split): G1 and C_n of the minimum-norm kernel interpolant (``theory.g1_bound``,
  ``theory.complexity``). Random labels are permutations of the subset's true labels (same
  balance). For true labels at the full training set the kernel interpolant's test risk is judged
  with the suite's violation rule (``theory.is_violation``); the archive's split need not be i.i.d.
- claim 'R-kernel', per split: test accuracy of the binary kernel interpolant
  sign(H(x, X) H^{-1} y), of an SVM on the precomputed kernel (scikit-learn
  ``SVC(kernel='precomputed')``, C chosen by stratified 10-fold cross-validation on the training
  split from {0.01, 0.1, 1, 10, 100}, the grid of Alemohammad et al. 2021) and of the majority
  class; the permutation test of C_n(true) among ``n_perm`` seeded label permutations
  (``theory.permutation_test``) and the separation rule on it (``theory.label_separation``).
- claim 'R-mc': the archive's multi-class task (the setup of the published numbers): the
  one-vs-rest kernel interpolants with argmax, the SVM's own one-vs-one, 1-NN Euclidean on our
  tokens, the majority class, and the published row (or "no published row").
- claim 'R-net' (when ``train``), per split: networks in ``parametrization`` (default lazy)
  trained with ``models.train_seeds`` on the binary task (GD, and SGD with replacement over the
  training set), with test accuracy and risk min(1, |u - y|) of the network, its linearization
  f_lin, the kernel reference f_ker and the kernel interpolant, and G1-net / G2-net for the network.
- claim 'R-net-mc' (when ``train``), per method and seed: the multi-class network made of the
  one-vs-rest networks of that seed (argmax of their outputs u_T; two classes: the sign of the one
  network), its test accuracy beside the kernel's and 1-NN's on the same tokens.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import asdict, dataclass, fields

import jax
import jax.numpy as jnp
import numpy as np

import models as M
import theory as T

from ._records import make_record

#: Published accuracies on the archive's default split (multi-class, accuracy = 1 - error).
#: UCR: the 2018 archive's DataSummary.csv (Dau et al. 2019, "The UCR time series archive"),
#: columns ED (w=0), DTW (learned_w), DTW (w=100), verified against two public copies:
#: github.com/Chang-George-Dong/TrojanTime DataSummary.csv (commit 72aef950) and
#: github.com/sensorlab/KAN_TS DataSummary.csv (commit 5b57adf9). Train/test sizes, classes and
#: lengths are from the same rows (checked against the shipped files in checks/test_real_data.py).
UCR_SUMMARY_SOURCE = ("UCR 2018 DataSummary.csv (Dau et al. 2019), verified in "
                      "github.com/Chang-George-Dong/TrojanTime/DataSummary.csv@72aef950 and "
                      "github.com/sensorlab/KAN_TS/DataSummary.csv@5b57adf9")
#: A variable-length dataset's row has length None (the summary says "Vary").
PUBLISHED: dict[str, dict] = {
    "ACSF1": {"train": 100, "test": 100, "classes": 10, "length": 1460,
              "errors": {"1-NN ED": 0.4600, "1-NN DTW (learned window)": 0.3800,
                         "1-NN DTW (full window)": 0.3600}},
    "ArrowHead": {"train": 36, "test": 175, "classes": 3, "length": 251,
                  "errors": {"1-NN ED": 0.2000, "1-NN DTW (learned window)": 0.2000,
                             "1-NN DTW (full window)": 0.2971}},
    "GunPoint": {"train": 50, "test": 150, "classes": 2, "length": 150,
                 "errors": {"1-NN ED": 0.0867, "1-NN DTW (learned window)": 0.0867,
                            "1-NN DTW (full window)": 0.0933}},
    "ItalyPowerDemand": {"train": 67, "test": 1029, "classes": 2, "length": 24,
                         "errors": {"1-NN ED": 0.0447, "1-NN DTW (learned window)": 0.0447,
                                    "1-NN DTW (full window)": 0.0496}},
    "OSULeaf": {"train": 200, "test": 242, "classes": 6, "length": 427,
                "errors": {"1-NN ED": 0.4793, "1-NN DTW (learned window)": 0.3884,
                           "1-NN DTW (full window)": 0.4091}},
    "PickupGestureWiimoteZ": {"train": 50, "test": 50, "classes": 10, "length": None,
                              "errors": {"1-NN ED": 0.4400, "1-NN DTW (learned window)": 0.3400,
                                         "1-NN DTW (full window)": 0.3400}},
}
#: What we looked for and did not find (stated in the report rather than filled in from memory).
NOT_FOUND = {
    "UEA": "the UEA multivariate archive's benchmark accuracies (BasicMotions, JapaneseVowels) "
           "were not found in a public copy we could verify: no published row",
    "RNTK": "Alemohammad et al. (ICLR 2021), The Recurrent Neural Tangent Kernel: per-dataset "
            "UCR accuracies not found (only its setup: C-SVM in LIBSVM, C in {0.01, ..., 100}, "
            "10-fold validation; kernel hyperparameters sigma_w, sigma_b, sigma_h tuned)",
}
NO_PUBLISHED_ROW = "no published row"
SVM_C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class RealCase:
    """One dataset (a shipped NAME or a local PATH, ``models.resolve_dataset``) under one
    tokenisation (``models.Tokenisation`` fields), its bound sweep over ``ns`` (None: n/4, n/2, n
    of the training split, capped by ``max_n``) with ``random_seeds`` random labellings and an
    ``n_perm``-permutation test per split, the kernel classifiers, and (``train``) ``seeds``
    networks of width ``m`` per split trained for ``steps`` GD steps at eta = lr_frac /
    lambda_max(K_m), plus one SGD epoch (``sgd``)."""

    dataset: str
    window: int = 1
    max_len: int | None = 64
    normalise: str = "series"
    positive: tuple[str, ...] | None = None
    ns: tuple[int, ...] | None = None
    max_n: int | None = None
    max_n_test: int | None = None
    random_seeds: tuple[int, ...] = (0, 1, 2)
    subset_seed: int = 0
    delta: float = 0.05
    delta_test: float = 0.01
    separation_factor: float = 2.0
    svm: bool = True
    multiclass: bool = True
    train: bool = False
    m: int = 128
    steps: int = 200
    seeds: int = 2
    lr_frac: float = 1.0
    sgd: bool = True
    init_seed: int = 0
    parametrization: str = "lazy"
    reduce: str = "paa"
    n_perm: int = 199
    perm_seed: int = 0
    alpha: float = 0.01

    def __post_init__(self):
        M.check_dataset(self.dataset)
        self.tokenisation()  # validates window, max_len, normalise, reduce
        for name in ("max_n", "max_n_test"):
            if getattr(self, name) is not None:
                M.check_int(name, getattr(self, name), low=4)
        if self.ns is not None and (not self.ns or min(self.ns) < 4):
            raise ValueError(f"ns = {self.ns}: give sample sizes n >= 4")
        if not self.random_seeds:
            raise ValueError("random_seeds must name at least one seed")
        M.check_int("m", self.m, low=1)
        M.check_int("steps", self.steps, low=1)
        M.check_int("seeds", self.seeds, low=1)
        M.check_float("lr_frac", self.lr_frac, low=0.0, low_open=True)
        M.check_int("n_perm", self.n_perm, low=T.MIN_PERMUTATIONS, high=1_000_000)
        M.check_float("alpha", self.alpha, low=1.0 / (self.n_perm + 1), high=1.0, high_open=True)
        M.get_parametrization(self.parametrization)

    def tokenisation(self) -> M.Tokenisation:
        return M.Tokenisation(self.window, self.max_len, self.normalise, reduce=self.reduce)

    def label(self) -> str:
        cap = "full" if self.max_len is None else self.max_len
        return (f"real {self.dataset} {self.reduce} w={self.window} L<={cap}"
                + (" +nets" if self.train else ""))

    def repro(self) -> str:
        """The command that reruns this case (the same item id, so a store resumes it): the CLI
        when every field it sets differs from the default only where the CLI has a flag, else
        a Python one-liner."""
        cli = {"window": "--window", "max_len": "--max-len", "reduce": "--reduce", "train": "--train",
               "positive": "--positive", "n_perm": "--perms"}
        default = {f.name: f.default for f in fields(self)}
        other = [k for k, v in asdict(self).items()
                 if k not in cli and k != "dataset" and v != default[k]]
        if other:
            args = ", ".join(f"{k}={getattr(self, k)!r}" for k in ["dataset", *cli, *other]
                             if getattr(self, k) != default.get(k) or k == "dataset")
            return ("python -c \"from reports.cases._real import RealCase, evaluate_real_case; "
                    f"print(evaluate_real_case(RealCase({args})))\"")
        cap = "full" if self.max_len is None else str(self.max_len)
        cmd = ["python", "-m", "reports", "run", "--profile", "real", "--dataset", self.dataset,
               "--window", str(self.window), "--max-len", cap, "--reduce", self.reduce,
               "--perms", str(self.n_perm)]
        if self.positive is not None:
            cmd += ["--positive", ",".join(self.positive)]
        cmd += ["--train"] if self.train else []
        return " ".join(shlex.quote(c) for c in cmd + ["--out", "out/real-repro"])


# ---- pieces ----------------------------------------------------------------------------------------

def _svm_accuracy(H, y, Hte, yte) -> tuple[float, float]:
    """Test accuracy of SVC on the precomputed kernel, C by stratified CV; returns (acc, C)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    scale = float(np.mean(np.diag(H)))  # unit mean diagonal, so the C grid means the same for all L
    _, counts = np.unique(y, return_counts=True)
    folds = int(min(10, counts.min()))
    if folds < 2:
        clf = SVC(kernel="precomputed", C=1.0).fit(H / scale, y)
        return float(np.mean(clf.predict(Hte / scale) == yte)), 1.0
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    gs = GridSearchCV(SVC(kernel="precomputed"), {"C": list(SVM_C_GRID)}, cv=cv)
    gs.fit(H / scale, y)
    return float(np.mean(gs.predict(Hte / scale) == yte)), float(gs.best_params_["C"])


def one_nn_accuracy(X, y, Xte, yte) -> float:
    """1-NN Euclidean on the flattened tokens: at full length, one token per step and per-series
    normalisation this is the archive's own 1-NN ED baseline (the UCR series are z-normalised
    already and 1/sqrt(d) is a common factor), so it reproduces the published number when our
    data and split are the archive's (checked in checks/test_real_data.py)."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=1).fit(X.reshape(len(X), -1), y)
    return float(np.mean(clf.predict(Xte.reshape(len(Xte), -1)) == yte))


def _acc(u, y) -> float:
    return float(np.mean(np.where(np.asarray(u) >= 0, 1.0, -1.0) == y))


def _risk(u, y, delta_test) -> dict:
    loss = np.minimum(1.0, np.abs(np.asarray(u, np.float64) - y))
    mean, n = float(np.mean(loss)), int(loss.size)
    return {"test_risk": mean, "test_lcb": T.kl_lcb(mean, n, delta_test),
            "test_ucb": T.kl_ucb(mean, n, delta_test), "n_test": n}


def _sizes(case: RealCase, n_full: int) -> list[int]:
    n_top = min(n_full, case.max_n) if case.max_n else n_full
    ns = case.ns or (max(4, n_top // 4), max(4, n_top // 2), n_top)
    return sorted({min(int(n), n_top) for n in ns})


# ---- the case -------------------------------------------------------------------------------------

def splits(classes, positive) -> list[tuple[str, ...]]:
    """The binary tasks of a case: ``positive`` if given, else every class against the rest (a
    two-class dataset has one split, its first class +1: the other is the same task negated,
    with the same C_n, G1 and accuracies)."""
    if positive is not None:
        return [tuple(str(p) for p in positive)]
    return [(classes[0],)] if len(classes) == 2 else [(c,) for c in classes]


def _pm(idx, classes, split) -> np.ndarray:
    return np.where(np.isin(np.asarray(classes)[idx], split), 1.0, -1.0)


def evaluate_real_case(case: RealCase) -> list[dict]:
    """All records of one dataset and tokenisation (module docstring)."""
    t0 = time.perf_counter()
    D = M.load_real(case.dataset, case.tokenisation(), positive=case.positive)
    rng = np.random.default_rng(case.subset_seed)
    perm = rng.permutation(D.n)
    ns = _sizes(case, D.n)
    idx = perm[: ns[-1]]
    X, yc = D.X_train[idx], D.y_train_class[idx]
    n_te = D.X_test.shape[0] if not case.max_n_test else min(case.max_n_test, D.X_test.shape[0])
    Xte, ytec = D.X_test[:n_te], D.y_test_class[:n_te]
    desc = {k: v for k, v in D.describe().items() if k not in ("positive", "positive_fraction_train")}
    base = {k: v for k, v in asdict(case).items() if k not in ("ns",)}
    base.update(desc, source=case.dataset, origin=D.meta.get("origin"), n_train_full=D.n,
                n_test=n_te, splits=len(splits(D.classes, case.positive)))
    repro = case.repro()
    H = T.ntk_gram(X)
    Hte = T.ntk_gram(Xte, X)
    t_kernel = time.perf_counter()
    records, scores, outs = [], [], {}
    timing = {"kernel_s": t_kernel - t0, "bounds_s": 0.0, "permutation_s": 0.0, "classifiers_s": 0.0}
    for split in splits(D.classes, case.positive):
        y, yte = _pm(yc, D.classes, split), _pm(ytec, D.classes, split)
        cfg = {**base, "positive": list(split), "positive_fraction_train": float(np.mean(y > 0))}
        tb = time.perf_counter()
        records += _g1_records(case, cfg, H, Hte, y, yte, ns, repro)
        tp = time.perf_counter()
        ptest = T.permutation_test(H, y, n_perm=case.n_perm, seed=case.perm_seed)
        tc = time.perf_counter()
        u = Hte @ T.kernel_solve(H, y).alpha
        scores.append(u)
        kern = {"kernel_accuracy": _acc(u, yte), **_risk(u, yte, case.delta_test),
                # the majority label of the training sample used (ties: +1), on the test split
                "majority_accuracy": float(np.mean(yte == (1.0 if np.sum(y > 0) >= np.sum(y < 0)
                                                           else -1.0)))}
        if case.svm:
            kern["svm_accuracy"], kern["svm_C"] = _svm_accuracy(H, y, Hte, yte)
        sep = T.label_separation(ptest, kern["kernel_accuracy"], kern["majority_accuracy"], n_te,
                                 alpha=case.alpha, factor=case.separation_factor,
                                 delta_test=case.delta_test)
        kern.update(permutation=ptest.summary(), separation=asdict(sep), C_true=ptest.C_true)
        te = time.perf_counter()
        timing["bounds_s"] += tp - tb
        timing["permutation_s"] += tc - tp
        timing["classifiers_s"] += te - tc
        records.append(make_record("real", "R-kernel", {**cfg, "n": ns[-1]}, case.subset_seed,
                                   metrics=kern, verdict=sep.verdict, repro=repro,
                                   timings={"permutation_s": tc - tp, "classifiers_s": te - tc}))
        if case.train:
            net_recs, net_out = _network_records(case, cfg, X, y, Xte, yte, H, Hte, repro)
            records += net_recs
            for key, u_net in net_out.items():
                outs.setdefault(key, []).append(u_net)
    tm = time.perf_counter()
    mc = _multiclass(case, D, X, yc, Xte, ytec, H, Hte, scores)
    timing["classifiers_s"] += time.perf_counter() - tm
    records.append(make_record("real", "R-mc", {**base, "n": ns[-1]}, case.subset_seed, metrics=mc,
                               verdict="measured", repro=repro, timings=dict(timing)))
    # the multi-class network needs every split (a case with one ``positive`` split has none)
    for (method, s), us in (sorted(outs.items()) if case.positive is None else ()):
        cfg_s = {**base, "n": ns[-1], "method": method, "seed_index": s, "m": case.m}
        if any(u is None for u in us):
            records.append(make_record("real", "R-net-mc", cfg_s, case.init_seed, verdict="diverged",
                                       metrics={}, repro=repro,
                                       note="a one-vs-rest network diverged: recorded as an outcome"))
            continue
        pred = _mc_predict(np.stack(us, axis=1), D.classes, case.positive)
        records.append(make_record("real", "R-net-mc", cfg_s, case.init_seed, verdict="measured",
                                   repro=repro,
                                   metrics={"net_mc_accuracy": float(np.mean(pred == ytec)),
                                            "mc_kernel_accuracy": mc.get("mc_kernel_accuracy"),
                                            "mc_1nn_ed_accuracy": mc.get("mc_1nn_ed_accuracy")}))
    return records


def _mc_predict(U, classes, positive) -> np.ndarray | None:
    """Class indices from one-vs-rest outputs U (n_test, splits): the argmax; with two classes
    (one split) the sign of the one output (u >= 0: the split's positive class)."""
    sp = splits(classes, positive)
    if positive is not None:
        return None
    if len(sp) == 1:
        pos, neg = classes.index(sp[0][0]), 1 - classes.index(sp[0][0])
        return np.where(U[:, 0] >= 0, pos, neg)
    return np.argmax(U, axis=1)


def _multiclass(case, D, X, yc, Xte, ytec, H, Hte, scores) -> dict:
    """The archive's multi-class task on the same tokens (module docstring, claim 'R-mc')."""
    k = len(D.classes)
    out = {"classes": k}
    if case.multiclass and case.positive is None:
        pred = _mc_predict(np.stack(scores, axis=1), D.classes, None)
        out["mc_kernel_accuracy"] = float(np.mean(pred == ytec))
        if case.svm:
            out["mc_svm_accuracy"], out["mc_svm_C"] = _svm_accuracy(H, yc, Hte, ytec)
    if case.multiclass:
        out["mc_1nn_ed_accuracy"] = one_nn_accuracy(X, yc, Xte, ytec)
    counts = np.bincount(yc, minlength=k)
    out["mc_majority_accuracy"] = float(np.mean(ytec == int(np.argmax(counts))))
    pub = PUBLISHED.get(D.name)
    out["published"] = ({name: 1.0 - e for name, e in pub["errors"].items()} if pub else None)
    out["published_source"] = (UCR_SUMMARY_SOURCE if pub else NO_PUBLISHED_ROW)
    return out


def _g1_records(case, cfg, H, Hte, y, yte, ns, repro) -> list[dict]:
    """G1 and C_n of the true and the random labellings at each n (claim 'G1')."""
    labellings = [("true", None, y)] + [
        ("random", s, y[np.random.default_rng(10_000 + s).permutation(len(y))])
        for s in case.random_seeds]
    out = []
    for n in ns:
        for role, seed, lab in labellings:
            Hn, yn = H[:n, :n], lab[:n]
            g1 = T.g1_bound(Hn, yn, case.delta)
            metrics = {"C_n": T.complexity(Hn, yn), "g1": g1.value, "g1_main": g1.main_term,
                       "mean_diag": float(np.mean(np.diag(Hn))), "vacuous": g1.vacuous}
            verdict = "measured"
            if role == "true" and n == ns[-1]:
                u = Hte @ T.kernel_solve(H, y).alpha
                risk = _risk(u, yte, case.delta_test)
                metrics.update(risk, test_accuracy=_acc(u, yte))
                verdict = T.bound_verdict(g1.value, risk["test_risk"], risk["n_test"], case.delta_test)
            out.append(make_record("real", "G1", {**cfg, "n": n, "role": role, "label_seed": seed},
                                   seed if seed is not None else -1, bound=g1.to_dict(),
                                   metrics=metrics, verdict=verdict, repro=repro))
    return out


def _network_records(case: RealCase, base: dict, X, y, Xte, yte, H, Hte,
                     repro: str = "") -> tuple[list[dict], dict]:
    """Train ``case.seeds`` networks with GD (and SGD) on (X, y) in ``case.parametrization``;
    test accuracy and risk of the network u_T, its linearization f_lin, the kernel reference f_ker
    (kernel GD at the same steps and effective step eta c(m), or kernel SGD over the same stream)
    and the kernel interpolant; G1-net and G2-net (``theory.net_bound``) for the network.

    Real data has no fresh unlabelled inputs beyond the test split, so the gap terms of
    G1-net / G2-net are estimated on the test inputs (unlabelled use). They are independent of the
    training sample (if the archive's split is), and the bound and the test-risk estimate each hold
    with their own probability, so the union bound covers using the same inputs for both.

    Returns the records and each run's test outputs u_T by (method, seed index), None where it
    diverged (the multi-class network's inputs)."""
    t0 = time.perf_counter()
    n, d = X.shape[0], X.shape[-1]
    cfg = M.RNNConfig(d, case.m, parametrization=case.parametrization)
    par = cfg.param
    kscale = par.kernel_scale(case.m)
    # the init and the SGD streams from their own key domains (docs/theory.md section 4,
    # "Independence"); real data has no sampled data stream, so the init seed roots both
    keys = M.case_keys(case.init_seed, case.init_seed, case.seeds)
    params0 = M.init_seeds(keys.init, cfg)
    X32, y32 = np.asarray(X, np.float32), np.asarray(y, np.float32)
    Xte32, yte32 = np.asarray(Xte, np.float32), np.asarray(yte, np.float32)
    one = [jax.tree.map(lambda a, s=s: a[s], params0) for s in range(case.seeds)]
    K0 = [np.asarray(M.empirical_ntk(p, X32), np.float64) for p in one]
    lam = max(float(np.linalg.eigvalsh(k)[-1]) for k in K0)
    interp = T.kernel_interpolant(H, y, Hte)
    g1 = T.g1_bound(H, y, case.delta)
    runs = [("gd", M.TrainConfig("gd", case.lr_frac / lam, case.steps, centred=par.centred), {})]
    if case.sgd:
        hmax = float(np.max(np.diag(H)))
        runs.append(("sgd", M.TrainConfig("sgd", case.lr_frac / (kscale * hmax), n,
                                          centred=par.centred),
                     {"task": M.EmpiricalTask(X32, y32),
                      "keys": jax.random.split(keys.sgd, case.seeds)}))  # a stream per seed
    out, outputs = [], {}
    for method, tcfg, kw in runs:
        data = {"X": X32, "y": y32} if method == "gd" else {}
        rec = M.record_to_numpy(M.train_seeds(params0, tcfg, X_test=Xte32, y_test=yte32,
                                              **data, **kw))
        for s, p in enumerate(one):
            cfg_s = {**base, "n": n, "method": method, "m": case.m, "steps": tcfg.steps,
                     "lr": tcfg.lr, "seed_index": s, "parametrization": case.parametrization}
            if rec["diverged"][s]:
                out.append(make_record("real", "R-net", cfg_s, case.init_seed, verdict="diverged",
                                       metrics={"diverged_step": int(rec["diverged_step"][s])},
                                       note="training diverged: recorded as an outcome", repro=repro))
                outputs[(method, s)] = None
                continue
            # the sample the network was trained on: the training set (GD) or its SGD stream
            if method == "gd":
                Xs, ys, Hs, Hs_te, Ks = X, y, H, Hte, K0[s]
                ker = T.kernel_gd_predictor(H, y, tcfg.lr * kscale, tcfg.steps, Hte)
            else:
                Xs, ys = (np.asarray(a, np.float64) for a in
                          M.sgd_samples(kw["task"], kw["keys"][s], tcfg.steps))
                Hs, Hs_te = T.ntk_gram(Xs), T.ntk_gram(Xte, Xs)
                Ks = np.asarray(M.empirical_ntk(p, Xs.astype(np.float32)), np.float64)
                ker = T.kernel_sgd_predictor(Hs, ys, tcfg.lr * kscale, Hs_te)
            W = jnp.asarray(rec["W"][s])
            net = np.asarray(M.predict_u(p, W, Xte32, centred=par.centred), np.float64)
            outputs[(method, s)] = net
            lin = np.asarray(M.linearized_predict(p, W, Xte32, centred=par.centred), np.float64)
            net_s = np.asarray(M.predict_u(p, W, Xs.astype(np.float32), centred=par.centred),
                               np.float64)
            lin_s = np.asarray(M.linearized_predict(p, W, Xs.astype(np.float32),
                                                    centred=par.centred), np.float64)
            g1_ker = T.rademacher_bound(ker.B, float(np.trace(Hs)), len(ys), case.delta,
                                        float(np.mean(np.minimum(1.0, np.abs(ker.train_pred - ys)))),
                                        name="G1")
            g2 = T.g2_bound(Ks, float(rec["movement"][s][-1]),
                            float(np.mean(np.minimum(1.0, np.abs(lin_s - ys)))), case.delta)
            g1_net = T.net_bound(g1_ker, np.minimum(1.0, np.abs(net - ker.test_pred)), case.delta_test,
                                 name="G1-net")
            g2_net = T.net_bound(g2, np.minimum(1.0, np.abs(net - lin)), case.delta_test,
                                 name="G2-net")
            risk_net = _risk(net, yte, case.delta_test)
            m = {"net_accuracy": _acc(net, yte), "net_risk": risk_net["test_risk"],
                 "lin_accuracy": _acc(lin, yte), "lin_risk": _risk(lin, yte, case.delta_test)["test_risk"],
                 "ker_accuracy": _acc(ker.test_pred, yte),
                 "ker_risk": _risk(ker.test_pred, yte, case.delta_test)["test_risk"],
                 "interp_accuracy": _acc(interp.test_pred, yte),
                 "interp_risk": _risk(interp.test_pred, yte, case.delta_test)["test_risk"],
                 "net_train_accuracy": _acc(net_s, ys),
                 "net_train_risk": float(np.mean(np.minimum(1.0, np.abs(net_s - ys)))),
                 "movement": float(rec["movement"][s][-1]), "lam_max": lam, "kernel_scale": kscale,
                 "lin_gap_rel": float(np.linalg.norm(net - lin) / max(np.linalg.norm(lin), 1e-300)),
                 "g1": g1.value, "g1_net": g1_net.value, "g2_net": g2_net.value,
                 "g1_net_verdict": T.bound_verdict(g1_net.value, risk_net["test_risk"], risk_net["n_test"],
                                                   case.delta_test),
                 "g2_net_verdict": T.bound_verdict(g2_net.value, risk_net["test_risk"], risk_net["n_test"],
                                                   case.delta_test)}
            out.append(make_record("real", "R-net", cfg_s, case.init_seed, metrics=m,
                                   verdict="measured", repro=repro,
                                   bound={"G1-net": g1_net.to_dict(), "G2-net": g2_net.to_dict()},
                                   timings={"train_s": (time.perf_counter() - t0) / case.seeds}))
    return out, outputs


# ---- the profile -----------------------------------------------------------------------------------

#: Tokenisations of the 'real' profile: (window, max_len, reduce). One time step per token at
#: three caps on L (16, 64, the full series) by PAA (window means), the same two caps by linear
#: interpolation (subsampling) for the contrast, and, for univariate series, windows of 4 steps
#: (d = 4, L <= 16). JapaneseVowels (7 to 29 steps) and a dataset the profile does not list get no
#: window of 4: the shortest series could be one token, for which H vanishes (docs/theory.md
#: section 3, L = 1).
BASE_TOKENISATIONS = ((1, 16, "paa"), (1, 64, "paa"), (1, None, "paa"), (1, 16, "interp"),
                      (1, 64, "interp"))
REAL_TOKENISATIONS = {name: BASE_TOKENISATIONS + (((4, 16, "paa"),) if ch == 1 else ())
                      for name, (_, ch, _) in M.DATASETS.items()}
#: The tokenisation of the trained networks and of the comparison table's network column.
NET_TOKENISATION = (1, 16, "paa")


def real_cases(*, train: bool = True, datasets=None, tokenisations=None,
               n_perm: int | None = None, positive=None) -> list[RealCase]:
    """The 'real' profile's cases: ``datasets`` (names or paths; default ``models.DATASETS``) under
    ``tokenisations`` ((window, max_len, reduce) triples; default ``REAL_TOKENISATIONS``, with
    networks at ``NET_TOKENISATION`` when ``train``; given: networks on each when ``train``)."""
    out = []
    extra = {} if n_perm is None else {"n_perm": n_perm}
    if positive is not None:
        extra["positive"] = tuple(positive)
    for name in (datasets or list(M.DATASETS)):
        toks = tokenisations or REAL_TOKENISATIONS.get(name, BASE_TOKENISATIONS)
        for w, cap, red in toks:
            net = train and (tokenisations is not None or (w, cap, red) == NET_TOKENISATION)
            out.append(RealCase(name, window=w, max_len=cap, reduce=red, train=net, **extra))
    return out
