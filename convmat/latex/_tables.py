r"""Tables in LaTeX: a network summary (:func:`convmat.summary`) as a ``tabular``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConvmatError, brief
from ..layout import summary_cells
from ._pages import document
from ._strings import escape_text

__all__ = ["summary_latex"]


def _numbers(cell: str) -> str:
    r"""A numeric cell: thousands commas kept tight (``{,}``), ``≤`` and the ``x`` of shapes
    as math."""
    text = escape_text(cell).replace(",", "{,}")
    return text.replace("≤", r"$\le$").replace("x", r"$\times$")


def summary_latex(s: Any, *, standalone: bool = False) -> str:
    r"""A network summary as a LaTeX ``tabular`` (plain ``\hline`` rules, no packages
    needed); with ``standalone=True`` a complete document that compiles with pdflatex.
    Layer names and types are escaped (:func:`escape_text`): any name compiles.

    Examples
    --------
    >>> import convmat
    >>> print(summary_latex(convmat.summary("a_{1}: conv 2 3", (5,))))
    \begin{tabular}{llrrrrrr}
    \hline
    layer & type & output & params & matrix & stored & density & receptive field \\
    \hline
    a\_\{1\} & Conv1d & 2$\times$3 & 8 & 6$\times$5 & 18 & 60\% & 3 \\
    \hline
    total &  &  & 8 &  &  &  &  \\
    \hline
    \end{tabular}
    """
    if not isinstance(standalone, (bool, np.bool_)):
        raise ConvmatError(f"standalone={brief(standalone)} must be True or False")
    header, rows, footer = summary_cells(s, times="x", le="≤")
    text = [name in ("layer", "type", "inputs") for name in header]  # the rest: numbers
    spec = "".join("l" if t else "r" for t in text)
    cells = [[escape_text(c) if t else _numbers(c) for t, c in zip(text, row)]
             for row in rows]
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline",
             " & ".join(escape_text(h) for h in header) + r" \\", r"\hline",
             *(" & ".join(row) + r" \\" for row in cells), r"\hline",
             " & ".join(escape_text(c).replace(",", "{,}") for c in footer) + r" \\",
             r"\hline", r"\end{tabular}"]
    body = "\n".join(lines)
    return document(body) if standalone else body
