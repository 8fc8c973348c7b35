"""What the activation pages are made of, read from the code: the kernel blocks of
activation.pxd, the registry's variants, and the figure of f and f'.

Plain Python with no Sphinx import, so that tests/test_docs.py can check the docs
against the code without the docs extra installed. The Sphinx side is
neuronlab_docs.py.
"""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import neuronlab as nl

ROOT = Path(__file__).resolve().parents[2]
PXD = ROOT / "neuronlab" / "_kernels" / "activation.pxd"

# ----------------------------------------------------------------------------------------
# Reading the kernels and the registry (also used by tests/test_docs.py)
# ----------------------------------------------------------------------------------------
def kernel_blocks(path: Path = PXD) -> dict[str, str]:
    """The text between ``# <name>`` and ``# </name>`` in activation.pxd, by name."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"^# <(\w+)>\n(.*?)^# </\1>$", re.MULTILINE | re.DOTALL)
    return {m.group(1): m.group(2) for m in pattern.finditer(text)}


def kernel_markers(kernel: str, blocks: dict[str, str] | None = None) -> list[str]:
    """`kernel` and, after it, every block whose functions it calls (depth first).

    A call is recognised by name: ``sigmoid_f(`` inside the gelu_tanh block means the
    page must also show the sigmoid block to be complete.
    """
    blocks = kernel_blocks() if blocks is None else blocks
    if kernel not in blocks:
        raise KeyError(f"activation.pxd has no block '# <{kernel}>'")
    order = [kernel]
    for name in order:  # grows while we walk it
        calls = re.findall(r"\b([a-z0-9_]+?)_(?:f|df|d2f|df_from_y)\(", blocks[name])
        for callee in calls:
            if callee in blocks and callee not in order:
                order.append(callee)
    return order


def parse_params(text: str | None) -> dict:
    """``"approximate=tanh, x=1.5"`` -> ``{"approximate": "tanh", "x": 1.5}``."""
    params = {}
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[key.strip()] = value.strip()
    return params


def call_code(name: str, params: dict) -> str:
    """The Python that makes this activation, as a reader would type it."""
    args = "".join(f", {k}={v!r}" for k, v in params.items())
    return f"nl.activations.get({name!r}{args})"


def elementwise_names() -> list[str]:
    """The registered activations that have a page of their own in activations/."""
    return [n for n in nl.activations.available() if nl.activations.get(n).elementwise]


def vector_names() -> list[str]:
    """Softmax, log-softmax, maxout: each entry depends on several inputs, so they are
    explained in the softmax chapter (a section labelled ``activation-NAME``)."""
    return [n for n in nl.activations.available() if not nl.activations.get(n).elementwise]


def variants() -> list[tuple[str, dict]]:
    """Every elementwise activation with default parameters, plus GELU's two approximations."""
    out = []
    for name in elementwise_names():
        out.append((name, {}))
        if name == "gelu":
            out += [(name, {"approximate": "tanh"}), (name, {"approximate": "sigmoid"})]
    return out


def _number(v: float) -> str:
    if math.isinf(v):
        return r"+\infty" if v > 0 else r"-\infty"
    return f"{v:.4g}"


def range_text(act) -> str:
    """The infimum and supremum of f as an inline :math: role."""
    low, high = act.output_range
    return rf":math:`{_number(low)} \ldots {_number(high)}`"


def params_text(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def label(name: str, params: dict) -> str:
    """``gelu (approximate=tanh)``: the name a reader sees for one variant."""
    return f"{name} ({params_text(params)})" if params else name


# ----------------------------------------------------------------------------------------
# The figure (called by the plot directive's code at build time)
# ----------------------------------------------------------------------------------------
def draw(name: str, params: dict | None = None, lo: float = -5.0, hi: float = 5.0):
    """Plot f and f' of one activation over [lo, hi], both computed by the kernels."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(layout="constrained")
    nl.plot.activation(name, lo, hi, ax=ax, label="", **(params or {}))   # the title names it
    ax.set_title(label(name, params or {}))
    return fig
