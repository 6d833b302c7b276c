r"""What a display of a matrix shows, independent of the output format.

Every writer (:func:`convmat.to_latex` today; pictures and TikZ next) draws the same
decisions, made here once and without any format's syntax:

- which rows and columns are written: all, or a head, an ellipsis (``None``) and a tail
  (:func:`elide`; Kong & Lucey's phases each on their own, :func:`segments`);
- where block rules go (:class:`Axis`): after the written positions where a block of the
  convolution's geometry ends (:func:`block_sizes`, drawn double at the coarsest of several
  levels), never across an ellipsis, and at explicit cuts (the phase boundaries);
- which entries are highlighted, on which slides (:class:`Highlights`);
- the parts of a Kong & Lucey result (:class:`KongLuceyLayout`): the strided matrix, the
  permuted one with cuts at the phase sizes and ``x`` in phase order, and the sum of the
  unit-stride products; and what each padded input position is (:func:`padded_sources`).

A writer turns these objects into its own strings; :class:`ByType` is the one dispatch by
result type that renderers use instead of ``isinstance`` chains (``layout._reading``, with
the matrix readers); ``layout._tables`` holds the cells of a network summary;
``layout._labels`` the words pictures write, in every built-in language (:func:`labels`,
:data:`LANGUAGES`).

Nothing here imports sympy: a sympy matrix is recognised only once sympy is loaded.

Examples
--------
>>> import convmat
>>> A = convmat.conv_matrix(np.ones((1, 2, 2, 2)), (3, 3))   # 2 input channels
>>> lay = matrix_layout(A, max_cols=8)
>>> lay.rows.shown, lay.rows.rules   # rows: one rule after each image row (size 2)
((0, 1, 2, 3), {1: 1})
>>> lay.cols.shown                   # 18 columns elided to 8: whole image rows (3)
(0, 1, 2, None, 15, 16, 17)
>>> lay.cols.rules                   # on both sides of the ellipsis: blocks stay apart
{2: 1, 3: 1}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._choices import OVERLAYS
from .._padmap import index_map
from .._validate import as_flag, as_int, check_choice
from ..errors import ConvmatError, brief, error_context
from ..geometry import ConvGeometry, vector_shapes
from ..striding import KongLucey
from ._labels import LABEL_KEYS, LANGUAGES, fill, labels
from ._reading import ByType, Entries
from ._reading import stored as _stored
from ._pictures import (CellStyle, Cells, Frame, Label, Picture, Rect, Segment, SlidingPlacement,
                        sliding_placement)
from ._tables import summary_cells

__all__ = [
    "MAX_CELLS", "Axis", "ByType", "CellStyle", "Cells", "Entries", "Frame", "Highlights",
    "KongLuceyLayout", "LABEL_KEYS", "LANGUAGES", "Label", "MatrixLayout", "Picture", "Rect",
    "Segment", "SlidingPlacement", "fill", "labels", "sliding_placement",
    "block_levels", "block_sizes", "check_limit", "elide", "grid_axes", "highlights",
    "kong_lucey_layout", "levels_of", "matrix_layout", "matrix_origin", "padded_sources",
    "rules_at", "segments", "summary_cells",
]

#: largest number of cells written (guards against rendering a huge matrix by accident)
MAX_CELLS = 1_000_000


# -- elision and rules -----------------------------------------------------------------------

def elide(n: int, limit: int | None, levels: Sequence[int] = ()) -> list[int | None]:
    """Indices written along an axis of length ``n``: all, or head, ``None`` (the ellipsis)
    and tail, at most ``limit`` items in all.

    With block sizes ``levels`` (:func:`levels_of`, coarsest first) the ellipsis sits
    between blocks of the finest level, never inside one: when at least two whole blocks fit,
    the head and the tail are whole blocks (the head one more when their number is odd), so
    no block is written cut and the blocks on either side of the ellipsis are different ones;
    when fewer fit, the head is the start of the first block and the tail the end of the last
    one, each cut at the ellipsis.

    Examples
    --------
    >>> elide(10, 5)
    [0, 1, None, 8, 9]
    >>> elide(25, 20, (5,))   # 5 blocks of 5: two at the head, one at the tail
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, None, 20, 21, 22, 23, 24]
    """
    if limit is None or n <= limit:
        return list(range(n))
    tail = (limit - 1) // 2
    head = limit - 1 - tail
    block = min(levels) if levels else 1
    whole = (limit - 1) // block if block > 1 else 0
    if whole >= 2:
        head = (whole + 1) // 2 * block
        tail = n - -(-(n - whole // 2 * block) // block) * block
    return [*range(head), None, *range(n - tail, n)]


def levels_of(shape: Sequence[int]) -> tuple[int, ...]:
    """Block sizes of a C-order flattening of ``shape``, coarsest first (rules go after
    every multiple of each).

    Examples
    --------
    >>> levels_of((2, 3, 4))
    (12, 4)
    """
    sizes = {math.prod(shape[a + 1:]) for a in range(len(shape) - 1)}
    return tuple(sorted((s for s in sizes if s > 1), reverse=True))


def _weight(b: int, levels: tuple[int, ...]) -> int:
    """Weight of the rule in front of index ``b``: 2 where a block of the coarsest of several
    levels starts, 1 where a block of any level starts, 0 elsewhere."""
    if b % levels[0] == 0:
        return 2 if len(levels) > 1 else 1
    return 1 if any(b % size == 0 for size in levels[1:]) else 0


def rules_at(shown: Sequence[int | None], levels: tuple[int, ...]) -> dict[int, int]:
    """Rule after position ``k`` of ``shown`` where a block ends between it and the next:
    ``{k: 2}`` (double) at the coarsest of several levels, ``{k: 1}`` otherwise. Around an
    ellipsis, a rule goes on the side where a written block ends or starts, so the elided
    blocks stand apart from the written ones and two written blocks never run together.

    Examples
    --------
    >>> rules_at([0, 1, 2, 3, 4, None, 8], (4, 2))
    {1: 1, 3: 2, 5: 2}
    """
    out: dict[int, int] = {}
    if not levels:
        return out
    levels = tuple(levels)
    for k in range(len(shown) - 1):
        a, b = shown[k], shown[k + 1]
        if a is None and b is None:
            continue
        if a is not None and b is not None and b != a + 1:
            continue
        weight = _weight(a + 1 if b is None else b, levels)  # type: ignore[operator]
        if weight and 0 < (a + 1 if b is None else b):  # type: ignore[operator]
            out[k] = weight
    return out


def block_sizes(geom: ConvGeometry, transposed: bool = False) -> tuple[tuple[int, ...], ...]:
    """Block sizes ``(row_levels, col_levels)`` of a convolution's matrix, coarsest first.

    Rows follow ``(C_out, *output_shape)`` and columns ``(C_in, *input_shape)`` in C order:
    a rule goes after every channel (drawn double when there are finer levels) and after
    every row of an image (every plane in 3-D, ...). A 1-D single-channel matrix is one
    Toeplitz block and has none.

    Examples
    --------
    >>> from convmat.geometry import convolution_geometry
    >>> block_sizes(convolution_geometry((3, 3), (2, 2)))
    ((2,), (3,))
    >>> block_sizes(convolution_geometry((3, 3), (2, 3, 2, 2)))
    ((4, 2), (9, 3))
    >>> block_sizes(convolution_geometry((3, 3), (2, 2)), transposed=True)
    ((3,), (2,))
    """
    x, y = vector_shapes(geom, transposed)
    return levels_of(y), levels_of(x)


def _explicit_levels(value: object) -> tuple[int, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or value is False or value == 0:
        return ()
    values = value if isinstance(value, Sequence) else (value,)
    sizes = tuple(as_int(v, "blocks") for v in values)
    if any(v < 1 for v in sizes):
        raise ConvmatError(f"blocks={brief(value)} must hold positive block sizes")
    return tuple(sorted(set(sizes), reverse=True))


def block_levels(blocks: object, origin: tuple[ConvGeometry, bool] | None
                 ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(row_levels, col_levels) from a ``blocks`` option (``"auto"``, ``None`` or a pair of
    sizes) and the matrix's origin (:func:`matrix_origin`; ``None``: unknown)."""
    if isinstance(blocks, str):
        check_choice(blocks, "blocks", ("auto",))
        if origin is None:
            return (), ()
        rows, cols = block_sizes(*origin)
        return rows, cols
    if blocks is None or blocks is False:
        return (), ()
    if isinstance(blocks, Sequence) and len(blocks) == 2:
        return tuple(_explicit_levels(b) for b in blocks)  # type: ignore[return-value]
    raise ConvmatError(f"blocks={brief(blocks)} is not 'auto', None or a pair (row_blocks, "
                       f"col_blocks)")


