"""
Overfitting and early stopping
==============================

A network with far more weights than training samples can learn the training set by
heart, noise included. Its training loss keeps falling towards zero; its loss on new
samples falls at first, then rises again. Early stopping watches the loss on held-out
validation data, stops once it has not improved for a while, and goes back to the
weights of its best epoch.

We train a 2-128-128-2 ReLU network (17 000 weights) on 60 noisy samples of the two
moons, once for 400 epochs and once with early stopping, and compare the two on 2000
fresh samples. The figures are drawn by :mod:`neuronlab.plot`.
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
# Three independent draws of the same noisy moons: 60 samples to train on, 500 to
# validate on (the early stopping watches these), 2000 to test on (nothing has seen
# them until the end).
X_train, r_train = nl.datasets.two_moons(60, noise=0.3, seed=0)
X_val, r_val = nl.datasets.two_moons(500, noise=0.3, seed=1)
X_test, r_test = nl.datasets.two_moons(2000, noise=0.3, seed=2)


def make_network():
    """The same network, with the same initial weights, every time it is called."""
    return nl.Network([nl.Layer(2, 128, "relu", seed=0), nl.Layer(128, 128, "relu", seed=1),
                       nl.Layer(128, 2, "identity", seed=2)], seed=0)


def test_loss(net):
    """The mean cross-entropy -ln y_r on the test samples: how much probability the
    network gives the right class, not only whether that class wins."""
    y = net.predict_proba(X_test)
    return float(-np.mean(np.log(y[np.arange(r_test.size), r_test])))


# %%
# Training for 400 epochs with Adam. The training loss falls by two orders of magnitude
# and every training sample ends up right; the validation loss is lowest early on and
# then grows many times over. The validation accuracy peaks later than the validation
# loss: the loss also counts how sure the network is, and it grows overconfident before
# it starts to get new samples wrong.
full = make_network()
history = full.fit(X_train, r_train, epochs=400, batch_size=16, optimizer=nl.optim.Adam(0.01),
                   validation_data=(X_val, r_val), progress=False)
val_loss = np.array(history.val_loss)
lowest = int(val_loss.argmin())
best_accuracy = int(np.argmax(history.val_accuracy))
print(f"400 epochs: training loss {history.loss[0]:.3f} -> {history.loss[-1]:.4f}, "
      f"training accuracy {full.score(X_train, r_train):.2f}")
print(f"  validation loss lowest at epoch {lowest + 1} ({val_loss[lowest]:.3f}), "
      f"{val_loss[-1]:.3f} at the end ({val_loss[-1] / val_loss[lowest]:.1f} times as much)")
print(f"  validation accuracy highest at epoch {best_accuracy + 1} "
      f"({history.val_accuracy[best_accuracy]:.3f})")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
nl.plot.learning_curves(history, "loss", ax=ax_loss)
ax_loss.axvline(lowest + 1, color="0.5", ls=":")
ax_loss.set(ylabel="softmax cross-entropy", title="Loss (dotted: lowest validation loss)")
nl.plot.learning_curves(history, "accuracy", ax=ax_acc)
fig.savefig(os.path.join(FIGURES, "13_overfitting_curves.png"))

# %%
# The same network from the same start, with early stopping: it stops when the
# validation loss has not improved for 20 epochs and restores the best epoch's weights.
# (``EarlyStopping(monitor="val_accuracy")`` would watch the accuracy instead, and stop
# later.)
stopped = make_network()
history_stopped = stopped.fit(X_train, r_train, epochs=400, batch_size=16,
                              optimizer=nl.optim.Adam(0.01), validation_data=(X_val, r_val),
                              early_stopping=nl.EarlyStopping(patience=20), progress=False)
print(f"early stopping: stopped after {history_stopped.epochs} epochs, restored epoch "
      f"{history_stopped.best_epoch}")

# %%
# Both networks on the 2000 test samples. The accuracies are close: overfitting costs
# little here in the share of right answers. The loss tells the difference: the network
# trained for 400 epochs is sure of itself everywhere, also where it is wrong, and a
# confident wrong answer costs a lot of cross-entropy.
results = {"epochs_full": history.epochs, "lowest_val_epoch": lowest + 1,
           "val_loss_lowest": float(val_loss[lowest]), "val_loss_final": float(val_loss[-1]),
           "train_loss_first": history.loss[0], "train_loss_final": history.loss[-1],
           "train_accuracy_full": full.score(X_train, r_train),
           "best_val_accuracy_epoch": best_accuracy + 1,
           "epochs_stopped": history_stopped.epochs, "best_epoch": history_stopped.best_epoch}
for name, net in (("full", full), ("stopped", stopped)):
    results[f"test_accuracy_{name}"] = net.score(X_test, r_test)
    results[f"test_loss_{name}"] = test_loss(net)
    print(f"{name:>8}: test accuracy {results[f'test_accuracy_{name}']:.3f}, "
          f"test loss {results[f'test_loss_{name}']:.3f}")

# %%
# Where each network draws its boundary (dots: the 60 training samples). The network
# trained for 400 epochs bends its boundary around single noisy samples; the early
# stopped one keeps the broad shape of the moons.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for ax, (title, net) in zip(axes, (("400 epochs", full), ("early stopping", stopped)), strict=True):
    nl.plot.decision_regions(net, X_train, r_train, ax=ax, resolution=300)
    ax.set_title(f"{title}: test accuracy {net.score(X_test, r_test):.3f}")
fig.savefig(os.path.join(FIGURES, "13_overfitting_regions.png"))

# %%
# The last line is for the tests: what this script found, as JSON.
print("RESULT", json.dumps(results))
