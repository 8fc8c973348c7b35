"""Library-wide settings: how many threads the compiled kernels may use, and what this
installation runs on (the CPU level of its kernels, its build, its BLAS)."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["config", "get_num_threads", "set_num_threads", "show_config"]


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _available_cores()


def get_num_threads() -> int:
    """The number of threads a large kernel call may use (default: the available cores)."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Let kernels use up to `n` threads. Small arrays use one anyway: up to 49 152
    elements for the activations, below 65 536 for softmax and the losses.

    Parameters
    ----------
    n : int
        A positive number of threads.
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    _num_threads = int(n)


def config() -> dict:
    """What this installation runs on, as :func:`show_config` prints it.

    Keys: ``neuronlab``, ``python``, ``numpy``, ``scipy`` (versions), ``machine``, ``level``
    (the CPU level whose kernels are loaded), ``level_forced`` (NEURONLAB_CPU, or None),
    ``levels_built``, ``levels_runnable``, ``cpu_features``, ``build`` (compiler, flags per
    level, OpenMP, libmvec, as setup.py recorded them), ``threads``, ``cores``, ``blas``.
    """
    import json
    import platform
    from pathlib import Path

    import scipy

    import neuronlab
    from neuronlab import _kernels

    build_json = Path(_kernels.__file__).parent / "levels" / "build.json"
    build = json.loads(build_json.read_text()) if build_json.exists() else {}
    try:
        blas = scipy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')} (SciPy's, through cython_blas)"
    except (KeyError, TypeError, AttributeError):   # SciPy before 1.11 prints only
        blas = "SciPy's BLAS, through cython_blas"
    return {
        "neuronlab": neuronlab.__version__, "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__,
        "machine": f"{platform.machine()} {platform.system()}",
        "level": _kernels.LEVEL, "level_forced": os.environ.get("NEURONLAB_CPU") or None,
        "levels_built": _kernels.available_levels(), "levels_runnable": _kernels.runnable_levels(),
        "cpu_features": _kernels.cpu_features(), "build": build,
        "threads": get_num_threads(), "cores": _available_cores(), "blas": blas,
    }


def show_config() -> None:
    """Print the version, the CPU level the kernels run at and why, what the CPU offers,
    how the kernels were compiled, the threads and the BLAS (like ``numpy.show_config()``).
    ``python -m neuronlab info`` prints the same.
    """
    c = config()
    have = [name for name, on in c["cpu_features"].items() if on]
    lack = [name for name, on in c["cpu_features"].items() if not on]
    build = c["build"]
    why = (f"forced by NEURONLAB_CPU={c['level_forced']}" if c["level_forced"]
           else "the best this CPU runs")
    lines = [
        f"neuronlab {c['neuronlab']} (Python {c['python']}, NumPy {c['numpy']}, SciPy {c['scipy']})",
        f"machine:       {c['machine']}",
        f"CPU level:     {c['level']} ({why})",
        f"levels built:  {', '.join(c['levels_built'])}; this CPU runs {', '.join(c['levels_runnable'])}",
        f"CPU features:  {' '.join(have) or 'none of the x86-64 ones'}",
        f"  missing:     {' '.join(lack) or 'none'}",
        f"compiler:      {build.get('compiler_version', 'unknown')}",
        f"  flags:       {' '.join(build.get('cflags', []))}",
        *(f"  {level + ':':13s}{' '.join(flags) or '(the compiler default)'}"
          for level, flags in build.get("levels", {}).items()),
        f"OpenMP:        {'yes' if build.get('openmp') else 'no (one thread per call)'}",
        f"libmvec:       {'yes' if build.get('libmvec') else 'no'}",
        f"bounds checks: {'on (a debug build)' if build.get('boundscheck') else 'off'}",
        f"threads:       {c['threads']} of {c['cores']} cores (nl.set_num_threads)",
        f"BLAS:          {c['blas']}",
    ]
    print("\n".join(lines))
