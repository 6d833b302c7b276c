r"""Products of a chain of layer factors: a network's matrix, and its Jacobian at a point.

A factor is a SciPy CSR array, a dense ``numpy`` array (a partial product that came out
mostly full), a convolution held lazily (:class:`convmat.networks._factors.LazyConv`: its matrix
is built only when a sparse product needs it, a dense partial goes through the
matrix-free operator) or a :class:`Rows` matrix (at most one entry per row: the Jacobian
of an activation, a diagonal, or of max pooling, a selection), which is multiplied by
gathering and scaling rows or by renaming columns, never by a sparse product.

At a point, every layer's factor is taken at the value that layer sees; max pooling picks
each window's maximum as PyTorch does (the first in C order, the last NaN), so the product
is the Jacobian that PyTorch's autograd computes, ties and NaNs included.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import scipy.sparse as sp

from .. import _engine, options
from .._memory import check_budget, index_dtype_for
from ..errors import ConvmatError
from ._boxes import box_rows, boxes_qualify
from ._factors import LazyConv, Rows, apply
from ._local import Patches, conv_rows

__all__ = ["Rows", "compose", "linearise"]


def _built(a):
    if isinstance(a, LazyConv):
        return a.matrix()
    return a.tocsr() if isinstance(a, Rows) else a


def _gather_rows(rows: Rows, right):
    """``rows @ right``: the rows ``right[columns]`` scaled by ``values``."""
    if isinstance(right, np.ndarray):
        return rows.values[:, None] * right[rows.columns]
    if isinstance(right, LazyConv):  # only the rows needed are built, when it can
        picked = right.take_rows(rows.columns, rows.values)
        if picked is None:  # a large layer: its rows through their weights
            picked = conv_rows(rows.tocsr(), right.operator, "the network's matrix")
        if picked is not None:
            return picked
    right = sp.csr_array(_built(right))
    indptr, source = _engine.row_entries(right.indptr, rows.columns, rows.values != 0)
    data = right.data[source] * np.repeat(rows.values, np.diff(indptr))
    out = sp.csr_array((data, right.indices[source], indptr),
                       shape=(rows.shape[0], right.shape[1]))
    out.has_canonical_format = right.has_canonical_format
    return out


def _rename_columns(left, rows: Rows):
    """``left @ rows``: column ``c`` of ``left`` moves to ``columns[c]``, scaled by
    ``values[c]``."""
    if isinstance(left, np.ndarray):
        scaled = left * rows.values
        if rows.diagonal:
            return scaled
        if np.bincount(rows.columns, minlength=rows.shape[1]).max(initial=0) <= 1:
            out = np.zeros((left.shape[0], rows.shape[1]), dtype=scaled.dtype)
            out[:, rows.columns] = scaled
            return out
        return np.asarray((rows.tocsr().T @ left.T).T)  # columns merged: summed
    left = sp.csr_array(_built(left))
    data = left.data * rows.values[left.indices]
    if rows.diagonal:  # columns stay where they are
        keep = data != 0
        if keep.all():  # left's index arrays shared, never pruned in place
            out = sp.csr_array((data, left.indices, left.indptr), shape=left.shape)
        else:
            indptr = np.concatenate(([0], np.cumsum(keep)))[left.indptr]
            out = sp.csr_array((data[keep], left.indices[keep], indptr), shape=left.shape)
        out.has_canonical_format = left.has_canonical_format
        return out
    # a new indptr: sum_duplicates and eliminate_zeros prune it in place, and ``left``
    # (whose indptr this would otherwise be) may be used again
    out = sp.csr_array((data, rows.columns[left.indices], left.indptr.copy()),
                       shape=(left.shape[0], rows.shape[1]))
    if np.all(np.diff(rows.columns) > 0):  # order kept, nothing merged (a diagonal)
        out.has_canonical_format = left.has_canonical_format
    else:
        out.sum_duplicates()
    out.eliminate_zeros()
    return out


def _product_nnz(left, right) -> int:
    """Stored entries of the sparse product ``left @ right``, bounded before it is formed:
    the multiplications (capped by the columns, row by row) when they fit the memory limit,
    else counted exactly by the product's symbolic pass (SciPy's own first pass: O(columns)
    memory)."""
    left, right = sp.csr_array(left), sp.csr_array(right)
    work = np.concatenate(([0], np.cumsum(np.diff(right.indptr)[left.indices])))
    per_row = work[left.indptr[1:]] - work[left.indptr[:-1]]
    bound = int(np.minimum(per_row, right.shape[1]).sum())
    if 24 * bound <= int(cast(int, options.get("memory_limit"))):
        return bound
    try:
        from scipy.sparse import _sparsetools  # the symbolic pass alone (SciPy's own)
    except ImportError:  # a SciPy without it: the bound stands
        return bound
    index = np.int64
    return int(_sparsetools.csr_matmat_maxnnz(
        left.shape[0], right.shape[1], left.indptr.astype(index), left.indices.astype(index),
        right.indptr.astype(index), right.indices.astype(index)))


def _product(left, right, what: str):
    """``left @ right`` with the memory guard (the stored entries of the result bounded from
    the geometry or the product's symbolic pass, never by the multiplications).

    A factor held as a numpy array (a product that came out at least half full, where the
    array takes no more memory than CSR) is multiplied as sparse-by-dense.
    """
    if isinstance(left, Rows) and isinstance(right, Rows):
        return Rows(right.columns[left.columns], left.values * right.values[left.columns],
                    right.shape[1], left.diagonal and right.diagonal)
    if isinstance(left, Rows):
        return _gather_rows(left, right)
    if isinstance(right, Rows):
        return _rename_columns(left, right)
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        size = left.shape[0] * right.shape[1]
        check_budget(8 * size, what, nnz=size)
        if isinstance(right, LazyConv):  # rows of `left` through the transposed layer
            return np.asarray(right.operator.rmatmat(left.T)).T
        if isinstance(left, LazyConv):
            return np.asarray(left.operator.matmat(right))
        return np.asarray(left @ right)
    if isinstance(right, LazyConv) and not isinstance(left, LazyConv):
        local = conv_rows(sp.csr_array(left), right.operator, what)  # rows local: patches
        if local is not None:
            return local
    left, right = _built(left), _built(right)
    nnz = _product_nnz(left, right)
    check_budget(nnz * 24 + (left.shape[0] + 1) * 16, what, nnz=nnz,
                 advice="The Jacobian-vector products of the layers (or a smaller input) "
                        "avoid forming the product. ")
    out = sp.csr_array(left @ right)
    if 2 * out.nnz >= out.shape[0] * out.shape[1]:
        return out.toarray()
    return out


def _counts(a) -> tuple[np.ndarray, np.ndarray]:
    """(stored entries per column, per row) of a factor."""
    if isinstance(a, Rows):
        stored = a.values != 0
        return np.bincount(a.columns[stored], minlength=a.shape[1]), stored.astype(np.int64)
    if isinstance(a, LazyConv) and not a.built:
        return a.counts()
    a = _built(a)
    if isinstance(a, np.ndarray):
        return np.full(a.shape[1], a.shape[0]), np.full(a.shape[0], a.shape[1])
    return np.bincount(a.indices, minlength=a.shape[1]), np.diff(a.indptr)


def compose(pairs: list, n_in: int, n_out: int, bias: bool = True):
    """``A = A_L ... A_1`` and the bias carried through.

    When the output is much narrower than every other point of the chain, or the chain is
    large (:data:`LOCAL_ENTRIES`), holds a convolution and its input is not much narrower
    than its output, the products
    are taken from the output end (as reverse-mode differentiation does), a block of rows
    at a time (:func:`_from_output`): a convolution then multiplies rows that are local
    (:func:`convmat.networks._local.conv_rows`), and rows a max pooling discards are never
    formed. When the input is much narrower, from the input end (forward mode). Otherwise
    the chain is associated
    greedily: the adjacent pair whose product needs the fewest multiplications (counted
    exactly from the factors' column and row counts) is multiplied first. A chain whose
    output is not narrow and whose input end is a partial product at least
    :data:`FULL_START` full (a graph's node on the Jacobian before it) is applied to that
    product's columns, a block at a time, dense (:func:`_forward_columns`). A segment's
    bias is ``M_2 b_1 + b_2`` when segments 1 then 2 are joined (not bias: the bias
    returned is not computed, zeros).
    """
    mats, biases = [], []
    for a, b in pairs:
        b = np.asarray(b, dtype=np.float64)
        if a is None:  # a reshape: the identity (its bias is zero)
            continue
        if isinstance(a, Rows) and mats and isinstance(mats[-1], Rows):
            # one-entry factors in a row merge into one, in O(rows)
            mats[-1], biases[-1] = _product(a, mats[-1], "the network's matrix"), \
                a @ biases[-1] + b
        else:
            mats.append(a)
            biases.append(b)
    if not mats:
        return sp.eye_array(n_in, format="csr"), np.zeros(n_in)
    inner = [a.shape[1] for a in mats[1:]]  # widths between the layers
    narrow_out = 4 * n_out <= min(inner + [n_in], default=n_in)
    if len(mats) > 1 and not narrow_out and _full_start(mats):  # a node on a filling Jacobian
        return _forward_columns(mats), _carried(mats, biases) if bias else \
            np.zeros(mats[-1].shape[0])
    if len(mats) > 1 and (narrow_out or _local_chain(mats, n_in, n_out)):
        return _from_output(mats, biases if bias else None)
    if len(mats) > 1 and boxes_qualify(mats):  # convolutions, pools, activations: boxes
        boxed = box_rows(mats, "the network's matrix")
        if boxed is not None:
            a, first = boxed
            return (a if first is None else _rename_columns(a, first)), \
                _carried(mats, biases) if bias else np.zeros(a.shape[0])
    narrow_in = 4 * n_in <= min(inner + [n_out], default=n_out)
    counts = [] if narrow_in else [_counts(a) for a in mats]
    while len(mats) > 1:
        if narrow_in:
            i = 0
        else:
            costs = [int(counts[i + 1][0] @ counts[i][1]) for i in range(len(mats) - 1)]
            i = int(np.argmin(costs))
        a = _product(mats[i + 1], mats[i], "the network's matrix")
        b = apply(mats[i + 1], biases[i]) + biases[i + 1]
        mats[i:i + 2], biases[i:i + 2] = [a], [b]
        if counts:
            counts[i:i + 2] = [_counts(a)]
    a = _built(mats[0])
    if isinstance(a, np.ndarray):
        return _dense_csr(a), biases[0]
    a = sp.csr_array(a)
    if not a.has_sorted_indices:  # two transposes (counting sorts): O(nnz), no row sorts
        a = sp.csr_array(a.tocsc().tocsr())
    return a, biases[0]


#: output rows multiplied through the chain at a time (bounds the partial products)
ROW_BLOCK = 4096


#: a chain is multiplied from the output end, rows local, when its dense matrix would have
#: at least this many entries (below, the greedy association is faster: small products)
LOCAL_ENTRIES = 1 << 24


def _local_chain(mats: list, n_in: int, n_out: int) -> bool:
    """A large chain holding a convolution whose input is not much narrower than its
    output: multiplied from the output end, rows local."""
    return (n_in * n_out >= LOCAL_ENTRIES and 16 * n_in > n_out
            and any(isinstance(a, LazyConv) for a in mats))


def _first_rows(a, rows: slice):
    """Rows ``rows`` of the factor ``a`` (a selection, a convolution's rows, a slice)."""
    if isinstance(a, Rows):
        return Rows(a.columns[rows], a.values[rows], a.shape[1])
    if isinstance(a, LazyConv):
        picked = np.arange(rows.start, rows.stop)
        return _gather_rows(Rows(picked, np.ones(picked.size), a.shape[0]), a)
    return a[rows]


def _local_step(part, a, what: str):
    """``part @ a`` for a block of rows from the output end: held as dense
    :class:`~convmat.networks._local.Patches` from a large layer's rows on, through
    diagonals and zero-padded convolutions, as long as they stay small; otherwise
    :func:`_product`."""
    if isinstance(part, Patches):
        following = part.times(a)
        if following is not None:
            return following
        part = part.tocsr()
    elif isinstance(part, Rows) and isinstance(a, LazyConv) and not a.built \
            and _engine.shared(a.operator.geom) is None:  # no cached rows to take
        patches = Patches.from_rows(part.columns, part.values, a.operator)
        if patches is not None:
            return patches
    return _product(part, a, what)


#: a chain whose input end is a partial product at least this full (a graph's node on the
#: Jacobian before it) is applied to it a block of its columns at a time, dense
FULL_START = 1 / 16
#: entries of a dense block of columns (its columns: this over the chain's widest point)
COLUMN_BLOCK = 1 << 22


def _full_start(mats: list) -> bool:
    """Whether the chain starts (input end) with a partial product that is at least
    :data:`FULL_START` full and holds a convolution after it."""
    first = mats[0]
    if isinstance(first, np.ndarray):
        full = True
    elif isinstance(first, (sp.csr_array, sp.csr_matrix)):
        full = first.nnz >= FULL_START * first.shape[0] * first.shape[1]
    else:
        return False
    return full and any(isinstance(a, LazyConv) for a in mats[1:])


def _forward_columns(mats: list) -> sp.csr_array:
    r"""``A_L ... A_2 A_1`` for a chain whose input end ``A_1`` is a mostly full partial
    product: a block of ``A_1``'s columns at a time, dense, through every factor (a
    convolution by its matrix-free operator: one dense product per tap chunk, not a sparse
    product whose multiplications grow with the product of both fill ratios); every
    block's non-zeros kept as rows of :math:`A^\mathsf{T}`, transposed once at the end."""
    first = mats[0]
    n_cols = first.shape[1]
    widest = max(a.shape[0] for a in mats)
    step = max(1, min(n_cols, COLUMN_BLOCK // widest))
    what = "the network's matrix"
    blocks, stored = [], 0
    for start in range(0, n_cols, step):
        cols = slice(start, min(start + step, n_cols))
        check_budget(8 * 3 * widest * (cols.stop - cols.start), what)
        part = first[:, cols]
        part = part if isinstance(part, np.ndarray) else part.toarray()
        for a in mats[1:]:
            part = _product(a, part, what)
        block = _dense_csr(np.ascontiguousarray(np.asarray(part).T), copy=False)
        blocks.append(block)
        stored += block.nnz
        projected = stored * n_cols // cols.stop  # the blocks so far, to all columns
        check_budget(2 * 12 * projected + 16 * (n_cols + mats[-1].shape[0]), what,
                     nnz=projected)
    transposed = _stack_rows(blocks, n_cols, mats[-1].shape[0])
    out = sp.csr_array(transposed.T.tocsr())  # a counting transpose: rows sorted, distinct
    index = index_dtype_for(max(out.nnz, out.shape[1]))  # the package's, not SciPy's
    out.indices, out.indptr = out.indices.astype(index, copy=False), \
        out.indptr.astype(index, copy=False)
    out.has_canonical_format = True
    return out


def _carried(mats: list, biases: list) -> np.ndarray:
    """The chain's bias, carried from the input end: ``b = A_2 b_1 + b_2``, and so on."""
    b = biases[0]
    for a, more in zip(mats[1:], biases[1:]):
        b = apply(a, b) + more
    return b


def _from_output(mats: list, biases: list | None):
    """``A_L ... A_1`` from the output end, :data:`ROW_BLOCK` rows at a time, and the bias
    carried through from the input end. The blocks' stored entries are counted as they
    come: the guard refuses once they (and their concatenation) would pass the limit, or
    once the blocks so far, extrapolated to all rows, would."""
    b = np.zeros(mats[-1].shape[0]) if biases is None else _carried(mats, biases)
    n_rows, n_cols = mats[-1].shape[0], mats[0].shape[1]
    what = "the network's matrix"
    blocks, stored = [], 0
    for first in range(0, n_rows, ROW_BLOCK):
        rows = slice(first, min(first + ROW_BLOCK, n_rows))
        part = _first_rows(mats[-1], rows)
        for a in reversed(mats[:-1]):
            part = _local_step(part, a, what)
        if isinstance(part, Patches):
            part = part.tocsr()
        part = _dense_csr(part) if isinstance(part, np.ndarray) else sp.csr_array(_built(part))
        blocks.append(part)
        stored += part.nnz
        projected = stored * n_rows // rows.stop  # the blocks so far, to all rows
        check_budget(2 * 12 * projected + 16 * n_rows, what, nnz=projected,
                     advice="The Jacobian-vector products of the layers (or a smaller input) "
                            "avoid forming the product. ")
    return _stack_rows(blocks, n_rows, n_cols), b


def _stack_rows(blocks: list, n_rows: int, n_cols: int) -> sp.csr_array:
    """Blocks of rows, each CSR, stacked into one canonical CSR (the package's index
    width)."""
    nnz = sum(p.nnz for p in blocks)
    index = index_dtype_for(max(nnz, n_cols))
    indptr = np.zeros(n_rows + 1, dtype=index)
    np.cumsum(np.concatenate([np.diff(p.indptr) for p in blocks]), out=indptr[1:])
    indices = np.concatenate([p.indices.astype(index, copy=False) for p in blocks])
    data = np.concatenate([p.data for p in blocks])
    out = sp.csr_array((data, indices, indptr), shape=(n_rows, n_cols))
    if not all(p.has_canonical_format for p in blocks):
        out.sum_duplicates()
    if not out.has_sorted_indices:
        out.sort_indices()
    out.has_canonical_format = True
    return out


def _dense_csr(a: np.ndarray, copy: bool = True) -> sp.csr_array:
    """A dense array's non-zeros as CSR (canonical, the package's index width): columns by
    a broadcast index, all of them at once when nothing is zero (a whole network's
    Jacobian usually); then with ``copy=False`` the CSR's values are ``a``'s own memory
    (for an array nothing else holds: a layer's weight must be copied)."""
    stored = a != 0
    index = index_dtype_for(max(a.size, a.shape[1]))
    columns = np.arange(a.shape[1], dtype=index)
    if stored.all():
        indptr = np.arange(a.shape[0] + 1, dtype=index) * a.shape[1]
        data = a.astype(np.float64, copy=copy).ravel()
        columns = np.tile(columns, a.shape[0])
    else:
        indptr = np.zeros(a.shape[0] + 1, dtype=index)
        np.cumsum(stored.sum(axis=1), out=indptr[1:])
        data, columns = a[stored].astype(np.float64), np.broadcast_to(columns, a.shape)[stored]
    out = sp.csr_array((data, columns, indptr), shape=a.shape)
    out.has_canonical_format = True
    return out


def linearise(stages, shapes, x: np.ndarray):
    """(Jacobian, f(x) - J x) at ``x``: every layer's factor at its own input, multiplied
    by :func:`compose` (each layer's kind gives its factor: :meth:`Kind.jacobian
    <convmat.networks._kinds.Kind.jacobian>`). Activations contribute ``diag(slope)``, max
    pooling its selection (both :class:`Rows`), linear layers their matrix; a layer's
    output is its factor applied to its input (plus its bias), an activation's its own
    formula."""
    value = x.reshape(-1)
    pairs = []
    for stage, shape, out_shape in zip(stages, shapes, shapes[1:]):
        try:
            factor, bias, after = stage.kind.jacobian(stage, value, shape, out_shape)
        except ConvmatError as exc:
            raise ConvmatError(f"{stage.label}: {exc.message}") from None
        pairs.append((factor, np.zeros(after.size) if bias is None else bias))
        value = after
    a, _ = compose(pairs, math.prod(shapes[0]), math.prod(shapes[-1]), bias=False)
    with np.errstate(invalid="ignore"):  # inf - inf at a non-finite point is NaN
        return a, value - a @ x.reshape(-1)
