"""The base class of every loss: what all of them share, and the plumbing that checks
pred and the target and hands them to the compiled kernels of ``_kernels/_losses.pyx``.

The losses themselves are in scores.py and pointwise.py beside this file; all of them are
used through :mod:`neuronlab.losses`.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neuronlab._validation import as_array, as_float_array

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
            r = one_hot(labels, pred.shape[1], pred.dtype)
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


def one_hot(labels: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    """The rows r of integer labels: r[i, labels[i]] = 1 and zeros elsewhere, shape (m, k)."""
    r = np.zeros((labels.shape[0], k), dtype)
    r[np.arange(labels.shape[0]), labels] = 1
    return r

