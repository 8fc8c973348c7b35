# One step of each optimizer of neuronlab.optim, in one pass over the parameters.
#
# Written with NumPy ufuncs, an Adam step is a dozen passes over theta, g and the state
# buffers, each a separate call. Here every element is read once and written once, and the
# loop is plain enough for the compiler to vectorize. The formulas are those of optim.py.
#
# Weight decay arrives as two numbers: lam, added as lam * theta to the gradient (L2
# regularization; 0 without it), and shrink, the factor (1 - eta lambda) by which decoupled
# weight decay scales theta before the step (1 without it).
from cython cimport floating
from libc.math cimport sqrt, sqrtf


cdef inline floating _decayed(floating g, floating theta, floating lam) noexcept nogil:
    # g + lambda theta; exactly g without weight decay, even where theta is inf.
    return g + lam * theta if lam != 0 else g


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef void _sgd(floating* theta, const floating* g, floating* v, Py_ssize_t n, floating eta,
               floating mu, bint nesterov, floating lam, floating shrink) noexcept nogil:
    # One loop per case, with no branch inside: the compiler vectorizes each.
    cdef Py_ssize_t i
    cdef floating gi
    if mu == 0:
        for i in range(n):
            theta[i] = shrink * theta[i] - eta * _decayed(g[i], theta[i], lam)
    elif nesterov:
        for i in range(n):
            gi = _decayed(g[i], theta[i], lam)
            v[i] = mu * v[i] + gi
            theta[i] = shrink * theta[i] - eta * (gi + mu * v[i])
    else:
        for i in range(n):
            v[i] = mu * v[i] + _decayed(g[i], theta[i], lam)
            theta[i] = shrink * theta[i] - eta * v[i]


def sgd(floating[::1] theta, const floating[::1] g, floating[::1] v, double eta, double mu,
        bint nesterov, double lam, double shrink):
    """theta <- theta - eta u with u = g; with momentum v <- mu v + g and u = v (or g + mu v, Nesterov).

    ``v`` may be empty when mu = 0.
    """
    if theta.shape[0]:
        with nogil:
            _sgd(&theta[0], &g[0], &v[0] if mu != 0 else NULL, theta.shape[0], <floating>eta,
                 <floating>mu, nesterov, <floating>lam, <floating>shrink)


cdef void _adagrad(floating* theta, const floating* g, floating* G, Py_ssize_t n, floating eta,
                   floating eps, floating lam, floating shrink) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi
    for i in range(n):
        gi = _decayed(g[i], theta[i], lam)
        G[i] = G[i] + gi * gi
        theta[i] = shrink * theta[i] - eta * (gi / (_sqrt(G[i]) + eps))


def adagrad(floating[::1] theta, const floating[::1] g, floating[::1] G, double eta, double eps,
            double lam, double shrink):
    """G <- G + g^2, theta <- theta - eta g / (sqrt(G) + eps)."""
    if theta.shape[0]:
        with nogil:
            _adagrad(&theta[0], &g[0], &G[0], theta.shape[0], <floating>eta, <floating>eps,
                     <floating>lam, <floating>shrink)


cdef void _rmsprop(floating* theta, const floating* g, floating* s, Py_ssize_t n, floating eta,
                   floating rho, floating eps, floating lam, floating shrink) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi
    for i in range(n):
        gi = _decayed(g[i], theta[i], lam)
        s[i] = rho * s[i] + (1 - rho) * (gi * gi)
        theta[i] = shrink * theta[i] - eta * (gi / (_sqrt(s[i]) + eps))


def rmsprop(floating[::1] theta, const floating[::1] g, floating[::1] s, double eta, double rho,
            double eps, double lam, double shrink):
    """s <- rho s + (1 - rho) g^2, theta <- theta - eta g / (sqrt(s) + eps)."""
    if theta.shape[0]:
        with nogil:
            _rmsprop(&theta[0], &g[0], &s[0], theta.shape[0], <floating>eta, <floating>rho,
                     <floating>eps, <floating>lam, <floating>shrink)


cdef void _adam(floating* theta, const floating* g, floating* m, floating* v, Py_ssize_t n,
                floating b1, floating b2, floating eps, floating step, floating root, floating lam,
                floating shrink) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi
    for i in range(n):
        gi = _decayed(g[i], theta[i], lam)
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * (gi * gi)
        theta[i] = shrink * theta[i] - step * (m[i] / (_sqrt(v[i]) * root + eps))


def adam(floating[::1] theta, const floating[::1] g, floating[::1] m, floating[::1] v, double eta,
         double beta1, double beta2, double eps, long t, double lam, double shrink):
    """m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2, theta <- theta - eta m_hat / (sqrt(v_hat) + eps).

    m_hat = m / (1 - b1^t) and sqrt(v_hat) = sqrt(v) / sqrt(1 - b2^t): the two corrections are
    two numbers per step, computed once here in double precision.
    """
    cdef double step = eta / (1.0 - beta1 ** t)          # eta / (1 - b1^t)
    cdef double root = 1.0 / sqrt(1.0 - beta2 ** t)      # 1 / sqrt(1 - b2^t)
    if theta.shape[0]:
        with nogil:
            _adam(&theta[0], &g[0], &m[0], &v[0], theta.shape[0], <floating>beta1, <floating>beta2,
                  <floating>eps, <floating>step, <floating>root, <floating>lam, <floating>shrink)
