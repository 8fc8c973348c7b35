# The elementary functions every kernel is built from, for float and double.
#
# `floating` is Cython's fused type (float | double): each function below is compiled
# twice, and `if floating is float` is decided at compile time, so the float32 kernels
# call expf() and never round-trip through double.
from cython cimport floating
from libc.math cimport (
    INFINITY, copysign, copysignf, erfc, erfcf, exp, expf, expm1, expm1f,
    fabs, fabsf, log1p, log1pf, tanh, tanhf,
)

cdef extern from "nl_math.h":
    # The header also declares libmvec's vector variants of the functions above.
    const double SQRT1_2 "NL_SQRT1_2"
    const double INV_SQRT_2PI "NL_INV_SQRT_2PI"
    const double SQRT_2_OVER_PI "NL_SQRT_2_OVER_PI"
    const double GELU_K "NL_GELU_K"
    const double SELU_LAMBDA "NL_SELU_LAMBDA"
    const double SELU_ALPHA "NL_SELU_ALPHA"


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return expm1f(x)
    else:
        return expm1(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


cdef inline floating _tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating _erfc(floating x) noexcept nogil:
    if floating is float:
        return erfcf(x)
    else:
        return erfc(x)


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
