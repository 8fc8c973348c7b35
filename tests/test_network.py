"""Network: back-propagation against finite differences, training, saving, bad input."""
import json
import os
import signal
import zipfile

import numpy as np
import pytest

import neuronlab as nl
from neuronlab import _torch, network, reference


def blobs(m=120, seed=0):
    return nl.datasets.blobs(m, n_classes=3, seed=seed)


def small_net(seed=0, hidden="tanh", loss="softmax_cross_entropy", n_out=3, **params):
    return nl.Network([nl.Layer(2, 8, hidden, seed=seed, **params),
                       nl.Layer(8, 6, "sigmoid", seed=seed + 1),
                       nl.Layer(6, n_out, "identity", seed=seed + 2)], loss=loss, seed=seed)


# -- back-propagation ------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "elu", "softplus", "swish", "gelu"])
def test_gradcheck_whole_network(hidden):
    X, y = blobs(10)
    results = small_net(hidden=hidden).gradcheck(X, y)
    assert set(results) == {f"layer{i}.{p}" for i in range(3) for p in "Wb"}
    for name, result in results.items():
        assert result, (name, result)


def test_gradcheck_relu_prelu_and_regression_loss():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 2))
    r = rng.normal(size=(7, 2))
    net = nl.Network([nl.Layer(2, 5, "prelu", seed=0, alpha=np.full(5, 0.2)),
                      nl.Layer(5, 4, "relu", seed=1), nl.Layer(4, 2, "identity", seed=2)],
                     loss="mse")
    results = net.gradcheck(X, r)
    assert "layer0.alpha" in results
    assert all(results.values()), results


def test_gradcheck_with_random_rrelu_slopes():
    X, y = blobs(8)
    net = nl.Network([nl.Layer(2, 6, "rrelu", seed=0), nl.Layer(6, 3, "identity", seed=1)])
    assert all(net.gradcheck(X, y).values())


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    X, y = blobs(6)
    net = small_net()
    original = network.DenseStack.backward

    def broken(stack, grad_out):
        original(stack, grad_out)
        net.layers[1].dW *= 1.01  # a 1% error in one layer

    monkeypatch.setattr(network, "DenseStack", type("Broken", (network.DenseStack,), {"backward": broken}))
    results = net.gradcheck(X, y)
    assert not results["layer1.W"] and results["layer0.W"] and results["layer2.W"]


