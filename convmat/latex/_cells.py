"""The cell writer behind :func:`convmat.to_latex`: reading entries, formatting values,
elision, rules and amsmath environments.

One renderer for every LaTeX string of the package: :mod:`convmat.latex` decides *what* is
written (rows, columns, rules, vectors) and calls these functions to write it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import sympy

from .._choices import ENVIRONMENTS
from ..errors import ConvmatError

__all__ = [
    "MAX_CELLS", "Entries", "Formatter", "Mark",
    "elide", "levels_of", "overlay_spec", "rules_at", "write_cells", "write_environment",
    "write_grid", "write_vector",
]

#: how a highlighted cell is written: ``mark(row, col, text)`` for a matrix cell,
#: ``mark(k, 0, text)`` for entry ``k`` of a vector (returns ``text`` when not highlighted)
Mark = Callable[[int, int, str], str]

#: largest number of cells written (guards against rendering a huge matrix by accident)
MAX_CELLS = 1_000_000
AMSMATH_MAX_COLS = 10  # amsmath's MaxMatrixCols: wider matrices are written as arrays


# -- reading entries ------------------------------------------------------------------------

class Entries:
    """Uniform read access to the stored entries of a SciPy, numpy or sympy matrix."""

    def __init__(self, matrix) -> None:
        if sp.issparse(matrix):
            csr = sp.csr_array(matrix)
            if not csr.has_canonical_format:
                csr = csr.copy()
                csr.sum_duplicates()
            self.kind, self.data = "scipy", csr
        elif isinstance(matrix, sympy.MatrixBase):
            self.kind, self.data = "sympy", matrix
        elif isinstance(matrix, sympy.NDimArray) and matrix.rank() == 2:
            self.kind, self.data = "sympy", matrix.tomatrix()
        else:
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
            self.kind, self.data = "numpy", array
        self.shape: tuple[int, int] = tuple(int(v) for v in self.data.shape)  # type: ignore
        if 0 in self.shape:
            raise ConvmatError(f"matrix of shape {self.shape} is empty")

    def block(self, rows: list[int], cols: list[int]) -> dict[tuple[int, int], object]:
        """Stored entries of the submatrix ``rows x cols``, keyed by positions within it."""
        if self.kind == "scipy":
            coo = self.data[np.asarray(rows)][:, np.asarray(cols)].tocoo()
            return dict(zip(zip(coo.row.tolist(), coo.col.tolist()), coo.data))
        if self.kind == "sympy":
            return self.data.extract(rows, cols).todok()
        sub = self.data[np.ix_(rows, cols)]
        return {(int(i), int(j)): sub[i, j] for i, j in zip(*np.nonzero(sub != 0))}

    def row_columns(self, row: int) -> set[int]:
        """Columns of the stored entries of one row."""
        if self.kind == "scipy":
            lo, hi = self.data.indptr[row], self.data.indptr[row + 1]
            return set(self.data.indices[lo:hi].tolist())
        if self.kind == "sympy":
            return {c for _, c in self.data[row, :].todok()}
        return set(np.flatnonzero(self.data[row] != 0).tolist())


# -- formatting values ----------------------------------------------------------------------

def _float(value: float, precision: int) -> str:
    if math.isnan(value):
        return r"\mathrm{NaN}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    if value == 0:
        return "0"
    text = f"{value:.{precision}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return f"{mantissa} \\times {power}"


def _complex(value: complex, precision: int) -> str:
    re, im = value.real, value.imag
    if im == 0:
        return _float(re, precision)
    size = "" if abs(im) == 1 else _float(abs(im), precision)
    if re == 0:
        return f"{'-' if im < 0 else ''}{size}i"
    return f"{_float(re, precision)} {'-' if im < 0 else '+'} {size}i"


def _integer(value: int) -> str:
    """An integer exactly, or past Python's 4300-digit printing limit as ``m \\times 10^{e}``
    (leading digits, found without printing the integer)."""
    try:
        return str(value)
    except ValueError:
        size = abs(value)
        exponent = int(size.bit_length() * 0.30103) - 5
        lead = size // 10**exponent
        while lead >= 10**5:
            lead, exponent = lead // 10, exponent + 1
        sign = "-" if value < 0 else ""
        return rf"{sign}{lead / 10**4:.4f} \times 10^{{{exponent + 4}}}"


class Formatter:
    """LaTeX of one entry: integers as integers, floats to ``precision`` significant digits,
    sympy expressions through :func:`sympy.latex` (memoised: a convolution matrix repeats a
    few expressions many times)."""

    def __init__(self, precision: int) -> None:
        self.precision = precision
        self.cache: dict[object, str] = {}

    def __call__(self, value: object) -> str:
        if isinstance(value, str):
            return value  # caller-supplied LaTeX (vector entries)
        if isinstance(value, (bool, np.bool_, int, np.integer, sympy.Integer)):
            return _integer(int(value))
        if isinstance(value, (float, np.floating, sympy.Float)):
            return _float(float(value), self.precision)
        if isinstance(value, (complex, np.complexfloating)):
            return _complex(complex(value), self.precision)
        text = self.cache.get(value)
        if text is None:
            text = self.cache[value] = sympy.latex(value)
        return text


def elide(n: int, limit: int | None) -> list[int | None]:
    """Indices written along an axis of length ``n``: all, or head, ``None`` (the ellipsis)
    and tail, ``limit`` items in all."""
    if limit is None or n <= limit:
        return list(range(n))
    tail = (limit - 1) // 2
    head = limit - 1 - tail
    return [*range(head), None, *range(n - tail, n)]


def levels_of(shape: Sequence[int]) -> tuple[int, ...]:
    """Block sizes of a C-order flattening of ``shape``, coarsest first (rules go after
    every multiple of each)."""
    sizes = {math.prod(shape[a + 1:]) for a in range(len(shape) - 1)}
    return tuple(sorted((s for s in sizes if s > 1), reverse=True))


def rules_at(shown: list[int | None], levels: tuple[int, ...], single: str, double: str):
    """Rule after position ``k`` of ``shown`` where a block ends between it and the next."""
    out: dict[int, str] = {}
    for k, (a, b) in enumerate(zip(shown, shown[1:])):
        if a is None or b is None or b != a + 1:
            continue
        hits = [size for size in levels if b % size == 0]
        if hits:
            out[k] = double if len(levels) > 1 and hits[0] == levels[0] else single
    return out


def write_environment(cells: list[list[str]], row_rules: dict[int, str],
                      col_rules: dict[int, str], environment: str) -> str:
    """One amsmath environment, or an array inside ``\\left ... \\right`` when it needs rules
    or has more columns than amsmath's matrix environments allow."""
    ncols = len(cells[0])
    lines = []
    for i, row in enumerate(cells):
        lines.append(" & ".join(row) + (r" \\" if i < len(cells) - 1 else ""))
        if i in row_rules:
            lines.append(row_rules[i])
    body = "\n".join(lines)
    if environment != "array" and not row_rules and not col_rules and ncols <= AMSMATH_MAX_COLS:
        return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"
    spec = "".join("c" + col_rules.get(j, "") for j in range(ncols))
    array = f"\\begin{{array}}{{{spec}}}\n{body}\n\\end{{array}}"
    if environment == "array":
        return array
    delimiters = ENVIRONMENTS[environment]
    if delimiters is None:
        return array
    return f"\\left{delimiters[0]}{array}\\right{delimiters[1]}"


