r"""
The gradient of softmax cross-entropy is y - r
==============================================

For logits z, probabilities y = softmax(z) and a one-hot target r, the loss
J = -sum_k r_k ln y_k has the gradient

.. math:: \frac{\partial J}{\partial z_k} = y_k - r_k.

The softmax's Jacobian, diag(y) - y y^T, and the logarithm's 1/y cancel, leaving the
simplest possible error signal: what the network said minus what it should have said.
For a soft target (label smoothing, or any r that sums to s) it is y_k s - r_k.

We confirm it numerically three ways: the compiled kernel of
:class:`neuronlab.losses.SoftmaxCrossEntropy`, the formula y - r written out, and
finite differences of the loss itself.
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
from neuronlab.gradcheck import numerical_gradient

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")

rng = np.random.default_rng(0)
m, K = 6, 4
z = rng.normal(0.0, 2.0, (m, K))
labels = rng.integers(0, K, m)
r = np.eye(K)[labels]                                # one-hot rows

# %%
# The kernel's gradient, with reduction="sum" so that it is sum_i dJ_i/dz (the mean
# divides it by m).
loss = nl.losses.SoftmaxCrossEntropy(reduction="sum")
J, kernel_grad = loss.loss_and_gradient(z, labels)
y = nl.softmax.softmax(z)
formula_grad = y - r
numeric_grad = numerical_gradient(lambda z: loss(z, labels), z)
gap_formula = float(np.max(np.abs(kernel_grad - formula_grad)))
gap_numeric = float(np.max(np.abs(kernel_grad - numeric_grad)))
print(f"J = {J:.6f} over {m} samples of {K} classes")
print(f"max |kernel - (y - r)|       = {gap_formula:.1e}")
print(f"max |kernel - finite diff.|  = {gap_numeric:.1e}")

# %%
# Reduction "mean" divides by m; a soft target r (rows summing to s) gives y s - r.
mean_grad = nl.losses.SoftmaxCrossEntropy().gradient(z, labels)
gap_mean = float(np.max(np.abs(mean_grad - formula_grad / m)))
soft = rng.uniform(0.0, 1.0, (m, K))                 # rows need not sum to 1
soft_grad = loss.gradient(z, soft)
soft_formula = y * soft.sum(axis=1, keepdims=True) - soft
soft_numeric = numerical_gradient(lambda z: loss(z, soft), z)
gap_soft = float(np.max(np.abs(soft_grad - soft_formula)))
gap_soft_numeric = float(np.max(np.abs(soft_grad - soft_numeric)))
print(f"reduction='mean': max |kernel - (y - r)/m| = {gap_mean:.1e}")
print(f"soft targets: max |kernel - (y s - r)| = {gap_soft:.1e}, "
      f"max |kernel - finite diff.| = {gap_soft_numeric:.1e}")

# %%
# Huge logits: e^1000 overflows, so softmax computed naively gives nan. The kernel
# works with z - max z, which changes neither y nor J: by hand, z - 999 = (1, 0, -9),
# so J = ln(e + 1 + e^-9) for label 1.
big = np.array([[1000.0, 999.0, 990.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum()
J_big, grad_big = loss.loss_and_gradient(big, np.array([1]))
shifted = np.exp(np.array([1.0, 0.0, -9.0]))
exact_J = float(np.log(shifted.sum()))
exact = shifted / shifted.sum() - np.eye(3)[1]
print(f"logits {big[0].tolist()}: naive softmax {naive[0].tolist()}, kernel J = {J_big:.6f} "
      f"(by hand {exact_J:.6f}), "
      f"gradient {np.array2string(grad_big[0], precision=6)}")

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.4))
i = 0
width = 0.27
ax.bar(np.arange(K) - width, kernel_grad[i], width, label="kernel")
ax.bar(np.arange(K), formula_grad[i], width, label="y − r")
ax.bar(np.arange(K) + width, numeric_grad[i], width, label="finite differences")
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel="class k", ylabel=r"$\partial J / \partial z_k$", xticks=range(K),
       title=f"sample {i}: label {labels[i]}")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "12_softmax_cross_entropy.png"))

# %%
print("RESULT", json.dumps({
    "loss": J, "gap_formula": gap_formula, "gap_numeric": gap_numeric, "gap_mean": gap_mean,
    "gap_soft": gap_soft, "gap_soft_numeric": gap_soft_numeric,
    "naive_overflows": bool(np.isnan(naive).any()), "big_loss_gap": abs(J_big - exact_J),
    "big_gap": float(np.max(np.abs(grad_big - exact)))}))
