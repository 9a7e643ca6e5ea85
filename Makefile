# One venv per checkout, (re)built whenever pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test report bench synth venv clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

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
