"""Bad and unusual input: a clear TypeError/ValueError naming the argument, or a correct
result; never a crash. Cases that could crash a kernel compiled without bounds checks
(aliasing, strides, sizes) also run in a subprocess, where a segfault is a test failure."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuronlab as nl

get = nl.activations.get
# The elementwise activations; softmax, log_softmax and maxout are tested in test_softmax.py.
NAMES = [n for n in nl.activations.available() if nl.activations.get(n).elementwise]
ACT = get("elu", alpha=0.5)  # a kernel with a parameter and an output form


def all_methods(act):
    """(name, call(x, dy, out)) for every array method of `act`."""
    methods = [
        ("forward", lambda x, dy, out=None: act.forward(x, out=out)),
        ("derivative", lambda x, dy, out=None: act.derivative(x, out=out)),
        ("second_derivative", lambda x, dy, out=None: act.second_derivative(x, out=out)),
        ("backward", lambda x, dy, out=None: act.backward(x, dy, out=out)),
    ]
    if act.has_output_derivative:
        methods.append(("backward_from_output",
                        lambda x, dy, out=None: act.backward_from_output(x, dy, out=out)))
    return methods


METHODS = all_methods(ACT)
METHOD_IDS = [m for m, _ in METHODS]


# ----------------------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------------------
BAD_DTYPES = [
    np.array([1 + 2j, 3j]),
    np.array([1.0, None], dtype=object),
    np.array(["a", "b"]),
    np.array([b"a", b"b"]),
    np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"),
    np.array([1, 2], dtype="timedelta64[s]"),
]
BAD_IDS = ["complex", "object", "str", "bytes", "datetime", "timedelta"]


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=BAD_IDS)
@pytest.mark.parametrize(("method", "call"), METHODS, ids=METHOD_IDS)
def test_bad_dtype_names_the_argument(method, call, bad):
    good = np.ones(2)
    first = "y" if method == "backward_from_output" else "x"
    with pytest.raises(TypeError, match=rf"^{first}\b"):
        call(bad, good)
    if method.startswith("backward"):
        with pytest.raises(TypeError, match=r"^dy\b"):
            call(good, bad)


@pytest.mark.parametrize("bad", ["abc", b"abc", [1, "a"], {"a": 1}, None])
def test_non_numeric_python_objects(bad):
    with pytest.raises(TypeError, match=r"^x\b"):
        ACT(bad)


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_bool_and_integers_compute_in_float64(dtype):
    x = np.array([0, 1, 1], dtype=dtype)
    for _, call in METHODS:
        result = call(x, x)
        assert result.dtype == np.float64
        np.testing.assert_array_equal(result, call(x.astype(np.float64), x.astype(np.float64)))


def test_float16_computes_in_float32():
    x = np.array([-1.5, 0.0, 2.0], dtype=np.float16)
    for _, call in METHODS:
        result = call(x, x)
        assert result.dtype == np.float32
        np.testing.assert_array_equal(result, call(x.astype(np.float32), x.astype(np.float32)))


def test_mixed_dtypes_of_x_and_dy_use_float64():
    x32 = np.array([-1.0, 2.0], dtype=np.float32)
    assert ACT.backward(x32, np.ones(2)).dtype == np.float64
    assert ACT.backward(x32, np.ones(2, np.float32)).dtype == np.float32


def test_lists_and_scalars():
    np.testing.assert_array_equal(ACT([-1.0, 0.0, 2.0]), ACT(np.array([-1.0, 0.0, 2.0])))
    for x in (2.0, -1, np.float64(-0.5), True):
        result = ACT(x)
        assert isinstance(result, np.floating) and not isinstance(result, np.ndarray)
        assert result == ACT(np.array([float(x)]))[0]
        assert isinstance(ACT.backward(x, 1.0), np.floating)
    assert isinstance(ACT(np.float32(1.0)), np.float32)
    zero_d = ACT(np.array(-1.0))  # a 0-d array in, a 0-d array out
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()


# ----------------------------------------------------------------------------------------
# Shapes and memory layouts
# ----------------------------------------------------------------------------------------
BASE = np.linspace(-3, 3, 60).reshape(3, 4, 5)


def layouts():
    f = np.asfortranarray(BASE)
    return {
        "0-d": np.array(0.7),
        "empty (0,)": np.empty(0),
        "empty (3,0,2)": np.empty((3, 0, 2)),
        "1-d": BASE.ravel(),
        "3-d": BASE,
        "negative strides": BASE[::-1, :, ::-2],
        "fortran": f,
        "broadcast (zero strides)": np.broadcast_to(BASE[0, 0], (6, 5)),
        "read-only": _readonly(BASE.copy()),
        "column slice": BASE[:, 1, :],
    }


def _readonly(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layout", list(layouts()))
def test_any_shape_and_layout(name, layout):
    act = get(name)
    x = layouts()[layout]
    dy = np.full(x.shape, 0.5)
    contiguous = x.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    for method, call in all_methods(act):
        result = call(x, dy)
        assert result.shape == x.shape and result.dtype == np.float64, method
        np.testing.assert_array_equal(result, call(contiguous, dy), err_msg=method)
        if x.size:  # the elementwise results are those of each element alone, up to the
            # last bits: a long array runs libmvec's vector expm1 (elu, selu), one element the
            # scalar one (1 ulp apart), which a cancellation such as swish'' = beta s' (2 -
            # u tanh(u / 2)) near its root amplifies a little
            flat = [call(np.array([v]), np.array([0.5]))[0] for v in x.ravel()[:5]]
            eps = np.finfo(float).eps
            scale = np.max(np.abs(np.nan_to_num(flat, posinf=0, neginf=0)))  # of the values
            np.testing.assert_allclose(np.ravel(result)[:5], flat, rtol=16 * eps,
                                       atol=16 * eps * scale, err_msg=method)


# ----------------------------------------------------------------------------------------
# out=
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "call"), METHODS, ids=METHOD_IDS)
def test_out_checks(method, call):
    x, dy = np.linspace(-2, 2, 6), np.ones(6)
    want = call(x, dy)
    out = np.empty(6)
    assert call(x, dy, out=out) is out
    np.testing.assert_array_equal(out, want)
    with pytest.raises(ValueError, match=r"^out has shape"):
        call(x, dy, out=np.empty(5))
    with pytest.raises(TypeError, match=r"^out has dtype"):
        call(x, dy, out=np.empty(6, np.float32))
    with pytest.raises(ValueError, match=r"^out is read-only"):
        call(x, dy, out=_readonly(np.empty(6)))
    with pytest.raises(TypeError, match=r"^out must be a numpy.ndarray"):
        call(x, dy, out=[0.0] * 6)
    # in place: out is x (and, for backward, dy)
    for target in ("x", "dy") if method.startswith("backward") else ("x",):
        xx, dd = x.copy(), dy.copy()
        result = call(xx, dd, out=xx if target == "x" else dd)
        assert result is (xx if target == "x" else dd)
        np.testing.assert_array_equal(result, want)
    # partial overlap: the kernel would read values it had already overwritten
    buf = np.linspace(-2, 2, 7)
    with pytest.raises(ValueError, match=r"^out partially overlaps"):
        call(buf[:6], np.ones(6), out=buf[1:])
    # a non-contiguous out receives the values
    big = np.zeros(12)
    assert call(x, dy, out=big[::2]).base is big
    np.testing.assert_array_equal(big[::2], want)
    np.testing.assert_array_equal(big[1::2], 0)


def test_out_with_a_scalar_input_returns_out():
    out = np.empty(())
    assert ACT(-1.0, out=out) is out and out[()] == ACT(-1.0)


@pytest.mark.parametrize(("method", "call"), METHODS[3:], ids=METHOD_IDS[3:])
def test_dy_of_another_shape(method, call):
    with pytest.raises(ValueError, match=r"^dy has shape"):
        call(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"^dy has shape"):
        call(np.ones((3, 1)), np.ones(3))  # no broadcasting: a silent wrong shape otherwise


# ----------------------------------------------------------------------------------------
# PReLU, RReLU
# ----------------------------------------------------------------------------------------
def test_prelu_per_unit_needs_matching_last_axis():
    act = get("prelu", alpha=np.array([0.1, 0.2, 0.3]))
    for x in (np.ones((4, 2)), np.ones(4), np.array(1.0)):
        for call in (act, act.derivative, act.second_derivative):
            with pytest.raises(ValueError, match=r"^x has shape"):
                call(x)
        with pytest.raises(ValueError, match=r"^x has shape"):
            act.backward(x, np.ones_like(x))
        with pytest.raises(ValueError, match=r"^x has shape"):
            act.alpha_gradient(x, np.ones_like(x))
    with pytest.raises(ValueError, match=r"^dy has shape"):
        act.backward(np.ones((4, 3)), np.ones((3, 3)))
    for bad in (np.ones((2, 2)), np.empty(0), np.array([0.1, np.nan])):
        with pytest.raises(ValueError, match="alpha"):
            get("prelu", alpha=bad)
    with pytest.raises(TypeError, match="alpha has dtype complex"):
        get("prelu", alpha=np.array([1j]))


def test_rrelu_training_backward_needs_a_training_forward():
    act = get("rrelu", seed=0)
    with pytest.raises(ValueError, match="forward"):
        act.backward(np.ones(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match="forward"):
        act.derivative(np.ones(3), training=True)
    act(np.ones(3), training=True)
    with pytest.raises(ValueError, match="shape"):
        act.backward(np.ones(4), np.ones(4), training=True)
    assert act.backward(np.ones(3), np.ones(3), training=True).shape == (3,)


# ----------------------------------------------------------------------------------------
# Hyper-parameters
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params", "error", "word"), [
    ("leaky_relu", {"alpha": -1}, ValueError, "alpha"),
    ("elu", {"alpha": -1}, ValueError, "alpha"),
    ("hard_sigmoid", {"slope": 0}, ValueError, "slope"),
    ("hard_sigmoid", {"slope": -0.1}, ValueError, "slope"),
    ("swish", {"beta": 0}, ValueError, "beta"),
    ("swish", {"beta": float("nan")}, ValueError, "beta"),
    ("elu", {"alpha": float("inf")}, ValueError, "alpha"),
    ("leaky_relu", {"alpha": float("nan")}, ValueError, "alpha"),
    ("prelu", {"alpha": float("inf")}, ValueError, "alpha"),
    ("leaky_relu", {"alpha": "0.1"}, TypeError, "alpha"),
    ("elu", {"alpha": None}, TypeError, "alpha"),
    ("hard_sigmoid", {"slope": True}, TypeError, "slope"),
    ("rrelu", {"lower": 0.5, "upper": 0.2}, ValueError, "upper"),
    ("rrelu", {"lower": -0.1}, ValueError, "lower"),
    ("rrelu", {"upper": float("nan")}, ValueError, "upper"),
    ("gelu", {"approximate": "erf"}, ValueError, "approximate"),
    ("gelu", {"approximate": None}, ValueError, "approximate"),
    ("relu", {"alpha": 0.1}, TypeError, "alpha"),  # a parameter relu does not have
    ("no_such_activation", {}, ValueError, "no_such_activation"),
])
def test_bad_hyper_parameters(name, params, error, word):
    with pytest.raises(error, match=word):
        get(name, **params)


def test_get_rejects_non_names():
    with pytest.raises(TypeError, match="name"):
        get(3)
    with pytest.raises(TypeError, match="params"):
        get(get("relu"), alpha=1)


# ----------------------------------------------------------------------------------------
# In a subprocess: a crash (segfault, abort) would take pytest down with it
# ----------------------------------------------------------------------------------------
CRASH_PRONE = r"""
import numpy as np
import neuronlab as nl

