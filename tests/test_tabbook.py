"""Tab book: percentages, bases and significance letters recomputed independently (plain pandas counts,
statsmodels' z test, scipy's Mann-Whitney and Welch tests, Holm by statsmodels) on a small hand-made
frame; every question of the codebook appears; banner file errors are clear."""

from __future__ import annotations

import html
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from cnfs.codebook import parse_codebook
from cnfs.tabbook import Banner, load_banners, parse_banners, tab_questions, tabbook
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

DOC = {
    "meta": {"waves": ["1", "2"]},
    "sections": {1: "S"},
    "questions": [
        {
            "id": "grp",
            "section": 1,
            "type": "single",
            "wording": "Groupe ?",
            "short": "Groupe",
            "options": [
                {"code": "a", "label": "Groupe A"},
                {"code": "b", "label": "Groupe B"},
                {"code": "c", "label": "Groupe C"},
            ],
        },
        {
            "id": "yn",
            "section": 1,
            "type": "single",
            "wording": "Oui ou non ?",
            "short": "Oui/non",
            "options": [{"code": "oui", "label": "Oui"}, {"code": "non", "label": "Non"}],
        },
        {
            "id": "lvl",
            "section": 1,
            "type": "single",
            "ordered": True,
            "wording": "Niveau ?",
            "short": "Niveau",
            "options": [
                {"code": "l1", "label": "Bas"},
                {"code": "l2", "label": "Moyen"},
                {"code": "l3", "label": "Haut"},
            ],
        },
        {
            "id": "tick",
            "section": 1,
            "type": "multi",
            "wording": "Cochez",
            "short": "Cases",
            "universe": {"question": "yn", "in": ["oui"]},
            "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}],
        },
        {"id": "sc", "section": 1, "type": "scale10", "wording": "Note ?", "short": "Note"},
        {"id": "num", "section": 1, "type": "number", "min": 0, "max": 100, "wording": "Nombre ?", "short": "Nombre"},
        {"id": "free", "section": 1, "type": "text", "wording": "Texte", "short": "Texte"},
    ],
}
CB = parse_codebook(DOC)
BANNERS = [Banner("grp", "Groupe", question="grp"), Banner("wave", "Vague", derived="wave")]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 90
    grp = np.repeat(["Groupe A", "Groupe B", "Groupe C"], [40, 30, 20])
    yn = np.where(rng.random(n) < np.where(grp == "Groupe A", 0.8, 0.3), "Oui", "Non")
    asked = yn == "Oui"
    tick_x = pd.array(np.where(asked, rng.random(n) < 0.6, None), dtype="boolean")
    tick_y = pd.array(np.where(asked, rng.random(n) < 0.3, None), dtype="boolean")
    sc = np.clip(np.round(rng.normal(np.where(grp == "Groupe C", 8, 5), 1.5)), 1, 10).astype(int)
    return pd.DataFrame(
        {
            "respondent_id": [f"R{i}" for i in range(n)],
            "wave": np.where(np.arange(n) % 2 == 0, "1", "2"),
            "grp": grp,
            "yn": yn,
            "lvl": rng.choice(["Bas", "Moyen", "Haut"], n),
            "tick__x": tick_x,
            "tick__y": tick_y,
            "sc": pd.array(sc, dtype="Int64"),
            "num": pd.array(rng.integers(0, 100, n), dtype="Int64"),
            "free": [None] * n,
        }
    )


@pytest.fixture(scope="module")
def tb(frame) -> pd.DataFrame:
    return tabbook(frame, CB, BANNERS)


def _cell(tb, q, option, banner, column):
    hit = tb[(tb.question == q) & (tb.option == option) & (tb.banner == banner) & (tb.column == column)]
    assert len(hit) == 1, (q, option, banner, column)
    return hit.iloc[0]


def _holm_letters(pvals: dict, signs: dict, cols: list[str]) -> dict[str, str]:
    """Letters from pairwise p-values: Holm over the pairs, the higher column gets the lower's letter."""
    pairs = [p for p in pvals if not np.isnan(pvals[p])]
    adj = multipletests([pvals[p] for p in pairs], method="holm")[1] if pairs else []
    out = {c: "" for c in cols}
    for (a, b), pa in zip(pairs, adj):
        if pa < 0.05:
            hi, lo = (a, b) if signs[(a, b)] > 0 else (b, a)
            out[hi] += "ABC"[cols.index(lo)]
    return {c: "".join(sorted(v)) for c, v in out.items()}


def test_single_choice_percent_and_base(frame, tb):
    for g in ["Groupe A", "Groupe B", "Groupe C"]:
        sub = frame[frame.grp == g]
        row = _cell(tb, "yn", "oui", "grp", g)
        assert row["base_n"] == len(sub)
        assert row["count"] == int((sub.yn == "Oui").sum())
        assert row["value"] == pytest.approx(100 * (sub.yn == "Oui").mean())
        assert row["base_effective"] == pytest.approx(len(sub))
    total = _cell(tb, "yn", "oui", "total", "Ensemble")
    assert total["base_n"] == len(frame) and total["sig"] == "" and total["letter"] == ""


def test_multi_select_is_percent_of_those_asked(frame, tb):
    for g in ["Groupe A", "Groupe B", "Groupe C"]:
        sub = frame[(frame.grp == g) & (frame.yn == "Oui")]
        row = _cell(tb, "tick", "y", "grp", g)
        assert row["base_n"] == len(sub)  # only those asked (universe yn = oui)
        assert row["value"] == pytest.approx(100 * sub["tick__y"].astype(bool).mean())


