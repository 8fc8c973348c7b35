"""Property-based fuzzing of the models: Network (fit, partial_fit, predict, predict_proba,
score, evaluate, forward, save, load) and the single neurons (Perceptron, LogisticNeuron).

The conventions are those of tests/test_fuzz.py, whose profiles, odd numbers, dtypes,
layouts and child processes this file shares. The oracle differs, because a model is not a
pure function of its input:

* Whether a call must fail is decided here, from the values alone: each ``*_faults``
  function lists the errors an argument calls for (a dtype no kernel takes, the wrong shape,
  NaN, a label out of range, ...) as (exception type, names the message may give). A call
  with no fault must succeed; a call with faults must raise one of them, naming that
  argument, and must leave the model as it was (parameters, history, optimizer, generator).
* What a network computes is compared with a forward pass written here in NumPy, in
  float64, from the layers' W and b (z = a W^T + b, then the activation's f), within a
  rounding-error bound carried through the layers: (n_in + 2) eps |a| |W|^T for each
  product, a few eps for each f, and the errors from below times |W| and f's Lipschitz
  constant. Where the bound is not finite (an overflow) the values are not compared.
* Losses are recomputed from their formulas (``reference_loss``), with a bound from their
  derivatives; accuracies from the reference outputs, up to near-ties.
* save/load round-trips bit for bit; corrupted files (truncated, flipped bytes, replaced,
  dropped or added members, altered configs, pickles, foreign files) give a ValueError
  naming the file, never run code and never crash: those loads run in a child process.
* Training with the same seed on the same numbers, however presented, gives the same bits.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import numbers
import pickle
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neuronlab as nl
from neuronlab import activations

from test_fuzz import (  # isort: skip  (the tests directory is on sys.path, see conftest.py)
    FUZZ, INF, NAN, ODD_LAYOUTS, SAFE_LAYOUTS, Ragged, arrays, call, clean, kernel_dtype,
    names_argument, present, run_in_child, shapes)

# -- networks as plain data -------------------------------------------------------------------
# Every elementwise activation of the registry, with variants of their parameters; PReLU's
# slope is drawn, shared or one per unit. (A Layer also takes maxout and softmax, but a
# Network refuses them: tests/test_network.py checks that.)
ELEMENTWISE = [name for name in activations.available() if activations.get(name).elementwise]
VARIANTS = {"leaky_relu": [{"alpha": 0.3}], "elu": [{"alpha": 0.5}], "swish": [{"beta": 2.5}],
            "gelu": [{"approximate": "tanh"}, {"approximate": "sigmoid"}], "hard_sigmoid": [{"slope": 1 / 6}],
            "rrelu": [{"lower": 0.1, "upper": 0.2}]}
# binary_step jumps at 0: no rounding-error bound on z bounds its output, so the networks
# compared with the reference forward pass leave it out (the round trip keeps it).
CONTINUOUS = [name for name in ELEMENTWISE if name != "binary_step"]
NET_LOSSES = [("softmax_cross_entropy", ()), ("softmax_cross_entropy", (("reduction", "sum"),)),
              ("softmax_cross_entropy", (("label_smoothing", 0.1),)), ("cross_entropy", ()), ("nll", ()),
              ("squared_error", ()), ("mse", ()), ("mse", (("reduction", "sum"),)),
              ("binary_cross_entropy", ()), ("binary_cross_entropy", (("from_logits", True),)),
              ("hinge", ()), ("hinge", (("margin", 0.5), ("reduction", "sum")))]
CLASSIFIERS = ("softmax_cross_entropy", "hinge", "cross_entropy", "nll")
# scores, not probabilities: a classifier without predict_proba
NO_PROBABILITIES = ("hinge",)
assert {name for name, _ in NET_LOSSES} == set(nl.losses.available()), "a registered loss is not fuzzed"
ON_PROBABILITIES = ("cross_entropy", "binary_cross_entropy")  # want outputs in (0, 1): often a sigmoid on top


@dataclass(frozen=True)
class Blueprint:
    """A network as plain data, so that the very same network can be built again."""

    sizes: tuple[int, ...]                        # n_in, then n_out of each layer
    acts: tuple[tuple[str, tuple], ...]           # (name, parameter items) of each layer
    dtype: str
    loss: tuple[str, tuple]
    seed: int

    @property
    def is_classifier(self) -> bool:
        return self.loss[0] in CLASSIFIERS

    def build(self) -> nl.Network:
        layers = []
        for i, (name, items) in enumerate(self.acts):
            params = {k: np.array(v) if isinstance(v, tuple) else v for k, v in items}  # per-unit alpha
            layers.append(nl.Layer(self.sizes[i], self.sizes[i + 1], name, seed=self.seed + i,
                                   dtype=self.dtype, **params))
        net = nl.Network(layers, loss=nl.losses.get(self.loss[0], **dict(self.loss[1])), seed=self.seed)
        rng = np.random.default_rng(self.seed)
        for layer in net.layers:  # b starts at 0, which would hide a bias that is never added
            layer.b[...] = rng.normal(0.0, 0.5, layer.b.shape)
        return net


@st.composite
def blueprints(draw, pool=ELEMENTWISE, max_layers=3):
    loss = draw(st.sampled_from(NET_LOSSES))
    depth = draw(st.integers(1, max_layers))
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1)))
    acts = []
    for n_out in sizes[1:]:
        name = draw(st.sampled_from(pool))
        if name == "prelu":
            slope = st.floats(-0.5, 2.0, width=32)
            alpha = (tuple(draw(st.lists(slope, min_size=n_out, max_size=n_out))) if draw(st.booleans())
                     else draw(slope))
            items = (("alpha", alpha),)
        else:
            items = tuple(draw(st.sampled_from([{}, *VARIANTS.get(name, [])])).items())
        acts.append((name, items))
    if loss[0] == "cross_entropy":     # probabilities: the lecture's softmax output layer
        acts[-1] = ("softmax", ())
    elif loss[0] in ON_PROBABILITIES and not dict(loss[1]).get("from_logits") and draw(st.integers(0, 4)):
        acts[-1] = ("sigmoid", ())
    return Blueprint(sizes, tuple(acts), draw(st.sampled_from(["float64", "float32"])), loss,
                     draw(st.integers(0, 2**32)))


def parameters(net) -> dict[str, np.ndarray]:
    return {name: p.copy() for name, p, _ in net.named_parameters()}


def same_parameters(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes()
                                        for k in a)


# -- data: odd, and tame enough to train on ------------------------------------------------------
TAME_DTYPES = ["float64", "float32", "float16", "int64", "int8"]


def tame(draw, shape, low=-3.0, high=3.0, dtypes=TAME_DTYPES) -> np.ndarray:
    """Moderate finite numbers (ints for the int dtypes), so that training has a chance."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    n = math.prod(shape)
    numbers_ = st.integers(int(low), int(high)) if dtype.kind in "iu" else st.floats(low, high)
    return np.array(draw(st.lists(numbers_, min_size=n, max_size=n)), dtype).reshape(shape)


