"""Fit the polynomials of nl_fastmath.h: minimax coefficients by the Remez exchange, in mpmath.

Every polynomial coefficient in ``neuronlab/_kernels/fastmath/nl_fastmath.h`` was printed by this
script; run it to reproduce them (under a minute)::

    python neuronlab/_kernels/fastmath/tools/fit_polynomials.py            # all of them
    python neuronlab/_kernels/fastmath/tools/fit_polynomials.py expm1      # one

Each approximation writes a function F as ``F = known part + scale * P(v)`` and fits the
polynomial P of a given degree so that the largest *relative* error of F over the interval
is as small as possible (weight = scale / F). The Remez exchange: make the error alternate
in sign with equal size at degree + 2 points, move those points to where the error of the
new polynomial peaks, repeat until the peaks are level (the minimax polynomial, by
Chebyshev's equioscillation theorem). The coefficients must then be rounded to the C type
(double or float): the better of plain rounding and :func:`remez_rounded` (one coefficient
at a time, refitting the rest) is kept, and the error is measured again on a dense grid
with the coefficients exactly as C stores them.

The approximations (see nl_fastmath.h for how each is used):

``expm1``
    expm1(r) = r + r^2/2 + r^3 P(r) for |r| <= ln(2)/2, the reduced argument of expm1.
``exp``
    e^r = 1 + r P(r) for |r| <= ln(2)/2 (float only; double takes e^r = 1 + expm1(r)).
    Printed times 2^64, as nl_fastmath.h stores P: the kernel forms 2^64 e^r.
``tanh``
    tanh(r) = r + r^3 P(r^2) for |r| <= 3/4 ln(2)/2 (double only), the reduced argument of
    the addition-theorem tanh.
``log1p``
    log1p(u) = 2 atanh(s) = 2s + s z P(z) with s = u / (2 + u), z = s^2 <= 1/9 (-1/2 <= u <= 1).
``normal``
    The normal distribution function: Phi(-a) = e^(-a^2/2) Q(u) / (a + K) with
    u = (a - K)/(a + K), for 0 <= a <= 39 (double, K = 5) or 15 (float, K = 3), where
    Phi(-a) underflows; Phi(a) = 1 - Phi(-a). (For float, K = 3 needs a degree lower
    than K = 5 for the same error.) Printed times 2^-129 (float: 2^-65), as nl_fastmath.h
    stores Q: with d = 2/(a + K), Phi(-a) is then 2^128 e^(-a^2/2) times d Q(u).
``tanhf_table``
    The float tanh of nl_tanhf.c: 30 polynomials of degree 5, one per interval of
    :func:`tanhf_intervals`, printed as the C table (``python fit_polynomials.py tanhf_table``).
"""
from __future__ import annotations

import argparse
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath as mp

DPS = 50  # working precision of the fits (decimal digits)


@dataclass(frozen=True)
class Fit:
    """F(v) = known(v) + scale(v) P(v) on [lo, hi]; P of degree `degree[ctype]`."""

    name: str
    target: Callable  # F
    known: Callable
    scale: Callable
    lo: float | str
    hi: float | str
    degree: dict[str, int]
    note: str
    # nl_fastmath.h stores some polynomials times 2^e (exactly), to save a multiplication
    stored_scale: dict[str, int] = field(default_factory=dict)


def _expm1_fit() -> Fit:
    h = mp.log(2) / 2 * mp.mpf("1.0001")  # a little slack: k is rounded from x / ln 2 in floating point
    return Fit("expm1", mp.expm1, lambda r: r + r * r / 2, lambda r: r**3, -h, h,
               {"double": 9, "float": 4}, "expm1(r) = r + r^2/2 + r^3 P(r), |r| <= ln(2)/2")


def _exp_fit() -> Fit:
    h = mp.log(2) / 2 * mp.mpf("1.0001")
    return Fit("exp", mp.exp, lambda r: 1, lambda r: r, -h, h,
               {"float": 5}, "e^r = 1 + r P(r), |r| <= ln(2)/2", {"float": 64})


