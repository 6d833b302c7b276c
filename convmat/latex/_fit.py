r"""How large a formula comes out in a beamer frame, estimated from its LaTeX, so a frame can
elide what would be illegible instead of shrinking it.

A frame (:func:`convmat.latex.beamer_frame`) scales its formula to fill the slide: to the
frame's width or to the height left under the title, whichever is reached first (and at
most :data:`MAX_SCALE` times up). The digits come out at ``FONT * scale`` pt. This module
estimates the formula's natural size (:func:`natural_size`: the cells, columns, rows, rules,
delimiters and relation signs of the arrays the writer emits, each cell's width read from
its characters) and the scale the frame will choose (:func:`frame_scale`); the writer elides
rows and columns until that scale keeps the digits at :data:`LEGIBLE` pt or more.

The estimate errs large (cells a little wider than TeX sets them), so the frame's real scale
is at least the estimated one; the test suite compiles frames and reads the scale TeX chose
from the log (the frame writes it: ``convmat frame scale: 0.9pt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["COLSEP", "FONT", "FRAME_HEIGHT", "FRAME_WIDTH", "HEIGHT_SHARE", "LEGIBLE", "MAX_SCALE", "Size",
           "cell_width", "frame_scale", "natural_size"]

#: beamer's body font size (pt): the size of the digits before scaling
FONT = 11.0
#: smallest font size (pt) a frame may scale its digits to; past it, the writer elides
LEGIBLE = 8.0
#: the frame's text width and the share of its text height a formula may take under no
#: title, a title, and a title with a subtitle (beamer's default 128 mm x 96 mm slide: 307 pt
#: by 269 pt of text)
FRAME_WIDTH = 307.0
HEIGHT_SHARE = {0: 0.9, 1: 0.8, 2: 0.7}
FRAME_HEIGHT = {lines: share * 269.0 for lines, share in HEIGHT_SHARE.items()}
#: most a frame scales a small formula up
MAX_SCALE = 2.0
#: half the space between two columns of an array in a frame (``\arraycolsep``, pt): tighter
#: than LaTeX's 5 pt, so a wide matrix keeps a larger font
COLSEP = 2.5

_EM = FONT  # the width of an em at the body size (cmr/cmmi, about the font size)
_BASELINE = 13.6  # \baselineskip of beamer's 11 pt body (pt)
_ENV = re.compile(r"\\begin\{(array|bmatrix|pmatrix|Bmatrix|vmatrix|Vmatrix|matrix)\}"
                  r"(\{[^}]*\})?(.*?)\\end\{\1\}", re.DOTALL)
_MACRO_WIDTH = {  # in em, of the macros cells hold (everything else: one letter)
    "cdot": 0.5, "cdots": 1.2, "vdots": 0.4, "ddots": 1.2, "times": 0.9, "infty": 1.1,
    "tilde": 0.0, "hat": 0.0, "bar": 0.0, "boldsymbol": 0.0, "mathrm": 0.0, "smash": 0.0,
    "boxed": 0.3, "alert": 0.0, "textcolor": 0.0, "alt": 0.0, "operatorname": 0.0,
}


@dataclass(frozen=True)
class Size:
    """A formula's estimated natural size (pt) and the largest array in it."""

    width: float
    height: float
    rows: int
    cols: int


def _strip_overlays(text: str) -> str:
    r"""``text`` without overlay specifications (``\alert<1-3>``), colour names and the
    second branch of ``\alt`` (only one of the two is set)."""
    text = re.sub(r"<[-0-9,]+>", "", text)
    text = re.sub(r"\\textcolor\{[a-z]+\}", "", text)
    return re.sub(r"\\alt\{(.*)\}\{.*\}$", r"\1", text)


def cell_width(cell: str) -> float:
    r"""Estimated width (em) of one cell's LaTeX: digits 0.5 em, letters 0.7 em, a sign 0.9 em,
    punctuation 0.3 em, known macros their width, subscripts and superscripts at 75 %.

    Examples
    --------
    >>> round(cell_width("12"), 1), round(cell_width("w_{0,1}"), 1)
    (1.0, 1.7)
    """
    text = _strip_overlays(cell)
    width, scale, depth, scripts = 0.0, 1.0, 0, []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", text[i:])
            name = m.group(1) if m else ""
            width += scale * _MACRO_WIDTH.get(name, 0.6 if len(name) > 1 else 0.2)
            i += len(name) + 1
            continue
        if ch in "_^":
            scripts.append(depth)
            scale = 0.75
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if scripts and scripts[-1] == depth:
                scripts.pop()
                scale = 0.75 if scripts else 1.0
        elif ch.isdigit():
            width += 0.5 * scale
        elif ch.isalpha():
            width += 0.7 * scale
        elif ch in "+-=":
            width += 0.9 * scale
        elif ch in ",.;":
            width += 0.3 * scale
        i += 1
    return width


def _array_size(spec: str | None, body: str) -> tuple[float, float, int, int]:
    lines = [line.strip() for line in body.strip().split("\n")]
    rows = [line.rstrip("\\").strip() for line in lines if not line.startswith(r"\hline")]
    cells = [row.split(" & ") for row in rows]
    n_cols = max(len(row) for row in cells)
    widths = [0.0] * n_cols
    for row in cells:
        for j, cell in enumerate(row):
            widths[j] = max(widths[j], cell_width(cell))
    col_rules = 0 if spec is None else spec.count("|")
    width = sum(w * _EM + 2 * COLSEP for w in widths) + 1.5 * col_rules + 10.0  # delimiters
    return width, len(rows), len(rows), n_cols


def natural_size(body: str) -> Size:
    r"""Estimated natural size of a formula the writer emitted (at :data:`FONT` pt, with
    :data:`COLSEP`): the arrays side by side, with the relation and operator signs between
    them, as tall as the tallest array.

    Examples
    --------
    >>> import convmat
    >>> s = natural_size(convmat.to_latex(convmat.conv_matrix([1, 2], (3,))))
    >>> (s.rows, s.cols), 40 < s.width < 60
    ((2, 3), True)
    """
    stretch = 1.0
    found = re.match(r"\\def\\arraystretch\{([0-9.]+)\}", body)
    if found:
        stretch = float(found.group(1))
    width = height = 0.0
    rows = cols = 0
    rest = body
    for m in _ENV.finditer(body):
        w, n_rows, r, c = _array_size(m.group(2), m.group(3))
        width += w
        height = max(height, n_rows * stretch * _BASELINE + 4.0)
        rows, cols = max(rows, r), max(cols, c)
    rest = _ENV.sub("", body)
    width += 1.4 * _EM * (rest.count("=") + rest.count("+"))
    width += 1.8 * _EM * rest.count(r"\operatorname{vec}")
    return Size(width, height, rows, cols)


def frame_scale(size: Size, titles: int) -> float:
    """The scale a frame sets a formula of ``size`` at: to the frame's width or the height
    left under its ``titles`` (0, 1 or 2 lines: :data:`FRAME_HEIGHT`), whichever comes
    first, at most :data:`MAX_SCALE`."""
    return min(FRAME_WIDTH / size.width, FRAME_HEIGHT[titles] / size.height, MAX_SCALE)
