"""Property-based fuzzing of every public array function: odd inputs give the right answer
or a clear TypeError/ValueError, never a wrong number and never a crash.

The oracle is the library itself on clean input: each call is made twice, once on the odd
input (a strange dtype, memory layout, a Python list, +-inf, NaN, subnormals, +-1e308,
``out=`` aliasing an input ...) and once on a C-contiguous copy of it in the dtype the
kernels compute in. The two must agree to the last bit (the kernels see the same numbers
in the same order), or the odd call must raise TypeError/ValueError with a message that
names the offending argument. Dtypes no kernel takes (complex, object, strings, dates,
extended precision) must raise TypeError.

Cases that could crash the interpreter if a check were missing (``out=`` aliasing,
negative and zero strides, out-of-range labels, empty and huge shapes) run in a child
process, one per group of generated cases, so that a segfault fails one test instead of
killing the run.

Hypothesis profiles, chosen with the environment variable ``NEURONLAB_FUZZ``:
``fast`` (default, what ``make test`` runs, the whole file in well under a minute) and
``fuzz`` (``make fuzz``: about 10^5 examples over all the tests of this file and of
tests/test_fuzz_network.py, which fuzzes the models with the strategies defined here).
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neuronlab as nl
from neuronlab import activations, losses, softmax

# -- profiles ------------------------------------------------------------------------------
# The fuzz budget is split evenly over the property tests (N_PROPERTIES of them, those
# run in a child process included: 8 here and 7 in tests/test_fuzz_network.py, which
# shares this file's profiles), so that `make fuzz` runs about 10^5 examples in all.
N_PROPERTIES = 8 + 7
PROFILE = os.environ.get("NEURONLAB_FUZZ", "fast")
settings.register_profile("neuronlab-fast", max_examples=60, deadline=None, derandomize=False,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("neuronlab-fuzz", max_examples=100_000 // N_PROPERTIES, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
if PROFILE not in ("fast", "fuzz"):
    raise RuntimeError(f"NEURONLAB_FUZZ must be 'fast' or 'fuzz', got {PROFILE!r}")
# A decorator, not settings.load_profile(): the other test files keep their own settings.
FUZZ = settings(settings.get_profile(f"neuronlab-{PROFILE}"))

# -- odd numbers -----------------------------------------------------------------------------
INF, NAN = math.inf, math.nan
TINY = 5e-324                    # the smallest subnormal double
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, INF, -INF, NAN, TINY, -TINY, 1e-310, -2.2e-308,
           1e308, -1e308, 1.7976931348623157e308, 20.0, -20.0, 88.8, -103.9, 709.8, -745.2]
values = st.one_of(st.sampled_from(SPECIAL), st.floats(-30, 30), st.floats())

# A kernel takes these dtypes (converted as _validation.float_dtype says) ...
ACCEPTED = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64"]
# ... and must refuse these with a TypeError.
REFUSED = ["longdouble", "complex64", "complex128", "object", "str", "bytes", "datetime64[s]",
           "timedelta64[ms]"]
DTYPES = ACCEPTED + REFUSED

# Layouts that are safe in-process; the crash-prone ones run in the child process.
SAFE_LAYOUTS = ["C", "F", "readonly", "list"]
ODD_LAYOUTS = ["reversed", "strided", "broadcast", "transposed"]


def kernel_dtype(a) -> np.dtype | None:
    """The dtype the library computes `a` in, or None where it must raise TypeError."""
    if isinstance(a, Ragged):
        return None
    dt = np.asarray(a).dtype
    if dt.kind in "biu":
        return np.dtype(np.float64)
    if dt in (np.float16, np.float32):
        return np.dtype(np.float32)
    if dt == np.float64:
        return dt
    return None


class Ragged(list):
    """A nested list whose rows differ in length: no array at all."""


@st.composite
def shapes(draw, min_side=1, max_dims=3, empty=False):
    dims = draw(st.lists(st.integers(0 if empty else min_side, 4), min_size=0, max_size=max_dims))
    if empty and draw(st.booleans()):  # an empty array with a huge other side
        dims = [*dims, 0, draw(st.sampled_from([2**31, 2**40, 2**50]))]
        dims = draw(st.permutations(dims))
    return tuple(dims)


def _numbers(draw, shape, dtype: np.dtype) -> np.ndarray:
    """A C-contiguous array of `shape` and `dtype` with odd values where the dtype has them."""
    n = math.prod(shape)
    if dtype.kind == "b":
        flat = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        ints = st.one_of(st.sampled_from([0, 1, info.min, info.max]), st.integers(info.min, info.max))
        flat = np.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype)
    elif dtype.kind in "Mm":
        flat = np.arange(n).astype(dtype)
    else:
        base = np.array(draw(st.lists(values, min_size=n, max_size=n)), np.float64)
        with np.errstate(all="ignore"):
            if dtype.kind == "c":
                flat = (base + 1j * base[::-1]).astype(dtype)
            elif dtype.kind in "OUS":
                flat = base.astype(object).astype(dtype)
            else:
                flat = base.astype(dtype)  # float16/32 overflow to inf: still odd numbers
    return flat.reshape(shape)


@st.composite
def arrays(draw, shape=None, dtypes=DTYPES, layouts=SAFE_LAYOUTS, empty=False):
    """(odd input, its layout): an array in `dtypes` presented in one of `layouts`."""
    if shape is None:
        shape = draw(shapes(empty=empty))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    a = _numbers(draw, shape, dtype)
    layout = draw(st.sampled_from(layouts))
    if a.ndim == 0 and layout != "C" and draw(st.booleans()):
        return (a.item() if draw(st.booleans()) else a[()]), "scalar"
    return present(a, layout), layout


def present(a: np.ndarray, layout: str):
    """The same numbers in another memory layout (or as a Python list)."""
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
        return a
    if layout == "list" and math.prod(n for n in a.shape if n) < 10**4:  # not (0, 2**40): 2**40 lists
        return a.tolist()
    if a.ndim == 0:
        return a
    if layout == "reversed":  # negative strides on every axis
        return a[(slice(None, None, -1),) * a.ndim].copy()[(slice(None, None, -1),) * a.ndim]
    if layout == "strided":  # every other element of a bigger array
        big = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    if layout == "transposed":
        return a.T.copy().T
    if layout == "broadcast" and a.shape[0] > 0:  # the first row repeated: zero stride
        return np.broadcast_to(a[:1], a.shape)
    return a


def clean(a, dtype: np.dtype | None = None):
    """The reference input: a fresh C-contiguous array in the kernel dtype."""
    dtype = kernel_dtype(a) if dtype is None else dtype
    with np.errstate(all="ignore"):  # 1e308 becomes inf in float32, as in the library
        return np.array(np.asarray(a), dtype=dtype, order="C", copy=True)


# -- the oracle ------------------------------------------------------------------------------
def names_argument(exc: BaseException, names) -> bool:
    return any(re.search(rf"\b{re.escape(n)}\b", str(exc)) for n in names)


def call(fn, *args, **kwargs):
    """(result, None) or (None, exception) for TypeError/ValueError; anything else fails."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # results are compared, not warnings
            return fn(*args, **kwargs), None
    except (TypeError, ValueError) as exc:
        return None, exc


