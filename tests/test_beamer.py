"""Displays that do not mislead, and beamer frames that fill the slide legibly.

Everything is read back from the emitted LaTeX (cells, column specs, the ``x``/``y`` entries
that name the written rows and columns) and checked against definitions written here: the
block of a column is the image row (and channel) of its input entry, a structural zero is a
position no tap of the direct convolution reaches (``tests/oracle.py``), the font size of a
compiled frame is the scale TeX chose (read from its log) times beamer's 11 pt.
"""

from __future__ import annotations

import math
import re
import subprocess
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import display, layout, symbolic
from convmat.errors import ConvmatError
from convmat.latex import to_latex

from .conftest import requires_pdflatex
from .oracle import direct_matrix

WORKED = np.arange(1, 10).reshape(3, 3)  # the worked example: 3x3 kernel on a 5x5 input
ENV = re.compile(r"\\begin\{(array|bmatrix)\}(\{[^}]*\})?\n(.*?)\n\\end\{\1\}", re.DOTALL)


def _envs(tex: str) -> list[tuple[str, list[list[str]]]]:
    """(column spec, cells) of every environment of ``tex``, rules left out of the cells."""
    out = []
    for _, spec, body in ENV.findall(tex):
        cells = [line.removesuffix(r" \\").split(" & ") for line in body.split("\n")
                 if not line.startswith(r"\hline")]
        out.append((spec.strip("{}"), cells))
    return out


def _rules(spec: str) -> dict[int, int]:
    """Rules after each column of an array spec: ``ccc|cc||c`` -> {2: 1, 4: 2}."""
    out, k = {}, -1
    for token in re.findall(r"c|\|+", spec):
        if token == "c":
            k += 1
        else:
            out[k] = len(token)
    return out


def _indices(column: list[list[str]], name: str, shape: tuple[int, ...]) -> list[int | None]:
    """The flat indices a vector's written entries name (``None``: the ellipsis)."""
    out = []
    for (cell,) in column:
        found = re.search(name + r"_\{([\d,]+)\}", cell)
        out.append(None if found is None else
                   int(np.ravel_multi_index(tuple(map(int, found.group(1).split(","))), shape)))
    return out


@st.composite
def geometries(draw):
    c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    size = tuple(draw(st.integers(3, 9)) for _ in range(n))
    kernel = tuple(draw(st.integers(1, min(3, s))) for s in size)
    stride = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    w = rng.integers(-2, 3, size=(c_out, c_in, *kernel))  # zeros among the weights: stored 0s
    return w, size, stride


@settings(max_examples=60, deadline=None)
@given(geometries(), st.one_of(st.none(), st.integers(2, 40)),
       st.one_of(st.none(), st.integers(2, 40)))
