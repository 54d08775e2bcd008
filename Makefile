# Two commands on a fresh machine (Python 3.11+, make, git):
#   make demo   set everything up and run the job on an embedded PostgreSQL
#   make test   set everything up and run every test (pytest, dbt unit tests, lint)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nightly-metrics demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check nightly_metrics scripts tests-python
	$(BIN)/sqlfluff lint models macros

docs: $(STAMP)
	$(BIN)/nightly-metrics docs

clean:
	rm -rf target logs .demo
