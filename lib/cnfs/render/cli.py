"""Command line of the renderer: `cnfs render` / `python -m cnfs.render`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

DESCRIPTION = (
    "Exécute chaque notebook numéroté pour chaque vague (papermill) et exporte des rapports HTML "
    "dans outputs/, en ne ré-exécutant que ce dont les entrées ont changé."
)


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the render options to a parser (`cnfs render` and `python -m cnfs.render`)."""
    parser.add_argument(
        "-n",
        "--notebooks",
        nargs="+",
        metavar="NB",
        help="sous-ensemble de notebooks : numéros (3, 03) ou noms (03_usages) ; défaut : tous",
    )
    parser.add_argument(
        "-w",
        "--waves",
        nargs="+",
        metavar="VAGUE",
        help="sous-ensemble de vagues (1, 2, all) ; défaut : toutes celles des données, plus all",
    )
    parser.add_argument(
        "--data", type=Path, metavar="FICHIER", help="fichier de données (export réel) ; défaut : le jumeau synthétique"
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="exécutions en parallèle (défaut : une par cœur utilisable, quota du conteneur compris, une de plus pour les dernières)",
    )
    parser.add_argument("-f", "--force", action="store_true", help="ré-exécuter même ce qui est à jour")
    parser.add_argument(
        "-o", "--output-dir", type=Path, metavar="DOSSIER", help="dossier des sorties (défaut : outputs/)"
    )
    parser.add_argument(
        "--notebooks-dir", type=Path, metavar="DOSSIER", help="dossier des notebooks (défaut : notebooks/)"
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDES", help="durée maximale d'une cellule")
    parser.add_argument(
        "--min-count",
        type=int,
        metavar="N",
        help="secret statistique : effectifs de 1 à N-1 masqués (défaut : celui du codebook, 10)",
    )
    parser.add_argument(
        "--weighting",
        choices=["none", "raking"],
        default="none",
        help="raking : rapports pondérés (calage sur le fichier de population) dans outputs/<vague>-pondere/",
    )
    parser.add_argument(
        "--population",
        type=Path,
        metavar="FICHIER",
        help="fichier de population (marges et effectifs, même schéma que data/population.yaml) "
        "pour la pondération, la correction de population finie et la représentativité ; "
        "défaut : data/population.yaml",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="afficher ce qui serait exécuté, et pourquoi, sans rien exécuter"
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="toujours afficher la barre de progression",
    )
    progress.add_argument(
        "--no-progress", dest="progress", action="store_false", help="ne pas afficher la barre de progression"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute a render from parsed arguments; returns the process exit code."""
    from cnfs.render.runner import EXIT_USAGE, RenderOptions, render

    if args.min_count is not None and args.min_count < 1:
        print("--min-count doit être ≥ 1", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        print("--jobs doit être ≥ 1", file=sys.stderr)
        return EXIT_USAGE
    options = RenderOptions(
        notebooks=args.notebooks,
        waves=args.waves,
        data=args.data,
        jobs=args.jobs,
        force=args.force,
        output_dir=args.output_dir,
        notebooks_dir=args.notebooks_dir,
        timeout=args.timeout,
        dry_run=args.dry_run,
        progress=args.progress,
        min_count=args.min_count,
        weighting=args.weighting,
        population=args.population,
    )
    return guarded(lambda: render(options).exit_code)


def guarded(call: Callable[[], int]) -> int:
    """Run a render and turn what stops it before its summary into a French message and an exit status."""
    from cnfs.render.runner import EXIT_BUSY, EXIT_IO, EXIT_USAGE, RenderBusy, exit_status
    from cnfs.render.summary import interrupted_message

    try:
        return call()
    except RenderBusy as exc:
        print(f"cnfs render : {exc} ; réessayez quand il sera terminé.", file=sys.stderr)
        return EXIT_BUSY
    except KeyboardInterrupt as exc:  # stopped before any execution started
        print(interrupted_message(exit_status(exc)), file=sys.stderr)
        return exit_status(exc)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"cnfs render : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # full disk, read-only or unwritable outputs folder
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"cnfs render : écriture impossible{where} : {exc.strerror or exc}. Les sorties précédentes sont intactes.",
            file=sys.stderr,
        )
        return EXIT_IO


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse argv (default sys.argv[1:]) and render."""
    parser = configure(argparse.ArgumentParser(prog="cnfs render", description=DESCRIPTION))
    return run(parser.parse_args(argv))