def test_proportion_letters_match_statsmodels_z_with_holm(frame, tb):
    cols = ["Groupe A", "Groupe B", "Groupe C"]
    for q, opt, label in [("yn", "oui", "Oui"), ("yn", "non", "Non")]:
        counts = {c: int((frame[frame.grp == c][q] == label).sum()) for c in cols}
        ns = {c: int((frame.grp == c).sum()) for c in cols}
        pvals, signs = {}, {}
        for a, b in combinations(cols, 2):
            pvals[(a, b)] = proportions_ztest([counts[a], counts[b]], [ns[a], ns[b]])[1]
            signs[(a, b)] = np.sign(counts[a] / ns[a] - counts[b] / ns[b])
        expected = _holm_letters(pvals, signs, cols)
        got = {c: _cell(tb, q, opt, "grp", c)["sig"] for c in cols}
        assert got == expected
    assert "BC" == _cell(tb, "yn", "oui", "grp", "Groupe A")["sig"]  # the planted difference is found


def test_scale_letters_are_mann_whitney_with_holm(frame, tb):
    cols = ["Groupe A", "Groupe B", "Groupe C"]
    x = {c: frame.loc[frame.grp == c, "sc"].astype(float).to_numpy() for c in cols}
    pvals, signs = {}, {}
    for a, b in combinations(cols, 2):
        res = stats.mannwhitneyu(x[a], x[b], alternative="two-sided")
        pvals[(a, b)] = res.pvalue
        signs[(a, b)] = np.sign(res.statistic - len(x[a]) * len(x[b]) / 2)
    got = {c: _cell(tb, "sc", "mean", "grp", c) for c in cols}
    assert {c: r["sig"] for c, r in got.items()} == _holm_letters(pvals, signs, cols)
    assert got["Groupe C"]["sig"] == "AB"
    assert all(r["test"] == "mannwhitney" for r in got.values())
    assert got["Groupe A"]["value"] == pytest.approx(x["Groupe A"].mean())


def test_number_letters_are_welch_with_holm(frame, tb):
    cols = ["Groupe A", "Groupe B", "Groupe C"]
    x = {c: frame.loc[frame.grp == c, "num"].astype(float).to_numpy() for c in cols}
    pvals = {(a, b): stats.ttest_ind(x[a], x[b], equal_var=False).pvalue for a, b in combinations(cols, 2)}
    signs = {(a, b): np.sign(x[a].mean() - x[b].mean()) for a, b in combinations(cols, 2)}
    got = {c: _cell(tb, "num", "mean", "grp", c)["sig"] for c in cols}
    assert got == _holm_letters(pvals, signs, cols)


def test_ordered_single_choice_gets_a_rank_test_row(frame, tb):
    pos = frame.lvl.map({"Bas": 1, "Moyen": 2, "Haut": 3})
    row = _cell(tb, "lvl", "rank", "wave", "Vague 1")
    assert row["test"] == "mannwhitney"
    assert row["value"] == pytest.approx(pos[frame.wave == "1"].mean())
    p = stats.mannwhitneyu(pos[frame.wave == "1"], pos[frame.wave == "2"]).pvalue
    assert (row["sig"] != "" or _cell(tb, "lvl", "rank", "wave", "Vague 2")["sig"] != "") == (p < 0.05)


def test_constant_weights_change_nothing_but_the_weighted_base(frame, tb):
    w = tabbook(frame.assign(w=2.0), CB, BANNERS, weights="w")
    keys = ["question", "option", "banner", "column"]
    m = tb.merge(w, on=keys, suffixes=("", "_w"))
    assert len(m) == len(tb)
    assert np.allclose(m["value"], m["value_w"], equal_nan=True)
    assert (m["sig"] == m["sig_w"])[m["test"] != "mannwhitney"].all()
    assert np.allclose(m["base_effective_w"], m["base_n"])
    assert np.allclose(m["base_weighted_w"], 2 * m["base_n"])
    assert set(w["weighting"]) == {"w"}


def test_weighted_percent_and_kish_base(frame):
    wts = np.linspace(0.5, 2.0, len(frame))
    w = tabbook(frame.assign(w=wts), CB, BANNERS, weights="w")
    sub = frame.grp == "Groupe B"
    ws = wts[sub.to_numpy()]
    row = _cell(w, "yn", "oui", "grp", "Groupe B")
    assert row["value"] == pytest.approx(100 * np.average(frame.yn[sub] == "Oui", weights=ws))
    assert row["base_effective"] == pytest.approx(ws.sum() ** 2 / (ws**2).sum())
    assert row["base_n"] == int(sub.sum())
    assert _cell(w, "sc", "mean", "grp", "Groupe B")["test"] == "ridit_z"


def test_every_tab_question_appears_and_text_does_not(tb):
    assert set(tb.question) == {"grp", "yn", "lvl", "tick", "sc", "num"}
    assert set(tb.banner) == {"total", "grp", "wave"}


def test_bad_weights_named():
    df = pd.DataFrame({"grp": ["Groupe A"], "wave": ["1"], "yn": ["Oui"], "w": [-1.0]})
    with pytest.raises(ValueError, match="'w'.*lignes \\[1\\]"):
        tabbook(df, CB, BANNERS, weights="w", questions=["yn"])
    with pytest.raises(KeyError, match="poids|weights column 'nope'"):
        tabbook(df, CB, BANNERS, weights="nope", questions=["yn"])


def test_banner_file_problems_are_all_named():
    doc = {
        "banners": [
            {"id": "a", "label": "A", "question": "sc"},
            {"id": "b", "label": "B", "derived": "nope"},
            {"id": "c", "label": "C", "question": "missing"},
        ]
    }
    with pytest.raises(ValueError) as e:
        parse_banners(doc, CB, "banners.yaml")
    msg = str(e.value)
    assert "'sc' est de type scale10" in msg and "'nope' inconnue" in msg
    assert "'missing' n'est pas dans le codebook" in msg