def matrix_origin(matrix: object, shape: tuple[int, int], geometry: object = None,
                  transposed: bool | None = None) -> tuple[ConvGeometry, bool] | None:
    """The geometry the matrix comes from and whether it is transposed (``None``: unknown).

    ``geometry`` given explicitly must fit ``shape`` (or its transpose); otherwise the
    geometry a builder attached to the matrix is used when it still fits.
    """
    explicit = geometry is not None
    if not explicit:
        geometry = getattr(matrix, "geometry", None)
        transposed = getattr(matrix, "transposed", None)
        if not isinstance(geometry, ConvGeometry):
            return None
    elif not isinstance(geometry, ConvGeometry):
        raise ConvmatError(
            f"geometry={brief(geometry)} is not a ConvGeometry; make one with "
            f"convmat.geometry.convolution_geometry or transposed_geometry"
        )
    options = [False, True] if transposed is None else [bool(transposed)]
    for t in options:
        if geometry.shape[::-1 if t else 1] == shape:
            return geometry, t
    if explicit:
        raise ConvmatError(
            f"geometry describes a {geometry.shape[0]} x {geometry.shape[1]} matrix "
            f"(transposed: {geometry.shape[1]} x {geometry.shape[0]}), not one of shape {shape}"
        )
    return None  # a ConvMatrix whose shape was changed in place


