r"""Symbolic builders: convolution matrices whose entries are sympy symbols or expressions.

The same index engine as the numeric builders (:mod:`convmat._engine`) gives the
``(row, col, tap)`` triplets; the values come from a sympy array instead of a numpy one, so
after substituting numbers for the symbols the matrix equals :func:`convmat.conv_matrix`
exactly. The result is a :class:`ConvMatrix`, a ``sympy.SparseMatrix`` that remembers its
geometry (``to_latex`` uses it to draw the block structure).

Symbols are named with all their indices in a LaTeX subscript: ``w_{0,1}`` for a bare kernel,
``w_{o,c,i,j}`` in PyTorch's channel layout, ``x_{i,j}`` (or ``x_{c,i,j}`` with several
channels) for the input, ``y_{...}`` for the output. ``base=1`` counts from one.

Examples
--------
>>> A = conv_matrix((2, 2), (3, 3))
>>> A.shape
(4, 9)
>>> A[0, :]
Matrix([[w_{0,0}, w_{0,1}, 0, w_{1,0}, w_{1,1}, 0, 0, 0, 0]])
>>> conv_transpose_matrix((2, 2), (2, 2)) == conv_matrix((2, 2), (3, 3)).T
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import sympy

from . import _engine, _phases, geometry
from ._memory import PER_BLOCK, check_budget, estimate_bytes
from ._symbols import symbols
from ._validate import as_int, check_format, plain
from .errors import ConvmatError, brief, error_context, shape_of
from .geometry import vector_shapes
from .padding import padding_matrix
from .striding import KongLucey

__all__ = [
    "ConvMatrix",
    "MatrixProduct",
    "SymbolicKongLucey",
    "conv_matrix",
    "conv_transpose_matrix",
    "inputs",
    "kernel",
    "kong_lucey",
    "outputs",
    "product",
]

#: bytes per stored symbolic entry for the memory guard (about 320 measured at the peak of a
#: build with shared symbols; the margin covers sums from padding modes and user expressions)
ENTRY_BYTES = 600


class ConvMatrix(sympy.MutableSparseMatrix):
    """A ``sympy.SparseMatrix`` built from a convolution's geometry.

    It behaves exactly like ``sympy.SparseMatrix`` (equality, arithmetic, ``subs``,
    printing) and carries three extra attributes:

    ``geometry``
        the :class:`~convmat.geometry.ConvGeometry` of the forward convolution, or ``None``
        for matrices derived by operations that change the structure (slices, products, ...);
    ``transposed``
        ``True`` when the matrix is the transpose of that convolution's matrix;
    ``base``
        the first index of its symbols (``to_latex`` numbers the vectors from it).

    Entry-wise operations keep all three: ``subs``, ``xreplace``, ``applyfunc``, ``evalf``
    (``n``), ``doit``, ``expand``, ``copy``, negation and multiplication or division by a
    scalar; ``.T`` (``transpose``) keeps the geometry and flips ``transposed``. In Jupyter
    the matrix is shown through :func:`convmat.to_latex` (block rules, large matrices
    elided).

    Examples
    --------
    >>> A = conv_matrix((2, 2), (3, 3))
    >>> w = sympy.Symbol("w_{0,0}")
    >>> [m.geometry is A.geometry for m in (A.subs(w, 1), 2 * A, A.applyfunc(sympy.sin))]
    [True, True, True]
    >>> A.T.transposed, A[:2, :].geometry
    (True, None)
    """

    geometry: geometry.ConvGeometry | None = None
    transposed: bool = False
    base: int = 0

    def _with_geometry(self, other: Any, transposed: bool) -> Any:
        if isinstance(other, ConvMatrix):
            other.geometry, other.transposed, other.base = self.geometry, transposed, self.base
        return other

    def _same(self, other: Any) -> Any:
        """``other`` (an entry-wise result of ``self``) with this matrix's geometry."""
        return self._with_geometry(other, self.transposed)

    def transpose(self) -> sympy.MatrixBase:
        return self._with_geometry(super().transpose(), not self.transposed)

    def copy(self) -> sympy.MatrixBase:
        return self._same(super().copy())

    def subs(self, *args: Any, **kwargs: Any) -> sympy.MatrixBase:
        return self._same(super().subs(*args, **kwargs))

    def xreplace(self, rule: Any) -> sympy.MatrixBase:
        return self._same(super().xreplace(rule))

    def applyfunc(self, f: Callable[[Any], Any]) -> sympy.MatrixBase:
        return self._same(super().applyfunc(f))

    def evalf(self, *args: Any, **kwargs: Any) -> sympy.MatrixBase:
        return self._same(super().evalf(*args, **kwargs))

    n = evalf

    def doit(self, **hints: Any) -> sympy.MatrixBase:
        return self._same(super().doit(**hints))

    def expand(self, *args: Any, **kwargs: Any) -> sympy.MatrixBase:
        return self._same(super().expand(*args, **kwargs))

    def __neg__(self) -> sympy.MatrixBase:
        return self._same(super().__neg__())

    def __mul__(self, other: Any) -> Any:
        return self._scalar(super().__mul__(other), other)

    def __rmul__(self, other: Any) -> Any:
        return self._scalar(super().__rmul__(other), other)

    def __truediv__(self, other: Any) -> Any:
        return self._scalar(super().__truediv__(other), other)

    def _scalar(self, result: Any, other: Any) -> Any:
        """``result`` keeps the geometry when ``other`` was a scalar (not a matrix)."""
        if getattr(other, "shape", ()) == () and not isinstance(other, sympy.MatrixBase):
            return self._same(result)
        return result

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display: ``convmat.display.latex_repr``."""
        from .display import latex_repr

        return latex_repr(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display, short for a large matrix: ``convmat.display.pretty_repr``."""
        from .display import pretty_repr

        return pretty_repr(self, printer, cycle)

    def nnz(self) -> int:
        """The stored entries, counted without copying them (sympy's copies: 0.1 s for
        90,000)."""
        rep: Any = getattr(self, "_rep", None)
        return rep.nnz() if hasattr(rep, "nnz") else super().nnz()

    def __repr__(self) -> str:
        return _plain(self, self, super().__repr__)

    def __str__(self) -> str:
        return _plain(self, self, super().__str__)


