r"""Kong & Lucey's Figure 1: the padded input split into its phases beside the strided
matrix ``A`` and its unit-stride blocks ``A Π = [T_0 | T_1 | ...]``."""

from __future__ import annotations

import math

import numpy as np

from ._drawing import (
    _add_axes,
    _check_fontsize,
    _check_figsize,
    COLORS,
    _bare,
    _entries,
    _words,
    _fit,
    _fontsize,
    _levels,
    _mpl,
    _new_figure,
    _squares,
    phase_colors,
)
from ._matrix import (MIN_CELL_PT, MIN_DIGIT_PT, SLIDE, _axis, draw_matrix, geometry_taps, tap_legend,
                      tap_names)
from ..errors import ConvmatError, error_context
from ..layout import Axis, elide, fill, segments

__all__ = ["plot_kong_lucey"]




def blocks_caption(n_phases: int) -> str:
    r"""``[T_0 | T_1]`` written out up to four blocks, ``[T_0 | T_1 | ⋯ | T_{P-1}]`` beyond.

    Examples
    --------
    >>> blocks_caption(2), blocks_caption(6)
    ('[\\,T_{0} \\mid T_{1}\\,]', '[\\,T_{0} \\mid T_{1} \\mid \\cdots \\mid T_{5}\\,]')
    """
    names = [f"T_{{{k}}}" for k in range(n_phases)]
    if n_phases > 4:
        names = names[:2] + ["\\cdots", names[-1]]
    return "[\\," + " \\mid ".join(names) + "\\,]"


def plot_kong_lucey(kl, *, figsize=None, fontsize=None, lang="en", labels=None):
    r"""Kong & Lucey's Figure 1: the input and its phases beside ``A`` and ``[T_0 | T_1 | ...]``.

    Parameters
    ----------
    kl : KongLucey
        A result of :func:`convmat.kong_lucey` (or :func:`convmat.symbolic.kong_lucey`).
    figsize : (float, float), optional
    fontsize : float, optional
        Size of the title and caption.
    lang, labels
        As in :func:`animate_convolution`.

    Returns
    -------
    matplotlib.figure.Figure
        Top: the padded input ``x`` (first channel), every entry coloured by its phase and
        numbered by its index, and the phase inputs ``x_r`` (the space-to-depth
        rearrangement ``Πᵀ x``). Bottom, side by side at the same scale: the strided matrix
        ``A`` on the padded input with ``x``'s phase colours above its columns, and ``A Π =
        [T_0 | T_1 | ...]`` with ``Πᵀ x`` above. Axes: ``[input, A, blocks]``. The default
        figure fits a 16:9 slide with matrix digits of 8 pt or more: past that both
        matrices are elided (:func:`written_axes`: the rule of :func:`convmat.layout.elide`,
        between whole blocks, ``A Π`` phase by phase); the input's numbers are left out
        when they would be smaller than 8 pt (its colours still give the phases).

    Notes
    -----
    :math:`y = A\,x = A\,\Pi\,\Pi^\top x = [\,T_0 \mid T_1 \mid \cdots\,]\,\Pi^\top x`, with
    :math:`\Pi` the permutation that groups the padded input by phase
    (:attr:`KongLucey.permutation`, ``Πᵀ x = x[column_order]``); each :math:`T_r` is a
    unit-stride Toeplitz matrix of the phase kernel :math:`w_r` on the phase input
    :math:`x_r`.

    Examples
    --------
    >>> import convmat
    >>> fig = plot_kong_lucey(convmat.kong_lucey([1, 2, 3], (7,), stride=2))
    >>> len(fig.axes)
    3
    """
    from ..striding import KongLucey

    with error_context("plot_kong_lucey", kl=type(kl).__name__):
        if not isinstance(kl, KongLucey):
            raise ConvmatError(f"kl={type(kl).__name__} is not a Kong & Lucey result; make one "
                               f"with convmat.kong_lucey(weight, input_shape, stride=...)")
        if math.prod(kl.padded_shape) > 4096:
            raise ConvmatError(f"the padded input {kl.padded_shape} has more than 4,096 "
                               f"entries to draw; draw a smaller geometry")
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "plot_kong_lucey")
        _mpl()
        return _figure(kl, figsize, fontsize, words)


