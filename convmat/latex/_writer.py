r"""The displays :func:`convmat.to_latex` writes, spelled in LaTeX from the format-neutral
layouts of :mod:`convmat.layout`: the validated options of one call (:class:`Style`), one
matrix as ``[y =] A [x]`` (:func:`write_matrix`) and the parts of a Kong & Lucey result
(:func:`write_kong_lucey`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._choices import ENVIRONMENTS, HIGHLIGHTS, KONG_LUCEY_PARTS, OVERLAYS, ZERO_STYLES
from .._validate import as_int, check_choice
from ..errors import ConvmatError, brief
from ..layout import (
    Axis,
    Highlights,
    MatrixLayout,
    check_limit,
    kong_lucey_layout,
    matrix_layout,
    padded_sources,
)
from ._cells import (
    Formatter,
    Mark,
    overlay_spec,
    spelled,
    write_cells,
    write_environment,
    write_grid,
    write_vector,
)
from ._macros import COL_RULES, HIGHLIGHT_MACROS, ROW_RULES, ZERO_TEXT, subscript
from ._strings import check_name, math_entries

__all__ = ["Style", "check_limit", "check_part_free", "own_base", "style", "write_kong_lucey",
           "write_matrix"]


def _check_precision(value: object) -> int:
    value = as_int(value, "precision")
    if not 1 <= value <= 17:
        raise ConvmatError(f"precision={value} must be between 1 and 17")
    return value


def _check_spacing(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not 0.5 <= value <= 4:
        raise ConvmatError(f"spacing={brief(value)} must be a number from 0.5 to 4 (the row height "
                           f"as a multiple of LaTeX's; 1 is LaTeX's own)")
    return float(value)


@dataclass(frozen=True)
class Style:
    """The validated options of one :func:`to_latex` call (shared by every matrix it writes)."""

    environment: str
    blocks: object
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
    #: an input vector written as a column is elided on its own to about the matrix's
    #: written rows (:meth:`~convmat.layout.MatrixLayout.x_axis`), not with the matrix's
    #: columns: set by beamer frames, where a tall column would shrink the whole display
    x_fit: bool = False

    def grid_limits(self) -> tuple[int | None, int | None]:
        """Rows and columns of a vector drawn as a grid: about the square root of the
        matrix's limits, so the grid stays smaller than the matrix."""
        return tuple(None if m is None else max(3, math.isqrt(m) + 1)  # type: ignore
                     for m in (self.max_rows, self.max_cols))

    def layout_options(self) -> dict:
        """The options :mod:`convmat.layout` decides from."""
        return dict(blocks=self.blocks, max_rows=self.max_rows, max_cols=self.max_cols,
                    highlight_row=self.highlight_row, overlay=self.overlay or False)


def style(environment: object, blocks: object, zero: object, precision: object,
          max_rows: object, max_cols: object, highlight_row: object, highlight: object,
          base: object, spacing: object, overlay: object, grid: object) -> Style:
    """Check the options of :func:`to_latex` once."""
    environment = check_choice(environment, "environment", ENVIRONMENTS)
    zero_text = ZERO_TEXT[check_choice(zero, "zero", ZERO_STYLES)]
    if overlay is not None:
        overlay = check_choice(overlay, "overlay", OVERLAYS)
        if highlight_row is not None:
            raise ConvmatError(f"highlight_row={brief(highlight_row)} and overlay={overlay!r} "
                               f"contradict each other: the overlay highlights every row in turn")
    if highlight is None:
        highlight = "boxed" if overlay is None else "color"
    highlight = check_choice(highlight, "highlight", HIGHLIGHTS)
    if highlight_row is not None:
        highlight_row = as_int(highlight_row, "highlight_row")
    if not isinstance(grid, (bool, np.bool_)):
        raise ConvmatError(f"grid={brief(grid)} must be True or False")
    return Style(environment, blocks, zero_text, Formatter(_check_precision(precision)),
                 check_limit(max_rows, "max_rows"), check_limit(max_cols, "max_cols"),
                 highlight_row, highlight, None if base is None else as_int(base, "base"),
                 _check_spacing(spacing), overlay, bool(grid))


# -- highlights ------------------------------------------------------------------------------

def _marked(text: str, steps: tuple[int, ...] | None, how: str) -> str:
    """``text`` highlighted always (``steps`` None) or on the beamer slides ``steps`` only."""
    if steps is None:
        return HIGHLIGHT_MACROS[how] % text
    spec = overlay_spec(steps)
    if how == "color":
        return rf"\alert<{spec}>{{{text}}}"
    return rf"\alt<{spec}>{{{HIGHLIGHT_MACROS[how] % text}}}{{{text}}}"