def _plain(obj: object, matrix: sympy.MatrixBase, full: Callable[[], str]) -> str:
    """The plain text of ``obj`` (a matrix or ``y = A x``): ``full()`` (sympy's, every
    entry) up to the notebook display's size, else one line (``convmat.display.describe``):
    sympy's text of a 900 x 1024 matrix took seconds and megabytes."""
    from .display import TEXT_COLS, TEXT_ROWS, describe

    return describe(obj) if matrix.rows > TEXT_ROWS or matrix.cols > TEXT_COLS else full()


def kernel(shape: Sequence[int], name: str = "w", *, base: int = 0) -> sympy.Array:
    r"""A kernel of distinct symbols, printing as ``w_{i,j}`` (LaTeX subscripts).

    Parameters
    ----------
    shape : sequence of int
        The bare kernel shape ``(k_1, ..., k_N)`` or PyTorch's layout
        ``(C_out, C_in / groups, k_1, ..., k_N)``; the symbol carries every index.
    name : str
        Base name of the symbols.
    base : int
        First index (0 as in Python, 1 as in most papers).

    Returns
    -------
    sympy.ImmutableDenseNDimArray

    Examples
    --------
    >>> kernel((2, 2))
    [[w_{0,0}, w_{0,1}], [w_{1,0}, w_{1,1}]]
    >>> kernel((1, 2, 1, 1), base=1)
    [[[[w_{1,1,1,1}]], [[w_{1,2,1,1}]]]]
    """
    with error_context("symbolic.kernel", shape=shape):
        return symbols(shape, name, base=base)


def _is_shape(weight: object) -> TypeGuard[tuple[int, ...]]:
    """A tuple of Python/numpy integers (not bools) is a shape, anything else holds values."""
    return (isinstance(weight, tuple) and len(weight) > 0
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                    for v in weight))


