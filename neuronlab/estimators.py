r"""scikit-learn estimators in front of a :class:`~neuronlab.network.Network`.

:class:`MLPClassifier` and :class:`MLPRegressor` take their parameters by
scikit-learn's names (``hidden_layer_sizes``, ``activation``, ``alpha``, ...), build a
network of dense layers in :meth:`fit` and train it with :meth:`Network.fit
<neuronlab.network.Network.fit>`. They are ordinary scikit-learn estimators, so
:func:`~sklearn.base.clone`, :class:`~sklearn.pipeline.Pipeline`,
:func:`~sklearn.model_selection.cross_val_score` and
:class:`~sklearn.model_selection.GridSearchCV` work with them, and both pass
:func:`sklearn.utils.estimator_checks.check_estimator`.

They need scikit-learn (``pip install scikit-learn``, or ``pip install
'neuronlab[sklearn]'``). This module imports without it, but making an estimator then
raises ImportError; ``import neuronlab`` never imports scikit-learn: ``nl.estimators``
is imported the first time it is used.

>>> import neuronlab as nl
>>> X, y = nl.datasets.blobs(200, n_classes=3, seed=0)
>>> clf = nl.estimators.MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01,
...                                    random_state=0)
>>> clf.fit(X, y).score(X, y) > 0.9
True

How the parameters map onto the network, and where they differ from scikit-learn's
``MLPClassifier``:

- The output layer has one identity unit per class (also for two classes), trained with
  softmax cross-entropy; :meth:`MLPClassifier.predict_proba` is the softmax of the outputs.
- ``alpha`` means what it does in scikit-learn: each mini-batch of m samples adds
  :math:`\frac{\alpha}{2m} \sum_l \lVert W^{(l)} \rVert^2` to its mean loss, so the
  network's ``l2`` is ``alpha / batch_size``.
- ``loss="squared_error"`` (the regressor's default) is half the squared error summed
  over the outputs: scikit-learn's loss for one output; for k outputs scikit-learn also
  divides by k.
- ``early_stopping=True`` holds out ``validation_fraction`` of the samples, stops when
  the validation loss has not improved for ``n_iter_no_change`` epochs and restores the
  best epoch's weights (scikit-learn watches the validation score). Without it every fit
  runs ``max_iter`` epochs: there is no ``tol``.
- Only the stochastic optimizers of :mod:`neuronlab.optim` (no L-BFGS), no
  ``sample_weight``, no sparse input, no ``warm_start``.
"""
from __future__ import annotations

import copy
import numbers
import os
import tempfile
from typing import Any

import numpy as np

from neuronlab import evaluation, optim
from neuronlab._validation import check_count, check_real
from neuronlab.layers import Layer
from neuronlab.network import Network
from neuronlab.training import EarlyStopping

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
except ImportError:  # the module imports; making an estimator says what to install
    class BaseEstimator:
        def __new__(cls, *args: Any, **kwargs: Any):
            raise ImportError(f"{cls.__name__} is a scikit-learn estimator and needs scikit-learn: "
                              "install it with `pip install scikit-learn` or "
                              "`pip install 'neuronlab[sklearn]'`")

    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    HAVE_SKLEARN = False
else:
    HAVE_SKLEARN = True

__all__ = ["MLPClassifier", "MLPRegressor"]


def _validate_data(estimator: Any, X: Any, y: Any = "no_validation", reset: bool = True,
                   **check_params: Any) -> Any:
    """scikit-learn's validate_data (>= 1.6), or the method it replaced."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:                                  # scikit-learn < 1.6
        return estimator._validate_data(X, y, reset=reset, **check_params)
    return validate_data(estimator, X, y, reset=reset, **check_params)


def _network_bytes(network: Network) -> bytes:
    """The network as the bytes of its .npz file (:meth:`Network.save`): how it pickles."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "network.npz")
        try:
            network.save(path)
        except ValueError:          # an optimizer of one's own: keep the weights only
            network.save(path, training_state=False)
        with open(path, "rb") as f:
            return f.read()