FIXED_KERNELS = [("identity", {}), ("binary_step", {}), ("sigmoid", {}), ("hard_sigmoid", {"slope": 0.2}),
                 ("tanh", {}), ("hard_tanh", {}), ("softsign", {}), ("relu", {}),
                 ("leaky_relu", {"alpha": 0.1}), ("elu", {"alpha": 0.7}), ("selu", {}), ("softplus", {}),
                 ("swish", {"beta": 1.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
                 ("gelu", {"approximate": "sigmoid"}), ("mish", {})]
IN_PYTHON = [("prelu", {}), ("prelu", {"alpha": np.full(7, 0.2)}), ("rrelu", {}), ("maxout", {"pieces": 3})]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("hidden", "params"), FIXED_KERNELS + IN_PYTHON)
def test_the_engine_computes_the_textbook_listing(hidden, params, dtype):
    """Network, Layer and neuronlab.reference (plain NumPy) compute the same step, for every
    layer kind: compiled activations, and those the engine calls back in Python."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(13, 4)).astype(dtype)
    y = rng.integers(0, 3, 13)
    net = nl.Network([nl.Layer(4, 7, hidden, seed=0, dtype=dtype, **params),
                      nl.Layer(7, 5, "tanh", seed=1, dtype=dtype),
                      nl.Layer(5, 3, "identity", seed=2, dtype=dtype)]).eval()   # RReLU: mean slope
    for layer in net.layers:
        layer.b[...] = rng.normal(size=layer.b.shape)   # a bias that matters
    J_ref, grads = reference.network_gradients(net, X, y)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    # the network's passes (its compiled loop over the layers' engines)
    stack = net.engine(16)                    # room for 16, a batch of 13
    out = stack.forward(X).copy()
    grad = np.empty((13, 3), dtype)
    J = net.loss_and_gradient_into(out, nl.losses.check_labels(y, 13, 3), grad)
    stack.backward(grad)
    np.testing.assert_allclose(J, J_ref, **tol)
    for name, _, g in net.named_parameters():
        np.testing.assert_allclose(g, grads[name], err_msg=name, **tol)
    z_ref = X @ net.layers[0].W.T + net.layers[0].b
    np.testing.assert_allclose(net.layers[0].z, z_ref, **tol)
    # each Layer alone, forward then backward
    a = X
    for layer in net.layers:
        a = layer.forward(a).copy()
    np.testing.assert_allclose(a, out, **tol)
    g = nl.losses.get("softmax_cross_entropy").gradient(a, y)
    for layer in reversed(net.layers):
        g = layer.backward(g)
    for name, _, layer_grad in net.named_parameters():
        np.testing.assert_allclose(layer_grad, grads[name], err_msg=name, **tol)


def test_an_overflow_inside_the_network_reaches_the_output():
    # A first layer so large that a^(1) overflows to inf: that is the network's own numbers,
    # not bad input, so it travels on to the output (the layers' own passes do not check it).
    X = np.ones((3, 2))
    net = small_net(hidden="elu")
    net.layers[0].W[:] = 1e308
    out = net.forward(X)
    assert not np.isfinite(net.layers[0].engine(3).a[:3]).all()  # the overflow happened
    assert out.shape == (3, 3) and not np.isfinite(out).all()
    with pytest.raises(ValueError, match=r"a_prev\[0, 0\] is inf: the samples must be finite"):  # a user's: refused
        net.layers[1].forward(net.layers[0].engine(3).a[:3])


class NumpyTanh(nl.activations.Activation):
    """tanh as a student writes it: forward and derivative in NumPy, nothing else."""

    name = "numpy_tanh"

    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1.0 - np.tanh(z) ** 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_students_tanh_trains_like_the_built_in(dtype):
    """Same seeds, same data: the student's NumPy tanh and the compiled one give the same
    history (to rounding) and pass the same checks."""
    X, y = blobs(90)
    X = X.astype(dtype)

    def net(act):
        return nl.Network([nl.Layer(2, 8, act, init="xavier", seed=0, dtype=dtype),
                           nl.Layer(8, 6, act, init="xavier", seed=1, dtype=dtype),
                           nl.Layer(6, 3, "identity", seed=2, dtype=dtype)], seed=0)

    student, built_in = net(NumpyTanh()), net("tanh")
    assert student.layers[0].activation.compiled_kernel() is None
    assert built_in.layers[0].activation.compiled_kernel() == "tanh"
    histories = [n.fit(X, y, epochs=5, batch_size=16, optimizer=nl.optim.SGD(0.1, momentum=0.9),
                       validation_split=0.2, progress=False) for n in (student, built_in)]
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    for key in ("loss", "val_loss", "accuracy", "grad_norm"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=rtol, err_msg=key)
    for (name, p, _), (_, q, _) in zip(student.named_parameters(), built_in.named_parameters(), strict=True):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol, err_msg=name)
    if dtype == np.float64:
        assert all(student.gradcheck(X[:8], y[:8]).values())


def test_a_subclass_of_a_built_in_runs_what_it_overrides():
    class Bent(nl.activations.Swish):
        name = "bent"

        def forward(self, z):
            return 2.0 * z

        def derivative(self, z):
            return np.full_like(z, 2.0)

    act = Bent()
    assert act.compiled_kernel() is None
    np.testing.assert_array_equal(act(np.array([1.0, -3.0])), [2.0, -6.0])   # __call__ -> forward
    np.testing.assert_array_equal(act.backward(np.array([1.0]), np.array([3.0])), [6.0])
    layer = nl.Layer(1, 1, act, seed=0)
    layer.W[...] = 1.0
    np.testing.assert_array_equal(layer.forward(np.array([[1.5]])), [[3.0]])
    # a subclass that only re-parametrizes keeps its compiled loop
    assert type("Steeper", (nl.activations.Swish,), {"name": "steeper"})(beta=2.0).compiled_kernel() == "swish"


def test_a_students_activation_that_returns_the_wrong_shape_is_named():
    class Wrong(nl.activations.Activation):
        name = "wrong"

        def forward(self, z):
            return z.sum(axis=1)

        def derivative(self, z):
            return np.ones_like(z)

    net = nl.Network([nl.Layer(2, 3, Wrong(), seed=0), nl.Layer(3, 2, "identity", seed=1)])
    with pytest.raises(ValueError, match=r"Wrong.forward returned shape \(4,\) for z of shape \(4, 3\)"):
        net.forward(np.ones((4, 2)))


def test_an_activation_without_a_derivative_says_what_to_define():
    class OnlyForward(nl.activations.Activation):
        name = "only_forward"

        def forward(self, z):
            return z

    with pytest.raises(NotImplementedError, match="defines no derivative"):
        OnlyForward().backward(np.ones(2), np.ones(2))


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_maxout_is_a_hidden_layer(pieces, tmp_path):
    X, y = blobs(60)
    net = nl.Network([nl.Layer(2, 6, "maxout", pieces=pieces, seed=0), nl.Layer(6, 3, "identity", seed=1)],
                     seed=0)
    assert net.layers[0].W.shape == (6 * pieces, 2)
    assert all(net.gradcheck(X[:9], y[:9]).values())
    history = net.fit(X, y, epochs=30, optimizer=nl.optim.SGD(0.1, momentum=0.9), progress=False)
    assert history.loss[-1] < history.loss[0] and net.score(X, y) > 0.9
    assert len(history.grad_norm[-1]) == 2 and history.dead_relu[-1] == [None, None]
    net.save(tmp_path / "maxout.npz")
    again = nl.Network.load(tmp_path / "maxout.npz")
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
def test_diagnostics_of_the_engine_match_the_listing(hidden):
    """fit's per-layer gradient norms are those of the NumPy listing for the same weights."""
    X, y = blobs(32)
    net = small_net(hidden=hidden)
    _, grads = reference.network_gradients(net, X, y)   # at the weights of the one step below
    history = net.fit(X, y, epochs=1, batch_size=32, shuffle=False, progress=False)
    expected = [float(np.linalg.norm(grads[f"layer{i}.W"])) for i in range(3)]
    np.testing.assert_allclose(history.grad_norm[0], expected, rtol=1e-10)
    assert (history.dead_relu[0][0] is None) == (hidden == "tanh")
    assert (history.saturated[0][0] is None) == (hidden == "relu")


LOSSES = [("softmax_cross_entropy", {}), ("softmax_cross_entropy", {"label_smoothing": 0.1}),
          ("softmax_cross_entropy", {"reduction": "sum"}), ("cross_entropy", {}), ("nll", {}),
          ("squared_error", {}), ("mse", {}), ("mse", {"reduction": "sum"}), ("binary_cross_entropy", {}),
          ("binary_cross_entropy", {"from_logits": True}), ("hinge", {}),
          ("hinge", {"margin": 0.5, "reduction": "sum"})]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("loss", "params"), LOSSES)
def test_the_fused_step_matches_the_listing(loss, params, dtype):
    """One training step in one compiled call (forward, loss, backward) against the NumPy listing."""
    rng = np.random.default_rng(5)
    loss = nl.losses.get(loss, **params)
    # outputs the loss can take: probabilities for cross-entropy and BCE, log-probabilities for NLL
    top = {"cross_entropy": "softmax", "binary_cross_entropy": "identity" if params else "sigmoid"}
    last = top.get(loss.name, "identity")
    X = rng.normal(size=(11, 4)).astype(dtype)
    class_labels, target_rows = rng.integers(0, 3, 11), rng.uniform(size=(11, 3))
    net = nl.Network([nl.Layer(4, 6, "elu", seed=0, dtype=dtype), nl.Layer(6, 3, last, seed=1, dtype=dtype)],
                     loss=loss)
    if loss.name == "nll":   # a log-softmax output, so that y_k = ln p_k is a log-probability
        net.layers[1].b[...] = -3.0
    y = class_labels if net.is_classifier else target_rows.astype(dtype)
    J_ref, grads = reference.network_gradients(net, X, y)
    grad = np.empty((11, 3), dtype)
    J, _, _ = net.backprop(net.engine(11), X, net.check_y(y, 11), grad)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(J, J_ref, **tol)
    for name, _, g in net.named_parameters():
        np.testing.assert_allclose(g, grads[name], err_msg=name, **tol)


