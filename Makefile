# The two commands of the README: `make run` and `make test`. Everything else is set-up they share.
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin

.PHONY: run test setup postgres lint browser translations

run: setup
	$(BIN)/samverkan create-database
	$(BIN)/samverkan db upgrade
	$(BIN)/samverkan deploy bpmn/*.bpmn --comment "make run"
	$(BIN)/samverkan seed-demo
	$(BIN)/samverkan run --port $(PORT)

# Two workers (the machines have two cores); a file's tests stay together on one worker, which has its own
# databases (tests/conftest.py's TEST_DATABASE). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2

test: setup postgres browser lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: setup
	$(BIN)/ruff check service tests bench
	$(BIN)/mypy

setup: $(VENV)/.installed node_modules/.installed service/modeller/static/build/modeller.js service/modeller/static/build/lint-node.js service/modeller/static/build/decisions.js translations

# bpmn-js, the properties panel, htmx and Swagger UI come from the npm registry and are served by Flask.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The modeller's properties-panel extension, bundled with esbuild (also built by npm's postinstall).
service/modeller/static/build/modeller.js: $(shell find service/modeller/static/src service/modeller/lint -type f) node_modules/.installed
	npm run --silent build-modeller

# The same lint rules for the server, run by node at deploy (service/processes/lint.py; also built by postinstall).
service/modeller/static/build/lint-node.js: $(shell find service/modeller/lint -type f) service/modeller/static/spiffworkflow.json node_modules/.installed
	npm run --silent build-lint

# The decision-table editor (dmn-js), bundled with esbuild (also built by npm's postinstall).
service/modeller/static/build/decisions.js: service/modeller/static/src/decisions.js service/modeller/static/src/dmn-sv.js service/modeller/static/src/translate.js node_modules/.installed
	npm run --silent build-decisions

# Message catalogues are compiled here, never committed as binaries.
translations: $(VENV)/.installed
	@if [ -d service/translations ]; then $(BIN)/pybabel compile -d service/translations >/dev/null; fi

browser:
	bin/ensure-chromium

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

postgres:
	bin/ensure-postgres
