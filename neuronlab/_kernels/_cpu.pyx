"""The CPU features that decide which build of the kernels to load (see nl_cpu.h).

setup.py compiles this module once, for the oldest CPU of the platform: it must run on
every machine, since it is what decides which builds can.
"""

cdef extern from "nl_cpu.h":
    unsigned nl_cpu_features()
    unsigned SSE3 "NL_CPU_SSE3"
    unsigned SSSE3 "NL_CPU_SSSE3"
    unsigned SSE41 "NL_CPU_SSE41"
    unsigned SSE42 "NL_CPU_SSE42"
    unsigned POPCNT "NL_CPU_POPCNT"
    unsigned CX16 "NL_CPU_CX16"
    unsigned LAHF "NL_CPU_LAHF"
    unsigned AVX "NL_CPU_AVX"
    unsigned AVX2 "NL_CPU_AVX2"
    unsigned FMA "NL_CPU_FMA"
    unsigned BMI1 "NL_CPU_BMI1"
    unsigned BMI2 "NL_CPU_BMI2"
    unsigned F16C "NL_CPU_F16C"
    unsigned LZCNT "NL_CPU_LZCNT"
    unsigned MOVBE "NL_CPU_MOVBE"
    unsigned OS_AVX "NL_CPU_OS_AVX"
    unsigned AVX512F "NL_CPU_AVX512F"
    unsigned AVX512BW "NL_CPU_AVX512BW"
    unsigned AVX512CD "NL_CPU_AVX512CD"
    unsigned AVX512DQ "NL_CPU_AVX512DQ"
    unsigned AVX512VL "NL_CPU_AVX512VL"
    unsigned OS_AVX512 "NL_CPU_OS_AVX512"


def features():
    """{name: bool} for every feature that a build level of the kernels relies on.

    The names are those of ``/proc/cpuinfo``; ``os_avx`` and ``os_avx512`` say whether the
    operating system saves the 256-bit and the 512-bit registers. All are False on a CPU
    that is not x86-64.
    """
    cdef unsigned f = nl_cpu_features()
    bits = {
        "sse3": SSE3, "ssse3": SSSE3, "sse4_1": SSE41, "sse4_2": SSE42, "popcnt": POPCNT,
        "cx16": CX16, "lahf_lm": LAHF,
        "avx": AVX, "avx2": AVX2, "fma": FMA, "bmi1": BMI1, "bmi2": BMI2, "f16c": F16C,
        "abm": LZCNT, "movbe": MOVBE, "os_avx": OS_AVX,
        "avx512f": AVX512F, "avx512bw": AVX512BW, "avx512cd": AVX512CD, "avx512dq": AVX512DQ,
        "avx512vl": AVX512VL, "os_avx512": OS_AVX512,
    }
    return {name: bool(f & bit) for name, bit in bits.items()}
