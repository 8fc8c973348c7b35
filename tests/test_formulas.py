r"""Every formula the textbook shows is the code's: the LaTeX metadata against SymPy and the kernels.

The book shows an activation's ``formula`` and ``derivative_formula`` and a loss's
``formula`` and ``gradient_formula`` through the directives of docs/_ext, so the metadata
is the one copy. tests/_latex.py reads that LaTeX into SymPy, and every side of every
equality is evaluated with mpmath and compared with

* the registered ``sympy_expr`` and its ``sympy.diff`` (activations, the softmax family),
* the compiled kernels: forward and derivative, ``backward_from_output`` where a derivative
  is written with the function's output (darknet's trick, e.g. sigma' = sigma (1 - sigma)),
  RReLU's training-mode slopes, PReLU's alpha gradient, the losses and their gradients,
* for a gradient written as y - r: the derivative of the loss formula itself.

Points lie in the tails (|x| up to 40) and on both sides of every kink; at a kink that is
a double the kernel's convention must match the formula's cases. The last tests show that
the translator rejects what it cannot read and that a wrong formula fails these checks.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from _latex import LatexError, Statement, Uniform, parse
from _oracle import CASES, EPS64, exact, exact_kink, kinks
from sympy.core.function import AppliedUndef

import neuronlab as nl
from neuronlab.activations import SELU_ALPHA, SELU_LAMBDA

ROOT = Path(__file__).resolve().parents[1]
X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)  # the output f(x), for derivatives written from it
DPS = 400  # digits: 1 + erf(-40/sqrt(2)) ~ 1e-350 must keep its leading digits
RTOL_SYMPY = 1e-14  # formula vs SymPy: exact but for constants the code writes as decimals
RTOL_KERNEL = 1e-12  # formula vs a compiled double: a few ulps, with room
ATOL = 1e-300  # a result below the doubles' range is 0 in the kernel

# ----------------------------------------------------------------------------------------
# Activations: parameters, points and the pieces of a formula
# ----------------------------------------------------------------------------------------
#: The letters the formulas use for parameters that the code names otherwise.
LETTERS = {"s": "slope", "l": "lower", "u": "upper"}


def parameter_values(act) -> dict[str, sympy.Rational]:
    """The exact value of every parameter symbol the formulas of `act` may use, by name."""
    values = {name: exact(v) for name, v in zip(act.kernel_param_names(), act.kernel_params(), strict=True)}
    for letter, name in LETTERS.items():
        if name in act.params:
            values[letter] = exact(act.params[name])
    if act.name == "selu":  # lambda and alpha are constants of the class, not parameters
        values.update({"lambda": exact(SELU_LAMBDA), "alpha": exact(SELU_ALPHA)})
    return values


TAILS = (-40.0, -20.0, -8.0, -3.0, -1.5, -0.75, -0.25, -1e-4, 1e-4, 0.25, 0.75, 1.5, 3.0, 8.0, 20.0, 40.0)
BESIDE = (1e-9, 1e-6, 1e-3, 0.1)  # distances from a kink, on either side


def points(act) -> list[float]:
    """The tails and the middle, and both sides of every kink; no kink itself, nor a double
    within rounding of one (hard_sigmoid's 3.0 for the kink 3.00000000000000017)."""
    with mpmath.workdps(DPS):
        exact_kinks = [float(exact_kink(act, k)) for k in kinks(act)]
    near = {k + side * d for k in exact_kinks for d in BESIDE for side in (-1, 1)}
    far = {x for x in TAILS if all(abs(x - k) > 1e-12 * max(1.0, abs(k)) for k in exact_kinks)}
    return sorted(far | near)


def kink_points(act) -> list[float]:
    """The kinks that are doubles: where the kernel must follow the formula's cases."""
    with mpmath.workdps(DPS):
        return [k for k in kinks(act) if exact_kink(act, k) == mpmath.mpf(k)]


def by_name(expr, values: dict):
    """Substitute symbols by their names: the parser's and the code's symbols meet here."""
    return expr.subs({s: values[s.name] for s in expr.free_symbols
                      if isinstance(s, sympy.Symbol) and s.name in values})


def bind_function(expr, name: str, body):
    """Replace the undefined function `name` (in f(t), f'(t)) and a bare symbol f by body(x)."""
    fn = sympy.Function(name)
    expr = expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func == fn,
                        lambda e: body.subs(X, e.args[0]))
    return expr.subs(sympy.Symbol(name, real=True), body).doit()


def mp_function(expr, *variables):
    """expr as an mpmath function of `variables` (x by default); no other symbol may be left."""
    variables = variables or (X,)
    expr = expr.rewrite(sympy.Piecewise)  # Heaviside, from differentiating a kink
    left = expr.free_symbols - set(variables)
    assert not left, f"{expr} has symbols the test cannot give a value: {left}"
    assert not expr.atoms(AppliedUndef, sympy.Derivative), f"{expr} is not evaluated"
    return sympy.lambdify(variables, expr, modules="mpmath")


def close(a, b, rtol: float) -> bool:
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if mpmath.isnan(a) or mpmath.isnan(b):
        return False
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + ATOL


def assert_close(got, want, rtol: float, what: str):
    assert close(got, want, rtol), f"{what}: {mpmath.nstr(got, 17)} != {mpmath.nstr(want, 17)}"


