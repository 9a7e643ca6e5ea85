"""environment.yml (conda) and pyproject.toml (pip) list the same dependencies."""
from __future__ import annotations

import re
import tomllib

import yaml

from cnfs import paths

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"pyyaml": "pyyaml"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_conda_and_pip_dependencies_match():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip")))
    conda = {CONDA_TO_PYPI.get(k, k): v for k, v in conda.items()}
    assert conda == pip
