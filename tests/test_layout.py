"""The format-neutral layout (:mod:`convmat.layout`), tested on its own objects: block rules
against block boundaries computed here from the shapes, elisions that never put a rule across
an ellipsis, Kong & Lucey cuts against the phase sizes, padded sources against ``numpy.pad``,
highlights against the dense matrix, and the dispatch by type."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat import layout
from convmat.geometry import convolution_geometry


def _boundaries(shape) -> dict[int, int]:
    """Flat index ``i`` -> the coarsest axis (not the last) whose index changes from ``i - 1``
    to ``i`` in a C-order array of ``shape``: where a block starts."""
    out = {}
    for i in range(1, math.prod(shape)):
        before, now = np.unravel_index(i - 1, shape), np.unravel_index(i, shape)
        changed = [a for a in range(len(shape) - 1) if before[a] != now[a]]
        if changed:
            out[i] = changed[0]
    return out


@st.composite
def geometries(draw):
    ndim = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    size = tuple(draw(st.integers(k, k + 4)) for k in kernel)
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    return convolution_geometry(size, (c_out, c_in, *kernel), stride=stride), c_in, c_out


def _rule_oracle(shape, shown) -> dict[int, int]:
    """Rules expected after positions of ``shown``: where the next written index is the
    following one and starts a block of ``shape`` (channels first, singleton channel axis
    dropped as the layout's vectors do); double at the coarsest level when there are several."""
    levels = {math.prod(shape[a + 1:]) for a in range(len(shape) - 1)} - {1}
    starts = _boundaries(shape)
    coarsest = min((a for a in range(len(shape) - 1) if math.prod(shape[a + 1:]) > 1),
                   default=None)
    out = {}
    for k in range(len(shown) - 1):
        a, b = shown[k], shown[k + 1]
        if a is None and b is None or None not in (a, b) and b != a + 1:
            continue
        start = a + 1 if b is None else b  # the block boundary the rule would mark
        if start not in starts:
            continue
        axis = starts[start]
        if math.prod(shape[axis + 1:]) == 1:
            continue
        out[k] = 2 if len(levels) > 1 and axis == coarsest else 1
    return out


@given(geometries(), st.one_of(st.none(), st.integers(2, 30)),
       st.one_of(st.none(), st.integers(2, 30)))
def test_block_rules_sit_at_the_geometry_block_boundaries(case, max_rows, max_cols):
    geom, c_in, c_out = case
    A = convmat.conv_matrix(np.ones(geom.weight_shape if hasattr(geom, "weight_shape")
                                    else (c_out, c_in, *geom.kernel_shape)),
                            geom.input_shape, stride=geom.stride)
    lay = layout.matrix_layout(A, max_rows=max_rows, max_cols=max_cols)
    out_shape = (c_out, *geom.output_shape) if c_out > 1 else geom.output_shape
    in_shape = (c_in, *geom.input_shape) if c_in > 1 else geom.input_shape
    finest_rows = out_shape[-1] if len(out_shape) > 1 else 1
    finest_cols = in_shape[-1] if len(in_shape) > 1 else 1
    _check_block_elision(lay.rows.shown, math.prod(out_shape), max_rows, finest_rows)
    _check_block_elision(lay.cols.shown, math.prod(in_shape), max_cols, finest_cols)
    assert dict(lay.rows.rules) == _rule_oracle(out_shape, lay.rows.shown)
    assert dict(lay.cols.rules) == _rule_oracle(in_shape, lay.cols.shown)
    for axis, block in ((lay.rows, finest_rows), (lay.cols, finest_cols)):
        if None in axis.shown and block > 1:  # a rule on each side of the ellipsis where a
            k = axis.shown.index(None)        # written block ends or starts there
            if axis.shown[k - 1] % block == block - 1:
                assert k - 1 in axis.rules
            if k + 1 < len(axis.shown) and axis.shown[k + 1] % block == 0:
                assert k in axis.rules
    assert lay.x_shape == tuple(in_shape) and lay.y_shape == tuple(out_shape)


def _check_block_elision(shown, n, limit, block):
    """``shown`` elides ``n`` indices to ``limit`` without merging blocks of ``block``: the
    two sides of the ellipsis lie in different blocks, every written run of one block is
    the whole block or ends at the ellipsis, whole blocks when two fit."""
    shown = list(shown)
    if limit is None or n <= limit:
        assert shown == list(range(n))
        return
    assert len(shown) <= limit and shown.count(None) == 1
    k = shown.index(None)
    head, tail = shown[:k], shown[k + 1:]
    assert head == list(range(len(head))) and tail == list(range(n - len(tail), n))
    assert head and len(head) - len(tail) >= 0
    if block <= 1 or n <= block or not tail:
        assert len(shown) == limit
        return
    assert head[-1] // block != tail[0] // block  # the ellipsis sits between blocks
    groups = {}
    for c in head + tail:
        groups.setdefault(c // block, []).append(c)
    for b, cols in groups.items():
        whole = min(block, n - b * block)
        assert len(cols) == whole or cols[-1] == head[-1] or cols[0] == tail[0]
    if (limit - 1) // block >= 2:  # whole blocks fit: every written block is whole
        assert len(head) % block == 0 and tail[0] % block == 0
        assert len(head) >= len(tail)


@given(st.integers(1, 12), st.integers(1, 12), st.one_of(st.none(), st.integers(2, 60)))
def test_elide_puts_the_ellipsis_between_blocks(block, blocks, limit):
    n = block * blocks
    _check_block_elision(layout.elide(n, limit, (block,)), n, limit, block)
    coarse = (block * 2, block) if block > 1 else ()  # the finest level decides
    assert layout.elide(n, limit, coarse) == layout.elide(n, limit, (block,) if block > 1
                                                          else ())


def test_the_worked_matrix_elided_keeps_its_blocks_apart():
    """The issue's case: 9 x 25 to 20 columns wrote blocks 1 and 3 side by side."""
    A = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (5, 5))
    lay = layout.matrix_layout(A, max_cols=20)
    assert lay.cols.shown == (*range(10), None, *range(20, 25))
    assert dict(lay.cols.rules) == {4: 1, 9: 1, 10: 1}


@given(st.integers(1, 200), st.one_of(st.none(), st.integers(2, 50)))
def test_elide_keeps_head_and_tail_in_order(n, limit):
    shown = layout.elide(n, limit)
    if limit is None or n <= limit:
        assert shown == list(range(n))
        return
    assert len(shown) == limit and shown.count(None) == 1
    k = shown.index(None)
    head, tail = shown[:k], shown[k + 1:]
    assert head == list(range(len(head))) and tail == list(range(n - len(tail), n))
    assert len(head) - len(tail) in (0, 1)  # the head takes the odd one


@given(st.lists(st.integers(0, 12), min_size=1, max_size=5),
       st.one_of(st.none(), st.integers(2, 30)))
def test_segments_elide_each_phase_and_cut_between_phases(widths, limit):
    cols, cuts = layout.segments(widths, limit)
    starts = np.cumsum([0] + widths)
    written = [c for c in cols if c is not None]
    assert written == sorted(written)
    for k in cuts:  # a cut sits before the first column of a segment (after an ellipsis
        # when the previous segment is elided down to its head)
        assert cols[k + 1] is not None and cols[k + 1] > 0 and cols[k + 1] in set(starts)
    nonempty = [w for w in widths if w]
    assert len(cuts) == max(len(nonempty) - 1, 0)


@st.composite
def kong_lucey_cases(draw):
    ndim = draw(st.integers(1, 2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    size = tuple(draw(st.integers(k, k + 6)) for k in kernel)
    channels = draw(st.integers(1, 2))
    pad = draw(st.integers(0, 1))
    return (1, channels, *kernel), size, stride, pad


@given(kong_lucey_cases(), st.one_of(st.none(), st.integers(2, 20)))
def test_kong_lucey_cuts_are_the_phase_sizes_and_x_is_in_phase_order(case, max_cols):
    weight_shape, size, stride, pad = case
    kl = convmat.kong_lucey(np.ones(weight_shape), size, stride=stride, padding=pad)
    lay = layout.kong_lucey_layout(kl, max_cols=max_cols)
    padded = tuple(n + 2 * pad for n in size)
    channels = weight_shape[1]
    phases = list(np.ndindex(*stride))
    sizes = [channels * math.prod(-(-(p - r) // s) for p, r, s in zip(padded, phase, stride))
             for phase in phases]
    assert np.diff(lay.cuts).tolist() == sizes
    flat = np.arange(channels * math.prod(padded)).reshape(channels, *padded)
    for r, phase in enumerate(phases):  # phase r: the positions with that residue, C order
        index = (slice(None),) + tuple(slice(p, None, s) for p, s in zip(phase, stride))
        assert list(lay.order[lay.cuts[r]:lay.cuts[r + 1]]) == flat[index].ravel().tolist()
    permuted = lay.permuted()
    if max_cols is None:  # nothing elided: a rule after every non-empty phase but the last
        ends = [c - 1 for c in lay.cuts[1:-1] if c > 0]
        assert sorted(permuted.cols.rules) == sorted(set(ends) - {len(permuted.cols.shown) - 1})
    assert all(permuted.x_entry(k) == lay.order[k] for k in permuted.cols.indices)
    terms, left = lay.sum()
    assert len(terms) == sum(block.nnz > 0 for block in kl.blocks)
    assert left.rows == permuted.rows


@pytest.mark.parametrize("mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                              ("circular", "wrap"), ("symmetric", "symmetric")])
def test_padded_sources_follow_numpy_pad(mode, numpy_mode):
    kl = convmat.kong_lucey(np.ones((1, 2, 3, 2)), (4, 5), stride=2, padding=((2, 1), (1, 2)),
                            padding_mode=mode)
    source = layout.padded_sources(kl)
    index = np.arange(2 * 4 * 5).reshape(2, 4, 5)
    expected = np.pad(index, ((0, 0), (2, 1), (1, 2)), mode=numpy_mode).ravel()
    inside = np.zeros((2, 4, 5), dtype=bool)
    inside = np.pad(~inside, ((0, 0), (2, 1), (1, 2))).ravel()
    for k, value in enumerate(expected):
        where, is_inside = source(k)
        assert np.ravel_multi_index(where, (2, 4, 5)) == value and is_inside == inside[k]


def test_padded_sources_of_zero_padding_are_none():
    kl = convmat.kong_lucey([1, 2, 3], (4,), stride=2, padding=1)
    assert [layout.padded_sources(kl)(k) for k in range(6)] == [
        (None, False), ((0,), True), ((1,), True), ((2,), True), ((3,), True), (None, False)]


@pytest.mark.parametrize("make", [lambda a: sp.csr_array(a), lambda a: sp.coo_matrix(a),
                                  np.asarray, lambda a: __import__("sympy").Matrix(a)])
def test_highlights_are_the_stored_entries_of_the_row(make):
    dense = np.array([[0, 1, 2, 0], [3, 0, 0, 4], [6, 0, 0, 0], [0, 0, 5, 0]])
    lay = layout.matrix_layout(make(dense), highlight_row=1)
    assert dict(lay.highlights.rows) == {1: None} and dict(lay.highlights.y) == {1: None}
    assert set(lay.highlights.x) == set(np.flatnonzero(dense[1]).tolist())
    slides = layout.matrix_layout(make(dense), overlay=True, max_rows=3).highlights
    assert dict(slides.rows) == {0: (1,), 3: (2,)}  # rows 1, 2 elided: written rows numbered
    assert dict(slides.x) == {1: (1,), 2: (1, 2)}
    with pytest.raises(convmat.ConvmatError, match="highlight_row=1 is elided by max_rows=3"):
        layout.matrix_layout(make(dense), highlight_row=1, max_rows=3)


def test_grid_axes_rule_between_channels():
    rows, cols = layout.grid_axes((2, 3, 4), (None, None))
    assert rows.shown == tuple(range(6)) and dict(rows.rules) == {2: 1}
    assert cols.shown == (0, 1, 2, 3) and dict(cols.rules) == {}


def test_by_type_follows_the_mro_and_resolves_lazy_types():
    table = layout.ByType("test", default=lambda obj: "default")
    table.register(int, lambda obj: "int")
    table.register("fractions:Fraction", lambda obj: "fraction")
    table.register("a_module_never_imported:Thing", lambda obj: "never")

    class Sub(int):
        pass

    assert [table(v) for v in (Sub(1), True, 1.5, Fraction(1, 3))] == [
        "int", "int", "default", "fraction"]
    with pytest.raises(convmat.ConvmatError, match="strict does not handle a float"):
        layout.ByType("strict")(1.5)


def test_every_result_type_has_its_writer():
    """to_latex and the display find their handler in one table each (no isinstance chain)."""
    import sympy

    from convmat import display, latex, symbolic

    product = symbolic.product(symbolic.conv_matrix((2,), (3,)))
    assert latex.WRITERS.handler(product) is latex._write_product
    assert latex.WRITERS.handler(convmat.kong_lucey([1, 2], (4,), stride=2)) is \
        latex._write_kong_lucey
    assert latex.WRITERS.handler(symbolic.kong_lucey((2,), (4,), stride=2)) is \
        latex._write_kong_lucey
    for matrix in (np.eye(2), sp.eye_array(2), sympy.eye(2)):
        assert latex.WRITERS.handler(matrix) is latex._write_matrix
    assert display.OPERAND(product) is product.matrix and display.OPERAND(np.eye(2)) is not None
    assert latex.to_latex(product, zero="cdot") == display.latex_repr(product).strip("$\n") == \
        latex.to_latex(product.matrix, x="x", y="y", zero="cdot")
