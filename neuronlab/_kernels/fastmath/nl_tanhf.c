/*
 * nl_tanhf.c -- tanh for float32 from a table of polynomials, 16 lanes at a time (AVX-512).
 *
 * Why a table: tanh from an exponential costs an exp, a division and a correction step.
 * libmvec's tanhf, which the kernels called before, took 1.35x as long as NumPy's tanh
 * (Intel's table-driven SVML code) at 10^7 floats, and is 2.19 ulp off at x = 0.2333
 * (glibc's scalar tanhf too). A table needs no division: the range
 * of a = |x| is cut into 30 intervals and each gets its own short polynomial, chosen
 * per lane with a permute instruction, which holds 32 floats in two registers. The
 * result is within 0.69 ulp of tanh for every float (tests/test_fastmath.py checks all
 * of them), and as fast as NumPy.
 *
 * The method, for a = min(|x|, 9.02) (tanh rounds to 1 from 9.0109 on; NaN stays NaN):
 *
 *   k = (bits of a >> 21) - 491, at least 0: the exponent and the top two bits of the
 *       mantissa, so four intervals per octave, [2^e (1 + j/4), 2^e (1 + (j + 1)/4)),
 *       from 2^-4 (k = 1) to 9.02 (k = 29); every a < 2^-4 gets k = 0.
 *   d = a - m_k, exact: the centre m_k has the same exponent as a (Sterbenz's lemma).
 *   tanh(a) = c0 + d (c1 + d (c2 + ... + d c5)), the minimax polynomial of interval k,
 *       with c0 stored as hi + lo (two floats) and added last:
 *       (lo + d q) + hi rounds twice, but the first rounding is small against hi, and
 *       this keeps the error near the 0.5 ulp of the last rounding. With c0 a single
 *       float, a first fit was 1.4 ulp off.
 *   k = 0: m_0 = c0 = c1 = 0 and tanh(a) = a + a q(a), q = c3 a^2 + c5 a^4, with a added
 *       last: a q is tiny against a, so the error stays near the last rounding's 0.5 ulp.
 *       As a (1 + q), the rounding of 1 + q would cost up to half an ulp more.
 *   The sign of x is put back last: tanh is odd, and tanh(-0) = -0.
 *
 * The coefficients come from neuronlab/_kernels/fastmath/tools/fit_polynomials.py (tanhf_table).
 *
 * gcc vectorizes the kernels' loops itself; ../nl_math.h declares nl_tanhf_table as a
 * function with SIMD variants ("omp declare simd"), and gcc calls the variant below that
 * fits its vector width (the x86-64 vector function ABI names them _ZGV<isa>N<lanes>v_:
 * b = SSE, c = AVX, d = AVX2, e = AVX-512). Every variant, and the scalar function,
 * computes the same 16 lanes, so an element's result never depends on which one ran.
 * nl_tanhf_array is the same computation inlined into its own loop, for the tanh kernel
 * itself: at 10^7 floats, a loop calling the 16-lane variant took 2.33 ms, this one 1.82.
 */
#include <stddef.h>

/* Only where ../nl_math.h uses it: with AVX-512 and the "omp declare simd" of a glibc build
 * (the attributes below are gcc's and clang's; MSVC with /arch:AVX512 gets the plain tanh). */
#if defined(NL_HAVE_LIBMVEC) && defined(__AVX512F__)
#include <immintrin.h>

#define NL_HIDDEN __attribute__((visibility("hidden")))

/* Rows: the interval's centre, c0 (high and low part), c1 .. c5; 32 entries per row,
 * the last two unused (k <= 29). */
