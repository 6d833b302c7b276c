r"""Publication-ready LaTeX for matrices: SciPy sparse, numpy and sympy.

:func:`to_latex` writes a matrix as an amsmath environment, optionally with

- block rules that make the (doubly-)block-Toeplitz structure visible: given as sizes, or
  found automatically from the convolution's geometry (a :class:`convmat.symbolic.ConvMatrix`
  carries it; for numeric matrices pass ``geometry=``);
- elision of large matrices: at most ``max_rows`` rows and ``max_cols`` columns are written,
  the middle replaced by ``\vdots``, ``\cdots`` and ``\ddots``;
- one highlighted row (the sliding window) and, with ``x=``, the input entries it touches;
- the input and output vectors, giving ``y = A x``;
- a standalone document that compiles with ``pdflatex`` and amsmath alone.

Only the entries that are written are read, so the cost is O(nnz) for sparse input no matter
how large the matrix is. :func:`equations_to_latex` writes per-output sums
(:meth:`convmat.symbolic.MatrixProduct.sums`) as an ``aligned`` block.

Examples
--------
>>> import convmat
>>> print(to_latex(convmat.conv_matrix([1, 2], (3,))))
\begin{bmatrix}
1 & 2 & 0 \\
0 & 1 & 2
\end{bmatrix}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Union

import numpy as np
import scipy.sparse as sp
import sympy

from .errors import ConvmatError, error_context
from .geometry import ConvGeometry, as_int
from .symbolic import MatrixProduct, element, vector_shapes

__all__ = [
    "Environment",
    "ZeroStyle",
    "ENVIRONMENTS",
    "ZERO_STYLES",
    "MAX_CELLS",
    "to_latex",
    "equations_to_latex",
    "block_sizes",
    "document",
]

Environment = Literal["bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"]
ZeroStyle = Literal["0", "cdot", "blank"]
Blocks = Union[str, None, bool, tuple]

#: environment -> (left, right) delimiter for ``\left ... \right`` (None: no delimiters)
ENVIRONMENTS: dict[str, tuple[str, str] | None] = {
    "bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "Bmatrix": (r"\{", r"\}"),
    "vmatrix": ("|", "|"), "Vmatrix": (r"\|", r"\|"), "matrix": None, "array": None,
}
#: how an entry that is not stored (a structural zero) prints
ZERO_STYLES: dict[str, str] = {"0": "0", "cdot": r"\cdot", "blank": ""}
#: largest number of cells written (guards against rendering a huge matrix by accident)
MAX_CELLS = 1_000_000
_AMSMATH_MAX_COLS = 10  # amsmath's MaxMatrixCols: wider matrices are written as arrays
_HIGHLIGHTS = {"boxed": r"\boxed{%s}", "bold": r"\boldsymbol{%s}"}


# -- reading entries ------------------------------------------------------------------------

class _Entries:
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


class _Formatter:
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
            return str(int(value))
        if isinstance(value, (float, np.floating, sympy.Float)):
            return _float(float(value), self.precision)
        if isinstance(value, (complex, np.complexfloating)):
            return _complex(complex(value), self.precision)
        text = self.cache.get(value)
        if text is None:
            text = self.cache[value] = sympy.latex(value)
        return text


# -- layout: elision, blocks, rules ---------------------------------------------------------

def _shown(n: int, limit: int | None) -> list[int | None]:
    """Indices written along an axis of length ``n``: all, or head, ``None`` (the ellipsis)
    and tail, ``limit`` items in all."""
    if limit is None or n <= limit:
        return list(range(n))
    tail = (limit - 1) // 2
    head = limit - 1 - tail
    return [*range(head), None, *range(n - tail, n)]


def _levels(shape: Sequence[int]) -> tuple[int, ...]:
    sizes = {math.prod(shape[a + 1:]) for a in range(len(shape) - 1)}
    return tuple(sorted((s for s in sizes if s > 1), reverse=True))


def block_sizes(geom: ConvGeometry, transposed: bool = False) -> tuple[tuple[int, ...], ...]:
    """Block sizes ``(row_levels, col_levels)`` of a convolution's matrix, coarsest first.

    Rows follow ``(C_out, *output_shape)`` and columns ``(C_in, *input_shape)`` in C order:
    a rule goes after every channel (drawn double when there are finer levels) and after
    every row of an image (every plane in 3-D, ...). A 1-D single-channel matrix is one
    Toeplitz block and has none.

    Examples
    --------
    >>> from convmat.geometry import conv_geometry
    >>> block_sizes(conv_geometry((2, 2), (3, 3)))
    ((2,), (3,))
    >>> block_sizes(conv_geometry((2, 3, 2, 2), (3, 3)))
    ((4, 2), (9, 3))
    >>> block_sizes(conv_geometry((2, 2), (3, 3)), transposed=True)
    ((3,), (2,))
    """
    x, y = vector_shapes(geom, transposed)
    return _levels(y), _levels(x)


def _explicit_levels(value: object) -> tuple[int, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or value is False or value == 0:
        return ()
    values = value if isinstance(value, Sequence) else (value,)
    sizes = tuple(as_int(v, "blocks") for v in values)
    if any(v < 1 for v in sizes):
        raise ConvmatError(f"blocks={value!r} must hold positive block sizes")
    return tuple(sorted(set(sizes), reverse=True))


def _layout(matrix, shape, geometry, transposed) -> tuple[ConvGeometry, bool] | None:
    """The geometry the matrix comes from and whether it is transposed (None: unknown)."""
    explicit = geometry is not None
    if not explicit:
        geometry = getattr(matrix, "geometry", None)
        transposed = getattr(matrix, "transposed", None)
        if not isinstance(geometry, ConvGeometry):
            return None
    elif not isinstance(geometry, ConvGeometry):
        raise ConvmatError(
            f"geometry={geometry!r} is not a ConvGeometry; make one with "
            f"convmat.geometry.conv_geometry or conv_transpose_geometry"
        )
    options = [False, True] if transposed is None else [bool(transposed)]
    for t in options:
        if geometry.shape[::-1 if t else 1] == shape:
            return geometry, t
    if explicit:
        raise ConvmatError(
            f"geometry describes a {geometry.shape[0]} x {geometry.shape[1]} matrix "
            f"(transposed: {geometry.shape[1]} x {geometry.shape[0]}), not one of shape {shape}"
        )
    return None  # a ConvMatrix whose shape was changed in place


def _rules(shown: list[int | None], levels: tuple[int, ...], single: str, double: str):
    """Rule after position ``k`` of ``shown`` where a block ends between it and the next."""
    out: dict[int, str] = {}
    for k, (a, b) in enumerate(zip(shown, shown[1:])):
        if a is None or b is None or b != a + 1:
            continue
        hits = [size for size in levels if b % size == 0]
        if hits:
            out[k] = double if len(levels) > 1 and hits[0] == levels[0] else single
    return out


def _environment(cells: list[list[str]], row_rules: dict[int, str], col_rules: dict[int, str],
                 environment: str) -> str:
    """One amsmath environment, or an array inside ``\\left ... \\right`` when it needs rules
    or has more columns than amsmath's matrix environments allow."""
    ncols = len(cells[0])
    lines = []
    for i, row in enumerate(cells):
        lines.append(" & ".join(row) + (r" \\" if i < len(cells) - 1 else ""))
        if i in row_rules:
            lines.append(row_rules[i])
    body = "\n".join(lines)
    if environment != "array" and not row_rules and not col_rules and ncols <= _AMSMATH_MAX_COLS:
        return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"
    spec = "".join("c" + col_rules.get(j, "") for j in range(ncols))
    if environment == "array":
        return f"\\begin{{array}}{{{spec}}}\n{body}\n\\end{{array}}"
    array = f"\\begin{{array}}{{@{{}}{spec}@{{}}}}\n{body}\n\\end{{array}}"
    delimiters = ENVIRONMENTS[environment]
    if delimiters is None:
        return array
    return f"\\left{delimiters[0]}{array}\\right{delimiters[1]}"


