r"""A sparse matrix whose rows are local, times a convolution's matrix, without the
convolution's matrix: each row is a small dense patch of the convolution's output, and
the row of the product is that patch through the transposed convolution.

Row :math:`r` of :math:`L` holds entries only at output positions inside a box
:math:`[\ell_r, \ell_r + E)` (per axis, over all output channels). With :math:`W` the
layer's (cross-correlation) weight, stride :math:`s`, dilation :math:`d`,

.. math::

    (L A)_{r,\,(c,\,u)} = \sum_{o,\,q,\,t\;:\;q s + t d = u} L_{r,\,(o,\,q)}\, W_{o,\,c,\,t},

the transposed convolution of the patch :math:`L_{r,\,(\cdot,\,\ell_r + \cdot)}`: a box of
:math:`F = (E - 1) s + (k - 1) d + 1` padded input positions from :math:`\ell_r s`, mapped to
input columns by the padding map (zero padding drops a position; the other modes read an
input twice, summed). All rows of a block go through one matrix product with the dense
matrix of the transposed convolution on one box (:math:`C_\text{out} \prod E` by
:math:`C_\text{in} \prod F`, made once per product from the weight by a matrix product
per kernel tap), so a chain of convolutions multiplied from its output end is dense BLAS
work on the entries that exist, instead of a sparse product's per-entry bookkeeping. A
row in one output channel alone (a selection of the layer's rows) is that channel's
weight, placed.

Its stored entries are bounded from the geometry before anything is allocated: rows
:math:`\times\ C_\text{in} \prod F`, capped by the columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .._memory import check_budget, index_dtype_for
from ..geometry import ConvGeometry
from ..operator import ConvOperator

__all__ = ["Patches", "conv_rows", "stored_bound"]

#: bytes of a chunk's dense patches (input and output of the transposed convolution)
PATCH_BYTES = 1 << 25
#: the patches may hold at most this many times the entries of the rows they come from
#: (beyond, the rows are not local enough: a sparse product is cheaper)
DENSITY = 8
#: a dense multiply-add (BLAS) costs about this fraction of a sparse product's: the patches
#: are used when their work is at most this many times the sparse product's
SPEED = 16

#: entries of the largest transposed convolution held as one dense box matrix (beyond,
#: a matrix product per kernel tap on the patches)
BOX_ENTRIES = 1 << 22


def _boxes(left: sp.csr_array, out_shape: tuple) -> tuple[np.ndarray, ...]:
    """(rows with entries, per-axis first position, per-axis extent, entries' channel and
    per-axis position) of ``left``'s columns in the output grid ``out_shape``."""
    indptr = left.indptr.astype(np.int64)
    counts = np.diff(indptr)
    rows = np.flatnonzero(counts)
    channel, pos = np.divmod(left.indices.astype(np.int64), math.prod(out_shape))
    q = np.stack(np.unravel_index(pos, out_shape))  # (ndim, nnz)
    starts = indptr[rows]
    lo = np.minimum.reduceat(q, starts, axis=1) if rows.size else q[:, :0]
    hi = np.maximum.reduceat(q, starts, axis=1) if rows.size else q[:, :0]
    extent = (hi - lo + 1).max(axis=1) if rows.size else np.ones(len(out_shape), np.int64)
    return rows, lo, extent, channel, q


def stored_bound(n_rows: int, extent: Sequence[int], geom: ConvGeometry, channels: int) -> int:
    """Upper bound of the product's stored entries from the geometry: per row,
    ``channels x prod(F)`` with ``F = (E - 1) s + (k - 1) d + 1``, capped by the columns
    (the input channels a row reads: all of them, or one group's)."""
    box = math.prod((e - 1) * s + (k - 1) * d + 1 for e, s, k, d in
                    zip(extent, geom.stride, geom.kernel_shape, geom.dilation))
    per_row = min(channels * box, channels * math.prod(geom.input_shape))
    return n_rows * per_row


