r"""The losses that add up one term per output, J_i = sum_k term(y_k, r_k): cross-entropy
of probabilities and NLL of log-probabilities (a classifier's), squared error and MSE (a
regressor's), and binary cross-entropy of independent yes/no outputs.

All of them run in one compiled kernel, ``pointwise_loss`` in ``_kernels/_losses.pyx``,
which takes the term by number. Squared error and MSE turn integer class labels into
one-hot rows r; cross-entropy and NLL use the labels directly (only the labelled output
has r = 1: one term per sample, ``picked_loss``).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _losses
from neuronlab.losses.base import Loss, one_hot


class _Pointwise(Loss):
    """A loss that adds up one term per output: J_i = factor * sum_k term(y_k, r_k)."""

    op: ClassVar[int]

    def _factor(self, k: int) -> float:
        return 1.0

    def _fused_step(self, k, labels):
        return None if labels else (_losses.LossFamily.POINTWISE, int(self.op), self._factor(k))

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        if labels.shape[0]:
            r = one_hot(labels, rows.shape[1], rows.dtype)
        return _losses.pointwise_loss(self.op, rows, r, grad, per_sample,
                                      self._factor(rows.shape[1]), scale, want_grad, want_rows,
                                      n_threads=get_num_threads())


class _Picked(_Pointwise):
    """With integer labels only the labelled output has r = 1: one term per sample."""

    def _fused_step(self, k, labels):
        return (_losses.LossFamily.PICKED, int(self.op), 1.0) if labels else super()._fused_step(k, labels)

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        if not labels.shape[0]:
            return super()._kernel(rows, labels, r, grad, per_sample, scale, want_grad, want_rows)
        return _losses.picked_loss(self.op, rows, labels, grad, per_sample, scale, want_grad,
                                   want_rows, n_threads=get_num_threads())


class CrossEntropy(_Picked):
    r"""Cross-entropy of probabilities y against r.

    .. math:: J_i = -\sum_k r_k \ln y_k, \qquad \frac{\partial J_i}{\partial y_k} = -\frac{r_k}{y_k}

    pred is y of shape (m, K), e.g. the output of a softmax layer; target is labels (m,)
    or rows r (m, K). Terms with r_k = 0 are 0 (also where y_k = 0). A y_k = 0 with
    r_k > 0 gives J = inf: for training prefer :class:`SoftmaxCrossEntropy` on the logits.
    """

    name = "cross_entropy"
    classifier = True
    op = _losses.PointwiseLoss.CROSS_ENTROPY
    formula = r"J = -\sum_{k=1}^{K} r_k \ln y_k"
    gradient_formula = r"\frac{\partial J}{\partial y_k} = -\frac{r_k}{y_k}"


class NegativeLogLikelihood(_Picked):
    r"""Negative log-likelihood of log-probabilities l = ln y (the course's J(theta)).

    .. math:: J_i = -\sum_k r_k l_k, \qquad \frac{\partial J_i}{\partial l_k} = -r_k

    For an integer label c the sum is -l_c. With reduction "mean",
    J = -(1/m) sum_i sum_k 1{y^(i) = k} ln softmax(theta_k^T x^(i)) when l is the
    log-softmax of the scores: the multinomial log-likelihood J(theta).
    pred is l of shape (m, K); target is labels (m,) or rows r (m, K).
    """

    name = "nll"
    classifier = True
    op = _losses.PointwiseLoss.NLL
    formula = r"J = -\sum_{k=1}^{K} r_k\, l_k, \quad l_k = \ln y_k"
    gradient_formula = r"\frac{\partial J}{\partial l_k} = -r_k"


class SquaredError(_Pointwise):
    r"""Half the squared error, the course's loss for regression.

    .. math:: J_i = \frac{1}{2} \sum_k (r_k - y_k)^2, \qquad
              \frac{\partial J_i}{\partial y_k} = y_k - r_k

    pred has shape (m, ...) with one sample per row; target has pred's shape, or is
    integer labels (m,) for a 2-d pred (then r is their one-hot encoding).
    """

    name = "squared_error"
    op = _losses.PointwiseLoss.SQUARED_ERROR
    needs_classes = False
    formula = r"J = \frac{1}{2} \sum_{k} (r_k - y_k)^2"
    gradient_formula = r"\frac{\partial J}{\partial y_k} = y_k - r_k"


class MeanSquaredError(SquaredError):
    r"""The mean of the squared errors over the K outputs of a sample.

    .. math:: J_i = \frac{1}{K} \sum_k (y_k - r_k)^2, \qquad
              \frac{\partial J_i}{\partial y_k} = \frac{2}{K} (y_k - r_k)

    With reduction "mean" this is the mean over all m K numbers, as in PyTorch's
    ``mse_loss``.
    """

    name = "mse"
    formula = r"J = \frac{1}{K} \sum_{k=1}^{K} (y_k - r_k)^2"
    gradient_formula = r"\frac{\partial J}{\partial y_k} = \frac{2}{K} (y_k - r_k)"

    def _factor(self, k):
        return 2.0 / k  # times the kernel's (y - r)^2 / 2


class BinaryCrossEntropy(_Pointwise):
    r"""Binary cross-entropy of independent yes/no outputs, summed over the outputs.

    .. math:: J_i = -\sum_k \bigl(r_k \ln y_k + (1 - r_k) \ln(1 - y_k)\bigr), \qquad
              \frac{\partial J_i}{\partial y_k} = \frac{y_k - r_k}{y_k (1 - y_k)}

    With ``from_logits=True`` pred is the logit z and y = sigma(z):

    .. math:: J_i = \sum_k \bigl(\ln(1 + e^{z_k}) - r_k z_k\bigr), \qquad
              \frac{\partial J_i}{\partial z_k} = \sigma(z_k) - r_k

    computed as max(z, 0) - r z + ln(1 + e^{-|z|}): exact for logits of any size.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
    from_logits : bool
        pred is z (True) or the probability y (False, default).

    Notes
    -----
    pred has shape (m, ...) and target (r in [0, 1]) the same shape.
    """

    name = "binary_cross_entropy"
    accepts_labels = False
    needs_classes = False

    def __init__(self, reduction: str = "mean", from_logits: bool = False):
        super().__init__(reduction)
        if not isinstance(from_logits, bool | np.bool_):
            raise TypeError(f"from_logits must be a bool, got {type(from_logits).__name__}")
        self.from_logits = bool(from_logits)

    @property
    def params(self):
        return {"reduction": self.reduction, "from_logits": self.from_logits}

    @property
    def op(self):
        if self.from_logits:
            return _losses.PointwiseLoss.BINARY_CROSS_ENTROPY_LOGITS
        return _losses.PointwiseLoss.BINARY_CROSS_ENTROPY

    @property
    def formula(self):
        if self.from_logits:
            return r"J = \sum_k \bigl(\ln(1 + e^{z_k}) - r_k z_k\bigr)"
        return r"J = -\sum_k \bigl(r_k \ln y_k + (1 - r_k) \ln(1 - y_k)\bigr)"

    @property
    def gradient_formula(self):
        if self.from_logits:
            return r"\frac{\partial J}{\partial z_k} = \sigma(z_k) - r_k"
        return r"\frac{\partial J}{\partial y_k} = \frac{y_k - r_k}{y_k (1 - y_k)}"

