"""Real sequence data: UCR/UEA time-series datasets shipped inside the ``aeon`` wheel, or any
train/test pair of the archive's ``.ts`` files a user brings, as tokens.

Needs the optional extra ``pip install -e '.[data]'`` (aeon). Nothing is downloaded: a dataset
(``resolve_dataset``) is either the NAME of a classification dataset shipped in aeon's package
folder (``shipped_datasets()``: every ``<name>_TRAIN.ts`` / ``<name>_TEST.ts`` pair there whose
header says ``@classLabel true``), or a PATH to a local pair (``.../X_TRAIN.ts``, its
``X_TEST.ts``, the prefix ``.../X``, or a folder holding one such pair), read with
``aeon.datasets.load_from_ts_file``. An unknown name is a one-line error naming the closest
names (``difflib``), with how to bring an archive dataset aeon does not ship; a file aeon cannot
parse, with missing values, or without class labels is a one-line error naming the file.

Tokenisation (``Tokenisation``), applied to each series of shape (channels c, length T) in turn:

1. ``normalise``: 'series' z-normalises every channel of every series over its own time steps
   (mean 0, standard deviation 1; a constant channel becomes 0); 'global' subtracts the per-channel
   mean and divides by the per-channel standard deviation of all *training* time steps (the same
   statistics are applied to the test split); 'none' keeps the archive's values.
2. ``max_len``: if the series has more than ``max_len`` tokens (T // w > max_len), it is first
   reduced to exactly ``max_len * w`` time steps, so L stays CPU-friendly; shorter series are not
   touched (``max_len=None``: the full length). ``reduce`` says how: 'paa' (the default; piecewise
   aggregate approximation, Keogh et al. 2001: the means of ``max_len * w`` consecutive windows
   whose lengths differ by at most one, the longer ones first, as ``numpy.array_split`` and aeon's
   ``PAA`` cut them; checked against aeon in checks/test_real_data.py) or 'interp' (linear
   interpolation on a uniform grid: subsampling, which on a spiky series keeps the values at the
   grid points and loses what lies between).
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
one-vs-rest (the real-data reports evaluate every one-vs-rest split from ``y_train_class``;
docs/theory.md section 5, "Real data"). The archive's default train/test split is kept.
``y_train_class`` and ``y_test_class`` keep the multi-class labels (indices into ``classes``).
"""

from __future__ import annotations

import difflib
import functools
import math
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import check_choice, check_int

#: The datasets of the 'real' profile (any other shipped name or a local path loads too):
#: (archive, channels, series length or None if ragged).
DATASETS: dict[str, tuple[str, int, int | None]] = {
    "ACSF1": ("UCR", 1, 1460),
    "ArrowHead": ("UCR", 1, 251),
    "BasicMotions": ("UEA", 6, 100),
    "GunPoint": ("UCR", 1, 150),
    "ItalyPowerDemand": ("UCR", 1, 24),
    "JapaneseVowels": ("UEA", 12, None),
    "OSULeaf": ("UCR", 1, 427),
    "PickupGestureWiimoteZ": ("UCR", 1, None),
}
NORMALISATIONS = ("series", "global", "none")
REDUCTIONS = ("paa", "interp")
RAGGED = ("pad-front", "error")
INSTALL_HINT = "pip install -e '.[data]'"


class MissingExtraError(ImportError):
    """The optional ``data`` extra (aeon) is not installed."""


@dataclass(frozen=True)
class Tokenisation:
    """How a series becomes tokens: ``window`` w time steps per token (d = channels * w),
    ``max_len`` the most tokens before resampling (None: no cap), ``normalise`` one of
    'series' / 'global' / 'none', ``ragged`` 'pad-front' / 'error', ``reduce`` 'paa' / 'interp'
    (how a series longer than ``max_len`` tokens is shortened). See the module docstring."""

    window: int = 1
    max_len: int | None = 64
    normalise: str = "series"
    ragged: str = "pad-front"
    reduce: str = "paa"

    def __post_init__(self):
        check_int("window", self.window, low=1, high=10_000)
        if self.max_len is not None:
            check_int("max_len", self.max_len, low=2, high=100_000)
        check_choice("normalise", self.normalise, NORMALISATIONS)
        check_choice("ragged", self.ragged, RAGGED)
        check_choice("reduce", self.reduce, REDUCTIONS)

    def describe(self) -> dict:
        return {"window": self.window, "max_len": self.max_len, "normalise": self.normalise,
                "ragged": self.ragged, "reduce": self.reduce}


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
        return {"dataset": self.name, "archive": self.meta.get("archive", "-"), "n": self.n,
                "n_test": int(self.X_test.shape[0]), "L": self.L, "d": self.d,
                "classes": list(self.classes), "positive": list(self.positive),
                "positive_fraction_train": float(np.mean(self.y_train > 0)),
                "raw_length": list(self.raw_length), "padded": self.padded,
                **self.tokenisation.describe()}


