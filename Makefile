# One venv per checkout, (re)built whenever pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test report bench synth venv clean-venv git-filter test-lab

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

test: $(STAMP) git-filter
	$(BIN)/python -m pytest

# Real-browser check: JupyterLab on 127.0.0.1 driven in headless Chromium (Debian's `chromium` package;
# .ci/run installs it with apt when missing). Screenshot in outputs/test-lab/.
test-lab: $(STAMP)
	$(BIN)/python -m pytest -q tests/lab/lab_check.py

# make report [DATA=data/raw/export.csv] [JOBS=2] [ARGS="--force -n 3 -w 1"]
report: $(STAMP)
	$(BIN)/cnfs render $(if $(DATA),--data $(DATA)) $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_tabbook.py

synth: $(STAMP)
	$(BIN)/cnfs synth

clean-venv:
	rm -rf $(VENV)
