# The two commands a fresh machine needs are `make demo` and `make test` (see README.md).
#
# Both install with uv (from PyPI, into a tools folder of its own) from uv.lock, the one lock of
# every dependency for Linux and both Mac architectures. `make demo` installs the CLI and its
# `audit` extra only; `make test` adds every extra and the `dev` group (tests, lint, fuzzing,
# benchmarks' peer tools). `make lock` re-resolves after a change to pyproject.toml.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv itself: pinned, installed with pip into its own small venv, never into the project's
UV_VERSION := 0.13.8
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
DEPS := uv.lock pyproject.toml setup.py lib/macwasm/wasm/_speedups.c
JUPYTER_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install install-cli demo test test-py test-nb lint lab notebooks site bench fuzz lock sysdeps clean

# Debian packages the tests need (file(1) to compare descriptions against, and later issues' tools).
sysdeps:
	@bash scripts/install-system-deps.sh

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# everything: every extra and the dev group, exactly as locked (--locked: a pyproject.toml changed
# without `make lock` stops here instead of testing something else than the lock says)
$(STAMP): $(DEPS) | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON)
	touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

# the CLI and the audit extra, nothing for tests or notebooks (--inexact: keeps what `make test` added)
$(DEMO_STAMP): $(DEPS) | $(UV)
	$(UV) sync --locked --inexact --no-dev --extra audit --python $(PYTHON)
	touch $(DEMO_STAMP)

install-cli: $(DEMO_STAMP)

# The main job on the bundled sample data. Exit code 1 means "findings" (the samples include
# deliberately bad inputs), which is the expected result of a demo; 2 would be a real failure.
demo: install-cli
	@bash scripts/demo.sh $(VENV)/bin/macwasm

test: install sysdeps lint test-py test-nb

# ruff everywhere; mypy strict on lib/ (its settings: [tool.mypy] in pyproject.toml)
lint: install
	$(VENV)/bin/ruff check lib tests benchmarks scripts setup.py
	$(VENV)/bin/mypy

test-py: install
	$(PY) -m pytest tests -q

test-nb: install
	$(PY) -m pytest -q --nbval notebooks --nbval-current-env --nbval-sanitize-with notebooks/nbval-sanitize.cfg -p no:cacheprovider

# --allow-root only where it is needed: as root, e.g. in a container
lab: install
	$(VENV)/bin/jupyter lab $(JUPYTER_ROOT) notebooks

# re-execute notebooks in place after a library change (NB=notebooks/07_x.ipynb for one), outputs for nbval
notebooks: install
	$(VENV)/bin/python scripts/execute_notebooks.py $(NB)

# The knowledge base as a static site in site/ (open site/index.html, or serve the folder anywhere):
# docs/ plus the notebooks with their stored outputs, a page per rule and per runtime generated from
# the tables (mkdocs.yml, scripts/site_hooks.py). Nothing is fetched from the network.
SITE_DIR ?= site
site: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --clean --site-dir $(abspath $(SITE_DIR))
	@echo "site: open $(abspath $(SITE_DIR))/index.html"

bench: install sysdeps
	$(PY) benchmarks/run_all.py

# Coverage-guided fuzzing of every reader; FUZZ_SECONDS per target; keeps small interesting inputs.
FUZZ_SECONDS ?= 60
fuzz: install
	$(PY) -m tests.fuzz.run_atheris --seconds $(FUZZ_SECONDS) --keep-corpus

# After a change to the dependencies in pyproject.toml: re-resolve uv.lock for every platform, and
# write requirements.txt, the same lock for pip (`pip install -r requirements.txt`).
lock: | $(UV)
	$(UV) lock --python $(PYTHON)
	$(UV) export --frozen --all-extras --no-emit-project --format requirements.txt --quiet \
	  --output-file requirements.txt

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .hypothesis build dist site
