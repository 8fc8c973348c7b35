r"""
Checking your own derivative
============================

You have written an activation and its derivative by hand. Is the derivative right?
Compare it with the slope the function itself has, measured by central differences:

.. math:: f'(x) \approx \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2 \varepsilon},

which is what :func:`neuronlab.gradcheck.check_gradient` does for any scalar loss J.

Our example is Swish, f(x) = x sigma(x). The product rule gives
f'(x) = sigma(x) + x sigma(x)(1 - sigma(x)) = f(x) + sigma(x)(1 - f(x)). A formula
from one set of course notes has an extra factor x in the second term,
f(x) + x sigma(x)(1 - f(x)): it looks plausible, and it is wrong. The check says so
at once, and by how much.
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
from neuronlab.gradcheck import check_gradient, numerical_gradient

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def swish(x):
    return x * sigmoid(x)


def swish_derivative(x):                 # the product rule, regrouped
    f, s = swish(x), sigmoid(x)
    return f + s * (1.0 - f)


def swish_derivative_wrong(x):           # the notes' version: an extra x
    f, s = swish(x), sigmoid(x)
    return f + x * s * (1.0 - f)


# %%
# The check needs a scalar loss. With J(x) = sum_i f(x_i), dJ/dx_i = f'(x_i): the
# gradient of J is our derivative, evaluated at every point.
x = np.linspace(-5, 5, 41)


def J(x):
    return np.sum(swish(x))


right = check_gradient(J, x, swish_derivative(x))
wrong = check_gradient(J, x, swish_derivative_wrong(x))
print("hand-written derivative:", right)
print("the notes' derivative:  ", wrong)
worst = int(np.argmax(np.abs(wrong.analytic - wrong.numeric)))
print(f"  worst at x = {x[worst]:+.2f}: the formula says {wrong.analytic[worst]:.4f}, "
      f"the slope of f is {wrong.numeric[worst]:.4f}")

# %%
# Our hand-written function against neuronlab's compiled Swish, to the last digits.
kernel = nl.activations.get("swish")
gap_f = float(np.max(np.abs(swish(x) - kernel(x))))
gap_df = float(np.max(np.abs(swish_derivative(x) - kernel.derivative(x))))
print(f"against the compiled kernel: max |f - f_kernel| = {gap_f:.1e}, "
      f"max |f' - f'_kernel| = {gap_df:.1e}")

# %%
# How small should eps be? The central difference has a truncation error of order
# eps^2 f''' and a rounding error of order 1e-16 / eps: their sum is smallest near
# eps = 1e-5. Too large and the difference is a poor slope; too small and it is noise.
epsilons = np.logspace(-12, -1, 45)
errors = [float(np.max(np.abs(numerical_gradient(J, x, eps) - swish_derivative(x))))
          for eps in epsilons]
best = float(epsilons[int(np.argmin(errors))])
print(f"finite-difference error is smallest, {min(errors):.1e}, at eps = {best:.0e}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
axes[0].plot(x, wrong.numeric, "k", lw=2.5, alpha=0.3, label="slope of f (numeric)")
axes[0].plot(x, right.analytic, "C0", label="f + σ(1 − f)  (right)")
axes[0].plot(x, wrong.analytic, "C3--", label="f + xσ(1 − f)  (notes)")
axes[0].set(xlabel="x", title="two derivatives of swish")
axes[0].legend(fontsize=8)
axes[1].loglog(epsilons, errors, marker=".")
axes[1].set(xlabel="eps", ylabel="max error of the central difference",
            title="choosing eps")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "11_gradient_checking.png"))

# %%
print("RESULT", json.dumps({
    "right_passed": right.passed, "right_max_rel_error": right.max_rel_error,
    "wrong_passed": wrong.passed, "wrong_max_abs_error": wrong.max_abs_error,
    "wrong_max_rel_error": wrong.max_rel_error, "kernel_gap_f": gap_f,
    "kernel_gap_df": gap_df, "best_eps": best}))
