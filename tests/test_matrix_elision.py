"""animate_matrix stays legible at any width: the columns of a wide matrix are elided between
whole blocks (never merging two), the current row's columns kept or marked by the ``⋯``,
the rows scrolled; the TikZ (pages and beamer) reads the same plan and its digits are at
least 8 pt. Checked against matrices written from the definition, x with distinct entries
naming the columns."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import convmat
from convmat.figures._matrix import block_elide

from .conftest import requires_pdflatex
from .strategies import geometries
from .test_figures_tikz import W, X, compile_tex, dense_matrix, pages, pdf_words

figures = pytest.importorskip("convmat.figures")
plt = pytest.importorskip("matplotlib.pyplot")

NODE = re.compile(r"\\node\[([^\]]*)\] at \(([-\d.]+),([-\d.]+)\) \{(.*)\};$")
FONT = re.compile(r"\\fontsize\{([\d.]+)\}")


def dilated_matrix(w: np.ndarray, shape: tuple[int, int], d: int) -> np.ndarray:
    """A dilated valid cross-correlation's matrix, from the definition."""
    kh, kw = w.shape
    oh, ow = shape[0] - d * (kh - 1), shape[1] - d * (kw - 1)
    a = np.zeros((oh * ow, shape[0] * shape[1]), dtype=w.dtype)
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    a[i * ow + j, (i + d * u) * shape[1] + j + d * v] = w[u, v]
    return a


# ------------------------------------------------------------------ reading the TikZ


def styles_fonts(tex: str) -> dict[str, float]:
    """Font size (pt) of every cell style: ``cm-cell``'s, or a style's own ``font=``."""
    base = float(FONT.search(re.search(r"cm-cell/\.style=\{[^\n]*", tex).group(0)).group(1))
    fonts = {}
    for name, body in re.findall(r"^  (cm-[\w-]+)/\.style=\{(.*)\},?$", tex, re.M):
        own = FONT.search(body)
        fonts[name] = float(own.group(1)) if own else base
    return fonts


def nodes(lines: list[str], fonts: dict[str, float]) -> list[tuple[str, float, float, str,
                                                                    float]]:
    """(style, x, y, text, font pt) of every node (its own ``font=`` first)."""
    out = []
    for line in lines:
        hit = NODE.match(line.strip())
        if hit:
            opts, x, y, text = hit.groups()
            style = opts.split(",")[0].strip()
            own = FONT.search(opts)
            size = float(own.group(1)) if own else fonts.get(style, 0.0)
            # the role: a style of cells drawn smaller is named cm-<role>-<k>
            out.append((re.sub(r"-\d+$", "", style), float(x), float(y), text, size))
    return out


def beamer_frames(tex: str) -> tuple[list[str], list[list[str]]]:
    """The still lines and each overlay's lines of a beamer frame."""
    head, *parts = re.split(r"^\\only<\d+>\{% frame \d+$", tex, flags=re.M)
    return head.splitlines(), [p.split("\n}\n")[0].splitlines() for p in parts]


def picture_scale(tex: str) -> float:
    """The ``scale=`` of the tikzpictures (1 when none): fonts are not scaled by it, but
    a picture scaled down would draw its cells smaller than the font (checked by caller)."""
    opts = re.findall(r"\\begin\{tikzpicture\}\[([^\]]*)\]", tex)
    scales = [float(s) for o in opts for s in re.findall(r"(?<![\w])scale=([\d.]+)", o)]
    return min(scales, default=1.0)


def frame_contents(still: list, frame: list, x_row: float, x0: float) -> dict:
    """What a frame shows of ``y = A x``, by the cells it draws: the x row (drawn position
    -> text), the entries ((x, y) -> text), the current row's lit cells and y, the ``⋯``."""
    both = still + frame
    return dict(
        x={round(x, 3): t for s, x, y, t, _ in both if s == "cm-input" and y == x_row
           and x > x0},
        entries={(round(x, 3), round(y, 3)): t for s, x, y, t, _ in both
                 if s.startswith("cm-entry")},
        lit=[(round(x, 3), round(y, 3)) for s, x, y, t, _ in frame if s == "cm-lit"],
        current=[(round(y, 3), t) for s, x, y, t, _ in frame if s == "cm-current"],
        dots={(round(x, 3), round(y, 3)) for s, x, y, t, _ in both
              if s == "cm-label" and "cdots" in t})


