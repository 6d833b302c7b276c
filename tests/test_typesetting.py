"""Typesetting controls of ``to_latex``: row spacing, a highlight that keeps the row height
(measured by pdfTeX), vectors as grids, one base, a tight standalone page, Kong & Lucey's
padded positions (checked against the convolution of the unpadded input) and the beamer
overlay's slides (checked against the matrix's nonzero pattern)."""

from __future__ import annotations

import os
import re
import subprocess

import numpy as np
import pytest
import sympy

import convmat
from convmat import symbolic
from convmat.errors import ConvmatError
from convmat.latex import document, to_latex

from .conftest import requires_pdflatex

ENV = re.compile(r"\\begin\{(\w+)\}(?:\{([^\n]*)\})?\n(.*?)\n\\end\{\1\}", re.DOTALL)


def environments(tex: str) -> list[list[list[str]]]:
    """The cells of every environment in ``tex`` (rules left out)."""
    out = []
    for _, _, body in ENV.findall(tex):
        out.append([line.removesuffix(r" \\").split(" & ") for line in body.split("\n")
                    if not line.startswith(r"\hline")])
    return out


# -- row spacing -------------------------------------------------------------------------

def test_rows_are_loosened_where_rules_are_drawn():
    A = symbolic.conv_matrix((2, 2), (3, 3))
    assert to_latex(A).startswith("\\def\\arraystretch{1.3}\n")
    assert not to_latex(A, blocks=None).startswith("\\def")  # no rule, LaTeX's own rows
    assert to_latex(A, blocks=None, highlight_row=0).startswith("\\def")  # a frame
    assert to_latex(A, spacing=2).startswith("\\def\\arraystretch{2}\n")
    assert to_latex(A, spacing=1) == to_latex(A).removeprefix("\\def\\arraystretch{1.3}\n")
    for bad in (0.2, 5, "1.3", True):
        with pytest.raises(ConvmatError, match="spacing="):
            to_latex(A, spacing=bad)


def _measure(tmp_path, fragments: dict[str, str]) -> dict[str, tuple[float, float, float]]:
    """(height, depth, width) in pt of each fragment typeset in display style by pdfTeX."""
    body = []
    for name, tex in fragments.items():
        body += [rf"\setbox0\hbox{{$\displaystyle {tex}$}}",
                 rf"\typeout{{SIZE {name} \the\ht0/\the\dp0/\the\wd0}}"]
    doc = "\n".join([r"\documentclass{article}", r"\usepackage{amsmath}",
                     r"\usepackage{color}", r"\begin{document}", *body, "x",
                     r"\end{document}", ""])
    (tmp_path / "m.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "m.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "max_print_line": "100000"})
    assert run.returncode == 0, run.stdout[-2000:]
    found = re.findall(r"SIZE (\S+) ([\d.]+)pt/([\d.]+)pt/([\d.]+)pt", run.stdout)
    return {name: tuple(map(float, dims)) for name, *dims in found}


@requires_pdflatex
@pytest.mark.latex
def test_a_highlight_keeps_the_row_height(tmp_path):
    """Once: ``\\boxed`` made the highlighted row taller and its frame ran into the rules."""
    A = symbolic.conv_matrix((2, 2), (3, 3))
    fragments = {"plain": to_latex(A, x="x", y="y", spacing=1.3)}
    for highlight in ("boxed", "bold", "color"):
        for row in (0, 1, 3):
            fragments[f"{highlight}-{row}"] = to_latex(A, x="x", y="y", highlight_row=row,
                                                       highlight=highlight)
    sizes = _measure(tmp_path, fragments)
    assert len(sizes) == len(fragments)
    height, depth, _ = sizes["plain"]
    for name, (h, d, _) in sizes.items():
        assert (h, d) == (height, depth), name


