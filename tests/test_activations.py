"""Every activation, its derivative and second derivative against the mpmath oracle.

Tolerances are in ulp of the value's own scale (see ``_oracle.scale_tolerance``):
|computed - exact| <= k * eps * max(|exact|, tiny), eps = 2^-52 (float64) or 2^-23
(float32), tiny the smallest normal number, so the absolute floor k * eps * tiny only
applies where the exact value underflows into the subnormals. k is ULP below unless
ULP_EXCEPTIONS documents why a function needs more at some points.
"""
from __future__ import annotations

import math

import _oracle
import mpmath
import numpy as np
import pytest
from _oracle import CASES, EPS32, EPS64, GRID, TINY32, assert_close, kinks, reference
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuronlab as nl
from neuronlab import activations as A

ULP = 4
ORDERS = {0: "forward", 1: "derivative", 2: "second_derivative"}

# Where a function is ill-conditioned, no double kernel can be within a few ulp of the value:
# rounding x (or an argument computed from x) by one ulp moves f^(n) by eps |x f^(n+1)(x)|.
# That happens near a zero of f^(n) (gelu' at its minimum x = -0.7518, mish'' at x = 1.5)
# and in tails where the kernel must round a large argument before exp: gelu_tanh's
# v = sqrt(8/pi)(x + 0.044715 x^3), swish's beta x for beta not a power of two. For those
# (kernel, order) the tolerance adds SENSITIVE[...] * eps * |x f^(n+1)(x)|: the error of
# perturbing x by that many ulp. gelu needs none in its tails (its Phi and e^(-x^2/2) take
# x^2 to twice the working precision, fastmath/nl_fastmath.h), only at the root of gelu'.
SENSITIVE = {
    # gelu' = Phi + x phi cancels at its root x = -0.7518, where each term is about |x f''|.
    ("gelu", 1): 1,
    ("gelu_tanh", 0): 1, ("gelu_tanh", 1): 1, ("gelu_tanh", 2): 1,
    ("swish", 0): 1, ("swish", 1): 1, ("swish", 2): 1,
    ("mish", 1): 1, ("mish", 2): 1,
}
# f = x g(x) with g underflowing (e^x at x = -100 is subnormal in float32): g carries only
# an absolute precision of one subnormal step, which the factor x multiplies, so for these
# kernels the absolute floor where the true value underflows is tiny * max(1, |x|)^p, p the
# power of x in front of the exponential: 1 in f and f', 2 in f'' (gelu'' = phi (2 - x^2)).
X_TIMES_TAIL = {"swish", "gelu", "gelu_tanh", "mish"}


def tolerance(case, order, x, ref, eps=EPS64, tiny=_oracle.TINY64):
    """ULP ulp of the value's scale, plus the documented sensitivity term."""
    act = CASES[case]
    if act.kernel in X_TIMES_TAIL:
        ax = np.minimum(np.abs(np.where(np.isfinite(x), x, 0.0)), 1e100)  # no overflow in ax^2
        tiny = tiny * np.maximum(1.0, ax) ** max(1, order)
    m = SENSITIVE.get((act.kernel, order), 0)
    sensitivity = 0.0
    if m:
        xf = np.where(np.isfinite(x), x, 0.0).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            sensitivity = np.nan_to_num(m * np.abs(xf * reference(case).values(order + 1, xf)),
                                        posinf=np.inf)
    return _oracle.scale_tolerance(ref, ULP, eps, tiny, sensitivity)


def _method(act, order):
    return getattr(act, ORDERS[order])


def _away_from_kinks(act, x, order):
    """Drop the kinks themselves (tested on their own below) for f' and f''."""
    if order == 0:
        return x
    keep = np.ones(x.shape, bool)
    for k in kinks(act):
        if act.name == "softsign" and order == 1:
            continue  # softsign' is smooth; only f'' jumps
        keep &= x != k
    return x[keep]


# ----------------------------------------------------------------------------------------
# Values against the oracle
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_float64_matches_mpmath(case, order):
    act = CASES[case]
    x = _away_from_kinks(act, np.concatenate([GRID, [np.inf, -np.inf, np.nan]]), order)
    got = _method(act, order)(x)
    ref = reference(case).values(order, x)
    assert_close(got, ref, tolerance(case, order, x, ref), x, f"{case} {ORDERS[order]}")


def _float32_grid():
    finite = GRID[np.abs(GRID) <= np.finfo(np.float32).max]
    x = np.concatenate([finite, [1e-45, -1e-45, 1e-40, -1e-40, 1e38, -1e38, np.inf, -np.inf]])
    return np.unique(x.astype(np.float32))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("case", CASES)
def test_float32_consistent_with_float64(case, order):
    """float32 kernels compute in float32: within a few float32 ulp of the float64 result
    (for inputs that are exactly float32 numbers), rounded to float32."""
    act = CASES[case]
    x32 = _away_from_kinks(act, _float32_grid(), order)
    got = _method(act, order)(x32)
    assert got.dtype == np.float32
    # The float32 kernel receives its parameters rounded to float32 (slope 1/6 becomes
    # 0.16666667, which moves hard_sigmoid's kink off x = -3): compare like with like.
    twin = type(act)(**{k: float(np.float32(v)) if isinstance(v, float) else v
                        for k, v in act.params.items()})
    want = _method(twin, order)(x32.astype(np.float64))
    with np.errstate(over="ignore"):  # a float64 result beyond float32's range is inf there
        want32 = want.astype(np.float32).astype(np.float64)
    tol = tolerance(case, order, x32.astype(np.float64), want32, eps=EPS32, tiny=TINY32)
    assert_close(got, want32, tol, x32, f"{case} float32 {ORDERS[order]}")


# ----------------------------------------------------------------------------------------
# Kinks: the derivative of the outer piece, and backward agrees with derivative there
# ----------------------------------------------------------------------------------------
def _outer_side(act, k):
    """-1 or +1: the side of the kink k that is *not* the open linear interval."""
    if act.name == "hard_tanh" or act.name == "hard_sigmoid":
        return 1 if k > 0 else -1  # the clipped outside
    return -1  # relu, leaky/prelu/rrelu, binary_step, elu, selu: the piece x <= 0


KINK_CASES = [(c, k) for c, act in CASES.items() for k in kinks(act)]


@pytest.mark.parametrize(("case", "k"), KINK_CASES)
def test_derivative_at_kink_is_the_outer_piece(case, k):
    act = CASES[case]
    ref = reference(case)
    order = 2 if act.name == "softsign" else 1
    if act.name == "softsign":
        # f'' = -2 sign(x) / (1 + |x|)^3 is odd with a jump from +2 to -2; the module
        # docstring documents softsign''(0) = 0, the value that keeps f'' odd.
        want = 0.0
    else:
        with mpmath.workdps(60):
            k_exact = _oracle.exact_kink(act, k)
            want = float(ref.mp(order, k_exact + _outer_side(act, k) * mpmath.mpf("1e-40")))
    x = np.array([k])
    got = _method(act, order)(x)[0]
    assert got == pytest.approx(want, rel=4 * EPS64, abs=0), f"{case} at {k}"
    dy = np.array([-1.7])
    assert act.backward(x, dy)[0] == act.derivative(x)[0] * dy[0]


def test_kink_convention_is_documented():
    doc = A.__doc__
    for phrase in ("relu'(0) = 0", "leaky_relu'(0) = alpha", "hard_tanh'(+-1) = 0",
                   "elu'(0) = alpha", "softsign''(0) = 0"):
        assert phrase in doc, phrase


# ----------------------------------------------------------------------------------------
# backward, backward_from_output, finite differences
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_backward_is_derivative_times_dy_bitwise(case, dtype):
    act = CASES[case]
    rng = np.random.default_rng(0)
    x = np.concatenate([GRID, rng.normal(scale=3, size=200)])
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    want = act.derivative(x) * dy
    np.testing.assert_array_equal(act.backward(x, dy), want, strict=True)


OUTPUT_FORM = [c for c, act in CASES.items() if act.has_output_derivative]


def test_output_form_cases():
    names = {CASES[c].name for c in OUTPUT_FORM}
    assert names == {"sigmoid", "tanh", "relu", "elu", "selu"}
    for act in CASES.values():
        if not act.has_output_derivative:
            with pytest.raises(NotImplementedError):
                act.backward_from_output(np.zeros(2), np.ones(2))


