"""Plain-text rendering of a matrix for the terminal: dense for small, a summary for large."""

from __future__ import annotations

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
    summary with a sparsity picture.

    Examples
    --------
    >>> import convmat
    >>> print(to_text(convmat.conv_matrix([1, 2], (3,))))
    1 2 .
    . 1 2
    """
    matrix = sp.csr_array(matrix)
    rows, cols = matrix.shape
    if rows > max_rows or cols > max_cols:
        return summary(matrix) + "\n" + spy(matrix)
    stored = np.zeros(matrix.shape, dtype=bool)
    coo = matrix.tocoo()
    stored[coo.row, coo.col] = True
    dense = matrix.toarray()
    cells = [[_format_value(dense[r, c]) if stored[r, c] else zero for c in range(cols)]
             for r in range(rows)]
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
