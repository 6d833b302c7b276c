"""The matrix picture of :mod:`convmat.figures`: cells coloured by kernel tap (or by value
where the taps are unknown), a tap legend, block rules, and legibility: the cells and
digits follow the matrix, and past what is legible at :data:`MIN_DIGIT_PT` the rows and
columns are elided with the rule of :mod:`convmat.layout` (the LaTeX writer's)."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._drawing import (
    _add_axes,
    COLORS,
    ENGLISH,
    _check_figsize,
    _fit,
    _fmt,
    _ink,
    _new_figure,
    _squares,
    _tap_colors,
    phase_colors,
)
from ..geometry import ConvGeometry
from ..layout import Axis, elide, segments

#: smallest font size (points) of a digit in a matrix cell
MIN_DIGIT_PT = 8.0
#: font size of a digit as a share of its cell
DIGIT_SHARE = 0.55
#: smallest cell (points) of a matrix whose digits are printed (a digit of MIN_DIGIT_PT)
MIN_CELL_PT = 15.0
#: the default largest figure: a 16:9 slide (inches)
SLIDE = (12.8, 7.2)
#: a matrix larger than this many times the legible rows or columns is drawn whole, as a
#: pattern without digits (its sparsity is then the content), rather than elided
PATTERN_FACTOR = 4
#: most distinct values coloured one by one when the taps are unknown
MAX_VALUE_KEYS = 9
#: most entries of a tap legend (more: the first and last ones around an ellipsis)
MAX_KEYS = 12


def tap_names(kernel_shape: Sequence[int]) -> list[str]:
    """``w_{i,j}`` names of the spatial taps (C order)."""
    return [",".join(map(str, np.unravel_index(j, tuple(kernel_shape))))
            for j in range(math.prod(kernel_shape))]


def geometry_taps(g: ConvGeometry, rows: Any, cols: Any, shape: Sequence[int],
                  order: Any = None) -> np.ndarray | None:
    """The spatial kernel tap of each stored entry ``(rows, cols)`` of ``g``'s matrix (or of
    its transpose, or of its columns permuted by ``order``), or ``None`` when the matrix is
    not the geometry's (a padding matrix, another shape) or an entry is not one of its."""
    from .._engine import build

    if tuple(shape) == tuple(g.shape):
        r, c = np.asarray(rows), np.asarray(cols)
    elif tuple(shape) == tuple(g.shape[::-1]):
        r, c = np.asarray(cols), np.asarray(rows)
    else:
        return None
    if order is not None:
        c = np.asarray(order)[c]
    s = build(g, merge=False)
    n_cols = g.shape[1]
    keys = s.rows().astype(np.int64) * n_cols + s.indices
    taps = np.asarray(s.tap) % math.prod(g.kernel_shape)
    sort = np.argsort(keys, kind="stable")
    keys, taps = keys[sort], taps[sort]
    want = r.astype(np.int64) * n_cols + c
    at = np.clip(np.searchsorted(keys, want), 0, max(len(keys) - 1, 0))
    if not len(keys) or np.any(keys[at] != want):
        return None
    return taps[at]


def _limits(box_in: tuple[float, float]) -> tuple[int, int]:
    """Most rows and columns legible in a box of (width, height) inches."""
    return (max(int(box_in[1] * 72 / MIN_CELL_PT), 5), max(int(box_in[0] * 72 / MIN_CELL_PT), 5))