def test_elided_displays_keep_blocks_apart_and_mark_structural_zeros(case, max_rows, max_cols):
    """The written columns (named by the x entries) on the two sides of the ellipsis lie in
    different blocks; every written block is whole or ends at the ellipsis; a rule separates
    any two written blocks; ``\\cdot`` is exactly the structural zeros of the written part and
    ``0`` the stored zeros (kernel weights that are zero)."""
    w, size, stride = case
    A = convmat.conv_matrix(w, size, stride=stride)
    geom = A.geometry
    c_out, c_in = w.shape[:2]
    x_shape = (c_in, *size) if c_in > 1 else size
    y_shape = (c_out, *geom.output_shape) if c_out > 1 else geom.output_shape
    tex = display.show(A, x="x", y="y", max_rows=max_rows, max_cols=max_cols).latex
    (_, ys), (spec, cells), (_, xs) = _envs(tex)
    cols, rows = _indices(xs, "x", x_shape), _indices(ys, "y", y_shape)
    width = size[-1] if len(x_shape) > 1 else math.prod(x_shape)  # one block: an image row

    def block(c):
        return c // width

    rules = _rules(spec)
    written = [c for c in cols if c is not None]
    assert written == sorted(written) and cols.count(None) <= 1
    for k in range(len(cols) - 1):  # written neighbours of different blocks: a rule between
        a, b = cols[k], cols[k + 1]
        if a is not None and b is not None and block(a) != block(b):
            assert rules.get(k), (k, spec)
    if None in cols:
        k = cols.index(None)
        head, tail = cols[:k], cols[k + 1:]
        if tail and len(x_shape) > 1:
            assert block(head[-1]) != block(tail[0])  # the ellipsis sits between blocks
            assert rules.get(k - 1) or head[-1] % width != width - 1
            assert rules.get(k) or tail[0] % width != 0
        counts = {}
        for c in written:
            counts[block(c)] = counts.get(block(c), 0) + 1
        for b, n in counts.items():  # a written block is whole or cut at the ellipsis
            whole = min(width, math.prod(x_shape) - b * width)
            assert n == whole or b in (block(head[-1]), block(tail[0]) if tail else None)
    # structural and stored zeros, from the direct definition
    pads = tuple((0, 0) for _ in size)
    kw = dict(stride=(stride,) * len(size), pads=pads, dilation=(1,) * len(size))
    reach = direct_matrix(size, np.ones_like(w), **kw) != 0
    value = direct_matrix(size, w, **kw)
    rows_w = [r for r in rows if r is not None]
    matrix_cells = [[cell for cell in row] for row in cells if r"\vdots" not in row[0]]
    matrix_cells = [[cell for cell, c in zip(row, cols) if c is not None]
                    for row in matrix_cells]
    assert len(matrix_cells) == len(rows_w)
    sub_reach = reach[np.ix_(rows_w, written)]
    sub_value = value[np.ix_(rows_w, written)]
    flat = np.array(matrix_cells)
    assert (flat == r"\cdot").sum() == (~sub_reach).sum()
    assert ((flat == r"\cdot") == ~sub_reach).all()
    assert ((flat == "0") == (sub_reach & (sub_value == 0))).all()


def test_the_worked_matrix_shows_whole_in_a_notebook():
    A = convmat.conv_matrix(WORKED, (5, 5))  # 9 x 25
    (spec, cells), = _envs(A._repr_latex_())
    assert len(cells) == 9 and all(len(row) == 25 for row in cells)
    assert r"\cdots" not in A._repr_latex_() and spec == "|".join(["ccccc"] * 5)
    # to 20 columns: two blocks, the ellipsis, one block, rules on both sides of it
    (spec, cells), = _envs(display.show(A, max_cols=20).latex)
    assert spec == "ccccc|ccccc|c|ccccc" and [row[10] for row in cells] == [r"\cdots"] * 9


def test_overlay_cols_steps_through_the_columns_highlighting_their_nonzeros():
    A = convmat.conv_matrix(WORKED, (4, 4))  # 4 x 16: fits a slide whole
    dense = A.toarray()
    tex = to_latex(A, overlay="cols", x="x", y="y", grid=True)
    formula = tex.split("\\sbox0{$\\displaystyle\n")[1].split("\n$}%")[0]
    cells = _envs(formula)[1][1]
    slides = set()
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            found = re.match(r"\\alert<(\d+)>\{", cell)
            assert (found is not None) == (dense[r, c] != 0), (r, c)
            if found:
                assert int(found.group(1)) == c + 1  # column c on slide c + 1
                slides.add(int(found.group(1)))
    assert len(cells[0]) == 16 and slides == set(range(1, 17))  # one overlay per column
    # y_r alerted on the slides of the columns that feed it, x_c on slide c + 1
    for c in range(16):
        assert rf"\alert<{c + 1}>{{x_{{{c // 4},{c % 4}}}}}" in formula
    for r in range(dense.shape[0]):
        spec = re.search(rf"\\alert<([\d,-]+)>\{{y_\{{{r // 2},{r % 2}\}}\}}", formula).group(1)
        steps = set()
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            steps |= set(range(int(lo), int(hi or lo) + 1))
        assert steps == {c + 1 for c in np.flatnonzero(dense[r])}


def test_beamer_options_are_checked():
    A = convmat.conv_matrix(WORKED, (5, 5))
    with pytest.raises(ConvmatError, match="title='T' names a beamer frame"):
        to_latex(A, title="T")
    with pytest.raises(ConvmatError, match="title=3 must be text"):
        to_latex(A, beamer=True, title=3)
    with pytest.raises(ConvmatError, match="beamer='yes'"):
        to_latex(A, beamer="yes")
    with pytest.raises(ConvmatError, match="overlay='cols'"):
        to_latex(convmat.kong_lucey(WORKED, (7, 7), stride=2), overlay="cols")
    for bad in (dict(grid=10**5000), dict(spacing=10**5000),  # found by the hostile test
                dict(overlay="rows", highlight_row=10**5000)):
        with pytest.raises(ConvmatError, match="<int of ~5001 digits>"):
            to_latex(A, beamer=True, **bad)
    frame = to_latex(A, beamer=True, title="50% & {more}")
    assert frame.startswith(r"\begin{frame}{50\% \& \{more\}}") and r"\alert" not in frame


