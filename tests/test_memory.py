"""Repeated calls do not leak: resident memory stays flat, and a training step of a Layer
allocates no arrays once its buffers exist.

Resident memory (RSS) is read from /proc/self/statm before and after many calls, after a
warm-up that lets NumPy's and the allocator's caches fill. The tolerance is far below
what even a small per-call leak adds up to: a leaked 16-number float64 array (128 bytes of
data plus ~100 of header) per call is over 20 MB after 10^5 calls.

The measurement can fail: ``test_the_measurement_catches_a_leak`` runs the very same
measurement on a call that keeps one small array per call in a list (a deliberate leak,
about 200 bytes each) and checks that the growth it reports is far above the tolerance.
When written, the leaking loop grew RSS by about 20 MB against a few KB for the kernels.
"""
from __future__ import annotations

import os
import sys
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

import neuronlab as nl

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")

CALLS = 100_000
TOLERANCE = 2 * 2**20  # bytes of RSS growth allowed over CALLS calls: 20 bytes per call
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def rss_growth(fn: Callable[[], object], calls: int = CALLS) -> int:
    """Bytes by which resident memory grows over `calls` calls of fn, after a warm-up."""
    for _ in range(1000):
        fn()
    before = rss()
    for _ in range(calls):
        fn()
    return rss() - before


def kernel_calls(act) -> Callable[[], object]:
    """One call after another of each method of `act` on small arrays."""
    x = np.linspace(-4, 4, 16)
    dy = np.linspace(1, 2, 16)
    x32 = x.astype(np.float32)
    z = np.linspace(-4, 4, 16).reshape(2, 8)
    b = np.ones(8)
    if isinstance(act, nl.softmax.Maxout):
        dy = dy[:: act.pieces]  # one gradient per unit
    methods = [lambda: act.forward(x), lambda: act.derivative(x32), lambda: act.backward(x, dy),
               lambda: act.second_derivative(x)]
    if act.elementwise:
        methods.append(lambda: act.forward_with_bias(z.copy(), b))
    if act.has_output_derivative:
        methods.append(lambda: act.backward_from_output(x, dy))
    i = 0

    def call():
        nonlocal i
        i += 1
        return methods[i % len(methods)]()

    return call


def activations():
    acts = []
    for name in nl.activations.available():
        if name == "prelu":
            acts.append(nl.activations.get(name, alpha=np.full(8, 0.2)))  # the per-unit kernel
        acts.append(nl.activations.get(name, seed=0) if name == "rrelu" else nl.activations.get(name))
    return acts


@pytest.mark.parametrize("act", activations(), ids=repr)
def test_activation_kernels_do_not_leak(act):
    if getattr(act, "per_unit", False):  # 8 slopes: x of 16 numbers is 2 samples of 8 units
        x, dy = np.linspace(-4, 4, 16).reshape(2, 8), np.ones((2, 8))
        call = [lambda: act.forward(x), lambda: act.backward(x, dy), lambda: act.derivative(x)]
        growth = rss_growth(lambda: [f() for f in call], CALLS // 3)
    else:
        growth = rss_growth(kernel_calls(act))
    assert growth < TOLERANCE, f"RSS grew by {growth / 2**20:.2f} MiB over {CALLS} calls"


def test_losses_and_softmax_do_not_leak():
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    labels = np.array([0, 3, 1])
    sce, sm = nl.losses.SoftmaxCrossEntropy(), nl.softmax.Softmax()
    growth = rss_growth(lambda: (sce.loss_and_gradient(z, labels), sm.backward(z, z)), CALLS // 2)
    assert growth < TOLERANCE, f"RSS grew by {growth / 2**20:.2f} MiB"


def test_the_measurement_catches_a_leak():
    """The same measurement on a deliberate leak: keep every result in a list."""
    act, x, kept = nl.activations.get("sigmoid"), np.linspace(-4, 4, 16), []
    growth = rss_growth(lambda: kept.append(act.forward(x)))
    assert growth > 5 * TOLERANCE, f"a 10^5-array leak grew RSS by only {growth} bytes"


# -- training a layer --------------------------------------------------------------------------
def training_step(optimizer_name: str, activation: str = "relu", m: int = 64, n_in: int = 32,
                  n_out: int = 16):
    rng = np.random.default_rng(0)
    layer = nl.Layer(n_in, n_out, activation, seed=0)
    X = rng.normal(size=(m, n_in))
    grad_a = rng.normal(size=(m, n_out)) / m
    opt = nl.optim.get(optimizer_name, learning_rate=1e-3)

    def step():
        layer.forward(X)
        layer.backward(grad_a)
        opt.step(layer.params_and_grads())

    return step


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_layer_training_does_not_leak(optimizer):
    growth = rss_growth(training_step(optimizer), 1000)
    assert growth < TOLERANCE, f"RSS grew by {growth / 2**20:.2f} MiB over 1000 steps"


N_OUT = 16384
SMALLEST_ARRAY = N_OUT * 8  # b and db: every other array of the step is bigger


@pytest.mark.parametrize("activation", ["relu", "tanh", "prelu", "softmax"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_layer_training_step_allocates_no_arrays(optimizer, activation):
    """After the first step (which makes the buffers), a step's peak of traced memory stays
    below the smallest array it could allocate: b and db, 16384 float64 = 128 KiB, are the
    smallest; W, z, a, delta are 512 KiB or 1 MiB. NumPy reports its array data to
    tracemalloc, so a temporary array would raise the peak by its size; the array headers,
    views and floats Python makes on the way are a few hundred bytes each. (NumPy's own
    64 KiB iteration buffer, used by ``z += b`` for softmax, is below the threshold and is
    not an array.)"""
    step = training_step(optimizer, activation, m=8, n_in=4, n_out=N_OUT)
    step()
    step()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(10):
            step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < SMALLEST_ARRAY, f"a step allocated up to {peak - before} bytes at once"
    assert current - before < SMALLEST_ARRAY, f"10 steps kept {current - before} bytes"


def test_the_allocation_measurement_catches_a_temporary():
    """The same measurement on a step that makes one b-sized temporary (b + 0)."""
    step = training_step("sgd", "relu", m=8, n_in=4, n_out=N_OUT)
    layer_b = np.zeros(N_OUT)

    def leaky_step():
        step()
        return layer_b + 0

    leaky_step()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        leaky_step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before >= SMALLEST_ARRAY
