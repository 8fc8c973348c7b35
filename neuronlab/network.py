r"""A feed-forward network: layers of neurons trained by back-propagation.

For L layers and one sample (column vectors, as in the lecture), the forward pass is

.. math::
   z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = f^{(l)}(z^{(l)}), \qquad
   a^{(0)} = x,

and the loss J(a^{(L)}, r) compares the last output with the target r. (The code counts
the layers from 0, like the list that holds them: ``net.layers[l]`` holds W^{(l+1)}, and its
parameters are named ``layer{l}.W``, ``layer{l}.b``.) Back-propagation runs the chain rule
from the top down:

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
the textbook's listing. The training loop is in :mod:`neuronlab.training`, its diagnostics
in :mod:`neuronlab.diagnostics`, predictions and scores in :mod:`neuronlab.evaluation`, the
gradient check in :mod:`neuronlab.gradcheck`, saving and loading in :mod:`neuronlab.persistence`.

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
import os
from typing import Any

import numpy as np

from neuronlab import evaluation, losses, optim, persistence, training
from neuronlab import gradcheck as _gradcheck
from neuronlab._config import get_num_threads
from neuronlab._kernels._dense import DenseStack
from neuronlab._validation import check_real, check_samples, make_rng
from neuronlab.layers import check_stack, gather_parameters
from neuronlab.targets import class_targets, regression_targets
from neuronlab.training import EarlyStopping, History

# History and EarlyStopping live in neuronlab.training; nl.network.History keeps working.
__all__ = ["Network"]


class Network:
    r"""Layers of neurons, one after another, trained by back-propagation.

    Parameters
    ----------
    layers : list of Layer
        Layer l + 1 takes the n_out outputs of layer l as its inputs. All must share a dtype.
    loss : str or Loss, default "softmax_cross_entropy"
        The data term of J, by name from :mod:`neuronlab.losses` or as an object, with
        reduction "mean" or "sum". Softmax cross-entropy, the multiclass hinge, cross-entropy and NLL make a
        classifier trained on integer labels; the other losses a regressor trained on
        target values.
    l2 : float, default 0
        The weight of the L2 regularizer: training minimizes the structural risk

        .. math:: J(\theta) = \text{data loss} + \frac{\lambda}{2} \sum_l \lVert W^{(l)} \rVert_F^2,
           \qquad \frac{\partial J}{\partial W^{(l)}} \mathrel{+}= \lambda W^{(l)}

        with :math:`\lambda` = l2. The biases (and PReLU slopes) are not penalized: they
        only shift a unit's input, and shrinking them towards 0 does not make the network
        any smoother. A course that writes :math:`\text{reg} \sum W^2` uses l2 = 2 reg.
    seed : int, numpy.random.Generator or None
        Seeds the whole run: the shuffling of the samples, the validation split, and the
        weights (and RReLU slopes) of every layer made without a seed of its own, which
        are drawn anew from it when the network is made. A layer made with a seed keeps
        its weights. With ``seed=None`` every layer keeps the weights it was made with.

    Attributes
    ----------
    theta, dtheta : numpy.ndarray
        Every parameter in one vector and dJ/dtheta in another: first every layer's W,
        then the biases (and PReLU slopes). Each layer's W, dW, ... are views into them, so
        one optimizer step moves them all.
    weights : slice
        The part of :attr:`theta` that holds the weights W, which the L2 term penalizes.
    softmax_output : bool
        The last layer is a softmax, the lecture's output layer (with loss "cross_entropy").
        The engine then stops at its logits z^(L) and trains with the fused softmax
        cross-entropy: the same J, and dJ/dz^(L) = y - r in one pass.
    history : History or None
        What the last :meth:`fit` (and the :meth:`partial_fit` calls after it) recorded.

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
                 l2: float = 0.0, seed: Any = None):
        self.loss = losses.get(loss)
        self.layers = check_stack(layers, self.loss)   # Layers that fit together, and the loss
        self.seed = seed
        self.rng = make_rng(seed)
        if seed is not None:   # one seed for the whole run: the layers made without one too
            for layer in self.layers:
                if layer.seed is None:
                    layer.initialize(self.rng)
        self.l2 = check_real(l2, "l2", low=0.0)
        self.theta, self.dtheta, self.weights = gather_parameters(self.layers)
        # softmax then cross-entropy, as the lecture pairs them, trains as logits with the
        # fused softmax cross-entropy: the same J, and dJ/dz = y - r in one pass
        self.softmax_output = self.layers[-1].activation.name == "softmax"
        self._engine_loss = (losses.SoftmaxCrossEntropy(self.loss.reduction) if self.softmax_output
                             else self.loss)
        if self.loss.reduction == "none":
            raise ValueError("the loss must reduce a batch to one number: use reduction 'mean' "
                             "or 'sum', not 'none'")
        self.is_classifier = self.loss.classifier
        self.training = True
        self.history: History | None = None
        self.optimizer: optim.Optimizer | None = None
        self._no_rows = np.empty((0, self.n_out), self.dtype)   # the r of a classifier's targets
        self.classes_: np.ndarray | None = None   # the labels, when they are not 0..K-1

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

    def params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """[(theta, dtheta, weights)] for an optimizer's :meth:`~neuronlab.optim.Optimizer.step`:
        `weights` is the slice of theta holding the W's, the elements ``decay_biases=False``
        decays (theta keeps every W first, see :func:`~neuronlab.layers.gather_parameters`)."""
        return [(self.theta, self.dtheta, self.weights)]

    def summary(self) -> str:
        """A table of the layers (numbered from 0, as in ``net.layers`` and ``layer0.W``) with
        their sizes, activations and parameter counts."""
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
    def mode(self, training: bool):
        """Every layer in training (or evaluation) mode for a while, then back as it was."""
        modes = [layer.training for layer in self.layers]
        for layer in self.layers:
            layer.training = training
        try:
            yield
        finally:
            for layer, mode in zip(self.layers, modes, strict=True):
                layer.training = mode

    # -- the engine and J: what training, evaluation and gradcheck run ----------------------
    def engine(self, rows: int) -> DenseStack:
        """The passes for batches of up to `rows` samples: every layer's compiled engine
        (:meth:`Layer.engine`) in one compiled loop, with no Python between the layers."""
        engines = [layer.engine(rows) for layer in self.layers[:-1]]
        engines.append(self.layers[-1].engine(rows, logits=self.softmax_output))
        return DenseStack(engines, get_num_threads())

    def loss_and_gradient_into(self, out: np.ndarray, target: np.ndarray, grad_out: np.ndarray) -> float:
        """The data loss (the batch's mean or sum, as the loss's reduction says) for a batch of
        the engine's outputs and checked targets (:meth:`check_y`), with its gradient with
        respect to `out` written into grad_out: one compiled pass. `out` is a^(L), or z^(L)
        under a softmax output layer (:attr:`softmax_output`), whose gradient is y - r."""
        labels, r = self._targets(target)
        return self._engine_loss.loss_and_gradient_into(out, labels, r, grad_out)

    def penalty(self) -> float:
        """The regularizer (l2 / 2) sum_l ||W^(l)||^2 at the current weights."""
        if not self.l2:
            return 0.0
        w = self.theta[self.weights]
        return 0.5 * self.l2 * float(np.dot(w, w))

    def regularize(self, J_data: float) -> float:
        """J = the data term + the penalty, and dJ/dW += l2 W in :attr:`dtheta` (after the
        backward pass, which writes the data term's gradient there)."""
        if not self.l2:
            return J_data
        penalty = self.penalty()
        self.dtheta[self.weights] += self.l2 * self.theta[self.weights]
        return J_data + penalty

    def backprop(self, engine: DenseStack, x: np.ndarray, target: np.ndarray,
                 grad_out: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Forward, the loss and dJ/da^(L), backward: (J, data loss, a^(L)) for one batch.

        `x` and `target` are checked (:meth:`check_X`, :meth:`check_y`), `grad_out` is an
        (m, n_out) buffer; every dJ/dtheta of J = data loss + :meth:`penalty` lands in
        :attr:`dtheta`, for the optimizer. With a loss the engine can fuse
        (:meth:`Loss.fused_step <neuronlab.losses.Loss.fused_step>`) the passes are one
        call into compiled code.
        """
        labels, r = self._targets(target)
        fused = self._engine_loss.fused_step(grad_out.shape[1], labels.shape[0] > 0)
        if fused:
            scale = self._engine_loss.batch_scale(x.shape[0])
            J_data = engine.step(x, labels, r, grad_out, *fused, scale) * scale
            out = engine.output[:x.shape[0]]
        else:
            out = engine.forward(x)
            J_data = self.loss_and_gradient_into(out, target, grad_out)
            engine.backward(grad_out)
        return self.regularize(J_data), J_data, out

    def _targets(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, r) as the loss kernels take them: one of the two is empty."""
        if self.is_classifier and target.ndim == 1:
            return target, self._no_rows
        return losses.NO_LABELS, target     # a regressor's targets, or a classifier's rows r

    # -- checking what the user hands in ---------------------------------------------------
    def check_X(self, X: Any, name: str = "X") -> np.ndarray:
        """`X` as the network computes with it: a finite (m, n_in) matrix of its dtype."""
        return check_samples(X, name, self.n_in, self.dtype, taken_by="the network's first layer")

    def check_y(self, y: Any, m: int, name: str = "y", x_name: str = "X") -> np.ndarray:
        """`y` as the network computes with it; m is the number of samples in `x_name`.

        A classifier's labels become class indices (intp), labels of any other kind are
        numbered by their place in :attr:`classes_`, and rows of class probabilities (one-hot
        or not) stay rows (see :mod:`neuronlab.targets`); a regressor's targets become rows
        (m, n_out) of its dtype.
        """
        if self.is_classifier:
            target, self.classes_ = class_targets(y, m, self.n_out, self.dtype, self.classes_, name, x_name)
            return target
        return regression_targets(y, m, self.n_out, self.dtype, name, x_name)

    # -- training (neuronlab.training) -------------------------------------------------------
    def fit(self, X: Any, y: Any, epochs: int = 10, batch_size: int = 32,
            optimizer: str | optim.Optimizer | None = None, validation_data: Any = None,
            validation_split: float = 0.0, shuffle: bool = True,
            early_stopping: EarlyStopping | int | None = None, progress: bool = True,
            diagnostics: bool = True, resume: bool = False) -> History:
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
            Kept (``self.optimizer``) so that :meth:`partial_fit` continues with it. With
            ``resume=True`` the default is ``self.optimizer``, as training left it.
        validation_data : (X_val, y_val), optional
        validation_split : float
            The fraction of (X, y), drawn at random, held out as validation data instead.
            It is drawn from the network's generator at the start of every call, so a
            resumed run holds out other samples than a run that never stopped: to
            resume exactly, give ``validation_data``.
        shuffle : bool
            A new order of the samples every epoch (seeded by the network's seed).
        early_stopping : EarlyStopping or int, optional
            An int is the patience of ``EarlyStopping(patience)``.
        progress : bool
            Show a progress bar (tqdm) with the epoch, loss and accuracy.
        diagnostics : bool
            Record the dead ReLU units, saturated units and gradient norms per epoch
            (see :class:`History`); this watches every step and costs a few percent.
        resume : bool, default False
            Go on with the training that ``self.optimizer`` and ``self.history`` describe,
            for instance after :meth:`load`: the optimizer keeps its momenta (or moments),
            step counts and the position of its learning-rate schedule, and the new epochs
            are appended to ``self.history`` (whose best_epoch, stopped_early and
            interrupted then say how this call ended). Three epochs, :meth:`save`,
            :meth:`load` and three more with ``resume=True`` give the weights and the
            history of six epochs in one call, bit for bit (with the same data,
            batch_size, shuffle, validation_data and diagnostics). Early stopping counts
            its patience from the start of the call. Without it every call starts a new
            History with the optimizer given (or a new SGD(0.01)); either way training
            starts from the weights as they are.

        Returns
        -------
        History
            Also kept as ``self.history``; with ``resume=True`` it holds the earlier epochs too.

        Raises
        ------
        ValueError
            Bad data (wrong sizes, NaN, labels out of range), before any work is done.
        FloatingPointError
            The loss became NaN or infinite; the weights are those of the last good epoch.
        """
        return training.fit(self, X, y, epochs, batch_size, optimizer, validation_data,
                            validation_split, shuffle, early_stopping, progress, diagnostics,
                            resume)

    def partial_fit(self, X: Any, y: Any, batch_size: int = 32,
                    optimizer: str | optim.Optimizer | None = None, shuffle: bool = True) -> History:
        """One more epoch on (X, y), continuing ``self.history`` and the last optimizer."""
        return training.partial_fit(self, X, y, batch_size, optimizer, shuffle)

    # -- using the trained network (neuronlab.evaluation) -----------------------------------
    def forward(self, X: Any) -> np.ndarray:
        """The network's output a^(L) for the samples X, in the current mode (a new array)."""
        X = self.check_X(X)
        out = self.engine(X.shape[0]).forward(X)
        return self.layers[-1].activation(out) if self.softmax_output else out.copy()

    __call__ = forward

    def predict(self, X: Any) -> np.ndarray:
        """Class indices (a classifier) or the predicted values (a regressor) for X."""
        return evaluation.predict(self, X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of every class for each sample (rows sum to 1): classifiers only,
        and not the hinge loss's, whose scores are not probabilities."""
        return evaluation.predict_proba(self, X)

    def score(self, X: Any, y: Any) -> float:
        """The accuracy (a classifier) or the coefficient of determination R^2 (a regressor).

        R^2 = 1 - sum (r - y)^2 / sum (r - mean r)^2 per output, averaged over the outputs.
        """
        return evaluation.score(self, X, y)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """{"loss": J, "data_loss": ..., "accuracy": ...} for a classifier, "r2" for a regressor.

        J = data loss + :meth:`penalty`, the objective training minimizes.
        """
        return evaluation.evaluate(self, X, y)

    # -- checking the back-propagation (neuronlab.gradcheck) -------------------------------------
    def gradcheck(self, X: Any, y: Any, eps: float = 1e-6, rtol: float = 1e-5,
                  atol: float = 1e-8) -> dict[str, _gradcheck.GradientCheck]:
        """Compare back-propagation's dJ/dtheta with central differences, for every parameter.

        J is the loss on (X, y) in training mode, as :meth:`fit` computes it. Needs float64
        layers. RReLU layers draw the same random slopes in every pass (their generator's
        state is reset each time). Returns name ("layer0.W", ...) ->
        :class:`~neuronlab.gradcheck.GradientCheck`.
        """
        return _gradcheck.check_network(self, X, y, eps, rtol, atol)

    # -- saving and loading (neuronlab.persistence) -------------------------------------------
    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (the weights are not included)."""
        return persistence.config(self)

    def save(self, path: str | os.PathLike, training_state: bool = True) -> None:
        """Write the weights and the architecture to one .npz file, atomically.

        The file holds plain arrays and a JSON string (``numpy.load(path,
        allow_pickle=False)`` reads it) and replaces `path` only once it is complete.
        With `training_state` it also holds where training stands: the optimizer and its
        state, the history and the random generators' states, so that after :meth:`load`
        ``fit(X, y, resume=True)`` goes on as if training had never stopped
        (:func:`~neuronlab.persistence.training_state_of`). An optimizer or a schedule of
        your own cannot be rebuilt from a file: that is a ValueError, and
        ``training_state=False`` saves the network without it.
        """
        persistence.save(self, path, training_state)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """A network saved by :meth:`save`; never unpickles anything.

        With the training state that :meth:`save` stores, the network has its
        ``optimizer``, ``history`` and random generators back: ``fit(X, y, resume=True)``
        goes on. Raises ValueError naming the file when it is truncated, not a network
        file, of an unknown format version, or has a training state that cannot be restored.
        """
        return persistence.load(cls, path)

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

