"""``plot_kong_lucey`` on matrices too wide for 8 pt digits: rows and columns elided between
whole blocks by the layout's rule (each phase of ``A Π`` on its own), the digits drawn
exactly the entries of the written rows and columns, at 8 pt or more, and the phase colours
true — checked against a direct numpy definition of the strided matrix and of the grouping
by phase, in English and Spanish."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat

figures = pytest.importorskip("convmat.figures")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _strided(w: np.ndarray, padded: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """The strided matrix on the padded input, by its definition: ``A[o, o s + k] = w[k]``."""
    out_shape = tuple((p - k) // s + 1 for p, k, s in zip(padded, w.shape, stride))
    A = np.zeros((math.prod(out_shape), math.prod(padded)), dtype=w.dtype)
    for o in np.ndindex(*out_shape):
        for k in np.ndindex(*w.shape):
            col = np.ravel_multi_index(tuple(a * s + b for a, s, b in zip(o, stride, k)), padded)
            A[np.ravel_multi_index(o, out_shape), col] = w[k]
    return A


def _phases(padded: tuple[int, ...], stride: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """The padded entries grouped by phase (residue modulo the stride, residues in C order,
    entries in C order) and the phase of each entry in that order."""
    coords = np.indices(padded).reshape(len(padded), -1).T
    order, phase = [], []
    for p, residue in enumerate(np.ndindex(*stride)):
        members = [k for k in range(len(coords)) if tuple(coords[k] % stride) == residue]
        order += members
        phase += [p] * len(members)
    return order, phase


def _digits(ax) -> tuple[set[tuple[int, int, str]], list[float]]:
    """(row, column, text) of every digit drawn, read back through the written axes."""
    rows, cols = ax.convmat_axes
    out, sizes = set(), []
    for t in ax.texts:
        if t.get_gid() == "digit":
            x, y = t.get_position()
            out.add((rows.shown[int(y)], cols.shown[int(x)], t.get_text()))
            sizes.append(t.get_fontsize())
    return out, sizes


def _expected(dense: np.ndarray, rows, cols) -> set[tuple[int, int, str]]:
    return {(r, c, str(int(dense[r, c]))) for r in rows.indices for c in cols.indices
            if dense[r, c] != 0}


def _check(kl, w, stride, lang):
    padded = tuple(kl.padded_shape)
    fig = figures.plot_kong_lucey(kl, lang=lang)
    ax_a, ax_t = fig.axes[1], fig.axes[2]
    A = _strided(w, padded, stride)
    order, phase = _phases(padded, stride)
    permuted = A[:, order]
    for ax, dense in ((ax_a, A), (ax_t, permuted)):
        rows, cols = ax.convmat_axes
        drawn, sizes = _digits(ax)
        assert drawn == _expected(dense, rows, cols)  # exactly the written entries
        assert drawn and min(sizes) >= 8.0
        ellipses = [t.get_fontsize() for t in ax.texts if t.get_gid() == "ellipsis"]
        assert all(size >= 8.0 for size in ellipses)
    # the ellipses never merge two blocks: A's rows and columns between image rows of the
    # output and of the padded input (when there are several), A Π's columns inside a phase
    rows, cols = ax_a.convmat_axes
    out_shape = tuple((p - k) // s + 1 for p, k, s in zip(padded, w.shape, stride))
    for axis, shape in ((rows, out_shape), (cols, padded)):
        if len(shape) > 1 and None in axis.shown:
            k = axis.shown.index(None)
            width = shape[-1]
            if k + 1 < len(axis.shown):
                assert axis.shown[k - 1] // width != axis.shown[k + 1] // width
    _, cols_t = ax_t.convmat_axes
    assert ax_t.convmat_axes[0] == rows
    for k, c in enumerate(cols_t.shown):  # the columns an ellipsis hides: one phase's
        if c is None:
            hidden = range(cols_t.shown[k - 1] + 1, cols_t.shown[k + 1]
                           if k + 1 < len(cols_t.shown) else len(phase))
            assert len({phase[h] for h in hidden}) == 1
    # every phase keeps its first column; the phases' colours above A Π and above A are
    # the test's own grouping: same colour exactly when same phase (however many)
    starts = [phase.index(p) for p in sorted(set(phase))]
    assert set(starts) <= set(cols_t.indices)
    for ax, cols_of in ((ax_t, lambda c: phase[c]),
                        (ax_a, lambda c: phase[order.index(c)])):
        (strip,) = [c for c in ax.collections if c.get_gid() == "vector"]
        colours = [tuple(np.round(f, 3)) for f in strip.get_facecolors()]
        written = ax.convmat_axes[1].indices
        assert len(colours) == len(written)
        same_colour = {(a, b) for a in range(len(written)) for b in range(len(written))
                       if colours[a] == colours[b]}
        same_phase = {(a, b) for a in range(len(written)) for b in range(len(written))
                      if cols_of(written[a]) == cols_of(written[b])}
        assert same_colour == same_phase
    return fig


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_worked_example_is_elided_between_blocks_with_legible_digits(lang):
    """The 7x7 worked example (49 columns, too wide for 8 pt digits side by side): A keeps
    two whole image rows, then the last one; every phase of A Π its head and tail."""
    w = np.arange(1, 10).reshape(3, 3)
    kl = convmat.kong_lucey(w, (7, 7), stride=2)
    fig = _check(kl, w, (2, 2), lang)
    _, cols = fig.axes[1].convmat_axes
    assert cols.shown == (*range(14), None, *range(42, 49))
    width, height = fig.get_size_inches()
    assert width <= 12.8 and height <= 7.2  # a 16:9 slide


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2).flatmap(lambda n: st.tuples(
    st.tuples(*[st.integers(6, 20)] * n), st.tuples(*[st.integers(1, 3)] * n),
    st.tuples(*[st.integers(2, 3)] * n), st.integers(0, 1), st.integers(0, 99),
    st.sampled_from(["en", "es"]))))
def test_elided_kong_lucey_pictures_draw_exactly_the_written_entries(case):
    size, kernel, stride, padding, seed, lang = case
    if len(size) == 1:
        size, kernel, stride = (size[0] * 3,), kernel, stride  # wide enough to elide
    w = np.random.default_rng(seed).integers(1, 10, size=kernel)
    kl = convmat.kong_lucey(w, size, stride=stride, padding=padding)
    padded = tuple(kl.padded_shape)
    if min(p - k for p, k in zip(padded, kernel)) < 0 or math.prod(padded) > 4096:
        return
    _check(kl, w, tuple(stride), lang)


def test_an_elided_spanish_picture_writes_only_spanish_words():
    from .test_figures_style import ENGLISH_ONLY, SPANISH, _texts, _words

    for kl in (convmat.kong_lucey(np.ones((3, 3)), (12, 12), stride=2),
               convmat.kong_lucey(np.ones((2, 3)), (16, 6), stride=(3, 2))):  # narrow input
        words = set().union(*map(_words, _texts(figures.plot_kong_lucey(kl, lang="es"))))
        assert {"entrada", "rellenada", "paso"} <= words
        assert words <= SPANISH and not words & ENGLISH_ONLY, words - SPANISH


def test_more_than_eight_phases_keep_distinct_tints():
    """Stride 3x3 (9 phases) and 4x4 (16): every phase its own tint, in the input band, the
    vectors and the bands behind A Π, each a pale tint (not grey) of a hue away from the
    input blue, kernel orange and output green."""
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    from .test_figures_style import RESERVED, _hsv, _hue_gap

    for stride in (3, 4):
        w = np.arange(1, 10).reshape(3, 3)
        kl = convmat.kong_lucey(w, (4 * stride, 4 * stride), stride=stride)
        fig = _check(kl, w, (stride, stride), "en")
        bands = [to_hex(p.get_facecolor()) for p in fig.axes[2].patches
                 if isinstance(p, Rectangle) and p.get_zorder() == 0]
        assert len(bands) == stride ** 2 == len(set(bands))
        for colour in bands:
            h, s, v = _hsv(colour)
            assert s >= 0.08 and v >= 0.8
            assert all(_hue_gap(h, ref) >= 15 for ref in RESERVED.values()), colour


def test_plot_matrix_of_a_kong_lucey_result_elides_each_phase_on_its_own():
    """``plot_matrix(kl)`` (A Π with its phase bands), too wide for 8 pt digits: each
    ellipsis hides columns of one phase (the test's grouping), every phase keeps its first
    column, and the digits are the entries of the written columns of ``A[:, order]``."""
    w = np.arange(1, 10).reshape(3, 3)
    kl = convmat.kong_lucey(w, (12, 12), stride=2)
    fig = figures.plot_matrix(kl)
    rows, cols = fig.axes[0].convmat_axes
    order, phase = _phases((12, 12), (2, 2))
    assert None in cols.shown
    for k, c in enumerate(cols.shown):
        if c is None:
            hidden = range(cols.shown[k - 1] + 1, cols.shown[k + 1]
                           if k + 1 < len(cols.shown) else len(phase))
            assert len({phase[h] for h in hidden}) == 1
    assert {phase.index(p) for p in set(phase)} <= set(cols.indices)
    drawn, sizes = _digits(fig.axes[0])
    assert drawn == _expected(_strided(w, (12, 12), (2, 2))[:, order], rows, cols)
    assert min(sizes) >= 8.0
