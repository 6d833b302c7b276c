"""SciPy sparse format names: validation and conversion."""

from __future__ import annotations

__all__ = ["FORMATS", "check_format", "as_format"]

FORMATS: tuple[str, ...] = ("csr", "csc", "coo", "bsr", "lil", "dok", "dia")


def check_format(format: object) -> str:  # noqa: A002 - SciPy's name
    """Validate a SciPy sparse format name."""
    from .errors import ConvmatError

    if not isinstance(format, str) or format not in FORMATS:
        raise ConvmatError(f"format={format!r} is not a SciPy sparse format; use one of {FORMATS}")
    return format


def as_format(matrix, format: str):  # noqa: A002
    """Convert a SciPy sparse array to ``format`` without copying when it already is."""
    return matrix if matrix.format == format else matrix.asformat(format)
