"""The rectifiers: ReLU, and the variants that keep a gradient for negative inputs, with a
slope (leaky, parametric, randomized ReLU) or an exponential (ELU, SELU).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _elementwise
from neuronlab._validation import (
    as_float_array,
    check_real,
    check_same_shape,
    finish_out,
    prepare_out,
    result_dtype,
)
from neuronlab.activations.base import INF, Activation

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


class ReLU(Activation):
    r"""f(x) = max(0, x); f'(x) = 1 for x > 0, else 0 (0 at the kink)."""

    name = kernel = "relu"
    formula = r"f(x) = \max(0, x)"
    derivative_formula = r"f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}"
    expression = "Max(0, x)"
    output_range = (0.0, INF)
    smooth = False
    torch_module = ("ReLU", {})


class LeakyReLU(Activation):
    r"""f(x) = x for x > 0, alpha x otherwise; f'(x) = 1 or alpha (alpha at the kink).

    A small slope alpha keeps a gradient flowing for negative inputs: no dead units.
    """

    name = kernel = "leaky_relu"
    formula = r"f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}"
    derivative_formula = r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}"
    expression = "Piecewise((x, x > 0), (alpha*x, True))"
    output_range = (-INF, INF)
    smooth = False
    torch_module = ("LeakyReLU", {"negative_slope": "alpha"})

    def __init__(self, alpha: float = 0.01):
        self.alpha = check_real(alpha, "alpha", low=0.0)



class PReLU(Activation):
    r"""Parametric ReLU: leaky ReLU whose slope alpha is learned (He et al., 2015).

    `alpha` is one number shared by all units, or an array with one slope per unit,
    applied along the last axis of x. :meth:`alpha_gradient` gives dJ/dalpha.
    """

    name = "prelu"
    kernel = "leaky_relu"
    formula = r"f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}"
    derivative_formula = (r"\frac{\partial f}{\partial x} = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0"
                          r"\end{cases}, \quad \frac{\partial f}{\partial \alpha} = \min(0, x)")
    expression = "Piecewise((x, x > 0), (alpha*x, True))"
    output_range = (-INF, INF)
    smooth = False
    monotonic = True  # while alpha >= 0; a learned alpha may leave that range
    torch_module = ("PReLU", {})

    def __init__(self, alpha: float | np.ndarray = 0.25):
        if np.ndim(alpha) == 0:
            self.alpha = check_real(alpha, "alpha")
        else:
            a = as_float_array(alpha, "alpha")
            if a.ndim != 1 or a.size == 0:
                raise ValueError(f"alpha must be a number or a 1-d array of slopes, got shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError("alpha must be finite")
            self.alpha = a.astype(np.float64)

    @property
    def per_unit(self) -> bool:
        return isinstance(self.alpha, np.ndarray)

    def kernel_params(self):
        if self.per_unit:
            raise ValueError("a per-unit PReLU has no single slope")
        return (self.alpha,)

    def sympy_expr(self, substitute: bool = True):
        if self.per_unit and substitute:
            raise ValueError("a per-unit PReLU has one expression per unit; use substitute=False")
        return super().sympy_expr(substitute)

    def _run(self, op, x, dy=None, *, out, first="x"):
        if not self.per_unit:
            return super()._run(op, x, dy, out=out, first=first)
        x = as_float_array(x, "x")
        if x.ndim == 0 or x.shape[-1] != self.alpha.shape[0]:
            raise ValueError(f"x has shape {x.shape}, but this PReLU has {self.alpha.shape[0]} "
                             "slopes: the last axis of x must have that many units")
        if op == "second_derivative":  # f'' = 0 whatever the slopes: the shared-slope kernel
            return super()._run(op, x, dy, out=out, first=first)
        return _columns(op, x, self.alpha, dy, out)

    def _params_for(self, op):
        # leaky_relu_d2f ignores alpha, so any slope serves a per-unit PReLU's f''.
        return (0.0,) if self.per_unit and op == "second_derivative" else self.kernel_params()

    def alpha_gradient(self, x: Any, dy: Any) -> float | np.ndarray:
        """dJ/dalpha = sum of dy * min(0, x), over everything (shared) or per unit."""
        x = as_float_array(x, "x")
        dy = as_float_array(dy, "dy")
        check_same_shape(x, "x", dy, "dy")
        dtype = result_dtype(x, dy)
        x, dy = x.astype(dtype, copy=False), dy.astype(dtype, copy=False)
        k = self.alpha.shape[0] if self.per_unit else 1
        if self.per_unit and (x.ndim == 0 or x.shape[-1] != k):
            raise ValueError(f"x has shape {x.shape}; the last axis must have {k} units")
        dalpha = np.empty(k, dtype=dtype)
        _elementwise.leaky_relu_alpha_gradient(x.reshape(-1, k), dy.reshape(-1, k), dalpha)
        return dalpha if self.per_unit else dalpha[0]


class RReLU(Activation):
    r"""Randomized leaky ReLU (Xu et al., 2015).

    In training mode each element gets its own slope a ~ U(lower, upper), drawn from a
    seeded generator and kept for :meth:`backward`; in evaluation mode the slope is the
    mean (lower + upper) / 2.
    """

    name = "rrelu"
    kernel = "leaky_relu"
    formula = (r"f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}, \quad "
               r"a \sim U(l, u) \text{ (training)}, \ a = \tfrac{l + u}{2} \text{ (evaluation)}")
    derivative_formula = r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}"
    expression = "Piecewise((x, x > 0), (alpha*x, True))"
    output_range = (-INF, INF)
    smooth = False

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None):
        self.lower = check_real(lower, "lower", low=0.0)
        self.upper = check_real(upper, "upper", low=self.lower)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.slopes: np.ndarray | None = None  # drawn by the last training-mode forward

    @property
    def params(self):
        return {"lower": self.lower, "upper": self.upper, "seed": self.seed}

    @property
    def mean_slope(self) -> float:
        return (self.lower + self.upper) / 2

    def kernel_params(self):
        return (self.mean_slope,)     # the kernel's alpha, in evaluation mode

    def forward(self, x, training=False, *, out=None):
        if not training:
            return super().forward(x, out=out)
        x = as_float_array(x, "x")
        self.slopes = self.rng.uniform(self.lower, self.upper, size=x.shape).astype(x.dtype)
        return self._training("forward", x, None, out)

    def derivative(self, x, training=False, *, out=None):
        if not training:
            return super().derivative(x, out=out)
        return self._training("derivative", as_float_array(x, "x"), None, out)

    def backward(self, x, dy, training=False, *, out=None):
        if not training:
            return self._run("backward", x, dy, out=out)   # the kernel, with the mean slope
        return self._training("backward", as_float_array(x, "x"), dy, out)

    def _training(self, op, x, dy, out):
        if self.slopes is None or self.slopes.shape != x.shape:
            raise ValueError(
                "training-mode derivative/backward reuse the slopes of the last "
                "forward(x, training=True), which must have x's shape "
                f"{x.shape}; got {None if self.slopes is None else self.slopes.shape}: call "
                "forward(x, training=True) with this x first"
            )
        return _columns(op, x.reshape(1, -1), self.slopes.reshape(-1), dy, out, shape=x.shape)


