# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export VIGIE_DATABASE_URL ?= sqlite:///./var/vigie.db
# Where `make run` serves: `make run PORT=8123`, or VIGIE_PORT / VIGIE_HOST as for `vigie serve`
# (no HOST variable: some shells set one to the machine's name).
PORT ?= $(or $(VIGIE_PORT),8000)
RUN_HOST := $(or $(VIGIE_HOST),127.0.0.1)
URL := http://$(RUN_HOST):$(PORT)

.PHONY: run test install system-deps lint typecheck imports bench clean train eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The client library (clients/python) is its own package; installed here so `make test` tests it.
$(STAMP): $(BIN)/python pyproject.toml clients/python/pyproject.toml
	$(MAKE) --no-print-directory system-deps
	$(BIN)/pip install --quiet -e ".[dev]" -e clients/python
	# NCMEC's reference model (tests/reports) declares Python 3.13 for its client only; its
	# models run on 3.11, so the tests install it past that check (docs/reports.md).
	$(BIN)/pip install --quiet --ignore-requires-python "ncmec-cybertip==0.1.1"
	touch $(STAMP)

install: $(STAMP)

# Room-specific system packages (media decoding, browser tests) live in mk/*.mk and add
# themselves as prerequisites of system-deps.
system-deps:

-include mk/*.mk

run: install
	mkdir -p var
	$(BIN)/vigie db upgrade
	$(BIN)/vigie demo
	@# The browser opens only once this Vigie answers (the server itself says a port is taken).
	@echo "Vigie on $(URL)/console  (API docs: $(URL)/docs)"
	@$(BIN)/python -c "import socket; socket.create_server(('$(RUN_HOST)', $(PORT))).close()" 2>/dev/null && \
	 ( for i in $$(seq 90); do sleep 1; \
	     if $(BIN)/python -c "import urllib.request as u; u.urlopen('$(URL)/healthz', timeout=1)" 2>/dev/null; \
	     then $(BIN)/python -m webbrowser -t $(URL)/console >/dev/null 2>&1; break; fi; \
	     kill -0 $$PPID 2>/dev/null || break; done ) & true
	$(BIN)/vigie serve --host $(RUN_HOST) --port $(PORT)

test: install
	$(BIN)/ruff check src tests clients
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# The text model (docs/model-card.md): rebuilt from data/corpus, about 15 minutes on two cores.
train: install
	$(BIN)/python -m vigie.training.train

# Held-out figures of the shipped model, appended to docs/evaluation-log.md (test: once per model).
eval: install
	$(BIN)/python -m vigie.training.evaluate --split $(or $(SPLIT),test)

lint:
	$(BIN)/ruff check src tests clients
	$(BIN)/ruff format --check src tests clients

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

bench: install
	mkdir -p bench/results
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
	@echo "== bench/bench_latency.py --traffic fixtures (the stress case for the sentence encoder)"
	$(BIN)/python bench/bench_latency.py --traffic fixtures --out latency-fixtures --no-breakdown
	@cat bench/results/*.md

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
