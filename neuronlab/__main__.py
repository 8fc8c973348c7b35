"""``python -m neuronlab demo``: train a digit classifier and show what it learned;
``python -m neuronlab info``: what this installation runs on (:func:`neuronlab.show_config`).

A 64-128-10 network (ReLU, softmax cross-entropy) learns the 8x8 handwritten digits with
SGD (learning rate 0.05, momentum 0.9, batches of 32) for 30 epochs on a stratified 80%
of the data, then reports the accuracy on the other 20% per class, and saves the loss
curve and the confusion matrix as PNG images.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def _need(module: str, package: str, purpose: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        sys.exit(f"neuronlab demo: {purpose} needs {package}; install it with "
                 f"`pip install {package}` or `pip install 'neuronlab[demo]'`")


def demo(output_dir: str = "neuronlab-demo", epochs: int = 30, seed: int = 0,
         progress: bool = True) -> dict:
    """Train on the digits, print the results, write loss_curve.png and confusion_matrix.png.

    Returns the test accuracy, the confusion matrix and the paths of the images.
    """
    _need("sklearn", "scikit-learn", "the digits data set")
    matplotlib = _need("matplotlib", "matplotlib", "drawing the figures")
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    import neuronlab as nl

    X, y = nl.datasets.load_digits()
    X_train, X_test, y_train, y_test = nl.datasets.train_test_split(X, y, test_size=0.2, seed=seed)
    net = nl.Network([nl.Layer(64, 128, "relu", seed=seed),
                      nl.Layer(128, 10, "identity", seed=seed + 1)],
                     loss="softmax_cross_entropy", seed=seed)
    print(net.summary())
    history = net.fit(X_train, y_train, epochs=epochs, batch_size=32,
                      optimizer=nl.optim.SGD(0.05, momentum=0.9),
                      validation_data=(X_test, y_test), progress=progress)
    predicted = net.predict(X_test)
    confusion = nl.metrics.confusion_matrix(y_test, predicted, n_classes=10)
    accuracy = float(np.trace(confusion) / len(y_test))

    print(f"\nTest accuracy: {accuracy:.2%} ({int(np.trace(confusion))} of {len(y_test)})")
    print("digit  samples  correct  accuracy")
    for digit in range(10):
        n = int(confusion[digit].sum())
        print(f"{digit:>5}  {n:>7}  {confusion[digit, digit]:>7}  "
              f"{confusion[digit, digit] / max(n, 1):>8.1%}")

    os.makedirs(output_dir, exist_ok=True)
    loss_path = os.path.join(output_dir, "loss_curve.png")
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    nl.plot.learning_curves(history, ax=ax)
    ax.set(ylabel="softmax cross-entropy", title="64-128-10 ReLU network on the digits")
    fig.savefig(loss_path, dpi=100)
    plt.close(fig)

    matrix_path = os.path.join(output_dir, "confusion_matrix.png")
    fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    nl.plot.confusion_matrix(y_test, predicted, 10, ax=ax)
    ax.set(xlabel="predicted digit", ylabel="true digit",
           title=f"Confusion matrix (test accuracy {accuracy:.1%})")
    fig.savefig(matrix_path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {loss_path} and {matrix_path}")
    return {"accuracy": accuracy, "confusion": confusion, "history": history,
            "figures": [loss_path, matrix_path]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neuronlab",
                                     description="neuronlab command line")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="train a 64-128-10 network on the digits")
    run.add_argument("--output-dir", "-o", default="neuronlab-demo",
                     help="where the PNG figures go (default: ./neuronlab-demo/)")
    run.add_argument("--epochs", type=int, default=30, help="training epochs (default: 30)")
    run.add_argument("--seed", type=int, default=0, help="split, weights and shuffling (default: 0)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    commands.add_parser("info", help="the version, CPU level, build, threads and BLAS (nl.show_config())")
    args = parser.parse_args(argv)
    if args.command == "info":
        import neuronlab as nl

        nl.show_config()
        return 0
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    demo(args.output_dir, args.epochs, args.seed, progress=not args.no_progress)
    return 0


if __name__ == "__main__":
    sys.exit(main())
