# Two commands do all set-up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.12 or similar")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "The venv module is missing: sudo apt-get install python3-venv"; exit 1; }

$(STAMP): pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Load the demo organisation into ./ropa.db, write out/ropa.xlsx, serve the dashboard on http://127.0.0.1:8501
demo: $(STAMP)
	$(BIN)/ropa demo --serve

## Run the whole test suite (also against PostgreSQL when ROPA_TEST_POSTGRES_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out ropa.db ropa.db-wal ropa.db-shm .pytest_cache
