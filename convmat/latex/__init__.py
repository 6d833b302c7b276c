r"""Publication-ready LaTeX for matrices: SciPy sparse, numpy and sympy.

:func:`to_latex` writes a matrix as an amsmath environment, optionally with

- block rules that make the (doubly-)block-Toeplitz structure visible: given as sizes, or
  found automatically from the convolution's geometry (the matrices of
  :func:`convmat.conv_matrix` and :func:`convmat.symbolic.conv_matrix` carry it; for other
  matrices pass ``geometry=``);
- Kong & Lucey results (numeric or symbolic): the strided matrix, the permuted one with
  rules between the phases, and the sum of unit-stride products (``part=``);
- elision of large matrices: at most ``max_rows`` rows and ``max_cols`` columns are written,
  the middle replaced by ``\vdots``, ``\cdots`` and ``\ddots``;
- one highlighted row (the sliding window) and, with ``x=``, the input entries it touches,
  or every row in turn on the slides of a beamer frame (``overlay="rows"``);
- the input and output vectors, giving ``y = A x``, as columns or as grids (``grid=True``);
- a standalone document cut to the formula that compiles with ``pdflatex``.

Every fragment renders in pdfLaTeX, KaTeX and MathJax 3 (no ``@{}`` column specs, only
macros the three share); rows are loosened (``\arraystretch``) where rules are drawn.

Only the entries that are written are read, so the cost is O(nnz) for sparse input no matter
how large the matrix is. The cells, rules and environments are written by one writer
(:mod:`convmat._latex_cells`), whatever the input. :func:`equations_to_latex` writes
per-output sums (:meth:`convmat.symbolic.MatrixProduct.sums`) as an ``aligned`` block.

Examples
--------
>>> import convmat
>>> print(to_latex(convmat.conv_matrix([1, 2], (3,))))
\begin{bmatrix}
1 & 2 & 0 \\
0 & 1 & 2
\end{bmatrix}
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Union

import numpy as np
import sympy

from .._choices import ENVIRONMENTS, HIGHLIGHTS, KONG_LUCEY_PARTS, OVERLAYS, ZERO_STYLES
from ._cells import (
    MAX_CELLS,
    Entries,
    Formatter,
    Mark,
    elide,
    levels_of,
    overlay_spec,
    rules_at,
    write_cells,
    write_environment,
    write_grid,
    write_vector,
)
from ._pages import beamer_document, beamer_frame, document
from .._padmap import index_map
from .._symbols import element, name_of
from .._validate import as_int, check_choice
from ..errors import ConvmatError, brief, error_context
from ..geometry import ConvGeometry, vector_shapes
from ..striding import KongLucey
from ..symbolic import MatrixProduct

__all__ = ["beamer_document", "block_sizes", "document", "equations_to_latex", "to_latex"]

Environment = Literal["bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"]
ZeroStyle = Literal["0", "cdot", "blank"]
Blocks = Union[str, None, bool, tuple]

#: row height of a display with rules or frames, a multiple of LaTeX's (``\\arraystretch``):
#: loose enough that a rule clears the subscripts above it and a frame fits in its row
SPACING = 1.3
_RULED = re.compile(r"\\hline|\\boxed|\\begin\{array\}\{[^}]*\|")


# -- layout: which blocks, which geometry ---------------------------------------------------

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


def _layout(matrix, shape, geometry, transposed) -> tuple[ConvGeometry, bool] | None:
    """The geometry the matrix comes from and whether it is transposed (None: unknown)."""
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


# -- options ---------------------------------------------------------------------------------

def _check_limit(value: object, name: str) -> int | None:
    if value is None:
        return None
    value = as_int(value, name)
    if value < 2:
        raise ConvmatError(f"{name}={value} must be at least 2 (one entry and the ellipsis)")
    return value


def _check_precision(value: object) -> int:
    value = as_int(value, "precision")
    if not 1 <= value <= 17:
        raise ConvmatError(f"precision={value} must be between 1 and 17")
    return value


def _vector_entries(value, n: int, layout, axis: int, base: int, name: str) -> Callable:
    """Entry ``k`` of the x (axis 1) or y (axis 0) vector: a symbol named ``value`` (indexed
    by the geometry when known) or the given entries."""
    if isinstance(value, str):
        if not value:
            raise ConvmatError(f"{name}={brief(value)} must be a name or the entries")
        shape = (n,) if layout is None else vector_shapes(*layout)[1 - axis]
        return lambda k: element(value, shape, k, base)
    entries = list(np.asarray(value, dtype=object).ravel())
    if len(entries) != n:
        what = "columns" if axis == 1 else "rows"
        raise ConvmatError(f"{name} has {len(entries)} entries but the matrix has {n} {what}")
    return entries.__getitem__


def _check_spacing(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not 0.5 <= float(value) <= 4:
        raise ConvmatError(f"spacing={value!r} must be a number from 0.5 to 4 (the row height "
                           f"as a multiple of LaTeX's; 1 is LaTeX's own)")
    return float(value)


@dataclass(frozen=True)
class _Style:
    """The validated options of one :func:`to_latex` call (shared by every matrix it writes)."""

    environment: str
    blocks: Blocks
    zero_text: str
    fmt: Formatter
    max_rows: int | None
    max_cols: int | None
    highlight_row: int | None
    highlight: str
    base: int | None  # None: the base the matrix was built with (0 when it does not say)
    spacing: float | None
    overlay: str | None
    grid: bool

    def grid_limits(self) -> tuple[int | None, int | None]:
        """Rows and columns of a vector drawn as a grid: about the square root of the
        matrix's limits, so the grid stays smaller than the matrix."""
        return tuple(None if m is None else max(3, math.isqrt(m) + 1)  # type: ignore
                     for m in (self.max_rows, self.max_cols))


