"""The report layer (cnfs.notebook.Report) on the synthetic twin: each result's tidy data is checked
against counts made here with plain pandas, and what it writes and shows against that data."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from cnfs import paths  # noqa: E402
from cnfs.notebook import Report, output_folder  # noqa: E402

NNBSP = "\u202f"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return Report(wave="1", output_dir=str(tmp_path_factory.mktemp("out")), section=5)


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A threshold high enough that wave-1 tables have cells to withhold."""
    return Report(wave="1", output_dir=str(tmp_path_factory.mktemp("strict")), section=5, min_count=60)


def test_output_folder_follows_the_wave():
    assert output_folder("1") == paths.OUTPUTS / "wave-1"
    assert output_folder("all") == paths.OUTPUTS / "all"
    assert output_folder("2", "raking") == paths.OUTPUTS / "wave-2-pondere"


def test_shares_match_pandas_counts_and_are_ordered_like_the_chart(report):
    res = report.shares("main_place")
    t = res.data
    answers = report.df["main_place"].dropna()
    expected = answers.value_counts()
    got = t.set_index("label")["count"].astype(float)
    assert len(got) == len(expected)
    for lab, c in expected.items():
        assert pd.isna(got[lab]) or got[lab] == c  # equal where shown
    assert (t["n"] == len(answers)).all()
    shown = t["percent"].fillna(-1).tolist()
    # unordered options: decreasing share in the tidy data, hence in the CSV, the table and the chart
    visible = [p for p in shown if p >= 0]
    assert visible == sorted(visible, reverse=True)
    assert list(res.table.index) == t["label"].tolist()


def test_ordered_scale_keeps_codebook_order(report):
    t = report.shares("education").data
    assert t["label"].tolist() == [o.label for o in report.codebook["education"].options]


def test_small_counts_withheld_everywhere_they_are_written(strict):
    res = strict.shares("main_place")
    t = res.data
    counts = strict.df["main_place"].value_counts()
    small = set(counts[(counts > 0) & (counts < 60)].index)
    assert small, "the test needs a small cell"
    withheld = set(t.loc[t["suppressed"], "label"])
    assert small <= withheld
    csv = pd.read_csv(strict.out / "tables" / "05_main_place.csv")
    assert csv.loc[csv["label"].isin(small), ["count", "percent"]].isna().all().all()
    assert (res.table.loc[list(small), "Part"] == "[c]").all()
    html = res._repr_html_()
    assert "Secret statistique" in html
    meta = json.loads((strict.out / "tables" / "meta" / "05_main_place.json").read_text())
    assert meta["title"] == strict.codebook["main_place"].wording and "Secret statistique" in " ".join(meta["notes"])


def test_distribution_has_whole_number_bins_that_add_up(report):
    t = report.distribution("n_sites").data
    assert all("." not in lab for lab in t["label"])
    x = report.df["n_sites"].dropna().astype(int)
    lo, hi = (int(v) for v in t["label"].iloc[0].split("–"))
    assert t["count"].iloc[0] == ((x >= lo) & (x <= hi)).sum()
    assert int(t["count"].fillna(0).sum()) <= len(x) and (t["n"] == len(x)).all()


def test_scores_ranked_by_mean_without_meaningless_columns(tmp_path):
    r = Report(wave="1", output_dir=str(tmp_path), section=2)
    res = r.scores("interest")
    t = res.data
    means = {q.label: r.df[q.id].astype(float).mean() for q in r.codebook.items("interest")}
    assert t["label"].tolist() == sorted(means, key=means.get, reverse=True)
    for lab, m in means.items():
        assert t.set_index("label").loc[lab, "mean"] == pytest.approx(m)
    assert "Rang" not in res.table.columns and "Rang écart type" not in res.table.columns
    single = r.scores("age", chart=False)
    assert "Top-box" not in single.table.columns  # no top-box for a number


def test_contrast_shows_words_and_keeps_codes_in_csv(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path), section=5)
    res = r.contrast("main_place", by="site_mode")
    assert res.data["test"].iloc[0] in {"chi2", "fisher"}  # codes kept in the data
    shown = res.table
    assert not shown["Test"].isin(["chi2", "fisher", "welch_t"]).any()
    csv = pd.read_csv(tmp_path / "tables" / "05_main_place_selon_site_mode_test.csv")
    assert csv["test"].iloc[0] == res.data["test"].iloc[0]
    html = res._repr_html_()
    assert "cramers_v" not in html and "welch_t" not in html
    assert html.count("Base") <= 1  # the chart states the base; the caption is not repeated under it


