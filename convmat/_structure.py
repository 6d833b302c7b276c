r"""The one index engine: the (row, col, tap) triplets of a convolution, built once.

For a :class:`~convmat.geometry.ConvGeometry`, :func:`build` returns the CSR skeleton of the
convolution matrix: ``indptr`` and ``indices`` of the sparse matrix, and ``tap``, the flat
index into the weight ``(C_out, C_in/groups, *kernel)`` (C order) of every stored entry.
A numeric matrix is then ``data = weight.ravel()[tap]``; a symbolic one takes its values from
a sympy array; the transposed convolution is the same triplets with rows and columns swapped.

Entry ``(r, c)`` with ``r = (o_c, t)`` (output channel, output position) and
``c = (i_c, p)`` (input channel, input position) holds

.. math::

    A[r, c] = \sum_{j \,:\, \pi(t s + j d) = p} w[o_c,\ i_c - g(o_c) C_{in}/G,\ j]

where :math:`\pi` is the padding map of :func:`convmat.padding.index_map`, applied per axis,
and :math:`g(o_c)` is the group of the output channel. For zero padding each ``(r, c)``
appears at most once and rows come with their columns sorted; the other modes can map two
taps of a row to one input position, and those duplicates are summed by the caller.

Construction is vectorised and O(nnz): rows whose window lies wholly inside the input (the
interior) are written by one broadcast add into a strided view of the output arrays; the
remaining border rows are enumerated in bounded chunks by mixed-radix arithmetic. There is
no Python loop over rows, columns or taps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .geometry import ConvGeometry, tap_range
from .memory import index_dtype_for
from .padding import index_map

__all__ = ["Structure", "build", "CHUNK"]

#: entries enumerated per chunk on the border path (bounds its temporaries)
CHUNK = 1 << 20


@dataclass(frozen=True)
class Structure:
    """CSR skeleton of a convolution matrix plus the weight tap of every stored entry."""

    geometry: ConvGeometry
    indptr: np.ndarray
    indices: np.ndarray
    tap: np.ndarray
    canonical: bool  # sorted columns, no duplicates within a row

    @property
    def shape(self) -> tuple[int, int]:
        return self.geometry.shape

    @property
    def nnz(self) -> int:
        return int(self.indices.size)

    def rows(self) -> np.ndarray:
        """Row index of every stored entry (an nnz-sized array; for views that need COO)."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.shape[0], dtype=self.indices.dtype), counts)


