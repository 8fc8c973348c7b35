"""neuronlab.plot: every figure shows the numbers neuronlab computes, and nothing else."""
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

import neuronlab as nl

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the file-only backend


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def curves(ax):
    """The labelled lines of `ax` by label (the axes at 0 are unlabelled)."""
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


@pytest.fixture(scope="module")
def moons_fit():
    X, r = nl.datasets.two_moons(120, noise=0.1, seed=0)
    net = nl.Network([nl.Layer(2, 8, "tanh", seed=0), nl.Layer(8, 8, "relu", seed=1),
                      nl.Layer(8, 2, "identity", seed=2)], loss="softmax_cross_entropy", seed=0)
    history = net.fit(X, r, epochs=6, optimizer=nl.optim.SGD(0.1, momentum=0.9),
                      validation_data=(X[:40], r[:40]), progress=False)
    return X, r, net, history


# -- activation ------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in nl.activations.available()
                                  if nl.activations.get(n).elementwise])
def test_activation_draws_the_kernels_values(name):
    act = nl.activations.get(name)
    ax = nl.plot.activation(name, -3, 2, second_derivative=True, points=501)
    z = np.linspace(-3, 2, 501)
    lines = curves(ax)
    title = ax.get_title()      # the name, with the parameters when it has any
    assert title.split(" (")[0] == name
    assert list(lines) == [f"{title}: $f(z)$", f"{title}: $f'(z)$", f"{title}: $f''(z)$"]
    for line, f in zip(lines.values(), (act.forward, act.derivative, act.second_derivative),
                       strict=True):
        np.testing.assert_array_equal(line.get_xdata(), z)
        drawn, exact = line.get_ydata(), f(z)
        shown = ~np.isnan(drawn)
        np.testing.assert_array_equal(drawn[shown], exact[shown])
        # a gap only where the curve jumps by more than a fifth of its range
        jumps = np.abs(np.diff(exact)) > 0.2 * np.ptp(exact)
        np.testing.assert_array_equal(~shown[1:], jumps)
        assert shown[0]


def test_activation_leaves_gaps_exactly_at_the_jumps():
    lines = curves(nl.plot.activation("hard_tanh", points=2001))
    z = np.linspace(-5, 5, 2001)
    gaps = z[np.isnan(lines["hard_tanh: $f'(z)$"].get_ydata())]
    # f' jumps 0 -> 1 at -1 and 1 -> 0 at 1; the gap follows each jump
    assert gaps.size == 2 and np.all(np.abs(np.abs(gaps) - 1) < 0.006)
    assert not np.isnan(lines["hard_tanh: $f(z)$"].get_ydata()).any()   # hard_tanh is continuous
    step = curves(nl.plot.activation("binary_step"))["binary_step: $f(z)$"].get_ydata()
    assert np.isnan(step).sum() == 1


def test_activation_by_name_with_parameters_or_by_object():
    ax = nl.plot.activation("leaky_relu", alpha=0.3, derivative=False)
    assert list(curves(ax)) == ["leaky_relu (alpha=0.3): $f(z)$"]
    assert ax.get_title() == "leaky_relu (alpha=0.3)"
    assert curves(ax)["leaky_relu (alpha=0.3): $f(z)$"].get_ydata()[0] == pytest.approx(-1.5)
    _, axes = plt.subplots(1, 2)
    act = nl.activations.get("gelu", approximate="tanh")
    assert nl.plot.activation(act, ax=axes[1]) is axes[1]
    assert axes[1].get_title() == "gelu (approximate=tanh)" and not axes[0].get_lines()
    assert nl.plot.activation("rrelu").get_title() == "rrelu (lower=0.125, upper=0.3333)"


