"""Frames and TikZ: an animation saved as a PDF has one page per frame with its numbers as
text; a picture saved as .tex is readable TikZ (nodes, named colours, styles) that compiles
with pdflatex (standalone pages, tikzpictures for \\input, beamer overlays), and its PDF
holds the values, checked against a direct numpy definition of the convolution."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import convmat
from convmat import ConvmatError, layout
from convmat.geometry import convolution_geometry

from .conftest import requires_pdflatex

figures = pytest.importorskip("convmat.figures")
plt = pytest.importorskip("matplotlib.pyplot")

#: the worked example of docs/figures.md
X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
              [2, 0, 0, 0, 1]])
W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])


def correlate(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid cross-correlation, straight from the definition (the oracle)."""
    kh, kw = w.shape
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    return np.array([[(x[i:i + kh, j:j + kw] * w).sum() for j in range(ow)]
                     for i in range(oh)])


def dense_matrix(w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The convolution's matrix from the definition: row t, column p holds the tap of
    window t that reads input p."""
    kh, kw = w.shape
    oh, ow = shape[0] - kh + 1, shape[1] - kw + 1
    a = np.zeros((oh * ow, shape[0] * shape[1]), dtype=w.dtype)
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    a[i * ow + j, (i + u) * shape[1] + j + v] = w[u, v]
    return a


def pages(pdf: Path) -> int:
    """Page count: pdfinfo when installed, else the page objects of the file."""
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                             check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", out).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def pdf_words(pdf: Path, page: int | None = None) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    span = [] if page is None else ["-f", str(page), "-l", str(page)]
    out = subprocess.run(["pdftotext", *span, str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return unicodedata.normalize("NFC", out).split()


def compile_tex(tex: Path) -> Path:
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tex.parent, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:]
    return tex.with_suffix(".pdf")


@pytest.fixture
def worked():
    anim = figures.animate_matrix((5, 5), (3, 3), x=X, weight=W)
    yield anim
    plt.close("all")


ANIMATIONS = {
    "convolution": lambda: figures.animate_convolution((5, 5), (3, 3), stride=2, padding=1,
                                                       x=X, weight=W),
    "matrix-1d": lambda: figures.animate_matrix((7,), (3,), stride=2, padding=1,
                                                x=np.arange(1, 8), weight=[1, 2, 3]),
    "transposed": lambda: figures.animate_matrix((3,), (3,), stride=2, transposed=True,
                                                 x=[1, 2, 3], weight=[1, 2, 3]),
    "reflect": lambda: figures.animate_convolution((4,), (3,), padding=1,
                                                   padding_mode="reflect", x=[1, 2, 3, 4]),
    "superposition": lambda: figures.animate_superposition((3, 2), (2, 2), stride=2,
                                                           x=np.arange(6), weight=W[:2, :2]),
    "channels": lambda: figures.animate_convolution((4, 4), (3, 3), weight=np.ones((2, 1, 3, 3))),
}


# ------------------------------------------------------------------------- PDF frames


@pytest.mark.parametrize("name", list(ANIMATIONS))
def test_an_animation_as_pdf_has_one_page_per_frame(name, tmp_path):
    anim = ANIMATIONS[name]()
    try:
        out = figures.save(anim, tmp_path / "frames.pdf")
        assert out.read_bytes().startswith(b"%PDF")
        assert pages(out) == anim.n_frames
    finally:
        plt.close("all")


def test_the_worked_example_pdf_holds_its_values_as_text(worked, tmp_path):
    y = correlate(X, W).ravel()
    out = figures.save(worked, tmp_path / "frames.pdf")
    assert pages(out) == 9
    last = pdf_words(out, 9)
    for value in y:  # every output value is computed by the last frame
        assert str(value) in last
    first = pdf_words(out, 1)
    assert str(y[0]) in first and "17" not in [w for w in first if w == str(y[2])][:0]
    assert "input" in pdf_words(out)


# ------------------------------------------------------------------------- the record


def test_the_record_of_the_worked_example_is_the_matrix_and_the_values(worked):
    pic = worked.picture_layout()
    assert isinstance(pic, layout.Picture) and pic.kind == "matrix"
    assert len(pic.frames) == 9
    (entries,) = [c for c in pic.cells if c.role == "entry"]
    (frame,) = [r for r in pic.rects if (r.w, r.h) == (25, 9)]  # the outline of A
    x0, y0 = frame.x, frame.y
    a = np.zeros((9, 25), dtype=int)
    for (x, y), text in zip(entries.xy, entries.texts):
        a[round(y - y0), round(x - x0)] = int(text)
    assert (a == dense_matrix(W, (5, 5))).all()
    # frame t lights row t's stored entries and shows y[t] as the current output
    y = correlate(X, W).ravel()
    for t, frame in enumerate(pic.frames):
        current = [c for c in frame.cells if c.role == "current"]
        assert {c.texts[0] for c in current} == {str(y[t])}
        (lit,) = [c for c in frame.cells if c.role == "lit"]
        i, j = divmod(t, 3)  # window t covers rows i..i+2, columns j..j+2 of the input
        assert sorted(round(x - x0) for x, _ in lit.xy) == sorted(
            (i + u) * 5 + j + v for u in range(3) for v in range(3))
    (inputs,) = [c for c in pic.cells if c.role == "input" and len(c.xy) == 25
                 and len({y for _, y in c.xy}) == 1]  # the x row above A
    assert [int(v) for v in inputs.texts] == X.ravel().tolist()


# ------------------------------------------------------------------------- TikZ


def test_tikz_is_readable_nodes_styles_and_named_colours(worked, tmp_path):
    tex = figures.save(worked, tmp_path / "m.tex").read_text()
    assert tex.startswith(r"\documentclass{article}") and "standalone" not in tex
    names = re.findall(r"\\definecolor\{(\w+)\}\{HTML\}\{[0-9A-F]{6}\}", tex)
    assert len(names) == len(set(names)) > 5  # every colour named once
    assert re.search(r"cm-input/\.style=\{cm-cell, fill=cmInput, draw=cmInputEdge", tex)
    assert tex.count(r"\begin{tikzpicture}") == 9
    assert re.search(r"\\node\[cm-entry, fill=cmTap\d, text=\w+\] at \(\d+\.?\d*,\d+\.?\d*\) "
                     r"\{\d\};", tex)
    assert not re.search(r"\\pgf(sys|path)", tex)  # not a dump of drawing commands
    # the values as node text: every output value in the last picture
    last = tex[tex.rindex(r"\begin{tikzpicture}"):]
    for value in correlate(X, W).ravel():
        assert re.search(rf"\] at \([^)]*\) \{{{value}\}};", last)


@requires_pdflatex
@pytest.mark.latex
def test_the_worked_example_tikz_compiles_one_page_per_frame(worked, tmp_path):
    pdf = compile_tex(figures.save(worked, tmp_path / "m.tex"))
    assert pages(pdf) == 9
    words = pdf_words(pdf, 9)
    for value in correlate(X, W).ravel():
        assert str(value) in words
    assert "flattened)" in words


@requires_pdflatex
@pytest.mark.latex
@pytest.mark.parametrize("name", [n for n in ANIMATIONS if n != "channels"])
def test_every_supported_animation_compiles_as_tikz(name, tmp_path):
    anim = ANIMATIONS[name]()
    try:
        pdf = compile_tex(figures.save(anim, tmp_path / "a.tex"))
        assert pages(pdf) == anim.n_frames
        if name == "superposition":  # the last frame shows A x (scatter = gather)
            a = convmat.conv_transpose_matrix(W[:2, :2], (3, 2), stride=2)
            words = pdf_words(pdf, anim.n_frames)
            for value in set((a @ np.arange(6)).tolist()):
                assert str(value) in words
    finally:
        plt.close("all")


@requires_pdflatex
@pytest.mark.latex
@pytest.mark.parametrize("matrix", ["numeric", "symbolic", "kong-lucey"])
def test_plot_matrix_compiles_as_tikz(matrix, tmp_path):
    if matrix == "numeric":
        fig = figures.plot_matrix(convmat.conv_matrix(W, (5, 5)),
                                  geometry=convolution_geometry((5, 5), (3, 3)),
                                  highlight_row=4)
    elif matrix == "symbolic":
        fig = figures.plot_matrix(convmat.symbolic.conv_matrix((2, 2), (3, 3)))
    else:
        fig = figures.plot_matrix(convmat.kong_lucey(np.ones(3), (7,), stride=2))
    try:
        tex = figures.save(fig, tmp_path / "p.tex")
        pdf = compile_tex(tex)
        assert pages(pdf) == 1
        if matrix == "numeric":
            words = pdf_words(pdf)
            assert words.count("2") >= int((dense_matrix(W, (5, 5)) == 2).sum())
    finally:
        plt.close("all")


@requires_pdflatex
@pytest.mark.latex
def test_the_beamer_frame_has_one_overlay_per_frame_and_compiles(worked, tmp_path):
    tex = figures.save(worked, tmp_path / "deck.tex", beamer=True).read_text()
    assert tex.startswith(r"\documentclass{beamer}")
    assert [int(t) for t in re.findall(r"\\only<(\d+)>", tex)] == list(range(1, 10))
    assert tex.count(r"\begin{frame}") == 1 and tex.count(r"\begin{tikzpicture}") == 1
    pdf = compile_tex(tmp_path / "deck.tex")
    assert pages(pdf) == 9  # one slide per overlay
    y = correlate(X, W).ravel()
    assert str(y[4]) in pdf_words(pdf, 5)
    # the frame alone goes into a deck of one's own
    frame = figures.save(worked, tmp_path / "frame.tex", beamer=True,
                         standalone=False).read_text()
    assert frame.startswith(r"\begin{frame}") and r"\documentclass" not in frame
    deck = tmp_path / "own.tex"
    deck.write_text("\\documentclass{beamer}\n\\usepackage{tikz}\n\\begin{document}\n"
                    "\\input{frame}\n\\end{document}\n")
    assert pages(compile_tex(deck)) == 9


@requires_pdflatex
@pytest.mark.latex
def test_standalone_false_is_tikzpictures_to_input(worked, tmp_path):
    tex = figures.save(worked, tmp_path / "pics.tex", standalone=False).read_text()
    assert r"\documentclass" not in tex and r"\begin{document}" not in tex
    outside = re.sub(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", "", tex, flags=re.S)
    # outside the pictures: comments, the colours and the styles only
    rest = re.sub(r"\\tikzset\{.*?\n\}", "", outside, flags=re.S)
    assert all(line.startswith(("%", r"\definecolor")) for line in rest.split("\n") if line)
    assert tex.count(r"\begin{tikzpicture}") == 9
    doc = tmp_path / "article.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{tikz}\n\\begin{document}\n"
                   "\\input{pics}\n\\end{document}\n")
    words = pdf_words(compile_tex(doc))
    assert str(correlate(X, W).ravel()[-1]) in words


# ------------------------------------------------------------------------- refusals


def test_options_of_another_format_are_refused(worked, tmp_path):
    fig = figures.plot_matrix(convmat.conv_matrix(W, (5, 5)))
    try:
        with pytest.raises(ConvmatError, match="standalone="):
            figures.save(fig, tmp_path / "a.png", standalone=False)
        with pytest.raises(ConvmatError, match="beamer="):
            figures.save(worked, tmp_path / "a.gif", beamer=True)
        with pytest.raises(ConvmatError, match="fps="):
            figures.save(worked, tmp_path / "a.tex", fps=2)
        with pytest.raises(ConvmatError, match="dpi="):
            figures.save(fig, tmp_path / "a.tex", dpi=200)
        with pytest.raises(ConvmatError, match="fps="):
            figures.save(worked, tmp_path / "a.pdf", fps=2)
        with pytest.raises(ConvmatError, match="beamer="):
            figures.save(worked, tmp_path / "a.tex", beamer="yes")
    finally:
        plt.close("all")


def test_pictures_without_tikz_name_what_is_supported(tmp_path):
    try:
        for obj in (figures.plot_connectivity((4,), (2,)), figures.plot_overlap((3,), (3,)),
                    figures.plot_kong_lucey(convmat.kong_lucey(np.ones(3), (7,), stride=2))):
            with pytest.raises(ConvmatError, match="supported: animate_convolution"):
                figures.save(obj, tmp_path / "a.tex")
        with pytest.raises(ConvmatError, match="channels"):  # planes are not drawn in TikZ
            figures.save(ANIMATIONS["channels"](), tmp_path / "a.tex")
    finally:
        plt.close("all")


def test_tikz_refuses_what_is_not_a_picture():
    with pytest.raises(ConvmatError, match="not a convmat.layout.Picture"):
        convmat.latex.tikz("picture")


@requires_pdflatex
@pytest.mark.latex
def test_spanish_pictures_give_spanish_tikz(tmp_path):
    """lang="es": the TikZ holds the catalogue's Spanish words (and no English ones), and
    pdflatex typesets their accents."""
    anim = figures.animate_matrix((5, 5), (3, 3), x=X, weight=W, lang="es",
                                  labels={"output": "resultado"})
    try:
        tex = figures.save(anim, tmp_path / "es.tex").read_text(encoding="utf-8")
        for word in ("entrada", "núcleo", "resultado", "(entrada, aplanada)"):
            assert word in tex
        words = pdf_words(compile_tex(tmp_path / "es.tex"))
        assert "núcleo" in words and "entrada" in words and "resultado" in words
        assert not {"input", "kernel", "output", "flattened)"} & set(words)
    finally:
        plt.close("all")
