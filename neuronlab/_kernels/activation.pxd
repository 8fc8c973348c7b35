# activation.pxd -- every activation function of the course, for one number.
#
# For each activation f this file has
#     NAME_f(x, ...)        f(x)
#     NAME_df(x, ...)       f'(x)
#     NAME_d2f(x, ...)      f''(x)
#     NAME_df_from_y(y)     f'(x) written with the output y = f(x) alone, where that exists
#     NAME_f_array(x, y, n) the forward loop as one call, where that is faster
# and the line `# loops: memory-bound` where f, f' and f'' need no exponential, tanh or erf.
# That is all there is to declare: _generate.py reads the blocks, the array loops of
# _elementwise.pyx.tp are generated around these functions (their parameters are those after
# x, in order), and the textbook shows them by the markers `# <NAME>` ... `# </NAME>`.
#
# Rules every function keeps (the tests check each one against mpmath):
# * NaN in, NaN out. Comparisons with NaN are false, so each function is written so that
#   NaN falls through to an arithmetic branch (or is caught by _isnan).
# * No overflow on the way to a finite answer: exponentials are taken of -|x| only,
#   and 0 * inf at x = +-inf is replaced by the limit.
# * At a kink the derivative takes the value of the outer piece: the open interval on
#   which f is the identity (or the linear middle piece) does not contain its ends.
#   relu'(0) = 0, leaky_relu'(0) = alpha, hard_tanh'(+-1) = 0 (as PyTorch does).
# * Numbers in arithmetic are cast, <floating>1: Cython writes a bare 1 as the C double 1.0,
#   which would make every float32 kernel compute in double at half the SIMD width.
from cython cimport floating
from libc.math cimport INFINITY
from libc.string cimport memmove
from neuronlab._kernels._math cimport (
    GELU_K, INV_SQRT_2PI, SELU_ALPHA, SELU_LAMBDA, SQRT_2_OVER_PI,
    _clamp, _copysign, _exp_neg, _exp_neg_abs, _expm1, _fabs, _fma, _gelu, _isinf, _isnan,
    _log1p_small, _normal_cdf, _tanh, _tanh_array,
)


# <identity>
# loops: memory-bound
cdef inline floating identity_f(floating x) noexcept nogil:
    return x

