r"""The connectivity picture (A3): the bipartite graph from input to output positions, one
output's fan (its receptive field) over faint edges, the convolution beside its transpose
on the same nodes, and which input channel feeds which output channel (groups)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from ._drawing import (
    _add_axes,
    _check_fontsize,
    _check_figsize,
    COLORS,
    GROUP_COLORS,
    _bare,
    _check_ax,
    _check_drawable,
    _check_extent,
    _describe,
    _mpl,
    _new_figure,
    _tap_colors,
    _words,
)
from ._matrix import tap_legend, tap_names
from ._windows import SlidingWindows, _windows
from .._validate import as_flag, as_shape, as_weight
from ..errors import ConvmatError, brief, error_context
from ..geometry import Padding, as_int, convolution_geometry, transposed_geometry

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["plot_connectivity"]

#: most edges labelled by their tap
_MAX_LABELS = 40


def plot_connectivity(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    transposed: bool = False,
    output_padding: int | Sequence[int] = 0,
    ax: Axes | None = None,
    weight: Any = None,
    x: Any = None,
    groups: int = 1,
    highlight: int | str | None = None,
    side_by_side: bool = False,
    padding_mode: str = "zeros",
    figsize: tuple[float, float] | None = None,
    fontsize: float | None = None,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> Figure | SubFigure:
    r"""The filter's connectivity: a bipartite graph from input to output positions.

    An edge joins output position ``t`` to input position ``p`` when ``A[t, p]`` is stored,
    coloured by the kernel tap it carries (the same tap colours as :func:`animate_matrix`).
    1-D: two rows of nodes; 2-D: the input and output grids as two planes. With
    ``transposed=True``, the transposed convolution: the same edges reversed (its inputs are
    the convolution's outputs), so it reproduces the connectivity, not the values.

    Parameters
    ----------
    input_shape, kernel_shape, stride, padding, dilation, transposed, output_padding
        As in :func:`animate_convolution`.
    ax : matplotlib.axes.Axes, optional
        Draw the spatial graph into this axes (else a new figure).
    weight : array_like, optional
        With channels, ``(C_out, C_in/groups, *kernel_shape)`` (``(C_in, C_out/groups,
        ...)`` when transposed): a second panel draws which input channel feeds which
        output channel, coloured by group (depthwise: one edge per channel).
    x : array_like, optional
        Accepted for symmetry with the other pictures (the graph does not depend on it).
    groups : int
    highlight : int, "all" or None
        The flat index of one output of the drawn convolution: its fan (its receptive
        field) in tap colours, labelled by tap, over faint grey edges. ``"all"`` colours
        every edge. Default: every edge in 1-D, the fan of the middle output in 2-D.
    side_by_side : bool
        The convolution and its transpose side by side, on the same node positions.
    padding_mode : str
        As in :func:`convmat.conv_matrix`. With a mode other than zeros a tap in the
        padding reads the input entry the padded cell copies, so its edge goes to that
        input node: several edges can then join the same pair (a stored entry that sums
        two taps), drawn on top of each other and labelled with their multiplicity
        (``×2``). Forward convolution only (``transposed=True`` and ``side_by_side=True``
        need zeros).
    figsize : (float, float), optional
    fontsize : float, optional
        Size of the title.
    lang, labels
        As in :func:`convmat.figures.animate_convolution`.

    Returns
    -------
    matplotlib.figure.Figure
        Its artists carry gids ``"edges"`` (a LineCollection, every edge), ``"fan"``
        (the highlighted output's edges), ``"input-nodes"`` and ``"output-nodes"`` (flat C
        order), ``"padding-nodes"`` and, with channels, ``"channel-edges"``.

    Notes
    -----
    Output node ``t`` is drawn above the centre of its window, :math:`t s - b +
    d(k-1)/2` per dim, so each edge fans out to the taps. The edge set is the sparsity
    pattern of ``conv_matrix`` (of ``conv_transpose_matrix`` when ``transposed``); the
    channel edges are the non-empty channel blocks of the full matrix.

    Examples
    --------
    >>> fig = plot_connectivity((5,), (3,), stride=2, padding=1)
    >>> [c.get_gid() for c in fig.axes[0].collections if c.get_gid() == "edges"]
    ['edges']
    >>> fig = plot_connectivity((4, 4), (3, 3), weight=np.ones((2, 1, 3, 3)), groups=2)
    >>> len(fig.axes)
    2
    """
    with error_context("plot_connectivity", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        ax = _check_ax(ax, "plot_connectivity")
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "plot_connectivity")
        transposed = as_flag(transposed, "transposed")
        side_by_side = as_flag(side_by_side, "side_by_side")
        ishape = as_shape(input_shape, "input_shape")
        kshape = as_shape(kernel_shape, "kernel_shape")
        _check_drawable(len(ishape), "plot_connectivity")
        kw = dict(stride=stride, padding=padding, dilation=dilation)
        if padding_mode != "zeros" and (transposed or side_by_side):
            from ..geometry import check_mode

            check_mode(padding_mode, ((0, 0),) * len(ishape), ishape)
            raise ConvmatError(f"padding_mode={padding_mode!r} with "
                               f"{'transposed' if transposed else 'side_by_side'}=True: the "
                               f"transposed picture draws zero padding; draw the forward "
                               f"convolution or padding_mode='zeros'")
        if padding_mode != "zeros":
            kw["padding_mode"] = padding_mode
        pairs = _channel_pairs(weight, ishape, kshape, groups, transposed, output_padding, kw)
        if transposed:
            # the forward convolution whose transpose this is, drawn upside down
            tgeom = transposed_geometry(ishape, kshape, output_padding=output_padding, **kw)
            win = _windows(tgeom.input_shape, tgeom.kernel_shape, tgeom.stride,
                           tgeom.padding, tgeom.dilation, False, 0)
            keep = np.arange(math.prod(tgeom.output_shape))  # the first `input_shape` rows
            if tgeom.output_shape != win.output_shape:
                idx = np.indices(tgeom.output_shape).reshape(win.ndim, -1)
                keep = np.ravel_multi_index(tuple(idx), win.output_shape)
        else:
            win = _windows(ishape, kshape, stride, padding, dilation, False, output_padding,
                           padding_mode)
            keep = np.arange(len(win))
        _check_extent(win, "plot_connectivity")
        n_out = math.prod(win.grid_shape) if transposed and not side_by_side else len(keep)
        highlight = _highlight(highlight, win.ndim, n_out, side_by_side)
        _mpl()
        c_in, c_out, groups = pairs[:3] if pairs is not None else (1, 1, 1)
        described = SimpleNamespace(win=win, c_in=c_in, c_out=c_out, groups=groups)
        w = words
        title = _describe(described, stride, padding, dilation, output_padding, w) if not \
            transposed else (f"{w['transposed_convolution']}: {w['same_connections']} — "
                             f"{w['input']} " + "×".join(map(str, ishape))
                             + f" → {w['output']} " + "×".join(map(str, win.grid_shape)))
        if transposed and pairs is not None:
            title += f"\n{w['channels']} {c_in}→{c_out}, {w['groups']} {groups}"
        if side_by_side:
            title = (f"{w['side_by_side']}: " + "×".join(map(str, win.grid_shape)) + " ↔ "
                     + "×".join(map(str, tuple(np.atleast_1d(win.output_shape)))))
        return _figure(win, keep, transposed, ax, highlight, side_by_side, pairs, title,
                       figsize, fontsize, words)


def _channel_pairs(weight, ishape, kshape, groups, transposed, output_padding, kw):
    """(c_in, c_out, [(c, o), ...]): the channel blocks of the full matrix holding entries
    (None without channels)."""
    groups = as_int(groups, "groups")
    if weight is None:
        if groups != 1:
            raise ConvmatError(f"groups={groups} needs weight= in the layout (C_out, "
                               f"C_in/groups, *kernel_shape)")
        return None
    w = as_weight(weight)
    n = len(ishape)
    if w.ndim != n + 2 or w.shape[2:] != kshape:
        if w.ndim == n and w.shape == kshape and groups == 1:
            return None
        raise ConvmatError(f"weight.shape={brief(w.shape)} does not match kernel_shape="
                           f"{kshape!r}: give the layout (C_out, C_in/groups, *kernel_shape)")
    from ..sparse import conv_matrix, conv_transpose_matrix

    ones = np.ones(w.shape, dtype=np.int8)
    if transposed:
        transposed_geometry(ishape, w.shape, groups=groups, output_padding=output_padding,
                            **kw)  # (zeros only: refused above)
        a = conv_transpose_matrix(ones, ishape, groups=groups, output_padding=output_padding,
                                  **kw)
        c_in, c_out = w.shape[0], w.shape[1] * groups
    else:
        convolution_geometry(ishape, w.shape, groups=groups, **kw)
        a = conv_matrix(ones, ishape, groups=groups, **kw)
        c_in, c_out = w.shape[1] * groups, w.shape[0]
    coo = a.tocoo()
    blocks = set(zip((coo.row // (a.shape[0] // c_out)).tolist(),
                     (coo.col // (a.shape[1] // c_in)).tolist()))
    return c_in, c_out, groups, sorted((c, o) for o, c in blocks)


def _highlight(highlight, ndim, n_out, side_by_side):
    if highlight is None:
        return None if ndim == 1 and not side_by_side else n_out // 2
    if isinstance(highlight, str):
        if highlight != "all":
            raise ConvmatError(f"highlight={brief(highlight)} must be an output index, "
                               f"'all' or None")
        return None
    t = as_int(highlight, "highlight")
    if not 0 <= t < n_out:
        raise ConvmatError(f"highlight={t} is not an output of the {n_out} outputs")
    return t


def _figure(win, keep, transposed, ax, highlight, side_by_side, pairs, title, figsize,
            fontsize, words):
    n = win.ndim
    panels = 2 if side_by_side else 1
    if ax is not None:
        _graph(win, keep, transposed, ax, highlight, fontsize, words, by_row=not transposed)
        return ax.figure
    lo, hi = _bounds(win)
    span_x = float(hi[-1] - lo[-1]) + 3.4 + (0.6 * float(hi[0] - lo[0]) if n == 2 else 0)
    height = 2.4 if n == 1 else 0.4 * float(hi[0] - lo[0]) + 2.6
    span_y = height + 1.4 + (0.38 * float(hi[0] - lo[0]) if n == 2 else 0)
    scale = float(np.clip(7.0 / max(span_x * panels, 1), 0.25, 0.8))
    extra = 2.6 if pairs is not None else 0.0
    width = max(span_x * scale * panels + 1.0 + extra, 5.5)
    fig_h = span_y * scale + 1.7 + 0.25 * title.count("\n")
    if figsize is not None:
        width, fig_h = _check_figsize(figsize)
    fig = _new_figure(width, fig_h)
    graph_w = max(width - extra - 0.3, 0.1) / panels  # a tiny figsize: tiny axes
    graph_h = max(1 - (1.05 + 0.25 * title.count("\n")) / fig_h, 0.05)
    axes = []
    for k in range(panels):
        axes.append(_add_axes(fig, ((0.15 + k * graph_w) / width, 0.55 / fig_h,
                                  graph_w / width, graph_h)))
    flags = (False, True) if side_by_side else (transposed,)
    for a, flag in zip(axes, flags):
        _graph(win, keep, flag, a, highlight, fontsize, words, label_panel=side_by_side,
               by_row=side_by_side or not flag)
    if pairs is not None:
        cax = _add_axes(fig, (max(width - extra - 0.1, 0.0) / width, 0.55 / fig_h,
                            (extra - 0.1) / width, max(1 - 1.3 / fig_h, 0.05)))
        _channel_graph(cax, *pairs, fontsize, words)
    fig.text(0.5, 1 - 0.1 / fig_h, title, ha="center", va="top", fontsize=fontsize or 11.5,
             color=COLORS["text"], wrap=True)
    colors = _tap_colors(win.taps.size)
    tap_legend(fig, [(colors[j], f"$w_{{{name}}}$") for j, name in
                     enumerate(tap_names(win.kernel_shape))], words)
    return fig


def _bounds(win: SlidingWindows) -> tuple[np.ndarray, np.ndarray]:
    """Every drawn grid position: the input (cropped entries too) and its padding."""
    lo = np.array([min(-b, 0) for b, _ in win.padding])
    hi = np.array([max(g + a, g) for g, (_, a) in zip(win.grid_shape, win.padding)])
    return lo, hi


def _graph(win, keep, transposed, ax, highlight, fontsize, words, label_panel=False,
           by_row=True):
    """The spatial graph into ``ax``: nodes, every edge, and the highlighted fan (the
    edges of forward output ``highlight`` when ``by_row``, else of forward input
    ``highlight``: an output of the transposed convolution)."""
    from matplotlib.collections import LineCollection, PolyCollection

    n = win.ndim
    colors = _tap_colors(win.taps.size)
    lo, hi = _bounds(win)
    grid = np.indices(tuple(hi - lo)).reshape(n, -1).T + lo  # forward input incl. padding
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

    _bare(ax)
    # one colour rule: the input of the drawn convolution blue, its output green
    in_face, in_edge = ((COLORS["output_light"], COLORS["output"]) if transposed else
                        (COLORS["input"], COLORS["input_edge"]))
    out_face, out_edge = ((COLORS["input"], COLORS["input_edge"]) if transposed else
                          (COLORS["output_light"], COLORS["output"]))
    if n == 2:  # planes under the nodes, in their nodes' colour
        for level, (a0, a1), color in ((0, (lo, hi - 1), in_face),
                                       (1, (centres.min(0), centres.max(0)), out_face)):
            pad = 0.5
            corners = np.array([[a0[0] - pad, a0[1] - pad], [a0[0] - pad, a1[1] + pad],
                                [a1[0] + pad, a1[1] + pad], [a1[0] + pad, a0[1] - pad]])
            plane = PolyCollection([screen(corners, level)], facecolors=color,
                                   edgecolors="none", alpha=0.45, zorder=0)
            plane.set_gid(f"plane-{level}")
            ax.add_collection(plane)
    sources = win.sources[keep]
    t_idx, j_idx = np.nonzero(sources >= 0)
    inputs = grid[real]  # C order of the real positions = flat input index order
    out_xy = screen(centres, 1)
    in_xy = screen(inputs, 0)
    segs = np.stack([in_xy[sources[t_idx, j_idx]], out_xy[t_idx]], 1)
    taps = win.taps[j_idx]
    if highlight is None:
        fan = np.ones(len(segs), dtype=bool)
        edge_colors = colors[taps]
    else:  # the fan of one output of the drawn convolution, over faint edges
        fan = (t_idx == highlight) if by_row else (sources[t_idx, j_idx] == highlight)
        edge_colors = np.tile(np.array([0.55, 0.55, 0.55, 0.25]), (len(segs), 1))
    lw = 1.8 if n == 1 else 1.2
    edges = LineCollection(segs, colors=edge_colors, linewidths=lw * (1 if highlight is None
                                                                      else 0.6),
                           alpha=0.8 if highlight is None else None, zorder=1)
    edges.set_gid("edges")
    ax.add_collection(edges)
    if highlight is not None:
        lit = LineCollection(segs[fan], colors=colors[taps[fan]], linewidths=lw * 1.4,
                             zorder=1.5)
        lit.set_gid("fan")
        ax.add_collection(lit)
    # edges joining the same pair (a padded copy of an entry the window also reads)
    pair = t_idx.astype(np.int64) * max(len(inputs), 1) + sources[t_idx, j_idx]
    _, first, inverse, count = np.unique(pair, return_index=True, return_inverse=True,
                                         return_counts=True)
    inverse = inverse.ravel()
    order = np.argsort(np.argsort(inverse, kind="stable"), kind="stable")
    nth = order - np.searchsorted(np.sort(inverse), inverse)  # k-th edge of its pair
    repeated = np.nonzero(count[inverse] > 1)[0]
    shown = repeated[fan[repeated] & (nth[repeated] == 0)]
    if 0 < len(shown) <= _MAX_LABELS:
        for e in shown:
            (a, b) = segs[e]
            ax.text(*(a + 0.82 * (b - a)), f"×{count[inverse[e]]}", fontsize=10 if n == 1
                    else 9, ha="center", va="center", color="#6b3300", fontweight="bold",
                    zorder=5.5, gid="multiplicity",
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white",
                              edgecolor="#6b3300", linewidth=0.6))
    tap_labels = []
    if fan.sum() <= _MAX_LABELS:  # the tap of each drawn edge, where it fits
        names = [",".join(map(str, np.unravel_index(j, win.kernel_shape)))
                 for j in range(win.taps.size)]
        for (a, b), j, k in zip(segs[fan], taps[fan], nth[fan]):
            # near the fan's open end, repeated edges' labels apart
            near = 0.3 if n == 1 else 0.14  # 2-D: by the node it reads, as fans converge
            start = (near if by_row else 1 - near) + (0.22 if by_row else -0.22) * min(k, 2)
            text = ax.text(*(a + start * (b - a)), f"$w_{{{names[j]}}}$",
                           fontsize=9 if n == 1 else 8, ha="center", va="center",
                           color=COLORS["text"], zorder=5, gid="tap-label",
                           bbox=dict(boxstyle="round,pad=0.1", facecolor="white",
                                     edgecolor="none", alpha=0.8))
            tap_labels.append((text, a, b, start, 1.0 if by_row else -1.0))
    size = 90 if n == 1 else 40
    pad_nodes = ax.scatter(*screen(grid[~real], 0).T, s=size, facecolors=COLORS["padding"],
                           edgecolors=COLORS["padding_edge"], linestyles="--", zorder=2)
    pad_nodes.set_gid("padding-nodes")
    in_nodes = ax.scatter(*in_xy.T, s=size, facecolors=in_face, edgecolors=in_edge,
                          linewidths=1.4, zorder=3)
    out_nodes = ax.scatter(*out_xy.T, s=size, facecolors=out_face, edgecolors=out_edge,
                           linewidths=1.4, zorder=3)
    # transposed: the forward outputs are the inputs and vice versa
    in_nodes.set_gid("output-nodes" if transposed else "input-nodes")
    out_nodes.set_gid("input-nodes" if transposed else "output-nodes")
    if highlight is not None:  # ring the highlighted output
        at = out_xy[highlight] if by_row else in_xy[highlight]
        ring = ax.scatter(*at, s=size * 2.6, facecolors="none", edgecolors=COLORS["kernel"],
                          linewidths=2.2, zorder=4)
        ring.set_gid("highlight")
    every = np.concatenate([in_xy, out_xy, screen(grid, 0)])
    (x_lo, y_lo), (x_hi, y_hi) = every.min(0), every.max(0)
    ax.set_xlim(x_lo - 2.6, x_hi + 0.8)
    ax.set_ylim(y_lo - 0.7, y_hi + 0.7)
    _apart(ax, tap_labels)
    label = dict(fontsize=12, color=COLORS["text"], ha="right", va="center")
    # the forward input's plane is the transposed convolution's output, and vice versa
    ax.text(x_lo - 0.6, screen(lo[None].astype(float), 0)[0, 1],
            words["output" if transposed else "input"], **label)
    ax.text(x_lo - 0.6, screen(centres[:1], 1)[0, 1], words["input" if transposed else "output"],
            **label)
    if label_panel:
        ax.set_title(f"{words['transposed']}: $A^{{\\top}}$" if transposed else
                     f"{words['convolution']}: $A$",
                     fontsize=fontsize or 11.5, color=COLORS["text"])


def _apart(ax: Any, labels: list[Any]) -> None:
    """Slide each tap label along its edge until its box overlaps no label placed before
    it (the fan's edges converge, so labels at one fraction of every edge collide); where
    no position along the edge is free, the least-overlapping one. ``labels`` holds
    ``(text, a, b, start, direction)``: the text sits at ``a + t (b - a)``, tried from
    ``t = start`` outwards, first in ``direction``."""
    if len(labels) < 2:
        return
    ax.apply_aspect()
    fig = ax.get_figure(root=True)
    get = getattr(fig.canvas, "get_renderer", None)
    if get is not None:
        renderer = get()
    else:  # a figure without an Agg canvas: measure the text as Agg would draw it
        from matplotlib.backends.backend_agg import RendererAgg

        width, height = fig.bbox.size
        renderer = RendererAgg(int(width), int(height), fig.dpi)
    placed: list[Any] = []
    steps = np.arange(0.0, 0.61, 0.06)
    steps = np.stack([steps, -steps], 1).ravel()[1:]  # 0, +s, -s, +2s, -2s, ...
    for text, a, b, start, direction in labels:
        best, best_hit = None, np.inf
        for t in start + direction * steps:
            if not 0.08 <= t <= 0.92:
                continue
            text.set_position(a + t * (b - a))
            box = text.get_window_extent(renderer).padded(1.0)
            hit = sum(_overlap(box, other) for other in placed)
            if hit < best_hit:
                best, best_hit = (t, box), hit
            if hit == 0:
                break
        if best is None:
            continue
        text.set_position(a + best[0] * (b - a))
        placed.append(best[1])


def _overlap(p: Any, q: Any) -> float:
    """Area shared by two display boxes."""
    w = min(p.x1, q.x1) - max(p.x0, q.x0)
    h = min(p.y1, q.y1) - max(p.y0, q.y0)
    return max(w, 0.0) * max(h, 0.0)


def _channel_graph(ax: Any, c_in: int, c_out: int, groups: int, pairs: list[tuple[int, int]],
                   fontsize: float | None, words: Mapping[str, str]) -> None:
    """Input channels below, output channels above, an edge per non-empty channel block,
    coloured by group."""
    from matplotlib.collections import LineCollection

    _bare(ax)
    ax.set_aspect("auto")
    xs_in = np.linspace(0, 1, c_in) if c_in > 1 else np.array([0.5])
    xs_out = np.linspace(0, 1, c_out) if c_out > 1 else np.array([0.5])
    group_of = [o // (c_out // groups) for _, o in pairs]
    segs = [((xs_in[c], 0.0), (xs_out[o], 1.0)) for c, o in pairs]
    edges = LineCollection(segs, colors=[GROUP_COLORS[g % len(GROUP_COLORS)]
                                         for g in group_of], linewidths=2.0)
    edges.set_gid("channel-edges")
    ax.add_collection(edges)
    ax.scatter(xs_in, np.zeros(c_in), s=160, facecolors=COLORS["input"],
               edgecolors=COLORS["input_edge"], linewidths=1.4, zorder=3)
    ax.scatter(xs_out, np.ones(c_out), s=160, facecolors=COLORS["output_light"],
               edgecolors=COLORS["output"], linewidths=1.4, zorder=3)
    for c, xc in enumerate(xs_in):
        ax.text(xc, -0.14, str(c), ha="center", va="top", fontsize=9, color=COLORS["text"])
    for o, xo in enumerate(xs_out):
        ax.text(xo, 1.14, str(o), ha="center", va="bottom", fontsize=9, color=COLORS["text"])
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.45, 1.6)
    kind = f" ({words['depthwise']})" if groups == c_in and groups > 1 else ""
    ax.set_title(f"{words['channels']}: {c_in} → {c_out}\n{words['groups']} {groups}{kind}",
                 fontsize=fontsize or 10.5, color=COLORS["text"])
    ax.text(0.5, -0.38, words["input_channels"], ha="center", va="top", fontsize=9,
            color=COLORS["text"])
    ax.text(0.5, 1.36, words["output_channels"], ha="center", va="bottom", fontsize=9,
            color=COLORS["text"])
