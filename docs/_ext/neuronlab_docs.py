"""Sphinx extension for the activation chapter of the neuronlab textbook.

Everything a page can read off the registry is generated here, from one template, so
that the 17 activation pages cannot drift apart or away from the code:

``.. activation-table::``
    The overview table: range, zero-centred, monotonic, smooth, saturating and
    whether f' can be computed from the output, for every registered activation.
``.. activation-facts:: NAME``
    The definition (``formula`` and ``derivative_formula`` of the class) and a figure
    of f and f' drawn by the compiled kernels while the docs are built.
``.. activation-kernel:: NAME``
    The kernel block of ``activation.pxd`` between ``# <kernel>`` and ``# </kernel>``
    (plus the blocks it calls), and a doctest comparing ``derivative`` and
    ``second_derivative`` with central finite differences.

Both NAME directives take ``:params: key=value, ...`` to pick a variant, e.g. GELU's
``approximate=tanh``. The hand-written part of a page (derivation, properties, example)
stays in its ``.rst`` file.
"""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import neuronlab as nl

ROOT = Path(__file__).resolve().parents[2]
PXD = ROOT / "neuronlab" / "_kernels" / "activation.pxd"
PXD_FROM_SRCDIR = "/../neuronlab/_kernels/activation.pxd"  # literalinclude: "/" is docs/

# The columns of the overview table: (title, attribute of the Activation class).
PROPERTIES = [
    ("zero-centred", "zero_centred"),
    ("monotonic", "monotonic"),
    ("smooth", "smooth"),
    ("saturating", "saturating"),
    ("f' from output", "has_output_derivative"),
]


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


def variants() -> list[tuple[str, dict]]:
    """Every registered name with default parameters, plus GELU's two approximations."""
    out = []
    for name in nl.activations.available():
        out.append((name, {}))
        if name == "gelu":
            out += [(name, {"approximate": "tanh"}), (name, {"approximate": "sigmoid"})]
    return out


def _number(v: float) -> str:
    if math.isinf(v):
        return r"+\infty" if v > 0 else r"-\infty"
    return f"{v:.4g}"


def _range(act) -> str:
    low, high = act.output_range
    return rf":math:`{_number(low)} \ldots {_number(high)}`"


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _label(name: str, params: dict) -> str:
    return f"{name} ({_params_text(params)})" if params else name


# ----------------------------------------------------------------------------------------
# The figure (called by the plot directive's code at build time)
# ----------------------------------------------------------------------------------------
def draw(name: str, params: dict | None = None, lo: float = -5.0, hi: float = 5.0):
    """Plot f and f' of one activation over [lo, hi], both computed by the kernels."""
    import matplotlib.pyplot as plt
    import numpy as np

    act = nl.activations.get(name, **(params or {}))
    z = np.linspace(lo, hi, 2001)
    a, d = act(z), act.derivative(z)
    # A jump (binary step, the derivative of a kinked function) is drawn as a gap,
    # not as a vertical line the function never takes.
    for y in (a, d):
        y[1:][np.abs(np.diff(y)) > 0.2] = np.nan
    fig, ax = plt.subplots()
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.plot(z, a, lw=2, label=r"$f(z)$")
    ax.plot(z, d, lw=2, ls="--", label=r"$f'(z)$")
    ax.set_xlabel(r"$z$")
    ax.set_xlim(lo, hi)
    ax.set_title(_label(name, params or {}))
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------
# The directives
# ----------------------------------------------------------------------------------------
class _RstDirective(SphinxDirective):
    """A directive that writes reStructuredText and parses it in place."""

    def parse_rst(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.section()  # a section accepts the titles the text may hold
        container.document = self.state.document
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(lines, source=source), container)
        return container.children


class ActivationTable(_RstDirective):
    """The overview table of every registered activation, from the class metadata."""

    has_content = False

    def run(self):
        lines = [
            ".. list-table:: Read from the registry at build time",
            "   :header-rows: 1",
            "   :widths: auto",
            "   :class: activation-table",
            "",
            "   * - activation",
            "     - range",
            *[f"     - {title}" for title, _ in PROPERTIES],
        ]
        for name, params in variants():
            act = nl.activations.get(name, **params)
            lines.append(f"   * - :doc:`{_label(name, params)} </activations/{name}>`")
            lines.append(f"     - {_range(act)}")
            lines += [f"     - {'yes' if getattr(act, attr) else 'no'}" for _, attr in PROPERTIES]
        return self.parse_rst(lines)


class _ActivationDirective(_RstDirective):
    required_arguments = 1
    option_spec: ClassVar[dict] = {"params": directives.unchanged,
                                   "heading": directives.unchanged}

    def activation(self):
        name = self.arguments[0]
        if name not in nl.activations.available():
            raise self.error(f"{name!r} is not a registered activation")
        params = parse_params(self.options.get("params"))
        try:
            return name, params, nl.activations.get(name, **params)
        except (TypeError, ValueError) as exc:
            raise self.error(f"{name}: bad :params: ({exc})") from None