def _columns(op, x, alpha, dy, out, shape=None):
    """Leaky ReLU with a slope per column of x viewed as (m, k): PReLU and RReLU."""
    shape = x.shape if shape is None else shape
    k = alpha.shape[0]
    arrays = {"x": x}
    if dy is not None:
        dy = as_float_array(dy, "dy")
        if dy.shape != shape:
            raise ValueError(f"dy has shape {dy.shape} but x has shape {shape}; they must match")
        dtype = result_dtype(x, dy)
        arrays = {"x": x.astype(dtype, copy=False), "dy": dy.astype(dtype, copy=False)}
    dtype = arrays["x"].dtype
    buf, result = prepare_out(out, shape, dtype, arrays)
    a = np.ascontiguousarray(alpha, dtype=dtype)
    x2 = arrays["x"].reshape(-1, k)
    n = get_num_threads()
    if op == "forward":
        _elementwise.leaky_relu_forward_columns(x2, a, buf.reshape(-1, k), n_threads=n)
    elif op == "derivative":
        _elementwise.leaky_relu_derivative_columns(x2, a, buf.reshape(-1, k), n_threads=n)
    elif op == "backward":
        _elementwise.leaky_relu_backward_columns(x2, a, arrays["dy"].reshape(-1, k),
                                                 buf.reshape(-1, k), n_threads=n)
    elif op == "second_derivative":  # f'' = 0 (NaN for NaN) whatever the slope
        _elementwise.loop("leaky_relu", "second_derivative")(x2.reshape(-1), buf.reshape(-1), 0.0, n_threads=n)
    else:
        raise NotImplementedError(f"{op} with one slope per unit")
    return finish_out(buf, result)


class ELU(Activation):
    r"""Exponential linear unit (Clevert et al., 2016): x for x > 0, alpha (e^x - 1) else.

    f'(x) = 1 for x > 0, alpha e^x = f(x) + alpha otherwise: from the output, no exp.
    """

    name = kernel = "elu"
    formula = r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}"
    derivative_formula = (r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} = f(x) + \alpha"
                          r" & x \le 0 \end{cases}")
    expression = "Piecewise((x, x > 0), (alpha*(exp(x) - 1), True))"
    torch_module = ("ELU", {"alpha": "alpha"})

    def __init__(self, alpha: float = 1.0):
        self.alpha = check_real(alpha, "alpha", low=0.0)

    @property
    def output_range(self):
        return (-self.alpha, INF)

    @property
    def smooth(self):  # f' is continuous at 0 only when alpha e^0 = 1
        return self.alpha == 1.0


class SELU(Activation):
    r"""Scaled ELU (Klambauer et al., 2017): lambda * elu(x, alpha) with the constants
    lambda = 1.0507..., alpha = 1.6733... that make activations self-normalizing."""

    name = kernel = "selu"
    formula = r"f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}"
    derivative_formula = (r"f'(x) = \begin{cases} \lambda & x > 0 \\ \lambda \alpha e^{x} = "
                          r"f(x) + \lambda \alpha & x \le 0 \end{cases}")
    expression = ("1.0507009873554804934193349852946*Piecewise((x, x > 0), "
                  "(1.6732632423543772848170429916717*(exp(x) - 1), True))")
    output_range = (-SELU_LAMBDA * SELU_ALPHA, INF)
    smooth = False
    torch_module = ("SELU", {})

