r"""A feed-forward network: layers of neurons trained by back-propagation.

For L layers and one sample (column vectors, as in the lecture), the forward pass is

.. math::
   z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = f^{(l)}(z^{(l)}), \qquad
   a^{(0)} = x,

and the loss J(a^{(L)}, r) compares the last output with the target r. Back-propagation
runs the chain rule from the top down:

.. math::
   \delta^{(L)} = \frac{\partial J}{\partial a^{(L)}} \odot f'(z^{(L)}), \qquad
   \delta^{(l)} = \bigl(W^{(l+1)T} \delta^{(l+1)}\bigr) \odot f'(z^{(l)}),

.. math::
   \frac{\partial J}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)T}, \qquad
   \frac{\partial J}{\partial b^{(l)}} = \delta^{(l)}.

A mini-batch keeps one sample per row, so the sums over its m samples become matrix
products: dJ/dW = delta^T a_prev and W^T delta becomes delta W. One engine computes these
passes everywhere (``neuronlab/_kernels/_dense.pyx``: each line next to its formula):
:class:`~neuronlab.layers.Layer` runs it for one layer, and a network runs its layers' engines
in one compiled loop. :mod:`neuronlab.reference` is the same back-propagation in plain NumPy,
the textbook's listing.

>>> import neuronlab as nl
>>> X, y = nl.datasets.blobs(200, n_classes=3, seed=0)
>>> net = nl.Network([nl.Layer(2, 16, "tanh", seed=0), nl.Layer(16, 3, "identity", seed=1)],
...                  seed=0)
>>> history = net.fit(X, y, epochs=20, optimizer=nl.optim.SGD(0.1), progress=False)
>>> len(history.loss), net.score(X, y) > 0.9
(20, True)
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuronlab import activations, losses, optim
from neuronlab import gradcheck as _gradcheck
from neuronlab._config import get_num_threads
from neuronlab._kernels._dense import DenseStack
from neuronlab._validation import as_array, as_float_array, check_count, check_real, make_rng
from neuronlab.layers import Layer

try:
    from lzma import LZMAError
except ImportError:  # a Python without lzma cannot open LZMA-compressed entries at all
    LZMAError = zipfile.BadZipFile

__all__ = ["EarlyStopping", "History", "Network"]

FORMAT = "neuronlab.Network"
FORMAT_VERSION = 1
CLASSIFICATION_LOSSES = ("softmax_cross_entropy", "cross_entropy", "nll")

# A sigmoid-like unit is saturated on a sample when f'(z) < SATURATION * f'(0) (for tanh
# |z| > 2.18, for the logistic sigmoid |z| > 4.4), and saturated on the epoch's data when
# that holds for at least SATURATED_SHARE of the samples: it then barely learns.
SATURATION = 0.05
SATURATED_SHARE = 0.95
_EVAL_CHUNK = 1024  # samples per forward pass when predicting


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
    """What :meth:`Network.fit` measured, one entry per epoch.

    Attributes
    ----------
    loss, accuracy : list of float
        The training loss per sample, averaged over the epoch's mini-batches (also when
        the loss's reduction is "sum"), and the share of its samples classified right as
        they were seen (accuracy stays empty for regression losses).
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
        Per layer, the root mean square over the epoch's steps of ||dJ/dW^(l)||: values
        shrinking from the top layer down are vanishing gradients.
    prelu_alpha : list of list
        Per layer, a copy of the learned PReLU slopes at the end of the epoch (else None).
    best_epoch : int or None
        With early stopping, the epoch (from 0) whose weights were restored.
    stopped_early, interrupted : bool
        Training ended by early stopping, or by Ctrl-C (KeyboardInterrupt).
    """

    loss: list[float] = field(default_factory=list)
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


def _batch_scale(loss: losses.Loss, m: int) -> float:
    """J = scale * (the sum of a batch's m losses): 1/m for reduction "mean", 1 for "sum"."""
    return 1.0 / m if loss.reduction == "mean" else 1.0


class Network:
    """Layers of neurons, one after another, trained by back-propagation.

    Parameters
    ----------
    layers : list of Layer
        Layer l + 1 takes the n_out outputs of layer l as its inputs. All must share a dtype.
    loss : str or Loss, default "softmax_cross_entropy"
        J, by name from :mod:`neuronlab.losses` or as an object, with reduction "mean" or
        "sum". Softmax cross-entropy, cross-entropy and NLL make a classifier trained on
        integer labels; the other losses a regressor trained on target values.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling of the samples and the validation split. The layers' weights
        are seeded when the layers are made.

    Examples
    --------
    >>> import neuronlab as nl
    >>> net = nl.Network([nl.Layer(64, 128, "relu", seed=0), nl.Layer(128, 10, "identity", seed=1)])
    >>> print(net.summary())
    Layer  Inputs  Units  Activation  Parameters
        0      64    128  relu             8,320
        1     128     10  identity         1,290
    Total parameters: 9,610
    """

    def __init__(self, layers: Any, loss: str | losses.Loss = "softmax_cross_entropy",
                 seed: Any = None):
        if isinstance(layers, Layer):
            layers = [layers]
        layers = list(layers)
        if not layers:
            raise ValueError("layers is empty: a network needs at least one Layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a neuronlab Layer, got {type(layer).__name__}")
            if layer.activation.name in ("softmax", "log_softmax"):
                raise ValueError(f"layers[{i}] uses {layer.activation.name} as its activation; for a "
                                 "classifier end with an identity layer and use loss='softmax_cross_entropy', "
                                 "which applies the softmax and back-propagates y - r")
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise ValueError(f"layers[{i}] takes {layers[i].n_in} inputs but layers[{i - 1}] "
                                 f"has {layers[i - 1].n_out} units")
            if layers[i].dtype != layers[0].dtype:
                raise TypeError(f"layers[{i}] has dtype {layers[i].dtype} but layers[0] has "
                                f"{layers[0].dtype}; all layers must share one dtype")
        self.layers = layers
        self._gather_parameters()
        self.loss = losses.get(loss)
        if self.loss.reduction == "none":
            raise ValueError("the loss must reduce a batch to one number: use reduction 'mean' "
                             "or 'sum', not 'none'")
        self.is_classifier = self.loss.name in CLASSIFICATION_LOSSES
        self.seed = seed
        self.rng = make_rng(seed)
        self.training = True
        self.history: History | None = None
        self.optimizer: optim.Optimizer | None = None
        self._step_buffers: dict[int, dict[str, np.ndarray]] = {}

    def _gather_parameters(self) -> None:
        """Move every W, b (and PReLU alpha) into one vector theta, their gradients into g.

        The layers keep views into the two vectors, so an optimizer updates the whole
        network with one (theta, g) pair: a handful of array operations per step instead
        of a handful per parameter. The update of each element is unchanged (every
        optimizer here works element by element).
        """
        named = [(layer, name, p) for layer in self.layers for name, p, _ in layer.named_parameters()]
        self._theta = np.empty(sum(p.size for _, _, p in named), self.layers[0].dtype)
        self._grad = np.zeros_like(self._theta)
        start = 0
        for layer, name, p in named:
            stop = start + p.size
            theta, grad = (v[start:stop].reshape(p.shape) for v in (self._theta, self._grad))
            theta[...] = p
            setattr(layer, name, theta)
            setattr(layer, "d" + name, grad)
            if name == "alpha" and layer.activation.per_unit:
                layer.activation.alpha = theta      # the activation reads the slopes from here
            start = stop

    # -- sizes and modes -------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def train(self) -> Network:
        """Training mode for every layer (RReLU draws random slopes)."""
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self) -> Network:
        """Evaluation mode for every layer (RReLU uses its mean slope)."""
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """("layer{l}.W", W, dW), ... for every parameter of every layer."""
        return [(f"layer{i}.{name}", p, g) for i, layer in enumerate(self.layers)
                for name, p, g in layer.named_parameters()]

    def summary(self) -> str:
        """A table of the layers with their sizes, activations and parameter counts."""
        rows = [("Layer", "Inputs", "Units", "Activation", "Parameters")]
        rows += [(str(i), str(layer.n_in), str(layer.n_out), layer.activation.name,
                  f"{layer.n_params:,}") for i, layer in enumerate(self.layers)]
        widths = [max(len(row[c]) for row in rows) for c in range(5)]
        lines = ["  ".join(cell.ljust(w) if c == 3 else cell.rjust(w)
                           for c, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                 for row in rows]
        lines[0] = "  ".join(h.ljust(w) if c in (0, 3) else h.rjust(w)
                             for c, (h, w) in enumerate(zip(rows[0], widths, strict=True))).rstrip()
        return "\n".join([*lines, f"Total parameters: {self.n_params:,}"])

    def __repr__(self) -> str:
        sizes = " -> ".join([str(self.n_in)] + [str(layer.n_out) for layer in self.layers])
        return f"Network({sizes}, loss={self.loss!r})"

    @contextlib.contextmanager
    def _mode(self, training: bool):
        """Every layer in training (or evaluation) mode for a while, then back as it was."""
        modes = [layer.training for layer in self.layers]
        for layer in self.layers:
            layer.training = training
        try:
            yield
        finally:
            for layer, mode in zip(self.layers, modes, strict=True):
                layer.training = mode

    # -- the engine --------------------------------------------------------------------------
    def _stack(self, rows: int) -> DenseStack:
        """The passes for batches of up to `rows` samples: every layer's compiled engine
        (:meth:`Layer.engine`) in one compiled loop, with no Python between the layers."""
        return DenseStack([layer.engine(rows) for layer in self.layers], get_num_threads())

    def _loss_and_gradient(self, out: np.ndarray, labels: np.ndarray, r: np.ndarray,
                           grad_out: np.ndarray) -> float:
        """J for a batch of outputs, with dJ/da^(L) written into grad_out (one compiled pass).

        J is the mean or the sum over the batch, as the loss's reduction says.
        """
        scale = _batch_scale(self.loss, out.shape[0])
        no_rows = np.empty(0, self.dtype)   # per-sample losses, which training does not need
        return self.loss._kernel(out, labels, r, grad_out, no_rows, scale, True, False) * scale

    def _step(self, stack: DenseStack, x: np.ndarray, labels: np.ndarray, r: np.ndarray,
              grad_out: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward, the loss and dJ/da^(L), backward: (J, a^(L)) for one training batch.

        With a compiled loss that is one call into compiled code.
        """
        spec = self.loss._batch_spec(grad_out.shape[1], labels.shape[0] > 0)
        if spec:
            scale = _batch_scale(self.loss, x.shape[0])
            J = stack.step(x, labels, r, grad_out, *spec, scale) * scale
            return J, stack.output[:x.shape[0]]
        out = stack.forward(x)
        J = self._loss_and_gradient(out, labels, r, grad_out)
        stack.backward(grad_out)
        return J, out

    # -- checking what the user hands in ---------------------------------------------------
    def _check_X(self, X: Any, name: str = "X") -> np.ndarray:
        X = as_float_array(X, name, self.dtype)
        if X.ndim == 1 and X.shape[0] == self.n_in:
            X = X.reshape(1, -1)
        if X.ndim != 2:
            raise ValueError(f"{name} must be a 2-d array with one sample per row, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{name} has no samples (shape {X.shape})")
        if X.shape[1] != self.n_in:
            raise ValueError(f"{name} has {X.shape[1]} features per sample but the network's "
                             f"first layer takes {self.n_in} inputs")
        if not (np.isfinite(X.min()) and np.isfinite(X.max())):
            i, j = np.argwhere(~np.isfinite(X))[0]
            raise ValueError(f"{name}[{i}, {j}] is {X[i, j]}: the samples must be finite numbers")
        return X

    def _check_y(self, y: Any, m: int, name: str = "y", x_name: str = "X") -> np.ndarray:
        """Class labels as intp (classifier) or target rows (m, n_out) in the network's dtype;
        m is the number of samples in `x_name`."""
        if self.is_classifier:
            y = as_array(y, name, "class labels")
            if y.ndim != 1:
                raise ValueError(f"{name} must be a 1-d array of class labels, got shape {y.shape}")
            if y.shape[0] != m:
                raise ValueError(f"{name} has {y.shape[0]} labels but {x_name} has {m} samples")
            return losses.check_labels(y, m, self.n_out, name)
        r = as_float_array(y, name, self.dtype)
        if r.ndim == 1 and self.n_out == 1:
            r = r.reshape(-1, 1)
        if r.ndim != 2 or r.shape[0] != m or r.shape[1] != self.n_out:
            raise ValueError(f"{name} has shape {r.shape}; expected ({m}, {self.n_out}): one row per "
                             f"sample of {x_name} and one column per output of the network")
        if not np.all(np.isfinite(r)):
            i, j = np.argwhere(~np.isfinite(r))[0]
            raise ValueError(f"{name}[{i}, {j}] is {r[i, j]}: the targets must be finite")
        return np.ascontiguousarray(r)

    # -- the passes ------------------------------------------------------------------------
    def _buffers(self, m: int) -> dict[str, Any]:
        """The loss gradient buffer for batches of m samples, made once."""
        buf = self._step_buffers.get(m)
        if buf is None:
            if len(self._step_buffers) >= 4:
                self._step_buffers.clear()
            buf = self._step_buffers[m] = {
                "grad_out": np.empty((m, self.n_out), self.dtype)}
        return buf

    def _targets(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, r) as the loss kernels take them: one of the two is empty."""
        if self.is_classifier:
            return target, np.empty((0, self.n_out), self.dtype)
        return losses._NO_LABELS, target

    # -- training ----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, epochs: int = 10, batch_size: int = 32,
            optimizer: str | optim.Optimizer | None = None, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True,
            early_stopping: EarlyStopping | int | None = None, progress: bool = True,
            diagnostics: bool = True) -> History:
        """Train on (X, y) for `epochs` passes of mini-batch gradient descent.

        Parameters
        ----------
        X : array_like (m, n_in)
        y : array_like
            Integer class labels (m,) for a classifier, target values (m, n_out) (or (m,)
            with one output) for a regressor.
        epochs, batch_size : int
            The last batch of an epoch is smaller when batch_size does not divide m.
        optimizer : Optimizer or str, default SGD(0.01)
            Kept (``self.optimizer``) so that :meth:`partial_fit` continues with it.
        validation_data : (X_val, y_val), optional
        validation_split : float
            The fraction of (X, y), drawn at random, held out as validation data instead.
        shuffle : bool
            A new order of the samples every epoch (seeded by the network's seed).
        early_stopping : EarlyStopping or int, optional
            An int is the patience of ``EarlyStopping(patience)``.
        progress : bool
            Show a progress bar (tqdm) with the epoch, loss and accuracy.
        diagnostics : bool
            Record the dead ReLU units, saturated units and gradient norms per epoch
            (see :class:`History`); this watches every step and costs a few percent.

        Returns
        -------
        History
            Also kept as ``self.history``.

        Raises
        ------
        ValueError
            Bad data (wrong sizes, NaN, labels out of range), before any work is done.
        FloatingPointError
            The loss became NaN or infinite; the weights are those of the last good epoch.
        """
        epochs = check_count(epochs, "epochs")
        batch_size = check_count(batch_size, "batch_size")
        X = self._check_X(X)
        target = self._check_y(y, X.shape[0])
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
            X_val = self._check_X(X_val, "X_val")
            validation = (X_val, self._check_y(y_val, X_val.shape[0], "y_val", "X_val"))
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
            if monitor.endswith("accuracy") and not self.is_classifier:
                raise ValueError(f"early_stopping monitors {monitor!r}, which needs a classifier "
                                 "(a classification loss); a regressor can monitor 'loss' or "
                                 "'val_loss'")
        optimizer = optim.SGD(0.01) if optimizer is None else optim.get(optimizer)
        if validation_split:
            # drawn once every argument is checked: a rejected call leaves the generator alone
            order = self.rng.permutation(X.shape[0])
            validation = (X[order[:n_val]], target[order[:n_val]])
            X, target = X[order[n_val:]], target[order[n_val:]]
        self.optimizer = optimizer
        self.history = History()
        return self._train(X, target, epochs, batch_size, validation, bool(shuffle),
                           early_stopping, bool(progress), bool(diagnostics))

    def partial_fit(self, X: Any, y: Any, batch_size: int = 32,
                    optimizer: str | optim.Optimizer | None = None, shuffle: bool = True) -> History:
        """One more epoch on (X, y), continuing ``self.history`` and the last optimizer."""
        batch_size = check_count(batch_size, "batch_size")
        X = self._check_X(X)
        target = self._check_y(y, X.shape[0])
        if optimizer is not None:
            self.optimizer = optim.get(optimizer)
        elif self.optimizer is None:
            self.optimizer = optim.SGD(0.01)
        if self.history is None:
            self.history = History()
        return self._train(X, target, 1, batch_size, None, bool(shuffle), None, False, True)

    def _train(self, X, target, epochs, batch_size, validation, shuffle, early_stopping,
               progress, diagnostics) -> History:
        from tqdm.auto import tqdm

        history, opt = self.history, self.optimizer
        m = X.shape[0]
        stack = self._stack(min(batch_size, m))
        theta = self._theta                    # every parameter (see _gather_parameters)
        params_and_grads = [(theta, self._grad)]
        last_good = theta.copy()               # the end of the last epoch, for a NaN loss
        best = None
        if early_stopping is not None:
            monitor = early_stopping.monitor or ("val_loss" if validation else "loss")
            sign = 1.0 if monitor.endswith("loss") else -1.0   # minimize sign * value
            best_value, waited, best = math.inf, 0, theta.copy()
        # The epoch's samples in their shuffled order, gathered into buffers made once.
        X_epoch, target_epoch = (np.empty_like(X), np.empty_like(target)) if shuffle else (X, target)
        trackers = self._make_trackers(stack) if diagnostics else None
        predicted = np.empty(m, np.intp)  # the epoch's predicted classes, batch by batch
        bar = tqdm(total=epochs, unit="epoch", disable=not progress, leave=True)

        def diverged(what: str, where: str):
            np.copyto(theta, last_good)
            opt.reset()  # its momenta hold the NaN too
            raise FloatingPointError(
                f"{what} in epoch {len(history.loss)}{where}; the weights are back to the last good "
                f"epoch. The learning rate ({opt.learning_rate}) is probably too high: try a smaller "
                "one, or check the data's scale")

        try:
            with _InterruptFlag() as interrupt, self._mode(True):
                for _ in range(epochs):
                    if shuffle:
                        order = self.rng.permutation(m)
                        np.take(X, order, axis=0, out=X_epoch)
                        np.take(target, order, axis=0, out=target_epoch)
                    labels_epoch, r_epoch = self._targets(target_epoch)
                    if diagnostics:
                        self._reset_trackers(trackers)
                    total_loss, seen, steps = 0.0, 0, 0
                    for start in range(0, m, batch_size):
                        stop = min(start + batch_size, m)
                        n = stop - start
                        labels = labels_epoch[start:stop] if labels_epoch.size else labels_epoch
                        r = r_epoch[start:stop] if r_epoch.size else r_epoch
                        buf = self._buffers(n)
                        J, out = self._step(stack, X_epoch[start:stop], labels, r, buf["grad_out"])
                        if not math.isfinite(J):
                            diverged(f"the loss became {J}", f" (step {steps})")
                        opt.step(params_and_grads)
                        total_loss += J / _batch_scale(self.loss, n)   # the batch's sum
                        if self.is_classifier:
                            out.argmax(axis=1, out=predicted[start:stop])
                        if diagnostics and trackers["per_step"]:
                            self._track(trackers, stack, n)
                        seen += n
                        steps += 1
                        if interrupt.requested:
                            break
                    # A finite loss can still come with an infinite gradient (-r/y for a y that
                    # underflowed): the weights are checked too, once an epoch (min and max
                    # propagate NaN and show inf; no temporary array). A NaN weight mid-epoch
                    # makes the next loss NaN anyway.
                    if not (math.isfinite(theta.min()) and math.isfinite(theta.max())):
                        diverged("a weight became inf or NaN", "")
                    correct = (np.count_nonzero(predicted[:seen] == labels_epoch[:seen])
                               if self.is_classifier else 0)
                    self._record(history, trackers, total_loss / seen, correct / seen, steps,
                                 validation)
                    np.copyto(last_good, theta)
                    opt.end_epoch()
                    postfix = {"loss": f"{history.loss[-1]:.4f}"}
                    if self.is_classifier:
                        postfix["accuracy"] = f"{history.accuracy[-1]:.4f}"
                    if validation is not None:
                        postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
                    bar.set_postfix(postfix, refresh=False)
                    bar.update()
                    if interrupt.requested:
                        history.interrupted = True
                        break
                    if early_stopping is not None:
                        value = sign * history[monitor][-1]
                        if value < best_value - early_stopping.min_delta:
                            best_value, waited, history.best_epoch = value, 0, len(history.loss) - 1
                            np.copyto(best, theta)
                        else:
                            waited += 1
                            if waited >= early_stopping.patience:
                                history.stopped_early = True
                                break
        except KeyboardInterrupt:
            # Raised inside a step (a second Ctrl-C, or outside the main thread): that
            # epoch is incomplete, so go back to the weights at its start, which the
            # history describes. (The optimizer's momenta keep that epoch's updates.)
            np.copyto(theta, last_good)
            history.interrupted = True
        finally:
            bar.close()
        if best is not None and history.best_epoch is not None:
            np.copyto(theta, best)
        return history

    # -- diagnostics ---------------------------------------------------------------------------
    def _make_trackers(self, stack: DenseStack) -> dict[str, Any]:
        """The per-epoch sums behind History's diagnostics (see :meth:`_track`)."""
        L = len(self.layers)
        trackers = {"grad_sq": np.zeros(L),           # per layer, sum over steps of ||dJ/dW||^2
                    "z_max": [None] * L,              # ReLU layers: each unit's largest z so far
                    "saturation": [None] * L}         # saturating layers: see _track
        for l, layer in enumerate(self.layers):  # noqa: E741
            act = layer.activation
            if act.name == "relu":
                trackers["z_max"][l] = np.empty(layer.n_z, layer.dtype)
            if act.saturating:
                trackers["saturation"][l] = {
                    "threshold": SATURATION * float(act.derivative(np.zeros(1))[0]),
                    "n_saturated": np.zeros(layer.n_out, np.int64),
                    "batch_count": np.zeros(layer.n_out, np.int64), "samples": 0,
                    "scratch": {}}  # per batch size: f'(z) and its comparison
        stack.watch(trackers["grad_sq"], trackers["z_max"])  # the compiled passes add these up
        trackers["per_step"] = any(trackers["saturation"])  # work after each step
        return trackers

    def _reset_trackers(self, trackers) -> None:
        trackers["grad_sq"].fill(0.0)
        for z_max in trackers["z_max"]:
            if z_max is not None:
                z_max.fill(-np.inf)
        for t in trackers["saturation"]:
            if t is not None:
                t["n_saturated"].fill(0)
                t["samples"] = 0

    def _track(self, trackers, stack: DenseStack, m: int) -> None:
        """After a step of m samples: how many samples saturated each unit, f'(z) < threshold.

        The compiled passes add up ||dW||^2 and the ReLU units' largest z themselves
        (:meth:`DenseStack.watch`).
        """
        for l, layer in enumerate(self.layers):  # noqa: E741
            t = trackers["saturation"][l]
            if t is None:
                continue
            z = stack.layers[l].z[:m]
            scratch = t["scratch"].get(m)
            if scratch is None:
                scratch = t["scratch"][m] = (np.empty_like(z), np.empty(z.shape, bool))
            slope, flat = scratch
            if layer.activation.compiled_kernel() is None:
                slope[...] = layer.activation.derivative(z)
            else:
                layer.activation.derivative(z, out=slope)
            np.less(slope, t["threshold"], out=flat)
            np.add.reduce(flat, axis=0, out=t["batch_count"])
            t["n_saturated"] += t["batch_count"]
            t["samples"] += m

    def _record(self, history: History, trackers, loss: float, accuracy: float, steps: int,
                validation) -> None:
        history.loss.append(loss)
        if self.is_classifier:
            history.accuracy.append(accuracy)
        history.learning_rate.append(self.optimizer.learning_rate)
        history.prelu_alpha.append([None if layer.alpha is None else layer.alpha.copy()
                                    for layer in self.layers])
        if trackers is not None:
            self._record_diagnostics(history, trackers, steps)
        if validation is not None:
            scores = self._evaluate_checked(*validation)
            # per sample, like the training loss, so that the two curves compare even when
            # the loss sums over the batch (evaluate() reports J as the loss defines it)
            m = validation[0].shape[0]
            history.val_loss.append(scores["loss"] / (_batch_scale(self.loss, m) * m))
            if self.is_classifier:
                history.val_accuracy.append(scores["accuracy"])

    @staticmethod
    @staticmethod
    def _record_diagnostics(history: History, trackers, steps: int) -> None:
        history.dead_relu.append([None if z_max is None else float(np.mean(z_max <= 0))
                                  for z_max in trackers["z_max"]])
        history.saturated.append([
            None if t is None else float(np.mean(t["n_saturated"] >= SATURATED_SHARE * t["samples"]))
            for t in trackers["saturation"]])
        history.grad_norm.append([math.sqrt(g / max(steps, 1)) for g in trackers["grad_sq"]])

    # -- using the trained network -------------------------------------------------------------
    def _outputs(self, X: np.ndarray) -> np.ndarray:
        """a^(L) for checked samples, in evaluation mode (a new array)."""
        stack = self._stack(min(_EVAL_CHUNK, X.shape[0]))
        out = np.empty((X.shape[0], self.n_out), self.dtype)
        with self._mode(False):
            for start in range(0, X.shape[0], _EVAL_CHUNK):
                stop = min(start + _EVAL_CHUNK, X.shape[0])
                out[start:stop] = stack.forward(X[start:stop])
        return out

    def forward(self, X: Any) -> np.ndarray:
        """The network's output a^(L) for the samples X, in the current mode (a new array)."""
        X = self._check_X(X)
        return self._stack(X.shape[0]).forward(X).copy()

    __call__ = forward

    def predict(self, X: Any) -> np.ndarray:
        """Class indices (a classifier) or the predicted values (a regressor) for X."""
        out = self._outputs(self._check_X(X))
        if self.is_classifier:
            return np.argmax(out, axis=1)
        return out[:, 0].copy() if self.n_out == 1 else out

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of every class for each sample (rows sum to 1): classifiers only."""
        if not self.is_classifier:
            raise ValueError(f"predict_proba needs a classification loss, not {self.loss.name}")
        out = self._outputs(self._check_X(X))
        if self.loss.name == "softmax_cross_entropy":
            from neuronlab.softmax import softmax
            return softmax(out)
        return np.exp(out) if self.loss.name == "nll" else out  # nll's outputs are ln y

    def score(self, X: Any, y: Any) -> float:
        """The accuracy (a classifier) or the coefficient of determination R^2 (a regressor).

        R^2 = 1 - sum (r - y)^2 / sum (r - mean r)^2 per output, averaged over the outputs.
        """
        X = self._check_X(X)
        target = self._check_y(y, X.shape[0])
        out = self._outputs(X)
        if self.is_classifier:
            return float(np.mean(np.argmax(out, axis=1) == target))
        # in float64: squares of float32 numbers overflow past 1.8e19
        target, out = target.astype(np.float64), out.astype(np.float64)
        ss_res = np.sum((target - out) ** 2, axis=0)
        ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
        r2 = 1.0 - np.divide(ss_res, ss_tot, out=np.zeros_like(ss_res), where=ss_tot > 0)
        return float(np.mean(np.where(ss_tot > 0, r2, ss_res == 0)))

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """{"loss": J, "accuracy": ...} (classifier) or {"loss": J, "r2": ...} (regressor)."""
        X = self._check_X(X)
        return self._evaluate_checked(X, self._check_y(y, X.shape[0]))

    def _evaluate_checked(self, X: np.ndarray, target: np.ndarray) -> dict[str, float]:
        out = self._outputs(X)
        J = float(self.loss.loss(out, target))
        if self.is_classifier:
            return {"loss": J, "accuracy": float(np.mean(np.argmax(out, axis=1) == target))}
        return {"loss": J, "r2": self.score(X, target)}

    # -- checking the back-propagation -----------------------------------------------------------
    def gradcheck(self, X: Any, y: Any, eps: float = 1e-6, rtol: float = 1e-5,
                  atol: float = 1e-8) -> dict[str, _gradcheck.GradientCheck]:
        """Compare back-propagation's dJ/dtheta with central differences, for every parameter.

        J is the loss on (X, y) in training mode, as :meth:`fit` computes it. Needs float64
        layers. RReLU layers draw the same random slopes in every pass (their generator's
        state is reset each time). Returns name ("layer0.W", ...) ->
        :class:`~neuronlab.gradcheck.GradientCheck`.
        """
        if self.dtype != np.float64:
            raise TypeError("gradcheck needs float64 layers: finite differences in float32 "
                            "drown in rounding error")
        X = self._check_X(X)
        target = self._check_y(y, X.shape[0])
        labels, r = self._targets(target)
        stack = self._stack(X.shape[0])
        grad_out = np.empty((X.shape[0], self.n_out), self.dtype)
        random = [(layer.activation.rng, layer.activation.rng.bit_generator.state)
                  for layer in self.layers if isinstance(layer.activation, activations.RReLU)]

        def J(_=None):
            for rng, state in random:
                rng.bit_generator.state = state
            return self._loss_and_gradient(stack.forward(X), labels, r, grad_out)

        with self._mode(True):
            J()
            stack.backward(grad_out)
            analytic = {name: g.copy() for name, _, g in self.named_parameters()}
            return {name: _gradcheck.check_gradient(J, p, analytic[name], eps, rtol, atol)
                    for name, p, _ in self.named_parameters()}

    # -- saving and loading -------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (the weights are not included)."""
        layers = []
        for layer in self.layers:
            act = layer.activation
            params = {k: v for k, v in act.params.items() if not isinstance(v, np.ndarray)}
            if isinstance(act, activations.PReLU):
                params = {"per_unit": act.per_unit}  # the slopes travel with the weights
            layers.append({"n_in": layer.n_in, "n_out": layer.n_out, "activation": act.name,
                           "activation_params": params, "dtype": layer.dtype.name})
        return {"format": FORMAT, "version": FORMAT_VERSION, "layers": layers,
                "loss": {"name": self.loss.name, "params": self.loss.params}}

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights and the architecture to one .npz file, atomically.

        The file holds plain arrays and a JSON string (``numpy.load(path,
        allow_pickle=False)`` reads it) and replaces `path` only once it is complete.
        """
        path = os.fspath(path)
        arrays = {name: p for name, p, _ in self.named_parameters()}
        arrays["config"] = np.array(json.dumps(self.config()))
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """A network saved by :meth:`save`; never unpickles anything.

        Raises ValueError naming the file when it is truncated, not a network file, or of
        an unknown format version.
        """
        path = os.fspath(path)

        def bad(reason: str) -> ValueError:
            return ValueError(f"{path} is not a readable neuronlab network file: {reason}")

        def entry(data, name: str) -> np.ndarray:
            value = data[name]
            if not isinstance(value, np.ndarray):  # a member that is no .npy comes back as bytes
                raise bad(f"its entry {name!r} is not a NumPy array")
            return value

        try:
            # our own file object: numpy leaks its own when a corrupt zip raises
            with open(path, "rb") as file:
                # Told apart here because for anything but .npy and .npz NumPy's message
                # suggests unpickling the file, which load never does.
                head = file.read(6)
                if head == b"\x93NUMPY":
                    raise bad("it holds a single array, not a saved network")
                if head[:4] != b"PK\x03\x04":
                    raise bad("it is not a .npz archive as Network.save writes")
                file.seek(0)
                data = np.load(file, allow_pickle=False)
                if "config" not in data.files:
                    raise bad("it has no 'config' entry")
                try:
                    config = json.loads(str(entry(data, "config")[()]))
                except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
                    raise bad(f"its config is not valid JSON ({exc})") from None
                if not isinstance(config, dict) or config.get("format") != FORMAT:
                    raise bad("its config does not describe a neuronlab Network")
                if config.get("version") != FORMAT_VERSION:
                    raise bad(f"format version {config.get('version')!r}; this neuronlab reads "
                              f"version {FORMAT_VERSION}")
                weights = {name: entry(data, name) for name in data.files if name != "config"}
        except FileNotFoundError:
            raise
        # Besides BadZipFile, a damaged zip makes zipfile raise NotImplementedError (flags,
        # versions, methods it does not know), RuntimeError (an entry marked encrypted) and
        # its decompressors' errors; MemoryError: an entry's header can promise any size.
        except (zipfile.BadZipFile, EOFError, OSError, KeyError, io.UnsupportedOperation,
                NotImplementedError, RuntimeError, zlib.error, LZMAError, MemoryError) as exc:
            raise bad(f"{type(exc).__name__}: {exc} (truncated or corrupted?)") from None
        except ValueError as exc:
            if str(exc).startswith(path):
                raise
            raise bad(str(exc)) from None
        try:
            return cls._from_config(config, weights)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise bad(f"its contents do not fit together: {exc}") from None

    @classmethod
    def _from_config(cls, config: dict, weights: dict[str, np.ndarray]) -> Network:
        layers = []
        for i, spec in enumerate(config["layers"]):
            params = dict(spec["activation_params"])
            if spec["activation"] == "prelu":
                alpha = weights[f"layer{i}.alpha"]
                params = {"alpha": alpha.copy() if params.get("per_unit") else float(alpha[0])}
            if spec["activation"] not in activations.available():
                raise ValueError(f"layer{i} uses the activation {spec['activation']!r}, which is not "
                                 "registered: call nl.activations.register(YourActivation) before load")
            # The activation as an object: an RReLU keeps its saved seed (a Layer given the
            # name would draw a new one).
            act = activations.get(spec["activation"], **params)
            # Compare the sizes with the saved W before the Layer allocates its own: a few
            # bytes of config could ask for terabytes.
            n_in, n_out = check_count(spec["n_in"], "n_in"), check_count(spec["n_out"], "n_out")
            W_shape = (n_out * getattr(act, "pieces", 1), n_in)
            if weights[f"layer{i}.W"].shape != W_shape:
                raise ValueError(f"layer{i}.W has shape {weights[f'layer{i}.W'].shape}; the config "
                                 f"says {W_shape}")
            layer = Layer(n_in, n_out, act, dtype=np.dtype(spec["dtype"]))
            for name, p, _ in layer.named_parameters():
                saved = weights[f"layer{i}.{name}"]
                # In a Network every parameter has the layer's dtype (a new Layer's PReLU
                # slopes are float64 until the Network gathers them).
                if saved.shape != p.shape or saved.dtype != layer.dtype:
                    raise ValueError(f"layer{i}.{name} has shape {saved.shape} and dtype "
                                     f"{saved.dtype}; the config says {p.shape}, {layer.dtype}")
                np.copyto(p, saved)
            layers.append(layer)
        expected = {f"layer{i}.{name}" for i, layer in enumerate(layers)
                    for name, _, _ in layer.named_parameters()}
        if set(weights) != expected:
            raise ValueError(f"unexpected arrays {sorted(set(weights) - expected)}")
        return cls(layers, losses.get(config["loss"]["name"], **config["loss"]["params"]))

    # -- PyTorch -------------------------------------------------------------------------------
    def to_torch(self):
        """The same network as a ``torch.nn.Sequential`` of Linear and activation modules."""
        from neuronlab import _torch
        return _torch.to_torch(self)

    @classmethod
    def from_torch(cls, module, loss: str | losses.Loss = "softmax_cross_entropy") -> Network:
        """A Network from a ``torch.nn.Sequential`` of Linear layers each followed by at most
        one activation module (ReLU, Tanh, Sigmoid, LeakyReLU, ELU, PReLU, ...)."""
        from neuronlab import _torch
        return _torch.from_torch(cls, module, loss)

