"""Train the same 64-128-10 digit classifier with neuronlab, NumPy, scikit-learn and PyTorch.

Digits (8x8, pixels scaled to [0, 1]), a stratified 80/20 split (seed 0), ReLU hidden layer,
softmax cross-entropy, SGD with learning rate 0.05 and momentum 0.9 (not Nesterov), batches
of 32, 30 epochs, no weight decay. Each contender trains with seeds 0, 1, 2 (weights and
shuffling); we report the training time (fit only, data already in memory) and the test
accuracy. Everything runs on one thread (neuronlab's kernels, BLAS through threadpoolctl
when installed, PyTorch): the batches are too small for threads to pay off.

Timing on a shared machine is noisy, so each (contender, seed) is trained REPEAT times,
the contenders interleaved, and the fastest run counts; both the CPU time of the process
(time.process_time, less sensitive to other programs) and the wall-clock time are kept.
The test accuracy is the same in every repeat (the runs are deterministic).

    .venv/bin/python benchmarks/bench_network.py [--quick]

writes bench-results/network.json (in the repository root). The peers:

- ``nl-nodiag``: neuronlab with ``diagnostics=False``; ``nl-float32``: in single precision
  (for information: every other row computes in double precision);
- ``numpy``: the same network written out by hand, a handful of matmuls per step, no
  input checks and no history (the floor for a NumPy implementation);
- ``sklearn``: ``MLPClassifier`` with the same settings (it also records the loss per epoch);
- ``torch``: ``nn.Sequential`` with ``torch.optim.SGD``, float64 like the others (when installed).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
import warnings
from pathlib import Path

import numpy as np

import neuronlab as nl

EPOCHS, BATCH, LEARNING_RATE, MOMENTUM = 30, 32, 0.05, 0.9
SEEDS = (0, 1, 2)
REPEAT = 3
RESULTS = Path(__file__).resolve().parents[1] / "bench-results" / "network.json"


class Timer:
    """Wall-clock and CPU seconds of the block it wraps."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def digits():
    X, y = nl.datasets.load_digits()
    return nl.datasets.train_test_split(X, y, test_size=0.2, seed=0)


def neuronlab_layers(seed: int):
    return [nl.Layer(64, 128, "relu", seed=seed), nl.Layer(128, 10, "identity", seed=seed + 1)]


def train_neuronlab(X, y, X_test, y_test, seed):
    net = nl.Network(neuronlab_layers(seed), loss="softmax_cross_entropy", seed=seed)
    with Timer() as timer:
        net.fit(X, y, epochs=EPOCHS, batch_size=BATCH,
                optimizer=nl.optim.SGD(LEARNING_RATE, momentum=MOMENTUM), progress=False)
    return timer, net.score(X_test, y_test)


def train_neuronlab_lean(X, y, X_test, y_test, seed):
    """neuronlab without the per-step diagnostics (dead units, gradient norms)."""
    net = nl.Network(neuronlab_layers(seed), loss="softmax_cross_entropy", seed=seed)
    with Timer() as timer:
        net.fit(X, y, epochs=EPOCHS, batch_size=BATCH, diagnostics=False,
                optimizer=nl.optim.SGD(LEARNING_RATE, momentum=MOMENTUM), progress=False)
    return timer, net.score(X_test, y_test)


def train_neuronlab_float32(X, y, X_test, y_test, seed):
    """neuronlab in single precision (the others run in double): half the memory traffic."""
    layers = [nl.Layer(64, 128, "relu", seed=seed, dtype=np.float32),
              nl.Layer(128, 10, "identity", seed=seed + 1, dtype=np.float32)]
    net = nl.Network(layers, loss="softmax_cross_entropy", seed=seed)
    X32 = X.astype(np.float32)
    with Timer() as timer:
        net.fit(X32, y, epochs=EPOCHS, batch_size=BATCH,
                optimizer=nl.optim.SGD(LEARNING_RATE, momentum=MOMENTUM), progress=False)
    return timer, net.score(X_test.astype(np.float32), y_test)


def train_numpy(X, y, X_test, y_test, seed):
    """The same network (same initial weights as neuronlab's), written out in NumPy."""
    W1, W2 = (layer.W.copy() for layer in neuronlab_layers(seed))
    b1, b2 = np.zeros(128), np.zeros(10)
    params = [W1, b1, W2, b2]
    velocity = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed)
    m = X.shape[0]
    with Timer() as timer:
        for _ in range(EPOCHS):
            order = rng.permutation(m)
            for i in range(0, m, BATCH):
                idx = order[i:i + BATCH]
                x, labels = X[idx], y[idx]
                z1 = x @ W1.T + b1
                a1 = np.maximum(z1, 0.0)
                z2 = a1 @ W2.T + b2
                e = np.exp(z2 - z2.max(axis=1, keepdims=True))
                delta2 = e / e.sum(axis=1, keepdims=True)
                delta2[np.arange(len(idx)), labels] -= 1.0
                delta2 /= len(idx)
                delta1 = (delta2 @ W2) * (z1 > 0)
                grads = [delta1.T @ x, delta1.sum(axis=0), delta2.T @ a1, delta2.sum(axis=0)]
                for p, v, g in zip(params, velocity, grads, strict=True):
                    v *= MOMENTUM
                    v += g
                    p -= LEARNING_RATE * v
    z = np.maximum(X_test @ W1.T + b1, 0.0) @ W2.T + b2
    return timer, float(np.mean(np.argmax(z, axis=1) == y_test))