def _tanh_fit() -> Fit:
    c = mp.mpf(3) / 4 * mp.log(2) / 2 * mp.mpf("1.001")  # k is rounded from a / L - 1/4 in floating point

    def target(z):  # in z = r^2: tanh is odd
        return mp.tanh(mp.sqrt(z))

    return Fit("tanh", target, lambda z: mp.sqrt(z), lambda z: z * mp.sqrt(z), 0, c * c,
               {"double": 6}, "tanh(r) = r + r^3 P(r^2), |r| <= 3/4 ln(2)/2")


def _log1p_fit() -> Fit:
    def target(z):
        s = mp.sqrt(z)
        return 2 * mp.atanh(s)

    def known(z):
        return 2 * mp.sqrt(z)

    def scale(z):
        return mp.sqrt(z) * z

    return Fit("log1p", target, known, scale, 0, mp.mpf(1) / 9 * mp.mpf("1.0001"),
               {"double": 9, "float": 3}, "log1p(u) = 2s + s z P(z), s = u/(2+u), z = s^2 <= 1/9")


def _normal_fit(ctype: str, a_max: int, degree: int, k: int, stored_scale: int) -> Fit:
    def target(u):  # a = K (1 + u) / (1 - u) inverts u = (a - K) / (a + K)
        a = k * (1 + u) / (1 - u)
        return (a + k) * mp.ncdf(-a) * mp.exp(a * a / 2)

    return Fit(f"normal ({ctype})", target, lambda u: 0, lambda u: 1,
               -1, (a_max - k) / (a_max + k), {ctype: degree},
               f"Phi(-a) = e^(-a^2/2) Q(u) / (a + {k}), u = (a - {k})/(a + {k}), 0 <= a <= {a_max}",
               {ctype: stored_scale})


def fits() -> list[Fit]:
    return [_expm1_fit(), _exp_fit(), _tanh_fit(), _log1p_fit(),
            _normal_fit("double", 39, 21, k=5, stored_scale=-129),
            _normal_fit("float", 15, 8, k=3, stored_scale=-65)]


# ----------------------------------------------------------------------------------------
# The Remez exchange for min max |weight (g - P)|, g = (F - known) / scale, weight = scale / F
# ----------------------------------------------------------------------------------------
def _grid(lo, hi, n):
    """Chebyshev-spaced points (dense near the ends, where errors of polynomials peak)."""
    return [lo + (hi - lo) * (1 - mp.cos(mp.pi * (j + mp.mpf(1) / 2) / n)) / 2 for j in range(n)]


def remez(fit: Fit, degree: int, grid_size: int = 1500, iterations: int = 40):
    """Minimax coefficients c[0..degree] (P(v) = sum c_j v^j) and the levelled error."""
    lo, hi = mp.mpf(fit.lo), mp.mpf(fit.hi)
    xs = [x for x in _grid(lo, hi, grid_size) if abs(x) > (hi - lo) * mp.mpf("1e-6")]

    def g(v):
        return (fit.target(v) - fit.known(v)) / fit.scale(v)

    def weight(v):
        return abs(fit.scale(v) / fit.target(v))

    gs = [g(x) for x in xs]
    ws = [weight(x) for x in xs]
    # start from Chebyshev points; those near 0, where the weight may vanish (F = known
    # there), are moved away from it
    away = [x for x in xs if abs(x) > (hi - lo) / 20]
    reference = [away[round(i * (len(away) - 1) / (degree + 1))] for i in range(degree + 2)]
    best = None
    for _ in range(iterations):
        matrix = mp.matrix(degree + 2, degree + 2)
        rhs = mp.matrix(degree + 2, 1)
        for i, x in enumerate(reference):  # weight(x) (P(x) - g(x)) = -(-1)^i E, row by row
            wx = weight(x)
            for j in range(degree + 1):
                matrix[i, j] = wx * x**j
            matrix[i, degree + 1] = (-1) ** i
            rhs[i] = wx * g(x)
        solution = mp.lu_solve(matrix, rhs)
        c = [solution[j] for j in range(degree + 1)]
        level = abs(solution[degree + 1])
        err = [(gi - mp.polyval(c[::-1], x)) * wi for x, gi, wi in zip(xs, gs, ws, strict=True)]
        peak = max(abs(e) for e in err)
        if best is None or peak < best[1]:
            best = (c, peak)
        if peak <= level * (1 + mp.mpf("1e-4")):
            break
        # the largest error in each run of equal sign; keep degree + 2 of them
        runs, start = [], 0
        for j in range(1, len(err) + 1):
            if j == len(err) or (err[j] >= 0) != (err[start] >= 0):
                runs.append(max(range(start, j), key=lambda m: abs(err[m])))
                start = j
        while len(runs) > degree + 2:
            runs.pop(0 if abs(err[runs[0]]) < abs(err[runs[-1]]) else -1)
        if len(runs) < degree + 2:
            break
        reference = [xs[m] for m in runs]
    return best