@st.composite
def samples(draw, n_in, layouts, empty=False):
    """X for a network with n_in inputs: (m, n_in) mostly, one sample (n_in,) or any shape now and then."""
    pick = draw(st.integers(0, 99))
    if pick == 99:  # past the 1024 samples of one evaluation chunk
        return present(tame(draw, (1100, n_in), dtypes=["float64", "float32"]), draw(st.sampled_from(layouts)))
    if pick == 98:
        return Ragged([[0.5] * n_in, [0.5] * (n_in + 1)])
    m = draw(st.integers(0 if empty else 1, 5))
    shape = (m, n_in) if pick < 80 else (n_in,) if pick < 90 else draw(shapes(empty=empty))
    if draw(st.booleans()):
        return present(tame(draw, shape), draw(st.sampled_from(layouts)))
    return draw(arrays(shape, layouts=layouts, empty=empty))[0]


def rows_of(X) -> int:
    """How many labels to make for X (a few for a huge-empty X, which is refused anyway)."""
    shape = np.shape(X) if not isinstance(X, Ragged) else (2,)
    m = shape[0] if len(shape) == 2 else 1
    return m if m <= 1100 else 3


LABEL_KINDS = ["right"] * 6 + ["shifted", "out_of_range", "negative", "fractional", "nonfinite", "length",
                               "2d", "bool", "str", "complex", "object", "scalar", "ragged"]


@st.composite
def class_labels(draw, m, k, layouts):
    """Labels 0..k-1 for m samples, often wrong: 1..k, out of range, negative, fractional,
    NaN, the wrong length, 2-d, bools, strings, complex, objects, a scalar, a ragged list."""
    kind = draw(st.sampled_from(LABEL_KINDS))
    raw = draw(st.lists(st.integers(0, k - 1), min_size=m, max_size=m))
    dtype = draw(st.sampled_from(["int64", "int32", "int8", "uint8", "uint64", "float64", "float32", "float16"]))
    if kind == "shifted":
        raw = [v + 1 for v in raw]
    elif kind in ("out_of_range", "negative", "fractional", "nonfinite") and raw:
        bad = {"out_of_range": [k, k + 5, 2**31, 2**63 - 1], "negative": [-1, -k, -2**63],
               "fractional": [0.5, k - 0.5, 1e-300], "nonfinite": [NAN, INF, -INF]}[kind]
        raw[draw(st.integers(0, m - 1))] = draw(st.sampled_from(bad))
        if kind in ("fractional", "nonfinite"):
            dtype = draw(st.sampled_from(["float64", "float32"]))
    elif kind == "length":
        raw = raw[:-1] if raw and draw(st.booleans()) else [*raw, 0]
    elif kind == "scalar":
        return raw[0] if raw else 0
    elif kind == "ragged":
        return Ragged([[0], [0, 1]])
    dtype = {"bool": "bool", "str": "str", "complex": "complex128", "object": "object"}.get(kind, dtype)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":  # what fits the dtype: the overflow of a cast is not the point here
        info = np.iinfo(dtype)
        raw = [min(max(v, info.min), info.max) for v in raw]
    with np.errstate(all="ignore"):
        y = np.array(raw, dtype=object).astype(dtype) if raw else np.zeros(0, dtype)
    if kind == "2d":
        y = y.reshape(-1, 1) if draw(st.booleans()) else y.reshape(1, -1)
    return present(y, draw(st.sampled_from(layouts)))


@st.composite
def regression_targets(draw, m, n_out, layouts, low=-2.0, high=2.0, empty=False):
    """Targets (m, n_out), or (m,) with one output; now and then any other shape; odd or tame."""
    pick = draw(st.integers(0, 9))
    shape = ((m, n_out) if pick < 7 else (m,) if pick < 9 else draw(shapes(empty=empty)))
    if draw(st.booleans()):
        return present(tame(draw, shape, low, high), draw(st.sampled_from(layouts)))
    return draw(arrays(shape, layouts=layouts, empty=empty))[0]


def targets_for(bp: Blueprint, m: int, layouts, empty=False):
    if bp.is_classifier:
        return class_labels(m, bp.sizes[-1], layouts)
    low = 0.0 if bp.loss[0] == "binary_cross_entropy" else -2.0
    return regression_targets(m, bp.sizes[-1], layouts, low, 2.0, empty)


def tame_data(draw, bp: Blueprint, m: int):
    """Clean (X, y) for a network: finite numbers, labels in range."""
    X = tame(draw, (m, bp.sizes[0]), dtypes=["float64", "float32"])
    k = bp.sizes[-1]
    if bp.is_classifier:
        return X, np.array(draw(st.lists(st.integers(0, k - 1), min_size=m, max_size=m)), np.int64)
    return X, tame(draw, (m, k), 0.0 if bp.loss[0] == "binary_cross_entropy" else -2.0, 1.0, ["float64"])


def quietly(fn):
    """Run `fn` with NumPy's floating-point warnings off (pytest turns warnings into errors):
    overflow on odd input is expected, and its results are checked, not its warnings."""
    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return quiet


# -- which errors an argument calls for ------------------------------------------------------------
# A fault is (exception type, names): the call must raise that type with one of the names.
Fault = tuple[type, tuple[str, ...]]


