/*
 * nl_math.h -- constants, vector versions of libm for the compiler, and (from
 * fastmath/nl_fastmath.h) inline versions of expm1, log1p, tanh and the normal distribution.
 *
 * The kernels include this header (through _math.pxd), and it stays beside them: it holds
 * their constants and chooses what they call. The vector maths itself is in fastmath/,
 * whose README.md lists each routine, its accuracy and where its polynomials come from.
 *
 * A loop such as `y[i] = 1 / (1 + exp(-x[i]))` runs one scalar exp() per element
 * unless the compiler knows that a vector version of exp exists. glibc ships those
 * vector versions (libmvec, 4 doubles or 8 floats per call with AVX2) but only
 * announces them to gcc under -ffast-math, which would also break NaN and inf
 * handling. Declaring the SIMD variants here ourselves gives the speed without
 * fast-math: libmvec's functions keep IEEE special values and are accurate to
 * a few ulp (the test suite checks every kernel against mpmath).
 *
 * setup.py defines NL_HAVE_LIBMVEC only after a probe program using these
 * declarations compiled, linked and ran; elsewhere the declarations are left out and
 * those calls stay scalar (portable C). nl_fastmath.h is plain C either way.
 */
#ifndef NL_MATH_H
#define NL_MATH_H
#include <math.h>

#if defined(NL_HAVE_LIBMVEC)
#define NL_DECLARE_SIMD _Pragma("omp declare simd notinbranch")
NL_DECLARE_SIMD extern double exp(double);
NL_DECLARE_SIMD extern float expf(float);
NL_DECLARE_SIMD extern double expm1(double);
NL_DECLARE_SIMD extern double log1p(double);
NL_DECLARE_SIMD extern float log1pf(float);
#endif

#include "fastmath/nl_fastmath.h"

/* tanh for float: with AVX-512, the table code of fastmath/nl_tanhf.c, within 0.69 ulp
 * and as fast as NumPy's tanh; elsewhere nl_tanhf (0.74 ulp), not libm's tanhf, which is
 * 2.19 ulp off at x = 0.2333 (both measured over every float). NL_TANHF is the one the
 * kernels call per element, nl_tanhf_array the same over an array. `const` tells gcc that
 * the call reads no memory; without it gcc would not vectorize the loop around it. */
#include <stddef.h>
#if defined(NL_HAVE_LIBMVEC) && defined(__AVX512F__)
#define NL_HAVE_TANHF_TABLE 1
NL_DECLARE_SIMD extern float nl_tanhf_table(float) __attribute__((const, visibility("hidden")));
extern void nl_tanhf_array(const float *x, float *y, ptrdiff_t n) __attribute__((visibility("hidden")));
#define NL_TANHF nl_tanhf_table
#else
#define NL_HAVE_TANHF_TABLE 0
#define NL_TANHF nl_tanhf
static inline void nl_tanhf_array(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = nl_tanhf(x[i]);
}
#endif

/* Constants to the last digit of a double (checked against mpmath by the tests). */
#define NL_INV_SQRT_2PI   0.39894228040143267794   /* 1/sqrt(2 pi), the normal density's factor */
#define NL_SQRT_2_OVER_PI 0.79788456080286535588   /* sqrt(2/pi), GELU's tanh approximation */
#define NL_GELU_K         0.044715                 /* the cubic coefficient of that approximation */
#define NL_SELU_LAMBDA    1.05070098735548049342   /* Klambauer et al. (2017), eq. 14 */
#define NL_SELU_ALPHA     1.67326324235437728482

#endif
