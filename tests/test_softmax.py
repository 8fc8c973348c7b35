"""Softmax, log-softmax, maxout, spatial softmax and soft-argmax against mpmath and finite
differences, including logits of +-1e4 in float32 and float64."""
import mpmath
import numpy as np
import pytest

import neuronlab as nl
from neuronlab.softmax import LogSoftmax, Maxout, SoftArgmax, Softmax, SpatialSoftmax

mpmath.mp.dps = 40
RNG = np.random.default_rng(20240601)
DTYPES = [np.float32, np.float64]


def mp(v):
    return mpmath.mpf(float(v)) if isinstance(v, np.floating | float | int) else mpmath.mpf(v)


def mp_softmax(z, t=1.0):
    z = [mp(v) / mp(t) for v in z]
    m = max(z)
    s = mpmath.fsum(mpmath.exp(v - m) for v in z)
    return [mpmath.exp(v - m) / s for v in z], [v - m - mpmath.log(s) for v in z]


def reference(z, t=1.0, log=False):
    """mpmath's softmax (or log-softmax) of each row of z, rounded to float64."""
    rows = np.asarray(z).reshape(-1, np.shape(z)[-1])
    out = [[float(v) for v in mp_softmax(row, t)[log]] for row in rows]
    return np.array(out).reshape(np.shape(z))


def cases():
    yield "random", RNG.normal(0, 3, (5, 7))
    yield "extreme", np.array([[1e4, -1e4, 0.0, 1e4 - 1], [-1e4, -1e4, -1e4, -1e4],
                               [1e4, 1e4, 1e4, -1e4], [3.0, 1e4, -2.0, 9999.5]])
    yield "wide", RNG.normal(0, 30, (3, 1000))
    yield "single", np.array([[0.5]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("temperature", [1.0, 0.3, 7.0])
@pytest.mark.parametrize(("label", "z"), list(cases()))
def test_softmax_and_log_softmax_match_mpmath(label, z, temperature, dtype):
    z = z.astype(dtype)
    eps = np.finfo(dtype).eps
    y = Softmax(temperature=temperature)(z)
    assert y.dtype == dtype
    # The exponents x_j = (z_j - max z) / T are rounded (twice: 1/T and the product), by up
    # to eps |x_j| each. Since d ln y_j = dx_j - sum_k y_k dx_k, that is a relative error of
    # 2 eps (|x_j| + sum_k y_k |x_k|), plus a few ulp from exp, the sum and the division.
    # (Tiny probabilities may be subnormal: atol.)
    expected = reference(z, temperature)
    gap = (z.max(axis=-1, keepdims=True).astype(float) - z) / temperature
    mean_gap = (expected * gap).sum(axis=-1, keepdims=True)
    bound = eps * (2 * (gap + mean_gap) + 8) * expected + np.finfo(dtype).tiny
    assert np.all(np.abs(y - expected) <= bound)
    log_y = LogSoftmax(temperature=temperature)(z)
    assert log_y.dtype == dtype
    assert np.all(np.isfinite(log_y))
    # (z - m)/T is rounded once: the error scales with the size of the logits
    scale = np.abs(z).max(axis=-1, keepdims=True) / temperature + 1
    assert np.all(np.abs(log_y - reference(z, temperature, log=True)) <= 4 * eps * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_are_exact(dtype):
    z = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=dtype)
    np.testing.assert_array_equal(nl.softmax.softmax(z), [[1, 0], [0, 1], [0.5, 0.5]])
    np.testing.assert_array_equal(nl.softmax.log_softmax(z),
                                  [[0, -2e4], [-2e4, 0], [-np.log(dtype(2))] * 2])


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax])
@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_jacobian_and_derivatives_match_mpmath(cls, temperature):
    z = RNG.normal(0, 2, 5)
    act = cls(temperature=temperature)
    log = cls is LogSoftmax

    def component(i):
        return lambda *zz: mp_softmax(zz, temperature)[log][i]

    expected = np.array([[float(mpmath.diff(component(i), z.tolist(),
                                            tuple(int(j == k) for k in range(5))))
                          for j in range(5)] for i in range(5)])
    jac = act.jacobian(z)
    np.testing.assert_allclose(jac, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(act.derivative(z), np.diag(expected), rtol=1e-13, atol=1e-15)
    second = [float(mpmath.diff(component(i), z.tolist(), tuple(2 * int(i == k) for k in range(5))))
              for i in range(5)]
    np.testing.assert_allclose(act.second_derivative(z), second, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax])
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_backward_is_the_vector_jacobian_product(cls, temperature):
    act = cls(temperature=temperature)
    z, dy = RNG.normal(0, 2, (2, 4, 6)), RNG.normal(size=(2, 4, 6))
    dz = act.backward(z, dy)
    for idx in np.ndindex(2, 4):
        np.testing.assert_allclose(dz[idx], act.jacobian(z[idx]).T @ dy[idx],
                                   rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.backward_from_output(act(z), dy), dz, rtol=1e-12, atol=1e-15)
    # finite differences of the scalar sum(dy * f(z))
    h, numeric = 1e-6, np.empty_like(z)
    for idx in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[idx] = h
        numeric[idx] = (np.sum(dy * act(z + step)) - np.sum(dy * act(z - step))) / (2 * h)
    np.testing.assert_allclose(dz, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax])
