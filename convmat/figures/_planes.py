"""Channels, groups and 3-D in the sliding pictures: every input channel (and every depth
slice of a 3-D input) drawn as a plane, the kernel's footprint on the planes of the current
output channel's group, the output planes filling up; one frame per row of the full matrix
(output channel outermost, then the output positions in C order)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._drawing import (
    _cell_kinds,
    _copy_label,
    _grid_cells,
    _fill_outputs,
    COLORS,
    ENGLISH,
    MAX_VALUE_FRAMES,
    _bare,
    _check_drawable,
    _check_extent,
    _fit,
    _fmt,
    _fontsize,
    _mpl,
    _rgba,
    _squares,
)
from ._windows import SlidingWindows, _windows
from .._validate import as_array, as_flag, as_shape, as_weight
from ..errors import ConvmatError, brief
from ..geometry import as_int, convolution_geometry, transposed_geometry


@dataclass
class Scene:
    """What a sliding picture draws: the spatial windows and the channel structure.

    ``weight`` has the layout ``(C_out, C_in/groups, *k)`` (``(C_in, C_out/groups, *k)``
    when transposed) or is the bare kernel (one channel); ``x`` is ``(C_in, *input)`` or
    the bare input.
    """

    win: SlidingWindows
    c_in: int
    c_out: int
    groups: int
    weight: np.ndarray | None
    x: np.ndarray | None
    kwargs: dict
    #: the label catalogue the picture writes (``lang=``, ``labels=``)
    words: Mapping[str, str] = field(default_factory=lambda: ENGLISH)

    @property
    def layered(self) -> bool:
        """Drawn as planes: channels or 3-D (else the single-plane picture)."""
        return self.c_in > 1 or self.c_out > 1 or self.win.ndim == 3

    @property
    def n_frames(self) -> int:
        return self.c_out * len(self.win)

    def group_inputs(self, o: int) -> range:
        """The input channels output channel ``o`` reads (its group)."""
        g = o // (self.c_out // self.groups)
        per = self.c_in // self.groups
        return range(g * per, (g + 1) * per)

    def window(self, t: int) -> tuple[int, range, np.ndarray]:
        """Frame ``t`` (row ``t`` of the full matrix): ``(output channel, input channels,
        tap positions (taps, N) in grid coordinates)``."""
        o, ts = divmod(int(t), len(self.win))
        return o, self.group_inputs(o), self.win.positions[ts]

    def kernel(self) -> np.ndarray:
        """The weight, taps numbered 1, 2, ... when none is given."""
        if self.weight is not None:
            return self.weight
        return np.arange(1, math.prod(self.win.kernel_shape) + 1).reshape(
            self.win.kernel_shape)

    def matrix(self):
        """The full matrix of the picture (engine: conv_matrix / conv_transpose_matrix)."""
        from ..sparse import conv_matrix, conv_transpose_matrix

        build = conv_transpose_matrix if self.win.transposed else conv_matrix
        return build(self.kernel(), self.win.input_shape, groups=self.groups, **self.kwargs)

    def tap_weight(self, o: int, c: int) -> np.ndarray:
        """The flat kernel taps output channel ``o`` applies to input channel ``c``."""
        w = self.kernel()
        if w.ndim == self.win.ndim:
            return w.ravel()
        per_out = self.c_out // self.groups
        if self.win.transposed:  # (C_in, C_out/groups, *k)
            return w[c, o % per_out].ravel()
        return w[o, c % (self.c_in // self.groups)].ravel()


def scene(what: str, input_shape: Any, kernel_shape: Any, stride: Any, padding: Any,
          dilation: Any, transposed: bool, output_padding: Any, x: Any, weight: Any,
          groups: Any = 1, padding_mode: str = "zeros") -> Scene:
    """Validate a sliding picture's arguments (before anything large is allocated)."""
    transposed = as_flag(transposed, "transposed")
    ishape = as_shape(input_shape, "input_shape")
    kshape = as_shape(kernel_shape, "kernel_shape")
    _check_drawable(len(ishape), what, (1, 2, 3))
    groups = as_int(groups, "groups")
    if groups < 1:
        raise ConvmatError(f"groups={groups} must be a positive integer")
    n = len(ishape)
    w = None
    wshape = kshape
    if weight is not None:
        w = as_weight(weight)
        if w.dtype.kind not in "biuf":
            raise ConvmatError(f"weight has dtype {w.dtype}; the pictures show real numbers")
        if w.ndim == n + 2 and w.shape[:2] == (1, 1) and groups == 1:
            w = w[0, 0]
        if w.shape[-n:] != kshape or w.ndim not in (n, n + 2):
            raise ConvmatError(f"weight.shape={brief(w.shape)} does not match "
                               f"kernel_shape={kshape!r}: give the bare kernel or the layout "
                               f"(C_out, C_in/groups, *kernel_shape)")
        wshape = w.shape
    elif groups != 1:
        raise ConvmatError(f"groups={groups} needs weight= in the layout (C_out, "
                           f"C_in/groups, *kernel_shape)")
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    if transposed:
        kwargs["output_padding"] = output_padding
        transposed_geometry(ishape, wshape, groups=groups, **kwargs)
    else:
        convolution_geometry(ishape, wshape, groups=groups, padding_mode=padding_mode,
                             **kwargs)
    if len(wshape) == n + 2:
        first, second = wshape[0], wshape[1] * groups
        c_in, c_out = (first, second) if transposed else (second, first)
    else:
        c_in = c_out = 1
    win = _windows(ishape, kshape, stride, padding, dilation, transposed, output_padding,
                   padding_mode)
    if win.padding_mode != "zeros":
        kwargs["padding_mode"] = win.padding_mode
    _check_extent(win, what, planes=c_in, frames=c_out * len(win))
    xa = None
    if x is not None:
        xa = as_array(x, "x")
        if xa.dtype.kind not in "biuf":
            raise ConvmatError(f"x has dtype {xa.dtype}; the pictures show real numbers")
        full = (c_in, *ishape) if c_in > 1 else ishape
        if xa.size != math.prod(full) or xa.ndim not in (1, n, n + 1):
            raise ConvmatError(f"x.shape={brief(xa.shape)} must be {full!r} (input channels "
                               f"first)")
        xa = xa.reshape(full)
    _mpl()
    return Scene(win, c_in, c_out, groups, w, xa, kwargs)


