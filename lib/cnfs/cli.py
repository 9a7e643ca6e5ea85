"""Command line: ``cnfs synth | validate | figures | import | mapping draft | cache clear | render`` (and ``weights``, ``estimate``).

Every subcommand runs through ``_run``: a user's mistake (``InputError``: missing or unreadable file,
bad format, data not conforming to the codebook…) prints one message naming the file and what to do,
with exit status 2; ``--debug`` (anywhere on the line) also prints the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import NoReturn

from cnfs.errors import ExportWarning, InputError

USER_ERROR = 2


def _synth(args: argparse.Namespace) -> int:
    from cnfs.synth import write_synthetic

    path = write_synthetic(args.out, args.seed)
    print(f"Données synthétiques écrites : {path} (+ .parquet, .provenance.json)")
    return 0


def _load(args: argparse.Namespace, path: str | None, use_cache: bool = True):  # noqa: ANN202
    from cnfs.loader import load_survey

    return load_survey(
        path,
        wave=args.wave or "all",
        mapping=args.mapping,
        exclude_incomplete=args.exclude_incomplete,
        sheet=args.sheet,
        use_cache=use_cache,
    )


def _print_warnings(survey) -> None:  # noqa: ANN001
    for w in survey.warnings:
        print(f"Avertissement : {w}", file=sys.stderr)
    n = survey.excluded_incomplete
    if n:
        print(f"{n} réponse(s) incomplète(s) écartée(s) (sans date de soumission).", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    s = _load(args, args.path, use_cache=False)
    _print_warnings(s)
    print(
        f"{s.path}: conforme au codebook ({len(s.data)} répondants, vagues {sorted(s.data['wave'].astype(str).unique())})"
    )
    return 0


def _figures(args: argparse.Namespace) -> int:
    from cnfs.compare import failures, full_reproduction_table, population_context, summary_by_section

    s = _load(args, args.path)
    _print_warnings(s)
    table = full_reproduction_table(s.data, s.codebook, context=population_context())
    if s.is_synthetic:
        print("ATTENTION : données synthétiques, les chiffres calculés ne sont pas des résultats.")
    print(summary_by_section(table).to_string())
    bad = failures(table)
    if len(bad):
        print(bad[["id", "published", "computed", "criterion"]].to_string(index=False))
    return 1 if len(bad) else 0


def _import(args: argparse.Namespace) -> int:
    from cnfs.importing import import_exports

    prov = import_exports(
        args.exports,
        args.output,
        mapping=args.mapping,
        wave=args.wave,
        exclude_incomplete=args.exclude_incomplete,
        sheet=args.sheet,
    )
    for src in prov["sources"]:
        for w in src.get("warnings", []):
            print(f"Avertissement : {w}", file=sys.stderr)
    excluded = (
        f", {prov['excluded_incomplete']} réponse(s) incomplète(s) écartée(s)" if prov["excluded_incomplete"] else ""
    )
    print(f"{args.output}: {prov['respondents']} répondants importés de {len(prov['sources'])} fichier(s){excluded}")
    return 0


def _mapping_draft(args: argparse.Namespace) -> int:
    from cnfs.codebook import load_codebook
    from cnfs.mapping import draft_for, load_mapping

    codebook = load_codebook()
    sys.stdout.write(draft_for(args.export, codebook, load_mapping(args.mapping, codebook), args.sheet))
    return 0


def _cache(args: argparse.Namespace) -> int:
    from cnfs import cache

    if args.action == "clear":
        n, size = cache.clear()
        print(f"Cache vidé : {n} fichier(s), {size / 1e6:.1f} Mo ({cache.cache_dir()})")
    else:
        i = cache.info()
        print(
            f"Cache : {i['dossier']} — {i['fichiers']} fichier(s), {i['octets'] / 1e6:.1f} Mo (plafond {i['plafond_octets'] / 1e6:.0f} Mo)"
        )
    return 0


def _render(args: argparse.Namespace) -> int:
    from cnfs.render import main as render_main

    return int(render_main(args.rest) or 0)


def _data_options(p: argparse.ArgumentParser, wave_help: str) -> None:
    p.add_argument("--mapping", default=None, help="fichier de correspondance YAML (cnfs mapping draft)")
    p.add_argument("--wave", default=None, help=wave_help)
    p.add_argument("--sheet", default=None, help="feuille d'un classeur XLSX (nom ou numéro ; par défaut la première)")
    p.add_argument(
        "--exclude-incomplete", action="store_true", help="écarter les réponses incomplètes (sans date de soumission)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnfs", description="Carnets de recherche CnFS : données, vérifications, rendu."
    )
    parser.add_argument("--debug", action="store_true", help="afficher la trace complète d'une erreur")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("synth", help="générer le jumeau synthétique (déterministe pour une graine)")
    p.add_argument("--seed", type=int, default=None, help="graine (par défaut : celle du fichier d'hypothèses)")
    p.add_argument("--out", default=None, help="dossier de sortie (par défaut : data/synthetic)")
    p.set_defaults(func=_synth)
    p = sub.add_parser(
        "validate", help="valider un export d'enquête (CSV, XLSX, SPSS, Stata, Parquet) contre le codebook"
    )
    p.add_argument("path")
    _data_options(p, "vague à valider ; pour un export sans colonne wave, la vague de toutes ses lignes")
    p.set_defaults(func=_validate)
    p = sub.add_parser("figures", help="recalculer chaque chiffre publié et dire s'il est reproduit")
    p.add_argument("--path", default=None)
    _data_options(p, "vague (par défaut : toutes)")
    p.set_defaults(func=_figures)
    p = sub.add_parser("import", help="normaliser un ou plusieurs exports en un Parquet conforme au codebook")
    p.add_argument("exports", nargs="+")
    p.add_argument(
        "-o", "--output", required=True, help="fichier .parquet à écrire (par exemple data/raw/enquete.parquet)"
    )
    _data_options(p, "vague de toutes les lignes des exports sans colonne wave (sinon : dates de soumission)")
    p.set_defaults(func=_import)
    p = sub.add_parser("mapping", help="correspondance export → codebook : cnfs mapping draft EXPORT > mapping.yaml")
    p.add_argument("action", choices=["draft"])
    p.add_argument("export")
    p.add_argument("--mapping", default=None, help="correspondance existante à compléter")
    p.add_argument("--sheet", default=None)
    p.set_defaults(func=_mapping_draft)
    p = sub.add_parser("cache", help="cache des données lues : cnfs cache clear | info")
    p.add_argument("action", choices=["clear", "info"])
    p.set_defaults(func=_cache)
    from cnfs.cli_design import register as register_design

    register_design(sub)
    p = sub.add_parser(
        "render", help="exécuter et rendre les carnets en HTML (voir cnfs render --help)", add_help=False
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_render)
    return parser


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace, debug: bool) -> int:
    """Run a subcommand: a user's mistake becomes one message naming the file and exit status 2."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExportWarning)  # the commands print them as one line each
            return int(func(args) or 0)
    except InputError as e:
        if debug:
            traceback.print_exc()
        print(f"cnfs {args.command} : {e}", file=sys.stderr)
        return USER_ERROR
    except OSError as e:
        if debug:
            traceback.print_exc()
        name = f"{e.filename} : " if getattr(e, "filename", None) else ""
        print(f"cnfs {args.command} : {name}{e.strerror or e}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if debug:
            raise
        print(
            f"cnfs {args.command} : erreur interne ({type(e).__name__}: {e}) ; relancez avec --debug pour la trace "
            "et signalez-la",
            file=sys.stderr,
        )
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["render"]:  # render has its own parser (and --help)
        args = argparse.Namespace(command="render", rest=argv[1:], func=_render)
        return _run(_render, args, debug="--debug" in argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    return _run(args.func, args, debug)


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once its output is flushed and its exit handlers have run, skipping
    the interpreter's teardown of every imported module (up to a second after a render, for nothing)."""
    import atexit
    import os

    atexit._run_exitfuncs()  # what a normal exit would run: logging, multiprocessing, temporary files
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing more can be said
            pass
    os._exit(code)


def run_as_command(entry: Callable[[], int]) -> NoReturn:
    """Run a command's entry point and end the process with its status as ``sys.exit`` would (None: 0, a
    message: printed, 1), through ``exit_now``."""
    try:
        code = entry()
    except SystemExit as stop:  # argparse's --help and usage errors
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    exit_now(code)


def console() -> NoReturn:
    """The ``cnfs`` command."""
    run_as_command(main)


if __name__ == "__main__":
    console()
