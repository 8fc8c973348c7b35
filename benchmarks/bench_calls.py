"""What one call costs beyond its arithmetic: the public API, the compiled loop, np.copyto.

On 16 elements the work is nothing and the time is the call itself: argument checks,
Cython's argument handling, the loop's set-up. Measured twice:

- warm: the same call many times in a row, everything it touches in the caches;
- cold: each call right after copying 8 MB (as after any large array), so that its code
  and data come from memory again. A kernel called once per large array pays this: on
  10^6 float32 elements (about 0.3 ms) the public API's cold overhead was some 8%.

Rows: ``nothing`` (an empty lambda, the harness itself), ``api`` (``act.forward(x, out=out)``),
``api_alloc`` (``act.forward(x)``, allocating the result), ``loop`` (the float32 compiled
loop called directly, as the API does), ``np.copyto`` (NumPy's cheapest call of the same
shape, for scale). Run ``python benchmarks/bench_calls.py [--quick]``; the numbers go to
``bench-results/calls.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import format_table, machine, write_json

import neuronlab as nl
from neuronlab._kernels import _elementwise

EVICT_BYTES = 8 * 2**20


def calls(act, x, out) -> dict:
    loop = _elementwise.loop(act.kernel, "forward")["float"]
    return {
        "nothing": lambda: None,
        "api": lambda: act.forward(x, out=out),
        "api_alloc": lambda: act.forward(x),
        "loop": lambda: loop(x, out, n_threads=1),
        "np.copyto": lambda: np.copyto(out, x),
    }


def cold_us(fns: dict, rounds: int) -> dict[str, float]:
    """Median time of each call right after an 8 MB copy, in microseconds."""
    big = np.ones(EVICT_BYTES // 8, np.float32)
    other = np.empty_like(big)
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            np.copyto(other, big)
            np.copyto(big, other)
            start = time.perf_counter_ns()
            fn()
            times[name].append(time.perf_counter_ns() - start)
    return {name: float(np.median(t)) / 1e3 for name, t in times.items()}


def warm_us(fns: dict, number: int) -> dict[str, float]:
    """Best of five runs of `number` calls in a row, per call, in microseconds."""
    out = {}
    for name, fn in fns.items():
        best = np.inf
        for _ in range(5):
            start = time.perf_counter_ns()
            for _ in range(number):
                fn()
            best = min(best, (time.perf_counter_ns() - start) / number)
        out[name] = best / 1e3
    return out


def main(quick: bool = False) -> dict:
    saved = nl.get_num_threads()
    nl.set_num_threads(1)
    try:
        x = np.linspace(-1, 1, 16, dtype=np.float32)
        out = np.empty_like(x)
        results = {}
        rows = []
        for name in ("relu", "sigmoid"):
            fns = calls(nl.activations.get(name), x, out)
            cold = cold_us(fns, 50 if quick else 400)
            warm = warm_us(fns, 2000 if quick else 20000)
            results[name] = {"cold_us": cold, "warm_us": warm}
            rows += [[name, call, f"{cold[call]:.2f}", f"{warm[call]:.3f}"] for call in fns]
    finally:
        nl.set_num_threads(saved)
    print("\n== one call on 16 float32 elements, one thread: cold (after an 8 MB copy, median) "
          "and warm (best per call) ==")
    print(format_table(["activation", "call", "cold us", "warm us"], rows))
    payload = {"benchmark": "calls", "quick": quick, "machine": machine(), "results": results}
    path = write_json("calls", payload)
    print(f"results in {path}")
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    main(quick=parser.parse_args().quick)