def _phase_layout(kl):
    """Per padded position (channel 0): its phase and its place in its phase input."""
    n_pos = math.prod(kl.padded_shape)
    phase_of = np.empty(kl.in_channels * n_pos, dtype=int)
    members = []  # per phase: the padded flat indices of channel 0, in phase-input order
    start = 0
    for p, shape in enumerate(kl.phase_shapes):
        width = kl.in_channels * math.prod(shape)
        cols = kl.column_order[start:start + width]
        phase_of[cols] = p
        members.append(cols[:math.prod(shape)])
        start += width
    return phase_of, members


def _grid_2d(shape):
    return tuple(shape) if len(shape) == 2 else (1, int(math.prod(shape)))


#: the height (inches) the two matrices may take in the default figure
MATRIX_HEIGHT = 3.4
#: the figure's height besides the input band and the matrices: title, the vectors above
#: the matrices, captions and the tap legend (inches)
_FRAME = 3.0
#: font size of the input band's numbers as a share of a cell
_NUMBER_SHARE = 0.5


def written_axes(kl, limits):
    """The written rows (shared by ``A`` and ``A Π``) and columns of ``A`` and of ``A Π``
    within ``limits`` (rows, columns of each; ``A`` gives up what ``A Π`` takes beyond its
    share), by the layout's rule (:func:`convmat.layout.elide`):
    everything that fits; else the rows and ``A``'s columns elided between whole blocks
    (image rows of the output and of the padded input, channels), ``A Π``'s columns each
    phase on its own (:func:`convmat.layout.segments`), so an ellipsis never joins two
    blocks nor two phases."""
    m, n = kl.geometry.shape
    row_levels = _levels(kl.output_shape, kl.out_channels)
    col_levels = _levels(kl.padded_shape, kl.in_channels)
    rows = _axis(elide(m, limits[0], row_levels), row_levels)
    if n <= limits[1]:
        permuted = Axis(tuple(range(n)))
    else:
        permuted = Axis(tuple(segments([b.shape[1] for b in kl.blocks], limits[1])[0]))
    # many phases take more than their share (two columns each): A gives up the rest
    strided = _axis(elide(n, max(5, 2 * limits[1] - len(permuted.shown)), col_levels),
                    col_levels)
    return rows, strided, permuted


