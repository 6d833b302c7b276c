r"""A chain of zero-padded convolutions, selections (max pooling) and diagonals
(activations) multiplied from its output end as dense boxes, rows last.

Row :math:`r` of a partial product :math:`A_L \cdots A_l` holds entries only inside a box of
the grid :math:`A_l` reads: all its channels, and per axis the positions
:math:`[\ell_r, \ell_r + E)`. The boxes of all rows are one array of shape
``(C, *E, rows)`` (rows last: every step below is a product or a strided addition over
long contiguous runs). From the output end:

- a row of a convolution is its output channel's weight, placed at its window
  (:math:`\ell = q s - p`, :math:`E = (k - 1) d + 1`);
- times a diagonal :math:`\operatorname{diag}(v)`: the box times :math:`v` gathered at its
  positions;
- times a selection (at most one entry per row, e.g. max pooling's pick of every window's
  maximum): every entry moves to the column its position selects, scaled; the new box is
  the smallest holding every row's moved entries (entries that meet are summed);
- times a convolution of weight :math:`W` (zero padding, stride :math:`s`, dilation
  :math:`d`): the transposed convolution of the box,

  .. math::

      B'_{(c,\,u),\,r} = \sum_{o,\,e,\,t\;:\;e s + t d = u} B_{(o,\,e),\,r}\, W_{o,\,c,\,t},

  one matrix product :math:`W^\mathsf{T} B` over the output channels for all taps at once,
  then one strided addition per tap, on a box of :math:`F = (E - 1) s + (k - 1) d + 1`
  positions from :math:`\ell s - p` (positions outside the layer's input are zero padding:
  dropped).

At the input end the boxes' non-zero entries inside the grid are the rows of the product,
in canonical CSR (a box's positions in C order are its columns in ascending order). Rows a
max pooling discards are never formed, nor is any convolution's sparse matrix or a sparse
product's per-entry bookkeeping. A chain qualifies (:func:`boxes_qualify`) when its
convolutions have zero padding and at most :data:`GROUPS` groups. Rows go through in
blocks whose largest box holds about :data:`BLOCK` entries; a box that would exceed
:data:`BOX_LIMIT` entries or, after a selection, :data:`DENSITY` times the entries of the
box before it gives up (``None``: the chain is left to sparse products).

Every array of a block (the boxes, the gathered weights and places, the entries gathered
for the result) lives in a work array the thread keeps from one call to the next, at most
:data:`SCRATCH_MOST` entries each: a fresh array of a megabyte costs more in page faults
than the work done in it (LeNet-5's convolutional part kept about 600 page faults per
call, a third of its time, before). The result's arrays alone are fresh.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import scipy.sparse as sp

from .._memory import check_budget, index_dtype_for
from ..geometry import ConvGeometry
from ._factors import LazyConv, Rows

__all__ = ["BLOCK", "BOX_LIMIT", "DENSITY", "GROUPS", "box_rows", "boxes_qualify"]

#: entries of the largest box of a block of rows; beyond, the chain is left to sparse
#: products
BOX_LIMIT = 1 << 23
#: a selection's box may hold at most this many times the entries of the box before it
#: (after a 2 x 2 pooling, 4 times; more where its windows overlap or pad)
DENSITY = 16
#: entries of a block's largest box (its rows: this over the largest box per row)
BLOCK = 1 << 18
#: fewest rows of a block
MIN_BLOCK = 16
#: entries of the scratch array of a convolution's products (several taps at once)
SCRATCH = 1 << 17
#: entries of the largest work array a thread keeps from one call to the next (beyond,
#: fresh): a block's largest box. Ten names at most: a thread keeps at most 20 MiB.
SCRATCH_MOST = 1 << 18
#: most groups of a convolution (one matrix product per group)
GROUPS = 8


_THREAD = threading.local()


def _scratch(name: str, size: int, dtype: type = np.float64) -> np.ndarray:
    """A work array of ``size`` entries, this thread's own, kept from one product to the
    next (its pages already mapped: a fresh array of megabytes costs more in page faults
    than the work done in it; at most :data:`SCRATCH_MOST` entries are kept per name). Its
    contents are the caller's until the next call with the same name: a box lives in
    ``"box0"`` or ``"box1"``, alternately, until the step after it has read it."""
    if size > SCRATCH_MOST:
        return np.empty(size, dtype)
    held = getattr(_THREAD, name, None)
    if held is None or held.size < size or held.dtype != dtype:
        held = np.empty(max(size, 1024), dtype)
        setattr(_THREAD, name, held)
    return held[:size]


def _work(name: str, shape: tuple, dtype: type = np.float64) -> np.ndarray:
    """:func:`_scratch` of the given shape."""
    return _scratch(name, math.prod(shape), dtype).reshape(shape)


class _Box:
    """Rows as boxes: ``values`` of shape ``(C, *E, rows)``, ``lo`` the per-axis first
    position ``(ndim, rows)`` in the grid ``(C, *grid)``."""

    __slots__ = ("clean", "grid", "lo", "values")

    def __init__(self, values: np.ndarray, lo: np.ndarray, grid: tuple, clean: bool = False):
        self.values, self.lo, self.grid = values, lo, tuple(int(g) for g in grid)
        #: every position outside the grid holds zero (a selection's or diagonal's box)
        self.clean = clean

    @property
    def extent(self) -> tuple:
        return tuple(self.values.shape[1:-1])

    def positions(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(flat grid position of every box position, clipped into the grid, of shape
        ``(1, *E, rows)`` in this thread's work array ``"flat"``; the mask of those inside
        the grid, broadcastable to it, ``None`` when all are)."""
        n, rows = len(self.grid), self.lo.shape[1]
        flat = _work("flat", (1,) + self.extent + (rows,), np.int64)
        inside = None
        step = 1
        for axis in reversed(range(n)):
            e, size = self.extent[axis], self.grid[axis]
            pos = np.arange(e, dtype=np.int64)[:, None] + self.lo[axis]  # (E_axis, rows)
            shape = [1] * (n + 2)
            shape[1 + axis], shape[-1] = e, rows
            within = (pos >= 0) & (pos < size)
            if not within.all():
                within = within.reshape(shape)
                inside = within if inside is None else inside & within
                np.clip(pos, 0, size - 1, out=pos)
            term = (pos * step).reshape(shape)
            if step == 1:
                np.copyto(flat, term)
            else:
                flat += term
            step *= size
        return flat, inside