def _mark(where: dict, how: str) -> Mark | None:
    if not where:
        return None
    return lambda k, _, text: _marked(text, where[k], how) if k in where else text


def _hidden(marked: Mapping[int, tuple[int, ...] | None], axis: Axis,
            ellipsis: bool = True) -> dict:
    """The highlights of a vector written along ``axis``, with ``ellipsis`` its ellipsis (key
    ``None``) highlighted on every slide an entry it hides is."""
    shown = set(axis.indices)
    out: dict = {k: steps for k, steps in marked.items() if k in shown}
    hidden = [steps for k, steps in marked.items() if k not in shown]
    if hidden and ellipsis:
        out[None] = None if None in hidden else tuple(sorted({t for steps in hidden
                                                             for t in steps or ()}))
    return out


def _marks(marked: Highlights, how: str) -> tuple[Mark | None, Mark | None, Mark | None]:
    """How the matrix cells, the x entries and the y entries are written highlighted."""
    rows, cols = marked.rows, marked.cols
    cells = None if not rows else (
        lambda r, c, text: _marked(text, rows[r], how) if r in rows else text)
    if cols:
        cells = lambda r, c, text: _marked(text, cols[c], how) if c in cols else text  # noqa: E731
    return cells, _mark(dict(marked.x), how), _mark(dict(marked.y), how)


# -- one display -----------------------------------------------------------------------------

def _write(layout: MatrixLayout, style: Style, x_entry: Callable | None = None,
           y_entry: Callable | None = None, equals: str = "=") -> str:
    """``[y =] A [x]``: the layout's cells with its rules, the vectors beside (as grids of
    ``x_shape``/``y_shape`` when ``style.grid`` and the shapes are known)."""
    mark_a, mark_x, mark_y = _marks(layout.highlights, style.highlight)
    row_rules = spelled(layout.rows, ROW_RULES)
    cells = write_cells(layout.entries, list(layout.rows.shown), list(layout.cols.shown),
                        style.fmt, style.zero_text, mark_a)
    parts = [write_environment(cells, row_rules, spelled(layout.cols, COL_RULES),
                               style.environment)]
    limits = style.grid_limits()
    if x_entry is not None:
        if style.grid and layout.x_shape is not None:
            parts.append(write_grid(x_entry, layout.x_shape, style.fmt, style.environment,
                                    mark_x, limits))
        else:
            x_axis = layout.x_axis(max(len(layout.rows.shown), 5) if style.x_fit else None)
            if x_axis is not layout.cols:  # elided on its own: its ellipsis stands for the
                # rest, coloured where an entry it hides is (a frame would crowd the rules)
                mark_x = _mark(_hidden(layout.highlights.x, x_axis,
                                       style.highlight == "color"), style.highlight)
            parts.append(write_vector(x_entry, list(x_axis.shown), spelled(x_axis, ROW_RULES),
                                      style.fmt, style.environment, mark_x))
    if y_entry is not None:
        parts[:0] = [_vector(layout, y_entry, style, mark_y), equals]
    return "\n".join(parts)


def _vector(layout: MatrixLayout, y_entry: Callable, style: Style, mark: Mark | None) -> str:
    """The output vector beside ``layout``'s rows (a grid of ``y_shape`` with ``grid``)."""
    if style.grid and layout.y_shape is not None:
        return write_grid(y_entry, layout.y_shape, style.fmt, style.environment, mark,
                          style.grid_limits())
    return write_vector(y_entry, list(layout.rows.shown), spelled(layout.rows, ROW_RULES),
                        style.fmt, style.environment, mark)


def own_base(matrix: object) -> int:
    """The first index the matrix's symbols were made with (a symbolic builder's ``base``;
    a numpy array's ``.base`` is something else entirely)."""
    base = getattr(matrix, "base", 0)
    return base if isinstance(base, int) and not isinstance(base, bool) else 0


def _vector_entries(value: object, n: int, shape: tuple[int, ...] | None, axis: int,
                    base: int, name: str) -> Callable:
    """Entry ``k`` of the x (axis 1) or y (axis 0) vector: a symbol named ``value`` (indexed
    by the geometry's ``shape`` when known) or the given entries."""
    if isinstance(value, str):
        if not value:
            raise ConvmatError(f"{name}={brief(value)} must be a name or the entries")
        text = check_name(value, name)
        dims = (n,) if shape is None else shape
        return lambda k: subscript(text, [int(i) for i in np.unravel_index(k, dims)], base)
    entries = math_entries(list(np.asarray(value, dtype=object).ravel()), name)
    if len(entries) != n:
        what = "columns" if axis == 1 else "rows"
        raise ConvmatError(f"{name} has {len(entries)} entries but the matrix has {n} {what}")
    return entries.__getitem__


