"""Every enumeration of the package, defined once: padding forms and modes, sparse formats,
LaTeX environments, zero styles, highlights, Kong & Lucey displays, CLI output formats.

The padding modes are listed here as derived from their table (:mod:`convmat._padmap`,
where a mode's index map and limit live beside its name). Validators
(:func:`convmat._validate.check_choice`), builders, renderers and the CLI all read their
choices from here, so a new choice is added in one place. Only the names live here: the
LaTeX a name stands for lives in :mod:`convmat.latex` (a test checks both list the same
names).
"""

from __future__ import annotations

from ._padmap import PADDING_MODES as _PADDING_MODES

__all__ = [
    "CLI_MATRIX_FORMATS", "ENVIRONMENTS", "FORMATS", "HIGHLIGHTS", "KONG_LUCEY_PARTS",
    "OVERLAYS", "PADDING_MODES", "PADDING_STRINGS", "TEXT_FORMATS", "ZERO_STYLES",
]

#: padding modes: ``torch.nn.functional.pad``'s four and ``symmetric`` (``numpy.pad``),
#: derived from the one table of padding modes (:data:`convmat._padmap.MODES`)
PADDING_MODES: tuple[str, ...] = _PADDING_MODES
#: padding given by name
PADDING_STRINGS: tuple[str, ...] = ("valid", "same", "full")
#: SciPy sparse format names accepted by every ``format=`` argument
FORMATS: tuple[str, ...] = ("csr", "csc", "coo", "bsr", "lil", "dok", "dia")
#: LaTeX environments of ``to_latex(..., environment=...)`` (amsmath's matrices, a bare array)
ENVIRONMENTS: tuple[str, ...] = ("bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix",
                                 "matrix", "array")
#: how an entry that is not stored (a structural zero) prints: ``0``, a centred dot, nothing
ZERO_STYLES: tuple[str, ...] = ("0", "cdot", "blank")
#: how a highlighted entry prints: a frame, bold or colour
HIGHLIGHTS: tuple[str, ...] = ("boxed", "bold", "color")
#: beamer overlays of ``to_latex(..., overlay=...)``: one slide per written row, or per
#: written column (the scatter view of the transposed convolution)
OVERLAYS: tuple[str, ...] = ("rows", "cols")
#: the displays of a Kong & Lucey result (``to_latex(kl, part=...)``)
KONG_LUCEY_PARTS: tuple[str, ...] = ("all", "strided", "permuted", "sum")
#: what ``convmat matrix --format`` writes
CLI_MATRIX_FORMATS: tuple[str, ...] = ("text", "latex", "mtx", "npz")
#: what ``convmat kong-lucey --format`` writes
TEXT_FORMATS: tuple[str, ...] = ("text", "latex")
