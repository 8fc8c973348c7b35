# Every target works from a fresh clone: it makes .venv, installs, builds, then runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
KERNEL_SOURCES := $(wildcard neuronlab/_kernels/*.pyx.tp neuronlab/_kernels/*.pxd neuronlab/_kernels/*.h neuronlab/_kernels/_generate.py)

.PHONY: help build test test-debug bench lint clean

help:
	@echo "make test        set up .venv, build the kernels, run the test suite"
	@echo "make test-debug  the kernel tests against a build with bounds checks on"
	@echo "make bench       time every kernel against NumPy, SciPy and PyTorch"
	@echo "make lint        ruff"

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=23" "setuptools>=69" "Cython>=3.1" wheel
	$(PIP) install --no-build-isolation -e ".[test,dev]"
	touch $@

# Rebuild the extensions in place when a kernel source changed since the last build.
build/.kernels: $(VENV)/.installed $(KERNEL_SOURCES) $(wildcard neuronlab/_kernels/*.pyx)
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: build/.kernels

test: build
	$(PY) -m pytest

# The kernels run without bounds checks because the Python side validates first. This
# target rebuilds them with the checks on, runs the kernel tests, and restores the fast build.
test-debug: $(VENV)/.installed
	NEURONLAB_BOUNDSCHECK=1 $(PY) setup.py -q build_ext --inplace
	$(PY) -m pytest tests/test_activations.py tests/test_bad_input.py -q; \
	  status=$$?; $(PY) setup.py -q build_ext --inplace; exit $$status

# The bench extras (read from neuronlab's installed metadata, so that neuronlab itself is
# not reinstalled, which would rebuild the kernels), then the optional peers: the benchmark
# runs without PyTorch or scikit-learn and says what it left out.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -c 'from importlib.metadata import requires; \
	  print("\n".join(r.split(";")[0] for r in requires("neuronlab") if "extra == \"bench\"" in r))' \
	  > $(VENV)/bench-requirements.txt
	$(PIP) install -q -r $(VENV)/bench-requirements.txt
	$(PIP) install -q torch==2.13.0 || echo "make bench: PyTorch not installed; timing without it"
	$(PIP) install -q scikit-learn || echo "make bench: scikit-learn not installed; timing without it"
	touch $@

# BENCH_ARGS: e.g. `make bench BENCH_ARGS="activations --quick"`
bench: build $(VENV)/.bench-installed
	$(PY) benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check neuronlab tests benchmarks setup.py

clean:
	rm -rf build $(VENV) neuronlab/_kernels/*.so neuronlab/_kernels/*.c neuronlab/_kernels/_elementwise.pyx