def _as_expressions(value: object, what: str) -> np.ndarray:
    """``value`` (sympy Array/Matrix, numpy array, nested list) as an object array of
    sympy expressions; strings are refused, never parsed."""
    value = plain(value, what)  # a torch tensor (detached) or an unmasked masked array
    if isinstance(value, (sympy.NDimArray, sympy.MatrixBase)):
        array = np.empty(tuple(value.shape), dtype=object)
        if array.size:
            array.ravel()[:] = list(sympy.flatten(value.tolist()))
    else:
        try:
            array = np.array(value, dtype=object)
        except (ValueError, TypeError) as exc:
            raise ConvmatError(f"{what} could not be read as an array ({exc})") from None
    if array.ndim == 0:
        raise ConvmatError(f"{what}={brief(value)} is a scalar; give at least a 1-D array")
    if array.size == 0:
        raise ConvmatError(f"{what}.shape={array.shape!r} is empty")
    if any(isinstance(v, (list, tuple, np.ndarray, sympy.MatrixBase, sympy.NDimArray))
           for v in array.flat):
        raise ConvmatError(f"{what} is ragged: its nested lists must all have the same length")

    def scalar(v: object) -> sympy.Expr:
        try:
            out = sympy.sympify(v, strict=True)
        except (sympy.SympifyError, TypeError, ValueError):
            out = None
        if not isinstance(out, sympy.Expr):
            raise ConvmatError(
                f"{what} entry {v!r} is not a number or a sympy expression (strings are not "
                f"parsed; make symbols with sympy.Symbol or convmat.symbolic.kernel)"
            )
        return out

    return np.frompyfunc(scalar, 1, 1)(array).astype(object)


def as_symbolic_weight(weight: object, *, name: str = "w", base: int = 0) -> np.ndarray:
    """The weight as a numpy object array of sympy expressions.

    ``weight`` is a shape (a tuple of ints: symbols from :func:`kernel` are made), a sympy
    Array or Matrix, a numpy array, or a nested list of numbers and sympy expressions.

    Examples
    --------
    >>> as_symbolic_weight((2,))
    array([w_{0}, w_{1}], dtype=object)
    >>> as_symbolic_weight([[1, sympy.Rational(1, 2)]])
    array([[1, 1/2]], dtype=object)
    """
    if _is_shape(weight):
        return np.array(kernel(weight, name, base=base).tolist(), dtype=object).reshape(weight)
    return _as_expressions(weight, "weight")


class _Shaped:
    """Stands for a weight of ``shape`` where only the shape is read (no symbols made)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


def _describe(weight: object) -> object:
    """The weight for an error's context: a shape as given, else the values' shape."""
    return weight if _is_shape(weight) else shape_of(weight)


def _fill(structure: _engine.Structure, values: np.ndarray, *, transposed: bool) -> ConvMatrix:
    """The structure's triplets with values gathered from ``values`` (flat object array)."""
    rows, cols = structure.rows().astype(np.int64), structure.indices.astype(np.int64)
    data = structure.gather(values)  # the numeric path's gather, on an object array
    n_rows, n_cols = structure.shape
    if not structure.canonical and data.size:
        # padding modes other than zeros: several taps may read one input; sum them
        key = rows * n_cols + cols
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        data = np.add.reduceat(data[order], starts)
        rows, cols = rows[order][starts], cols[order][starts]
    if transposed:
        rows, cols, n_rows, n_cols = cols, rows, n_cols, n_rows
    matrix = ConvMatrix(n_rows, n_cols, dict(zip(zip(rows.tolist(), cols.tolist()),
                                                 data.tolist())))
    matrix.geometry, matrix.transposed = structure.geometry, transposed
    return matrix


def _based(matrix: ConvMatrix, base: int) -> ConvMatrix:
    matrix.base = int(base)
    return matrix


def _build(function: str, geometry_of: Callable[..., geometry.ConvGeometry], weight: object,
           input_shape: Sequence[int], name: str, base: int,
           format: str | None, **kw: Any) -> ConvMatrix:  # noqa: A002
    transposed = geometry_of is geometry.transposed_geometry
    with error_context(f"symbolic.{function}", input_shape=input_shape,
                       weight_shape=_describe(weight)):
        if format is not None:
            check_format(format)
        # a shape is checked, with the geometry, before a single symbol is made
        w = None if _is_shape(weight) else as_symbolic_weight(weight, name=name, base=base)
        geom = geometry_of(input_shape, weight if w is None else w.shape, **kw)
        nnz = geom.nnz_upper_bound()
        shape = geom.shape[::-1] if transposed else geom.shape
        check_budget(nnz * ENTRY_BYTES + _engine_bytes(geom),
                     f"symbolic.{function} of shape {shape}", nnz=nnz,
                     advice="A smaller input_shape shows the same structure. ")
        if w is None:
            w = as_symbolic_weight(weight, name=name, base=base)
        return _based(_fill(_engine.build(geom), w.reshape(-1), transposed=transposed), base)


