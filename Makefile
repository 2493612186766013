# Havens — developer and CI entry points. Everything runs inside ./.venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HAVENS_DATABASE_URL ?= sqlite:///./havens.db
export HAVENS_DATA_DIR ?= ./var

.PHONY: demo install install-test test test-sqlite test-postgres lint bench translations clean serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel compile --use-fuzzy -d src/havens/web/translations -D messages --statistics 2>&1 | tail -n 1

demo: install
	$(BIN)/havens db upgrade
	$(BIN)/havens demo load
	@echo "Havens is at http://127.0.0.1:8000 — log in with a demo account above."
	$(BIN)/havens serve --host 127.0.0.1 --port 8000

serve: install
	$(BIN)/havens serve

install-test: install
	@scripts/install-test-deps.sh

# Both databases: SQLite (embedded) and PostgreSQL, side by side (scripts/run-tests.sh).
test: install-test
	@scripts/run-tests.sh $(PYTEST_ARGS)

test-sqlite:
	@echo "=== test suite on SQLite ==="
	HAVENS_TEST_DATABASE_URL= $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres:
	@scripts/with-test-postgres.sh $(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/run_all.py

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k N_ -k ngettext:1,2 -o src/havens/web/translations/messages.pot src/havens
	$(BIN)/pybabel update -i src/havens/web/translations/messages.pot -d src/havens/web/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts .tmp
