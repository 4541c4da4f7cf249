# scamscan developer entry points.
#   make run          API on http://127.0.0.1:8000 (embedded scanners, no Redis);
#                     runtime dependencies only; SCAMSCAN_HOST / SCAMSCAN_PORT apply
#   make test         the whole suite, from a fresh machine (creates .venv, installs .[dev])
#   make test-fast    the inner loop: the suite without slow and browser tests
#   make lint         ruff + mypy --strict
#   make deploy-test  the container deployment for real (root: dockerd, debootstrap)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-runtime
URL_DATA ?= ../shared/data/urls
SHARED_DATA ?= ../shared/data

.PHONY: help venv install install-runtime system-deps run test test-fast lint docs bench \
	eval screenshots deploy-test model model-url model-apk model-message apk-brands lexicon

help:
	@echo "make run | test | test-fast | lint | docs | bench | eval | model | lexicon | install | screenshots | deploy-test"

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
	touch $@ $(RUN_STAMP)

# The runtime dependencies alone (what `make run` needs; no test or lint tools).
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e . \
		--config-settings editable_mode=compat
	touch $@

venv install: $(STAMP)
install-runtime: $(RUN_STAMP)

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

# Address and port: SCAMSCAN_HOST and SCAMSCAN_PORT (127.0.0.1:8000), read by the
# server itself like every other setting.
run: $(RUN_STAMP)
	$(BIN)/scamscan serve

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
# features, rounded weights; one BLAS thread and OpenBLAS's Nehalem kernels, and the
# toolchain versions of eval/model-constraints.txt: eval/toolchain.py); the outputs
# are committed and shipped.
model: model-url model-apk model-message

MODEL_STAMP := $(VENV)/.installed-model
$(MODEL_STAMP): eval/model-constraints.txt $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -c eval/model-constraints.txt \
		numpy scikit-learn scipy threadpoolctl
	touch $@

# The APK capability model (blocklists/data/apk_model.json) from apk_features/ (CC BY 4.0).
model-apk: $(MODEL_STAMP)
	$(BIN)/python eval/train_apk_model.py --data $(SHARED_DATA) --report

# The brand list of APK-IMP-005 (blocklists/data/apk_brands.json): PhishTank target
# names, the Vietnamese bank list and system components, each with its source.
apk-brands: $(STAMP)
	$(BIN)/python eval/build_apk_brands.py --data $(SHARED_DATA)

# The image and docker-compose.yml for real: builds the base images from Debian
# packages (kept once made), the image, and checks a running stack over HTTP
# (tests/deploy/run_stack.py). Needs root; starts dockerd when none runs.
deploy-test: $(RUN_STAMP)
	$(BIN)/python tests/deploy/run_stack.py --python $(BIN)/python

# The message model (blocklists/data/message_model.json.gz) from the tuning message sets
# of eval/messages/ (never a held-out split); thresholds by cross-validation.
model-message: $(MODEL_STAMP)
	$(BIN)/python eval/train_message_model.py

# The lexical link models from urls/: the shipped one (blocklists/data/url_model.json.gz,
# every row) and the evaluation's (eval/models/url_model_cut.json.gz, the training side
# of the time split in eval/url_split.py; make eval measures this one).
model-url: $(MODEL_STAMP)
	$(BIN)/python eval/train_url_model.py --data $(URL_DATA)

# The lexicon of scanners/segment.py from two pinned Debian packages (apt-get download:
# no install, no root needed beyond apt's cache), checked by sha256.
LEXICON_DEBS := hunspell-vi=1:7.5.0-1 wamerican=2020.12.07-2
LEXICON_SHA256_VI := d8c801d7e30b9486de53d70dd537f5bbb46a93a66803c5e15e652d3ca19389ec  hunspell-vi_1%3a7.5.0-1_all.deb
LEXICON_SHA256_EN := c8f8e2b2ad0d37bfdd41f0e40f1e4c8e5f907467d768a1d3698b164e9617f0b4  wamerican_2020.12.07-2_all.deb

lexicon: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && apt-get download -qq $(LEXICON_DEBS) && \
	 echo '$(LEXICON_SHA256_VI)' > sums && echo '$(LEXICON_SHA256_EN)' >> sums && \
	 sha256sum -c --quiet sums && \
	 for d in *.deb; do dpkg-deb -x "$$d" x; done) && \
	$(BIN)/python tools/build_lexicon.py --vi-dic "$$tmp/x/usr/share/hunspell/vi_VN.dic" \
		--en-words "$$tmp/x/usr/share/dict/american-english" && \
	cp "$$tmp/x/usr/share/doc/hunspell-vi/copyright" blocklists/licenses/hunspell-vi.copyright && \
	cp "$$tmp/x/usr/share/doc/wamerican/copyright" blocklists/licenses/wamerican.copyright
