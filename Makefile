# CryptoPredict: the commands a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Re-install only when the dependency set changes.
INSTALL_STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock 2>/dev/null | sha1sum | cut -c1-12)

SERVICE ?=
DATA ?=
FROM ?= 2019-01-01
TO ?= 2023-12-31
OUT ?= reports/evaluation

.PHONY: help setup browser prometheus up down status logs test lint proto bench train evaluate lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALL_STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(INSTALL_STAMP) ## create .venv and install the pinned dependencies (idempotent)

browser: ## install headless Chromium (Debian package) for the browser test, if missing
	@command -v chromium >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium; }

prometheus: ## install Prometheus and promtool (Debian package) for the observability tests, if missing
	@{ command -v prometheus && command -v promtool; } >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends prometheus; }

up: setup ## start the embedded infrastructure, every service and the gateway on http://localhost:8080
	$(PY) -m cp_fleet up
	$(PY) -m cp_models.registry ensure $(if $(DATA),--data $(DATA))

down: ## stop the whole local fleet (no process is left behind)
	@test -x $(PY) && $(PY) -m cp_fleet down || true

status: setup ## state and readiness of every program
	$(PY) -m cp_fleet status

logs: setup ## tail logs: make logs [SERVICE=auth]
	$(PY) -m cp_fleet logs $(SERVICE)

test: setup prometheus ## run every test against real embedded PostgreSQL, Redis, Kafka and Nginx, with coverage
	$(PY) -m pytest --cov --cov-report=term:skip-covered

lint: setup ## ruff (lint, format, complexity), mypy, generated-code freshness, buf lint and buf breaking
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m cp_tools.protogen --check
	$(PY) -m cp_tools.buf lint
	$(PY) -m cp_tools.buf breaking

proto: setup ## regenerate the Python code in libs/cryptopredict from proto/
	$(PY) -m cp_tools.protogen

bench: setup ## run the benchmarks and print their figures as JSON
	$(PY) -m cp_tools.bench

train: setup ## train the four layers (DATA=dir: real history, else the simulator) and register them
	$(PY) -m cp_models.registry train $(if $(DATA),--data $(DATA))

evaluate: setup ## walk-forward evaluation: make evaluate DATA=dir FROM=2019-01-01 TO=2023-12-31 OUT=dir
	@test -n "$(DATA)" || { echo "usage: make evaluate DATA=<data dir> [FROM=...] [TO=...] [OUT=...]"; exit 2; }
	$(PY) -m cp_models evaluate --data $(DATA) --from $(FROM) --to $(TO) --out $(OUT)

lock: ## re-pin every dependency into requirements.lock after changing pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip freeze --exclude-editable | grep -v '^cryptopredict' > requirements.lock

clean: down ## remove local state (databases, logs, keys) but keep the virtualenv
	rm -rf .state
