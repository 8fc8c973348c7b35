"""The inline elementary functions of nl_fastmath.h against mpmath, on their own.

The activation kernels compute expm1 (elu, selu), log1p (softplus), tanh and the normal
distribution function Phi with e^(-x^2/2) (gelu) with the branch-free inline code of
``neuronlab/_kernels/fastmath/nl_fastmath.h``; ``_fastmath`` (beside it) runs the same code
in the same kind of compiled (vectorized) loop. Each function is held, for
float32 and float64, to a stated bound in ulp of the exact value (the error divided by
the spacing of the floating-point numbers at the exact value, with the subnormal spacing
below the normal range) over dense random samples of its whole domain and the edge cases:
0, -0, subnormals, the points where the code switches between cases, the extremes, +-inf
and NaN. The bounds are what the constructions give: about 1 ulp for expm1, log1p, tanh
and e^(-x^2/2), a few ulp for Phi (a polynomial of degree 21 and four roundings); libm's
vector versions, which the kernels used before, are 2-3 ulp off for expm1 and tanh, and
0.5 erfc(-x / sqrt 2) up to x^2 ulp off for Phi.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from neuronlab._kernels.fastmath import _fastmath

DTYPES = [np.float32, np.float64]
DPS = 40  # 130 bits: the exact value to far below an ulp of a double
N_RANDOM = 20_000  # random samples per function and dtype


def run(name: str, x: np.ndarray) -> np.ndarray:
    y = np.full_like(x, 7.0)  # the kernel must overwrite every element
    getattr(_fastmath, name)(np.ascontiguousarray(x), y)
    return y


def ulp(v: mpmath.mpf, dtype) -> mpmath.mpf:
    """The spacing of `dtype` numbers at the exact value v (subnormal spacing below tiny)."""
    info = np.finfo(dtype)
    _, e = mpmath.frexp(v)  # |v| = m 2^e, 1/2 <= m < 1: v lies in [2^(e-1), 2^e)
    return mpmath.ldexp(1, max(e - 1, int(info.minexp)) - int(info.nmant))


def check(name: str, x: np.ndarray, reference, bound: float) -> float:
    """Every element of f(x) within `bound` ulp of reference(x); returns the worst error.

    Where the exact value rounds to +-inf (overflow) the result must be that infinity;
    where it is an exact zero, the result must be zero with the sign of the reference.
    """
    got = run(name, x)
    assert got.dtype == x.dtype
    dtype = x.dtype.type
    info = np.finfo(dtype)
    worst, bad = 0.0, []
    with mpmath.workdps(DPS):
        # the largest finite number plus half its spacing: from there on, values round to inf
        overflow = mpmath.mpf(float(info.max)) + mpmath.ldexp(1, int(info.maxexp) - int(info.nmant) - 2)
        for xi, gi in zip(x.tolist(), got.tolist(), strict=True):
            v = reference(mpmath.mpf(xi))
            if v == 0:
                ok = gi == 0 and math.copysign(1, gi) == math.copysign(1, xi)
                err = 0.0 if ok else math.inf
            elif abs(v) >= overflow:  # rounds to an infinity
                err = 0.0 if gi == math.copysign(math.inf, v) else math.inf
            else:
                err = float(abs(mpmath.mpf(gi) - v) / ulp(v, dtype)) if math.isfinite(gi) else math.inf
            worst = max(worst, err)
            if err > bound:
                bad.append(f"  {name}({xi!r}) = {gi!r}, exact {mpmath.nstr(v, 20)}: {err:.3g} ulp")
    assert not bad, f"{name} {np.dtype(dtype).name}: {len(bad)} beyond {bound} ulp\n" + "\n".join(bad[:15])
    return worst


def as_dtype(values, dtype) -> np.ndarray:
    """Finite values representable in dtype (others dropped), as dtype, no duplicates."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.abs(v) <= np.finfo(dtype).max]
    return np.unique(v.astype(dtype))


def tiny_values(dtype) -> list[float]:
    """0, -0, the smallest subnormal, a subnormal, the smallest normal, and tiny normals."""
    info = np.finfo(dtype)
    smallest = float(info.smallest_subnormal)
    values = [0.0, smallest, 1000 * smallest, float(info.tiny), 1e-30, 1e-20, 2.0**-60]
    return values + [-v for v in values]