# ---- reading archive files: shipped in aeon, or a local pair -----------------------------------

def _aeon_data_dir() -> str:
    try:
        import aeon
    except ImportError:
        raise MissingExtraError(
            f"real datasets need the optional 'data' extra (aeon): {INSTALL_HINT}") from None
    return os.path.join(os.path.dirname(aeon.__file__), "datasets", "data")


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset's two files are: ``origin`` 'aeon' (shipped) or 'file' (a local pair)."""

    name: str
    train: str
    test: str
    origin: str

    @property
    def archive(self) -> str:
        return DATASETS[self.name][0] if self.name in DATASETS and self.origin == "aeon" else (
            "aeon" if self.origin == "aeon" else "local file")


def _is_classification(path: str) -> bool:
    """The header of a .ts file says ``@classLabel true`` (regression files say @targetLabel)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            t = line.strip().lower()
            if t.startswith("@classlabel"):
                return t.split()[1:2] == ["true"]
            if t.startswith("@data"):
                return False
    return False


@functools.lru_cache(maxsize=1)
def _shipped(data_dir: str) -> dict[str, tuple[str, str]]:
    out = {}
    for folder in sorted(os.listdir(data_dir)):
        sub = os.path.join(data_dir, folder)
        if not os.path.isdir(sub):
            continue
        for f in sorted(os.listdir(sub)):
            if f.endswith("_TRAIN.ts"):
                name = f[: -len("_TRAIN.ts")]
                test = os.path.join(sub, f"{name}_TEST.ts")
                if os.path.isfile(test) and _is_classification(os.path.join(sub, f)):
                    out[name] = (os.path.join(sub, f), test)
    return out


def shipped_datasets() -> list[str]:
    """Names of the classification datasets (train/test .ts pairs) shipped in the aeon wheel."""
    return sorted(_shipped(_aeon_data_dir()))


def _archive_names() -> set[str]:
    """The UCR/UEA archive's classification dataset names aeon knows (its lists; no files)."""
    try:
        from aeon.datasets import tsc_datasets as t
    except ImportError:
        return set()
    return set(t.univariate) | set(t.multivariate)


def _local_pair(spec: str) -> tuple[str, str] | None:
    """(train, test) paths for a local spec, None when ``spec`` names no existing file/folder."""
    p = os.path.abspath(os.path.expanduser(spec))
    for a, b in (("_TRAIN.ts", "_TEST.ts"), ("_TEST.ts", "_TRAIN.ts")):
        if p.upper().endswith(a.upper()):
            base = p[: -len(a)]
            pair = (p, base + b) if a == "_TRAIN.ts" else (base + b, p)
            return pair if os.path.isfile(p) else None
    if os.path.isdir(p):
        trains = sorted(f for f in os.listdir(p) if f.endswith("_TRAIN.ts"))
        if len(trains) != 1:
            raise ValueError(f"dataset folder {spec!r} holds {len(trains)} *_TRAIN.ts files: pass "
                             "one of them as PATH/NAME_TRAIN.ts")
        t = os.path.join(p, trains[0])
        return t, t[: -len("_TRAIN.ts")] + "_TEST.ts"
    if os.path.isfile(p + "_TRAIN.ts") or os.path.isfile(p + "_TEST.ts"):
        return p + "_TRAIN.ts", p + "_TEST.ts"
    return None


