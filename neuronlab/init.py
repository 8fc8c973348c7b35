r"""Weight initializers: where gradient descent starts.

A weight matrix W has shape (n_out, n_in), as in w_ji^(l): row j holds the weights into
unit j. So fan_in = n_in (the inputs each unit sums over) and fan_out = n_out.

The scaled initializers keep the variance of the signal roughly constant from layer to
layer, so that it neither explodes nor vanishes in a deep network:

==================  ==================================  ===============================
name                variance Var(w)                     suited to
==================  ==================================  ===============================
``xavier_*``        2 / (fan_in + fan_out)  (Glorot)    tanh, sigmoid, softsign, identity
``he_*``            2 / fan_in              (Kaiming)   relu and its leaky relatives
``lecun_*``         1 / fan_in                          selu
==================  ==================================  ===============================

Each comes as ``*_normal`` (w ~ N(0, Var)) and ``*_uniform`` (w ~ U(-l, l) with
l = sqrt(3 Var), since U(-l, l) has variance l^2 / 3). ``zeros`` and ``normal`` (a fixed
standard deviation, 0.01 by default) complete the set. Every initializer draws from a
seeded :class:`numpy.random.Generator`, so the same seed gives the same network.

>>> import neuronlab as nl
>>> W = nl.init.get("he_normal")((128, 64), rng=0)
>>> W.shape
(128, 64)
>>> round(float(W.std()) * 8, 1)      # sqrt(2 / 64) = 1 / (4 sqrt 2): std * 8 ~ 1.4
1.4
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from neuronlab._registry import Registry
from neuronlab._validation import check_count, check_real, make_rng

__all__ = [
    "available",
    "fans",
    "for_activation",
    "get",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Initializer = Callable[..., np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight array: (n_in, n_out) for W of shape (n_out, n_in).

    A vector (a bias) counts its length as both.
    """
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    shape = tuple(shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"shape must be (n_out, n_in) or (n,), got {shape}")
    for n in shape:
        check_count(n, "shape")
    return (shape[-1], shape[0])


def _prepare(shape, rng, dtype):
    fan_in, fan_out = fans(shape)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return tuple(int(n) for n in np.atleast_1d(shape)), fan_in, fan_out, make_rng(rng, "rng"), dtype


def _draw(shape, rng, dtype, variance: float, distribution: str) -> np.ndarray:
    if distribution == "normal":
        W = rng.normal(0.0, math.sqrt(variance), size=shape)
    else:  # U(-l, l) has variance l^2 / 3
        limit = math.sqrt(3.0 * variance)
        W = rng.uniform(-limit, limit, size=shape)
    return W.astype(dtype, copy=False)


def zeros(shape, rng: Any = None, dtype=np.float64) -> np.ndarray:
    """All zeros. Fine for biases; for W it makes every unit of a layer the same forever."""
    shape, *_ = _prepare(shape, rng, dtype)
    return np.zeros(shape, dtype=dtype)


def normal(shape, rng: Any = None, dtype=np.float64, std: float = 0.01) -> np.ndarray:
    """w ~ N(0, std^2) with a fixed std, whatever the layer size (the pre-2010 habit)."""
    shape, _, _, rng, dtype = _prepare(shape, rng, dtype)
    std = check_real(std, "std", low=0.0)
    return _draw(shape, rng, dtype, std * std, "normal")


def _xavier(distribution, shape, rng=None, dtype=np.float64, gain: float = 1.0):
    shape, fan_in, fan_out, rng, dtype = _prepare(shape, rng, dtype)
    gain = check_real(gain, "gain", low=0.0)
    return _draw(shape, rng, dtype, gain * gain * 2.0 / (fan_in + fan_out), distribution)


