"""Training a network: mini-batch gradient descent, its History, early stopping, Ctrl-C.

:meth:`Network.fit <neuronlab.network.Network.fit>` and
:meth:`~neuronlab.network.Network.partial_fit` check their arguments here (:func:`fit`,
:func:`partial_fit`) and hand the work to a :class:`Trainer`, which runs the loop every
training runs::

    for each epoch:
        shuffle the samples
        for each mini-batch (x, r):
            forward pass, J, backward pass     (Network.backprop: one compiled call)
            theta <- theta - (the optimizer's step for dJ/dtheta)
        record the epoch in the History; stop early?

with the safety nets of a long run: a loss or a weight that becomes NaN or infinite puts
the weights back to the last good epoch and says why; Ctrl-C finishes the batch in
progress and returns the history so far; early stopping restores the best epoch's weights.
"""
from __future__ import annotations

import math
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from neuronlab import evaluation, optim
from neuronlab._validation import check_count, check_real
from neuronlab.diagnostics import Tracker
from neuronlab.targets import labels_of

__all__ = ["EarlyStopping", "History", "Trainer", "fit", "partial_fit"]


@dataclass
class EarlyStopping:
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    The weights of the best epoch are restored at the end. `monitor` is one of
    ``"val_loss"`` (the default; ``"loss"`` when there is no validation data), ``"loss"``,
    ``"val_accuracy"``, ``"accuracy"``: losses must fall, accuracies rise.
    """

    patience: int = 5
    min_delta: float = 0.0
    monitor: str | None = None

    def __post_init__(self):
        self.patience = check_count(self.patience, "patience", low=0)
        self.min_delta = check_real(self.min_delta, "min_delta", low=0.0)
        if self.monitor not in (None, "loss", "val_loss", "accuracy", "val_accuracy"):
            raise ValueError(f"monitor must be 'loss', 'val_loss', 'accuracy' or 'val_accuracy', "
                             f"got {self.monitor!r}")


@dataclass
class History:
    """What :meth:`Network.fit <neuronlab.network.Network.fit>` measured, one entry per epoch.

    Epochs are counted from 1, as the progress bar and :mod:`neuronlab.plot` show them:
    entry ``i`` of each list is epoch ``i + 1``. Layers are counted from 0, as in
    ``net.layers``: ``history.grad_norm[e][l]`` belongs to ``net.layers[l]`` (the layer
    whose parameters are saved as ``layer{l}.W``, ``layer{l}.b``).

    Attributes
    ----------
    loss, accuracy : list of float
        The training objective J per sample, averaged over the epoch's mini-batches (also
        when the loss's reduction is "sum"), and the share of its samples classified right
        as they were seen (accuracy stays empty for regression losses). J is the data
        loss plus the network's L2 penalty, when it has one.
    data_loss : list of float
        The data term of J alone (equal to `loss` without an L2 penalty).
    val_loss, val_accuracy : list of float
        The same on the validation data after the epoch (empty without validation data).
    learning_rate : list of float
    dead_relu : list of list
        Per layer, the fraction of ReLU units whose z was <= 0 on every sample of the
        epoch (None for other activations): dead units pass no gradient and never recover.
        This and the next two stay empty when fit ran with ``diagnostics=False``.
    saturated : list of list
        Per layer, the fraction of saturating units (sigmoid, tanh, ...) with
        f'(z) < 5% of f'(0) on at least 95% of the epoch's samples (None for others).
    grad_norm : list of list of float
        Per layer, the root mean square over the epoch's steps of ||dJ/dW^(l)|| for the data
        term of J (the L2 term's gradient l2 W is left out): values shrinking from the top
        layer down are vanishing gradients.
    prelu_alpha : list of list
        Per layer, a copy of the learned PReLU slopes at the end of the epoch (else None).
    best_epoch : int or None
        With early stopping, the epoch (counted from 1) whose weights were restored: its
        loss is ``loss[best_epoch - 1]``.
    stopped_early, interrupted : bool
        Training ended by early stopping, or by Ctrl-C (KeyboardInterrupt).
    """

    loss: list[float] = field(default_factory=list)
    data_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    dead_relu: list[list[float | None]] = field(default_factory=list)
    saturated: list[list[float | None]] = field(default_factory=list)
    grad_norm: list[list[float]] = field(default_factory=list)
    prelu_alpha: list[list[np.ndarray | None]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class _InterruptFlag:
    """Turn Ctrl-C during training into a flag checked after each mini-batch.

    The batch in progress finishes, so weights, optimizer state and history stay
    consistent. A second Ctrl-C interrupts at once. Only the main thread receives
    signals; elsewhere the handler is left alone.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def fit(network: Any, X: Any, y: Any, epochs: int = 10, batch_size: int = 32,
        optimizer: str | optim.Optimizer | None = None, validation_data: Any = None,
        validation_split: float = 0.0, shuffle: bool = True,
        early_stopping: EarlyStopping | int | None = None, progress: bool = True,
        diagnostics: bool = True, resume: bool = False) -> History:
    """:meth:`Network.fit <neuronlab.network.Network.fit>`, which documents the arguments.

    Every argument is checked before anything changes: a rejected call leaves the weights,
    the history, the optimizer and the shuffling generator as they were.
    """
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size")
    X = network.check_X(X)
    target = network.check_y(y, X.shape[0])
    validation_split = check_real(validation_split, "validation_split", low=0.0)
    if validation_split >= 1:
        raise ValueError(f"validation_split must be < 1, got {validation_split}")
    if validation_data is not None and validation_split:
        raise ValueError("give validation_data or validation_split, not both")
    validation = None
    if validation_data is not None:
        # a tuple or list of two, not any two-row array (which would unpack into rows)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"validation_data must be a pair (X_val, y_val), got "
                            f"{type(validation_data).__name__}")
        X_val, y_val = validation_data
        X_val = network.check_X(X_val, "X_val")
        validation = (X_val, network.check_y(y_val, X_val.shape[0], "y_val", "X_val"))
    elif validation_split:
        n_val = math.ceil(validation_split * X.shape[0])
        if n_val >= X.shape[0]:
            raise ValueError(f"validation_split {validation_split} leaves no training samples")
    has_validation = validation is not None or bool(validation_split)
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping or an int (its patience), "
                        f"got {type(early_stopping).__name__}")
    if early_stopping is not None:
        monitor = early_stopping.monitor or ("val_loss" if has_validation else "loss")
        if monitor.startswith("val_") and not has_validation:
            raise ValueError(f"early_stopping monitors {monitor!r}, which needs validation_data "
                             "or validation_split")
        if monitor.endswith("accuracy") and not network.is_classifier:
            raise ValueError(f"early_stopping monitors {monitor!r}, which needs a classifier "
                             "(a classification loss); a regressor can monitor 'loss' or "
                             "'val_loss'")
    if resume and optimizer is None and network.optimizer is not None:
        optimizer = network.optimizer         # with its momenta, step counts and schedule
    else:
        optimizer = optim.SGD(0.01) if optimizer is None else optim.get(optimizer)
    if validation_split:
        # drawn once every argument is checked: a rejected call leaves the generator alone
        order = network.rng.permutation(X.shape[0])
        validation = (X[order[:n_val]], target[order[:n_val]])
        X, target = X[order[n_val:]], target[order[n_val:]]
    network.optimizer = optimizer
    if resume and network.history is not None:
        # the new epochs are appended; how training ended (early, interrupted, with the
        # best epoch's weights restored) is this run's to say
        history = network.history
        history.best_epoch, history.stopped_early, history.interrupted = None, False, False
    else:
        network.history = History()
    trainer = Trainer(network, X, target, batch_size, validation, bool(shuffle), early_stopping,
                      bool(diagnostics))
    return trainer.run(epochs, bool(progress))


