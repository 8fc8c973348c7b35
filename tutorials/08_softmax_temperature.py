r"""
Softmax temperature
===================

Softmax with temperature T turns logits z into probabilities

.. math:: y_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}}.

A small T sharpens the distribution towards the arg max (one-hot as T -> 0); a large T
flattens it towards uniform (all 1/K as T -> infinity). Its entropy
H = -sum_i y_i ln y_i therefore grows with T, from 0 to ln K; in fact
dH/dT = Var_y(z) / T^3 > 0 whenever the logits are not all equal.
"""
# %%
import json
import math
import os

import matplotlib
import numpy as np

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuronlab as nl

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")

z = np.array([3.0, 1.5, 1.0, 0.2, -1.0])
K = len(z)


def entropy(y):
    """H = -sum y ln y, with 0 ln 0 = 0."""
    return float(-np.sum(y * np.log(y, out=np.zeros_like(y), where=y > 0)))


# %%
# The same logits at three temperatures.
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
shown = {}
for ax, T in zip(axes, (0.1, 1.0, 10.0), strict=True):
    y = nl.softmax.softmax(z, temperature=T)
    shown[T] = y
    ax.bar(range(K), y)
    ax.set(title=f"T = {T}, H = {entropy(y):.3f}", xlabel="class i", xticks=range(K))
    print(f"T = {T:>4}: y = {np.array2string(y, precision=4)}, entropy {entropy(y):.4f}")
axes[0].set_ylabel("$y_i$")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "08_softmax_three_temperatures.png"))

# %%
# Entropy against temperature, from 0.01 to 1000 on a log scale.
temperatures = np.logspace(-2, 3, 201)
H = np.array([entropy(nl.softmax.softmax(z, temperature=T)) for T in temperatures])
increasing = bool(np.all(np.diff(H) > 0))
print(f"entropy from {H[0]:.2e} at T = {temperatures[0]} to {H[-1]:.6f} at T = "
      f"{temperatures[-1]:g} (ln K = {math.log(K):.6f}); strictly increasing: {increasing}")

fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.semilogx(temperatures, H)
ax.axhline(math.log(K), color="k", ls="--", lw=0.8, label=f"ln K = ln {K}")
ax.set(xlabel="temperature T", ylabel="entropy H (nats)", title="softmax entropy")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "08_softmax_entropy.png"))

# %%
# The arg max never changes: dividing by T > 0 keeps the order of the logits.
same_argmax = all(int(np.argmax(y)) == int(np.argmax(z)) for y in shown.values())
print(f"the arg max is class {int(np.argmax(z))} at every temperature: {same_argmax}")

print("RESULT", json.dumps({
    "probabilities": {str(T): y.tolist() for T, y in shown.items()},
    "entropy_at": {str(T): entropy(y) for T, y in shown.items()},
    "entropy_increasing": increasing, "entropy_min": float(H[0]),
    "entropy_max": float(H[-1]), "ln_K": math.log(K), "same_argmax": same_argmax}))
