"""Figures of what neuronlab computes: activations, learning curves, diagnostics,
confusion matrices and decision regions.

Needs matplotlib (``pip install 'neuronlab[plot]'``), which ``import neuronlab`` does not
load: it is imported the first time a function here draws. Each function draws into the
Axes ``ax`` you pass (a new figure when you pass none) and returns it, so that figures
compose::

    fig, (left, right) = plt.subplots(1, 2)
    nl.plot.activation("tanh", ax=left)
    nl.plot.learning_curves(history, ax=right)

Every number drawn is computed by neuronlab itself: the curves of an activation come from
its compiled kernels, the regions of a classifier from its ``predict``. Epochs are counted
from 1 (the first point of a learning curve is epoch 1) and layers from 0, as in
``net.layers`` and the parameter names ``layer0.W``, ``layer0.b``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab import activations, metrics
from neuronlab._validation import check_class_labels, check_count, check_real, check_samples

__all__ = ["activation", "confusion_matrix", "decision_regions", "layer_diagnostics",
           "learning_curves"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("neuronlab.plot needs matplotlib: pip install 'neuronlab[plot]' "
                          "(or pip install matplotlib)") from error
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    else:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


_ACTIVATION_CURVE = "neuronlab.plot.activation"   # the gid of the curves activation() draws


def _epoch_axis(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # no epoch 2.5


def _with_gaps(values: np.ndarray) -> np.ndarray:
    """`values` with NaN after each jump, so that matplotlib leaves a gap there.

    A jump is a change between grid neighbours of more than a fifth of the curve's whole
    range: a continuous curve sampled on a fine grid never changes that much in one
    step, and drawing the jump as a vertical line would show values f never takes.
    """
    values = values.astype(np.float64, copy=True)
    finite = values[np.isfinite(values)]
    if finite.size:
        step = np.abs(np.diff(values))
        values[1:][step > 0.2 * (finite.max() - finite.min())] = np.nan
    return values


def activation(act: Any, lo: float = -5.0, hi: float = 5.0, *, ax: Any = None,
               derivative: bool = True, second_derivative: bool = False,
               points: int = 2001, label: str | None = None, **params: Any) -> Any:
    """Draw f(z) and its derivatives over ``lo <= z <= hi``, computed by the kernels.

    Each curve is labelled with the activation's name (and its parameters), so that
    several activations drawn into one Axes can be told apart; the title then names
    them all.

    Parameters
    ----------
    act : str or activation object
        A registered name (``"gelu"``) with its `params`, or an object from
        :func:`neuronlab.activations.get`. Elementwise activations only.
    lo, hi : float
        The range of z.
    ax : matplotlib Axes, optional
    derivative, second_derivative : bool
        Also draw f'(z) (dashed, the default) and f''(z) (dotted).
    points : int
        Grid points; jumps (the binary step, the derivative at a kink) are left as gaps.
    label : str, optional
        The name in the legend, "label: f(z)", ...; by default the activation's name
        with its parameters, as in the title. An empty string leaves f(z), f'(z) and
        f''(z) alone, for a figure of one activation whose title already names it.
    **params
        The activation's parameters when `act` is a name, e.g. ``alpha=0.1``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = nl.plot.activation("leaky_relu", alpha=0.1, second_derivative=True)
    >>> ax.get_legend_handles_labels()[1]
    ['leaky_relu (alpha=0.1): $f(z)$', "leaky_relu (alpha=0.1): $f'(z)$", "leaky_relu (alpha=0.1): $f''(z)$"]
    >>> ax = nl.plot.activation("tanh", ax=nl.plot.activation("sigmoid"))
    >>> ax.get_title(), ax.get_legend_handles_labels()[1]
    ('sigmoid, tanh', ['sigmoid: $f(z)$', "sigmoid: $f'(z)$", 'tanh: $f(z)$', "tanh: $f'(z)$"])
    """
    if isinstance(act, str):
        act = activations.get(act, **params)
    elif params:
        given = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise TypeError("activation: parameters go with a name, not with an activation "
                        f"object (got {act!r} and {', '.join(params)}); pass the name, "
                        f"nl.plot.activation({getattr(act, 'name', '...')!r}, {given})")
    if not getattr(act, "elementwise", False):
        raise ValueError(f"act must be an elementwise activation, got {act!r}")
    per_unit = [k for k, v in act.params.items() if np.ndim(v) > 0]
    if per_unit:
        raise ValueError(f"act has one {per_unit[0]} per unit, so one curve per unit: draw a unit "
                         f"at a time, e.g. nl.plot.activation({act.name!r}, {per_unit[0]}=0.1)")
    lo, hi = check_real(lo, "lo"), check_real(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi, got lo={lo}, hi={hi}")
    points = check_count(points, "points", low=2)
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string, got {type(label).__name__}")

    ax = _axes(ax, (5, 3.4))
    params_text = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in act.params.items() if v is not None)
    name = f"{act.name} ({params_text})" if params_text else act.name
    label = name if label is None else label
    # a second activation in the same Axes: the title names both
    drawn_before = any(line.get_gid() == _ACTIVATION_CURVE for line in ax.get_lines())
    title = f"{ax.get_title()}, {name}" if drawn_before and ax.get_title() else name
    z = np.linspace(lo, hi, points)
    curves = [(r"$f(z)$", act.forward, "-")]
    if derivative:
        curves.append((r"$f'(z)$", act.derivative, "--"))
    if second_derivative:
        curves.append((r"$f''(z)$", act.second_derivative, ":"))
    xlim = (lo, hi)
    if drawn_before:
        shown = ax.get_xlim()
        xlim = (min(lo, shown[0]), max(hi, shown[1]))     # both ranges
    else:
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
    for symbol, f, style in curves:
        ax.plot(z, _with_gaps(f(z)), style, lw=2, label=f"{label}: {symbol}" if label else symbol,
                gid=_ACTIVATION_CURVE)
    ax.set(xlabel=r"$z$", xlim=xlim, title=title)
    ax.legend(loc="upper left", frameon=False)
    return ax


def _check_history(history: Any) -> Any:
    if not all(hasattr(history, key) for key in ("loss", "val_loss", "grad_norm")):
        raise TypeError(f"history must be the History that Network.fit returns, got "
                        f"{type(history).__name__}")
    if not history.loss:
        raise ValueError("history has no epochs to draw")
    return history


def learning_curves(history: Any, metric: str = "loss", *, ax: Any = None) -> Any:
    """Draw the loss or the accuracy after each epoch, on the training and the validation data.

    The training values are averages over the epoch while the weights still change; the
    validation values are measured after it. A training loss that keeps falling while the
    validation loss levels off or rises is the picture of overfitting. Epochs are
    numbered 1, 2, ..., N; with early stopping a dotted line marks ``history.best_epoch``,
    the epoch whose weights were restored.

    Parameters
    ----------
    history : History
        What :meth:`neuronlab.Network.fit` returned.
    metric : {"loss", "accuracy"}
        The loss is drawn on a logarithmic scale when every value is positive.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    history = _check_history(history)
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    train, validation = history[metric], history["val_" + metric]
    if not train:
        raise ValueError(f"history has no {metric}: accuracy is recorded for classifiers only")
    ax = _axes(ax, (5, 3.4))
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, label="training")
    if validation:
        ax.plot(epochs, validation, label="validation")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch, color="0.6", ls=":", label="best epoch (restored)")
    _epoch_axis(ax)
    ax.set(ylabel=metric, title=metric.capitalize())
    values = np.array(train + validation, dtype=np.float64)
    if metric == "loss" and np.all(values[np.isfinite(values)] > 0):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