GAP = 0.8  # between the planes of one channel (depth slices)
CHANNEL_GAP = 1.4


def _origins(channels, depth, shape2, top, vertical):
    """(channels, depth, 2) upper-left corners (x, y) of the planes."""
    origin = np.zeros((channels, depth, 2))
    for c in range(channels):
        for z in range(depth):
            if vertical:
                origin[c, z] = (0.0, top + c * (shape2[0] + GAP))
            else:
                k = c * depth + z
                origin[c, z] = (k * (shape2[1] + GAP) + c * (CHANNEL_GAP - GAP), top)
    return origin


def plane_layout(sc: Scene) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], np.ndarray,
                                     np.ndarray, tuple[float, float]]:
    """(lo3, input extent, output shape, input origins, output origins, (height, width)):
    the drawn input grid per dim (padding and crops included) as (depth, rows, cols)."""
    win = sc.win
    n = win.ndim
    lo = [min(-b, 0) for b, _ in win.padding]
    hi = [max(g + a, g) for g, (_, a) in zip(win.grid_shape, win.padding)]
    lo3 = np.array([0] * (3 - n) + lo)
    ext = np.array([1] * (3 - n) + hi) - lo3
    out3 = (1,) * (3 - n) + tuple(win.output_shape)
    vertical = n == 1  # 1-D: the channel rows stacked
    in_origin = _origins(sc.c_in, ext[0], ext[1:], 0.0, vertical)
    in_h = sc.c_in * (ext[1] + GAP) - GAP if vertical else ext[1]
    top_out = in_h + (1.4 if vertical else 1.9)
    out_origin = _origins(sc.c_out, out3[0], np.array(out3[1:]), top_out, vertical)
    in_w = in_origin[..., 0].max() + ext[2]
    out_w = out_origin[..., 0].max() + out3[2]
    width = max(in_w, out_w) + 0.2
    out_h = sc.c_out * (out3[1] + GAP) if vertical else out3[1]
    height = top_out + out_h + 0.2
    margin = 2.0 if vertical else 0.7 if n == 3 else 0.0  # room for the names at the left
    in_origin[..., 0] += (width - 0.2 - in_w) / 2 + margin  # centre the narrower block
    out_origin[..., 0] += (width - 0.2 - out_w) / 2 + margin
    width += margin
    return lo3, ext, out3, in_origin, out_origin, (height + 1.0, width + 0.4)


def origins_h(planes: Any, which: str) -> int:
    """Rows of one input (``"in"``) or output plane."""
    return int(planes.ext[1] if which == "in" else planes.out3[1])


