# intentlab: `make run` and `make test` set everything up on a machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install run test test-all lint format bench golden figures notebooks viz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,zk,notebooks,ray,slurm,viz]"
	touch $(STAMP)

run: $(STAMP)  ## run the default experiment (pass overrides as ARGS="market=small rounds=10")
	$(BIN)/intentlab run $(ARGS)

test: $(STAMP)  ## the test suite without slow tests
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)  ## every test, slow ones included
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## all benchmarks incl. scale + sweep throughput, JSON under results/bench/ (BENCH_ARGS="--sizes 100x30")
	$(BIN)/intentlab bench $(BENCH_ARGS)

golden: $(STAMP)  ## rewrite tests/golden.json after a change that alters results on purpose
	$(BIN)/python -m tests.golden --update

figures: $(STAMP)  ## every preset on a small config, figures + manifest under results/figures/
	$(BIN)/intentlab figures --all

notebooks: $(STAMP)  ## JupyterLab on notebooks/ (quickstart, mechanism comparison, calibration)
	$(BIN)/jupyter lab notebooks/

viz: $(STAMP)  ## the live SolaraViz page of the market model (opens in the browser)
	$(BIN)/solara run experiments/viz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache
