/*
 * nl_fastmath.h -- exp of negative numbers, expm1, log1p, tanh and the normal
 * distribution function as inline C that gcc vectorizes.
 *
 * A call to libm inside a loop keeps the loop scalar. glibc's vector library (libmvec,
 * declared in ../nl_math.h) fixes that where it exists, but its log1p and its double tanh
 * are slow, and its double expm1 and tanh are 2-3 ulp off (measured: 2.9 and 2.1 ulp);
 * portable builds have none of it. ../_math.pxd picks, per function and type, whichever
 * of the two is faster without being less accurate. README.md, beside this file, lists
 * every routine with its accuracy.
 *
 * The functions here are short straight-line code: where the math has cases, every case
 * is computed and one is selected (a SIMD blend, not a branch), so a loop calling them
 * vectorizes at -O3 (4 doubles or 8 floats per AVX2 instruction) and runs the same way
 * without SIMD. The general exp stays with libmvec; e^t for t <= 0, which is what the
 * kernels need almost everywhere, is inline (faster: no overflow case, no call).
 * The normal distribution function replaces libmvec's erfc: for float it is twice as
 * fast, for double a little slower than erfc alone but faster than erfc and exp together,
 * and in the left tail it is accurate where 0.5 erfc(-x / sqrt 2) is not.
 *
 * The float versions compute in float, with shorter polynomials. Every polynomial is a
 * minimax fit printed by tools/fit_polynomials.py (run it to reproduce the constants).
 * tests/test_fastmath.py checks every function against mpmath with stated ulp bounds
 * (about 1 ulp each, a few for the normal distribution function); NaN in gives NaN out.
 *
 * Nothing here needs -ffast-math, and the tricks below would break under it: they rely
 * on IEEE rounding as written (-fassociative-math would "simplify" (b - (h - a)) to 0).
 * gcc contracting a * b + c into an FMA is fine (one rounding instead of two); the one
 * place that needs an exact product uses nl__fms.
 */
#ifndef NL_FASTMATH_H
#define NL_FASTMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Building blocks
 * ------------------------------------------------------------------------------------- */

/* Whether the CPU fuses a * b + c into one instruction with one rounding (builds with
 * -march=native on current x86 and ARM CPUs; not portable x86-64 builds). */
#if defined(__FP_FAST_FMA) && defined(__FP_FAST_FMAF)
#define NL_HAVE_FMA 1
#else
#define NL_HAVE_FMA 0
#endif

/* a * b - c with a single rounding. With FMA hardware that is one instruction; without
 * (portable builds), the product is split exactly into p + lo (Dekker 1971: Veltkamp's
 * splitting into 26-bit halves, whose partial products are exact). */
#if defined(__FP_FAST_FMA)
static inline double nl__fms(double a, double b, double c) { return fma(a, b, -c); }
#else
static inline double nl__fms(double a, double b, double c) {
    double p = a * b;
    double a1 = a * 134217729.0, b1 = b * 134217729.0;  /* 2^27 + 1 */
    double ah = a1 - (a1 - a), al = a - ah;
    double bh = b1 - (b1 - b), bl = b - bh;
    double lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;   /* a b = p + lo exactly */
    return (p - c) + lo;
}
#endif
#if defined(__FP_FAST_FMAF)
static inline float nl__fmsf(float a, float b, float c) { return fmaf(a, b, -c); }
#else
static inline float nl__fmsf(float a, float b, float c) {
    /* the exact product of two floats fits in a double */
    return (float)((double)a * (double)b - (double)c);
}
#endif

/* Round to an integer by adding 1.5 * 2^52 (2^23 for float): the sum has no bits below
 * the units, so IEEE rounding does the work, and the integer lands in the low bits of the
 * sum's representation, where nl__pow2 finds it without a float-to-int conversion (which
 * AVX2 lacks for 64-bit integers). */
#define NL_SHIFT  0x1.8p52
#define NL_SHIFTF 0x1.8p23f

/* 2^(n + m), for s = NL_SHIFT + n with -1022 <= n + m <= 1023: n + m + 1023 is the biased
 * exponent. The offset m joins the integer addition: in floating point, s + m would cost
 * an instruction of its own. */
static inline double nl__pow2(double s, int m) {
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits = (bits + (uint64_t)(1023 + m)) << 52;  /* the shift drops the bits of NL_SHIFT */
    memcpy(&s, &bits, sizeof s);
    return s;
}

static inline float nl__pow2f(float s, int m) {
    uint32_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits = (bits + (uint32_t)(127 + m)) << 23;
    memcpy(&s, &bits, sizeof s);
    return s;
}