def count_faults(value, name: str, low: int = 1) -> set[Fault]:
    """A whole number >= low (epochs, batch_size, a patience)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return {(TypeError, (name,))}
    return {(ValueError, (name,))} if value < low else set()


def sample_faults(X, n_in: int, dtype: np.dtype, name: str = "X") -> tuple[set[Fault], np.ndarray | None]:
    """The faults of X as the samples of a network, or none and X as clean (m, n_in) rows."""
    if isinstance(X, str | bytes | Ragged) or kernel_dtype(X) is None:
        return {(TypeError, (name,))}, None
    A = clean(X, dtype)
    if A.ndim == 1 and A.shape[0] == n_in:
        A = A.reshape(1, -1)
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] != n_in or not np.isfinite(A).all():
        return {(ValueError, (name,))}, None
    return set(), A


def label_faults(y, m: int, k: int, name: str = "y") -> tuple[set[Fault], np.ndarray | None]:
    """The faults of y as m class labels 0..k-1, or none and the labels."""
    if isinstance(y, str | bytes | Ragged):
        return {(TypeError, (name,))}, None
    y = np.asarray(y)
    faults = set()
    if y.shape != (m,):
        faults.add((ValueError, (name,)))
    if y.dtype.kind in "US":   # named labels: the network's classes_ when there are k of them
        if faults or np.unique(y).shape[0] != k:
            return faults | {(ValueError, (name,))}, None
        return set(), np.searchsorted(np.unique(y), y).astype(np.intp)
    if y.dtype.kind not in "iuf":  # bools, objects, complex, dates
        faults.add((TypeError, (name,)))
    elif y.size:
        with np.errstate(all="ignore"):
            if not np.isfinite(y).all() or (y != np.round(y)).any() or y.min() < 0 or y.max() >= k:
                faults.add((ValueError, (name,)))
    return faults, None if faults else y.astype(np.intp)


def target_faults(y, m: int, n_out: int, dtype: np.dtype, name: str = "y") -> tuple[set[Fault], np.ndarray | None]:
    """The faults of y as regression targets (m, n_out) ((m,) with one output), or none and the rows."""
    if isinstance(y, str | bytes | Ragged) or kernel_dtype(y) is None:
        return {(TypeError, (name,))}, None
    r = clean(y, dtype)
    if r.ndim == 1 and n_out == 1:
        r = r.reshape(-1, 1)
    if r.shape != (m, n_out) or not np.isfinite(r).all():
        return {(ValueError, (name,))}, None
    return set(), r


def data_faults(net, X, y, x_name="X", y_name="y"):
    """(faults, clean X, clean y) of a pair (X, y) for `net`; y is only judged when X is fine."""
    faults, A = sample_faults(X, net.n_in, net.dtype, x_name)
    if faults:
        return faults, None, None
    if net.is_classifier:
        y_faults, target = label_faults(y, A.shape[0], net.n_out, y_name)
    else:
        y_faults, target = target_faults(y, A.shape[0], net.n_out, net.dtype, y_name)
    return y_faults, A, target


def check_outcome(exc, faults: set[Fault], what: str) -> None:
    """The call raised exactly when it had faults, and then one of them, naming its argument."""
    if not faults:
        assert exc is None, f"{what}: valid input raised {exc!r}"
        return
    assert exc is not None, f"{what}: accepted although it calls for {faults}"
    allowed = [name for kind, names in faults if isinstance(exc, kind) for name in names]
    assert allowed, f"{what}: raised {exc!r}, expected one of {faults}"
    assert names_argument(exc, allowed), f"{what}: the message does not name {allowed}: {exc}"


# -- the reference forward pass -------------------------------------------------------------------
def lipschitz(layer) -> float:
    """A bound on |f'| (with a margin): how much an error in z can grow in f(z)."""
    act = layer.activation
    if isinstance(act, activations.PReLU):
        return max(1.0, float(np.max(np.abs(layer.alpha))))  # the learned slope(s)
    if isinstance(act, activations.RReLU):
        return max(1.0, act.upper)
    if act.name == "softmax":   # |dy_i| <= 2 y_i (1 - y_i) max_j |dz_j| <= max_j |dz_j| / 2
        return 1.0
    with np.errstate(all="ignore"):
        slope = np.abs(act.derivative(np.linspace(-40.0, 40.0, 8001)))
    return 1.25 * max(1.0, float(np.max(slope)))


def f_reference(layer, z: np.ndarray) -> np.ndarray:
    """a = f(z) in float64: PReLU and RReLU (evaluation mode) written out, the others the
    activation's own forward, which the kernel tests check against mpmath."""
    act = layer.activation
    if isinstance(act, activations.PReLU):
        return np.where(z > 0, z, layer.alpha.astype(np.float64) * z)  # the learned slope(s)
    if isinstance(act, activations.RReLU):
        return np.where(z >= 0, z, (act.lower + act.upper) / 2 * z)   # the mean slope
    return act.forward(z)


