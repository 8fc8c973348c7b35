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
# The boundary after each epoch, one panel per epoch: the shaded side is where the
# perceptron answers 1 (a point exactly on the line too, as z = 0 gives 1), and filled
# dots are the samples of class 1. The title counts the mistakes made during the
# epoch, each of which moved the line.
grid = np.linspace(-0.5, 1.5, 201)
G1, G2 = np.meshgrid(grid, grid)
n_cols = max(len(runs[gate][2]) for gate in runs)
fig, axes = plt.subplots(len(runs), n_cols, figsize=(1.9 * n_cols, 2.1 * len(runs)),
                         squeeze=False, layout="constrained")
for row, gate in zip(axes, runs, strict=True):
    X, y, boundaries = runs[gate]
    for epoch, ax in enumerate(row, start=1):
        if epoch > len(boundaries):
            ax.set_visible(False)
            continue
        w, b = boundaries[epoch - 1]
        answers_one = w[0] * G1 + w[1] * G2 + b >= 0          # step(w . x + b)
        ax.contourf(G1, G2, answers_one, levels=[-0.5, 0.5, 1.5], colors=["white", "#c6dbef"])
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=50, facecolors="white", edgecolors="k")
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=50, c="k")
        mistakes = results[gate]["mistakes_per_epoch"][epoch - 1]
        ax.set_title(f"{gate.upper()}, epoch {epoch}: {mistakes} updates", fontsize=8)
        ax.set(xticks=[0, 1], yticks=[0, 1], aspect="equal")
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