def test_the_engine_rejects_what_it_cannot_hold():
    from neuronlab._kernels._dense import DenseLayer, DenseStack

    W, b = np.zeros((3, 2)), np.zeros(3)
    layer = DenseLayer(W, b, np.zeros_like(W), np.zeros_like(b), 3, 0, (), 4)
    stack = DenseStack([layer])
    with pytest.raises(ValueError, match="x has 5 rows; between 1 and 4"):
        stack.forward(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="2 columns"):
        stack.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        stack.forward(np.zeros((2, 4))[:, ::2])
    stack.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="grad_out has 3 rows but the last forward pass had 2"):
        stack.backward(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"dW must be a C-contiguous float64 array"):
        DenseLayer(W, b, np.zeros((2, 3)), np.zeros_like(b), 3, 0, (), 4)
    with pytest.raises(ValueError, match="kind 999"):
        DenseLayer(W, b, np.zeros_like(W), np.zeros_like(b), 3, 999, (), 4)
    with pytest.raises(TypeError, match="needs activate and backpropagate"):
        DenseLayer(W, b, np.zeros_like(W), np.zeros_like(b), 3, -1, (), 4)
    with pytest.raises(ValueError, match="takes 2 inputs but layers"):
        DenseStack([DenseLayer(W.T.copy(), np.zeros(2), np.zeros((2, 3)), np.zeros(2), 2, 0, (), 4), layer,
                    layer])


# -- training ---------------------------------------------------------------------------------
def test_fit_learns_and_records_history():
    X, y = blobs(200)
    net = small_net()
    history = net.fit(X, y, epochs=15, batch_size=16, optimizer=nl.optim.SGD(0.1, momentum=0.9),
                      validation_split=0.2, progress=False)
    assert history is net.history and history.epochs == 15
    assert history.loss[-1] < history.loss[0] / 3
    assert history.accuracy[-1] > 0.9 and history.val_accuracy[-1] > 0.9
    assert len(history.val_loss) == 15 and len(history.grad_norm[0]) == 3
    assert history.learning_rate == [0.1] * 15
    assert history.dead_relu[0] == [None, None, None]
    assert history.saturated[0][0] is not None and history.saturated[0][2] is None
    assert net.score(X, y) > 0.9
    scores = net.evaluate(X, y)
    assert scores["accuracy"] == net.score(X, y) and scores["loss"] < history.loss[0]


def test_params_and_grads_marks_the_weights_of_theta():
    net = small_net(hidden="prelu", alpha=np.full(8, 0.25))
    [(theta, dtheta, weights)] = net.params_and_grads()
    assert theta is net.theta and dtheta is net.dtheta
    is_weight = np.zeros(theta.size, bool)
    is_weight[weights] = True               # a boolean mask or a slice: either marks the W's
    # the marked entries are exactly the W's, whatever order theta keeps them in
    np.testing.assert_array_equal(np.sort(theta[is_weight]),
                                  np.sort(np.concatenate([layer.W.ravel() for layer in net.layers])))
    rest = np.concatenate([p.ravel() for layer in net.layers
                           for name, p, _ in layer.named_parameters() if name != "W"])
    np.testing.assert_array_equal(np.sort(theta[~is_weight]), np.sort(rest))


@pytest.mark.parametrize("decay_biases", [True, False])
def test_fit_with_decay_biases_false_leaves_biases_and_slopes_undecayed(decay_biases):
    # One full batch, no shuffling: one step theta <- theta - eta (g + lambda theta [W only])
    X, y = blobs(30)
    net = small_net(hidden="prelu", alpha=np.full(8, 0.25))
    named = {name: p.copy() for name, p, _ in net.named_parameters()}
    twin = small_net(hidden="prelu", alpha=np.full(8, 0.25))
    twin.backprop(twin.engine(30), twin.check_X(X), twin.check_y(y, 30), np.empty((30, 3)))
    grads = {name: g.copy() for name, _, g in twin.named_parameters()}
    eta, lam = 0.1, 0.3
    net.fit(X, y, epochs=1, batch_size=30, shuffle=False, progress=False, diagnostics=False,
            optimizer=nl.optim.SGD(eta, weight_decay=lam, decay_biases=decay_biases))
    for name, p, _ in net.named_parameters():
        decays = decay_biases or name.endswith(".W")
        want = named[name] - eta * (grads[name] + (lam * named[name] if decays else 0.0))
        np.testing.assert_allclose(p, want, rtol=1e-12, atol=1e-15, err_msg=name)


def test_epochs_are_counted_from_1_on_the_progress_bar_and_in_the_history(capsys):
    X, y = blobs(30)
    net = small_net()
    history = net.fit(X, y, epochs=3, progress=True, validation_data=(X, y),
                      early_stopping=nl.EarlyStopping(patience=5))
    bar = capsys.readouterr().err.replace("\r", "\n")
    assert "epoch: " in bar and "3/3" in bar      # epochs done, 1..3
    assert 1 <= history.best_epoch <= 3
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)


def test_loss_is_the_mean_over_the_epoch_batches():
    X, y = blobs(50)
    net = small_net()
    before = net.evaluate(X, y)["loss"]
    history = net.fit(X, y, epochs=1, batch_size=50, shuffle=False, progress=False,
                      optimizer=nl.optim.SGD(1e-9))
    assert history.loss[0] == pytest.approx(before, rel=1e-12)


