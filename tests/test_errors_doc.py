"""docs/errors.rst, the catalogue of error messages, stays true and complete.

* Every example on the page is run as a doctest: the messages shown are the ones the
  library raises today (change a message and this test says which example to update).
* Every ``raise TypeError/ValueError/NotImplementedError("...")`` in the checked modules
  must have the longest literal part of its message shown on the page, so that a new
  message family cannot be added without being documented.
"""
from __future__ import annotations

import ast
import doctest
from pathlib import Path

import numpy as np
import pytest

import neuronlab as nl

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "errors.rst"


def package(name: str) -> list[str]:
    """Every module of the package neuronlab/<name>/, so that a new one is scanned too."""
    return sorted(f"{name}/{path.name}" for path in (ROOT / "neuronlab" / name).glob("*.py"))


MODULES = ["_validation.py", "_registry.py", "_config.py", "_kernels/__init__.py", *package("activations"),
           *package("softmax"),
           *package("losses"), "layers.py", *package("optim"), "network.py", "training.py", "diagnostics.py",
           "evaluation.py", "persistence.py", "targets.py", "estimators.py",
           "perceptron.py", "init.py", "datasets.py", "gradcheck.py", "metrics.py", "plot.py"]
RAISED = {"TypeError", "ValueError", "NotImplementedError"}

# Messages the page need not show, each with the reason.
NOT_SHOWN = {
    "with one slope per unit": "internal: _columns is only called with forward/derivative/backward",
    "a per-unit PReLU has no single slope": "kernel_params() is plumbing, not a user call",
    "a per-unit PReLU has one expression per unit; use substitute=False": "sympy_expr, for the textbook",
    "must be >= ": "check_real/check_count's range message, shown as 'alpha must be >= 0.0'",
}


def test_every_example_on_the_page_runs_as_shown():
    text = PAGE.read_text()
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"np": np, "nl": nl}, PAGE.name, str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with np.errstate(all="ignore"):
        result = runner.run(test, out=lambda s: pytest.fail(s, pytrace=False))
    assert result.attempted > 60
    assert result.failed == 0


def literal_parts(node: ast.expr) -> list[str]:
    """The constant pieces of a message: 'x', f'...{v}...', 'a' 'b', or 'a' + f'b'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return literal_parts(node.left) + literal_parts(node.right)
    return []


def raised_messages():
    for module in MODULES:
        tree = ast.parse((ROOT / "neuronlab" / module).read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if isinstance(func, ast.Name) and func.id in RAISED and node.exc.args:
                parts = literal_parts(node.exc.args[0])
                if parts:
                    yield module, node.lineno, max(parts, key=len).strip()


def test_the_page_shows_every_message_family():
    page = " ".join(PAGE.read_text().split())
    found = list(raised_messages())
    assert len(found) > 60  # the scan sees the raises
    missing = [f"{module}:{line}: {part!r}" for module, line, part in found
               if part not in NOT_SHOWN and " ".join(part.split()) not in page]
    assert not missing, "messages not shown in docs/errors.rst:\n" + "\n".join(missing)
