"""
RReLU: random slopes in training, their mean in evaluation
==========================================================

Randomized leaky ReLU (Xu et al., 2015) is a leaky ReLU whose negative slope a is drawn
afresh for every element in every training pass, a ~ U(l, u), by default
U(1/8, 1/3). The noise acts as a regularizer. At evaluation time the network must be
deterministic, so the slope is fixed at its mean (l + u) / 2: exactly what the random
slope gives *on average*.

We check the three facts on one input vector: training passes differ from each other,
each slope lies in [l, u], and the average of many training passes is the evaluation
output.
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

act = nl.activations.get("rrelu", seed=0)
print(f"{act}: slopes U({act.lower:.4f}, {act.upper:.4f}), mean slope {act.mean_slope:.4f}")
z = np.linspace(-3, 3, 61)

# %%
# Training mode: ``forward(z, training=True)`` draws one slope per element and keeps
# them in ``act.slopes`` for the backward pass. Evaluation mode uses the mean slope.
draws = np.array([act.forward(z, training=True) for _ in range(2000)])
first, second = draws[0], draws[1]
evaluation = act.forward(z, training=False)

negative = z < 0
slopes = draws[:, negative] / z[negative]        # the slope each draw used, per element
average = draws.mean(axis=0)
# The mean of 2000 uniform slopes has standard error (u - l) / sqrt(12 * 2000).
std_error = (act.upper - act.lower) / np.sqrt(12 * len(draws))
results = {
    "passes_differ": bool(np.any(first != second)),
    "positive_side_identical": bool(np.all(draws[:, ~negative] == z[~negative])),
    "slope_min": float(slopes.min()), "slope_max": float(slopes.max()),
    "lower": act.lower, "upper": act.upper, "mean_slope": act.mean_slope,
    "average_slope": float(slopes.mean()),
    "eval_is_mean_slope": bool(np.allclose(evaluation[negative], act.mean_slope * z[negative],
                                           rtol=1e-15, atol=0)),
    "max_gap_average_vs_eval_in_std_errors": float(
        np.max(np.abs(average[negative] - evaluation[negative]) / (std_error * -z[negative]))),
    "eval_deterministic": bool(np.array_equal(evaluation, act.forward(z))),
}
print(f"two training passes differ: {results['passes_differ']}; slopes drawn in "
      f"[{results['slope_min']:.4f}, {results['slope_max']:.4f}], average "
      f"{results['average_slope']:.4f}")
print(f"evaluation output = mean slope x z: {results['eval_is_mean_slope']}; the average of "
      f"{len(draws)} training passes is within "
      f"{results['max_gap_average_vs_eval_in_std_errors']:.2f} standard errors of it")

# %%
# The backward pass of a training step uses the same slopes as its forward pass:
# f'(z) is the drawn slope where z < 0.
act.forward(z, training=True)
derivative = act.derivative(z, training=True)
results["backward_uses_forward_slopes"] = bool(
    np.array_equal(derivative[negative], act.slopes[negative]))
print(f"training-mode derivative uses the forward pass's slopes: "
      f"{results['backward_uses_forward_slopes']}")

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.8))
for row in draws[:30]:
    ax.plot(z, row, color="C0", alpha=0.15, lw=0.8)
ax.plot([], [], color="C0", alpha=0.5, label="30 training passes")
ax.plot(z, average, color="C1", lw=2, label=f"average of {len(draws)} training passes")
ax.plot(z, evaluation, "k--", lw=1.2, label=f"evaluation: slope {act.mean_slope:.4f}")
ax.set(xlabel="z", ylabel="f(z)", title="RReLU", xlim=(-3, 1), ylim=(-1.1, 1))
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "07_rrelu.png"))

# %%
print("RESULT", json.dumps(results))