def check_frames(tex: str, a: np.ndarray, x: np.ndarray, beamer: bool,
                 pattern: np.ndarray | None = None) -> list[float]:
    """Every frame's entries are ``a``'s at the columns their x entries name (x has distinct
    entries) and the rows their place names; every entry of ``a`` in a written row and
    column is written; the current row's hidden entries sit behind a lit ``⋯``; the kept
    columns form whole blocks. ``pattern``: where ``a`` has stored entries (zero weights
    included; default: its non-zeros). Returns the font sizes of the numbers of A, x, y."""
    pattern = a != 0 if pattern is None else pattern
    fonts = styles_fonts(tex)
    if beamer:
        still_lines, frame_lines = beamer_frames(tex)
    else:
        pics = tex.split(r"\begin{tikzpicture}")[1:]
        still_lines, frame_lines = [], [p.splitlines() for p in pics]
    assert len(frame_lines) == a.shape[0]
    where = {v: c for c, v in enumerate(x.ravel().tolist())}
    sizes = []
    still = nodes(still_lines, fonts)
    framed = [nodes(lines, fonts) for lines in frame_lines]
    # A's outline: the x row's cells are right of its left edge (the panel's are not)
    x0 = float(re.search(r"\\path\[draw=cmGrid, line width=0.8pt\] \(([-\d.]+),", tex)
               .group(1))
    x_row = next((y for frame in framed for s, x, y, *_ in frame if s == "cm-x-lit"), None)
    if x_row is None:  # no row reads a written column: then A shows no entry either
        assert not any(s.startswith("cm-entry") for f in [still, *framed] for s, *_ in f)
        return []
    for t, frame in enumerate(framed):
        f = frame_contents(still, frame, x_row, x0)
        cols = {xx: where[int(v)] for xx, v in f["x"].items()}
        # the current row: the outline of A's row; y[t] the current cell there nearest A
        y_t = float(re.search(r"\\path\[draw=cmKernel[^\]]*\] \([-\d.]+,([-\d.]+)\) "
                              r"rectangle", "\n".join(frame_lines[t])).group(1)) + 0.5
        # (the outline and the nodes are rounded apart: snap to the nearest current cell)
        y_t = min((y for y, _ in f["current"]), key=lambda y: abs(y - y_t))
        y_text = max((x, t_) for s, x, y, t_, _ in frame if s == "cm-current"
                     and round(y, 3) == y_t)[1]
        assert int(y_text) == int(a[t] @ x.ravel())  # y[t] = A[t] x
        # each entry at (column its x names, row its place names): the row t + its offset
        placed = {(t + int(round(yy - y_t)), cols[xx]): text
                  for (xx, yy), text in f["entries"].items()}
        for (row, c), text in placed.items():
            assert pattern[row, c] and int(text) == a[row, c], (t, row, c)
        for row in {r for r, _ in placed} | {t}:  # nothing of A missing in a written row
            for c in cols.values():
                if pattern[row, c]:
                    assert (row, c) in placed, (t, row, c)
        # the current row: its written entries lit; the hidden ones behind a lit ⋯
        lit = set(f["lit"])
        seen = {c for xx, c in cols.items() if pattern[t, c]}
        assert {cols[xx] for xx, _ in lit if xx in cols} == seen
        hidden = np.count_nonzero(pattern[t]) - len(seen)
        lit_dots = {p for p in lit if p[0] not in cols}
        assert bool(hidden) == bool(lit_dots)
        assert lit_dots <= f["dots"]
        # kept columns: whole blocks of the finest level between the ellipses
        order = sorted(cols)
        runs, run = [], [cols[order[0]]]
        for p, q in zip(order, order[1:]):
            if round(q - p, 3) == 1:
                run.append(cols[q])
            else:
                runs.append(run)
                run = [cols[q]]
        runs.append(run)
        block = x.shape[-1]
        width = len(cols) + sum(1 for _, yy in f["dots"] if yy == x_row)
        if len(runs) > 1 and width >= 2 * block + 1:  # (else single columns: blocks too big)
            for run in runs:
                assert run == list(range(run[0], run[-1] + 1))
                assert run[0] % block == 0 and (run[-1] + 1) % block == 0, runs
        sizes += [s for st, *_, s in frame + still if st.startswith(("cm-entry", "cm-current"))]
        sizes += [s for st, xx, yy, txt, s in frame if st == "cm-x-lit"]
    return sizes