@pytest.mark.parametrize("axis", [0, 1, -2])
def test_axis(cls, axis):
    z, dy = RNG.normal(size=(3, 4, 5)), RNG.normal(size=(3, 4, 5))
    act = cls(axis=axis, temperature=1.5)
    last = cls(temperature=1.5)
    moved = np.moveaxis(z, axis, -1)
    np.testing.assert_allclose(act(z), np.moveaxis(last(moved), -1, axis), rtol=1e-15)
    expected = last.backward(moved, np.moveaxis(dy, axis, -1))
    np.testing.assert_allclose(act.backward(z, dy), np.moveaxis(expected, -1, axis), rtol=1e-14)
    if cls is Softmax:
        np.testing.assert_allclose(act(z).sum(axis=axis), 1, rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_and_in_place(dtype):
    z = RNG.normal(size=(4, 6)).astype(dtype)
    expected = Softmax()(z)
    out = np.empty_like(z)
    assert Softmax()(z, out=out) is out
    np.testing.assert_array_equal(out, expected)
    dy = RNG.normal(size=z.shape).astype(dtype)
    expected_dz = Softmax().backward(z, dy)
    np.testing.assert_array_equal(Softmax().backward(z, dy, out=dy), expected_dz)  # out is dy
    Softmax()(z, out=z)
    np.testing.assert_array_equal(z, expected)
    strided = np.empty((4, 12), dtype)[:, ::2]
    Softmax()(expected, out=strided)
    np.testing.assert_array_equal(strided, Softmax()(expected))


def test_many_threads_agree_with_one():
    z = RNG.normal(0, 5, (70000, 3))
    dy = RNG.normal(size=z.shape)
    before = nl.get_num_threads()
    try:
        nl.set_num_threads(1)
        one = [Softmax()(z), LogSoftmax().backward(z, dy)]
        nl.set_num_threads(2)
        two = [Softmax()(z), LogSoftmax().backward(z, dy)]
    finally:
        nl.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sympy_expression_matches():
    import sympy

    z = np.array([0.3, -1.2, 2.0])
    for act in (Softmax(temperature=1.7), LogSoftmax(temperature=0.6)):
        expr = act.sympy_expr(size=3)
        values = expr.subs(dict(zip(sympy.symbols("z_0:3", real=True), z.tolist(), strict=True)))
        np.testing.assert_allclose(np.array(values, dtype=float).ravel(), act(z), rtol=1e-14)


def test_nan_propagates_and_empty_works():
    y = Softmax()(np.array([[1.0, np.nan, 0.0], [1.0, 2.0, 3.0]]))
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()
    assert Softmax()(np.empty((0, 3))).shape == (0, 3)
    assert LogSoftmax().backward(np.empty((2, 0)), np.empty((2, 0))).shape == (2, 0)


def test_registry():
    assert nl.activations.get("softmax", temperature=2.0) == Softmax(temperature=2.0)
    assert repr(nl.activations.get("log_softmax")) == "LogSoftmax(axis=-1, temperature=1.0)"
    assert nl.activations.get("maxout", pieces=3) == Maxout(3)
    for name in ("softmax", "log_softmax", "maxout"):
        assert name in nl.activations.available()
        assert not nl.activations.get(name).elementwise


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: Softmax(temperature=0), ValueError, "temperature"),
    (lambda: Softmax(temperature=-1.0), ValueError, "temperature"),
    (lambda: Softmax(axis=1.0), TypeError, "axis"),
    (lambda: Softmax(axis=2)(np.ones((2, 2))), ValueError, "axis 2 is out of range"),
    (lambda: Softmax()(1.0), ValueError, "at least one dimension"),
    (lambda: Softmax()(np.ones(3, complex)), TypeError, "complex"),
    (lambda: Softmax().backward(np.ones((2, 3)), np.ones((3, 2))), ValueError, "dy has shape"),
    (lambda: Softmax().jacobian(np.ones((2, 3))), ValueError, "1-d"),
    (lambda: Softmax()(np.ones(3), out=np.ones(3, np.float32)), TypeError, "out has dtype"),
    (lambda: Maxout(0), ValueError, "pieces"),
    (lambda: Maxout(2)(np.ones((2, 5))), ValueError, "units \\* pieces"),
    (lambda: Maxout(2).backward(np.ones((2, 4)), np.ones((2, 3))), ValueError, "da has shape"),
    (lambda: SpatialSoftmax()(np.ones(4)), ValueError, "at least 2 dimensions"),
    (lambda: SoftArgmax().backward(np.ones((1, 2, 3, 3)), np.ones((1, 2))), ValueError, "df"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- maxout -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_forward_and_layout(dtype):
    z = RNG.normal(size=(4, 3 * 5)).astype(dtype)  # 3 units of 5 pieces, side by side
    a = Maxout(5)(z)
    assert a.shape == (4, 3) and a.dtype == dtype
    np.testing.assert_array_equal(a, z.reshape(4, 3, 5).max(axis=-1))
    np.testing.assert_array_equal(Maxout(1)(z), z)


def test_maxout_gradient_goes_to_the_first_winner():
    z = np.array([[1.0, 3.0, 3.0, -1.0, 2.0, 0.5]])  # units (1, 3, 3) and (-1, 2, 0.5)
    dz = Maxout(3).backward(z, np.array([[10.0, 20.0]]))
    np.testing.assert_array_equal(dz, [[0, 10, 0, 0, 20, 0]])
    np.testing.assert_array_equal(Maxout(3).derivative(z), [[0, 1, 0, 0, 1, 0]])
    np.testing.assert_array_equal(Maxout(3).second_derivative(z), np.zeros_like(z))
    assert np.isnan(Maxout(2)(np.array([1.0, np.nan, np.nan, 0.0]))).all()


def test_maxout_finite_differences():
    z, da = RNG.normal(size=(3, 8)), RNG.normal(size=(3, 2))
    dz, h = Maxout(4).backward(z, da), 1e-6
    for idx in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[idx] = h
        numeric = (np.sum(da * Maxout(4)(z + step)) - np.sum(da * Maxout(4)(z - step))) / (2 * h)
        assert dz[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


# -- spatial softmax and soft-argmax ------------------------------------------------------
def test_spatial_softmax_is_softmax_over_each_map():
    a = RNG.normal(size=(2, 3, 4, 5))
    s = SpatialSoftmax(temperature=0.7)(a)
    np.testing.assert_allclose(s.sum(axis=(-2, -1)), 1, rtol=1e-15)
    np.testing.assert_allclose(s[1, 2], reference(a[1, 2].reshape(1, -1), 0.7).reshape(4, 5),
                               rtol=1e-14)


def test_soft_argmax_coordinates():
    a = np.full((1, 2, 3, 5), -1e4)
    a[0, 0, 0, 0] = 0      # top-left pixel
    a[0, 1, 2, 3] = 0      # row 2, column 3
    np.testing.assert_array_equal(SoftArgmax()(a), [[[-1, -1], [0.5, 1]]])
    np.testing.assert_array_equal(SoftArgmax(normalized=False)(a), [[[0, 0], [3, 2]]])
    flat = np.zeros((1, 1, 3, 5))  # a uniform distribution: the centre
    np.testing.assert_allclose(SoftArgmax()(flat), [[[0, 0]]], atol=1e-15)
    np.testing.assert_allclose(SoftArgmax(normalized=False)(flat), [[[2, 1]]], rtol=1e-15)


@pytest.mark.parametrize("op", [SpatialSoftmax(1.3), SoftArgmax(0.8), SoftArgmax(normalized=False)])
def test_spatial_backward_finite_differences(op):
    a = RNG.normal(size=(2, 2, 3, 4))
    g = RNG.normal(size=op(a).shape)
    da, h = op.backward(a, g), 1e-6
    numeric = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[idx] = h
        numeric[idx] = (np.sum(g * op(a + step)) - np.sum(g * op(a - step))) / (2 * h)
    np.testing.assert_allclose(da, numeric, rtol=1e-6, atol=1e-9)


def test_soft_argmax_matches_mpmath():
    a = RNG.normal(0, 3, (3, 4))
    s = mp_softmax(a.ravel())[0]
    xs, ys = SoftArgmax().coordinates(3, 4)
    fx = mpmath.fsum(s[i * 4 + j] * mpmath.mpf(xs[j]) for i in range(3) for j in range(4))
    fy = mpmath.fsum(s[i * 4 + j] * mpmath.mpf(ys[i]) for i in range(3) for j in range(4))
    np.testing.assert_allclose(SoftArgmax()(a), [float(fx), float(fy)], rtol=1e-14, atol=1e-16)
