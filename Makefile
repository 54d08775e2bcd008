# Two commands on a fresh machine (Python 3.11+, make, git):
#   make demo   set everything up and run the job on an embedded PostgreSQL
#   make test   set everything up and run every test (pytest, dbt unit tests, lint);
#               the Spark parity tests need Java 17+ on the PATH, the pooler
#               tests the pgbouncer binary (.ci/run installs it)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tests also need the dev tools and the Spark extra (about 700 MB); the demo does not.
TEST_STAMP := $(VENV)/.installed-test
# Exact versions of what production installs (see constraints.txt).
PIP_INSTALL := $(BIN)/pip install --quiet -c constraints.txt

.PHONY: demo test lint docs bench evaluate clean constraints

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e ".[demo]"
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PIP_INSTALL) -e ".[dev,demo,spark]"
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/nightly-metrics demo

# One worker per core (pytest-xdist), each with its own embedded PostgreSQL
# and state folder; a module's tests share one worker (its Spark session or
# wheel is made once), the longest modules first (tests-python/conftest.py).
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

# sqlfluff's dbt templater compiles against a database: the test starts one.
lint: $(TEST_STAMP)
	$(BIN)/python -m pytest tests-python/test_lint.py

bench: $(TEST_STAMP)
	$(BIN)/python scripts/benchmark.py --scales S,SU,SP,M,MU,L --repeat 2 --single-runs 2

# dbt-project-evaluator on a scratch copy (docs/project-evaluator.md); needs
# NIGHTLY_METRICS_EVALUATOR_PACKAGES, a folder with dbt_project_evaluator/ and dbt_utils/.
evaluate: $(STAMP)
	$(BIN)/python scripts/run_project_evaluator.py

docs: $(STAMP)
	$(BIN)/nightly-metrics docs

# Pins of a production install (with the report extra), from a throw-away virtualenv.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip install --quiet --upgrade pip
	.constraints-venv/bin/pip install --quiet ".[report]"
	{ sed -n '/^#/p' constraints.txt; .constraints-venv/bin/pip freeze --exclude nightly-metrics \
		| sed 's/^click==.*/click==8.4.2/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .constraints-venv build

clean:
	rm -rf target logs .demo