@requires_pdflatex
@pytest.mark.latex
def test_the_loose_rows_leave_room_for_the_frame(tmp_path):
    """The frame (3pt padding and 0.4pt rule around the entry, the entry's depth smashed)
    fits inside a row of the default spacing: above and below, with room to spare."""
    sizes = _measure(tmp_path, {
        "frame": r"\boxed{\smash[b]{w_{0,1}}}",
        "row": r"\def\arraystretch{1.3}\begin{array}{c} w_{0,1} \end{array}",
    })
    frame_height, frame_depth, _ = sizes["frame"]
    row_height, row_depth, _ = sizes["row"]
    # the array is centred on the math axis (2.5 pt): compare about the row's baseline
    row_top, row_bottom = (row_height + row_depth) / 2 + 2.5, (row_height + row_depth) / 2 - 2.5
    assert frame_height < row_top - 1 and frame_depth < row_bottom


@requires_pdflatex
@pytest.mark.latex
def test_the_standalone_page_is_cut_to_the_formula(tmp_path):
    tex = to_latex(np.eye(2, dtype=int), standalone=True)
    (tmp_path / "d.tex").write_text(tex.replace(r"\usebox{\formula}", r"\usebox{\formula}"
                                                r"\typeout{PAGE \the\pdfpagewidth/"
                                                r"\the\wd\formula}"))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "d.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "max_print_line": "100000"})
    page, formula = map(float, re.search(r"PAGE ([\d.]+)pt/([\d.]+)pt", run.stdout).groups())
    assert page == pytest.approx(formula + 6, abs=0.01)  # a 3 pt border each side
    assert "Output written on d.pdf (1 page" in run.stdout.replace("\n", "")


def test_color_loads_the_color_package_only_when_used():
    A = symbolic.conv_matrix((2,), (3,))
    assert r"\usepackage{color}" in to_latex(A, highlight_row=0, highlight="color",
                                             standalone=True)
    assert r"\usepackage{color}" not in to_latex(A, highlight_row=0, standalone=True)
    assert document("a").count(r"\usepackage") == 1


# -- vectors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("weight, shape", [((3, 3), (4, 5)), ((2, 3, 2, 2), (3, 4)),
                                           ((2, 2, 2), (3, 3, 3))])
def test_grid_vectors_are_the_images_they_flatten(weight, shape):
    A = symbolic.conv_matrix(weight, shape)
    x = np.array(symbolic.inputs(A)).ravel()  # the vector, named by the geometry
    x_shape = (weight[1], *shape) if len(weight) == len(shape) + 2 else shape
    grid = x.reshape(-1, x_shape[-1])  # C order: last axis along a row
    tex = to_latex(A, x="x", grid=True, max_rows=None, max_cols=None)
    written = environments(tex)[-1]
    assert written == [[sympy.latex(v) for v in row] for row in grid]
    assert tex.count(r"\operatorname{vec}") == 1
    if len(x_shape) > 2:  # a rule between channels (or planes)
        assert r"\hline" in tex.split(r"\operatorname{vec}")[1]


def test_grid_highlights_the_window_and_needs_a_geometry():
    A = symbolic.conv_matrix((2, 2), (3, 3))
    tex = to_latex(A, x="x", y="y", grid=True, highlight_row=3, highlight="bold")
    x_grid = environments(tex)[-1]
    assert x_grid == [["x_{0,0}", "x_{0,1}", "x_{0,2}"],
                      ["x_{1,0}", r"\boldsymbol{x_{1,1}}", r"\boldsymbol{x_{1,2}}"],
                      ["x_{2,0}", r"\boldsymbol{x_{2,1}}", r"\boldsymbol{x_{2,2}}"]]
    with pytest.raises(ConvmatError, match="grid=True draws the vectors"):
        to_latex(np.eye(3), x="x", grid=True)


def test_explicit_vector_entries_and_one_base():
    A = symbolic.conv_matrix((2,), (3,), base=1)
    assert environments(to_latex(A, x="x", y="y"))[0] == [["y_{1}"], ["y_{2}"]]
    assert environments(to_latex(A, x="x", base=5))[-1] == [["x_{5}"], ["x_{6}"], ["x_{7}"]]
    assert environments(to_latex(np.eye(2), x=[-1, r"\pi"]))[-1] == [["-1"], [r"\pi"]]


# -- Kong & Lucey's padded positions --------------------------------------------------------

def _entry(text: str) -> sympy.Expr:
    """A written x entry as the value it stands for: 0, x_j, or x_j for \\tilde{x}_j."""
    if text == "0":
        return sympy.Integer(0)
    return sympy.Symbol(text.replace(r"\tilde{x}", "x"))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, padding, stride", [((6,), 2, 2), ((4, 5), 1, (2, 3))])
