"""Dense layers: the forward formula, finite-difference checks of every gradient."""
import numpy as np
import pytest

import neuronlab as nl
from neuronlab.gradcheck import check_layer

TRAINABLE = [name for name in nl.activations.available() if name != "binary_step"]


def batch(m=5, n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(m, n))


def assert_all_pass(results):
    failed = {k: r for k, r in results.items() if not r}
    assert not failed, failed


@pytest.mark.parametrize("name", nl.activations.available())
def test_forward_is_f_of_a_prev_WT_plus_b(name):
    layer = nl.Layer(4, 3, name, seed=1)
    layer.b[:] = np.linspace(-0.2, 0.3, layer.b.size)  # maxout has 2 pieces (b entries) per unit
    a_prev = batch()
    z = a_prev @ layer.W.T + layer.b
    a = layer.forward(a_prev, training=False)
    np.testing.assert_allclose(a, nl.activations.get(name)(z), rtol=1e-13, atol=1e-15)
    assert a.shape == (5, 3)


def test_maxout_layer_has_k_pieces_per_unit():
    layer = nl.Layer(4, 3, "maxout", pieces=3, seed=0)
    assert layer.W.shape == (9, 4) and layer.b.shape == (9,)
    a_prev = batch()
    z = a_prev @ layer.W.T + layer.b
    np.testing.assert_array_equal(layer.forward(a_prev), z.reshape(5, 3, 3).max(axis=2))
    assert_all_pass(check_layer(layer, a_prev))


@pytest.mark.parametrize("name", TRAINABLE)
def test_gradients_of_every_activation(name):
    layer = nl.Layer(4, 3, name, seed=2)
    layer.b[:] = np.linspace(-0.2, 0.3, layer.b.size)
    assert_all_pass(check_layer(layer, batch(6, 4, seed=3)))


def test_backward_is_the_lecture_formula():
    # delta = grad_a * f'(z); dJ/dW = sum over samples of delta a_prev^T; grad_prev = delta W
    layer = nl.Layer(4, 3, "sigmoid", seed=0)
    a_prev, grad_a = batch(), batch(5, 3, seed=1)
    a = layer.forward(a_prev).copy()
    grad_prev = layer.backward(grad_a)
    delta = grad_a * a * (1 - a)
    W_grad = sum(np.outer(delta[i], a_prev[i]) for i in range(5))
    np.testing.assert_allclose(layer.dW, W_grad, rtol=1e-13)
    np.testing.assert_allclose(layer.db, delta.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grad_prev, delta @ layer.W, rtol=1e-13)


def test_two_layers_chain_the_error_signal():
    # delta^(1) = (W^(2)T delta^(2)) * f'(z^(1)): backward through layer 2 feeds layer 1.
    l1, l2 = nl.Layer(4, 5, "tanh", seed=0), nl.Layer(5, 2, "softplus", seed=1)
    x = batch()
    R = np.random.default_rng(9).normal(size=(5, 2))

    def J(_=None):
        return float(np.sum(R * l2.forward(l1.forward(x))))

    J()
    l1.backward(l2.backward(R))
    for layer in (l1, l2):
        for name, p, g in layer.named_parameters():
            result = nl.gradcheck.check_gradient(J, p, g.copy())
            assert result, (layer, name, result)


@pytest.mark.parametrize("alpha", [0.25, np.array([0.1, 0.2, 0.3])], ids=["shared", "per_unit"])
def test_prelu_slope_gradient_and_learning(alpha):
    layer = nl.Layer(4, 3, "prelu", seed=0, alpha=alpha)
    assert layer.alpha.shape == np.shape(np.atleast_1d(alpha))
    results = check_layer(layer, batch(8, 4, seed=1))
    assert "alpha" in results
    assert_all_pass(results)
    assert np.any(layer.dalpha != 0)
    # an optimizer step on alpha changes the slope the forward pass uses
    z_neg = np.full((1, 4), -1.0)
    before = layer.forward(z_neg).copy()
    layer.dalpha[:] = -1.0
    nl.optim.SGD(0.5).step([(layer.alpha, layer.dalpha)])
    after = layer.forward(z_neg)
    z = z_neg @ layer.W.T + layer.b
    np.testing.assert_allclose(after, np.where(z > 0, z, (np.atleast_1d(alpha) + 0.5) * z))
    assert not np.allclose(before, after)


def test_prelu_per_unit_needs_one_slope_per_unit():
    with pytest.raises(ValueError, match="alpha"):
        nl.Layer(4, 3, "prelu", alpha=np.ones(2))


def test_rrelu_training_and_eval():
    layer = nl.Layer(4, 6, "rrelu", seed=0, lower=0.1, upper=0.3)
    a_prev = batch(50, 4)
    z = a_prev @ layer.W.T
    a_eval = layer.eval().forward(a_prev).copy()
    np.testing.assert_allclose(a_eval, np.where(z > 0, z, 0.2 * z), rtol=1e-13)
    a_train = layer.train().forward(a_prev).copy()
    slopes = a_train[z < 0] / z[z < 0]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert slopes.std() > 0.03  # random, not the mean
    np.testing.assert_array_equal(a_train[z > 0], z[z > 0])
    assert_all_pass(check_layer(layer.train(), a_prev[:6]))
    assert_all_pass(check_layer(layer.eval(), a_prev[:6]))


def test_rrelu_seeded_by_the_layer():
    a = nl.Layer(4, 6, "rrelu", seed=5).forward(batch()).copy()
    b = nl.Layer(4, 6, "rrelu", seed=5).forward(batch()).copy()
    np.testing.assert_array_equal(a, b)