class Parts:
    """A parsed activation formula: the main statement and what follows it.

    Statements after the first are definitions ``u = ...`` (substituted), random draws
    ``a \\sim U(l, u)``, or derivatives by a parameter (PReLU's df/dalpha).
    """

    def __init__(self, statements: tuple[Statement, ...]):
        self.main, *extras = statements
        self.definitions: dict[sympy.Symbol, sympy.Expr] = {}
        self.draws: dict[sympy.Symbol, Uniform] = {}
        self.parameter_derivatives: list[Statement] = []
        for st in extras:
            lhs = st.sides[0]
            if st.relation == "~":
                self.draws[lhs] = st.sides[1]
            elif isinstance(lhs, sympy.Symbol) and len(st.sides) == 2:
                assert lhs not in self.definitions, f"{lhs} is defined twice"
                self.definitions[lhs] = st.sides[1]
            elif isinstance(lhs, sympy.Derivative) and lhs.variables != (X,):
                self.parameter_derivatives.append(st)
            else:
                pytest.fail(f"a statement the test does not know how to check: {st}")

    def expand(self, expr):
        return expr.subs(self.definitions)


def reference(act):
    """f(x) with its parameters as symbols, and their exact values.

    A constant the expression writes as a decimal (GELU's 0.044715) is taken as that
    decimal, as the formula writes it: in the tails its binary rounding would show.
    """
    ref = act.sympy_expr(substitute=False)
    ref = ref.xreplace({c: sympy.Rational(str(c)) for c in ref.atoms(sympy.Float)})
    return ref, parameter_values(act)


def defined_f(act):
    """f(x) as the activation's own ``formula`` defines it (with its definitions, such as
    RReLU's evaluation slope a = (l + u) / 2): what f(x) means in its derivative formula."""
    parts = Parts(parse(act.formula))
    return parts.expand(parts.main.sides[-1]), parts.definitions


def formula_sides(act, latex: str):
    """Each side of the main statement of `latex` as an mpmath function of x, and the statement."""
    parts = Parts(parse(latex))
    f, definitions = defined_f(act)
    values = parameter_values(act)
    functions = [mp_function(by_name(bind_function(parts.expand(side).subs(definitions), "f", f), values))
                 for side in parts.main.sides]
    return functions, parts


def where(statement: Statement, x: float) -> bool:
    return bool(statement.condition.subs(X, exact(x)))


# ----------------------------------------------------------------------------------------
# The checks, written for any LaTeX so that the last tests can feed them wrong formulas
# ----------------------------------------------------------------------------------------
def check_activation_formula(act, latex: str):
    """Every side of the formula is sympy_expr, and the kernel's forward, at every point."""
    sides, parts = formula_sides(act, latex)
    ref, values = reference(act)
    f = mp_function(by_name(ref, values))
    xs = points(act) + kink_points(act)
    computed = act(np.array(xs))
    with mpmath.workdps(DPS):
        for x, kernel in zip(xs, computed, strict=True):
            if not where(parts.main, x):
                continue
            want = f(mpmath.mpf(x))
            for i, side in enumerate(sides):
                value = side(mpmath.mpf(x))
                assert_close(value, want, RTOL_SYMPY, f"{act!r} formula side {i} vs sympy_expr at x={x}")
                assert_close(kernel, value, RTOL_KERNEL, f"{act!r} forward kernel vs formula side {i} at x={x}")


def check_activation_derivative(act, latex: str):
    """Every side of the derivative formula is diff(sympy_expr) off the kinks, and the
    kernel's derivative everywhere, kinks that are doubles included."""
    sides, parts = formula_sides(act, latex)
    ref, values = reference(act)
    df = mp_function(by_name(sympy.diff(ref, X), values))
    kinks_here = kink_points(act)
    xs = points(act) + kinks_here
    computed = act.derivative(np.array(xs))
    with mpmath.workdps(DPS):
        for x, kernel in zip(xs, computed, strict=True):
            if not where(parts.main, x):
                continue
            for i, side in enumerate(sides):
                if x in kinks_here and i == 0:
                    continue  # the left side, f'(x) itself, does not exist at a kink: the cases decide
                value = side(mpmath.mpf(x))
                if x not in kinks_here:
                    assert_close(value, df(mpmath.mpf(x)), RTOL_SYMPY,
                                 f"{act!r} derivative side {i} vs diff(sympy_expr) at x={x}")
                assert_close(kernel, value, RTOL_KERNEL, f"{act!r} derivative kernel vs side {i} at x={x}")
    return parts


def function_name(act) -> str:
    """The name the formula gives f: ``sigma`` for ``\\sigma(x) = ...``, ``f`` for ``f(x) = ...``."""
    m = re.match(r"\\?([A-Za-z]+)\(x\) =", act.formula)
    assert m, f"{act.name}'s formula does not start with its name and (x): {act.formula}"
    return m.group(1)


def value_symbols(expr) -> set:
    """The free symbols of expr outside the conditions of its cases."""
    if isinstance(expr, sympy.Piecewise):
        return set().union(*(value_symbols(value) for value, _ in expr.args))
    if not expr.args:
        return set(expr.free_symbols)
    return set().union(*(value_symbols(a) for a in expr.args))


def output_forms(act, latex: str) -> list:
    """The sides of the derivative formula written with the output y = f(x) alone (x may
    still choose the piece of a cases), as functions of (x, y)."""
    name = function_name(act)
    statement = parse(latex, undefined=("f", name))[0]
    fn = sympy.Function(name)
    forms = []
    for side in statement.sides:
        side = side.replace(lambda e: isinstance(e, AppliedUndef) and e.func == fn and e.args == (X,),
                            lambda e: Y)
        if side.atoms(AppliedUndef, sympy.Derivative) or X in value_symbols(side):
            continue
        forms.append(mp_function(by_name(side, parameter_values(act)), X, Y))
    return forms