def partial_fit(network: Any, X: Any, y: Any, batch_size: int = 32,
                optimizer: str | optim.Optimizer | None = None, shuffle: bool = True) -> History:
    """:meth:`Network.partial_fit <neuronlab.network.Network.partial_fit>`: one more epoch."""
    batch_size = check_count(batch_size, "batch_size")
    X = network.check_X(X)
    target = network.check_y(y, X.shape[0])
    if optimizer is not None:
        network.optimizer = optim.get(optimizer)
    elif network.optimizer is None:
        network.optimizer = optim.SGD(0.01)
    if network.history is None:
        network.history = History()
    return Trainer(network, X, target, batch_size, None, bool(shuffle), None, True).run(1)


class Trainer:
    """Epochs of mini-batch gradient descent for a network, recorded in its history.

    Parameters
    ----------
    network : Network
        Trained in place by ``network.optimizer``; each epoch is appended to
        ``network.history``.
    X, target : numpy.ndarray
        Samples and targets as :meth:`Network.check_X <neuronlab.network.Network.check_X>`
        and :meth:`~neuronlab.network.Network.check_y` return them.
    batch_size : int
    validation : (X_val, target_val) or None
        Checked validation data, evaluated after every epoch.
    shuffle : bool
        A new order of the samples every epoch, drawn from ``network.rng``.
    early_stopping : EarlyStopping or None
    diagnostics : bool
        Record dead and saturated units and gradient norms (a
        :class:`~neuronlab.diagnostics.Tracker` watches every step).
    """

    def __init__(self, network: Any, X: np.ndarray, target: np.ndarray, batch_size: int,
                 validation: tuple[np.ndarray, np.ndarray] | None = None, shuffle: bool = True,
                 early_stopping: EarlyStopping | None = None, diagnostics: bool = True):
        self.network, self.history, self.optimizer = network, network.history, network.optimizer
        self.X, self.target, self.batch_size = X, target, batch_size
        self.validation, self.shuffle, self.early_stopping = validation, shuffle, early_stopping
        m = X.shape[0]
        self.engine = network.engine(min(batch_size, m))
        self.theta = network.theta                     # every parameter, in one vector
        self.params_and_grads = network.params_and_grads()   # [(theta, dtheta, weights)]
        self.last_good = self.theta.copy()             # the end of the last epoch, for a NaN loss
        self.best = None
        if early_stopping is not None:
            self.monitor = early_stopping.monitor or ("val_loss" if validation else "loss")
            self.sign = 1.0 if self.monitor.endswith("loss") else -1.0   # minimize sign * value
            self.best_value, self.waited, self.best = math.inf, 0, self.theta.copy()
        # The epoch's samples in their shuffled order, gathered into buffers made once.
        self.X_epoch, self.target_epoch = (np.empty_like(X), np.empty_like(target)) if shuffle else (X, target)
        self.grad_out = np.empty((min(batch_size, m), network.n_out), network.dtype)   # dJ/da^(L)
        self.predicted = np.empty(m, np.intp)    # the epoch's predicted classes, batch by batch
        self.tracker = Tracker(network.layers, self.engine) if diagnostics else None

    def run(self, epochs: int, progress: bool = False) -> History:
        """Train for `epochs` epochs, fewer when stopped early or interrupted; the history.

        Raises FloatingPointError when the loss or a weight becomes NaN or infinite; the
        weights are then those of the last good epoch.
        """
        from tqdm.auto import tqdm

        history = self.history
        # "epoch 3/10": the bar counts the epochs from 1, like the History and the plots
        bar = tqdm(total=epochs, desc="epoch", unit="epoch", disable=not progress, leave=True)
        try:
            with _InterruptFlag() as interrupt, self.network.mode(True):
                for _ in range(epochs):
                    self._epoch(interrupt)
                    bar.set_postfix(self._postfix(), refresh=False)
                    bar.update()
                    if interrupt.requested:
                        history.interrupted = True
                        break
                    if self.early_stopping is not None and self._stop_early():
                        history.stopped_early = True
                        break
        except KeyboardInterrupt:
            # Raised inside a step (a second Ctrl-C, or outside the main thread): that
            # epoch is incomplete, so go back to the weights at its start, which the
            # history describes. (The optimizer's momenta keep that epoch's updates.)
            np.copyto(self.theta, self.last_good)
            history.interrupted = True
        finally:
            bar.close()
        if self.best is not None and history.best_epoch is not None:
            np.copyto(self.theta, self.best)
        return history

    def _epoch(self, interrupt: _InterruptFlag) -> None:
        """One pass over the samples, a step per mini-batch, then the epoch's record."""
        net, opt, batch_size = self.network, self.optimizer, self.batch_size
        m = self.X.shape[0]
        if self.shuffle:
            order = net.rng.permutation(m)
            np.take(self.X, order, axis=0, out=self.X_epoch)
            np.take(self.target, order, axis=0, out=self.target_epoch)
        if self.tracker is not None:
            self.tracker.start_epoch()
        total_loss = total_data = 0.0
        seen = steps = 0
        for start in range(0, m, batch_size):
            stop = min(start + batch_size, m)
            n = stop - start
            J, J_data, out = net.backprop(self.engine, self.X_epoch[start:stop],
                                          self.target_epoch[start:stop], self.grad_out[:n])
            if not math.isfinite(J):
                self._diverged(f"the loss became {J}", f" (step {steps + 1})")
            opt.step(self.params_and_grads)
            total_loss += J / net.loss.batch_scale(n)   # the batch's sum
            total_data += J_data / net.loss.batch_scale(n)
            if net.is_classifier:
                out.argmax(axis=1, out=self.predicted[start:stop])
            if self.tracker is not None and self.tracker.per_step:
                self.tracker.after_step(n)
            seen += n
            steps += 1
            if interrupt.requested:
                break
        # A finite loss can still come with an infinite gradient (-r/y for a y that
        # underflowed): the weights are checked too, once an epoch (min and max
        # propagate NaN and show inf; no temporary array). A NaN weight mid-epoch
        # makes the next loss NaN anyway.
        if not (math.isfinite(self.theta.min()) and math.isfinite(self.theta.max())):
            self._diverged("a weight became inf or NaN", "")
        correct = (np.count_nonzero(self.predicted[:seen] == labels_of(self.target_epoch[:seen]))
                   if net.is_classifier else 0)
        self._record(total_loss / seen, total_data / seen, correct / seen, steps)
        np.copyto(self.last_good, self.theta)
        opt.end_epoch()

    def _diverged(self, what: str, where: str) -> NoReturn:
        np.copyto(self.theta, self.last_good)
        self.optimizer.reset()  # its momenta hold the NaN too
        raise FloatingPointError(
            f"{what} in epoch {len(self.history.loss) + 1}{where}; the weights are back to the last good "
            f"epoch. The learning rate ({self.optimizer.learning_rate}) is probably too high: try a "
            "smaller one, or check the data's scale")

    def _record(self, loss: float, data_loss: float, accuracy: float, steps: int) -> None:
        """Append the epoch to the history: its loss, accuracy, diagnostics, validation."""
        net, history = self.network, self.history
        history.loss.append(loss)
        history.data_loss.append(data_loss)
        if net.is_classifier:
            history.accuracy.append(accuracy)
        history.learning_rate.append(self.optimizer.learning_rate)
        history.prelu_alpha.append([None if layer.alpha is None else layer.alpha.copy()
                                    for layer in net.layers])
        if self.tracker is not None:
            epoch = self.tracker.end_epoch(steps)
            history.dead_relu.append(epoch.dead_relu)
            history.saturated.append(epoch.saturated)
            history.grad_norm.append(epoch.grad_norm)
        if self.validation is not None:
            X_val, target_val = self.validation
            # target_val is checked already: labels such as "cat" are class indices here
            scores = evaluation.checked_scores(net, X_val, target_val)
            # per sample, like the training loss, so that the two curves compare even when
            # the loss sums over the batch (evaluate() reports J as the loss defines it)
            m = X_val.shape[0]
            history.val_loss.append(scores["loss"] / (net.loss.batch_scale(m) * m))
            if net.is_classifier:
                history.val_accuracy.append(scores["accuracy"])

    def _stop_early(self) -> bool:
        """Keep the weights of the best epoch so far; True once `patience` epochs did no better."""
        history, rule = self.history, self.early_stopping
        value = self.sign * history[self.monitor][-1]
        if value < self.best_value - rule.min_delta:
            self.best_value, self.waited, history.best_epoch = value, 0, len(history.loss)
            np.copyto(self.best, self.theta)
            return False
        self.waited += 1
        return self.waited >= rule.patience

    def _postfix(self) -> dict[str, str]:
        """The progress bar's numbers for the last epoch."""
        history = self.history
        postfix = {"loss": f"{history.loss[-1]:.4f}"}
        if self.network.is_classifier:
            postfix["accuracy"] = f"{history.accuracy[-1]:.4f}"
        if self.validation is not None:
            postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
        return postfix
