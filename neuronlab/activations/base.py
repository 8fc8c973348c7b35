"""The base class of every activation: what all of them share, and the plumbing that
checks the arrays and hands them to the compiled loops of ``_kernels/_elementwise``.

The activations themselves are in sigmoidal.py, rectifiers.py and smooth.py beside this
file; all of them are used through :mod:`neuronlab.activations`.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _elementwise
from neuronlab._validation import (
    as_float_array,
    check_same_shape,
    finish_out,
    prepare_out,
    result_dtype,
)

INF = float("inf")


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
    def __init_subclass__(cls, **kwargs: Any) -> None:
        # act(x) is the class's own forward: bound directly, so a call costs no extra frame
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "__call__" not in cls.__dict__:
            cls.__call__ = cls.forward

    def forward(self, x: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """f(x), elementwise."""
        return self._run("forward", x, out=out)

    __call__ = forward     # f(x); a subclass's own forward takes its place (__init_subclass__)

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
            return self._chain_rule(x, dy, out)
        return self._run("backward", x, dy, out=out)

    def _chain_rule(self, x: Any, dy: Any, out: np.ndarray | None) -> np.ndarray:
        """derivative(x) * dy, for a class whose derivative is its own Python code."""
        d = as_float_array(self.derivative(x), "derivative(x)")
        dy = as_float_array(dy, "dy")
        check_same_shape(d, "derivative(x)", dy, "dy")
        buf, result = prepare_out(out, d.shape, result_dtype(d, dy), {"dy": dy})
        np.multiply(d, dy, out=buf)
        return finish_out(buf, result)

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
            raise TypeError(f"z has dtype {z.dtype}; it must be float32 or float64 (it is updated in "
                            "place): pass z.astype(np.float64)")
        if not z.flags.c_contiguous or not z.flags.writeable:
            raise ValueError("z must be a writeable C-contiguous array: it is updated in place; "
                             "pass a copy, z.copy()")
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