def _style(environment, blocks, zero, precision, max_rows, max_cols, highlight_row, highlight,
           base, spacing, overlay, grid) -> _Style:
    environment = check_choice(environment, "environment", ENVIRONMENTS)
    zero_text = ZERO_STYLES[check_choice(zero, "zero", ZERO_STYLES)]
    if overlay is not None:
        overlay = check_choice(overlay, "overlay", OVERLAYS)
        if highlight_row is not None:
            raise ConvmatError(f"highlight_row={highlight_row!r} and overlay={overlay!r} "
                               f"contradict each other: the overlay highlights every row in turn")
    if highlight is None:
        highlight = "boxed" if overlay is None else "color"
    highlight = check_choice(highlight, "highlight", HIGHLIGHTS)
    if highlight_row is not None:
        highlight_row = as_int(highlight_row, "highlight_row")
    if not isinstance(grid, (bool, np.bool_)):
        raise ConvmatError(f"grid={grid!r} must be True or False")
    return _Style(environment, blocks, zero_text, Formatter(_check_precision(precision)),
                  _check_limit(max_rows, "max_rows"), _check_limit(max_cols, "max_cols"),
                  highlight_row, highlight, None if base is None else as_int(base, "base"),
                  _check_spacing(spacing), overlay, bool(grid))


def _block_levels(blocks: Blocks, layout) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(row_levels, col_levels) from the ``blocks`` option and the matrix's layout."""
    if isinstance(blocks, str):
        check_choice(blocks, "blocks", ("auto",))
        return block_sizes(*layout) if layout else ((), ())
    if blocks is None or blocks is False:
        return (), ()
    if isinstance(blocks, Sequence) and len(blocks) == 2:
        return tuple(_explicit_levels(b) for b in blocks)  # type: ignore[return-value]
    raise ConvmatError(f"blocks={brief(blocks)} is not 'auto', None or a pair (row_blocks, col_blocks)")


def _segments(widths: Sequence[int], limit: int | None) -> tuple[list[int | None], list[int]]:
    """Columns written for consecutive segments of ``widths`` (each elided on its own, keeping
    ``max(2, limit // len(widths))``) and the positions in that list after which a segment
    ends (where a rule goes)."""
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


def _on_slides(steps: Sequence[int], text: str, highlight: str) -> str:
    """``text`` highlighted on the beamer slides ``steps`` only."""
    spec = overlay_spec(steps)
    if highlight == "color":
        return rf"\alert<{spec}>{{{text}}}"
    return rf"\alt<{spec}>{{{HIGHLIGHTS[highlight] % text}}}{{{text}}}"


