"""Drawing kit of :mod:`convmat.figures`: the palette, matplotlib loading, cell grids, text
fitting, legends, block rules and the matrix picture shared by every figure."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._windows import SlidingWindows
from ..errors import ConvmatError, brief
from ..geometry import ConvGeometry, transposed_geometry
from ..layout import fill
from ..layout import labels as _labels

COLORS = {
    "input": "#cfe7f5", "input_edge": "#0072B2",
    "padding": "#e4e4e4", "padding_edge": "#8c8c8c",
    "inserted": "#ffffff",
    "kernel": "#E69F00", "kernel_light": "#f6d58c",
    "output": "#009E73", "output_light": "#b6e3d4",
    "pending": "#ffffff", "grid": "#505050", "text": "#1a1a1a", "muted": "#8c8c8c",
}
# The colour rule (docs/figures.md, "Colours"): input blue, padding grey, kernel orange,
# output green, in every picture and in the LaTeX highlights; kernel taps and Kong & Lucey
# phases take hues of their own, never grey and never the input/kernel/output hues.

#: background bands of the Kong & Lucey phases (light tints: pink, lavender, lime, rose,
#: violet, lilac, orchid, salmon; none blue, orange, green or grey)
PHASE_COLORS = ("#f3d3e4", "#ddd0f0", "#eef2a6", "#f4c7c3", "#c9c3ea", "#e9d6f5",
                "#efc4ea", "#f9d6c8")

#: kernel taps, up to nine: saturated hues away from the input/kernel/output/padding
#: colours (indigo, wine, rose, purple, olive, magenta, brick, violet, crimson); more taps:
#: hues generated in the same free ranges (:func:`_tap_colors`)
TAP_COLORS = ("#332288", "#882255", "#CC6677", "#AA4499", "#8C8C1A", "#E7298A",
              "#A6361C", "#7B68EE", "#B2182B")
#: hue ranges (degrees) left to the kernel (orange) and to the output and input (green,
#: teal, cyan, blue): generated tap colours take the reds, yellows and purples between
RESERVED_HUES = ((25.0, 57.0), (75.0, 245.0))
#: groups of channels
GROUP_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00",
                "#000000", "#F0E442")


#: most stored entries drawn as cells (a larger matrix is refused, not silently subsampled)
_MAX_CELLS_DRAWN = 250_000
_INSTALL = 'pip install "convmat[plot]"'


_DPI = 100


def _mpl():
    """matplotlib, or a ConvmatError naming the install command."""
    try:
        import matplotlib
        import matplotlib.animation  # noqa: F401
        import matplotlib.collections  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise ConvmatError(
            f"convmat.figures needs matplotlib, which is not installed; install it with "
            f"{_INSTALL}") from None
    return matplotlib


def _check_ax(ax, what: str):
    """``ax`` is None or a matplotlib Axes (else a ConvmatError naming it)."""
    if ax is None:
        return None
    _mpl()
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ConvmatError(f"ax={brief(ax)} ({type(ax).__name__}) is not a matplotlib Axes; "
                           f"give one (fig.add_subplot()) or leave ax=None for a new figure "
                           f"({what})")
    return ax


def _check_figsize(figsize) -> tuple[float, float]:
    """``figsize`` two positive numbers of inches, at most 100 each."""
    try:
        w, h = (float(v) for v in figsize)
    except (TypeError, ValueError, OverflowError):
        raise ConvmatError(f"figsize={brief(figsize)} must be (width, height) in inches"
                           ) from None
    if not (0 < w <= 100 and 0 < h <= 100):
        raise ConvmatError(f"figsize={brief(figsize)}: width and height must be in (0, 100] "
                           f"inches")
    return w, h


def _check_fontsize(fontsize):
    """``fontsize`` None or a number of points in (0, 100]."""
    if fontsize is None:
        return None
    if isinstance(fontsize, (bool, np.bool_)) or not isinstance(
            fontsize, (int, float, np.integer, np.floating)) or not 0 < fontsize <= 100:
        raise ConvmatError(f"fontsize={brief(fontsize)} must be a number of points in "
                           f"(0, 100]")
    return float(fontsize)


#: resolution bounds of save (dots per inch)
DPI_RANGE = (10, 1200)


def _check_dpi(dpi, fig) -> float:
    """``dpi`` a real number in :data:`DPI_RANGE` whose canvas fits the memory guard."""
    from .._memory import check_budget

    if isinstance(dpi, (bool, np.bool_)) or not isinstance(dpi, (int, float, np.integer,
                                                                 np.floating)):
        raise ConvmatError(f"dpi={brief(dpi)} must be a number of dots per inch")
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:  # before float(): a huge int overflows it
        raise ConvmatError(f"dpi={brief(dpi)} must be between {DPI_RANGE[0]} and "
                           f"{DPI_RANGE[1]} (default {_DPI})")
    dpi = float(dpi)
    w, h = fig.get_size_inches()
    check_budget(int(4 * 3 * w * h * dpi * dpi), f"a {w:.1f} x {h:.1f} in canvas at "
                 f"dpi={dpi:g}", advice="Save at a lower dpi. ")
    return dpi


#: most frames whose output values are printed (every frame redraws the values so far)
MAX_VALUE_FRAMES = 64

#: most grid cells (padding included) a sliding or connectivity picture draws
MAX_PICTURE_CELLS = 40_000


def _check_extent(win: SlidingWindows, what: str, planes: int = 1, frames: int = 0) -> None:
    """Refuse a geometry whose grid (with its padding, on ``planes`` channels), output or
    number of frames is too large to draw."""
    extent = math.prod(max(g + b + a, g, 1) for g, (b, a) in zip(win.grid_shape, win.padding))
    cells = max(extent * planes, math.prod(win.output_shape), frames)
    if cells > MAX_PICTURE_CELLS:
        raise ConvmatError(
            f"{what} would draw {cells:,} cells (grid {win.grid_shape}, padding "
            f"{win.padding}, output {win.output_shape}), more than {MAX_PICTURE_CELLS:,} "
            f"legible ones; draw a smaller geometry or plot_matrix(conv_matrix(...))")


def _check_drawable(ndim: int, what: str, allowed=(1, 2)) -> None:
    if ndim not in allowed:
        names = ", ".join(f"{k}-D" for k in allowed[:-1]) + f" and {allowed[-1]}-D"
        raise ConvmatError(
            f"{what} draws {names} geometries only; this one has {ndim} spatial "
            f"dimensions (the matrix itself works in any dimension: convmat.conv_matrix)")


def _fmt(value) -> str:
    v = value.item() if hasattr(value, "item") else value
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()
                                            and abs(v) < 1e6):
        return str(int(v))
    return f"{v:.3g}"


def _fit(fontsize: float, text: str, share: float = 0.42, room: float = 0.82) -> float:
    """Shrink ``fontsize`` (chosen as ``share`` of a cell) so ``text`` fits in ``room`` of the
    cell's width (digits are about 0.6 em wide; subscripts count less)."""
    visible = re.sub(r"[${}\\]", "", text)
    width = 0.6 * (len(re.sub(r"_.*", "", visible)) + 0.7 * len(re.findall(r"_(.*)", visible)
                                                                 and re.findall(r"_(.*)",
                                                                                visible)[0]))
    capacity = room / share
    return fontsize * min(1.0, capacity / max(width, 1e-9))


