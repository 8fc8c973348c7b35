"""The activations of a vector along one axis of an array, in the activation registry:
softmax and log-softmax (with a temperature) and maxout, and the plumbing that runs their
row kernels (``_kernels/_softmax.pyx``) along any axis.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuronlab import activations
from neuronlab._config import get_num_threads
from neuronlab._kernels import _softmax
from neuronlab._validation import (
    as_float_array,
    check_real,
    finish_out,
    prepare_out,
    result_dtype,
)


def _check_axis(axis: Any, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array with {ndim} dimension(s)")
    return int(axis) % ndim


def _pair(z: Any, dy: Any, first: str, second: str) -> tuple[np.ndarray, np.ndarray | None]:
    """`z` (and `dy`, of the same shape) as float arrays of one common dtype."""
    z = as_float_array(z, first)
    if dy is None:
        return z, None
    dy = as_float_array(dy, second)
    if dy.shape != z.shape:
        raise ValueError(f"{second} has shape {dy.shape} but {first} has shape {z.shape}; "
                         "they must match")
    dtype = result_dtype(z, dy)
    return z.astype(dtype, copy=False), dy.astype(dtype, copy=False)


def _result_buffer(out: Any, shape: tuple[int, ...], dtype: np.dtype,
                   inputs: dict[str, np.ndarray], direct: bool):
    """(buffer the kernel writes, array returned): `out` itself only when the kernel can
    write it directly (C-contiguous, the rows in place, no shared memory with an input)."""
    buf, result = prepare_out(out, shape, dtype, inputs)
    if not direct or any(np.shares_memory(buf, a) for a in inputs.values()):
        buf = np.empty(shape, dtype=dtype)
    return buf, result


def _by_rows(kernel: Callable, arrays: dict[str, np.ndarray], axis: int, out: Any,
             *params: Any) -> np.ndarray:
    """Run a row kernel over `arrays` with `axis` moved last and the rest flattened."""
    first = next(iter(arrays.values()))
    if first.ndim == 0:
        raise ValueError(f"{next(iter(arrays))} must have at least one dimension, got a scalar")
    axis = _check_axis(axis, first.ndim)
    last = axis == first.ndim - 1
    buf, result = _result_buffer(out, first.shape, first.dtype, arrays, direct=last)
    if first.size == 0:
        return result
    moved = [np.moveaxis(a, axis, -1) for a in arrays.values()]
    k = moved[0].shape[-1]
    rows = [np.ascontiguousarray(a).reshape(-1, k) for a in moved]
    buf_rows = buf.reshape(-1, k) if last else np.empty((rows[0].shape[0], k), first.dtype)
    kernel(*rows, buf_rows, *params, n_threads=get_num_threads())
    if not last:
        buf = np.ascontiguousarray(np.moveaxis(buf_rows.reshape(moved[0].shape), -1, axis))
    return finish_out(buf, result) if out is not None else buf


class _SoftmaxFamily(activations.Activation):
    """Softmax and log-softmax: the shared parameters and plumbing."""

    kernel = "softmax"
    expression = ""
    smooth = True
    saturating = True
    has_output_derivative = True
    elementwise = False
    _forward_kernel: Callable
    _backward_kernel: Callable

    def __init__(self, axis: int = -1, temperature: float = 1.0):
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"axis must be an int, got {type(axis).__name__}")
        self.axis = int(axis)
        self.temperature = check_real(temperature, "temperature", low=0.0, low_open=True)

    @property
    def params(self):
        return {"axis": self.axis, "temperature": self.temperature}

    def forward(self, z: Any, *,
                out: np.ndarray | None = None) -> np.ndarray:
        """The function of each vector along :attr:`axis`."""
        z = as_float_array(z, "z")
        return _by_rows(type(self)._forward_kernel, {"z": z}, self.axis, out, self.temperature)


    def backward(self, z: Any, dy: Any, *,
                 out: np.ndarray | None = None) -> np.ndarray:
        """The vector-Jacobian product J(z)^T dy, row by row, without forming J."""
        z, dy = _pair(z, dy, "z", "dy")
        return _by_rows(type(self)._backward_kernel, {"z": z, "dy": dy}, self.axis, out,
                        self.temperature, False)

    def backward_from_output(self, y: Any, dy: Any, *, out: np.ndarray | None = None) -> np.ndarray:
        """The same product from the output y = forward(z): no exp() for softmax."""
        y, dy = _pair(y, dy, "y", "dy")
        return _by_rows(type(self)._backward_kernel, {"y": y, "dy": dy}, self.axis, out,
                        self.temperature, True)

    def _probabilities(self, z: Any) -> np.ndarray:
        return _by_rows(_softmax.softmax_forward, {"z": as_float_array(z, "z")}, self.axis,
                        None, self.temperature)

    def jacobian(self, z: Any) -> np.ndarray:
        """The K x K matrix J_ij = dy_i / dz_j of one vector z of length K (for teaching;
        back-propagation uses :meth:`backward`)."""
        z = as_float_array(z, "z")
        if z.ndim != 1:
            raise ValueError(f"jacobian() takes one vector, so z must be 1-d; got shape {z.shape}")
        return self._jacobian(self._probabilities(z))

    def sympy_expr(self, substitute: bool = True, size: int = 3):
        """The function of the symbols z_0, ..., z_{size-1} as a SymPy column Matrix."""
        import sympy

        z = sympy.symbols(f"z_0:{size}", real=True)
        t = sympy.Float(self.temperature, 30) if substitute else sympy.Symbol("T", positive=True)
        denominator = sum(sympy.exp(zj / t) for zj in z)
        return sympy.Matrix([self._sympy_entry(zi / t, denominator) for zi in z])


class Softmax(_SoftmaxFamily):
    r"""Softmax with temperature T: y_i = e^{z_i / T} / sum_j e^{z_j / T}.

    The outputs are positive and sum to 1: a probability distribution over K classes.
    A large T flattens it towards uniform, a small T sharpens it towards the arg max.

    Parameters
    ----------
    axis : int
        The axis along which the vectors lie (default: the last).
    temperature : float
        T > 0.

    Notes
    -----
    The Jacobian is J = (diag(y) - y y^T) / T, i.e. dy_i/dz_j = y_i (delta_ij - y_j) / T,
    so ``backward(z, dy)`` = y * (dy - y . dy) / T. :meth:`derivative` is the diagonal
    dy_i/dz_i = y_i (1 - y_i) / T alone (what a plot of y_i against z_i shows), and
    :meth:`second_derivative` is d^2 y_i / dz_i^2 = y_i (1 - y_i)(1 - 2 y_i) / T^2.
    Computed as softmax(z - max z), it is exact for logits of any size: no exp() overflows.
    A vector holding NaN or +inf gives NaN.
    """

    name = "softmax"
    formula = r"y_i = \frac{e^{z_i / T}}{\sum_{j=1}^{K} e^{z_j / T}}"
    derivative_formula = (r"\frac{\partial y_i}{\partial z_j} = "
                          r"\frac{1}{T}\, y_i\,(\delta_{ij} - y_j)")
    output_range = (0.0, 1.0)
    _forward_kernel = _softmax.softmax_forward
    _backward_kernel = _softmax.softmax_backward

    def derivative(self, z, *, out=None):
        """The diagonal of the Jacobian, dy_i/dz_i = y_i (1 - y_i) / T."""
        y = self._probabilities(z)
        return _into(y * (1 - y) / self.temperature, out)

    def second_derivative(self, z, *, out=None):
        """d^2 y_i / dz_i^2 = y_i (1 - y_i)(1 - 2 y_i) / T^2."""
        y = self._probabilities(z)
        return _into(y * (1 - y) * (1 - 2 * y) / self.temperature**2, out)

    def _jacobian(self, y):
        return (np.diag(y) - np.outer(y, y)) / y.dtype.type(self.temperature)

    @staticmethod
    def _sympy_entry(zi, denominator):
        import sympy

        return sympy.exp(zi) / denominator


class LogSoftmax(_SoftmaxFamily):
    r"""l_i = log softmax(z / T)_i = z_i / T - log sum_j e^{z_j / T}.

    Parameters
    ----------
    axis : int
        The axis along which the vectors lie (default: the last).
    temperature : float
        T > 0.

    Notes
    -----
    Computed as (z_i - m) / T - log sum_j e^{(z_j - m) / T} with m = max z: the sum is
    at least 1, so the result is finite however large the logits (softmax followed by
    log would give log 0 = -inf). The Jacobian is dl_i/dz_j = (delta_ij - y_j) / T with
    y = softmax(z / T), so ``backward(z, dy)`` = (dy - y sum(dy)) / T. :meth:`derivative`
    is the diagonal (1 - y_i) / T and :meth:`second_derivative` is -y_i (1 - y_i) / T^2.
    """

    name = "log_softmax"
    formula = r"l_i = \frac{z_i}{T} - \ln \sum_{j=1}^{K} e^{z_j / T}"
    derivative_formula = r"\frac{\partial l_i}{\partial z_j} = \frac{1}{T}\,(\delta_{ij} - y_j)"
    output_range = (-float("inf"), 0.0)
    _forward_kernel = _softmax.log_softmax_forward
    _backward_kernel = _softmax.log_softmax_backward

    def derivative(self, z, *, out=None):
        """The diagonal of the Jacobian, dl_i/dz_i = (1 - y_i) / T."""
        y = self._probabilities(z)
        return _into((1 - y) / self.temperature, out)

    def second_derivative(self, z, *, out=None):
        """d^2 l_i / dz_i^2 = -y_i (1 - y_i) / T^2."""
        y = self._probabilities(z)
        return _into(-y * (1 - y) / self.temperature**2, out)

    def _jacobian(self, y):
        identity = np.eye(y.shape[0], dtype=y.dtype)
        return (identity - y[np.newaxis, :]) / y.dtype.type(self.temperature)

    @staticmethod
    def _sympy_entry(zi, denominator):
        import sympy

        return zi - sympy.log(denominator)


def _into(values: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is None:
        return values
    buf, result = prepare_out(out, values.shape, values.dtype, {})
    buf[...] = values
    return finish_out(buf, result)


def softmax(z: Any, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) along `axis`; see :class:`Softmax`."""
    return Softmax(axis, temperature)(z)


