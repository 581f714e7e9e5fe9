# Ally360 — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint format bench worker beat clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Ally360 needs Python 3.11 or newer (set PYTHON=python3.x)") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	@touch $@

install: $(BIN)/.installed

## run: install, migrate, create the demo company on first run, serve http://127.0.0.1:8000
# The links in e-mails and the demo banner point at this server unless FRONTEND_URL is set.
FRONTEND_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	FRONTEND_URL=$(FRONTEND_URL) $(BIN)/python manage.py bootstrap_demo
	FRONTEND_URL=$(FRONTEND_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: install and run the whole suite (PostgreSQL and Redis when available, see README),
## in TEST_WORKERS processes (pytest-xdist; 0 runs it in this one)
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: generate the data set once (1,000 companies, 1,000,000 invoices), then load a
## gunicorn server with every scenario; results in bench/results/ (see README, Benchmarks)
BENCH_DB        ?= ally360_bench
BENCH_APP_URL   ?= postgres://ally360:ally360@127.0.0.1:5432/$(BENCH_DB)
BENCH_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/$(BENCH_DB)
BENCH_DATA_ARGS ?=
BENCH_ARGS      ?=

$(BIN)/.bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet ".[dev,bench]"
	@touch $@

bench: $(BIN)/.bench
	$(BIN)/python bench/generate.py --if-missing --database-url $(BENCH_APP_URL) \
		--admin-url $(BENCH_ADMIN_URL) $(BENCH_DATA_ARGS)
	$(BIN)/python bench/run.py --database-url $(BENCH_APP_URL) \
		--admin-url $(BENCH_ADMIN_URL) $(BENCH_ARGS)
	$(BIN)/python bench/lists.py --database-url $(BENCH_APP_URL)


## worker / beat: background processes when Redis is configured (REDIS_URL)

worker: install
	$(BIN)/celery -A ally360 worker --loglevel=INFO

beat: install
	$(BIN)/celery -A ally360 beat --loglevel=INFO

clean:
	rm -rf $(VENV) var build *.egg-info