def test_float32_layer():
    l64 = nl.Layer(4, 3, "gelu", seed=0)
    l32 = nl.Layer(4, 3, "gelu", seed=0, dtype=np.float32)
    assert l32.W.dtype == np.float32
    x = batch()
    a = l32.forward(x)
    g = l32.backward(np.ones((5, 3)))
    assert a.dtype == g.dtype == l32.dW.dtype == np.float32
    np.testing.assert_allclose(a, l64.forward(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, l64.backward(np.ones((5, 3))), rtol=1e-4, atol=1e-6)


def test_buffers_made_once_and_reused():
    def address(a):
        return a.__array_interface__["data"][0]

    layer = nl.Layer(4, 3, seed=0)
    a1 = layer.forward(batch(5))
    a2 = layer.forward(batch(5, seed=1))
    assert address(a1) == address(a2)
    assert layer.forward(batch(2)).shape == (2, 3)
    assert address(layer.forward(batch(5))) == address(a1)   # a smaller batch fits the buffers
    g1 = layer.backward(np.ones((5, 3)))
    layer.forward(batch(5))
    assert address(layer.backward(np.ones((5, 3)))) == address(g1)
    assert layer.forward(batch(9)).shape == (9, 3)            # a larger one gets new buffers


def test_default_initializers_follow_the_activation():
    relu = nl.Layer(400, 300, "relu", seed=0)
    assert relu.W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    tanh = nl.Layer(400, 300, "tanh", seed=0)
    assert tanh.W.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    custom = nl.Layer(400, 300, "tanh", init="zeros")
    assert not custom.W.any()
    np.testing.assert_array_equal(nl.Layer(4, 3, seed=7).W, nl.Layer(4, 3, seed=7).W)


def test_a_single_layer_learns_a_linear_map():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(2, 3))
    X = rng.normal(size=(64, 3))
    Y = X @ A.T + [0.5, -1.0]
    layer, opt = nl.Layer(3, 2, "identity", seed=0), nl.optim.Adam(0.05)
    for _ in range(500):
        a = layer.forward(X)
        layer.backward((a - Y) / len(X))   # J = 1/(2m) ||a - Y||^2
        opt.step(layer.params_and_grads())
    np.testing.assert_allclose(layer.W, A, atol=1e-3)
    np.testing.assert_allclose(layer.b, [0.5, -1.0], atol=1e-3)


def test_gradcheck_catches_a_wrong_backward():
    class ForgetsDerivative(nl.Layer):
        def backward(self, grad_a):  # skips f'(z): the classic bug
            self.dW[...] = np.asarray(grad_a).T @ self.a_prev
            self.db[...] = np.asarray(grad_a).sum(axis=0)
            return np.asarray(grad_a) @ self.W

    results = check_layer(ForgetsDerivative(4, 3, "tanh", seed=0), batch())
    assert not results["W"] and not results["b"] and not results["a_prev"]
    assert "FAILED" in repr(results["W"])


@pytest.mark.parametrize(("call", "exc", "word"), [
    (lambda: nl.Layer(0, 3), ValueError, "n_in"),
    (lambda: nl.Layer(3, 2.0), TypeError, "n_out"),
    (lambda: nl.Layer(3, 2, "nope"), ValueError, "unknown activation"),
    (lambda: nl.Layer(3, 2, init="nope"), ValueError, "unknown initializer"),
    (lambda: nl.Layer(3, 2, dtype=np.int64), TypeError, "dtype"),
    (lambda: nl.Layer(3, 2, "leaky_relu", alpha=-1.0), ValueError, "alpha"),
    (lambda: nl.Layer(3, 2, seed=1.5), TypeError, "seed"),
    (lambda: nl.Layer(3, 2).forward(np.ones((4, 2))), ValueError, "a_prev"),
    (lambda: nl.Layer(3, 2).forward(np.ones((2, 2, 3))), ValueError, "a_prev"),
    (lambda: nl.Layer(3, 2).forward(np.full((4, 3), np.nan)), ValueError, r"a_prev\[0, 0\] is nan"),
    (lambda: nl.Layer(3, 2).forward(np.ones((4, 3), dtype=complex)), TypeError, "a_prev"),
    (lambda: nl.Layer(3, 2).backward(np.ones((4, 2))), ValueError, "forward"),
])
def test_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_bad_grad_a_shape():
    layer = nl.Layer(3, 2)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="grad_a"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(TypeError, match="grad_a"):
        layer.backward(np.full((4, 2), "x"))


def test_check_gradient_input_checks():
    with pytest.raises(TypeError, match="float64"):
        nl.gradcheck.check_gradient(np.sum, np.ones(3, dtype=np.float32), np.ones(3))
    with pytest.raises(ValueError, match="analytic"):
        nl.gradcheck.check_gradient(np.sum, np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="scalar"):
        nl.gradcheck.check_gradient(lambda x: x, np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="x must be a numpy"):
        nl.gradcheck.numerical_gradient(np.sum, [1.0, 2.0])


def test_no_array_allocation_per_training_step():
    import tracemalloc

    layer = nl.Layer(200, 100, "tanh", seed=0)
    x, grad_a = batch(64, 200), batch(64, 100, seed=1)   # buffers of 51-100 kB
    layer.forward(x)
    layer.backward(grad_a)
    tracemalloc.start()
    try:
        for _ in range(3):
            layer.forward(x)
            layer.backward(grad_a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000


def test_numerical_gradient_accuracy():
    # central differences: error O(eps^2) plus rounding O(1e-16 / eps)
    x = np.linspace(-2.0, 2.0, 9)
    g = nl.gradcheck.numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    np.testing.assert_allclose(g, np.cos(x), atol=1e-9)
    np.testing.assert_array_equal(x, np.linspace(-2.0, 2.0, 9))  # restored exactly
