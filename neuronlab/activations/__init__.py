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

from typing import Any

from neuronlab._registry import Registry

# The classes, and the constants as nl.activations.SELU_LAMBDA and so on ("X as X": a name
# imported to be used from here).
from neuronlab.activations.base import INF as INF
from neuronlab.activations.base import Activation
from neuronlab.activations.rectifiers import ELU, SELU, LeakyReLU, PReLU, ReLU, RReLU
from neuronlab.activations.rectifiers import SELU_ALPHA as SELU_ALPHA
from neuronlab.activations.rectifiers import SELU_LAMBDA as SELU_LAMBDA
from neuronlab.activations.sigmoidal import BinaryStep, HardSigmoid, HardTanh, Identity, Sigmoid, Softsign, Tanh
from neuronlab.activations.smooth import GELU, Mish, Softplus, Swish
from neuronlab.activations.smooth import GELU_MIN as GELU_MIN
from neuronlab.activations.smooth import GELU_TANH_MIN as GELU_TANH_MIN
from neuronlab.activations.smooth import MISH_MIN as MISH_MIN
from neuronlab.activations.smooth import SWISH_MIN as SWISH_MIN

# In the order of the course, which the API reference follows: base class, registry, then
# sigmoidal.py, rectifiers.py and smooth.py.
__all__ = [  # noqa: RUF022
    "Activation",
    "register",
    "unregister",
    "available",
    "get",
    "Identity",
    "BinaryStep",
    "Sigmoid",
    "HardSigmoid",
    "Tanh",
    "HardTanh",
    "Softsign",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "RReLU",
    "ELU",
    "SELU",
    "Softplus",
    "Swish",
    "GELU",
    "Mish",
]


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
# The built-in activations, in the order of the course
# ----------------------------------------------------------------------------------------
for _cls in (Identity, BinaryStep, Sigmoid, HardSigmoid, Tanh, HardTanh, Softsign, ReLU,
             LeakyReLU, PReLU, RReLU, ELU, SELU, Softplus, GELU, Mish):
    register(_cls)
register(Swish, "silu")
del _cls
