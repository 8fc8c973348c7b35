r"""Losses: how far the network's output y is from the target r, and the gradient dJ/dy.

Every loss object has the same methods, each one fused compiled pass over the data:

===================================  =============================================
``loss(pred, target)``               J, reduced over the samples
``gradient(pred, target)``           dJ/dpred, the shape of pred
``loss_and_gradient(pred, target)``  both at once (what training uses)
===================================  =============================================

``reduction`` says how the per-sample losses J_i of the m samples (the rows of pred)
combine: ``"mean"`` (default) J = (1/m) sum_i J_i, ``"sum"`` J = sum_i J_i, ``"none"``
the vector (J_1, ..., J_m), whose "gradient" is that of each J_i (not scaled).

>>> import numpy as np
>>> import neuronlab as nl
>>> loss = nl.losses.SoftmaxCrossEntropy()
>>> z = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
>>> J, dz = loss.loss_and_gradient(z, np.array([0, 2]))
>>> round(J, 6)
0.669079
>>> dz  # (softmax(z) - r) / m
array([[-0.10650698,  0.05325349,  0.05325349],
       [ 0.16666667,  0.16666667, -0.33333333]])

Targets: the classification losses (softmax cross-entropy, the multiclass hinge,
cross-entropy, NLL, and squared error / MSE, which one-hot encode) take either integer
class labels of shape (m,) or rows r of shape (m, K) like pred (one-hot rows for the
hinge). Labels are checked before any kernel runs. pred keeps its dtype (float32 or
float64); the target is converted to it.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neuronlab._config import get_num_threads
from neuronlab._kernels import _losses
from neuronlab._registry import Registry
from neuronlab._validation import as_array, as_float_array, check_real

__all__ = [
    "NO_LABELS",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Loss",
    "MeanSquaredError",
    "MulticlassHinge",
    "NegativeLogLikelihood",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "available",
    "get",
    "register",
    "unregister",
]

REDUCTIONS = ("mean", "sum", "none")
#: The `labels` of :meth:`Loss.loss_and_gradient_into` when the target is given as rows r.
NO_LABELS = np.empty(0, dtype=np.intp)
_NO_ROWS = {np.dtype(t): np.empty(0, t) for t in (np.float32, np.float64)}


class Loss:
    """Base class: a loss J(pred, target) with its gradient, computed by compiled kernels.

    A loss of your own sets ``name`` and defines ``loss(self, y, r)``, one value per sample
    (an array of shape (m,)), and ``gradient(self, y, r)``, the gradient of each sample's
    loss with respect to its outputs (the shape of y), both in NumPy. The target r arrives
    as rows like y: a classifier's (``classifier = True``) integer labels become one-hot
    rows first. The base class reduces them as ``reduction`` says, and a network trains
    with it as with a built-in loss (:meth:`compiled` tells which one runs).

    Attributes
    ----------
    name : str
        The registry name, ``neuronlab.losses.get(name)``.
    formula, gradient_formula : str
        The per-sample loss J_i and its gradient in LaTeX, as the textbook shows them.
    accepts_labels : bool
        The target may be integer class labels of shape (m,).
    classifier : bool
        A network trained with this loss is a classifier: its targets are class labels, and
        it predicts the class of the largest output.
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"``.

    """

    name: ClassVar[str]
    formula: ClassVar[str] = ""
    gradient_formula: ClassVar[str] = ""
    accepts_labels: ClassVar[bool] = True
    classifier: ClassVar[bool] = False
    needs_classes: ClassVar[bool] = True  # pred must be (m, K)

    def __init__(self, reduction: str = "mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    @property
    def params(self) -> dict[str, Any]:
        return {"reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.params == other.params

    __hash__ = None

    def compiled(self) -> bool:
        """Whether compiled kernels compute this loss; False for a class that defines its own
        ``loss`` or ``gradient`` (a student's, or a subclass of a built-in that changes one),
        which then runs everywhere, in training too."""
        cls = type(self)
        return (cls._kernel is not Loss._kernel and cls.loss is Loss.loss
                and cls.gradient is Loss.gradient)

    # -- the public methods ----------------------------------------------------------
    def loss(self, pred: Any, target: Any) -> float | np.ndarray:
        """J: a float for reduction "mean" and "sum", the (m,) per-sample losses for "none"."""
        return self._compute(pred, target, want_grad=False)[0]

    __call__ = loss

    def gradient(self, pred: Any, target: Any) -> np.ndarray:
        """dJ/dpred, an array of pred's shape and dtype."""
        return self._compute(pred, target, want_grad=True)[1]

    def loss_and_gradient(self, pred: Any, target: Any) -> tuple[float | np.ndarray, np.ndarray]:
        """(J, dJ/dpred) from one pass over the data."""
        if not self.compiled():
            pred = as_float_array(pred, "pred")
            labels, r = self._targets(self._as_rows(pred), pred.shape, target)
            grad = np.empty_like(pred)
            J = self.loss_and_gradient_into(pred, labels, r, grad)
            return J, grad
        return self._compute(pred, target, want_grad=True)

    # -- for a network's training step ------------------------------------------------
    def batch_scale(self, m: int) -> float:
        """J = scale * (the sum of a batch's m per-sample losses): 1/m for "mean", else 1."""
        return 1.0 / m if self.reduction == "mean" else 1.0

    def loss_and_gradient_into(self, pred: np.ndarray, labels: np.ndarray, r: np.ndarray,
                               grad: np.ndarray) -> float:
        """J of a batch with dJ/dpred written into `grad`, in one compiled pass and unchecked.

        For a training loop that checked its data once: pred and grad are C-contiguous
        (m, K) arrays of one float dtype; the target is either `labels`, checked by
        :func:`check_labels` (then `r` is an empty (0, K) array), or rows `r` like pred
        (then `labels` is :data:`NO_LABELS`). J is :meth:`batch_scale` times the sum of
        the per-sample losses (their mean, or their sum for "sum" and "none").
        """
        scale = self.batch_scale(pred.shape[0])
        if not self.compiled():
            return self._in_python(pred, labels, r, grad, scale)
        # the per-sample losses are not needed here: an empty array, made once per dtype
        return self._kernel(pred, labels, r, grad, _NO_ROWS[pred.dtype], scale, True, False) * scale

    def fused_step(self, k: int, labels: bool) -> tuple[int, int, float] | None:
        """How a network's compiled step fuses this loss into its passes, for k outputs and
        integer labels (or target rows): (family, op, parameter) as ``DenseStack.step``
        takes them, or None (the step then calls :meth:`loss_and_gradient_into`)."""
        return self._fused_step(k, labels) if self.compiled() else None

    def _fused_step(self, k: int, labels: bool) -> tuple[int, int, float] | None:
        return None

    def _in_python(self, pred: np.ndarray, labels: np.ndarray, r: np.ndarray, grad: np.ndarray,
                   scale: float) -> float:
        """J and dJ/dpred from a ``loss`` and ``gradient`` written in Python."""
        if labels.shape[0]:
            r = _one_hot(labels, pred.shape[1], pred.dtype)
        name = type(self).__name__
        per_sample = np.asarray(self.loss(pred, r))
        if per_sample.shape != (pred.shape[0],):
            raise ValueError(f"{name}.loss returned shape {per_sample.shape} for {pred.shape[0]} "
                             f"samples; it must return one value per sample, shape ({pred.shape[0]},)")
        g = np.asarray(self.gradient(pred, r))
        if g.shape != pred.shape:
            raise ValueError(f"{name}.gradient returned shape {g.shape}; expected pred's shape {pred.shape}")
        np.multiply(g, scale, out=grad, casting="same_kind")
        return float(per_sample.sum()) * scale

    # -- plumbing --------------------------------------------------------------------
    def _compute(self, pred, target, want_grad):
        pred = as_float_array(pred, "pred")
        shape = pred.shape
        rows = self._as_rows(pred)
        m = rows.shape[0]
        labels, r = self._targets(rows, shape, target)
        want_rows = self.reduction == "none"
        grad = np.empty(rows.shape if want_grad else (0, 0), rows.dtype)
        per_sample = np.empty(m if want_rows else 0, rows.dtype)
        scale = self.batch_scale(m)
        total = self._kernel(rows, labels, r, grad, per_sample, scale, want_grad, want_rows)
        loss = per_sample if want_rows else total * scale
        return loss, (grad.reshape(shape) if want_grad else None)

    def _as_rows(self, pred: np.ndarray) -> np.ndarray:
        if self.needs_classes:
            if pred.ndim != 2:
                raise ValueError(f"pred must be 2-d, (samples, classes); got shape {pred.shape}")
        elif pred.ndim == 0:
            raise ValueError("pred must have at least one dimension (samples, ...), got a scalar")
        if pred.shape[0] == 0:
            raise ValueError(f"pred has no samples: shape {pred.shape}")
        rows = pred.reshape(pred.shape[0], -1)
        if rows.shape[1] == 0:
            raise ValueError(f"pred has no outputs per sample: shape {pred.shape}")
        return rows

    def _targets(self, rows: np.ndarray, shape: tuple[int, ...], target: Any):
        """(labels, r): intp labels or an empty array, and target rows (or an empty array)."""
        arr = as_array(target, "target")
        if self.accepts_labels and len(shape) == 2 and arr.ndim == 1:
            return check_labels(arr, rows.shape[0], rows.shape[1]), rows[:0]
        if arr.shape != shape:
            expected = (f"integer labels of shape ({shape[0]},) or " if self.accepts_labels
                        and len(shape) == 2 else "")
            raise ValueError(f"target has shape {arr.shape}; expected {expected}an array of "
                             f"pred's shape {shape}")
        r = as_float_array(arr, "target", rows.dtype).reshape(rows.shape)
        return NO_LABELS, r

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        raise NotImplementedError


def check_labels(labels: np.ndarray, m: int, k: int, name: str = "target") -> np.ndarray:
    """Integer class labels in 0..k-1, one per sample, as a C-contiguous intp array.

    Every check a compiled kernel relies on to index safely: the kernels use the labels
    without bounds checks.
    """
    if labels.shape != (m,):
        raise ValueError(f"{name} has {labels.shape[0]} labels but pred has {m} samples")
    kind = labels.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} holds bools; class labels must be integers: pass "
                        f"{name}.astype(int)")
    if kind not in "iuf":
        fix = (f": np.unique({name}, return_inverse=True)[1] numbers the classes 0, 1, ..."
               if kind in "US" else "")
        raise TypeError(f"{name} has dtype {labels.dtype}; class labels must be integers{fix}")
    if kind == "f":
        bad = ~np.isfinite(labels)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name} holds a non-finite label {labels[i]} at index {i}")
        fractional = labels != np.floor(labels)
        if fractional.any():
            i = int(np.argmax(fractional))
            raise ValueError(f"{name} holds a fractional label {labels[i]} at index {i}; "
                             "class labels must be whole numbers")
    if m:
        low, high = int(np.argmin(labels)), int(np.argmax(labels))
        if labels[low] < 0:
            raise ValueError(f"{name} holds a negative label {labels[low]} at index {low}; "
                             f"class labels are 0..{k - 1}")
        if labels[high] >= k:
            # labels 1..k are the classes counted from 1
            fix = "; counted from 1? subtract 1" if labels[high] == k and labels[low] >= 1 else ""
            raise ValueError(f"{name} holds the label {labels[high]} at index {high}, out of "
                             f"range for {k} classes (0..{k - 1}){fix}")
    return np.ascontiguousarray(labels, dtype=np.intp)