def test_header_states_four_facts_and_no_machine_path(report):
    h = report.header()
    html = h._repr_mimebundle_()["text/html"]
    for fact in ("Vague", "Données", "Répondants", "Date", "Détails techniques"):
        assert fact in html
    assert str(paths.ROOT) not in html and str(paths.ROOT) not in repr(h)
    facts = h._repr_mimebundle_()["application/vnd.cnfs.header+json"]  # what the HTML report's header shows
    assert facts["Répondants"] == str(len(report.df)) and facts["Vague"] == "1"


def test_chart_written_once_and_embedded_as_is(report):
    res = report.shares("main_place")
    assert res.png == (report.out / "figures" / "05_main_place.png").read_bytes()


def test_contrast_withholds_a_small_group_size_everywhere(tmp_path):
    # group sizes counted here with pandas: respondents answering main_place, by number of sites
    probe = Report(wave="1", output_dir=str(tmp_path / "probe"), section=5)
    from cnfs.subgroups import site_mode

    sizes = probe.df["main_place"].notna().groupby(site_mode(probe.df)).sum()
    small, large = int(sizes.min()), int(sizes.max())
    assert 0 < small < large, "the test needs two groups of different sizes"
    r = Report(wave="1", output_dir=str(tmp_path / "out"), section=5, min_count=small + 1)
    res = r.contrast("main_place", by="site_mode")
    row = res.data.iloc[0]
    assert str(small) not in row["n_by"].split(" / ") and "[c]" in row["n_by"] and str(large) in row["n_by"]
    assert pd.isna(row["n"])  # the total would give the small group back: total − large = small
    csv = pd.read_csv(tmp_path / "out" / "tables" / "05_main_place_selon_site_mode_test.csv", dtype=str)
    shown = {*csv["n_by"].str.split(" / ").explode(), *csv["n"].dropna()}
    assert str(small) not in shown and str(small + large) not in shown
    cells = {*res.table["n"].str.replace(NNBSP, " ").str.split(" / ").explode()}
    assert str(small) not in cells and "[c]" in cells
    assert "Secret statistique" in " ".join(
        json.loads((tmp_path / "out" / "tables" / "meta" / "05_main_place_selon_site_mode_test.json").read_text())[
            "notes"
        ]
    )


def test_response_counts_hide_dates_of_a_small_wave(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path), section=1)
    per_wave = r.df[r.codebook.wave_column].value_counts()
    r_strict = Report(wave="all", output_dir=str(tmp_path / "strict"), section=1, min_count=int(per_wave.min()) + 1)
    res = r_strict.response_counts()
    small = res.data["n"] < r_strict.policy.min_count
    assert small.any()
    assert res.data.loc[small, ["premiere_reponse", "derniere_reponse"]].isna().all().all()
    assert (res.table.loc[res.data.loc[small, "vague"].astype(str), "Première réponse"] == "[c]").all()
    assert res.data.loc[~small, "premiere_reponse"].notna().all()


def test_wave_comparison_gives_each_effect_its_interval(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path), section=1)
    res = r.wave_differences(top=5)
    shown = res.table[f"IC\u00a095{NNBSP}% de l'effet"]
    for (_, row), text in zip(res.data.iterrows(), shown):
        lo, hi = row["effect_ci_low"], row["effect_ci_high"]
        assert lo <= hi
        expected = f"[{lo:.2f}\u00a0;\u00a0{hi:.2f}]".replace(".", ",").replace("-", "\u2212")
        assert text == expected
    r.wave_homogeneity()
    csv = pd.read_csv(tmp_path / "tables" / "01_homogeneite_vagues.csv")
    assert csv[["effect_ci_low", "effect_ci_high"]].notna().all().all()


def test_contrast_withholds_the_results_and_the_total_of_a_small_group(tmp_path):
    probe = Report(wave="1", output_dir=str(tmp_path / "probe"), section=5)
    from cnfs.subgroups import site_mode

    sizes = probe.df["main_place"].notna().groupby(site_mode(probe.df)).sum()
    small, large = int(sizes.min()), int(sizes.max())
    r = Report(wave="1", output_dir=str(tmp_path / "out"), section=5, min_count=small + 1)
    res = r.contrast("main_place", by="site_mode")
    row = res.data.iloc[0]
    for col in ("statistic", "p_value", "p_adjusted", "effect_size", "effect_ci_low", "effect_ci_high"):
        assert pd.isna(row[col]), col
    csv = pd.read_csv(tmp_path / "out" / "tables" / "05_main_place_selon_site_mode_test.csv")
    assert csv[["p_value", "effect_size", "statistic"]].isna().all().all()
    assert (res.table[["p", "Taille d'effet", "Ampleur"]] == "[c]").all().all()
    # the caption's n is not the sum of the shown groups (that would be the large group's n, and with the
    # total of the unsplit table it gives the small one back)
    assert f"n = {large}" not in res.caption.replace(NNBSP, "") and "[c]" in res.caption
    meta = json.loads((tmp_path / "out" / "tables" / "meta" / "05_main_place_selon_site_mode.json").read_text())
    assert meta["caption"] == res.caption