/* e 2^k, for s = NL_SHIFTF + k, by adding k to the exponent field of e (the shift drops
 * the bits of NL_SHIFTF). Only for e and e 2^k normal numbers. */
static inline float nl__scale_by_2kf(float e, float s) {
    uint32_t bits, k;
    memcpy(&bits, &e, sizeof bits);
    memcpy(&k, &s, sizeof k);
    bits += k << 23;
    memcpy(&e, &bits, sizeof e);
    return e;
}

/* ---------------------------------------------------------------------------------------
 * expm1: x = k ln2 + r with |r| <= ln2 / 2, then e^x = 2^k e^r.
 *
 * ln2 = LN2_HI + LN2_LO with the last 21 bits of LN2_HI zero (float: 9), so k LN2_HI is
 * exact for the k that occur, and x - k LN2_HI is exact too (Sterbenz). Subtracting
 * k LN2_LO rounds; the rounding error is kept as c, so r + c is the reduced argument to
 * twice the precision (the constants are fdlibm's, Sun Microsystems 1993).
 * ------------------------------------------------------------------------------------- */
#define NL_INV_LN2  0x1.71547652b82fep0
#define NL_LN2_HI   0x1.62e42fee00000p-1
#define NL_LN2_LO   0x1.a39ef35793c76p-33
#define NL_INV_LN2F 0x1.715476p0f
#define NL_LN2_HIF  0x1.62e400p-1f
#define NL_LN2_LOF  0x1.7f7d1cp-20f

/* Returns NL_SHIFT + k; r and c as above. */
static inline double nl__reduce(double x, double *r, double *c) {
    double s = x * NL_INV_LN2 + NL_SHIFT;
    double k = s - NL_SHIFT;
    double z = x - k * NL_LN2_HI;
    *r = z - k * NL_LN2_LO;
    *c = (z - *r) - k * NL_LN2_LO;
    return s;
}

static inline float nl__reducef(float x, float *r, float *c) {
    float s = x * NL_INV_LN2F + NL_SHIFTF;
    float k = s - NL_SHIFTF;
    float z = x - k * NL_LN2_HIF;
    *r = z - k * NL_LN2_LOF;
    *c = (z - *r) - k * NL_LN2_LOF;
    return s;
}

/* P of expm1(r) = r + r^2/2 + r^3 P(r), |r| <= ln2 / 2 (minimax; relative error of expm1
 * 2^-60 for double, degree 9, and 2^-30 for float, degree 4). */
static const double NL_EXPM1_P[10] = {
    0x1.5555555555559p-3, 0x1.5555555555559p-5, 0x1.111111110f71fp-7, 0x1.6c16c16c16213p-10,
    0x1.a01a01af61273p-13, 0x1.a01a018aa0b2p-16, 0x1.71ddfa21bf5f8p-19, 0x1.27e56353b94a5p-22,
    0x1.af5b2dd2bc6d8p-26, 0x1.1e2b91c165fdep-29,
};
static const float NL_EXPM1_PF[5] = {
    0x1.555554p-3f, 0x1.5554fap-5f, 0x1.1112bap-7f, 0x1.6d3e44p-10f, 0x1.9eca36p-13f,
};

/* expm1(r + c) - r = r^2/2 + r^3 P(r) + c e^r, for |r| <= ln2 / 2 and tiny c; the _poly
 * functions leave out the term in c (the rounding error of r). P is
 * evaluated by Estrin's scheme (pairs, then pairs of pairs), not Horner's rule: the chain
 * of dependent instructions is 4 long instead of 10, and a vectorized loop is bound by
 * that chain's latency, not by its number of instructions. */
static inline double nl__expm1_poly(double r) {
    const double *P = NL_EXPM1_P;
    double r2 = r * r, r4 = r2 * r2;
    double p = ((P[0] + P[1] * r) + r2 * (P[2] + P[3] * r))
             + r4 * (((P[4] + P[5] * r) + r2 * (P[6] + P[7] * r)) + r4 * (P[8] + P[9] * r));
    return r2 * (0.5 + r * p);
}

static inline double nl__expm1_tail(double r, double c) {
    return nl__expm1_poly(r) + (c + c * r);
}

static inline float nl__expm1_polyf(float r) {
    const float *P = NL_EXPM1_PF;
    float r2 = r * r;
    float p = (P[0] + P[1] * r) + r2 * ((P[2] + P[3] * r) + r2 * P[4]);
    return r2 * (0.5f + r * p);
}

static inline float nl__expm1_tailf(float r, float c) {
    return nl__expm1_polyf(r) + (c + c * r);
}

