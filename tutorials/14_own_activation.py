r"""
Your own activation
===================

An activation of your own is a subclass of :class:`neuronlab.activations.Activation`
with a ``name``, a ``forward(self, z)`` and a ``derivative(self, z)`` in NumPy. In a
network the compiled engine calls them back for that layer (see :doc:`/own_activation`).

We write tanh as a student would, check that it trains exactly like the built-in one,
watch the network's gradient check catch a slip in a derivative, and then try an
activation neuronlab does not have, the bent identity:

.. math:: f(z) = \frac{\sqrt{z^2 + 1} - 1}{2} + z, \qquad f'(z) = \frac{z}{2\sqrt{z^2 + 1}} + 1.
"""
# %%
import json
import os
import tempfile
import time

import matplotlib
import numpy as np
import sympy

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuronlab as nl
from neuronlab.gradcheck import check_gradient

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")


class MyTanh(nl.activations.Activation):
    name = "my_tanh"

    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1.0 - np.tanh(z) ** 2


def check_derivative(act):
    """f' against central differences of f at -4 <= z <= 4: J(z) = sum_i f(z_i) has dJ/dz_i = f'(z_i)."""
    z = np.linspace(-4, 4, 81)
    return check_gradient(lambda z: float(np.sum(act(z))), z, act.derivative(z))


# %%
# A derivative written by hand is the classic place for a bug: compare it with central
# differences before training anything.
check = check_derivative(MyTanh())
results = {"my_tanh_check": [check.passed, check.max_rel_error]}
print("my_tanh, f' against central differences:", check)

# %%
# Two hidden layers of 16 units, plain gradient descent. The default initializer is
# chosen by the activation's name, and neuronlab does not know "my_tanh": every hidden
# layer gets ``init="xavier"`` (what tanh gets anyway), so that only the activation
# differs. Each network is trained three times from the same seeds (the same result
# each time) and the fastest run gives its time per epoch; the diagnostics are off, as
# they would watch tanh's saturation at a cost of their own.
X, r = nl.datasets.two_moons(200, seed=0)
X_new, r_new = nl.datasets.two_moons(2000, seed=1)      # fresh samples, never trained on


def network(activation):
    return nl.Network([nl.Layer(2, 16, activation, init="xavier", seed=0),
                       nl.Layer(16, 16, activation, init="xavier", seed=1),
                       nl.Layer(16, 2, "identity", seed=2)], seed=0)


def train(activation, epochs=200):
    seconds = []
    for _ in range(3):
        net, start = network(activation), time.perf_counter()
        history = net.fit(X, r, epochs, optimizer=nl.optim.SGD(0.1), progress=False,
                          diagnostics=False)
        seconds.append((time.perf_counter() - start) / epochs)
    return net, history, min(seconds)


trained = {"tanh": train("tanh"), "my_tanh": train(MyTanh())}
loss_mine, loss_builtin = (np.array(trained[k][1].loss) for k in ("my_tanh", "tanh"))
results["loss_max_rel_difference"] = float(np.max(np.abs(loss_mine / loss_builtin - 1)))
print(f"my_tanh against the built-in tanh, 200 epochs: the loss histories differ by at most "
      f"{results['loss_max_rel_difference']:.1e} (relative)")

# %%
# A slip everyone makes once: the square forgotten, f'(z) = 1 - tanh z. The network's
# :meth:`~neuronlab.network.Network.gradcheck` compares back-propagation with central
# differences of the loss, parameter by parameter. It fails in both hidden layers,
# whose gradients pass through f'; the output layer's gradient does not, and passes.


class ForgotTheSquare(MyTanh):
    name = "forgot_the_square"

    def derivative(self, z):
        return 1.0 - np.tanh(z)


for act in (MyTanh(), ForgotTheSquare()):
    checks = network(act).gradcheck(X[:16], r[:16])
    results[f"gradcheck_{act.name}"] = {k: c.passed for k, c in checks.items()}
    print(f"gradcheck with {act.name}:", ", ".join(
        f"{k} {'passed' if c else 'FAILED'} ({c.max_rel_error:.0e})" for k, c in checks.items()))