def test_activations_drawn_into_one_axes_can_be_told_apart():
    ax = nl.plot.activation("sigmoid", -2, 2)
    nl.plot.activation("elu", -4, 1, ax=ax, alpha=0.5)
    lines = curves(ax)
    assert list(lines) == ["sigmoid: $f(z)$", "sigmoid: $f'(z)$",
                           "elu (alpha=0.5): $f(z)$", "elu (alpha=0.5): $f'(z)$"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)
    assert ax.get_title() == "sigmoid, elu (alpha=0.5)"
    assert ax.get_xlim() == (-4.0, 2.0)                   # both ranges
    np.testing.assert_array_equal(lines["elu (alpha=0.5): $f(z)$"].get_ydata(),
                                  nl.activations.get("elu", alpha=0.5)(np.linspace(-4, 1, 2001)))
    assert len([line for line in ax.get_lines() if line.get_label().startswith("_")]) == 2  # one pair of axes
    # a label of your own, or none for a figure whose title names the activation
    ax = nl.plot.activation("tanh", label="my tanh", derivative=False)
    assert list(curves(ax)) == ["my tanh: $f(z)$"] and ax.get_title() == "tanh"
    ax = nl.plot.activation("tanh", label="", second_derivative=True)
    assert list(curves(ax)) == ["$f(z)$", "$f'(z)$", "$f''(z)$"]
    # a title of your own is replaced by the first activation's name
    _, ax = plt.subplots()
    ax.set_title("mine")
    nl.plot.activation("tanh", ax=ax)
    assert ax.get_title() == "tanh"


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (("nonsense",), {}, ValueError, "nonsense"),
    (("softmax",), {}, ValueError, "act must be an elementwise activation"),
    ((nl.activations.get("relu"),), {"alpha": 1}, TypeError, "parameters go with a name"),
    (("relu", 1, 1), {}, ValueError, "lo must be smaller than hi"),
    (("relu", -np.inf, 1), {}, ValueError, "lo must be finite"),
    (("relu", 0, "2"), {}, TypeError, "hi must be a real number, got str"),
    (("relu",), {"points": 1}, ValueError, "points must be >= 2"),
    (("prelu",), {"alpha": np.array([0.1, 0.2])}, ValueError, "act has one alpha per unit"),
    (("relu",), {"ax": plt}, TypeError, "ax must be a matplotlib Axes, got module"),
    (("relu",), {"label": 1}, TypeError, "label must be a string, got int"),
])
def test_activation_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        nl.plot.activation(*args, **kwargs)


# -- learning curves and diagnostics ---------------------------------------------------
def test_learning_curves_draw_the_history(moons_fit):
    *_, history = moons_fit
    for metric in ("loss", "accuracy"):
        lines = curves(nl.plot.learning_curves(history, metric))
        np.testing.assert_array_equal(lines["training"].get_xdata(), np.arange(1, 7))
        np.testing.assert_array_equal(lines["training"].get_ydata(), history[metric])
        np.testing.assert_array_equal(lines["validation"].get_ydata(), history["val_" + metric])
    assert nl.plot.learning_curves(history).get_yscale() == "log"
    assert nl.plot.learning_curves(history, "accuracy").get_yscale() == "linear"


def test_learning_curves_mark_the_restored_epoch():
    X, r = nl.datasets.two_moons(60, seed=1)
    net = nl.Network([nl.Layer(2, 4, "tanh", seed=0), nl.Layer(4, 2, "identity", seed=1)], seed=0)
    history = net.fit(X, r, epochs=3, progress=False, optimizer=nl.optim.SGD(0.05),
                      validation_data=(X, r), early_stopping=nl.EarlyStopping(patience=1))
    lines = curves(nl.plot.learning_curves(history))
    # epochs are numbered from 1 on the axis and in the history: the line is at best_epoch
    best = history.best_epoch
    assert lines["best epoch (restored)"].get_xdata()[0] == best
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert lines["validation"].get_ydata()[list(lines["validation"].get_xdata()).index(best)] == \
        min(history.val_loss)


def test_layer_diagnostics_draw_one_curve_per_layer_it_applies_to(moons_fit):
    *_, history = moons_fit
    lines = curves(nl.plot.layer_diagnostics(history))
    assert list(lines) == ["layer 0", "layer 1", "layer 2"]    # as net.layers and layer0.W
    for layer, line in enumerate(lines.values()):
        np.testing.assert_array_equal(line.get_ydata(), [epoch[layer] for epoch in history.grad_norm])
    assert list(curves(nl.plot.layer_diagnostics(history, "dead_relu"))) == ["layer 1"]
    saturated = curves(nl.plot.layer_diagnostics(history, "saturated"))
    assert list(saturated) == ["layer 0"]
    np.testing.assert_array_equal(saturated["layer 0"].get_ydata(),
                                  [epoch[0] for epoch in history.saturated])


def test_history_bad_input(moons_fit):
    *_, history = moons_fit
    with pytest.raises(TypeError, match="history must be the History"):
        nl.plot.learning_curves({"loss": [1.0]})
    with pytest.raises(ValueError, match="history has no epochs"):
        nl.plot.learning_curves(nl.History())
    with pytest.raises(ValueError, match="metric must be 'loss' or 'accuracy'"):
        nl.plot.learning_curves(history, "val_loss")
    with pytest.raises(ValueError, match="which must be one of"):
        nl.plot.layer_diagnostics(history, "loss")
    regression = nl.History(loss=[1.0, 0.5])
    with pytest.raises(ValueError, match="accuracy is recorded for classifiers only"):
        nl.plot.learning_curves(regression, "accuracy")
    with pytest.raises(ValueError, match="diagnostics=False"):
        nl.plot.layer_diagnostics(regression)
    no_relu = nl.History(loss=[1.0], dead_relu=[[None, None]])
    with pytest.raises(ValueError, match="no ReLU layers"):
        nl.plot.layer_diagnostics(no_relu, "dead_relu")