/* expm1(x) / 2 = h + l, unrounded: expm1(x) = 2^k (1 + p) - 1 with p = expm1(r + c)
 * = r + q. Written as (2^k - 1) + 2^k r + 2^k q, the first sum is exact as h + lo
 * (Fast2Sum: |2^k - 1| >= |2^k r| unless k = 0, where the sum is r itself), so expm1
 * has a single rounding, at the end. Everything is halved (u = 2^(k-1)) so that 2^1024
 * (x near 709.78) never appears; for k < -53, u - 1/2 rounds, and l keeps what it lost
 * (nl__tanh_expm1 needs h + l to twice the precision). Valid for -80 <= x <= 710. */
static inline double nl__expm1_half(double x, double *l) {
    double r, c;
    double s = nl__reduce(x, &r, &c);
    double u = nl__pow2(s, -1);
    double a = u - 0.5, b = u * r;
    double h = a + b;
    *l = (b - (h - a)) + (u - (a + 0.5)) + u * nl__expm1_tail(r, c);
    return h;
}

static inline float nl__expm1_halff(float x, float *l) {
    float r, c;
    float s = nl__reducef(x, &r, &c);
    float u = nl__pow2f(s, -1);
    float a = u - 0.5f, b = u * r;
    float h = a + b;
    *l = (b - (h - a)) + (u - (a + 0.5f)) + u * nl__expm1_tailf(r, c);
    return h;
}

/* e^x - 1 without cancellation near 0. */
static inline double nl_expm1(double x) {
    /* Below -40 expm1 rounds to -1, above 710 it overflows; NaN passes. */
    double xc = x < -40.0 ? -40.0 : (x > 710.0 ? 710.0 : x);
    double l, h = nl__expm1_half(xc, &l);
    /* |x| < 2^-54: expm1(x) rounds to x, and halving would lose subnormal bits (and -0) */
    return fabs(x) < 0x1p-54 ? x : 2.0 * (h + l);
}

static inline float nl_expm1f(float x) {
    float xc = x < -18.0f ? -18.0f : (x > 89.0f ? 89.0f : x);
    float l, h = nl__expm1_halff(xc, &l);
    return fabsf(x) < 0x1p-25f ? x : 2.0f * (h + l);
}

/* ---------------------------------------------------------------------------------------
 * e^t for t <= 0, the only exponential most kernels need: sigmoid, softplus, swish and
 * mish take e^-|x|, softmax e^(z - max z). With t bounded above, 2^k cannot overflow,
 * and the value is formed times 2^128 (float: 2^64), where it is a normal number even
 * when e^t is subnormal; a caller can multiply by more factors before the one rounding
 * into the subnormal range (nl_normal_cdf does). Within 1 ulp, and faster than libmvec's
 * exp, which must handle overflow and cannot be inlined.
 * ------------------------------------------------------------------------------------- */

/* 2^128 e^t, from s = NL_SHIFT + k and the reduced argument r of t = k ln2 + r, for
 * -1022 <= k + 128 <= 128 (-1100 <= t <= 0). Unlike expm1, e^t leaves out c, the rounding
 * error of r: that moves it by at most 0.2 ulp (worst measured: 0.96 ulp in double, against
 * 0.77), and saves three of the twenty-odd instructions a sigmoid costs per element. */
static inline double nl__exp_reduced_2p128(double r, double s) {
    return (1.0 + (r + nl__expm1_poly(r))) * nl__pow2(s, 128);
}

/* For float, e^r = 1 + r P(r) by Horner's rule, P of degree 5 (relative error 2^-28.1):
 * six multiply-adds where expm1's form r + r^2/2 + r^3 P(r) takes nine instructions, and
 * more accurate with FMA (worst measured over every float in [-104, 0]: 0.89 ulp, against
 * 0.98; without FMA, where r p and 1 + r p round apart, 1.17).
 * P is stored times 2^64 (an exact scaling), so the polynomial yields E = 2^64 e^r, and
 * 2^64 e^t = 2^k E is a normal number: nl__scale_by_2kf multiplies by 2^k in one integer
 * addition, where nl__pow2f and a multiplication take three instructions.
 * Valid for -130 <= t <= 0 (2^64 e^t). */
static const float NL_EXP_PF[6] = {
    0x1p+64f, 0x1.fffffcp+62f, 0x1.555494p+61f, 0x1.555892p+59f, 0x1.123918p+57f,
    0x1.6a808p+54f,
};

/* 2^64 e^(w v) for |w v| <= ln2 / 2, with w a constant power of 2: 1 + (w v) P(w v) is
 * 1 + v sum P_j w^(j+1) v^j, whose coefficients the compiler forms (exactly). w = 1 but
 * for the Gaussian, which reduces a^2 rather than a^2/2. */