_DIAGNOSTICS = {
    "grad_norm": (r"RMS of $\|\partial J / \partial W\|$", "Gradient norm per layer"),
    "dead_relu": ("fraction of ReLU units", "Dead ReLU units (z <= 0 on every sample)"),
    "saturated": ("fraction of units", "Saturated units (f'(z) < 5% of f'(0))"),
}


def layer_diagnostics(history: Any, which: str = "grad_norm", *, ax: Any = None) -> Any:
    """Draw one of the training diagnostics of :class:`neuronlab.History`, a curve per layer.

    - ``"grad_norm"``: the size of dJ/dW^(l) (log scale); curves that sit lower the
      closer the layer is to the input are vanishing gradients.
    - ``"dead_relu"``: the share of ReLU units that output 0 for every sample.
    - ``"saturated"``: the share of units in the flat tails of sigmoid, tanh, ...

    The curves are labelled "layer 0", "layer 1", ... as the layers are numbered in
    ``net.layers``, :meth:`~neuronlab.network.Network.summary` and the parameter names
    (``layer0.W``): layer 0 is next to the input. Layers the diagnostic does not apply to
    (a ReLU layer has no saturation) are left out.

    Parameters
    ----------
    history : History
        From :meth:`neuronlab.Network.fit` with ``diagnostics=True`` (the default).
    which : {"grad_norm", "dead_relu", "saturated"}
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    history = _check_history(history)
    if which not in _DIAGNOSTICS:
        raise ValueError(f"which must be one of {', '.join(map(repr, _DIAGNOSTICS))}, got {which!r}")
    per_epoch = history[which]
    if not per_epoch:
        raise ValueError(f"history has no {which}: Network.fit recorded no diagnostics "
                         "(diagnostics=False); fit with diagnostics=True, the default")
    values = np.array([[np.nan if v is None else v for v in epoch] for epoch in per_epoch])
    layers = [layer for layer in range(values.shape[1]) if not np.all(np.isnan(values[:, layer]))]
    if not layers:
        raise ValueError(f"no layer of this network has {which}: "
                         f"{'no ReLU layers' if which == 'dead_relu' else 'no saturating activations'}")
    ax = _axes(ax, (5, 3.4))
    epochs = np.arange(1, values.shape[0] + 1)
    for layer in layers:
        ax.plot(epochs, values[:, layer], label=f"layer {layer}")
    ylabel, title = _DIAGNOSTICS[which]
    _epoch_axis(ax)
    ax.set(ylabel=ylabel, title=title)
    if which == "grad_norm" and np.nanmin(values) > 0:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def confusion_matrix(r: Any, y: Any, n_classes: int | None = None, *, ax: Any = None,
                     labels: Any = None) -> Any:
    """Draw the confusion matrix of :func:`neuronlab.metrics.confusion_matrix` with its counts.

    Row k, column j: the samples of class k predicted as class j. A perfect classifier
    fills only the diagonal; the largest entries off it name the classes it confuses.

    Parameters
    ----------
    r, y : array_like of int, shape (m,)
        Target and predicted classes.
    n_classes : int, optional
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
        A name for each class (default 0, 1, 2, ...).

    Returns
    -------
    matplotlib Axes
    """
    C = metrics.confusion_matrix(r, y, n_classes)
    n = C.shape[0]
    if labels is None:
        labels = [str(k) for k in range(n)]
    elif len(labels) != n:
        raise ValueError(f"labels has {len(labels)} names for {n} classes")
    ax = _axes(ax, (0.45 * n + 2, 0.45 * n + 1.6))
    ax.imshow(C, cmap="Blues", vmin=0)
    for k, j in zip(*np.nonzero(C), strict=True):
        ax.text(j, k, str(C[k, j]), ha="center", va="center", fontsize="small",
                color="white" if C[k, j] > C.max() / 2 else "black")
    accuracy = C.trace() / C.sum() if C.sum() else float("nan")
    ax.set(xticks=range(n), yticks=range(n), xticklabels=labels, yticklabels=labels,
           xlabel="predicted class", ylabel="true class", title=f"Accuracy {accuracy:.1%}")
    return ax


def decision_regions(model: Any, X: Any, r: Any = None, *, ax: Any = None,
                     resolution: int = 200, margin: float = 0.1) -> Any:
    """Colour the plane by the class `model` predicts there, and draw the samples on it.

    For data with two features: the grid covers the samples plus `margin` times their
    spread on each side, and every grid point is classified by ``model.predict``. The
    borders between the colours are the decision boundaries: a straight line for a
    single neuron, bent lines for a network with hidden layers.

    Parameters
    ----------
    model : Perceptron, LogisticNeuron or Network
        Anything with ``predict(X)`` returning class indices.
    X : array_like, shape (m, 2)
    r : array_like of int, shape (m,), optional
        The samples' classes (their marker colour); without them the samples are grey.
    ax : matplotlib Axes, optional
    resolution : int
        Grid points along each axis.
    margin : float

    Returns
    -------
    matplotlib Axes
    """
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict method, got {type(model).__name__}")
    X = check_samples(X, "X", 2)
    resolution = check_count(resolution, "resolution", low=2)
    margin = check_real(margin, "margin", low=0.0)
    if r is not None:
        r = check_class_labels(r, X.shape[0], "r")

    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.where(high > low, margin * (high - low), 0.5)   # all samples on one line: +-0.5
    g1 = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    g2 = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    G1, G2 = np.meshgrid(g1, g2)
    answers = np.asarray(model.predict(np.column_stack([G1.ravel(), G2.ravel()])))
    if (answers.shape != (G1.size,) or not np.all(answers == np.round(answers))
            or answers.min() < 0):
        raise ValueError("model.predict must return one class index (0, 1, ...) per sample: "
                         "decision_regions needs a classifier")
    answers = answers.reshape(G1.shape)
    n_classes = int(max(answers.max(), -1 if r is None else r.max())) + 1

    ax = _axes(ax, (4.5, 4))
    plt = _pyplot()
    # class k takes colour k of a qualitative map (pale for its region, full for its samples)
    colours = (plt.get_cmap("tab10") if n_classes <= 10 else plt.get_cmap("tab20") if n_classes <= 20
               else plt.get_cmap("turbo").resampled(n_classes))
    ax.imshow(answers, origin="lower", extent=(g1[0], g1[-1], g2[0], g2[-1]), aspect="auto",
              cmap=colours, vmin=-0.5, vmax=colours.N - 0.5, alpha=0.3, interpolation="nearest")
    if r is None:
        ax.scatter(X[:, 0], X[:, 1], s=18, c="0.3", edgecolors="white", linewidths=0.5)
    else:
        ax.scatter(X[:, 0], X[:, 1], s=18, c=r, cmap=colours, vmin=-0.5, vmax=colours.N - 0.5,
                   edgecolors="k", linewidths=0.5)
    ax.set(xlabel=r"$x_1$", ylabel=r"$x_2$", title="Decision regions")
    return ax
