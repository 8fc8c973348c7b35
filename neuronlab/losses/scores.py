r"""The losses of a classifier's raw scores z (an identity output layer): softmax
cross-entropy and the multiclass hinge.

Both compare the score z_c of a sample's class c with all the others, so each output's
gradient depends on the whole row of scores; each is one compiled kernel that works row by
row (``_kernels/_losses.pyx``). They are the two losses of one linear classifier: softmax
cross-entropy keeps pushing the right score up, the hinge stops once every wrong score is
at least the margin below it.
"""
from __future__ import annotations

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _losses
from neuronlab._validation import check_real
from neuronlab.losses.base import Loss


class SoftmaxCrossEntropy(Loss):
    r"""Cross-entropy of softmax(z) against r, from the logits z: the classifier's loss.

    .. math:: J_i = -\sum_{k=1}^{K} r_k \ln \operatorname{softmax}(z)_k
              = \Bigl(\sum_k r_k\Bigr) \ln \sum_{k} e^{z_k} - \sum_k r_k z_k

    .. math:: \frac{\partial J_i}{\partial z_k} = \operatorname{softmax}(z)_k \sum_j r_j - r_k

    which is y - r for a one-hot r (y = softmax(z)): the softmax's Jacobian and the
    log's 1/y cancel, and neither is ever computed. With reduction "mean" both are
    divided by m, the number of samples.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
    label_smoothing : float
        eps in [0, 1]: the target becomes (1 - eps) r + eps / K.

    Notes
    -----
    pred is z of shape (m, K); target is integer labels (m,) or rows r (m, K), usually
    probabilities. Computed with m = max z, so logits of any size are exact:
    J_i = ln sum_k e^{z_k - m} + (m - z_label).
    """

    name = "softmax_cross_entropy"
    classifier = True
    formula = r"J = -\sum_{k=1}^{K} r_k \ln \frac{e^{z_k}}{\sum_{j} e^{z_j}}"
    gradient_formula = r"\frac{\partial J}{\partial z_k} = y_k \sum_j r_j - r_k = y_k - r_k"

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.label_smoothing = check_real(label_smoothing, "label_smoothing", low=0.0, high=1.0)

    @property
    def params(self):
        return {"reduction": self.reduction, "label_smoothing": self.label_smoothing}

    def _fused_step(self, k, labels):
        return _losses.LossFamily.SOFTMAX_CE, 0, self.label_smoothing

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        return _losses.softmax_cross_entropy(rows, labels, r, grad, per_sample,
                                             self.label_smoothing, scale, want_grad, want_rows,
                                             n_threads=get_num_threads())


class MulticlassHinge(Loss):
    r"""The multiclass hinge loss of the scores z: the multiclass SVM's loss.

    For a sample of class c, every other class k whose score comes within the margin
    Delta of z_c (or passes it) adds its violation; the others add nothing:

    .. math:: J_i = \sum_{k=1}^{K} (1 - \delta_{kc}) \max(0, z_k - z_c + \Delta)

    .. math:: \frac{\partial J_i}{\partial z_k} = \begin{cases}
              1\{z_k - z_c + \Delta > 0\} & k \ne c \\
              -\sum_{j=1}^{K} (1 - \delta_{jc})\, 1\{z_j - z_c + \Delta > 0\} & k = c
              \end{cases}

    max(0, t) has no derivative at t = 0; this is a subgradient, and at a tie
    (z_k - z_c + Delta == 0 exactly) it takes the flat side: only strictly positive
    violations count. J_i = 0, and the gradient 0, once every wrong class is at least
    Delta below z_c, where softmax cross-entropy's y - r is never exactly 0. With reduction
    "mean" both are divided by m.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
    margin : float
        Delta > 0, how far below z_c the other scores must be to cost nothing.

    Notes
    -----
    pred is z of shape (m, K), unnormalized scores (an identity output layer); target is
    integer labels (m,) or one-hot rows (m, K): a row with anything but one 1 and K - 1
    zeros is refused. A NaN score makes its sample's loss NaN (as NumPy's maximum does),
    and that sample's gradient row NaN. A network trained with it predicts the class of
    the largest score; it has no probabilities (no predict_proba).
    """

    name = "hinge"
    classifier = True
    formula = r"J = \sum_{k=1}^{K} (1 - \delta_{kc}) \max(0, z_k - z_c + \Delta)"
    gradient_formula = (r"\frac{\partial J}{\partial z_k} = \begin{cases} "
                        r"1\{z_k - z_c + \Delta > 0\} & k \ne c \\ "
                        r"-\sum_{j=1}^{K} (1 - \delta_{jc})\, 1\{z_j - z_c + \Delta > 0\} & k = c "
                        r"\end{cases}")

    def __init__(self, reduction: str = "mean", margin: float = 1.0):
        super().__init__(reduction)
        self.margin = check_real(margin, "margin", low=0.0, low_open=True)

    @property
    def params(self):
        return {"reduction": self.reduction, "margin": self.margin}

    def _fused_step(self, k, labels):
        return (_losses.LossFamily.HINGE, 0, self.margin) if labels else None

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        if not labels.shape[0]:
            labels = _labels_of_one_hot(r)
        return _losses.hinge_loss(rows, labels, grad, per_sample, self.margin, scale, want_grad,
                                  want_rows, n_threads=get_num_threads())


def _labels_of_one_hot(r: np.ndarray, name: str = "target") -> np.ndarray:
    """The class of each row of r, which must hold exactly one 1 and zeros elsewhere."""
    ones = r == 1
    one_hot = (np.count_nonzero(ones, axis=1) == 1) & np.all(ones | (r == 0), axis=1)
    if not one_hot.all():
        i = int(np.argmin(one_hot))
        raise ValueError(f"{name} row {i} is not one-hot: the hinge loss takes integer class "
                         f"labels, or rows with a single 1 and zeros elsewhere; got {r[i].tolist()[:10]}"
                         + (" ..." if r.shape[1] > 10 else ""))
    return np.ascontiguousarray(np.argmax(ones, axis=1), dtype=np.intp)