def _one_hot(labels: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    r = np.zeros((labels.shape[0], k), dtype)
    r[np.arange(labels.shape[0]), labels] = 1
    return r


# ----------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------
_REGISTRY = Registry("loss", "a string or a Loss", base=Loss)


def register(cls: type[Loss]) -> type[Loss]:
    """Add a loss class to the registry under ``cls.name``."""
    return _REGISTRY.register(cls)


def unregister(name: str) -> None:
    """Remove a loss from the registry, e.g. a class of your own registered while experimenting."""
    _REGISTRY.unregister(name)


def available() -> list[str]:
    """Every registered loss name, sorted."""
    return _REGISTRY.available()


def get(name: str | Loss, **params: Any) -> Loss:
    """The loss called `name`, made with `params`; a :class:`Loss` passes through.

    >>> get("softmax_cross_entropy", label_smoothing=0.1)
    SoftmaxCrossEntropy(reduction='mean', label_smoothing=0.1)
    """
    return _REGISTRY.get(name, **params)


# ----------------------------------------------------------------------------------------
# The losses
# ----------------------------------------------------------------------------------------
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


class _Pointwise(Loss):
    """A loss that adds up one term per output: J_i = factor * sum_k term(y_k, r_k)."""

    op: ClassVar[int]

    def _factor(self, k: int) -> float:
        return 1.0

    def _fused_step(self, k, labels):
        return None if labels else (_losses.LossFamily.POINTWISE, int(self.op), self._factor(k))

    def _kernel(self, rows, labels, r, grad, per_sample, scale, want_grad, want_rows):
        if labels.shape[0]:
            r = _one_hot(labels, rows.shape[1], rows.dtype)
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


for _cls in (SoftmaxCrossEntropy, MulticlassHinge, CrossEntropy, NegativeLogLikelihood,
             SquaredError, MeanSquaredError, BinaryCrossEntropy):
    register(_cls)
del _cls
