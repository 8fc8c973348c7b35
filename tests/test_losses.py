"""The losses against mpmath and finite differences; the softmax-cross-entropy identity
gradient = (y - r) / m; the multiclass hinge against NumPy, ties included; float32; and
every bad label, each in a subprocess."""
import functools
import re
import subprocess
import sys
import textwrap
import warnings

import mpmath
import numpy as np
import pytest

import neuronlab as nl
from neuronlab._kernels import _losses
from neuronlab.losses import (
    BinaryCrossEntropy,
    CrossEntropy,
    MeanSquaredError,
    MulticlassHinge,
    NegativeLogLikelihood,
    SoftmaxCrossEntropy,
    SquaredError,
)

mpmath.mp.dps = 40
RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]
mpf = mpmath.mpf


# -- mpmath references: the per-sample loss J_i of one row ---------------------------------
def mp_sce(z, r, eps=0.0):
    z = [mpf(float(v)) for v in z]
    k = len(z)
    r = [(1 - mpf(eps)) * mpf(float(v)) + mpf(eps) / k for v in r]
    m = max(z)
    lse = m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in z))
    return -mpmath.fsum(rv * (zv - lse) for rv, zv in zip(r, z, strict=True))


def mp_ce(y, r):
    return -mpmath.fsum(mpf(float(rv)) * mpmath.log(mpf(float(yv)))
                        for yv, rv in zip(y, r, strict=True) if rv != 0)


def mp_nll(log_y, r):
    return -mpmath.fsum(mpf(float(rv)) * mpf(float(lv)) for lv, rv in zip(log_y, r, strict=True))


def mp_se(y, r):
    squares = ((mpf(float(yv)) - mpf(float(rv))) ** 2 for yv, rv in zip(y, r, strict=True))
    return mpmath.fsum(squares) / 2


def mp_mse(y, r):
    return 2 * mp_se(y, r) / len(y)


def mp_bce(y, r):
    total = mpf(0)
    for yv, rv in zip(y, r, strict=True):
        yv, rv = mpf(float(yv)), mpf(float(rv))
        if rv != 0:
            total -= rv * mpmath.log(yv)
        if rv != 1:
            total -= (1 - rv) * mpmath.log(1 - yv)
    return total


def mp_bce_logits(z, r):
    return mpmath.fsum(mpmath.log(1 + mpmath.exp(mpf(float(zv)))) - mpf(float(rv)) * mpf(float(zv))
                       for zv, rv in zip(z, r, strict=True))


def mp_hinge(z, r, margin=1.0):
    c = int(np.argmax(r))
    z = [mpf(float(v)) for v in z]
    return mpmath.fsum(max(mpf(0), z[k] - z[c] + mpf(margin)) for k in range(len(z)) if k != c)


def one_hot(labels, k):
    return np.eye(k)[labels]


def probabilities(m, k):
    p = RNG.random((m, k)) + 0.05
    return p / p.sum(axis=1, keepdims=True)


