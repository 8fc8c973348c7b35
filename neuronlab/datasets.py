"""Small data sets to train neurons on: logic gates, 2-d toy problems, handwritten digits.

Every generator returns ``(X, y)``: X a float64 array of shape (n_samples, n_features), one
sample per row, and y the int64 class of each row (0, 1, ...). Each takes a ``seed``, so
the same call gives the same data. The toy problems are ordered by difficulty:

==========================  =========================================================
:func:`logic_gate`          AND and OR are linearly separable, XOR is not (Minsky-Papert)
:func:`linearly_separable`  two classes with a margin: a perceptron always converges
:func:`blobs`               Gaussian clusters, one per class
:func:`two_moons`           two interleaved half circles: one hidden layer is enough
:func:`circles`             a ring around a disc: needs a closed decision boundary
:func:`spirals`             interleaved spiral arms: needs several layers or many units
==========================  =========================================================

>>> import neuronlab as nl
>>> X, y = nl.datasets.two_moons(100, noise=0.1, seed=0)
>>> X.shape, y.shape, sorted(set(y.tolist()))
((100, 2), (100,), [0, 1])
>>> X_train, X_test, y_train, y_test = nl.datasets.train_test_split(X, y, 0.2, seed=0)
>>> len(y_test), int(y_test.sum())     # stratified: half of each class
(20, 10)
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from neuronlab._validation import check_class_labels, check_count, check_real, check_samples, make_rng

__all__ = [
    "blobs",
    "circles",
    "linearly_separable",
    "load_digits",
    "logic_gate",
    "spirals",
    "train_test_split",
    "two_moons",
]

_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xnor": [1, 0, 0, 1],
}


def logic_gate(gate: str = "xor", n_repeats: int = 1, noise: float = 0.0,
               seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input gate: X rows (0,0), (0,1), (1,0), (1,1).

    Parameters
    ----------
    gate : {"and", "or", "xor", "nand", "nor", "xnor"}
    n_repeats : int, default 1
        Stack the four rows this many times.
    noise : float, default 0
        Standard deviation of Gaussian noise added to X (the labels stay exact).
    """
    if not isinstance(gate, str) or gate.lower() not in _GATES:
        raise ValueError(f"gate must be one of {sorted(_GATES)}, got {gate!r}")
    n_repeats = check_count(n_repeats, "n_repeats")
    noise = check_real(noise, "noise", low=0.0)
    X = np.tile(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64), (n_repeats, 1))
    y = np.tile(np.array(_GATES[gate.lower()], dtype=np.int64), n_repeats)
    if noise:
        X += make_rng(seed).normal(0.0, noise, X.shape)
    return X, y


def _class_sizes(n_samples: int, n_classes: int) -> np.ndarray:
    """n_samples split into n_classes sizes that differ by at most one."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _labels(sizes: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order]), y[order]


def linearly_separable(n_samples: int = 100, n_features: int = 2, margin: float = 0.5,
                       seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two classes on either side of a random hyperplane, at least `margin` away from it.

    Points are drawn from N(0, I); each is labelled by the side of the plane w.x + b = 0
    it lies on and pushed `margin` further from the plane, so the classes are separated
    by a gap of width 2 * margin (the perceptron's convergence theorem applies).
    """
    n_samples = check_count(n_samples, "n_samples", low=2)
    n_features = check_count(n_features, "n_features")
    margin = check_real(margin, "margin", low=0.0, low_open=True)
    rng = make_rng(seed)
    w = rng.normal(size=n_features)
    w /= np.linalg.norm(w)                      # unit normal of the plane
    b = rng.uniform(-0.5, 0.5)
    X = rng.normal(size=(n_samples, n_features))
    d = X @ w + b                               # signed distance from the plane
    side = np.where(d >= 0, 1.0, -1.0)
    side[:2] = (1.0, -1.0)                      # both classes always present
    # Move each point along w to signed distance side * (|d| + margin): the same side,
    # `margin` further out (the first two are moved across when their side was forced).
    X += np.outer(side * (np.abs(d) + margin) - d, w)
    y = (side > 0).astype(np.int64)
    return _shuffled(X, y, rng)