def _figure(kl, figsize, fontsize, words):
    from matplotlib.collections import PolyCollection

    strided = kl.strided_matrix()
    m, n = strided.shape
    phase_of, members = _phase_layout(kl)
    tints = phase_colors(len(kl.blocks))
    widths = [b.shape[1] for b in kl.blocks]
    grid = _grid_2d(kl.padded_shape)
    shapes = [_grid_2d(s) if math.prod(s) else (0, 0) for s in kl.phase_shapes]
    # top band in cells: the input grid, an arrow, the phase grids side by side
    gap = 1.0
    band_w = grid[1] + 2.5 + sum(s[1] for s in shapes) + gap * (len(shapes) - 1)
    band_h = max(grid[0], max(s[0] for s in shapes)) + 1.2
    # both matrices side by side at the same scale, as wide as a slide allows for digits
    # of MIN_DIGIT_PT (cells of twice that); past that the matrices are elided
    if figsize is not None:
        width, height = _check_figsize(figsize)
        content_w = width - 0.3
    else:
        content_w = float(np.clip(2 * n * 2 * MIN_DIGIT_PT / 72 + 0.6, 9.4, 12.4))
    least = MIN_CELL_PT / 72  # the smallest cell whose digits are legible
    page_h = SLIDE[1] if figsize is None else height
    # the band's cells: as large as fit, but no larger than leaves the matrices the height
    # their rows need (a slide in all) unless its numbers would then be illegible
    need = min(MATRIX_HEIGHT, m * least)
    numbers = max(MIN_DIGIT_PT / _NUMBER_SHARE, 0.6 * MIN_DIGIT_PT * len(str(n - 1)) / 0.82) / 72
    cell_top = min(0.42, content_w / band_w, 2.6 / band_h)
    room = (page_h - _FRAME - need) / band_h
    if room < cell_top:  # numbered while legible; colours alone need little room
        cell_top = max(room, numbers) if cell_top >= numbers else max(room, 0.08)
    least_rows = min(m, 5) * least  # the matrices keep five legible rows at least
    cell_top = max(min(cell_top, (page_h - _FRAME - least_rows) / band_h), 0.03)
    top_h = band_h * cell_top
    budget = max(min(MATRIX_HEIGHT, page_h - _FRAME - top_h), least_rows)
    limits = (max(int(budget / least), 5), max(int((content_w - 0.6) / 2 / least), 5))
    rows, cols_a, cols_t = written_axes(kl, limits)
    mm, na, nt = len(rows.shown), len(cols_a.shown), len(cols_t.shown)
    cell = min(0.42, (content_w - 0.6) / (na + nt), budget / mm)
    mat_h = mm * cell
    cell_pt = cell * 72
    size = max(0.9, 9.0 / cell_pt)  # the vectors' cells: at least 9 points tall
    label = 17.0 / cell_pt  # room for the T_r labels, in cells
    strip = (size + label + 0.5) * cell + 0.45  # the vector above each matrix
    if figsize is None:
        height = 0.75 + top_h + strip + mat_h + 1.25  # the tap legend below
        width = content_w + 0.3
    fig = _new_figure(width, height)
    fs = fontsize or 12
    y_mat = 1.05 / height
    ax_in = _add_axes(fig, (0.15 / width, (height - 0.7 - top_h) / height,
                          (width - 0.3) / width, top_h / height))
    left = (width - (na + nt) * cell - 0.6) / 2
    ax_a = _add_axes(fig, (left / width, y_mat, na * cell / width, mat_h / height))
    ax_t = _add_axes(fig, ((left + na * cell + 0.6) / width, y_mat, nt * cell / width,
                         mat_h / height))
    _draw_input(fig, ax_in, kl, grid, shapes, members, phase_of, band_w, band_h, words)
    names = tap_names(kl.geometry.kernel_shape)
    keys = None
    for ax, matrix, axes, bands, order in (
            (ax_a, strided, (rows, cols_a), None, None),
            (ax_t, kl.permuted, (rows, cols_t), (widths, kl.phases), kl.column_order)):
        r, c, v, shape, sym = _entries(matrix)
        taps = None if sym else geometry_taps(kl.geometry, r, c, shape, order)
        draw_matrix(r, c, v, shape, sym, ((), ()), bands, ax, None, title="", words=words,
                    taps=None if taps is None else (names, taps), legend=False, axes=axes)
        keys = keys or getattr(ax, "convmat_keys", None)
    if keys:
        tap_legend(fig, keys, words)
    # the vectors above the matrices: x in its order, Πᵀ x grouped by phase (the written
    # columns; an ellipsis where the matrix has one)
    for ax, axis, order, name in (
            (ax_a, cols_a, np.arange(n), fill(words["padded_input_x"], x="$x$")),
            (ax_t, cols_t, kl.column_order, "$\\Pi^{\\top} x$")):
        y0 = -size - 0.3 - label
        at = np.array([k for k, col in enumerate(axis.shown) if col is not None])
        xs = at + 0.05
        count = len(at)
        rects = np.stack([np.stack([xs, np.full(count, y0)], -1),
                          np.stack([xs + 0.9, np.full(count, y0)], -1),
                          np.stack([xs + 0.9, np.full(count, y0 + size)], -1),
                          np.stack([xs, np.full(count, y0 + size)], -1)], 1)
        strip_cells = PolyCollection(
            rects, facecolors=[tints[phase_of[order[col]]] for col in axis.indices],
            edgecolors=COLORS["grid"], linewidths=0.3, clip_on=False)
        strip_cells.set_gid("vector")
        ax.add_collection(strip_cells)
        for k in (k for k, col in enumerate(axis.shown) if col is None):
            ax.text(k + 0.5, y0 + size / 2, "⋯", ha="center", va="center", clip_on=False,
                    fontsize=max(MIN_DIGIT_PT, min(fs, 11)), color=COLORS["text"])
        ax.text(len(axis.shown) / 2, y0 - 0.3, name, ha="center", va="bottom",
                fontsize=min(fs, 11), color=COLORS["text"])
    ax_a.set_xlabel(fill(words["strided_matrix"], A="$A$"), fontsize=min(fs, 11),
                    color=COLORS["text"])
    ax_t.set_xlabel("$A\\,\\Pi = " + blocks_caption(len(kl.blocks)) + "$, "
                    + words["unit_stride"], fontsize=min(fs, 11), color=COLORS["text"])
    dims = "×".join(map(str, kl.stride))
    fig.text(0.5, 1 - 0.12 / height,
             f"{words['kong_lucey']}: {words['stride']} {dims}, {words['kernel']} "
             + "×".join(map(str, kl.weight.shape[-kl.ndim:])) + f", {words['padded_input']} "
             + "×".join(map(str, kl.padded_shape)) + f" → {len(kl.blocks)} {words['phases']}, "
             "$y = A\\,x = " + blocks_caption(len(kl.blocks)) + "\\,\\Pi^{\\top} x$",
             ha="center", va="top", fontsize=fs, color=COLORS["text"])
    return fig