static inline float nl__exp_poly_2p64f(float v, float w) {
    const float *P = NL_EXP_PF;
    float w2 = w * w, w3 = w2 * w, w4 = w3 * w, w5 = w4 * w, w6 = w5 * w;
    float p = w * P[0] + v * (w2 * P[1] + v * (w3 * P[2] + v * (w4 * P[3] + v * (w5 * P[4]
            + v * (w6 * P[5])))));
    return 0x1p64f + v * p;
}

static inline float nl__exp_reduced_2p64f(float r, float s) {
    return nl__scale_by_2kf(nl__exp_poly_2p64f(r, 1.0f), s);
}

static inline double nl__exp_neg_2p128(double t) {
    double r, c;
    double s = nl__reduce(t, &r, &c);
    return nl__exp_reduced_2p128(r, s);
}

static inline float nl__exp_neg_2p64f(float t) {
    float r, c;
    float s = nl__reducef(t, &r, &c);
    return nl__exp_reduced_2p64f(r, s);
}

/* 2^128 e^(-a^2/2) (float: 2^64), the Gaussian of the normal distribution, for
 * 0 <= a <= 39 (float: 15). a^2/2 must enter to more than working precision: rounding it
 * by half an ulp would move e^(-a^2/2) by a relative a^2/2 ulp, 760 ulp at a = 39. So the
 * reduction subtracts k ln2_hi from the exact product h a (h = a/2, exact) inside one fused
 * multiply-subtract, and r, which is small, is the only thing rounded; the rounded a^2/2
 * only picks k. k ln2_hi comes from s = NL_SHIFT + k in one more: s ln2_hi - NL_SHIFT ln2_hi
 * is exact (both products fit in the fused operation, and the difference is representable),
 * and saves forming k; k ln2_lo is then k ln2_hi (ln2_lo / ln2_hi), off by a relative 2^-53
 * (float: 2^-24) of a term below 2^-22 (float: 2^-10). */
static inline double nl__gauss_2p128(double a) {
    double h = 0.5 * a;
    double s = (h * a) * -NL_INV_LN2 + NL_SHIFT;
    double kl = nl__fms(s, NL_LN2_HI, NL_SHIFT * NL_LN2_HI);  /* k ln2_hi, exact */
    double z = -nl__fms(h, a, -kl);               /* -a^2/2 - k ln2_hi, one rounding */
    return nl__exp_reduced_2p128(z - kl * (NL_LN2_LO / NL_LN2_HI), s);
}

/* The float version saves forming h (2% of GELU's time): it reduces a^2 itself,
 * v = -a^2 - 2k ln2 = 2r, with 2k ln2_hi exact as k ln2_hi above, and takes e^r = e^(v/2). */
static inline float nl__gauss_2p64f(float a) {
    float s = (a * a) * (-0.5f * NL_INV_LN2F) + NL_SHIFTF;
    float kl2 = nl__fmsf(s, 2.0f * NL_LN2_HIF, NL_SHIFTF * (2.0f * NL_LN2_HIF));  /* 2k ln2_hi */
    float v = -nl__fmsf(a, a, -kl2) - kl2 * (NL_LN2_LOF / NL_LN2_HIF);
    return nl__scale_by_2kf(nl__exp_poly_2p64f(v, 0.5f), s);
}

/* e^-|v|, the exponential of sigmoid, softplus, swish, GELU-tanh, mish and tanh'. Its
 * argument -|v| cannot be positive, so only the lower end is clamped: below -746 (float:
 * -104) the result rounds to 0. NaN passes (the comparison fails). */
static inline double nl_exp_neg_abs(double v) {
    double t = -fabs(v);
    t = t < -746.0 ? -746.0 : t;
    return nl__exp_neg_2p128(t) * 0x1p-128;
}

static inline float nl_exp_neg_absf(float v) {
    float t = -fabsf(v);
    t = t < -104.0f ? -104.0f : t;
    return nl__exp_neg_2p64f(t) * 0x1p-64f;
}

/* e^t for any t, where t > 0 counts as 0 (kernels that evaluate it there discard the
 * value): softmax's e^(z - max z) and elu'. For t <= 0, -|t| is t itself. The upper clamp
 * costs the vectorized sigmoid five more instructions and 10% of its time, which is why
 * the kernels that take e^-|v| call nl_exp_neg_abs directly. */
static inline double nl_exp_neg(double t) {
    return nl_exp_neg_abs(t > 0.0 ? 0.0 : t);
}

