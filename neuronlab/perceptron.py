r"""The single neuron: Rosenblatt's perceptron and a neuron trained by gradient descent.

A neuron does three things to an input vector x (the course's 加权, 求和, 激励):

1. weighting:  every input is multiplied by its weight, w_i x_i;
2. summation:  the weighted inputs are added up with the bias, z = sum_i w_i x_i + b;
3. activation: the sum goes through f, a = f(z).

:class:`Perceptron` uses the binary step f(z) = 1 if z >= 0 else 0 and learns with
Rosenblatt's rule, which needs no derivative. :class:`LogisticNeuron` uses any
differentiable activation (sigmoid by default) and learns by gradient descent.

>>> import numpy as np
>>> import neuronlab as nl
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
>>> p = nl.Perceptron(2, seed=0).fit(X, [0, 0, 0, 1], epochs=20)   # AND
>>> p.converged, p.predict(X).tolist()
(True, [0, 0, 0, 1])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab import activations
from neuronlab._validation import check_binary_labels, check_count, check_real, check_samples, make_rng

__all__ = ["LogisticNeuron", "Perceptron"]


class _Neuron:
    """What both neurons share: weights, bias and the three stages of the forward pass."""

    activation: activations.Activation

    def __init__(self, n_inputs: int, learning_rate: float, seed: Any):
        self.n_inputs = check_count(n_inputs, "n_inputs")
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0.0, low_open=True)
        self.seed = seed
        self.rng = make_rng(seed)
        self.weights = np.zeros(self.n_inputs)
        self.bias = 0.0

    # -- the three stages -------------------------------------------------------------
    def weighting(self, X: Any) -> np.ndarray:
        """Stage 1: the weighted inputs w_i x_i, shape (m, n_inputs), one row per sample."""
        X = check_samples(X, "X", self.n_inputs)
        return X * self.weights

    def summation(self, weighted: np.ndarray) -> np.ndarray:
        """Stage 2: z = sum_i w_i x_i + b, shape (m,)."""
        return weighted.sum(axis=1) + self.bias

    def activate(self, z: np.ndarray) -> np.ndarray:
        """Stage 3: a = f(z)."""
        return self.activation(z)

    def net_input(self, X: Any) -> np.ndarray:
        """Stages 1 and 2 in one matrix-vector product: z = X w + b."""
        X = check_samples(X, "X", self.n_inputs)
        return X @ self.weights + self.bias

    def forward(self, X: Any) -> np.ndarray:
        """The neuron's output a = f(X w + b) for every row of X."""
        return self.activate(self.net_input(X))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_inputs={self.n_inputs}, "
                f"learning_rate={self.learning_rate}, seed={self.seed!r})")