def document(body: str) -> str:
    r"""A complete LaTeX document (article class, amsmath only) showing ``body``.

    ``body`` is typeset in display style and the PDF page is sized to it with half an inch
    around, so a large matrix is never cut off by the page (pdfTeX's ``\pdfpagewidth``,
    LuaTeX's ``\pagewidth``; the text height is set tall enough for any page).

    Examples
    --------
    >>> print(document("a = b"))
    \documentclass{article}
    \usepackage{amsmath}
    \pagestyle{empty}
    \setlength{\parindent}{0pt}
    \setlength{\oddsidemargin}{0pt}
    \setlength{\topmargin}{0pt}
    \setlength{\headheight}{0pt}
    \setlength{\headsep}{0pt}
    \setlength{\hoffset}{-0.5in}
    \setlength{\voffset}{-0.5in}
    \setlength{\textheight}{200in}
    \ifdefined\pdfpagewidth\else\let\pdfpagewidth\pagewidth\let\pdfpageheight\pageheight\fi
    \newsavebox{\formula}
    \begin{document}
    \savebox{\formula}{$\displaystyle
    a = b
    $}
    \pdfpagewidth=\dimexpr\wd\formula+1in\relax
    \pdfpageheight=\dimexpr\ht\formula+\dp\formula+1in+\topskip\relax
    \hsize=\wd\formula
    \usebox{\formula}
    \end{document}
    <BLANKLINE>
    """
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\pagestyle{empty}",
        *(rf"\setlength{{\{name}}}{{{value}}}" for name, value in (
            ("parindent", "0pt"), ("oddsidemargin", "0pt"), ("topmargin", "0pt"),
            ("headheight", "0pt"), ("headsep", "0pt"), ("hoffset", "-0.5in"),
            ("voffset", "-0.5in"), ("textheight", "200in"))),
        r"\ifdefined\pdfpagewidth\else\let\pdfpagewidth\pagewidth"
        r"\let\pdfpageheight\pageheight\fi",  # lualatex names them \pagewidth, \pageheight
        r"\newsavebox{\formula}",
        r"\begin{document}",
        r"\savebox{\formula}{$\displaystyle",
        body,
        r"$}",
        r"\pdfpagewidth=\dimexpr\wd\formula+1in\relax",
        r"\pdfpageheight=\dimexpr\ht\formula+\dp\formula+1in+\topskip\relax",
        r"\hsize=\wd\formula",
        r"\usebox{\formula}",
        r"\end{document}",
        "",
    ])