# %%
# The bent identity. Its derivative by SymPy first (``pip install sympy``), then our
# NumPy code of it by central differences.
s = sympy.Symbol("z", real=True)
residual = sympy.simplify(sympy.diff((sympy.sqrt(s**2 + 1) - 1) / 2 + s, s)
                          - (s / (2 * sympy.sqrt(s**2 + 1)) + 1))


class BentIdentity(nl.activations.Activation):
    name = "bent_identity"

    def forward(self, z):
        return (np.sqrt(z * z + 1.0) - 1.0) / 2.0 + z

    def derivative(self, z):
        return z / (2.0 * np.sqrt(z * z + 1.0)) + 1.0


check = check_derivative(BentIdentity())
results.update(sympy_residual=str(residual), bent_identity_check=[check.passed, check.max_rel_error])
print(f"SymPy: d/dz f(z) - f'(z) = {residual}\nbent_identity, f' against central differences:", check)

# %%
# The bent identity against tanh and ReLU. The dotted line is the loss of a straight
# boundary (a network with no hidden layer, 400 epochs): every network first gets about
# that far. Tanh and ReLU then bend the boundary round the moons; the bent identity,
# whose slope only goes from 1/2 to 3/2 over the whole line, stays close to a linear
# map and lingers on that plateau far longer: after 200 epochs its loss is still several
# times theirs, and it gets fewer new samples right. The NumPy activations cost more per
# epoch than the compiled ones: a call back into Python per layer and step, and a few
# temporary arrays where a compiled loop needs none (the times come from one machine
# at one moment: not a benchmark).
trained["relu"], trained["bent_identity"] = train("relu"), train(BentIdentity())
linear = nl.Network([nl.Layer(2, 2, "identity", seed=2)], seed=0)
results["linear_loss"] = linear.fit(X, r, 400, optimizer=nl.optim.SGD(0.1), progress=False).loss[-1]
print(f"a straight boundary: loss {results['linear_loss']:.3f}\n{'':>13} {'final loss':>10} "
      f"{'below 0.2 from epoch':>21} {'accuracy on new samples':>24} {'ms per epoch':>13}  runs as")
for name, (net, history, seconds) in trained.items():
    below = int(np.argmax(np.array(history.loss) < 0.2)) + 1
    runs_as = "compiled" if net.layers[0].activation.compiled_kernel() else "NumPy callback"
    results[name] = {"final_loss": history.loss[-1], "loss_epoch_10": history.loss[9],
                     "below_0.2_from_epoch": below, "accuracy_new": net.score(X_new, r_new),
                     "ms_per_epoch": 1e3 * seconds, "runs_as": runs_as}
    print(f"{name:>13} {history.loss[-1]:10.4f} {below:21d} {results[name]['accuracy_new']:24.4f} "
          f"{1e3 * seconds:13.3f}  {runs_as}")

fig, (ax_f, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
nl.plot.activation(BentIdentity(), -4, 4, ax=ax_f)
for name in ("tanh", "relu", "bent_identity"):
    nl.plot.learning_curves(trained[name][1], ax=ax_loss)
    ax_loss.lines[-1].set_label(name)      # each call labels its curve "training"
ax_loss.axhline(results["linear_loss"], color="0.4", ls=":", label="straight boundary")
ax_loss.legend()
ax_loss.set(ylabel="softmax cross-entropy", title="Training loss, from the same start")
fig.savefig(os.path.join(FIGURES, "14_own_activation.png"))

# %%
# :meth:`~neuronlab.network.Network.save` stores the activation by its name. To load the
# file, neuronlab must know which class that name means: register the class first.
bent = trained["bent_identity"][0]
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "bent.npz")
    bent.save(path)
    try:
        nl.Network.load(path)
    except ValueError as exc:
        results["unregistered_error"] = str(exc)
        print("before register:", str(exc).replace(path, "bent.npz"))
    nl.activations.register(BentIdentity)
    again = nl.Network.load(path)
results["loaded_same_outputs"] = bool(np.array_equal(again.forward(X_new), bent.forward(X_new)))
print(f"after register: loaded {again.layers[0].activation!r}, the same outputs on the new "
      f"samples: {results['loaded_same_outputs']}")

# %%
# The last line is for the tests: what this script found, as JSON.
print("RESULT", json.dumps(results))
