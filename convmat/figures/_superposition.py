r"""Transposed convolution by superposition: every input entry stamps a scaled copy of the
kernel into the output, overlaps add up (the *scatter* view of
:func:`convmat.conv_transpose_matrix`, whose column ``m`` is the stamp of input entry ``m``).

Per dimension, input entry :math:`m` and kernel tap :math:`j` write output position

.. math::

    p = m\,s + j\,d - b

(stride :math:`s`, dilation :math:`d`, padding :math:`(b, a)`; positions outside
``[0, o)`` are cropped). The number of pairs :math:`(m, j)` writing a position factorises
over the dimensions, so :func:`overlap_counts` is an outer product of 1-D counts; where the
stride does not divide the kernel's extent the counts alternate (the checkerboard of
transposed-convolution up-sampling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ._scenes import superposition_picture
from ._drawing import (
    _add_axes,
    _check_fontsize,
    _check_figsize,
    ENGLISH,
    _words,
    COLORS,
    MAX_PICTURE_CELLS,
    _bare,
    _check_drawable,
    _fit,
    _fmt,
    _fontsize,
    _ink,
    _mpl,
    _new_figure,
    _rgba,
    _squares,
)
from .._memory import check_budget
from .._validate import as_array, as_shape, as_weight
from ..errors import ConvmatError, brief, error_context
from ..geometry import Padding, transposed_geometry
from ..layout import fill

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["overlap_counts", "animate_superposition", "plot_overlap"]

#: most (frame, output) values an animation of the superposition stores
_MAX_SUMS = 4_000_000


class _Stamps:
    """The geometry of the superposition: shapes, stride, dilation, padding per dim."""

    def __init__(self, input_shape, kernel_shape, stride, padding, dilation, output_padding):
        kshape = as_shape(kernel_shape, "kernel_shape")
        ishape = as_shape(input_shape, "input_shape")
        if len(kshape) != len(ishape):
            raise ConvmatError(f"kernel_shape={brief(kshape)} has {len(kshape)} dimensions "
                               f"but input_shape={brief(ishape)} has {len(ishape)}")
        geom = transposed_geometry(ishape, kshape, stride=stride, padding=padding,
                                   output_padding=output_padding, dilation=dilation)
        self.input_shape, self.kernel_shape = ishape, kshape
        self.output_shape = geom.input_shape  # the transposed output
        self.stride, self.dilation, self.padding = geom.stride, geom.dilation, geom.padding
        self.kwargs = dict(stride=stride, padding=padding, dilation=dilation,
                           output_padding=output_padding)
        # every position a stamp can reach, in output coordinates: [-b, (i-1)s + d(k-1) - b]
        self.reach = tuple((-b, (i - 1) * s + d * (k - 1) - b) for i, k, s, d, (b, _) in
                           zip(ishape, kshape, self.stride, self.dilation, self.padding))

    @property
    def ndim(self) -> int:
        return len(self.input_shape)

    def counts_1d(self, axis: int) -> np.ndarray:
        i, k = self.input_shape[axis], self.kernel_shape[axis]
        s, d, (b, _) = self.stride[axis], self.dilation[axis], self.padding[axis]
        o = self.output_shape[axis]
        check_budget(8 * (2 * i * k + o), f"the {i * k:,} (input, tap) pairs of axis {axis}")
        pos = (np.arange(i)[:, None] * s + np.arange(k)[None, :] * d - b).ravel()
        pos = pos[(pos >= 0) & (pos < o)]
        return np.bincount(pos, minlength=o).astype(np.int64)

    def reached(self, shape: tuple[int, int], per_in: int, per_out: int) -> np.ndarray:
        """``written[t]`` (of ``shape``: frames by output entries, channels slowest): the
        outputs some stamp ``0..t`` has reached (a zero sum still shows as 0 there); frame
        ``t`` stamps input entry ``t`` (channel ``t // per``) into its group's outputs."""
        per, n_out = math.prod(self.input_shape), math.prod(self.output_shape)
        written = np.zeros(shape, dtype=bool)
        for t in range(shape[0]):
            pos = self.stamp(t % per)
            keep = np.all((pos >= 0) & (pos < np.asarray(self.output_shape)), axis=1)
            flat = np.ravel_multi_index(tuple(pos[keep].T), self.output_shape)
            for o in _outputs(t // per, per_in, per_out):
                written[t, o * n_out + flat] = True
        return np.logical_or.accumulate(written, axis=0)

    def stamp(self, m: int) -> np.ndarray:
        """(taps, N) output positions (uncropped) written by flat input entry ``m``."""
        start = np.array(np.unravel_index(m, self.input_shape)) * np.asarray(self.stride)
        taps = np.indices(self.kernel_shape).reshape(self.ndim, -1).T
        return start + taps * np.asarray(self.dilation) - np.array([b for b, _ in
                                                                    self.padding])


def overlap_counts(input_shape: Sequence[int], kernel_shape: Sequence[int], *,
                   stride: int | Sequence[int] = 1, padding: Padding = 0,
                   dilation: int | Sequence[int] = 1,
                   output_padding: int | Sequence[int] = 0) -> np.ndarray:
    r"""How many (input entry, kernel tap) pairs of a transposed convolution write each output.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        Spatial shapes of the transposed convolution's input and kernel (any dimension).
    stride, padding, dilation, output_padding
        As in :func:`convmat.conv_transpose_matrix`.

    Returns
    -------
    numpy.ndarray
        Integers of the transposed output's shape
        (:func:`convmat.conv_transpose_output_shape`).

    Notes
    -----
    The count at output position :math:`p` is the number of pairs :math:`(m, j)` with
    :math:`m s + j d - b = p` per dimension, a product over the dimensions; it equals the
    number of stored entries of row :math:`p` of ``conv_transpose_matrix(np.ones(kernel_shape),
    ...)``. Stride 2 with kernel 3 alternates 1, 2, 1, 2, ... (a checkerboard in 2-D);
    kernel 4 covers every position twice (but the two at the ends).

    Examples
    --------
    >>> overlap_counts((4,), (3,), stride=2).tolist()
    [1, 1, 2, 1, 2, 1, 2, 1, 1]
    >>> overlap_counts((4,), (4,), stride=2, padding=1).tolist()
    [1, 2, 2, 2, 2, 2, 2, 1]
    """
    with error_context("overlap_counts", input_shape=input_shape, kernel_shape=kernel_shape):
        st = _Stamps(input_shape, kernel_shape, stride, padding, dilation, output_padding)
        check_budget(8 * math.prod(st.output_shape), f"overlap counts of shape "
                     f"{st.output_shape}")
        counts = st.counts_1d(0)
        for axis in range(1, st.ndim):
            counts = np.multiply.outer(counts, st.counts_1d(axis))
        return counts


def _values(st: _Stamps, x: Any, weight: Any, groups: Any
            ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``(x, w, c_in, c_out)``: ``x`` of shape ``(C_in, *input_shape)`` and ``w`` in the
    layout ``(C_in, C_out/groups, *kernel_shape)`` (ones when not given)."""
    from ..geometry import as_int

    n = st.ndim
    groups = as_int(groups, "groups")
    if groups < 1:
        raise ConvmatError(f"groups={groups} must be a positive integer")
    if weight is None:
        if groups != 1:
            raise ConvmatError(f"groups={groups} needs weight= in the layout (C_in, "
                               f"C_out/groups, *kernel_shape)")
        w = np.ones((1, 1, *st.kernel_shape), dtype=np.int64)
    else:
        w = as_weight(weight)
        if w.ndim == n:
            w = w[None, None]
        if w.ndim != n + 2 or w.shape[2:] != st.kernel_shape:
            raise ConvmatError(f"weight.shape={brief(w.shape)} must be kernel_shape="
                               f"{st.kernel_shape!r} or (C_in, C_out/groups, *kernel_shape)")
        if w.dtype.kind not in "biuf":
            raise ConvmatError(f"weight has dtype {w.dtype}; the pictures show real numbers")
        if w.shape[0] % groups:
            raise ConvmatError(f"groups={groups} does not divide C_in={w.shape[0]} "
                               f"(weight.shape={brief(w.shape)})")
    c_in, c_out = w.shape[0], w.shape[1] * groups
    full = (c_in, *st.input_shape)
    if x is None:
        xa = np.ones(full, dtype=np.int64)
    else:
        xa = as_array(x, "x")
        if xa.size != math.prod(full) or xa.ndim not in (1, n, n + 1):
            raise ConvmatError(f"x.shape={brief(xa.shape)} must be "
                               f"{full if c_in > 1 else st.input_shape!r}")
        if xa.dtype.kind not in "biuf":
            raise ConvmatError(f"x has dtype {xa.dtype}; the pictures show real numbers")
        xa = xa.reshape(full)
    return xa, w, c_in, c_out


def _check_cells(st: _Stamps, c_in: int, c_out: int, what: str) -> None:
    """Refuse a picture with more input or output cells than are legible (the running sums
    are one output per input entry, so they are never made for such a geometry)."""
    cells = max(c_in * math.prod(st.input_shape), c_out * math.prod(st.output_shape))
    if cells > MAX_PICTURE_CELLS:
        raise ConvmatError(
            f"{what} would draw {cells:,} cells (input {st.input_shape}, output "
            f"{st.output_shape}, channels {c_in} -> {c_out}), more than "
            f"{MAX_PICTURE_CELLS:,} legible ones; draw a smaller geometry (overlap_counts "
            f"and conv_transpose_matrix give the numbers)")


def running_sums(st: _Stamps, x: np.ndarray, w: np.ndarray, groups: int = 1) -> np.ndarray:
    """``(frames, C_out * prod(output_shape))``: the output after input entries ``0..t``
    (channels outermost) have stamped, from the columns of
    :func:`convmat.conv_transpose_matrix`."""
    import scipy.sparse as sp

    from ..sparse import conv_transpose_matrix

    frames = x.size
    outputs = w.shape[1] * groups * math.prod(st.output_shape)
    if frames * outputs > _MAX_SUMS:
        raise ConvmatError(f"animate_superposition would show {frames:,} frames of "
                           f"{outputs:,} outputs; draw a smaller geometry (at most "
                           f"{_MAX_SUMS:,} values)")
    a = sp.csc_array(conv_transpose_matrix(w, st.input_shape, groups=groups, **st.kwargs))
    sums = np.zeros((frames, outputs), dtype=np.result_type(a.dtype, x.dtype))
    xs = x.ravel()
    for m in range(frames):
        col = slice(a.indptr[m], a.indptr[m + 1])
        sums[m:, a.indices[col]] += a.data[col] * xs[m]
    return sums


def _planar(st: _Stamps) -> tuple[tuple[int, ...], tuple[int, ...], Any]:
    """(rows, cols) helpers: 1-D shapes as one row."""
    def two(shape):
        return tuple(shape) if st.ndim == 2 else (1, shape[0])

    reach = st.reach if st.ndim == 2 else ((0, 0), st.reach[0])
    return two(st.input_shape), two(st.output_shape), reach


def _shade(values, vmax):
    """Output cells: white to the output green by |value| / vmax."""
    lo, hi = np.array(_rgba("#ffffff")), np.array(_rgba(COLORS["output"]))
    share = np.clip(np.abs(np.asarray(values, dtype=float)) / max(vmax, 1e-12), 0, 1)
    return lo + (hi - lo) * (0.85 * share)[..., None]


def animate_superposition(input_shape: Sequence[int], kernel_shape: Sequence[int], *,
                          stride: int | Sequence[int] = 1, padding: Padding = 0,
                          dilation: int | Sequence[int] = 1,
                          output_padding: int | Sequence[int] = 0, x: Any = None,
                          weight: Any = None, groups: int = 1,
                          figsize: tuple[float, float] | None = None,
                          fontsize: float | None = None, lang: str = "en",
                          labels: Mapping[str, str] | None = None) -> FuncAnimation:
    r"""Animate a transposed convolution as a scatter: each input entry stamps ``x[m] · w``.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        1-D or 2-D spatial shapes of the transposed convolution's input and kernel.
    stride, padding, dilation, output_padding
        As in :func:`convmat.conv_transpose_matrix`.
    x : array_like, optional
        Input values (default ones: the running sum then counts the overlaps), shape
        ``input_shape`` or ``(C_in, *input_shape)``.
    weight : array_like, optional
        Kernel values (default ones): the bare kernel or PyTorch's transposed layout
        ``(C_in, C_out/groups, *kernel_shape)``; with channels every channel is a plane and
        input entry ``x[c, m]`` stamps ``x[c, m] · w[c, o]`` into every output channel
        ``o`` of its group.
    groups : int
    figsize : (float, float), optional
    fontsize : float, optional
        Size of the titles (the numbers in the cells are fitted to them).
    lang, labels
        As in :func:`convmat.figures.animate_convolution`.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        One frame per input entry (C order, channels outermost). Frame ``t`` adds
        ``x[t] · w`` at its place in the output (the stamp outlined; its part in the
        padding is cropped) and shows the running sum. Attributes: ``show_frame(t)``,
        ``n_frames``, ``sums`` (the running sums, ``(n_frames, *output_shape)``, with
        channels ``(n_frames, C_out, *output_shape)``), ``stamps`` (``stamps[t]``: the
        output positions, uncropped, input entry ``t`` writes), ``artists`` and ``figure``.

    Notes
    -----
    ``sums[t]`` is :math:`\sum_{m \le t} x_m\, A_{:, m}` with
    :math:`A` = ``conv_transpose_matrix(weight, input_shape, ...)``, so the last frame is
    :math:`A x`. With the default ones it is :func:`overlap_counts`.

    Examples
    --------
    >>> anim = animate_superposition((3,), (3,), stride=2)
    >>> anim.n_frames, anim.sums[-1].tolist()
    (3, [1, 1, 2, 1, 2, 1, 1])
    """
    with error_context("animate_superposition", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        st = _Stamps(input_shape, kernel_shape, stride, padding, dilation, output_padding)
        _check_drawable(st.ndim, "animate_superposition", (1, 2))
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "animate_superposition")
        _check_cells(st, 1, 1, "animate_superposition")  # before any array is made
        xa, w, c_in, c_out = _values(st, x, weight, groups)
        _check_cells(st, c_in, c_out, "animate_superposition")
        sums = running_sums(st, xa, w, groups)
        _mpl()
        anim = _draw_superposition(st, xa, w, groups, sums, figsize, fontsize, words)
        shape = (c_out, *st.output_shape) if c_out > 1 or c_in > 1 else st.output_shape
        anim.sums = sums.reshape((len(sums), *shape))
        per = math.prod(st.input_shape)
        anim.stamps = [st.stamp(m % per) for m in range(anim.n_frames)]
        anim.picture_layout = partial(superposition_picture, st, xa, w, groups, sums,
                                      _title(st, c_in, c_out, groups, words), _outputs, words)
        return anim


def _title(st: _Stamps, c_in: int = 1, c_out: int = 1, groups: int = 1,
           words: Mapping[str, str] = ENGLISH) -> str:
    def dims(shape):
        return "×".join(map(str, shape))

    w = words
    parts = [f"{w['superposition']}: {w['input']} {dims(st.input_shape)}",
             f"{w['kernel']} {dims(st.kernel_shape)}"]
    if c_in > 1 or c_out > 1:
        parts.append(f"{w['channels']} {c_in}→{c_out}"
                     + (f", {w['groups']} {groups}" if groups > 1 else ""))
    if any(s != 1 for s in st.stride):
        parts.append(f"{w['stride']} {dims(st.stride)}")
    if any(b or a for b, a in st.padding):
        parts.append(f"{w['padding']} " + ", ".join(f"{b}:{a}" if b != a else str(b)
                                                    for b, a in st.padding))
    if any(d != 1 for d in st.dilation):
        parts.append(f"{w['dilation']} {dims(st.dilation)}")
    return ", ".join(parts[:2]) + "\n" + ", ".join(parts[2:] + [
        f"{w['output']} {dims(st.output_shape)}"])


def _draw_superposition(st, xa, w, groups, sums, figsize, fontsize, words):
    from matplotlib.collections import PolyCollection

    from ._animation import _animation

    c_in, c_out = w.shape[0], w.shape[1] * groups
    per_in, per_out = c_in // groups, c_out // groups
    ishape, oshape, reach = _planar(st)
    # the drawn output canvas: the output and every position a stamp reaches
    lo = np.array([min(0, r0) for r0, _ in reach])
    hi = np.array([max(o, r1 + 1) for o, (_, r1) in zip(oshape, reach)])
    canvas = hi - lo
    pgap = 0.8  # between channel planes
    gap = 1.6 if max(c_in, c_out) == 1 else 2.6  # between input and output
    span_w = ishape[1] + gap + canvas[1] + (1.4 if c_in > 1 or c_out > 1 else 0)
    in_h = c_in * (ishape[0] + pgap) - pgap
    out_h = c_out * (canvas[0] + pgap) - pgap
    span_h = max(in_h, out_h)
    cell = float(np.clip(7.6 / span_w, 0.3, 0.7))
    cell = min(cell, (4.6 if span_h < 12 else 6.5) / span_h)
    width, height = _check_figsize(figsize) if figsize is not None else (
        max(span_w * cell + 0.6, 6.0), span_h * cell + 1.9)
    fig = _new_figure(width, height)
    ax = _add_axes(fig, (0.02, 0.62 / height, 0.96, 1 - 1.35 / height))
    x_left = -1.4 if c_in > 1 or c_out > 1 else 0.0  # room for the channel names
    ax.set_xlim(x_left - 0.2, span_w + x_left + 0.2)
    ax.set_ylim(span_h + 0.2, -0.6)
    _bare(ax)
    fs = fontsize or _fontsize(fig, ax, span_w + 0.4, span_h + 0.8)
    in0 = [np.array([(span_h - in_h) / 2.0 + c * (ishape[0] + pgap), 0.0])
           for c in range(c_in)]
    out0 = [np.array([(span_h - out_h) / 2.0 + o * (canvas[0] + pgap), ishape[1] + gap])
            - lo for o in range(c_out)]  # where output position (0, 0) of channel o sits
    # input planes with the values
    rr, cc = np.indices(ishape).reshape(2, -1)
    in_cells = PolyCollection(np.concatenate([_squares(cc + o[1], rr + o[0]) for o in in0]),
                              facecolors=COLORS["input"], edgecolors=COLORS["input_edge"],
                              linewidths=1.0, zorder=1)
    in_cells.set_gid("input-cells")
    ax.add_collection(in_cells)
    fs_x = min(_fit(fs, _fmt(v)) for v in xa.ravel())
    for c, org in enumerate(in0):
        for r, col, v in zip(rr, cc, xa[c].ravel()):
            ax.text(col + org[1] + 0.5, r + org[0] + 0.5, _fmt(v), ha="center", va="center",
                    fontsize=fs_x, color=COLORS["text"], zorder=4)
    # canvas cells: the output, the cropped positions (padding) and never-written positions
    gr, gc = np.indices(tuple(canvas)).reshape(2, -1) + lo[:, None]
    inside = (gr >= 0) & (gr < oshape[0]) & (gc >= 0) & (gc < oshape[1])
    reached = ((gr >= reach[0][0]) & (gr <= reach[0][1]) & (gc >= reach[1][0])
               & (gc <= reach[1][1]))
    cropped = ~inside & reached
    if cropped.any():
        crop = PolyCollection(np.concatenate([_squares(gc[cropped] + o[1], gr[cropped] + o[0])
                                              for o in out0]),
                              facecolors=COLORS["padding"], edgecolors=COLORS["padding_edge"],
                              linestyles="--", linewidths=1.0, zorder=1)
        crop.set_gid("cropped")
        ax.add_collection(crop)
    orr, occ = np.indices(oshape).reshape(2, -1)
    out_verts = np.concatenate([_squares(occ + o[1], orr + o[0]) for o in out0])
    extra = ~(((orr >= reach[0][0]) & (orr <= reach[0][1])) & ((occ >= reach[1][0])
                                                                  & (occ <= reach[1][1])))
    out_cells = PolyCollection(out_verts, facecolors="#ffffff", edgecolors=COLORS["grid"],
                               linewidths=1.0, zorder=1.2)
    out_cells.set_gid("output")
    ax.add_collection(out_cells)
    if extra.any():  # output padding: rows / columns no stamp reaches
        ax.add_collection(PolyCollection(
            np.concatenate([_squares(occ[extra] + o[1], orr[extra] + o[0], 0.06)
                            for o in out0]), facecolors="none",
            edgecolors=COLORS["output"], linestyles=":", linewidths=1.4, zorder=1.3))
    if c_in > 1 or c_out > 1:
        for name, origins, rows in (("in", in0, ishape[0]), ("out", out0, canvas[0])):
            for k, org in enumerate(origins):
                top = org[0] + (lo[0] if name == "out" else 0)
                left = org[1] + (lo[1] if name == "out" else 0)
                ax.text(left - 0.25, top + rows / 2, f"{words[name]} {k}", ha="right",
                        va="center", fontsize=min(11, fs * 1.1), color=COLORS["text"])
    per = math.prod(st.input_shape)
    written = st.reached(sums.shape, per_in, per_out)
    vmax = float(np.abs(sums).max()) if sums.size else 1.0
    fs_out = min(_fit(fs, _fmt(sums[-1].max())), _fit(fs, _fmt(sums[-1].min())))
    texts = [ax.text(v[0, 0] + 0.5, v[0, 1] + 0.5, "", ha="center", va="center",
                     fontsize=fs_out, zorder=4) for v in out_verts]
    # the stamp of the current input entry, and the entry itself
    stamp = PolyCollection(_squares([0], [0], 0.05), facecolors=_rgba(COLORS["kernel"], 0.25),
                           edgecolors=COLORS["kernel"], linewidths=2.2, zorder=3)
    stamp.set_gid("stamp")
    ax.add_collection(stamp)
    current = PolyCollection(_squares([0], [0], 0.04), facecolors="none",
                             edgecolors=COLORS["kernel"], linewidths=2.6, zorder=3)
    current.set_gid("current")
    ax.add_collection(current)
    (link,) = ax.plot([], [], color=COLORS["kernel"], linewidth=1.6, zorder=0.5)
    # the stamp's values x_m w_j, small in each stamp cell's corner
    fs_s = 0.62 * min(_fit(fs, "+" + _fmt(v * u)) for v in (xa.min(), xa.max())
                      for u in (w.min(), w.max()))
    fs_s = max(fs_s, min(8.0, 0.7 * fs))  # legible (8 pt) where the cell has room
    n_taps = math.prod(st.kernel_shape)
    stamp_texts = [ax.text(0, 0, "", ha="right", va="bottom", fontsize=fs_s,
                           color="#8a5a00", zorder=4.5) for _ in range(n_taps * per_out)]
    label = dict(fontsize=fs * 1.15, color=COLORS["text"], ha="center", va="bottom")
    head = min(in0[0][0], out0[0][0] + lo[0]) - 0.1
    ax.text(in0[0][1] + ishape[1] / 2, head, fill(words["input_x"], x="$x$"), **label)
    label["ha"] = "left"
    ax.text(out0[0][1] + lo[1], head, fill(words["running_sum"], xw="$x_m\\,w$"), **label)
    fig.text(0.5, 1 - 0.1 / height, _title(st, c_in, c_out, groups, words), ha="center",
             va="top", fontsize=fontsize or 12, color=COLORS["text"])
    _superposition_legend(fig, cropped.any(), extra.any(), words)

    def update(t: int) -> None:
        c, m = divmod(t, per)
        pos = st.stamp(m)
        if st.ndim == 1:
            pos = np.stack([np.zeros(len(pos)), pos[:, 0]], -1)
        outs = _outputs(c, per_in, per_out)
        stamp.set_verts(np.concatenate([_squares(pos[:, 1] + out0[o][1],
                                                 pos[:, 0] + out0[o][0], 0.05)
                                        for o in outs]))
        r, col = np.unravel_index(m, ishape)
        current.set_verts(_squares([col + in0[c][1]], [r + in0[c][0]], 0.04))
        now = sums[t]
        faces = _shade(now, vmax)
        out_cells.set_facecolors(faces)
        for text, v, face, on in zip(texts, now, faces, written[t]):
            text.set_text(_fmt(v) if on else "")
            text.set_color(_ink(face))
        xm = xa[c].ravel()[m]
        k = 0
        for o in outs:
            for (pr, pc), v in zip(pos, w[c, o % per_out].ravel()):
                stamp_texts[k].set_position((pc + out0[o][1] + 0.94, pr + out0[o][0] + 0.96))
                stamp_texts[k].set_text(("+" if xm * v >= 0 else "") + _fmt(xm * v))
                k += 1
        centre = pos.mean(axis=0)
        target = out0[outs[0]]
        link.set_data([in0[c][1] + ishape[1], centre[1] + target[1] + 0.5],
                      [r + in0[c][0] + 0.5, centre[0] + target[0] + 0.5])

    animated = [out_cells, stamp, current, link, *texts, *stamp_texts]
    return _animation(fig, update, len(sums), {"stamp": stamp, "current": current,
                                               "output": out_cells}, animated,
                      lambda: animated)


def _outputs(c: int, per_in: int, per_out: int) -> range:
    """The output channels input channel ``c`` writes (its group's)."""
    g = c // per_in
    return range(g * per_out, (g + 1) * per_out)


def _superposition_legend(fig: Any, cropped: bool, extra: bool,
                          words: Mapping[str, str] = ENGLISH) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=COLORS["input"], edgecolor=COLORS["input_edge"],
                     label=words["input"]),
               Patch(facecolor=_rgba(COLORS["kernel"], 0.25), edgecolor=COLORS["kernel"],
                     label=fill(words["stamp"], xw="$x_m\\,w$")),
               Patch(facecolor=COLORS["output_light"], edgecolor=COLORS["grid"],
                     label=words["output_sum"])]
    if cropped:
        handles.append(Patch(facecolor=COLORS["padding"], edgecolor=COLORS["padding_edge"],
                             linestyle="--", label=words["cropped"]))
    if extra:
        handles.append(Patch(facecolor="none", edgecolor=COLORS["output"], linestyle=":",
                             label=words["output_padding"]))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=10.5, bbox_to_anchor=(0.5, 0.005), handlelength=1.2,
               columnspacing=1.0)


def plot_overlap(input_shape: Sequence[int], kernel_shape: Sequence[int], *,
                 stride: int | Sequence[int] = 1, padding: Padding = 0,
                 dilation: int | Sequence[int] = 1, output_padding: int | Sequence[int] = 0,
                 ax: Axes | None = None, figsize: tuple[float, float] | None = None,
                 fontsize: float | None = None, lang: str = "en",
                 labels: Mapping[str, str] | None = None) -> Figure | SubFigure:
    r"""Heat map of :func:`overlap_counts`: how many stamps add up at each output position.

    Parameters
    ----------
    input_shape, kernel_shape, stride, padding, dilation, output_padding
        As in :func:`overlap_counts` (1-D or 2-D).
    ax : matplotlib.axes.Axes, optional
    figsize : (float, float), optional
    fontsize : float, optional
    lang, labels
        As in :func:`convmat.figures.animate_convolution`.

    Returns
    -------
    matplotlib.figure.Figure
        The cells (gid ``"counts"``) coloured by count, the count printed in each.

    Examples
    --------
    >>> fig = plot_overlap((3, 3), (3, 3), stride=2)
    >>> fig.axes[0].get_title()
    'overlap counts: stride 2×2, kernel 3×3 (3 distinct)'
    """
    from ._drawing import _check_ax

    with error_context("plot_overlap", input_shape=input_shape, kernel_shape=kernel_shape):
        ax = _check_ax(ax, "plot_overlap")
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "plot_overlap")
        st = _Stamps(input_shape, kernel_shape, stride, padding, dilation, output_padding)
        _check_drawable(st.ndim, "plot_overlap", (1, 2))
        counts = overlap_counts(input_shape, kernel_shape, stride=stride, padding=padding,
                                dilation=dilation, output_padding=output_padding)
        if counts.size > MAX_PICTURE_CELLS:
            raise ConvmatError(f"plot_overlap would draw {counts.size:,} cells; draw a "
                               f"smaller geometry (overlap_counts gives the numbers)")
        _mpl()
        from matplotlib.collections import PolyCollection

        grid = counts if st.ndim == 2 else counts[None, :]
        h, wd = grid.shape
        if ax is None:
            cell = float(np.clip(6.0 / wd, 0.25, 0.6))
            width, height = _check_figsize(figsize) if figsize is not None else (max(wd * cell + 0.6, 4.0), h * cell + 0.9)
            fig = _new_figure(width, height)
            ax = _add_axes(fig, (0.3 / width, 0.15 / height, 1 - 0.6 / width,
                               1 - 0.75 / height))
        fig = ax.figure
        ax.set_xlim(-0.05, wd + 0.05)
        ax.set_ylim(h + 0.05, -0.05)
        _bare(ax)
        rr, cc = np.indices(grid.shape).reshape(2, -1)
        faces = _shade(grid.ravel(), grid.max() if grid.size else 1)
        cells = PolyCollection(list(_squares(cc, rr)), facecolors=faces, edgecolors=COLORS["grid"],
                               linewidths=0.8)
        cells.set_gid("counts")
        ax.add_collection(cells)
        fs = fontsize or 11
        num = _fontsize(fig, ax, wd + 0.1, h + 0.1)
        for r, c, v, face in zip(rr, cc, grid.ravel(), faces):
            ax.text(c + 0.5, r + 0.5, str(int(v)), ha="center", va="center", fontsize=num,
                    color=_ink(face))
        ax.set_title(f"{words['overlap_counts']}: {words['stride']} "
                     f"{'×'.join(map(str, st.stride))}, {words['kernel']} "
                     f"{'×'.join(map(str, st.kernel_shape))} "
                     f"({len(np.unique(counts))} {words['distinct']})", fontsize=fs,
                     color=COLORS["text"])
        return fig
