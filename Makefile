# Two commands matter: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast test-deps install install-dev lint bench clean assets messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(VENV)/.installed $@

# Leaflet and plugins for the offline maps, from the npm registry (pinned and verified by the
# lock file); python3 only, no npm. A mirror: WESTPLAN_NPM_REGISTRY=https://...
ASSETS := maps/assets/node_modules/.westplan-assets.json
$(ASSETS): maps/assets/package.json maps/assets/package-lock.json maps/assets/fetch.py
	$(PYTHON) maps/assets/fetch.py

install: $(VENV)/.installed $(ASSETS)
install-dev: $(VENV)/.installed-dev $(ASSETS)
assets: $(ASSETS)

demo: install
	$(BIN)/planner demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The system packages of the tests (Chromium, fonts-noto-cjk, redis-server, PostgreSQL):
# installed when missing, as root or with passwordless sudo; else their tests are skipped.
test-deps:
	$(PYTHON) tests/support/deps.py

# The tests run in one process per core (pytest-xdist), a test module's tests in one process
# (their module fixtures are built once). XDIST= runs them in this process.
XDIST ?= -n auto --dist loadfile

# PYTEST_ARGS selects tests, e.g. make test PYTEST_ARGS="tests/maps/test_maps.py -k offline".
test: test-deps lint
	$(BIN)/pytest -q $(XDIST) $(PYTEST_ARGS)

# The quick lane while working: ruff and the tests not marked slow, browser or service
# (markers in pyproject.toml; tests/conftest.py sets browser and service).
test-fast: test-deps install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest -q $(XDIST) -m "not slow and not browser and not service" $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python benchmarks/allocation.py
	$(BIN)/python benchmarks/replan.py
	$(BIN)/python benchmarks/check.py
	$(BIN)/python benchmarks/loading.py
	$(BIN)/python benchmarks/china_load.py
	$(BIN)/python benchmarks/maps.py
	$(BIN)/python benchmarks/vrp.py --engines pyvrp,ortools

# The translation catalogue: extract the marked templates (N_, _, _n) and merge them into the
# zh-CN catalogue, whose new entries then need their translation (tests/planner/test_i18n.py checks).
LOCALE := planner/locale
messages: install-dev
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ -k _n:1,2 --no-wrap --no-location --sort-output \
		--project westplan -o $(LOCALE)/westplan.pot .
	test -f $(LOCALE)/zh_CN/LC_MESSAGES/westplan.po || $(BIN)/pybabel -q init \
		-i $(LOCALE)/westplan.pot -d $(LOCALE) -D westplan -l zh_CN --no-wrap
	$(BIN)/pybabel -q update -i $(LOCALE)/westplan.pot -d $(LOCALE) -D westplan -l zh_CN \
		--no-wrap --no-fuzzy-matching --ignore-pot-creation-date

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache maps/assets/node_modules