@pytest.mark.parametrize("case", OUTPUT_FORM)
def test_backward_from_output_matches_backward(case):
    """The output form f'(x) = g(y) must agree with backward(x, dy).

    It cannot agree to a few ulp of f'(x): y = f(x) is already rounded, and g(y) turns
    the rounding of y (eps |y| / 2) into an absolute error |g'(y)| eps |y| / 2 in f'.
    In the tails that is the whole answer: sigmoid(40) rounds to 1, so y (1 - y) = 0 while
    sigma'(40) = 4e-18; tanh the same. So the tolerance is k eps (|f'| + |y| |g'(y)|) |dy|,
    with |g'(y) y| <= 2 |y| for sigmoid (1 - 2y), tanh (-2y), elu/selu (1): the error that
    one ulp of y explains, which is why a layer only uses this form where that is enough.
    """
    act = CASES[case]
    rng = np.random.default_rng(1)
    x = np.concatenate([GRID, [np.inf, -np.inf, np.nan], rng.normal(scale=4, size=300)])
    dy = rng.normal(size=x.shape)
    y = act(x)
    got = act.backward_from_output(y, dy)
    want = act.backward(x, dy)
    with np.errstate(invalid="ignore", over="ignore"):  # inf y (relu, elu at 1e308 ...)
        tol = ULP * EPS64 * (np.abs(act.derivative(x)) + 2 * np.abs(y)) * np.abs(dy)
    assert_close(got, want, tol, x, f"{case} backward_from_output")


FD_X = np.linspace(-6, 6, 97) + 0.0123  # off every kink (0, +-1, +-2, +-2.5, +-3)


