"""Plain-text rendering of a matrix for the terminal: dense for small, a summary for large."""

from __future__ import annotations

import re
import sys
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ._memory import check_budget
from ._validate import as_array, positive_int
from .errors import ConvmatError, brief, error_context
from .layout import summary_cells

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from sympy import MatrixBase

    from .networks import Summary
    from .striding import KongLucey

__all__ = [
    "describe", "kong_lucey_text", "markdown_cell", "spy", "summary",
    "summary_latex", "summary_markdown", "summary_text", "to_text",
]


def _format_value(v: object) -> str:
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):g}".strip("()")
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def to_text(matrix: sp.sparray | sp.spmatrix | ArrayLike | MatrixBase, *, zero: str = ".",
            max_rows: int = 40, max_cols: int = 40) -> str:
    """Dense text with structural zeros shown as ``zero`` when the matrix is small, else a
    summary with a sparsity picture. ``matrix`` is a SciPy sparse array or a sympy matrix.

    Examples
    --------
    >>> import convmat
    >>> print(to_text(convmat.conv_matrix([1, 2], (3,))))
    1 2 .
    . 1 2
    """
    with error_context("to_text", shape=getattr(matrix, "shape", None)):
        max_rows = positive_int(max_rows, "max_rows", minimum=0)  # 0: always the summary
        max_cols = positive_int(max_cols, "max_cols", minimum=0)
        if not isinstance(zero, str):
            raise ConvmatError(f"zero={brief(zero)} must be a string (how a structural zero "
                               f"prints)")
        if _is_sympy_matrix(matrix):
            return _symbolic_text(matrix, zero, max_rows, max_cols)
        matrix = _as_sparse(matrix)
        rows, cols = matrix.shape
        if rows > max_rows or cols > max_cols:
            return describe(matrix) + "\n" + _spy(matrix.tocoo(), 64, 24)
        check_budget(rows * cols * (matrix.dtype.itemsize + 1 + 16),
                     f"to_text of a {rows}x{cols} matrix (printed densely up to max_rows x "
                     f"max_cols)")
        return _dense_text(matrix, zero)


def _as_sparse(matrix: object) -> sp.csr_array:
    """A SciPy sparse array, or a 2-D numeric array, as CSR (anything else refused)."""
    if not sp.issparse(matrix):
        array = as_array(matrix, "matrix")
        if array.ndim != 2 or array.dtype.kind not in "biufc":
            raise ConvmatError(f"matrix must be a 2-D numeric array, a SciPy sparse array or a "
                               f"sympy matrix, not {type(matrix).__name__} of shape "
                               f"{array.shape} and dtype {array.dtype}")
        matrix = array
    return sp.csr_array(matrix)


def _dense_text(matrix: sp.csr_array, zero: str) -> str:
    rows, cols = matrix.shape
    stored = np.zeros(matrix.shape, dtype=bool)
    coo = matrix.tocoo()
    stored[coo.row, coo.col] = True
    dense = matrix.toarray()
    return _grid([[_format_value(dense[r, c]) if stored[r, c] else zero for c in range(cols)]
                  for r in range(rows)])


def _is_sympy_matrix(matrix: object) -> bool:
    sympy = sys.modules.get("sympy")  # a sympy matrix exists only once sympy is imported
    return sympy is not None and isinstance(matrix, sympy.MatrixBase)


def _symbolic_text(matrix: MatrixBase, zero: str, max_rows: int, max_cols: int) -> str:
    """A sympy matrix: its nonzero entries printed by sympy, or a summary when large."""
    nonzero = matrix.todok()
    rows, cols = matrix.shape
    if rows > max_rows or cols > max_cols:
        where = np.array(list(nonzero), dtype=np.int64).reshape(-1, 2)
        pattern = sp.coo_array((np.ones(len(where)), (where[:, 0], where[:, 1])),
                               shape=(rows, cols))
        return (f"{rows} x {cols} symbolic matrix, {len(nonzero):,} nonzero entries\n"
                + _spy(pattern.tocoo(), 64, 24))
    return _grid([[str(nonzero[r, c]) if (r, c) in nonzero else zero for c in range(cols)]
                  for r in range(rows)])


