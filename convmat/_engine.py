r"""The one index engine: the (row, col, tap) triplets of a convolution, built once.

For a :class:`~convmat.geometry.ConvGeometry`, :func:`build` returns the CSR skeleton of the
convolution matrix — ``indptr`` and ``indices`` — and, for every stored entry, its ``tap``:
the flat index into the weight ``(C_out, C_in/groups, *kernel)`` (C order). A numeric matrix
is then ``data = weight.ravel()[tap]`` (:meth:`Structure.gather` does exactly that without
materialising ``tap``); a symbolic one takes its values from a sympy array; the transposed
convolution is the same triplets with rows and columns swapped.

Entry ``(r, c)`` with ``r = (o_c, t)`` (output channel, output position) and
``c = (i_c, p)`` (input channel, input position) holds

.. math::

    A[r, c] = \sum_{j \,:\, \pi(t s + j d) = p} w[o_c,\ i_c - g(o_c) C_{in}/G,\ j]

where :math:`\pi` is the padding map of :func:`convmat.padding.index_map`, applied per axis,
and :math:`g(o_c)` is the group of the output channel. Within a row, entries are stored by
input channel, then per axis by input position: columns come sorted and each ``(r, c)``
appears once. When a padding mode maps several taps of a window to one input position,
those taps are merged into one entry while the row is written: per axis the padding map
says which taps coincide, each such *tap group* gets an index past the kernel's, and the
weight is extended by the groups' sums (:func:`expand_weight`), so ``data = extended
weight[tap]`` is still a gather and the result is canonical CSR with no sort
(``build(..., merge=False)`` keeps one entry per tap instead).

How it is built (vectorised, O(nnz), no Python loop over rows, columns or taps, no sort):

* per axis, a small table gives for every output position the valid taps in input order
  and the input position each reads; positions fall into *classes*: the run of interior
  positions (all taps inside the input, columns affine in the position) and each border
  position on its own;
* a product of one class per axis is a set of rows with identical entry patterns, stored
  as one strided block of the CSR arrays: it is written by a single broadcast add
  (row base + entry offset). The interior is the largest such block;
* the other rows (borders, and every row of a long kernel) are *runs* along the last axis:
  one run per combination of ranks on the other axes (mixed radix over runs, not
  entries); along the last axis columns, taps and CSR offsets are arithmetic progressions
  laid down by one cumulative sum each, in bounded chunks, straight into the CSR arrays
  when there is one channel;
* small and middle-sized layers (up to :data:`ONE_SHOT` row-tap candidates) are built in
  one shot: every (row, tap) of output channel 0 as a dense array, one broadcast add per
  axis, the taps a row does not have masked out; their structures are cached per
  geometry (up to :data:`CACHE_BYTES`).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._memory import index_dtype_for
from ._padmap import index_map
from ._runs import rest_runs, write_rest
from .geometry import ConvGeometry, ceil_div, tap_range

__all__ = ["Structure", "build", "shared", "expand_weight", "row_entries", "MIN_BLOCK",
           "MAX_CLASS_PRODUCTS", "ONE_SHOT", "CACHE_BYTES"]
#: fewest entries for which a class block is written by its own broadcast add
MIN_BLOCK = 4096
#: most class combinations examined when choosing blocks
MAX_CLASS_PRODUCTS = 1 << 16
#: most (row, tap) candidates, over all output channels, for the one-shot build (a few
#: O(nnz) NumPy calls; beyond, the block and run path's fixed call count is cheaper than
#: its extra passes); its structures are cached per geometry
ONE_SHOT = 1 << 21


@dataclass(frozen=True)
class _Axis:
    """One axis: for output position ``t`` and rank ``r < count[t]`` (input order), the
    input position read and the kernel tap, by :meth:`lookup`.

    With zero padding the valid taps of a position are one run ``lo[t] <= j < lo[t] +
    count[t]`` and the input position is affine in ``t`` and ``j``: nothing of size
    ``o * k`` is stored. The other modes keep ``(o, k)`` tables, sorted by input position.
    """

    count: np.ndarray  # (o,) valid taps
    lo: np.ndarray  # (o,) first valid tap (zero padding)
    step: tuple[int, int, int, int, bool]  # stride, dilation, padding before, k, flip
    table: tuple[np.ndarray, np.ndarray] | None  # (source, tap), (o, k), other modes
    starts: np.ndarray  # classes: runs [start, stop) of positions sharing one pattern
    stops: np.ndarray
    duplicates: bool  # some position reads one input position twice (unmerged table)
    groups: np.ndarray | None = None  # merged: (n_groups, width) member taps, -1 padded

    @property
    def ext_size(self) -> int:
        """Kernel taps plus merged tap groups: the size of this axis's tap index."""
        k = self.step[3]
        return k if self.groups is None else k + int(self.groups.shape[0])

    def lookup(self, t, r) -> tuple[np.ndarray, np.ndarray]:
        """(input position, kernel tap) of rank ``r`` at output position ``t`` (arrays)."""
        if self.table is not None:
            source, tap = self.table
            return source[t, r], tap[t, r]
        s, d, b, k, flip = self.step
        j = self.lo[t] + r
        return t * s - b + j * d, (k - 1 - j) if flip else j


