"""The cell writer behind :func:`convmat.to_latex`: values, cells, rules and amsmath
environments, in LaTeX.

:mod:`convmat.layout` decides *what* is written (rows, columns, rules, highlights, vectors),
independent of the format; these functions spell it in LaTeX.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..layout import Axis, Entries, grid_axes
from ..layout import rules_at as _rule_weights
from ._macros import DELIMITERS, ROW_RULES, ellipsis

__all__ = [
    "Formatter", "Mark", "overlay_spec", "rules_at", "write_cells", "write_environment",
    "write_grid", "write_vector",
]

#: how a highlighted cell is written: ``mark(row, col, text)`` for a matrix cell,
#: ``mark(k, 0, text)`` for entry ``k`` of a vector (returns ``text`` when not highlighted)
Mark = Callable[[int, int, str], str]

AMSMATH_MAX_COLS = 10  # amsmath's MaxMatrixCols: wider matrices are written as arrays


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
        if isinstance(value, (bool, np.bool_, int, np.integer)):
            return _integer(int(value))
        if isinstance(value, (float, np.floating)):
            return _float(float(value), self.precision)
        if isinstance(value, (complex, np.complexfloating)):
            return _complex(complex(value), self.precision)
        text = self.cache.get(value)
        if text is None:
            text = self.cache[value] = _sympy_entry(value, self.precision)
        return text


def _sympy_entry(value: object, precision: int) -> str:
    """A sympy number or expression (or anything else sympy can print): imported only here,
    so writing a numeric matrix never loads sympy."""
    import sympy

    if isinstance(value, sympy.Integer):
        return _integer(int(value))
    if isinstance(value, sympy.Float):
        return _float(float(value), precision)
    return sympy.latex(value)


def rules_at(shown: Sequence[int | None], levels: tuple[int, ...], single: str,
             double: str) -> dict[int, str]:
    """Rule after position ``k`` of ``shown`` where a block ends between it and the next
    (:func:`convmat.layout.rules_at`), spelled ``single`` or ``double``."""
    return {k: double if w == 2 else single for k, w in _rule_weights(shown, levels).items()}


def spelled(axis: Axis, rules: dict[int, str]) -> dict[int, str]:
    """The rules of ``axis`` spelled by weight (:data:`ROW_RULES` or :data:`COL_RULES`)."""
    return {k: rules[w] for k, w in axis.rules.items()}


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
    delimiters = DELIMITERS[environment]
    if delimiters is None:
        return array
    return f"\\left{delimiters[0]}{array}\\right{delimiters[1]}"


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
                line.append(ellipsis(r, c))
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
        if k is None:  # ``mark`` may highlight the ellipsis (key None) for what it hides
            cells.append([r"\vdots" if mark is None else mark(None, 0, r"\vdots")])  # type: ignore
        else:
            text = fmt(entry(k))
            cells.append([text if mark is None else mark(k, 0, text)])
    return write_environment(cells, rules, {}, environment)


def write_grid(entry: Callable, shape: Sequence[int], fmt: Formatter, environment: str,
               mark: Mark | None, limits: tuple[int | None, int | None]) -> str:
    r"""A vector of ``shape`` (C order) written as the grid it flattens, ``\operatorname{vec}``
    in front (:func:`convmat.layout.grid_axes`): the last axis along a row, the others down
    the rows with a rule between channels (or planes); each axis elided to ``limits``."""
    width = tuple(shape)[-1]
    rows, cols = grid_axes(shape, limits)
    cells = []
    for r in rows.shown:
        line = []
        for c in cols.shown:
            if r is None or c is None:
                line.append(ellipsis(r, c))
                continue
            k = r * width + c
            text = fmt(entry(k))
            line.append(text if mark is None else mark(k, 0, text))
        cells.append(line)
    return r"\operatorname{vec}" + write_environment(cells, spelled(rows, ROW_RULES), {},
                                                      environment)


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
