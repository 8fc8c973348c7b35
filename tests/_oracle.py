"""The correctness oracle: every activation's registered SymPy expression, in mpmath.

One place builds the reference for an activation (:func:`reference`): the expression
``act.sympy_expr(substitute=False)`` with its parameters replaced by the *exact* values of
the doubles the kernel receives, differentiated by ``sympy.diff`` and lambdified to mpmath.
Nothing here is rewritten by hand for accuracy; instead the reference is evaluated at a
working precision high enough for the cancellations in the textbook formulas (1 + erf(x)
at x << 0, 1 - tanh(x)^2 at x >> 0, log(1 + e^x) at x << 0): a double can be as small as
5e-324, so a result computed as the difference of O(1) terms needs about 330 digits plus
the size of the terms. :meth:`Reference.value` doubles the precision until two
precisions round to the same double (and raises when they never do), so an unreliable
oracle is a test *error*, never a silent pass.

Limits at +-inf come from mpmath at a huge argument (:meth:`Reference.limit`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import mpmath
import numpy as np
import sympy

import neuronlab as nl
from neuronlab.activations import Activation

X = sympy.Symbol("x", real=True)
#: Working precisions (decimal digits): the first that agrees with its double wins.
START_DPS = 400  # digits: 1 + e^-745 (the smallest double) must not round to 1
ZERO_DPS = 240  # an exact 0 must survive this many digits (see Reference._at)

EPS64 = float(np.finfo(np.float64).eps)  # 2^-52
EPS32 = float(np.finfo(np.float32).eps)  # 2^-23
TINY64 = float(np.finfo(np.float64).tiny)  # 2^-1022, the smallest normal double
TINY32 = float(np.finfo(np.float32).tiny)

# The grid of the issue: tails, the interesting middle, the extremes, and subnormals.
_MAGNITUDES = [1e-300, 1e-8, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 20.0, 40.0, 100.0, 700.0, 1e5, 1e60,
               1e300, 1e308, 5e-324, 1e-310, 0.1, 0.25, 1.2784645427610738, 0.7517915246935567]
GRID = np.array(sorted({s * m for m in _MAGNITUDES for s in (-1.0, 1.0)} | {0.0}))


# ----------------------------------------------------------------------------------------
# The parameter sets under test
# ----------------------------------------------------------------------------------------
def _cases() -> dict[str, Activation]:
    get = nl.activations.get
    cases = {name: get(name) for name in nl.activations.available()}
    cases.update({
        "leaky_relu(alpha=0.2)": get("leaky_relu", alpha=0.2),
        "hard_sigmoid(slope=1/6)": get("hard_sigmoid", slope=1 / 6),
        "hard_sigmoid(slope=0.2)": get("hard_sigmoid", slope=0.2),
        "elu(alpha=0.5)": get("elu", alpha=0.5),
        "elu(alpha=2)": get("elu", alpha=2.0),
        "swish(beta=0.5)": get("swish", beta=0.5),
        "swish(beta=2)": get("swish", beta=2.0),
        "gelu(approximate=tanh)": get("gelu", approximate="tanh"),
        "gelu(approximate=sigmoid)": get("gelu", approximate="sigmoid"),
        "prelu(alpha=0.1)": get("prelu", alpha=0.1),
        "rrelu(lower=0.1, upper=0.3)": get("rrelu", lower=0.1, upper=0.3),
    })
    return cases


CASES: dict[str, Activation] = _cases()

#: Where f' (or f'' for softsign) is discontinuous, for each case: x of the kink.
def kinks(act: Activation) -> tuple[float, ...]:
    name = act.name
    if name in ("relu", "leaky_relu", "prelu", "rrelu", "binary_step", "elu", "selu"):
        return (0.0,)
    if name == "hard_tanh":
        return (-1.0, 1.0)
    if name == "hard_sigmoid":
        return (-1 / (2 * act.slope), 1 / (2 * act.slope))
    if name == "softsign":
        return (0.0,)  # f'' jumps from +2 to -2
    return ()


def exact_kink(act: Activation, k: float) -> mpmath.mpf:
    """The kink near the double k, exactly: hard_sigmoid's +-1/(2 slope) with the slope's
    exact double value is not a double (3.00000000000000017 for slope = 1/6), and the
    one-sided limits must be taken on either side of it, not of k."""
    if act.name == "hard_sigmoid":
        return mpmath.sign(k) / (2 * mpmath.mpf(act.slope))
    return mpmath.mpf(k)


# ----------------------------------------------------------------------------------------
# The reference
# ----------------------------------------------------------------------------------------
def exact(v: float) -> sympy.Rational:
    """The exact rational value of a double (0.2 is 3602879701896397 / 2^54, not 1/5)."""
    return sympy.Rational(*float(v).as_integer_ratio())


@dataclass
class Reference:
    """f and its first three derivatives as mpmath functions, rounded to doubles on demand.

    The third derivative is there for the tolerances: how sensitive f'' is to x.
    """

    expressions: tuple[sympy.Expr, ...]
    _functions: list = field(default_factory=list)
    _cache: dict = field(default_factory=dict)  # (order, x) -> double: tests share points

    def __post_init__(self):
        self._functions = [sympy.lambdify(X, e, modules="mpmath") for e in self.expressions]

    def mp(self, order: int, x) -> mpmath.mpf:
        """The derivative of order 0 to 3 at the mpmath number x, at the current precision."""
        return mpmath.mpf(self._functions[order](x))

    def value(self, order: int, x: float) -> float:
        """f^(order)(x) correctly rounded to a double (NaN for NaN, the limit at +-inf)."""
        if math.isnan(x):
            return math.nan
        key = (order, x)
        if key not in self._cache:
            self._cache[key] = (self.limit(order, math.copysign(1.0, x)) if math.isinf(x)
                                else self._at(order, mpmath.mpf(x), x))
        return self._cache[key]

    def _at(self, order: int, x: mpmath.mpf, where) -> float:
        """Evaluate at doubling precision until two precisions give the same double.

        For |x| < 1000 the first precision must already resolve every term that can matter
        to a double: 1 + e^-745 (e^-745 = 5e-324, the smallest double) must not round to
        1, or two precisions would agree on the same wrong value; START_DPS digits do that.
        Beyond |x| = 1000 exponentially small terms are below 10^-400 even times x^4,
        invisible in a double, so a low start is safe and fast (at x = 1e308 mpmath's exp
        must reduce a 308-digit argument), with two guards against cancellation:
        * a residue of O(1) terms that cancel (softplus'' = e^x/(1 + e^x) - e^2x/(1 + e^x)^2
          at x = 1e5) is near 10^-dps and changes with dps, so it cannot agree with itself
          until it is below the doubles;
        * terms that agree to more digits than the precision cancel to an exact 0 at every
          low precision (softsign' = 1/(1 + x) - x/(1 + x)^2 = 1.2e-122 at x = 9e60), so an
          exact 0 is only accepted once it survives ZERO_DPS digits. The only polynomial
          cancellation in these expressions is softsign's, terms of size 1/|x| that differ
          by 1/x^2: an exact 0 at 240 digits means 1/|x| < 10^-240, so the true value,
          below 10^-480, is 0 in double anyway; beyond |x| = 1e162 that 1/x^2 is below
          the doubles whatever the precision, so an exact 0 is final there. Exponentially
          small residues (1 - tanh(x)^2 at x = 1e300) are far below the doubles too.
        """
        dps = START_DPS if abs(x) < 1000 else 30
        last = None
        for _ in range(7):
            with mpmath.workdps(dps):
                v = self.mp(order, x)
            rounded = float(v)  # round to nearest; overflow to inf, underflow to 0
            final = v != 0 or dps >= ZERO_DPS or abs(x) > 1e162
            if last is not None and _same(rounded, last) and final:
                return rounded
            last, dps = rounded, 2 * dps
        raise AssertionError(f"oracle unstable at x={where!r}, order {order}")

    def limit(self, order: int, sign: float) -> float:
        """The limit at sign * inf: the value at 10^80, which is the limit to double precision.

        Every function here approaches its limit at least as fast as 1/x (softsign), so at
        10^80 it is within 10^-80 of it; one that grows without bound (x, alpha x) is past
        10^60 there, and its limit is +-inf; one below 10^-60 there tends to 0 (no nonzero
        limit here is smaller than 10^-3). The value at 10^40 must agree (convergence).
        """
        near, far = (self._at(order, sign * mpmath.mpf(10) ** k, sign * 10.0**k) for k in (40, 80))
        assert abs(near - far) <= 1e-30 * abs(far) + 1e-60 or abs(far) > 1e60, (order, near, far)
        if abs(far) > 1e60:
            assert abs(near) > 1e30 and math.copysign(1, near) == math.copysign(1, far)
            return math.copysign(math.inf, far)
        return 0.0 if abs(far) < 1e-60 else far

    def values(self, order: int, x: np.ndarray) -> np.ndarray:
        return np.array([self.value(order, float(v)) for v in np.ravel(x)]).reshape(np.shape(x))


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def expressions(act: Activation, params: dict[str, float] | None = None):
    """f and its first three derivatives for `act`, SymPy expressions in x, parameters exact.

    ``params`` overrides the values of the kernel parameters (PReLU's per-unit slopes,
    RReLU's drawn slopes). Max/Min are rewritten as Piecewise first, so that ``diff``
    differentiates each piece; the DiracDelta that |x| produces in f'' is zero off the kink.
    """
    f = act.sympy_expr(substitute=False)
    names = act.kernel_param_names()
    if params is None:
        params = dict(zip(names, act.kernel_params(), strict=True))
    f = f.subs({sympy.Symbol(k, real=True): exact(v) for k, v in params.items()})
    f = f.rewrite(sympy.Piecewise)
    df = sympy.diff(f, X)
    d2f = sympy.diff(df, X).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    d3f = sympy.diff(d2f, X).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return f, df, d2f, d3f


@cache
def _reference_cached(case: str) -> Reference:
    return Reference(expressions(CASES[case]))


def reference(act: Activation | str, **params: float) -> Reference:
    """The mpmath reference of a case name or an activation (with overridden params)."""
    if isinstance(act, str):
        return _reference_cached(act)
    return Reference(expressions(act, params or None))


# ----------------------------------------------------------------------------------------
# Tolerances
# ----------------------------------------------------------------------------------------
def scale_tolerance(ref: np.ndarray, k: float, eps: float = EPS64, tiny: float = TINY64,
                    sensitivity: np.ndarray | float = 0.0) -> np.ndarray:
    """k ulp of the value's own scale, k * eps * max(|ref|, tiny), plus eps * sensitivity.

    The floor `tiny` (the smallest normal number) only matters where the true value is
    below the normal range, i.e. underflows into the subnormals, which carry fewer digits:
    there the allowed error is k * eps * tiny = k subnormal steps. `sensitivity` is zero
    unless a test documents why a function's own conditioning needs it.
    """
    return k * eps * np.maximum(np.abs(ref), tiny) + eps * np.asarray(sensitivity)


def assert_close(got: np.ndarray, ref: np.ndarray, tol: np.ndarray, x: np.ndarray, what: str):
    """Same infinities and NaNs, finite values within `tol`; a readable failure otherwise."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    bad = []
    for xi, g, r, t in zip(np.ravel(x), np.ravel(got), np.ravel(ref), np.ravel(tol), strict=True):
        if math.isnan(r) or math.isinf(r) or math.isnan(g) or math.isinf(g):
            ok = _same(g, r)
        else:
            ok = abs(g - r) <= t
        if not ok:
            err = abs(g - r) / max(abs(r), TINY64) / EPS64 if math.isfinite(g - r) else math.inf
            bad.append(f"  x={xi!r}: got {g!r}, want {r!r} ({err:.3g} ulp of scale)")
    assert not bad, f"{what}: {len(bad)} mismatches\n" + "\n".join(bad[:20])
