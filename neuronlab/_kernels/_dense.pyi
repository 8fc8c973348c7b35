# The engine: one dense layer's compiled passes, and a network's stack of them (see _dense.pyx).
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

class DenseLayer:
    max_rows: int
    rows: int
    single: bool
    kind: int
    dtype: np.dtype
    n_in: int
    n_out: int
    params: tuple[float, ...]
    a_prev: Float | None
    z: Float
    a: Float
    delta: Float
    grad_prev: Float
    activate: Callable[[Float, Float], object] | None
    backpropagate: Callable[[Float, Float, Float], object] | None
    def __init__(self, W: Float, b: Float, dW: Float, db: Float, n_out: int, kind: int,
                 params: tuple[float, ...], max_rows: int,
                 activate: Callable[[Float, Float], object] | None = None,
                 backpropagate: Callable[[Float, Float, Float], object] | None = None) -> None: ...
    def holds(self, W: Float, b: Float, dW: Float, db: Float) -> bool: ...
    def forward(self, x: Float, n_threads: int = 1) -> Float: ...
    def backward(self, grad_a: Float, n_threads: int = 1) -> Float: ...

class DenseStack:
    n_layers: int
    n_threads: int
    max_rows: int
    rows: int
    single: bool
    layers: list[DenseLayer]
    output: Float
    def __init__(self, layers: list[DenseLayer], n_threads: int = 1) -> None: ...
    def watch(self, grad_sq: NDArray[np.float64], z_max: Sequence[Float | None]) -> None: ...
    def forward(self, x: Float) -> Float: ...
    def backward(self, grad_out: Float) -> None: ...
    def step(self, x: Float, labels: NDArray[np.intp], r: Float, grad_out: Float, family: int, op: int,
             param: float, grad_scale: float) -> float: ...
