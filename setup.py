"""Build the compiled kernels of neuronlab.

Environment switches (all optional):

``NEURONLAB_BOUNDSCHECK=1``
    Compile with Cython's bounds and initialization checks on. The normal build turns
    them off because the Python wrappers validate every array first; ``make test-debug``
    runs the kernel tests against a checked build to prove that.
``NEURONLAB_PORTABLE=1``
    Do not tune for this CPU (no ``-march=native``): for binaries that travel.
``NEURONLAB_NO_OPENMP=1`` / ``NEURONLAB_NO_LIBMVEC=1``
    Skip threads / glibc's vector math even where the compiler offers them.
``NEURONLAB_SANITIZE=address`` (or any ``-fsanitize=`` value, e.g. ``address,undefined``)
    Build with that sanitizer (and ``-g -fno-omit-frame-pointer`` for readable reports).
    ``make asan`` uses it: the extensions are then loaded into a Python that is not
    instrumented, so the runtime must be preloaded (``LD_PRELOAD=$(gcc
    -print-file-name=libasan.so)``) and leak detection turned off (Python keeps its
    interned objects until exit by design): ``ASAN_OPTIONS=detect_leaks=0``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "neuronlab" / "_kernels"
FASTMATH = KERNELS / "fastmath"  # the vector maths: headers, nl_tanhf.c, the _fastmath test module


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def compiles(source: str, cflags: list[str], ldflags: list[str] = ()) -> bool:
    """Does the C compiler build *and run* `source` with these flags?"""
    cc = sysconfig.get_config_var("CC") or "cc"
    with tempfile.TemporaryDirectory() as tmp:
        c_file, exe = Path(tmp, "probe.c"), Path(tmp, "probe")
        c_file.write_text(source)
        cmd = [*cc.split(), *cflags, str(c_file), "-o", str(exe), *ldflags, "-lm"]
        try:
            build = subprocess.run(cmd, capture_output=True, timeout=120)
            return build.returncode == 0 and subprocess.run([str(exe)], timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False


OPENMP_PROBE = """
#include <omp.h>
int main(void) { int n = 0;
#pragma omp parallel reduction(+:n)
  n += 1;
  return n >= 1 ? 0 : 1; }
"""

# nl_math.h's own declarations: a loop over every function it declares SIMD must link
# against libmvec. Probing exp alone is not enough: glibc added exp and expf to libmvec
# before expm1 and log1p (x86-64: 2.22 and 2.35; aarch64: 2.38 and 2.39), and a shared
# object links with the missing ones undefined, to fail only at import.
LIBMVEC_PROBE = """
#include "nl_math.h"
int main(void) { double x[64], y[64]; float xf[64], yf[64]; int i;
  for (i = 0; i < 64; i++) { x[i] = -i / 8.0; xf[i] = -i / 8.0f; }
  for (i = 0; i < 64; i++) y[i] = exp(x[i]) + expm1(x[i]) + log1p(-x[i]);
  for (i = 0; i < 64; i++) yf[i] = expf(xf[i]) + log1pf(-xf[i]);
  /* at x = -1: e^-1 + (e^-1 - 1) + log 2 = 0.4289 and e^-1 + log 2 = 1.0610 */
  return (y[0] == 1.0 && y[8] > 0.428 && y[8] < 0.430 && yf[8] > 1.060f && yf[8] < 1.062f) ? 0 : 1; }