def test_wave_equivalence_withholds_a_small_wave(tmp_path):
    from cnfs.equivalence import wave_equivalence

    r = Report(wave="all", output_dir=str(tmp_path), section=1)
    qids = [q.id for q in r.codebook.questions.values() if q.type != "text"]
    raw = wave_equivalence(r.df, r.codebook, qids)
    smallest = raw["n_by"].str.split(" / ").explode().astype(int)
    k = int(smallest[smallest > 0].min()) + 1
    strict = Report(wave="all", output_dir=str(tmp_path / "strict"), section=1, min_count=k)
    res = strict.wave_equivalence()
    hidden = raw["n_by"].str.split(" / ").map(lambda parts: any(0 < int(p) < k for p in parts))
    assert hidden.any() and (~hidden).any()
    t = res.data
    assert t.loc[hidden, "n_by"].str.contains(r"\[c\]").all()
    assert t.loc[hidden, ["difference", "ci_low", "ci_high", "p_value"]].isna().all().all()
    assert not t.loc[hidden, "n_by"].str.contains(rf"(?<!\d){k - 1}(?!\d)").any()
    pd.testing.assert_series_equal(t.loc[~hidden, "difference"], raw.loc[~hidden, "difference"])
    csv = pd.read_csv(tmp_path / "strict" / "tables" / "01_equivalence_vagues.csv")
    assert csv.loc[hidden.to_numpy(), "p_value"].isna().all()
    assert any("Secret statistique" in n for n in res.notes)


def test_equivalence_summary_reads_in_french(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path), section=1)
    res = r.wave_equivalence()
    shown = res.table
    assert shown.index.name == "Verdict" and list(shown.columns) == ["Questions", "Part"]
    for text in shown["Part"]:
        assert "." not in text and text.endswith(f"{NNBSP}%")
    per_question = res.data.drop_duplicates("question")["question_equivalent"]
    assert int(shown.loc["équivalence démontrée", "Questions"]) == int((per_question == True).sum())  # noqa: E712


def test_reproduction_summary_has_french_headers(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path))
    res = r.reproduction()
    assert "Reproduits" in res.summary.columns and not any("_" in c for c in res.summary.columns)
    csv = pd.read_csv(tmp_path / "tables" / "reproduction_par_section.csv")
    assert "non_calculables" in csv.columns  # the CSV keeps the codes


def test_image_text_alternative_has_no_doubled_punctuation(report):
    res = report.shares("main_place")  # its title is a question, ending with "?"
    assert res.title.rstrip().endswith("?")
    html = res._repr_html_()
    assert "?." not in html and f'alt="{res.title.rstrip()} ' in html.replace("&#x27;", "'")


def test_test_tables_do_not_repeat_the_question_as_its_item(tmp_path):
    r = Report(wave="all", output_dir=str(tmp_path), section=1)
    shown = r.wave_differences(top=10).table
    assert not (shown["Modalité / item"] == shown.index.to_series()).any()
    assert shown["Modalité / item"].ne("").any()  # options of multi-select questions are still named


def test_per_wave_and_pooled_tables_never_withhold_a_row_in_one_table_only(tmp_path):
    probe = Report(wave="all", output_dir=str(tmp_path / "probe"), section=5)
    w = probe.df[probe.codebook.wave_column].astype(str)
    counts = probe.df.groupby(w)["main_place"].value_counts().unstack(0).fillna(0).astype(int)
    # an option rarer in wave 1 than in wave 2: a threshold just above its wave-1 count hides it in wave 1
    # only, and wave 1's count would be the pooled count minus wave 2's
    candidates = counts[(counts["1"] > 0) & (counts["1"] < counts["2"])]
    option = candidates["1"].idxmin()
    k = int(counts.loc[option, "1"]) + 1
    reports = {v: Report(wave=v, output_dir=str(tmp_path / v), section=5, min_count=k) for v in ("1", "2", "all")}
    tables = {v: r.shares("main_place").data.set_index("label") for v, r in reports.items()}
    label = option  # the typed data holds the options' labels
    hidden = {v: set(t.index[t["suppressed"]]) for v, t in tables.items()}
    assert label in hidden["1"] and label in hidden["2"]  # wave 2 withholds it too: pooled − wave 2 is no answer
    for row in set().union(*hidden.values()):  # one withheld cell of a row would be pooled = wave 1 + wave 2 solved
        assert sum(row in h for h in hidden.values()) >= 2, row
    for v, t in tables.items():
        shown = t[~t["suppressed"]]
        expected = counts["1"] + counts["2"] if v == "all" else counts[v]
        assert all(shown.loc[lab, "count"] == expected[lab] for lab in shown.index), v  # no number changes


