r"""The convolution seen with the kernel as the unknown.

A convolution is bilinear in the input :math:`x` and the weight :math:`w`. Fixing :math:`w`
gives :func:`convmat.conv_matrix` :math:`A(w)`; fixing :math:`x` gives the matrix
:math:`X(x)` of :func:`kernel_matrix`, with

.. math::

    X(x)\, \operatorname{vec}(w) = A(w)\, \operatorname{vec}(x).

Both come from the same ``(row, col, tap)`` triplets of the index engine: :math:`A` puts
``w[tap]`` at ``(row, col)``, :math:`X` puts ``x[col]`` at ``(row, tap)``. With one output
channel, the rows of :math:`X` are the input windows (im2col / "unfold"). Learning a kernel
from input/output pairs is then a linear least-squares problem in :math:`w`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import _engine, geometry
from ._memory import check_budget, estimate_bytes
from ._validate import as_array, as_format, as_shape, check_format, positive_int
from .arrays import with_geometry
from .errors import ConvmatError, brief, error_context, shape_of

__all__ = ["kernel_matrix"]


def kernel_matrix(
    x: ArrayLike,
    weight_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
    format: str = "csr",  # noqa: A002 - SciPy's name
) -> sp.sparray:
    r"""The convolution of ``x`` as a sparse matrix acting on the flattened weight.

    Parameters
    ----------
    x : array_like
        The input: shape ``input_shape`` when ``weight_shape`` is a bare kernel (same number
        of dims), or ``(C_in, *input_shape)`` when ``weight_shape`` is PyTorch's layout
        ``(C_out, C_in / groups, *kernel)``.
    weight_shape : sequence of int
        Shape of the unknown weight.
    stride, padding, dilation, groups, padding_mode, flip, format
        As in :func:`convmat.conv_matrix`.

    Returns
    -------
    scipy.sparse array, shape ``(C_out * prod(o), prod(weight_shape))``, dtype of ``x``
        ``X @ w.ravel() == conv_matrix(w, input_shape, ...) @ x.ravel()`` for every weight
        ``w`` of shape ``weight_shape``.

    Notes
    -----
    .. math::

        X[(o, t), (o, c, j)] = \sum_{p \,:\, \pi(t s + j d - b) = p} x[g(o) C_{in}/G + c,\ p]

    (with ``j`` replaced by ``k - 1 - j`` when ``flip``): the window of output ``t`` read
    through the padding map, once per output channel.

    Examples
    --------
    >>> x = np.array([1, 2, 3, 4])
    >>> X = kernel_matrix(x, (2,))
    >>> X.toarray()
    array([[1, 2],
           [2, 3],
           [3, 4]])
    >>> X @ np.array([1, -1])
    array([-1, -1, -1])
    """
    with error_context("kernel_matrix", x_shape=shape_of(x), weight_shape=weight_shape):
        values = as_array(x, "x")
        if values.dtype.kind not in "biufc":
            raise ConvmatError(f"x has dtype {values.dtype}, not a number type")
        if values.ndim == 0:
            raise ConvmatError(f"x={brief(values)} is a scalar; give the input, of shape "
                               f"input_shape or (C_in, *input_shape)")
        if values.size == 0:
            raise ConvmatError(f"x.shape={values.shape!r} is empty")
        if values.dtype == np.float16:  # SciPy's sparse arrays cannot compute in float16
            values = values.astype(np.float32)
        wshape = as_shape(weight_shape, "weight_shape")
        if len(wshape) == values.ndim:
            ishape = values.shape
        elif len(wshape) == values.ndim + 1:
            ishape = values.shape[1:]
            if values.ndim < 2 or values.shape[0] != wshape[1] * positive_int(groups,
                                                                                   "groups"):
                raise ConvmatError(
                    f"x.shape={values.shape!r} must be (C_in, *input_shape) with C_in = "
                    f"weight_shape[1] * groups = {wshape[1]} * {brief(groups)} for "
                    f"weight_shape={wshape!r}")
        else:
            raise ConvmatError(
                f"weight_shape={wshape!r} has {len(wshape)} dims but x has {values.ndim}: use "
                f"a bare kernel with x of shape input_shape, or the layout (C_out, C_in/groups,"
                f" *kernel) with x of shape (C_in, *input_shape)")
        geom = geometry.convolution_geometry(ishape, wshape, stride=stride, padding=padding,
                                             dilation=dilation, groups=groups,
                                             padding_mode=padding_mode, flip=flip)
        format = check_format(format)
        # the structure's indices and its tap array both live until the matrix is made
        nnz, peak = estimate_bytes(geom, values.dtype.itemsize, transposed=False,
                                   extra_per_entry=16, format=format)
        check_budget(peak, f"kernel_matrix of shape {(geom.shape[0], math.prod(wshape))}",
                     nnz=nnz)
        structure = _engine.build(geom, merge=False)  # one (row, tap) per tap
        data = values.reshape(-1)[structure.indices]
        matrix = sp.csr_array((data, structure.tap, structure.indptr),
                              shape=(geom.shape[0], math.prod(wshape)))
        # each (row, tap) occurs once (a tap reads one position); flip reverses the order
        matrix.sort_indices()
        matrix.has_canonical_format = True
        return with_geometry(as_format(matrix, format, "the kernel matrix"), None)
