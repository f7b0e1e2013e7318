# The two commands a fresh machine needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install sysdeps demo test test-py test-nb lint lab notebooks bench fuzz clean

# Debian packages the tests need (file(1) to compare descriptions against, and later issues' tools).
sysdeps:
	@bash scripts/install-system-deps.sh

$(STAMP): requirements.txt pyproject.toml setup.py lib/macwasm/wasm/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The main job on the bundled sample data. Exit code 1 means "findings" (the samples include
# deliberately bad inputs), which is the expected result of a demo; 2 would be a real failure.
demo: install
	@$(VENV)/bin/macwasm inspect data/modules; rc=$$?; \
	if [ $$rc -gt 1 ]; then echo "demo failed (exit $$rc)"; exit $$rc; fi; \
	echo; echo "(exit code $$rc: 0 = all modules well-formed, 1 = findings above)"; echo; \
	$(VENV)/bin/macwasm audit data/samples/apps.csv; rc=$$?; \
	if [ $$rc -gt 1 ]; then echo "demo failed (exit $$rc)"; exit $$rc; fi; \
	echo; echo "(exit code $$rc: 0 = every target passes, 1 = findings above: the sample has deliberately bad rows)"

test: install sysdeps lint test-py test-nb

lint: install
	$(VENV)/bin/ruff check lib tests benchmarks scripts setup.py

test-py: install
	$(PY) -m pytest tests -q

test-nb: install
	$(PY) -m pytest -q --nbval notebooks --nbval-current-env --nbval-sanitize-with notebooks/nbval-sanitize.cfg -p no:cacheprovider

lab: install
	$(VENV)/bin/jupyter lab notebooks

# re-execute notebooks in place after a library change (NB=notebooks/07_x.ipynb for one), outputs for nbval
notebooks: install
	$(VENV)/bin/python scripts/execute_notebooks.py $(NB)

bench: install sysdeps
	$(PY) benchmarks/run_all.py

# Coverage-guided fuzzing of every reader; FUZZ_SECONDS per target; keeps small interesting inputs.
FUZZ_SECONDS ?= 60
fuzz: install
	$(PY) -m tests.fuzz.run_atheris --seconds $(FUZZ_SECONDS) --keep-corpus

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
