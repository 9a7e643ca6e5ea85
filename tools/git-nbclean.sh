#!/bin/sh
# git "clean" filter for notebooks, installed by `make venv` (see .gitattributes): what git stores is the
# notebook without outputs, execution counts or run metadata (cells marked keep_output keep theirs), so
# running and saving a notebook in JupyterLab leaves `git status` clean. git runs it from the top of the
# working tree. Without the project's environment it passes the notebook through unchanged.
if [ -x .venv/bin/nbstripout ]; then
  # JupyterLab adds these details of the kernel's language on save: only its name is committed
  exec .venv/bin/nbstripout --keep-id --extra-keys "metadata.language_info.codemirror_mode \
metadata.language_info.file_extension metadata.language_info.mimetype metadata.language_info.nbconvert_exporter \
metadata.language_info.pygments_lexer metadata.language_info.version"
fi
exec cat
