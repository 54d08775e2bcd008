# Two commands on a fresh machine (Python 3.11+, make, git):
#   make demo   set everything up and run the job on an embedded PostgreSQL
#   make test   set everything up and run every test (pytest, dbt unit tests, lint);
#               the Spark parity tests need Java 17+ on the PATH
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tests also need the Spark extra (about 700 MB); the demo does not.
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,spark]"
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/nightly-metrics demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# sqlfluff's dbt templater compiles against a database: the test starts one.
lint: $(STAMP)
	$(BIN)/python -m pytest tests-python/test_lint.py

bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scales S,M

docs: $(STAMP)
	$(BIN)/nightly-metrics docs

clean:
	rm -rf target logs .demo
