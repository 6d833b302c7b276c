"""The sliding windows of a convolution: the data every picture of :mod:`convmat.figures`
draws, derived from the geometry (output position, tap positions in unpadded input
coordinates, kernel index and the input entry each tap reads)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._memory import check_budget
from .._padmap import index_map
from .._validate import as_flag, as_shape
from ..errors import ConvmatError, brief, error_context
from ..geometry import (check_mode, convolution_geometry, output_padding_for, stretched_padding,
                        stretched_size, transposed_geometry)


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
        reads a padding zero or an inserted zero. With another padding mode a tap in the
        padding reads the input entry the padded cell copies (so one window can read an
        entry twice).
    output_padding : tuple of int
        The transposed convolution's output padding (zeros otherwise).
    padding_mode : str
        ``"zeros"`` or the mode of :data:`convmat.geometry.PADDING_MODES` whose copies the
        padded cells hold (forward convolution only).
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
    #: the transposed convolution's output padding per dim (zeros otherwise): the last
    #: ``output_padding`` positions of the implicit padding after the grid
    output_padding: tuple[int, ...] = ()
    #: the padding mode: which input entry each padded cell copies (see :meth:`source_of`)
    padding_mode: str = "zeros"

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

    def source_of(self, pos) -> np.ndarray:
        """The flat input index grid positions ``pos`` (``(cells, N)``) read: the entry
        itself inside the grid, the entry a padded cell copies (``padding_mode`` other than
        zeros), ``-1`` for a zero, an inserted zero or a cropped entry no window reads."""
        pos = np.asarray(pos, dtype=np.int64).reshape(-1, self.ndim)
        if self.transposed or self.padding_mode == "zeros":
            sp = np.asarray(self.input_stride)
            q, r = np.divmod(pos, sp)
            grid = np.asarray(self.grid_shape)
            inside = np.all((pos >= 0) & (pos < grid) & (r == 0), axis=-1)
            per_axis = np.where(inside[:, None], q, -1)
            if self.transposed or not any(b < 0 or a < 0 for b, a in self.padding):
                return _flat(per_axis, self.input_shape)
        per_axis = np.empty_like(pos)
        for k, (n, (b, a)) in enumerate(zip(self.input_shape, self.padding)):
            table = index_map(n, b, a, self.padding_mode)
            i = pos[:, k] + b  # index into the table (which starts at grid position -b)
            ok = (i >= 0) & (i < len(table))
            per_axis[:, k] = np.where(ok, table[np.clip(i, 0, len(table) - 1)], -1)
        return _flat(per_axis, self.input_shape)

    def row(self, t: int) -> dict[int, int]:
        """``{input index: kernel index}`` of the taps of window ``t`` that read an input entry:
        with zero padding, the stored entries of row ``t`` of the matrix (with another mode
        a window may read one entry twice: the dict keeps the last tap)."""
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
    padding_mode: str = "zeros",
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
    padding_mode : str
        As in :func:`convmat.conv_matrix`: what the padded cells hold. With ``"zeros"`` a
        tap in the padding reads nothing (source ``-1``); with ``"reflect"``,
        ``"replicate"``, ``"circular"`` or ``"symmetric"`` it reads the input entry the
        padded cell copies (:func:`convmat._padmap.index_map`, crops included). Forward
        convolution only: ``transposed=True`` with another mode raises
        :class:`~convmat.ConvmatError` (the adjoint of a padding copy is not a sliding
        window over a padded grid).

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
    >>> sliding_windows((4,), (3,), padding=1, padding_mode="reflect")[0].sources.tolist()
    [1, 0, 1]
    """
    with error_context("sliding_windows", input_shape=input_shape, kernel_shape=kernel_shape):
        return _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
                        output_padding, padding_mode)


def windows_bytes(output_shape, kernel_shape) -> int:
    """Peak bytes of the windows of a geometry, from the shapes alone: per (output, tap)
    pair the positions and their quotient and remainder (three int64 N-vectors), the flat
    index, the mask and the sources."""
    n = len(kernel_shape)
    pairs = math.prod(output_shape) * math.prod(kernel_shape)
    return pairs * (24 * n + 25) + 8 * n * (math.prod(output_shape) + math.prod(kernel_shape))


_COORD_LIMIT = 2**62