def remez_rounded(fit: Fit, degree: int, ctype: str) -> list[float]:
    """Coefficients representable in `ctype` that stay close to minimax.

    Rounding all minimax coefficients at once can cost more accuracy than the fit had.
    Instead c_0 is rounded first, then
    c_1 .. c_degree are fitted again with c_0 fixed, c_1 is rounded, and so on: each later
    coefficient absorbs the rounding of the earlier ones.
    """
    fixed: list[float] = []
    for j in range(degree + 1):
        def known(v, fixed=tuple(fixed)):
            return fit.known(v) + fit.scale(v) * sum(c * v**i for i, c in enumerate(fixed))

        def scale(v, j=j):
            return fit.scale(v) * v**j

        rest = Fit(fit.name, fit.target, known, scale, fit.lo, fit.hi, {}, fit.note)
        c, _ = remez(rest, degree - j)
        fixed.append(rounded(c[0], ctype))
    return fixed


def rounded(value, ctype: str) -> float:
    """The coefficient as the C type stores it (round to nearest)."""
    v = float(value)
    return struct.unpack("f", struct.pack("f", v))[0] if ctype == "float" else v


def error_after_rounding(fit: Fit, coefficients: list[float], points: int = 3000) -> mp.mpf:
    """Largest relative error of F with the rounded coefficients, on an even grid."""
    lo, hi = mp.mpf(fit.lo), mp.mpf(fit.hi)
    c = [mp.mpf(v) for v in coefficients][::-1]
    worst = mp.mpf(0)
    for j in range(points + 1):
        v = lo + (hi - lo) * j / points
        f = fit.target(v)
        if f == 0:
            continue  # F = known = 0 there, exactly
        worst = max(worst, abs((fit.known(v) + fit.scale(v) * mp.polyval(c, v) - f) / f))
    return worst


