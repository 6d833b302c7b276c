"""The factors a network's matrix is multiplied from, beside SciPy's CSR and dense arrays:
:class:`Rows` (at most one entry per row: a diagonal, a selection) and :class:`LazyConv`
(a convolution's matrix built only when a sparse product needs it), and the small sparse
constructions several layer kinds share."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _engine
from .._padmap import index_map
from ..operator import conv_operator
from ..sparse import conv_matrix

__all__ = ["LazyConv", "Rows", "apply", "distinct_reads", "kron_all", "window_matrix"]


class Rows:
    """A matrix with at most one stored entry per row: row ``r`` holds ``values[r]`` in
    column ``columns[r]`` (a zero value stores nothing). ``diag(d)`` is ``Rows(arange, d)``;
    the selection of the windows' maxima is ``Rows(argmax, 1)``."""

    def __init__(self, columns: np.ndarray, values: np.ndarray, n_columns: int,
                 diagonal: bool = False):
        self.columns = np.asarray(columns, dtype=np.int64)
        self.values = np.asarray(values, dtype=np.float64)
        self.shape = (self.columns.size, int(n_columns))
        self.diagonal = diagonal  # columns == arange: a diagonal matrix

    @classmethod
    def diag(cls, values: np.ndarray) -> Rows:
        return cls(np.arange(values.size), values, values.size, diagonal=True)

    def tocsr(self) -> sp.csr_array:
        keep = self.values != 0
        indptr = np.concatenate(([0], np.cumsum(keep)))
        return sp.csr_array((self.values[keep], self.columns[keep], indptr), shape=self.shape)

    def __matmul__(self, v: np.ndarray) -> np.ndarray:  # a vector (the bias carried through)
        return self.values * v[self.columns]


def distinct_reads(i, k, s, d, b, a, mode, o) -> tuple[np.ndarray, np.ndarray]:
    """Per output position ``t < o`` of one dim, the input positions its taps read, sorted
    (``-1``: zero padding), and a mask of the first read of each distinct input."""
    pos = (np.arange(o, dtype=np.int64)[:, None] * s + np.arange(k, dtype=np.int64) * d)
    read = np.sort(index_map(i, b, a, mode)[pos], axis=1)
    distinct = read >= 0
    distinct[:, 1:] &= read[:, 1:] != read[:, :-1]
    return read, distinct


class LazyConv:
    """A convolution's matrix (:func:`convmat.conv_matrix`), built when a sparse product
    first needs it; a dense partial product (a few rows, or columns, that are mostly
    non-zero) goes through the matrix-free :func:`convmat.conv_operator` instead."""

    def __init__(self, weight, spatial, **kw):
        self.weight, self.spatial, self.kw = weight, spatial, kw
        self.operator = conv_operator(weight, spatial, **kw)
        self.shape = self.operator.shape
        self._built = None

    @property
    def built(self) -> bool:
        return self._built is not None

    def matrix(self) -> sp.csr_array:
        if self._built is None:
            self._built = conv_matrix(self.weight, self.spatial, **self.kw)
        return self._built

    def take_rows(self, rows: np.ndarray, scale: np.ndarray) -> sp.csr_array | None:
        """``diag(scale) @ A[rows]`` as CSR (rows scaled by 0 store nothing) from the
        layer's cached one-shot structure, without building the other rows; ``None`` when
        there is none (then the rows come from :meth:`matrix`)."""
        structure = None if self._built is not None else _engine.shared(self.operator.geom)
        if structure is None:
            return None
        kept = scale != 0
        indptr, indices, data = structure.take_rows(rows, self.operator.weight, kept)
        if not np.all(scale[kept] == 1):  # a selection keeps its rows as they are
            data *= np.repeat(scale, np.diff(indptr))
        out = sp.csr_array((data, indices, indptr), shape=(rows.size, self.shape[1]))
        out.has_canonical_format = True
        return out

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(stored entries per column, per row) of the matrix, from the geometry alone:
        per axis, the distinct input positions each output position reads (the padding
        map's duplicates merged), multiplied over the axes and the channels."""
        g = self.operator.geom
        per_row, per_col = np.ones((), dtype=np.int64), np.ones((), dtype=np.int64)
        for i, k, o, s, d, (b, a) in zip(g.input_shape, g.kernel_shape, g.output_shape,
                                         g.stride, g.dilation, g.padding):
            read, distinct = distinct_reads(i, k, s, d, b, a, g.padding_mode, o)
            per_row = np.multiply.outer(per_row, distinct.sum(axis=1))
            per_col = np.multiply.outer(per_col, np.bincount(read[distinct], minlength=i))
        c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
        return (np.tile(per_col.ravel() * c_out_g, g.in_channels),
                np.tile(per_row.ravel() * c_in_g, g.out_channels))


def apply(a, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a factor ``a`` and a vector ``v``."""
    return a.operator.matvec(v) if isinstance(a, LazyConv) else a @ v


def kron_all(factors, leading: int) -> sp.csr_array:
    """``kron(I_leading, F_1, ..., F_N)`` as CSR."""
    out = sp.eye_array(leading, format="csr")
    for f in factors:
        out = sp.kron(out, f, format="csr")
    return sp.csr_array(out)


def window_matrix(starts, ends, size, values=None) -> sp.csr_array:
    """Rows ``t`` with ones (or ``values``) on ``starts[t] <= j < ends[t]``, as CSR."""
    counts = ends - starts
    indptr = np.concatenate(([0], np.cumsum(counts)))
    cols = np.repeat(starts - indptr[:-1], counts) + np.arange(indptr[-1])
    data = np.ones(cols.size) if values is None else np.repeat(values, counts)
    return sp.csr_array((data, cols, indptr), shape=(len(starts), size))
