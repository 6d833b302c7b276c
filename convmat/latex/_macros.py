r"""Every LaTeX spelling of the package's choices, in one table each: the delimiters of the
environments, how a structural zero prints, the highlight macros, the rules, and a symbol's
subscripted name (``w_{0,1}``).

The choice *names* live in :mod:`convmat._choices` (validators and the command line read
them); the LaTeX they stand for lives here, and a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["COL_RULES", "DELIMITERS", "HIGHLIGHT_MACROS", "ROW_RULES", "ZERO_TEXT",
           "ellipsis", "subscript"]

#: LaTeX environment -> (left, right) delimiter for ``\left ... \right`` (None: no delimiters)
DELIMITERS: dict[str, tuple[str, str] | None] = {
    "bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "Bmatrix": (r"\{", r"\}"),
    "vmatrix": ("|", "|"), "Vmatrix": (r"\|", r"\|"), "matrix": None, "array": None,
}
#: how an entry that is not stored (a structural zero) prints
ZERO_TEXT: dict[str, str] = {"0": "0", "cdot": r"\cdot", "blank": ""}
#: how a highlighted entry prints: a frame that keeps the row height (amsmath), bold (amsmath)
#: or colour (``\textcolor``: LaTeX's color package, KaTeX, MathJax)
HIGHLIGHT_MACROS: dict[str, str] = {"boxed": r"\smash{\boxed{\smash[b]{%s}}}",
                                    "bold": r"\boldsymbol{%s}", "color": r"\textcolor{red}{%s}"}
#: a rule of weight 1 (single) or 2 (double, the coarsest of several block levels)
ROW_RULES: dict[int, str] = {1: r"\hline", 2: r"\hline\hline"}
COL_RULES: dict[int, str] = {1: "|", 2: "||"}


def ellipsis(row: int | None, col: int | None) -> str:
    """The cell where an elided row (``None``) or column meets the rest."""
    if row is None:
        return r"\ddots" if col is None else r"\vdots"
    return r"\cdots"


def subscript(name: str, index: Sequence[int], base: int = 0) -> str:
    r"""``name`` subscripted by every index of ``index`` (shifted by ``base``): the name of
    the symbols of :mod:`convmat.symbolic`, spelled without making a symbol.

    Examples
    --------
    >>> subscript("x", (1, 2))
    'x_{1,2}'
    >>> subscript(r"\tilde{x}", (0,), base=1)
    '\\tilde{x}_{1}'
    """
    return f"{name}_{{{','.join(str(int(i) + base) for i in index)}}}"
