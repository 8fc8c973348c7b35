#!/bin/bash
# The kernels on aarch64 (ARM64, where NEON is the baseline and none of the x86 code
# paths exist): build neuronlab natively inside an emulated Debian arm64 root and run
# the kernel tests there. `make test-aarch64` runs this script; it needs root (for
# debootstrap, chroot and the mounts) and is not part of CI: under qemu the build takes
# tens of minutes.
#
# What it does, each step skipped when already done:
#   1. installs qemu-user-static, binfmt-support and debootstrap (apt-get), and makes the
#      kernel run aarch64 programs through qemu (binfmt_misc);
#   2. creates a Debian bookworm arm64 root in $NL_AARCH64_ROOT with Python, gcc and a
#      virtualenv holding the build and test requirements (aarch64 wheels from PyPI);
#   3. copies this working tree into the root (tracked and untracked files, not ignored
#      ones: a fresh clone's view, with your edits) and builds the kernels there with
#      the root's own gcc, through the unchanged setup.py: every compiler probe runs as
#      it would on an ARM machine;
#   4. runs the kernel tests (or the pytest arguments given) under qemu, and reports
#      the build's options and the wall times.
#
#   tools/aarch64/test.sh                          # the kernel tests
#   tools/aarch64/test.sh tests/test_fastmath.py   # other tests, any pytest arguments
#
# Environment: NL_AARCH64_ROOT (default /var/tmp/neuronlab-aarch64), NL_DEBIAN_MIRROR
# (default http://deb.debian.org/debian). `rm -rf` the root to start over; the build
# inside it is incremental, like `setup.py build_ext --inplace` here.
set -euo pipefail

ROOT=${NL_AARCH64_ROOT:-/var/tmp/neuronlab-aarch64}
MIRROR=${NL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SRC=/src/neuronlab                      # the copy of the tree, inside the root
HERE=$(cd "$(dirname "$0")/../.." && pwd)
KERNEL_TESTS=(tests/test_activations.py tests/test_softmax.py tests/test_losses.py tests/test_formulas.py)
# The build and test requirements of pyproject.toml, less the plotting and scikit-learn
# extras: the kernel tests do not use them, and they would double the install time.
REQUIREMENTS=("pip>=23" "setuptools>=77" "Cython>=3.1" wheel "numpy>=1.25" "scipy>=1.10" "tqdm>=4.60"
              "pytest>=7" "hypothesis>=6.80" "sympy>=1.12" "mpmath>=1.3")

say() { printf '\n== test-aarch64: %s\n' "$*"; }
die() { printf 'test-aarch64: %s\n' "$*" >&2; exit 1; }
# Run a command in the root with a clean environment (nothing of this host's Python).
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
                PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"; }
seconds() { date +%s; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount); run it with sudo"
[ "$(uname -m)" != aarch64 ] || say "this machine is aarch64 already: the root runs without emulation"

# -- 1. qemu and binfmt_misc ---------------------------------------------------------------
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -e /usr/bin/qemu-aarch64-static ] || [ "$(uname -m)" = aarch64 ] || missing+=(qemu-user-static binfmt-support)
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
        die "could not install ${missing[*]}"
fi
if [ "$(uname -m)" != aarch64 ]; then
    # In a container binfmt_misc may not be mounted yet; qemu-user-static's entry carries
    # the F flag (the interpreter is opened now), so it also works inside the chroot.
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "cannot mount binfmt_misc: the kernel cannot hand aarch64 programs to qemu here"
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 ||
        die "cannot register qemu-aarch64 with binfmt_misc"
fi

# -- 2. the arm64 root ---------------------------------------------------------------------
mounted=()
cleanup() { for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" || true; done; }
trap cleanup EXIT
mount_in_root() {   # mount_in_root <mount args...> <target inside the root>
    local target="$ROOT${*: -1}"
    mountpoint -q "$target" && return
    mount "${@:1:$#-1}" "$target" && mounted=("$target" "${mounted[@]}")
}

if [ ! -e "$ROOT/.debootstrapped" ]; then
    say "debootstrap --arch=arm64 bookworm $ROOT (a few minutes)"
    t=$(seconds)
    debootstrap --arch=arm64 --variant=minbase \
        --include=python3,python3-venv,python3-dev,build-essential,ca-certificates \
        bookworm "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $ROOT.debootstrap.log"
    touch "$ROOT/.debootstrapped"
    echo "   $(( $(seconds) - t )) s"
fi
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount_in_root -t proc proc /proc
mount_in_root --bind /dev /dev
if [ ! -e "$ROOT/.venv-installed" ]; then
    # Trust what this host trusts: a local CA (a proxy that inspects TLS) is in
    # /usr/local/share/ca-certificates; without it pip in the root could not reach PyPI.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
        in_root update-ca-certificates >/dev/null
    fi
    say "python3 -m venv /opt/venv and pip install ${REQUIREMENTS[*]} (aarch64 wheels)"
    t=$(seconds)
    in_root python3 -m venv /opt/venv
    in_root /opt/venv/bin/pip install -q "${REQUIREMENTS[@]}"
    touch "$ROOT/.venv-installed"
    echo "   $(( $(seconds) - t )) s"
fi

# -- 3. the tree, and its build ------------------------------------------------------------
say "copy $HERE to $ROOT$SRC"
mkdir -p "$ROOT$SRC"
if git -C "$HERE" rev-parse --git-dir >/dev/null 2>&1; then
    # tar keeps the modification times, so that Cython and setuptools rebuild only what changed
    (cd "$HERE" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' |
        tar --null -T - -cf -) | tar -xf - -C "$ROOT$SRC"
else
    (cd "$HERE" && tar --exclude=./.venv --exclude=./build --exclude='*.so' -cf - .) | tar -xf - -C "$ROOT$SRC"
fi

say "setup.py build_ext --inplace, natively in the emulated root (slow: tens of minutes from scratch)"
t=$(seconds)
in_root sh -c "cd $SRC && /opt/venv/bin/python setup.py -q build_ext --inplace -j $(nproc)" \
    >"$ROOT.build.log" 2>&1 || { tail -40 "$ROOT.build.log"; die "the build failed: see $ROOT.build.log"; }
build_s=$(( $(seconds) - t ))
echo "   $build_s s; $(cat "$ROOT$SRC/build/neuronlab-build-options.txt")"

# -- 4. the tests --------------------------------------------------------------------------
[ $# -gt 0 ] && tests=("$@") || tests=("${KERNEL_TESTS[@]}")
say "pytest ${tests[*]} (under qemu)"
in_root sh -c "cd $SRC && /opt/venv/bin/python -" <<'PY' || die "the kernels do not import"
import platform, numpy, neuronlab
from neuronlab._kernels.fastmath import _fastmath
print(f"   {platform.machine()}, Python {platform.python_version()}, NumPy {numpy.__version__}, {neuronlab.__file__}")
print(f"   float tanh from the AVX-512 table: {_fastmath.TANHF_IS_TABLE}; fused multiply-add: {_fastmath.FMA}")
PY
t=$(seconds)
status=0
in_root sh -c "cd $SRC && /opt/venv/bin/python -m pytest -q -p no:cacheprovider $(printf '%q ' "${tests[@]}")" || status=$?
echo "   tests: $(( $(seconds) - t )) s (build: $build_s s), exit status $status"
exit $status