for name in nl.activations.available():
    act = nl.activations.get(name)
    if not act.elementwise:
        continue
    base = np.linspace(-5, 5, 100_003)
    # out is x: every element is read before it is written
    x = base.copy()
    want = act(base)
    assert act(x, out=x) is x and np.array_equal(x, want, equal_nan=True), name
    # partial overlap is refused, in both directions
    for out, inp in ((base[1:], base[:-1]), (base[:-1], base[1:])):
        try:
            act(inp, out=out)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{name}: partial overlap accepted")
    # weird strides, in and out
    strided = base[::-7]
    out = np.empty(strided.size * 3)[::3]
    act.backward(strided, strided, out=out)
    assert np.array_equal(out, act.backward(strided.copy(), strided.copy()), equal_nan=True)
    z = np.broadcast_to(np.float64(-1.5), (1000, 1000))
    assert act.derivative(z).shape == (1000, 1000)
    # empty and large (several parallel chunks), both dtypes
    for dtype in (np.float32, np.float64):
        assert act(np.empty((0, 4), dtype)).shape == (0, 4)
        big = np.linspace(-10, 10, 3_000_001, dtype=dtype)
        # the long array runs libmvec's vector expm1 (elu and selu in float64), the short
        # one libm's scalar expm1: the two may differ in the last bit, so equal within
        # 2 eps, not bitwise
        a, b = act(big)[::999_999], act(big[::999_999])
        eps = np.finfo(dtype).eps
        assert np.allclose(a, b, rtol=2 * eps, atol=0, equal_nan=True), (name, a, b)