static const float NL_TANHF_TABLE[8][32] __attribute__((aligned(64))) = {
    /* centre */ {
        0.0f, 0x1.2p-4f, 0x1.6p-4f, 0x1.ap-4f,
        0x1.ep-4f, 0x1.2p-3f, 0x1.6p-3f, 0x1.ap-3f,
        0x1.ep-3f, 0x1.2p-2f, 0x1.6p-2f, 0x1.ap-2f,
        0x1.ep-2f, 0x1.2p-1f, 0x1.6p-1f, 0x1.ap-1f,
        0x1.ep-1f, 0x1.2p+0f, 0x1.6p+0f, 0x1.ap+0f,
        0x1.ep+0f, 0x1.2p+1f, 0x1.6p+1f, 0x1.ap+1f,
        0x1.ep+1f, 0x1.2p+2f, 0x1.6p+2f, 0x1.ap+2f,
        0x1.ep+2f, 0x1.2p+3f, 0.0f, 0.0f,
    },
    /* c0 (high part) */ {
        0.0f, 0x1.1f86bep-4f, 0x1.5f22d2p-4f, 0x1.9e9356p-4f,
        0x1.ddd092p-4f, 0x1.1e1ddp-3f, 0x1.5c9308p-3f, 0x1.9a5f1cp-3f,
        0x1.d7665cp-3f, 0x1.18a39ap-2f, 0x1.52c2c6p-2f, 0x1.8a87e2p-2f,
        0x1.bfae6ap-2f, 0x1.05087p-1f, 0x1.3157ep-1f, 0x1.5789p-1f,
        0x1.77d838p-1f, 0x1.9e5cb6p-1f, 0x1.c278a6p-1f, 0x1.d9c6fcp-1f,
        0x1.e8789ep-1f, 0x1.f4bfd6p-1f, 0x1.fbd50ap-1f, 0x1.fe767ap-1f,
        0x1.ff6f18p-1f, 0x1.ffdfa6p-1f, 0x1.fffbap-1f, 0x1.ffff68p-1f,
        0x1.ffffecp-1f, 0x1.fffffep-1f, 0.0f, 0.0f,
    },
    /* c0 (low part) */ {
        0.0f, -0x1.3a17fcp-29f, -0x1.2659cp-32f, 0x1.f48db2p-30f,
        0x1.493e02p-29f, 0x1.573598p-29f, -0x1.bb0ce4p-28f, -0x1.899efap-31f,
        0x1.f3767ap-28f, -0x1.954a56p-30f, -0x1.3c6198p-27f, -0x1.69a966p-27f,
        0x1.72d632p-27f, -0x1.a25588p-26f, -0x1.63808ep-29f, -0x1.de1fbp-26f,
        0x1.c70bd2p-26f, -0x1.96510cp-28f, -0x1.94eb9ep-26f, -0x1.fad11p-26f,
        0x1.9ed202p-26f, 0x1.278be8p-26f, -0x1.d50ca6p-27f, -0x1.6578c2p-26f,
        -0x1.7bb818p-27f, 0x1.86892ep-26f, -0x1.ba22b6p-26f, 0x1.38bf44p-27f,
        -0x1.0f30dap-26f, 0x1.f4b248p-26f, 0.0f, 0.0f,
    },
    /* c1 */ {
        0.0f, 0x1.fd7a22p-1f, 0x1.fc3cbep-1f, 0x1.fac13ep-1f,
        0x1.f9085ap-1f, 0x1.f601cap-1f, 0x1.f12bp-1f, 0x1.eb715ap-1f,
        0x1.e4dfb2p-1f, 0x1.d98b36p-1f, 0x1.c7f724p-1f, 0x1.b3ff2ep-1f,
        0x1.9e23aep-1f, 0x1.7aeae6p-1f, 0x1.49e6cp-1f, 0x1.197fcep-1f,
        0x1.d834d2p-2f, 0x1.615002p-2f, 0x1.cea744p-3f, 0x1.265e34p-3f,
        0x1.6fcfa6p-4f, 0x1.641088p-5f, 0x1.09a7acp-6f, 0x1.88ef74p-8f,
        0x1.21a7b8p-9f, 0x1.02c148p-11f, 0x1.18359cp-14f, 0x1.2f62f4p-17f,
        0x1.4878f6p-20f, 0x1.066262p-24f, 0.0f, 0.0f,
    },
    /* c2 */ {
        0.0f, -0x1.1e1c0ap-4f, -0x1.5c8e36p-4f, -0x1.9a5416p-4f,
        -0x1.d75004p-4f, -0x1.18883cp-3f, -0x1.5279fep-3f, -0x1.89e50ep-3f,
        -0x1.be6cb8p-3f, -0x1.038f7p-2f, -0x1.2daf98p-2f, -0x1.4ff712p-2f,
        -0x1.6a1d38p-2f, -0x1.825de4p-2f, -0x1.897d22p-2f, -0x1.79c0e4p-2f,
        -0x1.5aa224p-2f, -0x1.1df056p-2f, -0x1.970ed2p-3f, -0x1.1064bap-3f,
        -0x1.5ee8aap-4f, -0x1.5c3a3ep-5f, -0x1.077906p-6f, -0x1.87b86ep-8f,
        -0x1.214eaap-9f, -0x1.0244fp-11f, -0x1.17bd64p-14f, -0x1.2ee2eap-17f,
        -0x1.47eea6p-20f, -0x1.f6f66ep-25f, 0.0f, 0.0f,
    },
    /* c3 */ {
        -0x1.55553ep-2f, -0x1.4ea16p-2f, -0x1.4b5adp-2f, -0x1.477428p-2f,
        -0x1.42f17cp-2f, -0x1.3b135p-2f, -0x1.2ea3fcp-2f, -0x1.202a34p-2f,
        -0x1.0fdf04p-2f, -0x1.e91ef8p-3f, -0x1.98588ep-3f, -0x1.4272p-3f,
        -0x1.d71f7ep-4f, -0x1.bd0ce8p-5f, 0x1.d76898p-7f, 0x1.072cc4p-4f,
        0x1.8434bp-4f, 0x1.c68efep-4f, 0x1.97d8e2p-4f, 0x1.33df76p-4f,
        0x1.a85c5p-5f, 0x1.bbce98p-6f, 0x1.59933p-7f, 0x1.0394eap-8f,
        0x1.80e4f6p-10f, 0x1.583ec8p-12f, 0x1.7504fep-15f, 0x1.93e84p-18f,
        0x1.b54f54p-21f, 0x1.b5a63ap-25f, 0.0f, 0.0f,
    },
    /* c4 */ {
        0.0f, 0x1.7aa3e8p-5f, 0x1.cb9816p-5f, 0x1.0d55c6p-4f,
        0x1.33c776p-4f, 0x1.6b051cp-4f, 0x1.af9b76p-4f, 0x1.ed77f8p-4f,
        0x1.11e9f2p-3f, 0x1.32dfccp-3f, 0x1.4fff7cp-3f, 0x1.5c02d6p-3f,
        0x1.5839a2p-3f, 0x1.39dae6p-3f, 0x1.e93b12p-4f, 0x1.474356p-4f,
        0x1.633ac2p-5f, 0x1.e50c1ap-9f, -0x1.599f7ep-6f, -0x1.9b961cp-6f,
        -0x1.5596cp-6f, -0x1.960178p-7f, -0x1.51959ap-8f, -0x1.0374fap-9f,
        -0x1.83e818p-11f, -0x1.69dda6p-13f, -0x1.888fcp-16f, -0x1.a92218p-19f,
        -0x1.cc4d02p-22f, -0x1.5eb93p-30f, 0.0f, 0.0f,
    },
    /* c5 */ {
        0x1.107772p-3f, 0x1.05bd34p-3f, 0x1.003d76p-3f, 0x1.f3744ap-4f,
        0x1.e47dbap-4f, 0x1.cab604p-4f, 0x1.a2868ep-4f, 0x1.74c98p-4f,
        0x1.42ad34p-4f, 0x1.e4bdccp-5f, 0x1.068f34p-5f, 0x1.89802ap-8f,
        -0x1.183058p-6f, -0x1.630d3ep-5f, -0x1.f7f4b2p-5f, -0x1.00ac5cp-4f,
        -0x1.b2c93ap-5f, -0x1.070c8p-5f, -0x1.39172p-7f, 0x1.6961d8p-10f,
        0x1.2d31f4p-8f, 0x1.0494aep-8f, 0x1.f67698p-10f, 0x1.947e82p-11f,
        0x1.334cep-12f, 0x1.202b04p-14f, 0x1.3937b8p-17f, 0x1.534b6cp-20f,
        0x1.6f5fe4p-23f, 0x1.869f6ep-26f, 0.0f, 0.0f,
    },
};

