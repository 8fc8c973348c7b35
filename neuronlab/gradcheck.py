r"""Finite-difference gradient checks you can run on your own code.

Back-propagation is easy to get almost right. The check: nudge one parameter x_i by
+-eps, see how the loss J moves, and compare the central difference

.. math::
   \frac{\partial J}{\partial x_i} \approx
   \frac{J(x + \varepsilon e_i) - J(x - \varepsilon e_i)}{2\varepsilon}

(error O(eps^2)) with the gradient your code computed.

>>> import numpy as np
>>> from neuronlab.gradcheck import check_gradient
>>> x = np.array([1.0, -2.0, 0.5])
>>> result = check_gradient(lambda x: np.sum(x ** 3), x, 3 * x ** 2)
>>> bool(result), result.max_abs_error < 1e-6
(True, True)

`x` is changed in place while J is evaluated and restored afterwards, so `f` may ignore
its argument and read the same array through a closure: to check a layer's weights,
``check_gradient(lambda W: loss(layer.forward(x)), layer.W, layer.dW)``.
:func:`check_layer` does this for every parameter of a layer, and :func:`check_network`
(:meth:`Network.gradcheck <neuronlab.network.Network.gradcheck>`) for a whole network.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuronlab._validation import check_real
from neuronlab.activations import RReLU

__all__ = ["GradientCheck", "check_gradient", "check_layer", "check_network", "numerical_gradient"]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """The central-difference gradient of the scalar f at x, one entry per element of x.

    `x` must be a writeable float64 array: it is perturbed in place (and restored).
    """
    _check_parameter(x)
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    grad = np.empty_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: x must be contiguous
    for i in range(flat_x.size):
        saved = flat_x[i]
        flat_x[i] = saved + eps
        J_plus = _scalar(f(x))
        flat_x[i] = saved - eps
        J_minus = _scalar(f(x))
        flat_x[i] = saved  # restore exactly, not saved + eps - eps
        flat_grad[i] = (J_plus - J_minus) / (2 * eps)
    return grad


@dataclass
class GradientCheck:
    """The outcome of :func:`check_gradient`; true when the gradients agree."""

    numeric: np.ndarray
    analytic: np.ndarray
    max_abs_error: float
    max_rel_error: float
    passed: bool

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"GradientCheck({verdict}: max |analytic - numeric| = {self.max_abs_error:.3g}, "
                f"max relative error = {self.max_rel_error:.3g})")


def check_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, analytic: Any,
                   eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8) -> GradientCheck:
    """Compare `analytic`, your dJ/dx, with the central-difference gradient of f at x.

    The check passes when, element by element,
    ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)``.
    Far from kinks (relu at 0, ...) and in float64, a correct gradient agrees to about
    1e-8 relative; a wrong one is usually off by far more than rtol = 1e-5.

    Parameters
    ----------
    f : callable
        f(x) -> the scalar loss J.
    x : ndarray of float64
        Where to check; perturbed in place and restored.
    analytic : array_like
        The gradient to check, the shape of x.
    """
    _check_parameter(x)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic has shape {analytic.shape} but x has shape {x.shape}")
    rtol = check_real(rtol, "rtol", low=0.0)
    atol = check_real(atol, "atol", low=0.0)
    numeric = numerical_gradient(f, x, eps)
    abs_error = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel_error = np.divide(abs_error, scale, out=np.zeros_like(abs_error), where=scale > 0)
    passed = bool(np.all(abs_error <= atol + rtol * scale))
    return GradientCheck(numeric, analytic.copy(), float(abs_error.max(initial=0.0)),
                         float(rel_error.max(initial=0.0)), passed)


def check_layer(layer: Any, a_prev: Any, seed: Any = 0, eps: float = 1e-6, rtol: float = 1e-5,
                atol: float = 1e-8) -> dict[str, GradientCheck]:
    """Check a layer's backward pass: every parameter gradient and dJ/da_prev.

    The loss is J = sum(R * layer.forward(a_prev)) with a fixed random R, so that
    dJ/da = R is handed to ``layer.backward``. Works with any object that has
    ``forward(a_prev)``, ``backward(grad_a)`` and ``named_parameters()`` giving
    (name, parameter, gradient) triples, with float64 parameters.

    A layer that draws random numbers in its forward pass (RReLU in training mode) has
    the state of its activation's ``rng`` restored before each pass, so every pass draws
    the same slopes.

    Returns
    -------
    dict
        name -> :class:`GradientCheck`, for each parameter and for ``"a_prev"``.
    """
    a_prev = np.array(a_prev, dtype=np.float64)  # a copy we may perturb
    rng = np.random.default_rng(seed)
    random_source = getattr(getattr(layer, "activation", None), "rng", None)
    saved = random_source.bit_generator.state if random_source is not None else None

    def forward(x):
        if saved is not None:
            random_source.bit_generator.state = saved
        return layer.forward(x)

    a = forward(a_prev)
    R = rng.normal(size=np.shape(a))

    def J(x=a_prev):
        return float(np.sum(R * forward(x)))

    J()
    grad_prev = np.array(layer.backward(R))
    gradients = {name: np.array(grad) for name, _, grad in layer.named_parameters()}
    results = {name: check_gradient(lambda _: J(), param, gradients[name], eps, rtol, atol)
               for name, param, _ in layer.named_parameters()}
    results["a_prev"] = check_gradient(J, a_prev, grad_prev, eps, rtol, atol)
    return results


def check_network(network: Any, X: Any, y: Any, eps: float = 1e-6, rtol: float = 1e-5,
                  atol: float = 1e-8) -> dict[str, GradientCheck]:
    """:meth:`Network.gradcheck <neuronlab.network.Network.gradcheck>`.

    Back-propagation runs its passes one by one, as the textbook writes them: forward, the
    loss and dJ/da^(L), backward, and the penalty's l2 W. Then J is computed again, by a
    forward pass, for every element of every parameter nudged by +-eps.
    """
    if network.dtype != np.float64:
        raise TypeError("gradcheck needs float64 layers: finite differences in float32 "
                        "drown in rounding error; make the layers with dtype=np.float64 "
                        "(the default)")
    X = network.check_X(X)
    target = network.check_y(y, X.shape[0])
    stack = network.engine(X.shape[0])
    grad_out = np.empty((X.shape[0], network.n_out), network.dtype)
    # RReLU draws its slopes in every training pass: each pass starts its generator from one state
    random = [(layer.activation.rng, layer.activation.rng.bit_generator.state)
              for layer in network.layers if isinstance(layer.activation, RReLU)]

    def J(_=None):
        for rng, state in random:
            rng.bit_generator.state = state
        return network.loss_and_gradient_into(stack.forward(X), target, grad_out) + network.penalty()

    with network.mode(True):
        J()
        stack.backward(grad_out)
        network.regularize(0.0)
        analytic = {name: g.copy() for name, _, g in network.named_parameters()}
        return {name: check_gradient(J, p, analytic[name], eps, rtol, atol)
                for name, p, _ in network.named_parameters()}


def _check_parameter(x: Any) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError("x must be a numpy.ndarray (it is perturbed in place), "
                        f"got {type(x).__name__}; pass np.array(x, dtype=np.float64)")
    if x.dtype != np.float64:
        raise TypeError(f"x has dtype {x.dtype}: finite differences need float64 (in float32 "
                        "a small step is lost in rounding); convert x to float64")
    if not x.flags.writeable or not x.flags.c_contiguous:
        raise ValueError("x must be writeable and C-contiguous: it is perturbed in place; "
                         "pass a copy, x.copy()")


def _scalar(J: Any) -> float:
    J = np.asarray(J)
    if J.size != 1:
        raise ValueError(f"f must return a scalar loss, got an array of shape {J.shape}; "
                         "return one number, e.g. the np.sum of that array")
    return float(J.reshape(()))