def block_elide(n: int, limit: int | None, levels: tuple[int, ...],
                keep: Sequence[int] = ()) -> list[int | None]:
    """:func:`convmat.layout.elide` with the ellipsis between two blocks of the finest
    level (whole blocks before and after it) when at least one block fits on each side.

    ``keep`` (the columns a highlighted row reads) stay written where the limit allows: the
    ellipsis moves (more blocks before it, fewer after, or the reverse) until the blocks
    holding them are written; when they sit in the middle, a window of whole blocks around
    them between two ellipses. Blocks are never cut or merged (the finest level; single
    indices when no two blocks fit); what cannot be written is behind an ellipsis.

    Examples
    --------
    >>> block_elide(25, 16, (5,))
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, None, 20, 21, 22, 23, 24]
    >>> block_elide(25, 17, (5,), keep=[6, 12, 18])[:6]
    [None, 5, 6, 7, 8, 9]
    """
    shown = _head_tail(n, limit, levels)
    if not len(keep) or limit is None or n <= limit or set(keep) <= set(shown):
        return shown
    b = levels[-1] if levels and not n % levels[-1] and (limit - 1) // levels[-1] >= 2 else 1
    nb, wanted = n // b, sorted({int(k) // b for k in keep})
    budget = (limit - 1) // b  # blocks written around one ellipsis
    for head in sorted(range(budget + 1), key=lambda h: (abs(h - (budget + 1) // 2), -h)):
        tail = budget - head
        if all(k < head or k >= nb - tail for k in wanted):
            return [*range(head * b), None, *range((nb - tail) * b, n)]
    return _around(nb, b, limit, wanted, n)


def _cost(chosen: Sequence[int], nb: int, b: int) -> int:
    """Items written for the blocks ``chosen`` (sorted) of ``nb``: theirs and one ellipsis
    for every run of blocks left out."""
    edges = [-1, *chosen, nb]
    return len(chosen) * b + sum(1 for p, q in zip(edges, edges[1:]) if q - p > 1)


def _around(nb: int, b: int, limit: int, wanted: list[int], n: int) -> list[int | None]:
    """The blocks ``wanted`` (those nearest their middle when not all fit) and then their
    nearest neighbours while ``limit`` allows, an ellipsis for every run left out."""
    middle = (wanted[0] + wanted[-1]) / 2
    chosen: list[int] = []
    for k in sorted(wanted, key=lambda k: (abs(k - middle), k)):
        if _cost(sorted([*chosen, k]), nb, b) <= limit:
            chosen = sorted([*chosen, k])
    grown = True
    while grown:
        grown = False
        near = sorted((k for k in range(nb) if k not in chosen),
                      key=lambda k: (min(abs(k - c) for c in chosen), abs(k - middle), k))
        for k in near:
            if _cost(sorted([*chosen, k]), nb, b) <= limit:
                chosen, grown = sorted([*chosen, k]), True
                break
    out: list[int | None] = []
    for k, block in enumerate(chosen):
        if block > (chosen[k - 1] + 1 if k else 0):
            out.append(None)
        out.extend(range(block * b, (block + 1) * b))
    return out + ([None] if chosen[-1] < nb - 1 else [])


@dataclass(frozen=True)
class MatrixWindow:
    """What an animation of ``y = A x`` writes of ``A`` in each frame (the matplotlib
    drawing and the TikZ record read the same one).

    Attributes
    ----------
    rows : int
        Rows of ``A`` written at once (all, or a window of consecutive rows).
    first : tuple of int
        Per frame, the first row written: the window follows the frame's row.
    cols : tuple of tuple
        Per frame, the columns written (:func:`block_elide`, ``None``: the ``⋯`` column),
        keeping the columns the frame's row reads.
    digits : bool
        Whether the entries' digits are written (``False``: a pattern, the matrix being
        more than :data:`PATTERN_FACTOR` times too wide).
    """

    rows: int
    first: tuple[int, ...]
    cols: tuple[tuple[int | None, ...], ...]
    digits: bool

    @property
    def width(self) -> int:
        """Most columns written in a frame."""
        return max((len(c) for c in self.cols), default=0)

    @property
    def moving(self) -> bool:
        """Whether what is written of ``A`` changes from frame to frame."""
        return len(set(self.first)) > 1 or len(set(self.cols)) > 1


def matrix_window(indptr: Any, indices: Any, shape: Sequence[int],
                  col_levels: tuple[int, ...], limits: tuple[int, int]) -> MatrixWindow:
    """The rows and columns of ``A`` (CSR ``indptr``, ``indices``) written in frame ``t``
    (row ``t`` highlighted) within ``limits`` (rows, columns) of legible cells: a window of
    consecutive rows following row ``t``; the columns elided as :func:`plot_matrix`'s
    (:func:`block_elide`, the ``⋯`` between whole blocks) keeping those row ``t`` reads;
    a matrix more than :data:`PATTERN_FACTOR` times too wide is written whole, without
    digits.

    Examples
    --------
    >>> import convmat
    >>> A = convmat.conv_matrix(np.ones((3, 3)), (8, 8), padding=1)      # 64 x 64
    >>> win = matrix_window(A.indptr, A.indices, A.shape, (8,), (20, 40))
    >>> win.rows, win.first[30], win.cols[30][:3], win.width
    (20, 20, (None, 8, 9), 34)
    """
    m, n = shape
    shown = min(m, max(int(limits[0]), 1))
    first = tuple(min(max(t - shown // 2, 0), m - shown) for t in range(m))
    limit = max(int(limits[1]), 1)
    digits = n <= PATTERN_FACTOR * limit
    cols: list[tuple[int | None, ...]] = []
    for t in range(m):
        if n <= limit or not digits:
            cols.append(tuple(range(n)))
        else:
            cols.append(tuple(block_elide(n, limit, col_levels,
                                          indices[indptr[t]:indptr[t + 1]])))
    return MatrixWindow(shown, first, tuple(cols), digits)


def _head_tail(n: int, limit: int | None, levels: tuple[int, ...]) -> list[int | None]:
    """:func:`block_elide` without kept indices: whole blocks at the head and the tail."""
    shown = elide(n, limit)
    if limit is None or n <= limit or not levels or n % levels[-1]:
        return shown
    b = levels[-1]
    blocks = (limit - 1) // b
    if blocks < 2:
        return shown
    head, tail = (blocks + 1) // 2 * b, blocks // 2 * b
    return [*range(head), None, *range(n - tail, n)]


def matrix_axes(shape: Sequence[int], levels: Sequence[tuple[int, ...]],
                limits: tuple[int, int], keep_row: int | None = None
                ) -> tuple[Axis, Axis, bool]:
    """The written rows and columns of a matrix picture and whether its digits are printed:
    everything when it is legible within ``limits`` (rows, cols); elided to ``limits``
    (:func:`block_elide`: the ellipsis between blocks; the rules as the LaTeX's) up to
    :data:`PATTERN_FACTOR` times larger; beyond that everything, as a pattern without
    digits. ``keep_row`` (a highlighted row) is never elided."""
    m, n = shape
    fits = m <= limits[0] and n <= limits[1]
    pattern = not fits and (m > PATTERN_FACTOR * limits[0] or n > PATTERN_FACTOR * limits[1])
    row_limit = None if fits or pattern or m <= limits[0] else limits[0]
    col_limit = None if fits or pattern or n <= limits[1] else limits[1]
    rows = block_elide(m, row_limit, levels[0])
    if keep_row is not None and keep_row not in rows:
        rows = list(range(m))
    return (_axis(rows, levels[0]), _axis(block_elide(n, col_limit, levels[1]), levels[1]),
            not pattern)


def _axis(shown: list[int | None], levels: tuple[int, ...]) -> Axis:
    """The written positions with the LaTeX's rules, and a rule on each side of an ellipsis
    that sits between two blocks of the finest level."""
    axis = Axis.of(shown, levels)
    if None not in shown or not levels:
        return axis
    k = shown.index(None)
    before, after = shown[k - 1], shown[k + 1] if k + 1 < len(shown) else None
    if before is not None and after is not None and (before + 1) % levels[-1] == 0 and \
            after % levels[-1] == 0:
        return Axis(axis.shown, {**axis.rules, k - 1: 1, k: 1})
    return axis


def _positions(shown: Sequence[int | None], size: int) -> np.ndarray:
    """Drawn position of every index along an axis (-1: elided)."""
    where = np.full(size, -1, dtype=np.int64)
    for k, index in enumerate(shown):
        if index is not None:
            where[index] = k
    return where


def _colors(values: Any, symbolic: bool, taps: Any) -> tuple[Any, list]:
    """Face colours of the entries and the legend's (colour, label) pairs."""
    if taps is not None:
        names, idx = taps
        palette = _tap_colors(len(names))
        return palette[idx], [(palette[j], f"$w_{{{names[j]}}}$") for j in range(len(names))]
    if symbolic:
        import sympy

        symbols = sorted(set(values), key=sympy.default_sort_key)
        palette = _tap_colors(len(symbols))
        index = {v: k for k, v in enumerate(symbols)}
        colors = palette[[index[v] for v in values]] if values else np.zeros((0, 4))
        return colors, [(palette[k], _symbol_text(v)) for k, v in enumerate(symbols)]
    values = np.asarray(values, dtype=float)
    distinct = np.unique(values)
    if distinct.size <= MAX_VALUE_KEYS:  # a few values (a kernel's): one colour each
        palette = _tap_colors(max(distinct.size, 1))
        idx = np.searchsorted(distinct, values)
        return palette[idx], [(palette[k], _fmt(v)) for k, v in enumerate(distinct)]
    import matplotlib

    cmap = matplotlib.colormaps["RdPu"]  # no grey, not the input/kernel/output hues
    lo, hi = float(distinct[0]), float(distinct[-1])
    return cmap(0.25 + 0.7 * (values - lo) / (hi - lo)), []


def _shown_keys(keys: Sequence) -> list:
    """The legend's entries: all, or the first and last around an ellipsis."""
    if len(keys) <= MAX_KEYS:
        return list(keys)
    half = (MAX_KEYS - 1) // 2
    return [*keys[:half], (None, "…"), *keys[-half:]]


def legend_size(keys: Sequence, fontsize: float = 10.5) -> tuple[float, float, int]:
    """(width, height) in inches of the tap legend on one line, and its entries."""
    shown = _shown_keys(keys)
    chars = sum(len(re.sub(r"[${}\\]|_", "", label)) for _, label in shown)
    width = (0.75 * chars + 3.2 * len(shown)) * fontsize / 72 + 0.3
    return width, 2.6 * fontsize / 72 + 0.1, len(shown)


def legend_lines(keys: Sequence, fontsize: float = 10.5) -> int:
    """Lines of the tap legend: one, or two when one would be wider than 9.5 inches."""
    return 1 if legend_size(keys, fontsize)[0] <= 9.5 else 2


def tap_legend(fig: Any, keys: Sequence, words: Mapping[str, str] = ENGLISH, y: float = 0.0,
               fontsize: float = 10.5, title: str | None = None, ax: Any = None) -> int:
    """The key of the cell colours (taps, symbols or values) below the picture, on
    :func:`legend_lines` lines (as many as the figure's width needs when it is narrower);
    ``title`` (default: the kernel taps' word); with ``ax`` (a picture drawn into a given
    axes) below that axes, not at the figure's foot; returns the number of lines."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="none" if color is None else color, edgecolor="none",
                     label=label) for color, label in _shown_keys(keys)]
    width, _, count = legend_size(keys, fontsize)
    lines = max(legend_lines(keys, fontsize),
                math.ceil(width / max(fig.get_figwidth() - 0.2, 0.5)))
    where = (dict(loc="lower center", bbox_to_anchor=(0.5, y)) if ax is None else
             dict(loc="upper center", bbox_to_anchor=(0.5, -0.01), bbox_transform=ax.transAxes))
    legend = (fig if ax is None else ax).legend(
        handles=handles, ncol=math.ceil(count / lines), frameon=False, fontsize=fontsize,
        handlelength=1.0, columnspacing=0.8, title=words["taps"] if title is None else title,
        title_fontsize=fontsize, **where)
    legend.set_gid("tap-legend")
    return lines


def _rules(ax: Any, rows: Axis, cols: Axis, m: int, n: int) -> None:
    from matplotlib.collections import LineCollection

    segs, widths = [], []
    for k, weight in rows.rules.items():
        segs.append(((0, k + 1), (n, k + 1)))
        widths.append(2.2 if weight > 1 else 1.0)
    for k, weight in cols.rules.items():
        segs.append(((k + 1, 0), (k + 1, m)))
        widths.append(2.2 if weight > 1 else 1.0)
    if segs:
        lines = LineCollection(segs, colors=COLORS["grid"], linewidths=widths, zorder=3)
        lines.set_gid("rules")
        ax.add_collection(lines)


def _gaps(shown: Sequence[int | None], size: int) -> np.ndarray:
    """Per index along an axis, the written position of the ellipsis that stands for it
    (-1: written, or no ellipsis); an axis may have several (Kong & Lucey's phases)."""
    out = np.full(size, -1, dtype=np.int64)
    for k, index in enumerate(shown):
        if index is None:
            lo = shown[k - 1] + 1 if k and shown[k - 1] is not None else 0  # type: ignore
            hi = shown[k + 1] if k + 1 < len(shown) and shown[k + 1] is not None else size
            out[lo:hi] = k
    return out


def _ellipses(ax: Any, rows: Axis, cols: Axis, r_at: np.ndarray, c_at: np.ndarray,
              rows_all: np.ndarray, cols_all: np.ndarray, fs: float) -> None:
    """``⋯`` in each elided column at every written row with entries there, ``⋮`` in each
    elided row likewise (``⋱`` where both are elided)."""
    style = dict(ha="center", va="center", color=COLORS["text"], fontsize=fs, zorder=4,
                 gid="ellipsis")
    if None in cols.shown:
        hidden = (c_at[cols_all] < 0) & (r_at[rows_all] >= 0)
        gap = _gaps(cols.shown, len(c_at))
        for r, k in sorted(set(zip(r_at[rows_all[hidden]], gap[cols_all[hidden]]))):
            ax.text(k + 0.5, r + 0.5, "⋯", **style)
    if None in rows.shown:
        hidden = (r_at[rows_all] < 0) & (c_at[cols_all] >= 0)
        gap = _gaps(rows.shown, len(r_at))
        for k, c in sorted(set(zip(gap[rows_all[hidden]], c_at[cols_all[hidden]]))):
            ax.text(c + 0.5, k + 0.5, "⋮", **style)
        for k in (k for k, index in enumerate(rows.shown) if index is None):
            for j in (j for j, index in enumerate(cols.shown) if index is None):
                ax.text(j + 0.5, k + 0.5, "⋱", **style)


def draw_matrix(rows: Any, cols: Any, values: Any, shape: Sequence[int], symbolic: bool,
                levels: Sequence[tuple[int, ...]], bands: Any, ax: Any,
                highlight_row: int | None, title: str | None = None,
                words: Mapping[str, str] = ENGLISH, taps: Any = None,
                figsize: tuple[float, float] | None = None, legend: bool = True,
                axes: tuple[Axis, Axis] | None = None) -> Any:
    """Draw a matrix (stored entries ``rows, cols, values``) into ``ax`` or a new figure;
    ``levels`` are the (row, column) block sizes, ``taps`` ``(names, tap of each entry)``
    when known; ``axes`` the written (rows, columns) the caller decided (Kong & Lucey's phases).
    Returns the figure; the axes gets ``convmat_axes`` (the written rows and columns,
    :class:`convmat.layout.Axis`) and ``convmat_keys`` (the legend's colours and labels)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    m, n = shape
    given = ax  # a picture drawn into the caller's axes keeps its key below them
    colors, keys = _colors(values, symbolic, taps)
    key_w, key_h, _ = legend_size(keys) if legend and keys else (0.0, 0.0, 0)
    lines = legend_lines(keys) if key_w else 1
    key_w /= lines
    foot = 0.2 + lines * key_h if key_w else 0.1
    margins = (1.4, (1.05 if bands else 0.75) + foot)
    if ax is None:
        page = _check_figsize(figsize) if figsize is not None else SLIDE
        limits = _limits((page[0] - margins[0], page[1] - margins[1]))
    else:
        box = ax.get_position()
        limits = _limits((box.width * ax.figure.get_figwidth(),
                          box.height * ax.figure.get_figheight()))
    row_axis, col_axis, digits = (*axes, True) if axes is not None else \
        matrix_axes(shape, levels, limits, highlight_row)
    if axes is None and bands and None in col_axis.shown:  # Kong & Lucey's phases: each
        col_axis = Axis(tuple(segments(list(bands[0]), limits[1])[0]))  # on its own
    mm, nn = len(row_axis.shown), len(col_axis.shown)
    if ax is None:
        if figsize is None:
            cell = min((SLIDE[0] - margins[0]) / nn, (SLIDE[1] - margins[1]) / mm, 0.45)
            width = max(nn * cell + margins[0], 4.0, min(key_w + 0.2, SLIDE[0]))
            figsize = (width, mm * cell + margins[1])
        fig = _new_figure(*figsize)
        width, height = figsize
        bottom = foot / height
        ax = _add_axes(fig, (0.6 / width, bottom, 1 - 0.9 / width,
                           1 - bottom - (1.05 if bands else 0.75) / height))
    else:
        fig = ax.figure
    ax.convmat_axes = (row_axis, col_axis)
    ax.set_xlim(0, nn)
    ax.set_ylim(mm, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(COLORS["grid"])
    ax.convmat_keys = keys
    r_at, c_at = _positions(row_axis.shown, m), _positions(col_axis.shown, n)
    rows_all, cols_all = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    keep = (r_at[rows_all] >= 0) & (c_at[cols_all] >= 0) if len(rows_all) else \
        np.zeros(0, dtype=bool)
    dr, dc = r_at[rows_all[keep]], c_at[cols_all[keep]]
    colors = np.asarray(colors)[keep] if len(colors) else colors
    box = ax.get_position()
    cell_pt = min(box.width * fig.get_figwidth() * 72 / nn,
                  box.height * fig.get_figheight() * 72 / mm)
    if bands:
        _bands(ax, bands, col_axis, mm, cell_pt)
    nnz = len(rows_all)
    if len(dr) > 250_000:
        ax.scatter(dc + 0.5, dr + 0.5, s=0.5, marker="s", c=colors, linewidths=0, zorder=2)
    elif len(dr):
        cells = PolyCollection(list(_squares(dc, dr)), facecolors=colors,
                               edgecolors="white" if len(dr) < 5000 else "none",
                               linewidths=0.5, zorder=2)
        cells.set_gid("cells")
        ax.add_collection(cells)
    _rules(ax, row_axis, col_axis, mm, nn)
    fs = float(np.clip(DIGIT_SHARE * cell_pt, 0.0, 13.0))
    if digits and len(dr) <= 3000 and fs >= MIN_DIGIT_PT:
        kept = np.nonzero(keep)[0]
        texts = [_symbol_text(values[k]) if symbolic else _fmt(values[k]) for k in kept]
        size = max(min([_fit(fs, text, DIGIT_SHARE) for text in texts] or [fs]), MIN_DIGIT_PT)
        longest = max((len(re.sub(r"[${}\\]|_", "", text)) for text in texts), default=0)
        if 0.6 * MIN_DIGIT_PT * longest > cell_pt:  # wider than a cell even at the least
            texts = []  # legible size: left out (the colours and their key say the values)
        for r, c, text, col in zip(dr, dc, texts, colors):
            ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=size,
                    color=_ink(col), zorder=4, gid="digit")
    _ellipses(ax, row_axis, col_axis, r_at, c_at, rows_all, cols_all,
              max(min(fs, 13.0), MIN_DIGIT_PT))
    if highlight_row is not None:
        hr = int(r_at[highlight_row])
        ax.add_patch(Rectangle((0, hr), nn, 1, fill=False, edgecolor=COLORS["kernel"],
                               linewidth=2.0, zorder=5))
        mask = dr == hr
        hl = PolyCollection(list(_squares(dc[mask], np.full(int(mask.sum()), hr))),
                            facecolors="none", edgecolors=COLORS["kernel"], linewidths=2.4,
                            zorder=6)
        hl.set_gid("highlight")
        ax.add_collection(hl)
    if title is None:
        title = f"A: {m} × {n}, {nnz:,} {words['stored_entries']}"
    ax.set_title(title, fontsize=11, color=COLORS["text"], pad=22 if bands else 6)
    if legend and keys:
        tap_legend(fig, keys, words, title=words["taps"] if taps is not None or symbolic
                   else words["values"], ax=None if given is None else ax)
    return fig


def _bands(ax: Any, bands: Any, col_axis: Axis, mm: int, cell_pt: float) -> None:
    """Kong & Lucey's phase bands behind the permuted matrix, ``T_r`` above each."""
    from matplotlib.patches import Rectangle

    widths, _ = bands
    cuts = np.cumsum([0, *widths])
    shown = np.array([-1 if k is None else k for k in col_axis.shown])
    for k in np.flatnonzero(shown < 0):  # an ellipsis hiding one phase's columns is its
        lo = shown[k - 1] + 1 if k else 0  # (its band covers it)
        hi = shown[k + 1] - 1 if k + 1 < len(shown) and shown[k + 1] >= 0 else cuts[-1] - 1
        if np.searchsorted(cuts, lo, "right") == np.searchsorted(cuts, hi, "right"):
            shown[k] = lo
    for r in range(len(widths)):
        at = np.nonzero((shown >= cuts[r]) & (shown < cuts[r + 1]))[0]
        if not len(at):
            continue
        start, stop = int(at[0]), int(at[-1]) + 1
        ax.add_patch(Rectangle((start, 0), stop - start, mm,
                               facecolor=phase_colors(len(widths))[r],
                               edgecolor="none", zorder=0))
        ax.text((start + stop) / 2, -0.25, f"$T_{{{r}}}$", ha="center", va="bottom",
                fontsize=11 if (stop - start) * cell_pt > 22 else MIN_DIGIT_PT,
                color=COLORS["text"], clip_on=False)
        if start:
            ax.axvline(start, color=COLORS["grid"], linewidth=2.2, zorder=3)


def channel_ticks(ax: Any, g: ConvGeometry, shape: Sequence[int],
                  words: Mapping[str, str] = ENGLISH) -> None:
    """Name the channel blocks (``out o`` down the side, ``in c`` along the top), at the
    middle of each block's written rows or columns."""
    size_in, size_out = math.prod(g.input_shape), math.prod(g.output_shape)
    if tuple(shape) == tuple(g.shape):
        rows, cols = ("out", g.out_channels, size_out), ("in", g.in_channels, size_in)
    elif tuple(shape) == tuple(g.shape[::-1]):
        rows, cols = ("in", g.in_channels, size_in), ("out", g.out_channels, size_out)
    else:
        return
    row_axis, col_axis = ax.convmat_axes

    def ticks(axis: Axis, spec: tuple[str, int, int]) -> tuple[list[float], list[str]]:
        name, count, size = spec
        shown = [-1 if k is None else k for k in axis.shown]
        at, names = [], []
        for k in range(count):
            here = [p for p, index in enumerate(shown) if k * size <= index < (k + 1) * size]
            if here:
                at.append((here[0] + here[-1] + 1) / 2)
                names.append(f"{words[name]} {k}")
        return at, names

    if rows[1] > 1:
        ax.set_yticks(*ticks(row_axis, rows), fontsize=10)
    if cols[1] > 1:
        ax.xaxis.tick_top()
        ax.set_xticks(*ticks(col_axis, cols), fontsize=10)
        ax.set_title(ax.get_title(), fontsize=11, color=COLORS["text"], pad=22)
    ax.tick_params(length=0)


def _symbol_text(value: Any) -> str:
    sympy = sys.modules["sympy"]
    latex = sympy.latex(value)
    if len(latex) <= 24 and "\\frac" not in latex:
        return f"${latex}$"
    return str(value)