def _engine_bytes(geom: geometry.ConvGeometry) -> int:
    """The numeric structure a symbolic build starts from (its indices, taps, rows)."""
    return estimate_bytes(geom, 8, transposed=False, extra_per_entry=32)[1]


def conv_matrix(
    weight: object,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
    format: str | None = None,  # noqa: A002 - the numeric builders' name
    name: str = "w",
    base: int = 0,
) -> ConvMatrix:
    r"""Convolution (cross-correlation by default) as a sympy sparse matrix.

    Parameters
    ----------
    weight : tuple of int, sympy Array or Matrix, array_like
        A *shape* (a tuple of ints, e.g. ``(3, 3)`` or ``(C_out, C_in/groups, 3, 3)``): a
        kernel of symbols is made with :func:`kernel`. Anything else holds the values: a
        sympy Array or Matrix, a numpy array or a nested list of numbers and sympy
        expressions (a list ``[3, 3]`` is the 1-D kernel with two taps equal to 3).
        Layout as in :func:`convmat.conv_matrix`.
    input_shape, stride, padding, dilation, groups, padding_mode, flip
        As in :func:`convmat.conv_matrix`.
    format : str, optional
        Accepted for the numeric builders' signature: any SciPy format name is validated and
        the result is a sympy sparse matrix all the same.
    name, base : str, int
        Name and first index of the symbols made when ``weight`` is a shape.

    Returns
    -------
    ConvMatrix
        A ``sympy.SparseMatrix`` of shape ``(C_out * prod(output_shape), C_in *
        prod(input_shape))`` carrying its ``geometry``.

    Notes
    -----
    Built from the same triplets as the numeric matrix,

    .. math::

        A[(o, t), (c, p)] = \sum_{j \,:\, \pi(t \cdot s + j \cdot d - b) = p}
            w[o,\ c - g(o)\,C_{in}/G,\ j],

    so substituting numbers for the symbols gives :func:`convmat.conv_matrix` exactly. Taps
    whose value is 0 are not stored (sympy keeps nonzeros only).

    Examples
    --------
    >>> conv_matrix((3,), (5,))
    Matrix([
    [w_{0}, w_{1}, w_{2},     0,     0],
    [    0, w_{0}, w_{1}, w_{2},     0],
    [    0,     0, w_{0}, w_{1}, w_{2}]])
    >>> a, b = sympy.symbols("a b")
    >>> conv_matrix([a, b], (3,), padding=1, padding_mode="replicate")
    Matrix([
    [a + b, 0,     0],
    [    a, b,     0],
    [    0, a,     b],
    [    0, 0, a + b]])
    """
    return _build("conv_matrix", geometry.convolution_geometry, weight, input_shape, name, base,
                  format, stride=stride, padding=padding, dilation=dilation, groups=groups,
                  padding_mode=padding_mode, flip=flip)


def conv_transpose_matrix(
    weight: object,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
    format: str | None = None,  # noqa: A002 - the numeric builders' name
    name: str = "w",
    base: int = 0,
) -> ConvMatrix:
    r"""Transposed convolution as a sympy sparse matrix: the transpose of a convolution's.

    Parameters
    ----------
    weight : tuple of int, sympy Array or Matrix, array_like
        A shape (symbols are made) or the values, in PyTorch's transposed layout
        ``(C_in, C_out / groups, *kernel)`` or as a bare kernel (see :func:`conv_matrix`).
    input_shape, stride, padding, output_padding, dilation, groups, padding_mode, flip
        As in :func:`convmat.conv_transpose_matrix`.
    format : str, optional
        Accepted for the numeric builders' signature: any SciPy format name is validated and
        the result is a sympy sparse matrix all the same.
    name, base : str, int
        Name and first index of the symbols made when ``weight`` is a shape.

    Returns
    -------
    ConvMatrix
        Shape ``(C_out * prod(o_T), C_in * prod(input_shape))``, ``transposed`` set.

    Notes
    -----
    Per dim :math:`o_T = (i-1)s - (b+a) + d(k-1) + q + 1` and

    .. math::

        B = A^\mathsf{T}, \qquad A = \texttt{conv\_matrix}(w, o_T, \ldots)
            \text{ restricted to its first } i \text{ output positions per dim.}

    Examples
    --------
    >>> conv_transpose_matrix((2,), (2,), stride=2)
    Matrix([
    [w_{0},     0],
    [w_{1},     0],
    [    0, w_{0}],
    [    0, w_{1}]])
    """
    return _build("conv_transpose_matrix", geometry.transposed_geometry, weight,
                  input_shape, name, base, format, stride=stride, padding=padding,
                  output_padding=output_padding, dilation=dilation, groups=groups,
                  padding_mode=padding_mode, flip=flip)


