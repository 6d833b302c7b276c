r"""Pictures of a convolution, drawn from the same geometry as its matrix (matplotlib).

Three pictures, for any 1-D or 2-D geometry:

- **sliding** (:func:`animate_convolution`): the input grid (padding cells drawn distinctly),
  the kernel's footprint sliding over it (dilation gaps and stride visible) and the output
  grid filling cell by cell; with ``x`` and ``weight`` the cells show the numbers. With
  ``transposed=True`` the transposed convolution is drawn as a unit-stride convolution of the
  *stretched* input (``s - 1`` zeros inserted between entries, implicit padding
  ``d(k-1) - b`` before and ``d(k-1) - a + q`` after);
- **matrix equivalence** (:func:`animate_matrix`): the same sliding picture next to
  ``y = A x``; in frame ``t`` row ``t`` of ``A``, the entries of ``x`` under the kernel and
  ``y[t]`` are highlighted together;
- **connectivity** (:func:`plot_connectivity`): the bipartite graph from input to output
  positions, edges coloured by kernel tap (reversed for the transposed convolution).

:func:`plot_matrix` draws any matrix (SciPy sparse, numpy or sympy) with the block rules of
its geometry, :func:`plot_kong_lucey` Kong & Lucey's rearrangement and :func:`save` writes
GIF, MP4, PNG, PDF or SVG. Every picture reads its positions from :func:`sliding_windows`,
which is derived from :mod:`convmat.geometry`; the values come from
:func:`convmat.conv_matrix`, so a picture cannot disagree with the matrix.

An animation has exactly one frame per output position (pace it with ``fps`` in
:func:`save`). Colours (Okabe & Ito's colour-blind-safe palette) mean the same in every
picture: input blue, padding grey, kernel orange, output green; kernel taps are told apart by
the cividis colour map. matplotlib is imported only when a picture is drawn
(``pip install "convmat[plot]"``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import ConvmatError, error_context
from ._validate import as_shape
from .geometry import ConvGeometry, conv_geometry, conv_transpose_geometry

__all__ = [
    "sliding_windows",
    "animate_convolution",
    "animate_matrix",
    "plot_connectivity",
    "plot_matrix",
    "plot_kong_lucey",
    "save",
]

#: the colours of every picture (Okabe & Ito): fill (light) and edge (strong) per role
COLORS = {
    "input": "#cfe7f5", "input_edge": "#0072B2",
    "padding": "#e4e4e4", "padding_edge": "#8c8c8c",
    "inserted": "#ffffff",
    "kernel": "#E69F00", "kernel_light": "#f6d58c",
    "output": "#009E73", "output_light": "#b6e3d4",
    "pending": "#ffffff", "grid": "#505050", "text": "#1a1a1a", "muted": "#8c8c8c",
}
#: background bands of the Kong & Lucey phases (light Okabe & Ito tints)
PHASE_COLORS = ("#cfe7f5", "#fbe3b3", "#c9eadf", "#f3d3e4", "#fbf4b0", "#d9d9d9",
                "#f7cfb8", "#bcd7ea", "#e6d5c3", "#d8ecc4", "#e2d4ee", "#f5e6a8")
TAP_CMAP = "cividis"
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


# ----------------------------------------------------------------------- sliding windows


class Window(NamedTuple):
    """One output position and where its kernel taps land (see :func:`sliding_windows`)."""

    output: tuple[int, ...]
    positions: np.ndarray  # (taps, N): positions in unpadded grid coordinates
    taps: np.ndarray  # (taps,): flat kernel index each position is multiplied by
    sources: np.ndarray  # (taps,): flat input index read, -1 for padding / inserted zeros


@dataclass(frozen=True, eq=False)
class SlidingWindows(Sequence):
    """The kernel's windows of a convolution, one per output position in C order.

    Attributes
    ----------
    grid_shape : tuple of int
        Shape of the grid the kernel slides over, without padding: the input, or for a
        transposed convolution the stretched input ``(i - 1) s + 1``.
    padding : tuple of (int, int)
        ``(before, after)`` around the grid (for a transposed convolution the implicit
        padding ``(d(k-1) - b, d(k-1) - a + q)``; negative values crop).
    stride, dilation : tuple of int
        Of the sliding (stride 1 for a transposed convolution).
    kernel_shape, output_shape, input_shape : tuple of int
        ``input_shape`` is the shape of the vector ``x`` the matrix multiplies.
    input_stride : tuple of int
        Spacing of the input entries in the grid (the transposed convolution's stride; 1).
    transposed : bool
    positions : numpy.ndarray
        ``(n_outputs, n_taps, N)``: tap positions in grid coordinates (outside
        ``[0, grid_shape)`` in the padding).
    taps : numpy.ndarray
        ``(n_taps,)``: the flat kernel index at each tap (reversed when transposed).
    sources : numpy.ndarray
        ``(n_outputs, n_taps)``: the flat index into ``x`` each tap reads, ``-1`` where it
        reads a padding zero or an inserted zero.
    """

    grid_shape: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    input_stride: tuple[int, ...]
    transposed: bool
    positions: np.ndarray
    taps: np.ndarray
    sources: np.ndarray

    @property
    def ndim(self) -> int:
        return len(self.grid_shape)

    def __len__(self) -> int:
        return self.positions.shape[0]

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self[k] for k in range(*t.indices(len(self)))]
        t = int(t)
        if not -len(self) <= t < len(self):
            raise IndexError(f"window {t} out of range({len(self)})")
        t %= len(self)
        output = tuple(int(v) for v in np.unravel_index(t, self.output_shape))
        return Window(output, self.positions[t], self.taps, self.sources[t])

    def row(self, t: int) -> dict[int, int]:
        """``{input index: kernel index}`` of the taps of window ``t`` that read an input entry:
        with zero padding, the stored entries of row ``t`` of the matrix."""
        keep = self.sources[t] >= 0
        return dict(zip(self.sources[t][keep].tolist(), self.taps[keep].tolist()))

    def __repr__(self) -> str:
        kind = "transposed convolution" if self.transposed else "convolution"
        return (f"SlidingWindows({len(self)} windows of a {kind}: grid {self.grid_shape}, "
                f"kernel {self.kernel_shape}, output {self.output_shape})")


def sliding_windows(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride=1,
    padding=0,
    dilation=1,
    transposed: bool = False,
    output_padding=0,
) -> SlidingWindows:
    r"""Where the kernel sits for every output position: the data every picture draws.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        Spatial shapes (any number of dimensions).
    stride, padding, dilation
        As in :func:`convmat.conv_matrix`.
    transposed : bool
        Describe the transposed convolution (:func:`convmat.conv_transpose_matrix`) as a
        unit-stride convolution sliding over the stretched input.
    output_padding : int or sequence of int
        With ``transposed=True``.

    Returns
    -------
    SlidingWindows
        A sequence with one :class:`Window` per output position in C order (the rows of the
        matrix), each with the output position, the tap positions in **unpadded** grid
        coordinates (positions in the padding lie outside ``[0, grid_shape)`` and are
        kept), the kernel index of every tap and the input entry it reads.

    Notes
    -----
    Per dimension, tap :math:`j` of output :math:`t` sits at grid position

    .. math::

        p = t\,s + j\,d - b

    with the resolved padding :math:`(b, a)` of :func:`convmat.geometry.resolve_padding`.
    For the transposed convolution of stride :math:`s` the grid is the stretched input
    (input entry :math:`m` at :math:`p = m s`), the sliding has stride 1, padding
    :math:`b' = d(k-1) - b` and the kernel is reversed: tap :math:`j` reads weight
    :math:`k - 1 - j`. With zero padding, the taps of window ``t`` that read an input entry
    are exactly the stored entries of row ``t`` of the matrix.

    Examples
    --------
    >>> win = sliding_windows((5,), (3,), stride=2, padding=1)
    >>> len(win), win[0].positions.ravel().tolist(), win[0].sources.tolist()
    (3, [-1, 0, 1], [-1, 0, 1])
    >>> win.row(2)                       # row 2 of conv_matrix: columns 3, 4 (taps 0, 1)
    {3: 0, 4: 1}
    >>> t = sliding_windows((2,), (3,), stride=2, transposed=True)
    >>> t.grid_shape, t.padding, t[0].positions.ravel().tolist(), t[0].taps.tolist()
    ((3,), ((2, 2),), [-2, -1, 0], [2, 1, 0])
    """
    with error_context("sliding_windows", input_shape=input_shape, kernel_shape=kernel_shape):
        return _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
                        output_padding)


def _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
             output_padding) -> SlidingWindows:
    kshape = as_shape(kernel_shape, "kernel_shape")
    ishape = as_shape(input_shape, "input_shape")
    if len(kshape) != len(ishape):
        raise ConvmatError(f"kernel_shape={kshape!r} has {len(kshape)} dimensions but "
                           f"input_shape={ishape!r} has {len(ishape)}")
    n = len(ishape)
    if transposed:
        geom = conv_transpose_geometry(kshape, ishape, stride=stride, padding=padding,
                                       output_padding=output_padding, dilation=dilation)
        s, d = geom.stride, geom.dilation
        grid = tuple((i - 1) * si + 1 for i, si in zip(ishape, s))
        out = geom.input_shape  # the forward convolution's input is the transposed output
        pads = []
        for k, di, (b, _), g, o in zip(kshape, d, geom.padding, grid, out):
            before = di * (k - 1) - b
            pads.append((before, o + di * (k - 1) - g - before))
        slide, spacing = (1,) * n, s
    else:
        if output_padding not in (0, None) and np.any(np.asarray(output_padding) != 0):
            raise ConvmatError(f"output_padding={output_padding!r} applies to "
                               f"transposed=True only")
        geom = conv_geometry(kshape, ishape, stride=stride, padding=padding, dilation=dilation)
        grid, out, pads = ishape, geom.output_shape, list(geom.padding)
        slide, spacing, d = geom.stride, (1,) * n, geom.dilation
    tap_index = np.indices(kshape).reshape(n, -1).T  # (taps, N), C order
    out_index = np.indices(out).reshape(n, -1).T  # (outputs, N)
    start = out_index * np.asarray(slide) - np.asarray([b for b, _ in pads])
    positions = start[:, None, :] + tap_index[None, :, :] * np.asarray(d)
    taps = np.arange(tap_index.shape[0])
    if transposed:
        taps = taps[::-1].copy()  # reversed kernel: tap j reads weight k-1-j in every dim
    # which input entry each tap reads
    sp_ = np.asarray(spacing)
    q, r = np.divmod(positions, sp_)
    inside = np.all((positions >= 0) & (positions < np.asarray(grid)) & (r == 0), axis=-1)
    flat = np.zeros(positions.shape[:2], dtype=np.int64)
    for axis, size in enumerate(ishape):
        flat = flat * size + np.clip(q[..., axis], 0, size - 1)
    sources = np.where(inside, flat, -1)
    return SlidingWindows(tuple(grid), tuple((int(b), int(a)) for b, a in pads),
                          tuple(slide), tuple(d), kshape, tuple(out), ishape, tuple(spacing),
                          bool(transposed), positions, taps, sources)


# ----------------------------------------------------------------------------- helpers


def _check_drawable(ndim: int, what: str) -> None:
    if ndim not in (1, 2):
        raise ConvmatError(
            f"{what} draws 1-D and 2-D geometries only; this one has {ndim} spatial "
            f"dimensions (the matrix itself works in any dimension: convmat.conv_matrix)")


def _weight_and_x(weight, x, kshape, ishape, transposed):
    """The kernel as an array of ``kshape`` (or None) and ``x`` of ``ishape`` (or None)."""
    from ._validate import as_weight

    n = len(kshape)
    if weight is not None:
        w = as_weight(weight)
        if w.ndim == n + 2 and w.shape[:2] == (1, 1):
            w = w[0, 0]
        if w.ndim != n:
            raise ConvmatError(
                f"weight.shape={w.shape!r}: the pictures show one input and one output "
                f"channel; give the bare kernel of shape {kshape!r} (or (1, 1, *kernel))")
        if w.shape != tuple(kshape):
            raise ConvmatError(f"weight.shape={w.shape!r} does not match "
                               f"kernel_shape={tuple(kshape)!r}")
        weight = w
    if x is not None:
        from ._validate import as_array

        xa = as_array(x, "x")
        if xa.shape != tuple(ishape):
            if xa.size == math.prod(ishape) and xa.ndim in (1, n + 1):
                xa = xa.reshape(ishape)
            else:
                raise ConvmatError(f"x.shape={xa.shape!r} must be input_shape="
                                   f"{tuple(ishape)!r} (one channel)")
        if xa.dtype.kind not in "biuf":
            raise ConvmatError(f"x has dtype {xa.dtype}; the pictures show real numbers")
        x = xa
    return weight, x


def _matrix(win: SlidingWindows, weight, *, stride, padding, dilation, output_padding):
    """The matrix of the picture (taps numbered 1, 2, ... when no weight is given)."""
    from .sparse import conv_matrix, conv_transpose_matrix

    w = weight if weight is not None else np.arange(1, math.prod(win.kernel_shape) + 1
                                                    ).reshape(win.kernel_shape)
    if win.transposed:
        return conv_transpose_matrix(w, win.input_shape, stride=stride, padding=padding,
                                     dilation=dilation, output_padding=output_padding)
    return conv_matrix(w, win.input_shape, stride=stride, padding=padding, dilation=dilation)


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

    cmap = matplotlib.colormaps[TAP_CMAP]
    return cmap(np.linspace(0.0, 0.92, n_taps)) if n_taps > 1 else cmap([0.45])


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
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _bare(ax) -> None:
    ax.set_aspect("equal")
    ax.set_axis_off()


def _legend(fig, roles, y: float = 0.005) -> None:
    from matplotlib.patches import Patch

    names = {"input": ("input", COLORS["input"], COLORS["input_edge"]),
             "padding": ("padding", COLORS["padding"], COLORS["padding_edge"]),
             "inserted": ("inserted zero", COLORS["inserted"], COLORS["padding_edge"]),
             "kernel": ("kernel", COLORS["kernel_light"], COLORS["kernel"]),
             "output": ("output", COLORS["output_light"], COLORS["output"])}
    handles = [Patch(facecolor=names[r][1], edgecolor=names[r][2], label=names[r][0],
                     linewidth=1.5) for r in roles]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=11, bbox_to_anchor=(0.5, y), handlelength=1.2, columnspacing=1.2)


def _describe(win: SlidingWindows, stride, padding, dilation, output_padding) -> str:
    def dims(shape):
        return "×".join(map(str, shape))

    def per(value):
        values = tuple(value)
        return str(values[0]) if len(set(values)) == 1 else dims(values)

    if win.transposed:
        parts = [f"transposed: input {dims(win.input_shape)}",
                 f"kernel {dims(win.kernel_shape)}"]
        s = win.input_stride
    else:
        parts = [f"input {dims(win.input_shape)}", f"kernel {dims(win.kernel_shape)}"]
        s = win.stride
    if any(v != 1 for v in s):
        parts.append(f"stride {per(s)}")
    if win.transposed:
        geom = conv_transpose_geometry(win.kernel_shape, win.input_shape, stride=stride,
                                       padding=padding, output_padding=output_padding,
                                       dilation=dilation)
        pads = geom.padding
    else:
        pads = win.padding
    if any(b or a for b, a in pads):
        if all(b == a for b, a in pads):
            parts.append(f"padding {per(b for b, _ in pads)}")
        else:
            parts.append("padding " + ", ".join(f"{b}:{a}" for b, a in pads))
    if any(v != 1 for v in win.dilation):
        parts.append(f"dilation {per(win.dilation)}")
    if win.transposed and np.any(np.asarray(output_padding) != 0):
        parts.append(f"output padding {per(np.broadcast_to(output_padding, (win.ndim,)))}")
    text = ", ".join(parts) + f" → output {dims(win.output_shape)}"
    if len(text) > 62:  # two lines rather than a clipped title
        cut = text.rfind(", ", 0, len(text) // 2 + 12)
        text = text[:cut + 1] + "\n" + text[cut + 2:]
    return text


# ------------------------------------------------------------------------ sliding panel


class _Sliding:
    """The grid, the sliding kernel and the output grid in one axes; ``update(t)`` moves
    the kernel to window ``t`` (artists are created once and only changed per frame)."""

    def __init__(self, fig, ax, win: SlidingWindows, weight, x, y, *, tap_fill: bool,
                 tap_colors=None):
        from matplotlib import patheffects
        from matplotlib.collections import PolyCollection

        self.win, self.ax = win, ax
        n = win.ndim
        grid = win.grid_shape if n == 2 else (1, win.grid_shape[0])
        pads = win.padding if n == 2 else ((0, 0), win.padding[0])
        out = win.output_shape if n == 2 else (1, win.output_shape[0])
        self.lo = np.array([-b for b, _ in pads])  # first drawn grid position per dim
        hi = np.array([g + a for g, (_, a) in zip(grid, pads)])
        extent = hi - self.lo
        # output placement: right of the grid (2-D) or below it (1-D)
        if n == 2:
            self.out0 = np.array([(extent[0] - out[0]) / 2.0, extent[1] + 1.6])
            span = (max(extent[0], out[0]), extent[1] + 1.6 + out[1])
        else:
            self.out0 = np.array([extent[0] + 1.4, (extent[1] - out[1]) / 2.0])
            span = (extent[0] + 1.4 + out[0], max(extent[1], out[1]))
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
        outside = (rr < 0) | (rr >= grid[0]) | (cc < 0) | (cc >= grid[1])
        inserted = ~outside & ((rr % spacing[0] != 0) | (cc % spacing[1] != 0))
        real = ~outside & ~inserted
        styles = {
            "padding": (outside, COLORS["padding"], COLORS["padding_edge"], "--"),
            "inserted": (inserted, COLORS["inserted"], COLORS["padding_edge"], ":"),
            "input": (real, COLORS["input"], COLORS["input_edge"], "-"),
        }
        self.roles = []
        for name, (mask, face, edge, style) in styles.items():
            if not mask.any():
                continue
            self.roles.append(name)
            coll = PolyCollection(_squares(cc[mask] - self.lo[1], rr[mask] - self.lo[0]),
                                  facecolors=face, edgecolors=edge, linewidths=1.0,
                                  linestyles=style, zorder=1)
            coll.set_gid(f"grid-{name}")
            ax.add_collection(coll)
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
        if y is not None:
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
            ax.add_collection(self.swatches)
        self.weight_texts = []
        if weight is not None:
            wflat = np.asarray(weight).ravel()
            small = max(fs * 0.7, 7)
            fs_w = min(_fit(small, "×" + _fmt(v), small / fs * 0.42, 0.9) for v in wflat)
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
        if self.swatches is not None:
            size = 0.26
            sq = _squares(corners[:, 0] + 0.07, corners[:, 1] + 0.07)
            sq = corners[:, None, :] + 0.07 + (sq - corners[:, None, :] - 0.07) * size
            self.swatches.set_verts(sq)
        for text, (cx, cy) in zip(self.weight_texts, corners):
            text.set_position((cx + 0.95, cy + 0.97))
        self.covered = [self.input_texts[key] for key in
                        map(tuple, corners.astype(int).tolist()) if key in self.input_texts]
        faces = self.out_faces[:t + 1].copy()
        faces[t] = _rgba(COLORS["output"])
        self.output.set_verts(self.out_verts[:t + 1])
        self.output.set_facecolors(faces)
        self.output.set_linewidths([1.0] * t + [2.4])
        for k, text in enumerate(self.out_texts):
            text.set_visible(k <= t)
            text.set_color("#ffffff" if k == t else COLORS["text"])
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


def _rgba(color) -> tuple:
    import matplotlib.colors

    return matplotlib.colors.to_rgba(color)


def _prepare(what, input_shape, kernel_shape, stride, padding, dilation, transposed,
             output_padding, x, weight):
    win = _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
                   output_padding)
    _check_drawable(win.ndim, what)
    weight, x = _weight_and_x(weight, x, win.kernel_shape, win.input_shape, transposed)
    _mpl()
    return win, weight, x


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
    anim.artists = artists
    anim.n_frames = n_frames
    anim.animated_artists = animated
    anim.frame_artists = frame_artists
    return anim


def animate_convolution(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride=1,
    padding=0,
    dilation=1,
    transposed: bool = False,
    output_padding=0,
    x=None,
    weight=None,
):
    r"""Animate a convolution: the kernel sliding over the input, the output filling up.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        1-D or 2-D spatial shapes (one input and one output channel).
    stride, padding, dilation
        As in :func:`convmat.conv_matrix`.
    transposed : bool
        Draw the transposed convolution as a unit-stride convolution sliding over the
        stretched input (inserted zeros and implicit padding drawn distinctly).
    output_padding : int or sequence of int
        With ``transposed=True``.
    x : array_like, optional
        Input values (shape ``input_shape``), printed in the cells.
    weight : array_like, optional
        Kernel values (shape ``kernel_shape``), printed at the kernel's taps; with ``x`` as
        well, each output cell shows its value as it is computed.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        One frame per output position (C order). Extra attributes: ``show_frame(t)`` draws
        frame ``t``; ``artists`` names the updated artists; ``n_frames``.

    Notes
    -----
    Frame :math:`t` shows window ``sliding_windows(...)[t]``; the output values are
    ``conv_matrix(weight, input_shape, ...) @ x.ravel()`` (or the transposed matrix).

    Examples
    --------
    >>> anim = animate_convolution((5, 5), (3, 3), stride=2, padding=1)
    >>> anim.n_frames
    9
    """
    with error_context("animate_convolution", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        win, weight, x = _prepare("animate_convolution", input_shape, kernel_shape, stride,
                                  padding, dilation, transposed, output_padding, x, weight)
        y = None
        if x is not None and weight is not None:
            a = _matrix(win, weight, stride=stride, padding=padding, dilation=dilation,
                        output_padding=output_padding)
            y = a @ x.ravel()
        extent = _panel_span(win)
        cell = float(np.clip(6.2 / extent[1], 0.28, 0.62))
        cell = min(cell, 9.4 / extent[1], 6.5 / extent[0])  # large grids: at most 10 x 8 in
        width = max(extent[1] * cell + 0.4, 4.8)
        title = _describe(win, stride, padding, dilation, output_padding)
        extra = 0.25 * title.count("\n")
        width = max(width, 5.6) if extra else width
        height = extent[0] * cell + 1.25 + extra
        fig = _new_figure(width, height)
        ax = fig.add_axes((0.02, 0.6 / height, 0.96, 1 - (1.1 + extra) / height))
        panel = _Sliding(fig, ax, win, weight, x, y, tap_fill=False)
        fig.text(0.5, 1 - 0.12 / height, title, ha="center", va="top", fontsize=12,
                 color=COLORS["text"])
        _legend(fig, [*panel.roles, "kernel", "output"])
        return _animation(fig, panel.update, len(win),
                          {"kernel": panel.kernel, "output": panel.output}, panel.animated,
                          panel.frame_artists)


def _panel_span(win: SlidingWindows) -> tuple[float, float]:
    """(height, width) in cells of the sliding panel."""
    n = win.ndim
    grid = win.grid_shape if n == 2 else (1, win.grid_shape[0])
    pads = win.padding if n == 2 else ((0, 0), win.padding[0])
    out = win.output_shape if n == 2 else (1, win.output_shape[0])
    extent = [g + b + a for g, (b, a) in zip(grid, pads)]
    if n == 2:
        return max(extent[0], out[0]) + 0.3, extent[1] + 1.6 + out[1] + 0.3
    return extent[0] + 1.4 + out[0] + 0.3, max(extent[1], out[1]) + 0.3


def animate_matrix(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride=1,
    padding=0,
    dilation=1,
    transposed: bool = False,
    output_padding=0,
    x=None,
    weight=None,
):
    r"""Animate the matrix equivalence: the sliding kernel next to ``y = A x``.

    In frame ``t`` the kernel sits on window ``t``; row ``t`` of ``A`` (its cells coloured by
    kernel tap), the entries of ``x`` under the kernel and ``y[t]`` are highlighted together,
    in the flattening order of :func:`convmat.conv_matrix` (C order).

    Parameters
    ----------
    input_shape, kernel_shape, stride, padding, dilation, transposed, output_padding, x, weight
        As in :func:`animate_convolution`.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        One frame per output position, with ``show_frame(t)``, ``artists`` (``"row"``: the
        highlighted cells of ``A``; ``"x"``: the highlighted entries of ``x``; ``"y"``: the
        computed entries of ``y``, the current one last; ``"x-cells"``, ``"y-cells"``: all
        the vectors' cells) and ``n_frames``.

    Notes
    -----
    ``A = conv_matrix(weight, input_shape, ...)`` (``conv_transpose_matrix`` when
    ``transposed``); without ``weight`` the taps are numbered ``1, 2, ...`` so each entry
    shows which tap it is: :math:`A[t, p] = w[j]` where tap :math:`j` of window :math:`t`
    reads input entry :math:`p`.

    Examples
    --------
    >>> anim = animate_matrix((4, 4), (3, 3))
    >>> anim.n_frames, anim.artists["row"].get_gid()
    (4, 'matrix-row')
    """
    with error_context("animate_matrix", input_shape=input_shape, kernel_shape=kernel_shape):
        win, weight, x = _prepare("animate_matrix", input_shape, kernel_shape, stride,
                                  padding, dilation, transposed, output_padding, x, weight)
        a = _matrix(win, weight, stride=stride, padding=padding, dilation=dilation,
                    output_padding=output_padding)
        y = a @ x.ravel() if x is not None else None
        return _matrix_animation(win, a, weight, x, y,
                                 _describe(win, stride, padding, dilation, output_padding))


def _matrix_animation(win, a, weight, x, y, title):
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    import scipy.sparse as sp

    m, n = a.shape
    coo = sp.coo_array(a)
    # the tap of every stored entry, from the windows (the engine's geometry)
    tap_of = {}
    for t in range(m):
        for col, tap in win.row(t).items():
            tap_of[(t, col)] = tap
    n_taps = win.taps.size
    colors = _tap_colors(n_taps)
    taps = np.array([tap_of.get((int(r), int(c)), 0) for r, c in zip(coo.row, coo.col)],
                    dtype=int)
    panel_h, panel_w = _panel_span(win)
    # matrix panel: y column left of A, x as a row above it
    mat_w, mat_h = n + 2.7, m + 4.4
    content_w = 9.0  # inches for both panels
    extra = 0.25 * title.count("\n")
    if mat_w > 2.2 * panel_w:
        # a wide matrix: the sliding picture above it, the matrix across the full width
        sm = min(content_w / mat_w, 0.42)
        sp_ = min(content_w / panel_w, 2.7 / panel_h, 0.42)
        hm, hp = mat_h * sm, panel_h * sp_
        width, height = content_w + 0.4, hm + hp + 0.25 + 1.3 + extra
        fig = _new_figure(width, height)
        bottom = 0.6 / height
        ax_m = fig.add_axes((0.2 / width, bottom, content_w / width, hm / height))
        ax_s = fig.add_axes((0.2 / width, bottom + (hm + 0.25) / height, content_w / width,
                             hp / height))
    else:
        share = float(np.clip(mat_w / (mat_w + 1.6 * panel_w), 0.45, 0.72))
        wm, wp = content_w * share, content_w * (1 - share)
        sm = min(wm / mat_w, 5.2 / mat_h)
        sp_ = min(wp / panel_w, 5.2 / panel_h, 0.6)
        content_h = max(mat_h * sm, panel_h * sp_, 2.4)
        width, height = content_w + 0.6, content_h + 1.35 + extra
        fig = _new_figure(width, height)
        bottom, top = 0.62 / height, 1 - (0.55 + extra) / height
        ax_s = fig.add_axes((0.2 / width, bottom, wp / width, top - bottom))
        ax_m = fig.add_axes((0.4 / width + wp / width, bottom, wm / width, top - bottom))
    panel = _Sliding(fig, ax_s, win, weight, x, y, tap_fill=True, tap_colors=colors)
    # matrix axes: columns 0..n-1 at x = 1.6 + c; rows at y = 1.8 + r
    x0, y0 = 2.6, 2.8  # room for the labels and the vectors
    ax_m.set_xlim(-0.1, x0 + n + 0.1)
    ax_m.set_ylim(y0 + m + 1.6, -0.1)
    _bare(ax_m)
    fs = _fontsize(fig, ax_m, x0 + n + 0.2, y0 + m + 1.7)
    cells = PolyCollection(_squares(coo.col + x0, coo.row + y0), facecolors=colors[taps],
                           edgecolors="none", zorder=2)
    ax_m.add_collection(cells)
    frame = Rectangle((x0, y0), n, m, fill=False, edgecolor=COLORS["grid"], linewidth=1.0,
                      zorder=3)
    ax_m.add_patch(frame)
    _block_rules(ax_m, x0, y0, m, n, _levels(win.output_shape), _levels(win.input_shape))
    if fs >= 5.5 and m * n <= 900:
        values = coo.data
        fs_a = min([_fit(fs * 0.9, _fmt(v), 0.38) for v in values] or [fs])
        for r, c, v, tap in zip(coo.row, coo.col, values, taps):
            label = _fmt(v)
            ax_m.text(c + x0 + 0.5, r + y0 + 0.5, label, ha="center", va="center",
                      fontsize=fs_a, color=_ink(colors[tap]), zorder=4)
    # x as a row above A, y as a column left of it
    xv = PolyCollection(_squares(np.arange(n) + x0, np.zeros(n) + 1.6),
                        facecolors=COLORS["input"], edgecolors=COLORS["input_edge"],
                        linewidths=0.8, zorder=2)
    xv.set_gid("x-cells")
    ax_m.add_collection(xv)
    yv = PolyCollection(_squares(np.zeros(m) + 1.4, np.arange(m) + y0),
                        facecolors=COLORS["pending"], edgecolors=COLORS["grid"],
                        linewidths=0.8, zorder=2)
    yv.set_gid("y-cells")
    ax_m.add_collection(yv)
    label = dict(fontsize=13, color=COLORS["text"], ha="center", va="center")
    ax_m.text(x0 + n / 2, 0.75, "$x$ (input, flattened)", **label)
    ax_m.text(0.6, y0 + m / 2, "$y$", **label)
    ax_m.text(x0 + n / 2, y0 + m + 0.85, f"$A$: {m} × {n}   ($y = A\\,x$)", **label)
    # the highlighted entries of x and the computed entries of y: overlays on the vectors
    x_lit = PolyCollection(_squares([x0], [1.6]), facecolors=COLORS["kernel"],
                           edgecolors=COLORS["input_edge"], linewidths=0.8, zorder=2.5)
    x_lit.set_gid("x")
    ax_m.add_collection(x_lit)
    y_done = PolyCollection(_squares([1.4], [y0]), edgecolors=COLORS["grid"], linewidths=0.8,
                            zorder=2.5)
    y_done.set_gid("y")
    ax_m.add_collection(y_done)
    x_texts = []
    if fs >= 5.5 and n <= 40 and x is not None:
        fs_xv = min(_fit(fs * 0.9, _fmt(v), 0.38) for v in np.asarray(x).ravel())
        for c, v in enumerate(np.asarray(x).ravel()):
            label = _fmt(v)
            x_texts.append(ax_m.text(c + x0 + 0.5, 2.1, label, ha="center", va="center",
                                     fontsize=fs_xv, color=COLORS["text"], zorder=4))
    y_texts = []
    if fs >= 5.5 and y is not None:
        fs_yv = min(_fit(fs * 0.9, _fmt(v), 0.38) for v in np.asarray(y).ravel())
        for r, v in enumerate(np.asarray(y).ravel()):
            label = _fmt(v)
            y_texts.append(ax_m.text(1.9, r + y0 + 0.5, label, ha="center", va="center",
                                     fontsize=fs_yv, color=COLORS["text"], zorder=4,
                                     visible=False))
    row_box = Rectangle((x0, y0), n, 1, fill=False, edgecolor=COLORS["kernel"],
                        linewidth=1.6, zorder=5)
    ax_m.add_patch(row_box)
    row_cells = PolyCollection(_squares([0], [0]), facecolors="none",
                               edgecolors=COLORS["kernel"], linewidths=2.4, zorder=6)
    row_cells.set_gid("matrix-row")
    ax_m.add_collection(row_cells)
    csr = sp.csr_array(a)
    y_faces = np.tile(_rgba(COLORS["output_light"]), (m, 1))
    y_verts = _squares(np.zeros(m) + 1.4, np.arange(m) + y0)
    covered: list = []
    fig.text(0.5, 1 - 0.1 / height, title, ha="center", va="top", fontsize=12,
             color=COLORS["text"])
    _legend(fig, [*panel.roles, "kernel", "output"])

    def update(t: int) -> None:
        panel.update(t)
        cols = csr.indices[csr.indptr[t]:csr.indptr[t + 1]]
        row_cells.set_verts(_squares(cols + x0, np.full(cols.size, t + y0)))
        row_box.set_y(t + y0)
        x_lit.set_verts(_squares(cols + x0, np.full(cols.size, 1.6)))
        covered[:] = [x_texts[c] for c in cols] if x_texts else []
        yf = y_faces[:t + 1].copy()
        yf[t] = _rgba(COLORS["output"])
        y_done.set_verts(y_verts[:t + 1])
        y_done.set_facecolors(yf)
        for k, text in enumerate(y_texts):
            text.set_visible(k <= t)
            text.set_color("#ffffff" if k == t else COLORS["text"])

    animated = [*panel.animated, row_box, row_cells, x_lit, y_done, *y_texts]

    def frame_artists() -> list:
        return panel.frame_artists() + [row_box, row_cells, x_lit, y_done] + covered + [
            text for text in y_texts if text.get_visible()]

    return _animation(fig, update, len(win),
                      {"kernel": panel.kernel, "output": panel.output, "row": row_cells,
                       "x": x_lit, "y": y_done, "x-cells": xv, "y-cells": yv}, animated,
                      frame_artists)


def _levels(shape: Sequence[int], channels: int = 1) -> tuple[int, ...]:
    """Block sizes of a vector indexed ``(channels, *shape)`` (C order), coarsest first."""
    full = (channels, *shape) if channels > 1 else tuple(shape)
    sizes = {math.prod(full[a + 1:]) for a in range(len(full) - 1)}
    return tuple(sorted((s for s in sizes if s > 1), reverse=True))


def _block_rules(ax, x0, y0, m, n, row_levels, col_levels) -> None:
    """Rules after every block (the coarsest drawn thicker when there are finer levels)."""
    from matplotlib.collections import LineCollection

    for levels, along in ((row_levels, "rows"), (col_levels, "cols")):
        total = m if along == "rows" else n
        for rank, size in enumerate(levels):
            cuts = np.arange(size, total, size)
            if rank == 0 and len(levels) > 1:
                width = 2.2
            else:
                width = 1.0
                if rank > 0:  # finer level: skip cuts already drawn
                    cuts = cuts[cuts % levels[0] != 0]
            if along == "rows":
                segs = [((x0, y0 + c), (x0 + n, y0 + c)) for c in cuts]
            else:
                segs = [((x0 + c, y0), (x0 + c, y0 + m)) for c in cuts]
            if segs:
                ax.add_collection(LineCollection(segs, colors=COLORS["grid"],
                                                 linewidths=width, zorder=3))


# ---------------------------------------------------------------------------- connectivity


def plot_connectivity(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride=1,
    padding=0,
    dilation=1,
    transposed: bool = False,
    output_padding=0,
    ax=None,
):
    r"""The filter's connectivity: a bipartite graph from input to output positions.

    An edge joins output position ``t`` to input position ``p`` when ``A[t, p]`` is stored,
    coloured by the kernel tap it carries. 1-D: two rows of nodes; 2-D: the input and
    output grids as two planes. With ``transposed=True``, the transposed convolution: the
    same edges reversed (its inputs are the convolution's outputs), so it reproduces the
    connectivity, not the values.

    Parameters
    ----------
    input_shape, kernel_shape, stride, padding, dilation, transposed, output_padding
        As in :func:`animate_convolution`.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (else a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        Its artists carry gids ``"edges"`` (a LineCollection), ``"input-nodes"`` and
        ``"output-nodes"`` (flat C order) and ``"padding-nodes"``.

    Notes
    -----
    Output node ``t`` is drawn above the centre of its window, :math:`t s - b +
    d(k-1)/2` per dim, so each edge fans out to the taps. The edge set is the sparsity
    pattern of ``conv_matrix`` (of ``conv_transpose_matrix`` when ``transposed``).

    Examples
    --------
    >>> fig = plot_connectivity((5,), (3,), stride=2, padding=1)
    >>> [c.get_gid() for c in fig.axes[0].collections if c.get_gid() == "edges"]
    ['edges']
    """
    with error_context("plot_connectivity", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        if transposed:
            # the forward convolution whose transpose this is, drawn upside down
            tgeom = conv_transpose_geometry(
                as_shape(kernel_shape, "kernel_shape"), as_shape(input_shape, "input_shape"),
                stride=stride, padding=padding, output_padding=output_padding,
                dilation=dilation)
            win = _windows(tgeom.input_shape, tgeom.kernel_shape, tgeom.stride,
                           tgeom.padding, tgeom.dilation, False, 0)
            rows = math.prod(tgeom.output_shape)
            keep = np.arange(rows)  # restriction to the first `input_shape` positions
            if tgeom.output_shape != win.output_shape:
                idx = np.indices(tgeom.output_shape).reshape(win.ndim, -1)
                keep = np.ravel_multi_index(tuple(idx), win.output_shape)
        else:
            win = _windows(input_shape, kernel_shape, stride, padding, dilation, False,
                           output_padding)
            keep = np.arange(len(win))
        _check_drawable(win.ndim, "plot_connectivity")
        _mpl()
        return _connectivity(win, keep, transposed, ax, stride, padding, dilation,
                             output_padding, input_shape)


def _connectivity(win, keep, transposed, ax, stride, padding, dilation, output_padding,
                  input_shape):
    from matplotlib.collections import LineCollection, PolyCollection

    n = win.ndim
    colors = _tap_colors(win.taps.size)
    lo = np.array([-b for b, _ in win.padding])
    hi = np.array([g + a for g, (_, a) in zip(win.grid_shape, win.padding)])
    # grid positions (N-vectors) of the forward input, incl. padding
    grid = np.indices(tuple(hi - lo)).reshape(n, -1).T + lo
    real = np.all((grid >= 0) & (grid < np.asarray(win.grid_shape)), axis=1)
    d, k = np.asarray(win.dilation), np.asarray(win.kernel_shape)
    centres = win.positions[keep, 0, :] + d * (k - 1) / 2.0  # (outputs, N)
    height = 2.4 if n == 1 else 0.4 * float(hi[0] - lo[0]) + 2.6

    def screen(points, level):
        """(N-vectors, plane) -> (X, Y); plane 0 below, 1 above (swapped if transposed)."""
        points = np.asarray(points, dtype=float)
        up = level if not transposed else 1 - level
        if n == 1:
            return np.stack([points[:, 0], np.full(len(points), up * height)], -1)
        r, c = points[:, 0], points[:, 1]
        return np.stack([c + 0.6 * r, up * height - 0.38 * r], -1)

    own_fig = ax is None
    if own_fig:
        span_x = float(hi[-1] - lo[-1]) + 3.4 + (0.6 * float(hi[0] - lo[0]) if n == 2 else 0)
        span_y = height + 1.4 + (0.38 * float(hi[0] - lo[0]) if n == 2 else 0)
        scale = float(np.clip(7.0 / max(span_x, 1), 0.25, 0.8))
        fig = _new_figure(max(span_x * scale + 1.0, 5.5), span_y * scale + 1.7)
        ax = fig.add_axes((0.03, 0.55 / fig.get_figheight(), 0.94,
                           1 - 1.05 / fig.get_figheight()))
    else:
        fig = ax.figure
    _bare(ax)
    # planes (2-D): parallelograms under the nodes
    if n == 2:
        for level, (a0, a1), color in (
                (0, (lo, hi - 1), COLORS["input"]),
                (1, (centres.min(0), centres.max(0)), COLORS["output_light"])):
            pad = 0.5
            corners = np.array([[a0[0] - pad, a0[1] - pad], [a0[0] - pad, a1[1] + pad],
                                [a1[0] + pad, a1[1] + pad], [a1[0] + pad, a0[1] - pad]])
            ax.add_collection(PolyCollection([screen(corners, level)], facecolors=color,
                                             edgecolors="none", alpha=0.45, zorder=0))
    # edges from the windows: output t -> input entry read by tap j
    sources = win.sources[keep]
    t_idx, j_idx = np.nonzero(sources >= 0)
    inputs = grid[real]  # C order of the real positions = flat input index order
    out_xy = screen(centres, 1)
    in_xy = screen(inputs, 0)
    segs = np.stack([in_xy[sources[t_idx, j_idx]], out_xy[t_idx]], 1)
    edges = LineCollection(segs, colors=colors[win.taps[j_idx]], linewidths=1.8 if n == 1
                           else 1.2, alpha=0.8, zorder=1)
    edges.set_gid("edges")
    ax.add_collection(edges)
    size = 90 if n == 1 else 40
    pad_nodes = ax.scatter(*screen(grid[~real], 0).T, s=size, facecolors=COLORS["padding"],
                           edgecolors=COLORS["padding_edge"], linestyles="--", zorder=2)
    pad_nodes.set_gid("padding-nodes")
    in_role = ("input-nodes", "output-nodes")
    in_nodes = ax.scatter(*in_xy.T, s=size, facecolors=COLORS["input"],
                          edgecolors=COLORS["input_edge"], linewidths=1.4, zorder=3)
    out_nodes = ax.scatter(*out_xy.T, s=size, facecolors=COLORS["output_light"],
                           edgecolors=COLORS["output"], linewidths=1.4, zorder=3)
    # transposed: the forward outputs are the inputs and vice versa
    in_nodes.set_gid(in_role[1] if transposed else in_role[0])
    out_nodes.set_gid(in_role[0] if transposed else in_role[1])
    if transposed:  # the transposed convolution's input has the forward output's colours
        in_nodes.set_facecolors(COLORS["output_light"])
        in_nodes.set_edgecolors(COLORS["output"])
        out_nodes.set_facecolors(COLORS["input"])
        out_nodes.set_edgecolors(COLORS["input_edge"])
    every = np.concatenate([in_xy, out_xy, screen(grid, 0)])
    (x_lo, y_lo), (x_hi, y_hi) = every.min(0), every.max(0)
    ax.set_xlim(x_lo - 2.6, x_hi + 0.8)
    ax.set_ylim(y_lo - 0.7, y_hi + 0.7)
    label = dict(fontsize=12, color=COLORS["text"], ha="right", va="center")
    # the forward input's plane is the transposed convolution's output, and vice versa
    ax.text(x_lo - 0.6, screen(lo[None].astype(float), 0)[0, 1],
            "output" if transposed else "input", **label)
    ax.text(x_lo - 0.6, screen(centres[:1], 1)[0, 1],
            "input" if transposed else "output", **label)
    if own_fig:
        if transposed:
            title = ("transposed convolution: the same connections, reversed — input "
                     + "×".join(map(str, as_shape(input_shape))) + " → output "
                     + "×".join(map(str, win.grid_shape)))
        else:
            title = _describe(win, stride, padding, dilation, output_padding)
        fig.text(0.5, 1 - 0.1 / fig.get_figheight(), title, ha="center", va="top",
                 fontsize=11.5, color=COLORS["text"], wrap=True)
        _tap_key(fig, win, colors)
    return fig


def _tap_key(fig, win, colors) -> None:
    """A small legend: the kernel's taps in their colours."""
    from matplotlib.patches import Patch

    names = [",".join(map(str, np.unravel_index(j, win.kernel_shape)))
             for j in range(win.taps.size)]
    handles = [Patch(facecolor=colors[j], edgecolor="none", label=f"$w_{{{names[j]}}}$")
               for j in range(win.taps.size)]
    if len(handles) > 9:
        handles = handles[:4] + [Patch(facecolor="none", edgecolor="none", label="…")] + \
            handles[-4:]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=10.5, bbox_to_anchor=(0.5, 0.0), handlelength=1.0,
               columnspacing=0.8, title=None)


# ---------------------------------------------------------------------------- matrices


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
        raise ConvmatError(f"A.shape={array.shape!r}: plot_matrix draws a 2-D matrix")
    if array.dtype.kind not in "biuf":
        raise ConvmatError(f"A has dtype {array.dtype}; give a real numeric, SciPy sparse "
                           f"or sympy matrix")
    rows, cols = np.nonzero(array)
    return rows, cols, array[rows, cols], array.shape, False


def _layout(shape, geometry, permuted=False):
    """Row and column block sizes, and Kong & Lucey column bands, for a matrix of ``shape``."""
    from .striding import KongLucey

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
        raise ConvmatError(f"geometry={geometry!r} is not a ConvGeometry (make one with "
                           f"convmat.geometry.conv_geometry or conv_transpose_geometry) or a "
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


_MAX_CELLS_DRAWN = 250_000


def plot_matrix(A, *, geometry=None, ax=None, highlight_row=None):
    r"""Draw a matrix: stored entries as coloured cells, block rules from its geometry.

    Parameters
    ----------
    A : scipy sparse array, numpy array, sympy matrix or Kong & Lucey result
        Numeric entries are coloured by value (cividis), symbolic ones by symbol (the kernel
        taps, in sorted order); structural zeros stay white. In small matrices the values or
        symbols are printed. A :func:`convmat.kong_lucey` result draws ``A Π = [T_0 | T_1 |
        ...]`` with its phase bands.
    geometry : ConvGeometry or Kong & Lucey result, optional
        Where the block rules go: rows follow ``(C_out, *output_shape)`` and columns
        ``(C_in, *input_shape)`` for the convolution's matrix (swapped for its transpose;
        ``(C, *padded_shape)`` by ``(C, *input_shape)`` for a padding matrix); a rule after
        every image row and a thick one after every channel. A symbolic matrix built by
        :mod:`convmat.symbolic` carries its own. A Kong & Lucey result as ``geometry`` gives
        the rules of its strided matrix (``kl.strided_matrix()``); pass the result itself
        as ``A`` for the permuted matrix with one band per phase.
    ax : matplotlib.axes.Axes, optional
    highlight_row : int, optional
        Outline this row and its stored entries (the kernel's window) in the kernel colour.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Only stored entries are read and drawn, O(nnz); a sparse matrix is never densified.
    Beyond 250,000 stored entries a pixel-per-entry view (like ``spy``) is drawn.

    Examples
    --------
    >>> import convmat
    >>> from convmat.geometry import conv_geometry
    >>> fig = plot_matrix(convmat.conv_matrix([[1, 2], [3, 4]], (3, 3)),
    ...                   geometry=conv_geometry((2, 2), (3, 3)), highlight_row=1)
    >>> fig.axes[0].get_title()
    'A: 4 × 9, 16 stored entries'
    """
    with error_context("plot_matrix", shape=getattr(A, "shape", None)):
        from .striding import KongLucey

        permuted = isinstance(A, KongLucey)
        if permuted:
            geometry = A if geometry is None else geometry
            A = A.permuted
        if geometry is None and isinstance(getattr(A, "geometry", None), ConvGeometry):
            geometry = A.geometry  # a symbolic ConvMatrix knows its geometry
        rows, cols, values, shape, symbolic = _entries(A)
        row_levels, col_levels, bands = _layout(tuple(shape), geometry, permuted)
        if highlight_row is not None:
            from .geometry import as_int

            highlight_row = as_int(highlight_row, "highlight_row")
            if not 0 <= highlight_row < shape[0]:
                raise ConvmatError(f"highlight_row={highlight_row} is not a row of the "
                                   f"{shape[0]}-row matrix")
        _mpl()
        fig = _draw_matrix(rows, cols, values, shape, symbolic, row_levels, col_levels,
                           bands, ax, highlight_row)
        if isinstance(geometry, ConvGeometry):
            _channel_ticks(fig.axes[0] if ax is None else ax, geometry, tuple(shape))
        return fig


def _channel_ticks(ax, g: ConvGeometry, shape) -> None:
    """Name the channel blocks (``out o`` down the side, ``in c`` along the top)."""
    size_in, size_out = math.prod(g.input_shape), math.prod(g.output_shape)
    if shape == g.shape:
        rows, cols = ("out", g.out_channels, size_out), ("in", g.in_channels, size_in)
    elif shape == g.shape[::-1]:
        rows, cols = ("in", g.in_channels, size_in), ("out", g.out_channels, size_out)
    else:
        return
    if rows[1] > 1:
        ax.set_yticks([(k + 0.5) * rows[2] for k in range(rows[1])],
                      [f"{rows[0]} {k}" for k in range(rows[1])], fontsize=10)
    if cols[1] > 1:
        ax.xaxis.tick_top()
        ax.set_xticks([(k + 0.5) * cols[2] for k in range(cols[1])],
                      [f"{cols[0]} {k}" for k in range(cols[1])], fontsize=10)
        ax.set_title(ax.get_title(), fontsize=11, color=COLORS["text"], pad=22)
    ax.tick_params(length=0)


def _draw_matrix(rows, cols, values, shape, symbolic, row_levels, col_levels, bands, ax,
                 highlight_row, title=None):
    import matplotlib
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    m, n = shape
    own = ax is None
    if own:
        scale = float(np.clip(8.0 / max(n, 1), 0.02, 0.45))
        scale = min(scale, 7.0 / max(m, 1)) if m * scale > 7.0 else scale
        width = max(n * scale + 1.4, 4.0)
        height = m * scale + (1.2 if bands else 0.9)
        fig = _new_figure(width, height)
        ax = fig.add_axes((0.6 / width, 0.15 / height, 1 - 0.9 / width,
                           1 - (0.95 if bands else 0.6) / height))
    else:
        fig = ax.figure
    ax.set_xlim(0, n)
    ax.set_ylim(m, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(COLORS["grid"])
    cmap = matplotlib.colormaps[TAP_CMAP]
    if symbolic:
        import sympy

        distinct = sorted(set(values), key=sympy.default_sort_key)
        index = {v: k for k, v in enumerate(distinct)}
        colors = _tap_colors(len(distinct))[[index[v] for v in values]] if values else []
    else:
        values = np.asarray(values)
        if values.size:
            lo_v, hi_v = float(values.min()), float(values.max())
            norm = (values - lo_v) / (hi_v - lo_v) * 0.92 if hi_v > lo_v else \
                np.full(values.size, 0.45)
            colors = cmap(norm)
        else:
            colors = []
    if bands:
        cell_pt = _fontsize(fig, ax, n, m, share=1.0, lo=0.0, hi=1e9)
        widths, _ = bands
        start = 0
        for r, w in enumerate(widths):
            ax.add_patch(Rectangle((start, 0), w, m, facecolor=PHASE_COLORS[r % len(PHASE_COLORS)],
                                   edgecolor="none", zorder=0))
            ax.text(start + w / 2, -0.25, f"$T_{{{r}}}$", ha="center", va="bottom",
                    fontsize=11 if w * cell_pt > 22 else 8, color=COLORS["text"],
                    clip_on=False)
            if start:
                ax.axvline(start, color=COLORS["grid"], linewidth=2.2, zorder=3)
            start += w
    nnz = len(rows)
    if nnz > _MAX_CELLS_DRAWN:
        ax.scatter(np.asarray(cols) + 0.5, np.asarray(rows) + 0.5, s=0.5, marker="s",
                   c=colors, linewidths=0, zorder=2)
    elif nnz:
        ax.add_collection(PolyCollection(_squares(cols, rows), facecolors=colors,
                                         edgecolors="white" if nnz < 5000 else "none",
                                         linewidths=0.5, zorder=2))
    _block_rules(ax, 0, 0, m, n, row_levels, col_levels)
    fs = _fontsize(fig, ax, n, m, share=0.34, lo=0, hi=11)
    if fs >= 5.5 and nnz <= 1500:
        texts = [_symbol_text(v) if symbolic else _fmt(v) for v in values]
        size = min([_fit(fs, text, 0.34) for text in texts] or [fs])
        for r, c, text, col in zip(rows, cols, texts, colors):
            ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=size,
                    color=_ink(col), zorder=4)
    if highlight_row is not None:
        ax.add_patch(Rectangle((0, highlight_row), n, 1, fill=False,
                               edgecolor=COLORS["kernel"], linewidth=2.0, zorder=5))
        mask = np.asarray(rows) == highlight_row
        hc = np.asarray(cols)[mask]
        hl = PolyCollection(_squares(hc, np.full(hc.size, highlight_row)),
                            facecolors="none", edgecolors=COLORS["kernel"],
                            linewidths=2.4, zorder=6)
        hl.set_gid("highlight")
        ax.add_collection(hl)
    if title is None:
        title = f"A: {m} × {n}, {nnz:,} stored entries"
    ax.set_title(title, fontsize=11, color=COLORS["text"], pad=22 if bands else 6)
    return fig


def _symbol_text(value) -> str:
    import sympy

    latex = sympy.latex(value)
    if len(latex) <= 24 and "\\frac" not in latex:
        return f"${latex}$"
    return str(value)


def plot_kong_lucey(kl):
    r"""Kong & Lucey's rearrangement as one figure: ``A``, ``Π`` and ``A Π = [T_0 | T_1 | ...]``.

    Parameters
    ----------
    kl : KongLucey
        A result of :func:`convmat.kong_lucey` (or :func:`convmat.symbolic.kong_lucey`).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: the strided matrix (on the padded input) with every column's phase
        marked above it, the column permutation ``Π``, and the unit-stride blocks ``T_r``
        on their phase bands.

    Notes
    -----
    :math:`A\,\Pi = [\,T_0 \mid T_1 \mid \cdots\,]` with :math:`\Pi` the permutation that
    groups the padded input by phase (:attr:`KongLucey.permutation`); each :math:`T_r` is a
    unit-stride Toeplitz matrix of the phase kernel :math:`w_r`.

    Examples
    --------
    >>> import convmat
    >>> fig = plot_kong_lucey(convmat.kong_lucey([1, 2, 3], (7,), stride=2))
    >>> len(fig.axes)
    3
    """
    from .striding import KongLucey

    with error_context("plot_kong_lucey", kl=type(kl).__name__):
        if not isinstance(kl, KongLucey):
            raise ConvmatError(f"kl={type(kl).__name__} is not a Kong & Lucey result; make one "
                               f"with convmat.kong_lucey(weight, input_shape, stride=...)")
        _mpl()
        from matplotlib.patches import Rectangle

        strided = kl.strided_matrix()
        m, n = strided.shape
        widths = [b.shape[1] for b in kl.blocks]
        # Falk's scheme: Pi above the product, A to the left of it
        s = min(9.4 / (2 * n + 4), 6.0 / (n + m + 4), 0.42)
        gap, top_gap = 0.5, 0.75
        left, bottom = 0.35, 0.55
        width = left + 2 * n * s + gap + 0.35
        height = bottom + m * s + top_gap + n * s + 0.45
        fig = _new_figure(width, height)

        def box(x, y, w, h):
            return fig.add_axes((x / width, y / height, w / width, h / height))

        ax_a = box(left, bottom, n * s, m * s)
        ax_p = box(left + n * s + gap, bottom + m * s + top_gap, n * s, n * s)
        ax_t = box(left + n * s + gap, bottom, n * s, m * s)
        rows_levels = _levels(kl.output_shape, kl.out_channels)
        r, c, v, shape, sym = _entries(strided)
        _draw_matrix(r, c, v, shape, sym, rows_levels,
                     _levels(kl.padded_shape, kl.in_channels), None, ax_a, None, title="")
        phase_of = np.empty(n, dtype=int)
        start = 0
        for p, w in enumerate(widths):
            phase_of[kl.column_order[start:start + w]] = p
            start += w
        strip = max(0.6, 0.12 / s)
        for col, p in enumerate(phase_of):
            ax_a.add_patch(Rectangle((col, -strip - 0.15), 1, strip,
                                     facecolor=PHASE_COLORS[p % len(PHASE_COLORS)], edgecolor=COLORS["grid"],
                                     linewidth=0.3, clip_on=False))
        ax_a.set_title("strided $A$ (strip: each column's phase)", fontsize=11,
                       color=COLORS["text"], pad=4 + strip * s * 72)
        pr, pc, _, pshape, _ = _entries(kl.permutation)
        _draw_matrix(pr, pc, np.ones(len(pr)), pshape, False, (), (), None, ax_p, None,
                     title="column permutation $\\Pi$ (rows: $A$'s columns)")
        start = 0
        for p, w in enumerate(widths):
            ax_p.add_patch(Rectangle((start, 0), w, n, facecolor=PHASE_COLORS[p % len(PHASE_COLORS)],
                                     edgecolor="none", zorder=0))
            start += w
        r, c, v, shape, sym = _entries(kl.permuted)
        _draw_matrix(r, c, v, shape, sym, rows_levels, (), (widths, kl.phases), ax_t, None,
                     title="")
        ax_t.set_xlabel("$A\\,\\Pi = [\\,T_0 \\mid T_1 \\mid \\cdots\\,]$: unit-stride "
                        "blocks", fontsize=11, color=COLORS["text"])
        names = [f"$T_{{{k}}}$: ({','.join(map(str, ph))})" for k, ph in enumerate(kl.phases)]
        per_line = max(1, int(n * s / (0.35 + 0.22 * len(kl.phases[0]) * 2)))
        phases = "\n".join(", ".join(names[k:k + per_line])
                           for k in range(0, len(names), per_line))
        fig.text(left / width, 1 - 0.2 / height,
                 "Kong & Lucey\nstride " + "×".join(map(str, kl.stride)) + ", kernel "
                 + "×".join(map(str, kl.weight.shape[-kl.ndim:])) + " on padded input "
                 + "×".join(map(str, kl.padded_shape)), fontsize=12, va="top",
                 color=COLORS["text"])
        fig.text(left / width, 1 - 0.75 / height, "phases (residue per dim):\n" + phases,
                 fontsize=10.5, va="top", color=COLORS["text"], wrap=True)
        return fig


# ----------------------------------------------------------------------------------- save


_FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def save(obj, path, *, fps: float | None = None, dpi: float | None = None) -> Path:
    """Write a figure (PNG, PDF, SVG) or an animation (GIF; MP4 when ffmpeg is installed).

    Parameters
    ----------
    obj : matplotlib Figure or Animation
        A result of this module (an ``Axes`` saves its figure).
    path : str or path-like
        The format is taken from the suffix.
    fps : float, optional
        Frames per second of an animation (default 1.5: each output position shows for
        two thirds of a second).
    dpi : float, optional
        Resolution (default 100: the figures are sized to be legible at that).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save(plot_connectivity((4,), (2,)), pathlib.Path(tmp) / "c.png")
    ...     out.stat().st_size > 1000
    True
    """
    with error_context("save", path=str(path)):
        mpl = _mpl()
        path = Path(path)
        suffix = path.suffix.lower()
        dpi = _DPI if dpi is None else dpi
        if isinstance(obj, mpl.animation.Animation):
            fps = 1.5 if fps is None else fps
            if not (isinstance(fps, (int, float)) and 0 < fps <= 100):
                raise ConvmatError(f"fps={fps!r} must be a number in (0, 100]")
            if suffix == ".gif" and callable(getattr(obj, "show_frame", None)):
                _parent(path)
                _save_gif(obj, path, fps, dpi)
                return path
            if suffix == ".gif":
                writer = mpl.animation.PillowWriter(fps=fps)
            elif suffix == ".mp4":
                if not mpl.animation.FFMpegWriter.isAvailable():
                    raise ConvmatError("path ends in .mp4 but ffmpeg is not installed; "
                                       "save as .gif or install ffmpeg")
                writer = mpl.animation.FFMpegWriter(fps=fps)
            else:
                raise ConvmatError(f"path suffix {suffix or '(none)'!r}: an animation is "
                                   f"saved as .gif or .mp4")
            _parent(path)
            obj.save(str(path), writer=writer, dpi=dpi)
            return path
        fig = getattr(obj, "figure", None) if not isinstance(obj, mpl.figure.Figure) else obj
        if not isinstance(fig, mpl.figure.Figure):
            raise ConvmatError(f"obj={type(obj).__name__} is not a matplotlib Figure or "
                               f"Animation")
        if suffix not in _FIGURE_SUFFIXES:
            raise ConvmatError(f"path suffix {suffix or '(none)'!r}: a figure is saved as "
                               f"{', '.join(_FIGURE_SUFFIXES)}")
        _parent(path)
        fig.savefig(str(path), dpi=dpi, facecolor="white")
        return path


def _parent(path: Path) -> None:
    if not path.parent.exists():
        raise ConvmatError(f"path={str(path)!r}: the folder {str(path.parent)!r} does not "
                           f"exist")


def _save_gif(anim, path: Path, fps: float, dpi: float) -> None:
    """One GIF frame per output position, all frames on one shared palette (the pictures
    have few colours; a shared palette lets each frame store only what changed)."""
    from PIL import Image

    fig = anim._fig
    canvas = fig.canvas
    old_dpi = fig.get_dpi()
    fig.set_dpi(dpi)
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
    palette = sample.quantize(colors=255, method=Image.Quantize.MAXCOVERAGE)
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