def test_same_seed_gives_bit_identical_weights():
    X, y = blobs(100)
    weights = []
    for _ in range(2):
        net = small_net(seed=3)
        net.fit(X, y, epochs=3, batch_size=7, optimizer=nl.optim.Adam(0.01), progress=False,
                validation_split=0.1)
        weights.append([p.copy() for _, p, _ in net.named_parameters()])
    for a, b in zip(*weights, strict=True):
        assert np.array_equal(a, b)
    other = small_net(seed=3)
    other.rng = np.random.default_rng(4)  # another shuffling order
    other.fit(X, y, epochs=3, batch_size=7, optimizer=nl.optim.Adam(0.01), progress=False,
              validation_split=0.1)
    assert not np.array_equal(other.layers[0].W, weights[0][0])


def test_nan_loss_stops_with_a_hint_and_restores_the_last_good_epoch(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    r = X @ np.array([1.0, -2.0])
    net = nl.Network([nl.Layer(2, 1, "identity", seed=0)], loss="mse", seed=0)
    snapshots = []
    original = nl.training.Trainer._record

    def record(trainer, *args):
        original(trainer, *args)
        snapshots.append([p.copy() for _, p, _ in net.named_parameters()])

    monkeypatch.setattr(nl.training.Trainer, "_record", record)
    # every step multiplies the error by about 1 - 2 eta x^2: with eta = 5 it explodes
    with pytest.raises(FloatingPointError, match=r"loss became (nan|inf) in epoch \d+.*learning "
                                                 r"rate \(5.0\) is probably too high") as info:
        net.fit(X, r, epochs=500, batch_size=1, progress=False, optimizer=nl.optim.SGD(5.0))
    good = net.history.epochs    # epochs are counted from 1: the one that failed is the next
    assert f"in epoch {good + 1} (step " in str(info.value) and good > 1
    assert "(step 0)" not in str(info.value)
    for (_, p, _), s in zip(net.named_parameters(), snapshots[-1], strict=True):
        assert np.array_equal(p, s) and np.all(np.isfinite(p))


def test_early_stopping_restores_the_best_weights(monkeypatch):
    X, y = blobs(90)
    X_val, y_val = blobs(60, seed=1)
    net = small_net()
    snapshots = []
    original = nl.training.Trainer._record

    def record(trainer, *args):
        original(trainer, *args)
        snapshots.append([p.copy() for _, p, _ in net.named_parameters()])

    monkeypatch.setattr(nl.training.Trainer, "_record", record)
    # a learning rate this high makes the validation loss bounce
    history = net.fit(X, y, epochs=40, optimizer=nl.optim.SGD(3.0), progress=False,
                      validation_data=(X_val, y_val),
                      early_stopping=nl.EarlyStopping(patience=2, min_delta=1e-3))
    assert history.stopped_early and history.epochs < 40
    best = history.best_epoch          # counted from 1, like the epochs on the progress bar
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert history.epochs == best + 2   # the best epoch, then `patience` without progress
    for (_, p, _), s in zip(net.named_parameters(), snapshots[best - 1], strict=True):
        assert np.array_equal(p, s)
    assert net.evaluate(X_val, y_val)["loss"] == pytest.approx(history.val_loss[best - 1], rel=1e-12)


def test_val_loss_is_per_sample_like_loss_for_a_summed_loss():
    # With reduction "sum", J grows with the number of samples; both curves of the history
    # are per sample, so a validation set equal to the training set gives the same scale.
    X, y = blobs(40)
    for reduction in ("mean", "sum"):
        net = small_net(loss=nl.losses.get("softmax_cross_entropy", reduction=reduction))
        history = net.fit(X, y, epochs=2, optimizer=nl.optim.SGD(1e-12), batch_size=40,
                          progress=False, validation_data=(X, y))
        # the weights hardly move, so training and validation loss agree
        assert history.val_loss[-1] == pytest.approx(history.loss[-1], rel=1e-9)
        J = net.evaluate(X, y)["loss"]
        assert history.val_loss[-1] == pytest.approx(J if reduction == "mean" else J / 40, rel=1e-12)


def test_early_stopping_needs_validation_data_for_val_loss():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="validation"):
        small_net().fit(X, y, early_stopping=nl.EarlyStopping(monitor="val_loss"), progress=False)
    with pytest.raises(ValueError, match="monitor"):
        nl.EarlyStopping(monitor="speed")


def test_ctrl_c_stops_after_the_current_batch():
    X, y = blobs(64)
    net = small_net()
    opt = nl.optim.SGD(0.1)
    calls = []
    step = opt.step

    def step_then_ctrl_c(params_and_grads):
        step(params_and_grads)
        calls.append(1)
        if len(calls) == 5:  # the 5th batch of epoch 1 (4 batches per epoch)
            os.kill(os.getpid(), signal.SIGINT)

    opt.step = step_then_ctrl_c
    handler = signal.getsignal(signal.SIGINT)
    history = net.fit(X, y, epochs=10, batch_size=16, optimizer=opt, progress=False)
    assert history.interrupted and len(calls) == 5
    assert history.epochs == 2 and all(np.isfinite(history.loss))   # epoch 1 had 1 batch
    assert signal.getsignal(signal.SIGINT) is handler


def test_keyboard_interrupt_inside_a_step_rolls_back_to_the_epoch_start():
    X, y = blobs(64)
    net = small_net()
    opt = nl.optim.SGD(0.1)
    calls = []
    step = opt.step

    def step_or_raise(params_and_grads):
        calls.append(1)
        if len(calls) == 6:   # in the second epoch (4 batches each)
            raise KeyboardInterrupt
        step(params_and_grads)

    opt.step = step_or_raise
    history = net.fit(X, y, epochs=10, batch_size=16, optimizer=opt, progress=False)
    assert history.interrupted and history.epochs == 1
    # the weights are those at the end of epoch 0: predictions match a clean 1-epoch run
    clean = small_net()
    clean.fit(X, y, epochs=1, batch_size=16, optimizer=nl.optim.SGD(0.1), progress=False)
    for (_, p, _), (_, q, _) in zip(net.named_parameters(), clean.named_parameters(), strict=True):
        assert np.array_equal(p, q)


def test_partial_fit_continues_the_history():
    X, y = blobs(50)
    net = small_net()
    net.fit(X, y, epochs=2, optimizer=nl.optim.SGD(0.05, momentum=0.9), progress=False)
    W = net.layers[0].W.copy()
    history = net.partial_fit(X, y)
    assert history.epochs == 3 and not np.array_equal(W, net.layers[0].W)
    fresh = small_net()
    assert fresh.partial_fit(X, y).epochs == 1