def _squares(xs, ys, inset: float = 0.0) -> np.ndarray:
    """Unit squares with lower-left corners ``(xs, ys)`` as polygon vertices (n, 4, 2)."""
    xs = np.asarray(xs, dtype=float).ravel() + inset
    ys = np.asarray(ys, dtype=float).ravel() + inset
    e = 1.0 - 2 * inset
    return np.stack([np.stack([xs, ys], -1), np.stack([xs + e, ys], -1),
                     np.stack([xs + e, ys + e], -1), np.stack([xs, ys + e], -1)], 1)


def _tap_colors(n_taps: int) -> np.ndarray:
    import matplotlib

    if n_taps <= len(TAP_COLORS):  # distinct hues, one per tap
        return np.array([matplotlib.colors.to_rgba(c) for c in TAP_COLORS[:n_taps]])
    # more taps: evenly spaced free hues, alternately dark and light, always saturated
    free = np.array([h for h in np.arange(0.0, 360.0, 1.0)
                     if not any(lo <= h <= hi for lo, hi in RESERVED_HUES)])
    hues = free[np.linspace(0, free.size, n_taps, endpoint=False).astype(int)] / 360.0
    value = np.where(np.arange(n_taps) % 2 == 0, 0.55, 0.85)
    hsv = np.stack([hues, np.full(n_taps, 0.75), value], -1)
    rgb = matplotlib.colors.hsv_to_rgb(hsv)
    return np.concatenate([rgb, np.ones((n_taps, 1))], -1)


