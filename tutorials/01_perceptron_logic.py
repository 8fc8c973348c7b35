"""
The perceptron learns AND and OR, and fails on XOR
==================================================

Rosenblatt's perceptron computes z = w . x + b and outputs 1 when z >= 0. Its learning
rule, w <- w + eta (t - y_hat) x, changes nothing when a sample is classified right and
moves the decision boundary w . x + b = 0 towards a sample it got wrong.

The convergence theorem says: if a straight line separates the two classes, the rule
reaches an epoch without a single mistake. AND and OR are separable; XOR is not (Minsky
and Papert, 1969), so on XOR the mistakes per epoch never reach zero.
"""
# %%
# Setup: figures go to ``$NEURONLAB_FIGURES`` (default: the current directory), drawn
# off-screen when there is no display.
import json
import os

import matplotlib
import numpy as np

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuronlab as nl

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")

# %%
# Train one epoch at a time, so that we can draw the boundary after each epoch.
# ``fit(X, y, epochs=1)`` continues from the current weights.


def train_epochwise(gate, max_epochs, seed=0):
    X, y = nl.datasets.logic_gate(gate)
    p = nl.Perceptron(2, seed=seed)
    mistakes, boundaries = [], []
    for _ in range(max_epochs):
        p.fit(X, y, epochs=1)
        mistakes.append(p.mistakes[0])
        boundaries.append((p.weights.copy(), p.bias))
        if p.converged:          # an epoch without a mistake: the rule has stopped
            break
    return X, y, p, mistakes, boundaries


results = {}
runs = {}
for gate in ("and", "or"):
    X, y, p, mistakes, boundaries = train_epochwise(gate, max_epochs=50)
    runs[gate] = (X, y, boundaries)
    results[gate] = {"mistakes_per_epoch": mistakes, "converged": p.converged,
                     "accuracy": p.score(X, y)}
    print(f"{gate.upper():>3}: mistakes per epoch {mistakes}, converged: {p.converged}, "
          f"accuracy {p.score(X, y):.2f}")

# %%
# The boundary after each epoch. Filled markers are class 1.


def draw_boundary(ax, w, b, **style):
    x1 = np.array([-0.5, 1.5])
    if abs(w[1]) > 1e-12:                   # w0 x1 + w1 x2 + b = 0, solved for x2
        ax.plot(x1, -(w[0] * x1 + b) / w[1], **style)
    elif abs(w[0]) > 1e-12:                 # a vertical line
        ax.axvline(-b / w[0], **style)


fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, gate in zip(axes, ("and", "or"), strict=True):
    X, y, boundaries = runs[gate]
    colours = plt.cm.viridis(np.linspace(0.15, 0.9, len(boundaries)))
    for epoch, ((w, b), colour) in enumerate(zip(boundaries, colours, strict=True), start=1):
        draw_boundary(ax, w, b, color=colour, label=f"after epoch {epoch}")
    ax.scatter(X[y == 0, 0], X[y == 0, 1], s=80, facecolors="none", edgecolors="k")
    ax.scatter(X[y == 1, 0], X[y == 1, 1], s=80, c="k")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), title=gate.upper(), xlabel="$x_1$",
           ylabel="$x_2$", aspect="equal")
    ax.legend(fontsize=7, loc="upper right")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "01_perceptron_and_or.png"))

# %%
# XOR: give the rule 100 epochs. It never has an epoch without a mistake: whatever line
# it draws, at least one of the four points is on the wrong side.
X, y = nl.datasets.logic_gate("xor")
p = nl.Perceptron(2, seed=0).fit(X, y, epochs=100)
results["xor"] = {"mistakes_per_epoch": p.mistakes, "converged": p.converged,
                  "min_mistakes": min(p.mistakes), "epochs": len(p.mistakes)}
print(f"XOR: {len(p.mistakes)} epochs, mistakes per epoch between {min(p.mistakes)} and "
      f"{max(p.mistakes)}, converged: {p.converged}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, len(p.mistakes) + 1), p.mistakes, marker=".")
ax.set(xlabel="epoch", ylabel="mistakes in the epoch", title="Perceptron on XOR", ylim=(0, 4.2))
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "01_perceptron_xor.png"))

# %%
# The last line is for the tests: what this script found, as JSON.
print("RESULT", json.dumps(results))
