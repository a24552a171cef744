"""Real sequence data: UCR/UEA time-series datasets shipped inside the ``aeon`` wheel, as tokens.

Needs the optional extra ``pip install -e '.[data]'`` (aeon). Nothing is downloaded: the archive
files ``<name>_TRAIN.ts`` / ``<name>_TEST.ts`` are read from aeon's package folder with
``aeon.datasets.load_from_ts_file``, so a missing file is an error, never a network fetch.

Tokenisation (``Tokenisation``), applied to each series of shape (channels c, length T) in turn:

1. ``normalise``: 'series' z-normalises every channel of every series over its own time steps
   (mean 0, standard deviation 1; a constant channel becomes 0); 'global' subtracts the per-channel
   mean and divides by the per-channel standard deviation of all *training* time steps (the same
   statistics are applied to the test split); 'none' keeps the archive's values.
2. ``max_len``: if the series has more than ``max_len`` tokens (T // w > max_len), it is first
   resampled by linear interpolation on a uniform grid to exactly ``max_len * w`` time steps, so L
   stays CPU-friendly; shorter series are not touched (``max_len=None``: never resampled).
3. ``window`` w: non-overlapping windows of w consecutive time steps form one token, the window's
   c * w values (time-major: step 1's channels, then step 2's, ...), so d = c * w and
   L = T // w. The remainder T mod w is dropped at the *front*: the last values, which reach the
   RNN's output h_L through the fewest recurrent steps, are kept.
4. Tokens are divided by sqrt(d), so that under 'series' normalisation the mean squared token
   norm is 1 (the synthetic tasks' scale r = 1). The kernel's complexity C_n is invariant under
   this scaling (docs/theory.md section 3, homogeneity); the trained network is not, which is why it is
   fixed here.

Ragged series (JapaneseVowels: 7 to 29 steps) are tokenised one by one and then padded with zero
tokens at the *front* to the longest token length of both splits (``ragged='pad-front'``). For
this model that padding is exact: h_0 = 0 and relu(W 0 + A 0) = 0, so leading zero tokens leave
every h_l, f(W; x) and its W-gradient unchanged, and in the kernel's recursion (docs/theory.md
section 3, ``theory._kernel``) a zero token with s_0 = 0 gives c_l = 0, k0 = k1 = 0, hence
(s, T) = (0, 0) again: H(x, x') is exactly that of the unpadded pair (checked in
``checks/test_real_data.py``). ``ragged='error'`` refuses ragged data instead.

Binary task: the classes (sorted; numerically when every label is a number) are split into a
positive set (label +1) and the rest (-1). ``positive=None`` takes the first ceil(k/2) classes,
which for a two-class dataset is simply class 1 vs class 2; pass ``positive=('3',)`` for
one-vs-rest. The archive's default train/test split is kept. ``y_train_class`` and
``y_test_class`` keep the multi-class labels (indices into ``classes``) for multi-class runs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import check_choice, check_int

#: The datasets this loader knows: (archive, channels, series length or None if ragged).
DATASETS: dict[str, tuple[str, int, int | None]] = {
    "ArrowHead": ("UCR", 1, 251),
    "BasicMotions": ("UEA", 6, 100),
    "GunPoint": ("UCR", 1, 150),
    "ItalyPowerDemand": ("UCR", 1, 24),
    "JapaneseVowels": ("UEA", 12, None),
    "OSULeaf": ("UCR", 1, 427),
}
NORMALISATIONS = ("series", "global", "none")
RAGGED = ("pad-front", "error")
INSTALL_HINT = "pip install -e '.[data]'"


class MissingExtraError(ImportError):
    """The optional ``data`` extra (aeon) is not installed."""


@dataclass(frozen=True)
class Tokenisation:
    """How a series becomes tokens: ``window`` w time steps per token (d = channels * w),
    ``max_len`` the most tokens before resampling (None: no cap), ``normalise`` one of
    'series' / 'global' / 'none', ``ragged`` 'pad-front' / 'error'. See the module docstring."""

    window: int = 1
    max_len: int | None = 64
    normalise: str = "series"
    ragged: str = "pad-front"

    def __post_init__(self):
        check_int("window", self.window, low=1, high=10_000)
        if self.max_len is not None:
            check_int("max_len", self.max_len, low=2, high=100_000)
        check_choice("normalise", self.normalise, NORMALISATIONS)
        check_choice("ragged", self.ragged, RAGGED)

    def describe(self) -> dict:
        return {"window": self.window, "max_len": self.max_len, "normalise": self.normalise,
                "ragged": self.ragged}


@dataclass(frozen=True)
class RealData:
    """A dataset as tokens with +-1 labels on the archive's train/test split."""

    name: str
    X_train: np.ndarray  # (n, L, d) float64
    y_train: np.ndarray  # (n,) +-1
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    positive: tuple[str, ...]
    y_train_class: np.ndarray  # (n,) int index into classes
    y_test_class: np.ndarray
    lengths_train: np.ndarray  # tokens per series before padding
    lengths_test: np.ndarray
    tokenisation: Tokenisation
    raw_length: tuple[int, int]  # min, max time steps over both splits
    padded: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.X_train.shape[0]

    @property
    def L(self) -> int:
        return self.X_train.shape[1]

    @property
    def d(self) -> int:
        return self.X_train.shape[2]

    def majority_accuracy(self) -> float:
        """Test accuracy of predicting the training set's majority label (ties: +1)."""
        maj = 1.0 if np.sum(self.y_train > 0) >= np.sum(self.y_train < 0) else -1.0
        return float(np.mean(self.y_test == maj))

    def describe(self) -> dict:
        return {"dataset": self.name, "archive": DATASETS[self.name][0], "n": self.n,
                "n_test": int(self.X_test.shape[0]), "L": self.L, "d": self.d,
                "classes": list(self.classes), "positive": list(self.positive),
                "positive_fraction_train": float(np.mean(self.y_train > 0)),
                "raw_length": list(self.raw_length), "padded": self.padded,
                **self.tokenisation.describe()}