def _transposed(patch: np.ndarray, w: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """Batched transposed convolution of ``patch`` (rows, C_out, *E) without padding:
    (rows, C_in, *F)."""
    rows, e = patch.shape[0], patch.shape[2:]
    f = tuple((ei - 1) * s + (k - 1) * d + 1 for ei, s, k, d in
              zip(e, geom.stride, geom.kernel_shape, geom.dilation))
    g = geom.groups
    c_out_g, c_in_g = geom.out_channels // g, geom.in_channels // g
    out = np.zeros((rows, g, c_in_g) + f)
    # (rows, g, prod(E), C_out/g): a matrix product per tap over the output channels
    p = np.moveaxis(patch.reshape((rows, g, c_out_g, -1)), 2, -1)
    wg = w.reshape((g, c_out_g, c_in_g) + tuple(geom.kernel_shape))
    for tap in np.ndindex(*geom.kernel_shape):
        window = tuple(slice(t * d, t * d + (ei - 1) * s + 1, s) for t, d, ei, s in
                       zip(tap, geom.dilation, e, geom.stride))
        wt = wg[(slice(None), slice(None), slice(None)) + tap]
        contrib = (p @ wt).reshape((rows, g) + e + (c_in_g,))  # (rows, g, E..., C_in/g)
        out[(slice(None), slice(None), slice(None)) + window] += np.moveaxis(contrib, -1, 2)
    return out.reshape((rows, geom.in_channels) + f)


def _box_matrix(w: np.ndarray, geom: ConvGeometry, extent: tuple) -> np.ndarray:
    """The transposed convolution of one box of ``extent`` output positions, dense:
    ``M[(o, e), (c, e s + t d)] = W[o, c, t]``, shape ``(C_out prod(E), C_in prod(F))``."""
    n, k = geom.ndim, tuple(geom.kernel_shape)
    f = tuple((e - 1) * s + (kk - 1) * d + 1 for e, s, kk, d in
              zip(extent, geom.stride, k, geom.dilation))
    pe, pk, pf = math.prod(extent), math.prod(k), math.prod(f)
    c_out, c_in_g = geom.out_channels, geom.in_channels // geom.groups
    e_at = np.indices(extent).reshape(n, -1).T  # (PE, n)
    t_at = np.indices(k).reshape(n, -1).T  # (PK, n)
    at = (e_at[:, None] * np.asarray(geom.stride) + t_at[None] * np.asarray(geom.dilation))
    f_flat = np.ravel_multi_index(tuple(np.moveaxis(at, -1, 0)), f)  # (PE, PK)
    first = np.arange(c_out) // (c_out // geom.groups) * c_in_g  # (C_out,)
    channel = first[:, None] + np.arange(c_in_g)  # (C_out, C_in/g)
    row = (np.arange(c_out)[:, None] * pe + np.arange(pe))[:, :, None, None]
    col = channel[:, None, :, None] * pf + f_flat[None, :, None, :]
    out = np.zeros((c_out * pe, geom.in_channels * pf))
    out[np.broadcast_to(row, col.shape), col] = np.broadcast_to(
        w.reshape(c_out, 1, c_in_g, pk), col.shape)
    return out


def _transposed_rows(patch: np.ndarray, w_rows: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """Transposed convolution of one-channel patches (rows, *E), each with its own
    output channel's weight ``w_rows`` (rows, C_in / groups, *k): (rows, C_in / groups, *F).
    """
    n, e = geom.ndim, patch.shape[1:]
    f = tuple((ei - 1) * s + (k - 1) * d + 1 for ei, s, k, d in
              zip(e, geom.stride, geom.kernel_shape, geom.dilation))
    out = np.zeros(w_rows.shape[:2] + f)
    p = patch[:, None]
    for tap in np.ndindex(*geom.kernel_shape):
        window = tuple(slice(t * d, t * d + (ei - 1) * s + 1, s) for t, d, ei, s in
                       zip(tap, geom.dilation, e, geom.stride))
        wt = w_rows[(slice(None), slice(None)) + tap].reshape(w_rows.shape[:2] + (1,) * n)
        out[(slice(None), slice(None)) + window] += p * wt
    return out


def conv_rows(left: sp.csr_array, op: ConvOperator, what: str) -> sp.csr_array | None:
    """``left @ A`` for the convolution ``A`` of the matrix-free operator ``op``
    (:func:`convmat.conv_operator`), as canonical CSR, row patch by row patch; ``None``
    when ``left``'s rows are not local (their patches would hold over :data:`DENSITY`
    times their entries)."""
    g = op.geom
    out_shape, in_shape = tuple(g.output_shape), tuple(g.input_shape)
    rows, lo, extents, channel, q = _boxes(left, out_shape)
    extent = tuple(int(e) for e in extents)
    starts = left.indptr[rows].astype(np.int64)
    row_channel = np.minimum.reduceat(channel, starts) if rows.size else channel[:0]
    # every row in one output channel (a selection of the layer's rows, a row scaled):
    # its patch has one channel, through that channel's weight alone
    single = bool(np.array_equal(row_channel, np.maximum.reduceat(channel, starts))) \
        if rows.size else True
    patch_size = (1 if single else g.out_channels) * math.prod(extent)
    c_in = g.in_channels // g.groups if single else g.in_channels
    f = tuple((e - 1) * s + (k - 1) * d + 1 for e, s, k, d in
              zip(extent, g.stride, g.kernel_shape, g.dilation))
    sparse_work = left.nnz * (g.in_channels // g.groups) * math.prod(g.kernel_shape)
    dense_work = rows.size * patch_size * (math.prod(g.kernel_shape) * g.in_channels // g.groups
                                           if single else c_in * math.prod(f))
    if rows.size * patch_size > DENSITY * max(left.nnz, 1) or dense_work > SPEED * sparse_work:
        return None
    nnz = stored_bound(rows.size, extent, g, c_in)
    index = index_dtype_for(max(nnz, math.prod(op.shape)))
    isize = np.dtype(index).itemsize
    check_budget(nnz * (8 + isize) + (left.shape[0] + 1) * isize, what, nnz=nnz)
    # per axis, the input index of every padded position a box can reach (-1: outside)
    maps = []
    for m, s, fi, o in zip(op._maps, g.stride, f, out_shape):
        reach = (o - 1) * s + fi
        maps.append(np.concatenate([m, np.full(max(0, reach - m.size), -1, np.int64)]))
    in_size = math.prod(in_shape)
    strides = [math.prod(in_shape[a + 1:]) for a in range(len(in_shape))]
    per_row = c_in * math.prod(f)
    c_out_g = g.out_channels // g.groups
    box = None
    if not single and patch_size * per_row <= BOX_ENTRIES:  # the box's transposed conv
        box = _box_matrix(op._w, g, extent)
    chunk = max(1, PATCH_BYTES // (8 * (patch_size + per_row)))
    counts = np.zeros(left.shape[0], dtype=np.int64)
    data_parts, index_parts = [], []
    entry_row = np.repeat(np.arange(rows.size), np.diff(left.indptr)[rows])
    indptr = left.indptr.astype(np.int64)
    for first in range(0, rows.size, chunk):
        sel = slice(first, min(first + chunk, rows.size))
        r = rows[sel]
        lo_c = lo[:, sel]
        a, b = int(indptr[r[0]]), int(indptr[r[-1] + 1])
        local = entry_row[a:b] - first
        patch = np.zeros((r.size, 1 if single else g.out_channels) + extent)
        offsets = tuple(q[axis, a:b] - lo_c[axis, local] for axis in range(len(extent)))
        where = (local, 0 if single else channel[a:b]) + offsets
        if left.has_canonical_format:  # every entry in its own place
            patch[where] = left.data[a:b]
        else:
            np.add.at(patch, where, left.data[a:b])
        column = np.arange(c_in, dtype=np.int64).reshape((1, -1) + (1,) * len(f)) * in_size
        if single:  # (rows, C_in / groups, *F), from the row's group's first channel
            values = _transposed_rows(patch[:, 0], op._w[row_channel[sel]], g)
            first_channel = row_channel[sel] // c_out_g * c_in
            column = column + (first_channel * in_size).reshape((-1,) + (1,) * (len(f) + 1))
        else:
            values = (patch.reshape(r.size, -1) @ box).reshape((r.size, c_in) + f) \
                if box is not None else _transposed(patch, op._w, g)  # (rows, C_in, *F)
        valid = np.ones((r.size, 1) + (1,) * len(f), dtype=bool)
        for axis, (m, s, fi) in enumerate(zip(maps, g.stride, f)):
            at = m[lo_c[axis][:, None] * s + np.arange(fi)]  # (rows, F_axis)
            shape = [r.size, 1] + [1] * len(f)
            shape[2 + axis] = fi
            valid = valid & (at >= 0).reshape(shape)
            column = column + (at * strides[axis]).reshape(shape)
        keep = valid & (values != 0)
        column = np.broadcast_to(column, values.shape)
        if g.padding_mode == "zeros":  # distinct, ascending columns in every row
            counts[r] = keep.reshape(r.size, -1).sum(axis=1)
            data_parts.append(values[keep])
            index_parts.append(column[keep].astype(index))
        else:  # an input read twice in a row: its entries summed
            row_of = np.broadcast_to(np.arange(r.size).reshape((-1,) + (1,) * (len(f) + 1)),
                                     values.shape)
            block = sp.csr_array((values[keep], (row_of[keep], column[keep])),
                                 shape=(r.size, g.in_channels * in_size))
            block.sum_duplicates()
            block.eliminate_zeros()
            counts[r] = np.diff(block.indptr)
            data_parts.append(block.data)
            index_parts.append(block.indices.astype(index))
    out_indptr = np.zeros(left.shape[0] + 1, dtype=index)
    np.cumsum(counts, out=out_indptr[1:])
    data = np.concatenate(data_parts) if data_parts else np.zeros(0)
    indices = np.concatenate(index_parts) if index_parts else np.zeros(0, dtype=index)
    out = sp.csr_array((data, indices, out_indptr), shape=(left.shape[0], op.shape[1]))
    out.has_canonical_format = True
    return out


#: bytes of the dense patches of one block of rows held by :class:`Patches` (beyond, the
#: rows go on as CSR)
PATCHES_BYTES = 1 << 28


def _clipped(lo: np.ndarray, extent: tuple, grid: tuple) -> tuple[tuple, np.ndarray]:
    """Per axis, the grid positions of every row's box (clipped into the grid, for
    gathers) broadcast as ``(rows, 1, ..., E_axis, ...)``, and the mask of the positions
    inside the grid, broadcast alike."""
    n = len(grid)
    inside = np.ones((lo.shape[1], 1) + (1,) * n, dtype=bool)
    at = []
    for axis, (e, size) in enumerate(zip(extent, grid)):
        pos = lo[axis][:, None] + np.arange(e)
        shape = [lo.shape[1], 1] + [1] * n
        shape[2 + axis] = e
        inside = inside & ((pos >= 0) & (pos < size)).reshape(shape)
        at.append(np.clip(pos, 0, size - 1).reshape(shape))
    return tuple(at), inside


class Patches:
    """Rows held as dense boxes: row ``r`` is ``values[r]`` (``C`` channels, a box of
    ``extent`` positions from ``lo[:, r]`` in the grid ``grid``; positions outside the grid
    hold zeros). Multiplied by a diagonal by a gather, by a zero-padded convolution by one
    product with its box matrix; converted to CSR at the end of a chain."""

    def __init__(self, values: np.ndarray, lo: np.ndarray, grid: tuple):
        self.values, self.lo, self.grid = values, lo, tuple(int(v) for v in grid)
        self.extent = tuple(values.shape[2:])
        self.shape = (values.shape[0], values.shape[1] * math.prod(self.grid))

    @staticmethod
    def eligible(op: ConvOperator) -> bool:
        g = op.geom
        return g.padding_mode == "zeros" and g.groups == 1

    @classmethod
    def from_rows(cls, columns: np.ndarray, scale: np.ndarray,
                  op: ConvOperator) -> Patches | None:
        """Rows ``columns`` of the layer's matrix, scaled: each the weight of its output
        channel, placed (dilated) at its window; ``None`` when not :meth:`eligible` or too
        large."""
        g = op.geom
        f = tuple((k - 1) * d + 1 for k, d in zip(g.kernel_shape, g.dilation))
        if not cls.eligible(op) or \
                8 * columns.size * g.in_channels * math.prod(f) > PATCHES_BYTES:
            return None
        channel, pos = np.divmod(columns, math.prod(g.output_shape))
        q = np.stack(np.unravel_index(pos, tuple(g.output_shape)))
        lo = q * np.asarray(g.stride)[:, None] - np.asarray([b for b, _ in g.padding])[:, None]
        values = np.zeros((columns.size, g.in_channels) + f)
        taps = (slice(None), slice(None)) + tuple(slice(None, None, d) for d in g.dilation)
        values[taps] = op._w[channel] * scale.reshape((-1,) + (1,) * (g.ndim + 1))
        at, inside = _clipped(lo, f, tuple(g.input_shape))
        values *= inside
        return cls(values, lo, tuple(g.input_shape))

    def times(self, a: object) -> Patches | None:
        """``self @ a`` for a diagonal :class:`~convmat.networks._factors.Rows` or an
        :meth:`eligible` convolution reading this grid; ``None`` otherwise."""
        from ._factors import LazyConv, Rows
        channels = self.values.shape[1]
        if isinstance(a, Rows) and a.diagonal and a.shape[0] == self.shape[1]:
            d = a.values.reshape((channels,) + self.grid)
            at, _ = _clipped(self.lo, self.extent, self.grid)
            c = np.arange(channels).reshape((1, -1) + (1,) * len(self.grid))
            return Patches(self.values * d[(c,) + at], self.lo, self.grid)
        if not isinstance(a, LazyConv) or not self.eligible(a.operator):
            return None
        g = a.operator.geom
        if g.out_channels != channels or tuple(g.output_shape) != self.grid:
            return None
        f = tuple((e - 1) * s + (k - 1) * d + 1 for e, s, k, d in
                  zip(self.extent, g.stride, g.kernel_shape, g.dilation))
        m = self.values.shape[0]
        if 8 * m * g.in_channels * math.prod(f) > PATCHES_BYTES or \
                channels * math.prod(self.extent) * g.in_channels * math.prod(f) > BOX_ENTRIES:
            return None
        box = _box_matrix(a.operator._w, g, self.extent)
        values = (self.values.reshape(m, -1) @ box).reshape((m, g.in_channels) + f)
        lo = self.lo * np.asarray(g.stride)[:, None] - \
            np.asarray([b for b, _ in g.padding])[:, None]
        _, inside = _clipped(lo, f, tuple(g.input_shape))
        values *= inside
        return Patches(values, lo, tuple(g.input_shape))

    def tocsr(self) -> sp.csr_array:
        """The rows as canonical CSR (zeros and positions outside the grid dropped)."""
        m, channels = self.values.shape[:2]
        n = len(self.grid)
        at, inside = _clipped(self.lo, self.extent, self.grid)
        size = math.prod(self.grid)
        column = np.arange(channels, dtype=np.int64).reshape((1, -1) + (1,) * n) * size
        for axis, pos in enumerate(at):
            column = column + pos * math.prod(self.grid[axis + 1:])
        keep = inside & (self.values != 0)
        index = index_dtype_for(max(self.shape[1], int(np.count_nonzero(keep))))
        indptr = np.zeros(m + 1, dtype=index)
        np.cumsum(keep.reshape(m, -1).sum(axis=1), out=indptr[1:])
        out = sp.csr_array((self.values[keep], np.broadcast_to(column, keep.shape)[keep]
                            .astype(index), indptr), shape=self.shape)
        out.has_canonical_format = True
        return out