def cases():
    """(loss, pred, target, mpmath J_i of (pred row, target row as r))."""
    m, k = 6, 5
    z = RNG.normal(0, 3, (m, k))
    labels = RNG.integers(0, k, m)
    extreme = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [1e4, 1e4, -1e4], [5.0, -1e4, 1e4]])
    yield "sce-labels", SoftmaxCrossEntropy(), z, labels, mp_sce
    yield "sce-probs", SoftmaxCrossEntropy(), z, probabilities(m, k), mp_sce
    yield "sce-smooth", SoftmaxCrossEntropy(label_smoothing=0.2), z, labels, mp_sce
    yield ("sce-smooth-probs", SoftmaxCrossEntropy(label_smoothing=0.1), z, probabilities(m, k),
           mp_sce)
    yield "sce-extreme", SoftmaxCrossEntropy(), extreme, np.array([0, 0, 1, 2]), mp_sce
    yield "sce-extreme-probs", SoftmaxCrossEntropy(), extreme, probabilities(4, 3), mp_sce
    yield ("sce-wide", SoftmaxCrossEntropy(), RNG.normal(0, 10, (3, 700)), np.array([5, 699, 0]),
           mp_sce)
    yield "ce-labels", CrossEntropy(), probabilities(m, k), labels, mp_ce
    yield "ce-probs", CrossEntropy(), probabilities(m, k), probabilities(m, k), mp_ce
    yield ("ce-zeros", CrossEntropy(), np.array([[0.0, 1.0], [0.5, 0.5]]),
           np.array([[0.0, 1.0], [1, 0]]), mp_ce)
    yield "nll-labels", NegativeLogLikelihood(), np.log(probabilities(m, k)), labels, mp_nll
    yield ("nll-probs", NegativeLogLikelihood(), np.log(probabilities(m, k)), probabilities(m, k),
           mp_nll)
    yield "se", SquaredError(), RNG.normal(size=(m, k)), RNG.normal(size=(m, k)), mp_se
    yield "se-labels", SquaredError(), RNG.random((m, k)), labels, mp_se
    yield "se-1d", SquaredError(), RNG.normal(size=m), RNG.normal(size=m), mp_se
    yield "mse", MeanSquaredError(), RNG.normal(size=(m, k)), RNG.normal(size=(m, k)), mp_mse
    yield ("mse-3d", MeanSquaredError(), RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 3, 4)),
           mp_mse)
    yield "bce", BinaryCrossEntropy(), RNG.random((m, k)) * 0.98 + 0.01, RNG.random((m, k)), mp_bce
    yield ("bce-01", BinaryCrossEntropy(), np.array([[1e-9, 1 - 1e-9, 0.5]]),
           np.array([[0.0, 1.0, 1.0]]), mp_bce)
    yield ("bce-logits", BinaryCrossEntropy(from_logits=True), RNG.normal(0, 4, (m, k)),
           RNG.random((m, k)), mp_bce_logits)
    yield "hinge-labels", MulticlassHinge(), z, labels, mp_hinge
    yield "hinge-one-hot", MulticlassHinge(), z, one_hot(labels, k), mp_hinge
    yield ("hinge-margin", MulticlassHinge(margin=2.5), z, labels,
           functools.partial(mp_hinge, margin=2.5))
    yield ("hinge-wide", MulticlassHinge(), RNG.normal(0, 1, (3, 700)), np.array([5, 699, 0]),
           mp_hinge)
    yield ("bce-logits-extreme", BinaryCrossEntropy(from_logits=True),
           np.array([[1e4, -1e4, 1e4, -1e4, 0.0]]), np.array([[1.0, 0.0, 0.0, 1.0, 0.3]]),
           mp_bce_logits)


CASES = {c[0]: c[1:] for c in cases()}


def as_rows(loss, pred, target):
    """The target as rows r like pred (one-hot for labels), both 2-d."""
    pred = np.asarray(pred)
    rows = pred.reshape(pred.shape[0], -1)
    if target.ndim == 1 and pred.ndim == 2 and loss.accepts_labels:
        return rows, one_hot(target, rows.shape[1])
    return rows, np.asarray(target, float).reshape(rows.shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_loss_matches_mpmath(name, dtype):
    loss, pred, target, ref = CASES[name]
    pred = pred.astype(dtype)
    eps = getattr(loss, "label_smoothing", 0.0)
    rows, r = as_rows(loss, pred, target)
    kwargs = {"eps": eps} if ref is mp_sce else {}
    expected = np.array([float(ref(p, t, **kwargs))
                         for p, t in zip(rows, r.astype(dtype), strict=True)])
    # The loss of the float32 inputs themselves: a few ulp relative to the size of the terms.
    size = np.abs(rows).max(axis=1) * np.maximum(1, np.abs(r).sum(axis=1)) + np.abs(expected) + 1
    tol = 16 * np.finfo(dtype).eps * size
    per_sample = type(loss)(**{**loss.params, "reduction": "none"}).loss(pred, target)
    assert per_sample.dtype == dtype and per_sample.shape == (rows.shape[0],)
    assert np.all(np.abs(per_sample - expected) <= tol), (per_sample, expected)
    assert loss.loss(pred, target) == pytest.approx(expected.mean(), rel=0, abs=tol.max())
    total = type(loss)(**{**loss.params, "reduction": "sum"}).loss(pred, target)
    assert total == pytest.approx(expected.sum(), rel=0, abs=tol.sum())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", [n for n in CASES if "extreme" not in n and "01" not in n
                                  and "zeros" not in n])
