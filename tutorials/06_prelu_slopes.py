"""
PReLU: learning the negative slope
==================================

Parametric ReLU (He et al., 2015) is a leaky ReLU whose negative slope alpha is a
parameter, learned by gradient descent like the weights:

f(z) = z for z > 0 and alpha z otherwise, so df/dalpha = min(0, z).

Each hidden unit here has its own alpha, all starting at 0.25. We train a small network
on the spirals and watch where the slopes go, layer by layer: alpha = 0 would make a
unit a ReLU, alpha = 1 a linear unit, and nothing stops alpha from going negative.
:meth:`neuronlab.Layer.backward` computes dJ/dalpha = sum over samples of
dJ/da min(0, z), and the optimizer updates alpha together with W and b.
"""
# %%
import json
import os
from itertools import pairwise

import matplotlib
import numpy as np

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuronlab as nl

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")

X, t = nl.datasets.spirals(600, n_classes=3, noise=0.1, seed=0)
HIDDEN = [32, 32, 32]
rng = np.random.default_rng(0)
sizes = [2, *HIDDEN]
layers = [nl.Layer(n_in, n_out, "prelu", alpha=np.full(n_out, 0.25), seed=rng)
          for n_in, n_out in pairwise(sizes)]
layers.append(nl.Layer(sizes[-1], 3, "identity", seed=rng))
loss = nl.losses.SoftmaxCrossEntropy()
opt = nl.optim.Adam(0.01)


def forward(a):
    for layer in layers:
        a = layer.forward(a)
    return a


# %%
# The training loop, recording every hidden layer's slopes after each epoch.
EPOCHS, BATCH = 150, 32
slopes = [[layer.alpha.copy() for layer in layers[:-1]]]
for _ in range(EPOCHS):
    order = rng.permutation(len(t))
    for start in range(0, len(t), BATCH):
        rows = order[start:start + BATCH]
        _, grad = loss.loss_and_gradient(forward(X[rows]), t[rows])
        for layer in reversed(layers):
            grad = layer.backward(grad)
        opt.step([pg for layer in layers for pg in layer.params_and_grads()])
    slopes.append([layer.alpha.copy() for layer in layers[:-1]])

accuracy = float(np.mean(forward(X).argmax(axis=1) == t))
final = slopes[-1]
print(f"training accuracy on the spirals: {accuracy:.3f}")
for k, alpha in enumerate(final):          # layers[k], counted from 0 like the list
    print(f"layer {k}: alpha mean {alpha.mean():+.3f}, median {np.median(alpha):+.3f}, "
          f"range [{alpha.min():+.3f}, {alpha.max():+.3f}]")

# %%
# Left: each layer's mean slope during training. Right: the final slopes of every unit.
history = np.array([[a.mean() for a in epoch] for epoch in slopes])
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for k in range(len(HIDDEN)):
    axes[0].plot(history[:, k], label=f"layer {k}")
    axes[1].scatter(np.full(HIDDEN[k], k) + rng.uniform(-0.15, 0.15, HIDDEN[k]),
                    final[k], s=12)
axes[0].axhline(0.25, color="k", lw=0.5, ls="--")
axes[0].set(xlabel="epoch (0: the start)", ylabel=r"mean $\alpha$", title="slopes during training")
axes[0].legend()
axes[1].axhline(0.25, color="k", lw=0.5, ls="--", label="start")
axes[1].set(xlabel="layer", ylabel=r"$\alpha$ of each unit", xticks=range(len(HIDDEN)),
            title="final slopes")
axes[1].legend()
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "06_prelu_slopes.png"))

# %%
# What we found: the slopes do not stay near 0.25, nor drift together towards 0 (ReLU)
# or 1 (linear). They spread out, and a good share turn negative: with alpha < 0 a unit
# responds to large z of either sign (alpha = -1 gives abs(z)), a shape no fixed leaky
# ReLU offers. He et al. found the largest slopes in the first layer of their deep
# convolutional network and generally smaller ones deeper; the printed layer means
# show whether this small network does the same (in our runs it did not).
negative = float(np.mean(np.concatenate(final) < 0))
print(f"fraction of units with a negative slope: {negative:.2f}")
print("RESULT", json.dumps({
    "accuracy": accuracy, "negative_fraction": negative,
    "mean_slope": [float(a.mean()) for a in final],
    "slopes": [a.tolist() for a in final],
    "max_change": float(max(np.max(np.abs(a - 0.25)) for a in final))}))
