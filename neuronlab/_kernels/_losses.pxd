# What other compiled modules may call of _losses: the loss of one training batch.
from cython cimport floating

# The elementwise losses, loss = sum_j term(y_j, r_j) per sample (see losses.py).
cpdef enum PointwiseLoss:
    CROSS_ENTROPY = 0                # -r ln y, on probabilities y
    NLL = 1                          # -r y, on log-probabilities y
    SQUARED_ERROR = 2                # (y - r)^2 / 2
    BINARY_CROSS_ENTROPY = 3         # -(r ln y + (1 - r) ln(1 - y))
    BINARY_CROSS_ENTROPY_LOGITS = 4  # the same with y = sigma(z), from the logit z

# How batch_loss reads its arguments.
cpdef enum LossFamily:
    SOFTMAX_CE = 0   # softmax cross-entropy from logits y; labels or rows r; param: label smoothing
    POINTWISE = 1    # sum_j term(y_j, r_j) (op: a PointwiseLoss) times param; rows r
    PICKED = 2       # cross-entropy or NLL (op) with integer labels
    HINGE = 3        # multiclass hinge of scores y with integer labels; param: the margin


cdef double batch_loss(LossFamily family, int op, const floating* y, const Py_ssize_t* labels,
                       const floating* r, floating* grad, Py_ssize_t m, Py_ssize_t n, double param,
                       double grad_scale) noexcept nogil