def _marks(entries: Entries, style: _Style, rows) -> tuple[Mark | None, Mark | None, Mark | None]:
    """How the matrix cells, the x entries and the y entries are highlighted: the one
    ``highlight_row``, or (``overlay="rows"``) written row number ``t`` on slide ``t``."""
    if style.overlay is not None:
        step = {r: t for t, r in enumerate((r for r in rows if r is not None), start=1)}
        x_steps: dict[int, list[int]] = {}
        for r, t in step.items():
            for c in entries.row_columns(r):
                x_steps.setdefault(c, []).append(t)
        how = style.highlight
        return (lambda r, c, text: _on_slides([step[r]], text, how),
                lambda k, _, text: _on_slides(x_steps[k], text, how) if k in x_steps else text,
                lambda k, _, text: _on_slides([step[k]], text, how) if k in step else text)
    row = style.highlight_row
    if row is None:
        return None, None, None
    wrap = HIGHLIGHTS[style.highlight]
    marked = entries.row_columns(row)
    return (lambda r, c, text: wrap % text if r == row else text,
            lambda k, _, text: wrap % text if k in marked else text,
            lambda k, _, text: wrap % text if k == row else text)


def _check_rows(entries: Entries, style: _Style, rows) -> None:
    """The highlighted row is a row of the matrix and is written."""
    row = style.highlight_row
    if row is not None:
        if not 0 <= row < entries.shape[0]:
            raise ConvmatError(f"highlight_row={row} is not a row of the {entries.shape[0]}-row "
                               f"matrix")
        if row not in rows:
            raise ConvmatError(f"highlight_row={row} is elided by max_rows={style.max_rows}; "
                               f"raise max_rows or write a slice of the matrix around that row")


def _write(entries: Entries, style: _Style, *, rows, cols, row_levels=(), col_levels=(),
           cuts=(), x_entry: Callable | None = None, y_entry: Callable | None = None,
           x_shape: tuple[int, ...] | None = None, y_shape: tuple[int, ...] | None = None,
           equals: str = "=") -> str:
    """``[y =] A [x]``: the written rows and columns of ``entries`` with rules at the block
    levels and after the explicit column positions ``cuts``, the vectors beside (as grids
    of ``x_shape`` and ``y_shape`` when ``style.grid`` and the shapes are known)."""
    if len(rows) * len(cols) > MAX_CELLS:
        raise ConvmatError(
            f"writing {len(rows)} x {len(cols)} entries of a {entries.shape[0]} x "
            f"{entries.shape[1]} matrix makes more than {MAX_CELLS:,} cells; set max_rows "
            f"and max_cols to elide the middle"
        )
    _check_rows(entries, style, rows)
    mark_a, mark_x, mark_y = _marks(entries, style, rows)
    row_rules = rules_at(rows, row_levels, r"\hline", r"\hline\hline")
    col_rules = {**rules_at(cols, col_levels, "|", "||"), **{k: "|" for k in cuts}}
    x_rules = {**rules_at(cols, col_levels, r"\hline", r"\hline\hline"),
               **{k: r"\hline" for k in cuts}}
    cells = write_cells(entries, rows, cols, style.fmt, style.zero_text, mark_a)
    parts = [write_environment(cells, row_rules, col_rules, style.environment)]
    limits = style.grid_limits()
    if x_entry is not None:
        if style.grid and x_shape is not None:
            parts.append(write_grid(x_entry, x_shape, style.fmt, style.environment, mark_x,
                                    limits))
        else:
            parts.append(write_vector(x_entry, cols, x_rules, style.fmt, style.environment,
                                      mark_x))
    if y_entry is not None:
        if style.grid and y_shape is not None:
            lhs = write_grid(y_entry, y_shape, style.fmt, style.environment, mark_y, limits)
        else:
            lhs = write_vector(y_entry, rows, row_rules, style.fmt, style.environment, mark_y)
        parts[:0] = [lhs, equals]
    return "\n".join(parts)


def _own_base(matrix) -> int:
    """The first index the matrix's symbols were made with (a symbolic builder's ``base``;
    a numpy array's ``.base`` is something else entirely)."""
    base = getattr(matrix, "base", 0)
    return base if isinstance(base, int) and not isinstance(base, bool) else 0


def _stored(matrix) -> int:
    """Stored entries of a SciPy sparse array (``.nnz``) or a sympy matrix (``.nnz()``)."""
    return matrix.nnz if isinstance(matrix.nnz, int) else matrix.nnz()