cdef inline void identity_f_array(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # y = x is a copy: libc's, like np.copyto's (memmove, as y may be x itself).
    memmove(y, x, n * sizeof(floating))

cdef inline floating identity_df(floating x) noexcept nogil:
    return x if _isnan(x) else 1

cdef inline floating identity_d2f(floating x) noexcept nogil:
    return x if _isnan(x) else 0
# </identity>


# <binary_step>
# loops: memory-bound
cdef inline floating binary_step_f(floating x) noexcept nogil:
    # Heaviside step with H(0) = 1: the neuron fires when its input reaches the threshold.
    return x if _isnan(x) else (1 if x >= 0 else 0)

cdef inline floating binary_step_df(floating x) noexcept nogil:
    # Zero wherever it exists (undefined at 0, where we also say 0): nothing to learn from.
    return x if _isnan(x) else 0

cdef inline floating binary_step_d2f(floating x) noexcept nogil:
    return x if _isnan(x) else 0
# </binary_step>


# <sigmoid>
cdef inline floating _times_sigmoid(floating c, floating v) noexcept nogil:
    # c sigma(v) with e = exp(-|v|) <= 1, so that nothing overflows: c / (1 + e) for v >= 0
    # and c e / (1 + e) for v < 0, which keeps full relative precision down to the
    # subnormals. One division, not c e times 1 / (1 + e): a rounding and a multiply fewer.
    cdef floating e = _exp_neg_abs(v)
    return (c if v >= 0 else c * e) / (<floating>1 + e)

cdef inline floating sigmoid_f(floating x) noexcept nogil:
    return _times_sigmoid(<floating>1, x)

cdef inline floating sigmoid_df(floating x) noexcept nogil:
    # sigma'(x) = sigma(x)(1 - sigma(x)) = e / (1 + e)^2, e = exp(-|x|) (f' is even).
    # The product form would lose every digit of 1 - sigma(x) once sigma(x) rounds to 1.
    cdef floating e = _exp_neg_abs(x)
    cdef floating d = <floating>1 + e
    return e / (d * d)

cdef inline floating sigmoid_d2f(floating x) noexcept nogil:
    # sigma'' = sigma'(1 - 2 sigma) and 1 - 2 sigma(x) = -tanh(x / 2).
    return -sigmoid_df(x) * _tanh(x * <floating>0.5)

cdef inline floating sigmoid_df_from_y(floating y) noexcept nogil:
    return y * (<floating>1 - y)
# </sigmoid>


# <hard_sigmoid>
# loops: memory-bound
cdef inline floating hard_sigmoid_f(floating x, floating slope) noexcept nogil:
    # one rounding: next to the kink at -1/(2 slope), slope x + 1/2 cancels
    cdef floating t = _fma(slope, x, <floating>0.5)
    return 0 if t < 0 else (1 if t > 1 else t)

cdef inline floating hard_sigmoid_df(floating x, floating slope) noexcept nogil:
    # Inside iff |slope x| < 1/2: symmetric in x, so the kinks at +-1/(2 slope) get the same
    # (outer) value. Testing 0 < slope x + 1/2 < 1 instead depends on whether the compiler
    # fuses the multiply-add: with FMA, slope = 1/6 gave f'(-3) = 1/6 but f'(3) = 0.
    return x if _isnan(x) else (slope if _fabs(slope * x) < <floating>0.5 else 0)

cdef inline floating hard_sigmoid_d2f(floating x, floating slope) noexcept nogil:
    return x if _isnan(x) else 0
# </hard_sigmoid>


# <tanh>
cdef inline floating tanh_f(floating x) noexcept nogil:
    return _tanh(x)

cdef inline void tanh_f_array(const floating* x, floating* y, Py_ssize_t n) noexcept nogil:
    # The forward loop, with the same values as tanh_f: for float, the table code of
    # fastmath/nl_tanhf.c inlined into a loop of its own rather than called per 16 elements.
    _tanh_array(x, y, n)

cdef inline floating tanh_df(floating x) noexcept nogil:
    # 1 - tanh(x)^2 = 1 / cosh(x)^2 = 4e / (1 + e)^2 with e = exp(-2|x|): no cancellation
    # in the tails, where 1 - tanh^2 would round to 0 long before the true value does.
    cdef floating e = _exp_neg_abs(<floating>2 * x)
    return <floating>4 * e / ((<floating>1 + e) * (<floating>1 + e))

cdef inline floating tanh_d2f(floating x) noexcept nogil:
    return <floating>-2 * _tanh(x) * tanh_df(x)

cdef inline floating tanh_df_from_y(floating y) noexcept nogil:
    return <floating>1 - y * y
# </tanh>


# <hard_tanh>
# loops: memory-bound
cdef inline floating hard_tanh_f(floating x) noexcept nogil:
    return -1 if x < -1 else (1 if x > 1 else x)

cdef inline floating hard_tanh_df(floating x) noexcept nogil:
    return x if _isnan(x) else (1 if -1 < x < 1 else 0)

cdef inline floating hard_tanh_d2f(floating x) noexcept nogil:
    return x if _isnan(x) else 0
# </hard_tanh>


# <softsign>
# loops: memory-bound
cdef inline floating softsign_f(floating x) noexcept nogil:
    # x / (1 + |x|) is inf / inf at x = +-inf; the limit is +-1.
    cdef floating a = _fabs(x)
    return _copysign(<floating>1, x) if a == INFINITY else x / (<floating>1 + a)

cdef inline floating softsign_df(floating x) noexcept nogil:
    cdef floating r = <floating>1 / (<floating>1 + _fabs(x))
    return r * r

cdef inline floating softsign_d2f(floating x) noexcept nogil:
    # -2 sign(x) / (1 + |x|)^3, with sign(0) = 0 (f'' jumps from +2 to -2 there).
    cdef floating r = <floating>1 / (<floating>1 + _fabs(x))
    cdef floating sign = (x > 0) - (x < 0)
    return <floating>-2 * sign * r * r * r
# </softsign>


# <relu>
# loops: memory-bound
cdef inline floating relu_f(floating x) noexcept nogil:
    return 0 if x < 0 else x

cdef inline floating relu_df(floating x) noexcept nogil:
    return x if _isnan(x) else (1 if x > 0 else 0)

cdef inline floating relu_d2f(floating x) noexcept nogil:
    return x if _isnan(x) else 0

cdef inline floating relu_df_from_y(floating y) noexcept nogil:
    # y > 0 exactly when x > 0, so the output alone decides.
    return relu_df(y)
# </relu>


# <leaky_relu>
# loops: memory-bound
cdef inline floating leaky_relu_f(floating x, floating alpha) noexcept nogil:
    # The piecewise form, not max(x, alpha x): PReLU may learn alpha > 1.
    return x if x > 0 else alpha * x

cdef inline floating leaky_relu_df(floating x, floating alpha) noexcept nogil:
    return x if _isnan(x) else (1 if x > 0 else alpha)

cdef inline floating leaky_relu_d2f(floating x, floating alpha) noexcept nogil:
    return x if _isnan(x) else 0
# </leaky_relu>


# <elu>
cdef inline floating elu_f(floating x, floating alpha) noexcept nogil:
    # expm1(x) = exp(x) - 1 without the cancellation near x = 0.
    return x if x > 0 else alpha * _expm1(x)

cdef inline floating elu_df(floating x, floating alpha) noexcept nogil:
    return 1 if x > 0 else alpha * _exp_neg(x)

cdef inline floating elu_d2f(floating x, floating alpha) noexcept nogil:
    return 0 if x > 0 else alpha * _exp_neg(x)

cdef inline floating elu_df_from_y(floating y, floating alpha) noexcept nogil:
    # For x <= 0, y = alpha (exp(x) - 1), so alpha exp(x) = y + alpha: no exp needed.
    return 1 if y > 0 else y + alpha
# </elu>


# <selu>
cdef inline floating selu_f(floating x) noexcept nogil:
    return <floating>SELU_LAMBDA * elu_f(x, <floating>SELU_ALPHA)

cdef inline floating selu_df(floating x) noexcept nogil:
    return <floating>SELU_LAMBDA * elu_df(x, <floating>SELU_ALPHA)

cdef inline floating selu_d2f(floating x) noexcept nogil:
    return <floating>SELU_LAMBDA * elu_d2f(x, <floating>SELU_ALPHA)

cdef inline floating selu_df_from_y(floating y) noexcept nogil:
    # y = lambda alpha (exp(x) - 1) for x <= 0, so lambda alpha exp(x) = y + lambda alpha.
    return <floating>SELU_LAMBDA if y > 0 else y + <floating>(SELU_LAMBDA * SELU_ALPHA)
# </selu>


# <softplus>
cdef inline floating softplus_f(floating x) noexcept nogil:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): e^x never overflows, and log1p keeps
    # the digits of e^-|x| when it is tiny (softplus(-50) = 1.9e-22, not 0). Its argument
    # is in (0, 1], which is all _log1p_small handles.
    return (x if x > 0 else <floating>0) + _log1p_small(_exp_neg_abs(x))