# -- the public functions -------------------------------------------------------------------

def _check_limit(value: object, name: str) -> int | None:
    if value is None:
        return None
    value = as_int(value, name)
    if value < 2:
        raise ConvmatError(f"{name}={value} must be at least 2 (one entry and the ellipsis)")
    return value


def _check_precision(value: object) -> int:
    value = as_int(value, "precision")
    if not 1 <= value <= 17:
        raise ConvmatError(f"precision={value} must be between 1 and 17")
    return value


def _check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ConvmatError(f"{name}={value!r} is not one of {choices}")
    return value


def _vector_entries(value, n: int, layout, axis: int, base: int, name: str) -> Callable:
    """Entry ``k`` of the x (axis 1) or y (axis 0) vector: a symbol named ``value`` (indexed
    by the geometry when known) or the given entries."""
    if isinstance(value, str):
        if not value:
            raise ConvmatError(f"{name}={value!r} must be a name or the entries")
        shape = (n,) if layout is None else vector_shapes(*layout)[1 - axis]
        return lambda k: element(value, shape, k, base)
    entries = list(np.asarray(value, dtype=object).ravel())
    if len(entries) != n:
        what = "columns" if axis == 1 else "rows"
        raise ConvmatError(f"{name} has {len(entries)} entries but the matrix has {n} {what}")
    return entries.__getitem__


def _cells(entries: _Entries, rows: list[int | None], cols: list[int | None], fmt: _Formatter,
           zero_text: str, highlight_row: int | None = None,
           highlight: str = "boxed") -> list[list[str]]:
    """The written cells: entries of ``rows x cols`` (``None``: the ellipsis), reading only
    those entries."""
    stored = entries.block([r for r in rows if r is not None],
                           [c for c in cols if c is not None])
    cells: list[list[str]] = []
    i = 0
    for r in rows:
        line, j = [], 0
        for c in cols:
            if r is None or c is None:
                line.append(r"\ddots" if r is None and c is None
                            else r"\vdots" if r is None else r"\cdots")
                continue
            value = stored.get((i, j))
            text = zero_text if value is None else fmt(value)
            if r == highlight_row and value is not None:
                text = _HIGHLIGHTS[highlight] % text
            line.append(text)
            j += 1
        i += r is not None
        cells.append(line)
    return cells


def _vector(entry: Callable, shown: list[int | None], rules: dict[int, str], fmt: _Formatter,
            environment: str, marked: set[int], highlight: str) -> str:
    cells = []
    for k in shown:
        if k is None:
            cells.append([r"\vdots"])
        else:
            text = fmt(entry(k))
            cells.append([_HIGHLIGHTS[highlight] % text if k in marked else text])
    return _environment(cells, rules, {}, environment)