def _padded_input(kl: KongLucey, name: str, base: int) -> Callable[[int], str]:
    r"""Entry ``k`` of the padded input of a Kong & Lucey result, as LaTeX: an input position
    is ``x`` at its index in the input, a zero-padded one is ``0`` and one copied by another
    padding mode is ``\tilde{x}`` at the index it copies (a padded value, not an unknown)."""
    shape = vector_shapes(kl.geometry)[0]
    channels = kl.in_channels > 1
    maps = [index_map(i, b, a, kl.padding_mode) for i, (b, a) in
            zip(kl.input_shape, kl.padding)]
    tilde = rf"\tilde{{{name}}}"

    def entry(k: int) -> str:
        index = [int(v) for v in np.unravel_index(k, shape)]
        spatial = index[1:] if channels else index
        source = [int(m[p]) for m, p in zip(maps, spatial)]
        if min(source) < 0:
            return "0"
        text = name_of(name, index[:1] + source if channels else source, base)
        inside = all(b <= p < b + i for p, (b, _), i in zip(spatial, kl.padding,
                                                            kl.input_shape))
        return text if inside else tilde + text[len(name):]

    return entry


def _kong_lucey(kl: KongLucey, part: object, style: _Style, x: object, y: object,
                equals: str = "=") -> str:
    """The displays of a Kong & Lucey result, each on the one writer (:func:`_write`)."""
    part = check_choice(part, "part", KONG_LUCEY_PARTS)
    x = "x" if x is None else x
    y = "y" if y is None else y
    for value, label in ((x, "x"), (y, "y")):
        if not isinstance(value, str) or not value:
            raise ConvmatError(f"{label}={brief(value)} must be a non-empty name (the symbols of a "
                               f"Kong & Lucey display are named from the geometry)")
    if part == "all":
        return "\\begin{aligned}\n" + "\n\\\\[2ex]\n".join(
            _kong_lucey(kl, p, style, x, y, "&=") for p in KONG_LUCEY_PARTS[1:]) + \
            "\n\\end{aligned}"
    geom = kl.geometry
    base = _own_base(kl) if style.base is None else style.base
    x_shape, y_shape = vector_shapes(geom)
    row_levels, col_levels = _block_levels(style.blocks, (geom, False))
    rows = elide(geom.shape[0], style.max_rows)
    padded = _padded_input(kl, x, base)

    def y_entry(k):
        return name_of(y, np.unravel_index(k, y_shape), base)

    if part == "strided":  # a symbolic result holds it; rebuilding is a sympy product
        strided = getattr(kl, "matrix", None)
        return _write(Entries(kl.strided_matrix() if strided is None else strided), style,
                      rows=rows,
                      cols=elide(geom.shape[1], style.max_cols), row_levels=row_levels,
                      col_levels=col_levels, x_entry=padded, y_entry=y_entry,
                      x_shape=x_shape, y_shape=y_shape, equals=equals)
    order = kl.column_order
    widths = [block.shape[1] for block in kl.blocks]
    if part == "permuted":
        cols, cuts = _segments(widths, style.max_cols)
        return _write(Entries(kl.permuted), style, rows=rows, cols=cols,
                      row_levels=row_levels, cuts=cuts, x_entry=lambda k: padded(order[k]),
                      y_entry=y_entry, y_shape=y_shape, equals=equals)
    # part == "sum": y = T_0 x_0 + T_1 x_1 + ..., blocks without entries left out
    cuts = np.cumsum([0] + widths)
    terms = []
    for block, lo, phase_shape in zip(kl.blocks, cuts[:-1], kl.phase_shapes):
        if _stored(block):
            terms.append(_write(
                Entries(block), style, rows=rows, cols=elide(block.shape[1], style.max_cols),
                row_levels=row_levels, x_entry=lambda k, lo=lo: padded(order[lo + k]),
                x_shape=(kl.in_channels, *phase_shape) if kl.in_channels > 1 else phase_shape))
    first = Entries(kl.permuted)
    _check_rows(first, style, rows)
    mark_y = _marks(first, style, rows)[2]
    if style.grid:
        lhs = write_grid(y_entry, y_shape, style.fmt, style.environment, mark_y,
                         style.grid_limits())
    else:
        lhs = write_vector(y_entry, rows, rules_at(rows, row_levels, r"\hline", r"\hline\hline"),
                           style.fmt, style.environment, mark_y)
    return lhs + f"\n{equals}\n" + ("\n+\n".join(terms) or "0")


