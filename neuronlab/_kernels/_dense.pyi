# The compiled forward and backward passes of a stack of dense layers (see _dense.pyx).
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

class DenseStack:
    n_layers: int
    n_threads: int
    max_rows: int
    rows: int
    single: bool
    dtype: np.dtype
    outputs: list[Float]
    def __init__(self, W: list[Float], b: list[Float], dW: list[Float], db: list[Float],
                 kinds: list[int], params: list[Sequence[float]], z: list[Float], a: list[Float],
                 delta: list[Float], grad_prev: list[Float], n_threads: int = 1) -> None: ...
    def watch(self, grad_sq: NDArray[np.float64], z_max: Sequence[Float | None]) -> None: ...
    def forward(self, x: Float) -> Float: ...
    def backward(self, grad_out: Float) -> None: ...
    def step(self, x: Float, labels: NDArray[np.intp], r: Float, grad_out: Float, family: int, op: int,
             param: float, grad_scale: float) -> float: ...
