"""Style of the pictures (issue 22): the words in the chosen language, one colour rule
(taps never grey nor the input/kernel/output hues, a tap legend wherever taps are
coloured), legible digits (at least 8 pt; elision between whole blocks past that) — all
checked on the data behind the pictures."""

from __future__ import annotations

import colorsys
import re

import numpy as np
import pytest

import convmat
from convmat import layout
from convmat.cli import main

figures = pytest.importorskip("convmat.figures")
plt = pytest.importorskip("matplotlib.pyplot")
from matplotlib.colors import to_rgb  # noqa: E402

#: hues (degrees) of the input blue, kernel orange and output green (Okabe & Ito)
RESERVED = {"input": 202.0, "kernel": 41.0, "output": 164.0}


def _hsv(color):
    return colorsys.rgb_to_hsv(*to_rgb(color))


def _hue_gap(h: float, ref: float) -> float:
    d = abs(h * 360 - ref) % 360
    return min(d, 360 - d)


def _is_tap_colour(color) -> bool:
    """Saturated (not grey) and at least 15 degrees of hue from input/kernel/output."""
    h, s, _ = _hsv(color)
    return s >= 0.3 and all(_hue_gap(h, ref) >= 15 for ref in RESERVED.values())


def _texts(fig) -> list[str]:
    """Every text the picture writes: figure texts, axes texts, titles, axis labels, tick
    labels, legend entries and titles."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    return [t for t in out if t]


def _words(text: str) -> set[str]:
    """The words of a text: math (``$...$``), numbers and symbols left out."""
    return set(re.findall(r"[^\W\d_]{2,}", re.sub(r"\$[^$]*\$", " ", text)))


SPANISH = set().union(*(_words(v) for v in layout.labels("es").values()))
ENGLISH_ONLY = set().union(*(_words(v) for v in layout.labels("en").values())) - SPANISH

W3 = np.arange(1, 10).reshape(3, 3)
PICTURES = {
    "animate_convolution": lambda **k: figures.animate_convolution(
        (3, 3), (3, 3), stride=2, padding=1, transposed=True, output_padding=1, **k).figure,
    "animate_convolution-channels": lambda **k: figures.animate_convolution(
        (4, 4), (3, 3), weight=np.ones((2, 2, 3, 3)), groups=2, **k).figure,
    "animate_matrix": lambda **k: figures.animate_matrix(
        (5, 5), (3, 3), stride=2, padding=1, x=np.arange(25).reshape(5, 5), weight=W3,
        **k).figure,
    "animate_matrix-tall": lambda **k: figures.animate_matrix(
        (3, 3), (4, 4), stride=2, padding=1, transposed=True, **k).figure,
    "plot_connectivity": lambda **k: figures.plot_connectivity(
        (4, 4), (3, 3), weight=np.ones((2, 1, 3, 3)), groups=2, **k),
    "plot_connectivity-pair": lambda **k: figures.plot_connectivity(
        (5,), (3,), stride=2, side_by_side=True, **k),
    "plot_connectivity-transposed": lambda **k: figures.plot_connectivity(
        (3,), (3,), stride=2, transposed=True, **k),
    "plot_matrix": lambda **k: figures.plot_matrix(
        convmat.conv_matrix(np.ones((2, 1, 3, 3)), (4, 4)), **k),
    "plot_matrix-elided": lambda **k: figures.plot_matrix(
        convmat.conv_transpose_matrix(np.arange(1, 17).reshape(4, 4), (3, 3), stride=2,
                                      padding=1), **k),
    "plot_kong_lucey": lambda **k: figures.plot_kong_lucey(
        convmat.kong_lucey(W3, (5, 5), stride=2), **k),
    "animate_superposition": lambda **k: figures.animate_superposition(
        (3, 3), (3, 3), stride=2, padding=1, output_padding=1, **k).figure,
    "plot_overlap": lambda **k: figures.plot_overlap((5, 5), (3, 3), stride=2, **k),
}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", list(PICTURES))
def test_a_spanish_picture_writes_only_spanish_words(name):
    texts = _texts(PICTURES[name](lang="es"))
    assert texts
    words = set().union(*map(_words, texts))
    assert words <= SPANISH, (name, words - SPANISH)
    assert not words & ENGLISH_ONLY


#: a word each picture writes (a key of the catalogue)
WRITES = {"animate_convolution": "inserted_zero", "animate_convolution-channels": "groups",
          "animate_matrix": "input_flattened", "animate_matrix-tall": "taps",
          "plot_connectivity": "input_channels", "plot_connectivity-pair": "side_by_side",
          "plot_connectivity-transposed": "same_connections", "plot_matrix": "out",
          "plot_matrix-elided": "stored_entries", "plot_kong_lucey": "padded_input_x",
          "animate_superposition": "running_sum", "plot_overlap": "overlap_counts"}


@pytest.mark.parametrize("name", list(PICTURES))
def test_an_override_reaches_the_picture(name):
    texts = _texts(PICTURES[name](lang="es", labels={WRITES[name]: "PALABRA"}))
    assert any("PALABRA" in text for text in texts), name


def test_english_is_the_default_and_spanish_differs():
    en = set().union(*map(_words, _texts(PICTURES["animate_convolution"]())))
    es = set().union(*map(_words, _texts(PICTURES["animate_convolution"](lang="es"))))
    assert {"input", "kernel", "output", "inserted", "zero"} <= en
    assert {"entrada", "núcleo", "salida", "cero", "insertado"} <= es


@pytest.mark.parametrize("function", [
    figures.animate_convolution, figures.animate_matrix, figures.plot_connectivity,
    figures.animate_superposition, figures.plot_overlap])
@pytest.mark.parametrize("bad, names", [
    (dict(lang="fr"), ["lang='fr'", "en, es"]),
    (dict(labels={"kernal": "k"}), ["'kernal'", "inserted_zero"]),
    (dict(labels="kernel"), ["not a mapping"]),
])
def test_bad_words_are_refused_naming_the_call(function, bad, names):
    with pytest.raises(convmat.ConvmatError) as info:
        function((3, 3), (2, 2), **bad)
    for name in [*names, function.__name__]:
        assert name in str(info.value)


def test_bad_words_are_refused_by_the_matrix_pictures():
    for call in (lambda **k: figures.plot_matrix(np.eye(2), **k),
                 lambda **k: figures.plot_kong_lucey(convmat.kong_lucey(W3, (5, 5), stride=2),
                                                     **k)):
        with pytest.raises(convmat.ConvmatError, match="lang="):
            call(lang="de")
        with pytest.raises(convmat.ConvmatError, match="'nope'"):
            call(labels={"nope": "x"})


# -- colours ---------------------------------------------------------------------------------

def test_the_palettes_keep_the_rule():
    from convmat.figures._drawing import PHASE_COLORS, _tap_colors

    for n in (1, 4, 9, 16, 49):
        colors = _tap_colors(n)
        assert all(_is_tap_colour(c) for c in colors), n
        assert len({tuple(np.round(c, 3)) for c in colors}) == n  # all distinct
    for color in PHASE_COLORS:  # pale, but tinted, and not a tint of blue, orange, green
        h, s, _ = _hsv(color)
        assert s >= 0.08 and all(_hue_gap(h, ref) >= 15 for ref in RESERVED.values()), color


def _cells(fig_or_ax, gid="cells"):
    axes = fig_or_ax.axes if isinstance(fig_or_ax.axes, list) else [fig_or_ax]
    return [c for ax in axes for c in ax.collections if c.get_gid() == gid]


def _lower_left(collection):
    return np.array([p.vertices.min(0) for p in collection.get_paths()])


@pytest.mark.parametrize("geometry", [
    dict(input_shape=(7, 7), dilation=2),
    dict(input_shape=(5, 5), stride=2, padding=1),
    dict(input_shape=(6,), padding=1),
])
def test_plot_matrix_and_animate_matrix_colour_every_entry_by_its_tap(geometry):
    """Oracle: with the taps numbered 1..K the matrix entry *is* its tap number + 1."""
    geometry = dict(geometry)
    ishape = geometry.pop("input_shape")
    kshape = (3,) * len(ishape)
    w = np.arange(1, 3 ** len(ishape) + 1).reshape(kshape)
    a = convmat.conv_matrix(w, ishape, **geometry).tocsr()
    palette = figures._drawing._tap_colors(w.size)
    fig = figures.plot_matrix(a)   # the geometry comes with the matrix
    (cells,) = _cells(fig)
    corners = _lower_left(cells).astype(int)
    taps = [int(a[r, c]) - 1 for c, r in corners]
    assert len(corners) == a.nnz
    assert np.allclose(cells.get_facecolors(), palette[taps])
    anim = figures.animate_matrix(ishape, kshape, **geometry)
    cells = anim.artists["cells"]
    x0 = _lower_left(anim.artists["x-cells"])[0, 0]
    y0 = _lower_left(anim.artists["y-cells"])[0, 1]
    corners = np.rint(_lower_left(cells) - (x0, y0)).astype(int)
    taps = [int(a[r, c]) - 1 for c, r in corners]
    assert len(corners) == a.nnz
    assert np.allclose(cells.get_facecolors(), palette[taps])


def _legend_labels(fig):
    return [[t.get_text() for t in lg.get_texts()] for lg in fig.legends
            if lg.get_gid() == "tap-legend"]


@pytest.mark.parametrize("make", [
    lambda: figures.plot_matrix(convmat.conv_matrix(W3, (5, 5))),
    lambda: figures.animate_matrix((4, 4), (3, 3)).figure,
    lambda: figures.plot_connectivity((4, 4), (3, 3)),
    lambda: figures.plot_kong_lucey(convmat.kong_lucey(W3, (5, 5), stride=2)),
])
def test_a_tap_legend_wherever_taps_are_coloured(make):
    fig = make()
    (labels,) = _legend_labels(fig)
    assert labels == [f"$w_{{{i},{j}}}$" for i in range(3) for j in range(3)]
    colored = _cells(fig) + _cells(fig, "edges") + _cells(fig, "fan")
    assert colored
    for collection in colored:
        faces = collection.get_facecolors() if collection.get_gid() == "cells" else \
            collection.get_edgecolors()
        if collection.get_gid() != "edges" or len({tuple(f) for f in faces}) > 1:
            assert all(_is_tap_colour(f[:3]) for f in faces)


def test_no_picture_colours_a_tap_grey():
    """cividis (grey in its middle) is gone: every tap colour of every picture keeps the rule."""
    for fig in (figures.plot_matrix(convmat.conv_matrix(np.ones((5, 5)), (6, 6))),
                figures.plot_kong_lucey(convmat.kong_lucey(np.ones((5, 5)), (9, 9), stride=2)),
                figures.animate_matrix((6, 6), (5, 5)).figure):
        for collection in _cells(fig):
            assert all(_is_tap_colour(f[:3]) for f in collection.get_facecolors())


def test_the_kernel_bars_never_cover_a_digit():
    anim = figures.animate_matrix((4, 4), (3, 3), x=np.arange(16).reshape(4, 4) * 10,
                                  weight=W3 - 5)
    fig = anim.figure
    (bars,) = _cells(fig, "tap-swatches")
    ax = bars.axes
    for t in range(anim.n_frames):
        anim.show_frame(t)
        fig.canvas.draw()
        boxes = [p.get_extents(bars.get_transform()) for p in bars.get_paths()]
        for text in ax.texts:
            if text.get_visible() and text.get_text():
                box = text.get_window_extent()
                assert not any(box.overlaps(b) for b in boxes), (t, text.get_text())
    signs = [t for t in ax.texts if t.get_text().startswith("×")]
    assert len(signs) == 9 and min(t.get_fontsize() for t in signs) >= 8


# -- legibility ------------------------------------------------------------------------------

def _digits(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == "digit"]


@pytest.mark.parametrize("make, count", [
    (lambda: figures.plot_matrix(convmat.conv_matrix(W3, (7, 7), dilation=2)), 81),
    (lambda: figures.animate_matrix((7, 7), (3, 3), dilation=2).figure, 81),
    (lambda: figures.plot_kong_lucey(convmat.kong_lucey(W3, (5, 5), stride=2)), 72),
])
def test_digits_are_at_least_8_points(make, count):
    digits = _digits(make())
    visible = [t for t in digits if t.get_visible()]
    assert visible and min(t.get_fontsize() for t in visible) >= 8
    if count is not None:  # the 9 x 49 matrix: every entry written, none elided
        assert len(visible) == count


def test_a_tall_matrix_is_elided_between_whole_blocks():
    """The transposed stride-2 layer's 36 x 9 matrix: rows elided, the ⋮ between two blocks of
    6 rows (an output row each), a rule wherever a block ends between two written rows."""
    a = convmat.conv_transpose_matrix(np.arange(1, 17).reshape(4, 4), (3, 3), stride=2,
                                      padding=1)
    fig = figures.plot_matrix(a)
    ax = fig.axes[0]
    rows, cols = ax.convmat_axes
    shown = list(rows.shown)
    assert a.shape == (36, 9) and None in shown and None not in cols.shown
    k = shown.index(None)
    assert shown[:k] == list(range(shown[k - 1] + 1)) and shown[k - 1] % 6 == 5
    assert shown[k + 1:] == list(range(shown[k + 1], 36)) and shown[k + 1] % 6 == 0
    (rules,) = _cells(ax, "rules")
    drawn = {round(float(s[0][1]), 6) for s in rules.get_segments() if s[0][1] == s[1][1]}
    expected = {float(p + 1) for p in range(len(shown) - 1)
                if shown[p] is None or shown[p + 1] is None
                or (shown[p + 1] % 6 == 0)}
    assert drawn == expected
    digits = _digits(fig)
    assert digits and min(t.get_fontsize() for t in digits) >= 8
    written = {int(t.get_text()) for t in digits}
    assert written <= set(range(1, 17))
    ellipses = [t for t in ax.texts if t.get_gid() == "ellipsis"]
    assert ellipses and all(t.get_text() == "⋮" for t in ellipses)


def test_a_tall_matrix_animation_shows_a_window_that_follows_the_row():
    anim = figures.animate_matrix((3, 3), (4, 4), stride=2, padding=1, transposed=True)
    m = anim.matrix.shape[0]
    shown = anim.rows_shown
    assert 4 <= shown < m == 36
    y0 = _lower_left(anim.artists["y-cells"])[0, 1]
    for t in (0, 17, 35):
        anim.show_frame(t)
        row = _lower_left(anim.artists["row"])[:, 1] - y0
        s = min(max(t - shown // 2, 0), m - shown)
        assert np.allclose(row, t - s) and 0 <= t - s < shown
        digits = [d for d in _digits(anim.figure) if d.get_visible()]
        assert digits and min(d.get_fontsize() for d in digits) >= 8
    assert len(anim.artists["y-cells"].get_paths()) == shown
    big = figures.animate_matrix((3, 3), (4, 4), stride=2, padding=1, transposed=True,
                                 figsize=(10, 16))
    assert big.rows_shown == m  # room for every row: no window


def test_the_cli_draws_in_spanish(tmp_path, monkeypatch):
    drawn = []
    real = figures.save
    monkeypatch.setattr(figures, "save", lambda obj, path, **kw: (drawn.append(obj),
                                                                   real(obj, path, **kw))[1])
    for args in (["plot", "matrix"], ["plot", "connectivity"], ["animate", "convolution"]):
        out = tmp_path / ("a.gif" if args[0] == "animate" else "a.png")
        assert main([*args, "--input", "4x4", "--kernel", "3x3", "--lang", "es",
                     "-o", str(out)]) == 0
    for obj in drawn:
        words = set().union(*map(_words, _texts(getattr(obj, "figure", obj))))
        assert words <= SPANISH and words
    assert main(["plot", "matrix", "--input", "4x4", "--kernel", "3x3", "--lang", "fr",
                 "-o", str(tmp_path / "b.png")]) == 2


def test_figsize_as_a_numpy_array_is_a_size_not_an_ambiguous_truth_value():
    figsize = np.array([6.0, 5.0])
    for make in (lambda: figures.animate_superposition((3, 3), (2, 2), figsize=figsize),
                 lambda: figures.animate_matrix((3, 3), (2, 2), figsize=figsize)):
        assert tuple(make()._fig.get_size_inches()) == (6.0, 5.0)


def test_output_padding_as_a_numpy_array_is_checked_not_an_ambiguous_truth_value():
    figures.plot_connectivity((5, 5), (3, 3), output_padding=np.array([0, 0]))
    with pytest.raises(convmat.ConvmatError, match="output_padding"):
        figures.plot_connectivity((5, 5), (3, 3), output_padding=np.array([0, 1]))


def test_values_too_long_for_the_cells_are_left_to_the_key():
    import matplotlib.figure

    fig = matplotlib.figure.Figure(figsize=(4, 4))
    ax = fig.add_subplot()
    a = convmat.conv_matrix(np.full((3, 3), 0.00512), (12, 12), padding=1).toarray()
    figures.plot_matrix(a, ax=ax)  # a plain array: no taps, coloured by value
    assert not [t for t in ax.texts if t.get_gid() == "digit"]  # 5 characters, 7-pt cells
    legend = ax.get_legend()
    assert legend is not None and legend.get_title().get_text() == "values"
