"""The inline elementary functions of nl_fastmath.h over arrays, for the tests.

The activation kernels use expm1, log1p and tanh through ``_math.pxd``; this module runs
the very same inline code in the same kind of compiled loop, so that
``tests/test_fastmath.py`` can hold each function on its own against mpmath, in float32
and float64. It is not part of the public API.
"""
from cython cimport floating

from neuronlab._kernels._math cimport _expm1, _log1p_small, _tanh


cdef void _check(const floating[::1] x, floating[::1] y) except *:
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y has {y.shape[0]} elements, x has {x.shape[0]}")


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