def _conv_geometry(a: LazyConv) -> ConvGeometry:
    return a.operator.geom


def boxes_qualify(mats: list) -> bool:
    """Whether the chain ``mats`` (input end first, consecutive :class:`Rows` merged) is
    multiplied by :func:`box_rows`: convolutions (zero padding, at most :data:`GROUPS`
    groups; at least two), diagonals and selections, every selection followed towards the
    input by a convolution or ending the chain."""
    convs = 0
    for i, a in enumerate(mats):
        if isinstance(a, LazyConv):
            g = _conv_geometry(a)
            if g.padding_mode != "zeros" or g.groups > GROUPS:
                return False
            convs += 1
        elif isinstance(a, Rows):
            if not a.diagonal and i > 0 and not isinstance(mats[i - 1], LazyConv):
                return False
        else:
            return False
    return convs >= 2 and isinstance(mats[-1], (Rows, LazyConv)) and (
        isinstance(mats[-1], LazyConv) or isinstance(mats[-2], LazyConv))


def _start(rows: Rows, conv: LazyConv, out: str) -> _Box:
    """``rows @ conv``: each row its output channel's weight, scaled, at its window (in
    the work array ``out``)."""
    g = _conv_geometry(conv)
    n, n_rows = g.ndim, rows.shape[0]
    channel, pos = np.divmod(rows.columns, math.prod(g.output_shape))
    q = np.stack(np.unravel_index(pos, tuple(g.output_shape))).reshape(n, -1)
    lo = q * np.asarray(g.stride)[:, None] - np.asarray([b for b, _ in g.padding])[:, None]
    w = np.moveaxis(conv.operator._w, 0, -1)  # (C_in / groups, *k, C_out)
    if g.groups == 1 and all(d == 1 for d in g.dilation):
        picked = _work(out, w.shape[:-1] + (n_rows,))
        np.take(w, channel, axis=-1, out=picked, mode="clip")
        picked *= rows.values
        return _Box(picked, lo, g.input_shape)
    picked = w[..., channel] * rows.values  # (C_in / groups, *k, rows)
    f = tuple((k - 1) * d + 1 for k, d in zip(g.kernel_shape, g.dilation))
    values = _work(out, (g.in_channels,) + f + (n_rows,))
    values.fill(0.0)
    taps = tuple(slice(None, None, d) for d in g.dilation)
    c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
    group = channel // c_out_g
    for k in range(g.groups):
        mine = np.flatnonzero(group == k)
        values[(slice(k * c_in_g, (k + 1) * c_in_g),) + taps + (mine,)] = picked[..., mine]
    return _Box(values, lo, g.input_shape)


