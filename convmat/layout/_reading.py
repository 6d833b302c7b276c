"""Reading what a display is about: the one dispatch by result type (:class:`ByType`) and
uniform access to the stored entries of any matrix (:class:`Entries`, one reader class per
matrix type in one table)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConvmatError, brief

__all__ = ["ByType", "Entries", "stored"]


# -- dispatch by result type -----------------------------------------------------------------

class ByType:
    """Handlers by result type, found along the type's MRO (as sympy's printers dispatch on
    the class).

    A type is registered as a class, or as ``"module:Name"`` for a class of a module that may
    not be loaded (sympy): such an entry is resolved once its module is imported, and an
    object of that class cannot exist before. ``default`` handles every other type.

    Examples
    --------
    >>> kinds = ByType("kind", default=lambda obj: "other")
    >>> kinds.register(int, lambda obj: "int")
    >>> kinds.register("fractions:Fraction", lambda obj: "fraction")
    >>> kinds(True), kinds(2.5)   # bool is an int
    ('int', 'other')
    >>> from fractions import Fraction
    >>> kinds(Fraction(1, 2))
    'fraction'
    """

    def __init__(self, what: str, default: Callable | None = None) -> None:
        self.what = what
        self.default = default
        self._types: dict[type, Callable] = {}
        self._lazy: dict[tuple[str, str], Callable] = {}
        self._found: dict[type, Callable] = {}  # handler by exact type, found once

    def register(self, cls: type | str, handler: Callable) -> None:
        """Handle objects of ``cls`` (a class or ``"module:Name"``) with ``handler``."""
        if isinstance(cls, str):
            module, _, name = cls.partition(":")
            self._lazy[module, name] = handler
        else:
            self._types[cls] = handler
        self._found.clear()

    def _resolve(self) -> None:
        for (module, name), handler in list(self._lazy.items()):
            loaded = sys.modules.get(module)
            if loaded is not None:
                self._types[getattr(loaded, name)] = handler
                del self._lazy[module, name]
                self._found.clear()

    def handler(self, obj: object) -> Callable:
        """The handler of ``obj``'s type (its nearest registered base class)."""
        if self._lazy:
            self._resolve()
        kind = type(obj)
        found = self._found.get(kind)
        if found is not None:
            return found
        for cls in kind.__mro__:
            found = self._types.get(cls)
            if found is not None:
                self._found[kind] = found
                return found
        if self.default is None:
            raise ConvmatError(f"{self.what} does not handle a {type(obj).__name__} "
                               f"({brief(obj)})")
        return self.default

    def __call__(self, obj: object, *args: Any, **kwargs: Any) -> Any:
        return self.handler(obj)(obj, *args, **kwargs)


# -- reading entries -------------------------------------------------------------------------

class _Sparse:
    """A SciPy sparse matrix, read through canonical CSR."""

    kind = "scipy"

    def __init__(self, matrix: Any) -> None:
        csr = sp.csr_array(matrix)
        if not csr.has_canonical_format:
            csr = csr.copy()
            csr.sum_duplicates()
        self.data = csr

    def block(self, rows: list[int], cols: list[int]) -> dict[tuple[int, int], object]:
        coo = self.data[np.asarray(rows)][:, np.asarray(cols)].tocoo()
        return dict(zip(zip(coo.row.tolist(), coo.col.tolist()), coo.data))

    def row_columns(self, row: int) -> set[int]:
        lo, hi = self.data.indptr[row], self.data.indptr[row + 1]
        return set(self.data.indices[lo:hi].tolist())

    def col_rows(self, col: int) -> set[int]:
        column = self.data[:, [col]].tocoo()
        return set(column.row.tolist())


class _Sympy:
    """A sympy matrix (dense or sparse), read through ``extract`` and ``todok``."""

    kind = "sympy"

    def __init__(self, matrix: Any) -> None:
        self.data = matrix

    def block(self, rows: list[int], cols: list[int]) -> dict[tuple[int, int], object]:
        return self.data.extract(rows, cols).todok()

    def row_columns(self, row: int) -> set[int]:
        return {c for _, c in self.data[row, :].todok()}

    def col_rows(self, col: int) -> set[int]:
        return {r for r, _ in self.data[:, col].todok()}


class _Dense:
    """Anything numpy reads as a 2-D numeric (or object) array; a 1-D one is a column."""

    kind = "numpy"

    def __init__(self, matrix: Any) -> None:
        try:
            array = np.asarray(matrix)
        except (ValueError, TypeError) as exc:
            raise ConvmatError(f"matrix could not be read as an array ({exc})") from None
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.dtype.kind not in "biufcO":
            raise ConvmatError(
                f"matrix must be a 2-D numeric array, a SciPy sparse array or a sympy "
                f"matrix, not an array of shape {array.shape} and dtype {array.dtype}"
            )
        self.data = array

    def block(self, rows: list[int], cols: list[int]) -> dict[tuple[int, int], object]:
        sub = self.data[np.ix_(rows, cols)]
        return {(int(i), int(j)): sub[i, j] for i, j in zip(*np.nonzero(sub != 0))}

    def row_columns(self, row: int) -> set[int]:
        return set(np.flatnonzero(self.data[row] != 0).tolist())

    def col_rows(self, col: int) -> set[int]:
        return set(np.flatnonzero(self.data[:, col] != 0).tolist())


def _sympy_array(matrix: Any) -> _Sympy | _Dense:
    return _Sympy(matrix.tomatrix()) if matrix.rank() == 2 else _Dense(matrix)


#: how each matrix type is read, by type (register a reader for a new matrix type here)
_READERS = ByType("reading a matrix", default=_Dense)
_READERS.register(sp.sparray, _Sparse)
_READERS.register(sp.spmatrix, _Sparse)
_READERS.register("sympy:MatrixBase", _Sympy)
_READERS.register("sympy:NDimArray", _sympy_array)


class Entries:
    """Uniform read access to the stored entries of a SciPy, numpy or sympy matrix (the
    reader of each type found in one table, by type)."""

    def __init__(self, matrix: object) -> None:
        self._reader = _READERS(matrix)
        self.kind, self.data = self._reader.kind, self._reader.data
        self.shape: tuple[int, int] = tuple(int(v) for v in self.data.shape)  # type: ignore
        if 0 in self.shape:
            raise ConvmatError(f"matrix of shape {self.shape} is empty")

    def block(self, rows: list[int], cols: list[int]) -> dict[tuple[int, int], object]:
        """Stored entries of the submatrix ``rows x cols``, keyed by positions within it."""
        return self._reader.block(rows, cols)

    def row_columns(self, row: int) -> set[int]:
        """Columns of the stored entries of one row."""
        return self._reader.row_columns(row)

    def col_rows(self, col: int) -> set[int]:
        """Rows of the stored entries of one column."""
        return self._reader.col_rows(col)


def stored(matrix: Any) -> int:
    """Stored entries of a SciPy sparse array (``.nnz``) or a sympy matrix (``.nnz()``)."""
    return matrix.nnz if isinstance(matrix.nnz, int) else matrix.nnz()