# ------------------------------------------------------------------ the worked examples


WORKED = dict(input_shape=(5, 5), kernel_shape=(3, 3), weight=W)
XD = np.arange(1, 26).reshape(5, 5)  # distinct entries: each names its column
DILATED = dict(input_shape=(7, 7), kernel_shape=(3, 3), dilation=2, weight=W)
XD7 = np.arange(1, 50).reshape(7, 7)


@pytest.mark.parametrize("case, x, oracle", [
    (WORKED, XD, lambda w: dense_matrix(w, (5, 5))),
    (DILATED, XD7, lambda w: dilated_matrix(w, (7, 7), 2)),
])
@pytest.mark.parametrize("beamer", [True, False])
def test_tikz_digits_are_8pt_and_each_frame_shows_as_row(case, x, oracle, beamer, tmp_path):
    anim = figures.animate_matrix(**case, x=x)
    try:
        tex = figures.save(anim, tmp_path / "a.tex", beamer=beamer).read_text()
    finally:
        plt.close("all")
    a, pattern = oracle(W), oracle(np.ones_like(W)) != 0  # W has zero weights
    assert np.array_equal(convmat.conv_matrix(W, case["input_shape"],
                                              dilation=case.get("dilation", 1)).toarray(), a)
    sizes = check_frames(tex, a, x, beamer, pattern)
    assert picture_scale(tex) == 1.0
    assert sizes and min(sizes) >= 8.0, min(sizes)
    # the cell holds its digit: the cells are at least 8 pt / 0.55
    cell = float(re.search(r"minimum size=([\d.]+)cm", tex).group(1))
    assert cell * 72.27 / 2.54 * 0.55 >= 8.0 - 0.1


def test_the_worked_beamer_frame_fills_the_slide_legibly(tmp_path):
    """The 9 x 25 worked matrix on a beamer frame: digits of 8 pt at least (they were
    about 4 pt scaled to the width), the matrix's rows of most of the frame's height."""
    anim = figures.animate_matrix((5, 5), (3, 3), x=X, weight=W)
    try:
        tex = figures.save(anim, tmp_path / "b.tex", beamer=True).read_text()
    finally:
        plt.close("all")
    fonts = styles_fonts(tex)
    entries = [s for st, *_, s in nodes(tex.splitlines(), fonts) if st.startswith("cm-entry")]
    assert min(entries) >= 8.0
    head = re.search(r"% matrix: \d+ frames, ([\d.]+) x ([\d.]+) cells", tex)
    cell = float(re.search(r"minimum size=([\d.]+)cm", tex).group(1))
    width, height = float(head.group(1)) * cell, float(head.group(2)) * cell
    assert width <= 11.0 + 0.01 and height + 2.4 * cell <= 7.4 + 0.01  # in the frame
    assert height + 2.4 * cell >= 0.9 * 7.4  # height-bound: it fills the frame's height


