/* What the CPU and the operating system let the kernels use.
 *
 * setup.py builds every kernel module once per x86-64 level, and neuronlab/_kernels/__init__.py
 * loads the best build that nl_cpu_features() allows. A level needs two things: the CPU must
 * have the instructions (CPUID), and the operating system must save the wider registers when
 * it switches threads (XGETBV reads which register states it saves). An AVX-512 CPU whose OS
 * saves only the 256-bit state must run the v3 build. NumPy's npy_cpu_features.c makes the
 * same two checks for more features.
 *
 * The feature bits below are NL_CPU_*; the Python side names them (neuronlab/_kernels/_cpu.pyx)
 * and decides the level. On a CPU other than x86-64 the function reports no features, and
 * only the "baseline" build (the compiler's defaults, e.g. NEON on aarch64) exists.
 */
#ifndef NL_CPU_H
#define NL_CPU_H

enum {
    /* x86-64-v2 */
    NL_CPU_SSE3 = 1u << 0, NL_CPU_SSSE3 = 1u << 1, NL_CPU_SSE41 = 1u << 2, NL_CPU_SSE42 = 1u << 3,
    NL_CPU_POPCNT = 1u << 4, NL_CPU_CX16 = 1u << 5, NL_CPU_LAHF = 1u << 6,
    /* x86-64-v3 */
    NL_CPU_AVX = 1u << 7, NL_CPU_AVX2 = 1u << 8, NL_CPU_FMA = 1u << 9, NL_CPU_BMI1 = 1u << 10,
    NL_CPU_BMI2 = 1u << 11, NL_CPU_F16C = 1u << 12, NL_CPU_LZCNT = 1u << 13, NL_CPU_MOVBE = 1u << 14,
    NL_CPU_OS_AVX = 1u << 15,  /* the OS saves the YMM registers */
    /* x86-64-v4 */
    NL_CPU_AVX512F = 1u << 16, NL_CPU_AVX512BW = 1u << 17, NL_CPU_AVX512CD = 1u << 18,
    NL_CPU_AVX512DQ = 1u << 19, NL_CPU_AVX512VL = 1u << 20,
    NL_CPU_OS_AVX512 = 1u << 21  /* the OS saves the ZMM and opmask registers */
};

#if defined(__x86_64__) || defined(_M_X64)

#if defined(_MSC_VER)
#include <intrin.h>
static void nl_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    int t[4];
    __cpuidex(t, (int)leaf, (int)sub);
    r[0] = (unsigned)t[0]; r[1] = (unsigned)t[1]; r[2] = (unsigned)t[2]; r[3] = (unsigned)t[3];
}
static unsigned long long nl_xgetbv(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void nl_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
/* the instruction's bytes, so that no -mxsave is needed to compile it */
static unsigned long long nl_xgetbv(void) {
    unsigned lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

#if defined(__APPLE__)
#include <sys/sysctl.h>
/* macOS gives a thread the AVX-512 state on its first AVX-512 instruction, so XCR0 does not
 * show it beforehand; the kernel reports the capability instead (NumPy asks the same). */
static int nl_darwin_avx512(void) {
    int on = 0;
    size_t size = sizeof(on);
    return sysctlbyname("hw.optional.avx512f", &on, &size, NULL, 0) == 0 && on;
}
#endif

static unsigned nl_cpu_features(void) {
    unsigned r[4], f = 0, max_leaf, max_ext;
    nl_cpuid(0, 0, r);
    max_leaf = r[0];
    if (max_leaf < 1) return 0;
    nl_cpuid(1, 0, r);
    const unsigned ecx1 = r[2];
    if (ecx1 & (1u << 0)) f |= NL_CPU_SSE3;
    if (ecx1 & (1u << 9)) f |= NL_CPU_SSSE3;
    if (ecx1 & (1u << 12)) f |= NL_CPU_FMA;
    if (ecx1 & (1u << 13)) f |= NL_CPU_CX16;
    if (ecx1 & (1u << 19)) f |= NL_CPU_SSE41;
    if (ecx1 & (1u << 20)) f |= NL_CPU_SSE42;
    if (ecx1 & (1u << 22)) f |= NL_CPU_MOVBE;
    if (ecx1 & (1u << 23)) f |= NL_CPU_POPCNT;
    if (ecx1 & (1u << 28)) f |= NL_CPU_AVX;
    if (ecx1 & (1u << 29)) f |= NL_CPU_F16C;
    /* bit 27, OSXSAVE: the OS uses XSAVE, so XGETBV may be executed */
    if (ecx1 & (1u << 27)) {
        const unsigned long long xcr0 = nl_xgetbv();
        if ((xcr0 & 0x6) == 0x6) f |= NL_CPU_OS_AVX;        /* XMM and YMM state */
        if ((xcr0 & 0xe6) == 0xe6) f |= NL_CPU_OS_AVX512;   /* + opmask, ZMM_Hi256, Hi16_ZMM */
#if defined(__APPLE__)
        if ((xcr0 & 0x6) == 0x6 && nl_darwin_avx512()) f |= NL_CPU_OS_AVX512;
#endif
    }
    if (max_leaf >= 7) {
        nl_cpuid(7, 0, r);
        const unsigned ebx7 = r[1];
        if (ebx7 & (1u << 3)) f |= NL_CPU_BMI1;
        if (ebx7 & (1u << 5)) f |= NL_CPU_AVX2;
        if (ebx7 & (1u << 8)) f |= NL_CPU_BMI2;
        if (ebx7 & (1u << 16)) f |= NL_CPU_AVX512F;
        if (ebx7 & (1u << 17)) f |= NL_CPU_AVX512DQ;
        if (ebx7 & (1u << 28)) f |= NL_CPU_AVX512CD;
        if (ebx7 & (1u << 30)) f |= NL_CPU_AVX512BW;
        if (ebx7 & (1u << 31)) f |= NL_CPU_AVX512VL;
    }
    nl_cpuid(0x80000000u, 0, r);
    max_ext = r[0];
    if (max_ext >= 0x80000001u) {
        nl_cpuid(0x80000001u, 0, r);
        if (r[2] & (1u << 0)) f |= NL_CPU_LAHF;
        if (r[2] & (1u << 5)) f |= NL_CPU_LZCNT;
    }
    return f;
}

#else  /* not x86-64: one build, for the compiler's default target */

static unsigned nl_cpu_features(void) { return 0; }

#endif
#endif
