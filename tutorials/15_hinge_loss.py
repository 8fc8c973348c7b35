r"""
The hinge loss beside softmax cross-entropy
===========================================

A linear classifier gives every class a score z_k = w_k^T x + b_k and predicts the class
with the largest one. Two losses train it. Softmax cross-entropy turns the scores into
probabilities and asks for all of the probability on the right class. The multiclass
hinge loss of the support vector machine only asks that the right score z_c beat every
other by a margin Delta:

.. math:: J_i = \sum_{k \ne c} \max(0, z_k - z_c + \Delta).

Its subgradient is 1 for each class that violates the margin, minus their number at the
label, and 0 everywhere once the margin is met (a tie, exactly on the margin, counts as
met). Softmax cross-entropy's gradient y - r is never exactly 0.

We train the same linear classifier on the digits twice, from the same weights with the
same steps, once with each loss, and look at where they agree and where they differ.
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

X, y = nl.datasets.load_digits()
X_train, X_test, y_train, y_test = nl.datasets.train_test_split(X, y, test_size=0.2, seed=0)
rows = np.arange(y_train.size)
LOSSES = {"hinge": "multiclass hinge", "softmax_cross_entropy": "softmax cross-entropy"}

# %%
# One identity layer, 64 pixels to 10 scores, the same initial weights for both; 40
# epochs of SGD with momentum on mini-batches of 32. Both losses run fused into the
# network's compiled training step.
nets, results = {}, {}
for name in LOSSES:
    net = nl.Network([nl.Layer(64, 10, "identity", seed=0)], loss=name, seed=0)
    net.fit(X_train, y_train, epochs=40, batch_size=32, optimizer=nl.optim.SGD(0.02, momentum=0.9),
            progress=False)
    nets[name] = net
    results[name] = {"train_accuracy": net.score(X_train, y_train),
                     "test_accuracy": net.score(X_test, y_test)}
    print(f"{LOSSES[name]:>22}: training accuracy {results[name]['train_accuracy']:.3f}, "
          f"test accuracy {results[name]['test_accuracy']:.3f}")

# %%
# Where they agree: about as many test digits right, and mostly the same answer for
# each digit.
same = float(np.mean(nets["hinge"].predict(X_test) == nets["softmax_cross_entropy"].predict(X_test)))
print(f"the two classifiers give the same digit for {same:.1%} of the test images")

# %%
# Where they differ. The margin of a training image is z_c minus the largest other
# score. The hinge loss is exactly 0 on every image whose margin reached Delta = 1, and
# so is its gradient row: those images no longer move the weights. Softmax
# cross-entropy is positive on every image, and so is each gradient row.
for name, loss in LOSSES.items():
    z = nets[name].forward(X_train)
    others = z.copy()
    others[rows, y_train] = -np.inf
    margin = z[rows, y_train] - others.max(axis=1)
    J, dz = nl.losses.get(name, reduction="none").loss_and_gradient(z, y_train)
    still = J > 0
    results[name].update({
        "zero_loss_fraction": float(np.mean(J == 0)), "min_loss": float(J.min()),
        "zero_gradient_rows": int(np.sum(np.all(dz == 0, axis=1))), "zero_loss_count": int(np.sum(J == 0)),
        "min_gradient_row_norm": float(np.linalg.norm(dz, axis=1).min()),
        "margin_at_least_1": float(np.mean(margin >= 1)), "median_margin": float(np.median(margin)),
        "weight_norm": float(np.linalg.norm(nets[name].layers[0].W))})
    # The gradient of the weights summed over all images, against the sum over only the
    # images the hinge loss still counts: the same for the hinge, not for softmax.
    satisfied = nl.losses.get("hinge", reduction="none").loss(z, y_train) == 0
    dW_all = dz.T @ X_train
    dW_rest = dz[~satisfied].T @ X_train[~satisfied]
    results[name]["gradient_gap_without_satisfied"] = float(
        np.linalg.norm(dW_all - dW_rest) / np.linalg.norm(dW_all))
    results[name]["margins"] = margin
    results[name]["losses"] = J
    r = results[name]
    print(f"{loss}: J_i = 0 exactly on {r['zero_loss_fraction']:.1%} of the training images "
          f"({r['zero_gradient_rows']} zero gradient rows), smallest J_i {r['min_loss']:.2g}; "
          f"margin >= 1 on {r['margin_at_least_1']:.1%}, median margin {r['median_margin']:.2f}, "
          f"|W| = {r['weight_norm']:.1f}; leaving out the images the hinge is done with changes "
          f"the weight gradient by {r['gradient_gap_without_satisfied']:.1e} of its size")

# %%
# Softmax cross-entropy also says how sure it is: the probability of the predicted digit
# is lower where the prediction is wrong. The hinge loss trains scores, not
# probabilities, and its network refuses to give any.
p = nets["softmax_cross_entropy"].predict_proba(X_test)
right = p.argmax(axis=1) == y_test
confidence_right, confidence_wrong = float(p.max(axis=1)[right].mean()), float(p.max(axis=1)[~right].mean())
print(f"softmax: mean probability of the predicted digit {confidence_right:.3f} when right, "
      f"{confidence_wrong:.3f} when wrong")
try:
    nets["hinge"].predict_proba(X_test)
    hinge_proba_error = ""
except ValueError as exc:
    hinge_proba_error = str(exc)
    print("hinge:", hinge_proba_error)

# %%
# Left: the margins of the training images. The hinge loss stops pushing an image once
# its margin reaches 1 (dotted), so its margins start there and spread less far; softmax
# cross-entropy keeps widening margins that are already wide, with larger weights. Right:
# each image's loss against its margin, exactly 0 beyond 1 for the hinge.
fig, (ax_m, ax_j) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
bins = np.linspace(-4, 10, 57)
for name, loss in LOSSES.items():
    ax_m.hist(results[name]["margins"], bins=bins, alpha=0.6, label=loss)
    ax_j.scatter(results[name]["margins"], results[name]["losses"], s=4, alpha=0.5, label=loss)
for ax in (ax_m, ax_j):
    ax.axvline(1, color="0.3", ls=":")
ax_m.set(xlabel=r"margin $z_c - \max_{k \ne c} z_k$", ylabel="training images")
ax_j.set(xlabel=r"margin $z_c - \max_{k \ne c} z_k$", ylabel=r"$J_i$", xlim=(-4, 10), ylim=(-0.1, 4))
ax_m.legend(fontsize=8)
fig.savefig(os.path.join(FIGURES, "15_hinge_loss.png"))

# %%
for name in LOSSES:
    del results[name]["margins"], results[name]["losses"]
print("RESULT", json.dumps({
    "hinge": results["hinge"], "softmax": results["softmax_cross_entropy"], "same_prediction": same,
    "confidence_right": confidence_right, "confidence_wrong": confidence_wrong,
    "hinge_proba_error": hinge_proba_error}))
