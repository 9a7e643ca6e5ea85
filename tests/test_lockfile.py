"""requirements.lock pins every dependency that pyproject.toml declares, within its declared range.

The lock is generated (``make lock``), never edited by hand; this test fails when pyproject.toml
changed and the lock was not refreshed, naming the command to run.
"""

from __future__ import annotations

import re
import tomllib

from cnfs import paths
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = paths.ROOT / "requirements.lock"
REFRESH = "pyproject.toml and requirements.lock disagree: run `make lock` and commit requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$")


def _direct() -> dict[str, Requirement]:
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def _pins() -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, vias) for each pinned line of the lock, with uv's ``# via`` notes."""
    out: list[tuple[str, str, str | None, list[str]]] = []
    for line in LOCK.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            out.append((canonicalize_name(m.group(1)), m.group(2), m.group(3), []))
        elif out and line.strip().startswith("#"):
            via = line.strip().lstrip("#").strip().removeprefix("via").strip()
            if via:
                out[-1][3].append(via)
    return out


def test_every_direct_dependency_is_pinned_within_its_range_for_this_python():
    pins = [p for p in _pins() if p[2] is None or Marker(p[2]).evaluate()]
    pinned = {name: version for name, version, _, _ in pins}
    for name, req in _direct().items():
        assert name in pinned, f"{name} is not in requirements.lock. {REFRESH}"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"{name}=={pinned[name]} in the lock is outside {req.specifier} in pyproject.toml. {REFRESH}"
        )


def test_lock_lists_no_direct_dependency_that_pyproject_dropped():
    from_project = {name for name, _, _, vias in _pins() if "cnfs (pyproject.toml)" in vias}
    assert from_project == set(_direct()), REFRESH


def test_lock_pins_every_line_exactly():
    lines = [ln for ln in LOCK.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    loose = [ln for ln in lines if not _PIN.match(ln)]
    assert not loose, f"unpinned lines in requirements.lock: {loose[:5]}"