cdef inline floating softplus_df(floating x) noexcept nogil:
    return sigmoid_f(x)

cdef inline floating softplus_d2f(floating x) noexcept nogil:
    return sigmoid_df(x)
# </softplus>


# <swish>
cdef inline floating swish_f(floating x, floating beta) noexcept nogil:
    # x sigma(beta x) as one quotient (see sigmoid). At x = -inf that is (-inf) * 0, whose
    # limit is 0: c = 0 gives it (selecting c, not the result, keeps the loop unmasked).
    return _times_sigmoid(0 if x == -INFINITY else x, beta * x)

cdef inline floating swish_df(floating x, floating beta) noexcept nogil:
    # f' = sigma(u) + u sigma'(u) with u = beta x. With e = exp(-|u|) (see sigmoid) that is
    # (c (1 + e) + u e) / (1 + e)^2, c = 1 for u >= 0 and e for u < 0: one division.
    cdef floating u = beta * x
    cdef floating e = _exp_neg_abs(u)
    cdef floating d = <floating>1 + e
    cdef floating c = <floating>1 if u >= 0 else e
    # At u = +-inf, u sigma'(u) is inf * 0 and its limit 0: the factor u is replaced by 0.
    return (c * d + (0 if _isinf(u) else u) * e) / (d * d)