static inline float nl_exp_negf(float t) {
    return nl_exp_neg_absf(t > 0.0f ? 0.0f : t);
}

/* ---------------------------------------------------------------------------------------
 * log1p for -1/2 <= u <= 1 (softplus needs u = e^-|x| in (0, 1]): with s = u / (2 + u),
 * log(1 + u) = 2 atanh(s) = 2s + 2s^3/3 + ..., and |s| <= 1/3 keeps the series short.
 * Written as u - s (u - s^2 P(s^2)) (using 2s = u - us), only the small term s (...)
 * carries the rounding of s. Outside -1/2 <= u <= 1 it is inaccurate.
 * P: minimax, relative error of log1p 2^-59 (double, degree 9), 2^-27.7 (float, degree 3);
 * evaluated by Estrin's scheme like nl__expm1_tail.
 * ------------------------------------------------------------------------------------- */
static const double NL_LOG1P_P[10] = {
    0x1.5555555555535p-1, 0x1.99999999a074fp-2, 0x1.249249208c689p-2, 0x1.c71c741c6a113p-3,
    0x1.745cb4018f0bdp-3, 0x1.3b1ddb4fe6cfap-3, 0x1.1067c6e4bc3dap-3, 0x1.efd83056b979dp-4,
    0x1.55b1780067f99p-4, 0x1.5c7898874374dp-3,
};
static const float NL_LOG1P_PF[4] = {
    0x1.555502p-1f, 0x1.99d1ccp-2f, 0x1.1ec03ap-2f, 0x1.1eca5ep-2f,
};

static inline double nl_log1p_small(double u) {
    const double *P = NL_LOG1P_P;
    double s = u / (2.0 + u);
    double z = s * s, z2 = z * z, z4 = z2 * z2;
    double p = ((P[0] + P[1] * z) + z2 * (P[2] + P[3] * z))
             + z4 * (((P[4] + P[5] * z) + z2 * (P[6] + P[7] * z)) + z4 * (P[8] + P[9] * z));
    return u - s * (u - z * p);
}

static inline float nl_log1p_smallf(float u) {
    const float *P = NL_LOG1P_PF;
    float s = u / (2.0f + u);
    float z = s * s;
    float p = (P[0] + P[1] * z) + (z * z) * (P[2] + P[3] * z);
    return u - s * (u - z * p);
}

/* ---------------------------------------------------------------------------------------
 * tanh from expm1: tanh(x) = sign(x) (-m) / (2 + m) with m = expm1(-2|x|) in (-1, 0]: no
 * cancellation near 0, no overflow. m is used unrounded (m / 2 = h + l from
 * nl__expm1_half), and the quotient gets one correction step (q + residual / denominator):
 * with the rounded m alone tanh would be 2.5 ulp off. The float tanh where there is no
 * table (nl_tanhf.c), and the double tanh where there is no FMA (see nl_tanh below).
 * ------------------------------------------------------------------------------------- */
static inline double nl__tanh_expm1(double x) {
    double a = fabs(x);
    /* v = expm1(-2a) / 2 = h + l, renormalized to vh + vl with |vl| <= ulp(vh) / 2 */
    double l, h = nl__expm1_half(-2.0 * a, &l);
    double vh = h + l, vl = (h - vh) + l;
    /* tanh a = -v / (1 + v), the denominator as d + dl (Fast2Sum, |vh| <= 1/2) */
    double d = 1.0 + vh;
    double dl = ((1.0 - d) + vh) + vl;
    double inv = 1.0 / d;
    double q = -vh * inv;
    /* one correction step, -v / (d + dl) = q + (-v - q (d + dl)) / d to first order */
    double t = q + (-nl__fms(q, d, -vh) - vl - q * dl) * inv;
    /* tanh rounds to 1 from a = 19.1 on, and beyond a = 40 nl__expm1_half is out of its
     * range (garbage or NaN, discarded here; a NaN x fails the comparison and stays NaN).
     * Selecting at the end, rather than clamping a first, keeps gcc from specializing
     * the code for the clamped values, which made the loop slower. */
    t = a > 20.0 ? 1.0 : t;
    return copysign(t, x);
}

