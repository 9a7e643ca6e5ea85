"""Tables of the qualitative study, computed from the loaded data (never from published numbers)."""

from __future__ import annotations

import pandas as pd

from cnfs.qualitative.load import QualitativeData

UNKNOWN_TERRITORY = "Non précisé"


def _label(data: QualitativeData, vocabulary: str, key: object) -> object:
    """French label of a vocabulary identifier (NA stays NA)."""
    if key is None or (not isinstance(key, tuple) and pd.isna(key)):
        return pd.NA
    return data.vocabulary[vocabulary].get(str(key), str(key))


def _or_unknown(value: object) -> object:
    """Show NA as "Non précisé" in display tables."""
    return UNKNOWN_TERRITORY if value is pd.NA else value


def _code_labels(data: QualitativeData) -> dict[str, str]:
    return dict(zip(data.themes["code"], data.themes["label"]))


def coordinator_funding_share(funders: tuple[str, ...], funding_split: object, coordinator: object) -> float:
    """Share (%) of the advisors' posts funded by the coordinator, from the contract's funders and split."""
    if coordinator not in funders:
        return 0.0
    if funding_split == "equal":
        return 100.0 / len(funders)
    if funding_split in ("full", "own") and len(funders) == 1:
        return 100.0
    return float("nan")


def coordinators(data: QualitativeData) -> pd.DataFrame:
    """One row per territory: who coordinates, on whose initiative, and whether already engaged."""
    t = data.territories
    return pd.DataFrame(
        {
            "territory": t["territory"],
            "coordinator": t["coordinator"],
            "coordinator_label": [_label(data, "coordinator_kinds", k) for k in t["coordinator"]],
            "initiator_label": [_label(data, "coordinator_kinds", k) for k in t["initiator"]],
            "has_coordinator": t["coordinator"] != "none",
            "already_engaged": (t["coordinator"] != "none") & t["already_engaged"].astype(bool),
            "origin": t["coordination_origin"],
        }
    )


def coordination_contracts(data: QualitativeData) -> pd.DataFrame:
    """The coordination "contract" of each territory with a coordinator (French column labels)."""
    t = data.territories[data.territories["coordinator"] != "none"]
    funders = [", ".join(_label(data, "actor_kinds", f) for f in fs) for fs in t["funders"]]
    share = [coordinator_funding_share(f, s, c) for f, s, c in zip(t["funders"], t["funding_split"], t["coordinator"])]
    return pd.DataFrame(
        {
            "Territoire": t["territory"],
            "Coordinateur": [_label(data, "coordinator_kinds", k) for k in t["coordinator"]],
            "À l'initiative de": [_label(data, "coordinator_kinds", k) for k in t["initiator"]],
            "Recrute les CnFS": [_label(data, "actor_kinds", k) for k in t["recruits"]],
            "Financent les postes": funders,
            "Répartition du financement": [_label(data, "funding_splits", k) for k in t["funding_split"]],
            "Part financée par le coordinateur (%)": share,
            "Lien hiérarchique": t["hierarchical_link"],
            "Lien fonctionnel": t["functional_link"],
            "Résidence administrative": t["administrative_residence"],
            "Poste dédié à la coordination": t["coordination_post"].fillna("Non"),
        }
    ).reset_index(drop=True)


def territory_overview(data: QualitativeData) -> pd.DataFrame:
    """The comparison matrix of the five territories, one row each (French column labels)."""
    t = data.territories
    approp = appropriation_matrix(data)
    types = (
        approp[approp["present"]]
        .groupby("territory", sort=False)["label"]
        .agg(", ".join)
        .reindex(t["territory"])
        .fillna("—")
    )
    recruiters = recruiting_structures(data).set_index("territory")["Structures recruteuses"]
    tools = [", ".join(_label(data, "diagnostic_tools", x) for x in tt) or "—" for tt in t["diagnostic_tools"]]
    return pd.DataFrame(
        {
            "Territoire": t["territory"],
            "Intitulé": t["headline"],
            "Coordinateur": [_label(data, "coordinator_kinds", k) for k in t["coordinator"]],
            "À l'initiative de": [_label(data, "coordinator_kinds", k) for k in t["initiator"]],
            "Coordinateur déjà engagé": ["Oui" if e else "Non" for e in coordinators(data)["already_engaged"]],
            "Rôle de la Préfecture": t["prefecture_role"],
            "Clés de répartition": t["allocation_keys"],
            "Outils de diagnostic": tools,
            "Structures recruteuses": recruiters.reindex(t["territory"]).fillna("—").to_numpy(),
            "Types d'appropriation": types.to_numpy(),
        }
    ).reset_index(drop=True)


