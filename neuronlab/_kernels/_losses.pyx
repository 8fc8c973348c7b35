# The losses and their gradients, one row (one sample) at a time, in one fused pass.
#
# Every kernel returns the total loss (accumulated in double) and, on request, writes the
# per-sample losses into `rows` and the gradient, already multiplied by `grad_scale`
# (1/m for the mean over m samples, 1 otherwise), into `grad`. Unused outputs may be
# empty arrays. The Python side has checked every shape and every label: the kernels
# index with the labels unchecked.
from cython cimport floating
from cython.parallel cimport prange

cimport neuronlab._kernels.activation as act
from neuronlab._kernels._math cimport _log1p
from neuronlab._kernels._rows cimport (
    BLOCK, MAX_BLOCK_ROWS, MIN_PARALLEL_ELEMENTS, ROW_BLOCK, _log, exp_rows, long_row_max, row_sum,
    row_sum_exp, row_weighted_gap, rows_per_block,
)


# ----------------------------------------------------------------------------------------
# Softmax cross-entropy from logits: loss = log sum_j e^{z_j} - sum_j r_j z_j (for sum r = 1)
# ----------------------------------------------------------------------------------------
# The target is r' = (1 - eps) r + eps / n with r the one-hot row of the label (r == NULL,
# label c) or a given row; eps = 0 without label smoothing. With m = max z, s = sum e^{z_j - m}
# and R' = sum r': loss = -sum_j r'_j log softmax_j = R' log s + sum_j r'_j (m - z_j).

# <sce_loss>
cdef inline double _sce_loss(const floating* z, Py_ssize_t c, const floating* r, Py_ssize_t n,
                             floating m, double s, floating eps) noexcept nogil:
    cdef double loss
    if r == NULL:  # R' = 1
        loss = _log(s) + (1 - eps) * <double>(m - z[c])
    else:
        loss = ((1 - eps) * row_sum(r, n) + eps) * _log(s) + (1 - eps) * row_weighted_gap(r, z, n, m)
    if eps != 0:
        loss += eps * (m - row_sum(z, n) / n)
    return loss
# </sce_loss>


# <sce_gradient>
cdef inline void _sce_gradient(floating* g, Py_ssize_t c, const floating* r, Py_ssize_t n,
                               double s, floating eps, floating scale) noexcept nogil:
    # g holds e^{z_j - m} on entry and (softmax(z) R' - r') * scale on exit: for one-hot r,
    # (y - r) / m with the mean over m samples.
    cdef floating p, q = eps * scale / n
    cdef Py_ssize_t j
    if r == NULL:
        p = <floating>(scale / s)
        for j in range(n):
            g[j] = g[j] * p - q
        g[c] -= (1 - eps) * scale
    else:
        p = <floating>(((1 - eps) * row_sum(r, n) + eps) * scale / s)
        for j in range(n):
            g[j] = g[j] * p - ((1 - eps) * r[j] * scale + q)
# </sce_gradient>


# <sce_block>
cdef double _sce_block(const floating* z, const Py_ssize_t* labels, const floating* r,
                       floating* g, floating* losses, Py_ssize_t rows, Py_ssize_t n,
                       floating eps, floating scale, bint more) noexcept nogil:
    """`rows` consecutive samples; g and losses may be NULL (not wanted), and so may labels
    (then r holds the target rows) or r (then labels are given). `more`: z goes on after
    these rows (see exp_rows). Returns the summed loss."""
    cdef floating m[MAX_BLOCK_ROWS]
    cdef double s[MAX_BLOCK_ROWS]
    cdef floating scratch[ROW_BLOCK]  # the exponentials when no gradient is wanted
    cdef double loss, total = 0
    cdef Py_ssize_t i, c = 0
    cdef const floating* ri = NULL
    if g != NULL:
        exp_rows(z, g, rows, n, 1, m, s, more)
    elif rows * n <= ROW_BLOCK:
        exp_rows(z, scratch, rows, n, 1, m, s, more)
    else:  # one row longer than the scratch block
        for i in range(rows):
            m[i] = long_row_max(z + i * n, n)
            s[i] = row_sum_exp(z + i * n, n, m[i], 1)
    for i in range(rows):
        if labels != NULL:
            c = labels[i]
        else:
            ri = r + i * n
        if g != NULL:
            _sce_gradient(g + i * n, c, ri, n, s[i], eps, scale)
        loss = _sce_loss(z + i * n, c, ri, n, m[i], s[i], eps)
        if losses != NULL:
            losses[i] = <floating>loss
        total += loss
    return total

