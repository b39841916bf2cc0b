# The two set-up commands of the README:
#   make serve   builds the site with the shipped content and serves it on http://127.0.0.1:8000
#   make test    runs every test (unit, build, workflow policy, browser tests in Debian's Chromium)
# Both install what they need: a virtual environment with the Python packages, and for the
# tests Debian's chromium and the axe-core npm package.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve build test check bench browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/associe serve

build: $(STAMP)
	$(VENV)/bin/associe build

check: $(STAMP)
	$(VENV)/bin/associe check content/

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@if [ -f tests/browser/package-lock.json ] && [ ! -d tests/browser/node_modules/axe-core ]; then \
		npm ci --silent --no-audit --no-fund --prefix tests/browser; fi

test: $(STAMP) browser-deps
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/matching.py --needs 10000 --offers 10000
	$(PY) bench/build.py --entries 10000
