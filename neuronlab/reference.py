r"""Back-propagation in plain NumPy: the textbook's listing, which the library never runs.

neuronlab computes every pass with one compiled engine (``neuronlab/_kernels/_dense.pyx``):
:meth:`Layer.forward <neuronlab.layers.Layer.forward>`, :meth:`Layer.backward
<neuronlab.layers.Layer.backward>` and a :class:`~neuronlab.network.Network`'s training step
all go through it. The functions here compute the same with NumPy, one line per formula, so
that they can be read next to the lecture, and so that the tests can hold the engine to them.

One layer, with the batch in rows (m samples):

.. math::
   Z = A_{\text{prev}} W^\top + \mathbf b, \qquad A = f(Z), \qquad
   \Delta = \frac{\partial J}{\partial A} \odot f'(Z),

.. math::
   \frac{\partial J}{\partial W} = \Delta^\top A_{\text{prev}}, \qquad
   \frac{\partial J}{\partial \mathbf b} = \textstyle\sum_{\text{rows}} \Delta, \qquad
   \frac{\partial J}{\partial A_{\text{prev}}} = \Delta W.

>>> import numpy as np
>>> import neuronlab as nl
>>> from neuronlab import reference
>>> X, y = nl.datasets.blobs(20, n_classes=3, seed=0)
>>> net = nl.Network([nl.Layer(2, 5, "tanh", seed=0), nl.Layer(5, 3, "identity", seed=1)])
>>> J, grads = reference.network_gradients(net, X, y)
>>> sorted(grads)
['layer0.W', 'layer0.b', 'layer1.W', 'layer1.b']
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["layer_backward", "layer_forward", "network_gradients"]


def layer_forward(layer: Any, a_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, a) of a :class:`~neuronlab.layers.Layer` for the batch a_prev (rows: samples).

    Evaluation mode: an RReLU layer uses its mean slope.
    """
    z = a_prev @ layer.W.T + layer.b        # z^(l) = a^(l-1) W^(l)T + b^(l)
    a = layer.activation(z)                 # a^(l) = f(z^(l))
    return z, a


def layer_backward(layer: Any, a_prev: np.ndarray, z: np.ndarray,
                   grad_a: np.ndarray) -> dict[str, np.ndarray]:
    """dJ/dW, dJ/db (dJ/dalpha for PReLU) and dJ/da_prev of a layer, from dJ/da of its output."""
    act = layer.activation
    delta = act.backward(z, grad_a)         # delta^(l) = dJ/da^(l) * f'(z^(l))
    grads = {
        "W": delta.T @ a_prev,              # dJ/dW^(l): delta a^(l-1)T summed over the samples
        "b": delta.sum(axis=0),             # dJ/db^(l): delta summed over the samples
        "grad_prev": delta @ layer.W,       # W^(l)T delta^(l): dJ/da^(l-1), for the layer below
    }
    if layer.alpha is not None:             # PReLU: dJ/dalpha = sum of dJ/da * min(0, z)
        grads["alpha"] = np.atleast_1d(act.alpha_gradient(z, grad_a))
    return grads


def network_gradients(net: Any, X: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
    """J on (X, y) and dJ/dtheta for every parameter of a network ("layer0.W", ...).

    The loss and its gradient come from the network's loss object; the rest is the chain
    rule, layer after layer from the top down.
    """
    X = np.asarray(X, dtype=net.dtype)
    a, cache = X, []
    for layer in net.layers:                # forward, keeping what backward needs
        z, a_next = layer_forward(layer, a)
        cache.append((a, z))
        a = a_next
    J, grad_a = net.loss.loss_and_gradient(a, y)   # J and dJ/da^(L)
    grads = {}
    for l in range(len(net.layers) - 1, -1, -1):  # noqa: E741 (l as in the formulas)
        a_prev, z = cache[l]
        layer_grads = layer_backward(net.layers[l], a_prev, z, grad_a)
        grad_a = layer_grads.pop("grad_prev")
        grads.update({f"layer{l}.{name}": g for name, g in layer_grads.items()})
    return float(J), grads
