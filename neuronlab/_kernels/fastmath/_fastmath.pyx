"""The inline elementary functions of nl_fastmath.h over arrays, for the tests.

The activation kernels call exp of negative numbers, expm1, log1p, tanh and the normal
distribution function through ``neuronlab/_kernels/_math.pxd``; this module runs
the same inline code in the same kind of compiled (vectorized) loop, so that
``tests/test_fastmath.py`` can hold each function on its own against mpmath, in float32
and float64, including the two variants the kernels leave to other code for speed
(nl_expm1 for double, left to libmvec; nl_tanhf, left to the table of nl_tanhf.c).
``tanh_kernel`` and ``tanh_array`` are the float tanh the kernels do use, per element in
a vectorized loop and over a whole array. It is not part of the public API.
"""
from cython cimport floating

from neuronlab._kernels._math cimport (
    HAVE_FMA, TANHF_TABLE, _exp_neg, _exp_neg_abs, _normal_cdf, _tanh_array, nl_expm1, nl_expm1f,
    nl_log1p_small, nl_log1p_smallf, nl_tanh, nl_tanhf, nl_tanhf_kernel,
)

#: True when float tanh is nl_tanhf.c's table code (an AVX-512 build), else nl_tanhf
TANHF_IS_TABLE = bool(TANHF_TABLE)
#: True when the build fuses multiply-adds (-march=native on a CPU with FMA)
FMA = bool(HAVE_FMA)


cdef inline floating _expm1(floating x) noexcept nogil:
    return nl_expm1f(x) if floating is float else nl_expm1(x)


cdef inline floating _log1p_small(floating u) noexcept nogil:
    return nl_log1p_smallf(u) if floating is float else nl_log1p_small(u)


cdef inline floating _tanh(floating x) noexcept nogil:
    return nl_tanhf(x) if floating is float else nl_tanh(x)


cdef void _check(const floating[::1] x, floating[::1] y) except *:
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y has {y.shape[0]} elements, x has {x.shape[0]}")


def exp_neg(const floating[::1] t, floating[::1] y):
    """y = e^t for t <= 0 (t > 0 counts as 0)."""
    _check(t, y)
    cdef Py_ssize_t i
    for i in range(t.shape[0]):
        y[i] = _exp_neg(t[i])


def exp_neg_abs(const floating[::1] v, floating[::1] y):
    """y = e^-|v|."""
    _check(v, y)
    cdef Py_ssize_t i
    for i in range(v.shape[0]):
        y[i] = _exp_neg_abs(v[i])


def expm1(const floating[::1] x, floating[::1] y):
    """y = e^x - 1."""
    _check(x, y)
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = _expm1(x[i])


def log1p_small(const floating[::1] u, floating[::1] y):
    """y = log(1 + u), for -1/2 <= u <= 1."""
    _check(u, y)
    cdef Py_ssize_t i
    for i in range(u.shape[0]):
        y[i] = _log1p_small(u[i])


def tanh(const floating[::1] x, floating[::1] y):
    """y = tanh(x)."""
    _check(x, y)
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = _tanh(x[i])


def tanh_kernel(const float[::1] x, float[::1] y):
    """y = tanh(x) as the float32 kernels compute it per element (in vectorized loops)."""
    _check(x, y)
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = nl_tanhf_kernel(x[i])


def tanh_array(const float[::1] x, float[::1] y):
    """y = tanh(x) as the float32 tanh forward kernel computes it, over the whole array."""
    _check(x, y)
    if x.shape[0]:
        _tanh_array(&x[0], &y[0], x.shape[0])


def normal_cdf(const floating[::1] x, floating[::1] y):
    """y = Phi(x), the standard normal distribution function."""
    _check(x, y)
    cdef Py_ssize_t i
    cdef floating g
    for i in range(x.shape[0]):
        y[i] = _normal_cdf(x[i], &g)


def gaussian(const floating[::1] x, floating[::1] y):
    """y = e^(-x^2/2), computed together with Phi(x) (only this half is kept)."""
    _check(x, y)
    cdef Py_ssize_t i
    cdef floating g
    for i in range(x.shape[0]):
        _normal_cdf(x[i], &g)
        y[i] = g