def check_output_form(act, latex: str):
    """A derivative written from the output is f' (at y = f(x) exactly) and what
    backward_from_output computes from the kernel's y."""
    forms = output_forms(act, latex)
    assert forms, (f"{act.name} has backward_from_output, but its derivative_formula never "
                   f"writes f' with the output f(x) alone: {latex}")
    ref, values = reference(act)
    f = mp_function(by_name(defined_f(act)[0], values))  # y as the formula defines it
    df = mp_function(by_name(sympy.diff(ref, X), values))
    xs = points(act)
    y = act(np.array(xs))
    computed = act.backward_from_output(y, np.ones_like(y))
    with mpmath.workdps(DPS):
        for x, y_kernel, kernel in zip(xs, y, computed, strict=True):
            x_mp = mpmath.mpf(x)
            for form in forms:
                assert_close(form(x_mp, f(x_mp)), df(x_mp), RTOL_SYMPY, f"{act!r} output form at x={x}")
                # From a rounded y the kernel can do no better than a few ulps of y and of the
                # constants it adds (selu: y + lambda alpha cancels to ~1e-17 at x = -40).
                tolerance = 8 * EPS64 * (1 + abs(y_kernel))
                assert abs(kernel - form(x_mp, mpmath.mpf(y_kernel))) <= tolerance, (
                    f"{act!r} backward_from_output vs the output form at x={x}: {kernel} != "
                    f"{mpmath.nstr(form(x_mp, mpmath.mpf(y_kernel)), 17)}")


# ----------------------------------------------------------------------------------------
# Activations: the tests
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_activation_formula(case):
    check_activation_formula(CASES[case], CASES[case].formula)


@pytest.mark.parametrize("case", CASES)
def test_activation_derivative_formula(case):
    check_activation_derivative(CASES[case], CASES[case].derivative_formula)


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c].has_output_derivative])
def test_derivative_from_the_output(case):
    check_output_form(CASES[case], CASES[case].derivative_formula)


@pytest.mark.parametrize("case", [c for c in CASES if Parts(parse(CASES[c].derivative_formula))
                                  .parameter_derivatives])
def test_derivative_by_a_parameter(case):
    """PReLU's df/dalpha = min(0, x): against SymPy and the compiled alpha gradient."""
    act = CASES[case]
    parts = Parts(parse(act.derivative_formula))
    ref, values = reference(act)
    xs = points(act)
    for st in parts.parameter_derivatives:
        (param,) = st.sides[0].variables
        want = mp_function(by_name(sympy.diff(ref, sympy.Symbol(param.name, real=True)), values))
        sides = [mp_function(by_name(bind_function(side, "f", ref), values)) for side in st.sides]
        # One slope per unit, one unit per point: the gradient of each slope is dy * df/dalpha.
        per_unit = nl.activations.get(act.name, alpha=np.full(len(xs), act.alpha))
        kernel = per_unit.alpha_gradient(np.array([xs]), np.ones((1, len(xs))))
        with mpmath.workdps(DPS):
            for x, k in zip(xs, kernel, strict=True):
                for i, side in enumerate(sides):
                    assert_close(side(mpmath.mpf(x)), want(mpmath.mpf(x)), RTOL_SYMPY,
                                 f"d{act.name}/d{param} side {i} at x={x}")
                    assert_close(k, side(mpmath.mpf(x)), RTOL_KERNEL, f"alpha_gradient at x={x}")


def test_rrelu_training_draw():
    """a ~ U(l, u) in training: the kernel's slopes lie in [lower, upper], and the formula
    with each element's slope gives the training-mode forward and derivative."""
    act = nl.activations.get("rrelu", lower=0.1, upper=0.3, seed=5)
    parts = Parts(parse(act.formula))
    ((a, draw),) = parts.draws.items()
    values = parameter_values(act)
    low, high = (float(by_name(bound, values)) for bound in (draw.low, draw.high))
    assert (low, high) == (act.lower, act.upper)
    xs = np.array(points(act) * 3)
    out = act(xs, training=True)
    slopes = act.slopes
    assert np.all((low <= slopes) & (slopes <= high)) and np.ptp(slopes) > 0.1 * (high - low)
    dout = act.derivative(xs, training=True)
    derivative = Parts(parse(act.derivative_formula)).main
    f_sides = [mp_function(side, X, a) for side in parts.main.sides[1:]]  # the left side is f(x)
    df_sides = [mp_function(side, X, a) for side in derivative.sides[1:]]
    with mpmath.workdps(DPS):
        for x, slope, y, dy in zip(xs, slopes, out, dout, strict=True):
            for side in f_sides:
                assert_close(y, side(mpmath.mpf(x), mpmath.mpf(slope)), RTOL_KERNEL, f"rrelu training at {x}")
            for side in df_sides:
                assert_close(dy, side(mpmath.mpf(x), mpmath.mpf(slope)), RTOL_KERNEL, f"rrelu' training at {x}")


def test_every_activation_variant_is_checked():
    """The cases above cover every registered elementwise activation and GELU's forms."""
    covered = {(act.name, getattr(act, "approximate", None)) for act in CASES.values()}
    for name in nl.activations.available():
        act = nl.activations.get(name)
        if act.elementwise:
            assert (name, getattr(act, "approximate", None)) in covered, name
    assert {("gelu", "tanh"), ("gelu", "sigmoid")} <= covered


# ----------------------------------------------------------------------------------------
# Indexed formulas: the softmax family and the losses
# ----------------------------------------------------------------------------------------
def indexed_values(expr, arrays: dict[str, np.ndarray]):
    """Replace z[2], z[1, 3], ... (indices from 1, as in the formulas) by exact numbers."""
    def is_known(e):
        return (isinstance(e, sympy.Indexed) and e.base.name in arrays
                and all(i.is_Integer for i in e.indices))
    return expr.replace(is_known, lambda e: exact(arrays[e.base.name][tuple(int(i) - 1 for i in e.indices)]))