# </sce_block>

def softmax_cross_entropy(const floating[:, ::1] z, const Py_ssize_t[::1] labels,
                          const floating[:, ::1] r, floating[:, ::1] grad, floating[::1] rows,
                          double label_smoothing, double grad_scale, bint want_grad,
                          bint want_rows, int n_threads=1):
    """Integer labels when `labels` is not empty, else probability rows `r`."""
    cdef Py_ssize_t m = z.shape[0], n = z.shape[1], block = rows_per_block(n), b, lo
    cdef Py_ssize_t n_blocks = (m + block - 1) // block
    cdef bint use_labels = labels.shape[0] > 0
    cdef floating eps = <floating>label_smoothing, scale = <floating>grad_scale
    cdef double total = 0
    for b in prange(n_blocks, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        lo = b * block
        total += _sce_block(&z[lo, 0], &labels[lo] if use_labels else NULL,
                            <const floating*>NULL if use_labels else &r[lo, 0],
                            &grad[lo, 0] if want_grad else NULL,
                            &rows[lo] if want_rows else NULL,
                            min(block, m - lo), n, eps, scale, lo + block < m)
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
        # softplus(z) - r z, with the activation's overflow-free softplus.
        return act.softplus_f(y) - r * y


cdef inline floating _grad(int op, floating y, floating r) noexcept nogil:
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
        # sigma(z) - r, with the activation's sigmoid (no overflow on either side).
        return act.sigmoid_f(y) - r


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


cdef double _picked_row(int op, const floating* y, Py_ssize_t c, floating* g, Py_ssize_t n,
                        floating scale) noexcept nogil:
    """Cross-entropy or NLL of one sample with label c: r = 1 at c and 0 elsewhere, so one term."""
    cdef Py_ssize_t j
    if g != NULL:
        for j in range(n):
            g[j] = 0
        g[c] = _grad(op, y[c], <floating>1) * scale
    return _term(op, y[c], <floating>1)


def picked_loss(int op, const floating[:, ::1] y, const Py_ssize_t[::1] labels,
                floating[:, ::1] grad, floating[::1] rows, double grad_scale, bint want_grad,
                bint want_rows, int n_threads=1):
    """Cross-entropy or NLL with integer labels: only the labelled class has r = 1."""
    cdef Py_ssize_t m = y.shape[0], n = y.shape[1], i
    cdef floating scale = <floating>grad_scale
    cdef double total = 0, loss
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        loss = _picked_row(op, &y[i, 0], labels[i], &grad[i, 0] if want_grad else NULL, n, scale)
        if want_rows:
            rows[i] = <floating>loss
        total += loss
    return total


# ----------------------------------------------------------------------------------------
# Multiclass hinge loss (the multiclass SVM): loss = sum_{j != c} max(0, s_j - s_c + delta)
# ----------------------------------------------------------------------------------------
# Every wrong class j whose score s_j comes within the margin delta of the label's score s_c
# (or passes it) adds its violation s_j - s_c + delta; the others add nothing. The
# subgradient counts the violations: +1 at each violating j, minus their number at c. A
# tie, s_j - s_c + delta == 0 exactly, is not a violation: its subgradient is 0, the flat
# side of max(0, t).

# <hinge_row>
cdef double _hinge_row(const floating* s, Py_ssize_t c, floating* g, Py_ssize_t n,
                       floating delta, floating scale) noexcept nogil:
    """The hinge loss of one sample of class c, with its subgradient times scale in g
    (unless g is NULL). A NaN score makes the loss NaN, as max(0, NaN) is in NumPy, and
    then the whole gradient row: nothing can be said about the direction of a NaN."""
    cdef floating t[BLOCK]   # the violations max(0, s_j - s_c + delta) of one block
    cdef floating sc = s[c], d
    cdef double total = 0
    cdef Py_ssize_t lo = 0, j, w, violated = 0
    while lo < n:
        w = min(<Py_ssize_t>BLOCK, n - lo)
        for j in range(w):
            d = s[lo + j] - sc + delta
            t[j] = 0 if d <= 0 else d       # "not <= 0" keeps a NaN, where "> 0" would drop it
        if lo <= c < lo + w:
            t[c - lo] = 0                   # the label's own class is not compared with itself
        total += row_sum(t, w)
        if g != NULL:
            for j in range(w):
                g[lo + j] = scale if t[j] > 0 else 0
                violated += t[j] > 0
        lo += w
    if g != NULL:
        if total != total:
            for j in range(n):
                g[j] = total
        else:
            g[c] = -violated * scale
    return total
# </hinge_row>


def hinge_loss(const floating[:, ::1] s, const Py_ssize_t[::1] labels, floating[:, ::1] grad,
               floating[::1] rows, double margin, double grad_scale, bint want_grad,
               bint want_rows, int n_threads=1):
    """The multiclass hinge loss of scores s with integer labels; delta = margin > 0."""
    cdef Py_ssize_t m = s.shape[0], n = s.shape[1], i
    cdef floating delta = <floating>margin, scale = <floating>grad_scale
    cdef double total = 0, loss
    for i in prange(m, nogil=True, schedule="static", num_threads=n_threads,
                    use_threads_if=m * n >= MIN_PARALLEL_ELEMENTS):
        loss = _hinge_row(&s[i, 0], labels[i], &grad[i, 0] if want_grad else NULL, n, delta, scale)
        if want_rows:
            rows[i] = <floating>loss
        total += loss
    return total


# ----------------------------------------------------------------------------------------
# One training batch, for compiled code that holds a whole network (_dense.pyx)
# ----------------------------------------------------------------------------------------
cdef double batch_loss(LossFamily family, int op, const floating* y, const Py_ssize_t* labels,
                       const floating* r, floating* grad, Py_ssize_t m, Py_ssize_t n, double param,
                       double grad_scale) noexcept nogil:
    """The summed loss of m samples, with its gradient times grad_scale written into grad.

    The same row kernels as the functions above, on one thread: a batch of tens of samples
    is too small to share. `labels` or `r` is NULL (see LossFamily for which each takes).
    """
    cdef double total = 0
    cdef Py_ssize_t i, lo, block = rows_per_block(n)
    cdef floating scale = <floating>grad_scale
    if family == SOFTMAX_CE:
        lo = 0
        while lo < m:
            total += _sce_block(y + lo * n, labels + lo if labels != NULL else NULL,
                                r + lo * n if r != NULL else NULL, grad + lo * n, NULL,
                                min(block, m - lo), n, <floating>param, scale, lo + block < m)
            lo += block
    elif family == POINTWISE:
        for i in range(m):
            total += param * _pointwise_row(op, y + i * n, r + i * n, grad + i * n, n,
                                            <floating>(param * grad_scale))
    elif family == HINGE:
        for i in range(m):
            total += _hinge_row(y + i * n, labels[i], grad + i * n, n, <floating>param, scale)
    else:
        for i in range(m):
            total += _picked_row(op, y + i * n, labels[i], grad + i * n, n, scale)
    return total
