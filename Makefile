# One venv per checkout, (re)built from the lock whenever pyproject.toml or requirements.lock changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock

.PHONY: test lint format lock report bench synth venv clean-venv git-filter test-lab

# Exact versions from requirements.lock (generated from pyproject.toml by `make lock`), then the
# project itself without resolving anything else.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Refresh the lock after editing pyproject.toml's dependencies (uv, in a throw-away tools venv).
lock:
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install --quiet uv
	.venv-tools/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --no-header --quiet -o $(LOCK)

lint: $(STAMP)
	$(BIN)/ruff check lib tests bench conftest.py
	$(BIN)/ruff format --check lib tests bench conftest.py

format: $(STAMP)
	$(BIN)/ruff check --fix lib tests bench conftest.py
	$(BIN)/ruff format lib tests bench conftest.py

venv: $(STAMP) git-filter

# Installs the notebook clean filter (tools/git-nbclean.sh, named in .gitattributes) into this clone's
# .git/config. Skipped in a linked worktree, whose config is shared with the repository's other worktrees.
git-filter: $(STAMP)
	@if [ -n "$$(git rev-parse --git-dir 2>/dev/null)" ] \
	    && [ "$$(git rev-parse --git-dir)" = "$$(git rev-parse --git-common-dir)" ]; then \
	  git config filter.nbstripout.clean "sh tools/git-nbclean.sh" && \
	  git config filter.nbstripout.smudge cat && \
	  echo "Filtre git des notebooks installé : leurs sorties ne sont jamais commitées."; \
	else echo "Filtre git des notebooks non installé ici (pas un clone principal)."; fi

test: $(STAMP) git-filter lint
	$(BIN)/python -m pytest

# Real-browser check: JupyterLab on 127.0.0.1 driven in headless Chromium (Debian's `chromium` package;
# .ci/run installs it with apt when missing). Screenshot in outputs/test-lab/.
test-lab: $(STAMP)
	$(BIN)/python -m pytest -q tests/lab/lab_check.py

# make report [DATA=data/raw/export.csv] [POPULATION=data/raw/population.yaml] [JOBS=2] [ARGS="--force -n 3 -w 1"]
report: $(STAMP)
	$(BIN)/cnfs render $(if $(DATA),--data $(DATA)) $(if $(POPULATION),--population $(POPULATION)) $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_tabbook.py

synth: $(STAMP)
	$(BIN)/cnfs synth

clean-venv:
	rm -rf $(VENV) .venv-tools
