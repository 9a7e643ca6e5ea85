"""Command line: ``cnfs synth``, ``cnfs validate FILE``, ``cnfs figures``, ``cnfs render`` (and ``cnfs weights``, ``cnfs estimate``)."""
from __future__ import annotations

import argparse
import sys


def _synth(args: argparse.Namespace) -> int:
    from cnfs.synth import write_synthetic

    path = write_synthetic(args.out, args.seed)
    print(f"Données synthétiques écrites : {path} (+ .parquet, .provenance.json)")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from cnfs.loader import SurveyValidationError, load_survey

    try:
        s = load_survey(args.path, use_cache=False)
    except SurveyValidationError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{s.path}: conforme au codebook ({len(s.data)} répondants, vagues {sorted(s.data['wave'].unique())})")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from cnfs.compare import failures, full_reproduction_table, population_context, summary_by_section
    from cnfs.loader import load_survey

    s = load_survey(args.path, wave=args.wave)
    table = full_reproduction_table(s.data, s.codebook, context=population_context())
    if s.is_synthetic:
        print("ATTENTION : données synthétiques, les chiffres calculés ne sont pas des résultats.")
    print(summary_by_section(table).to_string())
    bad = failures(table)
    if len(bad):
        print(bad[["id", "published", "computed", "criterion"]].to_string(index=False))
    return 1 if len(bad) else 0


def _render(argv: list[str]) -> int:
    from cnfs.render import main as render_main

    return int(render_main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["render"]:
        return _render(argv[1:])
    parser = argparse.ArgumentParser(prog="cnfs", description="Carnets de recherche CnFS : données, vérifications, rendu.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("synth", help="générer le jumeau synthétique (déterministe pour une graine)")
    p.add_argument("--seed", type=int, default=None, help="graine (par défaut : celle du fichier d'hypothèses)")
    p.add_argument("--out", default=None, help="dossier de sortie (par défaut : data/synthetic)")
    p.set_defaults(func=_synth)
    p = sub.add_parser("validate", help="valider un export d'enquête contre le codebook")
    p.add_argument("path")
    p.set_defaults(func=_validate)
    p = sub.add_parser("figures", help="recalculer chaque chiffre publié et dire s'il est reproduit")
    p.add_argument("--path", default=None)
    p.add_argument("--wave", default="all")
    p.set_defaults(func=_figures)
    from cnfs.cli_design import register as register_design

    register_design(sub)
    sub.add_parser("render", help="exécuter et rendre les carnets en HTML (voir cnfs render --help)")
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