def bind_indexed(expr, statement: Statement):
    """Replace y[n] by the right side of ``y_i = ...`` with i = n (a definition by index)."""
    lhs, rhs = statement.sides[0], statement.sides[-1]
    (index,) = lhs.indices
    return expr.replace(lambda e: isinstance(e, sympy.Indexed) and e.base == lhs.base,
                        lambda e: rhs.subs(index, e.indices[0]))


def number(expr) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        value = sympy.N(expr, 50)
    assert value.is_number and value.is_real, f"not a real number: {expr}"
    return mpmath.mpf(value)


def softmax_definition(temperature: float) -> Statement:
    """y_i = softmax(z / T)_i, read from Softmax's own metadata."""
    (statement,) = parse(nl.activations.get("softmax", temperature=temperature).formula)
    return statement


SOFTMAX_CASES = [("softmax", 1.0), ("softmax", 0.5), ("softmax", 2.5),
                 ("log_softmax", 1.0), ("log_softmax", 0.5), ("log_softmax", 2.5)]


@pytest.mark.parametrize(("name", "temperature"), SOFTMAX_CASES)
def test_softmax_family_formulas(name, temperature):
    act = nl.activations.get(name, temperature=temperature)
    check_softmax_family(act, act.formula, act.derivative_formula)


def check_softmax_family(act, formula: str, derivative_formula: str):
    """y_i (or l_i) for each i, and dy_i/dz_j for each i, j: every side against the
    registered SymPy matrix, its derivatives, the compiled forward and backward."""
    name, temperature = act.name, act.temperature
    K = 3
    z = np.array([0.7, -1.9, 2.4])
    scalars = {"T": exact(temperature), "K": K}
    (definition,) = parse(formula)
    (derivative,) = parse(derivative_formula)
    ref = act.sympy_expr(substitute=True, size=K)
    z_syms = sorted(ref.free_symbols, key=lambda s: s.name)
    ref_at = {s: exact(v) for s, v in zip(z_syms, z, strict=True)}
    forward = act(z)
    backward_rows = [act.backward(z, np.eye(K)[i]) for i in range(K)]  # row i: dy_i/dz_j
    index = {s.name: s for s in derivative.sides[0].atoms(sympy.Symbol)}  # i, j of dy_i/dz_j
    for i in range(1, K + 1):
        want = number(ref[i - 1].subs(ref_at))
        for n, side in enumerate(definition.sides):
            expr = by_name(bind_indexed(side.subs(index["i"], i), definition), scalars)
            value = number(indexed_values(expr.doit(), {"z": z}))
            assert_close(value, want, RTOL_SYMPY, f"{name} formula side {n}, i={i}")
            assert_close(forward[i - 1], value, RTOL_KERNEL, f"{name} forward, i={i}")
        for j in range(1, K + 1):
            want = number(sympy.diff(ref[i - 1], z_syms[j - 1]).subs(ref_at))
            for n, side in enumerate(derivative.sides):
                expr = side.subs({index["i"]: i, index["j"]: j})
                expr = bind_indexed(expr, definition)  # the left side's y_i or l_i
                expr = bind_indexed(expr, softmax_definition(temperature))  # y_j on the right
                value = number(indexed_values(by_name(expr, scalars).doit(), {"z": z}))
                assert_close(value, want, RTOL_SYMPY, f"{name} derivative side {n}, i={i}, j={j}")
                assert_close(backward_rows[i - 1][j - 1], value, RTOL_KERNEL,
                             f"{name} backward, i={i}, j={j}")


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_maxout_formulas(pieces):
    """a_u = max_p z_{u,p} and its 0/1 gradient against the compiled forward and backward,
    with a tie (the first piece wins) in the last unit."""
    act = nl.activations.get("maxout", pieces=pieces)
    units = 3
    z = np.array([[0.3, -1.2, 2.0], [-0.5, 1.5, 0.25], [0.8, 0.8, 0.8]])[:, :pieces]
    (definition,) = parse(act.formula)
    (derivative,) = parse(act.derivative_formula, implicit_upper="k")
    forward = act(z.reshape(1, -1))[0]
    backward = act.backward(z.reshape(1, -1), np.ones((1, units)))[0].reshape(units, pieces)
    (u,) = definition.sides[0].indices  # a_u
    p = derivative.sides[0].variables[0].indices[1]  # d a_u / d z_{u,p}
    for unit in range(1, units + 1):
        for n, side in enumerate(definition.sides):
            expr = by_name(bind_indexed(side.subs(u, unit), definition), {"k": pieces})
            value = number(indexed_values(expr.doit(), {"z": z}))
            assert_close(forward[unit - 1], value, 0.0, f"maxout forward, unit {unit}, side {n}")
        tie = len(set(z[unit - 1])) < pieces
        for piece in range(1, pieces + 1):
            for n, side in enumerate(derivative.sides):
                if n == 0 and tie:
                    continue  # the derivative of max does not exist at a tie; the formula's cases say who wins
                expr = by_name(bind_indexed(side.subs({u: unit, p: piece}), definition), {"k": pieces})
                value = number(indexed_values(expr.doit(), {"z": z}))
                assert_close(backward[unit - 1, piece - 1], value, 0.0,
                             f"maxout backward, unit {unit}, piece {piece}, side {n}")


# -- losses --------------------------------------------------------------------------------
def loss_cases() -> dict[str, nl.losses.Loss]:
    cases = {name: nl.losses.get(name) for name in nl.losses.available()}
    cases["binary_cross_entropy(from_logits=True)"] = nl.losses.get("binary_cross_entropy", from_logits=True)
    return cases


LOSSES = loss_cases()


