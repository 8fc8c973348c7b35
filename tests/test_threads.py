"""The kernels are safe to call from many Python threads at once.

They release the GIL and keep no state between calls, so 8 threads hammering the same
read-only inputs must get, bit for bit, what one thread gets calling them in turn. The
arrays are large enough (150 000 numbers) for each call to start its own OpenMP team
too: threads inside threads.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import neuronlab as nl

N_THREADS = 8
ROUNDS = 3


def read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(7)
    z = read_only(rng.normal(0, 4, (300, 500)))
    dy = read_only(rng.normal(0, 1, (300, 500)))
    z32 = read_only(z.astype(np.float32))
    labels = read_only(rng.integers(0, 500, 300))
    small = read_only(rng.normal(0, 4, 37))  # below the OpenMP threshold: one thread per call
    calls = {}
    for name in nl.activations.available():
        act = nl.activations.get(name)
        if name == "prelu":
            act = nl.activations.get(name, alpha=np.linspace(0.0, 0.5, 500))
        calls[f"{name}.forward"] = lambda act=act: act.forward(z)
        calls[f"{name}.forward32"] = lambda act=act: act.forward(z32)
        da = dy[:, :: act.pieces] if name == "maxout" else dy  # maxout: one gradient per unit
        calls[f"{name}.backward"] = lambda act=act, da=da: act.backward(z, da)
        if act.elementwise and name != "prelu":  # (prelu has 500 slopes: x needs 500 units)
            calls[f"{name}.forward_small"] = lambda act=act: act.forward(small)
            calls[f"{name}.derivative"] = lambda act=act: act.derivative(z)
        if act.has_output_derivative:
            calls[f"{name}.backward_from_output"] = lambda act=act: act.backward_from_output(z, dy)
    softmax = nl.softmax.Softmax()
    calls["softmax(axis=0)"] = lambda: nl.softmax.softmax(z, axis=0)
    calls["log_softmax"] = lambda: nl.softmax.log_softmax(z32)
    calls["softmax.backward"] = lambda: softmax.backward(z, dy)
    for reduction in ("mean", "none"):
        loss = nl.losses.SoftmaxCrossEntropy(reduction=reduction)
        calls[f"sce_{reduction}"] = lambda loss=loss: loss.loss_and_gradient(z, labels)
        calls[f"sce_{reduction}_rows"] = lambda loss=loss: loss.loss_and_gradient(z, nl.softmax.softmax(dy))
        hinge = nl.losses.MulticlassHinge(reduction=reduction)
        calls[f"hinge_{reduction}"] = lambda loss=hinge: loss.loss_and_gradient(z32, labels)
        calls[f"hinge_{reduction}_rows"] = lambda loss=hinge: loss.loss_and_gradient(z, np.eye(500)[labels])
    return calls


def assert_identical(got, want, name):
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            assert_identical(g, w, name)
        return
    np.testing.assert_array_equal(got, want, err_msg=name, strict=True)


def test_threads_agree_with_serial_calls(cases):
    serial = {name: fn() for name, fn in cases.items()}
    names = list(cases)
    start = threading.Barrier(N_THREADS)
    results: list[list] = [[] for _ in range(N_THREADS)]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        order = np.random.default_rng(i).permutation(len(names))  # each thread its own order
        try:
            start.wait()
            for _ in range(ROUNDS):
                for j in order:
                    results[i].append((names[j], cases[names[j]]()))
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(len(r) for r in results) == N_THREADS * ROUNDS * len(names)
    for per_thread in results:
        for name, value in per_thread:
            assert_identical(value, serial[name], name)
