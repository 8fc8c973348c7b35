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
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuronlab._kernels import _optim
from neuronlab._registry import Registry
from neuronlab._validation import check_count, check_real

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


# ----------------------------------------------------------------------------------------
# Learning-rate schedules
# ----------------------------------------------------------------------------------------
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
_SCHEDULES = {"StepDecay": StepDecay, "ExponentialDecay": ExponentialDecay}


# ----------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------
class Optimizer:
    """Base class. Subclasses name their state buffers and implement :meth:`_update`.

    Parameters
    ----------
    learning_rate : float
        eta > 0 (the rate of the first epoch when a schedule is given).
    weight_decay : float, default 0
        lambda >= 0.
    decoupled_weight_decay : bool, default False
        Shrink theta directly instead of adding lambda theta to the gradient.
    decay_biases : bool, default True
        False: the weight decay acts on the weights W only, not on the biases b and the
        PReLU slopes alpha (which elements are which: see :meth:`step`). This is the usual
        choice. Weight decay pulls the network towards functions that depend gently on
        their inputs, and a weight W_jk says how strongly unit j depends on input k; a
        bias only shifts z and multiplies no input. Each unit has one bias, against
        n_in weights, so leaving the biases free adds little risk of overfitting, while
        pulling them to 0 can underfit: a unit whose z must sit far from 0 (a ReLU that
        needs a threshold, an output that must reach the targets' mean) is held back. A
        PReLU slope decayed to 0 turns the unit into a plain ReLU, which is not what a
        penalty on large weights means. (True, the default, decays everything: the
        behaviour of earlier versions.)
    schedule : callable, optional
        schedule(eta_0, epoch) -> eta, such as :class:`StepDecay`. `epoch` counts the
        epochs completed: 0 during the first epoch, 1 during the second, ...
    """

    buffers: tuple[str, ...] = ()  # the per-parameter state, all zeros at the start

    def __init__(self, learning_rate: float, *, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, decay_biases: bool = True,
                 schedule: Schedule | None = None):
        self.initial_learning_rate = check_real(learning_rate, "learning_rate",
                                                low=0.0, low_open=True)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.decay_biases = bool(decay_biases)
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(learning_rate, epoch), "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.epoch = 0
        self.learning_rate = self.initial_learning_rate
        # id(theta) -> (theta, {buffer name: array}, the same buffers flattened); holding
        # theta keeps its id unique.
        self._state: dict[int, tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
        # id(theta) -> (theta, its weights argument, [(piece, decays, state of the piece)]):
        # the runs of weights and of non-weights that decay_biases=False steps one by one
        self._pieces: dict[int, tuple[np.ndarray, Any, list[tuple[slice, bool, dict]]]] = {}

    def end_epoch(self) -> float:
        """Advance the schedule by one epoch; returns the new learning rate."""
        self.epoch += 1
        if self.schedule is not None:
            self.learning_rate = check_real(
                self.schedule(self.initial_learning_rate, self.epoch), "scheduled learning_rate",
                low=0.0)
        return self.learning_rate

    def reset(self) -> None:
        """Forget every parameter's state (momenta, averages, step counts) and the epoch."""
        self._state.clear()
        self._pieces.clear()
        self.epoch = 0
        self.learning_rate = self.initial_learning_rate

    def state(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The state buffers kept for the parameter array `theta` (empty before its first step)."""
        entry = self._state.get(id(theta))
        return {} if entry is None else entry[1]

    def set_state(self, theta: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Give the parameter `theta` the state buffers `state` (copied), as :meth:`state`
        returned them: the next :meth:`step` for `theta` goes on from there.

        The buffers are those of :attr:`buffers` and the step count ``"t"``, shaped like
        `theta` and of its dtype (``"t"``: one int64).
        """
        names = sorted({*self.buffers, "t"})
        if not isinstance(state, dict) or sorted(state) != names:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{type(self).__name__} keeps the buffers {names} for each parameter, "
                             f"got {got}")
        buffers = {}
        for name in names:
            shape, dtype = ((1,), np.dtype(np.int64)) if name == "t" else (theta.shape, theta.dtype)
            value = state[name]
            if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
                raise ValueError(f"the state buffer {name!r} must be an array of shape {shape} and "
                                 f"dtype {dtype}, got {getattr(value, 'shape', type(value).__name__)}, "
                                 f"{getattr(value, 'dtype', '')}")
            buffers[name] = value.copy()
        flat = {name: b.reshape(-1) for name, b in buffers.items()}
        self._state[id(theta)] = (theta, buffers, flat)
        self._pieces.pop(id(theta), None)     # its pieces viewed the buffers replaced here

    @property
    def params(self) -> dict[str, Any]:
        """The arguments that make this optimizer afresh: ``type(opt)(**opt.params)``."""
        return {"learning_rate": self.initial_learning_rate, "weight_decay": self.weight_decay,
                "decoupled_weight_decay": self.decoupled_weight_decay, "decay_biases": self.decay_biases,
                "schedule": self.schedule}

    def state_dict(self, theta: np.ndarray) -> dict[str, Any]:
        """Where this optimizer stands for the parameter `theta`, as plain data and arrays.

        ``{"name": ..., "params": ..., "epoch": ..., "learning_rate": ..., "state": ...}``:
        the name :func:`get` knows it by, the constructor's :attr:`params` (a schedule as
        ``{"name": ..., "params": ...}``), the epoch and learning rate the schedule has
        reached, and `theta`'s buffers (:meth:`state`). :func:`from_state_dict` rebuilds it.

        Raises ValueError for an optimizer or a schedule that cannot be rebuilt that way: a
        class of your own, or a schedule that is a function.
        """
        name = next((n for n in _REGISTRY.available() if _REGISTRY.lookup(n) is type(self)), None)
        if name is None:
            raise ValueError(f"the optimizer {type(self).__name__} cannot be rebuilt from a file: "
                             f"nl.optim.get makes only {', '.join(_REGISTRY.available())}")
        params = dict(self.params)
        schedule = params["schedule"]
        if schedule is not None:
            if type(schedule) not in _SCHEDULES.values():
                what = getattr(schedule, "__name__", type(schedule).__name__)
                raise ValueError(f"the schedule {what} cannot be rebuilt from a file: only a "
                                 f"{' or an '.join(_SCHEDULES)} can")
            params["schedule"] = {"name": type(schedule).__name__, "params": schedule.params}
        return {"name": name, "params": params, "epoch": self.epoch,
                "learning_rate": self.learning_rate,
                "state": {k: b.copy() for k, b in self.state(theta).items()}}

    def step(self, params_and_grads: Iterable[tuple]) -> None:
        """Update every parameter in place from its gradient.

        Parameters
        ----------
        params_and_grads : iterable of (theta, g) or (theta, g, weights)
            Each parameter array with its gradient dJ/dtheta of the same shape. `weights`
            says which elements of theta are weights W rather than biases or slopes; only
            ``decay_biases=False`` reads it. It is True (all of them), False (none), a
            slice of ``theta.reshape(-1)``, or a boolean array of theta's shape. Without
            it, a parameter with two or more dimensions (a matrix W) counts as weights and
            a vector (b, alpha) does not, so the pairs of ``layer.params_and_grads()`` need
            nothing more. A network keeps W, b and alpha together in one vector theta;
            :meth:`Network.params_and_grads <neuronlab.network.Network.params_and_grads>`
            hands it over with its `weights`.
        """
        eta, lam = self.learning_rate, self.weight_decay
        if self.decoupled_weight_decay:
            lam, shrink = 0.0, 1.0 - eta * lam      # theta <- (1 - eta lambda) theta first
        else:
            shrink = 1.0                            # g <- g + lambda theta
        every = self.decay_biases or not self.weight_decay   # decay all, or there is none
        for i, entry in enumerate(params_and_grads):
            theta, g, weights = _unpack(entry, i)
            state = self._state_for(theta, g, i)
            state["t"][0] += 1
            if g.dtype != theta.dtype or not g.flags.c_contiguous:
                g = np.ascontiguousarray(g, dtype=theta.dtype)
            theta_flat, g_flat = theta.reshape(-1), g.reshape(-1)
            if every:
                self._update(theta_flat, g_flat, state, eta, lam, shrink)
                continue
            # Every update is elementwise, so the weights and the rest can be stepped as
            # separate pieces: with the decay, and without it (lambda = 0, no shrinking).
            for piece, decays, piece_state in self._pieces_of(theta, weights, state, i):
                self._update(theta_flat[piece], g_flat[piece], piece_state, eta,
                             lam if decays else 0.0, shrink if decays else 1.0)

    def _pieces_of(self, theta, weights, state, i):
        """The runs of theta.reshape(-1) that are weights or are not, with their state."""
        cached = self._pieces.get(id(theta))
        if cached is not None and cached[0] is theta and _same_weights(cached[1], weights):
            return cached[2]
        pieces = []
        for start, stop, decays in _weight_runs(weights, theta, i):
            piece = slice(start, stop)
            # the step count t is the parameter's, not the piece's
            piece_state = {name: b if name == "t" else b[piece] for name, b in state.items()}
            pieces.append((piece, decays, piece_state))
        self._pieces[id(theta)] = (theta, weights, pieces)
        return pieces

    def _state_for(self, theta, g, i):
        if not isinstance(theta, np.ndarray) or theta.dtype not in (np.float32, np.float64):
            raise TypeError(f"parameter {i} must be a float32 or float64 numpy array")
        if not theta.flags.writeable:
            raise ValueError(f"parameter {i} is read-only; it is updated in place")
        if not theta.flags.c_contiguous:
            raise ValueError(f"parameter {i} is not C-contiguous; it is updated in place, "
                             "so it must be an array of its own, not a strided view")
        if isinstance(g, np.ndarray) and g.dtype.kind not in "biuf":
            raise TypeError(f"gradient {i} has dtype {g.dtype}; it must hold real numbers")
        if not isinstance(g, np.ndarray) or g.shape != theta.shape:
            shape = getattr(g, "shape", type(g).__name__)
            raise ValueError(f"gradient {i} has shape {shape} but its parameter has shape "
                             f"{theta.shape}")
        entry = self._state.get(id(theta))
        if entry is None or entry[0] is not theta:
            buffers = {name: np.zeros_like(theta) for name in self.buffers}
            buffers["t"] = np.zeros(1, dtype=np.int64)  # this parameter's step count
            flat = {name: b.reshape(-1) for name, b in buffers.items()}  # views, for the kernels
            entry = self._state[id(theta)] = (theta, buffers, flat)
        return entry[2]

    def _update(self, theta, g, state, eta, lam, shrink) -> None:
        """One step for the flat parameter theta with gradient g (see :mod:`_optim`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}(learning_rate={self.initial_learning_rate}{extra})"

    def _hyper(self) -> dict[str, Any]:
        h = {}
        if self.weight_decay:
            h["weight_decay"] = self.weight_decay
            if self.decoupled_weight_decay:
                h["decoupled_weight_decay"] = True
            if not self.decay_biases:
                h["decay_biases"] = False
        if self.schedule is not None:
            h["schedule"] = self.schedule
        return h


def _unpack(entry: Any, i: int) -> tuple[Any, Any, Any]:
    """(theta, g, weights) from a pair or a triple; weights is None in a pair."""
    if isinstance(entry, tuple | list) and len(entry) in (2, 3):
        return (*entry, None) if len(entry) == 2 else tuple(entry)
    raise TypeError(f"params_and_grads[{i}] must be a pair (parameter, gradient) or a triple "
                    "(parameter, gradient, weights); layer.params_and_grads() gives the pairs")


def _same_weights(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is b           # the same mask object: a network hands over the same one
    return type(a) is type(b) and a == b


def _weight_runs(weights: Any, theta: np.ndarray, i: int) -> list[tuple[int, int, bool]]:
    """[(start, stop, is_weight)]: theta.reshape(-1) cut into runs of weights and non-weights."""
    n = theta.size
    if weights is None:
        weights = theta.ndim >= 2           # a matrix W is weights; a vector b or alpha is not
    if isinstance(weights, bool | np.bool_):
        return [(0, n, bool(weights))]
    if isinstance(weights, slice):
        start, stop, step = weights.indices(n)
        if step != 1:
            raise ValueError(f"the weights of parameter {i} are a slice with step {step}; "
                             "use a boolean array for weights that are not one block")
        stop = max(start, stop)
        runs = [(0, start, False), (start, stop, True), (stop, n, False)]
        return [run for run in runs if run[1] > run[0]]
    if not isinstance(weights, np.ndarray) or weights.dtype != np.bool_:
        kind = weights.dtype if isinstance(weights, np.ndarray) else type(weights).__name__
        raise TypeError(f"the weights of parameter {i} must be a bool, a slice or a boolean "
                        f"array marking the weights, got {kind}")
    if weights.shape != theta.shape:
        raise ValueError(f"the weights of parameter {i} have shape {weights.shape} but the "
                         f"parameter has shape {theta.shape}; they must match")
    flat = weights.reshape(-1)
    edges = (np.flatnonzero(flat[1:] != flat[:-1]) + 1).tolist()
    bounds = [0, *edges, n]
    return [(a, b, bool(flat[a])) for a, b in itertools.pairwise(bounds) if b > a]


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


_REGISTRY = Registry("optimizer", "a name or an Optimizer", arg="optimizer", base=Optimizer,
                     fold_case=True, name_errors=False)
for _name, _cls in {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam}.items():
    _REGISTRY.register(_cls, name=_name)
del _name, _cls


def get(name: str | Optimizer, **params: Any) -> Optimizer:
    """The optimizer called `name` ("sgd", "adagrad", "rmsprop", "adam") made with `params`.

    An :class:`Optimizer` passes through unchanged.
    """
    return _REGISTRY.get(name, **params)


def from_state_dict(data: dict[str, Any], theta: np.ndarray) -> Optimizer:
    """The optimizer that :meth:`Optimizer.state_dict` took apart, where it stood for the
    parameter `theta` (for a copy of the old parameter: the buffers are copied to it)."""
    params = dict(data["params"])
    schedule = params.get("schedule")
    if schedule is not None:
        if schedule["name"] not in _SCHEDULES:
            raise ValueError(f"unknown schedule {schedule['name']!r}; available: "
                             f"{', '.join(_SCHEDULES)}")
        params["schedule"] = _SCHEDULES[schedule["name"]](**schedule["params"])
    optimizer = get(data["name"], **params)
    optimizer.epoch = check_count(data["epoch"], "epoch", low=0)
    optimizer.learning_rate = check_real(data["learning_rate"], "learning_rate", low=0.0)
    if data["state"]:                  # empty: no step yet
        optimizer.set_state(theta, data["state"])
    return optimizer