def test_padded_positions_are_marked_and_mean_the_padded_input(mode, shape, padding, stride):
    """The x written beside the strided (padded) matrix, read back as values, times that
    matrix is the convolution of the unpadded input: a check against the padding of the
    convolution itself, not against the writer."""
    k = (3,) * len(shape)
    kl = symbolic.kong_lucey(k, shape, stride=stride, padding=padding, padding_mode=mode)
    tex = to_latex(kl, part="strided", max_rows=None, max_cols=None)
    written = [row[0] for row in environments(tex)[-1]]
    x = sympy.Matrix([_entry(t) for t in written])
    direct = symbolic.conv_matrix(k, shape, stride=stride, padding=padding, padding_mode=mode)
    inputs = symbolic.inputs(direct)
    difference = (kl.strided_matrix() * x - direct * inputs).expand()
    assert difference == sympy.zeros(direct.shape[0], 1)
    n_padded = len(written) - int(np.prod(shape))
    marked = [t for t in written if t == "0" or t.startswith(r"\tilde")]
    assert len(marked) == n_padded  # every padded position marked, no input position
    assert all(t == "0" for t in marked) == (mode == "zeros")
    # the permuted and sum displays name the same entries, in phase order
    permuted = [row[0] for row in environments(to_latex(kl, part="permuted", max_rows=None,
                                                        max_cols=None))[-1]]
    assert sorted(permuted) == sorted(written)


# -- beamer overlays ---------------------------------------------------------------------------

def _alerts(tex: str) -> dict[str, set[int]]:
    """Entry -> slides on which it is alerted."""
    out: dict[str, set[int]] = {}
    for spec, entry in re.findall(r"\\alert<([\d,-]+)>\{((?:[^{}]|\{[^{}]*\})*)\}", tex):
        steps = set()
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            steps |= set(range(int(lo), int(hi or lo) + 1))
        out.setdefault(entry, set()).update(steps)
    return out


def test_overlay_slide_t_highlights_row_t_its_inputs_and_y_t():
    w = np.array([[1, 2], [3, 4]])
    A = convmat.conv_matrix(w, (3, 4), stride=(1, 2))
    dense = A.toarray()
    tex = to_latex(A, x="x", y="y", overlay="rows")
    assert tex.startswith(r"\begin{frame}") and tex.rstrip().endswith(r"\end{frame}")
    alerts = _alerts(tex)
    for c in range(dense.shape[1]):  # x_c on the slides of the rows that read it
        name = f"x_{{{c // 4},{c % 4}}}"
        rows = {r + 1 for r in np.flatnonzero(dense[:, c])}
        assert alerts.get(name, set()) == rows, name
    for r in range(dense.shape[0]):
        assert alerts[f"y_{{{r // 2},{r % 2}}}"] == {r + 1}
    # the matrix entries: slide t alerts exactly the stored entries of row t
    formula = tex.split("\\sbox0{$\\displaystyle\n")[1].split("\n$}%")[0]
    matrix = environments(formula)[1]
    for r, row in enumerate(matrix):
        alerted = [j for j, cell in enumerate(row) if cell.startswith(r"\alert")]
        assert alerted == list(np.flatnonzero(dense[r])) and \
            all(cell.startswith(rf"\alert<{r + 1}>") for cell in row if "alert" in cell)


def test_overlay_of_an_elided_matrix_steps_through_the_written_rows():
    A = convmat.conv_matrix([1, 2, 3], (40,))
    tex = to_latex(A, x="x", y="y", overlay="rows", max_rows=5, max_cols=8)
    slides = {s for steps in _alerts(tex).values() for s in steps}
    assert slides == {1, 2, 3, 4}  # 4 written rows, the ellipsis is not a slide
    with pytest.raises(ConvmatError, match="contradict"):
        to_latex(A, overlay="rows", highlight_row=1)
    with pytest.raises(ConvmatError, match="overlay='diagonal'"):
        to_latex(A, overlay="diagonal")
    standalone = to_latex(A, overlay="rows", standalone=True)
    assert standalone.startswith(r"\documentclass{beamer}")
