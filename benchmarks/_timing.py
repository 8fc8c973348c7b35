"""Small timing helpers shared by the benchmark modules.

A contender is a callable with no arguments that writes into buffers allocated beforehand
(``out=``), so a timing measures computation and memory traffic, never allocation. It is
called once to warm up (page faults, lazy initialisation, thread-pool start), then
repeatedly; the *minimum* is reported because on a shared machine every disturbance only
ever adds time.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench-results"


def best_time(fn: Callable[[], object], *, min_repeats: int = 5, max_repeats: int = 50,
              budget: float = 0.25) -> dict[str, float]:
    """The fastest of several calls of `fn`, in seconds, after one warm-up call.

    Calls `fn` at least `min_repeats` times and keeps going, up to `max_repeats`, while
    the total stays under `budget` seconds: cheap calls get more chances at a quiet moment.

    Returns the best ``wall`` time and the best ``cpu`` time of the calling thread. On a
    busy machine a call that outlasts a scheduler time slice always waits for the CPU
    somewhere, so its wall time measures the load; the thread's CPU time does not (it
    still counts cache misses and memory stalls). The CPU time is the honest measure of
    single-threaded work, the wall time the only one for work spread over threads.
    """
    fn()
    wall = cpu = float("inf")
    spent = 0.0
    for i in range(max_repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
        wall, cpu = min(wall, elapsed), min(cpu, elapsed_cpu)
        spent += elapsed
        if i + 1 >= min_repeats and spent >= budget:
            break
    return {"wall": wall, "cpu": cpu}


def race(contenders: dict[str, Callable[[], object]], *, min_repeats: int = 5,
         max_repeats: int = 50, budget: float = 0.25) -> dict[str, dict[str, float]]:
    """The fastest call of each contender, timed in turns: one call of each per round.

    Timing contenders one after another compares them at different moments, and on a
    shared machine the speed of memory drifts by 10-30% within minutes: a ratio of two
    such minima measures the drift as much as the kernels. Taking turns exposes every
    contender to the same moments; the order rotates each round, so that none always
    runs right after the same neighbour. Each contender is called once to warm up.

    Rounds continue, up to `max_repeats`, until there have been `min_repeats` and the
    time spent reaches `budget` seconds per contender. Returns ``{name: {"wall", "cpu"}}``
    as :func:`best_time` does.
    """
    names = list(contenders)
    for name in names:
        contenders[name]()
    best = {name: {"wall": float("inf"), "cpu": float("inf")} for name in names}
    spent = 0.0
    for i in range(max_repeats):
        for name in names[i % len(names):] + names[:i % len(names)]:
            start, start_cpu = time.perf_counter(), time.thread_time()
            contenders[name]()
            elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
            best[name]["wall"] = min(best[name]["wall"], elapsed)
            best[name]["cpu"] = min(best[name]["cpu"], elapsed_cpu)
            spent += elapsed
        if i + 1 >= min_repeats and spent >= budget * len(names):
            break
    return best


def copy_floor(n: int, dtype: np.dtype, **kwargs) -> dict[str, float]:
    """The time of ``np.copyto(dst, src)`` for `n` elements: one read and one write stream,
    the least any elementwise kernel y = f(x) can cost once the arrays leave the caches."""
    src = np.random.default_rng(0).standard_normal(n).astype(dtype)
    dst = np.empty_like(src)
    return best_time(lambda: np.copyto(dst, src), **kwargs)


def machine() -> dict[str, object]:
    """What the numbers were measured on: CPU, the kernels' CPU level, cores, library versions, commit."""
    from neuronlab import _kernels

    info: dict[str, object] = {
        # the build of the kernels that ran: baseline, v3, v4 or native (neuronlab/_kernels/__init__.py)
        "cpu_level": _kernels.LEVEL,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        # libgomp's idle threads spin by default; on a busy machine that decides 2-thread times
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(name: str, payload: dict) -> Path:
    """Write `payload` to ``bench-results/<name>.json`` and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    return path


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, numbers right-aligned, the first column left-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths),
                      *(line(r) for r in rows)])