def loss_data(loss, K: int = 3, m: int = 4) -> dict[str, np.ndarray]:
    """Targets r and inputs of the right kind, by the names the formulas use: y for
    probabilities (and outputs), l = ln y for log-probabilities, z for logits."""
    rng = np.random.default_rng(7)
    probabilities = rng.dirichlet(np.ones(K), size=m)
    if loss.name in ("squared_error", "mse"):
        return {"y": rng.normal(size=(m, K)), "r": rng.normal(size=(m, K))}
    if loss.name == "binary_cross_entropy":
        return {"y": rng.uniform(0.02, 0.98, size=(m, K)), "z": 3 * rng.normal(size=(m, K)),
                "r": rng.uniform(size=(m, K))}
    if loss.name == "hinge":  # one-hot targets only; scores spread across the margin
        return {"z": 1.5 * rng.normal(size=(m, K)), "r": np.eye(K)[rng.integers(0, K, size=m)]}
    return {"y": probabilities, "l": np.log(probabilities), "z": 3 * rng.normal(size=(m, K)),
            "r": rng.dirichlet(np.ones(K), size=m)}


def input_name(loss, gradient_latex: str) -> str:
    """What pred is, read from the gradient's left side dJ/dz_k: y, l or z."""
    lhs = parse(gradient_latex)[0].sides[0]
    assert isinstance(lhs, sympy.Derivative), f"{loss.name}: the gradient formula starts with {lhs}"
    (variable,) = lhs.variables
    return variable.base.name


def loss_statements(latex: str, pred: str):
    """The statement J = ... and the definitions of the input in other terms (l_k = ln y_k)."""
    main, *extras = parse(latex)
    for st in extras:
        lhs = st.sides[0]
        assert isinstance(lhs, sympy.Indexed) and lhs.base.name == pred and len(st.sides) == 2, (
            f"a statement the test does not know how to check: {st}")
    return main, extras


def loss_symbols(loss, r_row: np.ndarray) -> dict:
    """The values of the symbols a loss formula may use beside its arrays: the margin
    Delta, and the class c of a one-hot target row (counted from 1, as the formulas count)."""
    values = {}
    if "margin" in loss.params:
        values["Delta"] = exact(loss.margin)
    ones = np.flatnonzero(r_row == 1)
    if len(ones) == 1 and np.all((r_row == 0) | (r_row == 1)):
        values["c"] = int(ones[0]) + 1
    return values


def evaluate_loss_side(side, row: dict[str, np.ndarray], K: int, extra_index: dict | None = None):
    expr = by_name(side, {"K": K, **(extra_index or {})})
    if any(isinstance(e, sympy.Indexed) and e.base.name == "y" for e in expr.atoms(sympy.Indexed)) \
            and "y" not in row:
        expr = bind_indexed(expr, softmax_definition(1.0))  # y = softmax(z)
        expr = by_name(expr, {"K": K, "T": 1})
    return number(indexed_values(expr.doit(), row))


def check_loss_formula(loss, latex: str, gradient_latex: str):
    """Every side of J = ... is the compiled per-sample loss; a definition of the input
    (l_k = ln y_k) gives the same J from the other variable."""
    pred = input_name(loss, gradient_latex)
    data = loss_data(loss)
    K = data["r"].shape[1]
    main, definitions = loss_statements(latex, pred)
    per_sample = nl.losses.get(loss.name, reduction="none", **_extra(loss)).loss(data[pred], data["r"])
    for i in range(data["r"].shape[0]):
        row = {"r": data["r"][i], pred: data[pred][i]}
        symbols = loss_symbols(loss, data["r"][i])
        for n, side in enumerate(main.sides[1:], start=1):
            assert_close(per_sample[i], evaluate_loss_side(side, row, K, symbols), RTOL_KERNEL,
                         f"{loss!r} formula side {n}, sample {i}")
            for st in definitions:  # J in terms of what defines the input, e.g. y for l = ln y
                other = next(b.name for b in st.sides[1].atoms(sympy.IndexedBase))
                expr = bind_indexed(side, st)
                value = evaluate_loss_side(expr, {"r": data["r"][i], other: data[other][i]}, K, symbols)
                assert_close(per_sample[i], value, RTOL_KERNEL, f"{loss!r} with {st.sides[0]} = {st.sides[1]}")


def check_loss_gradient(loss, latex: str, formula_latex: str):
    """Every side of dJ/dpred_k = ... is the derivative of the formula and the compiled gradient."""
    pred = input_name(loss, latex)
    data = loss_data(loss)
    m, K = data["r"].shape
    main, _ = loss_statements(formula_latex, pred)
    J = main.sides[0]
    (gradient,) = parse(latex)
    k = next(iter(gradient.sides[0].variables[0].indices))
    compiled = nl.losses.get(loss.name, reduction="none", **_extra(loss)).gradient(data[pred], data["r"])
    for i in range(m):
        row = {"r": data["r"][i], pred: data[pred][i]}
        symbols = loss_symbols(loss, data["r"][i])
        for index in range(1, K + 1):
            values = []
            for n, side in enumerate(gradient.sides):
                side = side.subs(J, main.sides[-1]).subs(k, index)
                values.append(evaluate_loss_side(side, row, K, symbols))
                assert_close(compiled[i, index - 1], values[-1], RTOL_KERNEL,
                             f"{loss!r} gradient side {n}, sample {i}, k={index}")
            for n, value in enumerate(values[1:], start=1):  # the left side is d(formula)/dpred_k
                assert_close(value, values[0], RTOL_SYMPY,
                             f"{loss!r} gradient side {n} vs the derivative of the formula, k={index}")


def _extra(loss) -> dict:
    return {k: v for k, v in loss.params.items() if k != "reduction"}


@pytest.mark.parametrize("case", LOSSES)
def test_loss_formula(case):
    loss = LOSSES[case]
    check_loss_formula(loss, loss.formula, loss.gradient_formula)


