"""Time every compiled elementwise loop, the derivatives too, against its own forward loop.

``bench_activations.py`` races forward and backward against the peers. The other loops
(f', f'', the backward from the output) have no peer worth racing, but a loop the C
compiler failed to vectorize is ten times slower than its neighbours and easy to miss:
float32 swish'' once took 8 ms at 10^6 elements, its forward 0.4 ms. This benchmark
times each loop of ``_elementwise`` (the list comes from ``_generate.kernels()``) at 10^6
elements (``--quick``: 10^5), float32 and float64, one thread, on inputs spread over
[-6, 6], and prints its time as a ratio to the copy floor and to the same activation's
forward loop. A loop beyond ``SLOW`` times its forward loop is flagged: a second
derivative may cost two or three forwards, not ten.

Run ``python benchmarks/bench_loops.py [--quick]``; every number goes to
``bench-results/loops.json``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time, copy_floor, format_table, machine, write_json

from neuronlab._kernels import _elementwise, _generate

PARAMS = {"slope": 0.2, "alpha": 0.3, "beta": 1.5}
SLOW = 4.0


def loops():
    """(activation, op, compiled function, number of input arrays, parameters)."""
    for k in _generate.kernels():
        loop = _elementwise.loop(k.activation, k.op)
        yield k.activation, k.op, loop, len(k.arrays) - 1, [PARAMS[q] for q in k.params]


def main(quick: bool = False) -> dict:
    n = 10**5 if quick else 10**6
    rng = np.random.default_rng(0)
    results = []
    slow = []
    for dtype in (np.float32, np.float64):
        x = rng.uniform(-6, 6, n).astype(dtype)
        dy = rng.standard_normal(n).astype(dtype)
        out = np.empty(n, dtype)
        floor = copy_floor(n, dtype)["cpu"]
        forward: dict[str, float] = {}
        rows = []
        for activation, op, loop, n_inputs, params in loops():
            args = (*(x, dy)[:n_inputs], out, *params)
            t = best_time(lambda f=loop, a=args: f(*a), max_repeats=20, budget=0.1)["cpu"]
            if op == "forward":
                forward[activation] = t
            ratio = t / forward[activation]
            flag = "SLOW" if ratio > SLOW else ""
            if flag:
                slow.append(f"{activation} {op} {np.dtype(dtype).name}: {ratio:.1f}x its forward")
            rows.append([activation, op, f"{t * 1e3:.3f}", f"{t / floor:.2f}", f"{ratio:.2f}", flag])
            results.append({"dtype": np.dtype(dtype).name, "n": n, "activation": activation, "op": op,
                            "ms": t * 1e3, "x_floor": t / floor, "x_forward": ratio})
        print(f"\n== n = {n:.0e}, {np.dtype(dtype).name}, 1 thread: copy {floor * 1e3:.3f} ms "
              "(thread CPU times) ==")
        print(format_table(["activation", "op", "ms", "x floor", "x forward", ""], rows))
    print(f"\n== loops beyond {SLOW:g}x their forward loop ==")
    print("\n".join(slow) if slow else "none")
    write_json("loops", {"machine": machine(), "results": results})
    return {"results": results, "slow": slow}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^5 elements")
    main(**vars(parser.parse_args()))
