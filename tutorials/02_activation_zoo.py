"""
The activation zoo
==================

Every elementwise activation registered in :mod:`neuronlab.activations`, with its
derivative, on one grid of plots. Solid: f(z); dashed: f'(z).

Each derivative comes from a compiled kernel. We check each one against the slope of
the curve itself (a central difference of f) at every plotted point where f' is
continuous: the two must agree.
"""
# %%
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
# Softmax, log-softmax and maxout map whole vectors, not single numbers: they have
# their own tutorials. Everything else is elementwise.
names = [n for n in nl.activations.available() if nl.activations.get(n).elementwise]
print(f"{len(names)} elementwise activations: {', '.join(names)}")

z = np.linspace(-4, 4, 801)
h = 1e-5

# %%
# One panel per activation. RReLU is drawn in evaluation mode (its mean slope); its
# training mode is the subject of tutorial 07.
cols = 4
rows = -(-len(names) // cols)
fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows))
max_error = {}
for ax, name in zip(axes.flat, names, strict=False):
    act = nl.activations.get(name)
    nl.plot.activation(act, z[0], z[-1], points=z.size, ax=ax, label="")   # f solid, f' dashed
    ax.set_title(name, fontsize=10)
    if ax is not axes.flat[0]:
        ax.get_legend().remove()

    # The slope of the curve, (f(z + h) - f(z - h)) / 2h, against the kernel's f'.
    # Where f or f' jumps (binary_step at 0, relu at 0, hard_tanh at +-1) the slope is
    # not defined: skip the points next to a jump, found as a change between grid
    # neighbours far larger than a continuous f or f' makes over one grid step.
    f, df = act(z), act.derivative(z)
    slope = (act(z + h) - act(z - h)) / (2 * h)
    jump = (np.abs(np.diff(df)) > 0.05) | (np.abs(np.diff(f)) > 0.1)
    continuous = ~(np.r_[jump, False] | np.r_[False, jump])
    max_error[name] = float(np.max(np.abs(slope - df)[continuous]))
for ax in axes.flat[len(names):]:
    ax.set_visible(False)
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "02_activation_zoo.png"))

# %%
# How closely the kernel's f' matches the slope of f. Where f is smooth the central
# difference is off by about h^2/6 times the third derivative, some 1e-11 here; where
# f'' jumps (elu and softsign at 0) by a multiple of h (h/4 for elu, h for softsign):
# the error of the difference quotient, not of the kernel.
for name, err in max_error.items():
    print(f"{name:>13}: max |f' - slope| = {err:.1e}")
worst = max(max_error, key=max_error.get)
print(f"worst agreement: {worst}, {max_error[worst]:.1e}")

# %%
print("RESULT", json.dumps({"names": names, "max_derivative_error": max_error}))
