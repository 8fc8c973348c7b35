r"""Read the LaTeX of neuronlab's formula metadata into SymPy, for tests/test_formulas.py.

The textbook shows every activation and loss through its metadata (``formula``,
``derivative_formula``, ``gradient_formula``). To check that those strings say what the
code computes, :func:`parse` turns one into SymPy. SymPy's own ``parse_latex`` does not
read ``\begin{cases}``, ``\max`` or ``\sigma(x)``, so this is a small recursive-descent
parser for exactly the notation the metadata uses. Each construct has one meaning:

=========================================  ============================================
``\frac{a}{b}``, ``\tfrac``, ``a / b``     a / b (after ``/`` one factor only)
``\frac{\partial J}{\partial z_k}``        ``Derivative(J, z[k])``, left unevaluated
``f(x)``, ``f'(x)``, bare ``f``            an undefined function ``f`` and its
                                           derivative; a bare ``f`` is the symbol f
                                           (another letter before ``(`` is an error:
                                           function or product? ``d`` is one too)
``\sigma``, ``\tanh``, ``\ln`` = ``\log``  logistic sigmoid, tanh, natural logarithm
``\exp``, ``e^{t}``, ``\sqrt{t}``          the exponential, the square root
``\Phi``, ``\varphi`` = ``\phi``           standard normal distribution and density
``\operatorname{erf|sech|sp|softplus}``    sp = softplus = ln(1 + e^t)
``\operatorname{softmax}(z)_k``             e^{z_k} / sum_j e^{z_j}; ``\mathbf{z}`` is z
``\max(a, b)``, ``\min(a, b)``             ``Max``, ``Min``
``\max_{p = 1, \dots, k} t``, ``\arg\max_q t``  the largest t (first arg max) over p
``\sum_{k=1}^{K} t``, ``\sum_k t``         ``Sum`` (upper bound K when not written)
``r_k``, ``z_{u,p}``, ``\delta_{ij}``      ``Indexed``; Kronecker delta
``|t|``, ``\cdot``, ``\times``, juxtaposition  ``Abs``, products
``\begin{cases} a & x > 0 \\ b & \text{otherwise} \end{cases}``   ``Piecewise``
``1\{t > 0\}``                            the indicator: 1 where the condition holds,
                                           else 0 (``Piecewise``)
``\alpha``, ``\beta``, ..., ``\Delta``, ``\pi``, ``e``  symbols named alpha, beta, ...,
                                           Delta; pi; Euler's e
=========================================  ============================================

A function written without parentheses takes the one factor after it (``\ln y_k``,
``\tanh u``, ``\ln \frac{a}{b}``, ``\ln \sum_j ...`` whose sum runs to the end of its
term); a further factor after that argument is an error, because ``\ln 2 x`` could mean
either product. Sums and maxima take the rest of their term.

A formula is one or more statements separated by ``,`` and ``\quad``: equality chains
``a = b = c`` (every side is the same function), ``a \sim U(l, u)`` (a random draw), a
``\text{...}`` note after a statement, and a parenthesised condition ``(x \ne 0)`` saying
where the statement before it holds. A cases environment that is a whole side may hold
an equality in a piece (``\alpha e^{x} = f(x) + \alpha``): it gives one side per reading.
Letters are real symbols except those used in a subscript (indices, integers). Spacing
(``\,``, ``\ ``, ``\bigl``, ``\left``, ...) is ignored. Everything else raises
:class:`LatexError` naming the position: a formula is never guessed at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

import sympy

__all__ = ["LatexError", "Statement", "Uniform", "parse"]


class LatexError(ValueError):
    """The formula is not in the subset this module reads; says what and where."""

    def __init__(self, message: str, text: str, pos: int):
        pointer = f"\n  {text}\n  {' ' * pos}^"
        super().__init__(f"{message} (at character {pos}){pointer}")


@dataclass(frozen=True)
class Uniform:
    """The right side of ``a \\sim U(l, u)``: a uniform draw from [low, high]."""

    low: sympy.Expr
    high: sympy.Expr


@dataclass(frozen=True)
class Statement:
    """One statement of a formula: ``sides[0] = sides[1] = ...`` (or ``~``).

    A cases side with an equality in one of its pieces gives one side per reading, so
    ``sides`` lists every expression the statement claims is equal to the others.
    """

    relation: str  # "=" or "~"
    sides: tuple
    condition: sympy.Basic = sympy.true  # where it holds: "(x \ne 0)" after it
    note: str = ""  # "\text{ (training)}" after it


# ----------------------------------------------------------------------------------------
# The vocabulary
# ----------------------------------------------------------------------------------------
def _softplus(t):
    return sympy.log(1 + sympy.exp(t))


def _sigmoid(t):
    return 1 / (1 + sympy.exp(-t))


def _normal_cdf(t):
    return (1 + sympy.erf(t / sympy.sqrt(2))) / 2


def _normal_pdf(t):
    return sympy.exp(-t**2 / 2) / sympy.sqrt(2 * sympy.pi)


#: Functions of one argument, by the name after the backslash or in \operatorname{}.
FUNCTIONS = {
    "exp": sympy.exp, "ln": sympy.log, "log": sympy.log, "tanh": sympy.tanh,
    "sigma": _sigmoid, "Phi": _normal_cdf, "varphi": _normal_pdf, "phi": _normal_pdf,
    "erf": sympy.erf, "sech": sympy.sech, "sp": _softplus, "softplus": _softplus,
}
OPERATORNAMES = {"erf", "sech", "sp", "softplus", "softmax"}  # written \operatorname{...}
GREEK = {"alpha", "beta", "gamma", "lambda", "mu", "theta", "tau", "varepsilon", "epsilon", "Delta"}
RELATIONS = {"<": sympy.Lt, ">": sympy.Gt, "le": sympy.Le, "leq": sympy.Le, "ge": sympy.Ge,
             "geq": sympy.Ge, "ne": sympy.Ne, "neq": sympy.Ne, "=": sympy.Eq}
SPACING = {",", ";", ":", "!", " ", "quad", "qquad"}  # \quad also separates statements
SIZES = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
         "biggl", "biggr", "Biggl", "Biggr"}


class MaxOver(sympy.Function):
    r"""``\max_{v = lo, ..., hi} body``: unevaluated until lo and hi are integers."""

    @classmethod
    def eval(cls, body, v, lo, hi):
        if lo.is_Integer and hi.is_Integer:
            return sympy.Max(*(body.subs(v, n) for n in range(int(lo), int(hi) + 1)))
        return None


class ArgMaxOver(sympy.Function):
    r"""``\arg\max_{v} body``: the first v where body is largest, once the values are numbers."""

    @classmethod
    def eval(cls, body, v, lo, hi):
        if lo.is_Integer and hi.is_Integer:
            return FirstArgMax(lo, *(body.subs(v, n) for n in range(int(lo), int(hi) + 1)))
        return None


class FirstArgMax(sympy.Function):
    """The position, counted from `first`, of the first largest of `values`."""

    @classmethod
    def eval(cls, first, *values):
        if not all(value.is_number for value in values):
            return None
        best = max(range(len(values)), key=lambda n: (values[n], -n))  # ties: the first
        return first + best


# ----------------------------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # cmd, num, letter, sym, text, opname, begin, end, sep, eof
    value: str
    pos: int


_TOKEN = re.compile(r"\s*(?:(?P<cmd>\\(?:[A-Za-z]+|.))|(?P<num>\d+(?:\.\d+)?)|(?P<letter>[A-Za-z])"
                    r"|(?P<sym>[-+*/=()\[\]{}^_,|'&<>]))")
_BRACED = {"text", "operatorname", "begin", "end", "mathbf"}  # read their {argument} raw


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            start = len(text[pos:]) - len(text[pos:].lstrip()) + pos
            raise LatexError(f"unexpected character {text[start]!r}", text, start)
        kind = m.lastgroup
        value = m.group(kind)
        start = m.start(kind)
        pos = m.end()
        if kind == "cmd":
            name = value[1:]
            if name in _BRACED:
                arg, pos = _braced_argument(text, pos, value)
                if name == "mathbf" and not re.fullmatch(r"\s*[A-Za-z]\s*", arg):
                    raise LatexError("\\mathbf takes one letter (a vector)", text, start)
                kind, value = {"text": ("text", arg), "operatorname": ("opname", arg.strip()),
                               "begin": ("begin", arg), "end": ("end", arg),
                               "mathbf": ("letter", arg.strip())}[name]
            elif name in SPACING:
                kind, value = ("sep", name) if name in ("quad", "qquad") else ("", "")
            elif name in SIZES:
                nxt = text[pos:].lstrip()[:1]
                if nxt not in ("(", ")", "[", "]", "|"):
                    raise LatexError(f"\\{name} must be followed by a bracket or |", text, start)
                kind = ""
            else:
                value = name
        if kind:
            out.append(_Token(kind, value, start))
    out.append(_Token("eof", "", len(text)))
    return out


def _braced_argument(text: str, pos: int, command: str) -> tuple[str, int]:
    m = re.compile(r"\s*\{").match(text, pos)
    if not m:
        raise LatexError(f"{command} needs a {{...}} argument", text, pos)
    depth, i = 1, m.end()
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    if depth:
        raise LatexError(f"the argument of {command} is never closed", text, m.end() - 1)
    return text[m.end():i - 1], i


def _subscript_letters(tokens: list[_Token]) -> set[str]:
    """The letters used in any subscript: indices and bounds, made integer symbols."""
    letters: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.kind == "sym" and tok.value == "_":
            depth, j = 0, i + 1
            while j < len(tokens):
                t = tokens[j]
                if t.kind == "sym" and t.value == "{":
                    depth += 1
                elif t.kind == "sym" and t.value == "}":
                    depth -= 1
                elif t.kind == "letter":
                    letters.add(t.value)
                if depth <= 0:
                    break
                j += 1
    return letters


# ----------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, undefined: tuple[str, ...], implicit_upper: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.undefined = set(undefined)
        self.integers = _subscript_letters(self.tokens)
        self.implicit_upper = implicit_upper
        self.abs_depth = 0  # inside |...| a bar closes instead of opening

    # -- tokens ---------------------------------------------------------------------
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def at(self, kind: str, *values: str) -> bool:
        return self.tok.kind == kind and (not values or self.tok.value in values)

    def take(self) -> _Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, kind: str, value: str = "") -> _Token:
        if not self.at(kind, *([value] if value else [])):
            self.fail(f"expected {value or kind!r}")
        return self.take()

    def fail(self, message: str, tok: _Token | None = None):
        tok = tok or self.tok
        found = "the end" if tok.kind == "eof" else repr(("\\" if tok.kind == "cmd" else "") + tok.value)
        raise LatexError(f"{message}, found {found}", self.text, tok.pos)

    def symbol(self, name: str) -> sympy.Symbol:
        if name in self.integers:
            return sympy.Symbol(name, integer=True)
        return sympy.Symbol(name, real=True)

    # -- statements -----------------------------------------------------------------
    def formula(self) -> tuple[Statement, ...]:
        statements: list[Statement] = []
        while True:
            if statements and self.at("sym", "("):
                self.take()
                condition = self.condition()
                self.expect("sym", ")")
                last = statements.pop()
                statements.append(Statement(last.relation, last.sides, condition, last.note))
            else:
                statements.append(self.statement())
            if self.at("eof"):
                return tuple(statements)
            if not (self.at("sym", ",") or self.at("sep")):
                self.fail("expected an operator, ',' or \\quad")
            while self.at("sym", ",") or self.at("sep"):
                self.take()

    def statement(self) -> Statement:
        sides = list(self.side())
        relation = ""
        while self.at("sym", "=") or self.at("cmd", "sim"):
            rel = "=" if self.take().value == "=" else "~"
            if relation and rel != relation:
                self.fail("a statement mixes = and \\sim")
            relation = rel
            sides += [self.distribution()] if rel == "~" else self.side()
        if not relation:
            self.fail("a statement needs '=' or '\\sim'")
        note = self.take().value.strip() if self.at("text") else ""
        return Statement(relation, tuple(sides), sympy.true, note)

    def side(self) -> list:
        """One side of a chain: an expression, or the readings of a whole-side cases."""
        if self.at("begin"):
            start = self.i
            readings = self.cases(allow_chains=True)
            if self.at("sym", "=") or self.at("sym", ",") or self.at("sep") or self.at("eof") \
                    or self.at("text"):
                return readings
            self.i = start  # the cases are a factor of a larger expression
        return [self.expr()]

    def distribution(self) -> Uniform:
        tok = self.expect("letter")
        if tok.value != "U":
            self.fail("only U(low, high) can follow \\sim", tok)
        self.expect("sym", "(")
        low = self.expr()
        self.expect("sym", ",")
        high = self.expr()
        self.expect("sym", ")")
        return Uniform(low, high)

    def condition(self) -> sympy.Basic:
        if self.at("text"):
            tok = self.take()
            if tok.value.strip() != "otherwise":
                self.fail("the only text condition is \\text{otherwise}", tok)
            return sympy.true
        left = self.expr()
        parts = []
        while self.at("sym", "<", ">", "=") or self.at("cmd", *RELATIONS):
            rel = RELATIONS[self.take().value]
            right = self.expr()
            parts.append(rel(left, right))
            left = right
        if not parts:
            self.fail("expected a condition such as x > 0")
        return sympy.And(*parts)

    def cases(self, allow_chains: bool) -> list[sympy.Expr]:
        begin = self.expect("begin")
        if begin.value != "cases":
            self.fail("the only environment is cases", begin)
        rows = []
        while True:
            values = [self.expr()]
            while self.at("sym", "="):
                self.take()
                values.append(self.expr())
            if len(values) > 1 and not allow_chains:
                self.fail("an equality inside a piece needs the cases to be a whole side")
            self.expect("sym", "&")
            rows.append((values, self.condition()))
            if not self.at("cmd", "\\"):
                break
            self.take()
        end = self.expect("end")
        if end.value != "cases":
            self.fail("\\begin{cases} is closed by another environment", end)
        for _, cond in rows[:-1]:
            if cond is sympy.true:
                self.fail("'otherwise' must be the last piece", end)
        return [sympy.Piecewise(*zip(choice, (c for _, c in rows), strict=True))
                for choice in product(*(values for values, _ in rows))]

    # -- expressions ----------------------------------------------------------------
    def expr(self) -> sympy.Expr:
        sign = 1
        if self.at("sym", "+", "-"):
            sign = -1 if self.take().value == "-" else 1
        value = sign * self.term()
        while self.at("sym", "+", "-"):
            op = self.take().value
            value = value + self.term() if op == "+" else value - self.term()
        return value

    def term(self) -> sympy.Expr:
        value = self.factor()
        while True:
            if self.at("cmd", "cdot", "times"):
                self.take()
                value = value * self.factor()
            elif self.at("sym", "/"):
                self.take()
                value = value / self.factor()
                self.no_factor_after("a / b c is ambiguous; write \\frac{a}{b} or a / (b c)")
            elif self.starts_factor():
                value = value * self.factor()
            else:
                return value

    def starts_factor(self) -> bool:
        tok = self.tok
        if tok.kind in ("num", "letter", "opname", "begin"):
            return True
        if tok.kind == "sym":
            return tok.value in "([{" or (tok.value == "|" and not self.abs_depth)
        if tok.kind == "cmd":
            return tok.value in FUNCTIONS or tok.value in GREEK or tok.value in (
                "frac", "tfrac", "dfrac", "sqrt", "sum", "max", "min", "arg", "pi", "delta")
        return False

    def no_factor_after(self, message: str):
        if self.starts_factor():
            self.fail(message)

    def factor(self) -> sympy.Expr:
        base = self.atom()
        if self.at("sym", "^"):
            self.take()
            base = base ** self.superscript()
        return base

    def superscript(self) -> sympy.Expr:
        if self.at("sym", "{"):
            return self.group("{", "}")
        tok = self.take()
        if tok.kind == "num" and len(tok.value) == 1:
            return sympy.Integer(tok.value)
        if tok.kind == "letter":
            return self.symbol(tok.value)
        self.fail("write a superscript of more than one character in braces", tok)

    def group(self, open_: str, close: str) -> sympy.Expr:
        self.expect("sym", open_)
        saved, self.abs_depth = self.abs_depth, 0
        value = self.expr()
        self.abs_depth = saved
        self.expect("sym", close)
        return value

    def atom(self) -> sympy.Expr:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            if tok.value == "1" and self.at("cmd", "{"):
                return self.indicator()
            return sympy.Rational(tok.value)  # exact: 0.044715 is 44715/10^6
        if tok.kind == "letter":
            return self.letter()
        if tok.kind == "opname":
            if tok.value not in OPERATORNAMES:
                self.fail("unknown \\operatorname")
            self.take()
            return self.softmax() if tok.value == "softmax" else self.function(tok.value)
        if tok.kind == "begin":
            readings = self.cases(allow_chains=False)
            return readings[0]
        if tok.kind == "sym" and tok.value in "([":
            return self.group(tok.value, {"(": ")", "[": "]"}[tok.value])
        if tok.kind == "sym" and tok.value == "{":
            return self.group("{", "}")
        if tok.kind == "sym" and tok.value == "|" and not self.abs_depth:
            self.take()
            self.abs_depth += 1
            value = self.expr()
            self.abs_depth -= 1
            self.expect("sym", "|")
            return sympy.Abs(value)
        if tok.kind == "cmd":
            return self.command()
        self.fail("expected a number, a symbol or a function")

    def indicator(self) -> sympy.Expr:
        r"""``1\{condition\}``: 1 where the condition holds, else 0."""
        self.expect("cmd", "{")
        saved, self.abs_depth = self.abs_depth, 0
        condition = self.condition()
        self.abs_depth = saved
        self.expect("cmd", "}")
        return sympy.Piecewise((1, condition), (0, True))

    def letter(self) -> sympy.Expr:
        tok = self.take()
        name = tok.value
        if name in self.undefined and (self.at("sym", "(") or self.at("sym", "'")):
            return self.function(name)
        if name == "e":
            if self.at("sym", "_"):
                self.fail("e is Euler's number; it takes no subscript")
            return sympy.E
        if name == "d":
            self.fail("d is not read as a differential or a symbol: write derivatives as f'(x) "
                      "or \\frac{\\partial f}{\\partial x}", tok)
        if self.at("sym", "("):
            self.fail(f"{name}(...) could be a function or a product: write {name} \\cdot (...), "
                      "or name the function in undefined=")
        return self.subscripted(name)

    def subscripted(self, name: str) -> sympy.Expr:
        if not self.at("sym", "_"):
            return self.symbol(name)
        self.take()
        indices = self.indices()
        return sympy.IndexedBase(name, real=True)[tuple(indices)]

    def indices(self) -> list[sympy.Expr]:
        """``_k``, ``_{ij}``, ``_{u,p}``: letters (integer symbols) and whole numbers."""
        if not self.at("sym", "{"):
            tok = self.take()
            if tok.kind == "letter":
                return [self.symbol(tok.value)]
            if tok.kind == "num" and tok.value.isdigit() and len(tok.value) == 1:
                return [sympy.Integer(tok.value)]
            self.fail("a subscript is a letter, a digit or {...}", tok)
        self.take()
        out = []
        while not self.at("sym", "}"):
            tok = self.take()
            if tok.kind == "letter":
                out.append(self.symbol(tok.value))
            elif tok.kind == "num" and tok.value.isdigit():
                out.append(sympy.Integer(tok.value))
            elif not (tok.kind == "sym" and tok.value == ","):
                self.fail("an index subscript holds letters, whole numbers and commas", tok)
        self.take()
        if not out:
            self.fail("empty subscript")
        return out

    def command(self) -> sympy.Expr:
        tok = self.take()
        name = tok.value
        if name in ("frac", "tfrac", "dfrac"):
            return self.fraction()
        if name == "sqrt":
            if self.at("sym", "["):
                self.fail("only square roots are supported")
            return sympy.sqrt(self.group("{", "}"))
        if name == "pi":
            return sympy.pi
        if name in GREEK:
            return self.subscripted(name)
        if name == "delta":
            self.expect("sym", "_")
            return sympy.KroneckerDelta(*self.index_pair())
        if name == "sum":
            return self.big_operator("sum")
        if name in ("max", "min"):
            if self.at("sym", "_"):
                if name == "min":
                    self.fail("\\min_{...} is not supported")
                return self.big_operator("max")
            return self.max_min(name)
        if name == "arg":
            self.expect("cmd", "max")
            return self.big_operator("argmax")
        if name in FUNCTIONS:
            return self.function(name)
        self.fail("unknown or unsupported command", tok)

    def index_pair(self) -> tuple[sympy.Expr, sympy.Expr]:
        start = self.tok
        indices = self.indices()
        if len(indices) != 2:
            self.fail("\\delta takes two indices, \\delta_{ij}", start)
        return indices[0], indices[1]

    def fraction(self) -> sympy.Expr:
        if self.tokens[self.i + 1].kind == "cmd" and self.tokens[self.i + 1].value == "partial":
            self.expect("sym", "{")
            self.expect("cmd", "partial")
            numerator = self.expr()
            self.expect("sym", "}")
            self.expect("sym", "{")
            self.expect("cmd", "partial")
            variable = self.atom()
            if not isinstance(variable, sympy.Symbol | sympy.Indexed):
                self.fail("\\partial in a denominator takes one variable")
            self.expect("sym", "}")
            return sympy.Derivative(numerator, variable, evaluate=False)
        numerator = self.group("{", "}")
        return numerator / self.group("{", "}")

    def softmax(self) -> sympy.Expr:
        """``\\operatorname{softmax}(z)_k`` = e^{z_k} / sum_j e^{z_j}, j from 1 to K."""
        self.expect("sym", "(")
        vector = self.expect("letter").value
        self.expect("sym", ")")
        if not self.at("sym", "_"):
            self.fail("softmax(z) is a vector: write the entry, softmax(z)_k")
        self.take()
        (k,) = self.indices()
        z = sympy.IndexedBase(vector, real=True)
        j = sympy.Dummy("j", integer=True)
        return sympy.exp(z[k]) / sympy.Sum(sympy.exp(z[j]), (j, 1, self.symbol(self.implicit_upper)))

    def max_min(self, name: str) -> sympy.Expr:
        self.expect("sym", "(")
        args = [self.expr()]
        while self.at("sym", ","):
            self.take()
            args.append(self.expr())
        self.expect("sym", ")")
        if len(args) < 2:
            self.fail(f"\\{name} needs at least two arguments")
        return (sympy.Max if name == "max" else sympy.Min)(*args)

    def big_operator(self, kind: str) -> sympy.Expr:
        r"""``\sum_{k=1}^{K}``, ``\sum_k``, ``\max_{p = 1, \dots, k}``, ``\arg\max_q``: the
        operand is the rest of the term."""
        self.expect("sym", "_")
        lower = sympy.Integer(1)
        upper = self.symbol(self.implicit_upper)
        if self.at("letter"):
            variable = self.symbol(self.take().value)
        else:
            self.expect("sym", "{")
            variable = self.symbol(self.expect("letter").value)
            if self.at("sym", "="):
                self.take()
                lower = self.expr()
                if kind != "sum":  # \max_{p = 1, \dots, k}
                    self.expect("sym", ",")
                    if not self.at("cmd", "dots", "ldots"):
                        self.fail("expected \\dots in the range of a maximum")
                    self.take()
                    self.expect("sym", ",")
                    upper = self.expr()
            self.expect("sym", "}")
        if self.at("sym", "^"):
            if kind != "sum":
                self.fail("write the range of a maximum as _{p = 1, \\dots, k}")
            self.take()
            upper = self.superscript()
        body = self.term()
        if kind == "sum":
            return sympy.Sum(body, (variable, lower, upper))
        return (MaxOver if kind == "max" else ArgMaxOver)(body, variable, lower, upper)

    def function(self, name: str) -> sympy.Expr:
        """A function applied to an argument, with an optional ' (derivative) or ^n (power)."""
        fn = sympy.Function(name) if name in self.undefined else FUNCTIONS[name]
        prime = power = None
        if self.at("sym", "'"):
            self.take()
            prime = True
        if self.at("sym", "^"):
            self.take()
            power = self.superscript()
            if power.is_number and power < 0:
                self.fail("a negative power of a function name is ambiguous (inverse?)")
        if self.at("sym", "("):
            arg = self.group("(", ")")
        else:
            if name in self.undefined:
                self.fail(f"{name} needs its argument in parentheses")
            arg = self.factor()
            self.no_factor_after(f"\\{name} without parentheses takes one factor; "
                                 "write its argument in parentheses")
        if prime:
            t = sympy.Dummy("t", real=True)
            value = sympy.diff(fn(t), t).subs(t, arg)
        else:
            value = fn(arg)
        return value ** power if power is not None else value


def parse(latex: str, *, undefined: tuple[str, ...] = ("f",),
          implicit_upper: str = "K") -> tuple[Statement, ...]:
    r"""The statements of a LaTeX formula as SymPy objects.

    Parameters
    ----------
    latex : str
        The formula, e.g. ``r"f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}"``.
    undefined : tuple of str
        Function names left as undefined SymPy functions: ``f`` by default. Naming a known
        one (``"sigma"``, ``"tanh"``) keeps it opaque too, e.g. to find where a derivative
        is written with the function's output.
    implicit_upper : str
        The upper bound of ``\sum_k`` and ``\arg\max_q`` when none is written.

    Raises
    ------
    LatexError
        On anything outside the subset described in the module docstring.
    """
    if not isinstance(latex, str):
        raise TypeError(f"latex must be a str, got {type(latex).__name__}")
    return _Parser(latex, tuple(undefined), implicit_upper).formula()
