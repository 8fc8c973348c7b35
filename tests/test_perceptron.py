"""The perceptron rule, the three stages of a neuron, and the gradient-trained neuron."""
import numpy as np
import pytest

import neuronlab as nl
from neuronlab.gradcheck import check_gradient

GATES = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
AND, OR, XOR = [0, 0, 0, 1], [0, 1, 1, 1], [0, 1, 1, 0]


@pytest.mark.parametrize("t", [AND, OR])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_separable_gates(t, seed):
    p = nl.Perceptron(2, seed=seed).fit(GATES, t, epochs=50)
    assert p.converged
    assert p.mistakes[-1] == 0
    assert all(m > 0 for m in p.mistakes[:-1])
    assert p.predict(GATES).tolist() == t
    assert p.predict(GATES).dtype == np.int64
    assert p.score(GATES, t) == 1.0


def test_xor_never_converges_and_runs_every_epoch():
    p = nl.Perceptron(2, seed=0).fit(GATES, XOR, epochs=37)
    assert not p.converged
    assert len(p.mistakes) == 37
    assert min(p.mistakes) >= 1
    assert p.score(GATES, XOR) < 1.0


def test_rule_by_hand_without_shuffling():
    # Visit the samples in order and replay w <- w + eta (t - y_hat) x, b <- b + eta (t - y_hat).
    eta = 0.5
    p = nl.Perceptron(2, learning_rate=eta).fit(GATES, AND, epochs=1, shuffle=False)
    w, b, mistakes = np.zeros(2), 0.0, 0
    for x, t in zip(GATES, AND, strict=True):
        y_hat = 1.0 if x @ w + b >= 0 else 0.0
        w, b = w + eta * (t - y_hat) * x, b + eta * (t - y_hat)
        mistakes += int(t != y_hat)
    np.testing.assert_array_equal(p.weights, w)
    assert p.bias == b
    assert p.mistakes == [mistakes]


def test_mistake_count_is_that_of_the_rule():
    # First epoch on AND from zero weights, in order: (0,0) predicted 1 (mistake: b=-1),
    # (0,1) z=-1 -> 0 right, (1,0) right, (1,1) z=-1 -> 0 mistake: w=(1,1), b=0.
    p = nl.Perceptron(2).fit(GATES, AND, epochs=1, shuffle=False)
    assert p.mistakes == [2]
    np.testing.assert_array_equal(p.weights, [1.0, 1.0])
    assert p.bias == 0.0


def test_three_stages_compose_to_forward():
    p = nl.Perceptron(3)
    p.weights[:] = [0.5, -1.0, 2.0]
    p.bias = -0.25
    X = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.1], [-1.0, 1.0, 0.0]])
    weighted = p.weighting(X)
    np.testing.assert_array_equal(weighted, X * p.weights)
    z = p.summation(weighted)
    np.testing.assert_allclose(z, X @ p.weights - 0.25)
    np.testing.assert_array_equal(p.activate(z), (z >= 0).astype(float))
    np.testing.assert_array_equal(p.predict(X), [1, 0, 0])


def test_seed_makes_training_reproducible():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 4))
    t = (X @ [1.0, -2.0, 0.5, 1.0] > 0).astype(int)
    a = nl.Perceptron(4, seed=3).fit(X, t, epochs=200)
    b = nl.Perceptron(4, seed=3).fit(X, t, epochs=200)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.mistakes == b.mistakes
    assert a.converged


def test_single_sample_prediction():
    p = nl.Perceptron(2).fit(GATES, OR, epochs=20)
    assert p.predict([1.0, 0.0]).tolist() == [1]