def _vector_shape(matrix: sympy.MatrixBase, axis: int) -> tuple[int, ...]:
    """Index shape of the vector along ``axis`` (0: rows/outputs, 1: columns/inputs)."""
    geom = getattr(matrix, "geometry", None)
    transposed = bool(getattr(matrix, "transposed", False))
    if geom is not None and geom.shape[::-1 if transposed else 1] == tuple(matrix.shape):
        x, y = vector_shapes(geom, transposed)
        return (y, x)[axis]
    return (matrix.shape[axis],)


def _vector(matrix: sympy.MatrixBase, axis: int, name: str, base: int | None,
            label: str = "name") -> sympy.Matrix:
    shape = getattr(matrix, "shape", None)
    if not (isinstance(shape, tuple) and len(shape) == 2
            and all(isinstance(v, (int, np.integer)) for v in shape)):
        raise ConvmatError(f"matrix={brief(matrix)} is not a matrix (no 2-D shape); give the "
                           f"result of convmat.symbolic.conv_matrix or any sympy matrix")
    if 0 in shape:
        raise ConvmatError(f"matrix has shape {shape}: it has no "
                           f"{'columns' if axis else 'rows'} to name")
    shape = _vector_shape(matrix, axis)
    if base is None:  # the base the matrix's symbols were made with
        base = matrix.base if isinstance(matrix, ConvMatrix) else 0
    return sympy.Matrix(symbols(shape, name, base=base, what=label)
                        .reshape(math.prod(shape)).tolist())


def inputs(matrix: sympy.MatrixBase, name: str = "x", *, base: int | None = None) -> sympy.Matrix:
    """Column vector of input symbols for ``matrix`` (``x_{i,j}`` when its geometry is known).

    Examples
    --------
    >>> inputs(conv_matrix((2, 2), (3, 3))).T
    Matrix([[x_{0,0}, x_{0,1}, x_{0,2}, x_{1,0}, x_{1,1}, x_{1,2}, x_{2,0}, x_{2,1}, x_{2,2}]])
    >>> inputs(sympy.eye(2)).T
    Matrix([[x_{0}, x_{1}]])
    """
    with error_context("symbolic.inputs", name=name):
        return _vector(matrix, 1, name, base)


def outputs(matrix: sympy.MatrixBase, name: str = "y", *, base: int | None = None) -> sympy.Matrix:
    """Column vector of output symbols for ``matrix`` (``y_{i,j}`` when the geometry is known).

    Examples
    --------
    >>> outputs(conv_matrix((2, 2), (3, 3))).T
    Matrix([[y_{0,0}, y_{0,1}, y_{1,0}, y_{1,1}]])
    """
    with error_context("symbolic.outputs", name=name):
        return _vector(matrix, 0, name, base)


@dataclass(frozen=True)
class MatrixProduct:
    r"""``y = A x`` for a symbolic matrix: as one matrix equation and as per-output sums.

    Attributes
    ----------
    matrix : sympy matrix
        ``A``.
    x, y : sympy.Matrix
        Column vectors (the input, and the names of the outputs).
    """

    matrix: sympy.MatrixBase
    x: sympy.Matrix
    y: sympy.Matrix

    @property
    def equation(self) -> sympy.Eq:
        """The unevaluated matrix equation ``y = A x``."""
        product = sympy.MatMul(sympy.ImmutableSparseMatrix(self.matrix),
                               sympy.ImmutableMatrix(self.x), evaluate=False)
        return sympy.Eq(sympy.ImmutableMatrix(self.y), product, evaluate=False)

    def values(self) -> sympy.Matrix:
        r"""The column ``A x``, computed from the stored entries only (O(nnz))."""
        terms: list[list[sympy.Expr]] = [[] for _ in range(self.matrix.rows)]
        for r, c, v in self.matrix.row_list():
            terms[r].append(v * self.x[c])
        return sympy.Matrix([sympy.Add(*row) for row in terms])

    def sums(self) -> list[sympy.Eq]:
        r"""One equation per output, :math:`y_r = \sum_c A_{rc} x_c` (unevaluated)."""
        return [sympy.Eq(lhs, rhs, evaluate=False) for lhs, rhs in zip(self.y, self.values())]

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display (``y = A x``): ``convmat.display.latex_repr``."""
        from .display import latex_repr

        return latex_repr(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display, short for a large matrix: ``convmat.display.pretty_repr``."""
        from .display import pretty_repr

        return pretty_repr(self, printer, cycle)

    def __repr__(self) -> str:
        return _plain(self, self.matrix, lambda: (
            f"MatrixProduct(matrix={self.matrix!r}, x={self.x!r}, y={self.y!r})"))


