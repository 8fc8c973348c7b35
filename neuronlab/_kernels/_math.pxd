# The elementary functions every kernel is built from, for float and double.
#
# `floating` is Cython's fused type (float | double): each function below is compiled
# twice, and `if floating is float` is decided at compile time, so the float32 kernels
# call expf() and never round-trip through double.
from cython cimport floating
from libc.math cimport (
    INFINITY, copysign, copysignf, exp, expf, expm1, fabs, fabsf, fma, fmaf, log1p, log1pf,
)

cdef extern from "nl_math.h" nogil:
    # The header declares libmvec's vector variants of the libc functions above, and
    # includes fastmath/nl_fastmath.h: inline expm1, log1p and tanh, each within about 1
    # ulp (tests/test_fastmath.py). Below, the kernels take whichever is faster, as long as it
    # is at least as accurate as what it replaces (timed with benchmarks/compare_builds.py).
    double nl_expm1(double x)
    float nl_expm1f(float x)
    double nl_log1p_small(double u)
    float nl_log1p_smallf(float u)
    double nl_tanh(double x)
    float nl_tanhf(float x)
    double nl_exp_neg(double t)
    float nl_exp_negf(float t)
    double nl_exp_neg_abs(double v)
    float nl_exp_neg_absf(float v)
    double nl_normal_cdf(double x, double* g)
    float nl_normal_cdff(float x, float* g)
    double nl_gelu(double x)
    float nl_geluf(float x)
    # float tanh: fastmath/nl_tanhf.c's table with AVX-512, else nl_tanhf (see the header)
    float nl_tanhf_kernel "NL_TANHF"(float x)
    void nl_tanhf_array(const float* x, float* y, Py_ssize_t n)
    const bint TANHF_TABLE "NL_HAVE_TANHF_TABLE"
    const bint HAVE_FMA "NL_HAVE_FMA"
    const double INV_SQRT_2PI "NL_INV_SQRT_2PI"
    const double SQRT_2_OVER_PI "NL_SQRT_2_OVER_PI"
    const double GELU_K "NL_GELU_K"
    const double SELU_LAMBDA "NL_SELU_LAMBDA"
    const double SELU_ALPHA "NL_SELU_ALPHA"


cdef inline floating _fma(floating a, floating b, floating c) noexcept nogil:
    # a b + c rounded once. gcc fuses a * b + c by itself when the CPU has FMA, but a
    # portable build (no -march=native) would round twice; where the sum cancels, that
    # second rounding is all that is left of the result.
    if floating is float:
        return fmaf(a, b, c)
    else:
        return fma(a, b, c)


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _exp_neg(floating t) noexcept nogil:
    # e^t for t <= 0 (t > 0 counts as 0): e^-|x| and e^(z - max z), the exponentials of
    # nearly every kernel. Inline, within 1 ulp, and a quarter to a third faster than
    # libmvec's exp, which must handle overflow and cannot be inlined.
    if floating is float:
        return nl_exp_negf(t)
    else:
        return nl_exp_neg(t)


cdef inline floating _exp_neg_abs(floating v) noexcept nogil:
    # e^-|v|: the same value as _exp_neg(-|v|), with one clamp fewer.
    if floating is float:
        return nl_exp_neg_absf(v)
    else:
        return nl_exp_neg_abs(v)


cdef inline floating _expm1(floating x) noexcept nogil:
    # nl_expm1f is within 1.1 ulp where libmvec's expm1f is 1.6 off, and not slower; for
    # double, nl_expm1 is more accurate too (1.1 ulp instead of 2.9) but a third slower, so
    # elu and selu keep libmvec's.
    if floating is float:
        return nl_expm1f(x)
    else:
        return expm1(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


cdef inline floating _log1p_small(floating u) noexcept nogil:
    # log(1 + u) for -1/2 <= u <= 1 only, as softplus's log(1 + e^-|x|) needs: one
    # division and a short polynomial instead of a general logarithm.
    if floating is float:
        return nl_log1p_smallf(u)
    else:
        return nl_log1p_small(u)


cdef inline floating _tanh(floating x) noexcept nogil:
    # For double, nl_tanh is faster than libmvec's tanh and within 0.9 ulp, not 2.1.
    # For float, NL_TANHF (nl_math.h): within 0.69 or 0.74 ulp over every float, where
    # libm's tanhf, and libmvec's, are 2.19 ulp off.
    if floating is float:
        return nl_tanhf_kernel(x)
    else:
        return nl_tanh(x)


cdef inline void _tanh_array(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = tanh(x), the same values as _tanh; for float, the table code in a loop of its own.
    cdef Py_ssize_t i
    if floating is float:
        nl_tanhf_array(x, y, n)
    else:
        for i in range(n):
            y[i] = _tanh(x[i])


cdef inline floating _normal_cdf(floating x, floating* g) noexcept nogil:
    # Phi(x) = erfc(-x / sqrt 2) / 2, with the Gaussian e^(-x^2/2) to g[0]: both from one
    # exponential, and within a few ulp (measured: 6.0 double, 4.5 float) down to the far
    # left tail, where libm's 0.5 erfc(-x / sqrt 2) loses up to x^2 ulp to the rounding of
    # x / sqrt 2. For float it is two to three times as fast as libmvec's erfcf; for double,
    # erfc alone is a little faster, but GELU's derivative saves its second exponential.
    if floating is float:
        return nl_normal_cdff(x, g)
    else:
        return nl_normal_cdf(x, g)


cdef inline floating _gelu(floating x) noexcept nogil:
    # x Phi(x) from the same pieces as _normal_cdf, with one select fewer than
    # x * _normal_cdf(x) and no inf * 0 at x = -inf (nl_fastmath.h says how).
    if floating is float:
        return nl_geluf(x)
    else:
        return nl_gelu(x)


cdef inline floating _clamp(floating x, floating m) noexcept nogil:
    # x limited to [-m, m]; a NaN fails both tests and stays NaN. A kernel that must not
    # evaluate a formula at infinity clamps its argument rather than branching around the
    # formula: with float tanh in the formula (a call, see nl_math.h), a branch keeps gcc
    # from vectorizing the loop, which then runs some fifteen times slower.
    return m if x > m else (-m if x < -m else x)


cdef inline floating _fabs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


cdef inline floating _copysign(floating x, floating y) noexcept nogil:
    if floating is float:
        return copysignf(x, y)
    else:
        return copysign(x, y)


cdef inline bint _isnan(floating x) noexcept nogil:
    # NaN is the only value not equal to itself; a comparison vectorizes, isnan() may not.
    return x != x


cdef inline bint _isinf(floating x) noexcept nogil:
    # One comparison, not `x == inf or x == -inf`: the short-circuit `or` is a branch that
    # keeps gcc from vectorizing the loop around it.
    return _fabs(x) == INFINITY
