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
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._animation import (
    _animation,
    _matrix_animation,
    _panel_span,
    _parent,
    _prepare,
    _save_gif,
    _Sliding,
)
from ._drawing import (
    _DPI,
    COLORS,
    PHASE_COLORS,
    _bare,
    _channel_ticks,
    _check_ax,
    _check_dpi,
    _check_drawable,
    _check_extent,
    _describe,
    _draw_matrix,
    _entries,
    _layout,
    _legend,
    _levels,
    _matrix,
    _mpl,
    _new_figure,
    _tap_colors,
)
from .._validate import as_shape
from ._superposition import animate_superposition, overlap_counts, plot_overlap
from ._windows import SlidingWindows, Window, _windows, sliding_windows  # noqa: F401
from ..errors import ConvmatError, brief, error_context
from ..geometry import ConvGeometry, transposed_geometry

__all__ = [
    "sliding_windows",
    "animate_convolution",
    "animate_matrix",
    "plot_connectivity",
    "plot_matrix",
    "plot_kong_lucey",
    "animate_superposition",
    "overlap_counts",
    "plot_overlap",
    "save",
]


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
        ax = _check_ax(ax, "plot_connectivity")
        _check_drawable(len(as_shape(input_shape)), "plot_connectivity")
        if transposed:
            # the forward convolution whose transpose this is, drawn upside down
            tgeom = transposed_geometry(
                as_shape(input_shape, "input_shape"), as_shape(kernel_shape, "kernel_shape"),
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
        _check_extent(win, "plot_connectivity")
        _mpl()
        return _connectivity(win, keep, transposed, ax, stride, padding, dilation,
                             output_padding, input_shape)


def _connectivity(win, keep, transposed, ax, stride, padding, dilation, output_padding,
                  input_shape):
    from matplotlib.collections import LineCollection, PolyCollection

    n = win.ndim
    colors = _tap_colors(win.taps.size)
    # every drawn position: the input (cropped entries too) and its padding
    lo = np.array([min(-b, 0) for b, _ in win.padding])
    hi = np.array([max(g + a, g) for g, (_, a) in zip(win.grid_shape, win.padding)])
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
    >>> from convmat.geometry import convolution_geometry
    >>> fig = plot_matrix(convmat.conv_matrix([[1, 2], [3, 4]], (3, 3)),
    ...                   geometry=convolution_geometry((3, 3), (2, 2)), highlight_row=1)
    >>> fig.axes[0].get_title()
    'A: 4 × 9, 16 stored entries'
    """
    with error_context("plot_matrix", shape=getattr(A, "shape", None)):
        ax = _check_ax(ax, "plot_matrix")
        from ..striding import KongLucey

        permuted = isinstance(A, KongLucey)
        if permuted:
            geometry = A if geometry is None else geometry
            A = A.permuted
        if geometry is None and isinstance(getattr(A, "geometry", None), ConvGeometry):
            geometry = A.geometry  # a symbolic ConvMatrix knows its geometry
        rows, cols, values, shape, symbolic = _entries(A)
        row_levels, col_levels, bands = _layout(tuple(shape), geometry, permuted)
        if highlight_row is not None:
            from ..geometry import as_int

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
    from ..striding import KongLucey

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
    with error_context("save", path=path if isinstance(path, str) else str(path)):
        mpl = _mpl()
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise ConvmatError(f"path={brief(path)} must be a file name (str or path-like) "
                               f"ending in .png, .pdf, .svg, .gif or .mp4")
        path = Path(path)
        suffix = path.suffix.lower()
        canvas = getattr(obj, "_fig", None) if isinstance(obj, mpl.animation.Animation) \
            else obj if isinstance(obj, mpl.figure.Figure) else getattr(obj, "figure", None)
        if isinstance(canvas, mpl.figure.Figure):
            dpi = _check_dpi(_DPI if dpi is None else dpi, canvas)
        if isinstance(obj, mpl.animation.Animation):
            fps = 1.5 if fps is None else fps
            if not (isinstance(fps, (int, float)) and 0 < fps <= 100):
                raise ConvmatError(f"fps={brief(fps)} must be a number in (0, 100]")
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