def test_every_question_of_the_codebook_is_in_the_twin_tab_book(survey):
    df, cb = survey
    banners = load_banners(cb)
    assert [b.id for b in banners] == [
        "wave",
        "structure_sector",
        "site_mode",
        "civil_category",
        "training_path",
        "education",
    ]
    t = tabbook(df, cb, banners)
    expected = {q.id for q in cb.questions.values() if q.type != "text"}
    assert set(t.question) == expected == {q.id for q in tab_questions(cb)}
    assert set(t.banner) == {"total", *(b.id for b in banners)}
    pct = t[(t.stat == "percent") & (t.type == "single") & (t.base_n > 0)]
    sums = pct.groupby(["question", "banner", "column"])["value"].sum()
    assert np.allclose(sums, 100)  # single-choice columns add up to 100 % of those asked


# -- disclosure control and publication ------------------------------------------------------------
def test_small_counts_stay_suppressed_everywhere(frame, tb, tmp_path):
    from cnfs.tabbook import SUPPRESSED_MARK, disclose, display_table, html_page, sheet_table, write_spreadsheet
    from openpyxl import load_workbook

    safe = disclose(tb, min_count=10, codebook=CB)
    counts = pd.to_numeric(tb["count"], errors="coerce")
    small = (counts > 0) & (counts < 10)
    assert small.any()
    assert safe.loc[small, "suppressed"].all() and safe.loc[small, "value"].isna().all()
    assert (safe.loc[small, "sig"] == "").all() and safe.loc[small, "count"].isna().all()
    # a single choice's column never has exactly one withheld option (the base would give it back)
    single = safe[(safe.type == "single") & (safe.stat == "percent")]
    per_col = single.groupby(["question", "banner", "column"])["suppressed"].sum()
    assert not (per_col == 1).any()
    # the same cells are withheld in the French table, the spreadsheet and the HTML page
    one = safe[safe.question == "yn"]
    hidden = one[one.suppressed].iloc[0]
    shown = display_table(one)
    assert SUPPRESSED_MARK in shown.to_string()
    assert str(hidden["value"]) == "nan"
    path = write_spreadsheet(safe, tmp_path / "t.xlsx", title="Essai", wave="all", weighting="none", synthetic=True)
    wb = load_workbook(path)
    for ws, banner in zip(wb.worksheets[3:], ["grp", "wave"]):
        header, body, _ = _xlsx_table(ws)
        marks = sum(row[j] == SUPPRESSED_MARK for row in body for j, h in enumerate(header) if h.endswith(": valeur"))
        assert marks == int(safe[safe.banner.isin(["total", banner])]["suppressed"].sum())
    page = html_page(safe, title="Essai", notes=["n"], synthetic=True)
    assert page.count(SUPPRESSED_MARK) >= int(safe["suppressed"].sum())
    assert "R1" not in page  # no respondent id
    assert sheet_table(safe, "grp").shape[0] == len(safe[(safe.banner == "total")])