def blobs(n_samples: int = 100, n_classes: int = 2, n_features: int = 2, std: float = 1.0,
          center_box: float = 10.0, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters N(c_k, std^2 I), one per class, centres c_k uniform in the box
    [-center_box, center_box]^n_features."""
    n_samples = check_count(n_samples, "n_samples")
    n_classes = check_count(n_classes, "n_classes")
    n_features = check_count(n_features, "n_features")
    std = check_real(std, "std", low=0.0)
    center_box = check_real(center_box, "center_box", low=0.0)
    rng = make_rng(seed)
    centres = rng.uniform(-center_box, center_box, size=(n_classes, n_features))
    y = _labels(_class_sizes(n_samples, n_classes))
    X = centres[y] + rng.normal(0.0, std, size=(n_samples, n_features))
    return _shuffled(X, y, rng)


def two_moons(n_samples: int = 100, noise: float = 0.1,
              seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 1: class 0 the upper one centred at (0, 0),
    class 1 the lower one centred at (1, 0.5); Gaussian noise of std `noise` on top."""
    n_samples = check_count(n_samples, "n_samples", low=2)
    noise = check_real(noise, "noise", low=0.0)
    rng = make_rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    t0, t1 = np.linspace(0, math.pi, n0), np.linspace(0, math.pi, n1)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    X += rng.normal(0.0, noise, X.shape)
    return _shuffled(X, _labels(np.array([n0, n1])), rng)


def circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5,
            seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius `factor` < 1."""
    n_samples = check_count(n_samples, "n_samples", low=2)
    noise = check_real(noise, "noise", low=0.0)
    factor = check_real(factor, "factor", low=0.0, low_open=True)
    if factor >= 1:
        raise ValueError(f"factor must be < 1 (the inner circle's radius), got {factor}")
    rng = make_rng(seed)
    sizes = _class_sizes(n_samples, 2)
    radius = np.repeat([1.0, factor], sizes)
    t = rng.uniform(0.0, 2 * math.pi, n_samples)
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    X += rng.normal(0.0, noise, X.shape)
    return _shuffled(X, _labels(sizes), rng)


def spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, turns: float = 0.75,
            seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` spiral arms from the origin out to radius 1, each winding `turns` times.

    Arm k at radius r has angle 2 pi (turns r + k / n_classes), plus Gaussian noise of std
    `noise` on the angle.
    """
    n_samples = check_count(n_samples, "n_samples")
    n_classes = check_count(n_classes, "n_classes", low=2)
    noise = check_real(noise, "noise", low=0.0)
    turns = check_real(turns, "turns", low=0.0, low_open=True)
    rng = make_rng(seed)
    sizes = _class_sizes(n_samples, n_classes)
    y = _labels(sizes)
    r = np.concatenate([np.linspace(0.0, 1.0, n) for n in sizes])
    angle = 2 * math.pi * (turns * r + y / n_classes) + rng.normal(0.0, noise, n_samples)
    X = r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _shuffled(X, y, rng)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 handwritten digits shipped with scikit-learn, pixels scaled to [0, 1].

    Returns X of shape (1797, 64) (the image rows one after another) and the digit y.
    Needs scikit-learn: ``pip install scikit-learn`` (or ``neuronlab[datasets]``).
    """
    try:
        from sklearn.datasets import load_digits as _sklearn_load_digits
    except ImportError as exc:
        raise ImportError("load_digits() reads the digits that scikit-learn ships; install it "
                          "with `pip install scikit-learn` or `pip install neuronlab[datasets]`"
                          ) from exc
    bunch = _sklearn_load_digits()
    X = np.ascontiguousarray(bunch.data, dtype=np.float64) / 16.0  # pixel values 0..16
    return X, bunch.target.astype(np.int64)


def train_test_split(X: Any, y: Any, test_size: float | int = 0.25, seed: Any = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (X, y) into training and test sets with each class in the same proportion.

    Parameters
    ----------
    test_size : float in (0, 1) or int
        The fraction (rounded up) or the number of samples in the test set.

    Returns
    -------
    X_train, X_test, y_train, y_test
        Each set in a random order.

    The test set has ceil(test_size * m) samples, shared among the classes in proportion
    to their sizes (largest remainders get the leftover places).
    """
    X = check_samples(X, "X")
    m = X.shape[0]
    y = check_class_labels(y, m)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction or a count, got {type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    else:
        fraction = check_real(test_size, "test_size", low=0.0, low_open=True)
        if fraction >= 1:
            raise ValueError(f"test_size as a fraction must be < 1, got {fraction}")
        n_test = math.ceil(fraction * m)
    if not 1 <= n_test <= m - 1:
        raise ValueError(f"test_size gives {n_test} test samples out of {m}; "
                         "both sets need at least one")
    rng = make_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = n_test * counts / m
    per_class = np.floor(quota).astype(np.int64)
    leftover = n_test - per_class.sum()
    per_class[np.argsort(-(quota - per_class), kind="stable")[:leftover]] += 1
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k]
                           for c, k in zip(classes, per_class, strict=True)])
    is_test = np.zeros(m, dtype=bool)
    is_test[test] = True
    train, test = rng.permutation(np.flatnonzero(~is_test)), rng.permutation(test)
    return X[train], X[test], y[train], y[test]
