# fedihub: `make run` serves on http://127.0.0.1:8000 with SQLite under ./data; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install dev-install migrate bench clean help

help:
	@echo "make run      install, migrate ./data/fedihub.sqlite3 and serve on http://$(HOST):$(PORT)"
	@echo "make test     install dev dependencies and run the whole suite (SQLite and PostgreSQL)"
	@echo "make bench    run the benchmarks in bench/ and print their figures"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

migrate: install
	$(BIN)/fedihub migrate

run: install
	$(BIN)/fedihub serve --host $(HOST) --port $(PORT)

test: dev-install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: dev-install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
