# fedihub: `make run` serves on http://127.0.0.1:8000 with SQLite under ./data; `make demo` starts a local network; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt
LOCK_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: run demo test lint install dev-install lock migrate bench fuzz clean help chromium messages

help:
	@echo "make run      install, migrate ./data/fedihub.sqlite3 and serve on http://$(HOST):$(PORT)"
	@echo "make demo     start five federated servers on 127.0.0.2-6 under ./data/demo, seeded; Ctrl-C stops them"
	@echo "make test     install dev dependencies, run make lint, then the whole suite (SQLite and PostgreSQL)"
	@echo "make lint     check the code with ruff and mypy (pyproject.toml configures both)"
	@echo "make bench    run the benchmarks in bench/ and print their figures"
	@echo "make fuzz     send 10,000 hostile inbound requests (bench/fuzz.py, several minutes): 5xx, unclassified errors, drain time"
	@echo "make messages extract the interface's texts and update fedihub/locale/*/LC_MESSAGES/messages.po"
	@echo "make lock     re-pin requirements.txt and requirements-dev.txt from pyproject.toml (LOCK_ARGS=--upgrade for newest)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exactly the locked versions, each checked against its hash; then fedihub itself, which adds nothing.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(DEV_LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

# One resolution for every platform on Python 3.11+, hashes included; existing pins are kept unless
# LOCK_ARGS asks otherwise (--upgrade, or --upgrade-package NAME). The dev lock is constrained by the
# runtime lock, so tests run on the versions production installs.
lock: dev-install
	$(LOCK_COMPILE) pyproject.toml -o $(LOCK)
	$(LOCK_COMPILE) pyproject.toml --extra dev --constraint $(LOCK) -o $(DEV_LOCK)

# The .po files are the catalogues; the app compiles them when it starts (fedihub/i18n/catalogues.py).
messages: dev-install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project fedihub -o fedihub/locale/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete --width 120 -i fedihub/locale/messages.pot -d fedihub/locale

migrate: install
	$(BIN)/fedihub migrate

run: install
	FEDIHUB_BASE_URL=$${FEDIHUB_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/fedihub serve --host $(HOST) --port $(PORT)

# Five servers (three cities, a state hub, a national hub) seeded through the CLI; DEMO_ARGS=--keep reuses them.
demo: install
	$(BIN)/python -m fedihub.demo $(DEMO_ARGS)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed: browser tests will be skipped (install the chromium package)"; \
	  fi; }

# pytest-xdist workers: the suite also waits on PostgreSQL, subprocesses and Chromium, and on a
# 2-core machine 3 workers were fastest (median 219 s, against 247 s with 2 and 237 s with 4).
TEST_WORKERS ?= 3

# A lint or type error fails `make test` (and so CI) before the suite spends its minutes.
lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: dev-install lint chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: dev-install
	$(BIN)/python bench/run_all.py

fuzz: dev-install
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
