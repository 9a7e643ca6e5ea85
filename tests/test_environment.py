"""environment.yml (conda) installs what `make` installs: a Python that pyproject.toml allows, the
exact versions of requirements.lock, then the project without resolving anything else."""

from __future__ import annotations

import tomllib

import yaml
from cnfs import paths
from packaging.specifiers import SpecifierSet


def _env() -> dict:
    return yaml.safe_load((paths.ROOT / "environment.yml").read_text())


def test_conda_python_is_one_that_pyproject_allows():
    requires = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    pythons = [d for d in _env()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1, pythons
    version = pythons[0].removeprefix("python").lstrip("=")
    assert SpecifierSet(requires).contains(version + ".0"), (
        f"environment.yml pins {pythons[0]}, pyproject says {requires}"
    )


def test_conda_installs_the_lock_then_the_project_only():
    deps = _env()["dependencies"]
    pip = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip == [["-r requirements.lock", "--no-deps -e ."]]
    conda_packages = [d for d in deps if isinstance(d, str) and not d.startswith(("python", "pip"))]
    assert conda_packages == [], "dependencies come from requirements.lock only (one source of truth)"
