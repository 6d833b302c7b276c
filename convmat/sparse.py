r"""Numeric builders: convolution and transposed convolution as SciPy sparse arrays.

Both are thin entry points over the one index engine (:mod:`convmat._engine`): the
structure of the geometry is built once and the values are gathered from the weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import _engine, geometry
from ._memory import check_budget, estimate_bytes
from ._validate import as_format, as_weight, check_format
from .arrays import ConvArray, with_geometry
from .errors import ConvmatError, error_context, shape_of

__all__ = ["conv_matrix", "conv_transpose_matrix"]

_ADVICE = (
    "To apply the layer without forming its matrix use convmat.conv_operator(...) (a "
    "matrix-free LinearOperator with the same arguments); a smaller input_shape shows the "
    "same structure. "
)


def fill(structure: _engine.Structure, weight: np.ndarray) -> ConvArray:
    """CSR array of ``structure`` with values gathered from ``weight``."""
    data = structure.gather(weight)
    matrix = ConvArray((data, structure.indices, structure.indptr), shape=structure.shape)
    if structure.canonical:  # the engine wrote every row's columns in order, once each
        matrix.has_canonical_format = True
    else:  # a padding mode read some input twice in a row: sum those (sorts the rows)
        matrix.sum_duplicates()
    return matrix


def summing_dtype(weight: np.ndarray, geom: geometry.ConvGeometry) -> np.ndarray:
    """The weight in a dtype that holds the sums a padding mode makes.

    With a padding mode other than zeros several taps of a row can read one input position;
    their weights are summed into one entry. bool and integer weights narrower than 64 bits
    are widened to int64 (bool would saturate, int8 wrap); a 64-bit integer weight whose
    sums could overflow is refused. Zero padding never sums: the weight is returned as is.
    """
    if geom.padding_mode == "zeros" or weight.dtype.kind not in "biu":
        return weight
    if weight.dtype.kind == "b" or weight.dtype.itemsize < 8:
        return weight.astype(np.int64)
    largest = max(int(weight.max()), -int(weight.min()))
    taps = math.prod(geom.kernel_shape)
    if largest * taps > int(np.iinfo(weight.dtype).max):
        raise ConvmatError(
            f"weight has dtype {weight.dtype} and entries up to {largest}: with "
            f"padding_mode={geom.padding_mode!r} up to {taps} taps are summed into one entry, "
            f"which could overflow {weight.dtype}; convert the weight (e.g. "
            f"weight.astype(float) or dtype=object values with convmat.symbolic)")
    return weight


def conv_matrix(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
    format: str = "csr",  # noqa: A002 - SciPy's name
) -> sp.sparray:
    r"""Convolution (cross-correlation by default) as a sparse matrix.

    Parameters
    ----------
    weight : array_like
        The bare kernel (``weight.ndim == N``, one channel in and out) or PyTorch's layout
        ``(C_out, C_in / groups, *kernel)``.
    input_shape : sequence of int
        Spatial input shape; its length is the number N of spatial dimensions.
    stride, dilation : int or sequence of int
        One value for every dim or one per dim, each ``>= 1``.
    padding : int, sequence, or {"valid", "same", "full"}
        An int, one int per dim, one ``(before, after)`` pair per dim, or a string (see
        :func:`convmat.geometry.resolve_padding`). A negative number crops the input on
        that side (as XLA's ``lax.conv_general_dilated``).
    groups : int
        Input and output channels split into ``groups`` independent groups
        (``groups == C_in`` with one input channel per group is depthwise).
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}
        How padded positions are filled, as :func:`torch.nn.functional.pad`; ``"symmetric"``
        repeats the edge sample (:func:`numpy.pad`'s ``"symmetric"``). Taps reading one
        input are merged into one entry: their sum, added in the kernel's C order.
    flip : bool
        ``True`` reverses the kernel along every spatial axis (true convolution).
    format : str
        SciPy sparse format of the result (``"csr"``, ``"csc"``, ``"coo"``, ...).

    Returns
    -------
    scipy.sparse array, shape ``(C_out * prod(output_shape), C_in * prod(input_shape))``
        In CSR (the default) a :class:`~convmat.arrays.ConvArray`, a ``csr_array`` that
        carries its ``geometry`` (``to_latex`` draws the blocks from it).
        ``A @ x.ravel()`` equals ``torch.nn.functional.convNd(x[None], weight, ...)[0].ravel()``
        for ``x`` of shape ``(C_in, *input_shape)``; dtype is the weight's (see Notes).

    Notes
    -----
    With output position :math:`t`, input position :math:`p`, output channel :math:`o`,
    input channel :math:`c` in group :math:`g(o)` and the padding map :math:`\pi` of the
    mode (identity inside the input; zero padding maps outside to nothing),

    .. math::

        A[(o, t), (c, p)] = \sum_{j \,:\, \pi(t \cdot s + j \cdot d - b) = p}
            w[o,\ c - g(o)\,C_{in}/G,\ j]

    (with ``j`` replaced by ``k - 1 - j`` when ``flip``). Output size per dim:
    :math:`o = \lfloor (i + b + a - d(k-1) - 1)/s \rfloor + 1`. Stored entries are the
    structural taps, including taps whose weight is 0 (``.eliminate_zeros()`` drops them).

    =============================  ==========================================
    weight                         matrix shape
    =============================  ==========================================
    ``(k_1, ..., k_N)``            ``(prod(o), prod(i))``
    ``(C_out, C_in/G, k_1..k_N)``  ``(C_out * prod(o), C_in * prod(i))``
    =============================  ==========================================

    The dtype is the weight's, with two exceptions that keep every entry exact: float16 is
    stored as float32 (SciPy's sparse arrays do not compute in float16), and with a padding
    mode other than zeros, where several taps can be summed into one entry, bool and integer
    weights narrower than 64 bits give an int64 matrix (a 64-bit integer weight whose sums
    could overflow is refused).

    Examples
    --------
    >>> A = conv_matrix([1, 2, 3], (5,))
    >>> A.toarray()
    array([[1, 2, 3, 0, 0],
           [0, 1, 2, 3, 0],
           [0, 0, 1, 2, 3]])
    >>> conv_matrix([[1, 2], [3, 4]], (3, 3)).toarray()
    array([[1, 2, 0, 3, 4, 0, 0, 0, 0],
           [0, 1, 2, 0, 3, 4, 0, 0, 0],
           [0, 0, 0, 1, 2, 0, 3, 4, 0],
           [0, 0, 0, 0, 1, 2, 0, 3, 4]])
    """
    with error_context("conv_matrix", input_shape=input_shape, weight_shape=shape_of(weight)):
        w = as_weight(weight)
        geom = geometry.convolution_geometry(
            input_shape, w.shape, stride=stride, padding=padding, dilation=dilation,
            groups=groups, padding_mode=padding_mode, flip=flip,
        )
        format = check_format(format)
        w = summing_dtype(w, geom)
        nnz, peak = estimate_bytes(geom, w.dtype.itemsize, transposed=False, format=format)
        check_budget(peak, f"conv_matrix of shape {geom.shape}", nnz=nnz, advice=_ADVICE)
        return with_geometry(as_format(fill(_engine.build(geom), w), format,
                                       "the convolution matrix"), geom)


def conv_transpose_matrix(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
    format: str = "csr",  # noqa: A002 - SciPy's name
) -> sp.sparray:
    r"""Transposed convolution as a sparse matrix: the transpose of a convolution matrix.

    Parameters
    ----------
    weight : array_like
        The bare kernel or PyTorch's transposed layout ``(C_in, C_out / groups, *kernel)``.
    input_shape : sequence of int
        Spatial shape of the transposed convolution's input.
    stride, padding, dilation, groups, padding_mode, flip, format
        As in :func:`conv_matrix`, describing the forward convolution.
    output_padding : int or sequence of int
        Extra output positions at the end of each dim, ``0 <= output_padding < max(stride,
        dilation)``.

    Returns
    -------
    scipy.sparse array, shape ``(C_out * prod(o_T), C_in * prod(input_shape))``
        In CSR a :class:`~convmat.arrays.ConvArray` with ``transposed=True``. With zero
        padding, ``B @ x.ravel()`` equals
        ``torch.nn.functional.conv_transposeNd(x[None], weight, ...)[0].ravel()``.

    Notes
    -----
    Per dim, :math:`o_T = (i-1)s - (b+a) + d(k-1) + q + 1`. The matrix is

    .. math::

        B = A^\mathsf{T}, \qquad A = \texttt{conv\_matrix}(w, o_T, \ldots)
            \text{ restricted to its first } i \text{ output positions per dim}

    (the restriction removes nothing unless ``output_padding >= stride``). For the padding
    modes other than zeros it is the adjoint of the padded convolution, so
    :math:`\langle A x, y \rangle = \langle x, B y \rangle` holds for every mode.

    Examples
    --------
    >>> conv_transpose_matrix([1, 2, 3], (3,)).toarray()
    array([[1, 0, 0],
           [2, 1, 0],
           [3, 2, 1],
           [0, 3, 2],
           [0, 0, 3]])
    >>> conv_transpose_matrix([1, 2], (2,), stride=2).toarray()
    array([[1, 0],
           [2, 0],
           [0, 1],
           [0, 2]])
    """
    with error_context("conv_transpose_matrix", input_shape=input_shape,
                       weight_shape=shape_of(weight)):
        w = as_weight(weight)
        geom = geometry.transposed_geometry(
            input_shape, w.shape, stride=stride, padding=padding,
            output_padding=output_padding, dilation=dilation, groups=groups,
            padding_mode=padding_mode, flip=flip,
        )
        format = check_format(format)
        w = summing_dtype(w, geom)
        nnz, peak = estimate_bytes(geom, w.dtype.itemsize, transposed=True, format=format)
        check_budget(peak, f"conv_transpose_matrix of shape {geom.shape[::-1]}", nnz=nnz,
                     advice=_ADVICE)
        return with_geometry(as_format(fill(_engine.build(geom), w).T, format,
                                       "the transposed matrix"), geom, True)