@pytest.mark.parametrize("case", CASES)
def test_finite_differences(case):
    """Central differences (float64) agree with f' and f'' away from kinks.

    Step h = eps^(1/3) max(1, |x|) balances truncation, O(h^2 f'''), against rounding,
    O(eps |f| / h): both about 4e-11 here, hence the 1e-7 tolerance.
    """
    act = CASES[case]
    x = FD_X
    h = np.cbrt(EPS64) * np.maximum(1, np.abs(x))
    xp, xm = x + h, x - h
    h = (xp - xm) / 2  # the step actually taken, after rounding x +- h
    fd1 = (act(xp) - act(xm)) / (2 * h)
    fd2 = (act.derivative(xp) - act.derivative(xm)) / (2 * h)
    np.testing.assert_allclose(act.derivative(x), fd1, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(act.second_derivative(x), fd2, rtol=1e-7, atol=1e-7)


# ----------------------------------------------------------------------------------------
# NaN, infinities, warnings
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_nan_in_nan_out(case, dtype):
    act = CASES[case]
    x = np.array([np.nan, -np.nan, 1.0, np.nan], dtype=dtype)
    dy = np.array([1.0, 2.0, np.nan, 0.0], dtype=dtype)
    nan = np.isnan(x)
    for result in (act(x), act.derivative(x), act.second_derivative(x)):
        np.testing.assert_array_equal(np.isnan(result), nan)
    np.testing.assert_array_equal(np.isnan(act.backward(x, dy)), nan | np.isnan(dy))
    if act.has_output_derivative:
        np.testing.assert_array_equal(np.isnan(act.backward_from_output(x, dy)),
                                      nan | np.isnan(dy))


# ----------------------------------------------------------------------------------------
# PReLU per unit, RReLU in training mode: one slope per column / per element
# ----------------------------------------------------------------------------------------
FINITE = GRID[np.isfinite(GRID)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_per_unit(dtype):
    alpha = np.array([0.1, 0.25, 2.0])  # a learned slope may exceed 1
    act = nl.activations.get("prelu", alpha=alpha)
    column = FINITE[np.abs(FINITE) < np.finfo(dtype).max / 4]
    x = np.stack([column] * 3, axis=1)
    xd = x.astype(dtype)
    for order in (0, 1):
        got = _method(act, order)(xd)
        assert got.dtype == dtype
        for j, a in enumerate(alpha):
            ref = reference(act, alpha=float(dtype(a))).values(order, xd[:, j].astype(np.float64))
            eps, tiny = (EPS32, TINY32) if dtype == np.float32 else (EPS64, _oracle.TINY64)
            with np.errstate(over="ignore"):
                ref = ref.astype(dtype).astype(np.float64)
            keep = (xd[:, j] != 0) | (order == 0)
            assert_close(got[keep, j], ref[keep], _oracle.scale_tolerance(ref[keep], 1, eps, tiny),
                         xd[keep, j], f"prelu per-unit {ORDERS[order]} column {j}")
        np.testing.assert_array_equal(got[x[:, 0] == 0, :][:, 1], alpha[1] if order else 0)
    dy = np.random.default_rng(2).normal(size=x.shape).astype(dtype)
    np.testing.assert_array_equal(act.backward(xd, dy), act.derivative(xd) * dy, strict=True)
    np.testing.assert_array_equal(act.second_derivative(xd), np.zeros_like(xd), strict=True)
    np.testing.assert_allclose(act.alpha_gradient(xd, dy), (dy * np.minimum(xd, 0)).sum(axis=0),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_training_mode(dtype):
    act = nl.activations.get("rrelu", lower=0.1, upper=0.3, seed=5)
    x = np.tile(FINITE, 3).reshape(3, -1).astype(dtype) if dtype == np.float64 else \
        np.tile(FINITE[np.abs(FINITE) < 1e38], 3).reshape(3, -1).astype(dtype)
    y = act(x, training=True)
    slopes = act.slopes
    assert slopes.shape == x.shape and slopes.dtype == dtype
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and np.unique(slopes).size > x.size // 2
    d = act.derivative(x, training=True)
    for xi, yi, di, a in zip(x.ravel(), y.ravel(), d.ravel(), slopes.ravel(), strict=True):
        ref = reference(act, alpha=float(a))
        want_y = dtype(ref.value(0, float(xi)))
        assert yi == pytest.approx(want_y, rel=float(np.finfo(dtype).eps), abs=0), xi
        # the outer piece at the kink, as for leaky_relu: the drawn slope
        assert di == (1 if xi > 0 else a)
    dy = np.random.default_rng(3).normal(size=x.shape).astype(dtype)
    np.testing.assert_array_equal(act.backward(x, dy, training=True), d * dy, strict=True)
    np.testing.assert_array_equal(np.isnan(act(np.array([np.nan]), training=True)), [True])
    again = nl.activations.get("rrelu", lower=0.1, upper=0.3, seed=5)
    np.testing.assert_array_equal(again(x, training=True), y)  # seeded: reproducible
    # evaluation mode uses the mean slope
    np.testing.assert_array_equal(act(np.array([-2.0])), [-2.0 * 0.2])


# ----------------------------------------------------------------------------------------
# The recorded metadata
# ----------------------------------------------------------------------------------------
# Steps of 1e-5 around the minima of swish/gelu/mish resolve them to ~1e-11.
DENSE = np.concatenate([np.linspace(-60, 60, 24_001), np.linspace(-3, 0, 300_001),
                        -np.geomspace(60, 1e308, 200),
                        np.geomspace(60, 1e308, 200), [-np.inf, np.inf]])


@pytest.mark.parametrize("case", CASES)
def test_output_range(case):
    act = CASES[case]
    lo, hi = act.output_range
    y = act(DENSE)
    assert y.min() >= lo * (1 + 1e-15) - 1e-300 and y.max() <= hi
    # the bounds are attained (at +-inf) or approached to the sampling resolution
    np.testing.assert_allclose([y.min(), y.max()], [lo, hi], rtol=1e-8)


MINIMA = [("swish", -1.28), ("swish(beta=0.5)", -2.56), ("swish(beta=2)", -0.64),
          ("gelu", -0.75), ("gelu(approximate=tanh)", -0.75),
          ("gelu(approximate=sigmoid)", -0.75), ("mish", -1.19)]


@pytest.mark.parametrize(("case", "x0"), MINIMA)
def test_minimum_constants_are_the_true_minima(case, x0):
    """The lower end of output_range is min f, found by mpmath.findroot on f' = 0."""
    ref = reference(case)
    with mpmath.workdps(50):
        x_min = mpmath.findroot(lambda x: ref.mp(1, x), mpmath.mpf(x0))
        f_min = ref.mp(0, x_min)
        assert ref.mp(2, x_min) > 0
    lo = CASES[case].output_range[0]
    assert abs(lo - f_min) <= 2 * EPS64 * abs(f_min), (case, lo, mpmath.nstr(f_min, 20))


PROBE = np.concatenate([np.linspace(-30, 30, 6001), [1e5, 1e300, np.inf]])


@pytest.mark.parametrize("case", CASES)
def test_monotonic_and_zero_centred(case):
    act = CASES[case]
    x = np.sort(np.concatenate([-PROBE, PROBE]))
    y = act(x)
    # Rounding may wiggle a monotonic function by an ulp (softsign's x / (1 + |x|) rounds
    # twice; tanh(17.99) rounds up to 1 while tanh(18) does not): only a drop beyond the
    # value tolerance counts. gelu, swish and mish dip by 0.1 or more.
    wiggle = ULP * EPS64 * np.maximum(np.abs(y[:-1]), np.abs(y[1:]))
    assert bool(np.all(np.diff(y) >= -wiggle)) == act.monotonic
    assert bool(np.all(act.derivative(x) >= 0)) == act.monotonic
    finite = np.isfinite(y)  # inf + (-inf) is not a test of oddness
    odd = np.abs(act(-x[finite]) + y[finite]) <= 4 * EPS64 * np.abs(y[finite])
    assert bool(np.all(odd)) == act.zero_centred


@pytest.mark.parametrize("case", CASES)
def test_saturating(case):
    act = CASES[case]
    ref = reference(case)
    limits = [ref.value(1, s * math.inf) for s in (-1, 1)]
    assert (limits == [0.0, 0.0]) == act.saturating
    np.testing.assert_array_equal(act.derivative(np.array([-np.inf, np.inf])), limits)


@pytest.mark.parametrize("case", CASES)
def test_smooth(case):
    """smooth <=> f and f' are continuous: at each kink, the one-sided limits agree;
    without kinks, f' changes by no more than its Lipschitz bound over a fine grid."""
    act = CASES[case]
    ref = reference(case)
    jumps = []
    with mpmath.workdps(60):
        d = mpmath.mpf("1e-40")
        for k in map(_oracle.exact_kink, [act] * len(kinks(act)), kinks(act)):
            for order in (0, 1):
                jumps.append(abs(ref.mp(order, k - d) - ref.mp(order, k + d)))
    continuous = all(j < 1e-30 for j in jumps)
    if not kinks(act):
        x = np.linspace(-20, 20, 400_001)
        continuous = bool(np.max(np.abs(np.diff(act.derivative(x)))) < 1e-3)
    assert continuous == act.smooth


def test_selu_constants():
    """lambda, alpha of Klambauer et al. (2017), eq. 14, recomputed: the fixed point of
    mean 0 and variance 1 for standard normal inputs."""
    with mpmath.workdps(40):
        e = mpmath.e
        erfc = mpmath.erfc
        s = mpmath.sqrt
        alpha = -s(2 / mpmath.pi) / (erfc(1 / s(2)) * mpmath.exp(mpmath.mpf(1) / 2) - 1)
        lam = (1 - s(e) * erfc(1 / s(2))) * s(2 * mpmath.pi) / s(
            2 * erfc(s(2)) * e**2 + mpmath.pi * erfc(1 / s(2)) ** 2 * e
            - 2 * (2 + mpmath.pi) * erfc(1 / s(2)) * s(e) + mpmath.pi + 2)
        assert float(alpha) == A.SELU_ALPHA
        assert float(lam) == A.SELU_LAMBDA


# ----------------------------------------------------------------------------------------
# Property tests
# ----------------------------------------------------------------------------------------
finite64 = hnp.arrays(np.float64, st.integers(1, 6),
                      elements=st.floats(allow_nan=False, allow_infinity=False))


@given(x=finite64, case=st.sampled_from(sorted(CASES)))
def test_property_forward_matches_oracle(x, case):
    """Any finite float64 array: forward within the same tolerance as the grid test."""
    ref = reference(case).values(0, x)
    assert_close(CASES[case](x), ref, tolerance(case, 0, x, ref), x, case)


@given(x=finite64, data=st.data(), case=st.sampled_from(sorted(CASES)))
def test_property_backward_is_derivative_times_dy(x, data, case):
    dy = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(-1e6, 1e6)))
    act = CASES[case]
    np.testing.assert_array_equal(act.backward(x, dy), act.derivative(x) * dy, strict=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "selu", "softplus", "swish", "gelu", "mish"])
def test_result_does_not_depend_on_where_the_array_sits(name, dtype):
    """The same numbers at another address give the same bits (no alignment-dependent scalar path)."""
    act = nl.activations.get(name)
    x = np.random.default_rng(0).normal(0, 3, 203).astype(dtype)
    for offset in range(1, 8):
        buffer = np.empty(x.size + offset, dtype)
        shifted = buffer[offset:]
        shifted[...] = x
        for f in (act.forward, act.derivative):
            np.testing.assert_array_equal(f(shifted), f(x), err_msg=f"{f.__name__} at offset {offset}")
        np.testing.assert_array_equal(act.backward(shifted, shifted), act.backward(x, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_zeros_keep_the_sign_of_x(dtype):
    """x Phi(x) has the sign of x, so where it rounds to zero for x < 0 it is -0: past the
    cut-off, in the underflow before it, and at the smallest subnormal (just under half of
    it); +-0 gives +-0."""
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([-np.inf, -1e30, -45.0, -14.5 if dtype == np.float32 else -38.7, -tiny, -0.0, 0.0],
                 dtype)
    y = nl.activations.get("gelu")(x)
    assert (y == 0).all()
    np.testing.assert_array_equal(np.signbit(y), [True] * 6 + [False])