def to_latex(
    matrix,
    *,
    part: str | None = None,
    environment: Environment = "bmatrix",
    blocks: Blocks = "auto",
    geometry: ConvGeometry | None = None,
    transposed: bool | None = None,
    zero: ZeroStyle = "0",
    precision: int = 4,
    max_rows: int | None = 40,
    max_cols: int | None = 40,
    highlight_row: int | None = None,
    highlight: Literal["boxed", "bold", "color"] | None = None,
    x: str | Sequence | None = None,
    y: str | Sequence | None = None,
    base: int | None = None,
    spacing: float | None = None,
    grid: bool = False,
    overlay: Literal["rows"] | None = None,
    standalone: bool = False,
    **unknown,
) -> str:
    r"""LaTeX of a SciPy sparse, numpy or sympy matrix (amsmath).

    Parameters
    ----------
    matrix : scipy sparse array/matrix, numpy array, sympy matrix, or a Kong & Lucey result
        What to write. A 1-D array is written as a column. A result of
        :func:`convmat.kong_lucey` or :func:`convmat.symbolic.kong_lucey` is written as the
        display(s) ``part`` names, every option applying to each matrix in it.
    part : {"all", "strided", "permuted", "sum"}, optional
        Kong & Lucey results only (default ``"all"``). ``"strided"``: :math:`y = A x` on the
        padded input; ``"permuted"``: :math:`y = [T_0 \mid T_1 \mid \cdots] [x_0; x_1;
        \ldots]`, rules between the phases, each phase's columns elided on their own
        (``max(2, max_cols // prod(stride))`` of them); ``"sum"``: :math:`y = T_0 x_0 + T_1
        x_1 + \cdots` (blocks without entries left out); ``"all"``: the three in a
        ``gathered`` block.
    environment : {"bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"}
        The amsmath environment. With block rules, or with more than 10 columns (amsmath's
        limit for its matrix environments), the same delimiters are drawn around an
        ``array`` (``\left[\begin{array}{c|c} ... \end{array}\right]``). ``"array"`` is a
        bare array without delimiters. Every environment renders in pdfLaTeX, KaTeX and
        MathJax 3.
    blocks : "auto", None, or (row_blocks, col_blocks)
        Rules between blocks. ``"auto"``: from the convolution's geometry when known (a
        :class:`~convmat.symbolic.ConvMatrix`, or ``geometry=``), else none. A pair gives the
        sizes: each an int (0 for none) or a sequence of sizes, coarsest drawn double
        (``((16, 4), 4)``). ``None`` draws none.
    geometry : ConvGeometry, optional
        The geometry a numeric matrix comes from (:func:`convmat.geometry.convolution_geometry` or
        :func:`~convmat.geometry.transposed_geometry`), for automatic blocks and
        multi-indexed vector names.
    transposed : bool, optional
        Whether ``matrix`` is the transpose of ``geometry``'s matrix; inferred from the shape
        when omitted.
    zero : {"0", "cdot", "blank"}
        How entries that are not stored print (numpy: entries equal to 0). Stored zeros of a
        sparse matrix (taps whose weight is 0) print as ``0``.
    precision : int
        Significant digits of floating-point entries; integers print as integers.
    max_rows, max_cols : int or None
        Write at most this many rows and columns, the ellipsis included (the middle ones are
        replaced by ``\vdots``, ``\cdots``, ``\ddots``); ``None`` writes all.
    highlight_row : int, optional
        Row whose stored entries (the kernel's window) are highlighted; with ``x``, so are
        the input entries it touches and, with ``y``, its output.
    highlight : {"boxed", "bold", "color"}, optional
        A frame (``\boxed``, smashed so the row keeps its height and the frame clears the
        rules), ``\boldsymbol`` or ``\textcolor{red}`` (needs LaTeX's ``color`` or
        ``xcolor`` package; KaTeX and MathJax have it). Default ``"boxed"``, and ``"color"``
        (beamer's ``\alert``) with ``overlay``.
    x, y : str or sequence, optional
        Also write the input vector after the matrix (``A x``) and the output vector before
        it (``y = A x``): a name (symbols ``x_{i,j}`` indexed by the geometry, flat ``x_{7}``
        without one) or the entries (numbers, sympy expressions or LaTeX strings). In a
        Kong & Lucey display the padded input is written with the input's own indices: a
        zero-padded position is ``0`` and a position another padding mode copies is
        ``\tilde{x}`` at the index it copies.
    base : int, optional
        First index of the vector symbols; by default the base the symbolic matrix was built
        with (``symbolic.conv_matrix(..., base=1)``), else 0.
    spacing : float, optional
        Row height as a multiple of LaTeX's (``\def\arraystretch{...}`` in front of the
        fragment; KaTeX reads it too, MathJax spaces rules on its own). By default 1.3 when
        the display has rules or frames (a rule then clears the subscripts above it) and
        LaTeX's own otherwise; 1 never writes the definition.
    grid : bool
        Draw the vectors as the grids they flatten (``\operatorname{vec}`` of the image,
        channels stacked with rules between), each side elided to about the square root of
        ``max_rows``/``max_cols``; needs the geometry. In a Kong & Lucey display the ``sum``
        part draws every phase input ``x_r`` as a grid and ``permuted`` keeps the column.
    overlay : {"rows"}, optional
        A beamer frame (``\begin{frame} ... \end{frame}``) in which slide ``t`` highlights
        written row ``t`` of the matrix, the entries of ``x`` it covers and ``y_t``: the
        sliding window, one step per slide. With ``standalone``, a complete beamer document.
    standalone : bool
        Return a complete document (see :func:`document`, or :func:`beamer_document` with
        ``overlay``) instead of a math fragment.

    Raises
    ------
    ConvmatError
        An unknown option, a value out of its range, ``part`` for a plain matrix, or
        ``geometry``/``transposed`` for a Kong & Lucey result (it knows its own).

    Returns
    -------
    str

    Notes
    -----
    Only the written entries are read. Written size: ``min(rows, max_rows)`` by
    ``min(cols, max_cols)``; with ``r = max_rows`` the rows written are the first
    :math:`r - 1 - \lfloor (r-1)/2 \rfloor`, a ``\vdots`` row and the last
    :math:`\lfloor (r-1)/2 \rfloor` (columns alike). Rules are drawn after row ``i`` when
    ``(i + 1)`` is a multiple of a block size and both neighbours are written.

    Examples
    --------
    >>> from convmat import symbolic
    >>> print(to_latex(symbolic.conv_matrix((2, 2), (3, 3)), zero="cdot"))
    \def\arraystretch{1.3}
    \left[\begin{array}{ccc|ccc|ccc}
    w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot & \cdot \\
    \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot \\
    \hline
    \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot \\
    \cdot & \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1}
    \end{array}\right]
    >>> import numpy as np
    >>> import convmat
    >>> print(to_latex(convmat.kong_lucey([1, 2, 3], (5,), stride=2), part="permuted"))
    \def\arraystretch{1.3}
    \begin{bmatrix}
    y_{0} \\
    y_{1}
    \end{bmatrix}
    =
    \left[\begin{array}{ccc|cc}
    1 & 3 & 0 & 2 & 0 \\
    0 & 1 & 3 & 0 & 2
    \end{array}\right]
    \left[\begin{array}{c}
    x_{0} \\
    x_{2} \\
    x_{4} \\
    \hline
    x_{1} \\
    x_{3}
    \end{array}\right]
    >>> print(to_latex(np.eye(100, dtype=int), max_rows=4, max_cols=4))
    \begin{bmatrix}
    1 & 0 & \cdots & 0 \\
    0 & 1 & \cdots & 0 \\
    \vdots & \vdots & \ddots & \vdots \\
    0 & 0 & \cdots & 1
    \end{bmatrix}
    """
    with error_context("to_latex", shape=getattr(matrix, "shape", None)):
        if unknown:
            raise ConvmatError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {sorted(unknown)}; to_latex "
                f"takes {', '.join(_OPTIONS)}"
            )
        if not isinstance(standalone, (bool, np.bool_)):
            raise ConvmatError(f"standalone={brief(standalone)} must be True or False")
        if transposed is not None and not isinstance(transposed, (bool, np.bool_)):
            raise ConvmatError(f"transposed={brief(transposed)} must be True, False or None")
        style = _style(environment, blocks, zero, precision, max_rows, max_cols, highlight_row,
                       highlight, base, spacing, overlay, grid)
        if isinstance(matrix, KongLucey):
            for name, value in (("geometry", geometry), ("transposed", transposed)):
                if value is not None:
                    raise ConvmatError(f"{name}={brief(value)}: a Kong & Lucey result knows its own "
                                       f"geometry; leave {name} out")
            body = _kong_lucey(matrix, "all" if part is None else part, style, x, y)
        else:
            if part is not None:
                raise ConvmatError(f"part={brief(part)} applies to Kong & Lucey results only, not "
                                   f"to a {type(matrix).__name__}")
            body = _matrix(matrix, style, geometry, transposed, x, y)
        spacing = style.spacing
        if spacing is None:  # loosen the rows only where a rule or a frame could touch them
            spacing = SPACING if _RULED.search(body) else 1
        if spacing != 1:
            body = f"\\def\\arraystretch{{{spacing:g}}}\n{body}"
        if style.overlay is not None:
            frame = beamer_frame(body)
            return beamer_document(frame) if standalone else frame
        return document(body) if standalone else body


