# Softmax, log-softmax and maxout: functions of a whole vector, computed row by row.
#
# Every kernel takes C-contiguous 2-d arrays whose rows are the vectors (the Python side
# moves the softmax axis last, checks shapes and dtypes, and never lets an output share
# memory with an input; bounds checks are off). Rows are independent: they are processed
# in blocks of consecutive rows (see _rows.pxd), and above MIN_PARALLEL_ELEMENTS elements
# OpenMP threads take blocks in turn.
#
# Stability: softmax(z) = softmax(z - max z), so every exponent is <= 0 and exp() cannot
# overflow; log-softmax is (z - max) / T - log(sum exp((z - max) / T)), where the sum is at
# least 1 (the maximum contributes e^0), so the log is finite too.
from cython cimport floating
from cython.parallel cimport prange

from neuronlab._kernels._math cimport _exp
from neuronlab._kernels._rows cimport (
    MAX_BLOCK_ROWS, MIN_PARALLEL_ELEMENTS, _log, exp_rows, row_sum, rows_per_block,
)


cdef void _softmax_block(const floating* z, floating* y, Py_ssize_t rows, Py_ssize_t n,
                         floating inv_t, bint more) noexcept nogil:
    cdef floating m[MAX_BLOCK_ROWS]
    cdef double s[MAX_BLOCK_ROWS]
    cdef floating scale
    cdef Py_ssize_t i, j
    exp_rows(z, y, rows, n, inv_t, m, s, more)
    for i in range(rows):
        scale = <floating>(1.0 / s[i])
        for j in range(n):
            y[i * n + j] *= scale


cdef void _log_softmax_block(const floating* z, floating* y, Py_ssize_t rows, Py_ssize_t n,
                             floating inv_t, bint more) noexcept nogil:
    cdef floating m[MAX_BLOCK_ROWS]
    cdef double s[MAX_BLOCK_ROWS]
    cdef floating log_s
    cdef Py_ssize_t i, j
    exp_rows(z, y, rows, n, inv_t, m, s, more)  # only for the sums: y is overwritten below
    for i in range(rows):
        log_s = <floating>_log(s[i])
        for j in range(n):
            y[i * n + j] = (z[i * n + j] - m[i]) * inv_t - log_s


cdef inline floating _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """sum_j a_j b_j, with eight running sums in double (see row_sum in _rows.pxd)."""
    cdef double d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0
    cdef Py_ssize_t j = 0
    while j + 8 <= n:
        d0 += a[j] * b[j]
        d1 += a[j + 1] * b[j + 1]
        d2 += a[j + 2] * b[j + 2]
        d3 += a[j + 3] * b[j + 3]
        d4 += a[j + 4] * b[j + 4]
        d5 += a[j + 5] * b[j + 5]
        d6 += a[j + 6] * b[j + 6]
        d7 += a[j + 7] * b[j + 7]
        j += 8
    while j < n:
        d0 += a[j] * b[j]
        j += 1
    return <floating>(((d0 + d1) + (d2 + d3)) + ((d4 + d5) + (d6 + d7)))


cdef void _softmax_backward_block(const floating* z, const floating* dy, floating* dx,
                                  Py_ssize_t rows, Py_ssize_t n, floating inv_t,
                                  bint from_output, bint more) noexcept nogil:
    # The vector-Jacobian product of y = softmax(z / T): J = (diag(y) - y y^T) / T is
    # symmetric, so dx = J dy = y * (dy - y.dy) / T; no K x K matrix. dx holds y meanwhile.
    cdef const floating* y = z
    cdef floating dot
    cdef Py_ssize_t i, j
    if not from_output:
        _softmax_block(z, dx, rows, n, inv_t, more)
        y = dx
    for i in range(rows):
        dot = _dot(y + i * n, dy + i * n, n)
        for j in range(n):
            dx[i * n + j] = y[i * n + j] * (dy[i * n + j] - dot) * inv_t


