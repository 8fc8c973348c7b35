"""Large outputs are written with streaming stores, and that changes no value.

From ``STREAM_MIN_BYTES`` of output on, the compiled loops compute each chunk a tile at a
time into a buffer and stream the buffer out (``nl_stream.h``), after writing the elements
before the output's first 64-byte boundary normally. The same scalar function computes
every element either way, so a large array must give, bit for bit, what the same kernel
gives on pieces too small to stream. The output is placed at every offset that matters:
on a 64-byte boundary, at NumPy's usual 16 bytes past one, one element past one, and at
an address that is not a multiple of the element size (nothing can be aligned: no
streaming at all).
"""
from __future__ import annotations

import numpy as np
import pytest

from neuronlab._kernels import _elementwise as E
from neuronlab._kernels._generate import ACTIVATIONS, streams

PARAMS = {"slope": 0.2, "alpha": 0.3, "beta": 1.5}


def kernels():
    """(loop name, number of input arrays, parameters) of every loop that streams."""
    for name, params, out_params in ACTIVATIONS:
        args = tuple(PARAMS[p] for p in params)
        ops = [("forward", 1, args), ("derivative", 1, args), ("second_derivative", 1, args),
               ("backward", 2, args)]
        if out_params is not None:
            ops.append(("backward_from_output", 2, tuple(PARAMS[p] for p in out_params)))
        for op, n_inputs, a in ops:
            if streams(name, op):
                yield f"{name}_{op}", n_inputs, a


def at_offset(n: int, dtype: np.dtype, offset: int) -> np.ndarray:
    """An uninitialized array of n elements starting `offset` bytes past a 64-byte boundary."""
    raw = np.empty(n * dtype.itemsize + 128, np.uint8)
    start = -raw.ctypes.data % 64 + offset
    return raw[start:start + n * dtype.itemsize].view(dtype)


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def inputs(request):
    dtype = np.dtype(request.param)
    # just past the threshold, with a ragged end (not a whole number of tiles or chunks)
    n = E.STREAM_MIN_BYTES // dtype.itemsize + E.CHUNK // 3 + 7
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    x[::1001] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e30], dtype)[
        np.arange(x[::1001].size) % 7]
    dy = rng.standard_normal(n).astype(dtype)
    return x, dy


def test_the_threshold_is_above_a_tile_and_the_tile_holds_whole_lines():
    assert E.TILE_BYTES % 64 == 0 and E.STREAM_MIN_BYTES > E.CHUNK * 8
    names = {k for k, _, _ in kernels()}
    # the piecewise-linear loops and the from-output ones, not those that take an exponential
    assert {"relu_forward", "identity_backward", "sigmoid_backward_from_output"} <= names
    assert not names & {"sigmoid_forward", "gelu_forward", "tanh_backward"}


@pytest.mark.parametrize("kernel, n_inputs, args", list(kernels()), ids=lambda v: str(v))
def test_streamed_output_equals_the_output_in_small_pieces(inputs, kernel, n_inputs, args):
    x, dy = inputs
    f = getattr(E, kernel)
    arrays = (x, dy)[:n_inputs]
    # pieces of a quarter of the threshold: written with ordinary stores
    piece = E.STREAM_MIN_BYTES // x.itemsize // 4
    want = np.empty_like(x)
    for lo in range(0, x.size, piece):
        f(*(a[lo:lo + piece] for a in arrays), want[lo:lo + piece], *args)
    for offset in (0, 16, x.itemsize, 1):
        out = at_offset(x.size, x.dtype, offset)
        out.fill(7)  # a stale value, to catch an element left unwritten
        for threads in (1, 2):
            f(*arrays, out, *args, n_threads=threads)
            assert np.array_equal(out, want, equal_nan=True), (kernel, offset, threads)
