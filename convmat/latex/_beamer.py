r"""Beamer frames of :func:`convmat.to_latex` (``beamer=True`` or ``overlay=``): one display
per frame, scaled to fill the slide, elided where the digits would fall below
:data:`~convmat.latex._fit.LEGIBLE` pt.

An input vector written as a column is elided on its own to about the matrix's height
(:meth:`convmat.layout.MatrixLayout.x_axis`), so a tall ``x`` does not shrink the matrix.
A matrix is one frame. A Kong & Lucey result is one frame per display (the strided matrix,
the columns grouped by phase, the sum over the phases), and the sum one frame per phase when
the whole sum would not be legible on one slide.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from .._choices import KONG_LUCEY_PARTS
from .._validate import check_choice
from ..errors import ConvmatError, brief
from ..layout import fill
from ._fit import FONT, FRAME_HEIGHT, FRAME_WIDTH, LEGIBLE, frame_scale, natural_size
from ._pages import beamer_frame
from ._strings import escape_text
from ._writer import Style, write_kong_lucey

__all__ = ["PART_EQUATIONS", "PART_LABELS", "check_title", "kong_lucey_frames", "legible",
           "matrix_frame", "subtitle"]

#: the formula in the subtitle of each Kong & Lucey display's frame
PART_EQUATIONS = {
    "strided": r"$y = A\,x$",
    "permuted": r"$y = [\,T_0 \mid T_1 \mid \cdots\,]\,x$",
    "sum": r"$y = \sum_r T_r\,x_r$",
}
#: the key of each display's subtitle in the label catalogue (:func:`convmat.layout.labels`)
PART_LABELS = {"strided": "strided_display", "permuted": "permuted_display",
               "sum": "sum_display"}
_FIELD = re.compile(r"(\{[A-Za-z]+\})")

#: a little above the legible size, so an estimate slightly off still keeps the digits legible
_TARGET = LEGIBLE * 1.05

#: ``write(style)`` -> the LaTeX of one display (``\arraystretch`` included)
Write = Callable[[Style], str]


def check_title(title: object) -> str | None:
    """``title``: ``None`` or text, escaped for LaTeX (a frame title is free text)."""
    if title is None:
        return None
    if not isinstance(title, str):
        raise ConvmatError(f"title={brief(title)} must be text (a str) or None")
    return escape_text(title)


def subtitle(words: Mapping[str, str], part: str, phase: tuple[int, int] | None = None) -> str:
    r"""The subtitle of a Kong & Lucey display's frame in the catalogue ``words``: the words
    escaped as LaTeX text, the formula filled in; ``phase`` ``(k, n)``: " (phase k of n)".

    Examples
    --------
    >>> from convmat.layout import labels
    >>> print(subtitle(labels("es"), "sum", (1, 4)))
    suma sobre las fases: $y = \sum_r T_r\,x_r$ (fase 1 de 4)
    """
    def text(template: str, **fields: object) -> str:  # escape the words, not the fields
        return fill("".join(part if _FIELD.fullmatch(part) else escape_text(part)
                            for part in _FIELD.split(template)), **fields)

    out = text(words[PART_LABELS[part]], equation=PART_EQUATIONS[part])
    if phase is not None:
        out += " (" + text(words["phase_of"], k=phase[0], n=phase[1]) + ")"
    return out


def legible(write: Write, style: Style, titles: int, x_column: bool) -> tuple[str, Style]:
    """The display ``write`` gives, elided until the frame's scale keeps its digits at
    :data:`~convmat.latex._fit.LEGIBLE` pt or more in a frame with ``titles`` title lines
    (fewer columns when the width limits it, fewer rows when the height does; when ``x``
    is a column as tall as the matrix is wide, that column elided on its own to the rows
    that fit, so the matrix keeps the columns the width allows), and the style it was
    written with."""
    body = write(style)
    for _ in range(40):
        size = natural_size(body)
        scale = frame_scale(size, titles)
        if scale * FONT >= _TARGET:
            break
        factor = scale * FONT / _TARGET
        changes: dict[str, Any] = {}
        if FRAME_WIDTH / size.width <= FRAME_HEIGHT[titles] / size.height:
            changes["max_cols"] = max(2, min(size.cols - 1, int(size.cols * factor)))
        else:
            limit = max(2, min(size.rows - 1, int(size.rows * factor)))
            if x_column and not style.x_fit:  # first the column, to the matrix's height
                changes["x_fit"] = True
            else:
                changes["max_rows"] = limit
        changes = {k: v if getattr(style, k) in (None, False) else min(v, getattr(style, k))
                   for k, v in changes.items()}
        if all(getattr(style, k) == v for k, v in changes.items()):
            break  # elided as far as it goes
        style = dataclasses.replace(style, **changes)
        body = write(style)
    return body, style


def matrix_frame(write: Write, style: Style, title: str | None, x_column: bool) -> str:
    """One frame of one display."""
    body, _ = legible(write, style, int(title is not None), x_column)
    return beamer_frame(body, title)


def kong_lucey_frames(kl: Any, part: object, style: Style, x: object, y: object,
                      title: str | None, finish: Callable[[str, Style], str],
                      words: Mapping[str, str]) -> str:
    """The frames of a Kong & Lucey result: one per display ``part`` names (``"all"``: the
    three), the sum one per phase when it does not fit legibly on one slide; the subtitles
    in the catalogue ``words`` (:func:`convmat.layout.labels`)."""
    part = check_choice("all" if part is None else part, "part", KONG_LUCEY_PARTS)
    parts = KONG_LUCEY_PARTS[1:] if part == "all" else (part,)
    frames = []
    for p in parts:
        def write(st: Style, p: str = p, term: int | None = None) -> str:
            return finish(write_kong_lucey(kl, p, st, x, y, term=term), st)

        x_column = p == "permuted" or not style.grid  # x is a column as tall as A is wide
        body, fitted = legible(write, style, 1 + (title is not None), x_column)
        if p == "sum" and (fitted.max_cols != style.max_cols or
                           fitted.max_rows != style.max_rows):
            terms = sum(1 for b in kl.blocks if (b.nnz if isinstance(b.nnz, int) else b.nnz()))
            if terms > 1:  # one frame per phase, each as legible as it can be
                for t in range(terms):
                    one, _ = legible(functools.partial(write, p="sum", term=t), style,
                                     1 + (title is not None), x_column)
                    frames.append(beamer_frame(one, title,
                                               subtitle(words, "sum", (t + 1, terms))))
                continue
        frames.append(beamer_frame(body, title, subtitle(words, p)))
    return "\n".join(frames)
