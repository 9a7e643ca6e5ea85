"""The qualitative study: five territories, coded excerpts, REFI-QDA import, checks against the article."""

from __future__ import annotations

from cnfs.qualitative.analysis import (
    actor_types,
    appropriation_evidence,
    appropriation_matrix,
    code_territory_matrix,
    coordination_contracts,
    coordinators,
    excerpt_codes,
    needs_instances,
    recruiting_structures,
    territory_features,
    territory_numbers,
    territory_overview,
    verbatims_by_theme,
)
from cnfs.qualitative.errors import QualitativeDataError, ReproductionError
from cnfs.qualitative.figures import check_all_reproduced, compare_with_published, computed_figures
from cnfs.qualitative.load import QualitativeData, load_qualitative, load_themes, load_vocabulary
from cnfs.qualitative.outputs import resolve_data_dir
from cnfs.qualitative.plots import plot_coordinators, plot_count_matrix, plot_presence_matrix
from cnfs.qualitative.qdpx import read_qdpx

__all__ = [
    "QualitativeData",
    "QualitativeDataError",
    "ReproductionError",
    "actor_types",
    "appropriation_evidence",
    "appropriation_matrix",
    "check_all_reproduced",
    "code_territory_matrix",
    "compare_with_published",
    "computed_figures",
    "coordination_contracts",
    "coordinators",
    "excerpt_codes",
    "load_qualitative",
    "load_themes",
    "load_vocabulary",
    "needs_instances",
    "plot_coordinators",
    "plot_count_matrix",
    "plot_presence_matrix",
    "read_qdpx",
    "recruiting_structures",
    "resolve_data_dir",
    "territory_features",
    "territory_numbers",
    "territory_overview",
    "verbatims_by_theme",
]