def test_gradient_finite_differences(name, reduction):
    loss, pred, target, _ = CASES[name]
    loss = type(loss)(**{**loss.params, "reduction": reduction})
    pred = pred.astype(np.float64)

    def scalar(p):  # for "none", the sum of the per-sample losses: each row is its own J_i
        return np.sum(loss.loss(p, target))

    value, grad = loss.loss_and_gradient(pred, target)
    assert grad.shape == pred.shape and grad.dtype == np.float64
    np.testing.assert_array_equal(grad, loss.gradient(pred, target))
    np.testing.assert_array_equal(value, loss.loss(pred, target))
    h = 1e-6 if "wide" not in name else 1e-5
    numeric = np.empty_like(pred)
    for idx in np.ndindex(pred.shape):
        step = np.zeros_like(pred)
        step[idx] = h * max(1.0, abs(pred[idx]))
        numeric[idx] = (scalar(pred + step) - scalar(pred - step)) / (2 * step[idx])
    np.testing.assert_allclose(grad, numeric, rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [64, 65, 200, 1000])
def test_long_rows_find_their_maximum_anywhere(k, dtype):
    # Rows of 64 classes or more take a vectorized maximum and read the next row ahead
    # (_rows.pxd): a maximum missed anywhere in the row would leave e^(z - max) wrong.
    where = np.array(sorted({0, 1, 62, 63, 64, k // 2, k - 1} & set(range(k))))
    rows = np.arange(len(where))
    z = np.full((len(where), k), -1e4, dtype)
    z[rows, where] = 1e4
    J, grad = SoftmaxCrossEntropy(reduction="none").loss_and_gradient(z, where)
    np.testing.assert_array_equal(J, 0)  # ln(1 + 0) + (max - z_label)
    np.testing.assert_array_equal(grad, 0)
    np.testing.assert_array_equal(nl.softmax.softmax(z), one_hot(where, k))
    z[:] = 0
    z[rows, where] = np.nan  # a NaN anywhere makes the sample's loss and gradient NaN
    J, grad = SoftmaxCrossEntropy(reduction="none").loss_and_gradient(z, (where + 1) % k)
    assert np.isnan(J).all() and np.isnan(grad).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 8, 64, 7])
def test_softmax_cross_entropy_gradient_is_y_minus_r_over_m(m, dtype):
    k = 10
    z = RNG.normal(0, 4, (m, k)).astype(dtype)
    labels = RNG.integers(0, k, m)
    y, r = nl.softmax.softmax(z), one_hot(labels, k).astype(dtype)
    grad = SoftmaxCrossEntropy(reduction="sum").gradient(z, labels)
    np.testing.assert_array_equal(grad, y - r)  # bit for bit: the same exp, sum and division
    np.testing.assert_array_equal(SoftmaxCrossEntropy(reduction="none").gradient(z, labels), y - r)
    # With rows r the kernel computes y * sum(r) - r, which the compiler may fuse into one
    # multiply-add (one rounding instead of two): equal to within one rounding of y - r.
    np.testing.assert_allclose(SoftmaxCrossEntropy(reduction="sum").gradient(z, r), y - r,
                               rtol=np.finfo(dtype).eps, atol=0)
    mean = SoftmaxCrossEntropy().gradient(z, labels)
    if m & (m - 1) == 0:  # dividing by a power of two is exact
        np.testing.assert_array_equal(mean, (y - r) / dtype(m))
    else:
        np.testing.assert_allclose(mean, (y - r) / m, rtol=2 * np.finfo(dtype).eps,
                                   atol=np.finfo(dtype).eps / m)


def test_label_smoothing_is_the_smoothed_target():
    z, labels, eps = RNG.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2]), 0.3
    smoothed = (1 - eps) * one_hot(labels, 4) + eps / 4
    a = SoftmaxCrossEntropy(label_smoothing=eps).loss_and_gradient(z, labels)
    b = SoftmaxCrossEntropy().loss_and_gradient(z, smoothed)
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(a[1], (nl.softmax.softmax(z) - smoothed) / 5, rtol=1e-14, atol=1e-17)


def test_soft_targets_scale_with_their_sum():
    z, r = RNG.normal(size=(3, 4)), RNG.random((3, 4)) * 2
    grad = SoftmaxCrossEntropy(reduction="sum").gradient(z, r)
    np.testing.assert_allclose(grad, nl.softmax.softmax(z) * r.sum(axis=1, keepdims=True) - r,
                               rtol=1e-14, atol=1e-16)