def _grid(cells: list[list[str]]) -> str:
    """Cells right-aligned in columns of one width."""
    width = max((len(cell) for row in cells for cell in row), default=1)
    return "\n".join(" ".join(cell.rjust(width) for cell in row) for row in cells)


def describe(matrix: Any) -> str:
    """One line about a matrix: shape, stored entries, density, dtype.

    Examples
    --------
    >>> import convmat
    >>> describe(convmat.conv_matrix([1, 2], (3,)))
    '2 x 3 sparse matrix, 4 stored entries (density 0.667), dtype int64'
    """
    with error_context("describe", shape=getattr(matrix, "shape", None)):
        if not sp.issparse(matrix):
            matrix = _as_sparse(matrix)
    rows, cols = matrix.shape
    density = matrix.nnz / (rows * cols) if rows * cols else 0.0
    return (f"{rows} x {cols} sparse matrix, {matrix.nnz:,} stored entries "
            f"(density {density:.3g}), dtype {matrix.dtype}")


def summary(matrix: Any) -> str:
    """Deprecated name of :func:`describe` (``convmat.summary`` is the network table)."""
    warnings.warn("convmat.text.summary is deprecated; use convmat.text.describe (the name "
                  "summary is the network table, convmat.summary)", DeprecationWarning,
                  stacklevel=2)
    return describe(matrix)


def spy(matrix: sp.sparray | sp.spmatrix | ArrayLike, *, width: int = 64, height: int = 24) -> str:
    """Character picture of the sparsity pattern: ``#`` where a cell holds entries."""
    with error_context("spy", shape=getattr(matrix, "shape", None)):
        width, height = positive_int(width, "width"), positive_int(height, "height")
        coo = _as_sparse(matrix).tocoo()
        check_budget(width * height * 2, f"spy of {height}x{width} characters")
    return _spy(coo, width, height)


