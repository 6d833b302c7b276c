r"""Pooling as matrices: average pooling (linear, a fixed matrix) and max pooling (a selection
matrix that depends on the input).

Both reuse the convolution engine: a pooling window is a depthwise convolution's window (one
kernel per channel, ``groups = channels``), so the structure ``(row, col)`` is that of
:func:`convmat.conv_matrix` with a constant kernel. Rows follow ``(channels,
*output_shape)`` and columns ``(channels, *input_shape)``, C order, as everywhere in convmat.
Output sizes are :math:`o = \lfloor (i + b + a - d(k-1) - 1)/s \rfloor + 1` (PyTorch's
``ceil_mode=False``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import _engine, _maxima, geometry
from ._deprecation import MISSING, _Missing, renamed
from ._memory import check_build
from ._validate import (
    as_array,
    as_dtype,
    as_flag,
    as_format,
    as_per_dim,
    as_shape,
    check_format,
    positive_int,
    remembered,
)
from .arrays import with_geometry
from .errors import ConvmatError, brief, error_context, shape_of

__all__ = ["avg_pool_matrix", "max_pool_matrix"]


def _window(call: str, kernel_shape: object, kernel_size: object) -> int | Sequence[int]:
    """The pooling window, given as ``kernel_shape`` (or, deprecated, ``kernel_size``)."""
    kernel_shape = renamed(call, "kernel_size", kernel_size, "kernel_shape", kernel_shape,
                           stacklevel=4)
    if kernel_shape is MISSING:
        raise TypeError(f"{call}() missing 1 required argument: 'kernel_shape'")
    return cast("int | Sequence[int]", kernel_shape)  # as given (validated by the builder)


@remembered
def pool_geometry(
    input_shape: Sequence[int],
    kernel_shape: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    channels: int = 1,
) -> geometry.ConvGeometry:
    """The depthwise-convolution geometry of a pooling layer (``stride`` defaults to the
    window, as in PyTorch); every window must contain at least one input position."""
    ishape = as_shape(input_shape, "input_shape")
    n = len(ishape)
    kshape = as_per_dim(kernel_shape, n, "kernel_shape", minimum=1)
    strides = kshape if stride is None else as_per_dim(stride, n, "stride", minimum=1)
    channels = positive_int(channels, "channels")
    geom = geometry.convolution_geometry(ishape, (channels, 1, *kshape), stride=strides,
                                         padding=padding, dilation=dilation, groups=channels)
    if any(b < 0 or a < 0 for b, a in geom.padding):
        raise ConvmatError(f"padding={brief(padding)} must not be negative: pooling pads (as "
                           f"PyTorch); crop the input first to pool a part of it")
    for axis, (i, k, s, d, (b, _), o) in enumerate(zip(
            ishape, kshape, geom.stride, geom.dilation, geom.padding, geom.output_shape)):
        empty = _empty_window(i, k, s, d, b, o)
        if empty is not None:
            which = f"window {empty}" if empty >= 0 else "a pooling window"
            raise ConvmatError(
                f"padding={brief(padding)} leaves {which} of dim {axis} wholly in the padding "
                f"(no input position to pool); use less padding (PyTorch allows at most half "
                f"the window)")
    return geom


def _empty_window(i: int, k: int, s: int, d: int, b: int, o: int) -> int | None:
    """An output position whose window holds no input position (``-1``: one exists, which
    is not computed), or None; O(1) arithmetic, nothing of the output's length.

    With ``d < i`` the gaps between taps are shorter than the input, so a window is empty
    only when its span misses the input, which happens first at either end; with ``d >= i``
    a window holds at most one input position and the empty ones are those the closed-form
    count of entries misses.
    """
    def inside(t: int) -> int:
        x = t * s - b  # first tap's position in the input
        lo = min(max(geometry.ceil_div(-x, d), 0), k)
        hi = min(max(geometry.ceil_div(i - x, d), 0), k)
        return max(hi - lo, 0)

    if d < i:
        for t in (0, o - 1):
            if inside(t) == 0:
                return t
        return None
    if geometry.axis_entries(i, k, s, d, b, o) < o:
        return 0 if inside(0) == 0 else (o - 1 if inside(o - 1) == 0 else -1)
    return None


def avg_pool_matrix(
    input_shape: Sequence[int],
    kernel_shape: int | Sequence[int] | _Missing = MISSING,
    *,
    stride: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    channels: int = 1,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    dtype: np.dtype | type = np.float64,
    format: str = "csr",  # noqa: A002 - SciPy's name
    kernel_size: object = MISSING,
) -> sp.sparray:
    r"""Average pooling as a sparse matrix.

    Parameters
    ----------
    input_shape : sequence of int
        Spatial input shape.
    kernel_shape : int or sequence of int
        Pooling window per dim (required; PyTorch's ``kernel_size``, the deprecated
        spelling here, warns).
    stride : int, sequence of int or None
        Default: the window (non-overlapping pooling), as in PyTorch.
    padding : int, sequence, or str
        Zero padding, any form :func:`convmat.conv_matrix` accepts.
    dilation : int or sequence of int
        Spacing of the window's taps (PyTorch's average pooling has none; 1 matches it).
    channels : int
        Channels, pooled independently (the matrix is block diagonal).
    count_include_pad : bool
        ``True``: divide by the window size, padded zeros included; ``False``: divide by the
        number of input positions inside the window.
    divisor_override : int, optional
        Divide by this instead.
    dtype : numpy dtype
        A floating type.
    format : str
        Any SciPy sparse format name.

    Returns
    -------
    scipy.sparse array, shape ``(channels * prod(o), channels * prod(i))``
        ``P @ x.ravel()`` equals ``torch.nn.functional.avg_poolNd(x[None], ...)[0].ravel()``.

    Notes
    -----
    With :math:`W(c, t)` the input positions of channel :math:`c` inside window :math:`t`,

    .. math::

        P[(c, t), (c, p)] = \frac{1}{D(t)} \quad (p \in W(c, t)), \qquad
        D(t) = \begin{cases} \prod_n k_n & \text{count\_include\_pad} \\
                             |W(c, t)| & \text{otherwise} \end{cases}

    that is, the matrix of a depthwise convolution with the constant kernel :math:`1/D`.

    Examples
    --------
    >>> avg_pool_matrix((4,), 2).toarray()
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]])
    >>> avg_pool_matrix((3,), 2, stride=1, padding=1, count_include_pad=False).toarray()
    array([[1. , 0. , 0. ],
           [0.5, 0.5, 0. ],
           [0. , 0.5, 0.5],
           [0. , 0. , 1. ]])
    """
    kernel_shape = _window("avg_pool_matrix", kernel_shape, kernel_size)
    with error_context("avg_pool_matrix", input_shape=input_shape, kernel_shape=kernel_shape):
        geom = pool_geometry(input_shape, kernel_shape, stride=stride, padding=padding,
                             dilation=dilation, channels=channels)
        format = check_format(format)
        count_include_pad = as_flag(count_include_pad, "count_include_pad")
        dtype = as_dtype(dtype, "dtype", kinds="fc")
        if divisor_override is not None:  # checked before anything is built
            divisor = positive_int(divisor_override, "divisor_override")
        check_build(geom, dtype.itemsize, "avg_pool_matrix", format=format)
        structure = _engine.build(geom)
        if divisor_override is not None:
            data = np.full(structure.nnz, 1 / divisor, dtype=dtype)
        elif count_include_pad:
            data = np.full(structure.nnz, 1 / math.prod(geom.kernel_shape), dtype=dtype)
        else:
            counts = np.diff(structure.indptr)
            data = np.repeat((1 / counts).astype(dtype), counts)
        matrix = sp.csr_array((data, structure.indices, structure.indptr), shape=geom.shape)
        matrix.has_canonical_format = True
        return with_geometry(as_format(matrix, format, "the pooling matrix"), geom)


def max_pool_matrix(
    x: ArrayLike,
    kernel_shape: int | Sequence[int] | _Missing = MISSING,
    *,
    stride: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    format: str = "csr",  # noqa: A002 - SciPy's name
    kernel_size: object = MISSING,
) -> sp.sparray:
    r"""Max pooling of ``x`` as the selection matrix it is at ``x``.

    Max pooling is not linear, but at a given input it picks one entry per window: it acts
    as a 0/1 matrix with a single 1 per row. That matrix is also the Jacobian of max pooling
    at ``x`` (where the maximum is unique), i.e. how the gradient is routed back.

    Parameters
    ----------
    x : array_like, shape ``(C, *input_shape)``
        The input; the first axis is the channel axis (use ``x[None]`` for one channel).
    kernel_shape, stride, padding, dilation
        As in ``torch.nn.functional.max_poolNd`` (``stride`` defaults to the window); the
        padding is never selected (it is :math:`-\infty`). ``kernel_shape`` is required;
        PyTorch's ``kernel_size`` is its deprecated spelling here (warns).
    format : str
        Any SciPy sparse format name.

    Returns
    -------
    scipy.sparse array of float64, shape ``(C * prod(o), C * prod(input_shape))``
        ``S @ x.ravel()`` equals ``torch.nn.functional.max_poolNd(x[None], ...)[0].ravel()``.

    Notes
    -----
    :math:`S[(c, t), (c, p^*)] = 1` with :math:`p^* = \arg\max_{p \in W(c, t)} x[c, p]`,
    the first maximum in C order; a NaN counts as the maximum and, as in PyTorch, the last
    NaN of a window is the one selected. Values are compared in their own dtype (int64
    beyond :math:`2^{53}` included).

    Examples
    --------
    >>> x = np.array([[3., 1., 4., 1., 5., 9.]])
    >>> S = max_pool_matrix(x, 2)
    >>> S.toarray()
    array([[1., 0., 0., 0., 0., 0.],
           [0., 0., 1., 0., 0., 0.],
           [0., 0., 0., 0., 0., 1.]])
    >>> S @ x.ravel()
    array([3., 4., 9.])
    """
    kernel_shape = _window("max_pool_matrix", kernel_shape, kernel_size)
    with error_context("max_pool_matrix", x_shape=shape_of(x), kernel_shape=kernel_shape):
        values = as_array(x, "x")
        if values.dtype.kind not in "biuf":
            raise ConvmatError(f"x has dtype {values.dtype}; max pooling needs real numbers")
        if values.ndim < 2:
            raise ConvmatError(
                f"x.shape={values.shape!r} must be (C, *input_shape) with at least one "
                f"spatial dim; use x[None] for a single channel")
        if values.size == 0:
            raise ConvmatError(f"x.shape={values.shape!r} is empty: max pooling needs at "
                               f"least one channel and one position")
        geom = pool_geometry(values.shape[1:], kernel_shape, stride=stride, padding=padding,
                             dilation=dilation, channels=values.shape[0])
        format = check_format(format)
        check_build(geom, 8, "max_pool_matrix", extra_per_entry=_maxima.ARGMAX_BYTES,
                    format=format)
        columns = _maxima.window_maxima(values, geom)
        rows = geom.shape[0]
        matrix = sp.csr_array((np.ones(rows), columns, np.arange(rows + 1, dtype=columns.dtype)),
                              shape=geom.shape)
        matrix.has_canonical_format = True
        return with_geometry(as_format(matrix, format, "the selection matrix"), geom)