cdef inline floating swish_d2f(floating x, floating beta) noexcept nogil:
    # f'' = beta sigma'(u) (2 + u sigma''(u) / sigma'(u)) = beta sigma'(u) (2 - u tanh(u / 2)).
    # At u = +-inf that is 0 * inf; from |u| = 1e30 on (1e3 would do) sigma'(u) is 0 and the
    # formula gives the limit, -0, so u is clamped there (see _clamp for why not a branch).
    cdef floating u = _clamp(beta * x, <floating>1e30)
    return beta * sigmoid_df(u) * (<floating>2 - u * _tanh(u * <floating>0.5))
# </swish>


# <gelu>
# Phi and the Gaussian g = e^(-x^2/2) come from one routine (fastmath/nl_fastmath.h), which
# keeps Phi's relative precision in the left tail, where 1 + erf(x / sqrt 2) cancels to 0.
cdef inline floating gelu_f(floating x) noexcept nogil:
    # x Phi(x), as max(x, -0) - |x| Phi(-|x|) on both sides of 0 (nl_gelu).
    return _gelu(x)

cdef inline floating gelu_df(floating x) noexcept nogil:
    # f' = Phi(x) + x phi(x), with phi = g / sqrt(2 pi) the standard normal density; at
    # x = +-inf, x phi is inf * 0, whose limit is 0.
    cdef floating g
    cdef floating Phi = _normal_cdf(x, &g)
    return Phi + (0 if _isinf(x) else x) * (<floating>INV_SQRT_2PI * g)

cdef inline floating gelu_d2f(floating x) noexcept nogil:
    # f'' = phi(x) (2 - x^2), as 2 phi - (x phi) x so that x^2 cannot overflow against phi = 0.
    # Only g is used here; the compiler drops the rest of _normal_cdf.
    cdef floating g
    _normal_cdf(x, &g)
    cdef floating phi = <floating>INV_SQRT_2PI * g
    return 0 if _isinf(x) else <floating>2 * phi - (x * phi) * x
# </gelu>


# <gelu_tanh>
# The tanh approximation: x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + k x^3), computed as
# x sigma(v) with v = 2u, since (1 + tanh(u)) / 2 = sigma(2u) has no cancellation at u << 0.
cdef inline floating gelu_tanh_f(floating x) noexcept nogil:
    cdef floating v = <floating>(2 * SQRT_2_OVER_PI) * (x + <floating>GELU_K * x * x * x)
    return _times_sigmoid(0 if x == -INFINITY else x, v)