def _he(distribution, shape, rng=None, dtype=np.float64, negative_slope: float = 0.0):
    shape, fan_in, _, rng, dtype = _prepare(shape, rng, dtype)
    # A leaky unit with slope alpha passes (1 + alpha^2) / 2 of the variance, not 1/2.
    a = check_real(negative_slope, "negative_slope", low=0.0)
    return _draw(shape, rng, dtype, 2.0 / ((1.0 + a * a) * fan_in), distribution)


def _lecun(distribution, shape, rng=None, dtype=np.float64):
    shape, fan_in, _, rng, dtype = _prepare(shape, rng, dtype)
    return _draw(shape, rng, dtype, 1.0 / fan_in, distribution)


def xavier_uniform(shape, rng: Any = None, dtype=np.float64, gain: float = 1.0) -> np.ndarray:
    """Glorot and Bengio (2010): w ~ U(-l, l), l = gain sqrt(6 / (fan_in + fan_out))."""
    return _xavier("uniform", shape, rng, dtype, gain)


def xavier_normal(shape, rng: Any = None, dtype=np.float64, gain: float = 1.0) -> np.ndarray:
    """Glorot and Bengio (2010): w ~ N(0, gain^2 2 / (fan_in + fan_out))."""
    return _xavier("normal", shape, rng, dtype, gain)


def he_uniform(shape, rng: Any = None, dtype=np.float64,
               negative_slope: float = 0.0) -> np.ndarray:
    """He et al. (2015): w ~ U(-l, l), l = sqrt(6 / ((1 + a^2) fan_in)), a the leaky slope."""
    return _he("uniform", shape, rng, dtype, negative_slope)


def he_normal(shape, rng: Any = None, dtype=np.float64,
              negative_slope: float = 0.0) -> np.ndarray:
    """He et al. (2015): w ~ N(0, 2 / ((1 + a^2) fan_in)), a the leaky slope (0 for relu)."""
    return _he("normal", shape, rng, dtype, negative_slope)


def lecun_uniform(shape, rng: Any = None, dtype=np.float64) -> np.ndarray:
    """LeCun et al. (1998): w ~ U(-l, l), l = sqrt(3 / fan_in)."""
    return _lecun("uniform", shape, rng, dtype)


def lecun_normal(shape, rng: Any = None, dtype=np.float64) -> np.ndarray:
    """LeCun et al. (1998): w ~ N(0, 1 / fan_in); with selu, self-normalizing networks."""
    return _lecun("normal", shape, rng, dtype)


_REGISTRY = Registry("initializer", "a name or a callable", arg="init")
for _f, _aliases in [(zeros, ()), (normal, ()),
                     (xavier_uniform, ("glorot_uniform", "xavier", "glorot")),
                     (xavier_normal, ("glorot_normal",)),
                     (he_uniform, ("kaiming_uniform",)),
                     (he_normal, ("kaiming_normal", "he", "kaiming")),
                     (lecun_uniform, ()), (lecun_normal, ("lecun",))]:
    _REGISTRY.register(_f, *_aliases, name=_f.__name__)
del _f, _aliases


def available() -> list[str]:
    """Every initializer name (aliases such as ``glorot_uniform`` not repeated), sorted."""
    return _REGISTRY.available()


def get(name: str | Initializer, **params: Any) -> Initializer:
    """The initializer called `name`, with keyword `params` bound (``gain``, ``std``, ...).

    Aliases: glorot_* = xavier_*, kaiming_* = he_*, xavier/glorot = xavier_uniform,
    he/kaiming = he_normal, lecun = lecun_normal. A callable passes through.
    """
    f = name if callable(name) else _REGISTRY.lookup(name)
    return partial(f, **params) if params else f


def for_activation(activation_name: str) -> str:
    """The initializer that suits an activation: He for relu-like, LeCun for selu,
    Xavier otherwise."""
    if activation_name in ("relu", "leaky_relu", "prelu", "rrelu", "elu", "gelu", "swish",
                           "mish", "softplus"):
        return "he_normal"
    if activation_name == "selu":
        return "lecun_normal"
    return "xavier_uniform"