@pytest.mark.parametrize("case", LOSSES)
def test_loss_gradient_formula(case):
    loss = LOSSES[case]
    check_loss_gradient(loss, loss.gradient_formula, loss.formula)


def test_hinge_formulas_with_another_margin():
    loss = nl.losses.get("hinge", margin=2.5)
    check_loss_formula(loss, loss.formula, loss.gradient_formula)
    check_loss_gradient(loss, loss.gradient_formula, loss.formula)


#: Scores and labels with exact ties z_k - z_c + Delta == 0: four for Delta = 1, two for 0.5.
HINGE_TIES = (np.array([[2.0, 1.0, 3.0, 1.5], [-2.0, -1.0, -1.0, 0.0], [5.0, 4.0, 4.0, 3.0],
                        [0.25, 0.75, -0.25, 0.5]]), np.array([0, 1, 0, 0]))


def hinge_gradient_at_ties(latex: str, margin: float) -> None:
    """At a tie max(0, t) has no derivative and the derivative of the formula does not
    decide; the gradient formula's indicator 1{t > 0} does, and the kernel must follow it."""
    loss = nl.losses.get("hinge", margin=margin, reduction="none")
    z, labels = HINGE_TIES
    m, K = z.shape
    r = np.eye(K)[labels]
    (gradient,) = parse(latex)
    k = next(iter(gradient.sides[0].variables[0].indices))
    compiled = loss.gradient(z, labels)
    for i in range(m):
        symbols = loss_symbols(loss, r[i])
        for index in range(1, K + 1):
            for n, side in enumerate(gradient.sides[1:], start=1):
                value = evaluate_loss_side(side.subs(k, index), {"r": r[i], "z": z[i]}, K, symbols)
                assert_close(compiled[i, index - 1], value, 0.0,
                             f"hinge gradient side {n} at a tie, sample {i}, k={index}")


@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_hinge_gradient_formula_at_ties(margin):
    z, labels = HINGE_TIES
    gaps = z - z[np.arange(len(labels)), labels][:, None] + margin
    assert np.count_nonzero(gaps == 0) >= 2, "the data must hold exact ties"
    hinge_gradient_at_ties(nl.losses.get("hinge").gradient_formula, margin)


def test_hinge_tie_convention_is_checked():
    """A formula that counted a tie as a violation (>= instead of >) fails at the ties."""
    wrong = nl.losses.get("hinge").gradient_formula.replace(r"\Delta > 0", r"\Delta \ge 0")
    assert wrong != nl.losses.get("hinge").gradient_formula
    with pytest.raises(AssertionError):
        hinge_gradient_at_ties(wrong, 1.0)


# ----------------------------------------------------------------------------------------
# The translator reads what it should, and nothing else
# ----------------------------------------------------------------------------------------
def _readings():
    x, y, u, alpha, beta, s = sympy.symbols("x y u alpha beta s", real=True)
    j, k, i = sympy.symbols("j k i", integer=True)
    K = sympy.Symbol("K", real=True)
    z, r = sympy.IndexedBase("z", real=True), sympy.IndexedBase("r", real=True)
    f = sympy.Function("f")
    sigma = 1 / (1 + sympy.exp(-x))
    return [
        (r"f(x) = \ln y + 1", sympy.log(y) + 1),
        (r"J = \ln \sum_j e^{z_j} - z_k", sympy.log(sympy.Sum(sympy.exp(z[j]), (j, 1, K))) - z[k]),
        (r"J = y_k \sum_j r_j - r_k", sympy.IndexedBase("y", real=True)[k] * sympy.Sum(r[j], (j, 1, K)) - r[k]),
        (r"f(x) = \tanh^2 u", sympy.tanh(u) ** 2),
        (r"f(x) = x\,\sigma(\beta x)", x / (1 + sympy.exp(-beta * x))),
        (r"f(x) = \max\bigl(0, \min(1, s x + \tfrac{1}{2})\bigr)",
         sympy.Max(0, sympy.Min(1, s * x + sympy.Rational(1, 2)))),
        (r"f(x) = \frac{x}{1 + |x|}", x / (1 + sympy.Abs(x))),
        (r"f(x) = 0.044715\,x^{3}", sympy.Rational(44715, 10**6) * x**3),
        (r"f(x) = \sqrt{2/\pi} \cdot x", sympy.sqrt(2 / sympy.pi) * x),
        (r"f(x) = \sigma'(x)", sympy.diff(sigma, x)),
        (r"f(x) = \Phi(x) + x\,\varphi(x)",
         (1 + sympy.erf(x / sympy.sqrt(2))) / 2 + x * sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi)),
        (r"f(x) = \operatorname{sech}^2\bigl(\operatorname{sp}(x)\bigr)",
         sympy.sech(sympy.log(1 + sympy.exp(x))) ** 2),
        (r"f(x) = \delta_{ij} - \alpha", sympy.KroneckerDelta(i, j) - alpha),
        (r"f(x) = \begin{cases} s & |x| < \frac{1}{2s} \\ 0 & \text{otherwise} \end{cases}",
         sympy.Piecewise((s, sympy.Abs(x) < 1 / (2 * s)), (0, True))),
        (r"f(x) = f'(x)", sympy.Derivative(f(x), x)),
        (r"f(x) = \frac{\partial J}{\partial z_k}",
         sympy.Derivative(sympy.Symbol("J", real=True), z[k], evaluate=False)),
    ]


@pytest.mark.parametrize(("latex", "expected"), _readings())
def test_translator_reads(latex, expected):
    (statement,) = parse(latex)
    assert statement.sides[-1] == expected, f"{latex} read as {statement.sides[-1]}, not {expected}"


