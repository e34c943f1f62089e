# Entry points: `make demo` runs the pipeline, `make test` runs lint then the whole suite, `make bench` the benchmarks.
# Everything installs from nothing into this folder: .venv (uv + Python packages; .venv/iceberg-rest: the Iceberg
# REST catalog server the tests start), node_modules (Azurite),
# .meltano (Meltano's own plugin venvs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
#: The Iceberg REST catalog server the tests start, in a venv of its own (see requirements-iceberg-rest.txt).
REST_CATALOG := $(VENV)/iceberg-rest

.PHONY: demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

$(STAMP): $(BIN)/python requirements-test.txt tap-customerio/pyproject.toml target-parquet-bucket/pyproject.toml
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python \
		-e ./tap-customerio -e "./target-parquet-bucket[all]" -r requirements-test.txt
	touch $(STAMP)

$(REST_CATALOG)/.installed: $(BIN)/python requirements-iceberg-rest.txt
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(REST_CATALOG)
	$(UV) pip install --quiet --python $(REST_CATALOG)/bin/python -r requirements-iceberg-rest.txt
	touch $@

node_modules/.bin/azurite: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) $(REST_CATALOG)/.installed node_modules/.bin/azurite

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# ruff (lint and format) and mypy (files in mypy.ini); any finding fails `make test` before the suite starts.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# --dist loadfile: each test module runs on one worker, so its module fixtures (a full faulty sync, the
# OpenAPI document's responses) are built once, not once per worker.
test: install lint
	$(BIN)/python -m pytest tests -n 2 --dist loadfile --timeout 600 --durations=15

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .meltano output