def write_matrix(matrix: object, style: Style, geometry: Any, transposed: bool | None,
                 x: object, y: object, equals: str = "=") -> str:
    """``[y =] A [x]`` for a SciPy sparse, numpy or sympy matrix."""
    layout = matrix_layout(matrix, geometry=geometry, transposed=transposed,
                           **style.layout_options())
    n_rows, n_cols = layout.entries.shape
    base = own_base(matrix) if style.base is None else style.base
    if style.grid and layout.x_shape is None and (x is not None or y is not None):
        raise ConvmatError("grid=True draws the vectors in the shape of the convolution's "
                           "input and output, which this matrix does not carry; pass geometry=")
    return _write(
        layout, style,
        x_entry=None if x is None else _vector_entries(x, n_cols, layout.x_shape, 1, base, "x"),
        y_entry=None if y is None else _vector_entries(y, n_rows, layout.y_shape, 0, base, "y"),
        equals=equals,
    )


def _padded_input(kl: Any, name: str, base: int) -> Callable[[int], str]:
    r"""Entry ``k`` of the padded input of a Kong & Lucey result, as LaTeX: an input position
    is ``x`` at its index in the input, a zero-padded one is ``0`` and one copied by another
    padding mode is ``\tilde{x}`` at the index it copies (a padded value, not an unknown)."""
    source = padded_sources(kl)
    tilde = rf"\tilde{{{name}}}"

    def entry(k: int) -> str:
        index, inside = source(k)
        if index is None:
            return "0"
        return subscript(name if inside else tilde, index, base)

    return entry


def write_kong_lucey(kl: Any, part: object, style: Style, x: object, y: object,
                     equals: str = "=", term: int | None = None) -> str:
    """The displays of a Kong & Lucey result, each on the one writer (:func:`_write`);
    with ``term`` (``part="sum"`` only) the sum's term number ``term`` alone (the phases
    without entries left out), ``y = T_r x_r + \\cdots``: a beamer frame per phase."""
    part = check_choice(part, "part", KONG_LUCEY_PARTS)
    x = "x" if x is None else x
    y = "y" if y is None else y
    for value, label in ((x, "x"), (y, "y")):
        if not isinstance(value, str) or not value:
            raise ConvmatError(f"{label}={brief(value)} must be a non-empty name (the symbols of a "
                               f"Kong & Lucey display are named from the geometry)")
        check_name(value, label)
    if part == "all":
        return "\\begin{aligned}\n" + "\n\\\\[2ex]\n".join(
            write_kong_lucey(kl, p, style, x, y, "&=") for p in KONG_LUCEY_PARTS[1:]) + \
            "\n\\end{aligned}"
    layout = kong_lucey_layout(kl, **style.layout_options())
    base = own_base(kl) if style.base is None else style.base
    padded = _padded_input(kl, str(x), base)
    y_shape = layout.vector_shapes[1]

    def y_entry(k):
        return subscript(y, np.unravel_index(k, y_shape), base)

    if part == "strided":
        return _write(layout.strided(), style, padded, y_entry, equals)
    if part == "permuted":
        permuted = layout.permuted()
        return _write(permuted, style, lambda k: padded(permuted.x_entry(k)), y_entry, equals)
    # part == "sum": y = T_0 x_0 + T_1 x_1 + ..., blocks without entries left out
    terms, left = layout.sum()
    lhs = _vector(left, y_entry, style, _marks(left.highlights, style.highlight)[2])
    if term is not None:
        one = _write(terms[term], style, lambda k, t=terms[term]: padded(t.x_entry(k)))
        return (lhs + f"\n{equals}\n" + ("\\cdots\n+\n" if term else "") + one +
                ("\n+\n\\cdots" if term < len(terms) - 1 else ""))
    written = [_write(t, style, lambda k, t=t: padded(t.x_entry(k))) for t in terms]
    return lhs + f"\n{equals}\n" + ("\n+\n".join(written) or "0")


def check_part_free(name: str, value: object) -> None:
    """``geometry``/``transposed`` given for a Kong & Lucey result, which knows its own."""
    if value is not None:
        raise ConvmatError(f"{name}={brief(value)}: a Kong & Lucey result knows its own "
                           f"geometry; leave {name} out")
