r"""Padding as a linear map: per-dimension index maps and the padding matrix.

A padding mode says, for every position of the padded signal, which input position it
copies (or that it is a zero). Per dimension with input size :math:`n` and padding
:math:`(b, a)`, padded position :math:`p` holds input position :math:`q = p - b` mapped by

==============  =====================================================  ====================
mode            source of padded position ``p`` (``q = p - b``)           limit per side
==============  =====================================================  ====================
``zeros``       ``q`` if ``0 <= q < n``, else a zero                     none
``reflect``     ``|q|`` then ``2(n-1) - q`` past the end (edge kept once)  ``< n``
``replicate``   ``clip(q, 0, n-1)``                                      none
``circular``    ``q mod n``                                              ``<= n``
``symmetric``   ``-q-1`` before, ``2n-1-q`` past the end (edge repeated)   ``<= n``
==============  =====================================================  ====================

exactly as :func:`torch.nn.functional.pad` for the first four and :func:`numpy.pad`
(``"symmetric"``; also TensorFlow's ``MirrorPad`` SYMMETRIC and SciPy's
``boundary="symm"``) for the last. In N-D the maps act per axis (an outer product).

A negative side is a crop (as XLA's ``lax.conv_general_dilated``): the input first loses
that many positions on that side, then the positive sides are filled by the mode from the
cropped input of size :math:`n' = n + \min(b, 0) + \min(a, 0) \ge 1` (the limits above
apply to :math:`n'`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
import scipy.sparse as sp

from . import geometry
from ._deprecation import MISSING, renamed
from ._memory import check_budget, conversion_bytes, index_dtype_for
from ._padmap import index_map
from ._validate import as_dtype, as_format, as_shape, check_format, check_size, positive_int
from .errors import ConvmatError, error_context

__all__ = ["padding_matrix"]


def padding_matrix(
    input_shape: Sequence[int],
    padding: geometry.Padding,
    *,
    padding_mode: geometry.PaddingMode = "zeros",
    channels: int = 1,
    format: str = "csr",  # noqa: A002 - SciPy's own name for it
    dtype: np.dtype | type = np.float64,
    mode: object = MISSING,  # the deprecated spelling
) -> sp.sparray:
    r"""The padding operator as a sparse matrix.

    Maps the flattened input ``(channels, *input_shape)`` to the flattened padded input
    ``(channels, *padded_shape)``.

    Parameters
    ----------
    input_shape : sequence of int
        Spatial shape of the input.
    padding : int, sequence of int or of (before, after) pairs, or ``"valid"``
        As in :func:`convmat.conv_matrix`; ``"same"`` and ``"full"`` need a kernel, so
        resolve them first with :func:`convmat.geometry.resolve_padding`. A negative
        number crops that side (the matrix is then the crop, or crop-then-pad).
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}
        Negative sides crop (see the module notes).
    channels : int
        Number of channels (the matrix is block diagonal, one block per channel).
    mode : str
        Deprecated spelling of ``padding_mode`` (warns).
    format : str
        Any SciPy sparse format name.
    dtype : numpy dtype
        Entry type (the entries are 0 and 1); a number type, float16 stored as float32.

    Returns
    -------
    scipy.sparse array of shape ``(channels * prod(padded_shape), channels * prod(input_shape))``

    Notes
    -----
    ``P[r, c] = 1`` when padded position ``r`` copies input position ``c`` (per axis through
    :func:`index_map`, combined over axes); rows of zero padding are empty. Then for every
    padding mode

    .. math::

        \operatorname{conv}(x; p, \text{mode}) = A_{\text{valid}}(\text{padded shape})\, P\, x.

    Examples
    --------
    >>> P = padding_matrix((3,), 1, padding_mode="reflect", dtype=int)
    >>> P.toarray()
    array([[0, 1, 0],
           [1, 0, 0],
           [0, 1, 0],
           [0, 0, 1],
           [0, 1, 0]])
    """
    padding_mode = cast(geometry.PaddingMode, renamed(  # either spelling, checked below
        "padding_matrix", "mode", mode, "padding_mode", padding_mode, "zeros"))
    with error_context("padding_matrix", input_shape=input_shape, padding=padding,
                       padding_mode=padding_mode):
        ishape = as_shape(input_shape, "input_shape")
        if isinstance(padding, str) and padding.lower() in ("same", "full"):
            raise ConvmatError(
                f"padding={padding!r} depends on a kernel; resolve it first with "
                f"convmat.geometry.resolve_padding(padding, input_shape, kernel_shape, ...)"
            )
        pads = geometry.resolve_padding(padding, ishape, (1,) * len(ishape),
                                        allow_negative=True)
        mode = geometry.check_mode(padding_mode, pads, ishape)
        channels = positive_int(channels, "channels")
        format = check_format(format)
        dtype = as_dtype(dtype)
        padded = tuple(check_size(i + b + a, "padded input size")
                       for i, (b, a) in zip(ishape, pads))
        n_rows, n_cols = channels * math.prod(padded), channels * math.prod(ishape)
        idx = np.dtype(index_dtype_for(max(n_rows, n_cols) + 1)).itemsize
        # one channel's flat sources and mask (with a temporary), the row counts, the
        # columns (int64, then the index type), the values, the row pointers
        per_channel = math.prod(padded)
        peak = (per_channel * 25 + sum(padded) * 24 + n_rows * (1 + idx)
                + n_rows * (16 + idx + dtype.itemsize) + idx)
        if format != "csr":
            peak += conversion_bytes(format, n_rows, n_rows, n_cols, dtype.itemsize, idx, 1)
        check_budget(peak, f"padding_matrix of shape ({n_rows}, {n_cols})")

        # flat source of every padded position of one channel (-1: a zero)
        source: np.ndarray = np.zeros((), dtype=np.int64)
        inside: np.ndarray = np.ones((), dtype=bool)
        for n, (b, a) in zip(ishape, pads):
            m = index_map(n, b, a, mode)
            source = source[..., None] * n + np.maximum(m, 0)
            inside = inside[..., None] & (m >= 0)
        source, inside = source.ravel(), inside.ravel()
        per_channel = math.prod(ishape)
        cols = (np.arange(channels, dtype=np.int64)[:, None] * per_channel + source)[:, inside]
        counts = np.broadcast_to(inside, (channels, inside.size)).ravel()
        index = np.dtype(index_dtype_for(max(n_rows, n_cols) + 1))
        indptr = np.zeros(n_rows + 1, dtype=index)
        np.cumsum(counts, out=indptr[1:])
        matrix = sp.csr_array(
            (np.ones(cols.size, dtype=dtype), cols.ravel().astype(index), indptr),
            shape=(n_rows, n_cols),
        )
        return as_format(matrix, format, "the padding matrix")
