r"""Publication-ready LaTeX for matrices: SciPy sparse, numpy and sympy.

:func:`to_latex` writes a matrix as an amsmath environment, optionally with

- block rules that make the (doubly-)block-Toeplitz structure visible: given as sizes, or
  found automatically from the convolution's geometry (the matrices of
  :func:`convmat.conv_matrix` and :func:`convmat.symbolic.conv_matrix` carry it; for other
  matrices pass ``geometry=``);
- Kong & Lucey results (numeric or symbolic): the strided matrix, the permuted one with
  rules between the phases, and the sum of unit-stride products (``part=``);
- elision of large matrices: at most ``max_rows`` rows and ``max_cols`` columns are written,
  the middle replaced by ``\vdots``, ``\cdots`` and ``\ddots``;
- one highlighted row (the sliding window) and, with ``x=``, the input entries it touches,
  or every row in turn on the slides of a beamer frame (``overlay="rows"``);
- the input and output vectors, giving ``y = A x``, as columns or as grids (``grid=True``);
- a standalone document cut to the formula that compiles with ``pdflatex``.

Every fragment renders in pdfLaTeX, KaTeX and MathJax 3 (no ``@{}`` column specs, only
macros the three share); rows are loosened (``\arraystretch``) where rules are drawn.

Only the entries that are written are read, so the cost is O(nnz) for sparse input no matter
how large the matrix is. What is written (rows, columns, rules, highlights, the parts of a
Kong & Lucey result) is decided by :mod:`convmat.layout`, independent of the format; the
cells, rules and environments are spelled by one writer, whatever the input. The writer of
each result type is found in one table (:data:`WRITERS`, by type). :func:`equations_to_latex`
writes per-output sums (:meth:`convmat.symbolic.MatrixProduct.sums`) as an ``aligned``
block; :func:`summary_latex` a network summary as a ``tabular``.

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

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

import numpy as np

from ..errors import ConvmatError, brief, error_context
from ..geometry import ConvGeometry
from ..layout import ByType, block_sizes, elide, labels as _labels
from ..striding import KongLucey
from ._macros import DELIMITERS, HIGHLIGHT_MACROS, ZERO_TEXT, subscript
from ._beamer import check_title, kong_lucey_frames, matrix_frame
from ._pages import beamer_document, beamer_frame, document  # noqa: F401 (always exposed)
from ._tables import summary_latex
from ._tikz import tikz_picture
from ._writer import Style, check_limit, check_part_free, style, write_kong_lucey, write_matrix

# names this module has always exposed, kept importable from here
import math  # noqa: E402, F401, I001
from collections.abc import Callable  # noqa: E402, F401
from dataclasses import dataclass  # noqa: E402, F401

from .._choices import KONG_LUCEY_PARTS, OVERLAYS  # noqa: E402, F401
from .._padmap import index_map  # noqa: E402, F401
from .._validate import as_int, check_choice  # noqa: E402, F401
from ..geometry import vector_shapes  # noqa: E402, F401
from ..layout import MAX_CELLS, Entries, levels_of  # noqa: E402, F401
from ._cells import (  # noqa: E402, F401
    Formatter, Mark, overlay_spec, rules_at, write_cells, write_environment, write_grid,
    write_vector,
)
from ._writer import own_base  # noqa: E402, F401

__all__ = ["WRITERS", "beamer_document", "block_sizes", "document", "equations_to_latex",
           "summary_latex", "tikz", "to_latex"]

#: the LaTeX of each choice, by name (kept under the names this module always exposed)
ENVIRONMENTS, ZERO_STYLES, HIGHLIGHTS = DELIMITERS, ZERO_TEXT, HIGHLIGHT_MACROS
name_of = subscript

Environment = Literal["bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"]
ZeroStyle = Literal["0", "cdot", "blank"]
Blocks = Union[str, None, bool, tuple]

#: row height of a display with rules or frames, a multiple of LaTeX's (``\\arraystretch``):
#: loose enough that a rule clears the subscripts above it and a frame fits in its row
SPACING = 1.3
_RULED = re.compile(r"\\hline|\\boxed|\\begin\{array\}\{[^}]*\|")


# -- one writer per result type --------------------------------------------------------------

def _write_matrix(matrix: object, style: Style, *, part: object, geometry: ConvGeometry | None,
                  transposed: bool | None, x: object, y: object) -> str:
    if part is not None:
        raise ConvmatError(f"part={brief(part)} applies to Kong & Lucey results only, not "
                           f"to a {type(matrix).__name__}")
    return write_matrix(matrix, style, geometry, transposed, x, y)


def _write_kong_lucey(kl: KongLucey, style: Style, *, part: object,
                      geometry: ConvGeometry | None, transposed: bool | None, x: object,
                      y: object) -> str:
    check_part_free("geometry", geometry)
    check_part_free("transposed", transposed)
    return write_kong_lucey(kl, "all" if part is None else part, style, x, y)


def _write_product(product: Any, style: Style, *, part: object,  # a MatrixProduct (sympy)
                   geometry: ConvGeometry | None, transposed: bool | None, x: object,
                   y: object) -> str:
    """``y = A x`` of a :class:`~convmat.symbolic.MatrixProduct` (its own vectors unless
    ``x``/``y`` say otherwise)."""
    return _write_matrix(product.matrix, style, part=part, geometry=geometry,
                         transposed=transposed, x=list(product.x) if x is None else x,
                         y=list(product.y) if y is None else y)


#: the writer of each result type, found along the type's MRO; every other type is read as
#: a matrix (SciPy sparse, numpy, sympy). Register a new result type here.
WRITERS = ByType("to_latex", default=_write_matrix)
WRITERS.register(KongLucey, _write_kong_lucey)
WRITERS.register("convmat.symbolic:MatrixProduct", _write_product)


def to_latex(
    matrix: object,
    *,
    part: str | None = None,
    environment: Environment = "bmatrix",
    blocks: Blocks = "auto",
    geometry: ConvGeometry | None = None,
    transposed: bool | None = None,
    zero: ZeroStyle = "0",
    precision: int = 4,
    max_rows: int | None = 40,
    max_cols: int | None = 40,
    highlight_row: int | None = None,
    highlight: Literal["boxed", "bold", "color"] | None = None,
    x: str | Sequence | None = None,
    y: str | Sequence | None = None,
    base: int | None = None,
    spacing: float | None = None,
    grid: bool = False,
    overlay: Literal["rows", "cols"] | None = None,
    beamer: bool = False,
    title: str | None = None,
    standalone: bool = False,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    **unknown: object,
) -> str:
    r"""LaTeX of a SciPy sparse, numpy or sympy matrix (amsmath).

    Parameters
    ----------
    matrix : scipy sparse array/matrix, numpy array, sympy matrix, Kong & Lucey result, or
        :class:`~convmat.symbolic.MatrixProduct`
        What to write. A 1-D array is written as a column. A result of
        :func:`convmat.kong_lucey` or :func:`convmat.symbolic.kong_lucey` is written as the
        display(s) ``part`` names, every option applying to each matrix in it. A product
        (:func:`convmat.symbolic.product`) is written as ``y = A x`` with its own vectors
        unless ``x``/``y`` are given. The writer of each type is found in :data:`WRITERS`.
    part : {"all", "strided", "permuted", "sum"}, optional
        Kong & Lucey results only (default ``"all"``). ``"strided"``: :math:`y = A x` on the
        padded input; ``"permuted"``: :math:`y = [T_0 \mid T_1 \mid \cdots] [x_0; x_1;
        \ldots]`, rules between the phases, each phase's columns elided on their own
        (``max(2, max_cols // prod(stride))`` of them); ``"sum"``: :math:`y = T_0 x_0 + T_1
        x_1 + \cdots` (blocks without entries left out); ``"all"``: the three in a
        ``gathered`` block.
    environment : {"bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix", "array"}
        The amsmath environment. With block rules, or with more than 10 columns (amsmath's
        limit for its matrix environments), the same delimiters are drawn around an
        ``array`` (``\left[\begin{array}{c|c} ... \end{array}\right]``). ``"array"`` is a
        bare array without delimiters. Every environment renders in pdfLaTeX, KaTeX and
        MathJax 3.
    blocks : "auto", None, or (row_blocks, col_blocks)
        Rules between blocks. ``"auto"``: from the convolution's geometry when known (a
        :class:`~convmat.symbolic.ConvMatrix`, or ``geometry=``), else none. A pair gives the
        sizes: each an int (0 for none) or a sequence of sizes, coarsest drawn double
        (``((16, 4), 4)``). ``None`` draws none.
    geometry : ConvGeometry, optional
        The geometry a numeric matrix comes from (:func:`convmat.geometry.convolution_geometry` or
        :func:`~convmat.geometry.transposed_geometry`), for automatic blocks and
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
    highlight : {"boxed", "bold", "color"}, optional
        A frame (``\boxed``, smashed so the row keeps its height and the frame clears the
        rules), ``\boldsymbol`` or ``\textcolor{red}`` (needs LaTeX's ``color`` or
        ``xcolor`` package; KaTeX and MathJax have it). Default ``"boxed"``, and ``"color"``
        (beamer's ``\alert``) with ``overlay``.
    x, y : str or sequence, optional
        Also write the input vector after the matrix (``A x``) and the output vector before
        it (``y = A x``): a name (symbols ``x_{i,j}`` indexed by the geometry, flat ``x_{7}``
        without one) or the entries (numbers, sympy expressions or LaTeX strings). A name is
        a letter or a Greek-letter macro, then letters and digits (the command line's rule);
        a LaTeX string may hold math macros (``\alpha``, ``\hat{x}_{1}``) and balanced
        braces, and is refused when it could leave the formula (``\input``, ``\def``,
        ``$``, ``%``, ``&``, ``\\``, ...). In a Kong & Lucey display the padded input is
        written with the input's own indices: a zero-padded position is ``0`` and a
        position another padding mode copies is ``\tilde{x}`` at the index it copies.
    base : int, optional
        First index of the vector symbols; by default the base the symbolic matrix was built
        with (``symbolic.conv_matrix(..., base=1)``), else 0.
    spacing : float, optional
        Row height as a multiple of LaTeX's (``\def\arraystretch{...}`` in front of the
        fragment; KaTeX reads it too, MathJax spaces rules on its own). By default 1.3 when
        the display has rules or frames (a rule then clears the subscripts above it) and
        LaTeX's own otherwise; 1 never writes the definition.
    grid : bool
        Draw the vectors as the grids they flatten (``\operatorname{vec}`` of the image,
        channels stacked with rules between), each side elided to about the square root of
        ``max_rows``/``max_cols``; needs the geometry. In a Kong & Lucey display the ``sum``
        part draws every phase input ``x_r`` as a grid and ``permuted`` keeps the column.
    overlay : {"rows"}, optional
        A beamer frame (``\begin{frame} ... \end{frame}``) in which slide ``t`` highlights
        written row ``t`` of the matrix, the entries of ``x`` it covers and ``y_t``: the
        sliding window, one step per slide. With ``standalone``, a complete beamer document.
    standalone : bool
        Return a complete document (see :func:`document`, or :func:`beamer_document` with
        ``overlay``) instead of a math fragment.
    lang : {"en", "es"}
        Language of the words written (the subtitles of a Kong & Lucey result's frames:
        "columns grouped by phase", "columnas agrupadas por fase", ...), from the label
        catalogue :func:`convmat.layout.labels`.
    labels : mapping of str to str, optional
        Overrides of single words of the catalogue (e.g. ``{"permuted_display": "A Π:
        {equation}"}``; ``{equation}`` is where the formula goes), written as text.

    Raises
    ------
    ConvmatError
        An unknown option, a value out of its range, ``part`` for a plain matrix,
        ``geometry``/``transposed`` for a Kong & Lucey result (it knows its own), or a name
        or LaTeX string in ``x``/``y`` that does not follow the rule above.

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
    \def\arraystretch{1.3}
    \left[\begin{array}{ccc|ccc|ccc}
    w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot & \cdot \\
    \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot & \cdot & \cdot \\
    \hline
    \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1} & \cdot \\
    \cdot & \cdot & \cdot & \cdot & w_{0,0} & w_{0,1} & \cdot & w_{1,0} & w_{1,1}
    \end{array}\right]
    >>> import numpy as np
    >>> import convmat
    >>> print(to_latex(convmat.kong_lucey([1, 2, 3], (5,), stride=2), part="permuted"))
    \def\arraystretch{1.3}
    \begin{bmatrix}
    y_{0} \\
    y_{1}
    \end{bmatrix}
    =
    \left[\begin{array}{ccc|cc}
    1 & 3 & 0 & 2 & 0 \\
    0 & 1 & 3 & 0 & 2
    \end{array}\right]
    \left[\begin{array}{c}
    x_{0} \\
    x_{2} \\
    x_{4} \\
    \hline
    x_{1} \\
    x_{3}
    \end{array}\right]
    >>> print(to_latex(np.eye(100, dtype=int), max_rows=4, max_cols=4))
    \begin{bmatrix}
    1 & 0 & \cdots & 0 \\
    0 & 1 & \cdots & 0 \\
    \vdots & \vdots & \ddots & \vdots \\
    0 & 0 & \cdots & 1
    \end{bmatrix}
    """
    with error_context("to_latex", shape=getattr(matrix, "shape", None)):
        if unknown:
            raise ConvmatError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {sorted(unknown)}; to_latex "
                f"takes {', '.join(_OPTIONS)}"
            )
        if not isinstance(standalone, (bool, np.bool_)):
            raise ConvmatError(f"standalone={brief(standalone)} must be True or False")
        if transposed is not None and not isinstance(transposed, (bool, np.bool_)):
            raise ConvmatError(f"transposed={brief(transposed)} must be True, False or None")
        written = style(environment, blocks, zero, precision, max_rows, max_cols,
                        highlight_row, highlight, base, spacing, overlay, grid)
        if not isinstance(beamer, (bool, np.bool_)):
            raise ConvmatError(f"beamer={brief(beamer)} must be True or False")
        title = check_title(title)
        words = _labels(lang, labels, "to_latex")
        if written.overlay is not None or beamer:
            if isinstance(matrix, KongLucey):
                check_part_free("geometry", geometry)
                check_part_free("transposed", transposed)
                frames = kong_lucey_frames(matrix, part, written, x, y, title, _finish, words)
            else:
                frames = matrix_frame(
                    lambda st: _finish(WRITERS(matrix, st, part=part, geometry=geometry,
                                               transposed=transposed, x=x, y=y), st),
                    written, title, x is not None and not grid)
            return beamer_document(frames) if standalone else frames
        if title is not None:
            raise ConvmatError(f"title={brief(title)} names a beamer frame: pass beamer=True "
                               f"or overlay=")
        body = WRITERS(matrix, written, part=part, geometry=geometry, transposed=transposed,
                       x=x, y=y)
        body = _finish(body, written)
        return document(body) if standalone else body


def _finish(body: str, written: Style) -> str:
    """``body`` with its row height (``\\arraystretch``) in front when not LaTeX's own."""
    spacing = written.spacing
    if spacing is None:  # loosen the rows only where a rule or a frame could touch them
        spacing = SPACING if _RULED.search(body) else 1
    if spacing != 1:
        body = f"\\def\\arraystretch{{{spacing:g}}}\n{body}"
    return body


_OPTIONS = ("part", "environment", "blocks", "geometry", "transposed", "zero", "precision",
            "max_rows", "max_cols", "highlight_row", "highlight", "x", "y", "base", "spacing",
            "grid", "overlay", "beamer", "title", "standalone", "lang", "labels")


def tikz(picture: Any, *, standalone: bool = True, beamer: bool = False) -> str:
    r"""Readable TikZ of a picture: a ``tikzpicture`` of cells, values and labels.

    Parameters
    ----------
    picture : convmat.layout.Picture
        What a picture of :mod:`convmat.figures` shows, format-neutral (its
        ``picture_layout()``); :func:`convmat.figures.save` with a ``.tex`` path calls this.
    standalone : bool
        A complete document (``article``, pages cut to the picture with pdfTeX's page
        size; one page per frame of an animation) that compiles with ``pdflatex`` and the
        ``tikz`` package only. ``False``: the colours, the styles and the ``tikzpicture``
        environments alone, one per frame, for ``\input`` (load ``tikz`` in the preamble).
    beamer : bool
        One beamer frame holding one ``tikzpicture`` whose frame-dependent part is
        ``\only<t>{...}`` for every frame ``t = 1, 2, ...`` (a whole beamer document when
        ``standalone``; the frame alone otherwise), sized to fit the frame.

    Returns
    -------
    str

    Notes
    -----
    One unit is one cell (``x`` to the right, ``y`` down); a cell is
    ``\node[cm-<role>] at (x + 1/2, y + 1/2) {value};`` with one style per role (input,
    padding, kernel, output, ...) and every colour named once (``\definecolor``). The cell
    size is at most 0.75 cm and shrinks to fit 25 × 18 cm (a page) or a beamer frame.

    Examples
    --------
    >>> from convmat.layout import Cells, CellStyle, Picture
    >>> pic = Picture("sliding", 2, 1, {"input": "CFE7F5", "edge": "0072B2",
    ...               "text": "1A1A1A", "grid": "505050"}, {"input": CellStyle("input", "edge")},
    ...               cells=(Cells("input", ((0, 0), (1, 0)), ("3", "4")),))
    >>> tex = tikz(pic, standalone=False)
    >>> print(tex.splitlines()[-2])
    \node[cm-input] at (1.5,0.5) {4};
    """
    with error_context("tikz", picture=type(picture).__name__):
        return tikz_picture(picture, standalone=standalone, beamer=beamer)


def equations_to_latex(equations: Any, *,  # sympy.Eq(s), or anything with .sums()
                       max_rows: int | None = None,
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
    import sympy

    with error_context("equations_to_latex"):
        if callable(getattr(equations, "sums", None)):  # a MatrixProduct
            equations = equations.sums()
        if isinstance(equations, sympy.Eq):
            equations = [equations]
        if not isinstance(standalone, (bool, np.bool_)):
            raise ConvmatError(f"standalone={brief(standalone)} must be True or False")
        try:
            equations = list(equations)
        except TypeError:
            equations = []
        if not equations or not all(isinstance(e, sympy.Eq) for e in equations):
            raise ConvmatError("equations must be a non-empty sequence of sympy.Eq")
        lines = []
        for k in elide(len(equations), check_limit(max_rows, "max_rows")):
            if k is None:
                lines.append(r"&\vdots")
            else:
                eq = equations[k]
                lines.append(f"{sympy.latex(eq.lhs)} &= {sympy.latex(eq.rhs)}")
        body = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
        return document(body) if standalone else body


def _lazy_element(name, shape, flat, base=0):
    """The sympy symbol at C-order position ``flat`` of an array of symbols of ``shape``
    (:mod:`convmat.symbolic`'s naming)."""
    import sympy

    return sympy.Symbol(subscript(name, np.unravel_index(flat, tuple(shape)), base))


def __getattr__(name: str) -> Any:
    """Names this module exposed that need sympy, imported only when asked for."""
    if name == "sympy":
        import sympy

        return sympy
    if name == "MatrixProduct":
        from ..symbolic import MatrixProduct

        return MatrixProduct
    if name == "element":
        return _lazy_element
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "MatrixProduct", "element", "sympy"])
