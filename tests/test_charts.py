"""Every chart of every section notebook, drawn as the notebook draws it, has no overlapping text and
no text outside the figure; the PNG embedded in the notebook is the file written (drawn once)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from cnfs import notebook, paths  # noqa: E402

SECTION_NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0[1-7]_*.ipynb"))
TOLERANCE = 1.0  # pixels


def _texts(fig):
    """(description, Text) of every visible, non-empty text of a figure."""
    out = [("figure", t) for t in fig.texts]
    for i, ax in enumerate(fig.axes):
        out += [(f"ax{i} title", ax.title), (f"ax{i} xlabel", ax.xaxis.label), (f"ax{i} ylabel", ax.yaxis.label)]
        for name, axis, (lo, hi) in (("xtick", ax.xaxis, ax.get_xlim()), ("ytick", ax.yaxis, ax.get_ylim())):
            lo, hi = min(lo, hi), max(lo, hi)
            out += [
                (f"ax{i} {name}", t.label1) for t in axis.get_major_ticks() if lo - 1e-9 <= t.get_loc() <= hi + 1e-9
            ]
        out += [(f"ax{i} text", t) for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [(f"ax{i} legend", t) for t in legend.get_texts()] + [(f"ax{i} legend title", legend.get_title())]
    return [(d, t) for d, t in out if t.get_visible() and t.get_text().strip()]


def layout_problems(fig) -> list[str]:
    """Pairs of text boxes that overlap, and text boxes outside the figure, after drawing."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    boxes = [(d, t.get_text(), t.get_window_extent(renderer)) for d, t in _texts(fig)]
    problems = []
    # what savefig(bbox_inches="tight") keeps: the tight box of the artists in the layout, padded
    saved = fig.get_tightbbox(renderer).padded(plt.rcParams["savefig.pad_inches"])
    for d, text, b in boxes:
        inches = b.transformed(fig.dpi_scale_trans.inverted())
        if (
            inches.x0 < saved.x0 - 0.01
            or inches.y0 < saved.y0 - 0.01
            or inches.x1 > saved.x1 + 0.01
            or inches.y1 > saved.y1 + 0.01
        ):
            problems.append(f"cut by the saved image: {d} {text!r}")
    for d, text, b in boxes:
        if (
            b.x0 < frame.x0 - TOLERANCE
            or b.y0 < frame.y0 - TOLERANCE
            or b.x1 > frame.x1 + TOLERANCE
            or b.y1 > frame.y1 + TOLERANCE
        ):
            problems.append(f"outside: {d} {text!r}")
    for (d1, t1, b1), (d2, t2, b2) in itertools.combinations(boxes, 2):
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if w > TOLERANCE and h > TOLERANCE:
            problems.append(f"overlap: {d1} {t1!r} / {d2} {t2!r}")
    return problems


def ink_at_edges(png: bytes, margin: int = 2, threshold: int = 200) -> list[str]:
    """Edges of a saved image with dark pixels in their outer ``margin`` pixels: text cut by the image's bounds."""
    import io

    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    edges = {"gauche": a[:, :margin], "droite": a[:, -margin:], "haut": a[:margin, :], "bas": a[-margin:, :]}
    return [name for name, strip in edges.items() if (strip < threshold).any()]


def test_cut_text_check_can_fail():
    import io

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_ylabel("une étiquette d'axe")
    fig.subplots_adjust(left=0.02)  # the label starts left of the image
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # no tight box: the label is cut
    assert "gauche" in ink_at_edges(buf.getvalue())
    plt.close(fig)


def test_saved_image_check_can_fail():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    title = fig.suptitle("un titre hors de la zone enregistrée")
    title.set_in_layout(False)  # savefig(bbox_inches="tight") crops it away
    fig.subplots_adjust(top=0.5)
    assert any(p.startswith("cut by the saved image") and "titre" in p for p in layout_problems(fig))
    plt.close(fig)


def test_layout_check_can_fail():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.5, 0.5, "un texte")
    ax.text(0.5, 0.5, "un autre texte")
    fig.text(0.95, 0.5, "dehors à droite de la figure")
    problems = layout_problems(fig)
    assert any(p.startswith("overlap") for p in problems) and any(p.startswith("outside") for p in problems)
    plt.close(fig)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Run the code cells of notebooks 01–07 (wave "all"), recording each chart's layout problems and bytes."""
    out = tmp_path_factory.mktemp("outputs")
    charts: list[tuple[str, str, list[str], bytes, bytes]] = []
    original = notebook.Report._write_figure

    def checked(self, fig, name):
        problems = layout_problems(fig)
        png = original(self, fig, name)
        written = (self.out / "figures" / f"{self.prefix}{name}.png").read_bytes()
        charts.append((self.prefix, name, problems, png, written))
        return png

    notebook.Report._write_figure = checked
    try:
        for path in SECTION_NOTEBOOKS:
            nb = nbformat.read(path, as_version=4)
            ns = {"__name__": "__main__"}
            cells = [c for c in nb.cells if c.cell_type == "code"]
            exec(cells[0].source, ns)
            ns.update(wave="all", data_path=None, output_dir=str(out / path.stem))
            for cell in cells[1:]:
                exec(cell.source, ns)
            plt.close("all")
    finally:
        notebook.Report._write_figure = original
    return charts


def test_every_chart_is_drawn(drawn):
    assert len(drawn) >= 20
    assert {p for p, *_ in drawn} == {f"0{i}_" for i in range(1, 8)}


def test_no_overlapping_or_clipped_text(drawn):
    bad = {f"{p}{n}": probs for p, n, probs, *_ in drawn if probs}
    assert not bad, "\n".join(f"{k}: {v[:4]}" for k, v in bad.items())


def test_no_text_cut_by_the_saved_image(drawn):
    cut = {f"{p}{n}": ink_at_edges(written) for p, n, _, _, written in drawn}
    assert not {k: v for k, v in cut.items() if v}, cut


def test_embedded_image_is_the_written_file_and_small(drawn):
    for prefix, name, _, png, written in drawn:
        assert png == written, f"{prefix}{name}: drawn twice"
        assert len(written) < 400_000, f"{prefix}{name}: {len(written)} bytes"
