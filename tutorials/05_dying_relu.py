"""
Dying ReLU units and the learning rate
======================================

A ReLU unit whose pre-activation z is negative for every training sample outputs 0
everywhere, has f'(z) = 0 everywhere, and so receives no gradient: nothing can bring
it back. It is *dead*. A large learning-rate step that throws a unit's bias far
negative is the usual way to kill it, and the lecture claims that at high rates 40%
or more of a network's units can die.

We measure it: the same network trained with plain SGD at increasing learning rates,
counting the hidden units that are never active (z > 0) on any training sample. Then
the same for Leaky ReLU, PReLU and ELU. Their units can also end up with z < 0
everywhere, but there f'(z) > 0, so the gradient still flows and they can recover:
we count both "never positive" and "no gradient at all".
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

X, t = nl.datasets.two_moons(512, noise=0.15, seed=0)
X = (X - X.mean(axis=0)) / X.std(axis=0)       # standardized inputs
HIDDEN = [64, 64, 64]
RATES = [0.01, 0.1, 0.3, 1.0, 3.0]
SEEDS = [0, 1, 2]
loss = nl.losses.SoftmaxCrossEntropy()


def make_network(activation, seed):
    rng = np.random.default_rng(seed)
    sizes = [2, *HIDDEN]
    hidden = [nl.Layer(n_in, n_out, activation, seed=rng)
              for n_in, n_out in pairwise(sizes)]
    return [*hidden, nl.Layer(sizes[-1], 2, "identity", seed=rng)]


def train(layers, learning_rate, epochs=15, batch_size=32, seed=0):
    opt = nl.optim.SGD(learning_rate)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(t))
        for start in range(0, len(t), batch_size):
            rows = order[start:start + batch_size]
            a = X[rows]
            for layer in layers:
                a = layer.forward(a)
            _, grad = loss.loss_and_gradient(a, t[rows])
            for layer in reversed(layers):
                grad = layer.backward(grad)
            opt.step([pg for layer in layers for pg in layer.params_and_grads()])


def diagnose(layers):
    """Over the whole training set: the fraction of hidden units never positive, the
    fraction whose f'(z) is 0 on every sample (no gradient can reach them), accuracy."""
    a = X
    never_positive = no_gradient = 0
    for layer in layers[:-1]:
        z = a @ layer.W.T + layer.b             # the pre-activation the layer computes
        a = layer.forward(a)
        never_positive += int(np.sum(np.all(z <= 0, axis=0)))
        no_gradient += int(np.sum(np.all(layer.activation.derivative(z) == 0, axis=0)))
    y = layers[-1].forward(a)
    units = sum(HIDDEN)
    accuracy = float(np.mean(y.argmax(axis=1) == t)) if np.all(np.isfinite(y)) else float("nan")
    return never_positive / units, no_gradient / units, accuracy


# %%
# Every activation at every rate, three seeds each (the fraction varies from run to
# run). A rate can be so large that the weights overflow: the layer then refuses its
# input (ValueError: NaN or infinity), and we count the run as diverged.
results = {}
for activation in ("relu", "leaky_relu", "prelu", "elu"):
    at_init = float(np.mean([diagnose(make_network(activation, seed))[0] for seed in SEEDS]))
    rows = []
    for rate in RATES:
        runs, diverged = [], 0
        for seed in SEEDS:
            layers = make_network(activation, seed)
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    train(layers, rate, seed=seed)
                    runs.append(diagnose(layers))
            except ValueError:
                diverged += 1
        row = {"rate": rate, "diverged": diverged, "never_positive": None,
               "no_gradient": None, "accuracy": None}
        if runs:
            never, none, acc = np.mean(runs, axis=0)
            row.update(never_positive=float(never), no_gradient=float(none), accuracy=float(acc))
        rows.append(row)
    results[activation] = {"never_positive_at_init": at_init, "by_rate": rows}
    print(f"{activation}:")
    print(f"  at initialization: never positive {at_init:6.1%}")
    for r in rows:
        line = f"  rate {r['rate']:>5}: "
        if r["accuracy"] is not None:
            line += (f"never positive {r['never_positive']:6.1%}, no gradient "
                     f"{r['no_gradient']:6.1%}, accuracy {r['accuracy']:.2f}")
        if r["diverged"]:
            line += f" ({r['diverged']} of {len(SEEDS)} runs diverged)"
        print(line)
relu = results["relu"]["by_rate"]
peak = max((r for r in relu if r["no_gradient"] is not None), key=lambda r: r["no_gradient"])
print(f"dead ReLU units: {relu[0]['no_gradient']:.1%} at rate {relu[0]['rate']}, "
      f"at most {peak['no_gradient']:.1%} (rate {peak['rate']}); the lecture's 40%: "
      f"{'reached' if peak['no_gradient'] >= 0.4 else 'not reached'} here")

# %%
# Dead units against the learning rate (diverged runs left out). For ReLU "never
# positive" and "no gradient" are the same units. Leaky ReLU and PReLU always pass a
# gradient. ELU's f'(z) = alpha e^z is positive in exact arithmetic, but a unit driven to
# z below about -745.13 rounds e^z to 0 in float64: it saturates into a dead unit too.
fig, ax = plt.subplots(figsize=(6.4, 3.8))
for activation, found in results.items():
    kept = [r for r in found["by_rate"] if r["never_positive"] is not None]
    ax.semilogx([r["rate"] for r in kept], [100 * r["never_positive"] for r in kept],
                marker="o", label=activation)
ax.set(xlabel="learning rate (SGD)", ylabel="% hidden units never positive",
       title=f"{len(HIDDEN)} x {HIDDEN[0]} hidden units, mean of {len(SEEDS)} seeds")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "05_dying_relu.png"))

# %%
# What we found (the test suite checks the first two on every run): about 5-8% of the
# ReLU units are dead already at initialization and stay dead at small rates; at rates
# of 1 and more, the runs that do not diverge lose 40% and more of their units, as the
# lecture says. Leaky ReLU and PReLU never leave a unit without gradient, but they do
# not survive those rates either: with plain SGD their runs diverge instead, so the
# cure for dying units is a smaller learning rate (or an adaptive optimizer), not only
# a leaky activation.
print("RESULT", json.dumps(results))
