# One entry point for people and CI. Every target sets up what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8888
ROOT ?= samples

.PHONY: setup peers serve test lint typecheck unit clean bench bench-smoke

setup: $(STAMP)

# Reinstall whenever a pin or the package metadata changes.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

serve: setup
	$(BIN)/python -m thumbor_urls serve --root $(ROOT) --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# The real Thumbor 7.8.0, in its own venv, for the differential tests.
peers:
	bash tests/peers/install_thumbor.sh .venv-thumbor

unit: setup peers
	$(BIN)/python -m pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) .venv-thumbor .mypy_cache .ruff_cache .pytest_cache

# Performance against sharp, Thumbor 7.8.0 and plain Pillow (issue 6); installs sharp into
# bench/node_modules and Thumbor into .venv-thumbor. Not part of `make test`: it takes minutes.
# BENCH_ARGS for example: --runs 30 --jobs fit300,cover800 /path/to/more/photos
bench: setup
	$(BIN)/python -m bench.run --setup $(BENCH_ARGS)

# Seconds: every job on a tiny synthetic image (also run by `make test`).
bench-smoke: setup
	$(BIN)/python -m bench.run --smoke