def to_latex(
    matrix,
    *,
    environment: Environment = "bmatrix",
    blocks: Blocks = "auto",
    geometry: ConvGeometry | None = None,
    transposed: bool | None = None,
    zero: ZeroStyle = "0",
    precision: int = 4,
    max_rows: int | None = 40,
    max_cols: int | None = 40,
    highlight_row: int | None = None,
    highlight: Literal["boxed", "bold"] = "boxed",
    x: str | Sequence | None = None,
    y: str | Sequence | None = None,
    base: int = 0,
    standalone: bool = False,
) -> str:
    r"""LaTeX of a SciPy sparse, numpy or sympy matrix (amsmath).

    Parameters
    ----------
    matrix : scipy sparse array/matrix, numpy array or sympy matrix
        What to write. A 1-D array is written as a column.
    environment : {"bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"}
        The amsmath environment. With block rules, or with more than 10 columns (amsmath's
        limit for its matrix environments), the same delimiters are drawn around an
        ``array`` (``\left[\begin{array}{@{}c|c@{}} ... \end{array}\right]``). ``"array"``
        is a bare array without delimiters.
    blocks : "auto", None, or (row_blocks, col_blocks)
        Rules between blocks. ``"auto"``: from the convolution's geometry when known (a
        :class:`~convmat.symbolic.ConvMatrix`, or ``geometry=``), else none. A pair gives the
        sizes: each an int (0 for none) or a sequence of sizes, coarsest drawn double
        (``((16, 4), 4)``). ``None`` draws none.
    geometry : ConvGeometry, optional
        The geometry a numeric matrix comes from (:func:`convmat.geometry.conv_geometry` or
        :func:`~convmat.geometry.conv_transpose_geometry`), for automatic blocks and
        multi-indexed vector names.
    transposed : bool, optional
        Whether ``matrix`` is the transpose of ``geometry``'s matrix; inferred from the shape
        when omitted.
    zero : {"0", "cdot", "blank"}
        How entries that are not stored print (numpy: entries equal to 0). Stored zeros of a
        sparse matrix (taps whose weight is 0) print as ``0``.
    precision : int
        Significant digits of floating-point entries; integers print as integers.
    max_rows, max_cols : int or None
        Write at most this many rows and columns, the ellipsis included (the middle ones are
        replaced by ``\vdots``, ``\cdots``, ``\ddots``); ``None`` writes all.
    highlight_row : int, optional
        Row whose stored entries (the kernel's window) are highlighted; with ``x``, so are
        the input entries it touches and, with ``y``, its output.
    highlight : {"boxed", "bold"}
        ``\boxed{...}`` or ``\boldsymbol{...}`` (both amsmath).
    x, y : str or sequence, optional
        Also write the input vector after the matrix (``A x``) and the output vector before
        it (``y = A x``): a name (symbols ``x_{i,j}`` indexed by the geometry, flat ``x_{7}``
        without one) or the entries (numbers, sympy expressions or LaTeX strings).
    base : int
        First index of the vector symbols.
    standalone : bool
        Return a complete document (see :func:`document`) instead of a math fragment.

    Returns
    -------
    str

    Notes
    -----
    Only the written entries are read. Written size: ``min(rows, max_rows)`` by
    ``min(cols, max_cols)``; with ``r = max_rows`` the rows written are the first
    :math:`r - 1 - \lfloor (r-1)/2 \rfloor`, a ``\vdots`` row and the last
    :math:`\lfloor (r-1)/2 \rfloor` (columns alike). Rules are drawn after row ``i`` when
    ``(i + 1)`` is a multiple of a block size and both neighbours are written.

    Examples
    --------
    >>> from convmat import symbolic
    >>> print(to_latex(symbolic.conv_matrix((2, 2), (3, 3)), zero="cdot"))
    \left[\begin{array}{@{}ccc|ccc|ccc@{}}
    w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot & \cdot \\
    \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot \\
    \hline
    \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot \\
    \cdot & \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1}
    \end{array}\right]
    >>> import numpy as np
    >>> print(to_latex(np.eye(100, dtype=int), max_rows=4, max_cols=4))
    \begin{bmatrix}
    1 & 0 & \cdots & 0 \\
    0 & 1 & \cdots & 0 \\
    \vdots & \vdots & \ddots & \vdots \\
    0 & 0 & \cdots & 1
    \end{bmatrix}
    """
    with error_context("to_latex", shape=getattr(matrix, "shape", None)):
        entries = _Entries(matrix)
        n_rows, n_cols = entries.shape
        environment = _check_choice(environment, "environment", ENVIRONMENTS)
        zero_text = ZERO_STYLES[_check_choice(zero, "zero", ZERO_STYLES)]
        highlight = _check_choice(highlight, "highlight", _HIGHLIGHTS)
        precision = _check_precision(precision)
        base = as_int(base, "base")
        rows = _shown(n_rows, _check_limit(max_rows, "max_rows"))
        cols = _shown(n_cols, _check_limit(max_cols, "max_cols"))
        if len(rows) * len(cols) > MAX_CELLS:
            raise ConvmatError(
                f"writing all {n_rows} x {n_cols} entries makes more than {MAX_CELLS:,} cells; "
                f"set max_rows and max_cols to elide the middle"
            )
        marked: set[int] = set()
        if highlight_row is not None:
            highlight_row = as_int(highlight_row, "highlight_row")
            if not 0 <= highlight_row < n_rows:
                raise ConvmatError(f"highlight_row={highlight_row} is not a row of the "
                                   f"{n_rows}-row matrix")
            if highlight_row not in rows:
                raise ConvmatError(
                    f"highlight_row={highlight_row} is elided by max_rows={max_rows}; raise "
                    f"max_rows or write a slice of the matrix around that row"
                )
            marked = entries.row_columns(highlight_row)
        layout = _layout(matrix, (n_rows, n_cols), geometry, transposed)
        if isinstance(blocks, str):
            _check_choice(blocks, "blocks", ("auto",))
            row_levels, col_levels = block_sizes(*layout) if layout else ((), ())
        elif blocks is None or blocks is False:
            row_levels, col_levels = (), ()
        elif isinstance(blocks, Sequence) and len(blocks) == 2:
            row_levels, col_levels = (_explicit_levels(b) for b in blocks)
        else:
            raise ConvmatError(f"blocks={blocks!r} is not 'auto', None or a pair "
                               f"(row_blocks, col_blocks)")
        row_rules = _rules(rows, row_levels, r"\hline", r"\hline\hline")
        col_rules = _rules(cols, col_levels, "|", "||")

        fmt = _Formatter(precision)
        cells = _cells(entries, rows, cols, fmt, zero_text, highlight_row, highlight)
        parts = [_environment(cells, row_rules, col_rules, environment)]
        if x is not None:
            xs = _vector_entries(x, n_cols, layout, 1, base, "x")
            parts.append(_vector(xs, cols, _rules(cols, col_levels, r"\hline", r"\hline\hline"),
                                 fmt, environment, marked, highlight))
        if y is not None:
            ys = _vector_entries(y, n_rows, layout, 0, base, "y")
            mark_y = {highlight_row} if highlight_row is not None else set()
            parts[:0] = [_vector(ys, rows, row_rules, fmt, environment, mark_y, highlight), "="]
        body = "\n".join(parts)
        return document(body) if standalone else body


