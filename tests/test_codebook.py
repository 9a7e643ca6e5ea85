"""The codebook is consistent and covers sections 2-7 of the article."""

from __future__ import annotations

import copy

import yaml
from cnfs import paths
from cnfs.codebook import TYPES, load_codebook, parse_codebook


def test_codebook_is_consistent():
    cb = load_codebook()
    assert cb.problems() == []


def test_codebook_size_and_types():
    cb = load_codebook()
    standalone = [q for q in cb.questions.values() if not q.group]
    assert 40 <= len(standalone) + len(cb.groups) + sum(len(g.items) for g in cb.groups.values()) // 4 <= 80
    assert {q.type for q in cb.questions.values()} == set(TYPES)
    assert {q.section for q in cb.questions.values()} == {2, 3, 4, 5, 6, 7}


def test_inferred_entries_are_marked():
    cb = load_codebook()
    inferred_options = [o for q in cb.questions.values() for o in q.options if o.inferred]
    inferred_items = [q for q in cb.questions.values() if q.inferred]
    assert inferred_options and inferred_items
    # the article's own options are not marked inferred
    assert not cb["intervention_types"].option("rdv_individuel").inferred
    assert cb["intervention_types"].option("aide_demarches").inferred


def test_universes_as_the_article_describes():
    cb = load_codebook()
    assert cb["civil_category"].universe.question == "structure_sector"
    assert cb["civil_category"].universe.codes == ("public",)
    assert cb["equipment_missing"].universe.codes == ("non",)
    assert cb["private_field"].universe.codes == ("prive",)
    assert "Non" in cb.base_label("equipment_missing")


def test_columns_of_a_multi_select():
    cb = load_codebook()
    assert cb["diversity_opinion"].columns == [
        "diversity_opinion__interessante",
        "diversity_opinion__difficile",
        "diversity_opinion__frustrante",
    ]
    assert cb.column_owner("diversity_opinion__difficile") == ("diversity_opinion", "difficile")


def test_problems_are_found_in_a_broken_codebook():
    doc = yaml.safe_load(paths.CODEBOOK.read_text(encoding="utf-8"))
    bad = copy.deepcopy(doc)
    bad["questions"].append({"id": "oops", "section": 9, "type": "likert", "wording": "", "short": ""})
    for q in bad["questions"]:
        if q.get("id") == "civil_category":
            q["universe"] = {"question": "structure_sector", "in": ["publique"]}
        if q.get("id") == "education":
            q["options"] = q["options"][:1]
    problems = "\n".join(parse_codebook(bad).problems())
    assert "'oops': unknown type 'likert'" in problems
    assert "section 9" in problems
    assert "universe codes ['publique']" in problems
    assert "'education': a single question needs at least two options" in problems
