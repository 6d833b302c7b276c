"""The animations of :mod:`convmat.figures` (sliding kernel, matrix equivalence) and their
GIF writer: a static picture drawn once, each frame only what changes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ._drawing import (
    _add_axes,
    _check_figsize,
    _min_width,
    _cell_kinds,
    _copy_label,
    _grid_cells,
    _fill_outputs,
    COLORS,
    MAX_VALUE_FRAMES,
    _bare,
    _fit,
    _fmt,
    _fontsize,
    _ink,
    _legend,
    _levels,
    _new_figure,
    _rgba,
    _squares,
    _tap_colors,
)
from ._planes import Planes, Scene, plane_layout
from ._windows import SlidingWindows
from ._matrix import (DIGIT_SHARE, MIN_CELL_PT, MIN_DIGIT_PT, SLIDE, _axis, matrix_window,
                      tap_legend, tap_names)
from ..errors import ConvmatError
from ..layout import Axis, fill, sliding_placement

#: inches below the role legend for the tap legend of the matrix animation
TAP_ROW = 0.55


class _Sliding:
    """The grid, the sliding kernel and the output grid in one axes; ``update(t)`` moves
    the kernel to window ``t`` (artists are created once and only changed per frame)."""

    def __init__(self, fig, ax, win: SlidingWindows, weight, x, y, *, tap_fill: bool,
                 tap_colors=None):
        from matplotlib import patheffects
        from matplotlib.collections import PolyCollection

        self.win, self.ax = win, ax
        n = win.ndim
        place = sliding_placement(win.grid_shape, win.padding, win.output_shape)
        out = place.output_shape
        self.lo = np.array(place.lo)  # first drawn grid position per dim
        extent = np.array(place.extent)
        hi = self.lo + extent
        self.out0 = np.array(place.out0)  # right of the grid (2-D) or below it (1-D)
        span = place.span
        self.span = span
        ax.set_xlim(-0.15, span[1] + 0.15)
        ax.set_ylim(span[0] + 0.15, -0.15)  # row 0 at the top
        _bare(ax)
        fs = _fontsize(fig, ax, span[1] + 0.3, span[0] + 0.3)
        self.fontsize = fs
        # the grid cells by kind
        rr, cc = np.meshgrid(np.arange(self.lo[0], hi[0]), np.arange(self.lo[1], hi[1]),
                             indexing="ij")
        spacing = win.input_stride if n == 2 else (1, win.input_stride[0])
        nd = np.stack([rr.ravel(), cc.ravel()], -1) if n == 2 else cc.ravel()[:, None]
        kinds = {k: m.reshape(rr.shape) for k, m in _cell_kinds(win, nd).items()}
        real = kinds.get("input", np.zeros(rr.shape, dtype=bool))
        self.roles = list(kinds)
        _grid_cells(ax, kinds, lambda mask: _squares(cc[mask] - self.lo[1],
                                                     rr[mask] - self.lo[0]))
        self.grid_extent = extent
        self.input_texts = {}  # (panel column, panel row) -> the text in that cell
        if x is not None:
            xg = np.asarray(x).reshape(win.input_shape if n == 2 else (1, -1))
            fs_x = min(_fit(fs, _fmt(v)) for v in xg.ravel())  # one size for all numbers
            for r_, c_, is_real in zip(rr.ravel(), cc.ravel(), real.ravel()):
                key = (int(c_ - self.lo[1]), int(r_ - self.lo[0]))
                if is_real:
                    value = xg[r_ // spacing[0], c_ // spacing[1]]
                    label = _fmt(value)
                    text = ax.text(key[0] + 0.5, key[1] + 0.5, label, ha="center",
                                   va="center", fontsize=fs_x, color=COLORS["text"],
                                   zorder=4)
                else:
                    text = ax.text(key[0] + 0.5, key[1] + 0.5, "0", ha="center",
                                   va="center", fontsize=fs_x * 0.85, color=COLORS["muted"],
                                   zorder=4)
                self.input_texts[key] = text
        if win.padding_mode != "zeros":  # each padded cell names the entry it copies
            pad = ~real.ravel()
            src = win.source_of(nd[pad])
            fs_c = min([_fit(fs, _copy_label(win, v, x)) for v in src[src >= 0]] or [fs])
            for r_, c_, v in zip(rr.ravel()[pad], cc.ravel()[pad], src):
                key = (int(c_ - self.lo[1]), int(r_ - self.lo[0]))
                old = self.input_texts.pop(key, None)
                if old is not None:
                    old.remove()
                if v < 0:
                    continue
                self.input_texts[key] = ax.text(
                    key[0] + 0.5, key[1] + 0.5, _copy_label(win, v, x), ha="center",
                    va="center", fontsize=fs_c * (1 if x is not None else 0.8),
                    color=COLORS["input_edge"], fontstyle="italic", alpha=0.75, zorder=4)
        # output grid
        orr, occ = np.meshgrid(np.arange(out[0]), np.arange(out[1]), indexing="ij")
        self.out_verts = _squares(occ.ravel() + self.out0[1], orr.ravel() + self.out0[0])
        ax.add_collection(PolyCollection(self.out_verts, facecolors=COLORS["pending"],
                                         edgecolors=COLORS["grid"], linewidths=1.0, zorder=1))
        # the computed cells: an overlay holding cells 0..t (the last one is the current)
        self.output = PolyCollection(self.out_verts[:1], edgecolors=COLORS["grid"], zorder=1.5)
        self.output.set_gid("output")
        ax.add_collection(self.output)
        self.n_out = math.prod(out)
        self.out_texts = []
        if y is not None and len(y) <= MAX_VALUE_FRAMES:  # (each frame redraws them)
            fs_y = min(_fit(fs, _fmt(v)) for v in np.asarray(y).ravel())
            for k, value in enumerate(np.asarray(y).ravel()):
                cx = self.out_verts[k, 0, 0] + 0.5
                cy = self.out_verts[k, 0, 1] + 0.5
                label = _fmt(value)
                self.out_texts.append(ax.text(cx, cy, label, ha="center", va="center",
                                              fontsize=fs_y, zorder=4,
                                              color=COLORS["text"], visible=False))
        # the kernel footprint
        n_taps = win.taps.size
        self.tap_fill = tap_fill
        self.kernel = PolyCollection(_squares(np.zeros(n_taps), np.zeros(n_taps), 0.04),
                                     facecolors=COLORS["kernel"], edgecolors=COLORS["kernel"],
                                     linewidths=2.2, alpha=0.55, zorder=3)
        self.kernel.set_gid("kernel")
        ax.add_collection(self.kernel)
        # with tap_fill: a swatch in each kernel cell, in the colour of its tap in A
        self.swatches = None
        if tap_fill:
            self.swatches = PolyCollection(_squares(np.zeros(n_taps), np.zeros(n_taps)),
                                           facecolors=tap_colors[win.taps],
                                           edgecolors="white", linewidths=0.6, zorder=3.5)
            self.swatches.set_gid("tap-swatches")
            ax.add_collection(self.swatches)
        self.weight_texts = []
        if weight is not None:
            wflat = np.asarray(weight).ravel()
            small = max(fs * 0.7, MIN_DIGIT_PT)
            fs_w = max(min(_fit(small, "×" + _fmt(v), small / fs * 0.42, 0.9) for v in wflat),
                       min(MIN_DIGIT_PT, 0.72 * fs))  # legible, below the centred digits
            for j in win.taps:
                label = "×" + _fmt(wflat[j])
                self.weight_texts.append(ax.text(
                    0, 0, label, ha="right", va="bottom",
                    fontsize=fs_w,
                    color="#6b3300", zorder=5, fontweight="bold",
                    path_effects=[patheffects.withStroke(linewidth=2.5,
                                                         foreground="white")]))
        (self.link,) = ax.plot([], [], color=COLORS["kernel"], linewidth=2.0, zorder=0.5,
                               solid_capstyle="butt")
        self.out_faces = np.tile(np.array(_rgba(COLORS["output_light"])), (self.n_out, 1))
        self.covered: list = []
        #: every artist a frame changes (drawn over a cached background when saving)
        self.animated = [self.link, self.output, self.kernel, *self.out_texts,
                         *self.weight_texts]
        if self.swatches is not None:
            self.animated.append(self.swatches)

    def frame_artists(self) -> list:
        """What the current frame draws over the static background: the changing artists
        and the input numbers under the kernel."""
        return [a for a in self.animated if a.get_visible()] + self.covered

    def cells(self, t: int) -> np.ndarray:
        """Lower-left corners (x, y) in axes data of the footprint cells of window t."""
        pos = self.win.positions[t]
        if self.win.ndim == 1:
            return np.stack([pos[:, 0] - self.lo[1], np.zeros(len(pos)) - self.lo[0]], -1)
        return np.stack([pos[:, 1] - self.lo[1], pos[:, 0] - self.lo[0]], -1)

    def update(self, t: int) -> None:
        corners = self.cells(t)
        self.kernel.set_verts(_squares(corners[:, 0], corners[:, 1], 0.04))
        if self.swatches is not None:  # a bar along the cell's top edge, above the digits
            sq = _squares(corners[:, 0], corners[:, 1])
            sq[:, :, 0] = corners[:, None, 0] + 0.1 + (sq[:, :, 0] - corners[:, None, 0]) * 0.8
            sq[:, :, 1] = corners[:, None, 1] + 0.08 + (sq[:, :, 1] - corners[:, None, 1]) * 0.14
            self.swatches.set_verts(sq)
        for text, (cx, cy) in zip(self.weight_texts, corners):
            text.set_position((cx + 0.95, cy + 0.97))
        self.covered = [self.input_texts[key] for key in
                        map(tuple, corners.astype(int).tolist()) if key in self.input_texts]
        _fill_outputs(self.output, self.out_faces, self.out_verts, self.out_texts, t,
                      (1.0, 2.4))
        # from the grid's edge next to the kernel to the output cell (only the gap shows)
        centre = corners.mean(axis=0) + 0.5
        target = self.out_verts[t, 0] + 0.5
        if self.win.ndim == 2:
            start = (self.grid_extent[1], float(np.clip(centre[1], 0.5,
                                                        self.grid_extent[0] - 0.5)))
            end = (self.out0[1], target[1])
        else:
            start = (float(np.clip(centre[0], 0.5, self.grid_extent[1] - 0.5)),
                     self.grid_extent[0])
            end = (target[0], self.out0[0])
        self.link.set_data([start[0], end[0]], [start[1], end[1]])


def _animation(fig, update, n_frames: int, artists: dict, animated: list, frame_artists):
    """The FuncAnimation, with ``show_frame(t)``, ``artists``, ``n_frames`` and, for the
    GIF writer, ``animated_artists`` (everything a frame changes) and
    ``frame_artists()`` (what the current frame draws over the static background)."""
    from matplotlib.animation import FuncAnimation

    update(0)
    anim = FuncAnimation(fig, lambda t: update(t), frames=n_frames, interval=700,
                         init_func=lambda: (), blit=False, repeat=True,
                         cache_frame_data=False)
    anim.show_frame = update  # draw frame t (for notebooks and tests)
    # drawing single frames with show_frame is a use of its own: no "deleted without
    # rendering anything" warning when such an animation is never saved
    anim._draw_was_started = True
    anim.figure = fig
    anim.artists = artists
    anim.n_frames = n_frames
    anim.animated_artists = animated
    anim.frame_artists = frame_artists
    return anim


def _panel_span(sc: Scene) -> tuple[float, float]:
    """(height, width) in cells of the sliding panel."""
    if sc.layered:
        return plane_layout(sc)[-1]
    win = sc.win
    span = sliding_placement(win.grid_shape, win.padding, win.output_shape).span
    return span[0] + 0.3, span[1] + 0.3


def _all_positions(win: SlidingWindows) -> np.ndarray:
    """Every drawn grid position (cells, N): the grid, its padding and cropped entries."""
    lo = [min(-b, 0) for b, _ in win.padding]
    hi = [max(g + a, g) for g, (_, a) in zip(win.grid_shape, win.padding)]
    return np.indices([h - low for low, h in zip(lo, hi)]).reshape(win.ndim, -1).T + lo


def _panel(fig, ax, sc: Scene, y, tap_colors=None):
    """The sliding panel of a scene: planes (channels, 3-D) or the single grid."""
    if sc.layered:
        return Planes(fig, ax, sc, y, tap_colors=tap_colors)
    return _Sliding(fig, ax, sc.win, sc.weight, sc.x, y, tap_fill=tap_colors is not None,
                    tap_colors=tap_colors)


def _entry_taps(win: SlidingWindows, rows, cols) -> np.ndarray:
    """The spatial kernel tap of every stored entry ``(rows, cols)`` of the full matrix
    (rows ``(C_out, *output)``, columns ``(C_in, *input)``), from the windows."""
    n_out, n_in = len(win), math.prod(win.input_shape)
    t_idx, j_idx = np.nonzero(win.sources >= 0)
    keys = t_idx.astype(np.int64) * n_in + win.sources[t_idx, j_idx]
    order = np.argsort(keys)
    keys, values = keys[order], win.taps[j_idx][order]
    want = (np.asarray(rows, dtype=np.int64) % n_out) * n_in + np.asarray(cols) % n_in
    at = np.clip(np.searchsorted(keys, want), 0, max(len(keys) - 1, 0))
    return values[at] if len(keys) else np.zeros(len(want), dtype=int)


def _convolution_animation(sc: Scene, title: str, figsize, fontsize):
    """A1: the sliding kernel and the output filling up (one frame per row)."""
    y = None
    if sc.x is not None and sc.weight is not None:
        y = sc.matrix() @ sc.x.ravel()
    extent = _panel_span(sc)
    cell = float(np.clip(6.2 / extent[1], 0.28, 0.62))
    cell = min(cell, 9.4 / extent[1], 6.5 / extent[0])  # large grids: at most 10 x 8 in
    width = max(extent[1] * cell + 0.4, 4.8)
    extra = 0.25 * title.count("\n")
    width = max(width, 5.6) if extra else width
    roles = [*_cell_kinds(sc.win, _all_positions(sc.win)), "kernel", "output"]
    width = max(width, _min_width(title, roles, fontsize or 12, sc.words))
    height = extent[0] * cell + 1.25 + extra
    if figsize is not None:
        width, height = _check_figsize(figsize)
    fig = _new_figure(width, height)
    ax = _add_axes(fig, (0.02, 0.6 / height, 0.96, 1 - (1.1 + extra) / height))
    panel = _panel(fig, ax, sc, y)
    fig.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize=fontsize or 12,
             color=COLORS["text"])
    _legend(fig, [*panel.roles, "kernel", "output"], sc.words)
    anim = _animation(fig, panel.update, sc.n_frames,
                      {"kernel": panel.kernel, "output": panel.output}, panel.animated,
                      panel.frame_artists)
    anim.window, anim.values = sc.window, y
    return anim


def _matrix_animation(sc: Scene, a, y, title, figsize=None, fontsize=None):
    """A2: the sliding panel next to ``y = A x``. The cells of ``A`` are at least
    :data:`MIN_CELL_PT` where the slide allows it, so its digits stay at least
    :data:`MIN_DIGIT_PT`: a matrix too tall shows a window of consecutive rows that follows
    the current row (``⋮`` where rows are cut), one too wide elides whole blocks of columns
    behind a ``⋯`` column, keeping those the current row reads (:func:`matrix_window`, the
    rule of :func:`plot_matrix`; the TikZ record reads the same)."""
    import scipy.sparse as sp
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Rectangle

    win, x, words = sc.win, sc.x, sc.words
    m, n = a.shape
    csr = sp.csr_array(a)
    csr.sort_indices()
    coo = csr.tocoo()
    # the tap of every stored entry, from the windows (the engine's geometry)
    colors = _tap_colors(win.taps.size)
    taps = _entry_taps(win, coo.row, coo.col)
    panel_h, panel_w = _panel_span(sc)
    extra = 0.25 * title.count("\n")
    least = MIN_CELL_PT / 72 * 1.02  # inches of a legible cell (and a little slack)
    page = _check_figsize(figsize) if figsize is not None else SLIDE  # the room A must fit in
    out_levels = _levels(win.output_shape, sc.c_out)
    in_levels = _levels(win.input_shape, sc.c_in)
    col_limit = max(int(max(page[0] - 0.4, 2.0) / least - 2.8), 5)
    plan = matrix_window(csr.indptr, csr.indices, (m, n), in_levels, (m, col_limit))
    nn = plan.width  # columns drawn
    # A below the panel: when it is wide, or too narrow beside the panel for legible cells
    wide = nn + 2.7 > 2.2 * panel_w or (page[0] - 0.4) * 0.72 / (nn + 2.8) < least
    least_w = min(9.0, max(page[0] - 0.4, 1.0))  # (a figsize narrower than the default)
    content_w = float(np.clip((nn + 2.8) * least / (1.0 if wide else 0.72), least_w,
                              max(page[0] - 0.4, least_w)))
    foot = 1.3 + TAP_ROW  # the legends
    # the sliding panel above a wide A: at most 1.9 in tall (2.7 with planes), less on a
    # short page, so that A keeps room for a few legible rows
    panel_max = 2.7 if sc.layered else 1.9
    spare = page[1] - 0.25 - foot - extra - (min(m, 6) + 5.0) * least
    panel_max = float(np.clip(spare, 0.6, panel_max))
    shown = m  # rows of A drawn at once
    for _ in range(2):  # the second pass with the window of rows, if one is needed
        mat_w, mat_h = nn + 2.8, shown + 5.0  # as the matrix axes below: labels, x, A
        if wide:
            sp_ = min(content_w / panel_w, panel_max / panel_h, 0.42)  # the rest for A
            room = page[1] - panel_h * sp_ - 0.25 - foot - extra
            sm = min(content_w / mat_w, 0.42, room / mat_h)
        else:
            share = float(np.clip(mat_w / (mat_w + 1.6 * panel_w), 0.45, 0.72))
            room = page[1] - foot - extra
            sm = min(content_w * share / mat_w, room / mat_h)
        if sm >= least or shown < m or not plan.digits or \
                content_w * (1 if wide else 0.72) / mat_w < least:
            break  # legible, or already a window, or a pattern without digits anyway
        shown = max(int(room / least - 5.0), 3)
        if shown >= m:
            shown = m
            break
    plan = matrix_window(csr.indptr, csr.indices, (m, n), in_levels, (shown, col_limit))
    sm = max(sm, 1e-3)  # a page too small for the legends: A tiny, never a negative size
    if wide:
        hm, hp = mat_h * sm, panel_h * sp_
        width, height = content_w + 0.4, hm + hp + 0.25 + foot + extra
        fig = _new_figure(*(_check_figsize(figsize) if figsize is not None else (width, height)))
        bottom = (0.6 + TAP_ROW) / height
        ax_m = _add_axes(fig, (0.2 / width, bottom, content_w / width, hm / height))
        ax_s = _add_axes(fig, (0.2 / width, bottom + (hm + 0.25) / height, content_w / width,
                             hp / height))
    else:
        wm, wp = content_w * share, content_w * (1 - share)
        sp_ = min(wp / panel_w, 5.2 / panel_h, 0.6)
        content_h = max(mat_h * sm, panel_h * sp_, 2.4)
        width, height = content_w + 0.6, content_h + 0.05 + foot + extra
        fig = _new_figure(*(_check_figsize(figsize) if figsize is not None else (width, height)))
        bottom, top = (0.62 + TAP_ROW) / height, 1 - (0.55 + extra) / height
        ax_s = _add_axes(fig, (0.2 / width, bottom, wp / width, max(top - bottom, 0.05)))
        ax_m = _add_axes(fig, (0.4 / width + wp / width, bottom, wm / width,
                             max(top - bottom, 0.05)))
    panel = _panel(fig, ax_s, sc, y, tap_colors=colors)
    moving = plan.moving  # what is drawn of A changes from frame to frame
    # matrix axes: drawn column k at x = x0 + k; rows at y = y0 + r; above A the label
    # of x (`lab` cells tall: about 18 points however small the cells) and the x row
    box = ax_m.get_position()
    box_pt = (box.width * fig.get_figwidth() * 72, box.height * fig.get_figheight() * 72)
    lab = 1.2
    for _ in range(3):  # the label's height in cells depends on the cell size
        cell_pt = min(box_pt[0] / (2.8 + nn), box_pt[1] / (2 * lab + 2.6 + shown))
        lab = max(1.2, 18.0 / max(cell_pt, 1e-9))
    x_row = lab + 0.2  # top of the x row
    x0, y0 = 2.6, lab + 1.6  # room for the labels and the vectors
    ax_m.set_xlim(-0.1, x0 + nn + 0.1)
    ax_m.set_ylim(y0 + shown + lab + 0.4, -0.1)
    _bare(ax_m)
    fs = float(np.clip(DIGIT_SHARE * cell_pt, 0.0, 13.0))
    frame_box = Rectangle((x0, y0), nn, shown, fill=False, edgecolor=COLORS["grid"],
                          linewidth=1.0, zorder=3)
    ax_m.add_patch(frame_box)
    rules = LineCollection([], colors=COLORS["grid"], zorder=3)
    rules.set_gid("rules")
    ax_m.add_collection(rules)
    cells = PolyCollection([], edgecolors="none", zorder=2)
    cells.set_gid("cells")
    ax_m.add_collection(cells)
    labels = [_fmt(v) for v in coo.data]
    fs_a = min([_fit(fs, label, DIGIT_SHARE) for label in labels] or [fs])
    per_row = int(np.diff(csr.indptr).max()) if m else 0
    digits = []
    if plan.digits and fs_a >= MIN_DIGIT_PT and shown * nn <= 900:
        digits = [ax_m.text(0, 0, "", ha="center", va="center", fontsize=fs_a, zorder=4,
                            gid="digit") for _ in range(min(shown * per_row, coo.nnz))]
    # beside the first and last drawn row of y: more rows above / below the window
    marks = [ax_m.text(0.6, y0 + 0.5, "⋮", ha="center", va="center", fontsize=13,
                       color=COLORS["text"], visible=False, gid="ellipsis"),
             ax_m.text(0.6, y0 + shown - 0.5, "⋮", ha="center", va="center", fontsize=13,
                       color=COLORS["text"], visible=False, gid="ellipsis")]
    # ⋯ in an elided column: in the x row and in every drawn row with entries there
    fs_dots = max(min(fs, 13.0), MIN_DIGIT_PT)
    dots = [ax_m.text(0, 0, "⋯", ha="center", va="center", fontsize=fs_dots, zorder=4,
                      color=COLORS["text"], visible=False, gid="ellipsis")
            for _ in range(2 * (shown + 1) if any(None in c for c in plan.cols) else 0)]
    # x as a row above A, y as a column left of it
    xv = PolyCollection([], facecolors=COLORS["input"], edgecolors=COLORS["input_edge"],
                        linewidths=0.8, zorder=2)
    xv.set_gid("x-cells")
    ax_m.add_collection(xv)
    yv = PolyCollection(_squares(np.zeros(shown) + 1.4, np.arange(shown) + y0),
                        facecolors=COLORS["pending"], edgecolors=COLORS["grid"],
                        linewidths=0.8, zorder=2)
    yv.set_gid("y-cells")
    ax_m.add_collection(yv)
    style = dict(fontsize=13, color=COLORS["text"], ha="center", va="center")
    ax_m.text(x0 + nn / 2, lab / 2, fill(words["input_flattened"], x="$x$"), **style)
    ax_m.text(0.6, y0 + shown / 2, "$y$", **style)
    name = "A^{\\top}" if win.transposed else "A"  # the transpose of the convolution's A
    ax_m.text(x0 + nn / 2, y0 + shown + 0.1 + lab / 2,
              f"${name}$: {m} × {n}   ($y = {name}\\,x$)", **style)
    # the highlighted entries of x and the computed entries of y: overlays on the vectors
    x_lit = PolyCollection(_squares([x0], [x_row]), facecolors=COLORS["kernel"],
                           edgecolors=COLORS["input_edge"], linewidths=0.8, zorder=2.5)
    x_lit.set_gid("x")
    ax_m.add_collection(x_lit)
    y_done = PolyCollection(_squares([1.4], [y0]), edgecolors=COLORS["grid"], linewidths=0.8,
                            zorder=2.5)
    y_done.set_gid("y")
    ax_m.add_collection(y_done)
    x_texts = []
    xs = [] if x is None else [_fmt(v) for v in np.asarray(x).ravel()]
    if fs >= MIN_DIGIT_PT and nn <= 60 and xs:
        fs_xv = max(min(_fit(fs, v, DIGIT_SHARE) for v in xs), MIN_DIGIT_PT)
        x_texts = [ax_m.text(0, x_row + 0.5, "", ha="center", va="center", fontsize=fs_xv,
                             color=COLORS["text"], zorder=4) for _ in range(nn)]
    y_texts = []
    if fs >= MIN_DIGIT_PT and y is not None and m <= MAX_VALUE_FRAMES:
        y_labels = [_fmt(v) for v in np.asarray(y).ravel()]
        fs_yv = max(min(_fit(fs, label, DIGIT_SHARE) for label in y_labels), MIN_DIGIT_PT)
        y_texts = [ax_m.text(1.9, r + y0 + 0.5, "", ha="center", va="center", fontsize=fs_yv,
                             color=COLORS["text"], zorder=4, visible=False)
                   for r in range(shown)]
    row_box = Rectangle((x0, y0), nn, 1, fill=False, edgecolor=COLORS["kernel"],
                        linewidth=1.6, zorder=5)
    ax_m.add_patch(row_box)
    row_cells = PolyCollection(_squares([0], [0]), facecolors="none",
                               edgecolors=COLORS["kernel"], linewidths=2.4, zorder=6)
    row_cells.set_gid("matrix-row")
    ax_m.add_collection(row_cells)
    y_faces = np.tile(_rgba(COLORS["output_light"]), (m, 1))
    covered: list = []
    fig.text(0.5, 1 - 0.1 / height, title, ha="center", va="top", fontsize=fontsize or 12,
             color=COLORS["text"])
    _legend(fig, [*panel.roles, "kernel", "output"], sc.words)
    tap_legend(fig, [(colors[j], f"$w_{{{name}}}$") for j, name in
                     enumerate(tap_names(win.kernel_shape))], words,
               y=0.32 / height, fontsize=10)
    drawn: list = [None, None]  # the first row and the columns drawn
    at = np.full(n, -1, dtype=np.int64)  # drawn position of each column (-1: elided)
    hidden: list = []  # (drawn row, -1 for the x row; ⋯ column) of every ⋯ drawn

    def show_window(s: int, cols: tuple) -> None:
        """Draw rows ``s .. s + shown - 1`` and columns ``cols`` of ``A`` (cells, digits,
        rules, ``⋯``) and the entries of ``x`` above them."""
        if drawn == [s, cols]:
            return
        drawn[:] = [s, cols]
        at[:] = -1
        kept = [k for k, c in enumerate(cols) if c is not None]
        at[[cols[k] for k in kept]] = kept
        lo, hi = csr.indptr[s], csr.indptr[s + shown]
        rows, pos = coo.row[lo:hi] - s, at[coo.col[lo:hi]]
        on = np.flatnonzero(pos >= 0)
        cells.set_verts(_squares(pos[on] + x0, rows[on] + y0))
        cells.set_facecolors(colors[taps[lo:hi][on]])
        for k, text in enumerate(digits):
            text.set_visible(k < on.size)
            if k < on.size:
                e = on[k]
                text.set_position((pos[e] + x0 + 0.5, rows[e] + y0 + 0.5))
                text.set_text(labels[lo + e])
                text.set_color(_ink(colors[taps[lo + e]]))
        axis_r = Axis.of(range(s, s + shown), out_levels)
        axis_c = _axis(list(cols), in_levels)
        segs = [((x0, y0 + k + 1), (x0 + nn, y0 + k + 1)) for k in axis_r.rules]
        segs += [((x0 + k + 1, y0), (x0 + k + 1, y0 + shown)) for k in axis_c.rules]
        rules.set_segments(segs)
        rules.set_linewidths([2.2 if w > 1 else 1.0 for w in
                              [*axis_r.rules.values(), *axis_c.rules.values()]])
        marks[0].set_visible(s > 0)
        marks[1].set_visible(s + shown < m)
        gaps = [k for k, c in enumerate(cols) if c is None]
        nexts = [n if k + 1 == len(cols) else cols[k + 1] for k in gaps]
        cut = np.flatnonzero(pos < 0)  # entries behind a ⋯: the one before their column
        behind = np.searchsorted(nexts, coo.col[lo:hi][cut], side="right")
        hidden[:] = sorted({(int(r), gaps[g]) for r, g in zip(rows[cut], behind)}
                           | {(-1, g) for g in gaps})
        for k, text in enumerate(dots):
            text.set_visible(k < len(hidden))
            if k < len(hidden):
                r, g = hidden[k]
                text.set_position((g + x0 + 0.5, (x_row if r < 0 else r + y0) + 0.5))
        xv.set_verts(_squares(np.array(kept) + x0, np.zeros(len(kept)) + x_row))
        for k, text in enumerate(x_texts):
            text.set_visible(k < len(kept))
            if k < len(kept):
                text.set_position((kept[k] + x0 + 0.5, x_row + 0.5))
                text.set_text(xs[cols[kept[k]]])

    def update(t: int) -> None:
        panel.update(t)
        s = plan.first[t]
        show_window(s, plan.cols[t])
        read = csr.indices[csr.indptr[t]:csr.indptr[t + 1]]
        pos = at[read]
        lit = pos[pos >= 0]
        if (pos < 0).any():  # the ⋯ hiding some of the row's entries is lit with them
            lit = np.concatenate([lit, [g for r, g in hidden if r == t - s]]).astype(int)
        row_cells.set_verts(_squares(lit + x0, np.full(lit.size, t - s + y0)))
        row_box.set_y(t - s + y0)
        x_lit.set_verts(_squares(pos[pos >= 0] + x0, np.full(int((pos >= 0).sum()), x_row)))
        covered[:] = [x_texts[c] for c in pos[pos >= 0]] if x_texts else []
        done = np.arange(s, t + 1)
        yf = y_faces[done].copy()
        yf[-1] = _rgba(COLORS["output"])
        y_done.set_verts(_squares(np.zeros(done.size) + 1.4, done - s + y0))
        y_done.set_facecolors(yf)
        for k, text in enumerate(y_texts):
            text.set_visible(s + k <= t)
            if s + k <= t:
                text.set_text(_fmt(np.asarray(y).ravel()[s + k]))
                text.set_color("#ffffff" if s + k == t else COLORS["text"])

    window_artists = [cells, rules, xv, *digits, *marks, *dots, *x_texts]
    static = [] if moving else window_artists
    animated = [a_ for a_ in [*panel.animated, row_box, row_cells, x_lit, y_done, *y_texts,
                              *window_artists] if a_ not in static]

    def frame_artists() -> list:
        changing = [cells, rules, xv] if moving else []
        texts = [*digits, *marks, *dots, *x_texts] if moving else []
        return panel.frame_artists() + changing + [row_box, row_cells, x_lit, y_done] + \
            covered + [text for text in y_texts + texts if text.get_visible()]

    show_window(plan.first[0], plan.cols[0])
    anim = _animation(fig, update, sc.n_frames,
                      {"kernel": panel.kernel, "output": panel.output, "row": row_cells,
                       "x": x_lit, "y": y_done, "x-cells": xv, "y-cells": yv,
                       "cells": cells}, animated, frame_artists)
    anim.window, anim.values = sc.window, y
    anim.rows_shown = shown
    anim.cols_shown = nn
    anim.matrix_window = plan
    return anim


def _parent(path: Path) -> None:
    if not path.parent.exists():
        raise ConvmatError(f"path={str(path)!r}: the folder {str(path.parent)!r} does not "
                           f"exist")


def _save_gif(anim, path: Path, fps: float, dpi: float | None) -> None:
    """One GIF frame per output position, all frames on one shared palette (the pictures
    have few colours; a shared palette lets each frame store only what changed); ``dpi``
    ``None`` keeps the figure's."""
    from PIL import Image

    fig = anim._fig
    canvas = fig.canvas
    old_dpi = fig.get_dpi()
    fig.set_dpi(old_dpi if dpi is None else dpi)
    animated = list(anim.animated_artists)
    for artist in animated:
        artist.set_animated(True)
    try:
        canvas.draw()  # the static picture once; each frame draws only what changes
        background = canvas.copy_from_bbox(fig.bbox)
        frames = []
        for t in range(anim.n_frames):
            canvas.restore_region(background)
            anim.show_frame(t)
            for artist in sorted(anim.frame_artists(), key=lambda a: a.get_zorder()):
                fig.draw_artist(artist)
            frames.append(Image.frombuffer("RGBA", canvas.get_width_height(),
                                           bytes(canvas.buffer_rgba()), "raw", "RGBA", 0,
                                           1).convert("RGB"))
    finally:
        for artist in animated:
            artist.set_animated(False)
        fig.set_dpi(old_dpi)
    w, h = frames[0].size
    sample = Image.new("RGB", (w, 2 * h))
    sample.paste(frames[0], (0, 0))
    sample.paste(frames[-1], (0, h))
    palette = sample.quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    entries = np.array(palette.getpalette()[:765], dtype=int).reshape(-1, 3)
    entries[np.all(entries >= 246, axis=1)] = 255  # the background stays pure white
    colors = entries.ravel().tolist()
    palette.putpalette(colors)  # 255 colours: index 255 is kept free to mean "unchanged"
    indexed = [np.asarray(f.quantize(palette=palette, dither=Image.Dither.NONE))
               for f in frames]
    # every later frame stores only the pixels that changed; the rest are transparent
    # (index 255) and show the frame before (disposal 1), which compresses to almost nothing
    out = [indexed[0]]
    for before, now in zip(indexed, indexed[1:]):
        out.append(np.where(now == before, 255, now).astype(np.uint8))
    images = []
    for array in out:
        image = Image.fromarray(array, mode="P")
        image.putpalette(colors + [0, 0, 0])
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                   duration=max(int(round(1000 / fps)), 20), optimize=False, disposal=1,
                   transparency=255)


def _save_pages(anim, path: Path, dpi: float | None) -> None:
    """A multi-page PDF, one page per frame (for ``\\includegraphics[page=t]`` and the
    ``animate`` package), text embedded as text (TrueType) so the values can be searched
    and copied; the animation is left on its first frame."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    fig = anim._fig
    with matplotlib.rc_context({"pdf.fonttype": 42, "pdf.compression": 6}), \
            PdfPages(str(path), metadata={"Creator": "convmat"}) as pdf:
        for t in range(anim.n_frames):
            anim.show_frame(t)
            pdf.savefig(fig, dpi=dpi, facecolor="white")
    anim.show_frame(0)