def same(got, want, what=""):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for g, w in zip(got, want, strict=True):
            same(g, w, what)
        return
    if want is None or isinstance(want, float):
        assert (got is None) == (want is None), what
        if want is not None:
            np.testing.assert_equal(got, want, err_msg=what)
        return
    got = np.asarray(got)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    np.testing.assert_array_equal(got, want, err_msg=what, strict=True)


def check(fn, odd: dict, reference: dict, *, refused: list[str], strict: tuple = (), **kwargs):
    """Call fn(**odd) and fn(**reference) and compare as the module docstring says.

    `refused` names the odd arguments whose dtype no kernel takes; `strict` names
    arguments that are documented to need exact arrays (any TypeError/ValueError that
    names them is then acceptable).
    """
    names = list(odd)
    got, exc = call(fn, **odd, **kwargs)
    if refused:
        # a TypeError about a refused argument, or a ValueError about another argument
        # (or a strict one) that was checked first
        assert exc is not None, f"{refused} has a dtype no kernel takes, but the call gave {got!r}"
        blamed = [*refused, *strict] if isinstance(exc, TypeError) else [*(set(names) - set(refused)), *strict]
        assert names_argument(exc, blamed), f"{refused} refused, but the message blames {exc!r}"
        return
    want, want_exc = call(fn, **reference, **kwargs)
    if exc is not None and names_argument(exc, strict):
        return
    if want_exc is not None:
        assert exc is not None, f"clean input raised {want_exc!r}, odd input gave {got!r}"
        assert type(exc) is type(want_exc), f"{exc!r} but the clean input raised {want_exc!r}"
        assert names_argument(exc, [*names, "out", "pieces", "axis"]), f"unnamed argument: {exc}"
        return
    assert exc is None, f"odd input raised {exc!r}; the clean copy gave a result"
    same(got, want, f"{fn.__qualname__}({', '.join(names)})")


