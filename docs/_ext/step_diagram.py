"""The path of one training step through neuronlab's files, drawn for the kernels chapter.

Each box is a file with the functions the step runs in it, top to bottom in the order they
run; arrows are calls. The compiled engine (_dense.pyx) is the middle column: one
``DenseStack.step`` call runs the forward pass, the loss and the backward pass of every
layer without returning to Python, and calls back into Python only for an activation
written in NumPy (dashed).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# (file, functions, x, y, width, height, colour): python files blue, compiled ones orange
BOXES = {
    "training": ("neuronlab/training.py", ["Trainer._epoch", "(one mini-batch)"], 0.0, 7.6, 3.2, 1.3, "py"),
    "network": ("neuronlab/network.py", ["Network.backprop"], 0.9, 5.4, 2.6, 1.0, "py"),
    "optim": ("neuronlab/optim/base.py", ["Optimizer.step"], 0.0, 1.2, 3.4, 1.0, "py"),
    "optim_pyx": ("_kernels/_optim.pyx", ["sgd, rmsprop, adam, ..."], 0.0, -0.6, 3.4, 1.0, "c"),
    "dense": ("_kernels/_dense.pyx", ["DenseStack.step", "  _forward: per layer", "    _layer_forward",
                                      "  batch_loss (J, dJ/da)", "  _backward: per layer",
                                      "    _layer_backward"], 4.6, 3.9, 3.6, 3.0, "c"),
    "blas": ("scipy cython_blas", ["dgemm / sgemm", "z = a W^T, dW = delta^T a,", "grad_a = delta W"],
             4.6, 0.9, 3.6, 1.6, "lib"),
    "losses": ("_kernels/_losses.pyx", ["batch_loss", "softmax-CE: y - r"], 4.6, 7.6, 3.6, 1.3, "c"),
    "elementwise": ("_kernels/_elementwise.pyx.tp", ["forward_bias (z += b, a = f(z))",
                                                    "backward (delta = f'(z) grad_a)"],
                    9.0, 5.2, 4.3, 1.4, "c"),
    "pxd": ("_kernels/activation.pxd", ["sigmoid_f, sigmoid_df, ...", "the formulas"], 9.0, 3.0, 4.3, 1.3, "c"),
    "layers": ("neuronlab/layers.py", ["Layer.activate", "Layer.backpropagate", "-> your forward, derivative"],
               9.0, 0.3, 4.3, 1.6, "py"),
}
COLOURS = {"py": ("#dbe9f6", "#2f6ea5"), "c": ("#fde3c8", "#c05a00"), "lib": ("#e8e8e8", "#666666")}

# (from, to, label, dashed); an arrow runs between the facing edges of its boxes, except
# where ROUTES gives its ends (the optimizer's arrow passes left of network.py)
ROUTES = {("training", "optim"): ((0.35, 7.55), (0.35, 2.25))}
CALLS = [
    ("training", "network", "1", False),
    ("network", "dense", "2  one call", False),
    ("dense", "blas", "matrix products", False),
    ("dense", "elementwise", "compiled f, f'", False),
    ("elementwise", "pxd", "inlined", False),
    ("dense", "losses", "J and dJ/da", False),
    ("dense", "layers", "f written in NumPy", True),
    ("training", "optim", "3  every dJ/dtheta", False),
    ("optim", "optim_pyx", "one pass", False),
]


def _anchor(box, toward):
    """The point on the edge of `box` facing the centre of `toward`."""
    _, _, x, y, w, h, _ = box
    _, _, tx, ty, tw, th, _ = toward
    cx, cy, ox, oy = x + w / 2, y + h / 2, tx + tw / 2, ty + th / 2
    if abs(ox - cx) * h > abs(oy - cy) * w:     # leaves through a side
        return (x + w if ox > cx else x), cy
    return cx, (y + h if oy > cy else y)


def draw(ax=None):
    """Draw the diagram into `ax` (a new figure by default) and return the Axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 7.2))
    for title, lines, x, y, w, h, kind in BOXES.values():
        face, edge = COLOURS[kind]
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", facecolor=face,
                                    edgecolor=edge, linewidth=1.4))
        ax.text(x + 0.12, y + h - 0.12, title, ha="left", va="top", fontsize=9, fontweight="bold",
                family="monospace", color=edge)
        ax.text(x + 0.12, y + h - 0.48, "\n".join(lines), ha="left", va="top", fontsize=8,
                family="monospace", linespacing=1.35)
    for start, end, label, dashed in CALLS:
        a, b = ROUTES.get((start, end), (_anchor(BOXES[start], BOXES[end]), _anchor(BOXES[end], BOXES[start])))
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, linewidth=1.2,
                                     linestyle="--" if dashed else "-", color="#333333"))
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.12, label, fontsize=7.5, ha="center",
                va="bottom", color="#333333",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_xlim(-0.3, 13.5)
    ax.set_ylim(-0.9, 9.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("One training step: Python (blue) calls the compiled engine (orange) once per batch",
                 fontsize=10)
    return ax


if __name__ == "__main__":
    draw()
    plt.savefig("step_diagram.png", dpi=100, bbox_inches="tight")