def territory_features(data: QualitativeData) -> pd.DataFrame:
    """Tidy yes/no features per territory (territory, feature, present) for the at-a-glance chart."""
    c = coordinators(data)
    t = data.territories
    share = [coordinator_funding_share(f, s, k) for f, s, k in zip(t["funders"], t["funding_split"], t["coordinator"])]
    features = {
        "Coordinateur identifié": c["has_coordinator"].to_numpy(),
        "Coordinateur déjà engagé": c["already_engaged"].to_numpy(),
        "Le coordinateur recrute les CnFS": (t["coordinator_recruits"] & c["has_coordinator"]).to_numpy(),
        "Le coordinateur finance des postes": [s > 0 for s in share],
        "Poste dédié à la coordination": t["coordination_post"].notna().to_numpy(),
        "Outil de diagnostic territorial": [len(x) > 0 for x in t["diagnostic_tools"]],
    }
    rows = [
        {"territory": tid, "feature": name, "present": bool(vals[i])}
        for name, vals in features.items()
        for i, tid in enumerate(t["territory"])
    ]
    approp = appropriation_matrix(data)
    rows += [
        {"territory": r.territory, "feature": f"Appropriation : {r.label}", "present": bool(r.present)}
        for r in approp.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["territory", "feature", "present"])


def appropriation_matrix(data: QualitativeData) -> pd.DataFrame:
    """Every territory × appropriation type with ``present`` True when the type is observed there."""
    types = data.themes[data.themes["dimension"] == "appropriation"]
    seen = set(zip(data.appropriation["territory"], data.appropriation["type"]))
    rows = [
        {"territory": tid, "type": code, "label": label, "present": (tid, code) in seen}
        for tid in data.territories["territory"]
        for code, label in zip(types["code"], types["label"])
    ]
    return pd.DataFrame(rows, columns=["territory", "type", "label", "present"])


def appropriation_evidence(data: QualitativeData) -> pd.DataFrame:
    """Appropriation types observed per territory with the article's evidence (French column labels)."""
    labels = _code_labels(data)
    a = data.appropriation
    return pd.DataFrame(
        {
            "Territoire": a["territory"],
            "Type d'appropriation": a["type"].map(labels),
            "Élément de l'article": a["evidence"],
        }
    ).reset_index(drop=True)


def recruiting_structures(data: QualitativeData) -> pd.DataFrame:
    """Kinds of structures recruiting advisors in each territory (coordinators included)."""
    s = data.structures[data.structures["actor_type"].isin(["coordinator_recruiter", "recruiting_structure"])]
    rows = []
    for tid in data.territories["territory"]:
        kinds = dict.fromkeys(s.loc[s["territory"] == tid, "kind"])
        rows.append(
            {
                "territory": tid,
                "Structures recruteuses": ", ".join(_label(data, "actor_kinds", k) for k in kinds) or "—",
            }
        )
    return pd.DataFrame(rows, columns=["territory", "Structures recruteuses"])


def actor_types(data: QualitativeData) -> pd.DataFrame:
    """The types of actors met at the meso level, with their number of structures and territories."""
    s = data.structures
    out = (
        s.groupby("actor_type", sort=False)
        .agg(structures=("structure_id", "size"), territories=("territory", lambda x: ", ".join(dict.fromkeys(x))))
        .reset_index()
    )
    out["label"] = [_label(data, "actor_types", k) for k in out["actor_type"]]
    return out[["actor_type", "label", "structures", "territories"]]


