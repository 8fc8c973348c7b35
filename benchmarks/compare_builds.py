"""Time raw activation kernels of several builds of neuronlab, interleaved, on a busy machine.

Comparing a change by running ``bench_activations.py`` before and after it measures the
machine's load as much as the change: other processes share the cores, the caches and the
memory bus. This script instead copies nothing and builds nothing; it takes builds, each as
``LABEL=WHERE[@LEVEL]``, and runs the same timing in a fresh subprocess per build, rotating
the order round by round. WHERE is a directory holding a built ``neuronlab/`` (a copy of the
tree before the change, the working tree, a ``NEURONLAB_NATIVE=1`` build) or the Python of
a virtualenv with neuronlab installed (a wheel); LEVEL sets ``NEURONLAB_CPU``. Each kernel's
time is the minimum thread CPU time over all calls of all rounds, so every build gets the
same chances at a quiet moment.

    python benchmarks/compare_builds.py before=/tmp/before after=. \\
        --kernels elu:forward,softplus:forward,tanh:forward --sizes 1000000,10000000
    python benchmarks/compare_builds.py native=build/trees/native wheel-v4=build/wheel-venv/bin/python@v4 \\
        wheel-v3=build/wheel-venv/bin/python@v3 wheel-baseline=build/wheel-venv/bin/python@baseline

The input is ``3 * standard normal`` as in ``bench_activations.py``. The first build is
the reference of the ratio columns.
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


def parse(spec: str) -> tuple[str, list[str], dict[str, str]]:
    """LABEL=WHERE[@LEVEL] -> (label, the Python to run, environment changes)."""
    label, _, where = spec.partition("=")
    if not where:
        raise SystemExit(f"build {spec!r}: expected LABEL=WHERE[@LEVEL]")
    where, _, level = where.partition("@")
    path = Path(where).absolute()  # not resolve(): a venv's python is a symlink to the base one
    env = {"NEURONLAB_CPU": level} if level else {}
    if path.is_dir():
        # PYTHONPATH first, and a neutral working directory, so that this tree's neuronlab
        # is the one imported (not an editable install's)
        return label, [sys.executable], {**env, "PYTHONPATH": str(path)}
    return label, [str(path)], env


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="*", help="LABEL=WHERE[@LEVEL], the first is the reference")
    parser.add_argument("--kernels", default="elu:forward,softplus:forward,tanh:forward",
                        help="comma-separated NAME:OP (OP: forward, derivative, backward, ...)")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7, help="calls per kernel per round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kernels, sizes = args.kernels.split(","), [int(s) for s in args.sizes.split(",")]
    if args.child:
        from neuronlab import _kernels

        print(json.dumps({"level": _kernels.LEVEL, "times": measure(kernels, sizes, args.repeats)}))
        return
    if len(args.builds) < 2:
        parser.error("give at least two builds")
    builds = [parse(spec) for spec in args.builds]
    best: dict[str, dict[str, float]] = {label: {} for label, _, _ in builds}
    levels = {}
    for r in range(args.rounds):
        for label, python, env in builds[r % len(builds):] + builds[:r % len(builds)]:
            child = subprocess.run(
                [*python, str(Path(__file__).resolve()), "--child", "--kernels", args.kernels,
                 "--sizes", args.sizes, "--repeats", str(args.repeats)],
                env={**os.environ, **env}, cwd="/", capture_output=True, text=True, check=True)
            result = json.loads(child.stdout)
            levels[label] = result["level"]
            for key, t in result["times"].items():
                best[label][key] = min(best[label].get(key, float("inf")), t)
    labels = [label for label, _, _ in builds]
    reference = labels[0]
    print("builds: " + ", ".join(f"{label} (CPU level {levels[label]})" for label in labels))
    print(f"{'kernel/n/dtype':36s}" + "".join(f"{label + ' ms':>16s}" for label in labels)
          + "".join(f"{label + '/' + reference:>22s}" for label in labels[1:]))
    for key in best[reference]:
        if key.startswith("copy/"):
            continue
        times = [best[label][key] for label in labels]
        print(f"{key:36s}" + "".join(f"{1e3 * t:16.3f}" for t in times)
              + "".join(f"{t / times[0]:22.2f}" for t in times[1:]))


if __name__ == "__main__":
    main()