def _matrix(matrix, style: _Style, geometry, transposed, x, y) -> str:
    entries = Entries(matrix)
    n_rows, n_cols = entries.shape
    layout = _layout(matrix, (n_rows, n_cols), geometry, transposed)
    row_levels, col_levels = _block_levels(style.blocks, layout)
    base = _own_base(matrix) if style.base is None else style.base
    x_shape, y_shape = (None, None) if layout is None else vector_shapes(*layout)
    if style.grid and layout is None and (x is not None or y is not None):
        raise ConvmatError("grid=True draws the vectors in the shape of the convolution's "
                           "input and output, which this matrix does not carry; pass geometry=")
    return _write(
        entries, style, rows=elide(n_rows, style.max_rows), cols=elide(n_cols, style.max_cols),
        row_levels=row_levels, col_levels=col_levels,
        x_entry=None if x is None else _vector_entries(x, n_cols, layout, 1, base, "x"),
        y_entry=None if y is None else _vector_entries(y, n_rows, layout, 0, base, "y"),
        x_shape=x_shape, y_shape=y_shape,
    )


_OPTIONS = ("part", "environment", "blocks", "geometry", "transposed", "zero", "precision",
            "max_rows", "max_cols", "highlight_row", "highlight", "x", "y", "base", "spacing",
            "grid", "overlay", "standalone")


