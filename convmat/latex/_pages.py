"""Whole pages around a formula: a standalone LaTeX document cut to the formula, and beamer
frames and decks (the overlays of :func:`convmat.to_latex`)."""

from __future__ import annotations

from ._fit import COLSEP, HEIGHT_SHARE, MAX_SCALE

__all__ = ["BORDER", "beamer_document", "beamer_frame", "cropped_page", "document"]


#: white space around a standalone formula, each side (pt)
BORDER = 3


def cropped_page(*lengths: tuple[str, str]) -> list[str]:
    r"""The ``article`` preamble lines of a page cut to its content: no margins, the content
    at :data:`BORDER` points from the corner (each document then sets ``\pdfpagewidth`` and
    ``\pdfpageheight`` from its box), with further ``(length, value)`` settings."""
    return [
        r"\pagestyle{empty}",
        *(rf"\setlength{{\{name}}}{{{value}}}" for name, value in (
            ("parindent", "0pt"), ("oddsidemargin", "0pt"), ("topmargin", "0pt"),
            ("headheight", "0pt"), ("headsep", "0pt"), ("topskip", "0pt"),
            ("hoffset", rf"\dimexpr{BORDER}pt-1in\relax"),
            ("voffset", rf"\dimexpr{BORDER}pt-1in\relax"), ("textheight", "200in"),
            *lengths)),
        r"\ifdefined\pdfpagewidth\else\let\pdfpagewidth\pagewidth"
        r"\let\pdfpageheight\pageheight\fi",  # lualatex names them \pagewidth, \pageheight
    ]


def document(body: str) -> str:
    r"""A complete LaTeX document (article class, amsmath) showing ``body``.

    ``body`` is typeset in display style on a page cut to its size with a 3 pt border, so
    a large matrix is never cut off and the PDF drops into slides or a figure as it is
    (pdfTeX's ``\pdfpagewidth``, LuaTeX's ``\pagewidth``). The ``color`` package is loaded
    when ``body`` uses ``\textcolor`` (``highlight="color"``).

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
    \setlength{\topskip}{0pt}
    \setlength{\hoffset}{\dimexpr3pt-1in\relax}
    \setlength{\voffset}{\dimexpr3pt-1in\relax}
    \setlength{\textheight}{200in}
    \ifdefined\pdfpagewidth\else\let\pdfpagewidth\pagewidth\let\pdfpageheight\pageheight\fi
    \newsavebox{\formula}
    \begin{document}
    \savebox{\formula}{$\displaystyle
    a = b
    $}
    \pdfpagewidth=\dimexpr\wd\formula+6pt\relax
    \pdfpageheight=\dimexpr\ht\formula+\dp\formula+6pt\relax
    \hsize=\wd\formula
    \usebox{\formula}
    \end{document}
    <BLANKLINE>
    """
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        *([r"\usepackage{color}"] if r"\textcolor" in body else []),
        *cropped_page(),
        r"\newsavebox{\formula}",
        r"\begin{document}",
        r"\savebox{\formula}{$\displaystyle",
        body,
        r"$}",
        rf"\pdfpagewidth=\dimexpr\wd\formula+{2 * BORDER}pt\relax",
        rf"\pdfpageheight=\dimexpr\ht\formula+\dp\formula+{2 * BORDER}pt\relax",
        r"\hsize=\wd\formula",
        r"\usebox{\formula}",
        r"\end{document}",
        "",
    ])


def beamer_frame(body: str, title: str | None = None, subtitle: str | None = None, *,
                 fill: bool = True) -> str:
    r"""A beamer frame showing the formula ``body`` (``title`` and ``subtitle``: LaTeX text,
    escaped by the caller).

    With ``fill`` (the default) the formula is scaled to fill the frame: to its width or to
    the height left under the title (:data:`~convmat.latex._fit.HEIGHT_SHARE` of the text
    height), whichever is reached first, and at most twice up; columns are set closer than
    LaTeX's default (``\arraycolsep`` 2.5 pt), and the scale is written to the log
    (``convmat frame scale: 0.83pt`` means 83 %). Without ``fill`` the formula keeps its
    size unless it is larger than the frame.

    Examples
    --------
    >>> print(beamer_frame("a = b", "A title", fill=False))
    \begin{frame}{A title}
    \centering
    \sbox0{$\displaystyle
    a = b
    $}%
    \ifdim\wd0>\linewidth\sbox0{\resizebox{\linewidth}{!}{\usebox0}}\fi
    \ifdim\dimexpr\ht0+\dp0\relax>0.85\textheight\sbox0{\resizebox*{!}{0.85\textheight}{\usebox0}}\fi
    \usebox0
    \end{frame}
    """
    head = r"\begin{frame}" + ("" if title is None else f"{{{title}}}") + (
        "" if subtitle is None else f"{{{subtitle}}}")
    if not fill:
        return "\n".join([
            head, r"\centering", r"\sbox0{$\displaystyle", body, r"$}%",
            r"\ifdim\wd0>\linewidth\sbox0{\resizebox{\linewidth}{!}{\usebox0}}\fi",
            r"\ifdim\dimexpr\ht0+\dp0\relax>0.85\textheight"
            r"\sbox0{\resizebox*{!}{0.85\textheight}{\usebox0}}\fi",
            r"\usebox0", r"\end{frame}"])
    share = HEIGHT_SHARE[(title is not None) + (subtitle is not None)]
    return "\n".join([
        head,
        r"\centering",
        rf"\arraycolsep={COLSEP:g}pt",
        r"\ifdefined\convmatwidth\else\newdimen\convmatwidth\newdimen\convmatheight\fi",
        r"\sbox0{$\displaystyle",
        body,
        r"$}%",
        # the width that fills the height left; the frame's width if that is less; at most 2x
        rf"\convmatheight={share:g}\textheight",
        r"\convmatwidth=\dimexpr\wd0*\convmatheight/\dimexpr\ht0+\dp0\relax\relax",
        r"\ifdim\convmatwidth>\linewidth\convmatwidth=\linewidth\fi",
        rf"\ifdim\convmatwidth>{MAX_SCALE:g}\wd0\convmatwidth={MAX_SCALE:g}\wd0\fi",
        r"\typeout{convmat frame scale: \the\dimexpr1pt*\convmatwidth/\wd0\relax}%",
        r"\resizebox{\convmatwidth}{!}{\usebox0}",
        r"\end{frame}",
    ])


def beamer_document(frames: str) -> str:
    r"""A complete beamer document (amsmath is loaded by beamer) holding ``frames``.

    Examples
    --------
    >>> print(beamer_document(r"\begin{frame}a\end{frame}"))
    \documentclass{beamer}
    \setbeamertemplate{navigation symbols}{}
    \begin{document}
    \begin{frame}a\end{frame}
    \end{document}
    <BLANKLINE>
    """
    return "\n".join([r"\documentclass{beamer}", r"\setbeamertemplate{navigation symbols}{}",
                      r"\begin{document}", frames, r"\end{document}", ""])
