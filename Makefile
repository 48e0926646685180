# The two commands of the README: `make run` and `make test`. Everything else is set-up they share.
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin

.PHONY: run test setup postgres lint

run: setup
	$(BIN)/samverkan db upgrade
	$(BIN)/samverkan deploy bpmn/*.bpmn --comment "make run"
	$(BIN)/samverkan seed-demo
	$(BIN)/samverkan run --port $(PORT)

test: setup postgres lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check service tests bench
	$(BIN)/mypy

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

postgres:
	bin/ensure-postgres
