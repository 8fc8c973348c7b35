"""The first activations of the course: the identity, the perceptron's step, and the
S-shaped functions (sigmoid, tanh, softsign) with the clipped "hard" versions of two of them.
"""
from __future__ import annotations

from neuronlab._validation import check_real
from neuronlab.activations.base import INF, Activation


class Identity(Activation):
    r"""f(x) = x, f'(x) = 1. A linear neuron: stacking these stays linear."""

    name = kernel = "identity"
    formula = r"f(x) = x"
    derivative_formula = r"f'(x) = 1"
    expression = "x"
    output_range = (-INF, INF)
    zero_centred = True


class BinaryStep(Activation):
    r"""f(x) = 1 if x >= 0 else 0: the perceptron's threshold unit.

    f'(x) = 0 wherever it exists (and we return 0 at x = 0 too), so gradient descent
    cannot train it: Rosenblatt's rule does instead.
    """

    name = kernel = "binary_step"
    formula = r"f(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}"
    derivative_formula = r"f'(x) = 0 \quad (x \ne 0)"
    expression = "Piecewise((1, x >= 0), (0, True))"
    output_range = (0.0, 1.0)
    smooth = False
    saturating = True


class Sigmoid(Activation):
    r"""The logistic function sigma(x) = 1 / (1 + e^{-x}); sigma'(x) = sigma(x)(1 - sigma(x))."""

    name = kernel = "sigmoid"
    formula = r"\sigma(x) = \frac{1}{1 + e^{-x}}"
    derivative_formula = r"\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)"
    expression = "1/(1 + exp(-x))"
    output_range = (0.0, 1.0)
    saturating = True
    torch_module = ("Sigmoid", {})


class HardSigmoid(Activation):
    r"""f(x) = clip(slope * x + 1/2, 0, 1): sigmoid's first-order Taylor expansion, clipped.

    The course's hard-logistic uses slope = 1/4 (sigma'(0)); PyTorch uses 1/6 and older
    Keras 0.2. f'(x) = slope for |x| < 1 / (2 slope), else 0.
    """

    name = kernel = "hard_sigmoid"
    formula = r"f(x) = \max\bigl(0, \min(1, s x + \tfrac{1}{2})\bigr)"
    derivative_formula = r"f'(x) = \begin{cases} s & |x| < \frac{1}{2s} \\ 0 & \text{otherwise} \end{cases}"
    expression = "Max(0, Min(1, slope*x + Rational(1, 2)))"
    output_range = (0.0, 1.0)
    smooth = False
    saturating = True

    def __init__(self, slope: float = 0.25):
        self.slope = check_real(slope, "slope", low=0.0, low_open=True)



class Tanh(Activation):
    r"""tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}) = 2 sigma(2x) - 1; tanh' = 1 - tanh^2."""

    name = kernel = "tanh"
    formula = r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}"
    derivative_formula = r"\tanh'(x) = 1 - \tanh^2(x)"
    expression = "tanh(x)"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    torch_module = ("Tanh", {})


class HardTanh(Activation):
    r"""f(x) = clip(x, -1, 1); f'(x) = 1 for |x| < 1, else 0."""

    name = kernel = "hard_tanh"
    formula = r"f(x) = \max\bigl(-1, \min(1, x)\bigr)"
    derivative_formula = r"f'(x) = \begin{cases} 1 & |x| < 1 \\ 0 & \text{otherwise} \end{cases}"
    expression = "Max(-1, Min(1, x))"
    output_range = (-1.0, 1.0)
    zero_centred = True
    smooth = False
    saturating = True
    torch_module = ("Hardtanh", {})


class Softsign(Activation):
    r"""f(x) = x / (1 + |x|); f'(x) = 1 / (1 + |x|)^2: tanh's shape with polynomial tails."""

    name = kernel = "softsign"
    formula = r"f(x) = \frac{x}{1 + |x|}"
    derivative_formula = r"f'(x) = \frac{1}{(1 + |x|)^2}"
    expression = "x/(1 + Abs(x))"
    output_range = (-1.0, 1.0)
    zero_centred = True
    saturating = True
    torch_module = ("Softsign", {})