def test_a_kong_lucey_result_is_one_frame_per_display():
    kl = convmat.kong_lucey(WORKED, (7, 7), stride=2)
    frames = to_latex(kl, beamer=True, title="KL").split(r"\end{frame}")[:-1]
    subtitles = [re.search(r"\\begin\{frame\}\{KL\}\{([^\n]*)\}\n", f).group(1) for f in frames]
    assert subtitles[0].startswith("strided") and subtitles[1].startswith("columns grouped")
    assert all(s.startswith("sum") for s in subtitles[2:]) and len(frames) >= 3
    one = to_latex(kl, beamer=True, part="permuted")
    assert one.count(r"\begin{frame}") == 1


def _frame_fonts(tmp_path, name: str, tex: str) -> tuple[list[float], int]:
    """Compile a beamer document: the digits' size (pt) in each frame, and the pages."""
    (tmp_path / f"{name}.tex").write_text(tex)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          f"{name}.tex"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    scales = [float(s) for s in re.findall(r"convmat frame scale: ([0-9.]+)pt", log)]
    pages = int(re.search(r"Output written on \S+ \((\d+) pages?", log).group(1))
    return [11 * s for s in scales], pages


@requires_pdflatex
def test_beamer_frames_compile_and_keep_the_digits_at_8pt_or_more(tmp_path):
    A = convmat.conv_matrix(WORKED, (5, 5))
    cases = {
        "rows": (to_latex(A, overlay="rows", x="x", y="y", grid=True, title="Window",
                          standalone=True), None),
        "cols": (to_latex(A, overlay="cols", x="x", y="y", grid=True, title="Scatter",
                          standalone=True), None),
        "column": (to_latex(A, overlay="rows", x="x", y="y", standalone=True), None),
        "plain": (to_latex(A, beamer=True, standalone=True), 1),
        "wide": (to_latex(convmat.conv_matrix(np.ones((3, 3)), (32, 32)), beamer=True,
                          title="900 x 1024", standalone=True), 1),
        "symbolic": (to_latex(symbolic.conv_matrix((3, 3), (5, 5)), beamer=True, zero="cdot",
                              standalone=True), 1),
        "kl": (to_latex(convmat.kong_lucey(WORKED, (7, 7), stride=2), beamer=True,
                        title="KL", standalone=True), None),
    }
    for name, (tex, pages) in cases.items():
        fonts, written = _frame_fonts(tmp_path, name, tex)
        assert fonts and min(fonts) >= 8.0, (name, fonts)
        assert max(fonts) <= 22.0, (name, fonts)  # at most twice up
        slides = len(re.findall(r"\\alert<(\d+)>", tex)) and max(
            int(t) for t in re.findall(r"\\alert<(?:[\d,-]*[,-])?(\d+)>", tex))
        if name in ("rows", "cols"):
            assert written == slides, (name, written, slides)
        if pages is not None:
            assert written == pages, name
    # the whole worked matrix is larger than beamer's 11 pt: it is scaled up, not elided
    fonts, _ = _frame_fonts(tmp_path, "plain2", to_latex(A, beamer=True, standalone=True))
    assert fonts[0] > 11 and r"\cdots" not in to_latex(A, beamer=True)