def test_translator_reads_statements():
    """Chains in a piece give one side per reading; \\quad separates statements; a
    parenthesised condition and a \\text note attach to the statement before them."""
    x, alpha = sympy.symbols("x alpha", real=True)
    f = sympy.Function("f")(x)
    (st,) = parse(r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} = f(x) + \alpha & x \le 0 \end{cases}")
    assert st.sides[1:] == (sympy.Piecewise((1, x > 0), (alpha * sympy.exp(x), x <= 0)),
                            sympy.Piecewise((1, x > 0), (f + alpha, x <= 0)))
    (st,) = parse(r"f'(x) = 0 \quad (x \ne 0)")
    assert st.condition == sympy.Ne(x, 0)
    _, draw, mean = parse(r"f(x) = a x, \quad a \sim U(l, u) \text{ (training)}, \ a = \tfrac{l + u}{2}")
    assert draw.relation == "~" and draw.note == "(training)" and isinstance(draw.sides[1], Uniform)
    assert mean.sides[1] == sympy.Symbol("l", real=True) / 2 + sympy.Symbol("u", real=True) / 2


@pytest.mark.parametrize(("latex", "message"), [
    (r"f(x) = \frac{1}{1 + e^{-x}", r"expected '\}'"),
    (r"f(x) = \max(0, x", r"expected '\)'"),
    (r"f(x) = \begin{cases} 1 & x > 0 \end{matrix}", "closed by another environment"),
    (r"f(x) = \begin{cases} 0 & \text{otherwise} \\ 1 & x > 0 \end{cases}", "must be the last piece"),
    (r"f(x) = \foo(x)", "unknown or unsupported command"),
    (r"f(x) = \operatorname{relu}(x)", "unknown \\\\operatorname"),
    (r"f(x) = \ln 2 x", "takes one factor"),
    (r"f(x) = 1 / 2 x", "ambiguous"),
    (r"f(x) = x +", "expected a number"),
    (r"f(x) = \sqrt[3]{x}", "only square roots"),
    (r"f(x) = \tanh^{-1}(x)", "negative power"),
    (r"f(x) = x^23", "in braces"),
    (r"f(x) \approx x", "needs '=' or"),
    (r"f(x) = x \sim U(0, 1)", "mixes = and"),
    (r"f(x) = \bigl x", "followed by a bracket"),
    (r"f(x) = x ?", "unexpected character"),
    (r"f(x) = \delta_{i}", "two indices"),
    (r"f(x) = \text{x}", "expected a number"),
    (r"y_i = \operatorname{softmax}(\mathbf{zz})_i", "takes one letter"),
    (r"y = \operatorname{softmax}(z)", "write the entry"),
    (r"f'(x) = \frac{d}{dx}\,x^2", "not read as a differential"),
    (r"f(x) = g(x) + 1", "function or a product"),
    (r"f(x) = x_{\alpha}", "letters, whole numbers and commas"),
])
def test_translator_rejects(latex, message):
    with pytest.raises(LatexError, match=message) as info:
        parse(latex)
    assert "at character" in str(info.value)  # and it points at the place


def test_translator_takes_a_string():
    with pytest.raises(TypeError, match="latex must be a str"):
        parse(None)


# ----------------------------------------------------------------------------------------
# The checks fail on a wrong formula (and pass a right one written differently)
# ----------------------------------------------------------------------------------------
def test_a_right_formula_written_otherwise_passes():
    sigmoid = nl.activations.get("sigmoid")
    check_activation_derivative(sigmoid, r"\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2}")
    check_activation_formula(nl.activations.get("tanh"), r"\tanh(x) = 2\,\sigma(2x) - 1")
    check_loss_gradient(LOSSES["softmax_cross_entropy"],
                        r"\frac{\partial J}{\partial z_k} = \frac{e^{z_k}}{\sum_j e^{z_j}} - r_k",
                        LOSSES["softmax_cross_entropy"].formula)


@pytest.mark.parametrize(("check", "case", "latex"), [
    # sigma' with the sign of the second term flipped, and the slides' dropped minus sign
    ("derivative", "sigmoid", r"\sigma'(x) = \sigma(x)\,\bigl(1 + \sigma(x)\bigr)"),
    ("derivative", "sigmoid", r"\sigma'(x) = \frac{-e^{-x}}{(1 + e^{-x})^2}"),
    # right everywhere but at the kink, where the kernel returns relu'(0) = 0
    ("derivative", "relu", r"f'(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}"),
    ("derivative", "hard_sigmoid", r"f'(x) = \begin{cases} s & |x| < \frac{1}{s} \\ 0 & \text{otherwise} \end{cases}"),
    ("derivative", "elu", r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} = f(x) - \alpha & x \le 0 \end{cases}"),
    ("formula", "swish(beta=2)", r"f(x) = x\,\sigma(x)"),
    ("formula", "gelu(approximate=tanh)",
     r"f(x) = \frac{x}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,(x + 0.0447\,x^{3})\bigr)\Bigr)"),
    ("formula", "selu", r"f(x) = \begin{cases} \lambda x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}"),
    # darknet's trick written wrong, and a derivative that never uses the output
    ("output", "tanh", r"\tanh'(x) = 1 - \tanh(x)"),
    ("output", "elu", r"f'(x) = \begin{cases} 1 & x > 0 \\ f(x) - \alpha & x \le 0 \end{cases}"),
    ("output", "sigmoid", r"\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2}"),
])
def test_a_wrong_activation_formula_fails(check, case, latex):
    run = {"formula": check_activation_formula, "derivative": check_activation_derivative,
           "output": check_output_form}[check]
    with pytest.raises(AssertionError):
        run(CASES[case], latex)