def product(matrix: sympy.MatrixBase, x: str | Sequence = "x", y: str = "y", *,
            base: int | None = None) -> MatrixProduct:
    r"""``y = A x`` with input and output symbols named after the matrix's geometry.

    Parameters
    ----------
    matrix : sympy matrix
        Typically from :func:`conv_matrix` or :func:`conv_transpose_matrix` (then the
        vectors carry multi-indices, ``x_{i,j}``; otherwise flat ones, ``x_{7}``).
    x : str or sequence
        Name of the input symbols, or the input itself (numbers or expressions, one per
        column).
    y : str
        Name of the output symbols.
    base : int, optional
        First index of the generated symbols; by default the base the matrix's own symbols
        were made with (``conv_matrix(..., base=1)``), else 0.

    Returns
    -------
    MatrixProduct
        ``.equation`` (matrix form), ``.sums()`` (one equation per output), ``.values()``.

    Notes
    -----
    .. math:: y_r = \sum_{c \,:\, A_{rc} \neq 0} A_{rc}\, x_c

    Examples
    --------
    >>> p = product(conv_matrix((2, 2), (3, 3)))
    >>> p.sums()[0]
    Eq(y_{0,0}, w_{0,0}*x_{0,0} + w_{0,1}*x_{0,1} + w_{1,0}*x_{1,0} + w_{1,1}*x_{1,1})
    >>> product(conv_matrix([1, -1], (3,)), x=[5, 7, 4]).values().T
    Matrix([[-2, 3]])
    """
    with error_context("symbolic.product", shape=getattr(matrix, "shape", None)):
        if not isinstance(matrix, sympy.MatrixBase):
            raise ConvmatError(
                f"matrix is a {type(matrix).__name__}, not a sympy matrix; build it with "
                f"convmat.symbolic.conv_matrix or wrap it in sympy.SparseMatrix"
            )
        if isinstance(x, str):
            xs = _vector(matrix, 1, x, base, "x")
        else:
            flat = _as_expressions(x, "x").ravel()
            if flat.size != matrix.cols:
                raise ConvmatError(
                    f"x has {flat.size} entries but the matrix has {matrix.cols} columns"
                )
            xs = sympy.Matrix(flat.tolist())
        return MatrixProduct(matrix, xs, _vector(matrix, 0, y, base, "y"))


# -- Kong & Lucey ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SymbolicKongLucey(KongLucey):
    r"""Kong & Lucey with sympy entries (see :func:`kong_lucey`).

    As :class:`KongLucey`, but ``weight`` and ``unit_weight`` are numpy object arrays of sympy
    expressions and ``permutation``, ``blocks`` and :attr:`matrix` are sympy matrices.

    Attributes
    ----------
    matrix : convmat.symbolic.ConvMatrix
        The strided matrix on the padded input, ``A`` (it carries its geometry).
    """

    matrix: object
    base: int = 0  # first index of the symbols made (and of the vectors to_latex writes)

    @property
    def permuted(self) -> sympy.SparseMatrix:
        """``A * permutation``, i.e. ``[T_0 | T_1 | ...]``."""
        return sympy.SparseMatrix.hstack(*self.blocks)

    def strided_matrix(self, *, padded: bool = True,
                       format: str | None = None) -> sympy.SparseMatrix:  # noqa: A002
        """``hstack(blocks) * permutation.T`` (times the padding matrix unless ``padded``),
        a sympy matrix. ``format`` is checked like the numeric method's and otherwise
        ignored (a sympy matrix has one storage)."""
        with error_context("SymbolicKongLucey.strided_matrix", format=format):
            if format is not None:
                check_format(format)
        matrix = self.permuted * self.permutation.T
        if not padded:
            pad = padding_matrix(self.input_shape, self.padding, padding_mode=self.padding_mode,
                                 channels=self.in_channels, dtype=int).tocoo()
            entries = zip(zip(pad.row.tolist(), pad.col.tolist()), pad.data.tolist())
            matrix = matrix * sympy.SparseMatrix(*pad.shape, dict(entries))
        return matrix

    def __repr__(self) -> str:
        return "Symbolic" + super().__repr__()