class Planes:
    """The sliding picture with planes: input planes (channel, depth slice) in a row, the
    output planes below; ``update(t)`` shows row ``t`` of the full matrix."""

    def __init__(self, fig: Any, ax: Any, sc: Scene, y: Any, *, tap_colors: Any = None):
        from matplotlib.collections import PolyCollection

        self.sc, self.ax = sc, ax
        win = sc.win
        n = win.ndim
        (self.lo3, ext, out3, self.in_origin, self.out_origin,
         self.span) = plane_layout(sc)
        self.vertical = n == 1
        self.ext, self.out3 = ext, out3
        height, width = self.span
        ax.set_xlim(-0.3, width - 0.3)
        ax.set_ylim(height - 0.9, -0.9)
        _bare(ax)
        fs = _fontsize(fig, ax, width, height)
        self.fontsize = fs
        # input cells by kind, on every plane
        grid = np.indices(tuple(ext)).reshape(3, -1).T + self.lo3  # (cells, 3) z, r, c
        sp3 = np.array((1,) * (3 - n) + tuple(win.input_stride))
        kinds = _cell_kinds(win, grid[:, 3 - n:])
        real = kinds.get("input", np.zeros(len(grid), dtype=bool))
        self.roles = list(kinds)
        _grid_cells(ax, kinds, lambda mask: np.concatenate(
            [self._in_squares(c, grid[mask]) for c in range(sc.c_in)]), 0.8)
        self._names("in", sc.c_in, self.in_origin, ext[2], self.lo3[0], fs)
        # input numbers
        self.input_texts: dict = {}
        if sc.x is not None:
            xs = sc.x.reshape(sc.c_in, -1)
            fs_x = min(_fit(fs, _fmt(v)) for v in xs.ravel())
            pos = grid[real]
            flat = np.ravel_multi_index(tuple((pos // sp3).T), (1,) * (3 - n)
                                        + tuple(win.input_shape))
            for c in range(sc.c_in):
                for (x0, y0), v in zip(self._in_squares(c, pos)[:, 0], xs[c, flat]):
                    ax.text(x0 + 0.5, y0 + 0.5, _fmt(v), ha="center", va="center",
                            fontsize=fs_x, color=COLORS["text"], zorder=4)
        if win.padding_mode != "zeros":  # padded cells name the entry they copy
            pad = grid[~real]
            src = win.source_of(pad[:, 3 - n:])
            copies = sc.x.reshape(sc.c_in, -1) if sc.x is not None else None
            for c in range(sc.c_in):
                labels = [_copy_label(win, v, None if copies is None else copies[c])
                          for v in src]
                fs_c = min([_fit(fs, t) for t in labels] or [fs])
                for (x0, y0), v, label in zip(self._in_squares(c, pad)[:, 0], src, labels):
                    if v >= 0:
                        ax.text(x0 + 0.5, y0 + 0.5, label, ha="center", va="center",
                                fontsize=fs_c * 0.9, color=COLORS["input_edge"],
                                fontstyle="italic", alpha=0.75, zorder=4)
        # output planes
        og = np.indices(out3).reshape(3, -1).T
        self.out_verts = np.concatenate([self._out_squares(o, og) for o in range(sc.c_out)])
        ax.add_collection(PolyCollection(list(self.out_verts), facecolors=COLORS["pending"],
                                         edgecolors=COLORS["grid"], linewidths=0.8, zorder=1))
        self._names("out", sc.c_out, self.out_origin, out3[2], 0, fs)
        self.output = PolyCollection(list(self.out_verts[:1]), edgecolors=COLORS["grid"],
                                     zorder=1.5)
        self.output.set_gid("output")
        ax.add_collection(self.output)
        self.out_faces = np.tile(np.array(_rgba(COLORS["output_light"])),
                                 (len(self.out_verts), 1))
        self.out_texts = []
        if y is not None and len(y) <= MAX_VALUE_FRAMES:  # (each frame redraws them)
            fs_y = min(_fit(fs, _fmt(v)) for v in np.asarray(y).ravel())
            for k, value in enumerate(np.asarray(y).ravel()):
                cx, cy = self.out_verts[k, 0] + 0.5
                self.out_texts.append(ax.text(cx, cy, _fmt(value), ha="center",
                                              va="center", fontsize=fs_y, zorder=4,
                                              color=COLORS["text"], visible=False))
        self.kernel = PolyCollection(list(_squares([0], [0], 0.04)), facecolors=COLORS["kernel"],
                                     edgecolors=COLORS["kernel"], linewidths=1.8, alpha=0.55,
                                     zorder=3)
        self.kernel.set_gid("kernel")
        ax.add_collection(self.kernel)
        self.tap_colors = tap_colors
        n_taps = win.taps.size * (sc.c_in // sc.groups)
        # with tap colours: a bar along the top edge of each kernel cell, clear of the digits
        self.swatches = PolyCollection([], edgecolors="white", linewidths=0.4, zorder=3.5)
        self.swatches.set_gid("tap-swatches")
        ax.add_collection(self.swatches)
        self.weight_texts = []
        if sc.weight is not None:  # "×w" at the bottom right, 8 pt where the cell has room
            fs_w = max(0.62 * fs, min(8.0, 0.72 * fs))  # (below the centred digits)
            self.weight_texts = [ax.text(0, 0, "", ha="right", va="bottom", fontsize=fs_w,
                                         color="#6b3300", fontweight="bold", zorder=4.5)
                                 for _ in range(n_taps)]
        self.animated = [self.output, self.kernel, self.swatches, *self.out_texts,
                         *self.weight_texts]
        self.covered: list = []

    def _names(self, which: str, channels: int, origins: np.ndarray, plane_w: float, z0: int,
               fs: float) -> None:
        """Name every plane (``in c`` / ``out o``, ``z=k`` for a depth slice), the font
        fitted to the plane's width."""
        n = self.sc.win.ndim
        for c in range(channels):
            for z in range(origins.shape[1]):
                words = self.sc.words
                parts = [f"{words[which]} {c}"] if channels > 1 else (
                    [] if n == 3 else [words["input" if which == "in" else "output"]])
                if n == 3:
                    parts.append(f"z={z + z0}")
                name = ", ".join(parts)
                x0, y0 = origins[c, z]
                if self.vertical:
                    self.ax.text(x0 - 0.2, y0 + 0.5, name, ha="right", va="center",
                                 fontsize=min(fs * 1.05, 11), color=COLORS["text"])
                    continue
                if n == 3 and c == 0 and z == 0:  # the block's name once, at its left
                    self.ax.text(x0 - 0.25, y0 + origins_h(self, which) / 2,
                                 words["input" if which == "in" else "output"], rotation=90,
                                 ha="right", va="center", fontsize=min(fs * 1.05, 11),
                                 color=COLORS["text"])
                room = (plane_w + GAP * 0.8) * fs / 0.42 / (0.6 * max(len(name), 1))
                self.ax.text(x0 + plane_w / 2, y0 - 0.15, name, ha="center", va="bottom",
                             fontsize=min(fs * 1.05, 11, room), color=COLORS["text"])

    def _in_squares(self, c, pos3, inset=0.0):
        """Unit squares of grid positions ``pos3`` (z, r, c) on input channel ``c``."""
        pos3 = np.asarray(pos3)
        o = self.in_origin[c, pos3[:, 0] - self.lo3[0]]
        return _squares(o[:, 0] + pos3[:, 2] - self.lo3[2], o[:, 1] + pos3[:, 1] - self.lo3[1],
                        inset)

    def _out_squares(self, o, pos3, inset=0.0):
        pos3 = np.asarray(pos3)
        org = self.out_origin[o, pos3[:, 0]]
        return _squares(org[:, 0] + pos3[:, 2], org[:, 1] + pos3[:, 1], inset)

    def frame_artists(self) -> list:
        return [a for a in self.animated if a.get_visible()] + self.covered

    def footprint(self, t: int) -> tuple[int, range, np.ndarray]:
        """(input channels, tap positions (taps, 3)) of frame ``t``."""
        sc = self.sc
        o, chans, pos = sc.window(t)
        pos3 = np.concatenate([np.zeros((len(pos), 3 - sc.win.ndim), dtype=pos.dtype), pos],
                              axis=1)
        return o, chans, pos3

    def update(self, t: int) -> None:
        o, chans, pos3 = self.footprint(t)
        verts = np.concatenate([self._in_squares(c, pos3, 0.04) for c in chans])
        self.kernel.set_verts(list(verts))
        if self.tap_colors is not None:
            taps = np.tile(self.sc.win.taps, len(chans))
            bars = verts.copy()
            corner = verts.min(axis=1)[:, None, :]
            bars[:, :, 0] = corner[:, :, 0] + 0.1 + (verts[:, :, 0] - corner[:, :, 0]) * 0.8
            bars[:, :, 1] = corner[:, :, 1] + 0.06 + (verts[:, :, 1] - corner[:, :, 1]) * 0.15
            self.swatches.set_verts(list(bars))
            self.swatches.set_facecolor(self.tap_colors[taps])
        if self.weight_texts:
            values = np.concatenate([self.sc.tap_weight(o, c)[self.sc.win.taps]
                                     for c in chans])
            for text, v, (x0, y0) in zip(self.weight_texts, values, verts[:, 0]):
                text.set_position((x0 + 0.94, y0 + 0.94))
                text.set_text("×" + _fmt(v))
        _fill_outputs(self.output, self.out_faces, self.out_verts, self.out_texts, t,
                      (0.8, 2.2))