def train_sklearn(X, y, X_test, y_test, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="sgd",
                        learning_rate_init=LEARNING_RATE, momentum=MOMENTUM,
                        nesterovs_momentum=False, alpha=0.0, batch_size=BATCH, max_iter=EPOCHS,
                        early_stopping=False, tol=1e-12, n_iter_no_change=EPOCHS + 1,
                        random_state=seed)
    with warnings.catch_warnings(), Timer() as timer:
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return timer, clf.score(X_test, y_test)


def train_torch(X, y, X_test, y_test, seed):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10)).double()
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(seed)
    m = X.shape[0]
    with Timer() as timer:
        for _ in range(EPOCHS):
            order = torch.randperm(m, generator=generator)
            for i in range(0, m, BATCH):
                idx = order[i:i + BATCH]
                opt.zero_grad()
                loss = loss_fn(model(X_t[idx]), y_t[idx])
                loss.backward()
                opt.step()
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return timer, float(np.mean(predicted == y_test))


def contenders():
    yield "neuronlab", train_neuronlab
    yield "nl-nodiag", train_neuronlab_lean
    yield "nl-float32", train_neuronlab_float32
    yield "numpy", train_numpy
    try:
        import sklearn.neural_network  # noqa: F401
        yield "sklearn", train_sklearn
    except ImportError:
        print("scikit-learn is not installed: no MLPClassifier")
    try:
        import torch
        torch.set_num_threads(1)
        yield "torch", train_torch
    except ImportError:
        print("PyTorch is not installed: no torch loop")


def one_thread():
    """BLAS limited to one thread while it lasts (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def main(quick: bool = False) -> dict:
    nl.set_num_threads(1)
    X, X_test, y, y_test = digits()
    seeds = SEEDS[:1] if quick else SEEDS
    repeat = 1 if quick else REPEAT
    trainers = dict(contenders())
    results = {name: {"cpu_seconds": [], "wall_seconds": [], "accuracy": []} for name in trainers}
    with one_thread():
        for train in trainers.values():
            train(X[:64], y[:64], X_test, y_test, 0)  # warm up: imports, first allocations
        for seed in seeds:
            best = {name: (np.inf, np.inf, 0.0) for name in trainers}
            for _ in range(repeat):
                for name, train in trainers.items():   # interleaved: load hits all alike
                    timer, accuracy = train(X, y, X_test, y_test, seed)
                    cpu, wall, _ = best[name]
                    best[name] = (min(cpu, timer.cpu), min(wall, timer.wall), accuracy)
            for name, (cpu, wall, accuracy) in best.items():
                results[name]["cpu_seconds"].append(cpu)
                results[name]["wall_seconds"].append(wall)
                results[name]["accuracy"].append(accuracy)
    print(f"{'':10} {'CPU s per seed':>22} {'wall s per seed':>22} {'test accuracy per seed':>24}")
    for name, r in results.items():
        cpu = " ".join(f"{s:.3f}" for s in r["cpu_seconds"])
        wall = " ".join(f"{s:.3f}" for s in r["wall_seconds"])
        accs = " ".join(f"{a:.2%}" for a in r["accuracy"])
        print(f"{name:10} {cpu:>22} {wall:>22} {accs:>24}")
    # The targets of issue 4: no slower than the NumPy loop, at most 1/4 of scikit-learn's time.
    ratios = {}
    for peer in ("numpy", "sklearn", "torch"):
        if peer in results:
            ratios[peer] = {name: [a / b for a, b in zip(r["cpu_seconds"], results[peer]["cpu_seconds"],
                                                        strict=True)]
                            for name, r in results.items() if name.startswith("n")}
            for name, values in ratios[peer].items():
                if name != peer:
                    print(f"{name:10} / {peer:8} " + " ".join(f"{v:.2f}x" for v in values))
    report = {"ratios_cpu": ratios, "task": "digits 64-128-10 relu, softmax-CE, SGD lr 0.05 momentum 0.9, batch 32, "
                      f"{EPOCHS} epochs, 80/20 stratified split (seed 0)",
              "seeds": list(seeds), "repeat": repeat, "threads": 1, "results": results}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed instead of three")
    main(parser.parse_args().quick)
