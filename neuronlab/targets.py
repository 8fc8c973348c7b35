r"""The targets a network trains on, as students have them: a classifier's labels of any
kind or rows r (:func:`class_targets`), a regressor's values (:func:`regression_targets`).

A network with K outputs trained with softmax cross-entropy (or cross-entropy, NLL) takes
its targets in one of three forms:

* **class indices** 0..K-1, as integers (or floats that are whole numbers): used as they are;
* **any other labels**, such as strings: sorted by ``np.unique`` into ``classes_``, the
  network's classes, and numbered by their place there; ``predict`` returns the labels;
* **rows r** of shape (m, K): the lecture's targets, one-hot (``np.eye(K)[y]``) or any
  probability rows, each at least 0 and summing to 1. The loss's gradient is then
  literally y - r.

>>> import numpy as np
>>> from neuronlab.targets import class_targets
>>> class_targets(np.array(["cat", "dog", "cat"]), 3, 2, np.float64, None)
(array([0, 1, 0]), array(['cat', 'dog'], dtype='<U3'))
>>> class_targets(np.eye(2)[[1, 0]], 2, 2, np.float64, None)[0]
array([[0., 1.],
       [1., 0.]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab._validation import as_array, as_float_array
from neuronlab.losses.base import check_labels

__all__ = ["class_targets", "labels_of", "regression_targets"]


def class_targets(y: Any, m: int, k: int, dtype: np.dtype, classes: np.ndarray | None,
                  name: str = "y", x_name: str = "X") -> tuple[np.ndarray, np.ndarray | None]:
    """(target, classes) for m samples and k classes: intp class indices, or float rows.

    `classes` are the labels the network already knows (None: none yet). Labels that are
    not class indices are looked up in them; the first such labels a network sees become
    its classes, and must be k of them.
    """
    y = as_array(y, name, "class labels")
    if y.ndim == 2:
        return _rows(y, m, k, dtype, name, x_name), classes
    if y.ndim != 1:
        raise ValueError(f"{name} must be class labels (m,) or rows of class probabilities (m, {k}); "
                         f"got shape {y.shape}")
    if y.shape[0] != m:
        raise ValueError(f"{name} has {y.shape[0]} labels but {x_name} has {m} samples")
    if classes is None and y.dtype.kind in "iuf":
        return check_labels(y, m, k, name), None
    if y.dtype.kind not in "iufUS":     # bools, objects, complex numbers, dates
        return check_labels(y, m, k, name), classes     # its TypeError says what to do
    if classes is not None and (y.dtype.kind in "iuf") != (classes.dtype.kind in "iuf"):
        raise ValueError(f"{name} holds {y.dtype} labels but the network's classes are "
                         f"{_few(classes)}")
    if classes is None:
        found = np.unique(y)
        if found.shape[0] != k:
            raise ValueError(f"{name} has {found.shape[0]} distinct labels ({_few(found)}) but the "
                             f"network has {k} outputs: give the last layer {found.shape[0]} units")
        classes = found
    index = np.searchsorted(classes, y)
    index[index == classes.shape[0]] = 0
    unknown = classes[index] != y
    if unknown.any():
        i = int(np.argmax(unknown))
        raise ValueError(f"{name}[{i}] is {y[i].item()!r}, not one of the network's classes ({_few(classes)})")
    return np.ascontiguousarray(index, dtype=np.intp), classes


def labels_of(target: np.ndarray) -> np.ndarray:
    """The class index of each target: the labels themselves, or each row's largest entry."""
    return target if target.ndim == 1 else np.argmax(target, axis=1)


def regression_targets(y: Any, m: int, k: int, dtype: np.dtype, name: str = "y",
                       x_name: str = "X") -> np.ndarray:
    """A regressor's targets for m samples and k outputs: finite rows (m, k) of `dtype`
    (a vector (m,) is a column when k is 1)."""
    r = as_float_array(y, name, dtype)
    if r.ndim == 1 and k == 1:
        r = r.reshape(-1, 1)
    if r.ndim != 2 or r.shape[0] != m or r.shape[1] != k:
        raise ValueError(f"{name} has shape {r.shape}; expected ({m}, {k}): one row per "
                         f"sample of {x_name} and one column per output of the network")
    if not np.all(np.isfinite(r)):
        i, j = np.argwhere(~np.isfinite(r))[0]
        raise ValueError(f"{name}[{i}, {j}] is {r[i, j]}: the targets must be finite; remove "
                         "those samples or fill in the missing values first")
    return np.ascontiguousarray(r)


def _rows(r: np.ndarray, m: int, k: int, dtype: np.dtype, name: str, x_name: str) -> np.ndarray:
    """One-hot or probability rows: finite, at least 0, each summing to 1."""
    if r.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {r.dtype}; rows of class probabilities must be numbers")
    if r.shape != (m, k):
        raise ValueError(f"{name} has shape {r.shape}; rows of class probabilities must be ({m}, {k}): "
                         f"one row per sample of {x_name}, one column per class")
    r = np.ascontiguousarray(r, dtype=dtype)
    tolerance = 1e-6 if dtype == np.float64 else 1e-4
    sums = r.sum(axis=1)
    bad = ~(np.isfinite(sums) & (np.abs(sums - 1) <= tolerance) & (r.min(axis=1) >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] is {r[i]}, not a row of class probabilities (each at least 0, "
                         "summing to 1): one-hot rows are np.eye(K)[labels]")
    return r


def _few(values: np.ndarray) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:5])
    return shown + (", ..." if values.shape[0] > 5 else "")