def test_plain_reprs_are_short_and_fast():
    A = convmat.conv_matrix(np.ones((3, 3)), (64, 64), padding=1)
    kl = convmat.kong_lucey(np.ones((3, 3)), (32, 32), stride=2)
    results = {
        "symbolic 900 x 1024": symbolic.conv_matrix((3, 3), (32, 32)),
        "symbolic transposed": symbolic.conv_transpose_matrix((3, 3), (16, 16), stride=2),
        "symbolic product": symbolic.product(symbolic.conv_matrix((3, 3), (32, 32))),
        "symbolic kong-lucey": symbolic.kong_lucey((3, 3), (16, 16), stride=2),
        "numeric": A, "A.T": A.T, "A @ A": A @ A, "slice": A[:64], "2 A": 2 * A,
        "kong-lucey": kl, "show": display.show(A),
    }
    for name, obj in results.items():
        start = time.perf_counter()
        text = repr(obj)
        seconds = time.perf_counter() - start
        assert seconds < 0.1 and len(text.encode()) < 10_000, (name, seconds, len(text))
        assert len(str(obj).encode()) < 10_000 or name == "show", name


def test_slices_of_whole_blocks_keep_their_rules():
    A = convmat.conv_matrix(WORKED, (5, 5))  # rows: blocks of 3, columns: blocks of 5
    kept = A[3:9, 5:20]
    (spec, cells), = _envs(kept._repr_latex_())
    assert spec == "ccccc|ccccc|ccccc" and r"\hline" in kept._repr_latex_()
    assert kept.geometry is None and kept.block_levels == ((3,), (5,))
    for cut in (A[1:4], A[:, 2:12], A[[0, 2]], A[:4]):
        assert cut.block_levels is None and "|" not in cut._repr_latex_()
    (spec, _), = _envs(A.T[:10]._repr_latex_())  # A.T: rows the 5x5 input, columns 3x3
    assert spec == "ccc|ccc|ccc"


def test_the_command_line_reaches_every_beamer_option(capsys):
    from convmat.cli import main

    args = ["--input", "5x5", "--kernel", "3x3", "--weights", "1,2,3;4,5,6;7,8,9",
            "--format", "latex", "--x", "x", "--y", "y", "--grid"]
    assert main(["matrix", *args, "--overlay", "cols", "--title", "Scatter"]) == 0
    out = capsys.readouterr().out
    A = convmat.conv_matrix(WORKED, (5, 5))
    assert out.rstrip("\n") == to_latex(A, x="x", y="y", grid=True, overlay="cols",
                                        title="Scatter", max_rows=40, max_cols=40)
    assert main(["matrix", *args, "--beamer"]) == 0
    assert capsys.readouterr().out.startswith("\\begin{frame}\n")
    assert main(["matrix", *args, "--title", "T"]) == 2  # a title without a frame
    assert "--title names a beamer frame" in capsys.readouterr().err
    kl = ["kong-lucey", "--input", "7x7", "--kernel", "3x3", "--stride", "2", "--format",
          "latex"]
    assert main([*kl, "--beamer", "--title", "KL"]) == 0
    assert capsys.readouterr().out.count("\\begin{frame}{KL}") >= 3
    assert main([*kl, "--overlay", "cols"]) == 2
    assert "--overlay cols" in capsys.readouterr().err
    assert main(["matrix", "--input", "5x5", "--kernel", "3x3", "--title", "T"]) == 2
    assert "--title applies to --format latex only" in capsys.readouterr().err


# -- the words of the frames, in the chosen language -----------------------------------------

def _typeset_words(deck: str) -> set[str]:
    """The words a beamer document typesets: its body without math, LaTeX commands,
    environment names, lengths and the log line each frame writes."""
    body = deck.split(r"\begin{document}")[-1]
    body = re.sub(r"\\typeout\{[^\n]*\}", " ", body)
    body = re.sub(r"\$[^$]*\$", " ", body)  # math (the formulas, the subtitles' equations)
    body = re.sub(r"\\(begin|end)\{\w+\}", " ", body)
    body = re.sub(r"\\[A-Za-z]+", " ", body)
    body = re.sub(r"[\d.]+pt\b", " ", body)
    return set(re.findall(r"[^\W\d_]{2,}", body))


def _catalogue_words(lang: str) -> set[str]:
    return set().union(*(set(re.findall(r"[^\W\d_]{2,}", re.sub(r"\{\w+\}", " ", v)))
                         for v in layout.labels(lang).values()))


