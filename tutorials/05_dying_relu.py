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
RATES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
SEEDS = [0, 1, 2]
loss = nl.losses.SoftmaxCrossEntropy()


def make_network(activation, seed):
    rng = np.random.default_rng(seed)
    sizes = [2, *HIDDEN]
    hidden = [nl.Layer(n_in, n_out, activation, seed=rng)
              for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
    return [*hidden, nl.Layer(sizes[-1], 2, "identity", seed=rng)]


def train(layers, learning_rate, epochs=20, batch_size=32, seed=0):
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
# ReLU at every rate, three seeds each (the fraction varies from run to run).
results = {}
for activation in ("relu", "leaky_relu", "prelu", "elu"):
    rows = []
    for rate in RATES:
        runs = []
        for seed in SEEDS:
            layers = make_network(activation, seed)
            with np.errstate(all="ignore"):     # a diverging run overflows; we report it
                train(layers, rate, seed=seed)
                runs.append(diagnose(layers))
        never, none, acc = (np.array(v, dtype=float) for v in zip(*runs, strict=True))
        rows.append({"rate": rate, "never_positive": float(never.mean()),
                     "no_gradient": float(none.mean()), "accuracy": float(np.nanmean(acc))
                     if np.isfinite(acc).any() else None, "diverged": int(np.sum(~np.isfinite(acc)))})
    results[activation] = rows
    print(f"{activation}:")
    for r in rows:
        acc = "diverged" if r["accuracy"] is None else f"accuracy {r['accuracy']:.2f}"
        print(f"  rate {r['rate']:>5}: never positive {r['never_positive']:6.1%}, "
              f"no gradient {r['no_gradient']:6.1%}, {acc}"
              + (f" ({r['diverged']} of {len(SEEDS)} runs diverged)" if r["diverged"] else ""))
relu = results["relu"]
peak = max(relu, key=lambda r: r["no_gradient"])
print(f"dead ReLU units: {relu[0]['no_gradient']:.1%} at rate {relu[0]['rate']}, "
      f"at most {peak['no_gradient']:.1%} (rate {peak['rate']}); the lecture's 40%: "
      f"{'reached' if peak['no_gradient'] >= 0.4 else 'not reached'} here")

# %%
# Dead units against the learning rate. For ReLU "never positive" and "no gradient"
# are the same units; for the others no unit is ever without gradient.
fig, ax = plt.subplots(figsize=(6.4, 3.8))
for activation, rows in results.items():
    ax.semilogx([r["rate"] for r in rows], [100 * r["never_positive"] for r in rows],
                marker="o", label=activation)
ax.set(xlabel="learning rate (SGD)", ylabel="% hidden units never positive",
       title=f"{len(HIDDEN)} x {HIDDEN[0]} hidden units, mean of {len(SEEDS)} seeds")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "05_dying_relu.png"))

# %%
print("RESULT", json.dumps(results))