/* ---------------------------------------------------------------------------------------
 * tanh from an addition theorem, for double with FMA: 0.7 times the time of the expm1
 * version (16.4 against 23.1 cycles per 8 doubles in a vectorized loop), within 0.90 ulp.
 *
 * With L = ln2 / 2 and a = |x| = kL + r, tanh(kL) = (2^k - 1)/(2^k + 1), because
 * e^(2kL) = 2^k; so
 *
 *     tanh(a) = (tanh kL + tanh r) / (1 + tanh kL tanh r) = (G + F t) / (F + G t),
 *
 * t = tanh r, F = 2^k + 1, G = 2^k - 1. F and G are exact (for k <= 52), so the only
 * rounded inputs are t and r, and t is a short odd polynomial (|r| <= 0.26, degree 13 in
 * r): no exponential and no double-double expm1. For k = 0 (a < 0.26), F = 2 and G = 0,
 * and the quotient is t itself, exactly.
 *
 *   k = round(a/L - 1/4), so r is in [-L/4, 3L/4]. Rounding to nearest would let G + F t
 *       cancel at k = 1 (tanh L = 1/3, t down to -0.17) and pass the rounding errors of
 *       t and r to tanh at full size (about 1.5 ulp). With the offset, t's share of
 *       tanh(a) is at most 0.36 (at k = 1) and 0.19 at k = 2.
 *   k <= 52, because 2^k + 1 needs k + 1 bits. Capping k rather than a is harmless: at
 *       k = 52 (a > 18.2) r grows to 1.1 below a = 19.1, where the polynomial is still
 *       within 0.002 of tanh r, and t moves tanh(a) by only 2^-50 dt there. The cap is a
 *       64-bit integer minimum on the bits of s = NL_SHIFT + k (positive, so its bits
 *       order like the number; inf and NaN land on the cap). Written as a comparison of
 *       doubles, gcc specialized all that follows for k = 52: 13% slower.
 *   The quotient q0 = num (1/den) is off by about an ulp; one correction step
 *       q = q0 + (num - q0 den) / den takes the residual from the exact F, G and t as
 *       (G - q0 F) + F t - q0 (G t), three fused multiply-subtracts. For k <= 1, where t's
 *       share is largest, every step is exact. (In the order (G - q0 F) + t (F - q0 G),
 *       F - q0 G = 3 - q0 rounds at k = 1: 1.10 ulp.)
 *   From a = 19.1 on tanh rounds to 1 and r is beyond the polynomial: the result is
 *       selected at the end (a NaN x fails the comparison and stays NaN through r and t).
 * Without FMA hardware nl__fms rounds twice here and this would be 1.08 ulp off; exact
 * products by Dekker's splitting make it correct but slower than the expm1 version, which
 * such builds keep.
 *
 * P of tanh(r) = r + r^3 P(r^2), |r| <= 0.2602 (3L/4 and 0.1% slack): minimax, relative
 * error 2^-56.9.
 * ------------------------------------------------------------------------------------- */
#define NL_TANH_INV_L 0x1.71547652b82fep1    /* 1/L = 2/ln2 */
#define NL_TANH_L_HI  0x1.62e42fee00000p-2   /* L = L_HI + L_LO (NL_LN2_HI / 2: k L_HI is exact) */
#define NL_TANH_L_LO  0x1.a39ef35793c76p-34
#define NL_TANH_KMAX  0x4338000000000034ll   /* the bits of NL_SHIFT + 52 */

static const double NL_TANH_P[7] = {
    -0x1.55555555554afp-2, 0x1.11111110f2676p-3, -0x1.ba1ba17cdfa0cp-5, 0x1.664f2b7bbb906p-6,
    -0x1.2266d53187229p-7, 0x1.d4c228e7e9d3p-9, -0x1.56b7b875b7c2fp-10,
};

/* <tanh> (shown in docs/activations/tanh.rst) */
static inline double nl__tanh_addition(double x) {
    const double *P = NL_TANH_P;
    double a = fabs(x);
    double s = (a * NL_TANH_INV_L - 0.25) + NL_SHIFT;        /* NL_SHIFT + round(a/L - 1/4) */
    int64_t bits, kmax = NL_TANH_KMAX;
    memcpy(&bits, &s, sizeof bits);
    bits = bits < kmax ? bits : kmax;                        /* k <= 52 */
    memcpy(&s, &bits, sizeof s);
    double k = s - NL_SHIFT;
    double r = (a - k * NL_TANH_L_HI) - k * NL_TANH_L_LO;    /* the first difference is exact */
    double z = r * r;
    double p = P[0] + z * (P[1] + z * (P[2] + z * (P[3] + z * (P[4] + z * (P[5] + z * P[6])))));
    double t = r + (r * z) * p;                              /* tanh r */
    double e = nl__pow2(s, 0);                               /* 2^k */
    double f = e + 1.0, g = e - 1.0;
    double gt = g * t;
    double num = f * t + g, den = f + gt;
    double inv = 1.0 / den;
    double q0 = num * inv;
    /* num - q0 den = (g - q0 f) + f t - q0 (g t), one rounding per step (none for k <= 1) */
    double u = nl__fms(f, t, nl__fms(q0, f, g));
    double q = q0 - nl__fms(q0, gt, u) * inv;
    q = a > 19.1 ? 1.0 : q;
    return copysign(q, x);
}
/* </tanh> */

