"""
Handwritten digits with a 64-128-10 network
===========================================

The 1797 digits of scikit-learn are 8x8 images with 17 grey levels, scaled here to
[0, 1]. Each image becomes a vector x of 64 pixels, read row after row. The network

    x (64) -> 128 ReLU units -> 10 outputs z (one logit per digit)

is trained with softmax cross-entropy: y = softmax(z) is the predicted probability of
each digit, and the predicted digit is argmax z. A network of 9,610 parameters does
not see strokes or loops, only pixels, and still gets about 97% of unseen digits right.

We keep 20% of the images (the same share of every digit) as a test set, never used
for training, and watch the loss and the accuracy on it after every epoch.
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
# The data: a stratified split, so that every digit has the same share of the test set
# as of the whole set, and no digit is left short in the test by an unlucky draw.
X, y = nl.datasets.load_digits()
X_train, X_test, y_train, y_test = nl.datasets.train_test_split(X, y, test_size=0.2, seed=0)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images of "
      f"{X.shape[1]} pixels; digits per test set: {np.bincount(y_test).tolist()}")

# %%
# The network and its training: SGD with momentum 0.9 on mini-batches of 32 images.
# ReLU hidden units with He initialisation (the Layer default for ReLU); the output
# layer is linear, because the loss applies the softmax itself.
net = nl.Network([nl.Layer(64, 128, "relu", seed=0), nl.Layer(128, 10, "identity", seed=1)],
                 seed=0)
print(net.summary())
history = net.fit(X_train, y_train, epochs=30, batch_size=32,
                  optimizer=nl.optim.SGD(0.05, momentum=0.9),
                  validation_data=(X_test, y_test), progress=False)

# %%
# Learning curves, drawn by nl.plot.learning_curves. The training numbers are averaged
# over each epoch while the weights still change; the test numbers (the curves labelled
# validation: fit measured its validation data, the test images) come after the epoch. The training loss keeps
# falling towards zero, the test loss levels off: from there on the network mostly
# memorises the training images, and more epochs would not help the test accuracy.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
nl.plot.learning_curves(history, "loss", ax=ax_loss)
ax_loss.set_ylabel("softmax cross-entropy")
nl.plot.learning_curves(history, "accuracy", ax=ax_acc)
fig.savefig(os.path.join(FIGURES, "10_digits_learning_curves.png"))

# %%
# The test accuracy, overall and per digit: the share of the test images of digit k
# that the network calls k.
y_pred = net.predict(X_test)
test_accuracy = net.score(X_test, y_test)
confusion = nl.metrics.confusion_matrix(y_test, y_pred)   # row: true digit, column: predicted
per_class = confusion.diagonal() / confusion.sum(axis=1)
print(f"test accuracy {test_accuracy:.4f} "
      f"({int(np.sum(y_pred != y_test))} of {y_test.size} misclassified)")
for digit, accuracy in enumerate(per_class):
    print(f"  digit {digit}: {accuracy:.3f} of {confusion[digit].sum()}")

# %%
# The confusion matrix: entry (k, j) counts the test images of digit k predicted as j.
# Everything off the diagonal is a mistake; the largest off-diagonal entries show
# which digits the network confuses.
fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
nl.plot.confusion_matrix(y_test, y_pred, ax=ax)
ax.set(xlabel="predicted digit", ylabel="true digit",
       title=f"Confusion matrix, test accuracy {test_accuracy:.3f}")
fig.savefig(os.path.join(FIGURES, "10_digits_confusion.png"))

# %%
# The misclassified test digits, with the true label, the prediction and the
# probability the network gave it. Several are hard for a human too at 8x8 pixels.
wrong = np.flatnonzero(y_pred != y_test)
proba = net.predict_proba(X_test[wrong]) if wrong.size else np.empty((0, 10))
n_cols = 8
n_rows = max(1, -(-wrong.size // n_cols))
fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.3 * n_cols, 1.6 * n_rows),
                         squeeze=False, layout="constrained")
for ax in axes.flat:
    ax.set_axis_off()
for ax, i, p in zip(axes.flat, wrong, proba, strict=False):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"true {y_test[i]}\npred {y_pred[i]} ({p[y_pred[i]]:.2f})", fontsize=8)
fig.suptitle(f"The {wrong.size} misclassified test digits")
fig.savefig(os.path.join(FIGURES, "10_digits_misclassified.png"))

# %%
# The last line is for the tests: what this script found, as JSON.
results = {"test_accuracy": test_accuracy, "n_misclassified": int(wrong.size),
           "n_test": int(y_test.size), "per_class_accuracy": per_class.tolist(),
           "final_train_loss": history.loss[-1], "final_val_loss": history.val_loss[-1],
           "epochs": history.epochs}
print("RESULT", json.dumps(results))