def phase_colors(n_phases: int) -> list[str]:
    """Background tints of ``n_phases`` Kong & Lucey phases, all distinct: those of
    :data:`PHASE_COLORS` up to eight; more: the tap hues (:func:`_tap_colors`, free of
    the input/kernel/output hues) mixed with white."""
    if n_phases <= len(PHASE_COLORS):
        return list(PHASE_COLORS[:n_phases])
    import matplotlib

    return [matplotlib.colors.to_hex(c) for c in 0.35 * _tap_colors(n_phases)[:, :3] + 0.65]


def _ink(rgba) -> str:
    """Black or white text, whichever reads on the fill ``rgba``."""
    r, g, b = np.asarray(rgba)[:3]
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "#ffffff"


def _fontsize(fig, ax, xspan: float, yspan: float, share: float = 0.42,
              lo: float = 6.0, hi: float = 13.0) -> float:
    """Font size (points) of a number inside one cell of an equal-aspect axes."""
    box = ax.get_position()
    w_pt = box.width * fig.get_figwidth() * 72
    h_pt = box.height * fig.get_figheight() * 72
    cell = min(w_pt / xspan, h_pt / yspan)
    return float(np.clip(share * cell, lo, hi))


def _new_figure(width: float, height: float):
    width, height = _check_figsize((width, height))
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _add_axes(fig: Any, rect: tuple) -> Any:
    """``fig.add_axes(rect)`` (fractions of the figure) with the width and height kept
    positive: a page too small for a picture's fixed margins gives tiny axes rather than
    matplotlib's error about a negative size."""
    left, bottom, width, height = (float(v) for v in rect)
    return fig.add_axes((left, bottom, max(width, 1e-3), max(height, 1e-3)))


def _bare(ax) -> None:
    ax.set_aspect("equal")
    ax.set_axis_off()


#: the kinds of grid cell: legend label (a key of the label catalogue), face, edge, line
#: style, hatch
CELL_STYLES = {
    "padding": ("padding", COLORS["padding"], COLORS["padding_edge"], "--", None),
    "copy": ("padding_copies", COLORS["padding"], COLORS["input_edge"], "--", None),
    "implicit": ("implicit_padding", COLORS["padding"], COLORS["padding_edge"], "--", None),
    "output-padding": ("output_padding", "#f4f4f4", COLORS["output"], ":", "//"),
    "inserted": ("inserted_zero", COLORS["inserted"], COLORS["padding_edge"], ":", None),
    "input": ("input", COLORS["input"], COLORS["input_edge"], "-", None),
}

#: the words of a picture when none are given (English)
ENGLISH = _labels("en")


def _words(lang, labels, call: str):
    """The label catalogue of a picture call (``lang=``, ``labels=`` checked)."""
    return _labels(lang, labels, call)


def _cell_kinds(win: SlidingWindows, pos) -> dict:
    """``{kind: mask}`` of grid positions ``pos`` (cells, N): padding (for a transposed
    convolution the implicit padding, its last ``output_padding`` positions apart), inserted
    zeros and input entries, in drawing order."""
    pos = np.asarray(pos)
    grid = np.asarray(win.grid_shape)
    outside = np.any((pos < 0) | (pos >= grid), axis=1)
    inserted = ~outside & np.any(pos % np.asarray(win.input_stride) != 0, axis=1)
    kinds = {}
    if win.transposed:
        q = np.asarray(win.output_padding or (0,) * win.ndim)
        after = np.array([a for _, a in win.padding])
        extra = outside & np.any((q > 0) & (pos >= grid + after - q), axis=1)
        kinds["implicit"] = outside & ~extra
        kinds["output-padding"] = extra
    elif getattr(win, "padding_mode", "zeros") != "zeros":  # cells holding input copies
        kinds["copy"] = outside
    else:
        kinds["padding"] = outside
    kinds["inserted"] = inserted
    kinds["input"] = ~outside & ~inserted
    return {k: m for k, m in kinds.items() if m.any()}


def _copy_label(win, source: int, x) -> str:
    """What a padded cell that copies input entry ``source`` shows: the value (with ``x``)
    or the entry's name, ``x₃`` / ``x₁,₂``."""
    if x is not None:
        return _fmt(np.asarray(x).ravel()[source])
    idx = np.unravel_index(source, win.input_shape)
    return "x" + ",".join(map(str, idx))


