"""Checks of the data a model is trained on: sample matrices, labels, counts, seeds.

They build on :mod:`neuronlab._validation` (dtype, contiguity) and add what models need:
samples in rows, the right number of features, finite values, labels of the right kind.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from neuronlab._validation import as_array, as_float_array


def check_samples(X: Any, name: str = "X", n_features: int | None = None,
                  dtype: np.dtype | None = None, taken_by: str | None = None) -> np.ndarray:
    """`X` as a finite, C-contiguous float (m, n_features) matrix: one sample per row.

    A 1-d `X` is a single sample when `n_features` is known (it becomes one row).
    `taken_by` names what takes the n_features inputs ("the network's first layer") in the
    message for a wrong number of features.
    """
    X = as_float_array(X, name, dtype)
    if X.ndim == 1 and n_features is not None and X.shape[0] == n_features:
        X = X.reshape(1, -1)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array with one sample per row, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {X.shape})")
    if n_features is not None and X.shape[1] != n_features:
        if taken_by is not None:
            raise ValueError(f"{name} has {X.shape[1]} features per sample but {taken_by} takes "
                             f"{n_features} inputs")
        raise ValueError(f"{name} has {X.shape[1]} features per sample (shape {X.shape}) "
                         f"but {n_features} are expected")
    # min and max propagate NaN and expose +-inf: two sweeps, no temporary array
    if not (np.isfinite(X.min()) and np.isfinite(X.max())):
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{name}[{i}, {j}] is {X[i, j]}: the samples must be finite numbers")
    return X


def check_binary_labels(y: Any, m: int, name: str = "y") -> np.ndarray:
    """`y` as a float64 vector of m labels, each 0 or 1."""
    y = as_array(y, name, "0/1 labels")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers 0 and 1, got dtype {y.dtype}")
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.shape != (m,):
        raise ValueError(f"{name} has shape {y.shape} but X has {m} samples: expected ({m},)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name} must contain only the labels 0 and 1")
    return y.astype(np.float64)


def check_class_labels(y: Any, m: int, name: str = "y") -> np.ndarray:
    """`y` as an int64 vector of m class indices 0, 1, 2, ..."""
    y = as_array(y, name, "class indices")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold whole-number class indices")
    elif y.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (m,):
        raise ValueError(f"{name} has shape {y.shape} but there are {m} samples: expected ({m},)")
    if m and y.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got {y.min()}")
    return y.astype(np.int64)


def check_count(value: Any, name: str, low: int = 1) -> int:
    """A whole number >= `low` (epochs, units, samples)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def make_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A NumPy Generator from `seed` (None, an int >= 0, or a Generator passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{name} must be None, an integer or a numpy Generator, "
                        f"got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return np.random.default_rng(seed)
