r"""Optimizers: how a gradient g = dJ/dtheta becomes a step for the parameters theta.

=============  ==================================================================
``SGD``        theta <- theta - eta g                 (the course's update rule)
  momentum     v <- mu v + g,  theta <- theta - eta v
  Nesterov     v <- mu v + g,  theta <- theta - eta (g + mu v)
``Adagrad``    G <- G + g^2,   theta <- theta - eta g / (sqrt(G) + eps)
``RMSProp``    s <- rho s + (1 - rho) g^2,  theta <- theta - eta g / (sqrt(s) + eps)
``Adam``       m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
               theta <- theta - eta m_hat / (sqrt(v_hat) + eps),
               m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
=============  ==================================================================

(squares, roots and divisions elementwise; t counts the steps of each parameter.)
These are the conventions of PyTorch's optimizers, so results can be compared.

Weight decay with coefficient lambda adds lambda theta to g (L2 regularization,
J + lambda/2 ||theta||^2), or, with ``decoupled_weight_decay=True``, shrinks theta by
(1 - eta lambda) before the step (AdamW; the same thing for plain SGD). It applies to
every parameter unless ``decay_biases=False``, which leaves the biases b and the PReLU
slopes alpha alone and decays the weights W only (see :class:`Optimizer` for why, and
:meth:`Optimizer.step` for how an optimizer tells the two apart).

A schedule changes eta from epoch to epoch: call :meth:`Optimizer.end_epoch` after each.

:meth:`Optimizer.state_dict` and :func:`from_state_dict` take an optimizer apart into plain
data and arrays and put it back together where it stood, so that a saved network's
training can go on (:meth:`Network.save <neuronlab.network.Network.save>`).

Every update runs in place, in one compiled pass over the parameter, its gradient and the
state buffers made at its first step (``neuronlab/_kernels/_optim.pyx``), so a training
loop allocates nothing per step.

>>> import numpy as np
>>> import neuronlab as nl
>>> w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.5])
>>> opt = nl.optim.SGD(0.1)
>>> opt.step([(w, dw)])
>>> w
array([ 0.95, -2.05])

The base class and saving are in ``base.py``, the optimizers in ``rules.py``, the schedules
in ``schedules.py``; this module keeps the registry.
"""
from __future__ import annotations

from typing import Any

from neuronlab.optim.base import REGISTRY, Optimizer, from_state_dict
from neuronlab.optim.rules import SGD, Adagrad, Adam, RMSProp
from neuronlab.optim.schedules import ExponentialDecay, StepDecay

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "ExponentialDecay",
    "Optimizer",
    "RMSProp",
    "StepDecay",
    "from_state_dict",
    "get",
]

for _name, _cls in {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam}.items():
    REGISTRY.register(_cls, name=_name)
del _name, _cls


def get(name: str | Optimizer, **params: Any) -> Optimizer:
    """The optimizer called `name` ("sgd", "adagrad", "rmsprop", "adam") made with `params`.

    An :class:`Optimizer` passes through unchanged.
    """
    return REGISTRY.get(name, **params)
