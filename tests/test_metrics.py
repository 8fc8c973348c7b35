"""neuronlab.metrics.confusion_matrix against counting by hand."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neuronlab as nl

labels = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=60)


@given(labels)
def test_confusion_matrix_counts_every_pair(pairs):
    r = np.array([k for k, _ in pairs], dtype=np.int64)
    y = np.array([j for _, j in pairs], dtype=np.int64)
    C = nl.metrics.confusion_matrix(r, y)
    n = max([*r, *y], default=-1) + 1
    expected = np.zeros((n, n), dtype=np.int64)
    for k, j in pairs:
        expected[k, j] += 1
    assert C.dtype == np.int64
    np.testing.assert_array_equal(C, expected)


def test_confusion_matrix_rows_are_targets_columns_predictions():
    C = nl.metrics.confusion_matrix([2, 2, 2], [0, 0, 1], n_classes=4)
    assert C.shape == (4, 4)
    assert C[2, 0] == 2 and C[2, 1] == 1 and C.sum() == 3


def test_confusion_matrix_takes_lists_bools_and_whole_floats():
    np.testing.assert_array_equal(nl.metrics.confusion_matrix([True, False], [1.0, 1.0]),
                                  [[0, 1], [0, 1]])


def test_confusion_matrix_of_nothing():
    assert nl.metrics.confusion_matrix([], []).shape == (0, 0)
    assert nl.metrics.confusion_matrix([], [], n_classes=3).sum() == 0


@pytest.mark.parametrize(("r", "y", "n_classes", "error", "match"), [
    ([0, 1], [0], None, ValueError, "y has shape"),
    ([[0, 1]], [0, 1], None, ValueError, "r must be a 1-d array"),
    ([0, -1], [0, 1], None, ValueError, "r must hold class indices >= 0"),
    ([0, 1], [0, 0.5], None, ValueError, "y must hold whole-number class indices"),
    ([0, 1], ["a", "b"], None, TypeError, "y must hold integer class indices"),
    ([0, 3], [0, 1], 3, ValueError, "r holds class 3 but n_classes is 3"),
    ([0, 1], [0, 5], 3, ValueError, "y holds class 5 but n_classes is 3"),
    ([0, 1], [0, 1], 0, ValueError, "n_classes must be >= 1"),
    ([0, 1], [0, 1], 2.0, TypeError, "n_classes must be an integer"),
])
def test_confusion_matrix_bad_input(r, y, n_classes, error, match):
    with pytest.raises(error, match=match):
        nl.metrics.confusion_matrix(r, y, n_classes)
