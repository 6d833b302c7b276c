"""The sliding windows of a convolution: the data every picture of :mod:`convmat.figures`
draws, derived from the geometry (output position, tap positions in unpadded input
coordinates, kernel index and the input entry each tap reads)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._memory import check_budget
from .._validate import as_shape
from ..errors import ConvmatError, brief, error_context
from ..geometry import (convolution_geometry, output_padding_for, stretched_padding,
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


def _windows(input_shape, kernel_shape, stride, padding, dilation, transposed,
             output_padding) -> SlidingWindows:
    kshape = as_shape(kernel_shape, "kernel_shape")
    ishape = as_shape(input_shape, "input_shape")
    if len(kshape) != len(ishape):
        raise ConvmatError(f"kernel_shape={brief(kshape)} has {len(kshape)} dimensions but "
                           f"input_shape={brief(ishape)} has {len(ishape)}")
    n = len(ishape)
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
        if output_padding not in (0, None) and np.any(np.asarray(output_padding) != 0):
            raise ConvmatError(f"output_padding={brief(output_padding)} applies to "
                               f"transposed=True only")
        geom = convolution_geometry(ishape, kshape, stride=stride, padding=padding,
                                    dilation=dilation)
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
