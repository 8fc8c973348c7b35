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
``.. activation-math:: NAME``
    The ``formula`` of the class (or the attributes named by ``:show:``, e.g.
    ``formula, derivative_formula``) as a bare display, for prose that introduces it
    itself: the softmax chapter.
``.. loss-facts:: NAME``
    The ``formula`` and ``gradient_formula`` of a loss class.

tests/test_formulas.py checks every one of these formulas against SymPy and the kernels.

Both NAME directives take ``:params: key=value, ...`` to pick a variant, e.g. GELU's
``approximate=tanh``. The pieces that need no Sphinx (reading activation.pxd and the
registry, drawing the figure) are in activation_pages.py. The hand-written part of a
page (derivation, properties, example) stays in its ``.rst`` file.
"""
from __future__ import annotations

import re
from typing import ClassVar

from activation_pages import (
    call_code,
    kernel_markers,
    label,
    params_text,
    parse_params,
    range_text,
    variants,
)
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.search.zh import SearchChinese
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import neuronlab as nl

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
            lines.append(f"   * - :doc:`{label(name, params)} </activations/{name}>`")
            lines.append(f"     - {range_text(act)}")
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


class LossFacts(_RstDirective):
    """The per-sample loss and its gradient, read from a loss class of neuronlab.losses."""

    required_arguments = 1
    option_spec: ClassVar[dict] = {"params": directives.unchanged}

    def run(self):
        name = self.arguments[0]
        if name not in nl.losses.available():
            raise self.error(f"{name!r} is not a registered loss")
        params = parse_params(self.options.get("params"))
        try:
            loss = nl.losses.get(name, **params)
        except (TypeError, ValueError) as exc:
            raise self.error(f"{name}: bad :params: ({exc})") from None
        args = "".join(f", {k}={v!r}" for k, v in params.items())
        lines = [".. admonition:: " + f"nl.losses.get({name!r}{args})",
                 "   :class: loss-facts", "",
                 "   .. math::", "", f"      {loss.formula}", "",
                 "   .. math::", "", f"      {loss.gradient_formula}", ""]
        return self.parse_rst(lines)


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
        lines += [f"Range {range_text(act)}; {props}.", "",
                  ".. plot::",
                  f"   :alt: {label(name, params)} and its derivative, drawn by neuronlab",
                  "",
                  "   import activation_pages",
                  f"   activation_pages.draw({name!r}, {params!r})",
                  ""]
        return self.parse_rst(lines)


class ActivationMath(_ActivationDirective):
    """Formulas of one activation, read from its class, as one display of equations."""

    option_spec: ClassVar[dict] = {"params": directives.unchanged, "show": directives.unchanged}
    SHOWABLE = ("formula", "derivative_formula")

    def run(self):
        act = self.activation()[2]
        shown = [s.strip() for s in self.options.get("show", "formula").split(",")]
        unknown = [s for s in shown if s not in self.SHOWABLE]
        if unknown:
            raise self.error(f":show: takes {', '.join(self.SHOWABLE)}; got {', '.join(unknown)}")
        lines = [".. math::", ""]
        for attr in shown:
            lines += [f"   {getattr(act, attr)}", ""]
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
            check += f" ({params_text(params)})"
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


def qualify_example_names(app, what, name, obj, options, lines):
    """Run each docstring example with the names of its own module.

    The examples are written to run inside their module (``get(...)`` in
    neuronlab.losses is ``losses.get``); the textbook's doctests share one namespace,
    where a bare ``get`` would be ambiguous. In the example lines of a docstring of
    ``neuronlab.M``, a bare call of a public name of M becomes ``nl.M.name(``.
    """
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "neuronlab":
        return
    module = getattr(nl, parts[1], None)
    public = getattr(module, "__all__", None)
    if not public or parts[1] == "activations":  # the setup imports activations' names
        return
    bare = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, public)) + r")\(")
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            lines[i] = bare.sub(rf"nl.{parts[1]}.\1(", line)


class ChineseSearch(SearchChinese):
    """Sphinx's Chinese search, whose page script names the stemmer it ships.

    Sphinx 9.0 copies the English stemmer (Latin words in Chinese pages are English) but
    has the page call a ``ChineseStemmer`` that does not exist, so the search page stops
    with a ReferenceError and finds nothing. The name of the language decides the name of
    the stemmer the script calls.
    """

    language_name = "English"


def setup(app):
    app.add_search_language(ChineseSearch)
    app.connect("autodoc-process-docstring", escape_absolute_values)
    app.connect("autodoc-process-docstring", qualify_example_names)
    app.add_directive("activation-table", ActivationTable)
    app.add_directive("activation-facts", ActivationFacts)
    app.add_directive("activation-kernel", ActivationKernel)
    app.add_directive("activation-math", ActivationMath)
    app.add_directive("loss-facts", LossFacts)
    app.add_transform(LiftKernelSections)
    app.add_css_file("neuronlab.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
