r"""Losses: how far the network's output y is from the target r, and the gradient dJ/dy.

Every loss object has the same methods, each one fused compiled pass over the data:

===================================  =============================================
``loss(pred, target)``               J, reduced over the samples
``gradient(pred, target)``           dJ/dpred, the shape of pred
``loss_and_gradient(pred, target)``  both at once (what training uses)
===================================  =============================================

``reduction`` says how the per-sample losses J_i of the m samples (the rows of pred)
combine: ``"mean"`` (default) J = (1/m) sum_i J_i, ``"sum"`` J = sum_i J_i, ``"none"``
the vector (J_1, ..., J_m), whose "gradient" is that of each J_i (not scaled).

>>> import numpy as np
>>> import neuronlab as nl
>>> loss = nl.losses.SoftmaxCrossEntropy()
>>> z = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
>>> J, dz = loss.loss_and_gradient(z, np.array([0, 2]))
>>> round(J, 6)
0.669079
>>> dz  # (softmax(z) - r) / m
array([[-0.10650698,  0.05325349,  0.05325349],
       [ 0.16666667,  0.16666667, -0.33333333]])

Targets: the classification losses (softmax cross-entropy, the multiclass hinge,
cross-entropy, NLL, and squared error / MSE, which one-hot encode) take either integer
class labels of shape (m,) or rows r of shape (m, K) like pred (one-hot rows for the
hinge). Labels are checked before any kernel runs. pred keeps its dtype (float32 or
float64); the target is converted to it.

The base class is in ``base.py``, the losses in ``scores.py`` (softmax cross-entropy and
the multiclass hinge, on a classifier's scores) and ``pointwise.py`` (the losses that add
one term per output); this module keeps the registry.
"""
from __future__ import annotations

from typing import Any

from neuronlab._registry import Registry

# The classes, and the names the network and the targets use ("X as X": a name imported
# to be used from here).
from neuronlab.losses import base
from neuronlab.losses.base import REDUCTIONS as REDUCTIONS
from neuronlab.losses.base import Loss
from neuronlab.losses.base import check_labels as check_labels
from neuronlab.losses.pointwise import (
    BinaryCrossEntropy,
    CrossEntropy,
    MeanSquaredError,
    NegativeLogLikelihood,
    SquaredError,
)
from neuronlab.losses.scores import MulticlassHinge, SoftmaxCrossEntropy

__all__ = [
    "NO_LABELS",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Loss",
    "MeanSquaredError",
    "MulticlassHinge",
    "NegativeLogLikelihood",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "available",
    "get",
    "register",
    "unregister",
]


# Defined in base.py, where Loss uses it, and named again here to be documented with the losses.
#: The `labels` of :meth:`Loss.loss_and_gradient_into` when the target is given as rows r.
NO_LABELS = base.NO_LABELS


# ----------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------
_REGISTRY = Registry("loss", "a string or a Loss", base=Loss)


def register(cls: type[Loss]) -> type[Loss]:
    """Add a loss class to the registry under ``cls.name``."""
    return _REGISTRY.register(cls)


def unregister(name: str) -> None:
    """Remove a loss from the registry, e.g. a class of your own registered while experimenting."""
    _REGISTRY.unregister(name)


def available() -> list[str]:
    """Every registered loss name, sorted."""
    return _REGISTRY.available()


def get(name: str | Loss, **params: Any) -> Loss:
    """The loss called `name`, made with `params`; a :class:`Loss` passes through.

    >>> get("softmax_cross_entropy", label_smoothing=0.1)
    SoftmaxCrossEntropy(reduction='mean', label_smoothing=0.1)
    """
    return _REGISTRY.get(name, **params)


# ----------------------------------------------------------------------------------------
# The built-in losses
# ----------------------------------------------------------------------------------------
for _cls in (SoftmaxCrossEntropy, MulticlassHinge, CrossEntropy, NegativeLogLikelihood,
             SquaredError, MeanSquaredError, BinaryCrossEntropy):
    register(_cls)
del _cls