"""


def compiler_options() -> tuple[list[str], list[str], list[tuple[str, str | None]]]:
    # errno is never read, and no kernel enables FP traps: without these two, gcc may neither
    # vectorize a call to exp() nor evaluate both sides of a branch as one SIMD select.
    cflags = ["-O3", "-fno-math-errno", "-fno-trapping-math"]
    ldflags: list[str] = []
    macros: list[tuple[str, str | None]] = []
    if sys.platform == "win32":
        return ["/O2"], [], macros
    if not flag("NEURONLAB_PORTABLE") and compiles("int main(void){return 0;}", ["-march=native"]):
        cflags.append("-march=native")
        # gcc tunes CPUs with AVX-512 (Ice Lake, Sapphire Rapids) to vectorize with 256-bit
        # registers, against the clock slowdown that 512-bit ones once cost. The
        # transcendental kernels are bound by arithmetic, not by memory, and run 15-20%
        # faster at the full width (sigmoid, GELU); the build asks for it.
        if compiles("int main(void){return 0;}", ["-march=native", "-mprefer-vector-width=512"]):
            cflags.append("-mprefer-vector-width=512")
    # A vectorized loop starts with a few scalar iterations until its pointer is aligned, and
    # NumPy aligns arrays to 16 bytes, not 32: which elements take the scalar libm path (it
    # can differ from the vector one by an ulp) would then depend on where the array sits in
    # memory, and the same input could give different last bits. Without that peeling, an
    # element's path depends only on its index.
    no_peeling = "--param=vect-max-peeling-for-alignment=0"
    if compiles("int main(void){return 0;}", [no_peeling]):
        cflags.append(no_peeling)
    if not flag("NEURONLAB_NO_OPENMP") and compiles(OPENMP_PROBE, ["-fopenmp"], ["-fopenmp"]):
        cflags.append("-fopenmp")
        ldflags.append("-fopenmp")
    if not flag("NEURONLAB_NO_LIBMVEC") and compiles(
        LIBMVEC_PROBE, [*cflags, "-fopenmp-simd", "-DNL_HAVE_LIBMVEC", f"-I{KERNELS}"], ["-lmvec"]
    ):
        cflags.append("-fopenmp-simd")
        ldflags.append("-lmvec")
        macros.append(("NL_HAVE_LIBMVEC", "1"))
    sanitize = os.environ.get("NEURONLAB_SANITIZE", "").strip()
    if sanitize:
        cflags += [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer", "-g"]
        ldflags.append(f"-fsanitize={sanitize}")
    return cflags, ldflags, macros


def extensions() -> list[Extension]:
    from Cython.Build import cythonize

    sys.path.insert(0, str(KERNELS))
    import _generate  # the kernel table lives beside the kernels

    _generate.write()
    checked = flag("NEURONLAB_BOUNDSCHECK")
    cflags, ldflags, macros = compiler_options()
    if checked:
        # With bounds checks, each prange loop gets Cython's error hand-off code, whose
        # line-number variable gcc's OpenMP outlining wrongly reports as uninitialized.
        cflags.append("-Wno-maybe-uninitialized")
    mode = f"cflags={cflags} ldflags={ldflags} macros={macros} boundscheck={checked}"
    print(f"neuronlab: {mode}")
    # Cython tracks source changes, not option changes: rebuild everything when the options
    # differ from the last build's (e.g. after `make test-debug`).
    stamp = HERE / "build" / "neuronlab-build-options.txt"
    force = not stamp.exists() or stamp.read_text() != mode
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(mode)
    c_sources = [str(c.relative_to(HERE)) for c in sorted(FASTMATH.glob("nl_*.c"))]
    headers = [str(h.relative_to(HERE)) for h in sorted([*KERNELS.glob("*.h"), *FASTMATH.glob("*.h")])]
    modules = [
        Extension(
            # neuronlab._kernels._softmax, ..., neuronlab._kernels.fastmath._fastmath
            ".".join(pyx.relative_to(HERE).with_suffix("").parts),
            # with the hand-written C (nl_*.c): each module links its own copy, like a header
            [str(pyx.relative_to(HERE)), *c_sources],
            # one include root: the sources name "nl_math.h" and "fastmath/nl_stream.h"
            include_dirs=[str(KERNELS)],
            # the C headers: Cython tracks .pxd files itself, but not what they include
            depends=headers,
            extra_compile_args=cflags,
            extra_link_args=ldflags,
            define_macros=macros,
        )
        for pyx in sorted([*KERNELS.glob("*.pyx"), *FASTMATH.glob("*.pyx")])
    ]
    # The one place where compiler directives are set.
    directives = {
        "language_level": 3,
        "boundscheck": checked,
        "initializedcheck": checked,
        "wraparound": False,
        "cdivision": True,
        "embedsignature": True,
        # the checked build is slow on purpose: no hint per indexing that says so
        "show_performance_hints": not checked,
    }
    return cythonize(modules, compiler_directives=directives, force=force, quiet=True)


setup(ext_modules=extensions())
