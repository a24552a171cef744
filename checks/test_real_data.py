"""Real sequence data (issue 13): the loader, front padding, the label-separation rule, and a
CI-sized run of the real-data case (``reports/_real.py``).

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
from reports._real import PUBLISHED, RealCase, evaluate_real_case, one_nn_accuracy

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


# ---- the separation rule ---------------------------------------------------------------------------

@pytest.mark.fast
def test_label_separation_rule():
    ok = T.label_separation(10.0, [25.0, 30.0], 0.95, 0.5, 1000)
    assert ok.applies and ok.separated and ok.verdict == "separated" and ok.ratio == 2.5
    bad = T.label_separation(10.0, [25.0, 15.0], 0.95, 0.5, 1000)  # the smallest seed decides
    assert bad.applies and not bad.separated and bad.verdict == "NOT separated"
    # the kernel must beat the majority class by more than the Chernoff-KL margin
    na = T.label_separation(10.0, [11.0], 0.55, 0.5, 100)
    assert not na.applies and na.verdict.startswith("not applicable")
    assert T.label_separation(10.0, [11.0], 0.55, 0.5, 100_000).applies
    assert T.PROVENANCE["label_separation"] == "prior"


@pytest.mark.selftest
def test_label_separation_validation():
    with pytest.raises(ValueError, match=r"C_true = 0.0 is out of range"):
        T.label_separation(0.0, [1.0], 0.9, 0.5, 10)
    with pytest.raises(ValueError, match="at least one random-label complexity"):
        T.label_separation(1.0, [], 0.9, 0.5, 10)
    with pytest.raises(ValueError, match=r"kernel_accuracy = 1.5 is out of range"):
        T.label_separation(1.0, [2.0], 1.5, 0.5, 10)
    with pytest.raises(ValueError, match=r"factor = 0.5 is out of range"):
        T.label_separation(1.0, [2.0], 0.9, 0.5, 10, factor=0.5)


# ---- loader validation -----------------------------------------------------------------------------

@pytest.mark.selftest
def test_loader_validation_messages():
    with pytest.raises(ValueError, match=r"dataset 'Nope' is unknown: choose one of \['ArrowHead', "
                                         r"'BasicMotions', 'GunPoint', 'ItalyPowerDemand', "
                                         r"'JapaneseVowels', 'OSULeaf'\]"):
        M.load_real("Nope")
    with pytest.raises(ValueError, match=r"window = 0 is out of range: allowed 1 <= window"):
        M.Tokenisation(window=0)
    with pytest.raises(ValueError, match=r"max_len = 1 is out of range: allowed 2 <= max_len"):
        M.Tokenisation(max_len=1)
    with pytest.raises(ValueError, match=r"normalise = 'minmax' is not allowed: choose one of"):
        M.Tokenisation(normalise="minmax")
    with pytest.raises(ValueError, match=r"ragged = 'trim' is not allowed"):
        M.Tokenisation(ragged="trim")
    with pytest.raises(ValueError, match=r"dataset 'gunpoint' is unknown"):
        RealCase("gunpoint")
    with pytest.raises(ValueError, match=r"ns = \(2,\): give sample sizes n >= 4"):
        RealCase("GunPoint", ns=(2,))


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
    (k,) = [r for r in italy_records if r["claim"] == "R-kernel"]
    m = k["metrics"]
    sep = T.label_separation(m["C_true"], m["C_random"], m["kernel_accuracy"],
                             m["majority_accuracy"], k["config"]["n_test"])
    assert k["verdict"] == sep.verdict  # the record's verdict is the theory rule's
    # ItalyPowerDemand: the kernel clearly beats the majority class, and random labels cost
    # >= 2x the complexity (measured ratio ~3 at n = 48 and 67)
    assert sep.applies and sep.separated, m
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


@needs_data
@pytest.mark.bounds
def test_separation_rule_rejects_random_labels_posing_as_true(italy_records):
    """Negative control: give the rule a random labelling in the place of the true labels (its
    C_n against the other random seeds'): the ratio is ~1 and the rule must not say separated."""
    rand = [r for r in italy_records if r["claim"] == "G1" and r["config"]["n"] == 48
            and r["config"]["role"] == "random"]
    C0, C1 = (r["metrics"]["C_n"] for r in sorted(rand, key=lambda r: r["config"]["label_seed"]))
    sep = T.label_separation(C0, [C1], 0.95, 0.5, 300)  # even granting a good 'kernel'
    assert sep.applies and not sep.separated, (C0, C1)


@pytest.mark.selftest
def test_real_profile_without_the_extra_is_a_clear_cli_error(monkeypatch, tmp_path, capsys):
    from reports._cli import main

    monkeypatch.setitem(sys.modules, "aeon", None)
    assert main(["run", "--profile", "real", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: real datasets need the optional 'data' extra (aeon): pip install -e '.[data]'" in err
    assert not (tmp_path / "results.jsonl").exists()


@needs_data
@pytest.mark.selftest
def test_real_section_renders_from_the_records(italy_records):
    from reports._markdown import to_markdown
    from reports._render import build_report
    from reports._store import StoreContents

    rep = build_report(StoreContents(records=italy_records, corrupt=[]))
    (row,) = rep["real"]["comparison"]
    (k,) = [r for r in italy_records if r["claim"] == "R-kernel"]
    assert row["n"] == 48 and row["ratio"] == k["metrics"]["separation"]["ratio"]
    assert row["C_random_min"] == min(k["metrics"]["C_random"])
    assert row["published"]["1-NN ED"] == pytest.approx(0.9553)
    md = to_markdown(rep)
    assert "## Real sequence data" in md and "DataSummary.csv" in md and "| ItalyPowerDemand |" in md