@requires_pdflatex
@pytest.mark.parametrize("beamer", [True, False])
def test_the_pdf_pages_are_the_frames_and_hold_their_values(beamer, tmp_path):
    anim = figures.animate_matrix((5, 5), (3, 3), x=X, weight=W)
    try:
        tex = figures.save(anim, tmp_path / "w.tex", beamer=beamer)
    finally:
        plt.close("all")
    pdf = compile_tex(tex)
    assert pages(pdf) == anim.n_frames == 9
    a = dense_matrix(W, (5, 5))
    y = a @ X.ravel()
    for t in (0, 4, 8):
        words = pdf_words(pdf, t + 1)
        numbers = [w for w in words if w.isdigit()]
        assert str(y[t]) in numbers
        # the row's written entries are among the page's numbers, as often as in A's row
        row = [str(v) for v in a[t][a[t] != 0]]
        for v in set(row):
            assert numbers.count(v) >= 1


# ------------------------------------------------------------------ random geometries


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometries(ndims=(1, 2), modes=("zeros",), channels=False, max_input=9, max_kernel=3,
                  max_stride=2, max_dilation=3, max_pad=2))
def test_tikz_frames_show_exactly_as_entries(g):
    assume(not g.flip and g.groups == 1)
    rng = np.random.default_rng(3)
    w = rng.integers(1, 9, g.kernel)
    kw = dict(stride=g.stride, padding=g.padding, dilation=g.dilation)
    a = convmat.conv_matrix(w, g.input_shape, **kw).toarray()
    assume(a.shape[0] <= 60)
    x = np.arange(1, int(np.prod(g.input_shape)) + 1).reshape(g.input_shape)
    anim = figures.animate_matrix(g.input_shape, g.kernel, weight=w, x=x, **kw)
    try:
        from convmat.latex import tikz

        tex = tikz(anim.picture_layout(beamer=True), beamer=True, standalone=False)
    finally:
        plt.close("all")
    if a.shape[1] > 4 * 18:  # a pattern without digits: nothing to read
        return
    if len(g.input_shape) == 1:  # one row of blocks: single columns
        x = x.reshape(-1, 1)
    check_frames(tex, a, x, True)


def _mpl_frame(anim, t):
    """(column of each drawn position, y of the current row, digit texts by place) of
    matplotlib frame t, read from the artists: the x digits name the columns."""
    anim.show_frame(t)
    art = anim.artists
    ax = art["cells"].axes
    x_row = min(v[:, 1].min() for v in (p.vertices for p in art["x-cells"].get_paths()))
    y_t = art["y"].get_paths()[-1].vertices[:, 1].min()  # the current entry of y: the last
    texts = [tx for tx in ax.texts if tx.get_visible()]
    cols = {round(tx.get_position()[0] - 0.5, 3): int(tx.get_text()) for tx in texts
            if abs(tx.get_position()[1] - 0.5 - x_row) < 1e-6 and tx.get_text().isdigit()}
    digits = {(round(tx.get_position()[0] - 0.5, 3), round(tx.get_position()[1] - 0.5, 3)):
              (tx.get_text(), tx.get_fontsize()) for tx in texts if tx.get_gid() == "digit"}
    return cols, y_t, digits


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometries(ndims=(1, 2), modes=("zeros",), channels=True, max_input=8, max_kernel=3,
                  max_stride=2, max_dilation=3, max_pad=2))
