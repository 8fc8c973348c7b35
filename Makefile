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
	$(PIP) install --upgrade "pip>=23" "setuptools>=77" "Cython>=3.1" wheel
	$(PIP) install --no-build-isolation -e ".[test,dev]"
	touch $@
	mkdir -p build && touch build/.kernels  # the editable install has just built them

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

bench: build
	$(PIP) install -q -e ".[bench]" --no-build-isolation
	$(PY) benchmarks/run.py

lint: $(VENV)/.installed
	$(PY) -m ruff check neuronlab tests benchmarks setup.py

clean:
	rm -rf build $(VENV) neuronlab/_kernels/*.so neuronlab/_kernels/*.c neuronlab/_kernels/_elementwise.pyx
