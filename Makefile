# Guihua: `make demo` and `make test` set everything up themselves (Python 3.11+ and make only).
PYTHON ?= python3
UV_VERSION ?= 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv demo test test-tools bench lint clean

$(UV):
	@echo "setting up: uv $(UV_VERSION) (the package manager) in $(TOOLS)/, once"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/guihua: $(UV) pyproject.toml uv.lock
	@echo "setting up: Guihua and its locked dependencies (uv.lock) in $(VENV)/; about 30 s the first time"
	$(UV) sync --frozen --inexact --compile-bytecode --python $(PYTHON)
	@touch $(BIN)/guihua

# The optional extra guihua[spark] (PySpark; Java 17 is the machine's): the suite runs every engine.
$(VENV)/.spark: $(BIN)/guihua
	@echo "setting up: PySpark (the optional extra guihua[spark]) for the Spark engine's tests"
	$(UV) sync --frozen --inexact --compile-bytecode --python $(PYTHON) --extra spark
	@touch $@

venv: $(BIN)/guihua ## .venv with the project installed; `guihua` on .venv/bin (idempotent)

demo: venv ## a fresh demo store from a synthetic city of 50,000 residents, reported and explained
	$(BIN)/guihua demo --people 50000 --db demo/guihua-demo.db

# Debian tools the suite drives as a person would: pdftoppm renders a certificate, zbarimg scans its QR code.
TEST_TOOLS := pdftoppm:poppler-utils zbarimg:zbar-tools
test-tools:
	@missing=""; for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (Debian packages the tests use)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
	  ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq$$missing >/dev/null) \
	    || echo "could not install$$missing: the tests that need them skip (fail under CI=true)"; \
	fi

test: venv $(VENV)/.spark test-tools ## the whole suite (PostgreSQL tests run when CI=true, else skip if no server answers)
	$(BIN)/pytest

bench: venv $(VENV)/.spark ## benchmarks with ratios to floors measured in the same run; writes bench/RESULTS.md
	$(BIN)/python bench/run.py
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || echo "wrk unavailable: HTTP benchmark skipped"
	@if command -v wrk >/dev/null; then $(BIN)/python bench/http.py; fi

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) demo .pytest_cache .mypy_cache .ruff_cache