def _grid_cells(ax, kinds, squares, linewidth=1.0) -> None:
    """One PolyCollection per kind of cell (gid ``grid-<kind>``); ``squares(mask)`` gives
    the polygons of the masked cells."""
    from matplotlib.collections import PolyCollection

    for name, mask in kinds.items():
        _, face, edge, style, hatch = CELL_STYLES[name]
        coll = PolyCollection(squares(mask), facecolors=face, edgecolors=edge,
                              linewidths=linewidth, linestyles=style, zorder=1, hatch=hatch)
        coll.set_gid(f"grid-{name}")
        ax.add_collection(coll)


def _role_label(role: str, words) -> str:
    """The legend text of a role (a kind of cell, ``"kernel"`` or ``"output"``)."""
    return words[CELL_STYLES[role][0] if role in CELL_STYLES else role]


def _min_width(title: str, roles, fontsize: float = 12, words=ENGLISH) -> float:
    """Inches the title's longest line and the legend of ``roles`` need (about 0.55 em a
    character)."""
    line = max(len(part) for part in title.split("\n"))
    legend = sum(len(_role_label(r, words)) + 5 for r in roles)
    return max(line * 0.55 * fontsize, legend * 0.55 * 11) / 72 + 0.4


def _legend(fig, roles, words=ENGLISH, y: float = 0.005) -> None:
    from matplotlib.patches import Patch

    names = {name: (words[label], face, edge) for name, (label, face, edge, _, _) in
             CELL_STYLES.items()}
    names["kernel"] = (words["kernel"], COLORS["kernel_light"], COLORS["kernel"])
    names["output"] = (words["output"], COLORS["output_light"], COLORS["output"])
    handles = [Patch(facecolor=names[r][1], edgecolor=names[r][2], label=names[r][0],
                     linewidth=1.5, hatch=CELL_STYLES.get(r, (None,) * 5)[4]) for r in roles]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=11, bbox_to_anchor=(0.5, y), handlelength=1.2, columnspacing=1.2)


