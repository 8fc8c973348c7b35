"""Time raw activation kernels of two builds of neuronlab, interleaved, on a busy machine.

Comparing a change by running ``bench_activations.py`` before and after it measures the
machine's load as much as the change: other processes share the cores, the caches and the
memory bus. This script instead copies nothing and builds nothing; it takes two package
trees (each a directory holding a built ``neuronlab/``, e.g. a copy of the tree before
the change and the working tree) and runs the same timing in a fresh subprocess per tree,
alternating the order round by round. Each kernel's time is the minimum thread CPU time
over all calls of all rounds, so both builds get the same chances at a quiet moment.

    python benchmarks/compare_builds.py /tmp/before . \\
        --kernels elu:forward,softplus:forward,tanh:forward --sizes 1000000,10000000

The input is ``3 * standard normal`` as in ``bench_activations.py``; "x copy" is the time
over ``np.copyto`` of the same size (1.5 copies for backward, which streams x and dy in).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PARAMS = {"elu": (1.0,), "swish": (1.0,), "leaky_relu": (0.01,), "hard_sigmoid": (1 / 6,)}


def measure(kernels: list[str], sizes: list[int], repeats: int) -> dict[str, float]:
    """In this process: the best thread CPU time (s) of each kernel and of a copy."""
    import numpy as np

    from neuronlab._kernels import _elementwise

    def best(fn) -> float:
        fn()
        t = float("inf")
        for _ in range(repeats):
            start = time.thread_time()
            fn()
            t = min(t, time.thread_time() - start)
        return t

    rng = np.random.default_rng(2024)
    times = {}
    for n in sizes:
        for dtype in (np.float32, np.float64):
            x = (3 * rng.standard_normal(n)).astype(dtype)
            dy = rng.standard_normal(n).astype(dtype)
            out = np.zeros(n, dtype)
            tag = f"{n}/{np.dtype(dtype).name}"
            times[f"copy/{tag}"] = best(lambda x=x, out=out: np.copyto(out, x))
            for k in kernels:
                name, op = k.split(":")
                fn = _elementwise.loop(name, op)
                inputs = (x, dy) if op == "backward" else (x,)
                args = (*inputs, out, *PARAMS.get(name, ()))
                times[f"{k}/{tag}"] = best(lambda fn=fn, args=args: fn(*args, n_threads=1))
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="directory holding the first build's neuronlab/")
    parser.add_argument("after", type=Path, help="directory holding the second build's neuronlab/")
    parser.add_argument("--kernels", default="elu:forward,softplus:forward,tanh:forward",
                        help="comma-separated NAME:OP (OP: forward, derivative, backward, ...)")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7, help="calls per kernel per round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kernels, sizes = args.kernels.split(","), [int(s) for s in args.sizes.split(",")]
    if args.child:
        print(json.dumps(measure(kernels, sizes, args.repeats)))
        return
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    best: dict[str, dict[str, float]] = {name: {} for name in trees}
    for r in range(args.rounds):
        for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
            # PYTHONPATH first, and a neutral working directory, so that this tree's
            # neuronlab is the one imported (not an editable install's).
            env = dict(os.environ, PYTHONPATH=str(trees[name]))
            child = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), str(trees["before"]), str(trees["after"]),
                 "--child", "--kernels", args.kernels, "--sizes", args.sizes, "--repeats", str(args.repeats)],
                env=env, cwd="/", capture_output=True, text=True, check=True)
            for key, t in json.loads(child.stdout).items():
                best[name][key] = min(best[name].get(key, float("inf")), t)
    print(f"{'kernel/n/dtype':40s} {'before ms':>10s} {'after ms':>10s} {'after/before':>12s} "
          f"{'before x copy':>13s} {'after x copy':>12s}")
    for key in best["before"]:
        if key.startswith("copy/"):
            continue
        tag = key.split("/", 1)[1]
        copy = min(best["before"][f"copy/{tag}"], best["after"][f"copy/{tag}"])
        floor = copy * (1.5 if ":backward" in key else 1.0)
        b, a = best["before"][key], best["after"][key]
        print(f"{key:40s} {1e3 * b:10.3f} {1e3 * a:10.3f} {a / b:12.2f} {b / floor:13.2f} {a / floor:12.2f}")


if __name__ == "__main__":
    main()
