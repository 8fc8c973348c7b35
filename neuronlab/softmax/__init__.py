r"""Activations of a whole vector: softmax, log-softmax, maxout, spatial softmax, soft-argmax.

An elementwise activation maps each z_i to f(z_i) alone. These map a vector z to a
vector whose every entry depends on all of z, so their derivative is a matrix, the
Jacobian J_ij = dy_i / dz_j. Back-propagation never builds it: ``backward(z, dy)``
computes the vector-Jacobian product J^T dy directly, in one pass per row.

>>> import numpy as np
>>> import neuronlab as nl
>>> sm = nl.activations.get("softmax")
>>> sm(np.array([1.0, 2.0, 3.0]))
array([0.09003057, 0.24472847, 0.66524096])
>>> sm.jacobian(np.array([0.0, 0.0]))
array([[ 0.25, -0.25],
       [-0.25,  0.25]])

Softmax and log-softmax (``axis``, ``temperature``) and maxout (``pieces``) are in the
activation registry; :class:`SpatialSoftmax` and :class:`SoftArgmax` work on image-shaped
arrays and are used directly.
"""
from __future__ import annotations

from neuronlab import activations
from neuronlab.softmax.spatial import SoftArgmax, SpatialSoftmax
from neuronlab.softmax.vector import LogSoftmax, Maxout, Softmax, log_softmax, softmax

__all__ = [
    "LogSoftmax",
    "Maxout",
    "SoftArgmax",
    "Softmax",
    "SpatialSoftmax",
    "log_softmax",
    "softmax",
]

# Softmax, log-softmax and maxout are activations like the others: nl.activations.get("softmax").
activations.register(Softmax)
activations.register(LogSoftmax)
activations.register(Maxout)
