"""Plain-text rendering of a matrix for the terminal: dense for small, a summary for large."""

from __future__ import annotations

import sys

import numpy as np
import scipy.sparse as sp

__all__ = ["to_text", "spy", "summary"]


def _format_value(v) -> str:
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):g}".strip("()")
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def to_text(matrix, *, zero: str = ".", max_rows: int = 40, max_cols: int = 40) -> str:
    """Dense text with structural zeros shown as ``zero`` when the matrix is small, else a
    summary with a sparsity picture. ``matrix`` is a SciPy sparse array or a sympy matrix.

    Examples
    --------
    >>> import convmat
    >>> print(to_text(convmat.conv_matrix([1, 2], (3,))))
    1 2 .
    . 1 2
    """
    if _is_sympy_matrix(matrix):
        return _symbolic_text(matrix, zero, max_rows, max_cols)
    matrix = sp.csr_array(matrix)
    rows, cols = matrix.shape
    if rows > max_rows or cols > max_cols:
        return summary(matrix) + "\n" + spy(matrix)
    stored = np.zeros(matrix.shape, dtype=bool)
    coo = matrix.tocoo()
    stored[coo.row, coo.col] = True
    dense = matrix.toarray()
    return _grid([[_format_value(dense[r, c]) if stored[r, c] else zero for c in range(cols)]
                  for r in range(rows)])


def _is_sympy_matrix(matrix) -> bool:
    sympy = sys.modules.get("sympy")  # a sympy matrix exists only once sympy is imported
    return sympy is not None and isinstance(matrix, sympy.MatrixBase)


def _symbolic_text(matrix, zero: str, max_rows: int, max_cols: int) -> str:
    """A sympy matrix: its nonzero entries printed by sympy, or a summary when large."""
    nonzero = matrix.todok()
    rows, cols = matrix.shape
    if rows > max_rows or cols > max_cols:
        where = np.array(list(nonzero), dtype=np.int64).reshape(-1, 2)
        pattern = sp.coo_array((np.ones(len(where)), (where[:, 0], where[:, 1])),
                               shape=(rows, cols))
        return (f"{rows} x {cols} symbolic matrix, {len(nonzero):,} nonzero entries\n"
                + spy(pattern))
    return _grid([[str(nonzero[r, c]) if (r, c) in nonzero else zero for c in range(cols)]
                  for r in range(rows)])


def _grid(cells: list[list[str]]) -> str:
    """Cells right-aligned in columns of one width."""
    width = max((len(cell) for row in cells for cell in row), default=1)
    return "\n".join(" ".join(cell.rjust(width) for cell in row) for row in cells)


def summary(matrix) -> str:
    """One line: shape, stored entries, density, dtype."""
    rows, cols = matrix.shape
    density = matrix.nnz / (rows * cols) if rows * cols else 0.0
    return (f"{rows} x {cols} sparse matrix, {matrix.nnz:,} stored entries "
            f"(density {density:.3g}), dtype {matrix.dtype}")


def spy(matrix, *, width: int = 64, height: int = 24) -> str:
    """Character picture of the sparsity pattern: ``#`` where a cell holds entries."""
    coo = sp.coo_array(matrix)
    rows, cols = coo.shape
    h, w = min(height, rows), min(width, cols)
    grid = np.zeros((h, w), dtype=bool)
    grid[(coo.row.astype(np.int64) * h) // rows, (coo.col.astype(np.int64) * w) // cols] = True
    return "\n".join("".join("#" if v else "." for v in line) for line in grid)
