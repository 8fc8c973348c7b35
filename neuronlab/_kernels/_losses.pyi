# The compiled loss kernels of _losses.pyx: each returns the total loss (in double).
import enum

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]
Labels = NDArray[np.intp]

class PointwiseLoss(enum.IntEnum):
    CROSS_ENTROPY = 0
    NLL = 1
    SQUARED_ERROR = 2
    BINARY_CROSS_ENTROPY = 3
    BINARY_CROSS_ENTROPY_LOGITS = 4

class LossFamily(enum.IntEnum):
    SOFTMAX_CE = 0
    POINTWISE = 1
    PICKED = 2
    HINGE = 3

def softmax_cross_entropy(z: Float, labels: Labels, r: Float, grad: Float, rows: Float,
                          label_smoothing: float, grad_scale: float, want_grad: bool,
                          want_rows: bool, n_threads: int = 1) -> float: ...
def pointwise_loss(op: int, y: Float, r: Float, grad: Float, rows: Float, factor: float,
                   grad_scale: float, want_grad: bool, want_rows: bool,
                   n_threads: int = 1) -> float: ...
def picked_loss(op: int, y: Float, labels: Labels, grad: Float, rows: Float, grad_scale: float,
                want_grad: bool, want_rows: bool, n_threads: int = 1) -> float: ...
def hinge_loss(s: Float, labels: Labels, grad: Float, rows: Float, margin: float,
               grad_scale: float, want_grad: bool, want_rows: bool, n_threads: int = 1) -> float: ...