#if NL_HAVE_FMA
static inline double nl_tanh(double x) { return nl__tanh_addition(x); }
#else
static inline double nl_tanh(double x) { return nl__tanh_expm1(x); }
#endif

static inline float nl_tanhf(float x) {
    float a = fabsf(x);
    float l, h = nl__expm1_halff(-2.0f * a, &l);
    float vh = h + l, vl = (h - vh) + l;
    float d = 1.0f + vh;
    float dl = ((1.0f - d) + vh) + vl;
    float inv = 1.0f / d;
    float q = -vh * inv;
    float t = q + (-nl__fmsf(q, d, -vh) - vl - q * dl) * inv;
    t = a > 10.0f ? 1.0f : t;
    return copysignf(t, x);
}

/* ---------------------------------------------------------------------------------------
 * The standard normal distribution function Phi(x) = erfc(-x / sqrt 2) / 2, and the
 * Gaussian g = e^(-x^2/2) (the density is phi = g / sqrt(2 pi)), both from one exponential:
 * GELU needs both, f = x Phi(x) and f' = Phi(x) + x phi(x).
 *
 * With a = |x|, Phi(-a) = g(a) G(a), where G = Phi(-a) e^(a^2/2) varies slowly (like
 * 1/(a sqrt(2 pi)) for large a). The substitution u = (a - K)/(a + K) maps [0, inf) onto
 * [-1, 1) and makes (a + K) G a smooth function of u (Schonfelder 1978; Shepherd and
 * Laframboise 1981), so G = Q(u) / (a + K) with Q a polynomial, and one division gives both
 * u and 1/(a + K). Then Phi(x) = Phi(-a) for x < 0 and 1 - Phi(-a) for x >= 0: the left
 * tail keeps its relative precision down to the underflow, where 1 + erf(x / sqrt 2) would
 * cancel to 0 long before. One formula for every x, with no separate series near 0 (that
 * took a second polynomial and made the double kernel 12% slower): near 0, Phi is about
 * 1/2 and 1 - Phi(-a) cannot cancel.
 *
 * g(a) comes from nl__gauss_2p128, which takes a^2/2 exactly.
 * Phi(-a) and g reach down into the subnormal numbers, where nl__pow2 cannot go: g is
 * computed times 2^128 (2^64 for float), where it is a normal number, and Q is stored
 * times 2^-129 (2^-65), so that with d = 2/(a + K) the product 2^128 g (d Q(u)) is
 * Phi(-a), rounded once, at the end; and u = a d - 1 is one multiply-add.
 * Beyond a = 39 (float: 15), Phi(-a) and g round to 0, and they are set to 0 there at the
 * end: a is not clamped first, because gcc then specializes the code that follows for the
 * clamped value, at the cost of blends and masked instructions in every path (measured:
 * 12% of the float GELU's time).
 *
 * GELU itself, x Phi(x), is m - a Phi(-a) on both sides of 0, with m = max(x, -0): x for
 * x > 0 (x - x Phi(-a) = x Phi(x)) and -0 for x < 0 (-a Phi(-a) = x Phi(x)); at x = +-0,
 * m = x keeps the sign. One fused multiply-add, rounded once. Past the cut-off the result
 * is m itself, never m - a 0, which at x = -inf would be inf * 0.
 * ------------------------------------------------------------------------------------- */
#define NL_PHI_CUT  39.0   /* Phi(-a) and e^(-a^2/2) round to 0 from here on */
#define NL_PHI_CUTF 15.0f
#define NL_PHI_K    5.0    /* u = (a - K) / (a + K) */
#define NL_PHI_KF   3.0f

/* Q of Phi(-a) = g(a) Q(u) / (a + K) for 0 <= a <= 39 (float: 15) (minimax; relative
 * error 2^-53.9 for double, degree 21, and 2^-23.7 for float, degree 8), stored times
 * 2^-129 (float: 2^-65) as explained above. */