def segments(widths: Sequence[int], limit: int | None) -> tuple[list[int | None], list[int]]:
    """Columns written for consecutive segments of ``widths`` (each elided on its own, keeping
    ``max(2, limit // len(widths))``) and the positions in that list after which a segment
    ends (where a rule goes).

    Examples
    --------
    >>> segments([3, 2], None)
    ([0, 1, 2, 3, 4], [2])
    """
    per_segment = None if limit is None else max(2, limit // len(widths))
    cols: list[int | None] = []
    cuts: list[int] = []
    start = 0
    for width in widths:
        cols += [None if c is None else start + c for c in elide(width, per_segment)]
        if width:
            cuts.append(len(cols) - 1)
        start += width
    return cols, cuts[:-1] if cuts and cuts[-1] == len(cols) - 1 else cuts


@dataclass(frozen=True)
class Axis:
    """The written positions along one axis and the rules between them.

    Attributes
    ----------
    shown : tuple of int or None
        The indices written, in order; ``None`` is the ellipsis.
    rules : dict
        ``{k: weight}``: a rule after position ``k`` of ``shown``, 1 single, 2 double.
    """

    shown: tuple[int | None, ...]
    rules: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, shown: Iterable[int | None], levels: tuple[int, ...] = (),
           cuts: Iterable[int] = ()) -> Axis:
        """``shown`` with rules at the block ``levels`` and single rules after ``cuts``."""
        shown = tuple(shown)
        return cls(shown, {**rules_at(shown, levels), **{k: 1 for k in cuts}})

    @property
    def indices(self) -> list[int]:
        """The written indices without the ellipsis."""
        return [k for k in self.shown if k is not None]


def grid_axes(shape: Sequence[int], limits: tuple[int | None, int | None]) -> tuple[Axis, Axis]:
    """A vector of ``shape`` (C order) drawn as the grid it flattens: the last axis along a
    row, the others down the rows with rules between channels (or planes), each side elided
    to ``limits``. Entry ``(r, c)`` of the grid is flat entry ``r * shape[-1] + c``."""
    shape = tuple(shape)
    rows = elide(math.prod(shape[:-1]), limits[0])
    return Axis.of(rows, levels_of(shape[:-1])), Axis.of(elide(shape[-1], limits[1]))