# -- what is fuzzed ------------------------------------------------------------------------
def all_activations() -> list[activations.Activation]:
    made = [activations.get(n, seed=0) if n == "rrelu" else activations.get(n)
            for n in activations.available()]
    return [*made, activations.get("gelu", approximate="tanh"), activations.get("gelu", approximate="sigmoid"),
            activations.get("leaky_relu", alpha=0.3), activations.get("hard_sigmoid", slope=1 / 6),
            activations.get("swish", beta=2.5), activations.get("elu", alpha=0.5),
            activations.get("prelu", alpha=np.array([0.1, 0.2, 0.3])),
            softmax.Softmax(axis=0, temperature=0.5), softmax.LogSoftmax(axis=-2, temperature=3.0),
            softmax.Maxout(pieces=1), softmax.Maxout(pieces=3)]


ACTIVATIONS = all_activations()
ACT_IDS = [repr(a) for a in ACTIVATIONS]


@dataclass
class Method:
    name: str
    args: tuple[str, ...]        # the array arguments
    strict: tuple[str, ...] = ()


def methods_of(act) -> list[Method]:
    first = "x" if act.elementwise else "z"
    second = "da" if isinstance(act, softmax.Maxout) else "dy"
    ms = [Method("forward", (first,)), Method("derivative", (first,)),
          Method("second_derivative", (first,)), Method("backward", (first, second))]
    if act.has_output_derivative:
        ms.append(Method("backward_from_output", ("y", "dy")))
    if act.elementwise:
        ms.append(Method("forward_with_bias", ("z", "b"), strict=("z",)))
    if isinstance(act, softmax.vector._SoftmaxFamily):
        ms.append(Method("jacobian", ("z",)))
    return ms