def _spy(coo: sp.coo_array, width: int, height: int) -> str:
    rows, cols = coo.shape
    h, w = min(height, rows), min(width, cols)
    grid = np.zeros((h, w), dtype=bool)
    grid[(coo.row.astype(np.int64) * h) // rows, (coo.col.astype(np.int64) * w) // cols] = True
    return "\n".join("".join("#" if v else "." for v in line) for line in grid)


def kong_lucey_text(kl: KongLucey, *, max_size: int = 40) -> str:
    """Plain-text account of a Kong & Lucey result: ``A``, the phase order of its columns,
    every block with its phase kernel, and the unit-stride layer (what ``convmat
    kong-lucey`` prints; also ``kl.text()``).

    Examples
    --------
    >>> import convmat
    >>> print(kong_lucey_text(convmat.kong_lucey([1, 2, 3], (5,), stride=2)))
    strided matrix A on the padded input (5,) (stride (2,), dilation (1,)), 2 x 5:
    1 2 3 . .
    . . 1 2 3
    <BLANKLINE>
    columns grouped by phase: A @ permutation = [T_0 | T_1]
    T_0: phase (0,), input x[0::2], columns 0 2 4
         kernel [1, 3]
    1 3 .
    . 1 3
    T_1: phase (1,), input x[1::2], columns 1 3
         kernel [2, 0]
    2 .
    . 2
    <BLANKLINE>
    unit-stride layer: unit_weight (1, 2, 2) on the space-to-depth input (2, 3), cropped to (2,)
    parameters: strided 3, unit-stride 4
    """
    with error_context("kong_lucey_text", max_size=max_size):
        if not all(hasattr(kl, a) for a in ("n_phases", "blocks", "strided_matrix")):
            raise ConvmatError(f"kl={brief(kl)} is not a Kong & Lucey result; make one with "
                               f"convmat.kong_lucey or convmat.symbolic.kong_lucey")
        max_size = positive_int(max_size, "max_size")
        n_blocks = " | ".join(f"T_{r}" for r in range(kl.n_phases))
        lines = [
            f"strided matrix A on the padded input {kl.padded_shape} (stride "
            f"{kl.stride}, dilation {kl.dilation}), {kl.permuted.shape[0]} x "
            f"{kl.permuted.shape[1]}:",
            to_text(kl.strided_matrix(), max_rows=max_size, max_cols=max_size), "",
            f"columns grouped by phase: A @ permutation = [{n_blocks}]",
        ]
        cuts = np.cumsum([0] + [block.shape[1] for block in kl.blocks])
        for r, (phase, block) in enumerate(zip(kl.phases, kl.blocks)):
            where = ", ".join(f"{p}::{s}" for p, s in zip(phase, kl.stride))
            columns = kl.column_order[cuts[r]:cuts[r + 1]]
            shown = (" ".join(map(str, columns)) if columns.size <= max_size
                     else f"{columns.size} columns")
            lines.append(f"T_{r}: phase {phase}, input x[{where}], columns {shown or '(none)'}")
            if kl.weight.ndim == kl.ndim:
                kernel = np.array2string(kl.phase_weight(r), separator=", ")
                lines.append(f"     kernel {' '.join(kernel.split())}")
            if 0 not in block.shape:
                lines.append(to_text(block, max_rows=max_size, max_cols=max_size))
        counts = kl.parameter_counts()
        lines += [
            "",
            f"unit-stride layer: unit_weight {kl.unit_weight.shape} on the space-to-depth "
            f"input ({kl.in_channels * kl.n_phases}, "
            f"{', '.join(map(str, kl.phase_shape))}), cropped to {kl.output_shape}",
            f"parameters: strided {counts.strided}, unit-stride {counts.unit_stride}",
        ]
        return "\n".join(lines)


# -- network summaries (convmat.summary) -----------------------------------------------------

def summary_text(s: Summary) -> str:
    """A network summary (:func:`convmat.summary`) as a plain-text table, numbers
    right-aligned."""
    header, rows, footer = summary_cells(s)
    table = [header, *rows, footer]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    left = {c for c, name in enumerate(header) if name in ("layer", "type", "inputs")}

    def line(row):
        return "  ".join(v.ljust(w) if c in left else v.rjust(w)
                         for c, (v, w) in enumerate(zip(row, widths))).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, rows), rule, line(footer)])


def summary_markdown(s: Summary) -> str:
    """A network summary as a Markdown (GitHub) table."""
    header, cells, footer = summary_cells(s, times="×")
    align = ["---" if name in ("layer", "type", "inputs") else "--:" for name in header]
    rows = [[markdown_cell(c) for c in row] for row in [header, *cells]]
    footer = [f"**{markdown_cell(v)}**" if v else "" for v in footer]
    return "\n".join("| " + " | ".join(r) + " |" for r in [rows[0], align, *rows[1:], footer])


#: characters Markdown reads specially in a table cell (escaped with a backslash)
_MARKDOWN_SPECIAL = re.compile(r"([\\|`*\[\]<>])")


def markdown_cell(text: str) -> str:
    r"""``text`` for a cell of a Markdown table: ``|`` (which would split the row) and the
    characters Markdown reads as markup escaped, line breaks made spaces.

    Examples
    --------
    >>> print(markdown_cell("a|b*c"))
    a\|b\*c
    """
    if not isinstance(text, str):
        raise ConvmatError(f"text={brief(text)} must be a string")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\n", " ").replace("\r", " "))


def summary_latex(s: Summary, *, standalone: bool = False) -> str:
    r"""A network summary as a LaTeX ``tabular``: :func:`convmat.latex.summary_latex`."""
    from .latex import summary_latex as to_tabular

    return to_tabular(s, standalone=standalone)
