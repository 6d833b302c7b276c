r"""Rich display in Jupyter (and anything that reads IPython's ``_repr_latex_``).

Every matrix convmat returns shows itself typeset by :func:`convmat.to_latex` in a notebook,
with the block rules of its geometry, structural zeros as ``\cdot`` (:data:`ZERO`; a stored
zero, a kernel weight that is 0, prints ``0``) and large matrices elided to :data:`ROWS` x
:data:`COLS` (the ellipsis between blocks): symbolic matrices (:class:`convmat.symbolic.ConvMatrix`), the numeric matrices
of :func:`convmat.conv_matrix` and :func:`convmat.conv_transpose_matrix`
(:class:`convmat.arrays.ConvArray`), Kong & Lucey results (numeric and symbolic) and
:func:`convmat.symbolic.product` (``y = A x``). Their ``_repr_latex_`` methods call
:func:`latex_repr`.

:func:`show` wraps anything :func:`convmat.to_latex` accepts (any SciPy sparse matrix, numpy
array, sympy matrix, Kong & Lucey result) with options of your choosing, for a display that
differs from the default or for a matrix that has no display of its own.

Examples
--------
>>> import convmat
>>> from convmat.display import latex_repr, show
>>> print(latex_repr(convmat.conv_matrix([1, 0, 2], (4,))))   # a stored 0, the rest dots
$$
\begin{bmatrix}
1 & 0 & 2 & \cdot \\
\cdot & 1 & 0 & 2
\end{bmatrix}
$$
>>> shown = show(convmat.padding_matrix((2,), 1), zero="cdot")
>>> print(shown)
\begin{bmatrix}
\cdot & \cdot \\
1 & \cdot \\
\cdot & 1 \\
\cdot & \cdot
\end{bmatrix}
"""

from __future__ import annotations

import warnings
from typing import Any

from .arrays import describe_geometry
from .errors import ConvmatError, brief, error_context
from .latex import to_latex
from .layout import ByType

__all__ = ["COLS", "OPERAND", "ROWS", "TEXT_COLS", "TEXT_ROWS", "ZERO", "Shown", "describe",
           "latex_repr", "pretty_repr", "show", "summary"]

#: rows and columns a notebook display writes by default (the middle is elided, between
#: blocks): the worked example, a 3x3 kernel on a 5x5 input (9 x 25), shows whole
ROWS = 32
COLS = 32
#: how a notebook display writes an entry that is not stored (a structural zero), so that a
#: kernel weight that is zero (stored, written ``0``) stands apart from the band's outside
ZERO = "cdot"
#: largest matrix whose plain text (``repr``, ``str``, IPython's ``text/plain``) is sympy's,
#: every entry; a larger one is one line (:func:`describe`)
TEXT_ROWS = 20
TEXT_COLS = 20


#: the matrix a result is about, by type (a product ``y = A x``: its ``A``; anything else:
#: itself). :func:`convmat.to_latex` finds the writer of each type in its own table,
#: :data:`convmat.latex.WRITERS`.
OPERAND = ByType("the display", default=lambda obj: obj)
OPERAND.register("convmat.symbolic:MatrixProduct", lambda product: product.matrix)


def _latex(obj: object, options: dict) -> str:
    """``to_latex`` of ``obj`` (``y = A x`` for a product) with the display's limits."""
    return to_latex(obj, **{"max_rows": ROWS, "max_cols": COLS, "zero": ZERO, **options})


def latex_repr(obj: object, **options: Any) -> str | None:
    r"""The ``text/latex`` display of ``obj``: ``$$ to_latex(obj, **options) $$``.

    Large matrices are elided to :data:`ROWS` x :data:`COLS` unless ``options`` say
    otherwise, so the display costs the same for any size (a 1024 x 1024 symbolic matrix
    takes milliseconds and a few kilobytes). Returns ``None`` (IPython then falls back to
    the text display) for an object ``to_latex`` cannot write, such as an empty matrix.

    Examples
    --------
    >>> from convmat import symbolic
    >>> print(latex_repr(symbolic.product(symbolic.conv_matrix((2,), (3,)))))
    $$
    \begin{bmatrix}
    y_{0} \\
    y_{1}
    \end{bmatrix}
    =
    \begin{bmatrix}
    w_{0} & w_{1} & \cdot \\
    \cdot & w_{0} & w_{1}
    \end{bmatrix}
    \begin{bmatrix}
    x_{0} \\
    x_{1} \\
    x_{2}
    \end{bmatrix}
    $$
    """
    try:
        return f"$$\n{_latex(obj, options)}\n$$"
    except ConvmatError:
        return None