def _xlsx_table(ws):
    """(header, body rows, lines above the table) of the one table of a sheet, read with openpyxl."""
    from openpyxl.utils import range_boundaries

    (table,) = ws.tables.values()
    c0, r0, c1, r1 = range_boundaries(table.ref)
    rows = [[ws.cell(r, c).value for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
    return rows[0], rows[1:], [ws.cell(r, 1).value for r in range(1, r0)]


def test_spreadsheet_follows_the_publication_rules(frame, tb, tmp_path):
    """Opened with openpyxl: cover, contents, notes, then one table per sheet with its title, base and n above
    one header row; no merged cells, no blank row, numbers as numbers, withheld cells "[c]" with the note."""
    from cnfs.tabbook import SUPPRESSED_MARK, disclose, write_spreadsheet
    from openpyxl import load_workbook

    safe = disclose(tb, min_count=5, codebook=CB)
    assert safe.suppressed.any()
    path = write_spreadsheet(
        safe, tmp_path / "book.xlsx", title="Tableaux croisés — essai", wave="all", weighting="none", synthetic=True
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["Couverture", "Sommaire", "Notes", "Tableau_1", "Tableau_2"]
    cover = " ".join(str(c.value) for row in wb["Couverture"].iter_rows() for c in row if c.value)
    assert "synthétiques" in cover.lower() and "Pondération" in cover and "Source" in cover
    assert "Introductory" not in cover
    contents = [r for r in wb["Sommaire"].iter_rows(values_only=True) if r[0] and str(r[0]).startswith("Tableau_")]
    assert [(r[0], "selon : Groupe" in str(r[1]) or "selon : Vague" in str(r[1])) for r in contents] == [
        ("Tableau_1", True),
        ("Tableau_2", True),
    ]
    notes = {str(r[0]): str(r[1]) for r in wb["Notes"].iter_rows(values_only=True) if r[0]}
    secret = next(ref for ref, text in notes.items() if text.startswith("Secret statistique"))
    assert any("Holm" in t for t in notes.values()) and any("Base effective (Kish)" in t for t in notes.values())
    for ws, banner in zip(wb.worksheets[3:], ["grp", "wave"]):
        assert not ws.merged_cells.ranges
        header, body, above = _xlsx_table(ws)
        assert above[0].startswith("Tableaux croisés — essai — selon") and f"[note {secret}]" in above[0]
        assert any(str(a).startswith("Base") for a in above)
        assert any(str(a).startswith("Effectif (n)") and "90" in str(a) for a in above)
        assert header[:5] == ["Question (code)", "Question", "Réponse (code)", "Réponse", "Statistique"]
        assert all(isinstance(h, str) and h for h in header) and len(set(header)) == len(header)
        assert not any(isinstance(v, str) and v in header for row in body for v in row[5:])  # one header row
        assert len(body) == len(safe[safe.banner == "total"])
        assert all(all(v not in (None, "") for v in row) for row in body)  # no blank row, no blank cell
        for j, h in enumerate(header):
            if h.endswith(": valeur") or h.endswith(": base (n)"):
                kinds = {type(row[j]) for row in body} - {int, float}
                assert kinds <= {str} and {row[j] for row in body if isinstance(row[j], str)} <= {"[c]", "[x]"}
        shown = [row[j] for row in body for j, h in enumerate(header) if h.endswith(": valeur")]
        assert shown.count(SUPPRESSED_MARK) == int(safe[safe.banner.isin(["total", banner])]["suppressed"].sum())
    header, body, _ = _xlsx_table(wb["Tableau_1"])
    row = next(r for r in body if r[0] == "yn" and r[2] == "oui")
    a = frame[frame.grp == "Groupe A"]
    assert row[header.index("Groupe A (A) : valeur")] == pytest.approx(100 * (a.yn == "Oui").mean(), abs=1e-4)
    assert row[header.index("Groupe A (A) : base (n)")] == 40
    assert row[header.index("Groupe A (A) : lettres")] == _cell(tb, "yn", "oui", "grp", "Groupe A")["sig"] == "BC"
    assert row[header.index("Ensemble : valeur")] == pytest.approx(100 * (frame.yn == "Oui").mean(), abs=1e-4)
    assert not any(h.startswith("Ensemble") and h.endswith("lettres") for h in header)  # no letters on the total


def test_weighted_spreadsheet_states_effective_bases(frame, tmp_path):
    from cnfs.tabbook import disclose, write_spreadsheet
    from openpyxl import load_workbook

    wts = np.linspace(0.5, 2.0, len(frame))
    safe = disclose(tabbook(frame.assign(w=wts), CB, BANNERS[:1], weights="w"), min_count=5, codebook=CB)
    path = write_spreadsheet(
        safe, tmp_path / "w.xlsx", title="Pondéré", wave="all", weighting="raking", synthetic=False
    )
    header, body, above = _xlsx_table(load_workbook(path)["Tableau_1"])
    assert any("base effective" in str(a) for a in above)
    ws = wts[(frame.grp == "Groupe B").to_numpy()]
    row = next(r for r in body if r[0] == "yn" and r[2] == "oui")
    assert row[header.index("Groupe B (B) : base effective")] == pytest.approx(ws.sum() ** 2 / (ws**2).sum(), abs=0.05)
    assert row[header.index("Ensemble : base effective")] == pytest.approx(wts.sum() ** 2 / (wts**2).sum(), abs=0.05)


def test_wave_tab_book_files_and_the_index_links_them(twin_path, tmp_path):
    from cnfs.render.index import build_index
    from cnfs.tabbook import population_available, write_wave_tabbook
    from cnfs.tabbook_files import TABBOOK_STEM

    wave_dir = tmp_path / "wave-1"
    write_wave_tabbook(wave_dir, "1", None)
    expected = {f"{TABBOOK_STEM}.{ext}" for ext in ("html", "xlsx", "csv")}
    if population_available():
        expected |= {f"{TABBOOK_STEM}_ponderes.{ext}" for ext in ("html", "xlsx", "csv")}
    assert {p.name for p in wave_dir.iterdir()} == expected
    tidy = pd.read_csv(wave_dir / f"{TABBOOK_STEM}.csv")
    from cnfs.codebook import load_codebook

    every_question = {q.id for q in load_codebook().questions.values() if q.type != "text"}
    assert set(tidy["question"]) == every_question
    assert "wave" not in set(tidy["banner"])  # one wave: no wave columns
    assert "respondent_id" not in tidy.columns and not tidy["column"].astype(str).str.startswith("SYN-").any()
    # the cells withheld in the CSV are withheld in the page and in the spreadsheet too
    hidden = tidy[tidy["suppressed"]]
    assert len(hidden) and hidden["value"].isna().all() and hidden["count"].isna().all()
    assert hidden["sig"].isna().all() or (hidden["sig"].fillna("") == "").all()
    page_text = (wave_dir / f"{TABBOOK_STEM}.html").read_text(encoding="utf-8")
    assert page_text.count("[c]") >= len(hidden)
    from openpyxl import load_workbook

    wb = load_workbook(wave_dir / f"{TABBOOK_STEM}.xlsx")
    for ws, banner in zip(wb.worksheets[3:], [b for b in dict.fromkeys(tidy["banner"]) if b != "total"]):
        header, body, _ = _xlsx_table(ws)
        marks = sum(row[j] == "[c]" for row in body for j, h in enumerate(header) if h.endswith(": valeur"))
        assert marks == int(tidy[tidy["banner"].isin(["total", banner])]["suppressed"].sum()), ws.title
        assert {row[0] for row in body} == every_question, ws.title  # every question of the codebook, each sheet
    assert all(f'id="{q}"' in page_text for q in every_question)
    page = build_index(tmp_path, rows=[{"wave": "1", "stem": "02_profil", "wave_folder": "wave-1", "status": "ok"}])
    assert f'href="wave-1/{TABBOOK_STEM}.html"' in page and f'href="wave-1/{TABBOOK_STEM}.xlsx"' in page


def test_no_letter_points_at_a_withheld_cell(tb):
    from cnfs.tabbook import disclose

    safe = disclose(tb, min_count=10, codebook=CB)
    assert ((tb["sig"] != safe["sig"]) & ~safe["suppressed"]).any()  # the frame has letters to strip
    for _, row in safe[safe.sig != ""].iterrows():
        same = safe[
            (safe.question == row.question)
            & (safe.stat == row.stat)
            & (safe.option == row.option)
            & (safe.banner == row.banner)
        ]
        pointed = same[same.letter.isin(list(row.sig))]
        assert not pointed["suppressed"].any() and pointed["base_n"].notna().all()


def test_fragile_bases_are_shown_in_parentheses(tb):
    from cnfs.tabbook import disclose, display_table

    safe = disclose(tb, min_count=10, codebook=CB)
    one = safe[(safe.question == "sc")]
    assert one.loc[one.base_n < 30, "fragile"].all() and not one.loc[one.base_n >= 30, "fragile"].any()
    shown = display_table(one)
    c = one[(one.banner == "grp") & (one.column == "Groupe C")].iloc[0]  # 20 respondents
    assert shown.loc["Moyenne", ("Groupe", "Groupe C (C)")].startswith("(")
    assert not shown.loc["Moyenne", ("Groupe", "Groupe A (A)")].startswith("(")
    assert c["base_n"] == 20


# -- secondary suppression across the columns of a banner (worked out by hand) ----------------------
def _hand_frame(groups: dict[str, int], yes: dict[str, int], num: dict[str, list[int]] | None = None) -> pd.DataFrame:
    """A frame with exactly ``groups[g]`` respondents in group g, ``yes[g]`` of them answering "Oui"."""
    rows = []
    for g, n in groups.items():
        for i in range(n):
            rows.append(
                {
                    "grp": g,
                    "yn": "Oui" if i < yes[g] else "Non",
                    "num": (num or {}).get(g, [i])[i % len((num or {}).get(g, [i]))],
                    "wave": "1",
                }
            )
    df = pd.DataFrame(rows)
    df["num"] = df["num"].astype("Int64")
    df["respondent_id"] = [f"R{i}" for i in range(len(df))]
    return df


def _hidden(safe: pd.DataFrame, question: str, option: str) -> dict[str, bool]:
    part = safe[(safe.question == question) & (safe.option == option)]
    return dict(zip(part.column, part.suppressed))


def test_ensemble_minus_the_other_columns_cannot_give_a_cell_back():
    """By hand, threshold 5: Oui A=3 B=8 C=12 (total 23), Non A=9 B=7 C=8 (total 24).

    Oui in A (3) is withheld; Non in A (9) with it (A's options add up to A's base 12); then the
    Ensemble minus B and C would give both back, so on each row the smallest other column goes too:
    B (Oui 8 < 12, Non 7 < 8). C and the Ensemble stay.
    """
    from cnfs.tabbook import disclose

    df = _hand_frame({"Groupe A": 12, "Groupe B": 15, "Groupe C": 20}, {"Groupe A": 3, "Groupe B": 8, "Groupe C": 12})
    raw = tabbook(df, CB, [BANNERS[0]], questions=["yn"])
    assert dict(zip(raw[raw.option == "oui"].column, raw[raw.option == "oui"]["count"])) == {
        "Ensemble": 23,
        "Groupe A": 3,
        "Groupe B": 8,
        "Groupe C": 12,
    }  # transcription check of the frame
    safe = disclose(raw, min_count=5, codebook=CB)
    expected = {"Ensemble": False, "Groupe A": True, "Groupe B": True, "Groupe C": False}
    assert _hidden(safe, "yn", "oui") == expected
    assert _hidden(safe, "yn", "non") == expected
    assert set(safe.loc[safe.suppressed, "suppression"]) == {"primaire", "secondaire"}
    assert "Ensemble » moins les autres colonnes" in safe.attrs["disclosure_note"]
    # bases stay (no column is under the threshold)
    assert safe.drop_duplicates("column").set_index("column")["base_n"].to_dict() == {
        "Ensemble": 47,
        "Groupe A": 12,
        "Groupe B": 15,
        "Groupe C": 20,
    }


def test_a_column_under_the_threshold_takes_a_second_column_with_it():
    """By hand, threshold 5: A has 3 respondents, B 20, C 30. A's base and mean are withheld (3 < 5);
    the Ensemble's base (53) minus B and C would give A's back, and its mean × 53 minus B's and C's
    give A's sum: B, the smallest other column, is withheld whole too; C stays."""
    from cnfs.tabbook import SUPPRESSED_MARK, disclose, display_table

    df = _hand_frame(
        {"Groupe A": 3, "Groupe B": 20, "Groupe C": 30},
        {"Groupe A": 1, "Groupe B": 10, "Groupe C": 15},
        {"Groupe A": [90], "Groupe B": [10, 20], "Groupe C": [30]},
    )
    safe = disclose(tabbook(df, CB, [BANNERS[0]], questions=["num", "yn"]), min_count=5, codebook=CB)
    mean = safe[safe.question == "num"].set_index("column")
    assert mean["suppressed"].to_dict() == {"Ensemble": False, "Groupe A": True, "Groupe B": True, "Groupe C": False}
    assert mean["base_n"].isna().to_dict() == {"Ensemble": False, "Groupe A": True, "Groupe B": True, "Groupe C": False}
    assert mean.loc["Groupe C", "value"] == 30 and mean.loc["Ensemble", "value"] == pytest.approx(
        (90 * 3 + 15 * 20 + 30 * 30) / 53
    )
    shown = display_table(safe[safe.question == "num"])
    assert shown.loc["Base (n)", ("Groupe", "Groupe B (B)")] == SUPPRESSED_MARK
    assert shown.loc["Moyenne", ("Groupe", "Groupe B (B)")] == SUPPRESSED_MARK
    assert _hidden(safe, "yn", "oui") == {"Ensemble": False, "Groupe A": True, "Groupe B": True, "Groupe C": False}


def test_no_withheld_value_can_be_given_back_by_one_subtraction(frame, tb):
    """On the random frame, at two thresholds: no row of a banner (with the Ensemble) holds exactly one
    withheld value, no banner exactly one withheld column, no single-choice column exactly one withheld count."""
    from cnfs.tabbook import disclose

    for k in (10, 20):
        safe = disclose(tb, min_count=k, codebook=CB)
        assert safe.suppressed.any()
        part = safe[safe.banner != "total"]
        total = safe[safe.banner == "total"].set_index(["question", "stat", "option"])["suppressed"]
        per_row = part.groupby(["question", "stat", "option", "banner"])["suppressed"].sum()
        per_row = per_row + total.reindex(per_row.index.droplevel("banner")).to_numpy()
        assert not (per_row == 1).any(), per_row[per_row == 1]
        cols = part.drop_duplicates(["question", "banner", "column"])
        gone = (cols.base_n.isna() & (tb.loc[cols.index, "base_n"] > 0)).groupby([cols.question, cols.banner]).sum()
        assert not (gone == 1).any()
        single = safe[(safe.type == "single") & (safe.stat == "percent") & (tb["count"] > 0)]
        assert not (single.groupby(["question", "banner", "column"])["suppressed"].sum() == 1).any()


def test_weighted_letters_are_z_tests_on_effective_bases(frame):
    """Weighted letters: statsmodels' pooled z test on the weighted shares and Kish's effective bases, Holm."""
    wts = np.where(frame.grp == "Groupe A", 1.5, np.linspace(0.4, 1.6, len(frame)))
    w = tabbook(frame.assign(w=wts), CB, BANNERS[:1], weights="w")
    cols = ["Groupe A", "Groupe B", "Groupe C"]
    share, neff = {}, {}
    for c in cols:
        m = (frame.grp == c).to_numpy()
        share[c] = np.average(frame.yn[m] == "Oui", weights=wts[m])
        neff[c] = wts[m].sum() ** 2 / (wts[m] ** 2).sum()
    pvals = {
        (a, b): proportions_ztest([share[a] * neff[a], share[b] * neff[b]], [neff[a], neff[b]])[1]
        for a, b in combinations(cols, 2)
    }
    signs = {(a, b): np.sign(share[a] - share[b]) for a, b in combinations(cols, 2)}
    got = {c: _cell(w, "yn", "oui", "grp", c)["sig"] for c in cols}
    assert got == _holm_letters(pvals, signs, cols)
    assert got["Groupe A"] != ""  # the planted difference survives the weighting
    assert _cell(w, "yn", "oui", "total", "Ensemble")["sig"] == ""


def test_weighted_page_states_effective_bases(frame):
    from cnfs.tabbook import disclose, display_table, html_page

    wts = np.linspace(0.5, 2.0, len(frame))
    safe = disclose(tabbook(frame.assign(w=wts), CB, BANNERS[:1], weights="w"), min_count=5, codebook=CB)
    shown = display_table(safe[safe.question == "yn"])
    ws = wts[(frame.grp == "Groupe C").to_numpy()]
    kish = ws.sum() ** 2 / (ws**2).sum()
    assert shown.loc["Base effective (Kish)", ("Groupe", "Groupe C (C)")] == f"{kish:.1f}".replace(".", ",")
    assert shown.loc["Base (n)", ("Groupe", "Groupe C (C)")] == "20"
    assert "Base effective (Kish)" in html_page(safe, title="P", notes=[], synthetic=False)
    plain = display_table(disclose(tabbook(frame, CB, BANNERS[:1], questions=["yn"]), min_count=5, codebook=CB))
    assert "Base effective (Kish)" not in plain.index  # unweighted: the effective base is the base


def test_mann_whitney_matches_scipy_with_ties():
    """The tab book's own Mann–Whitney (no per-call overhead) gives scipy's asymptotic p-values, ties included."""
    from cnfs.tabbook import _mann_whitney

    rng = np.random.default_rng(3)
    for _ in range(200):
        a = rng.integers(1, rng.integers(2, 12), rng.integers(1, 40)).astype(float)
        b = rng.integers(1, rng.integers(2, 12), rng.integers(1, 40)).astype(float)
        res = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
        p, sign = _mann_whitney(a, b)
        assert p == pytest.approx(res.pvalue, abs=1e-12)
        assert sign == np.sign(res.statistic - len(a) * len(b) / 2)


# -- the books of all waves and of each wave, withheld together --------------------------------------
def test_a_wave_book_cannot_be_given_back_by_all_waves_minus_the_other_wave():
    """By hand, threshold 5. Wave 1: Oui A=3 B=8 C=12, Non A=9 B=7 C=8 (as above: A and B withheld).
    Wave 2: Oui A=6 B=7 C=10, Non A=6 B=8 C=10, nothing small. All waves: Oui A=9 … nothing small.
    Alone, wave 1's A/Oui (3) = all waves' 9 − wave 2's 6: so wave 2's A/Oui goes too, then by the same
    rules as in one book wave 2's A/Non (its column), B/Oui and B/Non (their rows). All waves stay whole."""
    from cnfs.tabbook import disclose, disclose_books

    w1 = _hand_frame({"Groupe A": 12, "Groupe B": 15, "Groupe C": 20}, {"Groupe A": 3, "Groupe B": 8, "Groupe C": 12})
    w2 = _hand_frame({"Groupe A": 12, "Groupe B": 15, "Groupe C": 20}, {"Groupe A": 6, "Groupe B": 7, "Groupe C": 10})
    w2["wave"] = "2"
    both = pd.concat([w1, w2], ignore_index=True)
    books = {
        "all": tabbook(both, CB, BANNERS, questions=["yn"]),
        "1": tabbook(w1, CB, BANNERS[:1], questions=["yn"]),
        "2": tabbook(w2, CB, BANNERS[:1], questions=["yn"]),
    }
    alone = disclose(books["2"], min_count=5, codebook=CB)
    assert not alone.suppressed.any()  # wave 2 on its own has nothing to withhold
    safe = disclose_books(books, min_count=5, codebook=CB)
    expected = {"Ensemble": False, "Groupe A": True, "Groupe B": True, "Groupe C": False}
    for wave in ("1", "2"):
        for option in ("oui", "non"):
            assert _hidden(safe[wave], "yn", option) == expected, (wave, option)
    assert not safe["all"].suppressed.any()
    assert list(safe["1"].question.unique()) == ["yn"] and safe["1"].index.equals(books["1"].index)


def test_twin_books_of_all_waves_and_each_wave_give_nothing_back(survey):
    """On the twin: for every cell, among the all-waves book and the wave books, never exactly one withheld."""
    from cnfs.tabbook import disclose_books

    df, cb = survey
    banners = load_banners(cb)
    books = {"all": tabbook(df, cb, banners)}
    for w in ("1", "2"):
        books[w] = tabbook(df[df[cb.wave_column].astype(str) == w], cb, [b for b in banners if b.id != "wave"])
    safe = disclose_books(books, min_count=10, codebook=cb)
    keys = ["question", "stat", "option", "banner", "column"]
    joint = pd.concat([safe[k].assign(book=k) for k in books])
    joint = joint[joint.banner != "wave"]
    per_cell = joint.groupby(keys)["suppressed"].sum()
    assert per_cell.max() > 0 and not (per_cell == 1).any(), per_cell[per_cell == 1]
    whole = joint.assign(gone=joint.base_n.isna()).drop_duplicates(["book", "question", "banner", "column"])
    per_col = whole.groupby(["question", "banner", "column"])["gone"].sum()
    assert not (per_col == 1).any()


def test_an_export_that_reads_only_as_one_wave_still_gets_its_tab_book(twin_path, tmp_path, monkeypatch):
    """When the data cannot be read as all waves (InputError), the wave folder's book is that wave's alone."""
    import cnfs.loader
    from cnfs.errors import InputError
    from cnfs.tabbook import write_wave_tabbook

    real = cnfs.loader.load_survey
    asked = []

    def one_wave_only(path=None, wave="all", *a, **k):
        asked.append(wave)
        if wave == "all":
            raise InputError("export.csv", "pas de colonne wave", "la vague en argument")
        return real(path, wave, *a, **k)

    monkeypatch.setattr(cnfs.loader, "load_survey", one_wave_only)
    written = write_wave_tabbook(tmp_path / "wave-2", "2")
    assert asked[:2] == ["all", "2"] and all(p.is_file() for p in written)
    with pytest.raises(InputError):
        write_wave_tabbook(tmp_path / "all", "all")


def test_page_contents_list_questions_by_their_wording(tb):
    """The page's contents name each question as the codebook words it (readers see no internal id)."""
    import re

    from cnfs.tabbook import html_page

    page = html_page(tb, title="Essai", notes=[], synthetic=False)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav)
    assert [q for q, _ in links] == list(dict.fromkeys(tb["question"]))
    assert all(text == html.escape(CB[q].label) for q, text in links)
    assert all(text != q for q, text in links)


# -- fast presentation paths against the straightforward pandas ones -------------------------------
def _reference_sheet_table(tab: pd.DataFrame, banner: str) -> pd.DataFrame:
    """The spreadsheet table built one column at a time with pandas filters (the former implementation)."""
    from cnfs.tabbook import SUPPRESSED_MARK, TOTAL_ID, column_headers

    part = tab[tab["banner"].isin([TOTAL_ID, banner])]
    weighted = (part["weighting"] != "none").any()
    keys = ["question", "question_label", "option", "label", "stat"]
    out = part[keys].drop_duplicates().reset_index(drop=True)
    out["stat"] = out["stat"].map({"percent": "Pourcentage", "mean": "Moyenne"})
    for (b, c), head in column_headers(part).items():
        sub = part[(part["banner"] == b) & (part["column"] == c)].reset_index(drop=True)
        hidden = sub["suppressed"] if "suppressed" in sub else pd.Series(False, index=sub.index)
        out[f"{head} : valeur"] = sub["value"].astype(float).round(4).astype(object).where(~hidden, SUPPRESSED_MARK)
        out[f"{head} : base (n)"] = (
            sub["base_n"].astype(object).where(sub["base_n"].notna() | (sub["base_weighted"] == 0), SUPPRESSED_MARK)
        )
        if weighted:
            out[f"{head} : base effective"] = sub["base_effective"].astype(float).round(1)
        if b != TOTAL_ID:
            out[f"{head} : lettres"] = sub["sig"]
    names = {"question": "Question (code)", "question_label": "Question", "option": "Réponse (code)"}
    return out.rename(columns={**names, "label": "Réponse", "stat": "Statistique"})


def _books_to_show(frame: pd.DataFrame, tb: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tab books with every presentation case: plain, disclosed (withheld and fragile cells), weighted."""
    from cnfs.tabbook import disclose

    weighted = tabbook(frame.assign(w=np.linspace(0.5, 2.0, len(frame))), CB, BANNERS, weights="w")
    return {
        "plain": tb,
        "disclosed": disclose(tb, min_count=10, codebook=CB),
        "weighted": disclose(weighted, min_count=5, codebook=CB),
    }


def test_sheet_table_equals_the_column_by_column_reference(frame, tb):
    """The spreadsheet tables (built from grouped positions) are the former column-by-column pandas tables."""
    from cnfs.tabbook import sheet_table

    for name, book in _books_to_show(frame, tb).items():
        assert book.get("suppressed", pd.Series(False)).any() == (name != "plain")
        for banner in ("total", "grp", "wave"):
            pd.testing.assert_frame_equal(sheet_table(book, banner), _reference_sheet_table(book, banner))


def test_page_tables_are_pandas_to_html_of_the_display_table(frame, tb):
    """Each table of the tab book page is, byte for byte, pandas' ``to_html`` of the question's French table."""
    from cnfs.tabbook import _as_lists, _question_rows, _shown, display_table, html_page, table_html

    for book in _books_to_show(frame, tb).values():
        cols, page = _as_lists(book), html_page(book, title="Essai", notes=["n"], synthetic=True)
        for rows in _question_rows(book):
            part = book.iloc[rows]
            expected = display_table(part).rename_axis(None).to_html(border=0, escape=True)
            assert table_html(_shown(rows, cols)) == expected
            assert expected in page
    firsts = [int(np.flatnonzero(tb.question.to_numpy() == q)[0]) for q in dict.fromkeys(tb.question)]
    assert [rows[0] for rows in _question_rows(tb)] == firsts  # questions in the book's order


def test_page_table_escapes_and_spans_as_pandas_does():
    """Markup characters, doubled spaces, tabs and adjacent equal banner labels come out as in pandas' ``to_html``."""
    from cnfs.tabbook import ShownTable, table_html

    shown = ShownTable(
        columns=[("Ensemble", "Ensemble"), ("A & <b>", "x  (A)"), ("A & <b>", "y\t(B)"), ("C", "z"), ("A & <b>", "w")],
        rows=["Oui > non", " espace ", "Base (n)"],
        body=[["1 %", "<i>", "a  b", "", "–"], ["2", "3", "4", "5", "6"], ["7", "8", "9", "10", "11"]],
    )
    assert table_html(shown) == shown.frame().rename_axis(None).to_html(border=0, escape=True)


def test_display_table_is_the_per_question_table(tb):
    """The explorer's French table: options then bases as rows, (banner, header with its letter) as columns."""
    from cnfs.tabbook import display_table

    shown = display_table(tb[tb.question == "yn"])
    assert list(shown.index) == ["Oui", "Non", "Base (n)"] and shown.index.name == "Réponse"
    assert list(shown.columns[:3]) == [("Ensemble", "Ensemble"), ("Groupe", "Groupe A (A)"), ("Groupe", "Groupe B (B)")]
    assert shown.loc["Base (n)", ("Groupe", "Groupe A (A)")] == "40"


def test_linked_books_are_computed_once_per_memo_and_equal_the_computed_ones(frame, tmp_path, monkeypatch):
    """In a render (memo on), the folders' tab book steps share one computation of the linked books, keyed on the
    data, arguments and the banner file's content; the memo's books equal the books computed without it."""
    import cnfs.tabbook as tbm
    from cnfs.memo import MEMO_ENV

    banners = tmp_path / "banners.yaml"
    banners.write_text(
        "banners:\n  - {id: grp, label: Groupe, question: grp}\n  - {id: wave, label: Vague, derived: wave}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(tbm, "BANNERS_FILE", banners)
    monkeypatch.delenv(MEMO_ENV, raising=False)
    direct = {w: tbm.linked_tabbook(frame, CB, w, "none", 5) for w in ("all", "1", "2")}
    calls = []
    real = tbm._books
    monkeypatch.setattr(tbm, "_books", lambda *a: calls.append(a[2:]) or real(*a))
    monkeypatch.setenv(MEMO_ENV, str(tmp_path / "memo"))
    for w in ("all", "1", "2"):
        pd.testing.assert_frame_equal(tbm.linked_tabbook(frame, CB, w, "none", 5), direct[w])
        assert tbm.linked_tabbook(frame, CB, w, "none", 5).attrs == direct[w].attrs
    assert len(calls) == 1
    tbm.linked_tabbook(frame, CB, "1", "none", 10)  # another threshold: another entry
    banners.write_text("banners:\n  - {id: grp, label: Groupe, question: grp}\n", encoding="utf-8")
    changed = tbm.linked_tabbook(frame, CB, "all", "none", 5)  # another banner file: recomputed
    assert len(calls) == 3 and "wave" not in set(changed["banner"])


def test_tails_are_scipys_to_the_bit():
    """The p-values' normal and t tails give scipy.stats' own values exactly (same special functions), NaN and
    infinities included, so no letter can move."""
    from cnfs.tabbook import normal_sf, t_sf

    x = np.array([-np.inf, -40.0, -1.96, -0.0, 0.0, 1e-300, 0.5, 1.959963984540054, 8.3, 38.5, np.inf, np.nan])
    np.testing.assert_array_equal(normal_sf(x), stats.norm.sf(x))
    assert all(normal_sf(v) == stats.norm.sf(v) or np.isnan(v) for v in x.tolist())
    for df in (0.5, 1.0, 3.7, 29.0, 1e6, np.inf, 0.0, -1.0, np.nan):
        np.testing.assert_array_equal(t_sf(x, df), stats.t.sf(x, df))
