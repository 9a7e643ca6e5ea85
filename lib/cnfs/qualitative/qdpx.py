"""Read a REFI-QDA project export (.qdpx) into the same excerpt table as ``excerpts.yaml``.

A .qdpx is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``) and the
plain texts under ``sources/``. Mapping to the excerpt table:

- one ``<PlainTextSelection>`` carrying at least one ``<Coding>`` = one excerpt
  (``excerpt_id`` = the selection's guid, ``text`` = the source text between ``startPosition``
  and ``endPosition``, character offsets, end excluded; ``kind`` = ``verbatim``);
- ``codes`` = the names of the ``<Code>`` elements referenced by ``<CodeRef targetGUID>``,
  mapped to the codebook (``themes.yaml``) by code identifier or French label, case-insensitive;
- ``source`` = the ``<TextSource name>``. Naming convention for sources: ``"<territory> - <speaker
  role> - <structure kind> - <anything>"``, e.g. ``"A - cnfs - commune - entretien 3"``; each of
  the first three parts is kept when it is a known territory / vocabulary identifier or label,
  otherwise that column is NA.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd

from cnfs.qualitative.errors import Problems
from cnfs.qualitative.load import QualitativeData, excerpt_frame, load_qualitative, validate_excerpts

NS = "urn:QDA-XML:project:1.0"
Q = f"{{{NS}}}"
SEPARATOR = " - "


def _lookup(mapping: dict[str, str]) -> dict[str, str]:
    """Identifier or label (case-folded) -> identifier."""
    out = {k.casefold(): k for k in mapping}
    out.update({v.casefold(): k for k, v in mapping.items()})
    return out


def parse_source_name(
    name: str, territory_ids: set[str], vocabulary: dict[str, dict[str, str]]
) -> dict[str, str | None]:
    """Territory, speaker role and structure kind encoded in a source name (None when absent)."""
    parts = [p.strip() for p in name.split(SEPARATOR)] + ["", "", ""]
    territories = {t.casefold(): t for t in territory_ids}
    territories.update({f"territoire {t}".casefold(): t for t in territory_ids})
    return {
        "territory": territories.get(parts[0].casefold()),
        "speaker_role": _lookup(vocabulary["speaker_roles"]).get(parts[1].casefold()),
        "structure_kind": _lookup(vocabulary["actor_kinds"]).get(parts[2].casefold()),
    }


def _code_names(root: ET.Element) -> dict[str, str]:
    """guid -> name of every (possibly nested) code of the codebook."""
    return {c.get("guid"): (c.get("name") or "") for c in root.iter(f"{Q}Code")}


def _source_text(
    archive: zipfile.ZipFile, source: ET.Element, file: Path, label: str, problems: Problems
) -> str | None:
    """The plain text of a ``<TextSource>`` (internal file or inline ``<PlainTextContent>``)."""
    inline = source.find(f"{Q}PlainTextContent")
    if inline is not None and inline.text is not None:
        return inline.text
    ref = source.get("plainTextPath") or ""
    if not ref.startswith("internal://"):
        problems.add(file, label, "plainTextPath", "'internal://<file>' or <PlainTextContent>", ref)
        return None
    member = "sources/" + ref[len("internal://") :]
    if member not in archive.namelist():
        problems.add(file, label, "plainTextPath", f"a file {member} inside the archive", ref)
        return None
    return archive.read(member).decode("utf-8")


def read_qdpx(path: str | Path, reference: QualitativeData | None = None) -> pd.DataFrame:
    """Coded segments of a .qdpx as the excerpt table, codes mapped to the project's codebook."""
    file = Path(path)
    ref = reference if reference is not None else load_qualitative()
    problems = Problems()
    try:
        archive = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile) as exc:
        problems.add(file, "-", "-", f"a readable .qdpx (zip) archive ({exc})")
        problems.raise_if_any()
    with archive:
        if "project.qde" not in archive.namelist():
            problems.add(file, "-", "project.qde", "a project.qde file at the root of the archive")
            problems.raise_if_any()
        try:
            root = ET.fromstring(archive.read("project.qde"))
        except ET.ParseError as exc:
            problems.add(file, "project.qde", "-", f"well-formed XML ({exc})")
            problems.raise_if_any()
        if root.tag != f"{Q}Project":
            problems.add(file, "project.qde", "Project", f"a root <Project> in namespace {NS}", root.tag)
            problems.raise_if_any()
        rows = _selections(archive, root, file, ref, problems)
    excerpts = excerpt_frame(rows)
    territory_ids = set(ref.territories["territory"])
    validate_excerpts(excerpts, ref.vocabulary, ref.themes, territory_ids, file, problems)
    problems.raise_if_any()
    return excerpts


def _selections(
    archive: zipfile.ZipFile, root: ET.Element, file: Path, ref: QualitativeData, problems: Problems
) -> list[dict]:
    """One row per coded ``<PlainTextSelection>``, in document order."""
    names = _code_names(root)
    to_code = _lookup(dict(zip(ref.themes["code"], ref.themes["label"])))
    territory_ids = set(ref.territories["territory"])
    rows = []
    for source in root.iter(f"{Q}TextSource"):
        src_name = source.get("name") or source.get("guid") or "?"
        src_label = f"TextSource '{src_name}'"
        text = _source_text(archive, source, file, src_label, problems)
        meta = parse_source_name(src_name, territory_ids, ref.vocabulary)
        for sel in source.iter(f"{Q}PlainTextSelection"):
            guid = sel.get("guid") or "?"
            label = f"PlainTextSelection '{guid}' of {src_label}"
            refs = [r.get("targetGUID") for c in sel.iter(f"{Q}Coding") for r in c.iter(f"{Q}CodeRef")]
            if not refs:
                continue
            codes: list[str] = []
            for target in refs:
                if target not in names:
                    problems.add(file, label, "CodeRef.targetGUID", "the guid of a <Code> of the codebook", target)
                    continue
                code = to_code.get(names[target].strip().casefold())
                if code is None:
                    problems.add(file, label, "Code.name", "a code or label of themes.yaml", names[target])
                elif code not in codes:
                    codes.append(code)
            segment = None
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                problems.add(
                    file,
                    label,
                    "startPosition/endPosition",
                    "integer character offsets",
                    (sel.get("startPosition"), sel.get("endPosition")),
                )
            else:
                if text is not None and not 0 <= start < end <= len(text):
                    problems.add(
                        file,
                        label,
                        "startPosition/endPosition",
                        f"0 <= start < end <= {len(text)} (length of the source text)",
                        (start, end),
                    )
                elif text is not None:
                    segment = text[start:end]
            rows.append(
                {
                    "excerpt_id": guid,
                    "kind": "verbatim",
                    **meta,
                    "source": src_name,
                    "text": segment if segment is not None else "",
                    "codes": tuple(codes),
                }
            )
    return rows


__all__ = ["read_qdpx", "parse_source_name", "NS"]
