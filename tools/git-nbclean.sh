#!/bin/sh
# git "clean" filter for notebooks, installed by `make venv` (see .gitattributes): what git stores is the
# notebook without outputs, execution counts or run metadata (cells marked keep_output keep theirs), so
# running and saving a notebook in JupyterLab leaves `git status` clean. git runs it from the top of the
# working tree. Without the project's environment it passes the notebook through unchanged.
if [ -x .venv/bin/nbstripout ]; then
  exec .venv/bin/nbstripout --keep-id
fi
exec cat
