"""How much a second OpenMP thread speeds up the kernels on large arrays (10^7 numbers).

Each kernel is timed with ``neuronlab.set_num_threads(1)`` and ``(2)``; the results go to
``bench-results/threads.json``. Run standalone:

    .venv/bin/python benchmarks/bench_threads.py [--quick]

On a shared machine the speed-up also measures the neighbours' load: read it with the
machine's state in mind.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import neuronlab as nl

RESULTS = Path(__file__).resolve().parent.parent / "bench-results" / "threads.json"


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` calls after one warm-up, in ms."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def kernels(n: int) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, n)
    dy = rng.normal(0, 1, n)
    out = np.empty(n)
    k = 1000
    rows, labels = z.reshape(-1, k), rng.integers(0, k, n // k)
    sigmoid, gelu, tanh = (nl.activations.get(name) for name in ("sigmoid", "gelu", "tanh"))
    softmax, sce = nl.softmax.Softmax(), nl.losses.SoftmaxCrossEntropy()
    return {
        "relu.forward": lambda: nl.activations.get("relu").forward(z, out=out),
        "sigmoid.forward": lambda: sigmoid.forward(z, out=out),
        "gelu.forward": lambda: gelu.forward(z, out=out),
        "tanh.backward": lambda: tanh.backward(z, dy, out=out),
        "softmax.forward (rows of 1000)": lambda: softmax.forward(rows),
        "softmax_cross_entropy.loss_and_gradient": lambda: sce.loss_and_gradient(rows, labels),
    }


def main(quick: bool = False) -> dict:
    n, repeat = (10**6, 3) if quick else (10**7, 7)
    before = nl.get_num_threads()
    results = {"n": n, "cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0],
               "ms": {}, "speedup": {}}
    try:
        for name, fn in kernels(n).items():
            times = {}
            for threads in (1, 2):
                nl.set_num_threads(threads)
                times[threads] = best_time(fn, repeat)
            results["ms"][name] = times
            results["speedup"][name] = times[1] / times[2]
            print(f"{name:42s} 1 thread {times[1]:8.2f} ms   2 threads {times[2]:8.2f} ms   "
                  f"speed-up {times[1] / times[2]:.2f}x")
    finally:
        nl.set_num_threads(before)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^6 numbers, fewer repeats")
    main(parser.parse_args().quick)