class Perceptron(_Neuron):
    r"""Rosenblatt's perceptron: a binary step unit trained by the perceptron rule.

    For each training sample x with target t in {0, 1} and prediction
    y_hat = step(w . x + b), the rule is

    .. math::  w \leftarrow w + \eta\,(t - \hat y)\,x, \qquad b \leftarrow b + \eta\,(t - \hat y)

    so nothing changes when the prediction is right, and a wrong one moves the decision
    boundary towards the sample. On linearly separable data this reaches an epoch without
    a single mistake (the perceptron convergence theorem); on data that is not separable
    (XOR) it never does, and runs every epoch it is given.

    Parameters
    ----------
    n_inputs : int
        The number of inputs, the length of x.
    learning_rate : float, default 1.0
        eta > 0. Starting from zero weights, eta only scales w and b, so it does not
        change any prediction; it matters when the weights start elsewhere.
    seed : int, numpy.random.Generator or None
        Seeds the order in which :meth:`fit` visits the samples in each epoch.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs,)
        w, starting at zero.
    bias : float
        b, starting at zero.
    converged : bool
        Whether the last :meth:`fit` had an epoch with no mistake (it stops there).
    mistakes : list of int
        The number of misclassified samples in each epoch that was run.
    """

    def __init__(self, n_inputs: int, learning_rate: float = 1.0, seed: Any = None):
        super().__init__(n_inputs, learning_rate, seed)
        self.activation = activations.get("binary_step")
        self.converged = False
        self.mistakes: list[int] = []

    def fit(self, X: Any, y: Any, epochs: int = 100, shuffle: bool = True) -> Perceptron:
        """Apply the perceptron rule sample by sample for up to `epochs` passes over X.

        Stops after the first epoch with no mistake. Returns self. A second call goes on
        from the current weights; :attr:`mistakes` and :attr:`converged` describe that call.
        """
        X = check_samples(X, "X", self.n_inputs).astype(np.float64, copy=False)
        t = check_binary_labels(y, X.shape[0])
        epochs = check_count(epochs, "epochs")
        eta = self.learning_rate
        w = self.weights  # updated in place: the attribute is the same array
        self.mistakes = []
        self.converged = False
        order = np.arange(X.shape[0])
        for _ in range(epochs):
            if shuffle:
                self.rng.shuffle(order)
            mistakes = 0
            for i in order:
                x = X[i]
                y_hat = 1.0 if x @ w + self.bias >= 0.0 else 0.0  # step(z), f(0) = 1
                error = t[i] - y_hat                               # t - y_hat, in {-1, 0, 1}
                if error != 0.0:
                    w += eta * error * x                           # w <- w + eta (t - y_hat) x
                    self.bias += eta * error                       # b <- b + eta (t - y_hat)
                    mistakes += 1
            self.mistakes.append(mistakes)
            if mistakes == 0:
                self.converged = True
                break
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The class 0 or 1 of every row of X (int64)."""
        return self.forward(X).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """The fraction of rows of X classified as `y`."""
        X = check_samples(X, "X", self.n_inputs)
        return float(np.mean(self.predict(X) == check_binary_labels(y, X.shape[0])))


class LogisticNeuron(_Neuron):
    r"""A single neuron a = f(w . x + b) with a differentiable f, trained by gradient descent.

    With the default sigmoid and ``loss="binary_cross_entropy"`` this is logistic regression.
    Over a batch of m samples the loss and its error signal delta = dJ/dz are

    - ``"squared_error"``:  J = 1/(2m) sum (a - t)^2,   delta = (a - t) f'(z) / m
    - ``"binary_cross_entropy"``:  J = -1/m sum [t ln a + (1 - t) ln(1 - a)] (sigmoid only),
      delta = (a - t) / m: the sigmoid's f'(z) = a(1 - a) cancels the loss's denominator.

    and the gradient step is w <- w - eta X^T delta, b <- b - eta sum(delta).

    Parameters
    ----------
    n_inputs : int
    activation : str or Activation, default "sigmoid"
        Any activation from :mod:`neuronlab.activations` with a useful derivative.
    learning_rate : float, default 0.5
    loss : {"binary_cross_entropy", "squared_error"}, default: binary_cross_entropy for sigmoid, else
        squared_error.
    seed : int, numpy.random.Generator or None
        Seeds the small random starting weights and the mini-batch order.

    Attributes
    ----------
    weights, bias
    losses : list of float
        J over the whole training set after each epoch.
    """

    def __init__(self, n_inputs: int, activation: str | activations.Activation = "sigmoid",
                 learning_rate: float = 0.5, loss: str | None = None, seed: Any = None,
                 **activation_params: Any):
        super().__init__(n_inputs, learning_rate, seed)
        self.activation = activations.get(activation, **activation_params)
        if self.activation.name == "binary_step":
            raise ValueError("activation binary_step has f'(z) = 0 wherever it is defined: "
                             "gradient descent cannot train it; use Perceptron")
        is_sigmoid = self.activation.name == "sigmoid"
        # The names mean what they mean in nl.losses: one neuron's cross-entropy is the
        # binary one; "cross_entropy" there is the categorical loss of K outputs.
        loss = ("binary_cross_entropy" if is_sigmoid else "squared_error") if loss is None else loss
        if loss not in ("binary_cross_entropy", "squared_error"):
            hint = ("; one neuron's cross-entropy is 'binary_cross_entropy' ('cross_entropy' is the "
                    "loss of K outputs)" if loss == "cross_entropy" else "")
            raise ValueError(f"loss must be 'binary_cross_entropy' or 'squared_error', got {loss!r}{hint}")
        if loss == "binary_cross_entropy" and not is_sigmoid:
            raise ValueError("loss 'binary_cross_entropy' needs outputs in (0, 1): use it with "
                             f"activation='sigmoid', not {self.activation.name!r}")
        self.loss = loss
        # Small random weights: zero would also work for one neuron, but this is the
        # habit networks need (identical units stay identical otherwise).
        self.weights = self.rng.normal(0.0, 0.01, self.n_inputs)
        self.losses: list[float] = []

    def loss_and_delta(self, X: Any, y: Any) -> tuple[float, np.ndarray]:
        """J on the batch (X, y) and delta = dJ/dz, one entry per sample."""
        X = check_samples(X, "X", self.n_inputs)
        t = check_binary_labels(y, X.shape[0])
        z = X @ self.weights + self.bias
        a = self.activation(z)
        m = X.shape[0]
        if self.loss == "binary_cross_entropy":
            # ln a = -softplus(-z) and ln(1 - a) = -softplus(z): exact for any z,
            # where ln(sigmoid(z)) would give -inf once sigmoid(z) rounds to 0.
            J = np.mean(t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z))
            delta = (a - t) / m
        else:
            J = 0.5 * np.mean((a - t) ** 2)
            delta = self.activation.backward(z, (a - t) / m)   # f'(z) (a - t) / m, fused
        return float(J), delta

    def fit(self, X: Any, y: Any, epochs: int = 100,
            batch_size: int | None = None) -> LogisticNeuron:
        """Gradient descent for `epochs` passes; full batch unless `batch_size` is given."""
        X = check_samples(X, "X", self.n_inputs).astype(np.float64, copy=False)
        t = check_binary_labels(y, X.shape[0])
        epochs = check_count(epochs, "epochs")
        m = X.shape[0]
        batch_size = m if batch_size is None else min(check_count(batch_size, "batch_size"), m)
        order = np.arange(m)
        for _ in range(epochs):
            if batch_size < m:
                self.rng.shuffle(order)
            for start in range(0, m, batch_size):
                rows = order[start:start + batch_size]
                _, delta = self.loss_and_delta(X[rows], t[rows])
                self.weights -= self.learning_rate * (X[rows].T @ delta)   # dJ/dw = X^T delta
                self.bias -= self.learning_rate * float(delta.sum())      # dJ/db = sum delta
            self.losses.append(self.loss_and_delta(X, t)[0])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The neuron's output a for every row of X."""
        return self.forward(X)

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """Class 1 where a >= `threshold`, else 0 (int64)."""
        threshold = check_real(threshold, "threshold")
        return (self.forward(X) >= threshold).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """The fraction of rows of X classified as `y`."""
        X = check_samples(X, "X", self.n_inputs)
        return float(np.mean(self.predict(X) == check_binary_labels(y, X.shape[0])))