def reference_forward(net, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a^(L) in float64 for the clean samples A, and a bound on the library's rounding error
    (inf where the library's dtype may overflow)."""
    info = np.finfo(net.dtype)
    eps, big = float(info.eps), float(info.max) / 4
    a = A.astype(np.float64)
    err = np.zeros_like(a)
    with np.errstate(all="ignore"):
        for layer in net.layers:
            W, b = layer.W.astype(np.float64), layer.b.astype(np.float64)
            z = a @ W.T + b
            size = np.abs(a) @ np.abs(W).T + np.abs(b)          # the scale of the sum's rounding
            err_z = err @ np.abs(W).T + (layer.n_in + 2) * eps * size
            err_z[~(size < big / (layer.n_in + 2))] = INF        # the library's sum may overflow
            if layer.activation.name == "softmax":   # every output depends on the whole row
                err_z = np.broadcast_to(err_z.max(axis=1, keepdims=True), err_z.shape)
            a = f_reference(layer, z)
            err = lipschitz(layer) * err_z + 16 * eps * np.abs(a) + 16 * float(info.tiny)
    return a, err


def assert_close(got, want, bound, what):
    """|got - want| <= bound wherever the bound is finite."""
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    checked = np.isfinite(bound)
    with np.errstate(all="ignore"):
        bad = checked & ~(np.abs(got - want) <= bound)
    assert not bad.any(), (f"{what}: {got[bad][:5]} but the reference gives {want[bad][:5]} "
                           f"(tolerance {bound[bad][:5]})")


def one_hot(labels, k):
    r = np.zeros((labels.shape[0], k))
    r[np.arange(labels.shape[0]), labels] = 1.0
    return r


def reference_loss(loss, y: np.ndarray, target: np.ndarray, delta: np.ndarray, dtype) -> tuple[float, float]:
    """J from the loss's formula in float64 for outputs y (rows: samples) that may be off by
    delta, and how far the library's J may then be from it (inf: not comparable)."""
    m, k = y.shape
    r = one_hot(target, k) if target.ndim == 1 else target.astype(np.float64)
    d = np.max(delta, axis=1)  # the worst error of a row's outputs
    eps = float(np.finfo(dtype).eps)
    with np.errstate(all="ignore"):
        if loss.name == "softmax_cross_entropy":
            s = loss.label_smoothing
            r = (1 - s) * r + s / k
            top = y.max(axis=1)
            lse = top + np.log(np.sum(np.exp(y - top[:, None]), axis=1))
            J = r.sum(axis=1) * lse - np.sum(r * y, axis=1)
            slope = 2 * d  # log-sum-exp and r.z move by at most d each (sum r = 1)
            size = np.abs(top) + np.sum(np.abs(r * y), axis=1) + math.log(k) + 1
        elif loss.name == "cross_entropy":
            terms = np.where(r != 0, -r * np.log(y), 0.0)   # 0 ln 0 = 0, as documented
            J = terms.sum(axis=1)
            slope = np.sum(np.where(r != 0, r * delta / (y - delta), 0.0), axis=1)
            slope[np.any((r != 0) & (y <= delta), axis=1)] = INF
            size = np.sum(np.abs(terms), axis=1) + 1
        elif loss.name == "nll":
            J = -np.sum(r * y, axis=1)
            slope = d
            size = np.sum(np.abs(r * y), axis=1) + 1
        elif loss.name == "hinge":
            y_c = np.sum(r * y, axis=1, keepdims=True)
            terms = (1 - r) * np.maximum(0.0, y - y_c + loss.margin)
            J = terms.sum(axis=1)
            slope = 2 * (k - 1) * d  # each violation moves by at most the error of y_k and y_c
            size = np.sum((1 - r) * (np.abs(y) + np.abs(y_c) + loss.margin), axis=1)
        elif loss.name in ("squared_error", "mse"):
            factor = 0.5 if loss.name == "squared_error" else 1.0 / k
            J = factor * np.sum((y - r) ** 2, axis=1)
            slope = factor * np.sum(2 * np.abs(y - r) * delta + delta**2, axis=1)
            size = factor * np.sum((np.abs(y) + np.abs(r)) ** 2, axis=1)
        elif loss.from_logits:
            J = np.sum(np.maximum(y, 0) - r * y + np.log1p(np.exp(-np.abs(y))), axis=1)
            slope = np.sum((1 + np.abs(r)) * delta, axis=1)
            size = np.sum(np.abs(y) + np.abs(r * y) + 1, axis=1)
        else:
            terms = (np.where(r != 0, -r * np.log(y), 0.0) + np.where(r != 1, -(1 - r) * np.log1p(-y), 0.0))
            J = terms.sum(axis=1)
            slope = np.sum(np.abs(r) * delta / (y - delta) + np.abs(1 - r) * delta / (1 - y - delta), axis=1)
            slope[np.any((y <= delta) | (1 - y <= delta), axis=1)] = INF
            size = np.sum(np.abs(terms), axis=1) + 1
    scale = 1.0 / m if loss.reduction == "mean" else 1.0
    tolerance = scale * (np.sum(slope) + 16 * eps * (m + k) * np.sum(size))
    if not np.all(size < float(np.finfo(dtype).max) / 4):
        tolerance = INF  # a term may overflow the library's dtype (the kernels compute in it)
    return float(np.sum(J) * scale), float(tolerance)


def assert_accuracy(got: float, ref: np.ndarray, bound: np.ndarray, labels: np.ndarray, what: str) -> None:
    """The share of rows whose largest reference output is the label's, up to near-ties."""
    rows = np.arange(len(labels))
    mine = ref[rows, labels]
    others = ref.copy()
    others[rows, labels] = -INF
    margin = 2 * np.max(bound, axis=1)
    with np.errstate(all="ignore"):
        others_top = others.max(axis=1)
        surely_right = (mine > others_top + margin) & np.isfinite(margin)
        surely_wrong = (mine < others_top - margin) & np.isfinite(margin)
    m = len(labels)
    low, high = np.count_nonzero(surely_right) / m, (m - np.count_nonzero(surely_wrong)) / m
    assert low <= got <= high, f"{what}: accuracy {got}, the reference gives {low}..{high}"


def assert_r2(got: float, ref: np.ndarray, bound: np.ndarray, r: np.ndarray, dtype, what: str) -> None:
    """R^2 = 1 - ss_res / ss_tot per output, averaged; outputs with ss_tot = 0 count 1 or 0."""
    eps = float(np.finfo(dtype).eps)
    m = r.shape[0]
    with np.errstate(all="ignore"):
        ss_res = np.sum((r - ref) ** 2, axis=0)
        centred = r - r.mean(axis=0)
        ss_tot = np.sum(centred**2, axis=0)
        # rounding of a size (|r| + |y|)^2 per term (the library squares in float64)
        d_res = np.sum(2 * np.abs(r - ref) * bound + bound**2, axis=0) + 8 * eps * m * np.sum(
            (np.abs(r) + np.abs(ref)) ** 2, axis=0)
        d_tot = 8 * eps * m * np.sum((np.abs(r) + np.abs(r.mean(axis=0))) ** 2, axis=0)
        value = 1 - ss_res / ss_tot
        spread = (d_res + np.abs(1 - value) * d_tot) / (ss_tot - d_tot)
        low = np.where(ss_tot > d_tot, value - spread, -INF)
        high = np.where(ss_tot > d_tot, value + spread, 1.0)
    if not (np.isfinite(ss_res).all() and np.isfinite(d_res).all()):
        return  # an overflow in the library's dtype: nothing to compare
    lo, hi = np.mean(low), np.mean(high)
    assert lo <= got <= hi or (math.isnan(got) and np.isnan(lo)), f"{what}: R^2 {got}, reference {lo}..{hi}"


# -- fit and partial_fit -------------------------------------------------------------------------------
BAD_COUNTS = [0, -1, True, 2.0, "2", None]
SPLITS = [0.0, 0, -0.0, 5e-324, 0.25, 0.5, 0.999, np.float32(0.25)]
BAD_SPLITS = [1.0, 1.5, -0.1, NAN, INF, True, "0.1", None, 1e308]
OPTIMIZERS = [None, "sgd", "adam", ("SGD", 0.1), ("Adam", 0.01), ("SGD", 1e6), "bogus", 3]
STOPPERS = [None, None, None, 0, 1, -1, True, "1", ("loss", 1), ("val_loss", 1), ("accuracy", 0),
            ("val_accuracy", 2)]


def make_optimizer(token):
    if isinstance(token, tuple):  # a fresh object per call: optimizers keep state
        return getattr(nl.optim, token[0])(token[1])
    return token


def make_stopper(token):
    if isinstance(token, tuple):
        return nl.EarlyStopping(patience=token[1], monitor=token[0])
    return token


@dataclass
class FitCase:
    bp: Blueprint
    method: str          # "fit" or "partial_fit"
    warm: bool           # partial_fit after a first epoch on other data
    X: object
    y: object
    kwargs: dict


@st.composite
def fit_cases(draw, layouts, empty=False):
    bp = draw(blueprints())
    X = draw(samples(bp.sizes[0], layouts, empty))
    y = draw(targets_for(bp, rows_of(X), layouts, empty))
    method = draw(st.sampled_from(["fit", "fit", "partial_fit"]))
    m = rows_of(X)
    kwargs = {"batch_size": draw(st.sampled_from([1, 2, 3, 32, m + 1, 2**62, np.int64(2), *BAD_COUNTS])),
              "optimizer": draw(st.sampled_from(OPTIMIZERS)), "shuffle": draw(st.booleans())}
    if method == "fit":
        kwargs["epochs"] = draw(st.sampled_from([1, 2, 3, np.uint8(2), *BAD_COUNTS]))
        kwargs["validation_split"] = draw(st.sampled_from(SPLITS + BAD_SPLITS))
        kwargs["early_stopping"] = draw(st.sampled_from(STOPPERS))
        kwargs["diagnostics"] = draw(st.booleans())
        pick = draw(st.integers(0, 9))
        if pick >= 7:
            X_val = draw(samples(bp.sizes[0], layouts, empty))
            kwargs["validation_data"] = (X_val, draw(targets_for(bp, rows_of(X_val), layouts, empty)))
        elif pick == 6:
            kwargs["validation_data"] = draw(st.sampled_from([3, "ab", (np.zeros((2, bp.sizes[0])),)]))
    return FitCase(bp, method, draw(st.booleans()), X, y, kwargs)


def fit_faults(net, case: FitCase, kw: dict) -> tuple[set[Fault], np.ndarray | None, bool]:
    """(faults, clean X, whether there is validation data) of a fit or partial_fit call with
    the keyword arguments `kw`."""
    faults = count_faults(kw["batch_size"], "batch_size")
    data, A, _ = data_faults(net, case.X, case.y)
    faults |= data
    opt = kw["optimizer"]
    if isinstance(opt, str) and opt.lower() not in ("sgd", "adam"):
        faults.add((ValueError, ("optimizer",)))
    elif not (opt is None or isinstance(opt, str | nl.optim.Optimizer)):
        faults.add((TypeError, ("optimizer",)))
    if case.method == "partial_fit":
        return faults, A, False
    faults |= count_faults(kw["epochs"], "epochs")
    split = kw["validation_split"]
    if isinstance(split, bool) or not isinstance(split, numbers.Real):
        faults.add((TypeError, ("validation_split",)))
        split = None
    elif not 0 <= split < 1:  # NaN too
        faults.add((ValueError, ("validation_split",)))
        split = None
    validation = False
    if "validation_data" in kw:
        if split:
            faults.add((ValueError, ("validation_data", "validation_split")))
        try:
            X_val, y_val = kw["validation_data"]
        except (TypeError, ValueError):
            faults.add((TypeError, ("validation_data",)))
        else:
            val_faults, _, _ = data_faults(net, X_val, y_val, "X_val", "y_val")
            faults |= val_faults
            validation = True
    elif split:
        validation = True
        if A is not None and math.ceil(float(split) * A.shape[0]) >= A.shape[0]:
            faults.add((ValueError, ("validation_split",)))
    stopper = kw["early_stopping"]
    if isinstance(stopper, bool) or not (stopper is None or isinstance(stopper, int | nl.EarlyStopping)):
        faults.add((TypeError, ("early_stopping",)))
    elif isinstance(stopper, int) and stopper < 0:
        faults.add((ValueError, ("patience",)))
    elif isinstance(stopper, nl.EarlyStopping):
        monitor = stopper.monitor or "loss"
        if monitor.startswith("val_") and not validation:
            faults.add((ValueError, ("validation_data", "validation_split")))
        if monitor.endswith("accuracy") and not net.is_classifier:
            # "early_stopping monitors 'accuracy', which needs a classifier ..."
            faults.add((ValueError, ("early_stopping", "classifier")))
    return faults, A, validation


def snapshot(net):
    return (parameters(net), net.history, None if net.history is None else net.history.epochs,
            net.optimizer, json.dumps(net.rng.bit_generator.state, default=str))


@quietly
def run_fit(case: FitCase) -> None:
    net = case.bp.build()
    k = net.n_out
    if case.method == "partial_fit" and case.warm:  # continue a history and an optimizer
        with contextlib.suppress(FloatingPointError):
            net.partial_fit(np.zeros((2, net.n_in)), np.zeros(2, np.int64) if net.is_classifier else np.zeros((2, k)))
    kwargs = {key: make_stopper(v) if key == "early_stopping" else make_optimizer(v) if key == "optimizer" else v
              for key, v in case.kwargs.items()}
    faults, A, validation = fit_faults(net, case, kwargs)
    before = snapshot(net)
    if case.method == "fit":
        kwargs["progress"] = False
    what = f"{net!r}.{case.method}"
    try:
        history, exc = call(getattr(net, case.method), case.X, case.y, **kwargs)
    except FloatingPointError:
        # diverged: documented; the weights are those of the last good epoch, and with no
        # epoch recorded in this call, those from before it
        assert not faults, f"{what}: diverged on input that calls for {faults}"
        params = parameters(net)
        assert all(np.isfinite(p).all() for p in params.values()), f"{what}: non-finite weights after divergence"
        if net.history.epochs == (before[2] or 0):
            assert same_parameters(params, before[0]), f"{what}: weights changed by a diverged call"
        return
    check_outcome(exc, faults, what)
    if exc is not None:
        after = snapshot(net)
        assert same_parameters(after[0], before[0]), f"{what}: {exc!r} raised after the weights changed"
        assert after[1:] == before[1:], f"{what}: {exc!r} raised after the history, optimizer or rng changed"
        return
    check_trained(net, case, history, before, A, validation)


def check_trained(net, case: FitCase, history, before, A, validation: bool) -> None:
    what = f"{net!r}.{case.method}"
    params = parameters(net)
    assert all(np.isfinite(p).all() for p in params.values()), f"{what}: non-finite weights after training"
    assert history is net.history
    n = history.epochs
    if case.method == "partial_fit":
        assert n == (before[2] or 0) + 1, f"{what}: {n} epochs recorded"
        diagnostics, epochs = True, n
    else:
        diagnostics, epochs = case.kwargs["diagnostics"], int(case.kwargs["epochs"])
        stops = case.kwargs["early_stopping"] is not None
        assert (1 <= n <= epochs) if stops else n == epochs, f"{what}: {n} epochs of {epochs}"
    lengths = {"loss": n, "accuracy": n if net.is_classifier else 0, "learning_rate": n,
               "prelu_alpha": n, "val_loss": n if validation else 0,
               "val_accuracy": n if validation and net.is_classifier else 0,
               "dead_relu": n if diagnostics else 0, "saturated": n if diagnostics else 0,
               "grad_norm": n if diagnostics else 0}
    for key, length in lengths.items():
        assert len(history[key]) == length, f"{what}: history.{key} has {len(history[key])} entries, not {length}"
    assert all(math.isfinite(v) for v in history.loss), f"{what}: loss {history.loss}"
    assert all(0 <= v <= 1 for v in history.accuracy + history.val_accuracy)
    predicted = net.predict(A)
    if net.is_classifier and net.classes_ is not None:   # the labels fit was given
        assert predicted.shape == (A.shape[0],) and predicted.dtype == net.classes_.dtype
        assert np.isin(predicted, net.classes_).all(), f"{what}: predicted labels {predicted}"
    elif net.is_classifier:
        assert predicted.shape == (A.shape[0],) and predicted.dtype.kind == "i"
        assert ((predicted >= 0) & (predicted < net.n_out)).all(), f"{what}: predicted classes {predicted}"
    else:
        assert predicted.shape == ((A.shape[0],) if net.n_out == 1 else (A.shape[0], net.n_out))
    # One full batch, no held-out samples, no random slopes: the first epoch's loss is J at
    # the weights the call started from, which the reference computes. (binary_step jumps,
    # RReLU draws slopes: no bound on their outputs. With reduction "sum" history.loss is
    # the sum divided by the number of samples, but val_loss is the sum: not checked here.)
    one_batch = case.kwargs["batch_size"] >= A.shape[0] and case.method == "fit"
    if one_batch and not validation and net.loss.reduction == "mean" and all(
            layer.activation.name in CONTINUOUS and layer.activation.name != "rrelu" for layer in net.layers):
        start = case.bp.build()
        ref, bound = reference_forward(start, A)
        _, _, target = data_faults(start, case.X, case.y)
        J, tolerance = reference_loss(start.loss, ref, target, bound, start.dtype)
        if math.isfinite(tolerance):
            assert abs(history.loss[0] - J) <= tolerance, f"{what}: first loss {history.loss[0]}, reference {J}"


@FUZZ
@given(fit_cases(SAFE_LAYOUTS))
def test_fit_and_partial_fit(case):
    """Odd X, y and hyper-parameters: training works (finite weights, a complete history,
    classes in range) or a TypeError/ValueError naming the argument, raised before any change."""
    run_fit(case)


# -- predict, predict_proba, score, evaluate, forward --------------------------------------------------
@st.composite
def predict_cases(draw, layouts, empty=False):
    bp = draw(blueprints(pool=CONTINUOUS))
    X = draw(samples(bp.sizes[0], layouts, empty))
    y = draw(targets_for(bp, rows_of(X), layouts, empty))
    return bp, draw(st.sampled_from(["predict", "predict_proba", "score", "evaluate", "forward"])), X, y


@quietly
def run_predict(bp: Blueprint, method: str, X, y) -> None:
    net = bp.build().eval()  # forward() follows the mode; the others always evaluate
    before = parameters(net)
    args = (X, y) if method in ("score", "evaluate") else (X,)
    what = f"{net!r}.{method}"
    got, exc = call(getattr(net, method), *args)
    assert same_parameters(parameters(net), before), f"{what} changed the parameters"
    if method == "predict_proba" and (not net.is_classifier or net.loss.name in NO_PROBABILITIES):
        assert isinstance(exc, ValueError) and "predict_proba" in str(exc), f"{what}: {exc!r}"
        return
    if method in ("score", "evaluate"):
        faults, A, target = data_faults(net, X, y)
    else:
        faults, A = sample_faults(X, net.n_in, net.dtype)
    check_outcome(exc, faults, what)
    if exc is not None:
        return
    ref, bound = reference_forward(net, A)
    if method == "forward":
        assert got.dtype == net.dtype
        assert_close(got, ref, bound, what)
    elif method == "predict" and net.is_classifier:
        assert got.shape == (A.shape[0],) and got.dtype.kind == "i"
        assert ((got >= 0) & (got < net.n_out)).all(), f"{what}: classes {got}"
        assert_accuracy(1.0, ref, bound, got, what)  # each predicted class is a top output
    elif method == "predict":
        assert_close(got, ref[:, 0] if net.n_out == 1 else ref, bound[:, 0] if net.n_out == 1 else bound, what)
    elif method == "predict_proba":
        eps = float(np.finfo(net.dtype).eps)
        d = np.max(bound, axis=1, keepdims=True)
        with np.errstate(all="ignore"):
            if net.loss.name == "softmax_cross_entropy":
                p = np.exp(ref - ref.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                tolerance = 2 * d + 16 * eps
            elif net.loss.name == "nll":  # outputs are ln p
                p = np.exp(ref)
                tolerance = p * np.expm1(bound) + 16 * eps * p + 16 * float(np.finfo(net.dtype).tiny)
                tolerance[p > float(np.finfo(net.dtype).max) / 4] = INF  # e^out may overflow the dtype
            else:
                p, tolerance = ref, bound
        assert_close(got, p, np.broadcast_to(tolerance, p.shape), what)
    else:
        if net.is_classifier:
            accuracy = got if method == "score" else got["accuracy"]
            assert_accuracy(accuracy, ref, bound, target, what)
            predicted = net.predict(A)
            labels = target if net.classes_ is None else net.classes_[target]   # predict gives labels
            assert accuracy == np.mean(predicted == labels), f"{what} disagrees with predict"
        else:
            r2 = got if method == "score" else got["r2"]
            assert_r2(r2, ref, bound, target.astype(np.float64), net.dtype, what)
        if method == "evaluate":
            assert set(got) == {"loss", "data_loss", "accuracy" if net.is_classifier else "r2"}
            # no L2 penalty in these networks (both NaN when the outputs leave the loss's domain)
            assert got["loss"] == got["data_loss"] or (math.isnan(got["loss"]) and math.isnan(got["data_loss"]))
            J, tolerance = reference_loss(net.loss, ref, target, bound, net.dtype)
            if math.isfinite(tolerance) and math.isfinite(J):
                assert abs(got["loss"] - J) <= tolerance, f"{what}: loss {got['loss']}, reference {J}"


@FUZZ
@given(predict_cases(SAFE_LAYOUTS))
def test_predict_score_evaluate(case):
    """The network's outputs agree with a float64 forward pass written out in NumPy."""
    run_predict(*case)


# -- the crash-prone layouts, in a child process ----------------------------------------------------------
@FUZZ
@given(data=st.data())
def fuzz_network_layouts(data):
    """Negative, zero (broadcast) and non-unit strides, transposes, empty and huge-empty shapes."""
    if data.draw(st.booleans()):
        run_fit(data.draw(fit_cases(ODD_LAYOUTS + SAFE_LAYOUTS, empty=True)))
    else:
        run_predict(*data.draw(predict_cases(ODD_LAYOUTS + SAFE_LAYOUTS, empty=True)))


# -- same seed, same weights --------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
@quietly
def test_same_seed_gives_the_same_bits(data):
    """Two networks built alike and trained alike end with the same bits, whatever layout the
    second one's data come in (a list, Fortran order, reversed strides, ...)."""
    draw = data.draw
    bp = draw(blueprints())
    X, y = tame_data(draw, bp, draw(st.integers(1, 12)))
    kwargs = {"epochs": draw(st.integers(1, 3)), "batch_size": draw(st.sampled_from([1, 3, 32])),
              "shuffle": draw(st.booleans()), "validation_split": draw(st.sampled_from([0.0, 0.3])),
              "early_stopping": draw(st.sampled_from([None, 1])), "progress": False}
    if kwargs["validation_split"] and math.ceil(0.3 * len(X)) >= len(X):
        kwargs["validation_split"] = 0.0
    optimizer = draw(st.sampled_from([("SGD", 0.05), ("Adam", 0.01), ("RMSProp", 0.01), ("Adagrad", 0.1)]))
    same_numbers = [layout for layout in ODD_LAYOUTS + SAFE_LAYOUTS if layout != "broadcast"]
    layouts = draw(st.sampled_from(same_numbers)), draw(st.sampled_from(same_numbers))
    results = []
    for X_as, y_as in [(X, y), (present(X, layouts[0]), present(y, layouts[1]))]:
        net = bp.build()
        try:
            history = net.fit(X_as, y_as, optimizer=make_optimizer(optimizer), **kwargs)
            outcome = (history.loss, history.val_loss, history.best_epoch)
        except FloatingPointError as exc:
            outcome = str(exc)
        results.append((outcome, parameters(net)))
    (first, params), (second, params_again) = results
    assert repr(first) == repr(second), f"{layouts}: {first} then {second}"  # repr: nan == nan
    assert same_parameters(params, params_again), f"{layouts}: different weights"


# -- save and load ---------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
@quietly
def test_save_load_round_trip(data):
    """Any network (every elementwise activation, PReLU shared and per unit, RReLU, both dtypes,
    every loss), trained or not, comes back bit for bit: parameters, config, outputs, and
    its training state (optimizer buffers, history, generators)."""
    draw = data.draw
    bp = draw(blueprints())
    net = bp.build()
    X, y = tame_data(draw, bp, draw(st.integers(1, 6)))
    if draw(st.booleans()):
        try:  # PReLU slopes, RReLU generators and weights away from their start
            net.fit(X, y, epochs=1, batch_size=2, optimizer="adam", progress=False)
        except FloatingPointError:
            pass
    name = draw(st.sampled_from(["net.npz", "net", "a net ü.npz"]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        net.save(path if draw(st.booleans()) else str(path))
        loaded = nl.Network.load(path)
        loaded.save(Path(tmp) / "again.npz")
        again = nl.Network.load(Path(tmp) / "again.npz")
    for other in (loaded, again):
        assert other.config() == net.config()
        assert same_parameters(parameters(other), parameters(net))
        assert other.loss == net.loss
        assert other.rng.bit_generator.state == net.rng.bit_generator.state
        assert (other.history is None) == (net.history is None) and (other.optimizer is None) == (
            net.optimizer is None)
        if net.history is not None:
            assert repr(other.history.loss) == repr(net.history.loss)  # repr: nan == nan
            assert same_parameters(other.optimizer.state(other.theta), net.optimizer.state(net.theta))
        for a, b in zip(other.layers, net.layers, strict=True):
            # a shared PReLU slope lives in layer.alpha (compared above); the activation's
            # copy is refreshed by each forward pass
            shared_prelu = isinstance(b.activation, activations.PReLU) and not b.activation.per_unit
            assert a.activation.params.keys() == b.activation.params.keys() if shared_prelu else (
                a.activation == b.activation), f"{a.activation!r} after load, {b.activation!r} before"
        probabilities = net.is_classifier and net.loss.name not in NO_PROBABILITIES
        for method in ("predict", "forward") + (("predict_proba",) if probabilities else ()):
            want = getattr(net.eval(), method)(X)
            got = getattr(other.eval(), method)(X)
            assert want.dtype == got.dtype and want.tobytes() == got.tobytes(), (
                f"{method} after load: {want!r} before, {got!r} after; called again: "
                f"{getattr(net, method)(X)!r} before, {getattr(other, method)(X)!r} after")


class RunsCode:
    """Unpickled, this would create the file `marker`: loading must never unpickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def npy_bytes(array, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_header_only(shape, descr="<f8") -> bytes:
    """A .npy whose header promises `shape` but holds 16 bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(16)


def rezip(good: bytes, replace: dict[str, bytes | None]) -> bytes:
    """The npz `good` with members replaced (None: dropped) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for member in zin.namelist():
            if member not in replace:
                zout.writestr(member, zin.read(member))
        for member, content in replace.items():
            if content is not None:
                zout.writestr(member, content)
    return out.getvalue()


def config_edits(config: dict) -> list:
    """Configs that are not a loadable network, each breaking one thing (a copy each)."""
    layer = config["layers"][0]

    def with_layer(**changes):
        return {**config, "layers": [{**layer, **changes}, *config["layers"][1:]]}

    return [
        {**config, "version": 3}, {**config, "version": 99}, {**config, "version": "1"},
        {**config, "version": None}, {**config, "version": 0}, {**config, "format": "other"},
        {k: v for k, v in config.items() if k != "format"}, {**config, "layers": []}, {**config, "layers": 5},
        {**config, "layers": [*config["layers"], layer]}, with_layer(n_in=10**12), with_layer(n_out=10**12),
        with_layer(n_in=10**5, n_out=10**5), with_layer(n_in=-1), with_layer(n_in="2"), with_layer(n_in=None),
        with_layer(activation="nope"), with_layer(activation="softmax"), with_layer(activation=["relu"]),
        with_layer(activation="maxout", activation_params={"pieces": 10**9}),
        with_layer(activation_params={"bogus": 1}), with_layer(activation_params=[1]),
        with_layer(dtype="float16"), with_layer(dtype="object"), with_layer(dtype="bogus"),
        with_layer(dtype="(1000000000,)f8"), with_layer(dtype={"names": ["a"], "formats": ["f8"]}),
        {**config, "loss": {"name": "nope", "params": {}}}, {**config, "loss": {"name": "mse", "params": []}},
        {**config, "loss": {"name": "mse", "params": {"reduction": "none"}}},
        {k: v for k, v in config.items() if k != "loss"}, [config], "network", 1e308,
    ]


CONFIG_TEXTS = ["{", "", "[" * 100_000 + "]" * 100_000, '{"format": NaN}', "\x00", "null"]


def foreign_files(marker: Path) -> dict[str, bytes]:
    """Files that are no network file at all (the pickles would create `marker` if run)."""
    npz, zipped = io.BytesIO(), io.BytesIO()
    np.savez(npz, weights=np.ones(3))
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("readme.txt", "not a network")
    return {"empty": b"", "text": b"layers: 2\n", "npy": npy_bytes(np.ones(3)),
            "pickle": pickle.dumps(RunsCode(marker)),
            "npy_pickled": npy_bytes(np.array([RunsCode(marker)], dtype=object), allow_pickle=True),
            "foreign_npz": npz.getvalue(), "zip_not_npz": zipped.getvalue()}


def damaged_files(good: bytes, config: dict, marker: Path) -> dict[str, bytes]:
    """The saved network `good` with one entry replaced, dropped or added, or its config
    altered: each is a ValueError to load."""
    members = zipfile.ZipFile(io.BytesIO(good)).namelist()
    entries = {"wrong_shape": npy_bytes(np.ones((7, 3))), "float16": npy_bytes(np.ones(2, np.float16)),
               "0-d": npy_bytes(np.array(1.5)), "strings": npy_bytes(np.array(["x"])), "empty": npy_bytes(np.zeros(0)),
               "ints": npy_bytes(np.ones((2, 2), np.int64)),
               "pickled": npy_bytes(np.array([RunsCode(marker)], dtype=object), allow_pickle=True),
               "8 TiB": npy_header_only((2**40,)), "800 MB": npy_header_only((10**8,)),
               "overflowing": npy_header_only((3, 2**62)), "objects": npy_header_only((2,), "|O"),
               "no bytes": b"", "not npy": b"\x93NUMPY\x01\x00garbage"}
    text = json.dumps(config)
    configs = {**{f"text {t[:8]!r}": np.array(t) for t in CONFIG_TEXTS},
               **{f"edit {i}": np.array(json.dumps(c)) for i, c in enumerate(config_edits(config))},
               "two strings": np.array([text, text]), "bytes": np.array(text.encode()), "int": np.array(3),
               "matrix": np.zeros((2, 2)), "vector": np.array([1, 2, 3])}
    files = {f"{member} <- {what}": rezip(good, {member: content})
             for member in members for what, content in entries.items()}
    files |= {f"drop {member}": rezip(good, {member: None}) for member in members}
    files |= {f"add {name}": rezip(good, {name: npy_bytes(np.ones(5))})  # 5: no layer has as many units
              for name in ["extra.npy", "layer9.W.npy", "layer0.alpha.npy"]}
    files |= {f"config {what}": rezip(good, {"config.npy": npy_bytes(value)}) for what, value in configs.items()}
    files |= {f"header {what}": patch_first_entry(good, field, value) for what, field, value in HEADER_PATCHES}
    return files


# Fields of a zip entry's headers (offsets in the local header; the central directory's
# copy sits 2 bytes further on) that zipfile refuses with errors of its own.
HEADER_PATCHES = [("encrypted", 6, 1), ("patched data", 6, 32), ("strong encryption", 6, 64),
                  ("version 25.5", 4, 255), ("deflate", 8, 8), ("bzip2", 8, 12), ("lzma", 8, 14),
                  ("unknown method", 8, 99)]


def patch_first_entry(good: bytes, field: int, value: int) -> bytes:
    """`good` with one byte of the first entry's local header and of its central-directory
    record set to `value`: only the headers change, so the CRC checks still pass."""
    patched = bytearray(good)
    patched[field] = value  # the first local header starts the file
    central = good.index(b"PK\x01\x02")
    patched[central + field + 2] = value
    return bytes(patched)


def recompressed(good: bytes, method: int) -> bytes:
    """The same entries, compressed (an .npz from numpy.savez_compressed loads too)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w", method) as zout:
        for member in zin.namelist():
            zout.writestr(member, zin.read(member))
    return out.getvalue()


def assert_load_fails(path: Path, marker: Path, what: str, original=None) -> None:
    """Loading `path` is a ValueError naming it, runs no pickled code and does not crash;
    with `original`, getting that very network back is also fine (flipped zip metadata)."""
    loaded, exc = call(nl.Network.load, path)
    assert not marker.exists(), f"{what}: loading ran pickled code"
    if exc is not None:
        assert isinstance(exc, ValueError) and str(path) in str(exc), f"{what}: {exc!r}"
        return
    assert original is not None, f"{what}: a damaged file was loaded"
    assert loaded.config() == original.config() and same_parameters(parameters(loaded), parameters(original)), \
        f"{what} gave a different network"


@FUZZ
@given(data=st.data())
def fuzz_load_corrupted(data):
    """Random damage to random networks' files: truncated at any byte, bytes flipped (also
    in a compressed copy), random bytes, and a random pick of the foreign and damaged files
    of `every_corrupted_file`."""
    draw = data.draw
    net = draw(blueprints(max_layers=2)).build()
    with tempfile.TemporaryDirectory() as tmp:
        good_path, path, marker = Path(tmp) / "good.npz", Path(tmp) / "bad.npz", Path(tmp) / "marker"
        net.save(good_path)
        good = good_path.read_bytes()
        kind = draw(st.sampled_from(["truncate", "flip", "flip", "random", "foreign", "damaged"]))
        if kind == "flip" and draw(st.booleans()):  # the decompressors meet the damage too
            good = recompressed(good, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                                            zipfile.ZIP_LZMA])))
        if kind == "truncate":
            content = good[:draw(st.integers(0, len(good) - 1))]
        elif kind == "flip":
            flipped = bytearray(good)
            for _ in range(draw(st.integers(1, 8))):
                flipped[draw(st.integers(0, len(good) - 1))] ^= draw(st.integers(1, 255))
            content = bytes(flipped)
        elif kind == "random":
            content = draw(st.binary(min_size=1, max_size=300))
        else:
            files = foreign_files(marker) if kind == "foreign" else damaged_files(good, net.config(), marker)
            kind = draw(st.sampled_from(sorted(files)))
            content = files[kind]
        path.write_bytes(content)
        assert_load_fails(path, marker, kind, net if kind == "flip" else None)


def every_corrupted_file():
    """Each foreign and damaged file once (for a network with a PReLU, an RReLU and a
    sigmoid, trained so that its file holds an optimizer's buffers and a history of PReLU
    slopes), and a directory: the fast profile's few random draws do not meet them all."""
    net = Blueprint((2, 3, 2, 2), (("prelu", (("alpha", (0.1, 0.2, 0.3)),)), ("rrelu", ()), ("sigmoid", ())),
                    "float32", ("softmax_cross_entropy", ()), 0).build()
    net.fit(np.eye(2, dtype=np.float32), [0, 1], epochs=2, optimizer="adam", progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        good_path, path, marker = Path(tmp) / "good.npz", Path(tmp) / "bad.npz", Path(tmp) / "marker"
        net.save(good_path)
        files = foreign_files(marker) | damaged_files(good_path.read_bytes(), net.config(), marker)
        for what, content in files.items():
            path.write_bytes(content)
            assert_load_fails(path, marker, what)
        path.unlink()
        path.mkdir()
        assert_load_fails(path, marker, "a directory")


# -- the single neurons --------------------------------------------------------------------------------------
def binary_label_faults(y, m: int) -> tuple[set[Fault], np.ndarray | None]:
    """The faults of y as m labels 0/1 (a column or row of m also does)."""
    if isinstance(y, str | bytes | Ragged):
        return {(TypeError, ("y",))}, None
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        return {(TypeError, ("y",))}, None
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.shape != (m,):
        return {(ValueError, ("y",))}, None
    with np.errstate(all="ignore"):
        if not ((y == 0) | (y == 1)).all():
            return {(ValueError, ("y",))}, None
    return set(), y.astype(np.float64)


@st.composite
def neuron_cases(draw, layouts):
    cls = draw(st.sampled_from([nl.Perceptron, nl.LogisticNeuron]))
    n = draw(st.integers(1, 4))
    X = draw(samples(n, layouts))
    m = rows_of(X)
    if draw(st.booleans()):
        y = present(np.array(draw(st.lists(st.integers(0, 1), min_size=m, max_size=m)),
                             draw(st.sampled_from(["int64", "bool", "float32", "uint8"]))),
                    draw(st.sampled_from(layouts)))
    else:
        y = draw(class_labels(m, 2, layouts))
    kwargs = {"epochs": draw(st.sampled_from([1, 3, *BAD_COUNTS]))}
    if cls is nl.LogisticNeuron:
        kwargs["batch_size"] = draw(st.sampled_from([None, 1, 2, 2**62, 0, 1.5]))
    return cls, n, X, y, kwargs, draw(st.integers(0, 2**32))


@FUZZ
@given(neuron_cases(SAFE_LAYOUTS))
@quietly
def test_neurons(case):
    """Perceptron and LogisticNeuron: fit on odd input trains or fails cleanly before any
    change; predict equals step(X w + b) (perceptron) and predict_proba sigmoid(X w + b)."""
    cls, n, X, y, kwargs, seed = case
    neuron = cls(n, seed=seed)
    weights, bias = neuron.weights.copy(), neuron.bias
    faults, A = sample_faults(X, n, np.dtype(np.float64))
    if not faults:
        faults, _ = binary_label_faults(y, A.shape[0])
    faults |= count_faults(kwargs["epochs"], "epochs")
    if kwargs.get("batch_size") is not None:
        faults |= count_faults(kwargs["batch_size"], "batch_size")
    what = f"{cls.__name__}.fit"
    got, exc = call(neuron.fit, X, y, **kwargs)
    check_outcome(exc, faults, what)
    if exc is not None:
        assert np.array_equal(neuron.weights, weights) and neuron.bias == bias, f"{what}: weights changed"
        return
    assert got is neuron and np.isfinite(neuron.weights).all() and math.isfinite(neuron.bias)
    z = A @ neuron.weights + neuron.bias  # the same float64 products as the library's
    if cls is nl.Perceptron:
        assert 1 <= len(neuron.mistakes) <= kwargs["epochs"]
        assert neuron.converged == (neuron.mistakes[-1] == 0)
        assert np.array_equal(neuron.predict(X), (z >= 0).astype(np.int64))
    else:
        assert len(neuron.losses) == kwargs["epochs"]
        with np.errstate(over="ignore"):
            p = 1 / (1 + np.exp(-z))
        assert_close(neuron.predict_proba(X), p, 4 * np.finfo(float).eps * p + 1e-300, f"{cls.__name__}.predict_proba")


# -- crash-prone groups in a child process ---------------------------------------------------------------------
CHILD_GROUPS = ["fuzz_network_layouts", "fuzz_load_corrupted", "every_corrupted_file"]


@pytest.mark.parametrize("group", CHILD_GROUPS)
def test_crash_prone_cases_in_a_child_process(group):
    run_in_child(__file__, group)


if __name__ == "__main__":
    globals()[sys.argv[1]]()
