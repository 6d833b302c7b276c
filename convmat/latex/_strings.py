r"""Strings a user passes into LaTeX: one rule for each kind, escape or refuse with the reason.

- a *name* of symbols (``x=``, ``y=``, ``name=``): a letter or a Greek-letter macro, then
  letters and digits (:func:`convmat._validate.symbol_name`, the rule the command line and
  the symbolic builders use too); anything else is refused;
- an *entry* given as a LaTeX string (``to_latex(A, x=[r"\alpha", ...])``): math with
  balanced braces and only math macros (:data:`MATH_MACROS`); a file, definition or job
  command (``\input``, ``\def``, ``\write``, ...), an unbalanced brace, ``$ % # & \\``,
  ``^^`` or a line break is refused;
- free *text* (a layer's name in a table): every special character escaped
  (:func:`escape_text`).
"""

from __future__ import annotations

import re

from .._validate import GREEK, symbol_name
from ..errors import ConvmatError, brief

__all__ = ["MATH_MACROS", "check_math", "check_name", "escape_text", "math_entries"]

#: the macros an entry given as a LaTeX string may use: letters, accents, fonts, fractions,
#: operators, relations, arrows, delimiters, spacing, functions
MATH_MACROS: frozenset[str] = frozenset(GREEK) | frozenset("""
    varsigma varrho varpi digamma ell hbar imath jmath aleph Re Im wp partial nabla infty
    prime emptyset varnothing top bot angle
    hat widehat tilde widetilde bar overline underline vec dot ddot dddot breve check acute
    grave mathring overrightarrow overleftarrow overbrace underbrace
    mathbf mathrm mathit mathsf mathtt mathcal mathbb mathfrak mathscr mathnormal boldsymbol
    operatorname text textrm textit textbf textsf texttt textnormal mbox
    frac dfrac tfrac cfrac sqrt binom dbinom tbinom left right middle big Big bigg Bigg bigl
    bigr Bigl Bigr biggl biggr Biggl Biggr
    cdot cdots ldots vdots ddots dots dotsc dotsb times div pm mp ast star circ bullet oplus
    ominus otimes oslash odot sum prod coprod int iint iiint oint bigoplus bigotimes bigcup
    bigcap wedge vee cup cap setminus neg lnot land lor
    le leq ge geq ne neq lt gt ll gg approx equiv sim simeq cong propto in notin ni subset
    subseteq supset supseteq mid parallel perp vdash models prec succ preceq succeq
    to gets rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow mapsto
    longrightarrow longleftarrow longmapsto uparrow downarrow implies iff forall exists nexists
    langle rangle lfloor rfloor lceil rceil vert Vert lvert rvert lVert rVert backslash
    quad qquad enspace thinspace
    sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh exp log ln lg min max sup inf
    lim liminf limsup det dim ker arg deg gcd Pr hom sgn mod bmod pmod
    boxed smash phantom vphantom hphantom overset underset stackrel color textcolor
    """.split())

_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([{}$%#&\n\r]|\^\^)", re.DOTALL)
_CONTROL_SYMBOLS = frozenset(",;:! {}|_%#&$")


def check_name(value: object, name: str) -> str:
    """A name of symbols written into LaTeX (the package's one rule)."""
    return symbol_name(value, name)


def check_math(text: str, name: str) -> str:
    r"""``text`` when it is safe to write into a LaTeX formula as it is.

    Examples
    --------
    >>> check_math(r"\tilde{x}_{1}", "x")
    '\\tilde{x}_{1}'
    >>> check_math(r"\input{secret}", "x")
    Traceback (most recent call last):
    ...
    convmat.errors.ConvmatError: x entry '\\input{secret}' uses \input, which is not a math macro (an entry given as a string is written into LaTeX as it is; give a number, a sympy expression, or math such as \alpha or \hat{x}_{1})
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        macro, special = match.groups()
        reason = None
        if macro is not None:
            if (len(macro) > 1 or macro.isalpha()) and macro not in MATH_MACROS:
                reason = f"uses \\{macro}, which is not a math macro"
            elif len(macro) == 1 and not macro.isalpha() and macro not in _CONTROL_SYMBOLS:
                reason = f"holds \\{macro}, which is not a math control symbol"
        elif special == "{":
            depth += 1
        elif special == "}":
            depth -= 1
            if depth < 0:
                reason = "closes a brace it did not open"
        elif special in "\n\r":
            reason = "holds a line break (an empty line ends the formula)"
        else:
            reason = f"holds {special!r}, which LaTeX reads outside the formula"
        if reason:
            raise ConvmatError(
                f"{name} entry {brief(text)} {reason} (an entry given as a string is written "
                f"into LaTeX as it is; give a number, a sympy expression, or math such as "
                f"\\alpha or \\hat{{x}}_{{1}})")
    if depth:
        raise ConvmatError(f"{name} entry {brief(text)} leaves {depth} brace(s) open (an entry "
                           f"given as a string is written into LaTeX as it is)")
    return text


def math_entries(entries: list, name: str) -> list:
    """The entries of a vector, each string among them checked by :func:`check_math`."""
    for entry in entries:
        if isinstance(entry, str):
            check_math(entry, name)
    return entries


#: free text -> LaTeX text mode: every character LaTeX reads specially
_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                 "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
                 "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
                 "\n": " ", "\r": " "}
_TEXT_SPECIAL = re.compile("|".join(re.escape(c) for c in _TEXT_ESCAPES))


def escape_text(text: str) -> str:
    r"""``text`` for LaTeX's text mode, every special character escaped (a layer's name in a
    table compiles whatever it holds).

    Examples
    --------
    >>> print(escape_text(r"a_b {c}^~ \input{x} 50%"))
    a\_b \{c\}\^{}\~{} \textbackslash{}input\{x\} 50\%
    """
    return _TEXT_SPECIAL.sub(lambda m: _TEXT_ESCAPES[m.group()], text)
