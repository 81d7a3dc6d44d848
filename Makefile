# The commands the README shows. `make run` and `make test` install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Debian packages the suite needs: a real Prometheus (with promtool), Chromium, wrk, Redis,
# VictoriaMetrics, and a Docker engine with compose and debootstrap (tests/deploy builds and
# runs the image on a local Debian base).
DEB_PACKAGES := prometheus chromium wrk docker.io docker-compose debootstrap redis-server victoria-metrics
# The local demo needs only Prometheus (with promtool).
RUN_PACKAGES := prometheus

.PHONY: install lock install-system lint format typecheck test unit run bench clean check-deploy types

# Exactly the locked, hash-checked versions (requirements-dev.lock), then the project itself.
$(BIN)/activate: requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/activate

install: $(BIN)/activate

# Re-resolve the locks from pyproject.toml (runtime: requirements.lock, the image's; with the
# dev extra: requirements-dev.lock). Pins that still fit are kept; `make lock LOCK_FLAGS=--upgrade`
# takes the newest releases. uv is a tool here, not a dependency: installed on first use.
LOCK_FLAGS ?=
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.11 --native-tls --custom-compile-command 'make lock' $(LOCK_FLAGS)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install --quiet uv
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock

install-system:
	@./scripts/install-system.sh $(DEB_PACKAGES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy app harness demo tests

test: install install-system lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

run: install
	@./scripts/install-system.sh $(RUN_PACKAGES)
	./scripts/run.sh

bench: install
	@./scripts/install-system.sh prometheus wrk redis-server
	$(BIN)/python -m bench

# The deployment kit alone: promtool checks and unit tests, dashboard JSON, container
# files, and every dashboard and rule expression against a real Prometheus.
check-deploy: install install-system
	$(BIN)/pytest tests/deploy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis artifacts .demo

# Regenerate the TypeScript client's types from the app's OpenAPI document
# (tests/clients fails when they differ).
types: install
	./scripts/generate-ts-types.sh