def second_shape(act, method: Method, shape):
    """The shape the second array argument must have: dy like x, maxout's da per unit, b per column."""
    if method.name == "forward_with_bias":
        return shape[1:2] if len(shape) == 2 else shape[-1:]
    if isinstance(act, softmax.Maxout) and shape and shape[-1] % act.pieces == 0:
        return (*shape[:-1], shape[-1] // act.pieces)
    return shape


@st.composite
def method_inputs(draw, layouts, empty=False):
    act = draw(st.sampled_from(ACTIVATIONS))
    method = draw(st.sampled_from(methods_of(act)))
    shape = draw(shapes(empty=empty))
    if method.name == "forward_with_bias" and draw(st.booleans()):
        shape = (draw(st.integers(0 if empty else 1, 4)), draw(st.integers(0 if empty else 1, 4)))
    if getattr(act, "per_unit", False) and shape and math.prod(shape[:-1]) < 100 and draw(st.booleans()):
        shape = (*shape[:-1], 3)  # as many units as slopes
    odd, refused = {}, []
    for i, arg in enumerate(method.args):
        arg_shape = shape if i == 0 else second_shape(act, method, shape)
        if (i and draw(st.integers(0, 9)) == 0) or math.prod(arg_shape) > 10**4:
            arg_shape = draw(shapes(empty=empty))  # a mismatch, now and then; b of z (0, 2**40)
        value, _ = draw(arrays(arg_shape, layouts=layouts, empty=empty))
        if len(arg_shape) == 2 and arg_shape[0] > 1 and draw(st.integers(0, 19)) == 0:
            value = Ragged([[0.5] * arg_shape[1], [0.5] * (arg_shape[1] + 1)])
        odd[arg] = value
        if kernel_dtype(value) is None:
            refused.append(arg)
    return act, method, odd, refused


def run_method(act, method: Method, odd: dict, refused: list[str], **kwargs):
    reference = {k: clean(v) if kernel_dtype(v) is not None else v for k, v in odd.items()}
    if method.name == "forward_with_bias" and "z" not in refused:
        # z is updated in place (z += b): each call gets its own copy, and z is compared too
        def fn(z, b, **kw):
            z = z.copy() if isinstance(z, np.ndarray) else z
            return act.forward_with_bias(z, b, **kw), z
        check(fn, odd, reference, refused=refused, strict=method.strict, **kwargs)
        return
    check(getattr(act, method.name), odd, reference, refused=refused, strict=method.strict, **kwargs)


# -- activations ---------------------------------------------------------------------------------
@FUZZ
@given(method_inputs(SAFE_LAYOUTS))
def test_activation_methods(case):
    """Every method of every activation: all dtypes, lists, scalars, read-only, Fortran order."""
    act, method, odd, refused = case
    run_method(act, method, odd, refused)


@FUZZ
@given(data=st.data())
def test_softmax_functions_and_spatial_softmax(data):
    draw = data.draw
    which = draw(st.sampled_from(["softmax", "log_softmax", "spatial", "spatial_backward",
                                  "soft_argmax", "soft_argmax_backward"]))
    shape = draw(shapes())
    odd = {}
    if which in ("softmax", "log_softmax"):
        fn = getattr(softmax, which)
        odd["z"], _ = draw(arrays(shape))
        kwargs = {"axis": draw(st.integers(-3, 2)), "temperature": draw(st.sampled_from([0.25, 1.0, 7.0]))}
    else:
        cls = softmax.SoftArgmax if which.startswith("soft_argmax") else softmax.SpatialSoftmax
        obj = cls(draw(st.sampled_from([0.5, 1.0])))
        kwargs = {}
        odd["a"], _ = draw(arrays(shape))
        if which.endswith("backward"):
            second = "df" if cls is softmax.SoftArgmax else "ds"
            other = (*shape[:-2], 2) if cls is softmax.SoftArgmax else shape
            odd[second], _ = draw(arrays(other))
            fn = obj.backward
        else:
            fn = obj.forward
    refused = [k for k, v in odd.items() if kernel_dtype(v) is None]
    reference = {k: clean(v) if k not in refused else v for k, v in odd.items()}
    check(fn, odd, reference, refused=refused, **kwargs)


# -- losses ------------------------------------------------------------------------------------
LOSSES = [cls(reduction=r) for cls in (losses.SoftmaxCrossEntropy, losses.MulticlassHinge,
                                       losses.CrossEntropy, losses.NegativeLogLikelihood,
                                       losses.SquaredError, losses.MeanSquaredError,
                                       losses.BinaryCrossEntropy)
          for r in losses.REDUCTIONS]
LOSSES += [losses.SoftmaxCrossEntropy(label_smoothing=0.1), losses.BinaryCrossEntropy(from_logits=True),
           losses.MulticlassHinge(margin=0.25)]
assert {loss.name for loss in LOSSES} == set(losses.available()), "a registered loss is not fuzzed"


@st.composite
def loss_inputs(draw, layouts, labels_in_range=True, empty=False):
    loss = draw(st.sampled_from(LOSSES))
    low = 0 if empty else 1
    if loss.needs_classes or draw(st.booleans()):
        shape = (draw(st.integers(low, 4)), draw(st.integers(low, 4)))
    else:
        shape = draw(shapes(empty=empty).filter(lambda s: len(s) >= 1))
    pred, _ = draw(arrays(shape, layouts=layouts, empty=empty))
    if loss.accepts_labels and len(shape) == 2 and shape[0] <= 100 and draw(st.booleans()):
        m, k = shape
        if labels_in_range and k:
            ints = st.integers(0, k - 1)
        else:
            ints = st.one_of(st.integers(-3, k + 3), st.sampled_from([2**31, 2**63 - 1, -2**63]))
        dtype = np.dtype(draw(st.sampled_from(["int8", "int32", "int64", "uint8", "uint64", "float32",
                                               "float64", "bool", "complex128", "str"])))
        raw = draw(st.lists(ints, min_size=m, max_size=m))
        if dtype.kind in "iu":  # what fits: the overflow of a cast is not the point here
            info = np.iinfo(dtype)
            raw = [min(max(v, info.min), info.max) for v in raw]
        if dtype.kind == "f" and not labels_in_range and draw(st.booleans()):
            raw = [*raw[:-1], draw(st.sampled_from([NAN, INF, 0.5, -0.5]))] if raw else raw
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = np.array(raw, dtype=object).astype(dtype) if raw else np.zeros(0, dtype)
        target = present(labels, draw(st.sampled_from(layouts)))
        return loss, {"pred": pred, "target": target}, True
    if loss.name == "hinge" and len(shape) == 2 and shape[1] and draw(st.booleans()):
        # one-hot rows, which random numbers hardly ever are (a few rows spoilt now and then)
        m, k = shape
        dtype = np.dtype(draw(st.sampled_from(["float64", "float32", "int8", "bool", "uint64", "float16"])))
        rows = np.zeros(shape, dtype)
        rows[np.arange(m), draw(st.lists(st.integers(0, k - 1), min_size=m, max_size=m))] = 1
        if m and draw(st.integers(0, 3)) == 0:
            rows[draw(st.integers(0, m - 1)), draw(st.integers(0, k - 1))] = draw(st.sampled_from([0, 1, 2]))
        return loss, {"pred": pred, "target": present(rows, draw(st.sampled_from(layouts)))}, False
    target, _ = draw(arrays(shape if draw(st.integers(0, 9)) else draw(shapes(empty=empty)),
                            layouts=layouts, empty=empty))
    return loss, {"pred": pred, "target": target}, False


def run_loss(loss, odd, are_labels):
    # a 1-d target of a 2-d pred is read as labels whatever it was generated as
    are_labels = loss.accepts_labels and np.ndim(odd["pred"]) == 2 and np.ndim(odd["target"]) == 1
    refused = [k for k, v in odd.items() if kernel_dtype(v) is None and not (k == "target" and are_labels)]
    reference = {"pred": clean(odd["pred"]) if kernel_dtype(odd["pred"]) else odd["pred"],
                 "target": (np.array(np.asarray(odd["target"]), copy=True) if are_labels
                            else clean(odd["target"]) if kernel_dtype(odd["target"]) else odd["target"])}
    if are_labels and "pred" not in refused and np.asarray(odd["target"]).dtype.kind not in "biuf":
        refused = ["target"]  # labels that are not numbers

    def all_three(pred, target):
        both = loss.loss_and_gradient(pred, target)
        alone = loss.loss(pred, target), loss.gradient(pred, target)
        same(alone, both, f"{loss!r}: loss(), gradient() and loss_and_gradient() disagree")
        return both

    check(all_three, odd, reference, refused=refused)


@FUZZ
@given(loss_inputs(SAFE_LAYOUTS))
def test_losses(case):
    """loss, gradient and loss_and_gradient of every loss and reduction, labels and rows."""
    run_loss(*case)


# -- layers ----------------------------------------------------------------------------------
@st.composite
def layer_inputs(draw, layouts, empty=False):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    spec = {"activation": draw(st.sampled_from(["relu", "tanh", "sigmoid", "prelu", "identity", "softplus",
                                                "softmax", "elu"])),
            "dtype": draw(st.sampled_from([np.float32, np.float64]))}
    m = draw(st.integers(0 if empty else 1, 4))
    a_shape = (m, n_in) if draw(st.integers(0, 9)) else draw(shapes(empty=empty))
    g_shape = (m, n_out) if draw(st.integers(0, 9)) else draw(shapes(empty=empty))
    odd = {"a_prev": draw(arrays(a_shape, layouts=layouts, empty=empty))[0],
           "grad_a": draw(arrays(g_shape, layouts=layouts, empty=empty))[0]}
    return n_in, n_out, spec, odd


def run_layer(n_in, n_out, spec, odd):
    def step(a_prev, grad_a):
        layer = nl.Layer(n_in, n_out, seed=0, **spec)
        a = layer.forward(a_prev).copy()  # the layer reuses its buffers
        return a, layer.backward(grad_a).copy(), layer.dW.copy(), layer.db.copy()

    refused = [k for k, v in odd.items() if kernel_dtype(v) is None]
    reference = {k: v if k in refused else clean(v, np.dtype(spec["dtype"])) for k, v in odd.items()}
    if "a_prev" in refused:
        refused = ["a_prev"]  # forward() fails before grad_a is looked at
    check(step, odd, reference, refused=refused)


@FUZZ
@given(layer_inputs(SAFE_LAYOUTS))
def test_layer_forward_backward(case):
    run_layer(*case)


# -- crash-prone cases, run in a child process ---------------------------------------------------
@FUZZ
@given(method_inputs(ODD_LAYOUTS + SAFE_LAYOUTS, empty=True))
def fuzz_activation_strides(case):
    """Negative, zero (broadcast) and non-unit strides, transposes, empty and huge-empty shapes."""
    act, method, odd, refused = case
    run_method(act, method, odd, refused)


OUT_KINDS = ["fresh", "fortran", "strided", "alias", "partial_overlap", "wrong_shape", "wrong_dtype",
             "readonly", "list"]


@FUZZ
@given(data=st.data())
def fuzz_out(data):
    """`out=` of every method: fresh, non-contiguous, aliasing an input, overlapping one, wrong."""
    draw = data.draw
    act = draw(st.sampled_from(ACTIVATIONS))
    method = draw(st.sampled_from([m for m in methods_of(act) if m.name != "jacobian"]))
    shape = draw(shapes(empty=True).filter(lambda s: math.prod(s) < 100))
    if method.name == "forward_with_bias":
        shape = (draw(st.integers(0, 4)), draw(st.integers(1, 4)))
    if getattr(act, "per_unit", False) and shape and math.prod(shape[:-1]) < 100:
        shape = (*shape[:-1], 3)
    dtypes = draw(st.sampled_from([("float64", "float64"), ("float32", "float32"), ("float32", "float64")]))
    kind = draw(st.sampled_from(OUT_KINDS))
    aliased = draw(st.integers(0, len(method.args) - 1))
    odd = {}
    for i, arg in enumerate(method.args):
        arg_shape = shape if i == 0 else second_shape(act, method, shape)
        a = _numbers(draw, arg_shape, np.dtype(dtypes[i]))
        if kind == "partial_overlap" and i == aliased:  # a view of a buffer that out also views
            base = np.zeros(a.size + 1, a.dtype)
            base[:-1] = a.reshape(-1)
            a = base[:-1].reshape(a.shape)
        odd[arg] = a
    reference = {k: v.copy() for k, v in odd.items()}
    fn = getattr(act, method.name)
    want, want_exc = call(fn, **reference)
    assume(want_exc is None)
    target = odd[method.args[aliased]]
    if kind == "fresh":
        out = np.empty(want.shape, want.dtype)
    elif kind == "fortran":
        out = np.empty(want.shape, want.dtype, order="F")
    elif kind == "strided":
        out = np.empty((*want.shape, 2), want.dtype)[..., 1]
    elif kind == "alias":
        out = target
    elif kind == "partial_overlap":
        out = target.base[1:].reshape(target.shape) if target.base is not None else target
    elif kind == "wrong_shape":
        out = np.empty((*want.shape, 1), want.dtype)
    elif kind == "wrong_dtype":
        out = np.empty(want.shape, np.float32 if want.dtype == np.float64 else np.int64)
    elif kind == "readonly":
        out = np.empty(want.shape, want.dtype)
        out.flags.writeable = False
    else:  # a list, small even for a (2**40, 0) result: 2**40 empty lists would be 8 TiB
        out = np.zeros(want.shape).tolist() if want.size or not want.ndim else [[]]
    valid = kind in ("fresh", "fortran", "strided") or (
        kind == "alias" and out.shape == want.shape and out.dtype == want.dtype)
    got, exc = call(fn, **odd, out=out)
    if valid or (kind == "partial_overlap" and exc is None):
        assert exc is None, f"out={kind}: {exc!r}"
        assert got is out, f"out={kind}: the result is not out"
        same(out, want, f"{act!r}.{method.name}(out={kind})")
    else:
        assert exc is not None, f"out={kind} was accepted: {got!r}"
        assert names_argument(exc, ["out"]), f"out={kind}: the message does not name out: {exc}"


@FUZZ
@given(loss_inputs(ODD_LAYOUTS + SAFE_LAYOUTS, labels_in_range=False, empty=True))
def fuzz_labels(case):
    """Out-of-range, negative, huge, fractional and non-finite labels; empty and strided arrays."""
    run_loss(*case)


@FUZZ
@given(layer_inputs(ODD_LAYOUTS + SAFE_LAYOUTS, empty=True))
def fuzz_layer_layouts(case):
    run_layer(*case)


def limit_memory():
    """In the child: 4 GB of address space, so that a runaway allocation is a MemoryError
    (a test failure with a traceback) rather than the kernel's OOM killer. Not under
    AddressSanitizer, which reserves terabytes of address space for its shadow memory."""
    if "asan" not in os.environ.get("LD_PRELOAD", ""):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY))


CHILD_GROUPS = ["fuzz_activation_strides", "fuzz_out", "fuzz_labels", "fuzz_layer_layouts"]


def run_in_child(script: str, group: str) -> None:
    """Run the property `group` of the test file `script` in a child process (``python
    script group``): a segfault or abort in the child fails the calling test and names the signal."""
    # The script imports its neighbours from tests/: on the path even where the script's own
    # folder is not (PYTHONSAFEPATH=1, as make test-wheel runs the suite).
    tests = str(Path(__file__).resolve().parent)
    path = os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, script, group], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, preexec_fn=limit_memory,
                          env={**os.environ, "NEURONLAB_FUZZ": PROFILE, "PYTHONPATH": path})
    if proc.returncode < 0:
        pytest.fail(f"{group} crashed the interpreter with signal {-proc.returncode}:\n{proc.stderr[-4000:]}")
    assert proc.returncode == 0, proc.stderr[-6000:]


@pytest.mark.parametrize("group", CHILD_GROUPS)
def test_crash_prone_cases_in_a_child_process(group):
    run_in_child(__file__, group)


if __name__ == "__main__":
    globals()[sys.argv[1]]()
