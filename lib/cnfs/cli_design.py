"""Command line for weights and design-based estimates: ``cnfs weights`` and ``cnfs estimate``.

Output goes to stdout as CSV (full float precision) so that scripts and checks can read it; notes and
the synthetic-data warning go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

USER_ERROR = 2


def _user_errors(command: str):
    """Turn bad input (data, wave, population file, question id) into one French line on stderr, exit status 2."""

    def wrap(func):
        def run(args: argparse.Namespace) -> int:
            try:
                return func(args)
            except (ValueError, KeyError, FileNotFoundError) as e:
                text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
                print(f"cnfs {command} : {text}", file=sys.stderr)
                return USER_ERROR

        return run

    return wrap


def _load(args: argparse.Namespace):
    from cnfs.loader import load_survey
    from cnfs.population import load_population

    survey = load_survey(args.data, wave=args.wave)
    population = load_population(args.population, codebook=survey.codebook)
    if survey.is_synthetic:
        print("ATTENTION : données synthétiques, les chiffres calculés ne sont pas des résultats.", file=sys.stderr)
    return survey, population


@_user_errors("weights")
def _weights(args: argparse.Namespace) -> int:
    from cnfs.atomic import write_text as atomic_write_text
    from cnfs.population import margin_totals
    from cnfs.weights import rake

    survey, population = _load(args)
    df, codebook = survey.data, survey.codebook
    margins = margin_totals(population, args.wave, codebook)
    if args.margins:
        sys.stdout.write(margins[["variable", "code", "total"]].to_csv(index=False, lineterminator="\n"))
        return 0
    result = rake(df, codebook, margins)
    if not result.converged:
        print(
            f"cnfs weights : le calage n'a pas convergé en {result.iterations} itérations "
            f"(écart maximal aux marges {result.max_error:.2e}) ; rien n'est écrit.",
            file=sys.stderr,
        )
        return 1
    out = df[[codebook.id_column]].assign(weight=result.weights.to_numpy())
    atomic_write_text(Path(args.output), out.to_csv(index=False, lineterminator="\n"))
    s = result.summary()
    print(
        f"{args.output} : {s['n']} poids (calage sur {', '.join(result.variables)}, vague {args.wave}), "
        f"{s['iterations']} itérations, somme {s['sum']:.1f}, min {s['min']:.3f}, max {s['max']:.3f}, "
        f"CV {s['cv']:.3f}, effet de plan de Kish {s['kish_deff']:.3f}, n effectif {s['effective_n']:.1f}",
        file=sys.stderr,
    )
    return 0


@_user_errors("estimate")
def _estimate(args: argparse.Namespace) -> int:
    from cnfs.design import estimate, make_design

    survey, population = _load(args)
    df, codebook = survey.data, survey.codebook
    if args.question not in codebook:
        raise KeyError(f"{args.question!r} n'est pas une question du codebook")
    if codebook[args.question].type == "text":
        raise ValueError(f"{args.question!r} est une question à réponse libre : pas d'estimation")
    design = make_design(df, codebook, weighting=args.weighting, fpc=args.fpc, population=population, wave=args.wave)
    table = estimate(df, codebook, args.question, design, level=args.level)
    sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``weights`` and ``estimate`` subcommands to the ``cnfs`` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", default=None, help="fichier de données (par défaut : le jumeau synthétique)")
    common.add_argument("--wave", default="all", help="vague (1, 2, … ou all ; défaut : all)")
    common.add_argument("--population", default=None, help="fichier de population (défaut : data/population.yaml)")
    p = sub.add_parser("weights", parents=[common], help="poids de calage (raking) sur les marges de la population")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("-o", "--output", help="écrire respondent_id,weight dans ce fichier CSV")
    what.add_argument(
        "--margins", action="store_true", help="afficher les totaux de population utilisés (variable,code,total)"
    )
    p.set_defaults(func=_weights)
    p = sub.add_parser(
        "estimate", parents=[common], help="estimation selon le plan de sondage (CSV sur la sortie standard)"
    )
    p.add_argument("question", help="identifiant de question du codebook")
    p.add_argument("--weighting", choices=["none", "raking"], default="none", help="pondération (défaut : none)")
    p.add_argument("--fpc", action="store_true", help="correction de population finie (effectif de la vague)")
    p.add_argument("--level", type=float, default=0.95, help="niveau des intervalles (défaut : 0,95)")
    p.set_defaults(func=_estimate)
