"""Checks made once, in Python, before any compiled kernel or model sees its inputs.

The kernels run without bounds checks, so everything they rely on is established here:
a real floating dtype (float32 or float64), C-contiguous memory, matching shapes, and an
output buffer that is writeable and does not partly overlap an input. Models add what
they need on top: samples in rows, the right number of features, finite values, labels
of the right kind, counts and seeds.

The checks are handed the argument's name, so that a message says which argument of
the user's call was wrong, where NumPy's own message would not.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ----------------------------------------------------------------------------------------
# Arrays: dtype, contiguity, shape
# ----------------------------------------------------------------------------------------
def float_dtype(x: np.ndarray, name: str) -> np.dtype:
    """The dtype a kernel computes `x` in: float32 and float64 stay, float16 becomes
    float32, bools and integers become float64; anything else is a TypeError."""
    dt = x.dtype
    if dt in FLOAT_DTYPES:
        return dt
    if dt == np.float16:
        return np.dtype(np.float32)
    if dt.kind in "biu":
        return np.dtype(np.float64)
    kind = {
        "c": f"complex numbers have no order, so these functions are undefined on them; pass "
             f"{name}.real or abs({name})",
        "f": "extended precision is not supported; convert to float64",
        "O": "object arrays cannot be handed to a compiled kernel; convert to float64",
        "U": f"strings are not numbers; convert them with {name}.astype(np.float64)",
        "S": f"bytes are not numbers; convert them with {name}.astype(np.float64)",
    }.get(dt.kind, "expected float32, float64, an integer or a bool dtype")
    raise TypeError(f"{name} has dtype {dt}: {kind}")



def as_array(x: Any, name: str, what: str = "numbers") -> np.ndarray:
    """`x` as a NumPy array of any dtype (no copy when it already is one).

    Lists, tuples and scalars are accepted like NumPy accepts them. A str or bytes, or a
    ragged list (rows of different lengths), is a TypeError naming the argument, where
    NumPy's own message would not say which argument it was.
    """
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, str | bytes):
        raise TypeError(f"{name} must be an array of {what}, got {type(x).__name__}")
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of {what}: {exc}") from None



def as_float_array(x: Any, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """`x` as a C-contiguous float32/float64 array (no copy when it already is one).

    Lists, tuples and scalars are accepted as by :func:`as_array`. With `dtype` given,
    the array is converted to it (used to bring `dy` to the dtype of `x`).
    """
    if type(x) is np.ndarray and x.dtype in FLOAT_DTYPES and (dtype is None or dtype == x.dtype) \
            and x.flags.c_contiguous:
        return x  # the common case, checked first: it costs a kernel call's time otherwise
    arr = as_array(x, name)
    target = float_dtype(arr, name) if dtype is None else dtype
    if dtype is not None:
        float_dtype(arr, name)  # reject complex, strings, ... with the same message
    return np.asarray(arr, dtype=target, order="C")  # keeps 0-d arrays 0-d



def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """The common kernel dtype: float64 if any input needs it, else float32."""
    single = all(a.dtype == np.float32 for a in arrays)
    return np.dtype(np.float32) if single else np.dtype(np.float64)



def check_same_shape(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{b_name} has shape {b.shape} but {a_name} has shape {a.shape}; they must match")


# ----------------------------------------------------------------------------------------
# Numbers: hyper-parameters and counts
# ----------------------------------------------------------------------------------------
def check_real(value: Any, name: str, *, low: float | None = None, low_open: bool = False,
               high: float | None = None) -> float:
    """A finite real hyper-parameter within [low, high] (or (low, ...] when `low_open`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if low is not None and (v <= low if low_open else v < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}, got {v}")
    return v



def check_count(value: Any, name: str, low: int = 1) -> int:
    """A whole number >= `low` (epochs, units, samples)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


# ----------------------------------------------------------------------------------------
# Samples and labels: what a model is trained on
# ----------------------------------------------------------------------------------------
def check_samples(X: Any, name: str = "X", n_features: int | None = None,
                  dtype: np.dtype | None = None, taken_by: str | None = None) -> np.ndarray:
    """`X` as a finite, C-contiguous float (m, n_features) matrix: one sample per row.

    A 1-d `X` is a single sample when `n_features` is known (it becomes one row).
    `taken_by` names what takes the n_features inputs ("the network's first layer") in the
    message for a wrong number of features.
    """
    X = as_float_array(X, name, dtype)
    if X.ndim == 1 and n_features is not None and X.shape[0] == n_features:
        X = X.reshape(1, -1)
    if X.ndim != 2:
        fix = ""
        if X.ndim == 1:
            fix = (f"; {name}.reshape(-1, 1) makes each number a sample of one feature, "
                   f"{name}.reshape(1, -1) makes them all one sample")
        elif X.ndim > 2:
            fix = f"; {name}.reshape(len({name}), -1) flattens each sample (an image, say) into a row"
        raise ValueError(f"{name} must be a 2-d array with one sample per row, got shape {X.shape}{fix}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {X.shape})")
    if n_features is not None and X.shape[1] != n_features:
        if taken_by is not None:
            raise ValueError(f"{name} has {X.shape[1]} features per sample but {taken_by} takes "
                             f"{n_features} inputs")
        raise ValueError(f"{name} has {X.shape[1]} features per sample (shape {X.shape}) "
                         f"but {n_features} are expected")
    # min and max propagate NaN and expose +-inf: two sweeps, no temporary array
    if not (np.isfinite(X.min()) and np.isfinite(X.max())):
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{name}[{i}, {j}] is {X[i, j]}: the samples must be finite numbers; "
                         "remove those samples or fill in the missing values first")
    return X


def check_binary_labels(y: Any, m: int, name: str = "y") -> np.ndarray:
    """`y` as a float64 vector of m labels, each 0 or 1."""
    y = as_array(y, name, "0/1 labels")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers 0 and 1, got dtype {y.dtype}")
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.shape != (m,):
        raise ValueError(f"{name} has shape {y.shape} but X has {m} samples: expected ({m},)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name} must contain only the labels 0 and 1; map other labels "
                         f"first, e.g. ({name} > 0).astype(int) for -1 and +1")
    return y.astype(np.float64)



def check_class_labels(y: Any, m: int, name: str = "y") -> np.ndarray:
    """`y` as an int64 vector of m class indices 0, 1, 2, ..."""
    y = as_array(y, name, "class indices")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold whole-number class indices")
    elif y.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (m,):
        raise ValueError(f"{name} has shape {y.shape} but there are {m} samples: expected ({m},)")
    if m and y.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0, got {y.min()}")
    return y.astype(np.int64)


# ----------------------------------------------------------------------------------------
# out= buffers
# ----------------------------------------------------------------------------------------
def prepare_out(out: Any, shape: tuple[int, ...], dtype: np.dtype, inputs: dict[str, np.ndarray]):
    """Check a user's `out=` and return (buffer the kernel writes, array to return).

    The buffer is `out` itself when it is C-contiguous; otherwise a temporary whose values
    are copied into `out` afterwards (see :func:`finish_out`). `out` may be exactly one of
    the inputs (an in-place update: each element is read before it is written) but must
    not overlap one partially, where the kernel would read values it already overwrote.
    """
    if out is None:
        buf = np.empty(shape, dtype=dtype)
        return buf, buf
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape} but the result has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype} but the result has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only; pass a writeable array, e.g. out.copy()")
    for name, arr in inputs.items():
        # may_share_memory compares address ranges only; the exact test runs when they meet
        if np.may_share_memory(out, arr) and np.shares_memory(out, arr) and not _same_memory(out, arr):
            raise ValueError(f"out partially overlaps {name}; pass a separate array or {name} itself")
    if out.flags.c_contiguous:
        return out, out
    return np.empty(shape, dtype=dtype), out



def finish_out(buf: np.ndarray, out: np.ndarray) -> np.ndarray:
    if buf is not out:
        out[...] = buf
    return out



def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.strides == b.strides
        and a.shape == b.shape
    )


# ----------------------------------------------------------------------------------------
# Random number generators
# ----------------------------------------------------------------------------------------
def make_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A NumPy Generator from `seed` (None, an int >= 0, or a Generator passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{name} must be None, an integer or a numpy Generator, "
                        f"got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return np.random.default_rng(seed)
