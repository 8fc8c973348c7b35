"""Toy data sets: shapes, seeds, the geometry they promise, and the stratified split."""
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import neuronlab as nl
from neuronlab import datasets

GENERATORS = {
    "linearly_separable": lambda seed: datasets.linearly_separable(50, 3, seed=seed),
    "blobs": lambda seed: datasets.blobs(50, 3, seed=seed),
    "two_moons": lambda seed: datasets.two_moons(50, seed=seed),
    "circles": lambda seed: datasets.circles(50, seed=seed),
    "spirals": lambda seed: datasets.spirals(50, 3, seed=seed),
    "logic_gate": lambda seed: datasets.logic_gate("xor", 5, noise=0.1, seed=seed),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_seeded_shapes_and_dtypes(name):
    X, y = GENERATORS[name](0)
    X2, y2 = GENERATORS[name](0)
    X3, _ = GENERATORS[name](1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.ndim == 2 and X.shape[0] == y.shape[0]
    assert X.flags.c_contiguous
    assert np.all(np.isfinite(X))
    counts = np.bincount(y)
    assert counts.min() >= 1
    if name not in ("linearly_separable", "logic_gate"):  # their balance follows the data
        assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize(("gate", "table"), [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]),
    ("nand", [1, 1, 1, 0]), ("NOR", [1, 0, 0, 0]), ("xnor", [1, 0, 0, 1])])
def test_logic_gates(gate, table):
    X, y = datasets.logic_gate(gate)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert y.tolist() == table
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    truth = {"and": a & b, "or": a | b, "xor": a ^ b, "nand": ~(a & b), "nor": ~(a | b),
             "xnor": ~(a ^ b)}[gate.lower()]
    np.testing.assert_array_equal(y, truth.astype(int))


@pytest.mark.parametrize("seed", range(5))
def test_linearly_separable_is_learned_by_a_perceptron(seed):
    X, y = datasets.linearly_separable(200, 4, margin=0.3, seed=seed)
    assert set(y.tolist()) == {0, 1}
    p = nl.Perceptron(4, seed=seed).fit(X, y, epochs=1000)
    assert p.converged


def test_xor_is_not_linearly_separable_for_a_perceptron():
    X, y = datasets.logic_gate("xor")
    assert not nl.Perceptron(2, seed=0).fit(X, y, epochs=100).converged


def test_two_moons_geometry():
    X, y = datasets.two_moons(101, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 51 and len(lower) == 50
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-14)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-14)
    assert np.all(lower[:, 1] <= 0.5 + 1e-15)


def test_circles_geometry():
    X, y = datasets.circles(80, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-14)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-14)


def test_spirals_geometry():
    X, y = datasets.spirals(90, 3, noise=0.0, turns=1.0, seed=0)
    r = np.hypot(*X.T)
    assert r.max() == pytest.approx(1.0) and r.min() == 0.0
    angle = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * (r + y / 3)
    keep = r > 0
    np.testing.assert_allclose(np.cos(angle[keep] - expected[keep]), 1.0, atol=1e-12)


def test_blobs_clusters_around_centres():
    X, y = datasets.blobs(3000, 3, n_features=4, std=0.5, seed=0)
    for k in range(3):
        assert X[y == k].std(axis=0) == pytest.approx(np.full(4, 0.5), rel=0.1)


def test_load_digits():
    pytest.importorskip("sklearn")  # an optional dependency; the ImportError is tested below
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_load_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_digits()


@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.5, 7, 0.01])
def test_split_is_stratified_and_a_partition(test_size):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.column_stack([np.arange(100.0), rng.normal(size=100)])
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size, seed=3)
    n_test = test_size if isinstance(test_size, int) else int(np.ceil(test_size * 100))
    assert len(y_test) == n_test and len(y_train) == 100 - n_test
    # a partition of the rows, labels kept with their rows
    ids = np.concatenate([X_train[:, 0], X_test[:, 0]]).astype(int)
    assert sorted(ids.tolist()) == list(range(100))
    np.testing.assert_array_equal(y[X_test[:, 0].astype(int)], y_test)
    # each class within one sample of its share
    share = n_test * np.array([0.6, 0.3, 0.1])
    assert np.all(np.abs(np.bincount(y_test, minlength=3) - share) < 1)


def test_split_reproducible_and_shuffled():
    X, y = datasets.two_moons(100, seed=0)
    a = datasets.train_test_split(X, y, 0.3, seed=1)
    b = datasets.train_test_split(X, y, 0.3, seed=1)
    c = datasets.train_test_split(X, y, 0.3, seed=2)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(("call", "exc", "word"), [
    (lambda: datasets.logic_gate("xand"), ValueError, "gate"),
    (lambda: datasets.logic_gate("and", noise=-1.0), ValueError, "noise"),
    (lambda: datasets.two_moons(0), ValueError, "n_samples"),
    (lambda: datasets.two_moons(10.5), TypeError, "n_samples"),
    (lambda: datasets.circles(10, factor=1.5), ValueError, "factor"),
    (lambda: datasets.spirals(10, n_classes=1), ValueError, "n_classes"),
    (lambda: datasets.linearly_separable(10, margin=0.0), ValueError, "margin"),
    (lambda: datasets.blobs(10, std=float("nan")), ValueError, "std"),
    (lambda: datasets.two_moons(10, seed=-1), ValueError, "seed"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), [0, 1, 0, 1], 1.5), ValueError,
     "test_size"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), [0, 1, 0, 1], 4), ValueError,
     "test_size"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), [0, 1, 0, 1], "half"), TypeError,
     "test_size"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), [0, 1, 0], 0.5), ValueError, "y"),
    (lambda: datasets.train_test_split(np.full((4, 2), np.nan), [0, 1, 0, 1]), ValueError,
     "X"),
    (lambda: datasets.train_test_split(np.zeros((4, 2)), [0, 1, -1, 1]), ValueError, "y"),
])
def test_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=5),
       fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_split_property(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    m = len(y)
    n_test = int(np.ceil(fraction * m))
    assume(1 <= n_test <= m - 1)
    X = np.arange(m, dtype=float)[:, None]
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, fraction, seed=seed)
    assert len(y_test) == n_test
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(rows), np.arange(m))
    np.testing.assert_array_equal(y[X_train[:, 0].astype(int)], y_train)
    share = n_test * np.array(counts) / m
    assert np.all(np.abs(np.bincount(y_test, minlength=len(counts)) - share) < 1)
