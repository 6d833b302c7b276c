r"""Numeric convolution matrices that remember their geometry.

:func:`convmat.conv_matrix`, :func:`convmat.conv_transpose_matrix` and the pooling matrices
return a :class:`ConvArray` (in CSR, the default format; :class:`ConvArrayCSC` in CSC): a
``scipy.sparse.csr_array`` in every respect (``isinstance`` checks, arithmetic, slicing,
solvers, ``save_npz``, pickling) that also carries the
:class:`~convmat.geometry.ConvGeometry` it was built from, so :func:`convmat.to_latex` draws
the block rules and names the vector entries without being told the geometry again, and a
Jupyter notebook shows the matrix typeset. The other sparse results
(:func:`convmat.kernel_matrix`, :func:`convmat.transposed.stretch_matrix`) are ``ConvArray``
without a geometry, for the display alone.

``A.T`` is the transposed convolution's matrix (:func:`convmat.conv_transpose_matrix` of
the same geometry): a :class:`ConvArrayCSC` (SciPy's transpose of a CSR matrix is CSC, no
copy) with the same geometry and ``transposed`` flipped, so it keeps the typeset display,
labelled as a transposed convolution. The other matrices SciPy derives from it (``2 * A``,
``A[:4]``, ``A @ B``, ...) have ``geometry`` ``None``: the block structure of a slice or
product is not known, so nothing is drawn from a stale one; their display is the plain
sparse matrix, typeset and elided like any other. The plain ``repr`` is SciPy's (shape,
dtype, stored entries) and one line naming the convolution: short and immediate at any size.

Examples
--------
>>> import scipy.sparse as sp
>>> import convmat
>>> A = convmat.conv_matrix([[1, 2], [3, 4]], (3, 3))
>>> isinstance(A, sp.csr_array), A.geometry.input_shape, A.transposed
(True, (3, 3), False)
>>> A.T.geometry is A.geometry, A.T.transposed, A.T.format
(True, True, 'csc')
>>> (2 * A).geometry is None
True
>>> A.T
<Compressed Sparse Column sparse array of dtype 'int64'
    with 16 stored elements and shape (9, 4);
    the matrix of a transposed convolution 2x2 -> 3x3, kernel 2x2, stride 1x1>
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import scipy.sparse as sp

from .geometry import ConvGeometry, vector_shapes

__all__ = ["ConvArray", "ConvArrayCSC", "describe_geometry", "with_geometry"]


def describe_geometry(geometry: ConvGeometry, transposed: bool = False) -> str:
    """What a matrix with this geometry maps, its columns' shape to its rows' (channels
    first when there are several), and the layer's kernel, stride, padding and dilation (the
    last two when not the default), in the command line's notation.

    Examples
    --------
    >>> from convmat.geometry import convolution_geometry
    >>> describe_geometry(convolution_geometry((5, 5), (3, 3), padding=1))
    'convolution 5x5 -> 5x5, kernel 3x3, stride 1x1, padding 1x1'
    >>> g = convolution_geometry((6, 6), (2, 3, 3, 3), stride=2, padding=((0, 1), (0, 1)))
    >>> describe_geometry(g, transposed=True)
    'transposed convolution 2x3x3 -> 3x6x6, kernel 3x3, stride 2x2, padding 0:1x0:1'
    """
    x, y = vector_shapes(geometry, transposed)
    text = (f"{'transposed ' if transposed else ''}convolution {_dims(x)} -> {_dims(y)}, "
            f"kernel {_dims(geometry.kernel_shape)}, stride {_dims(geometry.stride)}")
    if any(map(any, geometry.padding)):
        text += ", padding " + "x".join(str(b) if b == a else f"{b}:{a}"
                                        for b, a in geometry.padding)
    if any(d != 1 for d in geometry.dilation):
        text += f", dilation {_dims(geometry.dilation)}"
    return text


def _dims(values: Iterable[object]) -> str:
    return "x".join(map(str, values))


_G = TypeVar("_G", bound="_Geometric")


if TYPE_CHECKING:  # to the type checker the mixin is a SciPy array (which has no type information)
    from scipy.sparse import sparray as _SciPyArray
else:
    _SciPyArray = object


class _Geometric(_SciPyArray):
    """What :class:`ConvArray` (CSR) and :class:`ConvArrayCSC` share: the geometry, a
    transpose and format conversions that keep it, the displays."""

    geometry: ConvGeometry | None = None
    transposed: bool = False
    #: block sizes ``(row_levels, col_levels)`` of a slice of whole blocks (coarsest first;
    #: its display draws them), ``None`` for every other matrix
    block_levels: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    @classmethod
    def of(cls: type[_G], matrix: Any, geometry: ConvGeometry | None,
           transposed: bool = False) -> _G:
        """``matrix`` (in this class's format, shared, not copied) with its geometry
        attached (``matrix`` itself when it already is of this class)."""
        if type(matrix) is cls:
            out = matrix
        else:
            out = cls((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape,
                      copy=False)
            out.has_canonical_format = matrix.has_canonical_format
        out.geometry, out.transposed = geometry, bool(transposed) and geometry is not None
        return out

    def _kept(self, matrix: Any, transposed: bool) -> Any:
        """``matrix`` (the same structure, in CSR or CSC) with this matrix's geometry."""
        if matrix.format not in _CLASSES or matrix.ndim != 2:
            return matrix
        return _CLASSES[matrix.format].of(matrix, self.geometry, transposed)

    def copy(self) -> Any:
        """A copy that keeps the geometry (SciPy's other derived matrices drop it)."""
        return self._kept(super().copy(), self.transposed)

    def transpose(self, axes: tuple[int, ...] | None = None, copy: bool = False) -> Any:
        """The transpose (no copy): the transposed convolution's matrix, with the same
        geometry and ``transposed`` flipped."""
        return self._kept(super().transpose(axes=axes, copy=copy), not self.transposed)

    def tocsr(self, copy: bool = False) -> Any:
        return self._kept(super().tocsr(copy=copy), self.transposed)

    def tocsc(self, copy: bool = False) -> Any:
        return self._kept(super().tocsc(copy=copy), self.transposed)

    def __getitem__(self, key: Any) -> Any:
        """SciPy's slicing; a slice of whole blocks (rows and columns ``start:stop``, each
        starting where a channel's block starts and ending where an image row ends) keeps
        those blocks for the display (:attr:`block_levels`), any other one has none."""
        out = super().__getitem__(key)
        if self.geometry is None or not isinstance(out, _Geometric) or out.ndim != 2:
            return out
        levels = _sliced_levels(self, key)
        if levels is not None:
            out = type(out).of(out, None)
            out.block_levels = levels
        return out

    def __repr__(self) -> str:
        """SciPy's repr, and the convolution the matrix belongs to."""
        text = super().__repr__()
        if self.geometry is None:
            return text
        return f"{text[:-1]};\n\tthe matrix of a {describe_geometry(self.geometry, self.transposed)}>"

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display: ``convmat.display.latex_repr``, labelled when the matrix
        is a transposed convolution's."""
        from .display import latex_repr

        return _labelled(latex_repr(self), self)


def _axis_levels(shape: tuple[int, ...], part: Any, n: int) -> tuple[int, ...] | None:
    """Block sizes along one axis of a slice ``part`` (a ``slice`` of step 1) of an axis of
    ``n`` entries that flatten ``shape``: ``None`` when it cuts a block (starts off a
    channel's block, or ends inside an image row) or is no such slice."""
    if not isinstance(part, slice) or part.step not in (None, 1):
        return None
    start, stop, _ = part.indices(n)
    sizes = sorted({math.prod(shape[a + 1:]) for a in range(len(shape) - 1)} - {1},
                   reverse=True)
    if stop <= start or any(start % size for size in sizes) or (
            sizes and stop != n and stop % sizes[-1]):
        return None
    return tuple(size for size in sizes if size < stop - start)


def _sliced_levels(matrix: _Geometric, key: Any
                   ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The block sizes a slice ``matrix[key]`` keeps (see :meth:`_Geometric.__getitem__`)."""
    rows, cols = (key if isinstance(key, tuple) and len(key) == 2 else (key, slice(None)))
    x, y = vector_shapes(matrix.geometry, matrix.transposed)  # type: ignore[arg-type]
    n_rows, n_cols = matrix.shape
    row_levels, col_levels = _axis_levels(y, rows, n_rows), _axis_levels(x, cols, n_cols)
    if row_levels is None or col_levels is None or not (row_levels or col_levels):
        return None
    return row_levels, col_levels


def _labelled(text: str | None, matrix: _Geometric) -> str | None:
    """A display (``$$ ... $$``) with ``transposed convolution in -> out:`` in front when
    ``matrix`` is a transposed convolution's."""
    if text is None or matrix.geometry is None or not matrix.transposed:
        return text
    x, y = (r"{\times}".join(map(str, v)) for v in vector_shapes(matrix.geometry, True))
    label = rf"\text{{transposed convolution }} {x} \to {y}\colon\quad"
    return text.replace("$$\n", f"$$\n{label}\n", 1)


class ConvArray(_Geometric, sp.csr_array):
    """A ``scipy.sparse.csr_array`` that knows the convolution it is the matrix of.

    Attributes
    ----------
    geometry : ConvGeometry or None
        The forward convolution's geometry; ``None`` for matrices SciPy derived from one.
    transposed : bool
        ``True`` for the matrix of the transposed convolution (the transpose of
        ``geometry``'s matrix).
    """


class ConvArrayCSC(_Geometric, sp.csc_array):
    """:class:`ConvArray` in CSC: what ``.T`` of a :class:`ConvArray` is (and
    ``tocsc()``), the same geometry carried."""


_CLASSES = {"csr": ConvArray, "csc": ConvArrayCSC}


def with_geometry(matrix: sp.sparray, geometry: ConvGeometry | None,
                  transposed: bool = False) -> sp.sparray:
    """A builder's result: a CSR (CSC) ``matrix`` as a :class:`ConvArray`
    (:class:`ConvArrayCSC`) carrying ``geometry`` (``None`` when the matrix is not a
    convolution's, for the display alone); any other format is returned as it is."""
    if matrix.format not in _CLASSES:
        return matrix
    return _CLASSES[matrix.format].of(matrix, geometry, transposed)
