# The two commands a new user needs: `make run` and `make test`.
# Each creates the virtual environment from the lock file first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench lock clean

$(VENV)/.installed-dev: requirements/dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-bench: requirements/bench.lock $(VENV)/.installed-dev
	$(BIN)/python -m pip install -q --require-hashes -r requirements/bench.lock
	touch $@

## run: run duly (until the server lands: the calendar engine on the shipped example)
run: $(VENV)/.installed-dev
	$(BIN)/duly deadline --calendar examples/calendars.yaml:stockholm_office \
		--start 2026-12-23T15:30:00+01:00 --add 8h30m
	$(BIN)/duly between --calendar examples/calendars.yaml:stockholm_office \
		--start 2026-12-23T15:30:00+01:00 --end 2027-01-04T10:00:00+01:00

## test: linters, type checks, import contracts and the whole test suite
test: lint
	$(BIN)/python -m pytest --cov --cov-branch --cov-report=term

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: the benchmark scripts, with the libraries they compare against
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/calendar_bench.py

## lock: regenerate the lock files from pyproject.toml
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements/dev.lock
	uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --generate-hashes -q -o requirements/bench.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