def _check_coordinates(grid, pads, dilation, kernel_shape) -> None:
    """Every grid coordinate (padding and dilated taps included) fits in int64."""
    for axis, (g, (b, a), d, k) in enumerate(zip(grid, pads, dilation, kernel_shape)):
        if max(g + abs(b) + abs(a), d * (k - 1) + 1) >= _COORD_LIMIT:
            raise ConvmatError(
                f"dilation={d} (axis {axis}) with kernel size {k} on a grid of {g}: the "
                f"window spans about 2^{(d * (k - 1) + g).bit_length() - 1} positions, too "
                f"many to draw")


def _flat(per_axis: np.ndarray, shape) -> np.ndarray:
    """C-order flat index of per-axis indices ``(..., N)``; ``-1`` where any axis is -1."""
    flat = np.zeros(per_axis.shape[:-1], dtype=np.int64)
    for axis, size in enumerate(shape):
        flat = flat * size + np.clip(per_axis[..., axis], 0, size - 1)
    return np.where(np.all(per_axis >= 0, axis=-1), flat, -1)


def _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
             output_padding, padding_mode="zeros") -> SlidingWindows:
    kshape = as_shape(kernel_shape, "kernel_shape")
    ishape = as_shape(input_shape, "input_shape")
    if len(kshape) != len(ishape):
        raise ConvmatError(f"kernel_shape={brief(kshape)} has {len(kshape)} dimensions but "
                           f"input_shape={brief(ishape)} has {len(ishape)}")
    n = len(ishape)
    transposed = as_flag(transposed, "transposed")
    if transposed and not (isinstance(padding_mode, str) and padding_mode == "zeros"):
        check_mode(padding_mode, ((0, 0),) * n, ishape)  # the name first
        raise ConvmatError(f"padding_mode={padding_mode!r} with transposed=True: the "
                           f"pictures draw the transposed convolution as a sliding window "
                           f"over zero padding; draw padding_mode='zeros' or the forward "
                           f"convolution")
    if transposed:
        geom = transposed_geometry(ishape, kshape, stride=stride, padding=padding,
                                   output_padding=output_padding, dilation=dilation)
        s, d = geom.stride, geom.dilation
        grid = tuple(stretched_size(i, si) for i, si in zip(ishape, s))
        out = geom.input_shape  # the forward convolution's input is the transposed output
        pads = []
        for i, k, si, di, (b, a), o in zip(ishape, kshape, s, d, geom.padding, out):
            pads.append(stretched_padding(k, di, b, a, output_padding_for(o, i, k, si, di, b, a)))
        slide, spacing = (1,) * n, s
    else:
        if output_padding is not None and np.any(np.asarray(output_padding, dtype=object) != 0):
            raise ConvmatError(f"output_padding={brief(output_padding)} applies to "
                               f"transposed=True only")
        geom = convolution_geometry(ishape, kshape, stride=stride, padding=padding,
                                    dilation=dilation, padding_mode=padding_mode)
        grid, out, pads = ishape, geom.output_shape, list(geom.padding)
        slide, spacing, d = geom.stride, (1,) * n, geom.dilation
    check_budget(windows_bytes(out, kshape), f"the {math.prod(out):,} windows of "
                 f"{math.prod(kshape):,} taps (sliding_windows)",
                 advice="Draw a smaller geometry; conv_matrix builds the matrix itself "
                        "without enumerating windows. ")
    _check_coordinates(grid, pads, d, kshape)
    tap_index = np.indices(kshape).reshape(n, -1).T  # (taps, N), C order
    out_index = np.indices(out).reshape(n, -1).T  # (outputs, N)
    start = out_index * np.asarray(slide) - np.asarray([b for b, _ in pads])
    positions = start[:, None, :] + tap_index[None, :, :] * np.asarray(d)
    taps = np.arange(tap_index.shape[0])
    if transposed:
        taps = taps[::-1].copy()  # reversed kernel: tap j reads weight k-1-j in every dim
    win = SlidingWindows(tuple(grid), tuple((int(b), int(a)) for b, a in pads),
                          tuple(slide), tuple(d), kshape, tuple(out), ishape, tuple(spacing),
                          bool(transposed), positions, taps, np.empty((0, 0), np.int64),
                          tuple(geom.input_shape[k] - ((ishape[k] - 1) * s[k] - sum(
                              geom.padding[k]) + d[k] * (kshape[k] - 1) + 1) for k in range(n))
                          if transposed else (0,) * n, geom.padding_mode)
    win = dataclasses.replace(win, sources=win.source_of(positions.reshape(-1, n)).reshape(
        positions.shape[:2]))
    return win