@pytest.mark.parametrize(("kwargs", "exc", "word"), [
    ({"n_inputs": 0}, ValueError, "n_inputs"),
    ({"n_inputs": 2.5}, TypeError, "n_inputs"),
    ({"n_inputs": 2, "learning_rate": 0.0}, ValueError, "learning_rate"),
    ({"n_inputs": 2, "learning_rate": float("nan")}, ValueError, "learning_rate"),
    ({"n_inputs": 2, "seed": "a"}, TypeError, "seed"),
])
def test_bad_hyper_parameters(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        nl.Perceptron(**kwargs)


@pytest.mark.parametrize(("X", "y", "exc", "word"), [
    (np.zeros((4, 3)), AND, ValueError, "X"),
    (np.zeros(4), AND, ValueError, "X"),
    (np.array([[0, np.nan], [0, 1], [1, 0], [1, 1]]), AND, ValueError, r"X\[0, 1\] is nan"),
    (GATES, [0, 0, 1], ValueError, "y"),
    (GATES, [0, 0, 2, 1], ValueError, "y"),
    (GATES, ["a", "b", "c", "d"], TypeError, "y"),
    (np.zeros((4, 2), dtype=complex), AND, TypeError, "X"),
])
def test_bad_data(X, y, exc, word):
    with pytest.raises(exc, match=word):
        nl.Perceptron(2).fit(X, y)


def test_bad_epochs():
    with pytest.raises(ValueError, match="epochs"):
        nl.Perceptron(2).fit(GATES, AND, epochs=0)


# -- the gradient-trained neuron --------------------------------------------------------
@pytest.mark.parametrize(("activation", "loss"), [
    ("sigmoid", "binary_cross_entropy"), ("sigmoid", "squared_error"), ("tanh", "squared_error"),
    ("softplus", "squared_error"), ("swish", "squared_error")])
def test_logistic_neuron_delta_is_the_gradient(activation, loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    t = rng.integers(0, 2, 7)
    n = nl.LogisticNeuron(3, activation, loss=loss, seed=1)
    n.weights[:] = rng.normal(size=3)
    _, delta = n.loss_and_delta(X, t)
    assert check_gradient(lambda w: n.loss_and_delta(X, t)[0], n.weights, X.T @ delta)
    b = np.array([n.bias])

    def J_of_b(b):
        n.bias = float(b[0])
        return n.loss_and_delta(X, t)[0]

    assert check_gradient(J_of_b, b, [delta.sum()])


def test_logistic_neuron_cross_entropy_value():
    n = nl.LogisticNeuron(1, seed=0)
    n.weights[:] = [2.0]
    n.bias = -1.0
    X = np.array([[0.0], [1.0], [3.0]])
    t = np.array([0, 1, 0])
    a = 1 / (1 + np.exp(-(2 * X[:, 0] - 1)))
    expected = -np.mean(t * np.log(a) + (1 - t) * np.log(1 - a))
    assert n.loss_and_delta(X, t)[0] == pytest.approx(expected, rel=1e-14)


def test_logistic_neuron_cross_entropy_finite_for_huge_z():
    n = nl.LogisticNeuron(1, seed=0)
    n.weights[:] = [1000.0]
    J, _ = n.loss_and_delta(np.array([[1.0]]), [0])
    assert J == pytest.approx(1000.0)


def test_logistic_neuron_learns_or_and_loss_falls():
    n = nl.LogisticNeuron(2, learning_rate=1.0, seed=0).fit(GATES, OR, epochs=500)
    assert n.predict(GATES).tolist() == OR
    assert n.losses[-1] < n.losses[0]
    assert np.all(np.diff(n.losses) <= 1e-15)  # full-batch descent with a small step
    assert np.all((n.predict_proba(GATES) > 0) & (n.predict_proba(GATES) < 1))


def test_logistic_neuron_minibatches_reproducible():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 2))
    t = (X[:, 0] + X[:, 1] > 0).astype(int)
    a = nl.LogisticNeuron(2, seed=4).fit(X, t, epochs=20, batch_size=8)
    b = nl.LogisticNeuron(2, seed=4).fit(X, t, epochs=20, batch_size=8)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.score(X, t) > 0.9


def test_logistic_neuron_bad_arguments():
    with pytest.raises(ValueError, match="binary_step"):
        nl.LogisticNeuron(2, "binary_step")
    with pytest.raises(ValueError, match="binary_cross_entropy' needs outputs in"):
        nl.LogisticNeuron(2, "tanh", loss="binary_cross_entropy")
    with pytest.raises(ValueError, match="one neuron's cross-entropy is 'binary_cross_entropy'"):
        nl.LogisticNeuron(2, loss="cross_entropy")
    with pytest.raises(ValueError, match="loss"):
        nl.LogisticNeuron(2, loss="hinge")
    with pytest.raises(ValueError, match="unknown activation"):
        nl.LogisticNeuron(2, "nope")
    with pytest.raises(ValueError, match="batch_size"):
        nl.LogisticNeuron(2).fit(GATES, OR, batch_size=0)
