# Every target creates .venv itself, so the README's two commands work on a fresh clone.
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test lint bench chaos venv clean cri-stubs image

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/edgefleet demo

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench chaos
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports .importlinter

test: lint
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench
	$(PY) -m bench.rollout
	$(PY) -m bench.registry
	$(PY) -m bench.drift
	$(PY) -m bench.snapshot
	$(PY) -m bench.agent_writes
	$(PY) -m bench.cache
	$(PY) -m bench.convergence

# Reliability figures on the embedded cluster (long: 2,000 nodes); `make test` runs the short
# variant (tests/chaos). Exits 1 when a figure that must be 0 is not.
chaos: $(STAMP)
	$(PY) -m chaos

# The CRI runtime.v1 client stubs of `edgefleet agent`, shipped generated (reconciler/agent/cri/).
CRI := reconciler/agent/cri
cri-stubs: $(STAMP)
	$(PY) -m grpc_tools.protoc -I. --python_out=. --grpc_python_out=. $(CRI)/api.proto
	for f in $(CRI)/api_pb2.py $(CRI)/api_pb2_grpc.py; do \
	  cat $(CRI)/header.txt $$f > $$f.tmp && mv $$f.tmp $$f; done

# The container image (deploy/Dockerfile) with the first builder found: docker, podman or buildah.
IMAGE ?= edgefleet:0.1.0
BUILDER ?= $(firstword $(foreach b,docker podman buildah,$(if $(shell command -v $(b) 2>/dev/null),$(b))))
image:
	@test -n "$(BUILDER)" || { echo "make image: no docker, podman or buildah here (see docs/install.md)"; exit 1; }
	$(BUILDER) $(if $(filter buildah,$(BUILDER)),bud,build) -f deploy/Dockerfile -t $(IMAGE) \
	  --build-arg REVISION=$$(git rev-parse HEAD) .

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
