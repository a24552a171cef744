"""Real sequence data (issue 13): the loader, front padding, the label-separation rule, and a
CI-sized run of the real-data case (``reports/cases/_real.py``).

Tests that read the archive files skip, with the install command as the reason, when the
optional 'data' extra (aeon) is not installed; the rest (padding exactness, the rule, the
validation messages) run everywhere.
"""

from __future__ import annotations

import sys

import jax
import numpy as np
import pytest

import models as M
import theory as T
from reports.cases._real import PUBLISHED, RealCase, evaluate_real_case, one_nn_accuracy

_HAVE_DATA, _WHY = M.data_available()
needs_data = pytest.mark.skipif(not _HAVE_DATA, reason=_WHY)


# ---- front padding is exact for this model (no data needed) ----------------------------------------

def _pad(X, k, front=True):
    z = np.zeros((X.shape[0], k, X.shape[2]))
    return np.concatenate([z, X] if front else [X, z], axis=1)


@pytest.mark.fast
def test_front_zero_padding_leaves_kernel_network_and_ntk_unchanged():
    X = np.random.default_rng(0).standard_normal((5, 4, 3))
    Xp = _pad(X, 3)
    np.testing.assert_allclose(T.ntk_gram(Xp), T.ntk_gram(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.ntk_gram(Xp[:2], Xp), T.ntk_gram(X[:2], X), rtol=1e-12, atol=1e-12)
    with jax.enable_x64(True):
        p = M.init_params(jax.random.key(1), M.RNNConfig(3, 32, "float64"))
        np.testing.assert_allclose(M.apply(p, Xp), M.apply(p, X), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(M.empirical_ntk(p, Xp), M.empirical_ntk(p, X), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.fast
def test_back_padding_is_not_exact():
    """Negative control of the test above: zero tokens at the END do change H (the recursion
    runs on with c_l = s_{l-1} > 0), so the exactness check can fail."""
    X = np.random.default_rng(0).standard_normal((5, 4, 3))
    assert not np.allclose(T.ntk_gram(_pad(X, 3, front=False)), T.ntk_gram(X), rtol=1e-6)


# ---- the permutation test and the separation rule ----------------------------------------------

def _pt(C_true, p, ratio, n_perm=199):
    """A PermutationTest with the given summary (the rule reads only p, ratio and n_perm)."""
    return T.PermutationTest(C_true, (C_true * ratio,) * n_perm, p, C_true * ratio, ratio, n_perm, 0)


def _gram(n=40, L=6, d=3, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, L, d)) / np.sqrt(d)
    return X, T.ntk_gram(X)


@pytest.mark.fast
def test_permutation_test_is_complexity_of_each_permutation():
    """Exact: every permuted C_n is ``theory.complexity`` of that permutation (one Cholesky with
    many right-hand sides against one solve each), and p / ratio follow from them by their
    definitions. Tolerance: both are Cholesky solves of the same H, whose relative forward
    error is at most ~ n * cond(H) * eps (Higham, Thm 10.4), so we allow 10 n cond eps."""
    X, H = _gram()
    y = np.where(X[:, -1, 0] > 0, 1.0, -1.0)
    res = T.permutation_test(H, y, n_perm=120, seed=3)
    P = T.permutation_labels(y, 120, 3)
    assert P.shape == (40, 120) and np.all(np.sort(P, axis=0) == np.sort(y)[:, None])
    ev = np.linalg.eigvalsh(H)
    tol = 10 * 40 * (ev[-1] / ev[0]) * np.finfo(float).eps
    np.testing.assert_allclose(res.C_true, T.complexity(H, y), rtol=tol)
    np.testing.assert_allclose(res.C_perm, [T.complexity(H, P[:, j]) for j in range(120)], rtol=tol)
    C = np.asarray(res.C_perm)
    assert res.p_value == (1 + np.sum(C <= res.C_true)) / 121
    assert res.ratio == pytest.approx(np.median(C) / res.C_true, rel=1e-15)
    assert T.permutation_test(H, y, n_perm=120, seed=3) == res  # seeded: reproducible
    assert T.PROVENANCE["permutation_test"] == "prior"


@pytest.mark.fast
def test_permutation_test_separates_a_kernel_visible_label_and_not_a_random_one():
    """Labels the kernel sees (the sign of the last token's first feature, which the recursion
    weights most) get the smallest p; a random labelling (the negative control) does not."""
    X, H = _gram(n=60)
    true = T.permutation_test(H, np.where(X[:, -1, 0] > 0, 1.0, -1.0), n_perm=199)
    rand = T.permutation_test(H, np.where(np.random.default_rng(7).random(60) > 0.5, 1.0, -1.0),
                              n_perm=199)
    assert true.p_value == 1 / 200 and true.ratio > 1.15, true.summary()  # measured 1.26
    assert rand.p_value > 0.05 and rand.ratio < 1.2, rand.summary()


@pytest.mark.fast
def test_label_separation_rule():
    ok = T.label_separation(_pt(10.0, 0.005, 2.5), 0.95, 0.5, 1000)
    assert ok.applies and ok.separated and ok.verdict == "separated" and ok.ratio == 2.5
    # each threshold decides on its own: a small ratio, or a large p, is not separated
    assert T.label_separation(_pt(10.0, 0.005, 1.5), 0.95, 0.5, 1000).verdict == "NOT separated"
    assert T.label_separation(_pt(10.0, 0.02, 3.0), 0.95, 0.5, 1000).verdict == "NOT separated"
    # the kernel must beat the majority class by more than the Chernoff-KL margin
    na = T.label_separation(_pt(10.0, 0.005, 3.0), 0.55, 0.5, 100)
    assert not na.applies and na.verdict.startswith("not applicable")
    assert T.label_separation(_pt(10.0, 0.005, 3.0), 0.55, 0.5, 100_000).applies
    assert T.PROVENANCE["label_separation"] == "prior"


@pytest.mark.selftest
def test_label_separation_validation():
    X, H = _gram(n=10)
    y = np.array([1.0, -1.0] * 5)
    with pytest.raises(ValueError, match=r"n_perm = 99 is out of range: allowed 100 <= n_perm"):
        T.permutation_test(H, y, n_perm=99)
    with pytest.raises(ValueError, match=r"H must be n x n and y of shape \(n,\)"):
        T.permutation_test(H, y[:5])
    with pytest.raises(ValueError, match="test must be a theory.PermutationTest"):
        T.label_separation(10.0, 0.9, 0.5, 10)
    with pytest.raises(ValueError, match=r"kernel_accuracy = 1.5 is out of range"):
        T.label_separation(_pt(1.0, 0.005, 2.0), 1.5, 0.5, 10)
    with pytest.raises(ValueError, match=r"factor = 0.5 is out of range"):
        T.label_separation(_pt(1.0, 0.005, 2.0), 0.9, 0.5, 10, factor=0.5)
    with pytest.raises(ValueError, match=r"alpha = 0.001 is out of range for 199 permutations"):
        T.label_separation(_pt(1.0, 0.005, 2.0), 0.9, 0.5, 10, alpha=0.001)


# ---- loader validation -----------------------------------------------------------------------------

@pytest.mark.selftest
def test_loader_validation_messages():
    with pytest.raises(ValueError, match=r"window = 0 is out of range: allowed 1 <= window"):
        M.Tokenisation(window=0)
    with pytest.raises(ValueError, match=r"max_len = 1 is out of range: allowed 2 <= max_len"):
        M.Tokenisation(max_len=1)
    with pytest.raises(ValueError, match=r"normalise = 'minmax' is not allowed: choose one of"):
        M.Tokenisation(normalise="minmax")
    with pytest.raises(ValueError, match=r"ragged = 'trim' is not allowed"):
        M.Tokenisation(ragged="trim")
    with pytest.raises(ValueError, match=r"reduce = 'mean' is not allowed: choose one of \['paa', "):
        M.Tokenisation(reduce="mean")


@pytest.mark.selftest
def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "aeon", None)  # import aeon now raises ImportError
    with pytest.raises(M.MissingExtraError, match=r"pip install -e '\.\[data\]'"):
        M.load_real("GunPoint")
    ok, why = M.data_available()
    assert not ok and "pip install -e '.[data]'" in why


# ---- the shipped archive files ---------------------------------------------------------------------

@needs_data
@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_files_match_the_archive_summary(name):
    """Train/test sizes, classes and length of the shipped files are those of the UCR 2018
    DataSummary.csv rows the comparison table cites (so the published numbers are about these
    splits)."""
    row = PUBLISHED[name]
    tr, lab_tr = M.load_raw(name, "train")
    te, lab_te = M.load_raw(name, "test")
    assert (len(tr), len(te)) == (row["train"], row["test"])
    assert len(set(lab_tr) | set(lab_te)) == row["classes"]
    if row["length"] is None:  # "Vary": the archive's 1-NN ED for it is not on front-padded tokens
        assert len({x.shape[1] for x in tr + te}) > 1
        return
    assert {x.shape for x in tr + te} == {(1, row["length"])}
    # the archive's own 1-NN Euclidean baseline, recomputed on our tokens, is the published one
    # (to its 4 printed decimals): our data, split and labels are the archive's
    D = M.load_real(name, M.Tokenisation(window=1, max_len=None))
    acc = one_nn_accuracy(D.X_train, D.y_train_class, D.X_test, D.y_test_class)
    assert abs(acc - (1.0 - row["errors"]["1-NN ED"])) <= 5e-5, acc


@needs_data
@pytest.mark.fast
def test_tokenisation_shapes_normalisation_and_labels():
    D = M.load_real("GunPoint", M.Tokenisation(window=4, max_len=16))
    assert D.X_train.shape == (50, 16, 4) and D.X_test.shape == (150, 16, 4)
    assert set(np.unique(D.y_train)) == {-1.0, 1.0} and D.positive == ("1",)
    D = M.load_real("GunPoint", M.Tokenisation(window=7, max_len=None))  # 150 = 21 * 7 + 3
    assert D.L == 21 and D.d == 7
    raw, _ = M.load_raw("GunPoint", "train")
    x = raw[0][0, 3:]  # the remainder (3 steps) is dropped at the front
    z = (x - raw[0][0].mean()) / raw[0][0].std()
    np.testing.assert_allclose(D.X_train[0].ravel() * np.sqrt(7), z, rtol=1e-12)
    # per-series z-normalisation, tokens / sqrt(d): mean squared token norm 1 without resampling
    D = M.load_real("OSULeaf", M.Tokenisation(window=1, max_len=None))
    np.testing.assert_allclose(np.mean(np.sum(D.X_train ** 2, -1), axis=1), 1.0, rtol=1e-9)
    D = M.load_real("OSULeaf", M.Tokenisation(window=1, max_len=16), positive=("3",))
    assert D.L == 16 and np.isclose(np.mean(D.y_train > 0), 33 / 200)
    with pytest.raises(ValueError, match=r"positive = \['9'\] is not allowed for OSULeaf"):
        M.load_real("OSULeaf", positive=("9",))
    with pytest.raises(ValueError, match=r"window = 30 is out of range for a series of 24"):
        M.load_real("ItalyPowerDemand", M.Tokenisation(window=30, max_len=None))


@needs_data
@pytest.mark.fast
def test_ragged_japanese_vowels_is_front_padded_exactly():
    D = M.load_real("JapaneseVowels", M.Tokenisation(window=1, max_len=None))
    assert D.padded and D.raw_length == (7, 29) and D.L == 29 and D.d == 12
    i = int(np.argmin(D.lengths_train))
    k = D.L - D.lengths_train[i]
    assert k > 0 and not np.any(D.X_train[i, :k]) and np.all(np.any(D.X_train[i, k:] != 0, axis=-1))
    # shared front padding is invisible to H: drop the leading tokens that are padding in every
    # sequence of a group (the shortest series and a few longer ones) and H is unchanged
    grp = [i] + [t for t in range(D.n) if D.lengths_train[t] > D.lengths_train[i]][:3]
    cut = D.L - int(max(D.lengths_train[grp]))
    assert cut > 0
    np.testing.assert_allclose(T.ntk_gram(D.X_train[grp]), T.ntk_gram(D.X_train[grp][:, cut:]),
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"JapaneseVowels has series of 7 to 29 time steps "
                                         r"\(ragged\) and ragged='error'"):
        M.load_real("JapaneseVowels", M.Tokenisation(ragged="error"))


# ---- any dataset by name or path; PAA ----------------------------------------------------------------

@needs_data
@pytest.mark.selftest
def test_unknown_names_and_paths_are_one_line_errors(tmp_path):
    assert {"ACSF1", "PickupGestureWiimoteZ", "GunPoint"} <= set(M.shipped_datasets())
    with pytest.raises(ValueError, match=r"dataset 'ACSF2' is unknown \(not shipped with aeon, not a "
                                         r"path\); closest: ACSF1"):
        M.load_real("ACSF2")
    with pytest.raises(ValueError, match=r"dataset 'gunpoint' is unknown .*; closest: GunPoint"):
        RealCase("gunpoint")
    with pytest.raises(ValueError, match=r"dataset 'Adiac' is in the UCR/UEA archive but not shipped "
                                         r"with aeon \(nothing is downloaded at run time\)"):
        M.resolve_dataset("Adiac")
    with pytest.raises(ValueError, match=r"is not a file or folder: give PATH/NAME_TRAIN.ts"):
        M.resolve_dataset(str(tmp_path / "nothing" / "X_TRAIN.ts"))
    _write_ts(tmp_path / "Only_TRAIN.ts", *_toy(6, seed=0))
    with pytest.raises(ValueError, match=r"Only_TEST.ts is missing"):
        M.resolve_dataset(str(tmp_path / "Only_TRAIN.ts"))
    with pytest.raises(ValueError, match=r"ns = \(2,\): give sample sizes n >= 4"):
        RealCase("GunPoint", ns=(2,))
    with pytest.raises(ValueError, match=r"n_perm = 10 is out of range: allowed 100 <= n_perm"):
        RealCase("GunPoint", n_perm=10)


@needs_data
@pytest.mark.fast
def test_paa_is_aeons_paa_and_not_subsampling():
    """Our window means equal aeon's PAA (even and uneven cuts; the same summation order up to
    reassociation, so a few ulps: rtol 1e-12), the tokens of reduce='paa' are PAA of the
    z-normalised series, and 'interp' (subsampling) gives other tokens."""
    from aeon.transformations.collection.dictionary_based import PAA

    X = np.random.default_rng(0).standard_normal((3, 2, 101))
    for seg in (16, 101 // 4):
        np.testing.assert_allclose(np.stack([M.paa(x, seg) for x in X]),
                                   PAA(n_segments=seg).fit_transform(X), rtol=1e-12, atol=1e-14)
    raw, _ = M.load_raw("GunPoint", "train")  # 150 steps -> 16 windows of 10 or 9
    z = (raw[0] - raw[0].mean()) / raw[0].std()
    D = M.load_real("GunPoint", M.Tokenisation(max_len=16))
    np.testing.assert_allclose(D.X_train[0, :, 0], PAA(n_segments=16).fit_transform(z[None])[0, 0],
                               rtol=1e-12, atol=1e-14)
    Di = M.load_real("GunPoint", M.Tokenisation(max_len=16, reduce="interp"))
    assert not np.allclose(Di.X_train, D.X_train, atol=1e-3)
    with pytest.raises(ValueError, match=r"segments = 200 is out of range"):
        M.paa(raw[0], 200)


# ---- a local .ts pair a user brings: multivariate, variable length -----------------------------

def _toy(n, seed, channels=2):
    """n series of 3 classes: sines of class-dependent frequency, 20 to 40 steps, with noise."""
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for i in range(n):
        k, T_i = i % 3, int(rng.integers(20, 41))
        t = np.linspace(0.0, 1.0, T_i)
        x = np.stack([np.sin(2 * np.pi * (k + 1) * t + c) for c in range(channels)])
        series.append(x + 0.3 * rng.standard_normal(x.shape))
        labels.append("abc"[k])
    return series, labels


def _write_ts(path, series, labels):
    """The archive's .ts format (aeon's reader): a header, then one line per series, channels
    separated by ':', the class label last."""
    c = series[0].shape[0]
    head = ["@problemName Toy", "@timeStamps false", "@missing false",
            f"@univariate {'true' if c == 1 else 'false'}", f"@dimensions {c}",
            "@equalLength false", "@classLabel true a b c", "@data"]
    body = [":".join(",".join(f"{v:.6f}" for v in ch) for ch in x) + f":{y}"
            for x, y in zip(series, labels)]
    path.write_text("\n".join(head + body) + "\n")


@pytest.fixture
def toy_pair(tmp_path):
    if not _HAVE_DATA:
        pytest.skip(_WHY)
    _write_ts(tmp_path / "Toy_TRAIN.ts", *_toy(24, seed=0))
    _write_ts(tmp_path / "Toy_TEST.ts", *_toy(24, seed=1))
    return tmp_path


@pytest.mark.fast
def test_local_pair_loads_by_file_prefix_or_folder(toy_pair):
    for spec in (toy_pair / "Toy_TRAIN.ts", toy_pair / "Toy_TEST.ts", toy_pair / "Toy", toy_pair):
        D = M.load_real(str(spec), M.Tokenisation(max_len=16))
        assert D.name == "Toy" and D.meta["origin"] == "file" and D.classes == ("a", "b", "c")
        assert D.padded and D.d == 2 and D.L == 16 and D.X_train.shape == (24, 16, 2)


@pytest.mark.selftest
def test_malformed_file_is_one_cli_line(toy_pair, tmp_path, capsys):
    from reports.cli import main

    bad = toy_pair / "Bad"
    bad.mkdir()
    (bad / "Bad_TRAIN.ts").write_text((toy_pair / "Toy_TRAIN.ts").read_text())
    lines = (toy_pair / "Toy_TEST.ts").read_text().splitlines()
    lines[9] = lines[9].replace(",", ",,x,", 1)  # a value that is not a number
    (bad / "Bad_TEST.ts").write_text("\n".join(lines) + "\n")
    assert main(["run", "--profile", "real", "--dataset", str(bad), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rnn-gen-checks: error: --dataset: dataset file {bad / 'Bad_TEST.ts'} is "
                   "malformed (ValueError: could not convert string to float: '')"], err
    assert main(["run", "--profile", "real", "--dataset", "ACSF2", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "closest: ACSF1" in err[0], err
    assert main(["run", "--profile", "tiny", "--dataset", "GunPoint", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    assert "--dataset apply only to --profile real" in capsys.readouterr().err
    assert main(["run", "--profile", "real", "--dataset", "GunPoint", "--positive", "3", "--out",
                 str(tmp_path / "o"), "--quiet"]) == 2
    assert ("--positive 3 is not allowed for GunPoint: give some but not all of its classes "
            "['1', '2']") in capsys.readouterr().err


@pytest.mark.bounds
def test_cli_runs_a_local_pair_end_to_end(toy_pair, tmp_path):
    """The CI-sized real-data run: the CLI on the local pair (3 one-vs-rest splits, 100
    permutations, L = 8, no networks): records with their reproduction command, the report."""
    import json

    from reports.cli import main
    from reports.runs._sweep import SweepItem

    out = tmp_path / "run"
    args = ["--dataset", str(toy_pair / "Toy"), "--max-len", "8", "--perms", "100", "--no-train"]
    assert main(["run", "--profile", "real", *args, "--out", str(out), "--quiet", "--no-plots"]) == 0
    recs = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    kern = [r for r in recs if r["claim"] == "R-kernel"]
    assert sorted(tuple(r["config"]["positive"]) for r in kern) == [("a",), ("b",), ("c",)]
    assert all(r["metrics"]["permutation"]["n_perm"] == 100 for r in kern)
    (mc,) = [r for r in recs if r["claim"] == "R-mc"]
    assert mc["metrics"]["published"] is None and mc["metrics"]["published_source"] == "no published row"
    case = RealCase(str(toy_pair / "Toy"), max_len=8, n_perm=100)
    assert {r["item_id"] for r in recs} == {SweepItem("real", case).item_id}
    assert {r["repro"] for r in recs} == {case.repro()}
    assert case.repro().startswith(f"python -m reports run --profile real --dataset {toy_pair / 'Toy'} "
                                   "--window 1 --max-len 8 --reduce paa --perms 100")
    md = (out / "report" / "report.md").read_text()
    assert "| Toy " in md and "no published row" in md and case.repro() in md


# ---- a CI-sized real-data case, with its negative control -------------------------------------------

_CI_CASE = dict(window=1, max_len=8, ns=(16, 48), max_n_test=300, random_seeds=(0, 1))


@pytest.fixture(scope="module")
def italy_records():
    if not _HAVE_DATA:
        pytest.skip(_WHY)
    return evaluate_real_case(RealCase("ItalyPowerDemand", train=True, m=32, steps=40, seeds=1,
                                       **_CI_CASE))


@needs_data
@pytest.mark.bounds
def test_real_case_records_and_separation(italy_records, store):
    store.append_many(italy_records)
    g1 = [r for r in italy_records if r["claim"] == "G1"]
    assert sorted({(r["config"]["n"], r["config"]["role"]) for r in g1}) == [
        (16, "random"), (16, "true"), (48, "random"), (48, "true")]
    (k,) = [r for r in italy_records if r["claim"] == "R-kernel"]  # two classes: one split
    assert k["config"]["positive"] == ["1"] and k["repro"].startswith("python -c")
    m = k["metrics"]
    # the record's permutation test and verdict are the theory functions' on the same Gram
    D = M.load_real("ItalyPowerDemand", M.Tokenisation(max_len=8))
    idx = np.random.default_rng(0).permutation(D.n)[:48]
    H = T.ntk_gram(D.X_train[idx])
    pt = T.permutation_test(H, D.y_train[idx], n_perm=199, seed=0)
    assert pt.summary() == pytest.approx(m["permutation"], rel=1e-12)
    sep = T.label_separation(pt, m["kernel_accuracy"], m["majority_accuracy"], k["config"]["n_test"])
    assert k["verdict"] == sep.verdict
    # ItalyPowerDemand: the kernel clearly beats the majority class, and the true labels sit below
    # all 199 permutations (p = 1/200), their median ~15x C_n(true) at L = 8 by PAA
    assert sep.applies and sep.separated and sep.p_value == 1 / 200, m
    full = [r for r in g1 if r["config"]["n"] == 48 and r["config"]["role"] == "true"][0]
    assert full["verdict"] in ("holds", "vacuous")  # G1 (a rigorous bound) is not violated
    nets = [r for r in italy_records if r["claim"] == "R-net"]
    assert {r["config"]["method"] for r in nets} == {"gd", "sgd"}
    for r in nets:
        if r["verdict"] != "diverged":
            m = r["metrics"]
            assert 0.0 <= m["net_accuracy"] <= 1.0 and r["config"]["parametrization"] == "lazy"
            # G1-net and G2-net (rigorous) are not violated by the trained network
            assert m["g1_net_verdict"] in ("holds", "vacuous") and m["g2_net_verdict"] in ("holds", "vacuous")
    # the multi-class network of two classes is the sign of the binary one: the same accuracy
    mcn = {r["config"]["method"]: r for r in italy_records if r["claim"] == "R-net-mc"}
    for method, r in mcn.items():
        (b,) = [n for n in nets if n["config"]["method"] == method]
        assert r["metrics"]["net_mc_accuracy"] == b["metrics"]["net_accuracy"]


@needs_data
@pytest.mark.bounds
def test_separation_rule_rejects_random_labels_posing_as_true():
    """Negative control: a random labelling of ItalyPowerDemand in the place of the true labels:
    its permutation test has a large p and a ratio ~1, and the rule must not say separated."""
    D = M.load_real("ItalyPowerDemand", M.Tokenisation(max_len=8))
    H = T.ntk_gram(D.X_train)
    fake = D.y_train[np.random.default_rng(123).permutation(D.n)]
    pt = T.permutation_test(H, fake, n_perm=199, seed=0)
    sep = T.label_separation(pt, 0.95, 0.5, 300)  # even granting a good 'kernel'
    assert sep.applies and not sep.separated and pt.p_value > 0.05 and pt.ratio < 1.5, pt.summary()


@needs_data
@pytest.mark.bounds
def test_every_one_vs_rest_split_and_the_multiclass_network():
    """ArrowHead (3 classes): one R-kernel record per class against the rest, one R-mc record, and
    the multi-class network is the argmax of the three one-vs-rest networks of each seed."""
    recs = evaluate_real_case(RealCase("ArrowHead", max_len=8, max_n_test=60, random_seeds=(0,),
                                       n_perm=100, svm=False, train=True, m=16, steps=20, seeds=1,
                                       sgd=False))
    kern = [r for r in recs if r["claim"] == "R-kernel"]
    assert [r["config"]["positive"] for r in kern] == [["0"], ["1"], ["2"]]
    (mc,) = [r for r in recs if r["claim"] == "R-mc"]
    assert mc["metrics"]["classes"] == 3 and mc["metrics"]["published"]["1-NN ED"] == pytest.approx(0.8)
    (net,) = [r for r in recs if r["claim"] == "R-net-mc"]
    assert 0.0 <= net["metrics"]["net_mc_accuracy"] <= 1.0
    assert len([r for r in recs if r["claim"] == "R-net"]) == 3
    # one named split: its binary records only, no multi-class network or kernel
    recs = evaluate_real_case(RealCase("ArrowHead", positive=("2",), max_len=8, max_n_test=30,
                                       random_seeds=(0,), n_perm=100, svm=False, train=True, m=16,
                                       steps=5, seeds=1, sgd=False))
    assert [r["config"]["positive"] for r in recs if r["claim"] == "R-kernel"] == [["2"]]
    assert not [r for r in recs if r["claim"] == "R-net-mc"]
    (mc,) = [r for r in recs if r["claim"] == "R-mc"]
    assert "mc_kernel_accuracy" not in mc["metrics"] and "mc_1nn_ed_accuracy" in mc["metrics"]


@pytest.mark.selftest
def test_real_profile_without_the_extra_is_a_clear_cli_error(monkeypatch, tmp_path, capsys):
    from reports.cli import main

    monkeypatch.setitem(sys.modules, "aeon", None)
    assert main(["run", "--profile", "real", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: real datasets need the optional 'data' extra (aeon): pip install -e '.[data]'" in err
    assert not (tmp_path / "results.jsonl").exists()


@needs_data
@pytest.mark.selftest
def test_real_section_renders_from_the_records(italy_records):
    from reports.render._markdown import to_markdown
    from reports.render._render import build_report
    from reports.runs._store import StoreContents

    rep = build_report(StoreContents(records=italy_records, corrupt=[]))
    (row,) = rep["real"]["comparison"]
    (k,) = [r for r in italy_records if r["claim"] == "R-kernel"]
    assert row["n"] == 48 and row["ratio_min"] == k["metrics"]["permutation"]["ratio"]
    assert row["p_max"] == k["metrics"]["permutation"]["p_value"] and row["separated"] == "1/1 of 1"
    assert row["published"]["1-NN ED"] == pytest.approx(0.9553)
    (mcn,) = [r for r in italy_records if r["claim"] == "R-net-mc" and r["config"]["method"] == "gd"]
    assert row["net_gd_mc_accuracy"] == mcn["metrics"]["net_mc_accuracy"]
    md = to_markdown(rep)
    assert "## Real sequence data" in md and "DataSummary.csv" in md and "| ItalyPowerDemand |" in md


@needs_data
@pytest.mark.selftest
def test_each_profile_items_reproduction_command_rebuilds_the_same_item():
    """A record's ``repro`` parsed by the CLI gives back its item (the same item id, so the
    command reruns exactly that case and resumes into the same store)."""
    import shlex

    from reports.cases._real import real_cases
    from reports.cli import _real_items, build_parser
    from reports.runs._sweep import SweepItem

    cases = [c for c in real_cases() if c.dataset in ("GunPoint", "ArrowHead")]
    assert any(c.train for c in cases) and any(c.max_len is None for c in cases)
    for case in cases + [RealCase("GunPoint", positive=("2",), n_perm=150)]:
        argv = shlex.split(case.repro())
        assert argv[:3] == ["python", "-m", "reports"]
        (item,) = _real_items(build_parser().parse_args(argv[3:]))
        assert item.item_id == SweepItem("real", case).item_id, case.repro()
