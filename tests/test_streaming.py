"""Large outputs are written with streaming stores, or prefetched, and that changes no value.

From ``STREAM_MIN_BYTES`` of output on, the memory-bound loops compute each chunk a tile at
a time into a buffer and stream the buffer out
(``neuronlab/_kernels/fastmath/nl_stream.h``). The tiles start where the plain loop's
vectors start, so every element goes through the same vector or scalar code, and a large
array must give, bit for bit, what the same loop gives on pieces too small to stream. The
output is placed at every offset that matters: on a 64-byte boundary, at NumPy's usual 16
bytes past one, one element past one, and at an address that is not a multiple of the
element size (nothing can be aligned: no streaming at all).

The loops that do not stream prefetch from ``PREFETCH_MIN_BYTES`` on: each chunk is computed
in blocks of fixed length, a whole number of vectors that start where the plain loop's
start, and must give the same bits as well.
"""
from __future__ import annotations

import numpy as np
import pytest

from neuronlab._kernels import _elementwise as E
from neuronlab._kernels import _generate

PARAMS = {"slope": 0.2, "alpha": 0.3, "beta": 1.5}


def kernels(kind: str = "streams"):
    """(loop name, number of input arrays, parameters) of every loop that streams, or
    (kind="prefetches") prefetches."""
    for k in _generate.kernels():
        if getattr(k, kind):
            yield (k.activation, k.op), len(k.arrays) - 1, tuple(PARAMS[q] for q in k.params)


def at_offset(n: int, dtype: np.dtype, offset: int) -> np.ndarray:
    """An uninitialized array of n elements starting `offset` bytes past a 64-byte boundary."""
    raw = np.empty(n * dtype.itemsize + 128, np.uint8)
    start = -raw.ctypes.data % 64 + offset
    return raw[start:start + n * dtype.itemsize].view(dtype)


def _inputs(dtype, threshold: int):
    # just past the threshold, with a ragged end (not a whole number of tiles or chunks)
    n = threshold // dtype.itemsize + E.CHUNK // 3 + 7
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    x[::1001] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e30], dtype)[
        np.arange(x[::1001].size) % 7]
    dy = rng.standard_normal(n).astype(dtype)
    return x, dy


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def inputs(request):
    return _inputs(np.dtype(request.param), E.STREAM_MIN_BYTES)


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def prefetch_inputs(request):
    return _inputs(np.dtype(request.param), E.PREFETCH_MIN_BYTES)


def test_the_threshold_is_above_a_tile_and_the_tile_holds_whole_lines():
    assert E.TILE_BYTES % 64 == 0 and E.STREAM_MIN_BYTES > E.CHUNK * 8
    names = {k for k, _, _ in kernels()}
    # the piecewise-linear loops and the from-output ones, not those that take an exponential
    assert {("relu", "forward"), ("identity", "backward"), ("sigmoid", "backward_from_output")} <= names
    assert not names & {("sigmoid", "forward"), ("gelu", "forward"), ("tanh", "backward")}


def test_every_loop_either_streams_or_prefetches_but_tanh_forward():
    streams, prefetches = set(kernels()), set(kernels("prefetches"))
    assert not streams & prefetches
    every = {(k.activation, k.op) for k in _generate.kernels()}
    assert every - {k for k, _, _ in streams | prefetches} == {("tanh", "forward")}
    assert E.PREFETCH_BLOCK % 64 == 0 and E.PREFETCH_MIN_BYTES > E.PREFETCH_AHEAD


@pytest.mark.parametrize("kernel, n_inputs, args", list(kernels()), ids=lambda v: str(v))
def test_streamed_output_equals_the_output_in_small_pieces(inputs, kernel, n_inputs, args):
    _check_against_pieces(inputs, kernel, n_inputs, args, E.STREAM_MIN_BYTES)


@pytest.mark.parametrize("kernel, n_inputs, args", list(kernels("prefetches")), ids=lambda v: str(v))
def test_prefetched_output_equals_the_output_in_small_pieces(prefetch_inputs, kernel, n_inputs, args):
    _check_against_pieces(prefetch_inputs, kernel, n_inputs, args, E.PREFETCH_MIN_BYTES)


def _check_against_pieces(inputs, kernel, n_inputs, args, threshold):
    x, dy = inputs
    f = E.loop(*kernel)
    arrays = (x, dy)[:n_inputs]
    # pieces of a quarter of the threshold: computed the plain way
    piece = threshold // x.itemsize // 4
    want = np.empty_like(x)
    for lo in range(0, x.size, piece):
        f(*(a[lo:lo + piece] for a in arrays), want[lo:lo + piece], *args)
    for offset in (0, 16, x.itemsize, 1):
        out = at_offset(x.size, x.dtype, offset)
        out.fill(7)  # a stale value, to catch an element left unwritten
        for threads in (1, 2):
            f(*arrays, out, *args, n_threads=threads)
            assert np.array_equal(out, want, equal_nan=True), (kernel, offset, threads)
