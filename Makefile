# The commands the README shows. `make run` and `make test` install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Debian packages the suite needs: a real Prometheus (with promtool), Chromium, wrk.
DEB_PACKAGES := prometheus chromium wrk
# The local demo needs only Prometheus (with promtool).
RUN_PACKAGES := prometheus

.PHONY: install install-system lint format typecheck test unit run bench clean check-deploy

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

install-system:
	@./scripts/install-system.sh $(DEB_PACKAGES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy app

test: install install-system lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

run: install
	@./scripts/install-system.sh $(RUN_PACKAGES)
	./scripts/run.sh

bench: install
	@./scripts/install-system.sh prometheus wrk
	$(BIN)/python -m bench

# The deployment kit alone: promtool checks and unit tests, dashboard JSON, container
# files, and every dashboard and rule expression against a real Prometheus.
check-deploy: install install-system
	$(BIN)/pytest tests/deploy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis artifacts .demo
