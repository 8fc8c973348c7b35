# What other compiled modules may call of _elementwise: every activation's fused bias-add +
# forward loop and its backward loop, picked by the number KINDS[name] (see the template).
from cython cimport floating


cdef int forward_bias(int kind, floating* z, const floating* b, floating* a, Py_ssize_t m,
                      Py_ssize_t n, const double* p, int n_threads) noexcept nogil
cdef int backward(int kind, const floating* z, const floating* dy, floating* dx, Py_ssize_t n,
                  const double* p, int n_threads) noexcept nogil
