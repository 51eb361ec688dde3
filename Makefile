# Guihua: `make demo` and `make test` set everything up themselves (Python 3.11+ and make only).
PYTHON ?= python3
UV_VERSION ?= 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv demo test test-tools bench lint clean axe-update messages

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

# Browser tests (tests/e2e): Debian's Chromium driven by Playwright for Python (the dev group, so in
# $(VENV)/ with the rest), never a browser download; axe-core is vendored in tests/e2e/vendor/.
CHROMIUM := /usr/bin/chromium
AXE_VERSION := 4.14.1
AXE_DIR := tests/e2e/vendor

$(CHROMIUM):
	@echo "setting up: Debian's chromium for the browser tests (apt-get install chromium), once"
	@if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
	($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null) \
	  || echo "could not install chromium: the browser tests skip (fail under CI=true)"

$(VENV)/.browser: $(BIN)/guihua $(CHROMIUM) $(AXE_DIR)/axe.min.js $(AXE_DIR)/axe.min.js.sha256
	@$(BIN)/python -c "import playwright.sync_api" \
	  || { echo "playwright is missing from $(VENV)/ (it is in the dev group of uv.lock)"; exit 1; }
	@cd $(AXE_DIR) && sha256sum --quiet -c axe.min.js.sha256 \
	  || { echo "$(AXE_DIR)/axe.min.js is not axe-core $(AXE_VERSION) as vendored: make axe-update"; exit 1; }
	@if [ -x $(CHROMIUM) ]; then \
	  echo "browser tests ready: $$($(CHROMIUM) --version 2>/dev/null), playwright $$($(BIN)/python -c 'from importlib.metadata import version; print(version("playwright"))'), axe-core $(AXE_VERSION)"; \
	  touch $@; \
	fi

# For maintainers: vendor another axe-core from the npm registry (needs npm), checked against the
# package's own subresource-integrity list. Then run the browser tests and commit tests/e2e/vendor/.
axe-update:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	echo "fetching axe-core@$(AXE_VERSION) with npm pack into $$tmp" && \
	(cd "$$tmp" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js package/LICENSE package/sri-history.json) && \
	want=$$($(PYTHON) -c "import json,sys; print(json.load(open(sys.argv[1]))['$(AXE_VERSION)']['axe.min.js'])" "$$tmp/package/sri-history.json") && \
	got="sha256-$$(openssl dgst -sha256 -binary "$$tmp/package/axe.min.js" | base64)" && \
	if [ "$$want" != "$$got" ]; then echo "axe.min.js does not match its integrity $$want"; exit 1; fi && \
	mkdir -p $(AXE_DIR) && cp "$$tmp/package/axe.min.js" $(AXE_DIR)/axe.min.js && cp "$$tmp/package/LICENSE" $(AXE_DIR)/LICENSE-axe-core && \
	(cd $(AXE_DIR) && sha256sum axe.min.js > axe.min.js.sha256) && \
	sed -i 's/^AXE_VERSION := .*/AXE_VERSION := $(AXE_VERSION)/' Makefile && \
	echo "vendored axe-core $(AXE_VERSION) in $(AXE_DIR)/ ($$got)"

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

# One worker per core (pytest-xdist), a test file's tests on one worker: each worker has its own
# PostgreSQL scratch database, Spark session and browser. 9.7 min on 2 cores against 15.9 serially.
test: venv $(VENV)/.spark $(VENV)/.browser test-tools ## the whole suite (PostgreSQL tests run when CI=true, else skip if no server answers)
	$(BIN)/pytest -n auto --dist loadfile

bench: venv $(VENV)/.spark ## benchmarks with ratios to floors measured in the same run; writes bench/RESULTS.md
	$(BIN)/python bench/run.py
	$(BIN)/python bench/city.py   # 100k, 1M, 3M and 13M residents through the guihua command (over an hour)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || echo "wrk unavailable: HTTP benchmark skipped"
	@if command -v wrk >/dev/null; then $(BIN)/python bench/http.py; fi

# The portal's message catalogs (src/guihua/web/locale): extract the templates' and modules' strings
# into portal.pot and merge them into both catalogs; then translate the new zh_CN entries (the .po
# files are read at run time: nothing to compile).
WEB := src/guihua/web
messages: venv
	cd $(WEB) && ../../../$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header -o locale/portal.pot .
	$(BIN)/pybabel update -D portal -i $(WEB)/locale/portal.pot -d $(WEB)/locale -w 100 --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) demo .pytest_cache .mypy_cache .ruff_cache