prelu = nl.activations.get("prelu", alpha=np.arange(1.0, 8.0) / 10)
x = np.linspace(-1, 1, 7 * 50_000).reshape(-1, 7)
want = np.where(x > 0, x, x * prelu.alpha)
assert prelu(x, out=x) is x and np.array_equal(x, want)
prelu(np.asfortranarray(np.ones((3, 7))))
rrelu = nl.activations.get("rrelu", seed=1)
y = rrelu(np.ones((500, 700)), training=True)
rrelu.backward(np.ones((500, 700)), np.ones((500, 700)), training=True)
print("ok")
"""


def test_crash_prone_cases_in_a_subprocess():
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(CRASH_PRONE)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", (run.returncode, run.stderr[-3000:])


# ----------------------------------------------------------------------------------------
# The fix inside the message: a hint where the mistake is recognisable, none where not
# ----------------------------------------------------------------------------------------
def test_label_messages_name_the_fix_only_when_it_fits():
    net = nl.Network([nl.Layer(2, 3, "identity", seed=0)])
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"not a row of class probabilities .*np\.eye\(K\)\[labels\]$"):
        net.fit(X, np.eye(3) * 2, progress=False)
    with pytest.raises(ValueError, match=r"rows of class probabilities \(m, 3\); got shape \(3, 1, 1\)$"):
        net.fit(X, np.zeros((3, 1, 1)), progress=False)
    with pytest.raises(ValueError, match=r"\(0\.\.2\); counted from 1\? subtract 1$"):
        net.fit(X, [1, 2, 3], progress=False)
    with pytest.raises(ValueError, match=r"out of range for 3 classes \(0\.\.2\)$"):
        net.fit(X, [0, 2, 5], progress=False)            # not 1..K: no such hint
    with pytest.raises(ValueError, match=r"2 distinct labels \('cat', 'dog'\) .* give the last layer 2 units$"):
        net.fit(X, np.array(["cat", "dog", "cat"]), progress=False)
    with pytest.raises(ValueError, match=r"for one-hot rows pass r\.argmax\(axis=1\)$"):
        nl.metrics.confusion_matrix(np.eye(2), [0, 1])
    with pytest.raises(ValueError, match=r"class indices, got shape \(\)$"):
        nl.metrics.confusion_matrix(np.int64(1), [0, 1])


def test_sample_messages_say_how_to_reshape():
    with pytest.raises(ValueError, match=r"X\.reshape\(len\(X\), -1\) flattens each sample"):
        nl.datasets.train_test_split(np.zeros((4, 2, 2)), np.zeros(4, int))
    layer = nl.Layer(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"a_prev\.reshape\(-1, 1\) makes each number a sample"):
        layer.forward(np.zeros(5))
    with pytest.raises(ValueError, match=r"one sample per row, got shape \(\)$"):
        layer.forward(np.float64(1.0))


def test_a_transposed_saved_W_is_named(tmp_path):
    net = nl.Network([nl.Layer(2, 4, "tanh", seed=0), nl.Layer(4, 3, "identity", seed=1)])
    path = tmp_path / "net.npz"
    net.save(path)
    with np.load(path) as archive:
        saved = dict(archive)
    np.savez(path, **{**saved, "layer1.W": saved["layer1.W"].T})
    with pytest.raises(ValueError, match=r"must be transposed, W\.T$"):
        nl.Network.load(path)
    np.savez(path, **{**saved, "layer1.W": np.zeros((5, 4))})
    with pytest.raises(ValueError, match=r"the config says \(3, 4\)$"):
        nl.Network.load(path)