def derived_numbers(data: QualitativeData) -> pd.DataFrame:
    """Numbers computed from the records (funding share, fieldwork sites, cities studied)."""
    t, s = data.territories, data.structures
    rows = []
    for r in t.itertuples(index=False):
        if r.coordinator != "none":
            rows.append(
                {
                    "territory": r.territory,
                    "measure": "coordinator_funding_share",
                    "value": coordinator_funding_share(r.funders, r.funding_split, r.coordinator),
                }
            )
        here = s[(s["territory"] == r.territory) & s["field_site"].astype(bool)]
        if len(here):
            rows.append({"territory": r.territory, "measure": "field_sites", "value": float(len(here))})
        cities = here[here["kind"] == "commune"]
        if len(cities):
            rows.append({"territory": r.territory, "measure": "cities_studied", "value": float(len(cities))})
    out = pd.DataFrame(rows, columns=["territory", "measure", "value"])
    out["origin"] = "calculé"
    out["quote"] = pd.NA
    return out


def territory_numbers(data: QualitativeData) -> pd.DataFrame:
    """All numbers per territory: stated in the article (with quote) and derived from the records."""
    stated = data.territory_numbers.assign(origin="énoncé dans l'article")
    return (
        pd.concat([stated, derived_numbers(data)], ignore_index=True)
        .sort_values(["territory", "origin"], kind="stable")
        .reset_index(drop=True)
    )


def excerpt_codes(excerpts: pd.DataFrame) -> pd.DataFrame:
    """One row per (excerpt, code), territory NA shown as "Non précisé"."""
    long = excerpts[["excerpt_id", "kind", "territory", "codes"]].explode("codes").rename(columns={"codes": "code"})
    long = long.dropna(subset=["code"])
    long["territory"] = long["territory"].fillna(UNKNOWN_TERRITORY)
    return long.reset_index(drop=True)


def code_territory_matrix(data: QualitativeData, excerpts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Number of excerpts per code (rows, French labels) and territory (columns)."""
    ex = data.excerpts if excerpts is None else excerpts
    long = excerpt_codes(ex)
    columns = [*data.territories["territory"], UNKNOWN_TERRITORY]
    matrix = pd.crosstab(long["code"], long["territory"]).reindex(
        index=data.themes["code"], columns=columns, fill_value=0
    )
    matrix.index = [_code_labels(data)[c] for c in matrix.index]
    matrix.index.name = "Thème"
    matrix.columns.name = "Territoire"
    return matrix.astype(int)


def needs_instances(data: QualitativeData) -> pd.DataFrame:
    """The instances of "needs" (codes of the ``needs`` dimension) used in the excerpts, with counts."""
    needs = data.themes[data.themes["dimension"] == "needs"]
    long = excerpt_codes(data.excerpts)
    rows = []
    for code, label in zip(needs["code"], needs["label"]):
        hit = long[long["code"] == code]
        rows.append(
            {
                "code": code,
                "label": label,
                "excerpts": int(hit["excerpt_id"].nunique()),
                "territories": ", ".join(sorted(set(hit["territory"]) - {UNKNOWN_TERRITORY})) or "—",
            }
        )
    return pd.DataFrame(rows, columns=["code", "label", "excerpts", "territories"])


def verbatims_by_theme(data: QualitativeData, excerpts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Interview verbatims grouped by theme, one row per (theme, verbatim), French column labels."""
    ex = data.excerpts if excerpts is None else excerpts
    ex = ex[ex["kind"] == "verbatim"]
    long = ex.explode("codes").rename(columns={"codes": "code"})
    order = {c: i for i, c in enumerate(data.themes["code"])}
    long = long.assign(_order=long["code"].map(order)).sort_values(["_order", "excerpt_id"], kind="stable")
    return pd.DataFrame(
        {
            "Thème": long["code"].map(_code_labels(data)),
            "Extrait": long["excerpt_id"],
            "Territoire": long["territory"].fillna(UNKNOWN_TERRITORY),
            "Locuteur": [_or_unknown(_label(data, "speaker_roles", k)) for k in long["speaker_role"]],
            "Structure": [_or_unknown(_label(data, "actor_kinds", k)) for k in long["structure_kind"]],
            "Verbatim": long["text"],
        }
    ).reset_index(drop=True)