static const double NL_PHI_Q[22] = {
    0x1.89d3abe1f95aep-130, -0x1.54ad03f27ca16p-130, 0x1.fb31653876f9ap-131,
    -0x1.410ed5f875b43p-131, 0x1.51f6329f01539p-132, -0x1.1b1c254c93e15p-133,
    0x1.54b4d4f4cfad6p-135, -0x1.88590eb662768p-138, -0x1.a25037e2fc22p-140,
    0x1.1daf1eb6f0136p-140, -0x1.f2145e7b38cdcp-144, -0x1.a1714031e5a3fp-144,
    0x1.17dcf8b4558a4p-145, 0x1.0b317fa276bb7p-147, -0x1.73a802eef7e0cp-148,
    -0x1.6aa61f16fbf7p-151, 0x1.d097ecf6eae2dp-151, 0x1.76a081ba96a4p-154,
    -0x1.188bdb8479245p-153, -0x1.5ed7c949c9b5dp-156, 0x1.ed8a36e1e9c03p-157,
    0x1.14ca04063eebbp-158,
};
static const float NL_PHI_QF[9] = {
    0x1.754a74p-66f, -0x1.04c736p-66f, 0x1.d7146ep-68f, -0x1.831bcap-70f, -0x1.5769d2p-72f,
    0x1.c54208p-73f, 0x1.1957a8p-75f, -0x1.d3f11ap-76f, -0x1.0fe728p-77f,
};

/* <normal_cdf> (the double version, shown in docs/activations/gelu.rst) */
/* Phi(-a) for 0 <= a <= 39, from g128 = 2^128 e^(-a^2/2); beyond, the value is garbage
 * and the callers select 0.
 * Q for double is evaluated by Estrin's scheme (as in nl__expm1_tail): its degree-21 chain
 * is long enough that the shorter dependency chain beats Horner's fewer multiplications
 * (measured: 7%). */
static inline double nl__normal_tail(double a, double g128) {
    const double *Q = NL_PHI_Q;                   /* times 2^-129 */
    double d = 2.0 / (a + NL_PHI_K);
    double u = a * d - 1.0;                       /* (a - K) / (a + K) */
    double u2 = u * u, u4 = u2 * u2, u8 = u4 * u4, u16 = u8 * u8;
    double q = (((Q[0] + Q[1] * u) + u2 * (Q[2] + Q[3] * u))
                + u4 * ((Q[4] + Q[5] * u) + u2 * (Q[6] + Q[7] * u)))
             + u8 * (((Q[8] + Q[9] * u) + u2 * (Q[10] + Q[11] * u))
                     + u4 * ((Q[12] + Q[13] * u) + u2 * (Q[14] + Q[15] * u)))
             + u16 * (((Q[16] + Q[17] * u) + u2 * (Q[18] + Q[19] * u))
                      + u4 * (Q[20] + Q[21] * u));
    return g128 * (d * q);
}

/* Phi(x); e^(-x^2/2) goes to *g. A NaN fails the tests a > CUT and x < 0 and stays NaN. */
static inline double nl_normal_cdf(double x, double *g) {
    double a = fabs(x);
    double g128 = nl__gauss_2p128(a);
    double left = nl__normal_tail(a, g128);      /* Phi(-a) */
    *g = a > NL_PHI_CUT ? 0.0 : g128 * 0x1p-128;
    left = a > NL_PHI_CUT ? 0.0 : left;
    return x < 0 ? left : 1.0 - left;
}

/* x Phi(x), the GELU. */
static inline double nl_gelu(double x) {
    double a = fabs(x);
    double m = -0.0 > x ? -0.0 : x;
    double left = nl__normal_tail(a, nl__gauss_2p128(a));   /* Phi(-a) */
    return a > NL_PHI_CUT ? m : m - a * left;
}
/* </normal_cdf> */

static inline float nl__normal_tailf(float a, float g64) {
    const float *Q = NL_PHI_QF;                   /* times 2^-65 */
    float d = 2.0f / (a + NL_PHI_KF);
    float u = a * d - 1.0f;
    float q = Q[0] + u * (Q[1] + u * (Q[2] + u * (Q[3] + u * (Q[4] + u * (Q[5] + u * (Q[6]
            + u * (Q[7] + u * Q[8])))))));
    return g64 * (d * q);
}

static inline float nl_normal_cdff(float x, float *g) {
    float a = fabsf(x);
    float g64 = nl__gauss_2p64f(a);
    float left = nl__normal_tailf(a, g64);
    *g = a > NL_PHI_CUTF ? 0.0f : g64 * 0x1p-64f;
    left = a > NL_PHI_CUTF ? 0.0f : left;
    return x < 0 ? left : 1.0f - left;
}

static inline float nl_geluf(float x) {
    float a = fabsf(x);
    float m = -0.0f > x ? -0.0f : x;
    float left = nl__normal_tailf(a, nl__gauss_2p64f(a));
    return a > NL_PHI_CUTF ? m : m - a * left;
}

#endif
