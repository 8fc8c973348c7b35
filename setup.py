"""Build the compiled kernels of neuronlab.

Every kernel module is compiled once per CPU level from the same C: on x86-64 for the
baseline (SSE2), x86-64-v3 (AVX2 + FMA) and x86-64-v4 (AVX-512), into
``neuronlab/_kernels/levels/<level>/``; ``neuronlab/_kernels/__init__.py`` loads the best
one that the CPU runs. On other CPUs (aarch64, ...) there is one level, the compiler's
default target ("baseline").

Environment switches (all optional):

``NEURONLAB_NATIVE=1``
    One build for the CPU of this machine (``-march=native``) instead of the levels: for
    people who build for their own computer. It does not run on an older CPU.
``NEURONLAB_LEVELS=baseline,v4``
    Build only these levels (a quicker build while developing; the tests compare levels).
``NEURONLAB_BOUNDSCHECK=1``
    Compile with Cython's bounds and initialization checks on. The normal build turns
    them off because the Python wrappers validate every array first; ``make test-debug``
    runs the kernel tests against a checked build to prove that.
``NEURONLAB_NO_OPENMP=1`` / ``NEURONLAB_NO_LIBMVEC=1``
    Skip threads / glibc's vector math even where the compiler offers them.
``NEURONLAB_SANITIZE=address`` (or any ``-fsanitize=`` value, e.g. ``address,undefined``)
    Build with that sanitizer (and ``-g -fno-omit-frame-pointer`` for readable reports).
    ``make asan`` uses it: the extensions are then loaded into a Python that is not
    instrumented, so the runtime must be preloaded (``LD_PRELOAD=$(gcc
    -print-file-name=libasan.so)``) and leak detection turned off (Python keeps its
    interned objects until exit by design): ``ASAN_OPTIONS=detect_leaks=0``.
``CC``
    The C compiler, as for any setuptools build (e.g. ``CC=clang``). The probes below run
    the compiler that the build will use.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "neuronlab" / "_kernels"
FASTMATH = KERNELS / "fastmath"  # the vector maths: headers, nl_tanhf.c, the _fastmath test module
LEVELS = KERNELS / "levels"      # one folder of compiled modules per CPU level
MSVC = sys.platform == "win32"


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def compiler() -> list[str]:
    """The compiler command that setuptools will run: $CC if set, else Python's own."""
    return (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()


def compiles(source: str, cflags: list[str], ldflags: list[str] = (), run: bool = True) -> bool:
    """Does the build's C compiler accept these flags without a warning, build `source` and
    (if `run`) run it? Compiling is enough for a CPU level that this machine may lack."""
    with tempfile.TemporaryDirectory() as tmp:
        c_file, obj, exe = Path(tmp, "probe.c"), Path(tmp, "probe.o"), Path(tmp, "probe")
        c_file.write_text(source)
        # The environment's flags, as setuptools adds them (e.g. where Homebrew's libomp is).
        env = {name: os.environ.get(name, "").split() for name in ("CFLAGS", "CPPFLAGS", "LDFLAGS")}
        # Compiled and linked apart, as setuptools does, with -Werror: clang only warns about
        # an option it ignores (gcc's --param, say), and only when it compiles alone.
        steps = [[*compiler(), "-Werror", *env["CFLAGS"], *env["CPPFLAGS"], *cflags, "-c", str(c_file),
                  "-o", str(obj)],
                 [*compiler(), *env["CFLAGS"], *cflags, str(obj), "-o", str(exe), *env["LDFLAGS"], *ldflags, "-lm"]]
        try:
            for step in steps:
                if subprocess.run(step, capture_output=True, timeout=120).returncode != 0:
                    return False
            return not run or subprocess.run([str(exe)], timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False


TRIVIAL = "int main(void) { return 0; }"

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


# The x86-64 levels (the psABI's names) and the flags that let the compiler use each one's
# instructions. gcc tunes AVX-512 CPUs (Ice Lake, Zen 4) to vectorize with 256-bit registers,
# against the clock slowdown that 512-bit ones once cost; the transcendental kernels are bound
# by arithmetic, not memory, and run 15-20% faster at the full width, so v4 asks for it.
LEVEL_FLAGS = {
    "baseline": [],                                           # SSE2: every x86-64 CPU
    "v3": ["-march=x86-64-v3"],                               # + AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE
    "v4": ["-march=x86-64-v4", "-mprefer-vector-width=512"],  # + AVX-512 F, BW, CD, DQ, VL
}
MSVC_LEVEL_FLAGS = {"baseline": [], "v3": ["/arch:AVX2"], "v4": ["/arch:AVX512"]}


def is_x86_64() -> bool:
    # sysconfig.get_platform() names the target, also when cross-compiling (cibuildwheel)
    platform = sysconfig.get_platform().lower()
    return platform.endswith(("x86_64", "amd64")) and "arm64" not in os.environ.get("ARCHFLAGS", "")


def levels() -> dict[str, list[str]]:
    """{level: the flags that let the compiler use that level's instructions}."""
    if flag("NEURONLAB_NATIVE"):
        native = ["-march=native"]
        if compiles(TRIVIAL, [*native, "-mprefer-vector-width=512"]):
            native.append("-mprefer-vector-width=512")
        return {"native": native}
    if not is_x86_64():
        return {"baseline": []}  # aarch64's baseline has NEON: nothing to dispatch between
    if MSVC:
        found = MSVC_LEVEL_FLAGS
    else:
        # an old compiler without the level names (gcc < 11, clang < 12) builds fewer levels
        found = {name: f for name, f in LEVEL_FLAGS.items() if compiles(TRIVIAL, f, run=False)}
    only = [s.strip() for s in os.environ.get("NEURONLAB_LEVELS", "").split(",") if s.strip()]
    unknown = sorted(set(only) - set(found))
    if unknown:
        sys.exit(f"NEURONLAB_LEVELS: cannot build {', '.join(unknown)}; this compiler offers "
                 f"{', '.join(found)}")
    return {name: f for name, f in found.items() if not only or name in only}


def compiler_options() -> tuple[list[str], list[str], list[tuple[str, str | None]]]:
    """The flags that every level shares: optimization, threads, vector libm, sanitizer."""
    if MSVC:
        # /fp:contract: fused multiply-add where the level has it, as gcc and clang do
        return ["/O2", "/fp:contract", "/openmp"], [], []
    # errno is never read, and no kernel enables FP traps: without these two, gcc may neither
    # vectorize a call to exp() nor evaluate both sides of a branch as one SIMD select.
    cflags = ["-O3", "-fno-math-errno", "-fno-trapping-math"]
    ldflags: list[str] = []
    macros: list[tuple[str, str | None]] = []
    # A vectorized loop starts with a few scalar iterations until its pointer is aligned, and
    # NumPy aligns arrays to 16 bytes, not 32: which elements take the scalar libm path (it
    # can differ from the vector one by an ulp) would then depend on where the array sits in
    # memory, and the same input could give different last bits. Without that peeling, an
    # element's path depends only on its index. (gcc's option; clang has no such peeling.)
    no_peeling = "--param=vect-max-peeling-for-alignment=0"
    if compiles(TRIVIAL, [no_peeling]):
        cflags.append(no_peeling)
    if not flag("NEURONLAB_NO_OPENMP"):
        # gcc and clang with libomp-dev: -fopenmp; Apple's clang with Homebrew's libomp needs
        # the preprocessor to be told, and the library named
        for cf, lf in ((["-fopenmp"], ["-fopenmp"]), (["-Xpreprocessor", "-fopenmp"], ["-lomp"])):
            if compiles(OPENMP_PROBE, cf, lf):
                cflags += cf
                ldflags += lf
                break
    # libmvec is glibc's: the probe fails elsewhere (macOS, musl, Windows)
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


def wrapper(level: str, module: str, source: str) -> str:
    """A one-line C file that includes `source`: the same C compiled once per level gets
    an object file of its own (setuptools names objects after their sources)."""
    path = HERE / "build" / "levels" / level / module / Path(source).name
    text = f'#include "{Path(source).as_posix()}"\n'  # found through the include root HERE
    if not path.exists() or path.read_text() != text:  # an unchanged file keeps its mtime
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(path.relative_to(HERE))


def describe(cflags: list[str], ldflags: list[str], per_level: dict[str, list[str]], checked: bool) -> dict:
    """What this build is, for nl.show_config()."""
    try:
        version = subprocess.run([*compiler(), "--version"], capture_output=True, text=True,
                                 timeout=60).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        version = "unknown"
    return {"compiler": " ".join(compiler()), "compiler_version": version, "cflags": cflags,
            "ldflags": ldflags, "levels": per_level, "boundscheck": checked,
            "openmp": any("openmp" in f and "simd" not in f for f in cflags),
            "libmvec": "-lmvec" in ldflags}


def extensions() -> list[Extension]:
    from Cython.Build import cythonize

    sys.path.insert(0, str(KERNELS))
    import _generate  # the kernel table lives beside the kernels

    _generate.write()
    checked = flag("NEURONLAB_BOUNDSCHECK")
    cflags, ldflags, macros = compiler_options()
    if checked and not MSVC:
        # With bounds checks, each prange loop gets Cython's error hand-off code, whose
        # line-number variable gcc's OpenMP outlining wrongly reports as uninitialized.
        cflags.append("-Wno-maybe-uninitialized")
    per_level = levels()
    build = describe(cflags, ldflags, per_level, checked)
    print(f"neuronlab: {json.dumps(build)}")
    # Cython tracks source changes, not option changes: rebuild everything when the options
    # differ from the last build's (e.g. after `make test-debug`).
    stamp = HERE / "build" / "neuronlab-build-options.txt"
    mode = json.dumps([build, macros])
    force = not stamp.exists() or stamp.read_text() != mode
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(mode)
    c_sources = [str(c.relative_to(HERE)) for c in sorted(FASTMATH.glob("nl_*.c"))]
    headers = [str(h.relative_to(HERE)) for h in sorted([*KERNELS.glob("*.h"), *FASTMATH.glob("*.h")])]
    kernels = [
        Extension(
            # neuronlab._kernels._softmax, ..., neuronlab._kernels.fastmath._fastmath
            ".".join(pyx.relative_to(HERE).with_suffix("").parts),
            # with the hand-written C (nl_*.c): each module links its own copy, like a header
            [str(pyx.relative_to(HERE)), *c_sources],
        )
        for pyx in sorted([*KERNELS.glob("*.pyx"), *FASTMATH.glob("*.pyx")]) if pyx.stem != "_cpu"
    ]
    # The CPU probe is built once, for the oldest CPU: it is what decides which level runs.
    cpu = Extension("neuronlab._kernels._cpu", ["neuronlab/_kernels/_cpu.pyx"], include_dirs=[str(KERNELS)],
                    depends=["neuronlab/_kernels/nl_cpu.h"], extra_compile_args=[] if MSVC else ["-O2"])
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
    # Cython writes each module's C once; the C does not depend on the CPU level.
    cpu, *kernels = cythonize([cpu, *kernels], compiler_directives=directives, force=force, quiet=True,
                              nthreads=os.cpu_count() or 1)
    leveled = []
    for level, level_flags in per_level.items():
        for ext in kernels:
            module = ext.name.rsplit(".", 1)[1]
            leveled.append(Extension(
                # neuronlab._kernels.levels.v4._dense: the file levels/v4/_dense.*.so, which
                # neuronlab/_kernels/__init__.py loads as neuronlab._kernels._dense
                ext.name.replace("neuronlab._kernels.", f"neuronlab._kernels.levels.{level}.", 1),
                [wrapper(level, module, src) for src in ext.sources],
                # the include root: the sources name "nl_math.h" and "fastmath/nl_stream.h",
                # the wrappers "neuronlab/_kernels/_dense.c"
                include_dirs=[str(KERNELS), str(HERE)],
                # the C headers and the C itself (the wrapper never changes)
                depends=[*headers, *ext.sources],
                extra_compile_args=[*cflags, *level_flags],
                extra_link_args=ldflags,
                define_macros=macros,
            ))
            # a module left where the build before the levels put it would never be loaded
            for old in Path(HERE, *ext.name.split(".")[:-1]).glob(f"{module}.*.so"):
                old.unlink()
    for stale in LEVELS.glob("*/") if LEVELS.is_dir() else ():
        if stale.name not in per_level:
            shutil.rmtree(stale)
    for level in per_level:  # setuptools makes no folder for a module outside the packages
        (LEVELS / level / "fastmath").mkdir(parents=True, exist_ok=True)
    (LEVELS / "build.json").write_text(json.dumps(build, indent=1) + "\n")
    return [cpu, *leveled]


# A compiler per core: every module is compiled once per level.
setup(ext_modules=extensions(), options={"build_ext": {"parallel": os.cpu_count() or 1}})