def pretty_repr(obj: object, printer: Any, cycle: bool = False) -> None:  # IPython's printer
    r"""IPython's ``text/plain`` display (``_repr_pretty_``): sympy's own text for a matrix
    of at most :data:`TEXT_ROWS` x :data:`TEXT_COLS`, a one-line summary for a larger one (sympy would
    print every entry: seconds and megabytes for a 1024-column matrix).

    Examples
    --------
    >>> from convmat import symbolic
    >>> print(describe(symbolic.conv_matrix((3, 3), (32, 32))).replace("; ", ";\n"))
    ConvMatrix: 900 x 1024 sympy sparse matrix, 8,100 nonzero entries;
    the matrix of a convolution 32x32 -> 30x30, kernel 3x3, stride 1x1
    """
    printer.text(describe(obj) if _large(obj) else repr(obj))


def _large(obj: object) -> bool:
    rows, cols = OPERAND(obj).shape
    return rows > TEXT_ROWS or cols > TEXT_COLS


def describe(obj: object) -> str:
    """One line about a (large) symbolic matrix or product: type, shape, stored entries."""
    matrix = OPERAND(obj)
    shape = getattr(matrix, "shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise ConvmatError(f"obj={brief(obj)} is not a matrix (no two-dimensional shape)")
    rows, cols = shape
    nnz = matrix.nnz() if callable(getattr(matrix, "nnz", None)) else None
    geom = getattr(matrix, "geometry", None)
    where = ("" if geom is None
             else f"; the matrix of a {describe_geometry(geom, matrix.transposed)}")
    text = (f"{type(matrix).__name__}: {rows} x {cols} sympy sparse matrix"
            f"{'' if nnz is None else f', {nnz:,} nonzero entries'}{where}")
    return f"MatrixProduct y = A x, A a {text}" if matrix is not obj else text


def summary(obj: object) -> str:
    """Deprecated name of :func:`describe` (``convmat.summary`` is the network table)."""
    warnings.warn("convmat.display.summary is deprecated; use convmat.display.describe (the "
                  "name summary is the network table, convmat.summary)", DeprecationWarning,
                  stacklevel=2)
    return describe(obj)


class Shown:
    r"""A matrix displayed with chosen :func:`convmat.to_latex` options (see :func:`show`).

    ``str(shown)`` and :attr:`latex` are the LaTeX fragment; in Jupyter it is typeset.
    """

    def __init__(self, obj: object, options: dict) -> None:
        self.obj = obj
        self.options = dict(options)
        #: the LaTeX fragment (written once, when the object is made)
        self.latex: str = _latex(obj, self.options)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"

    def __str__(self) -> str:
        return self.latex

    def __repr__(self) -> str:
        shape = getattr(self.obj, "shape", None)
        what = type(self.obj).__name__ + ("" if shape is None else f" of shape {tuple(shape)}")
        given = ", ".join(f"{k}={brief(v)}" for k, v in self.options.items())
        return f"<convmat.show: {what}{', ' + given if given else ''}>"


def show(matrix: object, **options: Any) -> Shown:
    r"""Display ``matrix`` in Jupyter through :func:`convmat.to_latex` with ``options``.

    Parameters
    ----------
    matrix : scipy sparse array/matrix, numpy array, sympy matrix, Kong & Lucey result, or
        :class:`~convmat.symbolic.MatrixProduct`
        Anything :func:`convmat.to_latex` accepts (a product is shown as ``y = A x``).
    **options
        Options of :func:`convmat.to_latex` (``x="x"``, ``y="y"``, ``highlight_row``,
        ``geometry``, ``zero``, ...). ``max_rows`` and ``max_cols`` default to :data:`ROWS`
        and :data:`COLS`, ``zero`` to :data:`ZERO` (structural zeros as ``\cdot``, a
        kernel weight that is zero as ``0``).

    Returns
    -------
    Shown
        Typeset by Jupyter (``_repr_latex_``); ``str()`` gives the LaTeX fragment. The
        options are checked, and the LaTeX written, when ``show`` is called.

    Raises
    ------
    ConvmatError
        As :func:`convmat.to_latex`: an unknown option or a value out of its range.

    Examples
    --------
    >>> import numpy as np
    >>> import convmat
    >>> A = convmat.conv_matrix(np.ones((2, 2), dtype=int), (3, 3))
    >>> s = show(A, x="x", highlight_row=0, highlight="bold", blocks=None)
    >>> s  # doctest: +NORMALIZE_WHITESPACE
    <convmat.show: ConvArray of shape (4, 9), x='x', highlight_row=0, highlight='bold',
    blocks=None>
    >>> s.latex.splitlines()[-10:-8]
    ['\\boldsymbol{x_{0,0}} \\\\', '\\boldsymbol{x_{0,1}} \\\\']
    """
    with error_context("show", shape=getattr(matrix, "shape", None)):
        return Shown(matrix, options)


def __getattr__(name: str) -> Any:
    """``MatrixProduct``, which this module always exposed, imported (with sympy) only when
    asked for: showing a numeric matrix does not load sympy."""
    if name == "MatrixProduct":
        from .symbolic import MatrixProduct

        return MatrixProduct
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