# -- highlights ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Highlights:
    """Highlighted entries and the slides they are highlighted on (``None``: always).

    Attributes
    ----------
    rows : dict
        Matrix row -> slides on which its stored entries are highlighted.
    x : dict
        Column (entry of the input vector written beside it) -> slides.
    y : dict
        Row (entry of the output vector) -> slides.
    cols : dict
        Matrix column -> slides on which its stored entries are highlighted (the column
        overlay: which outputs one input feeds).
    """

    rows: Mapping[int, tuple[int, ...] | None] = field(default_factory=dict)
    x: Mapping[int, tuple[int, ...] | None] = field(default_factory=dict)
    y: Mapping[int, tuple[int, ...] | None] = field(default_factory=dict)
    cols: Mapping[int, tuple[int, ...] | None] = field(default_factory=dict)


def _steps(pairs: Iterable[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    """``{key: slides}`` from ``(key, slide)`` pairs."""
    out: dict[int, list[int]] = {}
    for key, t in pairs:
        out.setdefault(key, []).append(t)
    return {key: tuple(ts) for key, ts in out.items()}


def highlights(entries: Entries, rows: Axis, *, row: int | None = None,
               overlay: bool | str = False, max_rows: int | None = None,
               cols: Axis | None = None) -> Highlights:
    """The one highlighted ``row`` (its window in ``x``, its entry of ``y``), or with
    ``overlay`` (``True`` or ``"rows"``) every written row in turn: written row number ``t``
    on slide ``t``; with ``overlay="cols"`` every written column of ``cols`` in turn: slide
    ``t`` highlights the stored entries of written column ``t``, ``x`` at that column and
    the entries of ``y`` it feeds (the scatter view of the transposed convolution).

    Raises
    ------
    ConvmatError
        ``row`` is not a row of the matrix, or it is elided.
    """
    if overlay == "cols":
        if cols is None:
            raise ConvmatError("overlay='cols' needs the written columns")
        step = {c: (t,) for t, c in enumerate(cols.indices, start=1)}
        written = set(rows.indices)
        y_steps = _steps((r, t) for c, (t,) in step.items()
                         for r in entries.col_rows(c) if r in written)
        return Highlights(x=step, y=y_steps, cols=step)
    if overlay:
        step = {r: (t,) for t, r in enumerate(rows.indices, start=1)}
        x_steps: dict[int, list[int]] = {}
        for r, (t,) in step.items():
            for c in entries.row_columns(r):
                x_steps.setdefault(c, []).append(t)
        return Highlights(step, {c: tuple(ts) for c, ts in x_steps.items()}, step)
    if row is None:
        return Highlights()
    if not 0 <= row < entries.shape[0]:
        raise ConvmatError(f"highlight_row={row} is not a row of the {entries.shape[0]}-row "
                           f"matrix")
    if row not in rows.shown:
        raise ConvmatError(f"highlight_row={row} is elided by max_rows={max_rows}; "
                           f"raise max_rows or write a slice of the matrix around that row")
    return Highlights({row: None}, dict.fromkeys(entries.row_columns(row)), {row: None})


# -- one matrix ------------------------------------------------------------------------------

def check_limit(value: object, name: str) -> int | None:
    """``max_rows``/``max_cols``: None (no limit) or at least 2 (one entry and the ellipsis)."""
    if value is None:
        return None
    value = as_int(value, name)
    if value < 2:
        raise ConvmatError(f"{name}={value} must be at least 2 (one entry and the ellipsis)")
    return value


def _options(max_rows: object, max_cols: object, highlight_row: object,
             overlay: object) -> dict:
    """The layout options, checked (the writers check them once more for free)."""
    return dict(max_rows=check_limit(max_rows, "max_rows"),
                max_cols=check_limit(max_cols, "max_cols"),
                highlight_row=None if highlight_row is None else as_int(highlight_row,
                                                                       "highlight_row"),
                overlay=_overlay(overlay))


def _overlay(value: object) -> bool | str:
    """``overlay``: ``False``/``None`` (none), ``True`` (``"rows"``), or a name of
    :data:`convmat._choices.OVERLAYS`."""
    if value is None or isinstance(value, str):
        return False if value is None else check_choice(value, "overlay", OVERLAYS)
    return "rows" if as_flag(value, "overlay") else False


@dataclass(frozen=True)
class MatrixLayout:
    """What a display of one matrix writes (``[y =] A [x]``).

    Attributes
    ----------
    entries : Entries
        The matrix, read only at the written positions.
    rows, cols : Axis
        The written rows and columns and the rules between them.
    highlights : Highlights
        The highlighted entries.
    x_shape, y_shape : tuple or None
        The shapes the input and output vectors flatten (channels first), when the geometry
        is known.
    x_index : sequence of int or None
        The input entry beside each column (Kong & Lucey's phase order); ``None``: column
        ``k`` is entry ``k``.
    col_levels : tuple of int
        The block sizes of the columns (where their rules go).
    col_segments : tuple of int or None
        The widths of consecutive column segments elided each on its own (Kong & Lucey's
        phases), when the columns are segmented.
    """

    entries: Entries
    rows: Axis
    cols: Axis
    highlights: Highlights = field(default_factory=Highlights)
    x_shape: tuple[int, ...] | None = None
    y_shape: tuple[int, ...] | None = None
    x_index: Sequence[int] | None = None
    col_levels: tuple[int, ...] = ()
    col_segments: tuple[int, ...] | None = None

    def x_entry(self, k: int) -> int:
        """The input entry written beside column ``k``."""
        return k if self.x_index is None else int(self.x_index[k])

    def x_axis(self, limit: int | None = None) -> Axis:
        """The entries of the input vector written as a column beside the matrix: those of the
        written columns, or with ``limit`` at most ``limit`` of them (at least three per
        segment), elided on their own by the columns' rule (:func:`elide` between blocks,
        each segment on its own), so a column vector need not be as tall as the matrix is
        wide (a beamer frame keeps it no taller than the matrix).

        Examples
        --------
        >>> import convmat
        >>> lay = matrix_layout(convmat.conv_matrix(np.ones((2, 2)), (3, 3)))
        >>> lay.x_axis().shown == lay.cols.shown, lay.x_axis(4).shown
        (True, (0, 1, None, 8))
        """
        n = self.entries.shape[1]
        if limit is None or len(self.cols.shown) <= limit:
            return self.cols
        if self.col_segments:
            shown, cuts = segments(self.col_segments, max(limit, 3 * len(self.col_segments)))
            return Axis.of(shown, cuts=cuts)
        return Axis.of(elide(n, limit, self.col_levels), self.col_levels)


def _check_cells(entries: Entries, rows: Sequence, cols: Sequence) -> None:
    if len(rows) * len(cols) > MAX_CELLS:
        raise ConvmatError(
            f"writing {len(rows)} x {len(cols)} entries of a {entries.shape[0]} x "
            f"{entries.shape[1]} matrix makes more than {MAX_CELLS:,} cells; set max_rows "
            f"and max_cols to elide the middle"
        )


def _layout(entries: Entries, rows: Axis, cols: Axis, *, highlight_row: int | None,
            overlay: bool | str, max_rows: int | None, max_cols: int | None = None,
            **vectors: Any) -> MatrixLayout:
    _check_cells(entries, rows.shown, cols.shown)
    marked = highlights(entries, rows, row=highlight_row, overlay=overlay, max_rows=max_rows,
                        cols=cols)
    return MatrixLayout(entries, rows, cols, marked, **vectors)


def matrix_layout(matrix: object, *, blocks: object = "auto",
                  geometry: ConvGeometry | None = None, transposed: bool | None = None,
                  max_rows: int | None = None, max_cols: int | None = None,
                  highlight_row: int | None = None, overlay: bool | str = False
                  ) -> MatrixLayout:
    """The layout of a SciPy sparse, numpy or sympy matrix: rows and columns elided to
    ``max_rows`` x ``max_cols``, rules at the blocks (``"auto"``: from the geometry the
    matrix carries or ``geometry=``), the highlighted row or the overlay's slides.

    Parameters
    ----------
    matrix : scipy sparse array/matrix, numpy array or sympy matrix
    blocks, geometry, transposed, max_rows, max_cols, highlight_row
        As :func:`convmat.to_latex`.
    overlay : bool or {"rows", "cols"}
        Highlight every written row (``True``, ``"rows"``) or column (``"cols"``) in turn,
        written row or column ``t`` on slide ``t``.

    Returns
    -------
    MatrixLayout

    Raises
    ------
    ConvmatError
        An option out of its range, a geometry that does not fit the matrix, a highlighted
        row that is not written, more than :data:`MAX_CELLS` cells.
    """
    with error_context("matrix_layout", shape=getattr(matrix, "shape", None)):
        options = _options(max_rows, max_cols, highlight_row, overlay)
        if transposed is not None:
            transposed = as_flag(transposed, "transposed")
        entries = Entries(matrix)
        n_rows, n_cols = entries.shape
        origin = matrix_origin(matrix, (n_rows, n_cols), geometry, transposed)
        row_levels, col_levels = block_levels(blocks, origin)
        kept = getattr(matrix, "block_levels", None)  # a ConvArray's slice of whole blocks
        if origin is None and isinstance(blocks, str) and isinstance(kept, tuple):
            row_levels, col_levels = kept
        x_shape, y_shape = (None, None) if origin is None else vector_shapes(*origin)
        return _layout(entries,
                       Axis.of(elide(n_rows, options["max_rows"], row_levels), row_levels),
                       Axis.of(elide(n_cols, options["max_cols"], col_levels), col_levels),
                       x_shape=x_shape, y_shape=y_shape, col_levels=tuple(col_levels),
                       **options)


# -- Kong & Lucey ----------------------------------------------------------------------------

@dataclass(frozen=True)
class KongLuceyLayout:
    """The displays of a Kong & Lucey result: ``strided`` (:math:`y = A x` on the padded
    input), ``permuted`` (:math:`y = [T_0 | T_1 | \\cdots] x` with ``x`` in phase order) and
    ``sum`` (:math:`y = \\sum_r T_r x_r`), each built when asked for.

    Attributes
    ----------
    kl : KongLucey
        The result (numeric or symbolic).
    cuts : tuple of int
        Column offsets of the phases in the permuted matrix, ``0`` first and the column count
        last: phase ``r`` is columns ``cuts[r]:cuts[r + 1]`` (the phase sizes are the
        differences).
    order : numpy.ndarray of int
        The padded input entry of each column of the permuted matrix (``x`` in phase order).
    """

    kl: Any
    blocks: object = "auto"
    max_rows: int | None = None
    max_cols: int | None = None
    highlight_row: int | None = None
    overlay: bool | str = False

    @property
    def cuts(self) -> tuple[int, ...]:
        return tuple(int(c) for c in np.cumsum([0] + [b.shape[1] for b in self.kl.blocks]))

    @property
    def order(self) -> np.ndarray:
        return self.kl.column_order

    def _levels(self):
        return block_levels(self.blocks, (self.kl.geometry, False))

    def _rows(self) -> Axis:
        levels = self._levels()[0]
        return Axis.of(elide(self.kl.geometry.shape[0], self.max_rows, levels), levels)

    def _marks(self) -> dict:
        return dict(highlight_row=self.highlight_row, overlay=self.overlay,
                    max_rows=self.max_rows)

    @property
    def vector_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Shapes of the padded input and of the output, channels first."""
        return vector_shapes(self.kl.geometry)

    def strided(self) -> MatrixLayout:
        """:math:`y = A x`: the strided matrix on the padded input, the geometry's rules."""
        kl = self.kl
        strided = getattr(kl, "matrix", None)  # a symbolic result holds it
        entries = Entries(kl.strided_matrix() if strided is None else strided)
        x_shape, y_shape = self.vector_shapes
        levels = self._levels()[1]
        cols = Axis.of(elide(kl.geometry.shape[1], self.max_cols, levels), levels)
        return _layout(entries, self._rows(), cols, x_shape=x_shape, y_shape=y_shape,
                       col_levels=tuple(levels), **self._marks())

    def permuted(self) -> MatrixLayout:
        """:math:`y = [T_0 | T_1 | \\cdots] x`: each phase's columns elided on their own, a
        rule after each phase, ``x`` in phase order (as a column, never a grid)."""
        widths = np.diff(self.cuts).tolist()
        cols, cuts = segments(widths, self.max_cols)
        return _layout(Entries(self.kl.permuted), self._rows(), Axis.of(cols, cuts=cuts),
                       y_shape=self.vector_shapes[1], x_index=self.order,
                       col_segments=tuple(widths), **self._marks())

    def sum(self) -> tuple[tuple[MatrixLayout, ...], MatrixLayout]:
        r"""The terms :math:`T_r x_r` of the phases whose blocks hold entries (each with
        ``x_index`` into the padded input and ``x_shape`` the phase input's shape), and the
        layout the left side ``y`` is read from."""
        kl, rows, order, cuts = self.kl, self._rows(), self.order, self.cuts
        terms = []
        for r, (block, phase_shape) in enumerate(zip(kl.blocks, kl.phase_shapes)):
            if _stored(block):
                x_shape = (kl.in_channels, *phase_shape) if kl.in_channels > 1 else phase_shape
                terms.append(_layout(Entries(block), rows,
                                     Axis.of(elide(block.shape[1], self.max_cols)),
                                     x_shape=tuple(x_shape),
                                     x_index=order[cuts[r]:cuts[r + 1]], **self._marks()))
        permuted = Entries(kl.permuted)
        marked = highlights(permuted, rows, row=self.highlight_row, overlay=self.overlay,
                            max_rows=self.max_rows)
        return tuple(terms), MatrixLayout(permuted, rows, Axis(()), marked,
                                          y_shape=self.vector_shapes[1])


def kong_lucey_layout(kl: KongLucey, **options: object) -> KongLuceyLayout:
    """The layout of a Kong & Lucey result (options as :func:`matrix_layout`'s).

    Examples
    --------
    >>> import convmat
    >>> lay = kong_lucey_layout(convmat.kong_lucey([1, 2, 3], (5,), stride=2))
    >>> lay.cuts, lay.order.tolist()   # phase 0 is x_0, x_2, x_4; phase 1 is x_1, x_3
    ((0, 3, 5), [0, 2, 4, 1, 3])
    >>> lay.permuted().cols.rules   # one rule, after the first phase
    {2: 1}
    """
    with error_context("kong_lucey_layout"):
        _check_result(kl)
        unknown = set(options) - {"blocks", "max_rows", "max_cols", "highlight_row", "overlay"}
        if unknown:
            raise ConvmatError(f"unknown option(s) {sorted(unknown)}")
        checked = _options(options.get("max_rows"), options.get("max_cols"),
                           options.get("highlight_row"), options.get("overlay", False))
        if checked["overlay"] == "cols":
            raise ConvmatError("overlay='cols' steps through the columns of one matrix; a Kong "
                               "& Lucey result has several (write kl.strided_matrix() or "
                               "kl.permuted with overlay='cols', or use overlay='rows')")
        block_levels(options.get("blocks", "auto"), None)
        return KongLuceyLayout(kl, blocks=options.get("blocks", "auto"), **checked)


def _check_result(kl: object) -> None:
    if not isinstance(kl, KongLucey):
        raise ConvmatError(f"kl={brief(kl)} is not a Kong & Lucey result; make one with "
                           f"convmat.kong_lucey or convmat.symbolic.kong_lucey")


def padded_sources(kl: KongLucey) -> Callable[[int], tuple[tuple[int, ...] | None, bool]]:
    """What entry ``k`` of a Kong & Lucey result's padded input is: ``(index, inside)`` with
    ``index`` the input entry it holds or copies (channel first when there are several
    channels; ``None``: a zero of zero padding) and ``inside`` whether it is that entry
    itself rather than a copy made by another padding mode.

    Examples
    --------
    >>> import convmat
    >>> kl = convmat.kong_lucey([1, 2], (3,), stride=2, padding=1, padding_mode="reflect")
    >>> [padded_sources(kl)(k) for k in range(5)]
    [((1,), False), ((0,), True), ((1,), True), ((2,), True), ((1,), False)]
    """
    with error_context("padded_sources"):
        _check_result(kl)
    shape = vector_shapes(kl.geometry)[0]
    channels = kl.in_channels > 1
    maps = [index_map(i, b, a, kl.padding_mode).tolist() for i, (b, a) in
            zip(kl.input_shape, kl.padding)]
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]

    def source(k: int) -> tuple[tuple[int, ...] | None, bool]:
        if not 0 <= k < strides[0] * shape[0]:
            raise IndexError(f"entry {k} of a padded input of {strides[0] * shape[0]}")
        index = []
        for stride in strides:  # C-order unravel, in Python ints (one entry at a time)
            position, k = divmod(k, stride)
            index.append(position)
        spatial = index[1:] if channels else index
        found = [m[p] for m, p in zip(maps, spatial)]
        if min(found) < 0:
            return None, False
        inside = all(b <= p < b + i for p, (b, _), i in zip(spatial, kl.padding,
                                                            kl.input_shape))
        return tuple(index[:1] + found if channels else found), inside

    return source
