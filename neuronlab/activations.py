"""Activation functions: the non-linearity of a neuron, a = f(z), and its derivatives.

Every activation is an object with the same methods, computed by compiled kernels
(``neuronlab/_kernels/activation.pxd`` holds the one-number formulas):

=========================  ===================================================
``act(z)``, ``forward``    f(z), elementwise
``derivative(z)``          f'(z)
``second_derivative(z)``   f''(z)
``backward(z, da)``        f'(z) * da in one pass: the error signal delta
``backward_from_output``   the same from a = f(z) alone (sigmoid, tanh, relu,
                           elu, selu): no need to keep z, often no exp()
=========================  ===================================================

>>> import numpy as np
>>> import neuronlab as nl
>>> act = nl.activations.get("sigmoid")
>>> act(np.array([-1.0, 0.0, 1.0]))
array([0.26894142, 0.5       , 0.73105858])
>>> act.derivative(np.array([0.0]))
array([0.25])

Inputs: float32 stays float32 and float64 stays float64; bools and integers are
computed in float64 (float16 in float32); complex, object and string arrays are a
TypeError. Any shape and memory layout works; ``out=`` receives the result.

Kinks: where f is not differentiable, ``derivative`` and ``backward`` return the
derivative of the outer piece (the open interval on which f is linear does not contain
its ends): relu'(0) = 0, leaky_relu'(0) = alpha, hard_tanh'(+-1) = 0, as PyTorch does;
hard_sigmoid'(+-1/(2 slope)) = 0, elu'(0) = alpha, selu'(0) = lambda alpha and
binary_step'(0) = 0 likewise. softsign has no linear piece: its f'' jumps from 2 to -2 at 0,
and softsign''(0) = 0 keeps f'' odd.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _elementwise
from neuronlab._registry import Registry
from neuronlab._validation import (
    as_float_array,
    check_real,
    check_same_shape,
    finish_out,
    prepare_out,
    result_dtype,
)

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "BinaryStep",
    "HardSigmoid",
    "HardTanh",
    "Identity",
    "LeakyReLU",
    "Mish",
    "PReLU",
    "RReLU",
    "ReLU",
    "Sigmoid",
    "Softplus",
    "Softsign",
    "Swish",
    "Tanh",
    "available",
    "get",
    "register",
    "unregister",
]

INF = float("inf")

# Extremes found with mpmath (the tests recompute them): min over x of x * sigma(x),
# x * Phi(x), x * sigma(1.702 x) * 1.702 / 1.702, the tanh form of GELU, and Mish.
SWISH_MIN = -0.27846454276107379510  # at beta = 1; scales as 1 / beta
GELU_MIN = -0.16997120747990366169  # at x = -0.75179152469356445746
GELU_TANH_MIN = -0.17004075057125405064  # at x = -0.75246142207101625849
MISH_MIN = -0.30884341301725040663  # at x = -1.1924312145154952121
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


class Activation:
    """Base class: an elementwise function f with its derivatives, run by compiled kernels.

    A built-in activation names its kernel (``kernel = "sigmoid"``: the block of
    activation.pxd with ``sigmoid_f``, ``sigmoid_df``, ...), keeps the kernel's parameters as
    attributes of the same names, and sets the class attributes below. An activation of your
    own sets ``name`` and defines ``forward(self, z)`` and ``derivative(self, z)`` in NumPy
    (see :meth:`compiled_kernel`).

    Attributes
    ----------
    name : str
        The registry name, ``neuronlab.activations.get(name)``.
    formula, derivative_formula : str
        f(x) and f'(x) in LaTeX, as the textbook shows them.
    expression : str
        f(x) in SymPy syntax, with the parameters by name (see :meth:`sympy_expr`).
    output_range : tuple of float
        The infimum and supremum of f.
    zero_centred : bool
        f is odd, f(-x) = -f(x): inputs symmetric about 0 give outputs with mean 0.
    monotonic : bool
        f never decreases.
    smooth : bool
        f' exists and is continuous everywhere (f is C^1).
    saturating : bool
        f'(x) -> 0 as x -> +inf and as x -> -inf: large inputs of either sign stop learning.
    has_output_derivative : bool
        :meth:`backward_from_output` exists: f' can be written with y = f(x) alone.
    elementwise : bool
        f maps each number alone; False for softmax, log-softmax and maxout
        (``neuronlab.softmax``), whose outputs depend on a whole vector.
    torch_module : (str, dict) or None
        The ``torch.nn`` class that computes the same function, with its arguments by our
        parameter names (``("LeakyReLU", {"negative_slope": "alpha"})``), for
        :meth:`Network.to_torch <neuronlab.network.Network.to_torch>`; None if there is none.
    """

    name: ClassVar[str]
    formula: ClassVar[str] = ""
    derivative_formula: ClassVar[str] = ""
    expression: ClassVar[str] = ""
    output_range: tuple[float, float] = (-INF, INF)
    zero_centred: ClassVar[bool] = False
    monotonic: ClassVar[bool] = True
    smooth: ClassVar[bool] = True
    saturating: ClassVar[bool] = False
    elementwise: ClassVar[bool] = True
    torch_module: ClassVar[tuple[str, dict[str, str]] | None] = None

    # -- parameters ----------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """The parameters this activation was made with, by name (by default those of its
        kernel, kept as attributes of the same names)."""
        return {name: getattr(self, name) for name in self.kernel_param_names()}

    def kernel_param_names(self) -> tuple[str, ...]:
        """The names of :meth:`kernel_params`, as used in :attr:`expression`: the parameters
        after x of the kernel's functions in activation.pxd (``leaky_relu_f(x, alpha)``)."""
        return _elementwise.PARAMETERS.get(getattr(self, "kernel", None), ())

    def kernel_params(self) -> tuple[float, ...]:
        """The numbers handed to the compiled kernel after the arrays."""
        return tuple(float(getattr(self, name)) for name in self.kernel_param_names())

    @property
    def has_output_derivative(self) -> bool:
        """:meth:`backward_from_output` exists: f' can be written with y = f(x) alone (the
        kernel's block in activation.pxd has ``NAME_df_from_y``)."""
        return self.compiled_kernel() in _elementwise.OUTPUT_FORMS

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and _params_equal(self.params, other.params)

    __hash__ = None  # mutable parameters (PReLU's alpha): not hashable

    def compiled_kernel(self) -> str | None:
        """The compiled loop that computes this activation, or None when it runs Python code.

        A class that overrides any of forward, derivative, second_derivative, backward or
        ``__call__`` runs what it defines, everywhere: alone, in a Layer and in a Network
        (whose engine then calls it back for that layer). A built-in activation, or a
        subclass that only renames or re-parametrizes one, runs its kernel.
        """
        kernel = getattr(self, "kernel", None)
        cls = type(self)
        if kernel is None or any(getattr(cls, m) is not getattr(Activation, m) for m in _MATHS):
            return None
        return kernel

    # -- the maths -----------------------------------------------------------------
    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        """f(x): whatever :meth:`forward` the class defines."""
        return self.forward(x, *args, **kwargs)

    def forward(self, x: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """f(x), elementwise."""
        return self._run("forward", x, out=out)

    def derivative(self, x: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """f'(x), elementwise."""
        return self._run("derivative", x, out=out)

    def second_derivative(self, x: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """f''(x), elementwise."""
        return self._run("second_derivative", x, out=out)

    def backward(self, x: Any, dy: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """The chain rule through f: dx = f'(x) * dy, in one pass with no temporary.

        In back-propagation `x` is the pre-activation z and `dy` the gradient of the
        loss with respect to the activation a = f(z); the result is delta = dJ/dz. A class
        without a compiled kernel gets ``derivative(x) * dy``.
        """
        if getattr(self, "kernel", None) is None or type(self).derivative is not Activation.derivative:
            return np.multiply(self.derivative(x), dy, out=out)
        return self._run("backward", x, dy, out=out)

    def backward_from_output(self, y: Any, dy: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """dx = f'(x) * dy computed from the output y = f(x) instead of x.

        Only where f' is a function of y (:attr:`has_output_derivative`): sigmoid
        (y(1 - y)), tanh (1 - y^2), relu, elu and selu. A layer that uses it need not
        keep z, and for sigmoid and tanh skips an exp().
        """
        if not self.has_output_derivative:
            raise NotImplementedError(
                f"{self.name}'s derivative cannot be written from its output alone; "
                "use backward(x, dy)"
            )
        return self._run("backward_from_output", y, dy, out=out, first="y")

    def forward_with_bias(self, z: np.ndarray, b: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """Add the bias to z in place, z += b, then return f(z): a dense layer's last step.

        One sweep over memory instead of two (the matrix product z = a_prev W^T has gone
        to BLAS just before). `z` must be a writeable, C-contiguous float32/float64 array
        of shape (m, n) and `b` of shape (n,); `out` may be `z` itself when z is not needed
        again (e.g. when the layer back-propagates with :meth:`backward_from_output`).
        """
        if not isinstance(z, np.ndarray) or z.ndim != 2:
            raise ValueError("z must be a 2-d numpy array (samples, units)")
        if z.dtype not in (np.float32, np.float64):
            raise TypeError(f"z has dtype {z.dtype}; it must be float32 or float64 (it is updated in place)")
        if not z.flags.c_contiguous or not z.flags.writeable:
            raise ValueError("z must be a writeable C-contiguous array: it is updated in place")
        b = as_float_array(b, "b", z.dtype)
        if b.shape != (z.shape[1],):
            raise ValueError(f"b has shape {b.shape} but z has {z.shape[1]} units; "
                             f"expected ({z.shape[1]},)")
        if self.compiled_kernel() is None:
            z += b
            return self.forward(z, out=out)
        buf, result = prepare_out(out, z.shape, z.dtype, {"z": z, "b": b})
        kernel = _elementwise.loop(self.kernel, "forward_bias")
        kernel(z, b, buf, *self._params_for("forward"), n_threads=get_num_threads())
        return finish_out(buf, result)

    def sympy_expr(self, substitute: bool = True):
        """f(x) as a SymPy expression in the symbol ``x`` (SymPy must be installed).

        With ``substitute=False`` the parameters stay symbols named as in :attr:`params`.
        """
        try:
            import sympy
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("sympy_expr() needs SymPy: pip install sympy") from exc
        names = {k: sympy.Symbol(k, real=True) for k in self.kernel_param_names()}
        names["x"] = sympy.Symbol("x", real=True)
        expr = sympy.sympify(self.expression, locals=names)
        if substitute:
            expr = expr.subs({names[k]: sympy.Float(v, 30) for k, v in
                              zip(self.kernel_param_names(), self.kernel_params(), strict=True)})
        return expr

    # -- plumbing ------------------------------------------------------------------
    def _run(self, op: str, x: Any, dy: Any = None, *, out: np.ndarray | None, first: str = "x"):
        if getattr(self, "kernel", None) is None:
            raise NotImplementedError(
                f"{type(self).__name__} defines no {op}: an activation of your own defines "
                "forward(self, z) and derivative(self, z) (and second_derivative for f'')")
        given_array = isinstance(x, np.ndarray)
        x = as_float_array(x, first)  # first: its message names the argument (np.ndim would not)
        scalar = x.ndim == 0 and not given_array
        arrays = {first: x}
        if dy is not None:
            dy = as_float_array(dy, "dy")
            check_same_shape(x, first, dy, "dy")
            if dy.dtype != x.dtype:  # float32 with float64: both in float64
                dtype = result_dtype(x, dy)
                x, dy = as_float_array(x, first, dtype), as_float_array(dy, "dy", dtype)
            arrays = {first: x, "dy": dy}
        dtype = x.dtype
        buf, result = prepare_out(out, x.shape, dtype, arrays)
        kernel = _loop(self.kernel, op, dtype)
        flat = [a if a.ndim == 1 else a.reshape(-1) for a in (*arrays.values(), buf)]
        kernel(*flat, *self._params_for(op), n_threads=get_num_threads())
        result = finish_out(buf, result)
        return result[()] if scalar and out is None else result

    def _params_for(self, op: str) -> tuple[float, ...]:
        return self.kernel_params()


# What a subclass may override to run its own maths (see Activation.compiled_kernel).
_MATHS = ("__call__", "forward", "derivative", "second_derivative", "backward", "_run")
_LOOPS: dict[tuple[str, str, str], Any] = {}


def _loop(kernel: str, op: str, dtype: np.dtype) -> Any:
    """The compiled loop of `op` for `kernel` (``kernel_f`` and its derivatives in
    activation.pxd), for float32 or float64 arrays, looked up once: called directly, it
    skips Cython's choice of version from the arrays on every call."""
    loop = _LOOPS.get((kernel, op, dtype.char))
    if loop is None:
        version = "float" if dtype == np.float32 else "double"
        loop = _LOOPS[kernel, op, dtype.char] = _elementwise.loop(kernel, op)[version]
    return loop


def _params_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------
_REGISTRY = Registry("activation", "a string or an Activation", base=Activation)


def register(cls: type[Activation], *aliases: str) -> type[Activation]:
    """Add an activation class to the registry under ``cls.name`` (and `aliases`)."""
    return _REGISTRY.register(cls, *aliases)


def unregister(name: str) -> None:
    """Remove an activation (and its aliases) from the registry, e.g. a class of your own
    registered while experimenting."""
    _REGISTRY.unregister(name)


def available() -> list[str]:
    """Every registered activation name (aliases such as ``silu`` not repeated), sorted."""
    return _REGISTRY.available()


def get(name: str | Activation, **params: Any) -> Activation:
    """The activation called `name`, made with `params`.

    >>> get("leaky_relu", alpha=0.1)
    LeakyReLU(alpha=0.1)

    An :class:`Activation` passes through unchanged (with no params allowed).
    """
    return _REGISTRY.get(name, **params)


# ----------------------------------------------------------------------------------------
# The activations, in the order of the course
# ----------------------------------------------------------------------------------------
class Identity(Activation):
    r"""f(x) = x, f'(x) = 1. A linear neuron: stacking these stays linear."""

    name = kernel = "identity"
    formula = r"f(x) = x"
    derivative_formula = r"f'(x) = 1"
    expression = "x"
    output_range = (-INF, INF)
    zero_centred = True


class BinaryStep(Activation):
    r"""f(x) = 1 if x >= 0 else 0: the perceptron's threshold unit.

    f'(x) = 0 wherever it exists (and we return 0 at x = 0 too), so gradient descent
    cannot train it: Rosenblatt's rule does instead.
    """

    name = kernel = "binary_step"
    formula = r"f(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}"
    derivative_formula = r"f'(x) = 0 \quad (x \ne 0)"
    expression = "Piecewise((1, x >= 0), (0, True))"
    output_range = (0.0, 1.0)
    smooth = False
    saturating = True


class Sigmoid(Activation):
    r"""The logistic function sigma(x) = 1 / (1 + e^{-x}); sigma'(x) = sigma(x)(1 - sigma(x))."""

    name = kernel = "sigmoid"
    formula = r"\sigma(x) = \frac{1}{1 + e^{-x}}"
    derivative_formula = r"\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)"
    expression = "1/(1 + exp(-x))"
    output_range = (0.0, 1.0)
    saturating = True
    torch_module = ("Sigmoid", {})


class HardSigmoid(Activation):
    r"""f(x) = clip(slope * x + 1/2, 0, 1): sigmoid's first-order Taylor expansion, clipped.

    The course's hard-logistic uses slope = 1/4 (sigma'(0)); PyTorch uses 1/6 and older
    Keras 0.2. f'(x) = slope for |x| < 1 / (2 slope), else 0.
    """

    name = kernel = "hard_sigmoid"
    formula = r"f(x) = \max\bigl(0, \min(1, s x + \tfrac{1}{2})\bigr)"
    derivative_formula = r"f'(x) = \begin{cases} s & |x| < \frac{1}{2s} \\ 0 & \text{otherwise} \end{cases}"
    expression = "Max(0, Min(1, slope*x + Rational(1, 2)))"
    output_range = (0.0, 1.0)
    smooth = False
    saturating = True

    def __init__(self, slope: float = 0.25):
        self.slope = check_real(slope, "slope", low=0.0, low_open=True)



class Tanh(Activation):
    r"""tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}) = 2 sigma(2x) - 1; tanh' = 1 - tanh^2."""

    name = kernel = "tanh"
    formula = r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}"
    derivative_formula = r"\tanh'(x) = 1 - \tanh^2(x)"
    expression = "tanh(x)"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    torch_module = ("Tanh", {})


class HardTanh(Activation):
    r"""f(x) = clip(x, -1, 1); f'(x) = 1 for |x| < 1, else 0."""

    name = kernel = "hard_tanh"
    formula = r"f(x) = \max\bigl(-1, \min(1, x)\bigr)"
    derivative_formula = r"f'(x) = \begin{cases} 1 & |x| < 1 \\ 0 & \text{otherwise} \end{cases}"
    expression = "Max(-1, Min(1, x))"
    output_range = (-1.0, 1.0)
    zero_centred = True
    smooth = False
    saturating = True
    torch_module = ("Hardtanh", {})


class Softsign(Activation):
    r"""f(x) = x / (1 + |x|); f'(x) = 1 / (1 + |x|)^2: tanh's shape with polynomial tails."""

    name = kernel = "softsign"
    formula = r"f(x) = \frac{x}{1 + |x|}"
    derivative_formula = r"f'(x) = \frac{1}{(1 + |x|)^2}"
    expression = "x/(1 + Abs(x))"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    torch_module = ("Softsign", {})


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
            # the kernel with the mean slope: the base class, seeing derivative overridden,
            # would multiply in NumPy and take a dy of any dtype
            return self._run("backward", x, dy, out=out)
        return self._training("backward", as_float_array(x, "x"), dy, out)

    def _training(self, op, x, dy, out):
        if self.slopes is None or self.slopes.shape != x.shape:
            raise ValueError(
                "training-mode derivative/backward reuse the slopes of the last "
                "forward(x, training=True), which must have x's shape "
                f"{x.shape}; got {None if self.slopes is None else self.slopes.shape}"
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


class Softplus(Activation):
    r"""f(x) = ln(1 + e^x), a smooth ReLU; f'(x) = sigma(x)."""

    name = kernel = "softplus"
    formula = r"f(x) = \ln\bigl(1 + e^{x}\bigr)"
    derivative_formula = r"f'(x) = \frac{1}{1 + e^{-x}} = \sigma(x)"
    expression = "log(1 + exp(x))"
    output_range = (0.0, INF)
    torch_module = ("Softplus", {})


class Swish(Activation):
    r"""Swish (Ramachandran et al., 2017): f(x) = x sigma(beta x); SiLU when beta = 1.

    f'(x) = sigma(beta x) + beta x sigma(beta x)(1 - sigma(beta x)). Not monotonic: it dips
    to about -0.278 / beta near x = -1.28 / beta.
    """

    name = kernel = "swish"
    formula = r"f(x) = x\,\sigma(\beta x) = \frac{x}{1 + e^{-\beta x}}"
    derivative_formula = (r"f'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)"
                          r"\bigl(1 - \sigma(\beta x)\bigr)")
    expression = "x/(1 + exp(-beta*x))"
    monotonic = False

    def __init__(self, beta: float = 1.0):
        self.beta = check_real(beta, "beta", low=0.0, low_open=True)

    @property
    def output_range(self):
        return (SWISH_MIN / self.beta, INF)


class GELU(Activation):
    r"""Gaussian error linear unit (Hendrycks and Gimpel, 2016): f(x) = x Phi(x).

    ``approximate`` picks the formula: ``"none"`` the exact one with erf, ``"tanh"``
    x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) / 2, ``"sigmoid"`` x sigma(1.702 x).
    """

    name = "gelu"
    derivative_formula = r"f'(x) = \Phi(x) + x\,\varphi(x)"
    monotonic = False
    _FORMS: ClassVar[dict[str, tuple[str, str, str, float]]] = {
        "none": ("gelu", r"f(x) = x\,\Phi(x) = \frac{x}{2}\Bigl(1 + \operatorname{erf}"
                 r"\bigl(\tfrac{x}{\sqrt{2}}\bigr)\Bigr)", "x*(1 + erf(x/sqrt(2)))/2", GELU_MIN),
        "tanh": ("gelu_tanh", r"f(x) = \frac{x}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,"
                 r"(x + 0.044715\,x^{3})\bigr)\Bigr)",
                 "x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2", GELU_TANH_MIN),
        "sigmoid": ("swish", r"f(x) = x\,\sigma(1.702\,x)", "x/(1 + exp(-1.702*x))",
                    SWISH_MIN / 1.702),
    }
    torch_module = ("GELU", {"approximate": "approximate"})

    def __init__(self, approximate: str = "none"):
        if approximate not in self._FORMS:
            raise ValueError(f"approximate must be one of {sorted(self._FORMS)}, got {approximate!r}")
        self.approximate = approximate
        self.kernel, self.formula, self.expression, low = self._FORMS[approximate]
        self.output_range = (low, INF)
        if approximate == "tanh":
            self.derivative_formula = (
                r"f'(x) = \tfrac{1}{2}\bigl(1 + \tanh u\bigr) + \tfrac{x}{2}\bigl(1 - \tanh^2 u\bigr)"
                r" \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^{2}), \quad u = \sqrt{2/\pi}\,(x + 0.044715\,x^{3})")
        elif approximate == "sigmoid":
            self.derivative_formula = (r"f'(x) = \sigma(1.702x) + 1.702\,x\,\sigma(1.702x)"
                                       r"\bigl(1 - \sigma(1.702x)\bigr)")

    @property
    def params(self):
        return {"approximate": self.approximate}

    def kernel_params(self):
        # The sigmoid form runs the swish kernel with beta = 1.702 (a literal in `expression`).
        return (1.702,) if self.approximate == "sigmoid" else ()


class Mish(Activation):
    r"""Mish (Misra, 2019): f(x) = x tanh(softplus(x)).

    f'(x) = tanh(sp(x)) + x sigma(x) sech^2(sp(x)), sp = softplus. Dips to about -0.309.
    """

    name = kernel = "mish"
    formula = r"f(x) = x \tanh\bigl(\ln(1 + e^{x})\bigr)"
    derivative_formula = (r"f'(x) = \tanh\bigl(\operatorname{sp}(x)\bigr) + x\,\sigma(x)\,"
                          r"\operatorname{sech}^2\bigl(\operatorname{sp}(x)\bigr)")
    expression = "x*tanh(log(1 + exp(x)))"
    output_range = (MISH_MIN, INF)
    monotonic = False
    torch_module = ("Mish", {})


for _cls in (Identity, BinaryStep, Sigmoid, HardSigmoid, Tanh, HardTanh, Softsign, ReLU,
             LeakyReLU, PReLU, RReLU, ELU, SELU, Softplus, GELU, Mish):
    register(_cls)
register(Swish, "silu")
del _cls