cdef inline floating gelu_tanh_df(floating x) noexcept nogil:
    # f' = sigma(v) + x sigma'(v) v', sigma and sigma' from one exp (see sigmoid). Beyond
    # |x| = 1e10, sigma'(v) is 0 to any precision while v' overflows: the limits 0 and 1.
    cdef floating c = <floating>(2 * SQRT_2_OVER_PI)
    cdef floating v = c * (x + <floating>GELU_K * x * x * x)
    cdef floating dv = c * (<floating>1 + <floating>(3 * GELU_K) * x * x)
    cdef floating e = _exp_neg_abs(v)
    cdef floating r = <floating>1 / (<floating>1 + e)
    cdef floating s = r if v >= 0 else e * r
    return (1 if x > 0 else 0) if _fabs(x) > <floating>1e10 else s + x * (e * r * r) * dv

cdef inline floating gelu_tanh_d2f(floating x) noexcept nogil:
    # f'' = sigma'(v) (2 v' - x tanh(v / 2) v'^2 + x v''), using sigma'' = -sigma' tanh(v / 2).
    # From |x| = 1e4 on (23 would do), sigma'(v) is 0 in both types, and x is clamped there
    # so that v'^2 x cannot overflow to make 0 * inf (see _clamp for why not a branch).
    cdef floating c = <floating>(2 * SQRT_2_OVER_PI)
    x = _clamp(x, <floating>1e4)
    cdef floating v = c * (x + <floating>GELU_K * x * x * x)
    cdef floating dv = c * (<floating>1 + <floating>(3 * GELU_K) * x * x)
    cdef floating d2v = c * <floating>(6 * GELU_K) * x
    return sigmoid_df(v) * (<floating>2 * dv - x * _tanh(v * <floating>0.5) * dv * dv + x * d2v)
# </gelu_tanh>


# <mish>
# g(x) = tanh(softplus(x)) = ((1 + e^x)^2 - 1) / ((1 + e^x)^2 + 1), rewritten with
# q = e^-|x| <= 1 so that nothing overflows:
#     x >= 0:  g = (1 + 2q) / D,       D = 1 + 2q + 2q^2
#     x <  0:  g = q (q + 2) / D,      D = q^2 + 2q + 2
# and g' = sigma(x) (1 - g^2) = 4 w (1 + q) / D^2 with w = q^2 (x >= 0) or w = q (x < 0).
cdef inline floating _mish_g(floating x, floating q, floating* dg) noexcept nogil:
    """g = tanh(softplus(x)) from q = exp(-|x|); its derivative g' goes to dg[0]."""
    cdef floating D = (<floating>1 + <floating>2 * q + <floating>2 * q * q if x >= 0
                       else q * q + <floating>2 * q + <floating>2)
    cdef floating w = q * q if x >= 0 else q
    dg[0] = <floating>4 * w * (<floating>1 + q) / (D * D)
    return (<floating>1 + <floating>2 * q) / D if x >= 0 else q * (q + <floating>2) / D

cdef inline floating mish_f(floating x) noexcept nogil:
    cdef floating dg
    cdef floating g = _mish_g(x, _exp_neg_abs(x), &dg)
    return (0 if x == -INFINITY else x) * g

cdef inline floating mish_df(floating x) noexcept nogil:
    # f' = g + x g' (the chain rule through tanh and softplus); x = 1e308 meets g' = 0,
    # not inf * 0, because x multiplies g' last, and at x = +-inf the limit of x g' is 0.
    cdef floating dg
    cdef floating g = _mish_g(x, _exp_neg_abs(x), &dg)
    return g + (0 if _isinf(x) else x) * dg

cdef inline floating mish_d2f(floating x) noexcept nogil:
    # f'' = 2 g' + x g'' with g'' = g' (1 - sigma - 2 sigma g); grouping x g' keeps
    # x = 1e308 from meeting g' = 0 as inf * 0.
    cdef floating q = _exp_neg_abs(x)
    cdef floating dg
    cdef floating g = _mish_g(x, q, &dg)
    cdef floating sigma = <floating>1 / (<floating>1 + q) if x >= 0 else q / (<floating>1 + q)
    return 0 if _isinf(x) else <floating>2 * dg + (x * dg) * (<floating>1 - sigma - <floating>2 * sigma * g)
# </mish>
