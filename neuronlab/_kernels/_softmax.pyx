# Softmax, log-softmax and maxout: functions of a whole vector, computed row by row.
#
# Every kernel takes C-contiguous 2-d arrays whose rows are the vectors (the Python side
# moves the softmax axis last and checks shapes and dtypes; bounds checks are off). Rows are
# independent, so above MIN_PARALLEL_ELEMENTS elements OpenMP threads take blocks of rows.
#
# Stability: softmax(z) = softmax(z - max z), so every exponent is <= 0 and exp() cannot
# overflow; log-softmax is (z - max) / T - log(sum exp((z - max) / T)), where the sum is at
# least 1 (the maximum contributes e^0), so the log is finite too.
from cython cimport floating
from cython.parallel cimport prange

from neuronlab._kernels._math cimport _exp
from neuronlab._kernels._rows cimport (
    MIN_PARALLEL_ELEMENTS, _log, row_max, row_sum, row_sum_exp,
)


cdef void _softmax_row(const floating* z, floating* y, Py_ssize_t n,
                       floating inv_t) noexcept nogil:
    # y may be z itself: each z_j is read (for the max, then for its exp) before y_j is written.
    cdef floating m = row_max(z, n)
    cdef Py_ssize_t j
    for j in range(n):
        y[j] = _exp((z[j] - m) * inv_t)
    cdef floating scale = <floating>(1.0 / row_sum(y, n))
    for j in range(n):
        y[j] *= scale


cdef void _log_softmax_row(const floating* z, floating* y, Py_ssize_t n,
                           floating inv_t) noexcept nogil:
    cdef floating m = row_max(z, n)
    cdef floating log_s = <floating>_log(row_sum_exp(z, n, m, inv_t))
    cdef Py_ssize_t j
    for j in range(n):
        y[j] = (z[j] - m) * inv_t - log_s


cdef void _softmax_backward_row(const floating* z, const floating* dy, floating* dx,
                                Py_ssize_t n, floating inv_t) noexcept nogil:
    # The vector-Jacobian product of y = softmax(z / T): J = (diag(y) - y y^T) / T is
    # symmetric, so dx = J dy = y * (dy - y.dy) / T; no K x K matrix. dx holds y meanwhile
    # (the wrapper never lets dx share memory with z or dy).
    _softmax_row(z, dx, n, inv_t)
    cdef double dot0 = 0, dot1 = 0
    cdef Py_ssize_t j = 0
    while j + 2 <= n:
        dot0 += dx[j] * dy[j]
        dot1 += dx[j + 1] * dy[j + 1]
        j += 2
    if j < n:
        dot0 += dx[j] * dy[j]
    cdef floating dot = <floating>(dot0 + dot1)
    for j in range(n):
        dx[j] = dx[j] * (dy[j] - dot) * inv_t


cdef void _softmax_backward_from_output_row(const floating* y, const floating* dy,
                                            floating* dx, Py_ssize_t n,
                                            floating inv_t) noexcept nogil:
    cdef double dot0 = 0, dot1 = 0
    cdef Py_ssize_t j = 0
    while j + 2 <= n:
        dot0 += y[j] * dy[j]
        dot1 += y[j + 1] * dy[j + 1]
        j += 2
    if j < n:
        dot0 += y[j] * dy[j]
    cdef floating dot = <floating>(dot0 + dot1)
    for j in range(n):
        dx[j] = y[j] * (dy[j] - dot) * inv_t


cdef void _log_softmax_backward_row(const floating* z, const floating* dy, floating* dx,
                                    Py_ssize_t n, floating inv_t) noexcept nogil:
    # l = log_softmax(z / T) has the Jacobian (I - 1 y^T) / T with y = softmax(z / T), so
    # dx = (dy - y * sum(dy)) / T. dx holds y first.
    _softmax_row(z, dx, n, inv_t)
    cdef floating total = <floating>row_sum(dy, n)
    cdef Py_ssize_t j
    for j in range(n):
        dx[j] = (dy[j] - dx[j] * total) * inv_t


cdef void _log_softmax_backward_from_output_row(const floating* l, const floating* dy,
                                                floating* dx, Py_ssize_t n,
                                                floating inv_t) noexcept nogil:
    cdef floating total = <floating>row_sum(dy, n)
    cdef Py_ssize_t j
    for j in range(n):
        dx[j] = (dy[j] - _exp(l[j]) * total) * inv_t


def softmax_forward(const floating[:, ::1] z, floating[:, ::1] y, double temperature,
                    int n_threads=1):
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], i
    cdef floating inv_t = <floating>(1.0 / temperature)
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        _softmax_row(&z[i, 0], &y[i, 0], n, inv_t)


def log_softmax_forward(const floating[:, ::1] z, floating[:, ::1] y, double temperature,
                        int n_threads=1):
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], i
    cdef floating inv_t = <floating>(1.0 / temperature)
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        _log_softmax_row(&z[i, 0], &y[i, 0], n, inv_t)


def softmax_backward(const floating[:, ::1] z, const floating[:, ::1] dy, floating[:, ::1] dx,
                     double temperature, bint from_output=False, int n_threads=1):
    """dx = J^T dy for y = softmax(z / T); with from_output, `z` holds y itself."""
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], i
    cdef floating inv_t = <floating>(1.0 / temperature)
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        if from_output:
            _softmax_backward_from_output_row(&z[i, 0], &dy[i, 0], &dx[i, 0], n, inv_t)
        else:
            _softmax_backward_row(&z[i, 0], &dy[i, 0], &dx[i, 0], n, inv_t)


def log_softmax_backward(const floating[:, ::1] z, const floating[:, ::1] dy,
                         floating[:, ::1] dx, double temperature, bint from_output=False,
                         int n_threads=1):
    """dx = J^T dy for l = log_softmax(z / T); with from_output, `z` holds l itself."""
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], i
    cdef floating inv_t = <floating>(1.0 / temperature)
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        if from_output:
            _log_softmax_backward_from_output_row(&z[i, 0], &dy[i, 0], &dx[i, 0], n, inv_t)
        else:
            _log_softmax_backward_row(&z[i, 0], &dy[i, 0], &dx[i, 0], n, inv_t)


# Maxout: each row of z holds the k pieces of one unit; a = max over the row.

cdef inline Py_ssize_t _winner(const floating* z, Py_ssize_t k) noexcept nogil:
    """The index of the first largest piece; a NaN piece wins (and the unit's output is NaN)."""
    cdef Py_ssize_t p, best = 0
    if z[0] != z[0]:
        return 0
    for p in range(1, k):
        if z[p] > z[best]:
            best = p
        elif z[p] != z[p]:
            return p
    return best


def maxout_forward(const floating[:, ::1] z, floating[::1] a, int n_threads=1):
    cdef Py_ssize_t units = z.shape[0], k = z.shape[1], u
    for u in prange(units, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=units * k >= MIN_PARALLEL_ELEMENTS):
        a[u] = z[u, _winner(&z[u, 0], k)]


def maxout_backward(const floating[:, ::1] z, const floating[::1] da, floating[:, ::1] dz,
                    int n_threads=1):
    """dz = da routed to each unit's winning piece (the first, on a tie); 0 elsewhere."""
    cdef Py_ssize_t units = z.shape[0], k = z.shape[1], u, p
    for u in prange(units, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=units * k >= MIN_PARALLEL_ELEMENTS):
        for p in range(k):
            dz[u, p] = 0
        dz[u, _winner(&z[u, 0], k)] = da[u]
