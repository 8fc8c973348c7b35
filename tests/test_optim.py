"""Optimizers against their formulas, written out the plain (allocating) way."""
import tracemalloc

import numpy as np
import pytest

import neuronlab as nl
from neuronlab import optim

STEPS = 6


def gradients(shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(STEPS)]


def run(opt, theta0, grads):
    theta = theta0.copy()
    for g in grads:
        opt.step([(theta, g)])
    return theta


def reference(kind, theta, grads, eta, wd=0.0, decoupled=False, **h):
    theta = theta.copy()
    v = m = s = G = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        if wd and decoupled:
            theta = theta - eta * wd * theta
        elif wd:
            g = g + wd * theta
        if kind == "sgd":
            theta = theta - eta * g
        elif kind == "momentum":
            v = h["mu"] * v + g
            theta = theta - eta * v
        elif kind == "nesterov":
            v = h["mu"] * v + g
            theta = theta - eta * (g + h["mu"] * v)
        elif kind == "adagrad":
            G = G + g ** 2
            theta = theta - eta * g / (np.sqrt(G) + h["eps"])
        elif kind == "rmsprop":
            s = h["rho"] * s + (1 - h["rho"]) * g ** 2
            theta = theta - eta * g / (np.sqrt(s) + h["eps"])
        elif kind == "adam":
            m = h["b1"] * m + (1 - h["b1"]) * g
            v = h["b2"] * v + (1 - h["b2"]) * g ** 2
            m_hat, v_hat = m / (1 - h["b1"] ** t), v / (1 - h["b2"] ** t)
            theta = theta - eta * m_hat / (np.sqrt(v_hat) + h["eps"])
    return theta


CASES = [
    ("sgd", lambda **k: optim.SGD(0.1, **k), {}),
    ("momentum", lambda **k: optim.SGD(0.1, momentum=0.9, **k), {"mu": 0.9}),
    ("nesterov", lambda **k: optim.SGD(0.1, momentum=0.8, nesterov=True, **k), {"mu": 0.8}),
    ("adagrad", lambda **k: optim.Adagrad(0.3, eps=1e-7, **k), {"eps": 1e-7}),
    ("rmsprop", lambda **k: optim.RMSProp(0.01, rho=0.95, eps=1e-6, **k),
     {"rho": 0.95, "eps": 1e-6}),
    ("adam", lambda **k: optim.Adam(0.02, beta1=0.8, beta2=0.99, eps=1e-6, **k),
     {"b1": 0.8, "b2": 0.99, "eps": 1e-6}),
]
ETA = {"sgd": 0.1, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.3, "rmsprop": 0.01,
       "adam": 0.02}