def _per_axis(geom: ConvGeometry):
    """Per axis: padding map, valid-tap range per output position, interior range."""
    axes = []
    for i, k, o, s, d, (b, a) in zip(
        geom.input_shape, geom.kernel_shape, geom.output_shape, geom.stride, geom.dilation,
        geom.padding,
    ):
        pmap = index_map(i, b, a, geom.padding_mode)
        if geom.padding_mode == "zeros":
            lo, hi = tap_range(i, k, s, d, b, o)
        else:
            lo, hi = np.zeros(o, dtype=np.int64), np.full(o, k, dtype=np.int64)
        # interior: every tap reads the unpadded input, t*s >= b and t*s + d(k-1) < b + i
        first = -(-b // s)
        stop = min(o, (b + i - d * (k - 1) - 1) // s + 1) if b + i - d * (k - 1) - 1 >= 0 else 0
        axes.append((pmap, lo, hi, (first, max(first, stop))))
    return axes


def build(geom: ConvGeometry) -> Structure:
    """Build the (row, col, tap) structure of ``geom``.

    Examples
    --------
    >>> from convmat.geometry import conv_geometry
    >>> s = build(conv_geometry((2,), (4,)))
    >>> s.indptr, s.indices, s.tap
    (array([0, 2, 4, 6], dtype=int32), array([0, 1, 1, 2, 2, 3], dtype=int32), array([0, 1, 0, 1, 0, 1], dtype=int32))
    """
    n = geom.ndim
    axes = _per_axis(geom)
    c_in_g = geom.in_channels // geom.groups
    c_out_g = geom.out_channels // geom.groups
    kernel_size = math.prod(geom.kernel_shape)
    in_size = math.prod(geom.input_shape)
    out_size = math.prod(geom.output_shape)
    rows_total, cols_total = geom.shape

    counts = [hi - lo for _, lo, hi, _ in axes]
    nnz = geom.out_channels * c_in_g * math.prod(int(c.sum()) for c in counts)
    idx = index_dtype_for(max(nnz, rows_total, cols_total))
    tap_dtype = index_dtype_for(geom.out_channels * c_in_g * kernel_size)

    # row lengths: C_in/groups times the outer product of the per-axis valid-tap counts
    spatial = np.ones((), dtype=np.int64)
    for c in counts:
        spatial = np.multiply.outer(spatial, c)
    spatial = spatial.ravel() * c_in_g
    indptr = np.empty(rows_total + 1, dtype=idx)
    indptr[0] = 0
    np.cumsum(np.broadcast_to(spatial, (geom.out_channels, out_size)), out=indptr[1:].reshape(
        geom.out_channels, out_size), axis=1)
    indptr[1:].reshape(geom.out_channels, out_size)[:] += (
        np.arange(geom.out_channels, dtype=idx)[:, None] * idx(nnz // geom.out_channels)
    )
    indices = np.empty(nnz, dtype=idx)
    tap = np.empty(nnz, dtype=tap_dtype)

    in_strides = [math.prod(geom.input_shape[a + 1:]) for a in range(n)]
    k_strides = [math.prod(geom.kernel_shape[a + 1:]) for a in range(n)]
    out_strides = [math.prod(geom.output_shape[a + 1:]) for a in range(n)]
    interior = [rng for *_, rng in axes]
    has_interior = all(stop > first for first, stop in interior) and nnz > 0

    if has_interior:
        _fill_interior(geom, axes, indptr, indices, tap, in_strides, k_strides, out_strides,
                       c_in_g, c_out_g, kernel_size, in_size, out_size)
        inside = np.ones((), dtype=bool)
        for (first, stop), o in zip(interior, geom.output_shape):
            axis_inside = np.zeros(o, dtype=bool)
            axis_inside[first:stop] = True
            inside = np.logical_and.outer(inside, axis_inside)
        border = np.flatnonzero(~inside.ravel())
    else:
        border = np.arange(out_size)
    if border.size:
        _fill_border(geom, axes, border, indptr, indices, tap, in_strides, k_strides,
                     c_in_g, c_out_g, kernel_size, in_size, out_size)

    canonical = geom.padding_mode == "zeros" or all(b == a == 0 for b, a in geom.padding)
    return Structure(geom, indptr, indices, tap, canonical)


def _kernel_offsets(geom, in_strides, k_strides, c_in_g, kernel_size, in_size):
    """Column and tap offsets of the entries of one interior row, in storage order."""
    col = np.zeros((), dtype=np.int64)
    tapo = np.zeros((), dtype=np.int64)
    for k, d, ist, kst in zip(geom.kernel_shape, geom.dilation, in_strides, k_strides):
        j = np.arange(k, dtype=np.int64)
        col = np.add.outer(col, j * d * ist)
        tapo = np.add.outer(tapo, ((k - 1 - j) if geom.flip else j) * kst)
    channel = np.arange(c_in_g, dtype=np.int64)
    col = np.add.outer(channel * in_size, col.ravel()).ravel()
    tapo = np.add.outer(channel * kernel_size, tapo.ravel()).ravel()
    return col, tapo


def _fill_interior(geom, axes, indptr, indices, tap, in_strides, k_strides, out_strides,
                   c_in_g, c_out_g, kernel_size, in_size, out_size):
    """All rows whose window lies inside the input: one broadcast add into strided views."""
    n = geom.ndim
    firsts = [first for *_, (first, _) in axes]
    lengths = [stop - first for *_, (first, stop) in axes]
    row0 = sum(f * st for f, st in zip(firsts, out_strides))
    start = int(indptr[row0])
    per_row = c_in_g * kernel_size
    # element strides of the interior block inside the CSR arrays, read off indptr
    strides = [int(indptr[out_size])]  # one output channel
    for a in range(n):
        strides.append(int(indptr[row0 + out_strides[a]]) - start if lengths[a] > 1 else 0)
    strides.append(1)
    shape = (geom.out_channels, *lengths, per_row)

    col_off, tap_off = _kernel_offsets(geom, in_strides, k_strides, c_in_g, kernel_size, in_size)
    # base column of each interior row: group offset + window origin
    base = np.zeros((), dtype=np.int64)
    for (first, stop), s, (b, _), ist in zip(
        (rng for *_, rng in axes), geom.stride, geom.padding, in_strides
    ):
        t = np.arange(first, stop, dtype=np.int64)
        base = np.add.outer(base, (t * s - b) * ist)
    group = np.arange(geom.out_channels, dtype=np.int64) // c_out_g
    base = np.add.outer(group * c_in_g * in_size, base)
    channel_tap = np.arange(geom.out_channels, dtype=np.int64) * per_row

    for out, row_part, entry_part in (
        (indices, base, col_off),
        (tap, channel_tap.reshape((-1,) + (1,) * n), tap_off),
    ):
        item = out.itemsize
        view = as_strided(out[start:], shape=shape, strides=[st * item for st in strides])
        np.add(row_part[..., None].astype(out.dtype), entry_part.astype(out.dtype), out=view)


def _fill_border(geom, axes, border, indptr, indices, tap, in_strides, k_strides,
                 c_in_g, c_out_g, kernel_size, in_size, out_size):
    """Rows at output positions ``border`` (flat spatial), for every output channel.

    Entries are enumerated in chunks of about :data:`CHUNK` by mixed-radix decomposition of
    the entry's rank within its row into (input channel, tap per axis).
    """
    n = geom.ndim
    unravelled = np.unravel_index(border, geom.output_shape)
    counts = [hi[t] - lo[t] for (_, lo, hi, _), t in zip(axes, unravelled)]
    per_position = c_in_g * np.prod(counts, axis=0, dtype=np.int64)
    # rows: every output channel at every border position, in row order
    channel = np.repeat(np.arange(geom.out_channels, dtype=np.int64), border.size)
    position = np.tile(np.arange(border.size, dtype=np.int64), geom.out_channels)
    row_len = per_position[position]
    ends = np.cumsum(row_len)
    cuts = np.searchsorted(ends, np.arange(CHUNK, int(ends[-1]) if ends.size else 0, CHUNK),
                           side="right")
    bounds = np.unique(np.concatenate(([0], cuts, [channel.size])))
    for lo_row, hi_row in zip(bounds[:-1], bounds[1:]):
        ch = channel[lo_row:hi_row]
        pos = position[lo_row:hi_row]
        lengths = row_len[lo_row:hi_row]
        total = int(lengths.sum())
        if total == 0:
            continue
        rep = np.repeat(np.arange(ch.size), lengths)
        first = np.cumsum(lengths) - lengths
        rank = np.arange(total, dtype=np.int64) - first[rep]
        target = indptr[ch * out_size + border[pos]].astype(np.int64)[rep] + rank
        col = np.zeros(total, dtype=np.int64)
        tp = np.zeros(total, dtype=np.int64)
        for a in reversed(range(n)):
            pmap, lo, hi, _ = axes[a]
            t = unravelled[a][pos][rep]
            cnt = (hi - lo)[t]
            j = lo[t] + rank % cnt
            rank //= cnt
            col += pmap[t * geom.stride[a] + j * geom.dilation[a]] * in_strides[a]
            k = geom.kernel_shape[a]
            tp += ((k - 1 - j) if geom.flip else j) * k_strides[a]
        cin = rank  # what is left is the input channel within the group
        group = ch[rep] // c_out_g
        indices[target] = (group * c_in_g + cin) * in_size + col
        tap[target] = (ch[rep] * c_in_g + cin) * kernel_size + tp
