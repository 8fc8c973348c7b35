"""How a classifier's answers compare with the targets.

>>> import neuronlab as nl
>>> C = nl.metrics.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0])
>>> C
array([[1, 1, 0],
       [0, 1, 0],
       [1, 0, 1]])
>>> float(C.trace() / C.sum())       # the accuracy: the diagonal counts the right answers
0.6
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab._validation import as_array, check_class_labels, check_count

__all__ = ["confusion_matrix"]


def confusion_matrix(r: Any, y: Any, n_classes: int | None = None) -> np.ndarray:
    r"""Count how often each class is predicted as each class.

    .. math::

        C_{kj} = \#\{\, i : r_i = k,\ y_i = j \,\}

    Row k holds the samples whose target is class k, column j those predicted as
    class j: the diagonal counts the right answers, so the accuracy is
    ``C.trace() / C.sum()`` and row k's diagonal share is the accuracy on class k.

    Parameters
    ----------
    r : array_like of int, shape (m,)
        The target classes 0, 1, ..., n_classes - 1.
    y : array_like of int, shape (m,)
        The predicted classes, e.g. ``Network.predict(X)``.
    n_classes : int, optional
        The number of classes (rows and columns). Default: one more than the largest
        class in `r` or `y`.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
    """
    r = as_array(r, "r", "class indices")
    if r.ndim != 1:
        fix = "; for one-hot rows pass r.argmax(axis=1)" if r.ndim == 2 else ""
        raise ValueError(f"r must be a 1-d array of class indices, got shape {r.shape}{fix}")
    m = r.shape[0]
    r = check_class_labels(r, m, "r")
    y = check_class_labels(y, m, "y")
    largest = int(max(r.max(), y.max())) if m else -1
    if n_classes is None:
        n_classes = largest + 1
    else:
        n_classes = check_count(n_classes, "n_classes")
        if largest >= n_classes:
            name = "r" if m and r.max() == largest else "y"
            raise ValueError(f"{name} holds class {largest} but n_classes is {n_classes} "
                             f"(classes 0 .. {n_classes - 1})")
    # each pair (k, j) becomes the single index k n + j, counted in one pass
    counts = np.bincount(r * n_classes + y, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)
