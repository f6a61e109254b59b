# sciml — the two commands: `make demo` and `make test` (and `make bench`, `make docs`).
# Each creates .venv with a Python >= 3.12 when it is missing, and reinstalls when
# pyproject.toml changed. Python is found in this order: PYTHON=..., interpreters on
# PATH that run and report >= 3.12, then pyenv's installed versions.

SHELL := /bin/bash
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

define FIND_PYTHON
for c in "$(PYTHON)" python3.12 python3.13 python3.14 python3 python; do \
  [ -n "$$c" ] || continue; \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    command -v "$$c" 2>/dev/null || echo "$$c"; exit 0; fi; \
  if [ "$$c" = "$(PYTHON)" ]; then echo "PYTHON=$(PYTHON) is not a Python >= 3.12" >&2; exit 1; fi; \
done; \
root="$${PYENV_ROOT:-$$HOME/.pyenv}"; \
for c in $$(ls -d "$$root"/versions/3.* 2>/dev/null | sort -V); do \
  if "$$c/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    echo "$$c/bin/python"; exit 0; fi; \
done; \
echo "no Python >= 3.12 found: install one or pass PYTHON=/path/to/python3.12" >&2; exit 1
endef

.PHONY: demo test bench docs lint venv clean

$(STAMP): pyproject.toml
	@set -e; py=$$( $(FIND_PYTHON) ); echo "using $$py"; \
	if [ ! -x $(VPY) ]; then "$$py" -m venv $(VENV); fi; \
	$(VPY) -m pip install -q --upgrade pip; \
	$(VPY) -m pip install -e '.[dev,docs]'; \
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sciml quickstart --overwrite   # `make demo` reruns into out/quickstart

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@status=0; $(VPY) -m pytest -q || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status

bench: $(STAMP)
	$(VPY) benchmarks/run_all.py

# the documentation site into site/ (offline). Full: every tutorial at full size (long);
# QUICK=1: the tests' smoke sizes, reusing the notebooks `make test` executed.
docs: $(STAMP)
	$(VPY) docs/build.py $(if $(QUICK),--quick) $(if $(FORCE),--force)

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site build/docs