def _ellipsis(row: int | None, col: int | None) -> str:
    """The cell where an elided row (``None``) or column meets the rest."""
    if row is None:
        return r"\ddots" if col is None else r"\vdots"
    return r"\cdots"


def write_cells(entries: Entries, rows: list[int | None], cols: list[int | None],
                fmt: Formatter, zero_text: str, mark: Mark | None = None) -> list[list[str]]:
    """The written cells: entries of ``rows x cols`` (``None``: the ellipsis), reading only
    those entries; ``mark`` rewrites the stored entries it highlights."""
    stored = entries.block([r for r in rows if r is not None],
                           [c for c in cols if c is not None])
    cells: list[list[str]] = []
    i = 0
    for r in rows:
        line, j = [], 0
        for c in cols:
            if r is None or c is None:
                line.append(_ellipsis(r, c))
                continue
            value = stored.get((i, j))
            if value is None:
                line.append(zero_text)
            else:
                text = fmt(value)
                line.append(text if mark is None else mark(r, c, text))
            j += 1
        i += r is not None
        cells.append(line)
    return cells


def write_vector(entry: Callable, shown: list[int | None], rules: dict[int, str],
                 fmt: Formatter, environment: str, mark: Mark | None = None) -> str:
    """A column vector of ``entry(k)`` for the written indices ``shown``, ``mark`` rewriting
    the highlighted ones."""
    cells = []
    for k in shown:
        if k is None:
            cells.append([r"\vdots"])
        else:
            text = fmt(entry(k))
            cells.append([text if mark is None else mark(k, 0, text)])
    return write_environment(cells, rules, {}, environment)


def write_grid(entry: Callable, shape: Sequence[int], fmt: Formatter, environment: str,
               mark: Mark | None, limits: tuple[int | None, int | None]) -> str:
    r"""A vector of ``shape`` (C order) written as the grid it flattens, ``\operatorname{vec}``
    in front: the last axis along a row, the others down the rows with a rule between
    channels (or planes); each axis elided to ``limits``."""
    shape = tuple(shape)
    width = shape[-1]
    height = math.prod(shape[:-1])
    rows = elide(height, limits[0])
    cols = elide(width, limits[1])
    cells = []
    for r in rows:
        line = []
        for c in cols:
            if r is None or c is None:
                line.append(_ellipsis(r, c))
                continue
            k = r * width + c
            text = fmt(entry(k))
            line.append(text if mark is None else mark(k, 0, text))
        cells.append(line)
    row_rules = rules_at(rows, levels_of(shape[:-1]), r"\hline", r"\hline\hline")
    return r"\operatorname{vec}" + write_environment(cells, row_rules, {}, environment)


def overlay_spec(steps: Sequence[int]) -> str:
    """Beamer overlay specification of the slide numbers ``steps``: ``[1, 2, 3, 5]`` ->
    ``"1-3,5"``."""
    steps = sorted(set(steps))
    parts: list[str] = []
    start = prev = steps[0]
    for step in steps[1:] + [None]:
        if step is not None and step == prev + 1:
            prev = step
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if step is not None:
            start = prev = step
    return ",".join(parts)