def c_literal(v: float, ctype: str) -> str:
    """The exact C literal: hexadecimal, so that no decimal rounding intervenes."""
    mantissa, exponent = v.hex().split("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}{'f' if ctype == 'float' else ''}"


def report(fit: Fit) -> None:
    print(f"== {fit.name}: {fit.note}")
    for ctype, degree in fit.degree.items():
        c, level = remez(fit, degree)
        # the better of rounding the minimax coefficients and rounding them one by one
        after, coefficients = min((error_after_rounding(fit, cs), cs)
                                  for cs in ([rounded(v, ctype) for v in c], remez_rounded(fit, degree, ctype)))
        print(f"   {ctype}, degree {degree}: relative error 2^{float(mp.log(level, 2)):.1f} (minimax), "
              f"2^{float(mp.log(after, 2)):.1f} with the coefficients in {ctype}")
        e = fit.stored_scale.get(ctype, 0)
        literals = [c_literal(math.ldexp(v, e), ctype) for v in coefficients]
        print(f"   {ctype} coefficients c_0 .. c_{degree}{f' (times 2^{e}, as stored)' if e else ''}:")
        for j in range(0, len(literals), 4):
            print("      " + ", ".join(literals[j:j + 4]) + ",")


# ----------------------------------------------------------------------------------------
# The float tanh table of nl_tanhf.c
# ----------------------------------------------------------------------------------------
TANHF_DEGREE = 5
TANHF_CLAMP = 9.02  # tanh rounds to 1 in float from 9.0109 on; the kernel clamps |x| here
TANHF_SMALL = 2.0**-4  # below: interval 0, tanh(a) = a + a^3 P(a^2)


def _float_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def tanhf_intervals() -> list[tuple[float, float, float]]:
    """(start, end, centre) of interval k = 1, 2, ...: the kernel's index of a >= 2^-4.

    k = (bits of a >> 21) - 491 keeps the exponent and the top two bits of the mantissa:
    four intervals per octave, [2^e (1 + j/4), 2^e (1 + (j + 1)/4)), from 2^-4 to the
    clamp. The centre has mantissa bit 20 set too, so a - centre is exact (Sterbenz).
    """
    out = []
    for k in range(1, 32):
        bits = (k + 491) << 21
        start, end, centre = _float_bits(bits), _float_bits(bits + (1 << 21)), _float_bits(bits | 1 << 20)
        if start >= TANHF_CLAMP:
            break
        out.append((start, min(end, TANHF_CLAMP), centre))
    return out


def tanhf_table() -> None:
    """Print the rows of NL_TANHF_TABLE: centre, c0 = hi + lo, c1 .. c5 for k = 0 .. 31."""
    rows: list[list[float]] = [[0.0] * 32 for _ in range(TANHF_DEGREE + 3)]
    # k = 0: tanh(a) = a + a^3 (c3 + c5 a^2), in the kernel's form a + a q(a) with
    # q = c3 a^2 + c5 a^4 (c0 = c1 = c2 = c4 = 0)
    small = Fit("tanhf_0", lambda z: mp.tanh(mp.sqrt(z)), lambda z: mp.sqrt(z), lambda z: z * mp.sqrt(z),
                0, TANHF_SMALL**2, {}, "tanh(a) = a + a^3 P(a^2)")
    c, level = remez(small, 1)
    rows[3 + 2][0], rows[3 + 4][0] = rounded(c[0], "float"), rounded(c[1], "float")
    worst = level
    for k, (start, end, centre) in enumerate(tanhf_intervals(), start=1):
        m = mp.mpf(centre)
        fit = Fit(f"tanhf_{k}", lambda d, m=m: mp.tanh(m + d), lambda d: 0, lambda d: 1,
                  mp.mpf(start) - m, mp.mpf(end) - m, {}, "")
        c, level = remez(fit, TANHF_DEGREE)
        worst = max(worst, level)
        hi = rounded(c[0], "float")
        rows[0][k], rows[1][k], rows[2][k] = centre, hi, rounded(c[0] - hi, "float")
        for j in range(1, TANHF_DEGREE + 1):
            rows[2 + j][k] = rounded(c[j], "float")
    print(f"== tanhf_table: largest relative error of the minimax fits 2^{float(mp.log(worst, 2)):.1f}")
    names = ["centre", "c0 (high part)", "c0 (low part)"] + [f"c{j}" for j in range(1, TANHF_DEGREE + 1)]
    for name, row in zip(names, rows, strict=True):
        print(f"    /* {name} */")
        literals = [c_literal(v, "float") if v else "0.0f" for v in row]
        for j in range(0, 32, 4):
            print("    " + ", ".join(literals[j:j + 4]) + ",")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="expm1, exp, tanh, log1p, normal, tanhf_table")
    args = parser.parse_args(argv)
    with mp.workdps(DPS):
        for fit in fits():
            if not args.names or fit.name.split()[0] in args.names:
                report(fit)
        if not args.names or "tanhf_table" in args.names:
            tanhf_table()


if __name__ == "__main__":
    main()