@pytest.mark.parametrize("kl", [
    convmat.kong_lucey(WORKED, (7, 7), stride=2),
    convmat.kong_lucey(np.ones((2, 1, 3)), (9,), stride=3, padding=1),
    symbolic.kong_lucey((3, 3), (6, 6), stride=2, name="h"),
])
def test_a_spanish_deck_writes_only_words_of_the_spanish_catalogue(kl):
    title = layout.labels("es")["kong_lucey"]
    deck = to_latex(kl, beamer=True, title=title, standalone=True, lang="es")
    words = _typeset_words(deck)
    spanish, english = _catalogue_words("es"), _catalogue_words("en")
    assert {"columnas", "agrupadas", "por", "fase", "suma", "sobre", "las", "fases"} <= words
    assert words <= spanish, words - spanish
    assert not words & (english - spanish)
    assert _typeset_words(to_latex(kl, beamer=True, standalone=True)) <= english


def test_english_subtitles_are_the_default_and_unchanged():
    kl = convmat.kong_lucey(WORKED, (7, 7), stride=2)
    deck = to_latex(kl, beamer=True, title="KL")
    assert deck == to_latex(kl, beamer=True, title="KL", lang="en", labels=None)
    subtitles = re.findall(r"\\begin\{frame\}\{KL\}\{([^\n]*)\}\n", deck)
    assert subtitles == [
        r"strided: $y = A\,x$ on the padded input",
        r"columns grouped by phase: $y = [\,T_0 \mid T_1 \mid \cdots\,]\,x$",
        *(rf"sum over the phases: $y = \sum_r T_r\,x_r$ (phase {k} of 4)" for k in (1, 2, 3, 4))]


def test_overrides_reach_the_frames_as_escaped_text_and_bad_words_are_named():
    kl = convmat.kong_lucey(WORKED, (7, 7), stride=2)
    deck = to_latex(kl, beamer=True, part="permuted", lang="es",
                    labels={"permuted_display": "A Π: {equation} & 50%"})
    assert r"\begin{frame}{A Π: $y = [\,T_0 \mid T_1 \mid \cdots\,]\,x$ \& 50\%}" in deck
    for bad, names in ((dict(lang="fr"), ["lang='fr'", "to_latex", "en, es"]),
                       (dict(labels={"permuted": "x"}), ["'permuted'", "to_latex"]),
                       (dict(labels={"sum_display": 3}), ["labels['sum_display']=3"])):
        with pytest.raises(ConvmatError) as info:
            to_latex(kl, beamer=True, **bad)
        assert all(name in str(info.value) for name in names), str(info.value)
    with pytest.raises(ConvmatError, match="lang='de'"):  # checked without a frame too
        to_latex(convmat.conv_matrix(WORKED, (5, 5)), lang="de")


def test_the_command_line_writes_spanish_frames(capsys):
    from convmat.cli import main

    args = ["kong-lucey", "--input", "7x7", "--kernel", "3x3", "--weights", "1,2,3;4,5,6;7,8,9",
            "--stride", "2", "--format", "latex", "--beamer", "--title", "KL", "--lang", "es"]
    assert main(args) == 0
    out = capsys.readouterr().out
    kl = convmat.kong_lucey(WORKED, (7, 7), stride=2)
    assert out.rstrip("\n") == to_latex(kl, beamer=True, title="KL", lang="es", max_rows=40,
                                        max_cols=40)
    assert "columnas agrupadas por fase" in out
    matrix = ["matrix", "--input", "5x5", "--kernel", "3x3", "--format", "latex", "--beamer",
              "--lang", "es"]
    assert main(matrix) == 0 and capsys.readouterr().out.startswith("\\begin{frame}\n")
    assert main(["matrix", "--input", "5x5", "--kernel", "3x3", "--lang", "es"]) == 2
    assert "--lang applies to --format latex only" in capsys.readouterr().err


# -- a column vector in a frame is elided on its own, so the matrix keeps its columns --------

def _frame_bodies(deck: str) -> list[str]:
    return deck.split(r"\end{frame}")[:-1]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2).flatmap(lambda n: st.tuples(
    st.tuples(*[st.integers(5, 12)] * n), st.tuples(*[st.integers(1, 3)] * n),
    st.tuples(*[st.integers(2, 3)] * n))))
