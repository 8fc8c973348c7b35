"""Smooth rectifiers: softplus, and Swish, GELU and Mish, which multiply x by a gate
between 0 and 1 and so dip below zero before they rise.
"""
from __future__ import annotations

from typing import ClassVar

from neuronlab._validation import check_real
from neuronlab.activations.base import INF, Activation

# Extremes found with mpmath (the tests recompute them): min over x of x * sigma(x),
# x * Phi(x), x * sigma(1.702 x) * 1.702 / 1.702, the tanh form of GELU, and Mish.
SWISH_MIN = -0.27846454276107379510  # at beta = 1; scales as 1 / beta
GELU_MIN = -0.16997120747990366169  # at x = -0.75179152469356445746
GELU_TANH_MIN = -0.17004075057125405064  # at x = -0.75246142207101625849
MISH_MIN = -0.30884341301725040663  # at x = -1.1924312145154952121


class Softplus(Activation):
    r"""f(x) = ln(1 + e^x), a smooth ReLU; f'(x) = sigma(x)."""

    name = kernel = "softplus"
    formula = r"f(x) = \ln\bigl(1 + e^{x}\bigr)"
    derivative_formula = r"f'(x) = \frac{1}{1 + e^{-x}} = \sigma(x)"
    expression = "log(1 + exp(x))"
    output_range = (0.0, INF)
    torch_module = ("Softplus", {})


class Swish(Activation):
    r"""Swish (Ramachandran et al., 2017): f(x) = x sigma(beta x); SiLU when beta = 1.

    f'(x) = sigma(beta x) + beta x sigma(beta x)(1 - sigma(beta x)). Not monotonic: it dips
    to about -0.278 / beta near x = -1.28 / beta.
    """

    name = kernel = "swish"
    formula = r"f(x) = x\,\sigma(\beta x) = \frac{x}{1 + e^{-\beta x}}"
    derivative_formula = (r"f'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)"
                          r"\bigl(1 - \sigma(\beta x)\bigr)")
    expression = "x/(1 + exp(-beta*x))"
    monotonic = False

    def __init__(self, beta: float = 1.0):
        self.beta = check_real(beta, "beta", low=0.0, low_open=True)

    @property
    def output_range(self):
        return (SWISH_MIN / self.beta, INF)


class GELU(Activation):
    r"""Gaussian error linear unit (Hendrycks and Gimpel, 2016): f(x) = x Phi(x).

    ``approximate`` picks the formula: ``"none"`` the exact one with erf, ``"tanh"``
    x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) / 2, ``"sigmoid"`` x sigma(1.702 x).
    """

    name = "gelu"
    derivative_formula = r"f'(x) = \Phi(x) + x\,\varphi(x)"
    monotonic = False
    _FORMS: ClassVar[dict[str, tuple[str, str, str, float]]] = {
        "none": ("gelu", r"f(x) = x\,\Phi(x) = \frac{x}{2}\Bigl(1 + \operatorname{erf}"
                 r"\bigl(\tfrac{x}{\sqrt{2}}\bigr)\Bigr)", "x*(1 + erf(x/sqrt(2)))/2", GELU_MIN),
        "tanh": ("gelu_tanh", r"f(x) = \frac{x}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,"
                 r"(x + 0.044715\,x^{3})\bigr)\Bigr)",
                 "x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2", GELU_TANH_MIN),
        "sigmoid": ("swish", r"f(x) = x\,\sigma(1.702\,x)", "x/(1 + exp(-1.702*x))",
                    SWISH_MIN / 1.702),
    }
    torch_module = ("GELU", {"approximate": "approximate"})

    def __init__(self, approximate: str = "none"):
        if approximate not in self._FORMS:
            raise ValueError(f"approximate must be one of {sorted(self._FORMS)}, got {approximate!r}")
        self.approximate = approximate
        self.kernel, self.formula, self.expression, low = self._FORMS[approximate]
        self.output_range = (low, INF)
        if approximate == "tanh":
            self.derivative_formula = (
                r"f'(x) = \tfrac{1}{2}\bigl(1 + \tanh u\bigr) + \tfrac{x}{2}\bigl(1 - \tanh^2 u\bigr)"
                r" \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^{2}), \quad u = \sqrt{2/\pi}\,(x + 0.044715\,x^{3})")
        elif approximate == "sigmoid":
            self.derivative_formula = (r"f'(x) = \sigma(1.702x) + 1.702\,x\,\sigma(1.702x)"
                                       r"\bigl(1 - \sigma(1.702x)\bigr)")

    @property
    def params(self):
        return {"approximate": self.approximate}

    def kernel_params(self):
        # The sigmoid form runs the swish kernel with beta = 1.702 (a literal in `expression`).
        return (1.702,) if self.approximate == "sigmoid" else ()


class Mish(Activation):
    r"""Mish (Misra, 2019): f(x) = x tanh(softplus(x)).

    f'(x) = tanh(sp(x)) + x sigma(x) sech^2(sp(x)), sp = softplus. Dips to about -0.309.
    """

    name = kernel = "mish"
    formula = r"f(x) = x \tanh\bigl(\ln(1 + e^{x})\bigr)"
    derivative_formula = (r"f'(x) = \tanh\bigl(\operatorname{sp}(x)\bigr) + x\,\sigma(x)\,"
                          r"\operatorname{sech}^2\bigl(\operatorname{sp}(x)\bigr)")
    expression = "x*tanh(log(1 + exp(x)))"
    output_range = (MISH_MIN, INF)
    monotonic = False
    torch_module = ("Mish", {})

