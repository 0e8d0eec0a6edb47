"""Data for the deep experiments, with nothing fetched at run time.

- `load_digits`: scikit-learn's 8×8 digits (1797 × 64), which ships inside the scikit-learn wheel
  (an optional dependency: ``pip install scikit-learn``, or the project's ``test`` extra). Pixels are
  scaled from 0..16 to [0, 1].
- `load_fashion_mnist`: Fashion-MNIST (Xiao et al. 2017), the paper's data set, read from files the
  user already has: the four standard IDX files (``train-images-idx3-ubyte`` and friends, optionally
  gzipped) in a folder, or one ``.npz``. Pixels are scaled from 0..255 to [0, 1].

Both return float64 arrays of shape (n, d), one flattened image per row.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from landscape.common import checks as V

__all__ = ["DATASETS", "load_digits", "load_fashion_mnist", "load_dataset", "check_training_data"]

DATASETS = ("digits", "fashion_mnist")

#: The IDX image files looked for in a Fashion-MNIST folder, by split (each may also end in .gz).
FASHION_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
#: Keys tried, in order, in a Fashion-MNIST .npz (Keras' ``fashion_mnist.npz`` uses x_train / x_test).
NPZ_KEYS = {"train": ("x_train", "train_images", "images", "X", "x"), "test": ("x_test", "test_images")}


def _fashion_help(path) -> str:
    return (
        f"Fashion-MNIST was not found at {str(path)!r}. Nothing is downloaded at run time: pass either "
        "(a) a folder holding the standard IDX files train-images-idx3-ubyte and t10k-images-idx3-ubyte "
        "(as distributed at https://github.com/zalandoresearch/fashion-mnist, gzipped .gz or not; the label "
        "files are not needed), or (b) an .npz file with the images under the key 'x_train' (and 'x_test'), "
        "uint8 of shape (60000, 28, 28) or (60000, 784), as in Keras' fashion_mnist.npz."
    )


def check_training_data(X, *, name: str = "X") -> np.ndarray:
    """X as a float64 (n, d) array: 2-D, n ≥ 2, finite, not constant; ValueError naming ``name`` otherwise."""
    if X is None:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d), got None.")
    arr = np.asarray(X)
    V.check_data(arr, name=name)
    arr = arr.astype(np.float64)
    V.check_not_constant(arr, name=name)
    return arr


def load_digits(n: int | None = None, *, seed: int = 0) -> np.ndarray:
    """scikit-learn's 8×8 digits as a (1797, 64) float64 array in [0, 1] (shipped in the wheel, no download).

    Args:
      n: keep a random subset of n rows (drawn with ``seed``); None keeps all 1797.
    """
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:
        raise ImportError(
            "the default data set of the deep experiments is scikit-learn's digits, which ships inside "
            "scikit-learn (no download): pip install scikit-learn (or pip install -e '.[test]')."
        ) from None
    X = _load().data.astype(np.float64) / 16.0
    return _subset(X, n, seed)


def _subset(X: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    if n is None:
        return X
    n, seed = V.check_size("n", n, 2), V.check_seed("seed", seed)
    if n > X.shape[0]:
        raise ValueError(f"n must be at most the number of data points ({X.shape[0]}), got {n}.")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    return X[np.sort(rng.choice(X.shape[0], size=n, replace=False))]


def _read_idx_images(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
    if magic != 0x00000803:
        raise ValueError(
            f"{path} is not an IDX image file: magic number {magic if magic is None else hex(magic)}, expected "
            "0x803 (unsigned bytes, 3 dimensions). Is it a label file (…-labels-idx1-ubyte)?"
        )
    if len(data) < 16:
        raise ValueError(f"{path} is not an IDX image file (only {len(data)} bytes, the header needs 16).")
    _, count, rows, cols = struct.unpack(">IIII", data[:16])
    size = count * rows * cols
    if len(data) - 16 != size:
        raise ValueError(
            f"{path}: the header says {count}×{rows}×{cols} = {size} bytes, the file has {len(data) - 16}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows * cols)


def load_fashion_mnist(path, *, split: str = "train", n: int | None = None, seed: int = 0) -> np.ndarray:
    """Fashion-MNIST images as an (N, 784) float64 array in [0, 1], from local files (never downloaded).

    Args:
      path: a folder with ``train-images-idx3-ubyte`` / ``t10k-images-idx3-ubyte`` (or ``.gz``), or an
        ``.npz`` with ``x_train`` / ``x_test``.
      split: "train" (60000 images) or "test" (10000).
      n: keep a random subset of n rows (drawn with ``seed``).

    Raises:
      FileNotFoundError: the files are missing; the message says exactly what is expected.
    """
    if split not in FASHION_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    if path is None or str(path) == "":
        raise FileNotFoundError(_fashion_help(path))
    p = Path(path).expanduser()
    if p.is_dir():
        base = p / FASHION_FILES[split]
        candidates = [base, base.with_name(base.name + ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(_fashion_help(p) + f" Looked for {candidates[0].name}[.gz] in {p}.")
        images = _read_idx_images(found)
    elif p.is_file() and p.suffix == ".npz":
        with np.load(p) as z:
            key = next((k for k in NPZ_KEYS[split] if k in z.files), None)
            if key is None:
                raise ValueError(
                    f"{p} has no {split} images: expected one of the keys {list(NPZ_KEYS[split])}, found {z.files}."
                )
            images = np.asarray(z[key])
        images = images.reshape(images.shape[0], -1)
    elif p.is_file() and p.name.endswith(("idx3-ubyte", "idx3-ubyte.gz")):
        images = _read_idx_images(p)
    else:
        raise FileNotFoundError(_fashion_help(p))
    X = images.astype(np.float64)
    if X.max() > 1.0:
        X = X / 255.0
    return _subset(X, n, seed)


def load_dataset(name: str, *, path=None, n: int | None = None, seed: int = 0) -> np.ndarray:
    """``"digits"`` (default of the CPU sweep) or ``"fashion_mnist"`` (needs ``path``), as (n, d) float64."""
    if name == "digits":
        return load_digits(n, seed=seed)
    if name == "fashion_mnist":
        return load_fashion_mnist(path, n=n, seed=seed)
    raise ValueError(f"data set must be one of {DATASETS}, got {name!r}.")