def _network_from_bytes(data: bytes) -> Network:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "network.npz")
        with open(path, "wb") as f:
            f.write(data)
        return Network.load(path)


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the parameters, the network, training."""

    _default_loss = "squared_error"

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 alpha: float = 0.0001, batch_size: int | str = 32,
                 learning_rate_init: float = 0.001, max_iter: int = 200, momentum: float = 0.9,
                 optimizer: str | optim.Optimizer = "adam", loss: str | None = None,
                 random_state: Any = None, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 shuffle: bool = True, verbose: bool = False, dtype: Any = np.float64):
        # scikit-learn's rule: store the parameters as given; fit checks and uses them
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.momentum = momentum
        self.optimizer = optimizer
        self.loss = loss
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.verbose = verbose
        self.dtype = dtype

    # -- the pieces fit builds from the parameters ------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = [sizes]
        if not isinstance(sizes, (tuple, list)):
            raise TypeError(f"hidden_layer_sizes must be a tuple of layer sizes, got {type(sizes).__name__}")
        return [check_count(n, f"hidden_layer_sizes[{i}]") for i, n in enumerate(sizes)]

    def _batch_size(self, m: int) -> int:
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ValueError(f"batch_size must be a positive integer or 'auto', got {self.batch_size!r}")
            return min(200, m)
        return min(check_count(self.batch_size, "batch_size"), m)

    def _check_training(self) -> None:
        """The parameters that only training reads, checked before a network is made."""
        check_count(self.max_iter, "max_iter")
        check_real(self.learning_rate_init, "learning_rate_init", low=0.0, low_open=True)
        if self.early_stopping:
            check_count(self.n_iter_no_change, "n_iter_no_change", low=0)
            fraction = check_real(self.validation_fraction, "validation_fraction", low=0.0, low_open=True)
            if fraction >= 1:
                raise ValueError(f"validation_fraction must be < 1 (the rest is trained on), got {fraction}")

    def _seed(self) -> Any:
        """The network's seed: an int or a Generator as they are; a RandomState draws one."""
        state = self.random_state
        if isinstance(state, np.random.RandomState):
            return int(state.randint(np.iinfo(np.int32).max))
        return state

    def _make_optimizer(self) -> optim.Optimizer:
        if isinstance(self.optimizer, optim.Optimizer):
            return copy.deepcopy(self.optimizer)     # fit must not change a parameter
        if isinstance(self.optimizer, str) and self.optimizer.lower() == "sgd":
            return optim.SGD(self.learning_rate_init, momentum=self.momentum)
        return optim.get(self.optimizer, learning_rate=self.learning_rate_init)

    def _build(self, n_in: int, n_out: int, m: int) -> None:
        """A new network_ for n_in features and n_out outputs, trained with batches for m samples."""
        sizes = [n_in, *self._hidden_sizes(), n_out]
        activations = [self.activation] * (len(sizes) - 2) + ["identity"]
        layers = [Layer(a, b, f, dtype=self.dtype)
                  for a, b, f in zip(sizes[:-1], sizes[1:], activations, strict=True)]
        loss = self._default_loss if self.loss is None else self.loss
        self._batch = self._batch_size(m)
        alpha = check_real(self.alpha, "alpha", low=0.0)
        self._check_training()
        self._make_optimizer()          # a bad name is reported before anything changes
        # scikit-learn's penalty is alpha / (2 m) ||W||^2 for a batch of m samples
        self.network_ = Network(layers, loss=loss, l2=alpha / self._batch, seed=self._seed())

    def _train(self, X: np.ndarray, target: np.ndarray) -> None:
        """max_iter epochs (fewer when stopping early) of the network on checked data."""
        network = self.network_
        early, split = None, 0.0
        if self.early_stopping:
            early = EarlyStopping(patience=self.n_iter_no_change)
            split = self.validation_fraction
        network.fit(X, target, epochs=self.max_iter, batch_size=self._batch,
                    optimizer=self._make_optimizer(), validation_split=split,
                    shuffle=self.shuffle, early_stopping=early, progress=bool(self.verbose),
                    diagnostics=False)
        self._record()

    def _train_one_epoch(self, X: np.ndarray, target: np.ndarray, first: bool) -> None:
        optimizer = self._make_optimizer() if first else None
        self.network_.partial_fit(X, target, batch_size=self._batch_size(X.shape[0]),
                                  optimizer=optimizer, shuffle=self.shuffle)
        self._record()

    def _record(self) -> None:
        history = self.network_.history
        self.loss_curve_ = list(history.loss)
        self.loss_ = self.loss_curve_[-1]
        self.n_iter_ = len(self.loss_curve_)

    def _outputs(self, X: Any) -> np.ndarray:
        """a^(L) for X, checked against what fit saw."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.dtype(self.dtype))
        return evaluation.outputs(self.network_, np.ascontiguousarray(X))

    # -- pickling: a network holds compiled engines, so it travels as its saved file -------------
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        if isinstance(state.get("network_"), Network):
            state["network_"] = _network_bytes(state["network_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if isinstance(state.get("network_"), bytes):
            state["network_"] = _network_from_bytes(state["network_"])
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier: scikit-learn's interface, a neuronlab network.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        The units of each hidden layer.
    activation : str, default "relu"
        The hidden units' activation, any name of :func:`neuronlab.activations.available`.
    alpha : float, default 0.0001
        The L2 penalty, as in scikit-learn: the network's ``l2`` is ``alpha / batch_size``.
    batch_size : int or "auto", default 32
        Samples per mini-batch; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default 0.001
        The optimizer's learning rate.
    max_iter : int, default 200
        Epochs of training.
    momentum : float, default 0.9
        The momentum of ``optimizer="sgd"`` (ignored by the others).
    optimizer : str or Optimizer, default "adam"
        "sgd", "adagrad", "rmsprop" or "adam" (:mod:`neuronlab.optim`), or an optimizer
        object, which each fit copies (its own learning rate counts).
    loss : str, default "softmax_cross_entropy"
        A classification loss of :mod:`neuronlab.losses`.
    random_state : int, numpy Generator, RandomState or None
        The network's seed: it draws the weights and shuffles the samples, so one
        random_state gives bit-identical predictions.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the samples and stop when their loss has not
        improved for ``n_iter_no_change`` epochs, with the best epoch's weights.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    shuffle : bool, default True
        A new order of the samples every epoch.
    verbose : bool, default False
        A progress bar.
    dtype : float64 or float32, default float64
        The network's numbers.

    Attributes
    ----------
    classes_ : ndarray
        The labels, sorted (:func:`numpy.unique`); output unit k stands for ``classes_[k]``.
    network_ : Network
        The trained network, with its ``history``.
    n_features_in_ : int
    n_iter_ : int
        Epochs run.
    loss_ : float
        The training loss of the last epoch (with the penalty).
    loss_curve_ : list of float
        The training loss of every epoch.
    """

    _default_loss = "softmax_cross_entropy"

    def _labels(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.utils.multiclass import check_classification_targets

        X, y = _validate_data(self, X, y, reset=reset, dtype=np.dtype(self.dtype))
        check_classification_targets(y)
        return np.ascontiguousarray(X), y

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a new network on the samples X and their labels y (any sortable labels)."""
        X, y = self._labels(X, y, reset=True)
        self.classes_, target = np.unique(y, return_inverse=True)
        # one class makes one output, whose softmax is always 1: it predicts that class
        self._build(X.shape[1], len(self.classes_), X.shape[0])
        self._train(X, target.reshape(-1))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch on (X, y); the first call needs every label there will be in `classes`."""
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit: "
                             "the network needs one output per class")
        X, y = self._labels(X, y, reset=first)
        if first:
            self.classes_ = np.unique(np.asarray(classes))
            self._build(X.shape[1], len(self.classes_), X.shape[0])
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes {np.unique(np.asarray(classes))} differ from the "
                             f"classes of the first partial_fit call, {self.classes_}")
        target = np.searchsorted(self.classes_, y)
        unknown = (target >= len(self.classes_)) | (self.classes_[np.minimum(target, len(self.classes_) - 1)] != y)
        if np.any(unknown):
            raise ValueError(f"y holds labels that are not in classes: {np.unique(y[unknown])}")
        self._train_one_epoch(X, target, first)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class (columns in the order of ``classes_``); rows sum to 1."""
        from neuronlab.softmax import softmax

        out = self._outputs(X)
        if self.network_.loss.name == "softmax_cross_entropy":
            return softmax(out)
        return np.exp(out) if self.network_.loss.name == "nll" else out

    def predict(self, X: Any) -> np.ndarray:
        """The label of the largest output for each sample of X."""
        out = self._outputs(X)      # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(out, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor: scikit-learn's interface, a neuronlab network.

    The parameters and attributes are those of :class:`MLPClassifier` (without
    ``classes_``), except ``loss``: a regression loss of :mod:`neuronlab.losses`, by
    default "squared_error", :math:`\\frac{1}{2} \\sum_k (r_k - y_k)^2` per sample. One
    output unit per column of y; :meth:`predict` returns shape (n_samples,) for one
    output and (n_samples, k) for k, as scikit-learn's ``MLPRegressor`` does.
    """

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = _validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                              dtype=np.dtype(self.dtype))
        r = np.asarray(y, dtype=np.dtype(self.dtype))
        return np.ascontiguousarray(X), np.ascontiguousarray(r.reshape(r.shape[0], -1))

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train a new network on the samples X and the targets y, shape (n,) or (n, k)."""
        X, r = self._targets(X, y, reset=True)
        self._build(X.shape[1], r.shape[1], X.shape[0])
        self._train(X, r)
        return self

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on (X, y); the first call builds the network."""
        first = not hasattr(self, "network_")
        X, r = self._targets(X, y, reset=first)
        if first:
            self._build(X.shape[1], r.shape[1], X.shape[0])
        self._train_one_epoch(X, r, first)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs for X: shape (n_samples,) for one output."""
        out = self._outputs(X)
        return out[:, 0].copy() if out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict[str, Any]:          # scikit-learn < 1.6
        return {"multioutput": True}
