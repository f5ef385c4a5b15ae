# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/claudetop demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check claudetop tests bench
	$(BIN)/ruff format --check claudetop tests bench

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy claudetop

# pytest exits 5 when a marker selects no tests: that is not a failure of the suite.
pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests selected (exit 5), treated as success"; exit 0; fi; \
	exit $$rc

test: lint typecheck pytest

bench: $(VENV)/.test-installed
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