# -- diagnostics -------------------------------------------------------------------------------
def test_dead_relu_units_are_counted():
    X, y = blobs(40)
    hidden = nl.Layer(2, 10, "relu", seed=0)
    hidden.W[:4] = 0.0
    hidden.b[:4] = -1.0           # z = -1 for every sample: 4 of 10 units dead
    hidden.b[4:] = 100.0          # the others always active
    net = nl.Network([hidden, nl.Layer(10, 3, "identity", seed=1)], seed=0)
    history = net.fit(X, y, epochs=2, optimizer=nl.optim.SGD(1e-4), progress=False)
    assert history.dead_relu[0] == [pytest.approx(0.4), None]
    assert np.all(hidden.W[:4] == 0.0)   # dead units get no gradient
    assert history.grad_norm[0][0] > 0


def test_saturated_units_and_prelu_slopes_are_recorded():
    X, y = blobs(40)
    hidden = nl.Layer(2, 4, "tanh", seed=0)
    hidden.b[:] = [50.0, -50.0, 0.0, 0.0]
    hidden.W[:2] = 0.0            # units 0 and 1: z = +-50 on every sample
    hidden.W[2:] = 1e-3           # units 2 and 3: z near 0
    prelu = nl.Layer(4, 3, "prelu", seed=1, alpha=0.25)
    net = nl.Network([hidden, prelu], seed=0)
    history = net.fit(X, y, epochs=2, optimizer=nl.optim.SGD(0.01), progress=False)
    assert history.saturated[-1][0] == pytest.approx(0.5)
    slopes = history.prelu_alpha[-1][1]
    assert slopes.shape == (1,) and slopes[0] != 0.25 and history.prelu_alpha[-1][0] is None


# -- predictions -------------------------------------------------------------------------------
def test_predict_proba_and_score():
    X, y = blobs(60)
    net = small_net()
    p = net.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    assert np.array_equal(net.predict(X), np.argmax(p, axis=1))
    assert net.score(X, y) == np.mean(net.predict(X) == y)


def test_regression_predicts_values_and_scores_r2():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    r = X[:, 0] - 0.5 * X[:, 1]
    net = nl.Network([nl.Layer(2, 1, "identity", seed=0)], loss="mse", seed=0)
    history = net.fit(X, r, epochs=30, optimizer=nl.optim.SGD(0.1), progress=False)
    assert history.accuracy == []
    assert net.predict(X).shape == (200,)
    assert net.score(X, r) > 0.999
    with pytest.raises(ValueError, match="classification"):
        net.predict_proba(X)


def test_modes_and_summary():
    net = small_net()
    assert net.eval() is net and not any(layer.training for layer in net.layers)
    assert net.train() is net and all(layer.training for layer in net.layers)
    text = net.summary()
    assert "Total parameters: 99" in text      # 2*8+8 + 8*6+6 + 6*3+3
    assert text.splitlines()[1].split() == ["0", "2", "8", "tanh", "24"]
    assert repr(net).startswith("Network(2 -> 8 -> 6 -> 3")


# -- bad input ---------------------------------------------------------------------------------
def test_bad_input_is_rejected_before_any_work():
    X, y = blobs(20)
    net = small_net()
    W = net.layers[0].W.copy()
    with pytest.raises(ValueError, match=r"3 features.*takes 2 inputs"):
        net.fit(np.ones((20, 3)), y, progress=False)
    with pytest.raises(ValueError, match=r"19 labels.*20 samples"):
        net.fit(X, y[:19], progress=False)
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[5, 1\] is nan"):
        net.fit(X_nan, y, progress=False)
    y_bad = y.copy()
    y_bad[7] = 3
    with pytest.raises(ValueError, match=r"label 3 at index 7.*3 classes"):
        net.fit(X, y_bad, progress=False)
    with pytest.raises(ValueError, match="3 features"):
        net.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="takes 3 inputs but layers"):
        nl.Network([nl.Layer(2, 4), nl.Layer(3, 2)])
    with pytest.raises(ValueError, match="a softmax output layer goes with loss='cross_entropy'"):
        nl.Network([nl.Layer(2, 3, "softmax")])
    with pytest.raises(ValueError, match=r"layers\[0\] uses softmax as its activation"):
        nl.Network([nl.Layer(2, 3, "softmax"), nl.Layer(3, 2, "identity")])
    with pytest.raises(TypeError, match="optimizer"):
        net.fit(X, y, optimizer=3, progress=False)
    assert np.array_equal(W, net.layers[0].W) and net.history is None


# -- saving and loading ---------------------------------------------------------------------
def test_save_load_round_trip_is_bit_identical(tmp_path):
    X, y = blobs(50)
    net = nl.Network([nl.Layer(2, 6, "prelu", seed=0, alpha=np.full(6, 0.1)),
                      nl.Layer(6, 5, "leaky_relu", seed=1, alpha=0.2),
                      nl.Layer(5, 3, "identity", seed=2)],
                     loss=nl.losses.SoftmaxCrossEntropy(label_smoothing=0.1))
    net.fit(X, y, epochs=2, optimizer="adam", progress=False)
    path = tmp_path / "net.npz"
    net.save(path)
    assert os.listdir(tmp_path) == ["net.npz"]          # no temporary file left behind
    with np.load(path, allow_pickle=False) as data:
        config = json.loads(str(data["config"]))
        assert config["version"] == 2 and config["format"] == "neuronlab.Network"
    loaded = nl.Network.load(path)
    assert loaded.loss == net.loss and loaded.layers[1].activation == net.layers[1].activation
    assert np.array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert np.array_equal(loaded.layers[0].alpha, net.layers[0].alpha)