@pytest.mark.parametrize(("kind", "make", "h"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(("wd", "decoupled"), [(0.0, False), (0.05, False), (0.05, True)])
def test_matches_formula(kind, make, h, wd, decoupled):
    theta0 = np.random.default_rng(9).normal(size=(3, 4))
    grads = gradients()
    opt = make(weight_decay=wd, decoupled_weight_decay=decoupled)
    got = run(opt, theta0, grads)
    want = reference(kind, theta0, grads, ETA[kind], wd, decoupled, **h)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    assert not np.allclose(got, theta0)


@pytest.mark.parametrize(("kind", "make", "h"), CASES, ids=[c[0] for c in CASES])
def test_float32_parameters_stay_float32(kind, make, h):
    theta = np.random.default_rng(1).normal(size=(5,)).astype(np.float32)
    grads = [g.astype(np.float32) for g in gradients((5,))]
    want = reference(kind, theta.astype(np.float64), [g.astype(np.float64) for g in grads],
                     ETA[kind], **h)
    got = run(make(), theta, grads)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_adam_first_step_is_eta_sign_g():
    # m_hat = g and v_hat = g^2 at t = 1: the first step is eta g / |g| (bias correction)
    theta = np.zeros(4)
    g = np.array([3.0, -0.001, 250.0, -7.0])
    optim.Adam(0.01, eps=1e-12).step([(theta, g)])
    np.testing.assert_allclose(theta, -0.01 * np.sign(g), rtol=1e-8)


def test_state_is_per_parameter_and_reused():
    W, b = np.ones((2, 3)), np.ones(2)
    opt = optim.Adam(0.1)
    opt.step([(W, np.ones((2, 3))), (b, np.full(2, -1.0))])
    m_W, m_b = opt.state(W)["m"], opt.state(b)["m"]
    assert m_W.shape == (2, 3) and m_b.shape == (2,)
    np.testing.assert_allclose(m_b, -0.1)
    opt.step([(W, np.ones((2, 3))), (b, np.full(2, -1.0))])
    assert opt.state(W)["m"] is m_W  # the same buffer, updated in place
    assert int(opt.state(W)["t"][0]) == 2
    opt.reset()
    assert opt.state(W) == {}


@pytest.mark.parametrize(("kind", "make", "h"), CASES, ids=[c[0] for c in CASES])
def test_no_allocation_per_step(kind, make, h):
    theta = np.random.default_rng(0).normal(size=100_000)   # 800 kB
    g = np.random.default_rng(1).normal(size=100_000)
    opt = make(weight_decay=0.01)
    opt.step([(theta, g)])  # the first step makes the buffers
    tracemalloc.start()
    try:
        for _ in range(5):
            opt.step([(theta, g)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000  # bytes: no array-sized temporary


def test_step_decay_and_exponential_decay():
    opt = optim.SGD(1.0, schedule=optim.StepDecay(step_size=2, gamma=0.5))
    rates = [opt.learning_rate] + [opt.end_epoch() for _ in range(5)]
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    opt = optim.Adam(0.1, schedule=optim.ExponentialDecay(0.9))
    rates = [opt.learning_rate] + [opt.end_epoch() for _ in range(3)]
    np.testing.assert_allclose(rates, [0.1, 0.09, 0.081, 0.0729], rtol=1e-15)
    theta = np.zeros(1)
    opt.step([(theta, np.ones(1))])  # Adam's first step is the current eta
    np.testing.assert_allclose(theta, [-0.0729], rtol=1e-6)


def test_every_optimizer_descends_a_quadratic():
    # J = 1/2 theta^T A theta; every optimizer should bring J down from theta = (1, 1)
    A = np.diag([1.0, 10.0])
    for opt in (optim.SGD(0.05), optim.SGD(0.05, momentum=0.9, nesterov=True),
                optim.Adagrad(0.5), optim.RMSProp(0.01), optim.Adam(0.05)):
        theta = np.ones(2)
        for _ in range(300):
            opt.step([(theta, A @ theta)])
        assert 0.5 * theta @ A @ theta < 1e-3, opt


def test_get():
    assert isinstance(optim.get("adam", learning_rate=0.1), optim.Adam)
    o = optim.SGD()
    assert optim.get(o) is o
    assert nl.optim is optim
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.get("lbfgs")


@pytest.mark.parametrize(("call", "exc", "word"), [
    (lambda: optim.SGD(0.0), ValueError, "learning_rate"),
    (lambda: optim.SGD(-1.0), ValueError, "learning_rate"),
    (lambda: optim.SGD("0.1"), TypeError, "learning_rate"),
    (lambda: optim.SGD(0.1, momentum=1.5), ValueError, "momentum"),
    (lambda: optim.SGD(0.1, nesterov=True), ValueError, "nesterov"),
    (lambda: optim.Adam(beta1=1.0), ValueError, "beta1"),
    (lambda: optim.Adam(beta2=-0.1), ValueError, "beta2"),
    (lambda: optim.RMSProp(rho=2.0), ValueError, "rho"),
    (lambda: optim.Adagrad(eps=0.0), ValueError, "eps"),
    (lambda: optim.SGD(weight_decay=-1.0), ValueError, "weight_decay"),
    (lambda: optim.SGD(schedule=3), TypeError, "schedule"),
    (lambda: optim.StepDecay(0), ValueError, "step_size"),
    (lambda: optim.ExponentialDecay(0.0), ValueError, "gamma"),
])
def test_bad_hyper_parameters(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_bad_step_arguments():
    opt = optim.SGD(0.1)
    with pytest.raises(ValueError, match="shape"):
        opt.step([(np.zeros(3), np.zeros(4))])
    with pytest.raises(TypeError, match="parameter 0"):
        opt.step([(np.zeros(3, dtype=int), np.zeros(3))])
    with pytest.raises(TypeError, match="pair"):
        opt.step([np.zeros(3)])
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step([(ro, np.zeros(3))])


# -- weight decay on the weights only (decay_biases=False) -------------------------------
@pytest.mark.parametrize(("kind", "make", "h"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("weights", ["mask", "slice"])
def test_decay_biases_false_decays_only_the_marked_weights(kind, make, h, decoupled, weights):
    # theta of 12 numbers: entries 2..8 are weights. Every update is elementwise, so the
    # result is the formula with the decay on those entries and without it on the rest.
    theta0 = np.random.default_rng(9).normal(size=12)
    grads = gradients((12,))
    mask = np.zeros(12, bool)
    mask[2:9] = True
    spec = mask if weights == "mask" else slice(2, 9)
    opt = make(weight_decay=0.05, decoupled_weight_decay=decoupled, decay_biases=False)
    theta = theta0.copy()
    for g in grads:
        opt.step([(theta, g, spec)])
    decayed = reference(kind, theta0, grads, ETA[kind], 0.05, decoupled, **h)
    free = reference(kind, theta0, grads, ETA[kind], **h)
    np.testing.assert_allclose(theta[mask], decayed[mask], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(theta[~mask], free[~mask], rtol=1e-13, atol=1e-15)
    assert not np.allclose(decayed[~mask], free[~mask])     # the decay made a difference
    assert int(opt.state(theta)["t"][0]) == STEPS            # one step count per parameter


def test_decay_biases_false_with_layer_pairs_decays_matrices_not_vectors():
    layer = nl.Layer(3, 2, "prelu", alpha=np.full(2, 0.25), seed=0)
    layer.dW[...], layer.db[...], layer.dalpha[...] = 0.0, 0.0, 0.0   # the decay alone
    W, b, alpha = layer.W.copy(), np.ones(2), layer.alpha.copy()
    layer.b[...] = b
    optim.SGD(0.1, weight_decay=0.5, decay_biases=False).step(layer.params_and_grads())
    np.testing.assert_allclose(layer.W, W * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(layer.b, b)
    np.testing.assert_array_equal(layer.alpha, alpha)
    # an explicit third entry overrides the default; True/False mark all or nothing
    v, g = np.ones(3), np.zeros(3)
    optim.SGD(0.1, weight_decay=0.5, decay_biases=False).step([(v, g, True)])
    np.testing.assert_allclose(v, 0.95)
    M = np.ones((2, 2))
    optim.SGD(0.1, weight_decay=0.5, decay_biases=False).step([(M, np.zeros_like(M), False)])
    np.testing.assert_array_equal(M, 1.0)


def test_decay_biases_true_is_the_old_behaviour_and_ignores_the_weights():
    theta0, grads = np.random.default_rng(3).normal(size=8), gradients((8,))
    for spec in (None, False, slice(0, 3), np.zeros(8, bool)):
        opt = optim.Adam(0.02, weight_decay=0.1)
        theta = theta0.copy()
        for g in grads:
            opt.step([(theta, g) if spec is None else (theta, g, spec)])
        want = reference("adam", theta0, grads, 0.02, 0.1, b1=0.9, b2=0.999, eps=1e-8)
        np.testing.assert_allclose(theta, want, rtol=1e-13)
    assert "decay_biases" not in repr(optim.SGD(0.1, weight_decay=0.1))
    assert repr(optim.SGD(0.1, weight_decay=0.1, decay_biases=False)) == \
        "SGD(learning_rate=0.1, weight_decay=0.1, decay_biases=False)"


def test_decay_biases_false_allocates_nothing_per_step():
    theta = np.random.default_rng(0).normal(size=100_000)
    g = np.random.default_rng(1).normal(size=100_000)
    mask = np.arange(100_000) % 1000 < 900      # 100 runs of weights, 100 of biases
    opt = optim.Adam(0.01, weight_decay=0.01, decay_biases=False)
    opt.step([(theta, g, mask)])
    tracemalloc.start()
    try:
        for _ in range(5):
            opt.step([(theta, g, mask)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000


def test_bad_weights_argument():
    opt = optim.SGD(0.1, weight_decay=0.1, decay_biases=False)
    theta, g = np.zeros(4), np.zeros(4)
    with pytest.raises(TypeError, match=r"must be a pair .* or a triple"):
        opt.step([(theta, g, True, 1)])
    with pytest.raises(ValueError, match="slice with step 2"):
        opt.step([(theta, g, slice(0, 4, 2))])
    with pytest.raises(TypeError, match=r"a bool, a slice or a boolean array .* got int64"):
        opt.step([(theta, g, np.arange(4))])
    with pytest.raises(TypeError, match="got list"):
        opt.step([(theta, g, [True, False, True, False])])
    with pytest.raises(ValueError, match=r"have shape \(3,\) but the parameter has shape \(4,\)"):
        opt.step([(theta, g, np.ones(3, bool))])