def log_softmax(z: Any, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """log softmax(z / T) along `axis`; see :class:`LogSoftmax`."""
    return LogSoftmax(axis, temperature)(z)


class Maxout(activations.Activation):
    r"""Maxout (Goodfellow et al., 2013): each unit outputs the largest of k linear pieces.

    Input layout: the last axis of z holds units * k numbers, the k pieces of unit u side
    by side, z[..., u*k : (u+1)*k] (a dense layer with units * k outputs produces them).
    The output has units numbers on the last axis: a[..., u] = max_p z[..., u*k + p].

    The gradient flows only to the winning piece: dJ/dz[..., u*k + p] = dJ/da[..., u] for
    p = the arg max (the first, if pieces tie) and 0 for the other pieces. A NaN piece wins.

    Parameters
    ----------
    pieces : int
        k >= 1, the number of linear pieces per unit (k = 1 is the identity).
    """

    name = kernel = "maxout"
    formula = r"a_u = \max_{p = 1, \dots, k} z_{u,p}"
    derivative_formula = (r"\frac{\partial a_u}{\partial z_{u,p}} = \begin{cases} 1 & "
                          r"p = \arg\max_q z_{u,q} \\ 0 & \text{otherwise} \end{cases}")
    expression = ""
    output_range = (-float("inf"), float("inf"))
    smooth = False
    elementwise = False

    def __init__(self, pieces: int = 2):
        if isinstance(pieces, bool) or not isinstance(pieces, int | np.integer):
            raise TypeError(f"pieces must be an int, got {type(pieces).__name__}")
        if pieces < 1:
            raise ValueError(f"pieces must be at least 1, got {pieces}")
        self.pieces = int(pieces)

    @property
    def params(self):
        return {"pieces": self.pieces}

    def _pieces(self, z: np.ndarray, name: str = "z") -> np.ndarray:
        """z viewed as (number of units, k): one row per unit."""
        if z.ndim == 0 or z.shape[-1] % self.pieces:
            raise ValueError(f"the last axis of {name} must hold units * pieces numbers with "
                             f"pieces={self.pieces}; got shape {z.shape}")
        return z.reshape(-1, self.pieces)

    def _unit_shape(self, z: np.ndarray) -> tuple[int, ...]:
        return (*z.shape[:-1], z.shape[-1] // self.pieces)

    def forward(self, z, *, out=None):
        """a[..., u] = max over the pieces of unit u."""
        z = as_float_array(z, "z")
        rows = self._pieces(z)
        buf, result = _result_buffer(out, self._unit_shape(z), z.dtype, {"z": z}, direct=True)
        if rows.size:
            _softmax.maxout_forward(rows, buf.reshape(-1), n_threads=get_num_threads())
        return finish_out(buf, result)


    def backward(self, z, da, *, out=None):
        """dz: `da` (shape of the output) routed to each unit's winning piece."""
        z = as_float_array(z, "z")
        rows = self._pieces(z)
        da = as_float_array(da, "da")
        if da.shape != self._unit_shape(z):
            raise ValueError(f"da has shape {da.shape} but maxout's output has shape "
                             f"{self._unit_shape(z)}; they must match")
        dtype = result_dtype(z, da)
        rows, da = rows.astype(dtype, copy=False), da.astype(dtype, copy=False)
        buf, result = _result_buffer(out, z.shape, dtype, {"z": z, "da": da}, direct=True)
        if rows.size:
            _softmax.maxout_backward(rows, da.reshape(-1), buf.reshape(-1, self.pieces),
                                     n_threads=get_num_threads())
        return finish_out(buf, result)

    def derivative(self, z, *, out=None):
        """da_u/dz: 1 at each unit's winning piece, 0 at the others (shape of z)."""
        z = as_float_array(z, "z")
        self._pieces(z)  # a scalar has no pieces: the ValueError before _unit_shape indexes it
        return self.backward(z, np.ones(self._unit_shape(z), z.dtype), out=out)

    def second_derivative(self, z, *, out=None):
        """0 wherever it exists: maxout is piecewise linear."""
        z = as_float_array(z, "z")
        self._pieces(z)
        return _into(np.zeros_like(z), out)

    def backward_from_output(self, y, dy, *, out=None):
        raise NotImplementedError(
            "maxout's output does not say which piece won; use backward(z, da)")

    def sympy_expr(self, substitute: bool = True):
        """max(z_0, ..., z_{k-1}) of one unit's pieces as a SymPy expression."""
        import sympy

        return sympy.Max(*sympy.symbols(f"z_0:{self.pieces}", real=True))