def test_load_rejects_truncated_foreign_and_pickled_files(tmp_path):
    net = small_net()
    good = tmp_path / "net.npz"
    net.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"truncated\.npz"):
        nl.Network.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(ValueError, match="no 'config'"):
        nl.Network.load(foreign)
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"pickled\.npy"):
        nl.Network.load(pickled)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        nl.Network.load(text)
    newer = tmp_path / "newer.npz"
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(newer, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "config.npy":
                config = json.loads(str(np.load(good)["config"]))
                config["version"] = 99
                np.save(tmp_path / "c.npy", np.array(json.dumps(config)))
                data = (tmp_path / "c.npy").read_bytes()
            out.writestr(name, data)
    with pytest.raises(ValueError, match="version 99"):
        nl.Network.load(newer)


def test_save_is_atomic(tmp_path, monkeypatch):
    net = small_net()
    path = tmp_path / "net.npz"
    net.save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        small_net(seed=5).save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["net.npz"]


# -- PyTorch ---------------------------------------------------------------------------------------
class _Tensor:
    def __init__(self, values):
        self.values = np.asarray(values)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.values


class Linear:
    def __init__(self, W, b):
        self.weight, self.bias = _Tensor(W), _Tensor(b)


class Tanh:
    pass


class LeakyReLU:
    negative_slope = 0.3


class PReLU:
    weight = _Tensor([0.1, 0.2, 0.3])


def test_from_torch_reads_stand_in_modules_without_torch():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2, W3, b3 = (rng.normal(size=s) for s in [(4, 2), 4, (3, 4), 3, (2, 3), 2])
    net = nl.Network.from_torch([Linear(W1, b1), Tanh(), Linear(W2, b2), PReLU(),
                                 Linear(W3, b3), LeakyReLU()])
    assert [layer.activation.name for layer in net.layers] == ["tanh", "prelu", "leaky_relu"]
    assert net.layers[2].activation.alpha == 0.3
    np.testing.assert_array_equal(net.layers[1].alpha, [0.1, 0.2, 0.3])
    x = rng.normal(size=(5, 2))
    h = np.tanh(x @ W1.T + b1) @ W2.T + b2
    h = np.where(h > 0, h, [0.1, 0.2, 0.3] * h) @ W3.T + b3
    np.testing.assert_allclose(net.eval().forward(x), np.where(h > 0, h, 0.3 * h), rtol=1e-13)
    with pytest.raises(ValueError, match="Tanh"):
        nl.Network.from_torch([Tanh()])


def test_torch_module_specs():
    assert _torch.activation_module_spec(nl.activations.get("identity")) is None
    assert _torch.activation_module_spec(nl.activations.get("leaky_relu", alpha=0.2)) == \
        ("LeakyReLU", {"negative_slope": 0.2})
    assert _torch.activation_module_spec(nl.activations.get("swish")) == ("SiLU", {})
    with pytest.raises(ValueError, match="binary_step"):
        _torch.activation_module_spec(nl.activations.get("binary_step"))


def test_to_torch_and_back_give_identical_outputs():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    X, _ = blobs(30)
    net = nl.Network([nl.Layer(2, 8, "prelu", seed=0, alpha=np.full(8, 0.1)),
                      nl.Layer(8, 6, "gelu", seed=1), nl.Layer(6, 5, "elu", seed=2, alpha=0.5),
                      nl.Layer(5, 3, "identity", seed=3)])
    module = net.to_torch()
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, net.eval().forward(X), rtol=1e-12, atol=1e-14)
    back = nl.Network.from_torch(module)
    assert np.array_equal(back.eval().forward(X), net.forward(X))


def test_diagnostics_off_records_the_rest_and_trains_identically():
    X, y = blobs(40)
    nets = [small_net(hidden="relu"), small_net(hidden="relu")]
    histories = [net.fit(X, y, epochs=2, progress=False, diagnostics=flag)
                 for net, flag in zip(nets, (True, False), strict=True)]
    assert histories[1].dead_relu == [] and histories[1].grad_norm == []
    assert histories[0].loss == histories[1].loss and len(histories[0].dead_relu) == 2
    assert np.array_equal(nets[0].layers[0].W, nets[1].layers[0].W)


class NumpySquaredError(nl.losses.Loss):
    """The squared error as a student writes it: one value per sample, and its gradient."""

    name = "numpy_squared_error"

    def loss(self, y, r):
        return 0.5 * ((y - r) ** 2).sum(axis=1)

    def gradient(self, y, r):
        return y - r


class NumpySoftmaxCrossEntropy(nl.losses.Loss):
    """Softmax cross-entropy in NumPy, for a classifier: labels arrive as one-hot rows r."""

    name = "numpy_softmax_cross_entropy"
    classifier = True

    def loss(self, z, r):
        top = z.max(axis=1, keepdims=True)
        return np.log(np.exp(z - top).sum(axis=1)) + top[:, 0] - (r * z).sum(axis=1)

    def gradient(self, z, r):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) - r


class NumpyHinge(nl.losses.Loss):
    """The multiclass hinge (margin 1) in NumPy, with the subgradient 0 at a tie."""

    name = "numpy_hinge"
    classifier = True

    def margins(self, z, r):
        return np.maximum(0.0, z - (r * z).sum(axis=1, keepdims=True) + 1.0) * (1 - r)

    def loss(self, z, r):
        return self.margins(z, r).sum(axis=1)

    def gradient(self, z, r):
        violated = (self.margins(z, r) > 0).astype(z.dtype)
        return violated - r * violated.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("mine", "built_in"), [(NumpySquaredError, "squared_error"),
                                                (NumpySoftmaxCrossEntropy, "softmax_cross_entropy"),
                                                (NumpyHinge, "hinge")])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_students_loss_trains_like_the_built_in(mine, built_in, reduction, tmp_path):
    X, y = blobs(90)
    if not mine.classifier:
        y = np.eye(3)[y] + 0.1
    nets = [nl.Network([nl.Layer(2, 8, "tanh", seed=0), nl.Layer(8, 3, "identity", seed=1)],
                       loss=loss, seed=0) for loss in (mine(reduction), nl.losses.get(built_in, reduction=reduction))]
    assert not nets[0].loss.compiled() and nets[1].loss.compiled()
    assert nets[0].loss.fused_step(3, mine.classifier) is None     # the NumPy loss: unfused
    assert nets[1].loss.fused_step(3, mine.classifier) is not None  # the built-in: one compiled call
    assert nets[0].is_classifier == nets[1].is_classifier == mine.classifier
    lr = 0.1 if reduction == "mean" else 0.002
    histories = [net.fit(X, y, epochs=6, batch_size=16, optimizer=nl.optim.SGD(lr), validation_split=0.2,
                         progress=False) for net in nets]
    for key in ("loss", "val_loss", "grad_norm"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-12, err_msg=key)
    assert nets[0].evaluate(X, y)["loss"] == pytest.approx(nets[1].evaluate(X, y)["loss"], rel=1e-12)
    assert all(nets[0].gradcheck(X[:7], y[:7]).values())
    J, grad = nets[0].loss.loss_and_gradient(nets[0].forward(X[:5]), y[:5])
    J_ref, grad_ref = nets[1].loss.loss_and_gradient(nets[0].forward(X[:5]), y[:5])
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-15)
    path = tmp_path / "net.npz"
    nets[0].save(path)
    with pytest.raises(ValueError, match=f"the loss '{mine.name}', which is not registered"):
        nl.Network.load(path)
    nl.losses.register(mine)
    try:
        np.testing.assert_array_equal(nl.Network.load(path).forward(X), nets[0].forward(X))
    finally:
        nl.losses.unregister(mine.name)


