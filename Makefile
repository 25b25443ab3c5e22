# One entry point for people and CI. Every target sets up what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8888
ROOT ?= samples

.PHONY: runtime setup peers serve test lint typecheck unit clean bench bench-smoke stress

# What `pip install .` gives (requirements.txt: Pillow, waitress, urllib3) and the package, editable.
runtime: $(RUNTIME)
# That and everything the tests, linters and benchmarks need (requirements-dev.txt).
setup: $(DEV)

# Reinstall whenever a pin or the package metadata changes.
$(RUNTIME): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

# Only the runtime: no test or AWS tooling (a venv that already has it keeps it).
serve: runtime
	$(BIN)/thumbor-urls serve --root $(ROOT) --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: setup
	$(BIN)/mypy

# The real Thumbor 7.8.0, in its own venv, for the differential tests.
peers:
	bash tests/peers/install_thumbor.sh .venv-thumbor

# Headless Chromium for the playground's browser tests: Debian's package, installed when missing
# (as root, or through sudo), and nothing to do once it is there. `make serve` never needs it.
CHROMIUM := /usr/lib/chromium/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
.PHONY: browser
browser: $(if $(CHROMIUM_PATH),,$(CHROMIUM))
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium for the browser tests (or set CHROMIUM_PATH)" >&2; exit 1; }
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation

unit: setup peers deploy-tools browser
	$(BIN)/python -m pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) .venv-thumbor .venv-checkov node_modules .serverless .mypy_cache .ruff_cache .pytest_cache

# Performance against sharp, Thumbor 7.8.0 and plain Pillow (issue 6); installs sharp into
# bench/node_modules and Thumbor into .venv-thumbor. Not part of `make test`: it takes minutes.
# BENCH_ARGS for example: --runs 30 --jobs fit300,cover800 /path/to/more/photos
# BENCH_SIH_DIR=DIR adds AWS's handler, installed outside the repository (bench/sih.py).
BENCH_SIH_DIR ?=
bench: setup
	$(BIN)/python -m bench.run --setup $(if $(BENCH_SIH_DIR),--sih "$(BENCH_SIH_DIR)") $(BENCH_ARGS)

# 60 s of normal and hostile requests from 4 clients against the local server (loopback only):
# no 5xx but 503, peak RSS under 1 GiB, idle RSS back (issue 22). STRESS_ARGS: --seconds 20 ...
stress: setup
	$(BIN)/python -m bench.stress $(STRESS_ARGS)

# The Lambda handler's cold start against moto's S3: init, SnapStart's restore hooks, first
# request, spawn to answer (bench/cold.py). COLD_ARGS for example: --runs 15 --images 800x600
.PHONY: bench-cold
bench-cold: setup
	$(BIN)/python -m bench.cold $(COLD_ARGS)

# Seconds: every job on a tiny synthetic image (also run by `make test`).
bench-smoke: setup
	$(BIN)/python -m bench.run --smoke

# AWS deployment (issue 4): osls and its plugins from package-lock.json, checkov in its own venv
# (its pins conflict with ours). The deploy tests use both.
.PHONY: deploy-tools package template invoke-local offline demo-ui remove
deploy-tools: node_modules/.installed .venv-checkov/.installed

node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-checkov.txt
	touch $@

# The Lambda zip and the CloudFormation template in .serverless/, with no AWS account.
# SLS_ARGS for example: --param="architecture=x86_64" --param="enableSignature=Yes"
# The zip's .pyc files need a python3.12 (scripts/lambda-zip.js): on PATH, or through pyenv's
# shims with 3.12.1 beside 3.11.7 as on the build machine; without one the zip has no bytecode.
PYTHON_FOR_LAMBDA_BYTECODE ?= $(shell for v in "$$PYENV_VERSION" 3.11.7:3.12.1; do \
	PYENV_VERSION=$$v python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
package: node_modules/.installed
	PYTHON_FOR_LAMBDA_BYTECODE="$(PYTHON_FOR_LAMBDA_BYTECODE)" npx sls package $(SLS_ARGS)

# The compiled template for the CloudFormation console: .serverless/serverless-image-handler-template.yaml
template: setup package
	$(BIN)/python scripts/export_template.py .serverless

# One event of events/ through the handler, on samples/ (EVENT=thumbor, signed, missing, direct, ...)
EVENT ?= thumbor
invoke-local: setup node_modules/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" SECURITY_KEY=MY_SECURE_KEY npx sls invoke local --stage local -f image -p events/$(EVENT).json

# API Gateway and Lambda emulated on http://127.0.0.1:3000, on samples/
offline: setup node_modules/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" npx sls offline --stage local

# The playground into a deployed stack's demo UI bucket (deployDemoUi=Yes), under playground/, with
# your AWS credentials, by hand: `sls deploy` does it too (scripts/playground-deploy.js).
DEPLOY_STAGE ?= dev
DEPLOY_REGION ?= us-east-1
STACK := thumbor-urls-$(DEPLOY_STAGE)
# SIH_COMPAT=true when the stack answers SIH's requests: the page's SIH mode is then on.
demo-ui: setup
	AWS_REGION=$(DEPLOY_REGION) $(BIN)/python scripts/upload_demo_ui.py --sih-compat "$(SIH_COMPAT)" \
		"$$(AWS_REGION=$(DEPLOY_REGION) $(BIN)/python scripts/stack.py output $(STACK) DemoUiBucket)"

# `sls remove`, after emptying the result and demo UI buckets (S3 deletes only empty buckets).
# The log bucket and a created source bucket are kept (see docs/aws.md).
remove: setup node_modules/.installed
	AWS_REGION=$(DEPLOY_REGION) $(BIN)/python scripts/stack.py empty $(STACK)
	npx sls remove --stage $(DEPLOY_STAGE) --region $(DEPLOY_REGION)