cdef void _log_softmax_backward_block(const floating* z, const floating* dy, floating* dx,
                                      Py_ssize_t rows, Py_ssize_t n, floating inv_t,
                                      bint from_output, bint more) noexcept nogil:
    # l = log_softmax(z / T) has the Jacobian (I - 1 y^T) / T with y = softmax(z / T), so
    # dx = (dy - y * sum(dy)) / T. From the output l, y = e^l.
    cdef floating total
    cdef Py_ssize_t i, j
    if from_output:
        for j in range(rows * n):
            dx[j] = _exp(z[j])
    else:
        _softmax_block(z, dx, rows, n, inv_t, more)
    for i in range(rows):
        total = <floating>row_sum(dy + i * n, n)
        for j in range(n):
            dx[i * n + j] = (dy[i * n + j] - dx[i * n + j] * total) * inv_t


cdef enum RowOp:
    SOFTMAX, LOG_SOFTMAX, SOFTMAX_BACKWARD, LOG_SOFTMAX_BACKWARD


cdef void _in_blocks(RowOp op, const floating* z, const floating* dy, floating* out, Py_ssize_t m,
                     Py_ssize_t n, double temperature, bint from_output, int n_threads) noexcept nogil:
    """Apply `op` to the (m, n) rows in blocks of rows, the blocks shared among OpenMP threads."""
    cdef Py_ssize_t rows = rows_per_block(n), b, lo, k
    cdef bint more
    cdef floating inv_t = <floating>(1.0 / temperature)
    for b in prange((m + rows - 1) // rows, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        lo = b * rows
        k = min(rows, m - lo)
        more = lo + k < m  # rows follow this block (exp_rows reads ahead)
        if op == SOFTMAX:
            _softmax_block(z + lo * n, out + lo * n, k, n, inv_t, more)
        elif op == LOG_SOFTMAX:
            _log_softmax_block(z + lo * n, out + lo * n, k, n, inv_t, more)
        elif op == SOFTMAX_BACKWARD:
            _softmax_backward_block(z + lo * n, dy + lo * n, out + lo * n, k, n, inv_t,
                                    from_output, more)
        else:
            _log_softmax_backward_block(z + lo * n, dy + lo * n, out + lo * n, k, n, inv_t,
                                        from_output, more)


def softmax_forward(const floating[:, ::1] z, floating[:, ::1] y, double temperature,
                    int n_threads=1):
    if z.shape[0] and z.shape[1]:
        with nogil:
            _in_blocks(SOFTMAX, &z[0, 0], NULL, &y[0, 0], z.shape[0], z.shape[1], temperature,
                       False, n_threads)


def log_softmax_forward(const floating[:, ::1] z, floating[:, ::1] y, double temperature,
                        int n_threads=1):
    if z.shape[0] and z.shape[1]:
        with nogil:
            _in_blocks(LOG_SOFTMAX, &z[0, 0], NULL, &y[0, 0], z.shape[0], z.shape[1], temperature,
                       False, n_threads)


def softmax_backward(const floating[:, ::1] z, const floating[:, ::1] dy, floating[:, ::1] dx,
                     double temperature, bint from_output=False, int n_threads=1):
    """dx = J^T dy for y = softmax(z / T); with from_output, `z` holds y itself."""
    if z.shape[0] and z.shape[1]:
        with nogil:
            _in_blocks(SOFTMAX_BACKWARD, &z[0, 0], &dy[0, 0], &dx[0, 0], z.shape[0], z.shape[1],
                       temperature, from_output, n_threads)


def log_softmax_backward(const floating[:, ::1] z, const floating[:, ::1] dy,
                         floating[:, ::1] dx, double temperature, bint from_output=False,
                         int n_threads=1):
    """dx = J^T dy for l = log_softmax(z / T); with from_output, `z` holds l itself."""
    if z.shape[0] and z.shape[1]:
        with nogil:
            _in_blocks(LOG_SOFTMAX_BACKWARD, &z[0, 0], &dy[0, 0], &dx[0, 0], z.shape[0], z.shape[1],
                       temperature, from_output, n_threads)


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