def test_a_students_loss_that_returns_the_wrong_shape_is_named():
    class Total(nl.losses.Loss):
        name = "total"

        def loss(self, y, r):
            return ((y - r) ** 2).sum()

        def gradient(self, y, r):
            return 2 * (y - r)

    net = nl.Network([nl.Layer(2, 1, "identity", seed=0)], loss=Total())
    with pytest.raises(ValueError, match=r"Total.loss returned shape \(\) for 4 samples; it must return one value"):
        net.fit(np.ones((4, 2)), np.ones(4), progress=False)


# -- one seed for the whole run, and the regularized objective ----------------------------------
def unseeded_run(seed=0, **fit):
    X, y = blobs(80)
    net = nl.Network([nl.Layer(2, 16, "relu"), nl.Layer(16, 8, "rrelu"), nl.Layer(8, 3, "identity")],
                     seed=seed)
    history = net.fit(X, y, epochs=4, batch_size=16, validation_split=0.25, progress=False, **fit)
    return net, history


def test_a_network_seed_makes_a_run_with_unseeded_layers_repeatable():
    (a, ha), (b, hb) = unseeded_run(), unseeded_run()
    for (name, p, _), (_, q, _) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert np.array_equal(p, q), name
    assert ha.loss == hb.loss and ha.val_loss == hb.val_loss
    c, _ = unseeded_run(seed=1)
    assert not np.array_equal(a.theta, c.theta)


def test_the_same_script_twice_gives_the_same_bits(tmp_path):
    import subprocess
    import sys

    script = ("import numpy as np, neuronlab as nl\n"
              "X, y = nl.datasets.blobs(80, n_classes=3, seed=0)\n"
              "net = nl.Network([nl.Layer(2, 16, 'relu'), nl.Layer(16, 3, 'identity')], seed=0)\n"
              "h = net.fit(X, y, epochs=3, progress=False)\n"
              "print(net.theta.tobytes().hex(), repr(h.loss))\n")
    outputs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
               for _ in range(2)]
    assert outputs[0] == outputs[1] and len(outputs[0]) > 1000


def test_a_seeded_layer_keeps_its_weights_and_no_seed_changes_nothing():
    seeded = nl.Layer(2, 4, "tanh", seed=7)
    W = seeded.W.copy()
    net = nl.Network([seeded, nl.Layer(4, 3, "identity")], seed=0)
    assert np.array_equal(net.layers[0].W, W)
    free = nl.Layer(2, 4, "tanh")
    W_free = free.W.copy()
    nl.Network([free, nl.Layer(4, 3, "identity")])       # no network seed: nothing drawn anew
    assert np.array_equal(free.W, W_free)