@dataclass(frozen=True)
class _Block:
    """Rows of one class product, a strided block of the CSR arrays."""

    start: int
    shape: tuple[int, ...]  # (C_out, *run lengths, entries per row)
    strides: tuple[int, ...]  # in elements
    tap_pattern: np.ndarray  # (entries per row,) tap relative to the output channel's first


@dataclass(frozen=True)
class Structure:
    """CSR skeleton of a convolution matrix plus the weight tap of every stored entry."""

    geometry: ConvGeometry
    indptr: np.ndarray
    indices: np.ndarray
    canonical: bool  # every row's columns sorted, no duplicate (row, col) pairs
    tap_dtype: type
    blocks: tuple[_Block, ...] = field(repr=False)
    axes: tuple[_Axis, ...] = field(repr=False)
    rest: np.ndarray = field(repr=False)  # flat output positions whose rows are not in a block
    rest_runs: tuple | None = field(repr=False)  # their runs, when kept (one chunk)
    #: the geometry with the (extended) kernel shape the taps index: merged tap groups
    #: add positions per axis (see :func:`expand_weight`)
    tap_geometry: ConvGeometry | None = field(default=None, repr=False)
    #: one-shot builds: the tap of every entry of output channel 0 (intp); channel ``c``'s
    #: are these plus ``c`` times the taps per output channel
    small_tap: np.ndarray | None = field(default=None, repr=False)

    @property
    def merged(self) -> bool:
        """Taps index the weight extended by merged tap groups (not the weight itself)."""
        return any(ax.groups is not None for ax in self.axes)

    def _write_rest(self, dest, kind, flat=None):
        tgeom = self.tap_geometry or self.geometry
        runs = self.rest_runs
        if runs is None:
            runs = rest_runs(tgeom, self.axes, self.indptr, self.rest)
        write_rest(tgeom, self.indptr, runs, dest, kind, flat)

    @property
    def shape(self) -> tuple[int, int]:
        return self.geometry.shape

    @property
    def nnz(self) -> int:
        return int(self.indices.size)

    @staticmethod
    def _view(out: np.ndarray, block: _Block) -> np.ndarray:
        return as_strided(out[block.start:], shape=block.shape,
                          strides=[s * out.itemsize for s in block.strides])

    def gather(self, values) -> np.ndarray:
        """``values.ravel()[tap]`` (the weight, numeric or object) without making ``tap``.

        With merged tap groups the weight is first extended by the groups' sums."""
        if self.merged:
            values = expand_weight(values, self.axes, self.geometry.weight_shape)
        flat = np.asarray(values).reshape(-1)
        per_channel = flat.reshape(self.geometry.out_channels, -1)
        if self.small_tap is not None:  # intp: NumPy takes narrower indices ~10x slower
            if per_channel.shape[0] == 1:
                return np.take(flat, self.small_tap, mode="clip")
            return np.take(per_channel, self.small_tap, axis=1, mode="clip").reshape(-1)
        data = np.empty(self.nnz, dtype=flat.dtype)
        for block in self.blocks:
            view = self._view(data, block)
            picked = per_channel[:, block.tap_pattern]
            view[...] = picked.reshape((picked.shape[0],) + (1,) * (view.ndim - 2) + (-1,))
        self._write_rest(data, "value", flat)
        return data

    @functools.cached_property
    def tap(self) -> np.ndarray:
        """Flat weight index of every stored entry (an nnz-sized array, made on demand); an
        index into the extended weight when tap groups are merged."""
        per_channel = math.prod((self.tap_geometry or self.geometry).weight_shape[1:])
        if self.small_tap is not None:  # output channel 0's, shared with the cache
            first = np.arange(self.geometry.out_channels, dtype=np.intp) * per_channel
            return np.add.outer(first, self.small_tap).reshape(-1)
        tap = np.empty(self.nnz, dtype=self.tap_dtype)
        for block in self.blocks:
            view = self._view(tap, block)
            first = np.arange(block.shape[0], dtype=np.int64) * per_channel
            np.add(first.reshape((-1,) + (1,) * (view.ndim - 1)).astype(tap.dtype),
                   block.tap_pattern.astype(tap.dtype), out=view)
        self._write_rest(tap, "tap")
        return tap

    def take_rows(self, rows: np.ndarray, values,
                  keep: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """``(indptr, indices, data)`` of the matrix's ``rows`` alone (in that order; those
        not in ``keep`` left empty), the data gathered from ``values`` (the weight):
        O(entries of those rows), for one-shot structures (whose taps are kept).

        A row of output channel ``c`` holds the taps of channel 0's row at the same
        position (kept as ``small_tap``) and its columns, shifted to ``c``'s group."""
        if self.merged:
            values = expand_weight(values, self.axes, self.geometry.weight_shape)
        flat = np.asarray(values).reshape(-1)
        g = self.geometry
        rows = np.asarray(rows, dtype=np.intp)
        channel, position = np.divmod(rows, math.prod(g.output_shape))
        indptr, local = row_entries(self.indptr, position, keep)  # channel 0's entries
        counts = np.diff(indptr)
        indices = np.take(self.indices, local)
        if g.groups > 1:  # a group reads its own input channels
            shift = channel // (g.out_channels // g.groups) * (
                g.in_channels // g.groups * math.prod(g.input_shape))
            indices += np.repeat(shift.astype(indices.dtype), counts)
        tap = np.take(self.small_tap, local)
        if g.out_channels > 1:  # channel c's taps follow in the weight
            tap += np.repeat(channel * (flat.size // g.out_channels), counts)
        return indptr, indices, np.take(flat, tap)

    def rows(self) -> np.ndarray:
        """Row index of every stored entry (an nnz-sized array; for views that need COO)."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.shape[0], dtype=self.indices.dtype), counts)


def _axis(i, k, o, s, d, b, a, mode, flip, merge=False) -> _Axis:
    groups = None
    if mode == "zeros":
        lo, hi = tap_range(i, k, s, d, b, o)
        count, table, duplicates = hi - lo, None, False
    else:  # every tap reads an input; sort them by the input position they read
        pmap = index_map(i, b, a, mode)
        j = np.arange(k, dtype=np.int64)
        source = pmap[np.arange(o, dtype=np.int64)[:, None] * s + j * d]  # (o, k)
        order = np.argsort(source, axis=1, kind="stable")  # stable: ties keep tap order
        source = np.take_along_axis(source, order, axis=1)
        lo, count = np.zeros(o, dtype=np.int64), np.full(o, k, dtype=np.int64)
        tap = (k - 1 - order) if flip else order
        first = np.ones(source.shape, dtype=bool)  # first tap of each distinct source
        first[:, 1:] = source[:, 1:] != source[:, :-1]
        duplicates = not bool(first.all())
        if duplicates and merge:
            table, count, groups = _merged(source, tap, first, k)
            duplicates = False
        else:
            table = (source, tap)
    # interior run: every tap inside the input, t*s - b >= 0 and t*s - b + d(k-1) <= i - 1
    first = max(ceil_div(b, s), 0)
    last = b + i - d * (k - 1) - 1
    stop = max(first, min(o, last // s + 1) if last >= 0 else 0)
    # classes: each border position alone, the interior run as one
    starts = np.concatenate((np.arange(min(first, o)), [first] if stop > first else [],
                             np.arange(max(stop, first), o))).astype(np.int64)
    stops = np.concatenate((starts[:-1] + 1, [o])) if starts.size else starts
    if stop > first:
        stops[np.searchsorted(starts, first)] = stop
    return _Axis(count, lo, (s, d, b, k, bool(flip)), table, starts, stops, duplicates,
                 groups)


def _merged(source, tap, first, k):
    """Merge the taps of a position that read one input position into one *tap group*.

    ``source`` and ``tap`` are ``(o, k)``, sorted by source per row (ties by tap order);
    ``first`` marks the first tap of each distinct source. Returns the table of distinct
    sources with their (extended) taps, the count per position, and the groups: a tap read
    alone keeps its index ``j < k``; a group of several taps gets ``k + g``, where group
    ``g`` sums the kernel taps ``members[g]`` (``-1`` padded) in that order (the order of
    the unmerged row; groups deduplicated over positions). Nothing here is larger than the
    ``(o, k)`` table.
    """
    o = source.shape[0]
    count = first.sum(axis=1)
    flat_first = first.ravel()
    gid = np.cumsum(flat_first) - 1  # group of every (position, tap)
    starts = np.flatnonzero(flat_first)
    sizes = np.diff(np.append(starts, flat_first.size))
    width = int(sizes.max())
    members = np.full((starts.size, width), -1, dtype=np.int64)
    members[gid, np.arange(flat_first.size) - starts[gid]] = tap.ravel()
    multi = sizes > 1
    unique, inverse = np.unique(members[multi], axis=0, return_inverse=True)
    ext = members[:, 0].copy()
    ext[multi] = k + inverse.reshape(-1)
    rank = np.cumsum(first, axis=1) - 1
    row = np.broadcast_to(np.arange(o)[:, None], first.shape)
    src = np.zeros_like(source)
    ext_tap = np.zeros_like(source)
    src[row[first], rank[first]] = source[first]
    ext_tap[row[first], rank[first]] = ext
    return (src, ext_tap), count, unique


def _axes(geom: ConvGeometry, merge: bool = False) -> list[_Axis]:
    return [
        _axis(i, k, o, s, d, b, a, geom.padding_mode, geom.flip, merge)
        for i, k, o, s, d, (b, a) in zip(geom.input_shape, geom.kernel_shape, geom.output_shape,
                                         geom.stride, geom.dilation, geom.padding)
    ]


def _member_tables(axes) -> list[np.ndarray]:
    """Per axis, the kernel taps behind every extended tap index: ``(ext_size, width)``,
    ``-1`` padded (a plain tap ``j`` is the group ``[j]``)."""
    tables = []
    for ax in axes:
        k = ax.step[3]
        width = 1 if ax.groups is None else ax.groups.shape[1]
        table = np.full((k, width), -1, dtype=np.int64)
        table[:, 0] = np.arange(k)
        tables.append(table if ax.groups is None else np.concatenate((table, ax.groups)))
    return tables


def expand_weight(values: np.ndarray, axes, weight_shape) -> np.ndarray:
    """The weight extended by the merged tap groups: at extended index ``(e_1, ..., e_N)``
    the sum of ``w[j_1, ..., j_N]`` over the product of the groups ``e_a`` — added one
    after the other in the order of the unmerged row (as summing its duplicates would)."""
    w = np.asarray(values).reshape(weight_shape)
    tables = _member_tables(axes)
    total = None
    for q in np.ndindex(*(t.shape[1] for t in tables)):  # member slots: few, not entries
        picks = [t[:, slot] for t, slot in zip(tables, q)]
        valid = np.ones((), dtype=bool)
        for p in picks:
            valid = np.logical_and.outer(valid, p >= 0)
        term = w[(slice(None), slice(None)) + np.ix_(*(np.maximum(p, 0) for p in picks))]
        total = term if total is None else np.where(valid, total + term, total)
    return total


def row_entries(indptr: np.ndarray, rows: np.ndarray,
                keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The CSR rows ``rows`` (repeats allowed; those not in ``keep`` left empty) of a matrix
    with row pointers ``indptr``: their new row pointers and, for every entry, its
    position in the old arrays (entry ``e`` of new row ``r`` is entry ``e - new[r]`` of
    old row ``rows[r]``)."""
    counts = np.diff(indptr)[rows].astype(np.int64)
    if keep is not None:
        counts *= keep
    new = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new[1:])
    source = np.repeat(indptr[:-1][rows] - new[:-1], counts) + np.arange(new[-1])
    return new, source


def _strides(shape) -> list[int]:
    return [math.prod(shape[a + 1:]) for a in range(len(shape))]


def shared(geom: ConvGeometry, merge: bool = True) -> Structure | None:
    """The cached one-shot structure of ``geom`` (shared: read it, never write to it), or
    ``None`` when ``geom`` is too large for the one-shot build (see :data:`ONE_SHOT`).

    Small layers recur (teaching, the layers of one network, a Jacobian at many points):
    their structure is built once per geometry and kept (up to :data:`CACHE_BYTES`)."""
    c_in_g = geom.in_channels // geom.groups
    dense = math.prod(geom.output_shape) * c_in_g * math.prod(geom.kernel_shape)
    if dense * geom.out_channels > ONE_SHOT:
        return None
    return _small_cached(geom, merge, index_dtype_for(0))  # the index-width option


def build(geom: ConvGeometry, merge: bool = True) -> Structure:
    """Build the (row, col, tap) structure of ``geom``.

    With ``merge`` (the default), taps of a window that a padding mode maps to one input
    position are merged into one entry whose value is their sum (tap groups, see
    :func:`expand_weight`), so the result is canonical CSR for every mode. ``merge=False``
    keeps one entry per tap (duplicate columns in a row; ``canonical`` is then False).

    Examples
    --------
    >>> from convmat.geometry import convolution_geometry
    >>> s = build(convolution_geometry((4,), (2,)))
    >>> s.indptr, s.indices, s.tap
    (array([0, 2, 4, 6], dtype=int32), array([0, 1, 1, 2, 2, 3], dtype=int32), array([0, 1, 0, 1, 0, 1]))
    >>> s.gather([10, 20])
    array([10, 20, 10, 20, 10, 20])
    >>> s = build(convolution_geometry((3,), (3,), padding=1, padding_mode="replicate"))
    >>> s.indices, s.gather([1, 10, 100])   # row 0 reads input 0 twice: 1 + 10
    (array([0, 1, 0, 1, 2, 1, 2], dtype=int32), array([ 11, 100,   1,  10, 100,   1, 110]))
    """
    cached = shared(geom, merge)
    if cached is not None:  # every caller gets its own copy of the CSR arrays
        return replace(cached, indptr=cached.indptr.copy(), indices=cached.indices.copy())
    c_in_g = geom.in_channels // geom.groups
    out_size = math.prod(geom.output_shape)
    axes = _axes(geom, merge)
    rows_total, cols_total = geom.shape
    nnz = geom.out_channels * c_in_g * math.prod(int(ax.count.sum()) for ax in axes)
    tgeom = _tap_geometry(geom, axes, nnz)
    if tgeom is None:
        return build(geom, merge=False)  # too many distinct groups to tabulate
    idx = index_dtype_for(max(nnz, rows_total, cols_total))
    tap_dtype = index_dtype_for(geom.out_channels * c_in_g * math.prod(tgeom.kernel_shape))

    # row lengths: C_in/groups times the outer product of the per-axis valid-tap counts
    spatial = np.ones((), dtype=np.int64)
    for ax in axes:
        spatial = np.multiply.outer(spatial, ax.count)
    spatial = spatial.ravel() * c_in_g
    indptr = np.empty(rows_total + 1, dtype=idx)
    indptr[0] = 0
    by_channel = indptr[1:].reshape(geom.out_channels, out_size)
    np.cumsum(np.broadcast_to(spatial, by_channel.shape), axis=1, out=by_channel)
    by_channel += np.arange(geom.out_channels, dtype=idx)[:, None] * idx(nnz // geom.out_channels)
    indices = np.empty(nnz, dtype=idx)

    chosen, rest = _choose_blocks(geom, axes)
    blocks = tuple(_fill_block(tgeom, axes, combo, indptr, indices) for combo in chosen)
    # the rest's runs, chunk by chunk; kept for the values when they are one chunk (small),
    # else made again then, so that no more than a chunk of them is ever held
    chunks = rest_runs(tgeom, axes, indptr, rest)
    head = list(itertools.islice(chunks, 2))
    kept = tuple(head) if len(head) < 2 else None
    write_rest(tgeom, indptr, itertools.chain(head, chunks), indices, "column")
    canonical = not any(ax.duplicates for ax in axes)
    return Structure(geom, indptr, indices, canonical, tap_dtype, blocks, tuple(axes), rest,
                     kept, tgeom)


def _tap_geometry(geom, axes, nnz):
    """``geom`` with the kernel shape the taps index (merged groups extend it), or ``None``
    when the groups are too many to tabulate (then build unmerged)."""
    if not any(ax.groups is not None for ax in axes):
        return geom
    ext = tuple(ax.ext_size for ax in axes)
    slots = math.prod(1 if ax.groups is None else ax.groups.shape[1] for ax in axes)
    c_in_g = geom.in_channels // geom.groups
    if geom.out_channels * c_in_g * math.prod(ext) * slots > 8 * nnz + (1 << 20):
        return None
    return replace(geom, kernel_shape=ext)


class _StructureCache:
    """The one-shot structures of the most recently built geometries, least recently used
    first out, holding at most :data:`CACHE_BYTES` of arrays."""

    def __init__(self):
        self.entries: dict = {}
        self.nbytes = 0

    def __call__(self, geom: ConvGeometry, merge: bool, index_option) -> Structure:
        key = (geom, merge, index_option)
        found = self.entries.pop(key, None)
        if found is None:
            found = _build_small(geom, merge)
            self.nbytes += self._size(found)
            while self.entries and self.nbytes > CACHE_BYTES:
                self.nbytes -= self._size(self.entries.pop(next(iter(self.entries))))
        self.entries[key] = found  # most recent last
        return found

    @staticmethod
    def _size(s: Structure) -> int:
        return s.indptr.nbytes + s.indices.nbytes + s.small_tap.nbytes

    def cache_clear(self):
        self.entries.clear()
        self.nbytes = 0


#: most bytes of cached one-shot structures
CACHE_BYTES = 64 << 20
#: :func:`_build_small`, remembered per geometry (and per index-width option)
_small_cached = _StructureCache()


def _build_small(geom: ConvGeometry, merge: bool) -> Structure:
    """Small and middle-sized builds in one shot, for output channel 0 as a dense array of
    shape ``(o_1, ..., o_N, C_in/G, k_1, ..., k_N)`` (every row, every tap): per axis a
    table gives each (position, rank) its input position, tap and validity, and the column
    of an entry is the sum of the axes' contributions (one broadcast add per axis, the
    large ones last); the valid entries are then picked by one boolean mask, in row order
    and, within a row, by input channel then per axis by input position (sorted columns,
    as on the general path). Output channels repeat channel 0's pattern: one broadcast
    add writes their columns. A fixed, small number of NumPy calls, each O(nnz)."""
    n = geom.ndim
    c_in_g = geom.in_channels // geom.groups
    tables = []  # per axis: (valid, source, tap), each (o, k)
    axes: tuple = ()
    if geom.padding_mode == "zeros":
        for i, k, o, s, d, (b, _) in zip(geom.input_shape, geom.kernel_shape,
                                         geom.output_shape, geom.stride, geom.dilation,
                                         geom.padding):
            j = np.arange(k, dtype=np.int64)
            source = np.arange(o, dtype=np.int64)[:, None] * s + (j * d - b)
            tap = (k - 1 - j if geom.flip else j)[None, :]
            tables.append(((source >= 0) & (source < i), source, tap))
        tgeom = geom
    else:
        axes = tuple(_axes(geom, merge))
        nnz = geom.out_channels * c_in_g * math.prod(int(ax.count.sum()) for ax in axes)
        tgeom = _tap_geometry(geom, axes, nnz)
        if tgeom is None:
            return _build_small(geom, merge=False)
        for ax in axes:
            source, tap = ax.table
            tables.append((np.arange(source.shape[1]) < ax.count[:, None], source, tap))
    in_strides, k_strides = _strides(geom.input_shape), _strides(tgeom.kernel_shape)
    in_size, kernel_size = math.prod(geom.input_shape), math.prod(tgeom.kernel_shape)
    rows, cols = geom.shape
    out_size = math.prod(geom.output_shape)
    idx = index_dtype_for(max(rows * c_in_g * math.prod(geom.kernel_shape), rows, cols))

    def placed(table, a, kind):  # an (o, k) table on its axes of the dense layout
        shape = [1] * (2 * n + 1)
        shape[a], shape[n + 1 + a] = table.shape[0], table.shape[1]
        return table.astype(kind, copy=False).reshape(shape)

    channel = np.arange(c_in_g, dtype=idx).reshape((1,) * n + (-1,) + (1,) * n)
    column = channel * idx(in_size)
    taps = channel.astype(np.intp) * kernel_size
    ok = None
    for a in reversed(range(n)):  # the first axis has the longest strides: added last
        valid, source, tap = tables[a]
        column = column + placed(source * in_strides[a], a, idx)
        taps = taps + placed(tap * k_strides[a], a, np.intp)
        if not valid.all():
            ok = placed(valid, a, bool) if ok is None else ok & placed(valid, a, bool)
    taps = np.broadcast_to(taps, column.shape)
    per_axis = [valid.sum(axis=1) for valid, _, _ in tables]
    counts = per_axis[0]
    for c in per_axis[1:]:
        counts = np.multiply.outer(counts, c)
    counts = counts.reshape(-1) * c_in_g
    if ok is None:
        column, taps = column.reshape(-1), np.array(taps).reshape(-1)
    else:
        ok = np.broadcast_to(ok, column.shape)
        column, taps = column[ok], taps[ok]
    indptr = np.empty(rows + 1, dtype=idx)
    indptr[0] = 0
    if geom.out_channels == 1:
        np.cumsum(counts, out=indptr[1:])
        indices = column
    else:  # every output channel repeats channel 0's pattern, in its group's columns
        by_channel = indptr[1:].reshape(geom.out_channels, out_size)
        np.cumsum(np.broadcast_to(counts, by_channel.shape), axis=1, out=by_channel)
        by_channel += (np.arange(geom.out_channels, dtype=idx) * idx(column.size))[:, None]
        ch = np.arange(geom.out_channels)[:, None]
        group_cols = ((ch // (geom.out_channels // geom.groups)) * c_in_g * in_size)
        indices = np.empty((geom.out_channels, column.size), dtype=idx)
        np.add(column, group_cols.astype(idx), out=indices)
        indices = indices.reshape(-1)
    canonical = not any(ax.duplicates for ax in axes)
    return Structure(geom, indptr, indices, canonical, np.intp, (), axes,
                     np.zeros(0, dtype=np.int64), None, tgeom, taps)


def _choose_blocks(geom, axes):
    """Class products written as blocks, and the flat output positions left for the rest."""
    n_classes = [ax.starts.size for ax in axes]
    per_row = geom.out_channels * (geom.in_channels // geom.groups)
    entries = [(ax.stops - ax.starts) * ax.count[ax.starts] for ax in axes]  # per class
    if math.prod(n_classes) <= MAX_CLASS_PRODUCTS:
        sizes = np.full((), per_row, dtype=np.int64)
        for e in entries:
            sizes = np.multiply.outer(sizes, e)
        selected = sizes >= MIN_BLOCK
    else:  # too many combinations to rank: only the product of the longest runs
        selected = np.zeros(n_classes, dtype=bool)
        largest = tuple(int(np.argmax(ax.stops - ax.starts)) for ax in axes)
        size = per_row * math.prod(int(e[c]) for e, c in zip(entries, largest))
        selected[largest] = size >= MIN_BLOCK
    chosen = [tuple(int(c) for c in combo) for combo in zip(*np.nonzero(selected))]
    if not chosen:
        return [], np.arange(math.prod(geom.output_shape))
    class_of = [np.repeat(np.arange(ax.starts.size), ax.stops - ax.starts) for ax in axes]
    covered = selected[np.ix_(*class_of)]
    return chosen, np.flatnonzero(~covered.ravel())


def _fill_block(geom, axes, combo, indptr, indices) -> _Block:
    """Write the columns of one class product by one broadcast add; return its layout."""
    c_in_g = geom.in_channels // geom.groups
    in_size, kernel_size = math.prod(geom.input_shape), math.prod(geom.kernel_shape)
    in_strides, k_strides = _strides(geom.input_shape), _strides(geom.kernel_shape)
    out_strides, out_size = _strides(geom.output_shape), math.prod(geom.output_shape)
    runs = [(int(ax.starts[c]), int(ax.stops[c])) for ax, c in zip(axes, combo)]
    row0 = sum(start * st for (start, _), st in zip(runs, out_strides))
    start = int(indptr[row0])
    strides = [int(indptr[out_size])]  # one output channel
    for (first, stop), st in zip(runs, out_strides):
        strides.append(int(indptr[row0 + st]) - start if stop - first > 1 else 0)
    strides.append(1)

    base = np.zeros((), dtype=np.int64)  # first column of each row of the block
    offset = np.zeros((), dtype=np.int64)  # column of each entry relative to its row's base
    pattern = np.zeros((), dtype=np.int64)
    for ax, (first, stop), ist, kst in zip(axes, runs, in_strides, k_strides):
        source, tap = ax.lookup(first, np.arange(int(ax.count[first])))
        if stop - first > 1:  # the interior run: columns affine in the position
            base = np.add.outer(base, ax.lookup(np.arange(first, stop), 0)[0] * ist)
            offset = np.add.outer(offset, (source - source[0]) * ist)
        else:
            base = np.add.outer(base, np.zeros(1, dtype=np.int64))
            offset = np.add.outer(offset, source * ist)
        pattern = np.add.outer(pattern, tap * kst)
    channel = np.arange(c_in_g, dtype=np.int64)
    offset = np.add.outer(channel * in_size, offset.ravel()).ravel()
    pattern = np.add.outer(channel * kernel_size, pattern.ravel()).ravel()
    group = np.arange(geom.out_channels, dtype=np.int64) // (geom.out_channels // geom.groups)
    base = np.add.outer(group * c_in_g * in_size, base)

    block = _Block(start, (geom.out_channels, *(stop - first for first, stop in runs),
                           offset.size), tuple(strides), pattern)
    view = Structure._view(indices, block)
    np.add(base[..., None].astype(indices.dtype), offset.astype(indices.dtype), out=view)
    return block
