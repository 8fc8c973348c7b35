# The losses and their gradients, one row (one sample) at a time, in one fused pass.
#
# Every kernel returns the total loss (accumulated in double) and, on request, writes the
# per-sample losses into `rows` and the gradient, already multiplied by `grad_scale`
# (1/m for the mean over m samples, 1 otherwise), into `grad`. Unused outputs may be
# empty arrays. The Python side has checked every shape and every label: the kernels
# index with the labels unchecked.
from cython cimport floating
from cython.parallel cimport prange

from neuronlab._kernels._math cimport _exp, _fabs, _log1p
from neuronlab._kernels._rows cimport (
    BLOCK, MIN_PARALLEL_ELEMENTS, _log, row_max, row_sum, row_sum_exp, row_weighted_gap,
)

# The elementwise losses, loss = sum_j term(y_j, r_j) per sample (see losses.py).
cpdef enum PointwiseLoss:
    CROSS_ENTROPY = 0       # -r ln y                              on probabilities y
    NLL = 1                 # -r y                                 on log-probabilities y
    SQUARED_ERROR = 2       # (y - r)^2 / 2
    BINARY_CROSS_ENTROPY = 3          # -(r ln y + (1 - r) ln(1 - y))
    BINARY_CROSS_ENTROPY_LOGITS = 4   # the same with y = sigma(z), from the logit z


# ----------------------------------------------------------------------------------------
# Softmax cross-entropy from logits: loss = log sum_j e^{z_j} - sum_j r_j z_j (for sum r = 1)
# ----------------------------------------------------------------------------------------
cdef double _sce_label_row(const floating* z, Py_ssize_t label, floating* g, Py_ssize_t n,
                           floating eps, floating scale) noexcept nogil:
    # The target is r = (1 - eps) onehot(label) + eps / n (eps = 0: plain one-hot), so
    # loss = log s + (1 - eps)(m - z_label) + eps (m - mean z) with s = sum e^{z_j - m}.
    cdef floating m = row_max(z, n)
    cdef double s
    cdef Py_ssize_t j
    cdef floating p, q
    if g == NULL:
        s = row_sum_exp(z, n, m, 1)
    else:
        for j in range(n):
            g[j] = _exp(z[j] - m)
        s = row_sum(g, n)
        # grad = (softmax(z) - r) * scale, which for one-hot r is (y - r) / m.
        p = <floating>(scale / s)
        q = eps * scale / n
        for j in range(n):
            g[j] = g[j] * p - q
        g[label] -= (1 - eps) * scale
    cdef double loss = _log(s) + (1 - eps) * <double>(m - z[label])
    if eps != 0:
        loss += eps * (m - row_sum(z, n) / n)
    return loss


cdef double _sce_prob_row(const floating* z, const floating* r, floating* g, Py_ssize_t n,
                          floating eps, floating scale) noexcept nogil:
    # With r' = (1 - eps) r + eps / n and R' = sum r', loss = -sum r'_j log softmax_j
    # = R' log s + sum r'_j (m - z_j), and grad = softmax * R' - r' (times scale).
    cdef floating m = row_max(z, n)
    cdef double s
    cdef double big_r = (1 - eps) * row_sum(r, n) + eps
    cdef Py_ssize_t j
    cdef floating p, q
    if g == NULL:
        s = row_sum_exp(z, n, m, 1)
    else:
        for j in range(n):
            g[j] = _exp(z[j] - m)
        s = row_sum(g, n)
        p = <floating>(big_r * scale / s)
        q = eps * scale / n
        for j in range(n):
            g[j] = g[j] * p - ((1 - eps) * r[j] * scale + q)
    cdef double loss = big_r * _log(s) + (1 - eps) * row_weighted_gap(r, z, n, m)
    if eps != 0:
        loss += eps * (m - row_sum(z, n) / n)
    return loss


def softmax_cross_entropy(const floating[:, ::1] z, const Py_ssize_t[::1] labels,
                          const floating[:, ::1] r, floating[:, ::1] grad, floating[::1] rows,
                          double label_smoothing, double grad_scale, bint want_grad,
                          bint want_rows, int n_threads=1):
    """Integer labels when `labels` is not empty, else probability rows `r`."""
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], i
    cdef bint use_labels = labels.shape[0] > 0
    cdef floating eps = <floating>label_smoothing, scale = <floating>grad_scale
    cdef double total = 0, loss
    cdef floating* g
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        g = &grad[i, 0] if want_grad else NULL
        if use_labels:
            loss = _sce_label_row(&z[i, 0], labels[i], g, n, eps, scale)
        else:
            loss = _sce_prob_row(&z[i, 0], &r[i, 0], g, n, eps, scale)
        if want_rows:
            rows[i] = <floating>loss
        total += loss
    return total