# -- confusion matrix and decision regions ---------------------------------------------
def test_confusion_matrix_shows_the_counts():
    r = np.array([0, 0, 1, 2, 2, 2, 2])
    y = np.array([0, 1, 1, 2, 2, 0, 2])
    ax = nl.plot.confusion_matrix(r, y, labels=["a", "b", "c"])
    np.testing.assert_array_equal(ax.images[0].get_array(), nl.metrics.confusion_matrix(r, y))
    shown = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text())
             for t in ax.texts}
    assert shown == {(0, 0): 1, (0, 1): 1, (1, 1): 1, (2, 0): 1, (2, 2): 3}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "Accuracy 71.4%"
    with pytest.raises(ValueError, match="labels has 2 names for 3 classes"):
        nl.plot.confusion_matrix(r, y, labels=["a", "b"])


def test_decision_regions_show_what_the_model_predicts(moons_fit):
    X, r, net, _ = moons_fit
    ax = nl.plot.decision_regions(net, X, r, resolution=40, margin=0.2)
    image = ax.images[0]
    assert image.origin == "lower"                  # row 0 of the grid is the bottom edge
    left, right, bottom, top = image.get_extent()
    spread = X.max(axis=0) - X.min(axis=0)
    np.testing.assert_allclose([left, bottom], X.min(axis=0) - 0.2 * spread)
    np.testing.assert_allclose([right, top], X.max(axis=0) + 0.2 * spread)
    G1, G2 = np.meshgrid(np.linspace(left, right, 40), np.linspace(bottom, top, 40))
    expected = net.predict(np.column_stack([G1.ravel(), G2.ravel()])).reshape(40, 40)
    np.testing.assert_array_equal(image.get_array(), expected)
    assert 0 < expected.mean() < 1                  # both classes have a region
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), X)
    np.testing.assert_array_equal(ax.collections[0].get_array(), r)


def test_decision_regions_of_a_perceptron_are_split_by_its_line():
    X, r = nl.datasets.logic_gate("and")
    p = nl.Perceptron(2, seed=0).fit(X, r, epochs=20)
    ax = nl.plot.decision_regions(p, X, resolution=50)
    left, right, bottom, top = ax.images[0].get_extent()
    G1, G2 = np.meshgrid(np.linspace(left, right, 50), np.linspace(bottom, top, 50))
    w, b = p.weights, p.bias
    np.testing.assert_array_equal(ax.images[0].get_array(), w[0] * G1 + w[1] * G2 + b >= 0)


def test_decision_regions_of_samples_on_a_line():
    ax = nl.plot.decision_regions(nl.Perceptron(2, seed=0), [[0.0, 1.0], [2.0, 1.0]], margin=0)
    assert list(ax.images[0].get_extent()) == [0.0, 2.0, 0.5, 1.5]


class _Stripes:
    """A classifier of 25 classes: vertical stripes of width 1."""

    def predict(self, X):
        return np.clip(np.floor(X[:, 0]), 0, 24).astype(np.int64)


def test_decision_regions_give_every_one_of_many_classes_its_own_colour():
    X = np.column_stack([np.arange(25) + 0.5, np.zeros(25)])
    ax = nl.plot.decision_regions(_Stripes(), X, np.arange(25), margin=0)
    image = ax.images[0]
    colours = image.cmap(image.norm(np.arange(25)))
    assert len({tuple(c) for c in colours}) == 25
    np.testing.assert_array_equal(ax.collections[0].get_array(), np.arange(25))


class _Regressor:
    def predict(self, X):
        return X[:, 0] * 0.5


@pytest.mark.parametrize(("model", "X", "kwargs", "error", "match"), [
    (object(), [[0, 0], [1, 1]], {}, TypeError, "model must have a predict method"),
    (_Regressor(), [[0, 0], [1, 1]], {}, ValueError, "needs a classifier"),
    (nl.Perceptron(3), [[0, 0, 0]], {}, ValueError, "X has 3 features"),
    (nl.Perceptron(2), [[0, 0], [1, 1]], {"resolution": 1}, ValueError, "resolution must be >= 2"),
    (nl.Perceptron(2), [[0, 0], [1, 1]], {"margin": -1}, ValueError, "margin must be >= 0"),
    (nl.Perceptron(2), [[0, 0], [1, 1]], {"margin": None}, TypeError, "margin must be a real number"),
    (nl.Perceptron(2), [[0, 0], [1, 1]], {"r": [0]}, ValueError, "r has shape"),
])
def test_decision_regions_bad_input(model, X, kwargs, error, match):
    with pytest.raises(error, match=match):
        nl.plot.decision_regions(model, X, **kwargs)


# -- matplotlib is optional --------------------------------------------------------------
def test_importing_neuronlab_does_not_import_matplotlib():
    code = "import sys, neuronlab; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_missing_matplotlib_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)    # import fails
    with pytest.raises(ImportError, match=r"neuronlab.plot needs matplotlib: pip install 'neuronlab\[plot\]'"):
        nl.plot.activation("relu")