def equations_to_latex(equations, *, max_rows: int | None = None,
                       standalone: bool = False) -> str:
    r"""Equations (e.g. the per-output sums of ``y = A x``) as an amsmath ``aligned`` block.

    Parameters
    ----------
    equations : iterable of sympy.Eq, or a MatrixProduct
        A :class:`~convmat.symbolic.MatrixProduct` stands for its ``.sums()``.
    max_rows : int or None
        Write at most this many lines, the middle ones replaced by ``\vdots``.
    standalone : bool
        Return a complete document.

    Examples
    --------
    >>> from convmat import symbolic
    >>> p = symbolic.product(symbolic.conv_matrix((2,), (3,)))
    >>> print(equations_to_latex(p))
    \begin{aligned}
    y_{0} &= w_{0} x_{0} + w_{1} x_{1} \\
    y_{1} &= w_{0} x_{1} + w_{1} x_{2}
    \end{aligned}
    """
    with error_context("equations_to_latex"):
        if isinstance(equations, MatrixProduct):
            equations = equations.sums()
        equations = list(equations)
        if not equations or not all(isinstance(e, sympy.Eq) for e in equations):
            raise ConvmatError("equations must be a non-empty sequence of sympy.Eq")
        lines = []
        for k in _shown(len(equations), _check_limit(max_rows, "max_rows")):
            if k is None:
                lines.append(r"&\vdots")
            else:
                eq = equations[k]
                lines.append(f"{sympy.latex(eq.lhs)} &= {sympy.latex(eq.rhs)}")
        body = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
        return document(body) if standalone else body
