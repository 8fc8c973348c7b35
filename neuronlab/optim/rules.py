"""The update rules: how each optimizer turns the gradient g into a step for theta.

Each class holds its hyperparameters and names its state buffers; its update is one
compiled pass in ``neuronlab/_kernels/_optim.pyx``. The table of formulas is in
:mod:`neuronlab.optim`.
"""
from __future__ import annotations

from typing import Any

from neuronlab._kernels import _optim
from neuronlab._validation import check_real
from neuronlab.optim.base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum mu.

    theta <- theta - eta g; with momentum v <- mu v + g and theta <- theta - eta v;
    with Nesterov theta <- theta - eta (g + mu v), a step from the look-ahead point.

    Keyword arguments as for :class:`Optimizer`: weight_decay, decoupled_weight_decay,
    decay_biases (False: no decay for biases and PReLU slopes), schedule.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **kwargs: Any):
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        self.nesterov = bool(nesterov)
        self.buffers = ("v",) if self.momentum else ()
        super().__init__(learning_rate, **kwargs)

    def _update(self, theta, g, state, eta, lam, shrink):
        v = state.get("v", theta[:0])          # no momentum: no velocity
        _optim.sgd(theta, g, v, eta, self.momentum, self.nesterov, lam, shrink)

    def _hyper(self):
        h = {"momentum": self.momentum} if self.momentum else {}
        if self.nesterov:
            h["nesterov"] = True
        return {**h, **super()._hyper()}

    @property
    def params(self):
        return {**super().params, "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): G <- G + g^2, theta <- theta - eta g / (sqrt(G) + eps).

    Each parameter's step shrinks with the squared gradients it has seen so far.

    Keyword arguments as for :class:`Optimizer`: weight_decay, decoupled_weight_decay,
    decay_biases (False: no decay for biases and PReLU slopes), schedule.
    """

    buffers = ("G",)

    def __init__(self, learning_rate: float = 0.01, eps: float = 1e-10, **kwargs: Any):
        self.eps = check_real(eps, "eps", low=0.0, low_open=True)
        super().__init__(learning_rate, **kwargs)

    def _update(self, theta, g, state, eta, lam, shrink):
        _optim.adagrad(theta, g, state["G"], eta, self.eps, lam, shrink)

    def _hyper(self):
        return {"eps": self.eps, **super()._hyper()}

    @property
    def params(self):
        return {**super().params, "eps": self.eps}


class RMSProp(Optimizer):
    """RMSProp (Hinton, 2012): s <- rho s + (1 - rho) g^2, theta <- theta - eta g / (sqrt(s) + eps).

    Adagrad with a moving average instead of a sum, so the step does not shrink forever.

    Keyword arguments as for :class:`Optimizer`: weight_decay, decoupled_weight_decay,
    decay_biases (False: no decay for biases and PReLU slopes), schedule.
    """

    buffers = ("s",)

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, eps: float = 1e-8,
                 **kwargs: Any):
        self.rho = check_real(rho, "rho", low=0.0, high=1.0)
        self.eps = check_real(eps, "eps", low=0.0, low_open=True)
        super().__init__(learning_rate, **kwargs)

    def _update(self, theta, g, state, eta, lam, shrink):
        _optim.rmsprop(theta, g, state["s"], eta, self.rho, self.eps, lam, shrink)

    def _hyper(self):
        return {"rho": self.rho, "eps": self.eps, **super()._hyper()}

    @property
    def params(self):
        return {**super().params, "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): moving averages of g and g^2, corrected for their start at 0.

    m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
    theta <- theta - eta m_hat / (sqrt(v_hat) + eps),
    m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
    With ``decoupled_weight_decay=True`` and a weight decay this is AdamW.

    Keyword arguments as for :class:`Optimizer`: weight_decay, decoupled_weight_decay,
    decay_biases (False: no decay for biases and PReLU slopes), schedule.
    """

    buffers = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, **kwargs: Any):
        self.beta1 = check_real(beta1, "beta1", low=0.0, high=1.0)
        self.beta2 = check_real(beta2, "beta2", low=0.0, high=1.0)
        if self.beta1 == 1.0 or self.beta2 == 1.0:
            raise ValueError("beta1 and beta2 must be < 1: the bias correction divides "
                             "by 1 - beta^t")
        self.eps = check_real(eps, "eps", low=0.0, low_open=True)
        super().__init__(learning_rate, **kwargs)

    def _update(self, theta, g, state, eta, lam, shrink):
        _optim.adam(theta, g, state["m"], state["v"], eta, self.beta1, self.beta2, self.eps,
                    int(state["t"][0]), lam, shrink)

    def _hyper(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps, **super()._hyper()}

    @property
    def params(self):
        return {**super().params, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