def _draw_input(fig, ax, kl, grid, shapes, members, phase_of, band_w, band_h, words):
    """The padded input (channel 0) coloured by phase and numbered, an arrow, and every
    phase input ``x_r`` with the numbers of the entries it takes."""
    from matplotlib.collections import PolyCollection

    _bare(ax)
    ax.set_xlim(0, band_w)
    ax.set_ylim(band_h, 0)
    fs = _fontsize(fig, ax, band_w, band_h, share=_NUMBER_SHARE)
    box = ax.get_position()
    cell_pt = min(box.width * fig.get_figwidth() / band_w,
                  box.height * fig.get_figheight() / band_h) * 72
    top = 1.0
    rr, cc = np.indices(grid).reshape(2, -1)
    flat = np.arange(rr.size)
    tints = phase_colors(len(kl.blocks))
    colors = [tints[phase_of[k]] for k in flat]
    ax.add_collection(PolyCollection(_squares(cc, rr + top), facecolors=colors,
                                     edgecolors=COLORS["grid"], linewidths=0.6))
    size = min(_fit(fs, str(rr.size - 1), share=_NUMBER_SHARE), fs)
    legible = size >= MIN_DIGIT_PT - 0.05  # else the colours alone say the phases
    if legible:
        for k, r_, c_ in zip(flat, rr, cc):
            ax.text(c_ + 0.5, r_ + top + 0.5, str(k), ha="center", va="center", fontsize=size,
                    color=COLORS["text"])
    name = fill(words["padded_input_x"], x="$x$") + (
        f" ({words['channel']} 0)" if kl.in_channels > 1 else "")
    size_name = min(11, 2.2 * fs)
    if 0.55 * size_name * len(name.replace("$", "")) > (grid[1] + 2.0) * cell_pt:
        name = "$x$"  # a narrow grid: the words would run into the phases' captions
    ax.text(grid[1] / 2, top - 0.15, name, ha="center", va="bottom", fontsize=size_name,
            color=COLORS["text"])
    x0 = grid[1] + 0.4
    ax.annotate("", xy=(x0 + 1.4, top + grid[0] / 2), xytext=(x0, top + grid[0] / 2),
                arrowprops=dict(arrowstyle="-|>", color=COLORS["grid"], lw=1.5))
    x0 += 1.8
    for p, (shape, idx) in enumerate(zip(shapes, members)):
        if not len(idx):
            continue
        pr, pc = np.indices(shape).reshape(2, -1)
        ax.add_collection(PolyCollection(_squares(pc + x0, pr + top),
                                         facecolors=tints[p], edgecolors=COLORS["grid"],
                                         linewidths=0.6))
        if legible:
            for k, r_, c_ in zip(idx, pr, pc):
                ax.text(c_ + x0 + 0.5, r_ + top + 0.5, str(k), ha="center", va="center",
                        fontsize=size, color=COLORS["text"])
        residue = ",".join(map(str, kl.phases[p]))
        caption = f"$x_{{{p}}}$: $r$=({residue})"
        size_caption = min(10, 2.0 * fs)
        if 0.55 * size_caption * (len(residue) + 6) > (shape[1] + 1.0) * cell_pt:
            caption = f"$x_{{{p}}}$"  # the residue would run into the next caption
        ax.text(x0 + shape[1] / 2, top - 0.15, caption, ha="center", va="bottom",
                fontsize=size_caption, color=COLORS["text"])
        x0 += shape[1] + 1.0