def test_kong_lucey_frames_elide_x_on_its_own_and_keep_the_phases_apart(case):
    """In every frame the ``x`` column is whole or no taller than the matrix (three entries
    a phase at least) and names, in order, columns the display's definition puts there: the padded
    input in C order (strided) or ``kl.column_order`` (permuted), the first and last of each
    phase written, the ellipsis never joining two phases; the permuted matrix keeps at
    least as many columns as ``x`` shows entries."""
    size, kernel, stride = case
    kernel = tuple(min(k, s) for k, s in zip(kernel, size))
    kl = convmat.kong_lucey(np.ones(kernel), size, stride=stride)
    padded = kl.padded_shape
    strided, permuted = _frame_bodies(to_latex(kl, beamer=True, part="strided")), \
        _frame_bodies(to_latex(kl, beamer=True, part="permuted"))
    for frames, order in ((strided, np.arange(math.prod(padded))), (permuted, kl.column_order)):
        (_, ys), (spec, cells), (_, xs) = _envs(frames[0])
        cols = _indices(xs, "x", padded)
        if None in cols:  # elided: no taller than the matrix (or three entries a phase)
            assert len(cols) <= max(len(ys), 3 * len(kl.blocks) + 2, 5)
        else:
            assert len(cols) == len(order)
        where = {int(c): k for k, c in enumerate(order)}  # padded entry -> matrix column
        positions = [where[c] for c in cols if c is not None]
        assert positions == sorted(positions) and positions[0] == 0
        assert positions[-1] == len(order) - 1
    # permuted: per phase, its first and last entries, an ellipsis only inside a phase
    (_, _), (spec, cells), (_, xs) = _envs(permuted[0])
    cuts = np.cumsum([0] + [b.shape[1] for b in kl.blocks])
    where = {int(c): k for k, c in enumerate(kl.column_order)}
    cols = [None if c is None else where[c] for c in _indices(xs, "x", padded)]
    for r in range(len(kl.blocks)):
        if cuts[r + 1] > cuts[r]:
            assert cuts[r] in cols and cuts[r + 1] - 1 in cols
    for k, c in enumerate(cols):
        if c is None:
            before, after = cols[k - 1], cols[k + 1]
            assert np.searchsorted(cuts, before, "right") == np.searchsorted(cuts, after, "right")
    assert None not in cols or len(cells[0]) >= len(cols)  # the matrix keeps its columns


def test_the_worked_kong_lucey_frames_fill_the_slide_with_more_columns():
    """The worked deck (docs/display.md): the strided matrix shows three whole image rows (21
    of its 49 columns) and the permuted one at least 5 columns a phase (it showed 13 and 3
    while the x column was as tall as the matrix was wide)."""
    kl = convmat.kong_lucey(WORKED, (7, 7), stride=2)
    strided, permuted = _frame_bodies(to_latex(kl, beamer=True, title="KL"))[:2]
    (_, _), (spec, cells), (_, xs) = _envs(strided)
    assert len(cells[0]) - 1 >= 21 and len(xs) <= 9
    (_, _), (spec, cells), (_, xs) = _envs(permuted)
    per_phase = [len(part) for part in re.split(r"\|", spec)]
    assert min(per_phase) >= 5, spec


def test_an_overlay_alerts_the_x_ellipsis_on_the_slides_whose_window_it_hides():
    """Slide ``t`` (row ``t - 1``) alerts the ``x`` ellipsis exactly when the row has a
    stored entry in a column the elided ``x`` does not write (dense oracle: ``toarray``)."""
    A = convmat.conv_matrix(WORKED, (5, 5))
    frame = to_latex(A, overlay="rows", x="x", y="y")
    (_, ys), (_, cells), (_, xs) = _envs(frame)
    cols = _indices(xs, "x", (5, 5))
    assert None in cols and len(cells[0]) == 25  # x elided, the matrix whole
    (ellipsis,) = [cell for (cell,) in xs if r"\vdots" in cell]
    spec = re.fullmatch(r"\\alert<([\d,-]+)>\{\\vdots\}", ellipsis).group(1)
    slides = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        slides |= set(range(int(lo), int(hi or lo) + 1))
    dense = A.toarray()
    written = {c for c in cols if c is not None}
    expected = {r + 1 for r in range(dense.shape[0])
                if set(np.flatnonzero(dense[r])) - written}
    assert slides == expected
    # a frame drawn around an ellipsis would crowd the rules: only colour marks it
    boxed = to_latex(A, beamer=True, x="x", y="y", highlight_row=4)
    assert r"\vdots" in boxed and r"\boxed{\vdots}" not in boxed