def _gather(table: np.ndarray, box: _Box, flat: np.ndarray, name: str,
            dtype: type = np.float64) -> np.ndarray:
    """``table`` (one entry per point of the box's grid ``(C, *grid)``) at every position
    of the box, given by ``flat`` (:meth:`_Box.positions`): shape ``(C, *E, rows)``, in the
    work array ``name``."""
    out = _work(name, box.values.shape, dtype)
    np.take(table.reshape(box.values.shape[0], -1), flat[0], axis=1, out=out, mode="clip")
    return out


def _diagonal(box: _Box, d: np.ndarray, out: str) -> _Box:
    """``box @ diag(d)``: the box times ``d`` at its positions (in the work array
    ``out``)."""
    flat, inside = box.positions()
    values = _gather(d, box, flat, out)
    values *= box.values
    if inside is not None:  # zeros outside the grid, whatever the weights there
        np.copyto(values, 0.0, where=~inside)
    return _Box(values, box.lo, box.grid, clean=True)


def _strides(grid: tuple, target: tuple, q: tuple) -> tuple[list, list, list]:
    """Per axis, the stride ``s``, first offset and extent of the windows a selection picks
    from: grid position ``p`` selects target position ``q`` in ``[p s + off, p s + off +
    ext)``. ``s`` is the target's length over the grid's, rounded down or up (the one with
    the narrower windows): a pooling's stride."""
    n = len(grid)
    strides, offsets, extents = [], [], []
    for axis in range(n):
        p = np.arange(grid[axis], dtype=np.int64).reshape(
            (1,) + tuple(grid[axis] if a == axis else 1 for a in range(n)))
        best = None
        for s in {max(1, target[axis] // grid[axis]), max(1, -(-target[axis] // grid[axis]))}:
            delta = q[axis] - p * s
            low, high = int(delta.min(initial=0)), int(delta.max(initial=0))
            if best is None or high - low < best[2] - 1:
                best = (s, low, high - low + 1, delta)
        assert best is not None
        strides.append(best[0])
        offsets.append(best[1])
        extents.append(best[2])
    return strides, offsets, extents


class _Selection:
    """What a selection does to any box of a given extent, the same for every block of
    rows: the new box's extent, and per point of the box's grid its entry's place in the
    new box (but for the box's own offset)."""

    __slots__ = ("_placed", "distinct", "extent", "offsets", "place", "strides")

    def __init__(self, rows: Rows, source: tuple, extent: tuple, grid: tuple):
        n = len(grid)
        channel, pos = np.divmod(rows.columns.reshape(source), math.prod(grid))
        q = np.unravel_index(pos, grid)
        self.strides, self.offsets, ext = _strides(source[1:], grid, q)
        self.extent = tuple((e - 1) * s + x for e, s, x in zip(extent, self.strides, ext))
        place = channel
        for axis in range(n):
            p = np.arange(source[1 + axis], dtype=np.int64).reshape(
                (1,) + tuple(source[1 + axis] if a == axis else 1 for a in range(n)))
            place = place * self.extent[axis] + (q[axis] - p * self.strides[axis] -
                                                 self.offsets[axis])
        self.place = place
        #: no two points select the same column: entries of a row never meet
        self.distinct = np.bincount(rows.columns).max(initial=0) <= 1
        self._placed: tuple = (1, place)  # (rows, place times rows)

    def placed(self, n_rows: int) -> np.ndarray:
        """:attr:`place` in a box of ``n_rows`` rows (rows last): times ``n_rows``."""
        if self._placed[0] != n_rows:
            self._placed = (n_rows, self.place * n_rows)
        return self._placed[1]


def _select(box: _Box, rows: Rows, how: _Selection, channels: int, grid: tuple,
            out: str) -> _Box | None:
    """``box @ rows`` for a selection into the grid ``(channels, *grid)`` (``how``: its
    :class:`_Selection` for this box's extent): every entry moved to its column, scaled
    (in the work array ``out``); ``None`` when the new box would be too large.

    Per position ``p`` of the box's grid, the selected column's channel ``c'`` and position
    ``q = p s + off + delta`` (:func:`_strides`): the new box starts at ``lo s + off`` and
    spans ``(E - 1) s + ext`` positions, entry ``(e, r)`` lands at ``e s + delta``."""
    n, n_rows = len(grid), box.values.shape[-1]
    extent = how.extent
    size = channels * math.prod(extent) * n_rows
    if size > BOX_LIMIT or size > DENSITY * box.values.size:
        return None
    # per box position: e s, and the row
    base = np.arange(n_rows, dtype=np.int64)
    step = n_rows
    for axis in reversed(range(n)):
        shape = [1] * (n + 2)
        shape[1 + axis] = box.extent[axis]
        base = base + (np.arange(box.extent[axis], dtype=np.int64) * how.strides[axis] *
                       step).reshape(shape)
        step *= extent[axis]
    flat, inside = box.positions()
    target = _gather(how.placed(n_rows), box, flat, "target", np.int64)
    target += base
    weights = _gather(rows.values, box, flat, "weights")
    weights *= box.values
    if inside is not None:  # a position outside the grid selects nothing
        np.copyto(weights, 0.0, where=~inside)
    if inside is not None or not how.distinct:
        values = np.bincount(target.ravel(), weights=weights.ravel(), minlength=size)
    else:
        values = _scratch(out, size)
        values.fill(0.0)
        values[target.ravel()] = weights.ravel()
    lo = box.lo * np.asarray(how.strides)[:, None] + np.asarray(how.offsets)[:, None]
    return _Box(values.reshape((channels,) + extent + (n_rows,)), lo, grid, clean=True)


def _conv(box: _Box, conv: LazyConv, out: str) -> _Box | None:
    """``box @ conv``: the boxes' transposed convolution (one product over the output
    channels for every tap, one strided addition per tap; in the work array ``out``);
    ``None`` when too large. The box's values outside its grid are zeroed in place."""
    g = _conv_geometry(conv)
    values = box.values
    if not box.clean:  # the zero padding of this layer's output: dropped
        _, inside = box.positions()
        if inside is not None:
            np.copyto(values, 0.0, where=~inside)
    extent, n_rows = box.extent, values.shape[-1]
    f = tuple((e - 1) * s + (k - 1) * d + 1 for e, s, k, d in
              zip(extent, g.stride, g.kernel_shape, g.dilation))
    if g.in_channels * math.prod(f) * n_rows > BOX_LIMIT:
        return None
    result = _work(out, (g.in_channels,) + f + (n_rows,))
    result.fill(0.0)
    taps = list(np.ndindex(*g.kernel_shape))
    c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
    w = conv.operator._w.reshape(g.out_channels, c_in_g, len(taps))
    per_tap = c_in_g * math.prod(extent) * n_rows
    chunk = max(1, min(len(taps), SCRATCH // per_tap))  # taps per product
    scratch = _scratch("taps", chunk * per_tap)
    for k in range(g.groups):
        # (taps, C_in/g, C_out/g): a product over the group's output channels per tap
        wk = w[k * c_out_g:(k + 1) * c_out_g].transpose(2, 1, 0)
        v = values[k * c_out_g:(k + 1) * c_out_g].reshape(c_out_g, -1)
        for first in range(0, len(taps), chunk):
            some = taps[first:first + chunk]
            flat = scratch[:len(some) * per_tap].reshape(len(some) * c_in_g, -1)
            np.matmul(wk[first:first + len(some)].reshape(-1, c_out_g), v, out=flat)
            part = flat.reshape((len(some), c_in_g) + extent + (n_rows,))
            for t, tap in enumerate(some):
                window = tuple(slice(j * d, j * d + (e - 1) * s + 1, s) for j, d, e, s in
                               zip(tap, g.dilation, extent, g.stride))
                result[(slice(k * c_in_g, (k + 1) * c_in_g),) + window] += part[t]
    lo = box.lo * np.asarray(g.stride)[:, None] - \
        np.asarray([b for b, _ in g.padding])[:, None]
    return _Box(result, lo, g.input_shape)


def _entries(box: _Box, data: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The boxes' non-zero entries inside the grid, row by row, columns ascending, written
    to the start of ``data`` and ``columns`` (long enough for every entry of the box);
    returns the per-row counts. A column is ``c prod(grid) + `` the flat grid position,
    summed from one term per axis in the rows-first layout ``(rows, C, *E)``."""
    values = box.values
    channels, n_rows, n = values.shape[0], values.shape[-1], len(box.grid)
    shape = (n_rows,) + values.shape[:-1]
    rowwise = _work("rowwise", shape)
    np.copyto(rowwise, np.moveaxis(values, -1, 0))
    keep = rowwise != 0
    terms = [np.arange(channels, dtype=np.int64).reshape((1, channels) + (1,) * n)]
    step = 1
    for axis in reversed(range(n)):
        e, size = box.extent[axis], box.grid[axis]
        pos = box.lo[axis][:, None] + np.arange(e, dtype=np.int64)  # (rows, E_axis)
        per_axis = [n_rows, 1] + [1] * n
        per_axis[2 + axis] = e
        within = (pos >= 0) & (pos < size)
        if not within.all():  # outside the grid: zero padding, dropped
            keep &= within.reshape(per_axis)
        terms.append((pos * step).reshape(per_axis))
        step *= size
    terms[0] = terms[0] * step
    index = _work("index", shape, np.int64)
    total = terms[0]  # the channel's term, then the axes' from the last: small until the end
    for term in terms[1:-1]:
        total = total + term
    np.add(total, terms[-1], out=index)
    counts = np.count_nonzero(keep.reshape(n_rows, -1), axis=1)
    stored = int(counts.sum())
    data[:stored] = rowwise[keep]
    columns[:stored] = index[keep]
    return counts


def _block(factors: list, rows: Rows, step: int, plans: dict) -> tuple[_Box, int] | None:
    """The last box of ``rows`` (a block of the output end's rows) through the chain
    ``factors`` (output end first) from ``factors[step]`` on, and the most entries a box
    held per row; ``None`` when a box would be too large. ``plans`` keeps each
    selection's :class:`_Selection` from block to block. The boxes live in two work
    arrays, alternately."""
    box: _Box | None = _start(rows, factors[step - 1], "box0")
    peak = 1
    for i in range(step, len(factors)):
        a = factors[i]
        if box is None:
            return None
        peak = max(peak, box.values.size // max(rows.shape[0], 1))
        out = f"box{(i - step + 1) % 2}"
        if isinstance(a, LazyConv):
            box = _conv(box, a, out)
        elif i == len(factors) - 1:  # a selection or diagonal starts the chain: left over
            break
        elif a.diagonal:
            box = _diagonal(box, a.values, out)
        else:
            g = _conv_geometry(factors[i + 1])
            if i not in plans:
                plans[i] = _Selection(a, box.values.shape[:1] + box.grid, box.extent,
                                      tuple(g.output_shape))
            box = _select(box, a, plans[i], g.out_channels, tuple(g.output_shape), out)
    if box is None:
        return None
    return box, max(peak, box.values.size // max(rows.shape[0], 1))


def _even(n_rows: int, most: int) -> int:
    """Rows per block: at most ``most`` (at least :data:`MIN_BLOCK`), the ``n_rows`` split
    into blocks of about equal size."""
    most = max(MIN_BLOCK, most)
    if n_rows <= most:
        return max(n_rows, 1)
    return -(-n_rows // -(-n_rows // most))


def box_rows(mats: list, what: str) -> tuple[sp.csr_array, Rows | None] | None:
    """``A_L ... A_1`` of a chain that :func:`boxes_qualify` (``mats`` input end first),
    from the output end as boxes, a block of rows at a time (each box at most about
    :data:`BLOCK` entries): ``(P, S)`` with the product ``P @ S`` (``S`` a selection or
    diagonal that starts the chain, ``None`` when a convolution does); ``None`` when a box
    would be too large.

    The blocks' entries gather in two work arrays, as long as every row's whole final box
    (grown if a block needs more); the result's arrays are their stored part (copied from
    the thread's kept arrays, or a fresh one shrunk in place: :func:`_kept`)."""
    factors = list(reversed(mats))
    if isinstance(factors[0], LazyConv):
        n = factors[0].shape[0]
        rows, step = Rows(np.arange(n), np.ones(n), n, diagonal=True), 1
    else:
        rows, step = factors[0], 2
    last = factors[-1] if isinstance(factors[-1], Rows) else None
    n_rows = rows.shape[0]
    n_columns = factors[-1].shape[0 if last is not None else 1]
    g = _conv_geometry(factors[step - 1])
    f = [(k - 1) * d + 1 for k, d in zip(g.kernel_shape, g.dilation)]
    block = _even(n_rows, BLOCK // (4 * g.in_channels * math.prod(f)))  # a guess at first
    first, stored = 0, 0
    plans: dict = {}
    data = columns = np.empty(0)
    counts = np.zeros(n_rows, dtype=np.int64)
    while first < n_rows:
        done = _block(factors, Rows(rows.columns[first:first + block],
                                    rows.values[first:first + block], rows.shape[1]), step,
                      plans)
        if done is None:
            return None
        box, peak = done
        per_row = box.values.size // box.values.shape[-1]
        if data.size < stored + box.values.size:  # every row's whole box, at most
            grown = max(stored + box.values.size, per_row * n_rows)
            wide = index_dtype_for(max(grown, n_columns))  # int32 when it can be
            data, columns = (_grow(name, array, stored, grown, dtype) for name, array, dtype
                             in (("data", data, np.float64), ("columns", columns, wide)))
        per_block = _entries(box, data[stored:], columns[stored:])
        counts[first:first + per_block.size] = per_block
        first += per_block.size
        stored += int(per_block.sum())
        projected = stored * n_rows // min(first, n_rows)  # the blocks so far, to all rows
        check_budget(2 * 12 * projected + 16 * n_rows, what, nnz=projected)
        block = _even(n_rows - first, BLOCK // peak)
    index = index_dtype_for(max(stored, n_columns))
    indptr: np.ndarray = np.zeros(n_rows + 1, dtype=index)
    np.cumsum(counts, out=indptr[1:])
    out = sp.csr_array((_kept(data, stored, np.float64), _kept(columns, stored, index),
                        indptr), shape=(n_rows, n_columns))
    out.has_canonical_format = True
    return out, last


def _grow(name: str, array: np.ndarray, stored: int, size: int, dtype: type) -> np.ndarray:
    """A work array ``name`` of ``size`` entries holding ``array``'s first ``stored``."""
    grown = _scratch(name, size, dtype)
    grown[:stored] = array[:stored]
    return grown


def _kept(array: np.ndarray, stored: int, dtype: type) -> np.ndarray:
    """``array``'s first ``stored`` entries as an array of the result: the array itself,
    shrunk in place (no copy), when it is a fresh one of ``dtype`` (too large for the
    thread to keep; nothing else refers to it); else a copy."""
    if array.base is None and array.dtype == dtype:
        array.resize(stored, refcheck=False)
        return array
    return array[:stored].astype(dtype)