def test_the_l2_objective_by_hand_and_by_finite_differences():
    X, y = blobs(12)
    l2 = 0.3
    net = nl.Network([nl.Layer(2, 5, "tanh", seed=0), nl.Layer(5, 3, "identity", seed=1)], l2=l2)
    plain = nl.Network([nl.Layer(2, 5, "tanh", seed=0), nl.Layer(5, 3, "identity", seed=1)])
    data = plain.evaluate(X, y)["loss"]
    by_hand = data + l2 / 2 * sum(float(np.sum(layer.W ** 2)) for layer in net.layers)
    scores = net.evaluate(X, y)
    assert scores["data_loss"] == pytest.approx(data, rel=1e-15)
    assert scores["loss"] == pytest.approx(by_hand, rel=1e-14)
    assert net.penalty() == pytest.approx(by_hand - data, rel=1e-14)
    results = net.gradcheck(X, y)
    assert all(results.values()), results
    # the gradient of J: the data term's plus l2 W for the weights, nothing for the biases
    grad = np.empty((12, 3))
    net.backprop(net.engine(12), X, net.check_y(y, 12), grad)
    plain.backprop(plain.engine(12), X, plain.check_y(y, 12), grad)
    for layer, bare in zip(net.layers, plain.layers, strict=True):
        np.testing.assert_allclose(layer.dW, bare.dW + l2 * layer.W, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(layer.db, bare.db)


def test_history_reports_the_objective_and_its_data_term():
    X, y = blobs(60)
    net = nl.Network([nl.Layer(2, 8, "tanh", seed=0), nl.Layer(8, 3, "identity", seed=1)], l2=0.1)
    history = net.fit(X, y, epochs=3, batch_size=60, shuffle=False, optimizer=nl.optim.SGD(0.1),
                      validation_data=(X, y), progress=False)
    assert all(J > d for J, d in zip(history.loss, history.data_loss, strict=True))
    # one batch per epoch: the epoch's J is the objective at the weights before its step
    assert history.val_loss[-1] == pytest.approx(net.evaluate(X, y)["loss"], rel=1e-12)
    unregularized = nl.Network([nl.Layer(2, 8, "tanh", seed=0), nl.Layer(8, 3, "identity", seed=1)])
    h0 = unregularized.fit(X, y, epochs=3, batch_size=60, shuffle=False, optimizer=nl.optim.SGD(0.1),
                           progress=False)
    assert h0.loss == h0.data_loss and h0.loss[0] == history.data_loss[0]
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        nl.Network([nl.Layer(2, 3)], l2=-1.0)


def test_save_and_load_keep_the_l2_weight(tmp_path):
    X, y = blobs(20)
    net = nl.Network([nl.Layer(2, 4, "tanh", seed=0), nl.Layer(4, 3, "identity", seed=1)], l2=0.25)
    net.save(tmp_path / "net.npz")
    again = nl.Network.load(tmp_path / "net.npz")
    assert again.l2 == 0.25 and again.evaluate(X, y) == net.evaluate(X, y)


# -- targets as students have them ----------------------------------------------------------------
def test_one_hot_and_probability_rows_train_like_the_labels():
    X, y = blobs(60)
    nets = [small_net(), small_net(), small_net()]
    smoothed = np.full((60, 3), 0.05)
    smoothed[np.arange(60), y] = 0.9
    histories = [net.fit(X, target, epochs=3, batch_size=16, progress=False, optimizer=nl.optim.SGD(0.1))
                 for net, target in zip(nets, (y, np.eye(3)[y], smoothed), strict=True)]
    np.testing.assert_allclose(histories[1].loss, histories[0].loss, rtol=1e-12)
    assert histories[1].accuracy == histories[0].accuracy
    assert histories[2].loss != histories[0].loss               # other targets, another objective
    assert nets[1].score(X, np.eye(3)[y]) == nets[0].score(X, y)
    with pytest.raises(ValueError, match=r"y\[2\] is \[0.5 0.6 0. \], not a row of class probabilities"):
        small_net().fit(X[:4], np.array([[1, 0, 0], [0, 1, 0], [0.5, 0.6, 0], [0, 0, 1]]), progress=False)


def test_string_labels_train_predict_score_save_and_load(tmp_path):
    X, y = blobs(60)
    names = np.array(["circle", "square", "triangle"])[y]
    net, twin = small_net(), small_net()
    h = net.fit(X, names, epochs=3, progress=False)
    h_int = twin.fit(X, y, epochs=3, progress=False)
    assert h.loss == h_int.loss
    assert list(net.classes_) == ["circle", "square", "triangle"] and twin.classes_ is None
    assert list(net.predict(X[:5])) == list(np.array(["circle", "square", "triangle"])[twin.predict(X[:5])])
    assert net.score(X, names) == twin.score(X, y)
    net.save(tmp_path / "net.npz")
    again = nl.Network.load(tmp_path / "net.npz")
    assert list(again.classes_) == list(net.classes_)
    assert list(again.predict(X)) == list(net.predict(X))
    with pytest.raises(ValueError, match=r"y\[0\] is 'hexagon', not one of the network's classes"):
        net.fit(X[:2], np.array(["hexagon", "circle"]), progress=False)
    with pytest.raises(ValueError, match=r"y has 2 distinct labels \('a', 'b'\) but the network has 3 "
                                         r"outputs: give the last layer 2 units"):
        small_net().fit(X[:2], np.array(["a", "b"]), progress=False)


# -- the lecture's output layer: softmax, then cross-entropy --------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_softmax_layer_with_cross_entropy_trains_like_the_fused_loss(dtype):
    X, y = blobs(90)
    X = X.astype(dtype)

    def net(last, loss):
        return nl.Network([nl.Layer(2, 8, "tanh", seed=0, dtype=dtype), nl.Layer(8, 3, last, seed=1, dtype=dtype)],
                          loss=loss, seed=0)

    lecture, fused = net("softmax", "cross_entropy"), net("identity", "softmax_cross_entropy")
    histories = [n.fit(X, y, epochs=5, batch_size=16, optimizer=nl.optim.SGD(0.1, momentum=0.9),
                       validation_data=(X, y), progress=False) for n in (lecture, fused)]
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-12 if dtype == np.float64 else 1e-5,
                                   err_msg=key)
    probabilities = lecture.forward(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probabilities, nl.softmax.softmax(fused.forward(X)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(lecture.predict_proba(X), fused.predict_proba(X), rtol=1e-5, atol=1e-7)
    assert (lecture.predict(X) == fused.predict(X)).all()
    if dtype == np.float64:
        assert all(lecture.gradcheck(X[:6], y[:6]).values())
        # the layer on its own still computes the softmax
        np.testing.assert_allclose(lecture.layers[-1].forward(np.tanh(X @ lecture.layers[0].W.T + lecture.layers[0].b)),
                                   probabilities, rtol=1e-12)


@pytest.mark.parametrize("last", ["identity", "sigmoid", "tanh"])
def test_cross_entropy_on_outputs_that_are_not_probabilities_is_refused(last):
    with pytest.raises(ValueError, match=rf"loss='cross_entropy' needs probabilities, but the last layer's "
                                         rf"outputs are {last}: end with Layer\(\.\.\., 'softmax'\)"):
        nl.Network([nl.Layer(2, 3, last)], loss="cross_entropy")


def test_string_labels_train_with_held_out_validation_data():
    """The validation data is checked once, as the training data: its labels reach the
    per-epoch scores as class indices (they were re-checked as labels, and refused)."""
    X, r = nl.datasets.blobs(60, n_classes=2, seed=0)
    y = np.array(["cat", "dog"])[r]
    for kwargs in ({"validation_split": 0.25}, {"validation_data": (X[:10], y[:10])}):
        net = nl.Network([nl.Layer(2, 2, "identity", seed=0)], seed=0)
        history = net.fit(X, y, epochs=2, progress=False, **kwargs)
        assert len(history.val_accuracy) == 2 and 0 <= history.val_accuracy[-1] <= 1
        assert set(net.predict(X)) <= {"cat", "dog"}
        scores = net.evaluate(X[:10], y[:10])
        if "validation_data" in kwargs:
            assert history.val_accuracy[-1] == scores["accuracy"]
