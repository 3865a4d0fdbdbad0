# The two commands a newcomer needs: `make run` and `make test` (see README.md).
DATA_DIR ?= credflow-data
PYTEST_ARGS ?=

.PHONY: run test setup lint bench

run:
	@scripts/setup.sh
	.venv/bin/credflow run --data-dir $(DATA_DIR)

test:
	@scripts/setup.sh --tests
	.venv/bin/pytest $(PYTEST_ARGS)

setup:
	@scripts/setup.sh --tests

# ruff (with the complexity limit), formatting, types, the folders' dependency table
# (import-linter, contracts in pyproject.toml) and the function length limit
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python scripts/function_length.py

bench:
	.venv/bin/python bench/pipeline.py
	.venv/bin/python bench/extraction.py
