"""Run the benchmarks: every ``benchmarks/bench_*.py`` module, or the ones named.

    python benchmarks/run.py                 # all of them
    python benchmarks/run.py activations     # bench_activations.py only
    python benchmarks/run.py --quick         # small sizes: a smoke run of under a minute

A benchmark module is any ``bench_<name>.py`` in this folder with a function
``main(quick: bool = False)`` that prints its tables and writes
``bench-results/<name>.json``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """The benchmark names, from the files ``bench_<name>.py``, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(description="Run neuronlab's benchmarks.")
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all of {', '.join(names)})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(names)}")
    sys.path.insert(0, str(HERE))
    from neuronlab import _kernels

    why = f"NEURONLAB_CPU={_kernels.LEVEL}" if os.environ.get("NEURONLAB_CPU") else "the best this CPU runs"
    print(f"neuronlab kernels: CPU level {_kernels.LEVEL} ({why}; built: {', '.join(_kernels.available_levels())})")
    start = time.perf_counter()
    for name in args.names or names:
        print(f"\n######## {name} ########", flush=True)
        importlib.import_module(f"bench_{name}").main(quick=args.quick)
    print(f"\nall benchmarks: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