def test_matplotlib_frames_show_exactly_as_entries(g):
    """With channels and a small figure (elision likely): the digits drawn in frame t are
    the entries of A at the columns the x digits above them name, at least 8 pt."""
    assume(not g.flip)
    rng = np.random.default_rng(4)
    w = rng.integers(1, 9, (g.c_out, g.c_in // g.groups, *g.kernel))
    kw = dict(stride=g.stride, padding=g.padding, dilation=g.dilation, groups=g.groups)
    a = convmat.conv_matrix(w, g.input_shape, **kw).toarray()
    assume(a.shape[0] <= 40)
    x = np.arange(1, g.c_in * int(np.prod(g.input_shape)) + 1).reshape(g.c_in,
                                                                     *g.input_shape)
    anim = figures.animate_matrix(g.input_shape, g.kernel, weight=w, x=x, figsize=(8, 6),
                                  **kw)
    try:
        for t in sorted({0, a.shape[0] // 2, a.shape[0] - 1}):
            cols, y_t, digits = _mpl_frame(anim, t)
            if not digits:
                continue  # no digits at this size (a pattern): nothing to read
            for (xx, yy), (text, size) in digits.items():
                assert size >= 8.0
                row = t + int(round(yy - y_t))
                assert int(text) == a[row, cols[xx] - 1]
            shown_rows = {yy for _, yy in digits}
            for yy in shown_rows:
                row = t + int(round(yy - y_t))
                for xx, c in cols.items():
                    if a[row, c - 1]:
                        assert (xx, yy) in digits
    finally:
        plt.close("all")


# ------------------------------------------------------------------ matplotlib, wide


def test_a_wide_matrix_elides_columns_keeping_the_current_rows():
    """64 x 64 (8 x 8 input, padding 1): too wide for 8-pt digits on a slide, so whole
    blocks of 8 columns are elided; each frame shows its row's columns; digits >= 8 pt."""
    x = np.arange(1, 65).reshape(8, 8)
    w = np.arange(1, 10).reshape(3, 3)
    a = convmat.conv_matrix(w, (8, 8), padding=1).toarray()
    anim = figures.animate_matrix((8, 8), (3, 3), padding=1, x=x, weight=w)
    try:
        assert anim.cols_shown < 64 and anim.rows_shown < 64
        for t in (0, 27, 63):
            cols, y_t, digits = _mpl_frame(anim, t)
            assert len(cols) % 8 == 0  # whole blocks
            assert {c - 1 for c in cols.values()} >= set(np.flatnonzero(a[t]))
            assert digits and min(s for _, s in digits.values()) >= 8.0
            assert {int(txt) for (xx, yy), (txt, _) in digits.items() if yy == y_t} == \
                set(a[t][a[t] != 0].tolist())
    finally:
        plt.close("all")


def test_block_elide_moves_the_ellipsis_to_keep_columns():
    # the default: head and tail whole blocks
    assert block_elide(25, 16, (5,)) == [*range(10), None, *range(20, 25)]
    # a row reading blocks 1..3 of 5: a window of whole blocks between two ellipses
    assert block_elide(25, 17, (5,), keep=[6, 12, 18]) == [None, *range(5, 20), None]
    # blocks 2..4: the ellipsis moves to the front
    assert block_elide(25, 17, (5,), keep=[12, 24]) == [None, *range(10, 25)]
    # dilation: blocks 1, 3, 5 of 7 kept, the others behind ellipses, none merged
    shown = block_elide(49, 30, (7,), keep=[8, 22, 36])
    assert shown == [None, *range(7, 14), None, *range(21, 28), None, *range(35, 42), None]


def test_speed_of_the_worked_example(tmp_path):
    anim = figures.animate_matrix((5, 5), (3, 3), x=X, weight=W)
    try:  # processor time: what the work costs, not what a loaded machine makes it wait
        # once untimed: the imports and font tables a first save loads in a fresh process
        # (0.7 s of processor time in a fresh environment) are not the work
        figures.save(anim, tmp_path / "warm.tex", beamer=True)
        start = time.process_time()
        figures.save(anim, tmp_path / "x.tex", beamer=True)
        tikz_s = time.process_time() - start
        start = time.process_time()
        figures.save(anim, tmp_path / "x.pdf")
        pdf_s = time.process_time() - start
    finally:
        plt.close("all")
    # the bar: TikZ 0.5 s, PDF 2 s (about 1.3 s on a quiet machine); 1.5 x for a loaded one
    assert tikz_s < 0.5 and pdf_s < 2.0 * 1.5, (tikz_s, pdf_s)



def test_the_record_is_laid_out_for_the_writers_boxes():
    """The record's room (figures) is the TikZ writer's box (latex), at its digit share."""
    from convmat.figures import _scenes
    from convmat.latex import _tikz

    assert _scenes.TIKZ_BOXES == {False: _tikz.PAGE_BOX, True: _tikz.BEAMER_BOX}
    assert (_scenes.TIKZ_SHARE, _scenes.TIKZ_LEGEND) == (_tikz.DIGIT_SHARE,
                                                          _tikz.BEAMER_LEGEND)
