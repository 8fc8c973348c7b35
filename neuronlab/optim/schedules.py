"""Learning-rate schedules: how eta changes from epoch to epoch.

A schedule is any callable schedule(eta_0, epoch) -> eta; an optimizer made with
``schedule=`` calls it after each epoch (:meth:`Optimizer.end_epoch
<neuronlab.optim.Optimizer.end_epoch>`). The two here can also be saved with a network and
rebuilt from the file (``SCHEDULES``); a function of your own cannot.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuronlab._validation import check_count, check_real


class StepDecay:
    """eta_e = eta_0 gamma^floor(e / step_size): multiply by gamma every `step_size` epochs."""

    def __init__(self, step_size: int, gamma: float = 0.1):
        self.step_size = check_count(step_size, "step_size")
        self.gamma = check_real(gamma, "gamma", low=0.0, low_open=True)

    def __call__(self, initial_rate: float, epoch: int) -> float:
        return initial_rate * self.gamma ** (epoch // self.step_size)

    @property
    def params(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    def __repr__(self):
        return f"StepDecay(step_size={self.step_size}, gamma={self.gamma})"


class ExponentialDecay:
    """eta_e = eta_0 gamma^e: multiply by gamma after every epoch."""

    def __init__(self, gamma: float):
        self.gamma = check_real(gamma, "gamma", low=0.0, low_open=True)

    def __call__(self, initial_rate: float, epoch: int) -> float:
        return initial_rate * self.gamma ** epoch

    @property
    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def __repr__(self):
        return f"ExponentialDecay(gamma={self.gamma})"


Schedule = Callable[[float, int], float]
# The schedules a saved optimizer can name (a function of your own cannot be rebuilt from a file).
SCHEDULES = {"StepDecay": StepDecay, "ExponentialDecay": ExponentialDecay}
