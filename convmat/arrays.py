r"""Numeric convolution matrices that remember their geometry.

:func:`convmat.conv_matrix`, :func:`convmat.conv_transpose_matrix` and the pooling matrices
return a :class:`ConvArray` (in CSR, the default format): a ``scipy.sparse.csr_array`` in
every respect (``isinstance`` checks, arithmetic, slicing, solvers, ``save_npz``, pickling)
that also carries the
:class:`~convmat.geometry.ConvGeometry` it was built from, so :func:`convmat.to_latex` draws
the block rules and names the vector entries without being told the geometry again, and a
Jupyter notebook shows the matrix typeset. The other sparse results (:func:`convmat.kernel_matrix`,
:func:`convmat.transposed.stretch_matrix`) are ``ConvArray`` without a geometry, for the
display alone.

Matrices SciPy derives from it (``2 * A``, ``A[:4]``, ``A @ B``, ``A.T``, ...) are ordinary
sparse arrays whose geometry is ``None``: the block structure of a derived matrix is not
known, so nothing is drawn from a stale one.

Examples
--------
>>> import scipy.sparse as sp
>>> import convmat
>>> A = convmat.conv_matrix([[1, 2], [3, 4]], (3, 3))
>>> isinstance(A, sp.csr_array), A.geometry.input_shape, A.transposed
(True, (3, 3), False)
>>> (2 * A).geometry is None
True
"""

from __future__ import annotations

import scipy.sparse as sp

from .geometry import ConvGeometry

__all__ = ["ConvArray", "with_geometry"]


class ConvArray(sp.csr_array):
    """A ``scipy.sparse.csr_array`` that knows the convolution it is the matrix of.

    Attributes
    ----------
    geometry : ConvGeometry or None
        The forward convolution's geometry; ``None`` for matrices SciPy derived from one.
    transposed : bool
        ``True`` for the matrix of the transposed convolution (the transpose of
        ``geometry``'s matrix).
    """

    geometry: ConvGeometry | None = None
    transposed: bool = False

    @classmethod
    def of(cls, matrix: sp.csr_array, geometry: ConvGeometry | None,
           transposed: bool = False) -> ConvArray:
        """``matrix`` (CSR, shared, not copied) with its geometry attached (``matrix``
        itself when it already is a :class:`ConvArray`)."""
        if type(matrix) is cls:
            out = matrix
        else:
            out = cls((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape,
                      copy=False)
            out.has_canonical_format = matrix.has_canonical_format
        out.geometry, out.transposed = geometry, bool(transposed)
        return out

    def copy(self) -> ConvArray:
        """A copy that keeps the geometry (SciPy's other derived matrices drop it)."""
        out = super().copy()
        out.geometry, out.transposed = self.geometry, self.transposed
        return out

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display: ``convmat.display.latex_repr``."""
        from .display import latex_repr

        return latex_repr(self)


def with_geometry(matrix, geometry: ConvGeometry | None, transposed: bool = False):
    """A builder's result: a CSR ``matrix`` as a :class:`ConvArray` carrying ``geometry``
    (``None`` when the matrix is not a convolution's, for the display alone); any other
    format is returned as it is."""
    if matrix.format != "csr":
        return matrix
    return ConvArray.of(matrix, geometry, transposed)