@pytest.mark.parametrize(("case", "which", "latex"), [
    ("cross_entropy", "gradient", r"\frac{\partial J}{\partial y_k} = \frac{r_k}{y_k}"),
    ("mse", "gradient", r"\frac{\partial J}{\partial y_k} = \frac{1}{K} (y_k - r_k)"),
    ("softmax_cross_entropy", "gradient", r"\frac{\partial J}{\partial z_k} = y_k \sum_j r_j - r_k = y_k + r_k"),
    ("nll", "formula", r"J = -\sum_{k=1}^{K} r_k\, l_k, \quad l_k = \ln(1 - y_k)"),
    ("binary_cross_entropy(from_logits=True)", "formula", r"J = \sum_k \bigl(\ln(1 + e^{-z_k}) - r_k z_k\bigr)"),
    ("squared_error", "formula", r"J = \sum_{k} (r_k - y_k)^2"),
    # the label's own class compared with itself (adds Delta), and the sign at the label flipped
    ("hinge", "formula", r"J = \sum_{k=1}^{K} \max(0, z_k - z_c + \Delta)"),
    ("hinge", "gradient", r"\frac{\partial J}{\partial z_k} = \begin{cases} 1\{z_k - z_c + \Delta > 0\} & "
     r"k \ne c \\ \sum_{j=1}^{K} (1 - \delta_{jc})\, 1\{z_j - z_c + \Delta > 0\} & k = c \end{cases}"),
])
def test_a_wrong_loss_formula_fails(case, which, latex):
    loss = LOSSES[case]
    with pytest.raises(AssertionError):
        if which == "formula":
            check_loss_formula(loss, latex, loss.gradient_formula)
        else:
            check_loss_gradient(loss, latex, loss.formula)


def test_a_wrong_softmax_formula_fails():
    act = nl.activations.get("softmax", temperature=2.5)
    with pytest.raises(AssertionError):  # the 1/T of the chain rule forgotten
        check_softmax_family(act, act.formula, r"\frac{\partial y_i}{\partial z_j} = y_i\,(\delta_{ij} - y_j)")
    with pytest.raises(AssertionError):
        check_softmax_family(act, r"y_i = \frac{e^{z_i}}{\sum_{j=1}^{K} e^{z_j}}", act.derivative_formula)


# ----------------------------------------------------------------------------------------
# The book shows these formulas, not copies of them
# ----------------------------------------------------------------------------------------
DOCS = ROOT / "docs"

#: The definitions the book writes by hand: (page, the LaTeX as it stands there, the
#: activation and parameters it must agree with). The softmax chapter opens with the plain
#: softmax, before the temperature is introduced.
HAND_COPIES = [
    ("softmax.rst", r"y_i = \operatorname{softmax}(\mathbf{z})_i = \frac{e^{z_i}}{\sum_{j=1}^{K} e^{z_j}}",
     "softmax", {"temperature": 1.0}),
]


def test_vector_activations_show_their_formulas_from_the_metadata():
    """Softmax, log-softmax and maxout have no page of their own: the softmax chapter
    shows their formula and derivative with ``.. activation-math::``, which reads them
    from the class (the elementwise ones use activation-facts, the losses loss-facts:
    tests/test_docs.py)."""
    text = (DOCS / "softmax.rst").read_text(encoding="utf-8")
    shown: dict[str, set] = {}
    for name, options in re.findall(r"^\.\. activation-math:: (\w+)\n((?:   :\w+:.*\n)*)", text, re.MULTILINE):
        show = re.search(r":show: (.*)", options)
        shown.setdefault(name, set()).update(s.strip() for s in (show.group(1) if show else "formula").split(","))
    for name in nl.activations.available():
        if not nl.activations.get(name).elementwise:
            assert shown.get(name) == {"formula", "derivative_formula"}, (
                f"docs/softmax.rst shows {sorted(shown.get(name, []))} of {name} through activation-math")


@pytest.mark.parametrize(("page", "latex", "name", "params"), HAND_COPIES)
def test_hand_written_definitions_agree_with_the_metadata(page, latex, name, params):
    text = (DOCS / page).read_text(encoding="utf-8")
    assert latex in text, f"docs/{page} no longer shows {latex}: update HAND_COPIES"
    act = nl.activations.get(name, **params)
    check_softmax_family(act, latex, act.derivative_formula)


def docstring_math(cls) -> list[str]:
    """The LaTeX of every ``.. math::`` block of a class docstring, one line each."""
    doc = inspect.getdoc(cls)
    blocks = re.findall(r"^\.\. math:: (.*(?:\n {2,}\S.*)*)", doc, re.MULTILINE)
    return [" ".join(line.strip() for line in block.splitlines()) for block in blocks]


@pytest.mark.parametrize("name", nl.losses.available())
def test_loss_docstrings_agree_with_the_metadata(name):
    """The API reference shows each loss's docstring, whose maths is written by hand:
    each block is checked like the metadata, for the variant whose input it names."""
    blocks = docstring_math(type(nl.losses.get(name)))
    assert blocks, f"the docstring of {name} shows no formula"
    variants = [loss for loss in LOSSES.values() if loss.name == name]
    pieces = [piece for block in blocks for piece in re.split(r",?\s*\\qquad\s*", block)]
    gradients = [piece for piece in pieces if piece.startswith(r"\frac{\partial")]
    formulas = [piece for piece in pieces if piece not in gradients]
    assert len(formulas) == len(gradients), f"{name}: each J_i needs its gradient: {pieces}"
    for formula, gradient in zip(formulas, gradients, strict=True):
        pred = input_name(variants[0], gradient)
        (loss,) = [v for v in variants if input_name(v, v.gradient_formula) == pred]
        check_loss_formula(loss, formula, gradient)
        check_loss_gradient(loss, gradient, formula)
