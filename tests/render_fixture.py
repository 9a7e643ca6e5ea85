"""A throw-away render project in a temporary folder: small notebooks written on the fly, shared inputs,
an outputs folder; renders in this process or as a separate command (for signals and concurrency).

Run as a script (``python render_fixture.py CONFIG.json``) it renders the project described by CONFIG
and exits with the render's exit status, as ``cnfs render`` does.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def write_notebook(path: Path, *cells: str, title: str = "Carnet de test") -> Path:
    """A notebook with a title, the standard parameters cell and the given code cells."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    params = nbformat.v4.new_code_cell('wave = "all"\ndata_path = None\noutput_dir = "../outputs/all"')
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells.extend(nbformat.v4.new_code_cell(textwrap.dedent(c).strip("\n")) for c in cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


class MiniProject:
    """Notebooks, a data file, the shared inputs the cache key covers, and an outputs folder under root."""

    def __init__(self, root: Path, waves: tuple[str, ...] = ("1",), out: str = "outputs") -> None:
        self.root = root
        self.notebooks = root / "notebooks"
        self.notebooks.mkdir(parents=True, exist_ok=True)
        self.data = root / "survey_synthetic.csv"
        self.data.write_text("wave,x\n" + "".join(f"{w},1\n" for w in waves))
        self.out = root / out
        self.waves = list(waves)
        lib = root / "lib" / "cnfs"
        lib.mkdir(parents=True, exist_ok=True)
        (lib / "scoring.py").write_text("X = 1\n")
        self.inputs = {"lib": root / "lib"}

    def notebook(self, stem: str, *cells: str) -> Path:
        """Write (or rewrite) notebooks/<stem>.ipynb."""
        return write_notebook(self.notebooks / f"{stem}.ipynb", *cells, title=stem)

    def config(self, **options: Any) -> dict[str, Any]:
        base = {
            "output_dir": str(self.out),
            "notebooks_dir": str(self.notebooks),
            "jobs": 2,
            "progress": False,
            "shared_inputs": {k: str(v) for k, v in self.inputs.items()},
            "package_versions": {"x": "1"},
        }
        base.update(options)
        return {"options": base, "waves": self.waves, "data": str(self.data)}

    def render(self, **options: Any) -> Any:
        """Render in this process; the report gets the printed summary as .text."""
        stream = io.StringIO()
        report = _render(self.config(**options), stream)
        report.text = stream.getvalue()
        return report

    def command(self, name: str = "render", **options: Any) -> list[str]:
        """Command line that renders this project in its own process."""
        path = self.root / f"{name}.json"
        path.write_text(json.dumps(self.config(**options)))
        return [sys.executable, str(HERE), str(path)]


def _render(config: dict[str, Any], stream: Any) -> Any:
    from cnfs.render.runner import RenderOptions, render

    opts = dict(config["options"])
    for key in ("output_dir", "notebooks_dir", "data"):
        if opts.get(key):
            opts[key] = Path(opts[key])
    opts["shared_inputs"] = {k: Path(v) for k, v in opts["shared_inputs"].items()}
    waves, data = list(config["waves"]), Path(config["data"])
    return render(
        RenderOptions(**opts),
        available_waves=lambda p: waves,
        resolve_data_path=lambda p: p if p is not None else data,
        stream=stream,
    )


def main(argv: list[str]) -> int:
    """Render the project of a config file, with `cnfs render`'s messages and exit statuses."""
    from cnfs.render.cli import guarded

    config = json.loads(Path(argv[0]).read_text())
    return guarded(lambda: _render(config, sys.stderr).exit_code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
