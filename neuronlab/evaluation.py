r"""Using a trained network: what it answers for new samples, and how good that is.

:meth:`Network.predict <neuronlab.network.Network.predict>`,
:meth:`~neuronlab.network.Network.predict_proba`, :meth:`~neuronlab.network.Network.score`
and :meth:`~neuronlab.network.Network.evaluate` call the functions of the same names here
(the methods hold the documentation). All of them run the network in evaluation mode (RReLU
uses its mean slope) whatever mode it is in, a chunk of samples at a time.

A classifier predicts the class of its largest output; a regressor predicts its outputs.
The score is a classifier's accuracy or a regressor's coefficient of determination

.. math:: R^2 = 1 - \frac{\sum_i (r_i - y_i)^2}{\sum_i (r_i - \bar r)^2}

per output, averaged over the outputs.

>>> import neuronlab as nl
>>> X, y = nl.datasets.blobs(200, n_classes=3, seed=0)
>>> net = nl.Network([nl.Layer(2, 16, "tanh", seed=0), nl.Layer(16, 3, "identity", seed=1)])
>>> history = net.fit(X, y, epochs=20, optimizer=nl.optim.SGD(0.1), progress=False)
>>> scores = evaluate(net, X, y)
>>> sorted(scores), scores["accuracy"] == score(net, X, y)
(['accuracy', 'data_loss', 'loss'], True)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab.losses import MulticlassHinge
from neuronlab.softmax import softmax
from neuronlab.targets import labels_of

# In the order of use, which the API reference follows.
__all__ = ["outputs", "predict", "predict_proba", "score", "evaluate", "checked_scores"]  # noqa: RUF022

CHUNK = 1024  # samples per forward pass: the engine's buffers stay small for any number of samples


def outputs(network: Any, X: np.ndarray) -> np.ndarray:
    """a^(L) for samples X that :meth:`~neuronlab.network.Network.check_X` has checked, in
    evaluation mode (a new array)."""
    out = _engine_outputs(network, X)
    return network.layers[-1].activation(out) if network.softmax_output else out


def predict(network: Any, X: Any) -> np.ndarray:
    """:meth:`Network.predict <neuronlab.network.Network.predict>`."""
    out = outputs(network, network.check_X(X))
    if network.is_classifier:
        classes = np.argmax(out, axis=1)
        return classes if network.classes_ is None else network.classes_[classes]
    return out[:, 0].copy() if network.n_out == 1 else out


def predict_proba(network: Any, X: Any) -> np.ndarray:
    """:meth:`Network.predict_proba <neuronlab.network.Network.predict_proba>`."""
    loss = network.loss
    if not network.is_classifier:
        raise ValueError(f"predict_proba needs a classification loss, not {loss.name}")
    if isinstance(loss, MulticlassHinge):
        raise ValueError("predict_proba needs a loss that models probabilities; the hinge loss "
                         "trains scores with a margin, which are not probabilities: use "
                         "predict, or train with softmax_cross_entropy")
    out = outputs(network, network.check_X(X))
    if loss.name == "softmax_cross_entropy":
        return softmax(out)
    return np.exp(out) if loss.name == "nll" else out  # nll's outputs are ln y


def score(network: Any, X: Any, y: Any) -> float:
    """:meth:`Network.score <neuronlab.network.Network.score>`."""
    X = network.check_X(X)
    target = network.check_y(y, X.shape[0])
    out = outputs(network, X)
    if network.is_classifier:
        return float(np.mean(np.argmax(out, axis=1) == labels_of(target)))
    # in float64: squares of float32 numbers overflow past 1.8e19
    target, out = target.astype(np.float64), out.astype(np.float64)
    ss_res = np.sum((target - out) ** 2, axis=0)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    r2 = 1.0 - np.divide(ss_res, ss_tot, out=np.zeros_like(ss_res), where=ss_tot > 0)
    return float(np.mean(np.where(ss_tot > 0, r2, ss_res == 0)))


def evaluate(network: Any, X: Any, y: Any) -> dict[str, float]:
    """:meth:`Network.evaluate <neuronlab.network.Network.evaluate>`."""
    X = network.check_X(X)
    return checked_scores(network, X, network.check_y(y, X.shape[0]))


def checked_scores(network: Any, X: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """What :func:`evaluate` reports, for X and targets already checked by the network (a
    classifier's labels already class indices): the validation data of training."""
    out = _engine_outputs(network, X)
    J_data = network.loss_and_gradient_into(out, target, np.empty_like(out))
    scores = {"loss": J_data + network.penalty(), "data_loss": J_data}
    if network.is_classifier:
        scores["accuracy"] = float(np.mean(np.argmax(out, axis=1) == labels_of(target)))
    else:
        scores["r2"] = score(network, X, target)
    return scores


def _engine_outputs(network: Any, X: np.ndarray) -> np.ndarray:
    """What the engine computes for checked samples, in evaluation mode (a new array):
    a^(L), or its logits z^(L) for a softmax output layer."""
    m = X.shape[0]
    stack = network.engine(min(CHUNK, m))
    out = np.empty((m, network.n_out), network.dtype)
    with network.mode(False):
        for start in range(0, m, CHUNK):
            stop = min(start + CHUNK, m)
            out[start:stop] = stack.forward(X[start:stop])
    return out
