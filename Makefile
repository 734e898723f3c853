# Set-up and everyday commands. `make run` and `make test` install whatever is missing first.
SHELL := /bin/bash
# The venv's Python: the distribution's own python3 when it is 3.11 or later and can make a venv, else the first
# python3 on PATH; `make PYTHON=...` chooses another. Debian builds its Python with profile-guided and link-time
# optimisation and links it statically; a default source build, such as pyenv's, has neither and runs the app
# 15-20% slower (README, "Which Python"). An existing .venv is kept: remove it to rebuild on another Python.
PYTHON ?= $(firstword $(foreach p,/usr/bin/python3 python3,$(shell $(p) -c \
	'import sys, ensurepip; print("$(p)" if sys.version_info >= (3, 11) else "")' 2>/dev/null)))
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export FLASK_APP := app

# Fonts: Liberation and DejaVu for text; WenQuanYi Micro Hei (Chinese, Japanese, Korean) and Noto Color Emoji so that
# notes in any script print in the PDF rather than as empty boxes.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
	fonts-wqy-microhei fonts-noto-color-emoji
TEST_SYSTEM_PACKAGES := chromium poppler-utils

.PHONY: install install-test run serve worker test lint check-questionnaires clean

define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed
	$(call apt_ensure,$(SYSTEM_PACKAGES))

install-test: install
	$(call apt_ensure,$(TEST_SYSTEM_PACKAGES))

# The app defaults to production (which refuses to start without SECRET_KEY): `make run` is for development.
# A job queue worker runs in the background beside the server, and is stopped when the server stops.
run: export APP_ENV := development
run: install
	$(BIN)/flask questionnaires check
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/huey_consumer app.worker.huey -w $(WORKERS) -k thread & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# The job queue's worker on its own (`make run` starts one already), with WORKERS threads.
worker: export APP_ENV := $(or $(APP_ENV),development)
worker: install
	$(BIN)/huey_consumer app.worker.huey -w $(WORKERS) -k thread

test: export APP_ENV := testing
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

check-questionnaires: install
	$(BIN)/flask questionnaires check

clean:
	rm -rf $(VENV) node_modules .pytest_cache