/* Entry k of row j for each lane: one permute across the row's two halves. */
static inline __m512 nl__tanhf_row(int j, __m512i k) {
    return _mm512_permutex2var_ps(_mm512_load_ps(NL_TANHF_TABLE[j]), k,
                                  _mm512_load_ps(NL_TANHF_TABLE[j] + 16));
}

/* <tanhf16> (the textbook's tanh page shows from here to the closing mark) */
static inline __m512 nl__tanhf16(__m512 x) {
    const __m512 magnitude = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    /* min(9.02, NaN) is NaN: the instruction returns its second operand when one is NaN */
    __m512 a = _mm512_min_ps(_mm512_set1_ps(9.02f), _mm512_and_ps(x, magnitude));
    __m512i k = _mm512_sub_epi32(_mm512_srli_epi32(_mm512_castps_si512(a), 21), _mm512_set1_epi32(491));
    k = _mm512_max_epi32(k, _mm512_setzero_si512());
    __m512 d = _mm512_sub_ps(a, nl__tanhf_row(0, k));
    __m512 q = nl__tanhf_row(7, k);
    for (int j = 6; j >= 3; j--)
        q = _mm512_fmadd_ps(q, d, nl__tanhf_row(j, k));
    __m512 t = _mm512_add_ps(_mm512_fmadd_ps(q, d, nl__tanhf_row(2, k)), nl__tanhf_row(1, k));
    __mmask16 small = _mm512_cmp_ps_mask(a, _mm512_set1_ps(0x1p-4f), _CMP_LT_OQ);
    t = _mm512_mask_add_ps(t, small, t, d);
    return _mm512_or_ps(t, _mm512_andnot_ps(magnitude, x));
}
/* </tanhf16> */

