r"""Training diagnostics: dead ReLU units, saturated units and per-layer gradient norms.

While :meth:`Network.fit <neuronlab.network.Network.fit>` trains, a :class:`Tracker`
watches every step and at the end of each epoch sums up, per layer, the three signs of a
network that has stopped learning:

* **dead ReLU units**: the share of ReLU units whose z was <= 0 on every sample of the
  epoch. Such a unit outputs 0 and passes no gradient, so it never recovers.
* **saturated units**: the share of sigmoid-like units (sigmoid, tanh, ...) that sat in
  their flat tails, f'(z) < 5% of f'(0), on at least 95% of the epoch's samples.
* **gradient norms**: the root mean square over the epoch's steps of
  :math:`\|\partial J / \partial W^{(l)}\|`; values that shrink from the top layer down
  are vanishing gradients.

The compiled passes add up ||dJ/dW||^2 and each ReLU unit's largest z themselves
(``DenseStack.watch``); the saturation needs f'(z), computed after each step. The epoch's
:class:`EpochDiagnostics` become one entry of the :class:`~neuronlab.training.History`
lists ``dead_relu``, ``saturated`` and ``grad_norm``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SATURATED_SHARE", "SATURATION", "EpochDiagnostics", "SaturationCounter", "Tracker"]

#: A unit is saturated on a sample when f'(z) < SATURATION * f'(0): for tanh |z| > 2.18, for
#: the logistic sigmoid |z| > 4.4.
SATURATION = 0.05
#: A unit is saturated on the epoch's data when it is on at least this share of the samples:
#: it then barely learns.
SATURATED_SHARE = 0.95


@dataclass(frozen=True)
class EpochDiagnostics:
    """What one epoch showed, one entry per layer.

    Attributes
    ----------
    dead_relu : list of float or None
        The fraction of dead ReLU units (None for a layer with another activation).
    saturated : list of float or None
        The fraction of saturated units (None for a layer whose activation does not saturate).
    grad_norm : list of float
        The root mean square over the epoch's steps of ||dJ/dW^(l)||.
    """

    dead_relu: list[float | None]
    saturated: list[float | None]
    grad_norm: list[float]


class SaturationCounter:
    """For each unit of one saturating layer, on how many samples f'(z) < threshold.

    Attributes
    ----------
    threshold : float
        SATURATION * f'(0) of the layer's activation.
    n_saturated : numpy.ndarray of int64, (n_out,)
        Per unit, the samples of the epoch so far on which it was saturated.
    samples : int
        The samples of the epoch so far.
    """

    def __init__(self, layer: Any):
        self.activation = layer.activation
        # a compiled activation writes f'(z) into the buffer; a student's may not take out=
        self._writes_out = self.activation.compiled_kernel() is not None
        self.threshold = SATURATION * float(self.activation.derivative(np.zeros(1))[0])
        self.n_saturated = np.zeros(layer.n_out, np.int64)
        self.samples = 0
        self._batch_count = np.zeros(layer.n_out, np.int64)
        self._scratch: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per batch size: f'(z), f'(z) < t

    def reset(self) -> None:
        self.n_saturated.fill(0)
        self.samples = 0

    def count(self, z: np.ndarray) -> None:
        """Add a batch: z of shape (m, n_out), the layer's pre-activations."""
        m = z.shape[0]
        scratch = self._scratch.get(m)
        if scratch is None:
            scratch = self._scratch[m] = (np.empty_like(z), np.empty(z.shape, bool))
        slope, flat = scratch
        if self._writes_out:
            self.activation.derivative(z, out=slope)
        else:
            slope[...] = self.activation.derivative(z)
        np.less(slope, self.threshold, out=flat)
        np.add.reduce(flat, axis=0, out=self._batch_count)
        self.n_saturated += self._batch_count
        self.samples += m

    def share(self) -> float:
        """The fraction of units saturated on at least SATURATED_SHARE of the samples."""
        return float(np.mean(self.n_saturated >= SATURATED_SHARE * self.samples))


class Tracker:
    """The per-epoch sums behind the diagnostics of a network's layers, trained by `engine`.

    Parameters
    ----------
    layers : list of Layer
        The network's layers.
    engine : DenseStack
        The compiled passes that train them (``Network.engine``): the tracker asks it to
        add up ||dJ/dW||^2 and the ReLU units' largest z.

    Attributes
    ----------
    grad_sq : numpy.ndarray, (L,)
        Per layer, the sum over the epoch's steps of ||dJ/dW^(l)||^2.
    z_max : list of numpy.ndarray or None
        Per ReLU layer, each unit's largest z in the epoch so far (None for other layers).
    saturation : list of SaturationCounter or None
        Per saturating layer, its counter (None for other layers).
    per_step : bool
        Work is needed after each step: :meth:`after_step` must be called.
    """

    def __init__(self, layers: list[Any], engine: Any):
        self.engine = engine
        self.grad_sq = np.zeros(len(layers))
        self.z_max = [np.empty(layer.n_z, layer.dtype) if layer.activation.name == "relu" else None
                      for layer in layers]
        self.saturation = [SaturationCounter(layer) if layer.activation.saturating else None
                           for layer in layers]
        self.per_step = any(counter is not None for counter in self.saturation)
        engine.watch(self.grad_sq, self.z_max)   # the compiled passes add these up

    def start_epoch(self) -> None:
        """Start the sums afresh."""
        self.grad_sq.fill(0.0)
        for z_max in self.z_max:
            if z_max is not None:
                z_max.fill(-np.inf)
        for counter in self.saturation:
            if counter is not None:
                counter.reset()

    def after_step(self, m: int) -> None:
        """Count the saturated units of a step of m samples (the engine keeps their z)."""
        for l, counter in enumerate(self.saturation):  # noqa: E741
            if counter is not None:
                counter.count(self.engine.layers[l].z[:m])

    def end_epoch(self, steps: int) -> EpochDiagnostics:
        """The epoch's diagnostics, after `steps` steps."""
        return EpochDiagnostics(
            dead_relu=[None if z_max is None else float(np.mean(z_max <= 0)) for z_max in self.z_max],
            saturated=[None if counter is None else counter.share() for counter in self.saturation],
            grad_norm=[math.sqrt(g / max(steps, 1)) for g in self.grad_sq])