def kong_lucey(
    weight: object,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int],
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    name: str = "w",
    base: int = 0,
) -> SymbolicKongLucey:
    r"""Kong & Lucey's rearrangement with sympy entries (the numeric one is
    :func:`convmat.kong_lucey`).

    Parameters
    ----------
    weight : tuple of int, sympy Array, array_like
        A shape (symbols ``name_{...}`` are made, see :func:`convmat.symbolic.kernel`) or the
        values (sympy expressions and numbers).
    input_shape, stride, padding, dilation, groups, padding_mode
        As in :func:`kong_lucey`.
    name, base : str, int
        Name and first index of the symbols made when ``weight`` is a shape.

    Returns
    -------
    SymbolicKongLucey
        As :func:`convmat.kong_lucey`, with sympy matrices; ``.latex(part)`` writes the strided
        matrix, the permuted one with rules between the phases, and the sum of unit-stride
        convolutions. Substituting numbers for the symbols gives :func:`kong_lucey`'s
        matrices exactly.

    Examples
    --------
    The 1-D toy of the slides, kernel ``(h0, h1, h2)``, stride 2, input length 7:

    >>> kl = kong_lucey((3,), (7,), stride=2, name="h")
    >>> kl.permuted
    Matrix([
    [h_{0}, h_{2},     0,     0, h_{1},     0,     0],
    [    0, h_{0}, h_{2},     0,     0, h_{1},     0],
    [    0,     0, h_{0}, h_{2},     0,     0, h_{1}]])
    >>> [list(xr) for xr in kl.phase_inputs()]
    [[x_{0}, x_{2}, x_{4}, x_{6}], [x_{1}, x_{3}, x_{5}]]
    >>> kl.phase_weight(0), kl.phase_weight(1)
    (array([h_{0}, h_{2}], dtype=object), array([h_{1}, 0], dtype=object))
    """
    with error_context("symbolic.kong_lucey", input_shape=input_shape,
                       weight_shape=_describe(weight), stride=stride):
        shape = weight if _is_shape(weight) else None
        w = None if shape else as_symbolic_weight(weight, name=name, base=base)
        geom = _phases.strided_geometry(_Shaped(shape) if shape else w, input_shape,
                                        stride, padding, dilation, groups, padding_mode)
        strided = geometry.convolution_geometry(geom.padded_shape, geom.weight_shape,
                                                stride=geom.stride, dilation=geom.dilation,
                                                groups=geom.groups)
        nnz = strided.nnz_upper_bound()
        n_phases = math.prod(geom.stride)
        size = geom.in_channels * math.prod(geom.padded_shape)
        check_budget(3 * nnz * ENTRY_BYTES + size * ENTRY_BYTES + n_phases * PER_BLOCK
                     + _engine_bytes(strided),
                     f"symbolic.kong_lucey with {n_phases} phases of a {strided.shape[0]}x"
                     f"{strided.shape[1]} strided matrix", nnz=nnz,
                     advice="A smaller input_shape shows the same structure. ")
        if w is None:
            w = as_symbolic_weight(weight, name=name, base=base)
        fields, order, widths = _phases.kong_lucey_fields(w, geom)
        fields["unit_weight"] = np.frompyfunc(sympy.sympify, 1, 1)(fields["unit_weight"])
        matrix = _based(conv_matrix(w, geom.padded_shape, stride=geom.stride,
                                    dilation=geom.dilation, groups=geom.groups), base)
        size = order.size
        permutation = sympy.SparseMatrix(size, size, {(int(order[k]), k): 1
                                                      for k in range(size)})
        cuts = np.concatenate(([0], np.cumsum(widths)))
        rows = list(range(matrix.rows))
        blocks = tuple(sympy.SparseMatrix(matrix.extract(rows, order[lo:hi].tolist()))
                       for lo, hi in zip(cuts[:-1], cuts[1:]))
        return SymbolicKongLucey(**fields, permutation=permutation, blocks=blocks,
                                 matrix=matrix, base=as_int(base, "base"))