def test_labels_and_one_hot_rows_agree():
    z = RNG.random((6, 4)) + 0.1
    labels = np.array([0, 1, 2, 3, 3, 0])
    for loss in (SoftmaxCrossEntropy(), CrossEntropy(), NegativeLogLikelihood(), SquaredError(),
                 MeanSquaredError()):
        a = loss.loss_and_gradient(z, labels)
        b = loss.loss_and_gradient(z, one_hot(labels, 4))
        assert a[0] == pytest.approx(b[0], rel=1e-14)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-14, atol=1e-17)
    # integral floats are labels too
    assert CrossEntropy().loss(z, labels.astype(float)) == CrossEntropy().loss(z, labels)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_reductions(dtype):
    z = RNG.normal(size=(9, 3)).astype(dtype)
    labels = RNG.integers(0, 3, 9)
    mean = SoftmaxCrossEntropy().loss_and_gradient(z, labels)
    total = SoftmaxCrossEntropy(reduction="sum").loss_and_gradient(z, labels)
    each = SoftmaxCrossEntropy(reduction="none").loss_and_gradient(z, labels)
    assert isinstance(mean[0], float) and isinstance(total[0], float)
    assert each[0].dtype == dtype and mean[1].dtype == dtype
    assert total[0] == pytest.approx(9 * mean[0], rel=1e-12)
    eps = float(np.finfo(dtype).eps)
    assert each[0].sum(dtype=np.float64) == pytest.approx(total[0], rel=4 * eps)
    np.testing.assert_array_equal(each[1], total[1])
    np.testing.assert_allclose(mean[1], total[1] / 9, rtol=2 * np.finfo(dtype).eps)
    # float32 logits with float64 targets: computed, and returned, in float32
    grad = SquaredError().gradient(z, z.astype(np.float64) + 1)
    assert grad.dtype == dtype


@pytest.mark.parametrize("loss, scale", [(SoftmaxCrossEntropy, 3), (MulticlassHinge, 1)])
def test_many_threads_agree_with_one(loss, scale):
    z = RNG.normal(0, scale, (30000, 10)).astype(np.float32)
    labels = RNG.integers(0, 10, 30000)
    before = nl.get_num_threads()
    try:
        nl.set_num_threads(1)
        one = loss().loss_and_gradient(z, labels)
        nl.set_num_threads(2)
        two = loss().loss_and_gradient(z, labels)
    finally:
        nl.set_num_threads(before)
    assert one[0] == pytest.approx(two[0], rel=1e-12)
    np.testing.assert_array_equal(one[1], two[1])