def resolve_dataset(spec: str) -> DatasetSource:
    """A dataset NAME shipped with aeon or a PATH to a local train/test .ts pair (module
    docstring); a one-line ValueError otherwise."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"dataset = {spec!r} is not allowed: give a dataset name or a path")
    shipped = _shipped(_aeon_data_dir())
    if spec in shipped:
        return DatasetSource(spec, *shipped[spec], "aeon")
    looks_like_path = os.sep in spec or spec.endswith(".ts") or spec.startswith((".", "~"))
    pair = _local_pair(spec) if (looks_like_path or os.path.exists(spec)) else None
    if pair is not None:
        for f in pair:
            if not os.path.isfile(f):
                raise ValueError(f"dataset {spec!r}: {f} is missing (a dataset is a NAME_TRAIN.ts "
                                 "and NAME_TEST.ts pair)")
        name = os.path.basename(pair[0])[: -len("_TRAIN.ts")]
        return DatasetSource(name, pair[0], pair[1], "file")
    if looks_like_path:
        raise ValueError(f"dataset {spec!r} is not a file or folder: give PATH/NAME_TRAIN.ts "
                         "(with NAME_TEST.ts beside it), PATH/NAME, or a folder holding one pair")
    archive = _archive_names()
    close = difflib.get_close_matches(spec, sorted(set(shipped) | archive), n=4, cutoff=0.5)
    ci = [n for n in set(shipped) | archive if n.lower() == spec.lower()]
    close = ci + [c for c in close if c not in ci]
    hint = f"; closest: {', '.join(close)}" if close else ""
    if spec in archive:
        raise ValueError(f"dataset {spec!r} is in the UCR/UEA archive but not shipped with aeon "
                         "(nothing is downloaded at run time): fetch its _TRAIN.ts/_TEST.ts "
                         f"files and pass --dataset PATH/{spec}{hint}")
    raise ValueError(f"dataset {spec!r} is unknown (not shipped with aeon, not a path){hint}; "
                     f"shipped: {', '.join(sorted(shipped))}")


def check_dataset(name: str) -> str:
    resolve_dataset(name)
    return name


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_raw(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The archive's series (a list of (channels, T_i) float arrays) and string labels."""
    check_choice("split", split, ("train", "test"))
    src = resolve_dataset(name)
    path = src.train if split == "train" else src.test
    from aeon.datasets import load_from_ts_file

    try:
        X, y = load_from_ts_file(path)
    except Exception as e:  # aeon's parser raises many types: one line naming the file
        raise ValueError(f"dataset file {path} is malformed ({_first_line(e)})") from None
    if y is None or len(y) != len(X) or len(X) == 0:
        raise ValueError(f"dataset file {path} has no class labels (a classification .ts file "
                         "needs '@classLabel true' and one label per series)")
    series = [np.asarray(x, np.float64) for x in X]
    if any(x.ndim != 2 or x.shape[1] < 1 for x in series):
        raise ValueError(f"dataset file {path} is malformed (a series with no time steps)")
    if not all(np.all(np.isfinite(x)) for x in series):
        raise ValueError(f"dataset file {path} has missing or non-finite values: not supported")
    if len({x.shape[0] for x in series}) != 1:
        raise ValueError(f"dataset file {path} is malformed (series with different channel counts)")
    return series, np.array([str(v) for v in y])


# ---- tokenisation --------------------------------------------------------------------------------

def _resample(x: np.ndarray, T_new: int) -> np.ndarray:
    """Linear interpolation of each channel of x (c, T) onto T_new uniformly spaced points."""
    T = x.shape[1]
    grid = np.linspace(0.0, T - 1.0, T_new)
    return np.stack([np.interp(grid, np.arange(T), ch) for ch in x])


def paa(x: np.ndarray, segments: int) -> np.ndarray:
    """Piecewise aggregate approximation of x (c, T): the means of ``segments`` consecutive
    windows cut as ``numpy.array_split`` cuts range(T) (lengths ceil(T/s) first, then floor(T/s);
    aeon's ``PAA`` cuts the same way). exact."""
    x = np.asarray(x, np.float64)
    T = x.shape[1]
    segments = check_int("segments", segments, low=1, high=T)
    q, r = divmod(T, segments)
    sizes = np.full(segments, q)
    sizes[:r] += 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.add.reduceat(x, starts, axis=1) / sizes


def _tokens(x: np.ndarray, tok: Tokenisation) -> np.ndarray:
    """One normalised series (c, T) -> tokens (L, c * w) (steps 2 and 3 of the module docstring)."""
    w = tok.window
    if tok.max_len is not None and x.shape[1] // w > tok.max_len:
        x = paa(x, tok.max_len * w) if tok.reduce == "paa" else _resample(x, tok.max_len * w)
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
    """Load ``name`` (a shipped NAME or a local PATH, ``resolve_dataset``) as tokens and a binary
    +-1 task (module docstring)."""
    src = resolve_dataset(name)
    tok = tokenisation or Tokenisation()
    if not isinstance(tok, Tokenisation):
        raise ValueError(f"tokenisation must be a models.Tokenisation, got {type(tok).__name__}")
    s_tr, lab_tr = load_raw(name, "train")
    s_te, lab_te = load_raw(name, "test")
    classes = _class_order([str(v) for v in lab_tr] + [str(v) for v in lab_te])
    if s_tr[0].shape[0] != s_te[0].shape[0]:
        raise ValueError(f"dataset {name!r}: its train series have {s_tr[0].shape[0]} channels, "
                         f"its test series {s_te[0].shape[0]}")
    if len(set(lab_tr)) < 2:
        raise ValueError(f"dataset {name!r}: its training split has {len(set(lab_tr))} class(es); "
                         "a classification task needs at least 2")
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
        src.name, stack(toks_tr), y_tr, stack(toks_te), y_te, classes, tuple(pos), c_tr, c_te,
        np.array([t.shape[0] for t in toks_tr]), np.array([t.shape[0] for t in toks_te]), tok,
        (min(lengths_raw), max(lengths_raw)), padded=ragged,
        meta={"archive": src.archive, "origin": src.origin, "source": name,
              "channels": int(s_tr[0].shape[0])})


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