def equations_to_latex(equations, *, max_rows: int | None = None,
                       standalone: bool = False) -> str:
    r"""Equations (e.g. the per-output sums of ``y = A x``) as an amsmath ``aligned`` block.

    Parameters
    ----------
    equations : iterable of sympy.Eq, or a MatrixProduct
        A :class:`~convmat.symbolic.MatrixProduct` stands for its ``.sums()``.
    max_rows : int or None
        Write at most this many lines, the middle ones replaced by ``\vdots``.
    standalone : bool
        Return a complete document.

    Examples
    --------
    >>> from convmat import symbolic
    >>> p = symbolic.product(symbolic.conv_matrix((2,), (3,)))
    >>> print(equations_to_latex(p))
    \begin{aligned}
    y_{0} &= w_{0} x_{0} + w_{1} x_{1} \\
    y_{1} &= w_{0} x_{1} + w_{1} x_{2}
    \end{aligned}
    """
    with error_context("equations_to_latex"):
        if isinstance(equations, MatrixProduct):
            equations = equations.sums()
        if isinstance(equations, sympy.Eq):
            equations = [equations]
        if not isinstance(standalone, (bool, np.bool_)):
            raise ConvmatError(f"standalone={brief(standalone)} must be True or False")
        try:
            equations = list(equations)
        except TypeError:
            equations = []
        if not equations or not all(isinstance(e, sympy.Eq) for e in equations):
            raise ConvmatError("equations must be a non-empty sequence of sympy.Eq")
        lines = []
        for k in elide(len(equations), _check_limit(max_rows, "max_rows")):
            if k is None:
                lines.append(r"&\vdots")
            else:
                eq = equations[k]
                lines.append(f"{sympy.latex(eq.lhs)} &= {sympy.latex(eq.rhs)}")
        body = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
        return document(body) if standalone else body