# ----------------------------------------------------------------------------------------
# Elementwise losses
# ----------------------------------------------------------------------------------------
cdef inline floating _xlog(floating r, floating y) noexcept nogil:
    # r ln y with the limit 0 ln 0 = 0: a class with no target weight adds nothing.
    return r * _log(y) if r != 0 else 0


cdef inline floating _term(int op, floating y, floating r) noexcept nogil:
    cdef floating d
    if op == CROSS_ENTROPY:
        return -_xlog(r, y)
    elif op == NLL:
        return -r * y if r != 0 else 0
    elif op == SQUARED_ERROR:
        d = y - r
        return d * d / 2
    elif op == BINARY_CROSS_ENTROPY:
        # ln(1 - y) as log1p(-y): exact for small y, where 1 - y would round.
        return -(_xlog(r, y) + ((1 - r) * _log1p(-y) if r != 1 else 0))
    else:
        # softplus(z) - r z, with softplus(z) = max(z, 0) + log(1 + e^{-|z|}): no overflow.
        return (y if y > 0 else 0) - r * y + _log1p(_exp(-_fabs(y)))


cdef inline floating _grad(int op, floating y, floating r) noexcept nogil:
    cdef floating e
    if op == CROSS_ENTROPY:
        return -r / y if r != 0 else 0
    elif op == NLL:
        return -r
    elif op == SQUARED_ERROR:
        return y - r
    elif op == BINARY_CROSS_ENTROPY:
        # -r / y + (1 - r) / (1 - y), each part 0 where its weight is 0.
        return (((1 - r) / (1 - y)) if r != 1 else 0) - ((r / y) if r != 0 else 0)
    else:
        # sigma(z) - r, with sigma from e = e^{-|z|} <= 1 on both sides.
        e = _exp(-_fabs(y))
        return (1 / (1 + e) if y >= 0 else e / (1 + e)) - r


cdef double _pointwise_row(int op, const floating* y, const floating* r, floating* g,
                           Py_ssize_t n, floating scale) noexcept nogil:
    cdef floating t[BLOCK]
    cdef double total = 0
    cdef Py_ssize_t lo = 0, j, w
    while lo < n:
        w = min(<Py_ssize_t>BLOCK, n - lo)
        for j in range(w):
            t[j] = _term(op, y[lo + j], r[lo + j])
        total += row_sum(t, w)
        if g != NULL:
            for j in range(w):
                g[lo + j] = _grad(op, y[lo + j], r[lo + j]) * scale
        lo += w
    return total


def pointwise_loss(int op, const floating[:, ::1] y, const floating[:, ::1] r,
                   floating[:, ::1] grad, floating[::1] rows, double factor, double grad_scale,
                   bint want_grad, bint want_rows, int n_threads=1):
    """Per sample factor * sum_j term(y_j, r_j); grad = factor * dterm/dy * grad_scale."""
    cdef Py_ssize_t m = y.shape[0], n = y.shape[1], i
    cdef floating scale = <floating>(factor * grad_scale)
    cdef double total = 0, loss
    cdef floating* g
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        g = &grad[i, 0] if want_grad else NULL
        loss = factor * _pointwise_row(op, &y[i, 0], &r[i, 0], g, n, scale)
        if want_rows:
            rows[i] = <floating>loss
        total += loss
    return total


def picked_loss(int op, const floating[:, ::1] y, const Py_ssize_t[::1] labels,
                floating[:, ::1] grad, floating[::1] rows, double grad_scale, bint want_grad,
                bint want_rows, int n_threads=1):
    """Cross-entropy or NLL with integer labels: only the labelled class has r = 1."""
    cdef Py_ssize_t m = y.shape[0], n = y.shape[1], i, j, c
    cdef floating scale = <floating>grad_scale
    cdef double total = 0, loss
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        c = labels[i]
        loss = _term(op, y[i, c], <floating>1)
        if want_grad:
            for j in range(n):
                grad[i, j] = 0
            grad[i, c] = _grad(op, y[i, c], <floating>1) * scale
        if want_rows:
            rows[i] = <floating>loss
        total += loss
    return total
