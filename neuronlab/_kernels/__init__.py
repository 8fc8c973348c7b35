"""The compiled kernels, built once per CPU level; importing this package picks one.

setup.py compiles every kernel module several times from the same C, once per x86-64
level, into ``levels/<level>/``:

========== ===================================== ==========================================
level      the compiler may use                  CPUs
========== ===================================== ==========================================
baseline   SSE2 (every x86-64 CPU)               all; on other CPUs, the compiler's default
v3         AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE Intel Haswell (2013) and AMD Zen (2017) on
v4         v3 + AVX-512 F, BW, CD, DQ, VL        Intel Skylake-X (2017), AMD Zen 4 (2022) on
native     everything of the building machine    that machine only (``NEURONLAB_NATIVE=1``)
========== ===================================== ==========================================

Here, before any kernel module is imported, the best level that the CPU and the operating
system can run goes first on this package's search path, so that ``import
neuronlab._kernels._dense`` finds ``levels/v4/_dense.*.so``. NumPy does the same per
function (``numpy/_core/src/common/npy_cpu_dispatch.h``); per module is simpler here, since
the kernels of a module call one another inline. ``NEURONLAB_CPU=baseline|v3|v4`` asks for
a lower level, for tests and comparisons.
"""
from __future__ import annotations

import os
from pathlib import Path

from neuronlab._kernels._cpu import features

__all__ = ["LEVEL", "available_levels", "cpu_features", "runnable_levels"]

# What each level's code may contain beyond the one below it (the x86-64 psABI's levels;
# v2's features are part of v3 here, as no build targets v2 alone).
_NEEDS = {
    "v3": ("sse3", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm", "avx", "avx2", "fma",
           "bmi1", "bmi2", "f16c", "abm", "movbe", "os_avx"),
    "v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "os_avx512"),
}
_ORDER = ("baseline", "v3", "v4")  # each needs what the ones before it need
_HERE = Path(__file__).resolve().parent


def cpu_features() -> dict[str, bool]:
    """The x86-64 features that decide the level, as this CPU and its OS report them."""
    return features()


def available_levels() -> list[str]:
    """The levels this installation was built for, lowest first."""
    built = {p.name for p in (_HERE / "levels").iterdir() if any(p.glob("_dense.*"))} \
        if (_HERE / "levels").is_dir() else set()
    return [level for level in (*_ORDER, "native") if level in built]


def runnable_levels() -> list[str]:
    """The built levels that this CPU can run, lowest first."""
    have, built = cpu_features(), available_levels()
    runnable, ok = [], True
    for level in _ORDER:
        ok = ok and all(have[f] for f in _NEEDS.get(level, ()))
        if ok and level in built:
            runnable.append(level)
    if "native" in built:
        runnable.append("native")  # built for this machine, by whoever installed it
    return runnable


def _choose(requested: str) -> str:
    built, runnable = available_levels(), runnable_levels()
    if not built:
        raise ImportError("neuronlab's kernels are not built: run `make build` (or `pip install .`) "
                          "in the source tree")
    if not requested:
        return runnable[-1]
    if requested not in (*_ORDER, "native"):
        raise ValueError(f"NEURONLAB_CPU must be one of {', '.join(_ORDER)} (or native for a "
                         f"NEURONLAB_NATIVE=1 build), got {requested!r}")
    if requested not in built:
        raise ValueError(f"NEURONLAB_CPU={requested}: this installation has no {requested} build; "
                         f"it has {', '.join(built)}")
    if requested not in runnable:
        missing = [f for lv in _ORDER[1:_ORDER.index(requested) + 1] for f in _NEEDS[lv]
                   if not cpu_features()[f]]
        raise ValueError(f"NEURONLAB_CPU={requested}: this CPU (or its operating system) lacks "
                         f"{', '.join(missing)}; it can run {', '.join(runnable)}")
    return requested


#: The level whose build is loaded.
LEVEL = _choose(os.environ.get("NEURONLAB_CPU", "").strip().lower())
__path__.insert(0, str(_HERE / "levels" / LEVEL))
