"""Library-wide settings: how many threads the compiled kernels may use."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["get_num_threads", "set_num_threads"]


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
