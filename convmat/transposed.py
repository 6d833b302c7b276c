r"""Transposed convolution as a direct convolution: the zero-insertion ("stretch") matrix and
the parameters of the equivalent unit-stride convolution.

A transposed convolution has three faces that give the same matrix:

(a) the transpose of the convolution matrix, :func:`convmat.conv_transpose_matrix`;
(b) a unit-stride convolution of the *stretched* input — ``s - 1`` zeros between entries,
    ``d(k-1) - b`` zeros before and ``d(k-1) - a + q`` after (``q`` the output padding) —
    with the kernel flipped and its channel axes swapped: :func:`equivalent_convolution`;
(c) PyTorch's ``torch.nn.functional.conv_transposeNd``.

Per dim, with input :math:`y` of size :math:`i` and stretched input :math:`z`,
:math:`z[ts] = y[t]` and zero elsewhere, so

.. math::

    (A^\mathsf{T} y)[p] = \sum_{t, j \,:\, ts + jd - b = p} w[j]\, y[t]
                        = \sum_{j} w[k-1-j]\; z_{\text{pad}}[p + jd],

the second sum a unit-stride cross-correlation of the padded :math:`z` with the flipped kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import geometry
from ._memory import check_budget, conversion_bytes, index_dtype_for
from ._validate import (
    as_dtype,
    as_format,
    as_per_dim,
    as_shape,
    as_weight,
    check_format,
    check_size,
    positive_int,
)
from .arrays import with_geometry
from .errors import ConvmatError, brief, error_context, shape_of
from .sparse import conv_matrix

__all__ = ["equivalent_convolution", "stretch_matrix"]


def stretch_matrix(
    input_shape: Sequence[int],
    stride: int | Sequence[int],
    *,
    padding: geometry.Padding = 0,
    channels: int = 1,
    dtype: np.dtype | type = np.float64,
    format: str = "csr",  # noqa: A002 - SciPy's name
) -> sp.sparray:
    r"""The zero-insertion ("stretch") matrix: ``s - 1`` zeros between neighbouring entries.

    Parameters
    ----------
    input_shape : sequence of int
        Spatial shape of the signal to stretch.
    stride : int or sequence of int
        ``s`` per dim; entry ``t`` moves to position ``t * s``.
    padding : int, sequence of int or of (before, after) pairs
        Zeros added before/after each dim of the stretched signal; a negative value removes
        (crops) that many positions instead.
    channels : int
        Number of channels (block diagonal, one block per channel).
    dtype : numpy dtype
        Entry type (entries are 0 and 1).
    format : str
        Any SciPy sparse format name.

    Returns
    -------
    scipy.sparse array, shape ``(channels * prod(L), channels * prod(input_shape))``
        with :math:`L = (i - 1)s + 1 + b + a` per dim.

    Notes
    -----
    :math:`Z[(c, ts + b), (c, t)] = 1` for every entry whose new position
    :math:`ts + b` lies in :math:`[0, L)`; all other rows are zero.

    Examples
    --------
    >>> stretch_matrix((3,), 2, dtype=int).toarray()
    array([[1, 0, 0],
           [0, 0, 0],
           [0, 1, 0],
           [0, 0, 0],
           [0, 0, 1]])
    >>> stretch_matrix((2, 2), 2, padding=[(1, 0), (0, 0)], dtype=int) @ np.array([1, 2, 3, 4])
    array([0, 0, 0, 1, 0, 2, 0, 0, 0, 3, 0, 4])
    """
    with error_context("stretch_matrix", input_shape=input_shape, stride=stride):
        ishape = as_shape(input_shape, "input_shape")
        n = len(ishape)
        strides = as_per_dim(stride, n, "stride", minimum=1)
        if isinstance(padding, str) and padding.lower() != "valid":
            raise ConvmatError(f"padding={padding!r}: the stretched signal takes an int, "
                               f"per-dim ints or (before, after) pairs (negative crops)")
        pads = geometry.resolve_padding(padding, ishape, (1,) * n, allow_negative=True)
        channels = positive_int(channels, "channels")
        format = check_format(format)
        dtype = as_dtype(dtype)
        lengths = tuple(geometry.stretched_size(i, s) + b + a
                        for i, s, (b, a) in zip(ishape, strides, pads))
        if any(length < 1 for length in lengths):
            raise ConvmatError(f"padding={brief(padding)} crops the stretched signal to "
                               f"{brief(lengths)}; every size must stay positive")
        for length in lengths:
            check_size(length, "stretched size")
        n_rows, n_cols = channels * math.prod(lengths), channels * math.prod(ishape)
        idx = np.dtype(index_dtype_for(max(n_rows, n_cols) + 1)).itemsize
        # per input entry: new positions, masks and columns (int64 temporaries), the values
        peak = n_rows * idx + n_cols * (dtype.itemsize + 2 * idx + 40) + sum(ishape) * 24
        if format != "csr":
            peak += conversion_bytes(format, n_cols, n_rows, n_cols, dtype.itemsize, idx, 1)
        check_budget(peak, f"stretch_matrix of shape ({n_rows}, {n_cols})")
        index = np.dtype(index_dtype_for(max(n_rows, n_cols) + 1))

        # per axis: new position of every input entry, and whether it survives the crop
        row: np.ndarray = np.zeros((), dtype=np.int64)
        kept: np.ndarray = np.ones((), dtype=bool)
        for i, s, (b, _), length in zip(ishape, strides, pads, lengths):
            position = np.arange(i, dtype=np.int64) * s + b
            row = np.add.outer(row * length, position)
            kept = np.logical_and.outer(kept, (position >= 0) & (position < length))
        col = np.flatnonzero(kept)  # C order: the flat input index of every kept entry
        row = row.ravel()[col]
        channel = np.arange(channels, dtype=np.int64)[:, None]
        rows = (channel * math.prod(lengths) + row).ravel()
        cols = (channel * math.prod(ishape) + col).ravel()
        indptr = np.zeros(n_rows + 1, dtype=index)
        indptr[rows + 1] = 1  # at most one entry per row, rows increasing
        np.cumsum(indptr, out=indptr)
        matrix = sp.csr_array((np.ones(cols.size, dtype=dtype), cols.astype(index), indptr),
                              shape=(n_rows, n_cols))
        matrix.has_canonical_format = True
        return with_geometry(as_format(matrix, format, "the stretch matrix"), None)


@dataclass(frozen=True)
class EquivalentConvolution:
    """A transposed convolution written as a unit-stride convolution of the stretched input.

    Attributes
    ----------
    input_shape : tuple of int
        Spatial input shape of the transposed convolution.
    stride : tuple of int
        Its stride: the stretch factor.
    stretched_shape : tuple of int
        ``(i - 1) * s + 1`` per dim.
    padding : tuple of (int, int)
        ``(d(k-1) - b, d(k-1) - a + q)`` per dim for the unit-stride convolution; a negative
        value means cropping the stretched input.
    dilation : tuple of int
        Unchanged.
    weight : numpy.ndarray
        The kernel flipped along every spatial axis, channels in the convolution layout
        ``(C_out, C_in / groups, *kernel)`` (PyTorch's transposed layout has them swapped).
    groups : int
    output_shape : tuple of int
        The transposed convolution's spatial output shape.
    in_channels : int
        Channels of the transposed convolution's input.
    """

    input_shape: tuple[int, ...]
    stride: tuple[int, ...]
    stretched_shape: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    weight: np.ndarray
    groups: int
    output_shape: tuple[int, ...]
    in_channels: int

    def zero_insertion(self, format: str = "csr") -> sp.sparray:  # noqa: A002
        """The stretch matrix ``Z`` (no padding): flattened input → stretched input."""
        return stretch_matrix(self.input_shape, self.stride, channels=self.in_channels,
                              dtype=self.weight.dtype, format=format)

    def matrix(self, format: str = "csr") -> sp.sparray:  # noqa: A002
        """``conv_matrix(weight, padded, dilation=dilation, groups=groups) @ Z_padded``: the
        transposed convolution's matrix built as a direct, unpadded convolution of the
        stretched and padded (or cropped) input."""
        with error_context("EquivalentConvolution.matrix", input_shape=self.input_shape):
            format = check_format(format)  # before anything is built
            z = stretch_matrix(self.input_shape, self.stride, padding=self.padding,
                               channels=self.in_channels, dtype=self.weight.dtype)
            padded = tuple(n + b + a for n, (b, a) in zip(self.stretched_shape, self.padding))
            conv = conv_matrix(self.weight, padded, dilation=self.dilation, groups=self.groups)
            return as_format(sp.csr_array(conv @ z), format, "the equivalent matrix")


def equivalent_convolution(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> EquivalentConvolution:
    r"""The unit-stride convolution equal to a transposed convolution (zero padding).

    Parameters
    ----------
    weight : array_like
        The bare kernel or PyTorch's transposed layout ``(C_in, C_out / groups, *kernel)``.
    input_shape : sequence of int
        Spatial input shape of the transposed convolution.
    stride, padding, output_padding, dilation, groups
        As in :func:`convmat.conv_transpose_matrix`.

    Returns
    -------
    EquivalentConvolution

    Notes
    -----
    Per dim, stretch the input to :math:`(i-1)s + 1`, pad it with :math:`d(k-1) - b` zeros
    before and :math:`d(k-1) - a + q` after, and cross-correlate with stride 1 and dilation
    :math:`d` with the kernel reversed along every spatial axis. The output size is
    :math:`(i-1)s + 1 + 2d(k-1) - b - a + q - d(k-1) = (i-1)s - (b+a) + d(k-1) + q + 1`,
    that of the transposed convolution. Dumoulin & Visin's relationships 12–14 are the case
    :math:`d = 1`.

    Examples
    --------
    >>> eq = equivalent_convolution([1, 2, 3], (3,), stride=2, padding=1, output_padding=1)
    >>> eq.stretched_shape, eq.padding, eq.weight, eq.output_shape
    ((5,), ((1, 2),), array([3, 2, 1]), (6,))
    >>> eq.matrix().toarray()
    array([[2, 0, 0],
           [3, 1, 0],
           [0, 2, 0],
           [0, 3, 1],
           [0, 0, 2],
           [0, 0, 3]])
    """
    with error_context("equivalent_convolution", input_shape=input_shape,
                       weight_shape=shape_of(weight)):
        w = as_weight(weight)
        geom = geometry.transposed_geometry(
            input_shape, w.shape, stride=stride, padding=padding,
            output_padding=output_padding, dilation=dilation, groups=groups)
        n = geom.ndim
        ishape, oshape = geom.output_shape, geom.input_shape
        pads, stretched = [], []
        for i, k, s, d, (b, a), o in zip(ishape, geom.kernel_shape, geom.stride,
                                         geom.dilation, geom.padding, oshape):
            q = geometry.output_padding_for(o, i, k, s, d, b, a)
            pads.append(geometry.stretched_padding(k, d, b, a, q))
            stretched.append(geometry.stretched_size(i, s))
        flipped = w[(Ellipsis,) + (slice(None, None, -1),) * n]
        if w.ndim == n + 2:  # (C_in, C_out/g, *k) -> (C_out, C_in/g, *k), group by group
            g = geom.groups
            c_in, c_out_g = w.shape[:2]
            flipped = (flipped.reshape(g, c_in // g, c_out_g, *geom.kernel_shape)
                       .swapaxes(1, 2).reshape(g * c_out_g, c_in // g, *geom.kernel_shape))
        return EquivalentConvolution(
            ishape, geom.stride, tuple(stretched), tuple(pads), geom.dilation,
            np.ascontiguousarray(flipped), geom.groups, oshape, geom.out_channels)