class ActivationFacts(_ActivationDirective):
    """Definition, properties and a figure of f and f' for one activation."""

    def run(self):
        name, params, act = self.activation()
        heading = self.options.get("heading", "Definition")
        props = ", ".join(
            f"{title}: {'yes' if getattr(act, attr) else 'no'}" for title, attr in PROPERTIES
        )
        lines = [heading, "-" * len(heading), "",
                 f"``{call_code(name, params)}`` computes", "",
                 ".. math::", "", f"   {act.formula}", "",
                 "and its derivative is", "",
                 ".. math::", "", f"   {act.derivative_formula}", ""]
        if act.params:
            shown = ", ".join(f"``{k}={v!r}``" for k, v in act.params.items())
            lines += [f"Parameters of this form: {shown}.", ""]
        lines += [f"Range {_range(act)}; {props}.", "",
                  ".. plot::",
                  f"   :alt: {_label(name, params)} and its derivative, drawn by neuronlab",
                  "",
                  "   import neuronlab_docs",
                  f"   neuronlab_docs.draw({name!r}, {params!r})",
                  ""]
        return self.parse_rst(lines)


class ActivationKernel(_ActivationDirective):
    """The kernel source included from activation.pxd and a finite-difference doctest."""

    def run(self):
        name, params, act = self.activation()
        heading = self.options.get("heading", "The compiled kernel")
        markers = kernel_markers(act.kernel)
        lines = [heading, "-" * len(heading), "",
                 f"The scalar functions behind ``{call_code(name, params)}``, included "
                 "from :file:`neuronlab/_kernels/activation.pxd` when the docs are built "
                 "(so they are always the code that runs). The array loops around them "
                 "are generated from :file:`_elementwise.pyx.tp`.", ""]
        for i, marker in enumerate(markers):
            if i == 1:
                lines += ["It calls functions of these blocks:", ""]
            lines += [f".. literalinclude:: {PXD_FROM_SRCDIR}",
                      "   :language: cython",
                      f"   :start-after: # <{marker}>",
                      f"   :end-before: # </{marker}>",
                      f"   :caption: {marker}", ""]
        check = "Checking the derivatives numerically"
        if params:
            check += f" ({_params_text(params)})"
        lines += [check, "-" * len(check), "",
                  "A central difference (f(z + h) - f(z - h)) / 2h has an error of order h²; "
                  "with h = 10⁻⁶ it must agree with the kernel's f' and f'' to about six "
                  "digits. The grid sits 0.05 off the multiples of 0.1, so no kink is "
                  "sampled. Run by ``make docs``:", "",
                  ".. doctest::", "",
                  f"   >>> act = {call_code(name, params)}",
                  "   >>> z = np.arange(-40, 40) / 10 + 0.05",
                  "   >>> h = 1e-6",
                  "   >>> df = (act(z + h) - act(z - h)) / (2 * h)",
                  "   >>> bool(np.allclose(act.derivative(z), df, rtol=1e-6, atol=1e-8))",
                  "   True",
                  "   >>> d2f = (act.derivative(z + h) - act.derivative(z - h)) / (2 * h)",
                  "   >>> bool(np.allclose(act.second_derivative(z), d2f, rtol=1e-5, atol=1e-7))",
                  "   True", ""]
        generated = self.parse_rst(lines)
        for node in generated:
            if isinstance(node, nodes.section):
                node["classes"].append(LIFT)
        return generated


LIFT = "nl-lift"


class LiftKernelSections(SphinxTransform):
    """Make the kernel directive's sections siblings of the section it was written in.

    The directive stands at the end of a page, inside its last hand-written section
    ("Example"); its own sections ("The compiled kernel", ...) belong beside that one,
    not under it, in the page and in its table of contents.
    """

    default_priority = 200

    def apply(self, **kwargs):
        lifted = [s for s in self.document.findall(nodes.section) if LIFT in s["classes"]]
        for section in reversed(lifted):  # each goes right after its parent: order kept
            parent = section.parent
            grandparent = parent.parent if parent is not None else None
            if not isinstance(parent, nodes.section) or not isinstance(grandparent, nodes.section):
                continue
            parent.remove(section)
            grandparent.insert(grandparent.index(parent) + 1, section)


# ----------------------------------------------------------------------------------------
# Docstrings
# ----------------------------------------------------------------------------------------
_ABS = re.compile(r"(?<![\\|])\|([^|\n`]+)\|(?!\|)")


def escape_absolute_values(app, what, name, obj, options, lines):
    """Let docstrings write |x| for an absolute value.

    In reStructuredText ``|x|`` is a substitution reference, an error when no such
    substitution exists; the docstrings of neuronlab use plain-text maths, so outside
    code examples the bars are escaped.
    """
    for i, line in enumerate(lines):
        if not line.lstrip().startswith((">>>", "...")):
            lines[i] = _ABS.sub(r"\\|\1\\|", line)


def setup(app):
    app.connect("autodoc-process-docstring", escape_absolute_values)
    app.add_directive("activation-table", ActivationTable)
    app.add_directive("activation-facts", ActivationFacts)
    app.add_directive("activation-kernel", ActivationKernel)
    app.add_transform(LiftKernelSections)
    app.add_css_file("neuronlab.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