def around(points, dtype, steps: int = 3) -> list[float]:
    """Each point and its `steps` floating-point neighbours on either side, in dtype."""
    out = []
    for p in np.asarray(points, dtype=dtype):
        up = down = p
        out.append(float(p))
        for _ in range(steps):
            up, down = np.nextafter(up, dtype(np.inf)), np.nextafter(down, dtype(-np.inf))
            out += [float(up), float(down)]
    return out


def log_uniform(rng, lo: float, hi: float, n: int) -> np.ndarray:
    """Magnitudes spread evenly in log scale between lo and hi, with random signs."""
    return rng.choice([-1.0, 1.0], n) * np.exp(rng.uniform(math.log(lo), math.log(hi), n))


# ----------------------------------------------------------------------------------------
# e^t for t <= 0
# ----------------------------------------------------------------------------------------
# measured worst: 0.77 (double, 2x10^5 samples); float, all of [-104, 0]: 0.89 with FMA,
# 1.17 without (portable builds: r P(r) and 1 + r P(r) round apart)
EXP_NEG_ULP = 1.0 if _fastmath.FMA else 1.2


def exp_neg_edges(dtype) -> np.ndarray:
    ln2 = math.log(2)
    switch = [-(k + 0.5) * ln2 for k in range(0, 1080, 7)]  # where the reduction's k changes
    # the subnormal range and where e^t underflows to 0 (float: near -87.3 and -103.97;
    # double: near -708.4 and -745.13), and the clamps
    ends = [-87.3, -103.0, -103.97, -104.0, -708.4, -744.4, -745.13, -746.0]
    x = [-v for v in tiny_values(dtype) if v > 0] + switch + around(ends, dtype) + [-1.0, -1e5, -1e300]
    return as_dtype([v for v in x if v <= 0] + [0.0, -0.0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_neg_edges(dtype):
    check("exp_neg", exp_neg_edges(dtype), mpmath.exp, EXP_NEG_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_neg_random(dtype):
    rng = np.random.default_rng(8)
    lo = 750.0 if dtype == np.float64 else 105.0
    t = -np.concatenate([
        rng.uniform(0, 10, N_RANDOM // 2),  # e^-|x| of the activations mostly lives here
        rng.uniform(0, lo, N_RANDOM // 4),
        np.exp(rng.uniform(math.log(float(np.finfo(dtype).smallest_subnormal)), math.log(lo), N_RANDOM // 4)),
    ]).astype(dtype)
    check("exp_neg", t, mpmath.exp, EXP_NEG_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_neg_special_values(dtype):
    y = run("exp_neg", np.array([np.nan, -np.inf, 0.0, -0.0, 3.0, np.inf], dtype=dtype))
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:], [0.0, 1.0, 1.0, 1.0, 1.0])  # t > 0 counts as 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_neg_abs_is_exp_neg_of_minus_abs(dtype):
    # exp_neg is exp_neg_abs after clamping t > 0 to 0, so the accuracy tests of exp_neg
    # above cover both only if e^-|v| and e^t at t = -|v| are the same bits: both signs of
    # every edge, and the specials.
    t = exp_neg_edges(dtype)
    v = np.concatenate([t, -t, [np.inf, -np.inf, 1e30, -1e30]]).astype(dtype)
    np.testing.assert_array_equal(run("exp_neg_abs", v), run("exp_neg", -np.abs(v)))
    assert np.isnan(run("exp_neg_abs", np.array([np.nan], dtype=dtype))[0])


# ----------------------------------------------------------------------------------------
# expm1
# ----------------------------------------------------------------------------------------
EXPM1_ULP = 1.25  # measured worst: 1.05 (double), 1.08 (float) in 10^7 samples


def expm1_edges(dtype) -> np.ndarray:
    ln2 = math.log(2)
    overflow = math.log(float(np.finfo(dtype).max))  # 709.78 / 88.72
    switch = [(k + 0.5) * ln2 for k in range(-60, 61)]  # where the reduction's k changes
    small = [2.0**-54, 2.0**-25]  # below these the code returns x itself
    clamp = [-40.0, -18.0, -37.4, 710.0, 89.0]  # the clamps, and k = -54 (u - 1/2 inexact)
    return as_dtype(tiny_values(dtype) + switch + [-s for s in switch] + around(small, dtype)
                    + around([-s for s in small], dtype) + around(clamp, dtype)
                    + around([overflow], dtype, steps=5) + [1.0, -1.0, 1e5, -1e5, 1e300, -1e300],
                    dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expm1_edges(dtype):
    check("expm1", expm1_edges(dtype), mpmath.expm1, EXPM1_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expm1_random(dtype):
    rng = np.random.default_rng(1)
    span = math.log(float(np.finfo(dtype).max))
    x = np.concatenate([
        rng.uniform(-1, 1, N_RANDOM // 4),  # k = -1, 0, 1: the part elu and tanh use most
        rng.uniform(-span, span, N_RANDOM // 4),
        log_uniform(rng, float(np.finfo(dtype).smallest_subnormal), span, N_RANDOM // 2),
    ]).astype(dtype)
    check("expm1", x, mpmath.expm1, EXPM1_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expm1_special_values(dtype):
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    y = run("expm1", x)
    assert np.isnan(y[:2]).all()
    np.testing.assert_array_equal(y[2:], [np.inf, -1.0, 0.0, -0.0])
    assert np.signbit(y[5]) and not np.signbit(y[4])


# ----------------------------------------------------------------------------------------
# log1p on [-1/2, 1]
# ----------------------------------------------------------------------------------------
LOG1P_ULP = 1.25  # measured worst: 1.04 (double), 1.05 (float)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_small_edges(dtype):
    x = as_dtype(tiny_values(dtype) + around([-0.5, 1.0], dtype)
                 + around([0.5, math.sqrt(2) - 1, 1 / 3, -1 / 3], dtype), dtype)
    x = x[(x >= -0.5) & (x <= 1)]
    check("log1p_small", x, mpmath.log1p, LOG1P_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_small_random(dtype):
    rng = np.random.default_rng(2)
    smallest = float(np.finfo(dtype).smallest_subnormal)
    u = np.concatenate([
        rng.uniform(-0.5, 1, N_RANDOM // 2),
        # softplus's argument e^-|x|: every magnitude down to the subnormals
        np.exp(-rng.uniform(0, -math.log(smallest), N_RANDOM // 4)),
        -np.exp(rng.uniform(math.log(smallest), math.log(0.5), N_RANDOM // 4)),
    ]).astype(dtype)
    check("log1p_small", u, mpmath.log1p, LOG1P_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_small_special_values(dtype):
    y = run("log1p_small", np.array([np.nan, 0.0, -0.0], dtype=dtype))
    assert np.isnan(y[0])
    assert y[1] == 0 and not np.signbit(y[1]) and y[2] == 0 and np.signbit(y[2])


# ----------------------------------------------------------------------------------------
# tanh
# ----------------------------------------------------------------------------------------
# Measured worst: double 0.89 ulp at x = 11.0037 (the addition theorem, with FMA: 2 * 10^8
# samples in a C harness against glibc's tanhl), 0.74 without FMA (the expm1 version);
# float 0.74 (nl_tanhf).
TANH_ULP = 1.0


def tanh_edges(dtype) -> np.ndarray:
    ln2 = math.log(2)
    # where k changes: of expm1(-2|x|) (the expm1 version) and of round(a / L - 1/4), L = ln2 / 2
    switch = [(k + 0.5) * ln2 / 2 for k in range(0, 60)] + [(k + 0.75) * ln2 / 2 for k in range(0, 60)]
    # tanh rounds to 1; k reaches its cap of 52 at 18.2; the clamps
    to_one = [18.2, 18.5, 19.06, 19.1, 9.0, 9.01, 10.0, 40.0]
    worst = [0.4838, 11.003711195923373]  # the largest errors found (k = 1; next to a switch)
    x = tiny_values(dtype) + switch + around(to_one, dtype) + worst + [0.5493, 1.0, 3.0, 1e5, 1e300]
    return as_dtype(x + [-v for v in x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_edges(dtype):
    check("tanh", tanh_edges(dtype), mpmath.tanh, TANH_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_random(dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([
        rng.uniform(-3, 3, N_RANDOM // 2),
        rng.uniform(-20, 20, N_RANDOM // 4),
        log_uniform(rng, float(np.finfo(dtype).smallest_subnormal), 30, N_RANDOM // 4),
    ]).astype(dtype)
    check("tanh", x, mpmath.tanh, TANH_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_special_values_and_oddness(dtype):
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    y = run("tanh", x)
    assert np.isnan(y[:2]).all()
    np.testing.assert_array_equal(y[2:], [1.0, -1.0, 0.0, -0.0])
    assert np.signbit(y[5]) and not np.signbit(y[4])
    z = np.random.default_rng(4).normal(scale=5, size=1001).astype(dtype)
    np.testing.assert_array_equal(run("tanh", -z), -run("tanh", z))


# ----------------------------------------------------------------------------------------
# tanh for float as the kernels compute it (nl_tanhf.c's table with AVX-512, else nl_tanhf)
# ----------------------------------------------------------------------------------------
# Measured worst over every float: 0.686 (the table, at x = 4.2407), 0.74 (nl_tanhf).
TANHF_KERNEL_ULP = 0.69 if _fastmath.TANHF_IS_TABLE else 1.0


def test_tanhf_kernel_every_float():
    """Every non-negative float32 up to the clamp, against tanh in float64.

    float64's tanh is within an ulp of a double, 2^-29 ulp of a float: it rounds the
    exact value far below the bound. Beyond 9.02 every x gives the same result as 9.02
    (the kernel clamps there), which the sampled tests below cover with mpmath.
    """
    step = 1 << 24
    end = int(np.float32(9.03).view(np.uint32))
    worst, at = 0.0, 0.0
    for start in range(0, end, step):
        x = np.arange(start, min(start + step, end), dtype=np.uint32).view(np.float32)
        y = np.empty_like(x)
        _fastmath.tanh_array(x, y)
        exact = np.tanh(x.astype(np.float64))
        # the float spacing at the exact value: 2^(e - 24) for exact in [2^(e-1), 2^e)
        _, e = np.frexp(exact)
        spacing = np.ldexp(1.0, np.maximum(e - 1, -126) - 23)
        err = np.abs(y - exact) / spacing
        j = int(np.argmax(err))
        if err[j] > worst:
            worst, at = float(err[j]), float(x[j])
    assert worst <= TANHF_KERNEL_ULP, f"tanh kernel: {worst:.4f} ulp at x = {at!r}"


def test_tanhf_kernel_edges_and_random():
    rng = np.random.default_rng(5)
    x = np.concatenate([tanh_edges(np.float32), rng.uniform(-20, 20, 2000).astype(np.float32),
                        [np.float32(np.finfo(np.float32).max), -np.float32(np.finfo(np.float32).max)]])
    check("tanh_kernel", x.astype(np.float32), mpmath.tanh, TANHF_KERNEL_ULP)
    check("tanh_array", x.astype(np.float32), mpmath.tanh, TANHF_KERNEL_ULP)


def test_tanhf_kernel_special_values():
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45], dtype=np.float32)
    for name in ("tanh_kernel", "tanh_array"):
        y = run(name, x)
        assert np.isnan(y[:2]).all()
        np.testing.assert_array_equal(y[2:], np.array([1, -1, 0, -0.0, 1e-45, -1e-45], np.float32))
        assert np.signbit(y[5]) and not np.signbit(y[4])


def test_tanhf_kernel_same_bits_in_every_code_path():
    """The per-element function (in a vectorized loop: 16-, 8- and 4-lane variants and the
    scalar one for the last elements) and the array loop give the same bits, for every
    length and start, and so does the tanh activation."""
    from neuronlab._kernels import _elementwise

    rng = np.random.default_rng(6)
    base = (rng.standard_normal(300) * 4).astype(np.float32)
    for start in range(0, 17):
        for n in [*range(40), 63, 64, 65, 255]:
            x = np.ascontiguousarray(base[start:start + n])
            a, b, c = run("tanh_kernel", x), run("tanh_array", x), np.full_like(x, 7.0)
            _elementwise.loop("tanh", "forward")(x, c)
            np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))
            np.testing.assert_array_equal(b.view(np.uint32), c.view(np.uint32))
    one_by_one = np.array([run("tanh_kernel", base[i:i + 1])[0] for i in range(base.size)])
    np.testing.assert_array_equal(one_by_one.view(np.uint32), run("tanh_array", base).view(np.uint32))


# ----------------------------------------------------------------------------------------
# The normal distribution function Phi and the Gaussian e^(-x^2/2)
# ----------------------------------------------------------------------------------------
# Measured worst, in ulp of the exact value: double 6.03 at x = -0.00211 in 3.4 * 10^7
# random samples of [-0.01, 0.01] and [-3, 3] (C harness against glibc's erfcl in long
# double; near x = 0, Phi is just below 1/2 and its ulp half the relative spacing, and the
# rounded coefficients of the degree-21 polynomial, e^(-a^2/2) and 1/(a + K) add up there);
# float 4.52 in 2.2 * 10^9 random floats of [-16, 16] (against erfc in double).
# e^(-x^2/2): 1.11 (double, 4 * 10^5 samples), 1.06 (float, every 7th float in [0, 15]).
NORMAL_ULP = {np.float64: 6.5, np.float32: 5.0}
GAUSSIAN_ULP = 1.5


def normal_edges(dtype) -> np.ndarray:
    # u = (a - K)/(a + K) = 0 at a = K (5, float: 3), where Phi(-a) and e^(-a^2/2) become
    # subnormal and underflow, and the cut-offs (39, 15); x = -0.00211, the worst found
    ends = [0.00211, 1.0, 3.0, 5.0, 13.2, 14.0, 14.4, 15.0, 26.5, 37.5, 38.5, 38.6, 39.0]
    x = tiny_values(dtype) + around(ends, dtype) + [0.5, 2.0, 3.0, 5.0, 8.0, 20.0, 1e5, 1e300]
    return as_dtype(x + [-v for v in x], dtype)


def _normal_random(dtype, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    span = 40.0 if dtype == np.float64 else 16.0
    return np.concatenate([
        rng.uniform(-3, 3, N_RANDOM // 2),
        rng.uniform(-span, span, N_RANDOM // 4),
        log_uniform(rng, float(np.finfo(dtype).smallest_subnormal), span, N_RANDOM // 4),
    ]).astype(dtype)


def _gaussian(x):
    return mpmath.exp(-x * x / 2)


def _ncdf(x):
    # beyond |x| = 100 every floating-point type has Phi = 0 or 1 (mpmath's erfc would
    # overflow on its way to x = 1e300)
    return mpmath.ncdf(max(min(x, 100), -100))


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_cdf(dtype):
    """Phi within a few ulp of its own value everywhere, the far left tail included:
    there 0.5 erfc(-x / sqrt 2) is up to x^2 ulp off (measured with SciPy's erfc: up to
    30 ulp for -5 < x < -3, 1900 near x = -39), from the rounding of x / sqrt 2."""
    x = np.concatenate([normal_edges(dtype), _normal_random(dtype, 5)])
    check("normal_cdf", x, _ncdf, NORMAL_ULP[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian(dtype):
    x = np.concatenate([normal_edges(dtype), _normal_random(dtype, 6)])
    check("gaussian", x, _gaussian, GAUSSIAN_ULP)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_special_values(dtype):
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    Phi, g = run("normal_cdf", x), run("gaussian", x)
    assert np.isnan(Phi[:2]).all() and np.isnan(g[:2]).all()
    np.testing.assert_array_equal(Phi[2:], [1.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(g[2:], [0.0, 0.0, 1.0, 1.0])
    # Phi(-x) = 1 - Phi(x) to the rounding of the larger side; g is even, exactly
    z = np.random.default_rng(7).normal(scale=4, size=1001).astype(dtype)
    np.testing.assert_array_equal(run("gaussian", -z), run("gaussian", z))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(run("normal_cdf", -z) + run("normal_cdf", z), 1, rtol=0, atol=2 * eps)


def test_length_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="elements"):
        _fastmath.tanh(np.zeros(3), np.zeros(2))