# ---- reading the shipped archive files ---------------------------------------------------------

def _aeon_data_dir() -> str:
    try:
        import aeon
    except ImportError:
        raise MissingExtraError(
            f"real datasets need the optional 'data' extra (aeon): {INSTALL_HINT}") from None
    return os.path.join(os.path.dirname(aeon.__file__), "datasets", "data")


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r} is unknown: choose one of {sorted(DATASETS)}")
    return name


def load_raw(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The archive's series (a list of (channels, T_i) float arrays) and string labels."""
    check_dataset(name)
    check_choice("split", split, ("train", "test"))
    path = os.path.join(_aeon_data_dir(), name, f"{name}_{split.upper()}.ts")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing from the aeon installation (aeon >= 1.0 "
                                f"ships it): reinstall with {INSTALL_HINT}")
    from aeon.datasets import load_from_ts_file

    X, y = load_from_ts_file(path)
    series = [np.asarray(x, np.float64) for x in X]
    return series, np.array([str(v) for v in y])


# ---- tokenisation --------------------------------------------------------------------------------

def _resample(x: np.ndarray, T_new: int) -> np.ndarray:
    """Linear interpolation of each channel of x (c, T) onto T_new uniformly spaced points."""
    T = x.shape[1]
    grid = np.linspace(0.0, T - 1.0, T_new)
    return np.stack([np.interp(grid, np.arange(T), ch) for ch in x])


def _tokens(x: np.ndarray, tok: Tokenisation) -> np.ndarray:
    """One normalised series (c, T) -> tokens (L, c * w) (steps 2 and 3 of the module docstring)."""
    w = tok.window
    if tok.max_len is not None and x.shape[1] // w > tok.max_len:
        x = _resample(x, tok.max_len * w)
    T = x.shape[1]
    L = T // w
    if L < 1:
        raise ValueError(f"window = {w} is out of range for a series of {T} time steps: "
                         f"allowed 1 <= window <= {T}")
    x = x[:, T - L * w:]  # drop the remainder at the front
    return x.T.reshape(L, w * x.shape[0])  # (L, w, c) time-major, flattened per token


def _zscore(x: np.ndarray, mean, std) -> np.ndarray:
    return (x - mean) / np.where(std > 0, std, 1.0)


def _normalised(series: list[np.ndarray], tok: Tokenisation, stats) -> list[np.ndarray]:
    if tok.normalise == "series":
        return [_zscore(x, x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True))
                for x in series]
    if tok.normalise == "global":
        return [_zscore(x, *stats) for x in series]
    return series