def test_representativeness_names_the_population_file_in_use(tmp_path, monkeypatch):
    import shutil

    own = tmp_path / "ma_population.yaml"
    shutil.copy(paths.population_file(), own)
    monkeypatch.setenv("CNFS_POPULATION", str(own))
    res = Report(wave="all", output_dir=str(tmp_path / "out"), section=1).representativeness()
    assert "ma_population.yaml" in res.caption and "data/population.yaml" not in res.caption


def test_the_waves_linked_tables_compare_with_are_split_once_per_report(tmp_path):
    """The other waves' data and the pooled data, split by hand; asked again, the same frames (not split anew)."""
    from cnfs.loader import load_survey

    report = Report("1", output_dir=str(tmp_path))
    family = report._wave_family()
    full = load_survey(None, "all").data
    assert sorted(family) == ["2", "all"]
    pd.testing.assert_frame_equal(family["all"], full)
    pd.testing.assert_frame_equal(family["2"], full[full[report.codebook.wave_column].astype(str) == "2"])
    family.clear()  # the caller's copy of the mapping
    again = report._wave_family()
    assert sorted(again) == ["2", "all"] and again["2"] is report._wave_family()["2"]


def test_a_test_table_shows_no_group_size_pooled_minus_a_wave_would_give_back(tmp_path):
    # group sizes counted here with pandas, per wave: respondents asked training_path, by civil category
    probe = Report(wave="all", output_dir=str(tmp_path / "probe"), section=4)
    w = probe.df[probe.codebook.wave_column].astype(str)
    sizes = probe.df.groupby([w, "civil_category"], observed=True)["training_path"].size().unstack(0)
    group = sizes["1"].idxmin()
    k = int(sizes.loc[group, "1"]) + 1  # withholds that group's size in wave 1 only
    assert sizes.loc[group, "2"] >= k and sizes.loc[group, "1"] + sizes.loc[group, "2"] >= k, "needs a wave-1-only case"
    rows = {}
    for v in ("1", "2", "all"):
        res = Report(wave=v, output_dir=str(tmp_path / v), section=4, min_count=k).contrast(
            "training_path", by="civil_category"
        )
        rows[v] = res.data.iloc[0]
    levels = rows["all"]["groups"].split(" vs ")
    shown = {v: dict(zip(levels, r["n_by"].split(" / "))) for v, r in rows.items()}
    assert shown["1"][group] == "[c]"
    # wave 2 withholds it too: otherwise pooled − wave 2 = wave 1's small group
    assert shown["2"][group] == "[c]" and pd.isna(rows["2"]["n"])
    for lv in levels:  # pooled = wave 1 + wave 2: never exactly one of the three withheld
        assert sum(shown[v][lv] == "[c]" for v in shown) != 1, lv
    for v, by_level in shown.items():  # no size changes: the shown ones are the counts
        expected = sizes["1"] + sizes["2"] if v == "all" else sizes[v]
        assert all(int(n) == expected[lv] for lv, n in by_level.items() if n != "[c]"), v


@pytest.fixture(scope="module")
def one_wave(tmp_path_factory):
    """The report of wave 2 from an export that holds wave 2 alone, and that export's rows."""
    tmp = tmp_path_factory.mktemp("one_wave")
    twin = pd.read_csv(paths.SYNTHETIC_SURVEY, dtype=str, keep_default_na=False)
    rows = twin[twin["wave"] == "2"]
    rows.to_csv(tmp / "vague2.csv", index=False)
    return Report(wave="2", output_dir=str(tmp / "out"), section=1, data_path=str(tmp / "vague2.csv")), rows


def test_representativeness_of_a_one_wave_export_compares_that_wave_only(one_wave):
    """No wave-1 panel (it has no rows; it used to fail on an empty sample), and the pooled sample is that
    wave's, so its counts are the wave's, row for row."""
    report, rows = one_wave
    t = report.representativeness().data
    assert list(dict.fromkeys(t["wave"])) == ["2", "all"]
    wave2, pooled = t[t["wave"] == "2"].reset_index(drop=True), t[t["wave"] == "all"].reset_index(drop=True)
    assert wave2["sample_n"].tolist() == pooled["sample_n"].tolist()
    assert wave2["n"].max() <= len(rows)


def test_wave_equivalence_of_a_one_wave_export_says_it_is_not_computable(one_wave):
    """Equivalence compares two waves: with one, a French sentence instead of an error."""
    report, _ = one_wave
    res = report.wave_equivalence()
    assert res.data.empty
    assert res.caption == "Non calculable : l'équivalence compare deux vagues, les données en contiennent 1 (2)."