NL_HIDDEN __m512 _ZGVeN16v_nl_tanhf_table(__m512 x) { return nl__tanhf16(x); }

NL_HIDDEN __m256 _ZGVdN8v_nl_tanhf_table(__m256 x) {
    return _mm512_castps512_ps256(nl__tanhf16(_mm512_zextps256_ps512(x)));
}

NL_HIDDEN __m256 _ZGVcN8v_nl_tanhf_table(__m256 x) { return _ZGVdN8v_nl_tanhf_table(x); }

NL_HIDDEN __m128 _ZGVbN4v_nl_tanhf_table(__m128 x) {
    return _mm512_castps512_ps128(nl__tanhf16(_mm512_zextps128_ps512(x)));
}

NL_HIDDEN float nl_tanhf_table(float x) { return _mm512_cvtss_f32(nl__tanhf16(_mm512_set1_ps(x))); }

NL_HIDDEN void nl_tanhf_array(const float *x, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    /* two vectors per turn: the permutes of one overlap the multiply-adds of the other */
    for (; i + 32 <= n; i += 32) {
        __m512 u = nl__tanhf16(_mm512_loadu_ps(x + i));
        __m512 v = nl__tanhf16(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(y + i, u);
        _mm512_storeu_ps(y + i + 16, v);
    }
    for (; i < n; i += 16) {
        /* the last 1..16: masked loads and stores touch no element past n */
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, nl__tanhf16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#else
/* Without AVX-512 the kernels call nl_tanhf of nl_fastmath.h instead: see ../nl_math.h. */
typedef int nl_tanhf_unused;
#endif
