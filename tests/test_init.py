"""Weight initializers: shapes, dtypes, seeds and the variances they promise."""
import math

import numpy as np
import pytest

import neuronlab as nl
from neuronlab import init

N_OUT, N_IN = 300, 500  # 150 000 draws: the sample variance is within ~0.4% (1 sigma)

# name -> the variance of w for W of shape (N_OUT, N_IN)
VARIANCE = {
    "normal": 0.01 ** 2,
    "xavier_uniform": 2 / (N_IN + N_OUT),
    "xavier_normal": 2 / (N_IN + N_OUT),
    "he_uniform": 2 / N_IN,
    "he_normal": 2 / N_IN,
    "lecun_uniform": 1 / N_IN,
    "lecun_normal": 1 / N_IN,
}


@pytest.mark.parametrize("name", sorted(VARIANCE))
def test_variance_and_mean(name):
    W = init.get(name)((N_OUT, N_IN), rng=0)
    assert W.shape == (N_OUT, N_IN)
    assert W.dtype == np.float64
    assert W.var() == pytest.approx(VARIANCE[name], rel=0.02)
    assert abs(W.mean()) < 4 * math.sqrt(VARIANCE[name] / W.size)


@pytest.mark.parametrize("name", ["xavier_uniform", "he_uniform", "lecun_uniform"])
def test_uniform_bounds(name):
    W = init.get(name)((N_OUT, N_IN), rng=1)
    limit = math.sqrt(3 * VARIANCE[name])
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.999 * limit  # the whole interval is used


def test_xavier_uniform_limit_formula():
    # l = sqrt(6 / (fan_in + fan_out)) as in Glorot and Bengio (2010), eq. 16
    W = init.xavier_uniform((3, 5), rng=np.random.default_rng(0))
    limit = math.sqrt(6 / 8)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(W, rng.uniform(-limit, limit, size=(3, 5)))


def test_fan_in_is_the_number_of_columns():
    assert init.fans((10, 784)) == (784, 10)
    assert init.fans((7,)) == (7, 7)
    # He depends on fan_in only: a tall and a wide matrix differ
    wide = init.he_normal((10, 1000), rng=0)
    tall = init.he_normal((1000, 10), rng=0)
    assert wide.std() == pytest.approx(math.sqrt(2 / 1000), rel=0.05)
    assert tall.std() == pytest.approx(math.sqrt(2 / 10), rel=0.05)


def test_options_gain_std_slope():
    W = init.get("xavier_normal", gain=2.0)((N_OUT, N_IN), rng=0)
    assert W.var() == pytest.approx(4 * 2 / (N_IN + N_OUT), rel=0.02)
    W = init.get("normal", std=0.5)((N_OUT, N_IN), rng=0)
    assert W.std() == pytest.approx(0.5, rel=0.02)
    W = init.he_normal((N_OUT, N_IN), rng=0, negative_slope=1.0)  # identity: 1 / fan_in
    assert W.var() == pytest.approx(1 / N_IN, rel=0.02)


@pytest.mark.parametrize("name", init.available())
def test_seed_dtype_and_shape(name):
    f = init.get(name)
    a = f((4, 6), rng=3, dtype=np.float32)
    b = f((4, 6), rng=3, dtype=np.float32)
    assert a.dtype == np.float32
    assert a.shape == (4, 6)
    np.testing.assert_array_equal(a, b)
    assert f((5,), rng=0).shape == (5,)


def test_seed_changes_draws():
    assert not np.array_equal(init.he_normal((4, 4), rng=0), init.he_normal((4, 4), rng=1))


def test_zeros():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))


def test_aliases():
    assert init.get("glorot_uniform") is init.xavier_uniform
    assert init.get("kaiming_normal") is init.he_normal
    assert init.get("he") is init.he_normal
    assert init.get(init.lecun_normal) is init.lecun_normal
    assert nl.init is init


def test_for_activation():
    assert init.for_activation("relu") == "he_normal"
    assert init.for_activation("selu") == "lecun_normal"
    assert init.for_activation("tanh") == "xavier_uniform"


@pytest.mark.parametrize(("call", "exc", "word"), [
    (lambda: init.get("nope"), ValueError, "unknown initializer"),
    (lambda: init.get(3), TypeError, "init"),
    (lambda: init.he_normal((0, 3)), ValueError, "shape"),
    (lambda: init.he_normal((2, 3, 4)), ValueError, "shape"),
    (lambda: init.he_normal((2, 3), dtype=np.int32), TypeError, "dtype"),
    (lambda: init.he_normal((2, 3), rng="x"), TypeError, "rng"),
    (lambda: init.normal((2, 3), std=-1.0), ValueError, "std"),
    (lambda: init.xavier_normal((2, 3), gain=float("nan")), ValueError, "gain"),
])
def test_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
