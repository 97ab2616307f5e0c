# Everything starts from a fresh machine: each target makes its own virtualenv,
# installs from PyPI by package name, builds the compiled core in place, then runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TOOLS  := .cache/bin/kubectl
PYX    := $(wildcard csrc/*/*.pyx csrc/*/*.pxd csrc/*/*.pxi)
PROTOS := $(wildcard pykube_plane/store/etcdpb/*.proto)

.PHONY: all build up test bench tools clean

all: build

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The build requirements live in the venv too, so `make` can rebuild the compiled core in place.
	$(PY) -m pip install -q "Cython>=3.0,<4" "setuptools>=68" wheel
	$(PY) -m pip install -q --no-build-isolation -e '.[test]'
	touch $@

# Rebuild the extensions (and generated protobuf modules) when their sources change.
$(VENV)/.built: $(STAMP) $(PYX) $(PROTOS) setup.py
	$(PY) setup.py -q build_ext --inplace -j 2
	@if [ -x scripts/gen_protos.py ] || [ -f scripts/gen_protos.py ]; then $(PY) scripts/gen_protos.py; fi
	touch $@

build: $(VENV)/.built

$(TOOLS): scripts/fetch_tools.py $(STAMP)
	$(PY) scripts/fetch_tools.py

tools: $(TOOLS)

up: build
	$(VENV)/bin/kplane up

test: build tools
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: build tools
	$(PY) -m pytest -q -p no:cacheprovider benchmarks --benchmark-only --benchmark-json=benchmarks/results/pytest-benchmark.json

clean:
	rm -rf build $(VENV) .cache pykube_plane/*.so csrc/*/*.c