def _class_order(labels) -> tuple[str, ...]:
    u = sorted(set(labels))
    try:
        return tuple(sorted(u, key=float))
    except ValueError:
        return tuple(u)


def load_real(name: str, tokenisation: Tokenisation | None = None, *,
              positive=None) -> RealData:
    """Load ``name`` (see ``DATASETS``) as tokens and a binary +-1 task (module docstring)."""
    check_dataset(name)
    tok = tokenisation or Tokenisation()
    if not isinstance(tok, Tokenisation):
        raise ValueError(f"tokenisation must be a models.Tokenisation, got {type(tok).__name__}")
    s_tr, lab_tr = load_raw(name, "train")
    s_te, lab_te = load_raw(name, "test")
    classes = _class_order([str(v) for v in lab_tr] + [str(v) for v in lab_te])
    if positive is None:
        pos = classes[: math.ceil(len(classes) / 2)]
    else:
        pos = (positive,) if isinstance(positive, str) else tuple(str(p) for p in positive)
        unknown = [p for p in pos if p not in classes]
        if unknown or not pos:
            raise ValueError(f"positive = {list(pos)} is not allowed for {name}: choose a "
                             f"non-empty subset of its classes {list(classes)}")
        if len(set(pos)) == len(classes):
            raise ValueError(f"positive = {list(pos)} names every class of {name}: "
                             "the binary task needs a negative class")
    lengths_raw = [x.shape[1] for x in s_tr + s_te]
    ragged = len(set(lengths_raw)) > 1
    if ragged and tok.ragged == "error":
        raise ValueError(f"{name} has series of {min(lengths_raw)} to {max(lengths_raw)} time "
                         "steps (ragged) and ragged='error': use ragged='pad-front'")
    cat = np.concatenate(s_tr, axis=1)  # (c, sum of T_i): the training split's time steps
    stats = (cat.mean(axis=1, keepdims=True), cat.std(axis=1, keepdims=True))
    toks_tr = [_tokens(x, tok) for x in _normalised(s_tr, tok, stats)]
    toks_te = [_tokens(x, tok) for x in _normalised(s_te, tok, stats)]
    Lmax = max(t.shape[0] for t in toks_tr + toks_te)
    d = toks_tr[0].shape[1]

    def stack(toks):
        X = np.zeros((len(toks), Lmax, d))
        for i, t in enumerate(toks):
            X[i, Lmax - t.shape[0]:] = t  # front padding with zero tokens (exact, see above)
        return X / math.sqrt(d)

    def labels(lab):
        idx = np.array([classes.index(v) for v in lab])
        return np.where(np.isin(lab, pos), 1.0, -1.0), idx

    y_tr, c_tr = labels(lab_tr)
    y_te, c_te = labels(lab_te)
    return RealData(
        name, stack(toks_tr), y_tr, stack(toks_te), y_te, classes, tuple(pos), c_tr, c_te,
        np.array([t.shape[0] for t in toks_tr]), np.array([t.shape[0] for t in toks_te]), tok,
        (min(lengths_raw), max(lengths_raw)), padded=ragged)


def data_available() -> tuple[bool, str]:
    """(True, '') when the 'data' extra is installed; else (False, the reason with the command)."""
    try:
        _aeon_data_dir()
    except MissingExtraError as e:
        return False, str(e)
    return True, ""


# ---- SGD on a finite training set ---------------------------------------------------------------

@dataclass(frozen=True)
class EmpiricalTask:
    """The uniform distribution over a fixed training set, as a ``Task``-like JAX pytree.

    ``sample(key, n)`` draws n indices with replacement, so the paper's online SGD (one fresh
    sample per step, ``models.train``) runs on real data as SGD with replacement over the training
    set: its samples are i.i.d. from the empirical distribution, not from the data distribution.
    """

    X: jax.Array
    y: jax.Array

    def sample(self, key: jax.Array, n: int, dtype=jnp.float32):
        idx = jax.random.randint(key, (n,), 0, self.X.shape[0])
        return (jnp.take(jnp.asarray(self.X), idx, axis=0).astype(dtype),
                jnp.take(jnp.asarray(self.y), idx, axis=0).astype(dtype))


jax.tree_util.register_dataclass(EmpiricalTask, data_fields=["X", "y"], meta_fields=[])