def test_registry():
    names = ["binary_cross_entropy", "cross_entropy", "hinge", "mse", "nll", "softmax_cross_entropy",
             "squared_error"]
    assert nl.losses.available() == names
    for name in names:
        loss = nl.losses.get(name)
        assert loss.name == name
        assert nl.losses.get(loss) is loss
        assert loss.formula.startswith("J") and "partial" in loss.gradient_formula
        assert eval(repr(loss), vars(nl.losses)) == loss
    assert nl.losses.get("binary_cross_entropy", from_logits=True).from_logits
    assert repr(nl.losses.get("nll", reduction="sum")) == "NegativeLogLikelihood(reduction='sum')"
    assert nl.losses.get("hinge", margin=0.5) == MulticlassHinge(margin=0.5) != MulticlassHinge()
    assert repr(MulticlassHinge()) == "MulticlassHinge(reduction='mean', margin=1.0)"


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: nl.losses.get("huber"), ValueError, "unknown loss 'huber'"),
    (lambda: nl.losses.get("hinge", margin=0), ValueError, "margin must be > 0.0, got 0.0"),
    (lambda: MulticlassHinge(margin=-1), ValueError, "margin must be > 0.0"),
    (lambda: MulticlassHinge(margin=float("nan")), ValueError, "margin must be finite"),
    (lambda: MulticlassHinge(margin="1"), TypeError, "margin must be a real number"),
    (lambda: MulticlassHinge(margin=True), TypeError, "margin must be a real number"),
    (lambda: MulticlassHinge().loss(np.ones(3), np.array([0])), ValueError, "2-d"),
    (lambda: nl.losses.get(3), TypeError, "name must be"),
    (lambda: nl.losses.get("mse", alpha=1), TypeError, "mse"),
    (lambda: SoftmaxCrossEntropy(reduction="avg"), ValueError, "reduction"),
    (lambda: SoftmaxCrossEntropy(label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda: BinaryCrossEntropy(from_logits=1), TypeError, "from_logits"),
    (lambda: SoftmaxCrossEntropy().loss(np.ones(3), np.array([0])), ValueError, "2-d"),
    (lambda: SoftmaxCrossEntropy().loss(np.ones((0, 3)), np.ones(0, int)), ValueError,
     "no samples"),
    (lambda: SquaredError().loss(2.0, 1.0), ValueError, "at least one dimension"),
    (lambda: SoftmaxCrossEntropy().loss(np.ones((2, 3)), "ab"), TypeError, "target"),
    (lambda: SoftmaxCrossEntropy().loss(np.ones((2, 3), complex), [0, 1]), TypeError, "complex"),
    (lambda: SoftmaxCrossEntropy().loss(np.ones((2, 3)), np.array([True, False])), TypeError,
     "bools"),
    (lambda: BinaryCrossEntropy().loss(np.full((2, 3), 0.5), np.array([0, 1])), ValueError,
     "shape"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


BAD_LABELS = {
    "out of range": ("np.array([0, 1, 3])", "out of range for 3 classes"),
    "far out of range": ("np.array([0, 10**12, 1])", "out of range"),
    "negative": ("np.array([0, -1, 2])", "negative label -1 at index 1"),
    "fractional": ("np.array([0.0, 1.5, 2.0])", "fractional label 1.5 at index 1"),
    "nan": ("np.array([0.0, np.nan, 2.0])", "non-finite label"),
    "too few": ("np.array([0, 1])", "2 labels but pred has 3 samples"),
    "too many": ("np.array([0, 1, 2, 0])", "4 labels but pred has 3 samples"),
    "wrong shape": ("np.zeros((3, 4))", "target has shape \\(3, 4\\)"),
    "column": ("np.zeros((3, 1), int)", "target has shape \\(3, 1\\)"),
}


@pytest.mark.parametrize("case", BAD_LABELS)
def test_bad_labels_in_a_subprocess(case):
    """Each case runs in its own interpreter: an unchecked index that crashed the kernel
    would show up as a failing exit code, not take the test session down."""
    target, message = BAD_LABELS[case]
    script = textwrap.dedent(f"""
        import re
        import numpy as np
        import neuronlab as nl
        pred = np.full((3, 3), 1 / 3)
        for name in ["softmax_cross_entropy", "hinge", "cross_entropy", "nll", "squared_error", "mse"]:
            for method in ["loss", "gradient", "loss_and_gradient"]:
                for dtype in [np.float32, np.float64]:
                    try:
                        getattr(nl.losses.get(name), method)(pred.astype(dtype), {target})
                    except ValueError as exc:
                        assert re.search({message!r}, str(exc)), (name, str(exc))
                    else:
                        raise SystemExit(f"{{name}}.{{method}} accepted a bad target")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout
    assert done.stdout.strip() == "ok"


# -- the multiclass hinge against NumPy ------------------------------------------------------
def numpy_hinge(z, labels, margin=1.0):
    """Per-sample J_i and dJ_i/dz as the vectorized multiclass SVM is written in NumPy
    (CS231n's assignment): the margins of the wrong classes, clipped at 0; each positive one
    adds 1 at its class and -1 at the label. A sample with a NaN loss gets a NaN row."""
    rows = np.arange(z.shape[0])
    with np.errstate(invalid="ignore"):   # inf - inf: a NaN margin, on purpose
        margins = np.maximum(0, z - z[rows, labels][:, None] + z.dtype.type(margin))
    margins[rows, labels] = 0
    J = margins.astype(np.float64).sum(axis=1)
    grad = (margins > 0).astype(z.dtype)
    grad[rows, labels] = -grad.sum(axis=1)
    grad[np.isnan(J)] = np.nan
    return J, grad


def reduced(J, grad, reduction, dtype):
    """The NumPy reference reduced as the loss reduces: (J, gradient)."""
    m = J.shape[0]
    if reduction == "none":
        return J.astype(dtype), grad
    if reduction == "sum":
        return J.sum(), grad
    return J.mean(), grad * dtype(1 / m)


def assert_hinge_matches_numpy(z, labels, margin, reduction):
    dtype = z.dtype.type
    loss = MulticlassHinge(reduction=reduction, margin=margin)
    J, grad = loss.loss_and_gradient(z, labels)
    J_ref, grad_ref = reduced(*numpy_hinge(z, labels, margin), reduction, dtype)
    assert grad.dtype == z.dtype
    rtol = 1e-6 if dtype is np.float32 else 1e-14
    if reduction == "none":
        assert J.dtype == z.dtype and J.shape == (z.shape[0],)
        np.testing.assert_allclose(J, J_ref, rtol=rtol, atol=0)
    else:
        assert isinstance(J, float) and J == pytest.approx(J_ref, rel=rtol)
    if reduction == "mean":  # count * (1/m), or 1/m: within one rounding of the reference
        np.testing.assert_allclose(grad, grad_ref, rtol=np.finfo(dtype).eps, atol=0)
    else:  # 0, 1 and minus the count: exact
        np.testing.assert_array_equal(grad, grad_ref)
    np.testing.assert_array_equal(loss.loss(z, labels), J)
    np.testing.assert_array_equal(loss.gradient(z, labels), grad)
    return J, grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_matches_numpy(dtype, reduction, margin):
    rng = np.random.default_rng(11)
    m, k = 64, 10
    z = rng.normal(0, 1, (m, k)).astype(dtype)
    labels = rng.integers(0, k, m)
    _, grad = assert_hinge_matches_numpy(z, labels, margin, reduction)
    # some samples violate the margin and some do not: both branches are exercised
    per_sample = MulticlassHinge(reduction="none", margin=margin).loss(z, labels)
    assert (per_sample == 0).any() and (per_sample > 0).any()
    assert (grad > 0).any() and (grad < 0).any()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_at_exact_ties_takes_the_flat_side(dtype, reduction):
    """Integer scores with margin 1 tie often: s_j - s_c + 1 == 0 exactly. There max(0, t)
    has no derivative and the subgradient 0 is taken: a tie is not a violation."""
    rng = np.random.default_rng(3)
    m, k = 200, 5
    z = rng.integers(-3, 4, (m, k)).astype(dtype)
    labels = rng.integers(0, k, m)
    gaps = z - z[np.arange(m), labels][:, None] + 1
    gaps[np.arange(m), labels] = np.nan
    ties = gaps == 0
    assert ties.sum() > 50
    _, grad = assert_hinge_matches_numpy(z, labels, 1.0, reduction)
    assert np.all(grad[ties] == 0)
    # the label's entry counts only the strict violations
    counts = np.sum(gaps > 0, axis=1)
    scale = 1 / m if reduction == "mean" else 1
    np.testing.assert_allclose(grad[np.arange(m), labels], -counts * dtype(scale), rtol=np.finfo(dtype).eps)


def test_hinge_one_tie_by_hand():
    z = np.array([[3.0, 2.0, 2.5, -1.0]])            # label 0: margins 0 (a tie), 0.5, -3
    J, grad = MulticlassHinge(reduction="sum").loss_and_gradient(z, np.array([0]))
    assert J == 0.5
    np.testing.assert_array_equal(grad, [[-1.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_labels_and_one_hot_rows_agree_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    z = rng.normal(0, 1, (30, 6)).astype(dtype)
    labels = rng.integers(0, 6, 30)
    for reduction in REDUCTIONS:
        loss = MulticlassHinge(reduction=reduction)
        a = loss.loss_and_gradient(z, labels)
        for rows in (one_hot(labels, 6), one_hot(labels, 6).astype(np.int8),
                     one_hot(labels, 6).astype(bool), one_hot(labels, 6).astype(np.float32)):
            b = loss.loss_and_gradient(z, rows)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    # integral floats are labels too
    assert MulticlassHinge().loss(z, labels.astype(float)) == MulticlassHinge().loss(z, labels)


@pytest.mark.parametrize(("row", "shown"), [
    ([0, 1, 1], "[0.0, 1.0, 1.0]"),         # two ones
    ([0, 0, 0], "[0.0, 0.0, 0.0]"),         # no one
    ([0, 0.5, 0.5], "[0.0, 0.5, 0.5]"),     # probabilities
    ([0, 2, 0], "[0.0, 2.0, 0.0]"),
    ([0, 1, -0.0001], "[0.0, 1.0, -0.0001]"),
    ([np.nan, 1, 0], "[nan, 1.0, 0.0]"),
])
def test_hinge_refuses_rows_that_are_not_one_hot(row, shown):
    r = np.array([[1.0, 0, 0], [0, 0, 1], row, [0, 1, 0]])
    for method in ("loss", "gradient", "loss_and_gradient"):
        with pytest.raises(ValueError, match=rf"target row 2 is not one-hot: .*got {re.escape(shown)}"):
            getattr(MulticlassHinge(), method)(np.zeros((4, 3)), r)
    with pytest.raises(ValueError, match="target row 0 is not one-hot"):
        MulticlassHinge().loss(np.zeros((1, 12)), np.full((1, 12), 0.5))


def test_hinge_nan_and_inf_scores():
    """NaN as NumPy's maximum gives it: a NaN score makes its sample's loss NaN (whether it
    is the label's score or another's), and its gradient row NaN; the other samples keep
    theirs. Infinite scores give an infinite or a zero loss. No RuntimeWarning."""
    nan, inf = np.nan, np.inf
    z = np.array([[1.0, nan, 0.0], [nan, 1.0, 0.0], [0.0, 0.5, 2.0], [inf, 0.0, 1.0], [0.0, 0.0, inf],
                  [inf, inf, 0.0], [-inf, 0.0, 0.0]])
    labels = np.array([0, 0, 1, 1, 2, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in DTYPES:
            zz = z.astype(dtype)
            J, grad = MulticlassHinge(reduction="none").loss_and_gradient(zz, labels)
            J_ref, grad_ref = numpy_hinge(zz, labels)
            np.testing.assert_array_equal(J, J_ref.astype(dtype))
            np.testing.assert_array_equal(grad, grad_ref)
            assert np.isnan(J[:2]).all() and np.isnan(grad[:2]).all() and np.isnan(J[5])
            assert J[2] == 3 and J[3] == inf and J[4] == 0 and J[6] == inf
            np.testing.assert_array_equal(grad[6], [-2, 1, 1])
            assert np.isnan(MulticlassHinge().loss(zz, labels))


def test_hinge_finite_differences_away_from_ties():
    rng = np.random.default_rng(8)
    z = rng.normal(0, 1, (12, 7))
    labels = rng.integers(0, 7, 12)
    gaps = z - z[np.arange(12), labels][:, None] + 1
    gaps[np.arange(12), labels] = 1
    assert np.abs(gaps).min() > 1e-3   # no kink within the steps
    for reduction in REDUCTIONS:
        loss = MulticlassHinge(reduction=reduction)
        grad = loss.gradient(z, labels)
        h = 1e-6
        numeric = np.empty_like(z)
        for idx in np.ndindex(z.shape):
            step = np.zeros_like(z)
            step[idx] = h
            numeric[idx] = (np.sum(loss.loss(z + step, labels)) - np.sum(loss.loss(z - step, labels))) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_hinge_is_exactly_zero_once_every_class_is_a_margin_below():
    """Where softmax cross-entropy's gradient y - r never vanishes, the hinge's does."""
    z = np.array([[5.0, 1.0, -2.0], [0.0, 3.0, 1.9], [0.0, 3.0, 2.1]])
    labels = np.array([0, 1, 1])
    J, grad = MulticlassHinge(reduction="none").loss_and_gradient(z, labels)
    np.testing.assert_array_equal(J[:2], [0.0, 0.0])
    assert np.all(grad[:2] == 0) and J[2] > 0
    sce = SoftmaxCrossEntropy(reduction="none").loss_and_gradient(z, labels)
    assert np.all(sce[0] > 0) and np.all(sce[1][:2] != 0)


def test_hinge_is_fused_into_the_training_step():
    loss = MulticlassHinge(margin=0.5)
    assert loss.compiled() and loss.classifier
    assert loss.fused_step(4, True) == (_losses.LossFamily.HINGE, 0, 0.5)
    assert loss.fused_step(4, False) is None   # rows go through loss_and_gradient_into