def _describe(sc, stride, padding, dilation, output_padding, words=ENGLISH) -> str:
    """The title of a sliding picture: the geometry as given, channels and groups, and for
    a transposed convolution what is drawn (the stretched input and its implicit padding
    ``d(k-1) - p``)."""
    win = getattr(sc, "win", sc)

    def dims(shape):
        return "×".join(map(str, shape))

    def per(value):
        values = tuple(value)
        return str(values[0]) if len(set(values)) == 1 else dims(values)

    w = words
    if win.transposed:
        parts = [f"{w['transposed']}: {w['input']} {dims(win.input_shape)}",
                 f"{w['kernel']} {dims(win.kernel_shape)}"]
        s = win.input_stride
    else:
        parts = [f"{w['input']} {dims(win.input_shape)}",
                 f"{w['kernel']} {dims(win.kernel_shape)}"]
        s = win.stride
    c_in, c_out = getattr(sc, "c_in", 1), getattr(sc, "c_out", 1)
    if c_in > 1 or c_out > 1:
        parts.append(f"{w['channels']} {c_in}→{c_out}")
    if getattr(sc, "groups", 1) > 1:
        parts.append(f"{w['groups']} {sc.groups}"
                     + (f" ({w['depthwise']})" if sc.groups == c_in else ""))
    if any(v != 1 for v in s):
        parts.append(f"{w['stride']} {per(s)}")
    if win.transposed:
        geom = transposed_geometry(win.input_shape, win.kernel_shape, stride=stride,
                                   padding=padding, output_padding=output_padding,
                                   dilation=dilation)
        pads = geom.padding
    else:
        pads = win.padding
    if any(b or a for b, a in pads):
        if all(b == a for b, a in pads):
            parts.append(f"{w['padding']} {per(b for b, _ in pads)}")
        else:
            parts.append(f"{w['padding']} " + ", ".join(f"{b}:{a}" for b, a in pads))
        if getattr(win, "padding_mode", "zeros") != "zeros":
            parts[-1] += f" ({win.padding_mode})"
    elif win.transposed:
        parts.append(f"{w['padding']} 0")
    if any(v != 1 for v in win.dilation):
        parts.append(f"{w['dilation']} {per(win.dilation)}")
    if win.transposed and np.any(np.asarray(output_padding) != 0):
        parts.append(f"{w['output_padding']} "
                     f"{per(np.broadcast_to(output_padding, (win.ndim,)))}")
    text = ", ".join(parts) + f" → {w['output']} {dims(win.output_shape)}"
    if len(text) > 62:  # two lines rather than a clipped title
        cut = text.rfind(", ", 0, len(text) // 2 + 12)
        text = text[:cut + 1] + "\n" + text[cut + 2:]
    if win.transposed:
        implicit = [b for b, _ in win.padding]
        text += "\n" + fill(w["drawn_stretched"], value=f"d(k−1)−p = {per(implicit)}")
    return text


def _fill_outputs(output, faces, verts, texts, t: int, widths) -> None:
    """Outputs ``0..t`` computed (light), ``t`` the current one (dark, thick edge), their
    values shown (``widths``: edge widths of the done and current cells)."""
    done = faces[:t + 1].copy()
    done[t] = _rgba(COLORS["output"])
    output.set_verts(verts[:t + 1])
    output.set_facecolors(done)
    output.set_linewidths([widths[0]] * t + [widths[1]])
    for k, text in enumerate(texts):
        text.set_visible(k <= t)
        text.set_color("#ffffff" if k == t else COLORS["text"])


def _rgba(color, alpha=None) -> tuple:
    import matplotlib.colors

    return matplotlib.colors.to_rgba(color, alpha)


def _levels(shape: Sequence[int], channels: int = 1) -> tuple[int, ...]:
    """Block sizes of a vector indexed ``(channels, *shape)`` (C order), coarsest first."""
    full = (channels, *shape) if channels > 1 else tuple(shape)
    sizes = {math.prod(full[a + 1:]) for a in range(len(full) - 1)}
    return tuple(sorted((s for s in sizes if s > 1), reverse=True))


def _entries(matrix):
    """(rows, cols, values, shape, symbolic) of the stored entries of a matrix."""
    import scipy.sparse as sp

    if sp.issparse(matrix):
        coo = sp.coo_array(matrix)
        return coo.row, coo.col, coo.data, coo.shape, False
    sympy = sys.modules.get("sympy")  # a sympy matrix exists only if sympy is imported
    if sympy is not None and isinstance(matrix, sympy.MatrixBase):
        shape = tuple(matrix.shape)
        if hasattr(matrix, "todok"):
            dok = matrix.todok()
        else:
            dok = {(i, j): v for i in range(shape[0]) for j in range(shape[1])
                   if (v := matrix[i, j]) != 0}
        items = sorted(dok.items())
        rows = np.array([i for (i, _), _ in items], dtype=int)
        cols = np.array([j for (_, j), _ in items], dtype=int)
        values = [v for _, v in items]
        numeric = all(getattr(v, "is_number", False) for v in values)
        if numeric:
            return rows, cols, np.array([complex(v).real for v in values]), shape, False
        return rows, cols, values, shape, True
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise ConvmatError(f"A.shape={brief(array.shape)}: plot_matrix draws a 2-D matrix")
    if array.dtype.kind not in "biuf":
        raise ConvmatError(f"A has dtype {array.dtype}; give a real numeric, SciPy sparse "
                           f"or sympy matrix")
    rows, cols = np.nonzero(array)
    return rows, cols, array[rows, cols], array.shape, False


def _layout(shape, geometry, permuted=False):
    """Row and column block sizes, and Kong & Lucey column bands, for a matrix of ``shape``."""
    from ..striding import KongLucey

    if geometry is None:
        return (), (), None
    if isinstance(geometry, KongLucey):
        kl = geometry
        g = kl.geometry
        rows = _levels(kl.output_shape, kl.out_channels)
        if shape == g.shape and permuted:
            return rows, (), ([b.shape[1] for b in kl.blocks], kl.phases)
        if shape == g.shape:
            return rows, _levels(kl.padded_shape, kl.in_channels), None
        raise ConvmatError(f"geometry is a Kong & Lucey result for a {g.shape[0]} x "
                           f"{g.shape[1]} matrix; A has shape {shape}")
    if not isinstance(geometry, ConvGeometry):
        raise ConvmatError(f"geometry={brief(geometry)} is not a ConvGeometry (make one with "
                           f"convmat.geometry.convolution_geometry or transposed_geometry) or a "
                           f"Kong & Lucey result")
    g = geometry
    x = _levels(g.input_shape, g.in_channels)
    y = _levels(g.output_shape, g.out_channels)
    if shape == g.shape:
        return y, x, None
    if shape == g.shape[::-1]:
        return x, y, None
    pshape = (g.in_channels * math.prod(g.padded_shape), g.in_channels * math.prod(g.input_shape))
    if shape == pshape:
        return _levels(g.padded_shape, g.in_channels), x, None
    raise ConvmatError(
        f"geometry describes a {g.shape[0]} x {g.shape[1]} matrix (transposed: "
        f"{g.shape[1]} x {g.shape[0]}; padding: {pshape[0]} x {pshape[1]}), not one of "
        f"shape {shape}")
