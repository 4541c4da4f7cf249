# scamscan developer entry points.
#   make run    API on http://127.0.0.1:8000 (embedded scanners, no Redis)
#   make test   the whole suite, from a fresh machine (creates .venv, installs)
#   make test-fast  the inner loop: the suite without slow and browser tests
#   make lint   ruff + mypy --strict
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
URL_DATA ?= ../shared/data/urls
SHARED_DATA ?= ../shared/data

.PHONY: help venv install system-deps run test test-fast lint docs bench eval screenshots model model-apk apk-brands

help:
	@echo "make run | test | test-fast | lint | docs | bench | eval | install | screenshots"

# The interpreter: Python >= 3.11 with the venv module, or a loud failure.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "scamscan needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

# Re-installed only when pyproject.toml changes; the stamp is written last,
# so a failed install is retried on the next run.
$(STAMP): pyproject.toml | $(BIN)/python
	@# compat mode puts the checkout on sys.path, so that scripts run from
	@# bench/ and eval/ import the same packages as the tests do.
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]' \
		--config-settings editable_mode=compat
	touch $@

venv install: $(STAMP)

# Debian packages the tests run for real (the Redis integration tests start
# their own redis-server). Installed only when missing, so a second run is a
# no-op; needs root, as on the project's machines and CI.
system-deps:
	@command -v redis-server >/dev/null 2>&1 || { \
		apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server could not be installed" >&2; exit 1; }
	@# The console's browser tests drive Debian's Chromium (never a downloaded browser).
	@test -x /usr/bin/chromium || { \
		apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@test -x /usr/bin/chromium || { echo "chromium could not be installed (apt-get install chromium chromium-driver)" >&2; exit 1; }

run: $(STAMP)
	$(BIN)/scamscan serve --host $(HOST) --port $(PORT)

test: $(STAMP) system-deps
	@# Fail here, not as skipped tests, if the install is incomplete.
	@test -x $(BIN)/scamscan || { echo "missing $(BIN)/scamscan: install failed" >&2; exit 1; }
	$(BIN)/python -c 'import api.main, scanners.url_offline, blocklists, pytest, hypothesis, playwright.sync_api'
	$(BIN)/pytest -q

# The inner loop, under a minute: every test but those marked slow or browser
# (markers in pyproject.toml, applied in tests/; the Redis tests share one server).
test-fast: $(STAMP) system-deps
	$(BIN)/pytest -q -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Screenshots of the console's main pages, made by its browser tests, for the README.
screenshots: $(STAMP) system-deps
	SCAMSCAN_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/test_console_e2e.py

docs: $(STAMP)
	$(BIN)/python -m scanners.rules > docs/rules.md.tmp
	mv docs/rules.md.tmp docs/rules.md

bench: $(STAMP)
	$(BIN)/python bench/url_throughput.py --data $(URL_DATA)

eval: $(STAMP)
	$(BIN)/python eval/urls.py --data $(URL_DATA)

# Learned models, rebuilt byte for byte from the shared data (fixed solver, sorted
# features, rounded weights); the outputs are committed and shipped.
model: model-apk

# The APK capability model (blocklists/data/apk_model.json) from apk_features/ (CC BY 4.0).
model-apk: $(STAMP)
	$(BIN)/python eval/train_apk_model.py --data $(SHARED_DATA) --report

# The brand list of APK-IMP-005 (blocklists/data/apk_brands.json): PhishTank target
# names, the Vietnamese bank list and system components, each with its source.
apk-brands: $(STAMP)
	$(BIN)/python eval/build_apk_brands.py --data $(SHARED_DATA)
