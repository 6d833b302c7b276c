"""The pictures as format-neutral records (:class:`convmat.layout.Picture`): the cells, their
roles, values, labels and frames of the sliding, matrix, superposition and matrix-plot
pictures, computed from the same windows (:mod:`._windows`), cell kinds, matrices and
values as the matplotlib drawing. The TikZ writer (:func:`convmat.latex.tikz`) spells them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ._drawing import (
    CELL_STYLES,
    COLORS,
    ENGLISH,
    _cell_kinds,
    _copy_label,
    _fmt,
    _ink,
    _levels,
    _tap_colors,
    phase_colors,
)
from ._matrix import _colors as _entry_colors
from ._matrix import (DIGIT_SHARE, MIN_DIGIT_PT, MatrixWindow, _axis, matrix_window,
                      tap_names)
from ..errors import ConvmatError
from ..layout import (Axis, Cells, CellStyle, Frame, Label, Picture, Rect, Segment, fill,
                      sliding_placement)

Words = Mapping[str, str]

_LINES = {"-": "solid", "--": "dashed", ":": "dotted"}


def _hex(color: Any) -> str:
    import matplotlib.colors

    return matplotlib.colors.to_hex(color, keep_alpha=False)[1:].upper()


def _palette() -> dict[str, str]:
    return {name: _hex(value) for name, value in COLORS.items()}


def _styles(words: Words) -> dict[str, CellStyle]:
    """The roles of every sliding picture (the cell kinds of ``CELL_STYLES``, the kernel,
    the output cells)."""
    styles = {}
    for role, (label, face, edge, line, hatch) in CELL_STYLES.items():
        fill = next((k for k, v in COLORS.items() if v == face), None)
        styles[role] = CellStyle(fill or f"face-{role}", next(
            k for k, v in COLORS.items() if v == edge), _LINES[line], 0.6, 1.0, bool(hatch),
            words[label])
    styles["kernel"] = CellStyle("kernel", "kernel", "solid", 1.6, 0.45, False,
                                 words["kernel"])
    styles["pending"] = CellStyle("pending", "grid", "solid", 0.5)
    styles["done"] = CellStyle("output_light", "grid", "solid", 0.5, label=words["output"])
    styles["current"] = CellStyle("output", "grid", "solid", 1.4)
    styles["entry"] = CellStyle(None, "white", "solid", 0.3)
    styles["lit"] = CellStyle(None, "kernel", "solid", 1.6)
    styles["x-lit"] = CellStyle("kernel", "input_edge", "solid", 0.5)
    styles["swatch"] = CellStyle(None, None, "solid", 0.0)
    return styles


def _colors(styles: dict[str, CellStyle]) -> dict[str, str]:
    colors = _palette()
    colors["white"] = "FFFFFF"
    for role, (_, face, _, _, _) in CELL_STYLES.items():
        if styles[role].fill == f"face-{role}":
            colors[f"face-{role}"] = _hex(face)
    return colors


def _tap_palette(colors: dict[str, str], n_taps: int) -> list[str]:
    names = []
    for j, rgba in enumerate(_tap_colors(n_taps)):
        colors[f"tap{j}"] = _hex(rgba)
        names.append(f"tap{j}")
    return names


# ------------------------------------------------------------------ the sliding panel


def _sliding(sc: Any, y: Any, ox: float, oy: float, taps: list[str] | None
             ) -> tuple[list[Cells], list[Label], list[list[Any]], tuple[float, float], list]:
    """The sliding panel at offset ``(ox, oy)``: still cells, still labels, per frame
    ``[cells, labels, segments]``, (height, width) and the roles drawn."""
    win = sc.win
    if sc.layered:
        raise ConvmatError("TikZ draws the sliding pictures of one channel in 1-D or 2-D; "
                           "this picture has channels or is 3-D (save it as .pdf, .gif or "
                           ".png)")
    n = win.ndim
    place = sliding_placement(win.grid_shape, win.padding, win.output_shape)
    out, span = place.output_shape, place.span
    lo, extent, out0 = np.array(place.lo), np.array(place.extent), np.array(place.out0)
    hi = lo + extent
    rr, cc = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]), indexing="ij")
    nd = np.stack([rr.ravel(), cc.ravel()], -1) if n == 2 else cc.ravel()[:, None]
    kinds = _cell_kinds(win, nd)
    spacing = win.input_stride if n == 2 else (1, win.input_stride[0])
    x = sc.x
    xg = None if x is None else np.asarray(x).reshape(win.input_shape if n == 2 else (1, -1))
    src = win.source_of(nd) if win.padding_mode != "zeros" else None
    texts: dict[tuple[int, int], str] = {}  # what each grid cell shows, by (x, y)
    cells = []
    for role, mask in kinds.items():
        xy, labels = [], []
        for k in np.flatnonzero(mask):
            r_, c_ = int(rr.ravel()[k]), int(cc.ravel()[k])
            key = (c_ - int(lo[1]), r_ - int(lo[0]))
            text = ""
            if role == "input" and xg is not None:
                text = _fmt(xg[r_ // spacing[0], c_ // spacing[1]])
            elif src is not None and src[k] >= 0:
                text = _copy_label(win, int(src[k]), x)
            elif xg is not None:
                text = "0"
            texts[key] = text
            xy.append((key[0] + ox, key[1] + oy))
            labels.append(text)
        cells.append(Cells(role, tuple(xy), tuple(labels) if any(labels) else None))
    # output grid, pending
    orr, occ = np.meshgrid(np.arange(out[0]), np.arange(out[1]), indexing="ij")
    out_xy = [(float(c + out0[1] + ox), float(r + out0[0] + oy))
              for r, c in zip(orr.ravel(), occ.ravel())]
    cells.append(Cells("pending", tuple(out_xy)))
    ys = None if y is None else [_fmt(v) for v in np.asarray(y).ravel()]
    w = sc.weight
    wflat = None if w is None else np.asarray(w).ravel()
    frames = []
    for t in range(len(win)):
        pos = win.positions[t]
        corners = (np.stack([pos[:, 0] - lo[1], np.zeros(len(pos)) - lo[0]], -1) if n == 1
                   else np.stack([pos[:, 1] - lo[1], pos[:, 0] - lo[0]], -1))
        keys = [(int(c[0]), int(c[1])) for c in corners]
        kxy = tuple((k[0] + ox, k[1] + oy) for k in keys)
        under = tuple(texts.get(k, "") for k in keys)
        f_cells = [Cells("kernel", kxy, under if any(under) else None)]
        if taps is not None:
            f_cells.append(Cells("swatch", tuple((a + 0.1, b + 0.08) for a, b in kxy),
                                 fills=tuple((taps[j], 1.0) for j in win.taps), size=0.8,
                                 height=0.14))  # a bar along the top edge, as matplotlib
        f_labels = []
        if wflat is not None:
            f_labels = [Label(a + 0.97, b + 1.0, "×" + _fmt(wflat[j]), "south east", 0.6,
                              "weight", "kernel_ink") for (a, b), j in zip(kxy, win.taps)]
        if t:
            f_cells.append(Cells("done", tuple(out_xy[:t]),
                                 tuple(ys[:t]) if ys is not None else None))
        f_cells.append(Cells("current", (out_xy[t],), (ys[t],) if ys is not None else None,
                             inks=("white",)))
        centre = corners.mean(axis=0) + 0.5
        target = np.array(out_xy[t]) + 0.5
        if n == 2:
            start = (extent[1] + ox, float(np.clip(centre[1], 0.5, extent[0] - 0.5)) + oy)
            end = (out0[1] + ox, float(target[1]))
        else:
            start = (float(np.clip(centre[0], 0.5, extent[1] - 0.5)) + ox, extent[0] + oy)
            end = (float(target[0]), out0[0] + oy)
        seg = Segment(float(start[0]), float(start[1]), float(end[0]), float(end[1]),
                      "kernel", 1.4)
        frames.append([f_cells, f_labels, [seg]])
    return cells, [], frames, (float(span[0]), float(span[1])), [*kinds, "kernel", "done"]


def sliding_picture(sc: Any, y: Any, title: str, words: Words = ENGLISH) -> Picture:
    """The sliding-kernel animation (A1) as a record."""
    styles = _styles(words)
    colors = _colors(styles)
    colors["kernel_ink"] = "6B3300"
    cells, labels, frames, (h, w), roles = _sliding(sc, y, 0.0, 0.0, None)
    return Picture("sliding", w, h, colors, styles, tuple(cells), tuple(labels),
                   frames=tuple(Frame(tuple(c), tuple(lb), tuple(s)) for c, lb, s in frames),
                   title=title, legend=tuple(roles))


# ------------------------------------------------------------------ the matrix picture


def _rules(x0: float, y0: float, m: int, n: int, row_levels: Any, col_levels: Any
           ) -> list[Segment]:
    """Rules after every block, the coarsest thicker when there are finer levels (as the
    matplotlib drawing of :func:`convmat.figures.plot_matrix`)."""
    segs = []
    for levels, along in ((row_levels, "rows"), (col_levels, "cols")):
        total = m if along == "rows" else n
        for rank, size in enumerate(levels):
            cuts = np.arange(size, total, size)
            width = 1.6 if rank == 0 and len(levels) > 1 else 0.6
            if rank > 0:
                cuts = cuts[cuts % levels[0] != 0]
            for c in cuts.tolist():
                segs.append(Segment(x0, y0 + c, x0 + n, y0 + c, "grid", width) if along ==
                            "rows" else Segment(x0 + c, y0, x0 + c, y0 + m, "grid", width))
    return segs


def _placed(items: Any, s: float, ox: float, oy: float) -> Any:
    """Cells, labels, segments (or lists of them) of the sliding panel scaled by ``s`` about
    the origin and moved to ``(ox, oy)``: a panel drawn smaller so the matrix gets the room."""
    if isinstance(items, (list, tuple)):
        return [_placed(item, s, ox, oy) for item in items]
    if s == 1 and ox == oy == 0:
        return items
    if isinstance(items, Cells):
        return replace(items, xy=tuple((ox + s * a, oy + s * b) for a, b in items.xy),
                       size=items.size * s,
                       height=None if items.height is None else items.height * s)
    if isinstance(items, Label):
        return replace(items, x=ox + s * items.x, y=oy + s * items.y, size=items.size * s)
    return replace(items, x0=ox + s * items.x0, y0=oy + s * items.y0, x1=ox + s * items.x1,
                   y1=oy + s * items.y1)


#: the matrix's cells around ``A`` in the record: the y column and label at the left, the
#: x label, the x row and a gap above, the caption below
_LEFT, _ABOVE, _BELOW = 2.6, 2.4, 1.6
#: fewest rows of ``A`` shown before the sliding panel is drawn smaller
_ROWS = 6
#: least height (cells) of a sliding panel drawn smaller
_PANEL = 2.5
#: a panel drawn smaller than this leaves out its numbers (x and y show them)
_LEGIBLE = 0.7


def _arrange(shape: tuple[int, int], panel: tuple[float, float], csr: Any,
             levels: tuple[int, ...], room: tuple[float, float] | None
             ) -> tuple[MatrixWindow, bool, float]:
    """Where the record's parts go in ``room`` (width, height in cells of legible digits;
    ``None``: anywhere): the matrix window (:func:`matrix_window`, as the matplotlib
    drawing's), whether the panel sits above ``A`` (else at its left) and its scale. Beside
    ``A`` when all fits, else above it, the columns of ``A`` elided to the width; the rows
    scroll; when fewer than :data:`_ROWS` rows would show, the panel is drawn smaller."""
    m, n = shape
    ph, pw = panel
    stacked = n + _LEFT > 2.2 * pw
    if room is None:
        return matrix_window(csr.indptr, csr.indices, shape, levels, (m, n)), stacked, 1.0
    w, h = room
    side_cols, side_rows = int(w - pw - 1.5 - _LEFT), int(h - _ABOVE - _BELOW)
    if not stacked and n <= side_cols and ph <= h and side_rows >= min(m, _ROWS):
        return matrix_window(csr.indptr, csr.indices, shape, levels,
                             (side_rows, n)), False, 1.0
    free = h - _ABOVE - _BELOW  # rows of A and the panel above them
    scale = min(1.0, w / pw)
    if free - scale * (ph + 1) < min(m, _ROWS):
        least = min(max(0.25, _PANEL / ph), scale)  # the panel at least _PANEL cells tall
        scale = float(np.clip((free - min(m, _ROWS)) / (ph + 1), least, scale))
    rows = max(int(free - scale * (ph + 1)), 1)
    return matrix_window(csr.indptr, csr.indices, shape, levels,
                         (rows, max(int(w - _LEFT), 3))), True, scale


#: the boxes (cm) :func:`convmat.latex.tikz` fits a picture in: a page, a beamer frame (as
#: its writer's ``PAGE_BOX`` and ``BEAMER_BOX``)
TIKZ_BOXES = {False: (25.0, 18.0), True: (11.0, 7.4)}
#: the writer's font of a number as a share of its cell, and the room (cells) it keeps
#: below a beamer picture for the legend
TIKZ_SHARE, TIKZ_LEGEND = DIGIT_SHARE, 2.4


def tikz_room(beamer: bool, title: str) -> tuple[float, float]:
    """(width, height) in cells of :data:`MIN_DIGIT_PT` digits of the TikZ writer's box
    (a page, or a beamer frame), less what its title and legend take."""
    cell = MIN_DIGIT_PT / TIKZ_SHARE / (72.27 / 2.54)  # cm
    w, h = TIKZ_BOXES[beamer]
    return w / cell, h / cell - (TIKZ_LEGEND if beamer else 2.2 + 0.6 * title.count("\n"))


def matrix_picture(sc: Any, a: Any, y: Any, title: str, entry_taps: Any,
                   words: Words = ENGLISH, beamer: bool | None = None) -> Picture:
    """The matrix-equivalence animation (A2) as a record: the sliding panel and ``y = A x``
    with row ``t`` of ``A``, the entries of ``x`` it reads and ``y[t]`` in frame ``t``.

    For a TikZ page or a ``beamer`` frame (:func:`tikz_room`; ``None``: whole) it elides
    and scrolls ``A`` to digits of :data:`MIN_DIGIT_PT` with the matplotlib drawing's rule (:func:`matrix_window`): a window of rows following
    row ``t``, columns elided between whole blocks behind ``⋯`` keeping those row ``t``
    reads (a ``⋯`` in row ``t`` outlined when it hides some)."""
    import scipy.sparse as sp

    styles = _styles(words)
    colors = _colors(styles)
    colors["kernel_ink"] = "6B3300"
    win, x = sc.win, sc.x
    m, n = a.shape
    taps = _tap_palette(colors, win.taps.size)
    csr = sp.csr_array(a)
    csr.sort_indices()
    coo = csr.tocoo()
    entry_tap = entry_taps(win, coo.row, coo.col)
    in_levels = _levels(win.input_shape, sc.c_in)
    out_levels = _levels(win.output_shape, sc.c_out)
    cells, labels, frames, (ph, pw), roles = _sliding(sc, y, 0.0, 0.0, taps)
    room = None if beamer is None else tikz_room(beamer, title)
    plan, stacked, s = _arrange((m, n), (ph, pw), csr, in_levels, room)
    nn, rows = plan.width, plan.rows
    mat_w, mat_h = nn + _LEFT, rows + _ABOVE + _BELOW
    if stacked:
        sx, sy = max((mat_w - pw * s) / 2, 0.0), 0.0
        mx, my = 0.0, (ph + 1.0) * s
        width, height = max(mat_w, pw * s), my + mat_h
    else:
        sx, sy = 0.0, max((mat_h - ph) / 2, 0.0)
        mx, my = pw + 1.5, 0.0
        width, height = pw + 1.5 + mat_w, max(ph, mat_h)
    if s < _LEGIBLE:  # a panel too small for its numbers locates the window: the numbers
        cells = [replace(c, texts=None, inks=None) for c in cells]  # are those of x, y
        frames = [[[replace(c, texts=None, inks=None) for c in f_cells], [], f_segs]
                  for f_cells, _, f_segs in frames]
    cells, labels, frames = (_placed(cells, s, sx, sy), _placed(labels, s, sx, sy),
                             [_placed(f, s, sx, sy) for f in frames])
    x0, y0, x_row, y_col = mx + _LEFT, my + _ABOVE, my + 1.0, mx + 1.2
    inks = ["white" if _ink(c) == "#ffffff" else "text" for c in _tap_colors(len(taps))]
    xs = None if x is None else [_fmt(v) for v in np.asarray(x).ravel()]
    values = [_fmt(v) for v in coo.data]
    digits = plan.digits

    def window(first: int, cols: tuple) -> tuple[list[Cells], list[Label], list[Segment],
                                                 set]:
        """Rows ``first ..`` and columns ``cols`` of ``A``: its cells, x above, the rules,
        ``⋯`` where entries are elided (and their (row, column) places), ``⋮`` where rows
        are."""
        at = np.full(n, -1, dtype=np.int64)
        kept = [k for k, c in enumerate(cols) if c is not None]
        at[[cols[k] for k in kept]] = kept
        lo, hi = csr.indptr[first], csr.indptr[first + rows]
        r_, pos = coo.row[lo:hi] - first, at[coo.col[lo:hi]]
        on = np.flatnonzero(pos >= 0)
        w_cells = [Cells("entry", tuple((float(pos[e] + x0), float(r_[e] + y0)) for e in on),
                         tuple(values[lo + e] for e in on) if digits else None,
                         tuple((taps[entry_tap[lo + e]], 1.0) for e in on),
                         tuple(inks[entry_tap[lo + e]] for e in on)),
                   Cells("input", tuple((x0 + k, x_row) for k in kept),
                         tuple(xs[cols[k]] for k in kept) if xs is not None else None)]
        gaps = [k for k, c in enumerate(cols) if c is None]
        nexts = [n if k + 1 == len(cols) else cols[k + 1] for k in gaps]
        cut = np.flatnonzero(pos < 0)
        behind = np.searchsorted(nexts, coo.col[lo:hi][cut], side="right")
        dots = sorted({(int(r), gaps[g]) for r, g in zip(r_[cut], behind)})
        w_labels = [Label(x0 + g + 0.5, y0 + r + 0.5, "⋯") for r, g in dots]
        w_labels += [Label(x0 + g + 0.5, x_row + 0.5, "⋯") for g in gaps]
        if first > 0:
            w_labels.append(Label(mx + 0.5, y0 + 0.5, "⋮"))
        if first + rows < m:
            w_labels.append(Label(mx + 0.5, y0 + rows - 0.5, "⋮"))
        axis_r, axis_c = Axis.of(range(first, first + rows), out_levels), _axis(list(cols), in_levels)
        segs = [Segment(x0, y0 + k + 1, x0 + nn, y0 + k + 1, "grid", 1.6 if wt > 1 else 0.6)
                for k, wt in axis_r.rules.items()]
        segs += [Segment(x0 + k + 1, y0, x0 + k + 1, y0 + rows, "grid", 1.6 if wt > 1 else 0.6)
                 for k, wt in axis_c.rules.items()]
        return w_cells, w_labels, segs, set(dots)

    segments: list[Segment] = []
    dots: set = set()
    if not plan.moving:
        w_cells, w_labels, segments, dots = window(plan.first[0], plan.cols[0])
        cells += w_cells
        labels += w_labels
    cells.append(Cells("pending", tuple((y_col, y0 + r) for r in range(rows))))
    rects = [Rect(x0, y0, nn, rows, None, "grid", 0.8)]
    name = "A^{\\top}" if win.transposed else "A"
    labels += [Label(x0 + nn / 2, x_row - 0.15, fill(words["input_flattened"], x="$x$"),
                     "south", 1.1),
               Label(mx + 0.5, y0 + rows / 2, "y", "center", 1.2, math=True),
               Label(x0 + nn / 2, y0 + rows + 0.3, f"${name}$: {m} × {n}   "
                     f"$(y = {name}\\,x)$", "north", 1.1)]
    ys = None if y is None else [_fmt(v) for v in np.asarray(y).ravel()]
    out_frames = []
    for t, (f_cells, f_labels, f_segs) in enumerate(frames):
        first, cols = plan.first[t], plan.cols[t]
        f_cells, f_labels, f_segs = list(f_cells), list(f_labels), list(f_segs)
        f_rects = []
        if plan.moving:  # (its rules as outlines: drawn over the cells, as the still ones)
            w_cells, w_labels, w_segs, dots = window(first, cols)
            f_cells += w_cells
            f_labels += w_labels
            f_rects = [Rect(g.x0, g.y0, g.x1 - g.x0, g.y1 - g.y0, None, g.color, g.width)
                       for g in w_segs]
        at = {c: k for k, c in enumerate(cols) if c is not None}
        read = csr.indices[csr.indptr[t]:csr.indptr[t + 1]].tolist()
        seen = [c for c in read if c in at]
        lit = [at[c] for c in seen]
        if len(seen) < len(read):  # the ⋯ hiding some of them is outlined with them
            lit += sorted(g for r, g in dots if r == t - first)
        f_cells.append(Cells("x-lit", tuple((x0 + at[c], x_row) for c in seen),
                             tuple(xs[c] for c in seen) if xs is not None else None))
        f_cells.append(Cells("lit", tuple((x0 + k, y0 + t - first) for k in lit)))
        if t > first:
            f_cells.append(Cells("done", tuple((y_col, y0 + r - first) for r in range(first, t)),
                                 tuple(ys[first:t]) if ys is not None else None))
        f_cells.append(Cells("current", ((y_col, y0 + t - first),),
                             (ys[t],) if ys is not None else None, inks=("white",)))
        out_frames.append(Frame(tuple(f_cells), tuple(f_labels), tuple(f_segs),
                                (*f_rects, Rect(x0, y0 + t - first, nn, 1, None, "kernel",
                                                1.2))))
    keys = tuple((taps[j], f"$w_{{{name}}}$") for j, name in
                 enumerate(tap_names(win.kernel_shape)))
    return Picture("matrix", width, height, colors, styles, tuple(cells), tuple(labels),
                   tuple(segments), tuple(rects), tuple(out_frames), title,
                   (*roles[:-2], "kernel", "done"), keys, words["taps"])



# ------------------------------------------------------------------ plot_matrix


def matrix_plot_picture(rows: Any, cols: Any, values: Any, shape: tuple[int, int],
                        symbolic: bool, row_levels: Any, col_levels: Any, bands: Any,
                        highlight_row: int | None, title: str, taps: Any = None,
                        words: Words = ENGLISH) -> Picture:
    """A matrix (:func:`convmat.figures.plot_matrix`) as a record: its stored entries in the
    colours of the matplotlib picture (by kernel tap where the geometry is known, else by
    symbol or value) with their key, block rules, phase bands, one row outlined."""
    m, n = shape
    colors = _palette()
    colors["white"] = "FFFFFF"
    styles = {"entry": CellStyle(None, "white", "solid", 0.3),
              "lit": CellStyle(None, "kernel", "solid", 1.6)}
    faces, legend_keys = _entry_colors(values, symbolic, taps)
    hexes = [_hex(c) for c in faces]
    rgba: list[Any] = []  # the distinct colours, in order of first use
    named: dict[str, int] = {}
    keys = []
    for h, c in zip(hexes, faces):
        if h not in named:
            named[h] = len(rgba)
            rgba.append(c)
        keys.append(named[h])
    if symbolic:
        import sympy

        texts = [sympy.latex(v) for v in values]
    else:
        texts = [_fmt(v) for v in np.asarray(values)]
    names = []
    for k, c in enumerate(rgba):
        colors[f"value{k}"] = _hex(c)
        names.append(f"value{k}")
    inks = ["white" if _ink(c) == "#ffffff" else "text" for c in rgba]
    top = 1.0 if bands else 0.0
    cells: tuple[Cells, ...] = (Cells(
        "entry", tuple((float(c), float(r) + top) for r, c in zip(rows, cols)), tuple(texts),
        tuple((names[k], 1.0) for k in keys), tuple(inks[k] for k in keys), math=symbolic),)
    rects = []
    labels = []
    if bands:
        start = 0
        tints = phase_colors(len(bands[0]))
        for r, w in enumerate(bands[0]):
            colors[f"phase{r}"] = _hex(tints[r])
            rects.append(Rect(start, top, w, m, f"phase{r}", None))
            labels.append(Label(start + w / 2, top - 0.1, f"T_{{{r}}}", "south", 1.0,
                                math=True))
            start += w
    rects.append(Rect(0, top, n, m, None, "grid", 0.8))
    segments = _rules(0, top, m, n, row_levels, col_levels)
    if bands:
        start = 0
        for w in bands[0][:-1]:
            start += w
            segments.append(Segment(start, top, start, top + m, "grid", 1.6))
    if highlight_row is not None:
        mask = np.asarray(rows) == highlight_row
        rects.append(Rect(0, top + highlight_row, n, 1, None, "kernel", 1.2))
        cells += (Cells("lit", tuple((float(c), top + highlight_row)
                                     for c in np.asarray(cols)[mask])),)
    key_list = []
    for c, text in legend_keys:
        at = named.get(_hex(c))
        if at is not None:
            key_list.append((names[at], text))
    return Picture("plot_matrix", float(n), m + top, colors, styles, cells, tuple(labels),
                   tuple(segments), tuple(rects), (), title, keys=tuple(key_list),
                   keys_title=words["taps"] if taps is not None else "")


# ------------------------------------------------------------------ superposition


def superposition_picture(st: Any, xa: np.ndarray, w: np.ndarray, groups: int,
                          sums: np.ndarray, title: str, outputs: Any,
                          words: Words = ENGLISH) -> Picture:
    """The superposition animation as a record: input planes, the output canvas, and per
    frame the stamp of input entry ``t`` and the running sum."""
    colors = _palette()
    colors.update(white="FFFFFF", stamp_ink="8A5A00")
    xw = "$x_m\\,w$"
    styles = {
        "input": CellStyle("input", "input_edge", label=words["input"]),
        "stamp": CellStyle("kernel", "kernel", "solid", 1.6, 0.25,
                           label=fill(words["stamp"], xw=xw)),
        "sum": CellStyle("white", "grid", label=words["output_sum"]),
        "cropped": CellStyle("padding", "padding_edge", "dashed", label=words["cropped"]),
        "output-padding": CellStyle(None, "output", "dotted", 1.0,
                                    label=words["output_padding"]),
        "current": CellStyle(None, "kernel", "solid", 1.8),
    }
    c_in, c_out = w.shape[0], w.shape[1] * groups
    per_out = c_out // groups
    two = (lambda s: tuple(s)) if st.ndim == 2 else (lambda s: (1, s[0]))
    ishape, oshape = two(st.input_shape), two(st.output_shape)
    reach = st.reach if st.ndim == 2 else ((0, 0), st.reach[0])
    lo = np.array([min(0, r0) for r0, _ in reach])
    hi = np.array([max(o, r1 + 1) for o, (_, r1) in zip(oshape, reach)])
    canvas = hi - lo
    pgap, gap = 0.8, (1.6 if max(c_in, c_out) == 1 else 2.6)
    left = 1.6 if c_in > 1 or c_out > 1 else 0.0
    in_h = c_in * (ishape[0] + pgap) - pgap
    out_h = c_out * (canvas[0] + pgap) - pgap
    span_h = max(in_h, out_h)
    top = 1.4
    in0 = [((span_h - in_h) / 2 + c * (ishape[0] + pgap) + top, left) for c in range(c_in)]
    out0 = [((span_h - out_h) / 2 + o * (canvas[0] + pgap) - lo[0] + top,
             left + ishape[1] + gap - lo[1]) for o in range(c_out)]
    rr, cc = np.indices(ishape).reshape(2, -1)
    cells = [Cells("input", tuple((float(c + o[1]), float(r + o[0])) for o in in0
                                  for r, c in zip(rr, cc)),
                   tuple(_fmt(v) for c in range(c_in) for v in xa[c].ravel()))]
    gr, gc = np.indices(tuple(canvas)).reshape(2, -1) + lo[:, None]
    inside = (gr >= 0) & (gr < oshape[0]) & (gc >= 0) & (gc < oshape[1])
    reached = ((gr >= reach[0][0]) & (gr <= reach[0][1]) & (gc >= reach[1][0])
               & (gc <= reach[1][1]))
    cropped = ~inside & reached
    roles = ["input", "stamp", "sum"]
    if cropped.any():
        cells.append(Cells("cropped", tuple((float(c + o[1]), float(r + o[0])) for o in out0
                                            for r, c in zip(gr[cropped], gc[cropped]))))
        roles.append("cropped")
    orr, occ = np.indices(oshape).reshape(2, -1)
    out_xy = [(float(c + o[1]), float(r + o[0])) for o in out0 for r, c in zip(orr, occ)]
    cells.append(Cells("sum", tuple(out_xy)))
    extra = ~(((orr >= reach[0][0]) & (orr <= reach[0][1])) & ((occ >= reach[1][0])
                                                               & (occ <= reach[1][1])))
    if extra.any():
        cells.append(Cells("output-padding", tuple((float(c + o[1]), float(r + o[0]))
                                                   for o in out0
                                                   for r, c in zip(orr[extra], occ[extra]))))
        roles.append("output-padding")
    labels = [Label(in0[0][1] + ishape[1] / 2, top - 0.2, fill(words["input_x"], x="$x$"),
                    "south", 1.15),
              Label(out0[0][1] + lo[1], top - 0.2, fill(words["running_sum"], xw=xw),
                    "south west", 1.15)]
    if c_in > 1 or c_out > 1:
        labels += [Label(o[1] - 0.25, o[0] + ishape[0] / 2, f"{words['in']} {k}", "east")
                   for k, o in enumerate(in0)]
        labels += [Label(o[1] + lo[1] - 0.25, o[0] + lo[0] + canvas[0] / 2,
                         f"{words['out']} {k}", "east") for k, o in enumerate(out0)]
    per = math.prod(st.input_shape)
    written = st.reached(sums.shape, c_in // groups, per_out)
    vmax = max(float(np.abs(sums).max()) if sums.size else 1.0, 1e-12)
    frames = []
    for t in range(len(sums)):
        c, m_ = divmod(t, per)
        pos = st.stamp(m_)
        if st.ndim == 1:
            pos = np.stack([np.zeros(len(pos), dtype=int), pos[:, 0]], -1)
        outs = outputs(c, c_in // groups, per_out)
        on = np.flatnonzero(written[t])
        sum_cells = Cells("sum", tuple(out_xy[k] for k in on),
                          tuple(_fmt(sums[t, k]) for k in on),
                          tuple(("output", round(0.85 * min(abs(float(sums[t, k])) / vmax,
                                                             1.0), 2)) for k in on),
                          tuple("white" if abs(float(sums[t, k])) / vmax > 0.6 else "text"
                                for k in on))
        stamp_xy, stamp_texts = [], []
        xm = xa[c].ravel()[m_]
        for o in outs:
            for (pr, pc), v in zip(pos, w[c, o % per_out].ravel()):
                stamp_xy.append((float(pc + out0[o][1]), float(pr + out0[o][0])))
                stamp_texts.append(Label(float(pc + out0[o][1] + 0.96),
                                         float(pr + out0[o][0] + 0.02),
                                         ("+" if xm * v >= 0 else "") + _fmt(xm * v),
                                         "north east", 0.55, "weight", "stamp_ink"))
        r, col = np.unravel_index(m_, ishape)
        current = Cells("current", ((float(col + in0[c][1]), float(r + in0[c][0])),))
        centre = pos.mean(axis=0)
        target = out0[outs[0]]
        link = Segment(in0[c][1] + ishape[1], float(r + in0[c][0] + 0.5),
                       float(centre[1] + target[1] + 0.5), float(centre[0] + target[0] + 0.5),
                       "kernel", 1.2)
        frames.append(Frame((sum_cells, Cells("stamp", tuple(stamp_xy)), current),
                            tuple(stamp_texts), (link,)))
    width = left + ishape[1] + gap + canvas[1]
    return Picture("superposition", float(width), float(span_h + top), colors, styles,
                   tuple(cells), tuple(labels), frames=tuple(frames), title=title,
                   legend=tuple(roles))
