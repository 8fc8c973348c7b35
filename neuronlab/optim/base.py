"""The base class of every optimizer: the bookkeeping they share (the state buffers of
each parameter, weight decay, the schedule, saving and restoring where they stand), with
the update itself left to each subclass's compiled kernel.

The optimizers themselves are in rules.py, the learning-rate schedules in schedules.py;
all of them are used through :mod:`neuronlab.optim`.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from neuronlab._registry import Registry
from neuronlab._validation import check_count, check_real
from neuronlab.optim.schedules import SCHEDULES, Schedule


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
        name = next((n for n in REGISTRY.available() if REGISTRY.lookup(n) is type(self)), None)
        if name is None:
            raise ValueError(f"the optimizer {type(self).__name__} cannot be rebuilt from a file: "
                             f"nl.optim.get makes only {', '.join(REGISTRY.available())}")
        params = dict(self.params)
        schedule = params["schedule"]
        if schedule is not None:
            if type(schedule) not in SCHEDULES.values():
                what = getattr(schedule, "__name__", type(schedule).__name__)
                raise ValueError(f"the schedule {what} cannot be rebuilt from a file: only a "
                                 f"{' or an '.join(SCHEDULES)} can")
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


# The optimizers nl.optim.get makes, by name (neuronlab/optim/__init__.py registers the
# built-in ones): state_dict saves an optimizer under its name, from_state_dict looks it up.
REGISTRY = Registry("optimizer", "a name or an Optimizer", arg="optimizer", base=Optimizer,
                    fold_case=True, name_errors=False)


def from_state_dict(data: dict[str, Any], theta: np.ndarray) -> Optimizer:
    """The optimizer that :meth:`Optimizer.state_dict` took apart, where it stood for the
    parameter `theta` (for a copy of the old parameter: the buffers are copied to it)."""
    params = dict(data["params"])
    schedule = params.get("schedule")
    if schedule is not None:
        if schedule["name"] not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule['name']!r}; available: "
                             f"{', '.join(SCHEDULES)}")
        params["schedule"] = SCHEDULES[schedule["name"]](**schedule["params"])
    optimizer = REGISTRY.get(data["name"], **params)
    optimizer.epoch = check_count(data["epoch"], "epoch", low=0)
    optimizer.learning_rate = check_real(data["learning_rate"], "learning_rate", low=0.0)
    if data["state"]:                  # empty: no step yet
        optimizer.set_state(theta, data["state"])
    return optimizer
